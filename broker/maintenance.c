/*
 * The storage job's timer (see maintenance.h). One pass at a time: the
 * timer is re-armed when the pass has answered. A pass that deleted a full
 * budget of rows is followed at once by another, so a backlog (a large
 * deleted topic, the first pass after an upgrade) drains in short
 * transactions rather than one long one; otherwise the next pass waits the
 * interval. Every action is logged.
 *
 * After each pass, the tables under kafka.records (sql/pg_kafka--0.11.sql,
 * "Records in chunks"): kafka.chunk_work() lists what to do, and each item
 * is then done in a transaction of its own, one after the other -- a new
 * chunk attached, a chunk below the log start dropped, a deleted topic's
 * table detached (DETACH PARTITION ... CONCURRENTLY, which cannot run in a
 * function or a transaction block, so it is sent as a statement of its
 * own) and dropped. An item that fails (a lock not granted in time) is
 * logged and listed again by the next pass.
 *
 *   timer -> pass (run_maintenance) -> chunk_work -> item 1 .. item n -> timer
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "hutil.h"
#include "log.h"
#include "maintenance.h"
#include "pool.h"
#include "queries.h"

/* One thing to do with the tables under kafka.records. */
typedef struct chunk_item {
	char action; /* 'a'dd, 'd'rop, de't'ach, 'f'inalize */
	char table[64];
	char topic[256];
	char partition[16];
	char lo[24], hi[24];
} chunk_item;

static struct {
	struct event *timer; /* NULL once shut down */
	char defaults[640];  /* the broker's topic defaults, as JSON */
	char budget[24];
	bool more;           /* the pass used its budget: the next one at once */
	chunk_item *items;   /* the chunk work of this pass */
	int nitems, next;
} M;

static void maintenance_arm(int ms);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void pass_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static int64_t log_action(PGresult *r, int row, bool *more);
static void chunk_work_done(void *arg, PGresult **res, int n, const char *err,
			    const char *sqlstate, bool retriable);
static void chunk_next(void);
static void chunk_item_done(void *arg, PGresult **res, int n, const char *err,
			    const char *sqlstate, bool retriable);
static void chunks_finish(void);

void maintenance_init(struct event_base *base)
{
	M.timer = evtimer_new(base, on_timer, NULL);
	if (!M.timer) {
		log_error("cannot create the storage job's timer");
		abort();
	}
	snprintf(M.defaults, sizeof(M.defaults),
		 "{\"retention.ms\": \"%" PRId64 "\", \"retention.bytes\": \"%" PRId64 "\","
		 " \"segment.ms\": \"%" PRId64 "\", \"segment.bytes\": \"%" PRId32 "\","
		 " \"producer.id.expiration.ms\": \"%" PRId64 "\","
		 " \"transactional.id.expiration.ms\": \"%" PRId64 "\","
		 " \"log.retention.check.interval.ms\": \"%d\"}",
		 g_config.log_retention_ms, g_config.log_retention_bytes, g_config.log_roll_ms,
		 g_config.log_segment_bytes, g_config.producer_id_expiration_ms,
		 g_config.transactional_id_expiration_ms, g_config.log_retention_check_interval_ms);
	snprintf(M.budget, sizeof(M.budget), "%" PRId32, g_config.log_maintenance_budget);
	maintenance_arm(g_config.log_retention_check_interval_ms);
}

/* A pass still in the pool sees the timer gone and does not re-arm it. */
void maintenance_shutdown(void)
{
	if (M.timer)
		event_free(M.timer);
	M.timer = NULL;
}

static void maintenance_arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (M.timer)
		evtimer_add(M.timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;

	if (!pool_available()) {
		maintenance_arm(g_config.log_retention_check_interval_ms);
		return;
	}
	const char *values[2] = {M.defaults, M.budget};
	db_stmt st = {Q_MAINTENANCE, 2, values, NULL, NULL, 0};
	db_submit(NULL, &st, 1, pass_done, NULL);
}

