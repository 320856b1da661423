/*
 * The pg_kafka output plugin's binary format (docs/DECODER.md): the
 * constants its writer (decoder/pg_kafka.c) and its readers (decmsg.c) share.
 * Plain defines only, so that the PostgreSQL-side build can include it too.
 */
#ifndef PGK_DECWIRE_H
#define PGK_DECWIRE_H

/* The byte every message starts with; a reader refuses other versions. */
#define DECMSG_VERSION 1

/* Message types. */
#define DECMSG_RECORD 'R'
#define DECMSG_BEGIN 'B'
#define DECMSG_COMMIT 'C'

/* Record flags: key, value and headers follow; the record is the highest
 * offset a statement wrote to its partition (summary mode). */
#define DECMSG_FLAG_PAYLOAD 0x01
#define DECMSG_FLAG_SUMMARY 0x02

#endif
