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
#include <stdlib.h>

#include "apis.h"
#include "arena_str.h"
#include "config.h"
#include "coordinator.h"
#include "group_coord.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
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
} H;

static void held_link(held *h);
static void held_unlink(held *h);
static void on_sweep(evutil_socket_t fd, short what, void *arg);
static void on_join_done(void *waiter, const coord_join_result *r);
static void on_sync_done(void *waiter, const coord_sync_result *r);

void group_coord_init(struct event_base *base)
{
	coord_options opt = COORD_DEFAULT_OPTIONS;

	opt.initial_rebalance_delay_ms = g_config.group_initial_rebalance_delay_ms;
	coord_init(base, &opt, on_join_done, on_sync_done);
	H.list = NULL;
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

/* A failed group or offsets statement: retriable trouble makes clients look for the
 * coordinator again and retry, as when a Kafka coordinator moves; a value
 * PostgreSQL refused is the request's fault (validate.h). */
int16_t group_db_error(const char *what, const char *err, const char *sqlstate, bool retriable)
{
	if (db_error_retriable(sqlstate, retriable)) {
		log_warn("%s: %s", what, err);
		return KERR_COORDINATOR_NOT_AVAILABLE;
	}
	if (sqlstate_bad_input(sqlstate)) {
		log_warn("%s: refused a value of the request: %s", what, err);
		return KERR_INVALID_REQUEST;
	}
	log_error("%s: %s", what, err);
	return KERR_UNKNOWN_SERVER_ERROR;
}