static void pass_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	bool more = false;
	int64_t deleted = 0;

	(void)arg;
	(void)n;
	if (err) {
		if (db_error_retriable(sqlstate, retriable))
			log_debug("storage job: %s", err);
		else
			log_error("storage job: %s", err);
		maintenance_arm(g_config.log_retention_check_interval_ms);
		return;
	}
	for (int i = 0; i < PQntuples(res[0]); i++)
		deleted += log_action(res[0], i, &more);
	if (deleted >= g_config.log_maintenance_budget)
		more = true;
	M.more = more;
	if (!M.timer)
		return;
	const char *values[1] = {M.defaults};
	db_stmt st = {Q_CHUNK_WORK, 1, values, NULL, NULL, 0};
	db_submit(NULL, &st, 1, chunk_work_done, NULL);
}

static void chunk_work_done(void *arg, PGresult **res, int n, const char *err,
			    const char *sqlstate, bool retriable)
{
	PGresult *r;

	(void)arg;
	(void)n;
	if (err) {
		if (db_error_retriable(sqlstate, retriable))
			log_debug("storage job: chunks: %s", err);
		else
			log_error("storage job: chunks: %s", err);
		chunks_finish();
		return;
	}
	r = res[0];
	M.nitems = PQntuples(r);
	M.next = 0;
	M.items = M.nitems > 0 ? calloc((size_t)M.nitems, sizeof(chunk_item)) : NULL;
	if (M.nitems > 0 && !M.items) {
		log_error("storage job: out of memory");
		abort();
	}
	for (int i = 0; i < M.nitems; i++) {
		chunk_item *it = &M.items[i];
		const char *action = PQgetvalue(r, i, 0);

		it->action = strcmp(action, "detach") == 0 ? 't' : action[0];
		snprintf(it->table, sizeof(it->table), "%s", PQgetvalue(r, i, 1));
		snprintf(it->topic, sizeof(it->topic), "%s", PQgetvalue(r, i, 2));
		snprintf(it->partition, sizeof(it->partition), "%s", PQgetvalue(r, i, 3));
		snprintf(it->lo, sizeof(it->lo), "%s", PQgetvalue(r, i, 4));
		snprintf(it->hi, sizeof(it->hi), "%s", PQgetvalue(r, i, 5));
	}
	chunk_next();
}

/* Table names come from kafka.chunks: only the ones pg_kafka makes are
 * ever put into a statement. */
static bool chunk_table_name_ok(const char *t)
{
	size_t n = strlen(t);

	if (n <= 8 || strncmp(t, "records_", 8) != 0)
		return false;
	return strspn(t + 8, "0123456789") == n - 8;
}

/* Submit the next item, or finish. The detach of a deleted topic's table
 * is followed by its drop, as a second item. */
static void chunk_next(void)
{
	static char sql[160];
	chunk_item *it;

	if (!M.timer) {
		chunks_finish();
		return;
	}
	if (M.next >= M.nitems) {
		chunks_finish();
		return;
	}
	it = &M.items[M.next];
	if (it->action != 'a' && !chunk_table_name_ok(it->table)) {
		log_error("storage job: kafka.chunks names table \"%s\", not one of pg_kafka's",
			  it->table);
		M.next++;
		chunk_next();
		return;
	}
	switch (it->action) {
	case 'a': {
		const char *values[3] = {it->topic, it->partition, M.defaults};
		db_stmt st = {Q_ADD_CHUNK, 3, values, NULL, NULL, 0};
		db_submit(NULL, &st, 1, chunk_item_done, NULL);
		return;
	}
	case 't':
	case 'f': {
		snprintf(sql, sizeof(sql), "ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.%s %s",
			 it->table, it->action == 't' ? "CONCURRENTLY" : "FINALIZE");
		const char *values[1] = {sql};
		db_stmt st = {Q_UTILITY, 1, values, NULL, NULL, 0};
		db_submit(NULL, &st, 1, chunk_item_done, NULL);
		return;
	}
	default: {
		const char *values[1] = {it->table};
		db_stmt st = {Q_DROP_CHUNK, 1, values, NULL, NULL, 0};
		db_submit(NULL, &st, 1, chunk_item_done, NULL);
		return;
	}
	}
}

