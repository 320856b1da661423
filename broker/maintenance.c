/*
 * The storage job's timer (see maintenance.h). One pass at a time: the
 * timer is re-armed when the pass has answered. A pass that deleted a full
 * budget of rows is followed at once by another, so a backlog (a large
 * deleted topic, the first pass after an upgrade) drains in short
 * transactions rather than one long one; otherwise the next pass waits the
 * interval. Every action is logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "config.h"
#include "hutil.h"
#include "log.h"
#include "maintenance.h"
#include "pool.h"
#include "queries.h"

static struct {
	struct event *timer; /* NULL once shut down */
	char defaults[512];  /* the broker's topic defaults, as JSON */
	char budget[24];
} M;

static void maintenance_arm(int ms);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void pass_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static int64_t log_action(PGresult *r, int row, bool *more);

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
		 " \"transactional.id.expiration.ms\": \"%" PRId64 "\"}",
		 g_config.log_retention_ms, g_config.log_retention_bytes, g_config.log_roll_ms,
		 g_config.log_segment_bytes, g_config.producer_id_expiration_ms,
		 g_config.transactional_id_expiration_ms);
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
	maintenance_arm(more ? 0 : g_config.log_retention_check_interval_ms);
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
