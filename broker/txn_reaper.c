/*
 * The timer that aborts transactions past their timeout, every
 * transaction.abort.timed.out.transaction.cleanup.interval.ms: one
 * statement (Q_ABORT_EXPIRED_TXNS) aborts them and fences their producers
 * in PostgreSQL, then the fetches waiting on the partitions that got abort
 * markers are woken (see txn_reaper.h).
 */
#include <stdlib.h>

#include <event2/event.h>

#include "cluster.h"
#include "config.h"
#include "hutil.h"
#include "log.h"
#include "pool.h"
#include "queries.h"
#include "txn_markers.h"
#include "txn_reaper.h"

static struct {
	struct event *reaper; /* NULL once shut down */
} T;

static void reaper_arm(void);
static void on_reap(evutil_socket_t fd, short what, void *arg);
static void reap_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);

void txn_reaper_init(struct event_base *base)
{
	T.reaper = evtimer_new(base, on_reap, NULL);
	if (!T.reaper) {
		log_error("cannot create the transaction coordinator's timer");
		abort();
	}
	reaper_arm();
}

/* The reaper's statement may still be in the pool: its callback sees the
 * timer gone and does not re-arm it. */
void txn_reaper_shutdown(void)
{
	if (T.reaper)
		event_free(T.reaper);
	T.reaper = NULL;
}

static void reaper_arm(void)
{
	int32_t ms = g_config.txn_abort_timed_out_cleanup_interval_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (T.reaper)
		evtimer_add(T.reaper, &tv);
}

/* One sweep at a time: the timer is re-armed when the sweep's statement
 * has answered, so a slow database never piles sweeps up. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;

	/* Once per cluster: on the controller only. */
	if (!pool_available() || !cluster_runs_background_jobs()) {
		reaper_arm();
		return;
	}
	db_stmt st = {Q_ABORT_EXPIRED_TXNS, 0, NULL, NULL, NULL, 0};
	db_submit(NULL, &st, 1, reap_done, NULL);
}

static void reap_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	(void)arg;
	(void)n;

	if (err) {
		/* The pool logs its own connection trouble. */
		if (db_error_retriable(sqlstate, retriable))
			log_debug("aborting timed-out transactions: %s", err);
		else
			log_error("aborting timed-out transactions: %s", err);
		reaper_arm();
		return;
	}
	for (int i = 0; i < PQntuples(res[0]); i++) {
		log_info("transaction %s timed out: aborted, producer fenced",
			 PQgetvalue(res[0], i, 0));
		if (!PQgetisnull(res[0], i, 1) && !PQgetisnull(res[0], i, 2))
			txn_wake_markers(PQgetvalue(res[0], i, 1), PQgetvalue(res[0], i, 2));
	}
	reaper_arm();
}
