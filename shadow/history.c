/*
 * History: before each session streams the slot, every mirrored partition
 * is brought up to its local high watermark H from kafka.records, in one
 * REPEATABLE READ snapshot taken after the slot exists (on the session that
 * created the slot, the snapshot the slot exported: the state at its
 * consistent point). The stream then skips, per partition, every record
 * below H (part.stream_from). Why nothing falls between the two:
 *
 *   - offsets are allocated under the partition row lock by the inserting
 *     transaction, so a snapshot that sees next_offset = H sees every
 *     record below H committed, and none at or above H;
 *   - a record at or above H therefore commits after the snapshot, hence
 *     after the slot's consistent point (first start) or its confirmed
 *     position (later starts): the slot has it.
 *
 * Where a partition starts: what the external cluster already has, from
 * the checkpoint and the external high watermark (forward.c's dedup_init),
 * so a copy interrupted by a crash resumes without a duplicate; a
 * partition the forwarder never mirrored (no checkpoint) starts at its log
 * start, or, with start.position = latest, at H (a checkpoint saying so is
 * written before streaming). A partition whose records after the
 * checkpoint were already deleted by retention is left to the slot, as
 * before history existed.
 *
 * Every partition of the snapshot gets a part, so the status table and
 * /metrics show all of them from the start, with the lag up to H.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "session.h"

#define HISTORY_BATCH 5000 /* rows a query; the LIMIT below */

/* The copy's records in flight (on_delivery decrements pending). */
static txn history_txn;
static int64_t sent;

static int copy_partition(PGconn *c, part *p, int64_t from, int64_t end, int64_t skip);
static int wait_delivered(void);
static void tick(void);
static bool exec_ok(PGconn *c, const char *sql, ExecStatusType want);

int history_run(void)
{
	const char *k[] = {"dbname", "fallback_application_name", NULL};
	const char *v[] = {g_shadow.pg_conninfo, "pg_kafka_shadow history", NULL};
	int rc = -1;
	PGresult *res = NULL;

	memset(&history_txn, 0, sizeof(history_txn));
	sent = 0;
	PGconn *c = PQconnectdbParams(k, v, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		log_error("PostgreSQL: %s", PQerrorMessage(c));
		goto out;
	}
	if (!exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK))
		goto out;
	if (*S.snapshot) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", S.snapshot);
		if (!exec_ok(c, sql, PGRES_COMMAND_OK))
			goto out;
	}
	res = PQexec(c, "SELECT topic, partition, log_start_offset, next_offset "
			"FROM kafka.partitions ORDER BY topic, partition");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("reading kafka.partitions: %s", PQerrorMessage(c));
		goto out;
	}
	S.last_status_ms = clock_mono_ms();
	for (int i = 0; i < PQntuples(res) && !stopping && !S.fatal; i++) {
		const char *topic = PQgetvalue(res, i, 0);
		if (!shadow_topic_selected(topic))
			continue;
		part *p = forward_part(topic, atoi(PQgetvalue(res, i, 1)));
		if (!p)
			goto out;
		int64_t log_start = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		int64_t high = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		int64_t from, skip;
		if (high - 1 > p->received)
			p->received = high - 1;

		if (!g_shadow.dedup) {
			/* no checkpoints to resume from: history on the slot's
			 * creation only (docs/SHADOW.md) */
			if (!S.slot_created)
				continue;
			p->stream_from = high;
			if (g_shadow.start_position == START_LATEST)
				continue;
			from = log_start;
			skip = 0;
		} else if (p->has_checkpoint) {
			if (log_start > p->cp_local + 1) {
				log_warn("%s[%d]: records after local offset %" PRId64
					 " were deleted (log start %" PRId64
					 ") before the external cluster had them; "
					 "forwarding what the slot still holds",
					 p->topic, p->partition, p->cp_local, log_start);
				continue;
			}
			from = p->cp_local + 1;
			skip = p->skip_count;
		} else if (g_shadow.start_position == START_LATEST) {
			/* never mirrored: start at its end, and say so in a
			 * checkpoint before streaming */
			p->delivered_local = high - 1;
			p->delivered_ext = p->ext_high - 1;
			p->skip_count = 0;
			p->skip_upto = -1;
			p->stream_from = high;
			p->dirty = true;
			continue;
		} else {
			/* never checkpointed: what the external partition holds
			 * is the first records from the log start (an earlier
			 * copy that did not get to its checkpoint) */
			from = log_start;
			skip = p->skip_count;
		}
		/* the copy resolves the dedup: the stream only skips below high */
		p->skip_upto = -1;
		p->skip_count = 0;
		p->stream_from = high;
		if (from < high && copy_partition(c, p, from, high, skip) < 0)
			goto out;
		p->dirty = true;
	}
	if (stopping || S.fatal || wait_delivered() < 0)
		goto out;
	/* Every record below stream_from is on the external cluster now (or,
	 * latest, is not to be). An offset between the last record and H is a
	 * transaction marker, which has no record: the positions say H - 1, so
	 * the lag is zero and cutover translates a committed offset of H. */
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		if (p->stream_from > 0 && p->delivered_local < p->stream_from - 1) {
			p->delivered_local = p->stream_from - 1;
			p->dirty = true;
		}
	}
	/* positions (and start.position = latest marks) before streaming */
	checkpoint_write(true);
	while (S.cp_inflight > 0 && !stopping && !S.fatal) {
		rd_kafka_poll(S.rk, 50);
		tick();
	}
	forward_advance();
	if (stopping || S.fatal)
		goto out;
	exec_ok(c, "COMMIT", PGRES_COMMAND_OK);
	if (sent > 0)
		log_info("history: %" PRId64 " records copied from kafka.records", sent);
	status_report();
	status_forget_others();
	S.last_status_ms = clock_mono_ms();
	rc = 0;
