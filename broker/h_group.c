/*
 * Consumer groups: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups,
 * DeleteGroups and OffsetDelete.
 *
 * Membership is the coordinator's (coordinator.c, in memory); committed
 * offsets are rows of kafka.consumer_offsets. Every broker answers
 * FindCoordinator with itself (see docs/GROUPS.md for what that means with
 * several brokers).
 *
 * A JoinGroup or SyncGroup that the coordinator holds stays pending here
 * until the coordinator calls back; later requests of that connection wait
 * behind it, as in Kafka. A sweep every HELD_SWEEP_MS completes held
 * requests whose connection went away, so that they do not linger (and do
 * not hold up shutdown) until the rebalance ends.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "coordinator.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "pgbin.h"
#include "pool.h"
#include "server.h"

#define HELD_SWEEP_MS 100

/* offset.metadata.max.bytes, Kafka's default. */
#define OFFSET_METADATA_MAX_BYTES 4096

/* FindCoordinator key types. */
#define KEY_TYPE_GROUP 0
#define KEY_TYPE_TRANSACTION 1

/* Group ACL operations (READ, DELETE, DESCRIBE) for DescribeGroups v3+. */
#define GROUP_ALL_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

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

/* One partition of an OffsetCommit, OffsetFetch or OffsetDelete. */
typedef struct tp_ref {
	kstr topic;
	int32_t partition;
	int16_t *error_code; /* where its answer goes */
	void *out;           /* the API's per-partition result */
} tp_ref;

typedef struct oc_ctx {
	request *req;
	tp_ref *parts; /* sent to PostgreSQL */
	int nparts;
} oc_ctx;

typedef struct of_group {
	kstr group_id;
	bool all;         /* null topics: every committed offset */
	karray in_topics; /* offset_fetch_req_topic */
	tp_ref *parts;    /* listed partitions, in request order */
	int nparts;
	int stmt;       /* index of its statement in the job, -1 if none */
	karray *topics; /* response topics (filled for "all") */
	int16_t *error_code;
} of_group;

typedef struct of_ctx {
	request *req;
	of_group *groups;
	int ngroups;
} of_ctx;

typedef struct dg_ctx {
	request *req;
	describe_groups_resp_group **missing; /* not in memory: Empty or Dead? */
	int nmissing;
} dg_ctx;

typedef struct del_ctx {
	request *req;
	delete_groups_resp_result **results; /* one statement each */
	bool *known;
	int n;
} del_ctx;

typedef struct od_ctx {
	request *req;
	bool known;
	tp_ref *parts;
	int nparts;
} od_ctx;

static void held_link(held *h);
static void held_unlink(held *h);
static void sweep_arm(void);
static void on_sweep(evutil_socket_t fd, short what, void *arg);
static void on_join_done(void *waiter, const coord_join_result *r);
static void on_sync_done(void *waiter, const coord_sync_result *r);
static kstr kempty(kstr s);
static bool utf8_valid(kstr s);
static int16_t db_group_error(const char *what, const char *err, const char *sqlstate,
			      bool retriable);
static void tp_arrays(const tp_ref *parts, int n, pgarray *topics, pgarray *partitions);
static void oc_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void of_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void of_fill_all(request *req, of_group *g, const PGresult *rows);
static void dg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void lg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static bool lg_state_wanted(const list_groups_req *b, int16_t ver, group_state s);
static bool lg_type_wanted(const list_groups_req *b, int16_t ver);
static void del_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static void od_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

/* ---- start, stop, held requests ---- */

void group_coordinator_init(struct event_base *base)
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
void group_coordinator_shutdown(void)
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

static void sweep_arm(void)
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
	sweep_arm();
}

/* Metadata written as NULL with SQL reads as Kafka's "no metadata", "". */
static kstr kempty(kstr s) { return s.len < 0 ? KSTR_LIT("") : s; }

/* ---- FindCoordinator ---- */

