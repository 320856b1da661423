/*
 * One forwarding session (shadow/main.c runs one per connection): the
 * state its files share and the calls between them.
 *
 *   slot.c        the replication connection: slot, START_REPLICATION,
 *                 CopyData in, standby status updates out
 *   history.c     before streaming: every mirrored partition brought up to
 *                 its high watermark from kafka.records (first start,
 *                 restarts, topics added later)
 *   forward.c     decoder messages to produced records, delivery reports,
 *                 the transaction queue that makes an LSN deliverable
 *   checkpoint.c  writing (and reading) the checkpoint topic; a written
 *                 checkpoint lets the LSN be confirmed
 *   status.c      the status log line, kafka.shadow_partitions, the
 *                 Prometheus text
 *   main.c        the session loop and its timers; reconnects
 */
#ifndef SHADOW_SESSION_H
#define SHADOW_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "shadow.h"

/* Commit-to-external-ack lag histogram: 1 ms buckets, the last one open. */
#define LAG_BUCKETS 60000

/* One transaction of the stream, in commit order. */
typedef struct txn {
	uint64_t end_lsn;
	int64_t commit_ms; /* commit time, ms since 1970 (for the lag numbers) */
	long pending;      /* records produced, not yet delivered */
	bool committed;
	struct txn *next;
} txn;

/* One mirrored partition. */
typedef struct part {
	char *topic; /* local name */
	char *ext;   /* external name */
	int32_t partition;
	int64_t received;        /* last local offset known to exist (table or stream) */
	int64_t delivered_local; /* last local offset the external cluster has */
	int64_t delivered_ext;   /* its external offset */
	int64_t cp_local;        /* what the checkpoint topic says */
	long inflight;
	int64_t inflight_bytes;
	int64_t forwarded;         /* records delivered this run */
	int64_t skip_upto;         /* dedup: local offsets <= this are already there */
	int64_t skip_count;        /* dedup: then this many more are */
	int64_t stream_from;       /* history.c copied everything below this offset */
	int64_t ext_low, ext_high; /* external watermarks when first met */
	bool has_checkpoint;       /* the checkpoint topic knows this partition */
	bool dirty;                /* delivered since the last checkpoint */
	char last_error[256];
} part;

/* Per-message state, the opaque of each produced message. */
typedef struct msgref {
	txn *t; /* NULL for a checkpoint message */
	part *p;
	int64_t local;
	int64_t bytes;
} msgref;

/* The session's state (main.c); cleared between sessions but for the
 * lifetime numbers. */
typedef struct session {
	PGconn *pg;
	PGconn *status_pg;
	rd_kafka_t *rk;
	txn *head, *tail, *open;
	part **parts;
	int nparts;
	cpent *cps;
	int ncps;
	uint64_t received_lsn;
	uint64_t deliverable_lsn;
	uint64_t confirmed_lsn;
	uint64_t cp_lsn; /* the LSN the in-flight checkpoint will confirm */
	long cp_inflight;
	bool cp_failed;
	int64_t last_confirm_ms, last_standby_ms, last_status_ms;
	uint32_t *lag_hist; /* per transaction, over the process lifetime */
	int64_t lag_count;
	int64_t started_ms, first_forward_ms, last_forward_ms;
	bool slot_created; /* this session created the slot */
	char snapshot[64]; /* the snapshot it exported (history.c reads in it) */
	bool streaming;    /* START_REPLICATION done */
	bool fatal;
	bool closing; /* purging: delivery reports only free their state */
	int64_t total_forwarded, total_skipped;
} session;

extern session S;
/* SIGTERM/SIGINT seen: finish the session gracefully, then exit. */
extern volatile sig_atomic_t stopping;

/* slot.c */
int slot_connect(void);
int slot_stream(void);
int slot_read(void);
int slot_send_status(bool reply);
bool slot_error_permanent(void);

/* forward.c */
int forward_start(void);
part *forward_part(const char *topic, int32_t partition);
int forward_produce(part *pt, txn *t, int64_t offset, const void *key, int32_t klen,
		    const void *value, int32_t vlen, const unsigned char *hdrs, int32_t hlen,
		    int64_t ts);
int forward_message(const uint8_t *buf, int len);
void forward_advance(void);
void forward_drain(int timeout_ms);

/* history.c */
int history_run(void);

/* checkpoint.c */
void checkpoint_write(bool force);

/* status.c */
void status_report(void);
void status_forget_others(void);
int64_t status_lag_quantile(double q);

#endif