out:
	PQclear(res);
	PQfinish(c);
	return rc;
}

/* Rows [from, end) of one partition, in offset order; the first skip rows
 * are on the external cluster already. */
static int copy_partition(PGconn *c, part *p, int64_t from, int64_t end, int64_t skip)
{
	char sp[16], s1[32], s2[32];

	snprintf(sp, sizeof(sp), "%d", p->partition);
	snprintf(s2, sizeof(s2), "%" PRId64, end);
	while (from < end && !stopping && !S.fatal) {
		snprintf(s1, sizeof(s1), "%" PRId64, from);
		const char *params[4] = {p->topic, sp, s1, s2};
		/* binary results: bytea comes as raw bytes, int8 big-endian */
		PGresult *res = PQexecParams(
			c,
			"SELECT \"offset\", (extract(epoch FROM \"timestamp\") * 1000)::bigint, "
			"key, value, headers FROM kafka.records WHERE topic = $1 "
			"AND partition = $2::int AND \"offset\" >= $3::bigint "
			"AND \"offset\" < $4::bigint ORDER BY \"offset\" LIMIT 5000",
			4, NULL, params, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			log_error("reading %s[%d]: %s", p->topic, p->partition, PQerrorMessage(c));
			PQclear(res);
			return -1;
		}
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			const unsigned char *o = (const unsigned char *)PQgetvalue(res, i, 0);
			const unsigned char *t = (const unsigned char *)PQgetvalue(res, i, 1);
			int64_t off = 0, ts = 0;
			for (int b = 0; b < 8; b++) {
				off = (int64_t)(((uint64_t)off << 8) | o[b]);
				ts = (int64_t)(((uint64_t)ts << 8) | t[b]);
			}
			from = off + 1;
			if (skip > 0) { /* delivered by an earlier session */
				skip--;
				p->delivered_local = off;
				p->delivered_ext++;
				continue;
			}
			bool knull = PQgetisnull(res, i, 2), vnull = PQgetisnull(res, i, 3);
			if (forward_produce(p, &history_txn, off,
					    knull ? NULL : PQgetvalue(res, i, 2),
					    knull ? -1 : PQgetlength(res, i, 2),
					    vnull ? NULL : PQgetvalue(res, i, 3),
					    vnull ? -1 : PQgetlength(res, i, 3),
					    PQgetisnull(res, i, 4)
						    ? NULL
						    : (const unsigned char *)PQgetvalue(res, i, 4),
					    PQgetlength(res, i, 4), ts) < 0) {
				PQclear(res);
				return -1;
			}
			sent++;
			rd_kafka_poll(S.rk, 0);
		}
		PQclear(res);
		tick();
		if (n < HISTORY_BATCH)
			break;
	}
	return stopping || S.fatal ? -1 : 0;
}

/* Every copied record acknowledged (no message timeout: this waits out an
 * outage, like the stream does). */
static int wait_delivered(void)
{
	while (history_txn.pending > 0 && !stopping && !S.fatal) {
		rd_kafka_poll(S.rk, 50);
		tick();
	}
	return stopping || S.fatal ? -1 : 0;
}

/* What the session loop's timers do, while the copy runs: serve /metrics,
 * write the status. */
static void tick(void)
{
	metrics_poll();
	int64_t now = clock_mono_ms();
	if (now - S.last_status_ms >= g_shadow.status_interval_ms) {
		status_report();
		S.last_status_ms = now;
	}
}

static bool exec_ok(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *res = PQexec(c, sql);
	bool ok = PQresultStatus(res) == want;
	if (!ok)
		log_error("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	return ok;
}
