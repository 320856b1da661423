/*
 * Messages of the pg_kafka output plugin's binary format (docs/DECODER.md),
 * parsed once for everyone who reads the stream: the broker's wake-up
 * stream and the shadow forwarder.
 */
#ifndef PGK_DECMSG_H
#define PGK_DECMSG_H

#include <stddef.h>
#include <stdint.h>

#include "decwire.h"
#include "kbuf.h"

typedef struct decmsg {
	uint8_t type;             /* DECMSG_*; other values: a type this reader skips */
	uint8_t flags;            /* records */
	uint32_t xid;             /* begin, commit */
	uint64_t commit_lsn;      /* every type */
	uint64_t end_lsn;         /* commit */
	int64_t timestamp;        /* ms: the record's, or the commit time */
	int32_t partition;        /* records */
	int64_t offset;           /* records (summary: the highest written) */
	kstr topic;               /* records; points into the message */
	kstr key, value, headers; /* with DECMSG_FLAG_PAYLOAD; len -1: null */
} decmsg;

enum { DECMSG_OK = 0, DECMSG_MALFORMED = -1, DECMSG_BAD_VERSION = -2 };

/* Parse one message; strings point into buf. */
int decmsg_parse(const uint8_t *buf, size_t len, decmsg *out);

#endif
