/*
 * The offset expiry job (see offset_expiry.h). A pass has two steps:
 *
 *   timer -> Q_OFFSET_EXPIRY_GROUPS: groups with an offset old enough
 *         -> keep those this broker coordinates; ask their coordinator what
 *            their members keep, holding each group in memory
 *         -> Q_OFFSET_EXPIRE: delete what expired, in one transaction
 *         -> release the groups (forgetting those that are gone), log one
 *            line, re-arm the timer.
 *
 * One pass at a time: the timer is re-armed when the pass has answered. A
 * group whose members' subscriptions are unknown (rebalancing, or not the
 * consumer protocol) is left out: none of its offsets expire.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "arena.h"
#include "arena_str.h"
#include "cluster.h"
#include "config.h"
#include "group_coord.h"
#include "hutil.h"
#include "log.h"
#include "offset_expiry.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "queries.h"
#include "validate.h"

#define OID_BOOL 16
/* The log line names this many groups at most. */
#define LOG_GROUPS_MAX 20

/* The groups of the pass in flight, held until it answers. */
typedef struct expiry_pass {
	arena *a;
	int n;
	kstr *groups;
	group_liveness *live;
} expiry_pass;

static struct {
	struct event *timer; /* NULL once shut down */
	char retention_ms[24];
} X;

static void expiry_arm(int ms);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void candidates_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			    bool retriable);
static void submit_expire(expiry_pass *p);
static void expire_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable);
static void log_pass(PGresult *r);
static void log_db_error(const char *err, const char *sqlstate, bool retriable);

void offset_expiry_init(struct event_base *base)
{
	X.timer = evtimer_new(base, on_timer, NULL);
	if (!X.timer) {
		log_error("cannot create the offset expiry timer");
		abort();
	}
	snprintf(X.retention_ms, sizeof(X.retention_ms), "%" PRId64,
		 (int64_t)g_config.offsets_retention_minutes * 60000);
	expiry_arm(g_config.offsets_retention_check_interval_ms);
}

/* A pass still in the pool sees the timer gone and does not re-arm it. */
void offset_expiry_shutdown(void)
{
	if (X.timer)
		event_free(X.timer);
	X.timer = NULL;
}

static void expiry_arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (X.timer)
		evtimer_add(X.timer, &tv);
}

static void log_db_error(const char *err, const char *sqlstate, bool retriable)
{
	if (db_error_retriable(sqlstate, retriable))
		log_debug("offset expiry: %s", err);
	else
		log_error("offset expiry: %s", err);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;

	if (!pool_available()) {
		expiry_arm(g_config.offsets_retention_check_interval_ms);
		return;
	}
	const char *values[1] = {X.retention_ms};
	db_stmt st = {Q_OFFSET_EXPIRY_GROUPS, 1, values, NULL, NULL, 0};
	db_submit(NULL, &st, 1, candidates_done, NULL);
}

static void candidates_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			    bool retriable)
{
	(void)arg;
	(void)n;
	if (!X.timer)
		return; /* shut down meanwhile: the groups are no longer ours */
	if (err) {
		log_db_error(err, sqlstate, retriable);
		expiry_arm(g_config.offsets_retention_check_interval_ms);
		return;
	}
	int rows = PQntuples(res[0]);
	expiry_pass *p = calloc(1, sizeof(*p));
	if (!p || !(p->a = arena_new())) {
		log_error("offset expiry: out of memory");
		abort();
	}
	p->groups = ARENA_NEW_ARRAY(p->a, kstr, rows);
	p->live = ARENA_NEW_ARRAY(p->a, group_liveness, rows);
	for (int i = 0; i < rows; i++) {
		kstr g = arena_kstrdup(p->a, pgtext_str(res[0], i, 0));
		group_liveness *l = &p->live[p->n];
		if (!cluster_is_coordinator(g) || !group_liveness_hold(g, p->a, l))
			continue;
		if (l->has_members && !l->topics_known) {
			group_liveness_release(g, l, false); /* it keeps everything */
			continue;
		}
		p->groups[p->n++] = g;
	}
	if (p->n == 0) {
		arena_free(p->a);
		free(p);
		expiry_arm(g_config.offsets_retention_check_interval_ms);
		return;
	}
	submit_expire(p);
}

