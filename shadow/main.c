/*
 * pg_kafka_shadow: mirror every record of a pg_kafka database to an external
 * Kafka cluster, and confirm a slot position only once the external cluster
 * has everything up to it.
 *
 *   slot (pg_kafka plugin, binary, payload, markers)
 *     │  B R R R C  B R C ...       one transaction = begin, records, commit
 *     ▼
 *   produce each record (same partition, key, value, headers, timestamp)
 *     │  delivery reports, in order per partition (idempotent producer)
 *     ▼
 *   txn queue: the head's records all delivered and its commit seen
 *     → "deliverable" LSN = its end LSN
 *     ▼
 *   checkpoint: per partition (last local offset, its external offset),
 *   produced to the checkpoint topic; once delivered → confirm the
 *   deliverable LSN to PostgreSQL (standby status update, flush LSN)
 *
 * Before streaming, history.c brings every mirrored partition up to its
 * local high watermark from kafka.records (what the slot cannot have on a
 * first start, and what it would replay after a restart); the stream then
 * skips what that copy covered. A crash anywhere replays from the
 * confirmed LSN. Per partition, the checkpoint and the external high
 * watermark tell how many records the external cluster already has; those
 * are skipped (docs/SHADOW.md explains why this is exact).
 *
 * One thread: poll() on the replication socket with a short timeout, then
 * rd_kafka_poll() for delivery reports, then timers. This file holds that
 * loop and the reconnects around it; session.h lists where the rest is.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "session.h"

#define STANDBY_STATUS_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

session S;
volatile sig_atomic_t stopping;

static void on_signal(int sig);
static int run_once(void);
static int session_loop(void);
static void cleanup(void);

int main(int argc, char **argv)
{
	log_setup(LOG_INFO, "shadow");
	int rc = shadow_config_load(argc, argv);
	if (rc != 0) {
		shadow_config_free();
		return rc > 0 ? 0 : 2;
	}
	if (*g_shadow.replay_topic) {
		signal(SIGPIPE, SIG_IGN);
		rc = replay_run(g_shadow.replay_topic, g_shadow.replay_from);
		shadow_config_free();
		return rc;
	}
	if (*g_shadow.cutover_group || *g_shadow.cutover_status) {
		bool commit = *g_shadow.cutover_group != '\0';
		rc = cutover_run(commit ? g_shadow.cutover_group : g_shadow.cutover_status, commit);
		shadow_config_free();
		return rc;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	S.lag_hist = calloc(LAG_BUCKETS, sizeof(*S.lag_hist));
	if (*g_shadow.metrics_listen && metrics_start(g_shadow.metrics_listen) < 0) {
		shadow_config_free();
		free(S.lag_hist);
		return 2;
	}

	int backoff = BACKOFF_MIN_MS;
	rc = 0;
	while (!stopping) {
		int64_t began = clock_mono_ms();
		rc = run_once();
		if (stopping || S.fatal)
			break;
		if (clock_mono_ms() - began > 30000)
			backoff = BACKOFF_MIN_MS; /* it worked for a while: start over */
		if (slot_error_permanent())
			backoff = BACKOFF_MAX_MS; /* only someone fixing it helps */
		log_warn("reconnecting in %d ms", backoff);
		for (int slept = 0; slept < backoff && !stopping; slept += 50) {
			metrics_poll();
			usleep(50 * 1000);
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	metrics_stop();
	shadow_config_free();
	free(S.lag_hist);
	log_info("stopped");
	return S.fatal ? 1 : (rc < 0 && !stopping ? 1 : 0);
}

/*
 * One session: connect, read checkpoints, stream until failure or SIGTERM.
 * Everything not confirmed is dropped at the end: the next session replays
 * it from the slot.
 */
static int run_once(void)
{
	int rc = -1;
	if (forward_start() < 0 || slot_connect() < 0)
		goto out;
	if (g_shadow.dedup) {
		if (checkpoint_load(S.rk, &S.cps, &S.ncps, &stopping) < 0)
			goto out;
		log_info("read %d checkpoint entries", S.ncps);
	}
	if (history_run() < 0 || slot_stream() < 0)
		goto out;
	rc = session_loop();
	if (stopping && !S.fatal) {
		/* graceful: wait for what is in flight, checkpoint, confirm */
		forward_drain(10000);
		forward_advance();
		checkpoint_write(true);
		forward_drain(10000);
		status_report();
		if (S.pg)
			slot_send_status(false);
		log_info("stopped at %X/%X, %" PRId64 " records forwarded",
			 (unsigned)(S.confirmed_lsn >> 32), (unsigned)S.confirmed_lsn,
			 S.total_forwarded);
	}
out:
	cleanup();
	return rc;
}

/* Read the slot, serve delivery reports, run the timers, until a failure
 * or a signal. */
static int session_loop(void)
{
	S.last_confirm_ms = S.last_standby_ms = S.last_status_ms = clock_mono_ms();
	while (!stopping && !S.fatal) {
		struct pollfd pfd = {.fd = PQsocket(S.pg), .events = POLLIN};
		if (poll(&pfd, 1, 20) < 0 && errno != EINTR)
			return -1;
		if (slot_read() < 0)
			return -1;
		rd_kafka_poll(S.rk, 0);
		forward_advance();
		metrics_poll();
		int64_t now = clock_mono_ms();
		if (now - S.last_confirm_ms >= g_shadow.confirm_interval_ms) {
			checkpoint_write(false);
			S.last_confirm_ms = now;
		}
		if (now - S.last_standby_ms >= STANDBY_STATUS_MS && slot_send_status(false) < 0)
			return -1;
		if (now - S.last_status_ms >= g_shadow.status_interval_ms) {
			status_report();
			S.last_status_ms = now;
		}
	}
	return 0;
}
static void cleanup(void)
{
	if (S.rk) {
		/* Let what is in flight land first (a request still on its way
		 * could otherwise be appended after the next session read the
		 * high watermark), then purge the rest: it is not confirmed, so
		 * the next session replays it. */
		if (!S.fatal)
			rd_kafka_flush(S.rk, 5000);
		S.closing = true;
		rd_kafka_purge(S.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(S.rk, 0);
		rd_kafka_flush(S.rk, 1000);
		rd_kafka_destroy(S.rk);
	}
	if (S.pg)
		PQfinish(S.pg);
	if (S.status_pg)
		PQfinish(S.status_pg);
	while (S.head) {
		txn *t = S.head;
		S.head = t->next;
		free(t);
	}
	for (int i = 0; i < S.nparts; i++) {
		free(S.parts[i]->topic);
		free(S.parts[i]->ext);
		free(S.parts[i]);
	}
	free(S.parts);
	checkpoint_free(S.cps, S.ncps);
	/* what outlives a session: the lifetime numbers */
	bool fatal = S.fatal;
	int64_t fwd = S.total_forwarded, skipped = S.total_skipped, lag_count = S.lag_count;
	int64_t first = S.first_forward_ms, last = S.last_forward_ms;
	uint32_t *hist = S.lag_hist;
	memset(&S, 0, sizeof(S));
	S.fatal = fatal;
	S.total_forwarded = fwd;
	S.total_skipped = skipped;
	S.lag_hist = hist;
	S.lag_count = lag_count;
	S.first_forward_ms = first;
	S.last_forward_ms = last;
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}