void handle_find_coordinator(request *req)
{
	const find_coordinator_req *b = req->body;
	find_coordinator_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	/* Transactions have the same answer: every broker coordinates. */
	bool ok = b->key_type == KEY_TYPE_GROUP || b->key_type == KEY_TYPE_TRANSACTION;
	kstr why = kstr_c("unknown coordinator key type");

	req->resp = resp;
	if (req->api_version < 4) {
		resp->error_code = ok ? KERR_NONE : KERR_INVALID_REQUEST;
		resp->error_message = ok ? KSTR_NULL : why;
		resp->node_id = ok ? g_config.node_id : -1;
		resp->host = ok ? kstr_c(g_config.advertised_host) : KSTR_LIT("");
		resp->port = ok ? g_config.advertised_port : -1;
		request_complete(req);
		return;
	}
	int32_t n = b->coordinator_keys.count > 0 ? b->coordinator_keys.count : 0;
	const kstr *keys = b->coordinator_keys.items;
	find_coordinator_resp_coordinator *out =
		ARENA_NEW_ARRAY(req->arena, find_coordinator_resp_coordinator, n);
	for (int32_t i = 0; i < n; i++) {
		out[i].key = keys[i];
		out[i].error_code = ok ? KERR_NONE : KERR_INVALID_REQUEST;
		out[i].error_message = ok ? KSTR_NULL : why;
		out[i].node_id = ok ? g_config.node_id : -1;
		out[i].host = ok ? kstr_c(g_config.advertised_host) : KSTR_LIT("");
		out[i].port = ok ? g_config.advertised_port : -1;
	}
	resp->coordinators = karray_of(out, n);
	request_complete(req);
}

/* ---- JoinGroup and SyncGroup: held until the coordinator answers ---- */

