/*
 * What the forwarder reports about itself: per partition and in total,
 * every status.interval.ms as a log line and as rows of
 * kafka.shadow_partitions, and on demand as Prometheus text (the endpoint
 * is metrics.c). Lag is commit time to external acknowledgement, per
 * transaction, in a histogram over the process lifetime.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "session.h"

/* One log line per partition, and the same numbers in kafka.shadow_partitions. */
void status_report(void)
{
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		log_info("status %s[%d] -> %s: local_offset=%" PRId64 " external_offset=%" PRId64
			 " lag_records=%" PRId64 " lag_bytes=%" PRId64 " forwarded=%" PRId64 "%s%s",
			 p->topic, p->partition, p->ext, p->delivered_local, p->delivered_ext,
			 p->received - p->delivered_local, p->inflight_bytes, p->forwarded,
			 p->last_error[0] ? " error=" : "", p->last_error);
	}
	int64_t span = S.last_forward_ms - S.first_forward_ms;
	log_info("status confirmed_lsn=%X/%X received_lsn=%X/%X forwarded=%" PRId64
		 " skipped=%" PRId64 " rate=%" PRId64 "/s txn_lag_ms_p50=%" PRId64
		 " txn_lag_ms_p99=%" PRId64 " txns=%" PRId64,
		 (unsigned)(S.confirmed_lsn >> 32), (unsigned)S.confirmed_lsn,
		 (unsigned)(S.received_lsn >> 32), (unsigned)S.received_lsn, S.total_forwarded,
		 S.total_skipped, span > 0 ? S.total_forwarded * 1000 / span : 0,
		 status_lag_quantile(0.50), status_lag_quantile(0.99), S.lag_count);
	if (!S.status_pg || S.nparts == 0)
		return;
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		char num[6][32];
		snprintf(num[0], 32, "%d", p->partition);
		snprintf(num[1], 32, "%" PRId64, p->delivered_local);
		snprintf(num[2], 32, "%" PRId64, p->delivered_ext);
		snprintf(num[3], 32, "%" PRId64, p->received - p->delivered_local);
		snprintf(num[4], 32, "%" PRId64, p->inflight_bytes);
		snprintf(num[5], 32, "%" PRId64, p->received);
		const char *params[9] = {
			g_shadow.slot, p->topic, num[0],
			p->ext,        num[1],   num[2],
			num[3],        num[4],   p->last_error[0] ? p->last_error : NULL};
		(void)num[5];
		PGresult *res = PQexecParams(
			S.status_pg,
			"INSERT INTO kafka.shadow_partitions AS s (slot, topic, partition, "
			"external_topic, "
			"local_offset, external_offset, lag_records, lag_bytes, last_error, "
			"updated_at) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) "
			"ON CONFLICT (slot, topic, partition) DO UPDATE SET "
			"external_topic = EXCLUDED.external_topic, local_offset = "
			"EXCLUDED.local_offset, "
			"external_offset = EXCLUDED.external_offset, lag_records = "
			"EXCLUDED.lag_records, "
			"lag_bytes = EXCLUDED.lag_bytes, last_error = EXCLUDED.last_error, "
			"updated_at = now()",
			9, NULL, params, NULL, NULL, 0);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			/* an extension without the table: no SQL status, say so once */
			log_warn("no SQL status: %s", PQerrorMessage(S.status_pg));
			PQfinish(S.status_pg);
			S.status_pg = NULL;
			return;
		}
	}
}

/*
 * Rows of kafka.shadow_partitions for this slot that no part stands for
 * (a topic no longer mirrored, or dropped) would keep an old lag forever:
 * delete them, once the parts of the start are known (history.c).
 */
