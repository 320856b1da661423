/*
 * Cutover: move a consumer group from pg_kafka to the external cluster.
 *
 * The group's committed offsets (kafka.consumer_offsets) are local offsets:
 * "the next record to read". The checkpoint topic maps, per partition, the
 * last forwarded local offset L to its external offset E. The external
 * partition is written only by the forwarder, once per record, in local
 * offset order, without gaps; local offsets have gaps where a Kafka
 * transaction's marker took one. So a committed local offset C <= L + 1 is
 * external offset E + 1 - (records with C <= offset <= L), counted in
 * kafka.records (C + (E - L) when there is no marker between). A partition
 * is ready when it has a checkpoint that covers C
 * and the forwarder has nothing left to send (kafka.shadow_status lag 0);
 * --cutover commits the translated offsets of ready partitions with
 * AlterConsumerGroupOffsets, --cutover-status only reports.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "shadow.h"

static int alter_offsets(rd_kafka_t *rk, const char *group,
			 rd_kafka_topic_partition_list_t *offsets);
static int64_t translate(PGconn *pg, const char *topic, int32_t partition, int64_t committed,
			 const cpent *cp);

int cutover_run(const char *group, bool commit)
{
	char errstr[512];
	int rc = 1, notready = 0;
	cpent *cps = NULL;
	int ncps = 0;
	rd_kafka_topic_partition_list_t *offsets = NULL;
	PGresult *res = NULL;
	const char *params[2] = {group, g_shadow.slot};

	PGconn *pg = PQconnectdb(g_shadow.pg_conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error("PostgreSQL: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return 1;
	}
	rd_kafka_conf_t *conf = shadow_kafka_conf(false);
	rd_kafka_t *rk =
		conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)) : NULL;
	if (!rk) {
		if (conf) {
			log_error("librdkafka: %s", errstr);
			rd_kafka_conf_destroy(conf);
		}
		goto out;
	}
	if (checkpoint_load(rk, &cps, &ncps, NULL) < 0)
		goto out;

	/* committed offsets, with the forwarder's lag if it reported one */
	res = PQexecParams(pg,
			   "SELECT o.topic, o.partition, o.committed_offset, "
			   "coalesce(s.lag_records::text, 'unknown') "
			   "FROM kafka.consumer_offsets o "
			   "LEFT JOIN kafka.shadow_status s ON s.slot = $2 AND s.topic = o.topic "
			   "AND s.partition = o.partition "
			   "WHERE o.group_id = $1 ORDER BY 1, 2",
			   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("reading the group's offsets: %s", PQerrorMessage(pg));
		goto out;
	}
	if (PQntuples(res) == 0) {
		printf("group %s has no committed offsets on pg_kafka\n", group);
		rc = 3;
		goto out;
	}
	offsets = rd_kafka_topic_partition_list_new(PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++) {
		const char *topic = PQgetvalue(res, i, 0);
		int32_t partition = atoi(PQgetvalue(res, i, 1));
		int64_t committed = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		const char *lag = PQgetvalue(res, i, 3);
		const char *ext = shadow_topic_external(topic);
		const cpent *cp = checkpoint_find(cps, ncps, topic, partition);
		const char *why = NULL;

		if (!shadow_topic_selected(topic))
			why = "topic not mirrored";
		else if (strcmp(lag, "unknown") == 0)
			why = "the forwarder has not reported this partition "
			      "(is it running on this slot?)";
		else if (!cp)
			why = "no checkpoint for this partition yet";
		else if (committed > cp->local + 1)
			why = "committed offset not forwarded yet";
		else if (strcmp(lag, "0") != 0)
			why = "forwarder lag not zero";
		int64_t translated = why ? 0 : translate(pg, topic, partition, committed, cp);
		if (!why && translated == INT64_MIN)
			why = "cannot count its records in kafka.records";
		else if (!why && translated < 0)
			why = "records before the committed offset were never forwarded (--replay)";
		if (why) {
			printf("%s[%d] committed=%" PRId64 " lag=%s NOT READY: %s\n", topic,
			       partition, committed, lag, why);
			notready++;
			continue;
		}
		printf("%s[%d] committed=%" PRId64 " -> %s[%d] %" PRId64 " lag=%s ready\n", topic,
		       partition, committed, ext, partition, translated, lag);
		rd_kafka_topic_partition_list_add(offsets, ext, partition)->offset = translated;
	}
	if (commit && offsets->cnt > 0) {
		if (alter_offsets(rk, group, offsets) < 0)
			goto out;
		printf("committed %d offsets of group %s on the external cluster\n", offsets->cnt,
		       group);
	}
	printf("%s\n", notready ? "group NOT ready for cutover" : "group ready for cutover");
	rc = notready ? 3 : 0;
out:
	fflush(stdout);
	if (offsets)
		rd_kafka_topic_partition_list_destroy(offsets);
	PQclear(res);
	PQfinish(pg);
	checkpoint_free(cps, ncps);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

/* E + 1 - (records with committed <= offset <= L); INT64_MIN on error. */
static int64_t translate(PGconn *pg, const char *topic, int32_t partition, int64_t committed,
			 const cpent *cp)
{
	char sp[16], sc[32], sl[32];
	snprintf(sp, sizeof(sp), "%d", partition);
	snprintf(sc, sizeof(sc), "%" PRId64, committed);
	snprintf(sl, sizeof(sl), "%" PRId64, cp->local);
	const char *params[4] = {topic, sp, sc, sl};
	PGresult *res = PQexecParams(pg,
				     "SELECT count(*) FROM kafka.records WHERE topic = $1 AND "
				     "partition = $2::int AND \"offset\" >= $3::bigint AND "
				     "\"offset\" <= $4::bigint",
				     4, NULL, params, NULL, NULL, 0);
	int64_t out = INT64_MIN;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		out = cp->ext + 1 - strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		log_error("counting records of %s[%d]: %s", topic, partition, PQerrorMessage(pg));
	PQclear(res);
	return out;
}

static int alter_offsets(rd_kafka_t *rk, const char *group,
			 rd_kafka_topic_partition_list_t *offsets)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AlterConsumerGroupOffsets_t *req =
		rd_kafka_AlterConsumerGroupOffsets_new(group, offsets);
	int rc = -1;

	rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
	if (!ev) {
		log_error("AlterConsumerGroupOffsets: no answer in 30 s");
	} else if (rd_kafka_event_error(ev)) {
		log_error("AlterConsumerGroupOffsets: %s", rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_AlterConsumerGroupOffsets_result_t *r =
			rd_kafka_event_AlterConsumerGroupOffsets_result(ev);
		size_t n = 0;
		const rd_kafka_group_result_t **groups =
			rd_kafka_AlterConsumerGroupOffsets_result_groups(r, &n);
		rc = 0;
		for (size_t i = 0; i < n; i++) {
			const rd_kafka_error_t *gerr = rd_kafka_group_result_error(groups[i]);
			if (gerr) {
				log_error("AlterConsumerGroupOffsets: %s",
					  rd_kafka_error_string(gerr));
				rc = -1;
			}
			const rd_kafka_topic_partition_list_t *parts =
				rd_kafka_group_result_partitions(groups[i]);
			for (int j = 0; parts && j < parts->cnt; j++)
				if (parts->elems[j].err) {
					log_error("AlterConsumerGroupOffsets %s[%d]: %s",
						  parts->elems[j].topic, parts->elems[j].partition,
						  rd_kafka_err2str(parts->elems[j].err));
					rc = -1;
				}
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AlterConsumerGroupOffsets_destroy(req);
	rd_kafka_queue_destroy(q);
	return rc;
}