void handle_join_group(request *req)
{
	const join_group_req *b = req->body;
	const join_group_req_protocol *in = b->protocols.items;
	int n = b->protocols.count > 0 ? b->protocols.count : 0;
	coord_protocol *protocols = ARENA_NEW_ARRAY(req->arena, coord_protocol, n);
	held *h = arena_alloc(req->arena, sizeof(*h));

	for (int i = 0; i < n; i++) {
		protocols[i].name = in[i].name;
		protocols[i].metadata = in[i].metadata;
	}
	coord_join_req jr = {
		.group_id = b->group_id,
		.member_id = b->member_id,
		.group_instance_id = b->group_instance_id,
		.client_id = req->client_id,
		.client_host = request_client_host(req),
		.protocol_type = b->protocol_type,
		.session_timeout_ms = b->session_timeout_ms,
		/* v0 has no rebalance timeout: the session timeout is it */
		.rebalance_timeout_ms =
			req->api_version >= 1 ? b->rebalance_timeout_ms : b->session_timeout_ms,
		.protocols = protocols,
		.nprotocols = n,
		.require_known_member_id = req->api_version >= 4,
		.supports_skip_assignment = req->api_version >= 9,
	};
	h->req = req;
	held_link(h);
	coord_join(&jr, h); /* may answer (and free req) before it returns */
	sweep_arm();
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

void handle_sync_group(request *req)
{
	const sync_group_req *b = req->body;
	const sync_group_req_assignment *in = b->assignments.items;
	int n = b->assignments.count > 0 ? b->assignments.count : 0;
	coord_assignment *assignments = ARENA_NEW_ARRAY(req->arena, coord_assignment, n);
	held *h = arena_alloc(req->arena, sizeof(*h));

	for (int i = 0; i < n; i++) {
		assignments[i].member_id = in[i].member_id;
		assignments[i].assignment = in[i].assignment;
	}
	coord_sync_req sr = {
		.group_id = b->group_id,
		.member_id = b->member_id,
		.group_instance_id = b->group_instance_id,
		.protocol_type = b->protocol_type,
		.protocol_name = b->protocol_name,
		.generation_id = b->generation_id,
		.assignments = assignments,
		.nassignments = n,
	};
	h->req = req;
	held_link(h);
	coord_sync(&sr, h);
	sweep_arm();
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

/* ---- Heartbeat, LeaveGroup ---- */

void handle_heartbeat(request *req)
{
	const heartbeat_req *b = req->body;
	heartbeat_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code =
		coord_heartbeat(b->group_id, b->member_id, b->group_instance_id, b->generation_id);
	req->resp = resp;
	request_complete(req);
}

void handle_leave_group(request *req)
{
	const leave_group_req *b = req->body;
	leave_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	bool batch = req->api_version >= 3;
	int n = batch ? (b->members.count > 0 ? b->members.count : 0) : 1;
	coord_leave_member *members = ARENA_NEW_ARRAY(req->arena, coord_leave_member, n);
	const leave_group_req_member *in = b->members.items;

	for (int i = 0; i < n; i++) {
		members[i].member_id = batch ? in[i].member_id : b->member_id;
		members[i].group_instance_id = batch ? in[i].group_instance_id : KSTR_NULL;
	}
	resp->error_code = coord_leave(b->group_id, members, n);
	req->resp = resp;
	if (!batch) {
		/* v0-2 have one member: its error is the answer. */
		if (resp->error_code == KERR_NONE)
			resp->error_code = members[0].error_code;
		request_complete(req);
		return;
	}
	leave_group_resp_member *out = ARENA_NEW_ARRAY(req->arena, leave_group_resp_member, n);
	for (int i = 0; i < n; i++) {
		out[i].member_id = in[i].member_id;
		out[i].group_instance_id = in[i].group_instance_id;
		out[i].error_code = resp->error_code ? resp->error_code : members[i].error_code;
	}
	resp->members = karray_of(out, resp->error_code ? 0 : n);
	request_complete(req);
}

/* ---- offsets: shared helpers ---- */

/* PostgreSQL text must be UTF-8 without NUL bytes. */
static bool utf8_valid(kstr s)
{
	const uint8_t *p = (const uint8_t *)s.ptr;
	int32_t i = 0;

	while (i < s.len) {
		uint8_t c = p[i];
		int need;
		uint32_t cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + need >= s.len)
			return false;
		for (int k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* A failed offsets job: retriable trouble makes clients look for the
 * coordinator again and retry, as when a Kafka coordinator moves. */
static int16_t db_group_error(const char *what, const char *err, const char *sqlstate,
			      bool retriable)
{
	if (db_error_retriable(sqlstate, retriable)) {
		log_warn("%s: %s", what, err);
		return KERR_COORDINATOR_NOT_AVAILABLE;
	}
	log_error("%s: %s", what, err);
	return KERR_UNKNOWN_SERVER_ERROR;
}

static void tp_arrays(const tp_ref *parts, int n, pgarray *topics, pgarray *partitions)
{
	pgarray_begin(topics, OID_TEXT, 32 * (size_t)n + 16);
	pgarray_begin(partitions, OID_INT8, 12 * (size_t)n + 16);
	for (int i = 0; i < n; i++) {
		pgarray_add(topics, parts[i].topic);
		pgarray_add_i64(partitions, parts[i].partition);
	}
	pgarray_end(topics);
	pgarray_end(partitions);
}

/* ---- OffsetCommit ---- */

void handle_offset_commit(request *req)
{
	const offset_commit_req *b = req->body;
	offset_commit_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	oc_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const offset_commit_req_topic *topics = b->topics.items;
	int32_t ntopics = b->topics.count > 0 ? b->topics.count : 0;
	int total = 0;

	c->req = req;
	req->resp = resp;
	for (int32_t t = 0; t < ntopics; t++)
		total += topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
	c->parts = ARENA_NEW_ARRAY(req->arena, tp_ref, total);
	offset_commit_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, offset_commit_resp_topic, ntopics);
	resp->topics = karray_of(rt, ntopics);

	/* v0 has neither generation nor member: a "simple" commit. Kafka
	 * does not consult the coordinator for a commit of nothing. A group
	 * id that PostgreSQL text cannot hold cannot have offsets. */
	int16_t group_error = KERR_NONE;
	if (total > 0 && !utf8_valid(b->group_id))
		group_error = KERR_INVALID_GROUP_ID;
	else if (total > 0)
		group_error = coord_commit_check(
			b->group_id, req->api_version >= 1 ? b->member_id : KSTR_LIT(""),
			b->group_instance_id,
			req->api_version >= 1 ? b->generation_id_or_member_epoch : -1);

	pgarray offsets, epochs, metadata;
	pgarray_begin(&offsets, OID_INT8, 12 * (size_t)total + 16);
	pgarray_begin(&epochs, OID_INT8, 12 * (size_t)total + 16);
	pgarray_begin(&metadata, OID_TEXT, 16 * (size_t)total + 16);
	for (int32_t t = 0; t < ntopics; t++) {
		const offset_commit_req_partition *in = topics[t].partitions.items;
		int32_t np = topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
		offset_commit_resp_partition *rp =
			ARENA_NEW_ARRAY(req->arena, offset_commit_resp_partition, np);
		rt[t].name = topics[t].name;
		rt[t].partitions = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = in[p].partition_index;
			if (group_error) {
				rp[p].error_code = group_error;
				continue;
			}
			if (!topic_name_valid(topics[t].name) || in[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (in[p].committed_metadata.len > OFFSET_METADATA_MAX_BYTES) {
				rp[p].error_code = KERR_OFFSET_METADATA_TOO_LARGE;
				continue;
			}
			if (!utf8_valid(in[p].committed_metadata)) {
				rp[p].error_code = KERR_INVALID_REQUEST;
				continue;
			}
			tp_ref *ref = &c->parts[c->nparts++];
			ref->topic = topics[t].name;
			ref->partition = in[p].partition_index;
			ref->error_code = &rp[p].error_code;
			pgarray_add_i64(&offsets, in[p].committed_offset);
			pgarray_add_i64(&epochs,
					req->api_version >= 6 ? in[p].committed_leader_epoch : -1);
			/* Kafka stores null metadata as "". */
			pgarray_add(&metadata, in[p].committed_metadata.len < 0
						       ? KSTR_LIT("")
						       : in[p].committed_metadata);
		}
	}
	pgarray_end(&offsets);
	pgarray_end(&epochs);
	pgarray_end(&metadata);
	if (c->nparts == 0) {
		pgarray_free(&offsets);
		pgarray_free(&epochs);
		pgarray_free(&metadata);
		request_complete(req);
		return;
	}
	pgarray tnames, tparts;
	tp_arrays(c->parts, c->nparts, &tnames, &tparts);
	params p = {0};
	params_str(&p, req->arena, b->group_id);
	params_bin(&p, tnames.w.buf, (int)tnames.w.len);
	params_bin(&p, tparts.w.buf, (int)tparts.w.len);
	params_bin(&p, offsets.w.buf, (int)offsets.w.len);
	params_bin(&p, epochs.w.buf, (int)epochs.w.len);
	params_bin(&p, metadata.w.buf, (int)metadata.w.len);
	db_stmt st = params_stmt(Q_OFFSET_COMMIT, &p, 0);
	db_submit(req->db, &st, 1, oc_done, c);
	pgarray_free(&tnames);
	pgarray_free(&tparts);
	pgarray_free(&offsets);
	pgarray_free(&epochs);
	pgarray_free(&metadata);
}

static void oc_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	oc_ctx *c = arg;
	(void)n;

	if (err) {
		/* A topic deleted while we committed to it. */
		int16_t e = sqlstate && strcmp(sqlstate, "23503") == 0
				    ? KERR_UNKNOWN_TOPIC_OR_PARTITION
				    : db_group_error("offset commit", err, sqlstate, retriable);
		for (int i = 0; i < c->nparts; i++)
			*c->parts[i].error_code = e;
		request_complete(c->req);
		return;
	}
	/* What came back was stored; the rest does not exist. */
	for (int i = 0; i < c->nparts; i++)
		*c->parts[i].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	for (int r = 0; r < PQntuples(res[0]); r++) {
		kstr topic = pgtext_str(res[0], r, 0);
		int64_t partition = pgtext_i64(res[0], r, 1, -1);
		for (int i = 0; i < c->nparts; i++)
			if (c->parts[i].partition == partition &&
			    kstr_eqk(c->parts[i].topic, topic))
				*c->parts[i].error_code = KERR_NONE;
	}
	request_complete(c->req);
}

/* ---- OffsetFetch ---- */

void handle_offset_fetch(request *req)
{
	const offset_fetch_req *b = req->body;
	offset_fetch_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	of_ctx *c = arena_alloc(req->arena, sizeof(*c));
	bool multi = req->api_version >= 8;

	c->req = req;
	req->resp = resp;
	/* Up to v7 one group; the v8 list of groups is the general form. */
	if (multi) {
		const offset_fetch_req_group *in = b->groups.items;
		c->ngroups = b->groups.count > 0 ? b->groups.count : 0;
		c->groups = ARENA_NEW_ARRAY(req->arena, of_group, c->ngroups);
		offset_fetch_resp_group *out =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_group, c->ngroups);
		resp->groups = karray_of(out, c->ngroups);
		for (int i = 0; i < c->ngroups; i++) {
			out[i].group_id = in[i].group_id;
			c->groups[i].group_id = in[i].group_id;
			c->groups[i].all = in[i].topics.count < 0;
			c->groups[i].topics = &out[i].topics;
			c->groups[i].error_code = &out[i].error_code;
			c->groups[i].in_topics = in[i].topics;
		}
	} else {
		c->ngroups = 1;
		c->groups = ARENA_NEW_ARRAY(req->arena, of_group, 1);
		c->groups[0].group_id = b->group_id;
		c->groups[0].all = b->topics.count < 0;
		c->groups[0].topics = &resp->topics;
		c->groups[0].error_code = &resp->error_code;
		c->groups[0].in_topics = b->topics;
	}

	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, c->ngroups);
	pgarray *arrays = ARENA_NEW_ARRAY(req->arena, pgarray, 2 * c->ngroups);
	int nstmts = 0, narrays = 0;
	for (int i = 0; i < c->ngroups; i++) {
		of_group *g = &c->groups[i];
		params *p = arena_alloc(req->arena, sizeof(*p));
		g->stmt = -1;
		params_str(p, req->arena, g->group_id);
		if (g->all) {
			*g->topics = karray_of(NULL, 0);
			if (!utf8_valid(g->group_id))
				continue; /* cannot have offsets */
			g->stmt = nstmts;
			stmts[nstmts++] = params_stmt(Q_OFFSET_FETCH_ALL, p, 0);
			continue;
		}
		/* Turn the request's topics into response topics, one entry
		 * per partition asked for. */
		const offset_fetch_req_topic *in = g->in_topics.items;
		int32_t nt = g->in_topics.count > 0 ? g->in_topics.count : 0;
		offset_fetch_resp_topic *out =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_topic, nt);
		int total = 0;
		for (int32_t t = 0; t < nt; t++)
			total += in[t].partition_indexes.count > 0 ? in[t].partition_indexes.count
								   : 0;
		g->parts = ARENA_NEW_ARRAY(req->arena, tp_ref, total);
		for (int32_t t = 0; t < nt; t++) {
			const int32_t *idx = in[t].partition_indexes.items;
			int32_t np = in[t].partition_indexes.count > 0
					     ? in[t].partition_indexes.count
					     : 0;
			offset_fetch_resp_partition *rp =
				ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_partition, np);
			out[t].name = in[t].name;
			out[t].partitions = karray_of(rp, np);
			for (int32_t k = 0; k < np; k++) {
				rp[k].partition_index = idx[k];
				rp[k].committed_offset = -1;
				rp[k].committed_leader_epoch = -1;
				rp[k].metadata = KSTR_LIT("");
				g->parts[g->nparts].topic = in[t].name;
				g->parts[g->nparts].partition = idx[k];
				g->parts[g->nparts].error_code = &rp[k].error_code;
				g->parts[g->nparts].out = &rp[k];
				g->nparts++;
			}
		}
		*g->topics = karray_of(out, nt);
		if (g->nparts == 0 || !utf8_valid(g->group_id))
			continue;
		/* Names PostgreSQL cannot hold cannot have offsets either. */
		for (int k = 0; k < g->nparts; k++)
			if (!utf8_valid(g->parts[k].topic))
				g->parts[k].topic = KSTR_LIT("");
		tp_arrays(g->parts, g->nparts, &arrays[narrays], &arrays[narrays + 1]);
		params_bin(p, arrays[narrays].w.buf, (int)arrays[narrays].w.len);
		params_bin(p, arrays[narrays + 1].w.buf, (int)arrays[narrays + 1].w.len);
		narrays += 2;
		g->stmt = nstmts;
		stmts[nstmts++] = params_stmt(Q_OFFSET_FETCH, p, 0);
	}
	if (nstmts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, nstmts, of_done, c);
	for (int i = 0; i < narrays; i++)
		pgarray_free(&arrays[i]);
}

