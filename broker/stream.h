/*
 * The wake-up stream: a logical replication connection to PostgreSQL on a
 * temporary slot with the pg_kafka output plugin (binary format, no
 * payload). Every committed record, whoever wrote it (this broker, another
 * broker on the same database, or SQL), wakes the fetches waiting on its
 * partition through wake_notify().
 *
 * The stream is an accelerator, not a source of truth: when it is down,
 * waiting fetches still end at max_wait_ms, and it reconnects by itself with
 * backoff (100 ms doubling to 5 s).
 */
#ifndef PGK_STREAM_H
#define PGK_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;

/* Start connecting (if stream.enabled). After wake_init(). If the stream
 * cannot even be set up (out of memory), that is logged and the broker runs
 * without it: fetches then wake on local produces and at max_wait_ms. */
void stream_start(struct event_base *base);
/* Close the connection (the server drops the temporary slot) and free
 * everything. Safe to call when the stream never started. */
void stream_stop(void);
/* True while records are streaming. */
bool stream_up(void);

/* For the metrics. LSNs are as last reported by the server; lag_bytes is
 * the server's end of WAL minus what has arrived, as of the last message. */
typedef struct stream_stats {
	const char *state;        /* "stopped", "waiting", ..., "streaming" */
	bool enabled;             /* stream.enabled */
	unsigned long reconnects; /* connection failures, each followed by a retry */
	uint64_t received_lsn;
	uint64_t server_wal_end;
	int64_t last_message_ms; /* monotonic clock; 0: none yet */
} stream_stats;
void stream_get_stats(stream_stats *out);

#endif
