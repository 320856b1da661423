/*
 * The forwarder's replication connection: create the permanent slot if it
 * is missing, read kafka.shadow_topics (slot_connect), then, once
 * history.c has copied what the tables hold, START_REPLICATION with the
 * binary format (slot_stream); then read CopyData (common/replproto.h),
 * hand each decoder message to forward.c, and send standby status updates
 * that confirm only what checkpoint.c has made safe (S.confirmed_lsn).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "replproto.h"
#include "session.h"
#include "sqlstate.h"

static void read_topic_rules(void);
static void command_failed(PGresult *res, const char *what);

/* The last connection failed with an error that retrying will not fix. */
static bool permanent;

bool slot_error_permanent(void) { return permanent; }

int slot_connect(void)
{
	const char *keys[] = {"dbname", "replication", "fallback_application_name", NULL};
	const char *vals[] = {g_shadow.pg_conninfo, "database", "pg_kafka_shadow", NULL};
	char sql[1024];

	permanent = false;
	S.pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(S.pg) != CONNECTION_OK) {
		log_error("PostgreSQL: %s", PQerrorMessage(S.pg));
		return -1;
	}
	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pg_kafka", g_shadow.slot);
	PGresult *res = PQexec(S.pg, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		/* consistent from here: every transaction committed later is in
		 * the slot, every one committed before is in any snapshot taken
		 * from now on (history.c relies on both) */
		S.slot_created = true;
		if (!PQgetisnull(res, 0, 2))
			snprintf(S.snapshot, sizeof(S.snapshot), "%s", PQgetvalue(res, 0, 2));
		log_info("created slot %s at %s", g_shadow.slot, PQgetvalue(res, 0, 1));
	} else {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (!state || strcmp(state, "42710") != 0) { /* duplicate_object */
			snprintf(sql, sizeof(sql), "creating slot %s", g_shadow.slot);
			command_failed(res, sql);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);

	if (g_shadow.sql_status) {
		const char *k2[] = {"dbname", "fallback_application_name", NULL};
		const char *v2[] = {g_shadow.pg_conninfo, "pg_kafka_shadow status", NULL};
		S.status_pg = PQconnectdbParams(k2, v2, 1);
		if (PQstatus(S.status_pg) != CONNECTION_OK) {
			PQfinish(S.status_pg);
			S.status_pg = NULL;
		}
	}

	read_topic_rules();
	return 0;
}

int slot_stream(void)
{
	char sql[1024];

	/* the decoder filters topics when the include list is given */
	char topics[600] = "";
	if (*g_shadow.topics_include && strlen(g_shadow.topics_include) < 500 &&
	    !strchr(g_shadow.topics_include, '\''))
		snprintf(topics, sizeof(topics), ", \"topics\" '%s'", g_shadow.topics_include);
	snprintf(sql, sizeof(sql),
		 "START_REPLICATION SLOT %s LOGICAL 0/0 (\"format\" 'binary', \"payload\" 'true', "
		 "\"markers\" 'true'%s)",
		 g_shadow.slot, topics);
	PGresult *res = PQexec(S.pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		command_failed(res, "START_REPLICATION");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	S.streaming = true;
	log_info("streaming slot %s", g_shadow.slot);
	return 0;
}

/* One log line; an error no retry will fix (common/sqlstate.c) makes the
 * next attempt wait the longest backoff. */
static void command_failed(PGresult *res, const char *what)
{
	permanent = !sqlstate_retriable(PQresultErrorField(res, PG_DIAG_SQLSTATE));
	log_error("%s: %s%s", what, PQerrorMessage(S.pg),
		  permanent ? " (not a transient error)" : "");
}

/* kafka.shadow_topics rows of this slot, if the table exists. */
static void read_topic_rules(void)
{
	const char *k[] = {"dbname", "fallback_application_name", NULL};
	const char *v[] = {g_shadow.pg_conninfo, "pg_kafka_shadow", NULL};
	const char *params[1] = {g_shadow.slot};
	PGconn *c = PQconnectdbParams(k, v, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return;
	}
	PGresult *res =
		PQexecParams(c,
			     "SELECT topic, external_topic, mirrored FROM kafka.shadow_topics "
			     "WHERE slot = $1 ORDER BY topic",
			     1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		shadow_config_free_rules();
		for (int i = 0; i < PQntuples(res); i++) {
			shadow_topic_rule(PQgetvalue(res, i, 0),
					  PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
					  PQgetvalue(res, i, 2)[0] == 't');
			log_info("kafka.shadow_topics: %s %s%s", PQgetvalue(res, i, 0),
				 PQgetvalue(res, i, 2)[0] == 't' ? "mirrored as " : "not mirrored",
				 PQgetvalue(res, i, 2)[0] == 't'
					 ? shadow_topic_external(PQgetvalue(res, i, 0))
					 : "");
		}
	}
	PQclear(res);
	PQfinish(c);
}

/*
 * Read what has arrived: XLogData goes to forward.c, keepalives advance the
 * received position when nothing is pending and are answered when asked.
 * At most 10,000 messages a call, and none while 200,000 records are in
 * flight, so memory stays flat.
 */
int slot_read(void)
{
	if (!PQconsumeInput(S.pg)) {
		log_error("PostgreSQL: %s", PQerrorMessage(S.pg));
		return -1;
	}
	for (int n = 0; n < 10000 && rd_kafka_outq_len(S.rk) < 200000; n++) {
		char *buf = NULL;
		int len = PQgetCopyData(S.pg, &buf, 1);
		if (len == 0)
			break;
		if (len < 0) {
			PGresult *res = PQgetResult(S.pg);
			log_error("replication stream ended: %s", PQerrorMessage(S.pg));
			PQclear(res);
			return -1;
		}
		int rc = 0;
		repl_msg rm;
		if (repl_parse((const uint8_t *)buf, (size_t)len, &rm) < 0) {
			/* neither XLogData nor keepalive: nothing to act on */
		} else if (rm.type == REPL_XLOGDATA) {
			rc = forward_message(rm.data, (int)rm.len);
			if (rm.wal_start > S.received_lsn)
				S.received_lsn = rm.wal_start;
		} else {
			if (rm.wal_end > S.received_lsn && !S.head && !S.open)
				S.received_lsn = rm.wal_end;
			if (rm.reply_requested)
				rc = slot_send_status(false);
		}
		PQfreemem(buf);
		if (rc < 0)
			return -1;
		rd_kafka_poll(S.rk, 0);
	}
	return 0;
}
int slot_send_status(bool reply)
{
	unsigned char msg[REPL_STATUS_LEN];
	if (!S.streaming)
		return 0; /* before START_REPLICATION there is no stream to answer */
	repl_status(msg, S.received_lsn, S.confirmed_lsn, S.confirmed_lsn, reply);
	S.last_standby_ms = clock_mono_ms();
	if (PQputCopyData(S.pg, (char *)msg, sizeof(msg)) != 1 || PQflush(S.pg) < 0) {
		log_error("standby status update: %s", PQerrorMessage(S.pg));
		return -1;
	}
	return 0;
}