/* Q_OFFSET_EXPIRE with the pass's groups, as binary arrays. */
static void submit_expire(expiry_pass *p)
{
	pgarray groups, members, sub_groups, sub_topics;
	params prm = {0};

	pgarray_begin(&groups, OID_TEXT, 32 * (size_t)p->n + 16);
	pgarray_begin(&members, OID_BOOL, 5 * (size_t)p->n + 16);
	pgarray_begin(&sub_groups, OID_TEXT, 64);
	pgarray_begin(&sub_topics, OID_TEXT, 64);
	for (int i = 0; i < p->n; i++) {
		const group_liveness *l = &p->live[i];
		pgarray_add(&groups, p->groups[i]);
		pgarray_add(&members, l->has_members ? KSTR_LIT("\1") : KSTR_LIT("\0"));
		for (int t = 0; l->has_members && t < l->ntopics; t++) {
			pgarray_add(&sub_groups, p->groups[i]);
			pgarray_add(&sub_topics,
				    pgtext_valid(l->topics[t]) ? l->topics[t] : KSTR_LIT(""));
		}
	}
	pgarray_end(&groups);
	pgarray_end(&members);
	pgarray_end(&sub_groups);
	pgarray_end(&sub_topics);
	params_str(&prm, p->a, kstr_c(X.retention_ms));
	params_bin(&prm, groups.w.buf, (int)groups.w.len);
	params_bin(&prm, members.w.buf, (int)members.w.len);
	params_bin(&prm, sub_groups.w.buf, (int)sub_groups.w.len);
	params_bin(&prm, sub_topics.w.buf, (int)sub_topics.w.len);
	db_stmt st = params_stmt(Q_OFFSET_EXPIRE, &prm, 0);
	db_submit(NULL, &st, 1, expire_done, p);
	pgarray_free(&groups);
	pgarray_free(&members);
	pgarray_free(&sub_groups);
	pgarray_free(&sub_topics);
}

static void expire_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable)
{
	expiry_pass *p = arg;
	int rows = err ? 0 : PQntuples(res[0]);

	(void)n;
	if (err)
		log_db_error(err, sqlstate, retriable);
	else if (rows > 0)
		log_pass(res[0]);
	for (int i = 0; i < p->n; i++) {
		bool gone = false;
		for (int r = 0; r < rows && !gone; r++)
			gone = kstr_eqk(pgtext_str(res[0], r, 0), p->groups[i]) &&
			       PQgetvalue(res[0], r, 2)[0] == 't';
		group_liveness_release(p->groups[i], &p->live[i], gone);
	}
	arena_free(p->a);
	free(p);
	expiry_arm(g_config.offsets_retention_check_interval_ms);
}

/* One line for the pass: how many offsets expired, of which groups, and
 * which groups are gone. */
static void log_pass(PGresult *r)
{
	char line[1024];
	size_t len = 0;
	int64_t total = 0;
	int rows = PQntuples(r);

	for (int i = 0; i < rows; i++)
		total += pgtext_i64(r, i, 1, 0);
	len = (size_t)snprintf(
		line, sizeof(line),
		"offset expiry: %" PRId64 " committed offsets of %d groups expired:", total, rows);
	for (int i = 0; i < rows && i < LOG_GROUPS_MAX && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %s (%s%s)",
					i ? "," : "", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
					PQgetvalue(r, i, 2)[0] == 't' ? ", group gone" : "");
	if (rows > LOG_GROUPS_MAX && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ", and %d more", rows - LOG_GROUPS_MAX);
	log_info("%s", line);
}
