/*
 * The client side of PostgreSQL's streaming replication protocol, as both
 * readers of a pg_kafka slot speak it (the broker's wake-up stream and the
 * forwarder). Inside the CopyBoth stream of START_REPLICATION:
 *
 *   server → client  'w' XLogData:  start LSN, end LSN, send time, data
 *                    'k' keepalive: end LSN, send time, reply requested
 *   client → server  'r' standby status update: written, flushed and
 *                    applied LSN, send time, reply requested
 *
 * LSNs and times are big-endian int64; times are microseconds since
 * PostgreSQL's epoch, 2000-01-01 UTC. Bytes only: sending them over the
 * connection is the caller's business (blocking or not).
 */
#ifndef PGK_REPLPROTO_H
#define PGK_REPLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Microseconds from the Unix epoch to PostgreSQL's. */
#define PG_EPOCH_OFFSET_US 946684800000000LL

#define REPL_XLOGDATA 'w'
#define REPL_KEEPALIVE 'k'
#define REPL_STATUS_LEN 34

typedef struct repl_msg {
	char type;            /* REPL_XLOGDATA or REPL_KEEPALIVE */
	uint64_t wal_start;   /* XLogData: where its data starts */
	uint64_t wal_end;     /* the server's end of WAL (keepalive: all sent) */
	int64_t send_time_us; /* PostgreSQL epoch */
	bool reply_requested; /* keepalive: answer with a status update now */
	const uint8_t *data;  /* XLogData: the decoder's message, into buf */
	size_t len;
} repl_msg;

/* Parse one CopyData message of the stream. 0, or -1 when it is neither a
 * complete XLogData nor a complete keepalive. */
int repl_parse(const uint8_t *buf, size_t len, repl_msg *out);

/* Build a standby status update into out (REPL_STATUS_LEN bytes), stamped
 * with the wall clock. */
void repl_status(uint8_t out[REPL_STATUS_LEN], uint64_t written, uint64_t flushed, uint64_t applied,
		 bool reply);

/* The wall clock in PostgreSQL's epoch, microseconds. */
int64_t repl_pg_now_us(void);

#endif