static void of_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	of_ctx *c = arg;
	request *req = c->req;
	const offset_fetch_req *b = req->body;
	/* v7+: a consumer that reads committed data asks not to be given an
	 * offset that an ongoing transaction is about to replace; it retries. */
	bool require_stable = req->api_version >= 7 && b->require_stable;
	(void)n;

	int16_t e = err ? db_group_error("offset fetch", err, sqlstate, retriable) : KERR_NONE;
	for (int i = 0; i < c->ngroups; i++) {
		of_group *g = &c->groups[i];
		if (g->stmt < 0)
			continue;
		if (e) {
			/* v0-1 have no group-level error: every partition says it. */
			if (req->api_version < 2) {
				for (int k = 0; k < g->nparts; k++)
					*g->parts[k].error_code = e;
			} else {
				*g->error_code = e;
				*g->topics = karray_of(NULL, 0);
			}
			continue;
		}
		const PGresult *rows = res[g->stmt];
		if (g->all) {
			of_fill_all(req, g, rows);
			continue;
		}
		for (int k = 0; k < g->nparts && k < PQntuples(rows); k++) {
			offset_fetch_resp_partition *out = g->parts[k].out;
			if (require_stable && PQnfields(rows) > 4 &&
			    strcmp(PQgetvalue(rows, k, 4), "t") == 0) {
				out->error_code = KERR_UNSTABLE_OFFSET_COMMIT;
				continue;
			}
			if (!PQgetisnull(rows, k, 0)) {
				out->committed_offset = pgtext_i64(rows, k, 0, -1);
				out->committed_leader_epoch = (int32_t)pgtext_i64(rows, k, 1, -1);
				out->metadata =
					arena_kstrdup(req->arena, kempty(pgtext_str(rows, k, 2)));
			}
			/* v0 read ZooKeeper in Kafka, and told unknown partitions apart. */
			if (req->api_version == 0 && strcmp(PQgetvalue(rows, k, 3), "t") != 0)
				out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	request_complete(req);
}

/* Every committed offset of the group, grouped by topic (rows come sorted). */
static void of_fill_all(request *req, of_group *g, const PGresult *rows)
{
	int nrows = PQntuples(rows);
	int ntopics = 0;
	offset_fetch_resp_topic *topics =
		ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_topic, nrows);

	for (int r = 0; r < nrows;) {
		kstr name = pgtext_str(rows, r, 0);
		int end = r;
		while (end < nrows && kstr_eqk(pgtext_str(rows, end, 0), name))
			end++;
		offset_fetch_resp_partition *parts =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_partition, end - r);
		for (int k = r; k < end; k++) {
			offset_fetch_resp_partition *p = &parts[k - r];
			p->partition_index = (int32_t)pgtext_i64(rows, k, 1, 0);
			p->committed_offset = pgtext_i64(rows, k, 2, -1);
			p->committed_leader_epoch = (int32_t)pgtext_i64(rows, k, 3, -1);
			p->metadata = arena_kstrdup(req->arena, kempty(pgtext_str(rows, k, 4)));
		}
		topics[ntopics].name = arena_kstrdup(req->arena, name);
		topics[ntopics].partitions = karray_of(parts, end - r);
		ntopics++;
		r = end;
	}
	*g->topics = karray_of(topics, ntopics);
}