static void chunk_item_done(void *arg, PGresult **res, int n, const char *err,
			    const char *sqlstate, bool retriable)
{
	chunk_item *it = &M.items[M.next];
	bool deleted_topic = it->partition[0] == '\0';

	(void)arg;
	(void)n;
	(void)retriable;
	if (err) {
		/* A lock not granted in time, a topic created again meanwhile:
		 * the next pass lists what is still to do. */
		(void)sqlstate;
		if (it->action == 'a')
			log_info("storage job: adding a chunk to %s-%s: %s (tried again at the next pass)",
				 it->topic, it->partition, err);
		else
			log_info("storage job: removing kafka_chunks.%s of %s: %s (tried again at the next pass)",
				 it->table, it->topic, err);
		M.next++;
		chunk_next();
		return;
	}
	switch (it->action) {
	case 'a':
		if (!PQgetisnull(res[0], 0, 0))
			log_info("storage: new chunk kafka_chunks.%s for %s-%s", PQgetvalue(res[0], 0, 0),
				 it->topic, it->partition);
		M.next++;
		break;
	case 't':
	case 'f':
		/* Detached: drop it as the next step of the same item. */
		it->action = 'd';
		break;
	default:
		if (strcmp(PQgetvalue(res[0], 0, 0), "t") == 0) {
			if (deleted_topic)
				log_info("storage: dropped the tables of deleted topic %s (kafka_chunks.%s)",
					 it->topic, it->table);
			else
				log_info("storage: dropped chunk kafka_chunks.%s of %s-%s, offsets %s to %lld"
					 " (below the log start)",
					 it->table, it->topic, it->partition, it->lo,
					 strtoll(it->hi, NULL, 10) - 1);
		}
		M.next++;
		break;
	}
	chunk_next();
}

/* The chunk work of this pass is over: arm the next pass. */
static void chunks_finish(void)
{
	free(M.items);
	M.items = NULL;
	M.nitems = 0;
	M.next = 0;
	maintenance_arm(M.more ? 0 : g_config.log_retention_check_interval_ms);
}

/* One line per action; returns the rows it deleted from kafka.records
 * below a log start offset or of a deleted topic. *more is set when a
 * partition had more new records than one pass reads. */
static int64_t log_action(PGresult *r, int row, bool *more)
{
	const char *action = PQgetvalue(r, row, 0);
	const char *topic = PQgetvalue(r, row, 1);
	const char *partition = PQgetvalue(r, row, 2);
	const char *from = PQgetvalue(r, row, 3);
	const char *to = PQgetvalue(r, row, 4);
	const char *records = PQgetvalue(r, row, 5);

	switch (action[0]) {
	case 'r': /* retention */
		log_info("retention: %s-%s log start offset now %s", topic, partition, to);
		return 0;
	case 'c': /* compacted */
		log_info("compaction: %s-%s %s records removed", topic, partition, records);
		return 0;
	case 's': /* segments: the pass read its budget of new records */
		log_debug("segments: %s-%s covered up to %s, more to read", topic, partition, to);
		*more = true;
		return 0;
	case 'p':
		if (action[1] == 'r' && action[2] == 'o') { /* producers */
			log_info("expired %s idle producer states and %s transactional ids", from,
				 to);
			return 0;
		}
		/* purged */
		log_info("deleted %s records of %s-%s, offsets %s to %s (below the log start)",
			 records, topic, partition, from, to);
		return strtoll(records, NULL, 10);
	case 't': /* topic */
		log_info("deleted %s records of deleted topic %s-%s, offsets %s to %s", records,
			 topic, partition, from, to);
		return strtoll(records, NULL, 10);
	default:
		log_info("storage job: %s %s-%s", action, topic, partition);
		return 0;
	}
}
