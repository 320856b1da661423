/*
 * The broker's group coordinator: coordinator.c on the broker's event loop,
 * and the JoinGroup and SyncGroup requests it holds (see group_coord.h).
 *
 * A JoinGroup or SyncGroup that the coordinator holds stays pending here
 * until the coordinator calls back; later requests of that connection wait
 * behind it, as in Kafka. A sweep every HELD_SWEEP_MS completes held
 * requests whose connection went away, so that they do not linger (and do
 * not hold up shutdown) until the rebalance ends.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apis.h"
#include "arena_str.h"
#include "config.h"
#include "coordinator.h"
#include "group_coord.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "pool.h"
#include "queries.h"
#include "validate.h"

#define HELD_SWEEP_MS 100

/* A JoinGroup or SyncGroup held by the coordinator; lives in the request's
 * arena, on the held list until it is answered. */
typedef struct held {
	request *req;
	struct held *prev, *next;
} held;

static struct {
	struct event *sweep;
	held *list;
	pool_lane *membership; /* membership changes are written in order */
} H;

static void held_link(held *h);
static void held_unlink(held *h);
static void on_sweep(evutil_socket_t fd, short what, void *arg);
static void on_join_done(void *waiter, const coord_join_result *r);
static void on_sync_done(void *waiter, const coord_sync_result *r);
static void on_membership(kstr group_id, bool has_members, int64_t at_ms);
static void membership_written(void *arg, PGresult **res, int n, const char *err,
			       const char *sqlstate, bool retriable);

void group_coord_init(struct event_base *base)
{
	coord_options opt = COORD_DEFAULT_OPTIONS;

	opt.initial_rebalance_delay_ms = g_config.group_initial_rebalance_delay_ms;
	coord_init(base, &opt, on_join_done, on_sync_done);
	coord_set_membership_hook(on_membership);
	H.list = NULL;
	H.membership = pool_lane_new();
	H.sweep = evtimer_new(base, on_sweep, NULL);
	if (!H.sweep) {
		log_error("cannot create the group coordinator's sweep timer");
		abort();
	}
}

/* Answers every held request (NOT_COORDINATOR), then forgets all groups. */
void group_coord_shutdown(void)
{
	coord_shutdown();
	/* Nothing can be left, but a held request must never leak. */
	while (H.list) {
		held *h = H.list;
		held_unlink(h);
		request_complete(h->req);
	}
	if (H.sweep)
		event_free(H.sweep);
	H.sweep = NULL;
	if (H.membership)
		pool_lane_free(H.membership);
	H.membership = NULL;
}

static void held_link(held *h)
{
	h->prev = NULL;
	h->next = H.list;
	if (H.list)
		H.list->prev = h;
	H.list = h;
}

static void held_unlink(held *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		H.list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

void group_coord_sweep_arm(void)
{
	struct timeval tv = {0, HELD_SWEEP_MS * 1000};

	if (H.list && H.sweep && !evtimer_pending(H.sweep, NULL))
		evtimer_add(H.sweep, &tv);
}

/* Complete held requests whose client is gone; the coordinator keeps the
 * member (its session timeout decides), as Kafka does. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (held *h = H.list, *next; h; h = next) {
		next = h->next;
		if (!h->req->client_gone)
			continue;
		coord_cancel(h);
		held_unlink(h);
		request_complete(h->req);
	}
	group_coord_sweep_arm();
}

void *group_coord_hold(request *req)
{
	held *h = arena_alloc(req->arena, sizeof(*h));

	h->req = req;
	held_link(h);
	return h;
}

static void on_join_done(void *waiter, const coord_join_result *r)
{
	held *h = waiter;
	request *req = h->req;
	join_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	join_group_resp_member *members =
		ARENA_NEW_ARRAY(req->arena, join_group_resp_member, r->nmembers);

	held_unlink(h);
	resp->error_code = r->error_code;
	resp->generation_id = r->generation_id;
	resp->protocol_type = arena_kstrdup(req->arena, r->protocol_type);
	resp->protocol_name = arena_kstrdup(req->arena, r->protocol_name);
	resp->leader = arena_kstrdup(req->arena, r->leader);
	resp->skip_assignment = r->skip_assignment;
	resp->member_id = arena_kstrdup(req->arena, r->member_id);
	for (int i = 0; i < r->nmembers; i++) {
		members[i].member_id = arena_kstrdup(req->arena, r->members[i].member_id);
		members[i].group_instance_id =
			arena_kstrdup(req->arena, r->members[i].group_instance_id);
		members[i].metadata = arena_kstrdup(req->arena, r->members[i].metadata);
	}
	resp->members = karray_of(members, r->nmembers);
	req->resp = resp;
	request_complete(req);
}

static void on_sync_done(void *waiter, const coord_sync_result *r)
{
	held *h = waiter;
	request *req = h->req;
	sync_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	held_unlink(h);
	resp->error_code = r->error_code;
	resp->protocol_type = arena_kstrdup(req->arena, r->protocol_type);
	resp->protocol_name = arena_kstrdup(req->arena, r->protocol_name);
	resp->assignment = arena_kstrdup(req->arena, r->assignment);
	req->resp = resp;
	request_complete(req);
}

/* ---- Membership changes and offset expiry ---- */

/* kafka.group_membership keeps when each group became empty, for offset
 * expiry after a restart. A write that fails is logged; expiry then counts
 * from the commits, or from when a coordinator next finds the group empty. */
static void on_membership(kstr group_id, bool has_members, int64_t at_ms)
{
	char since[32];
	char *gid = strndup(group_id.ptr, (size_t)group_id.len);

	if (!gid || !pool_available() || !pgid_valid(group_id)) {
		free(gid);
		return;
	}
	snprintf(since, sizeof(since), "%" PRId64, at_ms);
	const char *values[3] = {gid, has_members ? "t" : "f", since};
	db_stmt st = {Q_GROUP_MEMBERSHIP, 3, values, NULL, NULL, 0};
	db_submit(H.membership, &st, 1, membership_written, gid);
}

static void membership_written(void *arg, PGresult **res, int n, const char *err,
			       const char *sqlstate, bool retriable)
{
	(void)res;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (err)
		log_warn("group %s: membership change not stored: %s", (char *)arg, err);
	free(arg);
}

bool group_liveness_hold(kstr group_id, arena *a, group_liveness *out)
{
	coord_offsets_keep k;

	memset(out, 0, sizeof(*out));
	out->in_memory = coord_offsets_keep_of(group_id, a, &k);
	if (!out->in_memory)
		return true;
	if (coord_commit_hold(group_id, false, &out->held) != KERR_NONE)
		return false;
	out->has_members = k.has_members;
	out->topics_known = k.topics_known;
	out->ntopics = k.ntopics;
	out->topics = k.topics;
	return true;
}

void group_liveness_release(kstr group_id, const group_liveness *l, bool gone)
{
	if (l->held)
		coord_commit_release(group_id);
	if (gone)
		coord_offsets_gone(group_id);
}
