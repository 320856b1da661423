/*
 * Replay: copy a range of a topic's stored records (from the oldest, an
 * offset, or a time) to the external cluster, then write checkpoints so
 * that the forwarder skips them when the slot brings them again. The
 * forwarder copies every topic's history itself (history.c); replay is for
 * a range again, for example into a rebuilt external topic.
 *
 * It refuses to run before the forwarder's slot exists: a record written
 * between the replay and the slot's creation would be in neither copy.
 * Run it while the forwarder is not forwarding that topic (stopped, or
 * with the topic excluded): per partition, the external order must be
 * local offset order. It refuses an external partition that
 * has records but no checkpoint (they would come twice), and resumes an
 * interrupted replay after what the checkpoint and the high watermark say
 * is already there, as the forwarder does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "shadow.h"

/* Per partition: what the external cluster acknowledged. */
typedef struct rpart {
	int32_t partition;
	int64_t acked_local, acked_ext;
	bool failed;
} rpart;

typedef struct rref {
	rpart *p;
	int64_t local;
} rref;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
static int replay_partition(PGconn *pg, rd_kafka_t *rk, const char *topic, const char *ext,
			    rpart *rp, int64_t start, int64_t end, int64_t skip);
static int wait_all(rd_kafka_t *rk);

int replay_run(const char *topic, const char *from)
{
	char errstr[512];
	int rc = 1;
	cpent *cps = NULL;
	int ncps = 0;
	rpart *parts = NULL;
	PGresult *res = NULL;
	rd_kafka_t *rk = NULL;
	const char *ext = shadow_topic_external(topic);
	char ext_name[256];

	snprintf(ext_name, sizeof(ext_name), "%s", ext);
	PGconn *pg = PQconnectdb(g_shadow.pg_conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error("PostgreSQL: %s", PQerrorMessage(pg));
		goto out;
	}
	const char *slot_param[1] = {g_shadow.slot};
	res = PQexecParams(pg, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", 1, NULL,
			   slot_param, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("reading pg_replication_slots: %s", PQerrorMessage(pg));
		goto out;
	}
	if (PQntuples(res) == 0) {
		fprintf(stderr,
			"pg_kafka_shadow: slot %s does not exist, so records written after this "
			"replay would be in neither copy.\n"
			"Start the forwarder instead (pg_kafka_shadow with the same --pg, --slot "
			"and --bootstrap, without --replay):\n"
			"it creates the slot and copies every mirrored topic's history first "
			"(start.position = earliest), then streams.\n",
			g_shadow.slot);
		goto out;
	}
	PQclear(res);
	res = NULL;
	rd_kafka_conf_t *conf = shadow_kafka_conf(true);
	if (!conf)
		goto out;
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		log_error("librdkafka: %s", errstr);
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	if (checkpoint_load(rk, &cps, &ncps, NULL) < 0)
		goto out;

	/* the end is the high watermark now: later records come through the slot */
	const char *p1[2] = {topic, from};
	bool by_time = from[0] == '@';
	if (by_time)
		p1[1] = from + 1;
	res = PQexecParams(
		pg,
		by_time ? "SELECT p.partition, p.next_offset, greatest(p.log_start_offset, "
			  "coalesce((SELECT min(r.\"offset\") FROM kafka.records r WHERE r.topic = "
			  "p.topic AND r.partition = p.partition AND r.\"timestamp\" >= "
			  "$2::timestamptz), "
			  "p.next_offset)) FROM kafka.partitions p WHERE p.topic = $1 ORDER BY 1"
			: "SELECT p.partition, p.next_offset, CASE WHEN $2 = 'earliest' THEN "
			  "p.log_start_offset ELSE greatest(p.log_start_offset, $2::bigint) END "
			  "FROM kafka.partitions p WHERE p.topic = $1 ORDER BY 1",
		2, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("reading partitions of %s: %s", topic, PQerrorMessage(pg));
		goto out;
	}
	int n = PQntuples(res);
	if (n == 0) {
		log_error("topic %s does not exist", topic);
		goto out;
	}
	parts = calloc((size_t)n, sizeof(*parts));
	if (!parts)
		goto out;
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		rpart *rp = &parts[i];
		rp->partition = atoi(PQgetvalue(res, i, 0));
		int64_t end = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		int64_t start = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		int64_t lo = 0, hi = 0, skip = 0;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
			rk, ext_name, rp->partition, &lo, &hi, 10000);
		if (err) {
			log_error("%s[%d]: %s", ext_name, rp->partition, rd_kafka_err2str(err));
			rc = 1;
			break;
		}
		const cpent *cp = checkpoint_find(cps, ncps, topic, rp->partition);
		rp->acked_local = cp ? cp->local : -1;
		rp->acked_ext = cp ? cp->ext : hi - 1;
		if (cp) {
			if (start <= cp->local)
				start = cp->local + 1;
			skip = hi - 1 - cp->ext;
		} else if (hi > lo) {
			log_error("%s[%d] has %" PRId64 " records but no checkpoint: "
				  "replaying would duplicate them",
				  ext_name, rp->partition, hi - lo);
			rc = 1;
			break;
		}
		rc = replay_partition(pg, rk, topic, ext_name, rp, start, end, skip < 0 ? 0 : skip);
	}
	if (rc == 0 && wait_all(rk) < 0)
		rc = 1;
	for (int i = 0; parts && i < n; i++)
		if (parts[i].failed)
			rc = 1;
	/* checkpoints: the forwarder skips these records when the slot has them */
	for (int i = 0; parts && i < n && rc == 0; i++) {
		rpart *rp = &parts[i];
		if (rp->acked_local < 0)
			continue;
		char key[300], val[64];
		int kl =
			snprintf(key, sizeof(key), "%s/%s/%d", g_shadow.slot, topic, rp->partition);
		int vl = snprintf(val, sizeof(val), "%" PRId64 " %" PRId64, rp->acked_local,
				  rp->acked_ext);
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(g_shadow.checkpoint_topic),
				      RD_KAFKA_V_PARTITION(0),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				      RD_KAFKA_V_KEY(key, (size_t)kl),
				      RD_KAFKA_V_VALUE(val, (size_t)vl), RD_KAFKA_V_END))
			rc = 1;
		printf("%s[%d] -> %s[%d]: external has local offsets up to %" PRId64
		       " (external offset %" PRId64 ")\n",
		       topic, rp->partition, ext_name, rp->partition, rp->acked_local,
		       rp->acked_ext);
	}
	if (rc == 0 && wait_all(rk) < 0)
		rc = 1;
	printf("%s\n", rc == 0 ? "replay done" : "replay FAILED");