/* ---- DescribeGroups ---- */

void handle_describe_groups(request *req)
{
	const describe_groups_req *b = req->body;
	describe_groups_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	dg_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int32_t n = b->groups.count > 0 ? b->groups.count : 0;
	const kstr *names = b->groups.items;
	describe_groups_resp_group *out =
		ARENA_NEW_ARRAY(req->arena, describe_groups_resp_group, n);
	bool ops = req->api_version >= 3 && b->include_authorized_operations;

	c->req = req;
	c->missing = ARENA_NEW_ARRAY(req->arena, describe_groups_resp_group *, n);
	req->resp = resp;
	resp->groups = karray_of(out, n);
	for (int32_t i = 0; i < n; i++) {
		coord_group_info gi;
		out[i].group_id = names[i];
		out[i].authorized_operations = ops ? GROUP_ALL_OPERATIONS : INT32_MIN;
		out[i].protocol_type = KSTR_LIT("");
		out[i].protocol_data = KSTR_LIT("");
		out[i].members = karray_of(NULL, 0);
		if (!coord_describe(names[i], req->arena, &gi)) {
			out[i].group_state = kstr_c(group_state_name(GROUP_DEAD));
			c->missing[c->nmissing++] = &out[i];
			continue;
		}
		describe_groups_resp_member *m =
			ARENA_NEW_ARRAY(req->arena, describe_groups_resp_member, gi.nmembers);
		for (int k = 0; k < gi.nmembers; k++) {
			m[k].member_id = gi.members[k].member_id;
			m[k].group_instance_id = gi.members[k].group_instance_id;
			m[k].client_id = gi.members[k].client_id;
			m[k].client_host = gi.members[k].client_host;
			m[k].member_metadata = gi.members[k].metadata;
			m[k].member_assignment = gi.members[k].assignment;
		}
		out[i].group_state = kstr_c(group_state_name(gi.state));
		out[i].protocol_type = gi.protocol_type;
		out[i].protocol_data = gi.protocol_data;
		out[i].members = karray_of(m, gi.nmembers);
	}
	if (c->nmissing == 0) {
		request_complete(req);
		return;
	}
	/* Not in memory: a group whose offsets are stored is Empty (members
	 * rejoin after a restart), any other is Dead, as Kafka says. */
	pgarray groups;
	pgarray_begin(&groups, OID_TEXT, 32 * (size_t)c->nmissing + 16);
	for (int i = 0; i < c->nmissing; i++)
		pgarray_add(&groups, utf8_valid(c->missing[i]->group_id) ? c->missing[i]->group_id
									 : KSTR_LIT(""));
	pgarray_end(&groups);
	params p = {0};
	params_bin(&p, groups.w.buf, (int)groups.w.len);
	db_stmt st = params_stmt(Q_GROUPS_WITH_OFFSETS, &p, 0);
	db_submit(req->db, &st, 1, dg_done, c);
	pgarray_free(&groups);
}