void status_forget_others(void)
{
	if (!S.status_pg)
		return;
	/* array literals: topic names are [a-zA-Z0-9._-], quoted anyway */
	size_t cap = 64, tl = 0, pl = 0;
	for (int i = 0; i < S.nparts; i++)
		cap += 2 * strlen(S.parts[i]->topic) + 16;
	char *topics = malloc(cap), *parts = malloc(cap);
	if (!topics || !parts) {
		free(topics);
		free(parts);
		return;
	}
	tl += (size_t)snprintf(topics + tl, cap - tl, "{");
	pl += (size_t)snprintf(parts + pl, cap - pl, "{");
	for (int i = 0; i < S.nparts; i++) {
		tl += (size_t)snprintf(topics + tl, cap - tl, "%s\"", i ? "," : "");
		for (const char *c = S.parts[i]->topic; *c && tl + 4 < cap; c++) {
			if (*c == '"' || *c == '\\')
				topics[tl++] = '\\';
			topics[tl++] = *c;
		}
		tl += (size_t)snprintf(topics + tl, cap - tl, "\"");
		pl += (size_t)snprintf(parts + pl, cap - pl, "%s%d", i ? "," : "",
				       S.parts[i]->partition);
	}
	snprintf(topics + tl, cap - tl, "}");
	snprintf(parts + pl, cap - pl, "}");
	const char *params[3] = {g_shadow.slot, topics, parts};
	PGresult *res = PQexecParams(
		S.status_pg,
		"DELETE FROM kafka.shadow_partitions s WHERE s.slot = $1 AND NOT EXISTS "
		"(SELECT 1 FROM unnest($2::text[], $3::int[]) u(topic, partition) "
		"WHERE u.topic = s.topic AND u.partition = s.partition)",
		3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_warn("removing stale status rows: %s", PQerrorMessage(S.status_pg));
	else if (atoi(PQcmdTuples(res)) > 0)
		log_info("removed %s status rows of partitions no longer mirrored",
			 PQcmdTuples(res));
	PQclear(res);
	free(topics);
	free(parts);
}

/* The status numbers as Prometheus text. Between sessions the partition
 * list is empty; the lifetime counters remain. */
void shadow_metrics_text(struct evbuffer *out)
{
	static const struct {
		const char *name, *help;
		int which;
	} gauges[] = {
		{"local_offset", "last local offset the external cluster acknowledged", 0},
		{"external_offset", "its external offset", 1},
		{"lag_records",
		 "local records (up to the high watermark seen at start, then read from the slot) "
		 "not yet acknowledged",
		 2},
		{"lag_bytes", "their key, value and header bytes", 3},
		{"forwarded_records", "records forwarded by this session", 4},
	};
	evbuffer_add_printf(
		out,
		"# HELP pg_kafka_shadow_forwarded_total records acknowledged by the "
		"external cluster\n# TYPE pg_kafka_shadow_forwarded_total counter\n"
		"pg_kafka_shadow_forwarded_total %" PRId64 "\n"
		"# TYPE pg_kafka_shadow_skipped_total counter\n"
		"pg_kafka_shadow_skipped_total %" PRId64 "\n"
		"# HELP pg_kafka_shadow_confirmed_lsn slot position confirmed to PostgreSQL\n"
		"# TYPE pg_kafka_shadow_confirmed_lsn gauge\n"
		"pg_kafka_shadow_confirmed_lsn %" PRIu64 "\n"
		"# TYPE pg_kafka_shadow_received_lsn gauge\n"
		"pg_kafka_shadow_received_lsn %" PRIu64 "\n"
		"# HELP pg_kafka_shadow_txn_lag_ms commit to external acknowledgement\n"
		"# TYPE pg_kafka_shadow_txn_lag_ms summary\n"
		"pg_kafka_shadow_txn_lag_ms{quantile=\"0.5\"} %" PRId64 "\n"
		"pg_kafka_shadow_txn_lag_ms{quantile=\"0.99\"} %" PRId64 "\n"
		"pg_kafka_shadow_txn_lag_ms_count %" PRId64 "\n",
		S.total_forwarded, S.total_skipped, S.confirmed_lsn, S.received_lsn,
		status_lag_quantile(0.5), status_lag_quantile(0.99), S.lag_count);
	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		evbuffer_add_printf(
			out, "# HELP pg_kafka_shadow_%s %s\n# TYPE pg_kafka_shadow_%s gauge\n",
			gauges[g].name, gauges[g].help, gauges[g].name);
		for (int i = 0; i < S.nparts; i++) {
			part *p = S.parts[i];
			int64_t v = gauges[g].which == 0   ? p->delivered_local
				    : gauges[g].which == 1 ? p->delivered_ext
				    : gauges[g].which == 2 ? p->received - p->delivered_local
				    : gauges[g].which == 3 ? p->inflight_bytes
							   : p->forwarded;
			evbuffer_add_printf(out,
					    "pg_kafka_shadow_%s{topic=\"%s\",partition=\"%d\","
					    "external_topic=\"%s\"} %" PRId64 "\n",
					    gauges[g].name, p->topic, p->partition, p->ext, v);
		}
	}
}

/* The commit-to-ack lag below which a fraction q of transactions fell. */
int64_t status_lag_quantile(double q)
{
	if (!S.lag_hist || S.lag_count == 0)
		return -1;
	int64_t want = (int64_t)(q * (double)S.lag_count + 0.5), seen = 0;
	if (want < 1)
		want = 1;
	for (int i = 0; i < LAG_BUCKETS; i++) {
		seen += S.lag_hist[i];
		if (seen >= want)
			return i;
	}
	return LAG_BUCKETS - 1;
}