out:
	fflush(stdout);
	PQclear(res);
	PQfinish(pg);
	checkpoint_free(cps, ncps);
	free(parts);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

static int replay_partition(PGconn *pg, rd_kafka_t *rk, const char *topic, const char *ext,
			    rpart *rp, int64_t start, int64_t end, int64_t skip)
{
	char sp[16], s1[32], s2[32];
	int64_t sent = 0;

	snprintf(sp, sizeof(sp), "%d", rp->partition);
	while (start < end) {
		snprintf(s1, sizeof(s1), "%" PRId64, start);
		snprintf(s2, sizeof(s2), "%" PRId64, end);
		const char *params[4] = {topic, sp, s1, s2};
		/* binary results: bytea comes as raw bytes */
		PGresult *res = PQexecParams(pg,
					     "SELECT \"offset\", coalesce(timestamp_ms, "
					     "floor(extract(epoch FROM \"timestamp\") * 1000)"
					     "::bigint)::text, key, "
					     "value, headers FROM kafka.records WHERE topic = $1 "
					     "AND partition = $2::int "
					     "AND \"offset\" >= $3::bigint AND \"offset\" < "
					     "$4::bigint ORDER BY \"offset\" "
					     "LIMIT 5000",
					     4, NULL, params, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			log_error("reading %s[%d]: %s", topic, rp->partition, PQerrorMessage(pg));
			PQclear(res);
			return 1;
		}
		int n = PQntuples(res);
		if (n == 0) {
			PQclear(res);
			break;
		}
		for (int i = 0; i < n; i++) {
			int64_t off = 0;
			const unsigned char *o = (const unsigned char *)PQgetvalue(res, i, 0);
			for (int b = 0; b < 8; b++)
				off = (off << 8) | o[b];
			start = off + 1;
			if (skip > 0) { /* an earlier run delivered it after its checkpoint */
				skip--;
				rp->acked_local = off;
				rp->acked_ext++;
				continue;
			}
			char ts[32];
			int tl = PQgetlength(res, i, 1);
			memcpy(ts, PQgetvalue(res, i, 1), (size_t)(tl < 31 ? tl : 31));
			ts[tl < 31 ? tl : 31] = '\0';
			rd_kafka_headers_t *h =
				PQgetisnull(res, i, 4)
					? NULL
					: shadow_headers(
						  (const unsigned char *)PQgetvalue(res, i, 4),
						  PQgetlength(res, i, 4));
			rref *ref = malloc(sizeof(*ref));
			if (!ref) {
				PQclear(res);
				return 1;
			}
			ref->p = rp;
			ref->local = off;
			for (;;) {
				rd_kafka_resp_err_t err = rd_kafka_producev(
					rk, RD_KAFKA_V_TOPIC(ext),
					RD_KAFKA_V_PARTITION(rp->partition),
					RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					RD_KAFKA_V_KEY(PQgetisnull(res, i, 2)
							       ? NULL
							       : PQgetvalue(res, i, 2),
						       (size_t)PQgetlength(res, i, 2)),
					RD_KAFKA_V_VALUE(PQgetisnull(res, i, 3)
								 ? NULL
								 : PQgetvalue(res, i, 3),
							 (size_t)PQgetlength(res, i, 3)),
					RD_KAFKA_V_TIMESTAMP(strtoll(ts, NULL, 10)),
					RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(ref),
					RD_KAFKA_V_END);
				if (!err)
					break;
				if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
					rd_kafka_poll(rk, 100);
					continue;
				}
				log_error("producing %s[%d]: %s", ext, rp->partition,
					  rd_kafka_err2str(err));
				if (h)
					rd_kafka_headers_destroy(h);
				free(ref);
				PQclear(res);
				return 1;
			}
			sent++;
			rd_kafka_poll(rk, 0);
		}
		PQclear(res);
	}
	log_info("%s[%d]: %" PRId64 " records sent", topic, rp->partition, sent);
	return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	rref *ref = m->_private;
	if (!ref)
		return; /* a checkpoint */
	if (m->err) {
		ref->p->failed = true;
		log_error("delivery to partition %d failed: %s", ref->p->partition,
			  rd_kafka_err2str(m->err));
	} else if (!ref->p->failed) {
		ref->p->acked_local = ref->local;
		ref->p->acked_ext = m->offset;
	}
	free(ref);
}

/* Everything delivered (no message timeout: this waits out an outage). */
static int wait_all(rd_kafka_t *rk)
{
	while (rd_kafka_outq_len(rk) > 0)
		rd_kafka_poll(rk, 100);
	return 0;
}