static void dg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	dg_ctx *c = arg;
	(void)n;

	if (err) {
		int16_t e = db_group_error("describe groups", err, sqlstate, retriable);
		for (int i = 0; i < c->nmissing; i++)
			c->missing[i]->error_code = e;
		request_complete(c->req);
		return;
	}
	for (int r = 0; r < PQntuples(res[0]); r++) {
		kstr id = pgtext_str(res[0], r, 0);
		for (int i = 0; i < c->nmissing; i++)
			if (kstr_eqk(c->missing[i]->group_id, id))
				c->missing[i]->group_state = kstr_c(group_state_name(GROUP_EMPTY));
	}
	request_complete(c->req);
}

/* ---- ListGroups ---- */

void handle_list_groups(request *req)
{
	list_groups_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	params p = {0};

	req->resp = resp;
	params_str(&p, req->arena, KSTR_NULL);
	db_stmt st = params_stmt(Q_GROUPS_WITH_OFFSETS, &p, 0);
	db_submit(req->db, &st, 1, lg_done, req);
}

/* KIP-518: states compare case-insensitively; an empty filter takes all. */
static bool lg_state_wanted(const list_groups_req *b, int16_t ver, group_state s)
{
	const kstr *states = b->states_filter.items;
	const char *name = group_state_name(s);

	if (ver < 4 || b->states_filter.count <= 0)
		return true;
	for (int32_t i = 0; i < b->states_filter.count; i++)
		if ((size_t)states[i].len == strlen(name) &&
		    strncasecmp(states[i].ptr, name, strlen(name)) == 0)
			return true;
	return false;
}

/* KIP-848 group types: every group here is "classic". */
static bool lg_type_wanted(const list_groups_req *b, int16_t ver)
{
	const kstr *types = b->types_filter.items;

	if (ver < 5 || b->types_filter.count <= 0)
		return true;
	for (int32_t i = 0; i < b->types_filter.count; i++)
		if (types[i].len == 7 && strncasecmp(types[i].ptr, "classic", 7) == 0)
			return true;
	return false;
}

static void lg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	request *req = arg;
	const list_groups_req *b = req->body;
	list_groups_resp *resp = req->resp;
	coord_group_info *mem;
	int nmem = coord_list(req->arena, &mem);
	int nrows = err ? 0 : PQntuples(res[0]);
	list_groups_resp_group *out =
		ARENA_NEW_ARRAY(req->arena, list_groups_resp_group, nmem + nrows);
	int nout = 0;
	(void)n;

	if (err)
		resp->error_code = db_group_error("list groups", err, sqlstate, retriable);
	bool types_ok = lg_type_wanted(b, req->api_version);
	for (int i = 0; i < nmem && types_ok; i++) {
		if (!lg_state_wanted(b, req->api_version, mem[i].state))
			continue;
		out[nout].group_id = mem[i].group_id;
		out[nout].protocol_type = mem[i].protocol_type;
		out[nout].group_state = kstr_c(group_state_name(mem[i].state));
		out[nout].group_type = KSTR_LIT("classic");
		nout++;
	}
	/* Groups known only from their offsets are Empty. */
	for (int r = 0; r < nrows && types_ok; r++) {
		kstr id = pgtext_str(res[0], r, 0);
		bool in_memory = false;
		for (int i = 0; i < nmem && !in_memory; i++)
			in_memory = kstr_eqk(mem[i].group_id, id);
		if (in_memory || !lg_state_wanted(b, req->api_version, GROUP_EMPTY))
			continue;
		out[nout].group_id = arena_kstrdup(req->arena, id);
		out[nout].protocol_type = KSTR_LIT("");
		out[nout].group_state = kstr_c(group_state_name(GROUP_EMPTY));
		out[nout].group_type = KSTR_LIT("classic");
		nout++;
	}
	resp->groups = karray_of(out, nout);
	request_complete(req);
}

/* ---- DeleteGroups ---- */

void handle_delete_groups(request *req)
{
	const delete_groups_req *b = req->body;
	delete_groups_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	del_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int32_t n = b->groups_names.count > 0 ? b->groups_names.count : 0;
	const kstr *names = b->groups_names.items;
	delete_groups_resp_result *out = ARENA_NEW_ARRAY(req->arena, delete_groups_resp_result, n);
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, n);
	int nout = 0;

	c->req = req;
	c->results = ARENA_NEW_ARRAY(req->arena, delete_groups_resp_result *, n);
	c->known = ARENA_NEW_ARRAY(req->arena, bool, n);
	req->resp = resp;
	for (int32_t i = 0; i < n; i++) {
		bool dup = false;
		for (int k = 0; k < nout && !dup; k++)
			dup = kstr_eqk(out[k].group_id, names[i]);
		if (dup)
			continue; /* one result per group, as Kafka's map */
		delete_groups_resp_result *r = &out[nout++];
		bool known;
		r->group_id = names[i];
		r->error_code = coord_delete(names[i], &known);
		if (r->error_code)
			continue;
		if (!utf8_valid(names[i])) {
			r->error_code = known ? KERR_NONE : KERR_GROUP_ID_NOT_FOUND;
			continue;
		}
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, names[i]);
		c->results[c->n] = r;
		c->known[c->n] = known;
		stmts[c->n++] = params_stmt(Q_GROUP_DELETE, p, 0);
	}
	resp->results = karray_of(out, nout);
	if (c->n == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, c->n, del_done, c);
}

static void del_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	del_ctx *c = arg;
	(void)n;

	int16_t e = err ? db_group_error("delete groups", err, sqlstate, retriable) : KERR_NONE;
	for (int i = 0; i < c->n; i++) {
		if (e) {
			c->results[i]->error_code = e;
			continue;
		}
		int64_t deleted = pgtext_i64(res[i], 0, 0, 0);
		c->results[i]->error_code =
			c->known[i] || deleted > 0 ? KERR_NONE : KERR_GROUP_ID_NOT_FOUND;
		if (deleted > 0)
			log_info("group %.*s deleted with %lld committed offsets",
				 c->results[i]->group_id.len, c->results[i]->group_id.ptr,
				 (long long)deleted);
	}
	request_complete(c->req);
}

/* ---- OffsetDelete ---- */

void handle_offset_delete(request *req)
{
	const offset_delete_req *b = req->body;
	offset_delete_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	od_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const offset_delete_req_topic *topics = b->topics.items;
	int32_t ntopics = b->topics.count > 0 ? b->topics.count : 0;
	int total = 0;

	c->req = req;
	req->resp = resp;
	resp->topics = karray_of(NULL, 0);
	if (b->group_id.len <= 0) {
		resp->error_code = KERR_INVALID_GROUP_ID;
		request_complete(req);
		return;
	}
	coord_offsets_use use = coord_offsets_in_use(b->group_id, &c->known);
	if (use == COORD_OFFSETS_NON_EMPTY || !utf8_valid(b->group_id)) {
		resp->error_code = use == COORD_OFFSETS_NON_EMPTY ? KERR_NON_EMPTY_GROUP
								  : KERR_GROUP_ID_NOT_FOUND;
		request_complete(req);
		return;
	}
	for (int32_t t = 0; t < ntopics; t++)
		total += topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
	c->parts = ARENA_NEW_ARRAY(req->arena, tp_ref, total);
	offset_delete_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, offset_delete_resp_topic, ntopics);
	resp->topics = karray_of(rt, ntopics);
	for (int32_t t = 0; t < ntopics; t++) {
		const offset_delete_req_partition *in = topics[t].partitions.items;
		int32_t np = topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
		offset_delete_resp_partition *rp =
			ARENA_NEW_ARRAY(req->arena, offset_delete_resp_partition, np);
		bool subscribed = use == COORD_OFFSETS_CONSUMER &&
				  coord_subscribed(b->group_id, topics[t].name);
		rt[t].name = topics[t].name;
		rt[t].partitions = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = in[p].partition_index;
			if (!topic_name_valid(topics[t].name) || in[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (subscribed) {
				rp[p].error_code = KERR_GROUP_SUBSCRIBED_TO_TOPIC;
				continue;
			}
			tp_ref *ref = &c->parts[c->nparts++];
			ref->topic = topics[t].name;
			ref->partition = in[p].partition_index;
			ref->error_code = &rp[p].error_code;
		}
	}
	params *p1 = arena_alloc(req->arena, sizeof(*p1));
	params_str(p1, req->arena, b->group_id);
	db_stmt stmts[2] = {params_stmt(Q_GROUP_HAS_OFFSETS, p1, 0)};
	pgarray tnames, tparts;
	tp_arrays(c->parts, c->nparts, &tnames, &tparts);
	params *p2 = arena_alloc(req->arena, sizeof(*p2));
	params_str(p2, req->arena, b->group_id);
	params_bin(p2, tnames.w.buf, (int)tnames.w.len);
	params_bin(p2, tparts.w.buf, (int)tparts.w.len);
	stmts[1] = params_stmt(Q_OFFSET_DELETE, p2, 0);
	db_submit(req->db, stmts, c->nparts > 0 ? 2 : 1, od_done, c);
	pgarray_free(&tnames);
	pgarray_free(&tparts);
}

static void od_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	od_ctx *c = arg;
	offset_delete_resp *resp = c->req->resp;

	if (err) {
		resp->error_code = db_group_error("offset delete", err, sqlstate, retriable);
		resp->topics = karray_of(NULL, 0);
		request_complete(c->req);
		return;
	}
	bool has_offsets = strcmp(PQgetvalue(res[0], 0, 0), "t") == 0;
	if (!c->known && !has_offsets) {
		resp->error_code = KERR_GROUP_ID_NOT_FOUND;
		resp->topics = karray_of(NULL, 0);
		request_complete(c->req);
		return;
	}
	for (int i = 0; i < c->nparts && n > 1 && i < PQntuples(res[1]); i++)
		*c->parts[i].error_code = strcmp(PQgetvalue(res[1], i, 0), "t") == 0
						  ? KERR_NONE
						  : KERR_UNKNOWN_TOPIC_OR_PARTITION;
	request_complete(c->req);
}
