/*
 * Consumer group membership: FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, DescribeGroups, ListGroups and DeleteGroups.
 *
 * Membership is the coordinator's (coordinator.c, in memory, driven through
 * group_coord.c); committed offsets are rows of kafka.consumer_offsets
 * (h_committed_offsets.c), consulted here to tell an Empty group from a Dead
 * one and deleted with the group. Every broker answers FindCoordinator with
 * itself (see docs/GROUPS.md for what that means with several brokers).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "config.h"
#include "consumer_groups.h"
#include "coordinator.h"
#include "group_coord.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "validate.h"

/* FindCoordinator key types. */
#define KEY_TYPE_GROUP 0
#define KEY_TYPE_TRANSACTION 1

typedef struct dg_ctx {
	request *req;
	describe_groups_resp_group **missing; /* not in memory: Empty or Dead? */
	int nmissing;
} dg_ctx;

typedef struct del_ctx {
	request *req;
	db_stmt *stmts;   /* one per group whose offsets go */
	bool cg_deleted;  /* a consumer group was deleted: write it first */
	delete_groups_resp_result **results; /* one statement each */
	bool *known;
	int n;
} del_ctx;

static void dg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void lg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static kstr java_trim(kstr s);
static bool lg_state_wanted(const list_groups_req *b, int16_t ver, const char *name);
static bool lg_type_wanted(const list_groups_req *b, int16_t ver, const char *type);
static void del_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static void jg_refuse(request *req, int16_t err);
static void jg_prepared(void *arg, int16_t err);
static void dg_prepared(void *arg, int16_t err);
static void lg_prepared(void *arg, int16_t err);
static void del_prepared(void *arg, int16_t err);
static void del_stored(void *arg, int16_t err);

/* ---- FindCoordinator ---- */

/* The coordinator of key and its endpoint on the listener this client came
 * in on; false if it has none there (COORDINATOR_NOT_AVAILABLE). */
static bool coordinator_endpoint(const request *req, kstr key, int32_t *node, kstr *host,
				 int32_t *port)
{
	int32_t owner = cluster_coordinator_for(key);
	const cluster_broker *b;
	const char *h;
	int p;

	if (owner == g_config.node_id) {
		*node = owner;
		*host = kstr_c(req->listener ? req->listener->adv_host : g_config.advertised_host);
		*port = req->listener ? req->listener->adv_port : g_config.advertised_port;
		return true;
	}
	b = cluster_broker_by_id(owner);
	if (!b || !cluster_broker_endpoint(b, req->listener, &h, &p))
		return false;
	*node = owner;
	*host = kstr_c(h);
	*port = p;
	return true;
}

/* KafkaApis: DESCRIBE on the group or the transactional id. */
static int16_t fc_authorized(const request *req, int8_t key_type, kstr key)
{
	if (key_type == KEY_TYPE_GROUP)
		return authz_group(req, ACL_OP_DESCRIBE, key) ? KERR_NONE
							      : KERR_GROUP_AUTHORIZATION_FAILED;
	return authz_txn(req, ACL_OP_DESCRIBE, key) ? KERR_NONE
						    : KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

void handle_find_coordinator(request *req)
{
	const find_coordinator_req *b = req->body;
	find_coordinator_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	/* Groups and transactional ids are placed alike (cluster.h). */
	bool ok = b->key_type == KEY_TYPE_GROUP || b->key_type == KEY_TYPE_TRANSACTION;
	kstr why = kstr_c("unknown coordinator key type");
	int32_t node = -1, port = -1;
	kstr host = KSTR_LIT("");

	req->resp = resp;
	if (req->api_version < 4) {
		int16_t err = ok ? fc_authorized(req, b->key_type, b->key) : KERR_INVALID_REQUEST;
		if (!err && !coordinator_endpoint(req, b->key, &node, &host, &port))
			err = KERR_COORDINATOR_NOT_AVAILABLE;
		resp->error_code = err;
		resp->error_message = ok ? KSTR_NULL : why;
		resp->node_id = err ? -1 : node;
		resp->host = err ? KSTR_LIT("") : host;
		resp->port = err ? -1 : port;
		request_complete(req);
		return;
	}
	int32_t n = b->coordinator_keys.count > 0 ? b->coordinator_keys.count : 0;
	const kstr *keys = b->coordinator_keys.items;
	find_coordinator_resp_coordinator *out =
		ARENA_NEW_ARRAY(req->arena, find_coordinator_resp_coordinator, n);
	for (int32_t i = 0; i < n; i++) {
		int16_t err = ok ? fc_authorized(req, b->key_type, keys[i]) : KERR_INVALID_REQUEST;
		node = -1;
		port = -1;
		host = KSTR_LIT("");
		if (!err && !coordinator_endpoint(req, keys[i], &node, &host, &port))
			err = KERR_COORDINATOR_NOT_AVAILABLE;
		out[i].key = keys[i];
		out[i].error_code = err;
		out[i].error_message = ok ? KSTR_NULL : why;
		out[i].node_id = err ? -1 : node;
		out[i].host = err ? KSTR_LIT("") : host;
		out[i].port = err ? -1 : port;
	}
	resp->coordinators = karray_of(out, n);
	request_complete(req);
}

/* ---- JoinGroup and SyncGroup: held until the coordinator answers ---- */

static void jg_refuse(request *req, int16_t err)
{
	const join_group_req *b = req->body;
	join_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code = err;
	resp->generation_id = -1;
	resp->protocol_type = KSTR_NULL;
	resp->protocol_name = req->api_version >= 7 ? KSTR_NULL : KSTR_LIT("");
	resp->leader = KSTR_LIT("");
	/* Kafka answers an inconsistent protocol with no member id. */
	resp->member_id = err == KERR_INCONSISTENT_GROUP_PROTOCOL ? KSTR_LIT("") : b->member_id;
	resp->members = karray_of(NULL, 0);
	req->resp = resp;
	request_complete(req);
}

void handle_join_group(request *req)
{
	const join_group_req *b = req->body;

	if (!authz_group(req, ACL_OP_READ, b->group_id)) {
		join_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));
		resp->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
		resp->generation_id = -1;
		resp->protocol_type = KSTR_NULL;
		resp->protocol_name = KSTR_NULL;
		resp->leader = KSTR_LIT("");
		resp->member_id = KSTR_LIT("");
		resp->members = karray_of(NULL, 0);
		req->resp = resp;
		request_complete(req);
		return;
	}
	if (!cluster_is_coordinator(b->group_id)) {
		jg_refuse(req, KERR_NOT_COORDINATOR);
		return;
	}
	/* A consumer group (KIP-848) of that id is loaded first. */
	cgroups_prepare(req, &b->group_id, 1, false, jg_prepared, req);
}

/*
 * GroupMetadataManager.classicGroupJoin: an empty consumer group of that
 * id is deleted and the classic group created; a consumer group with
 * members would take the member as a classic member of it, which
 * pg_kafka does not do (docs/GROUPS.md): INCONSISTENT_GROUP_PROTOCOL, as
 * Kafka answers a join whose protocols the group cannot take.
 */
static void jg_prepared(void *arg, int16_t err)
{
	request *req = arg;
	const join_group_req *b = req->body;
	const join_group_req_protocol *in = b->protocols.items;
	int n = b->protocols.count > 0 ? b->protocols.count : 0;
	coord_protocol *protocols = ARENA_NEW_ARRAY(req->arena, coord_protocol, n);

	if (err) {
		jg_refuse(req, err);
		return;
	}
	if (cg_exists(cgroups(), b->group_id)) {
		if (!cg_is_empty(cgroups(), b->group_id)) {
			jg_refuse(req, KERR_INCONSISTENT_GROUP_PROTOCOL);
			return;
		}
		(void)cg_delete(cgroups(), b->group_id);
		cgroups_persist(NULL, NULL);
		log_info("empty consumer group %.*s becomes a classic group", b->group_id.len,
			 b->group_id.ptr);
	}
	for (int i = 0; i < n; i++) {
		protocols[i].name = in[i].name;
		protocols[i].metadata = in[i].metadata;
	}
	coord_join_req jr = {
		.group_id = b->group_id,
		.member_id = b->member_id,
		.group_instance_id = b->group_instance_id,
		.client_id = req->client_id,
		.client_host = req->client_host,
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
	void *h = group_coord_hold(req);
	coord_join(&jr, h); /* may answer (and free req) before it returns */
	group_coord_sweep_arm();
}

void handle_sync_group(request *req)
{
	const sync_group_req *b = req->body;

	const sync_group_req_assignment *in = b->assignments.items;
	int n = b->assignments.count > 0 ? b->assignments.count : 0;
	coord_assignment *assignments = ARENA_NEW_ARRAY(req->arena, coord_assignment, n);

	bool denied = !authz_group(req, ACL_OP_READ, b->group_id);
	if (denied ||
	    (req->api_version >= 5 && (b->protocol_type.len < 0 || b->protocol_name.len < 0))) {
		/* v5+ must name both (KafkaApis refuses before the coordinator,
		 * after authorization). */
		sync_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));
		resp->error_code =
			denied ? KERR_GROUP_AUTHORIZATION_FAILED : KERR_INCONSISTENT_GROUP_PROTOCOL;
		resp->protocol_type = KSTR_NULL;
		resp->protocol_name = KSTR_NULL;
		resp->assignment = KSTR_LIT("");
		req->resp = resp;
		request_complete(req);
		return;
	}
	if (!cluster_is_coordinator(b->group_id)) {
		sync_group_resp *resp = arena_alloc(req->arena, sizeof(*resp));
		resp->error_code = KERR_NOT_COORDINATOR;
		resp->protocol_type = KSTR_NULL;
		resp->protocol_name = KSTR_NULL;
		resp->assignment = KSTR_LIT("");
		req->resp = resp;
		request_complete(req);
		return;
	}
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
	void *h = group_coord_hold(req);
	coord_sync(&sr, h);
	group_coord_sweep_arm();
}

/* ---- Heartbeat, LeaveGroup ---- */

void handle_heartbeat(request *req)
{
	const heartbeat_req *b = req->body;
	heartbeat_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code = !authz_group(req, ACL_OP_READ, b->group_id)
				   ? KERR_GROUP_AUTHORIZATION_FAILED
			   : !cluster_is_coordinator(b->group_id)
				   ? KERR_NOT_COORDINATOR
				   : coord_heartbeat(b->group_id, b->member_id,
						     b->group_instance_id, b->generation_id);
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
	resp->error_code = !authz_group(req, ACL_OP_READ, b->group_id)
				   ? KERR_GROUP_AUTHORIZATION_FAILED
			   : !cluster_is_coordinator(b->group_id)
				   ? KERR_NOT_COORDINATOR
				   : coord_leave(b->group_id, members, n);
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

/* ---- DescribeGroups ---- */

void handle_describe_groups(request *req)
{
	const describe_groups_req *b = req->body;
	int32_t n = b->groups.count > 0 ? b->groups.count : 0;

	/* Consumer groups (KIP-848) of those ids are loaded first. */
	cgroups_prepare(req, b->groups.items, n, false, dg_prepared, req);
}

static void dg_prepared(void *arg, int16_t load_error)
{
	request *req = arg;
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
		out[i].authorized_operations =
			ops ? authz_operations(req, ACL_RES_GROUP, names[i]) : INT32_MIN;
		out[i].protocol_type = KSTR_LIT("");
		out[i].protocol_data = KSTR_LIT("");
		out[i].members = karray_of(NULL, 0);
		if (!authz_group(req, ACL_OP_DESCRIBE, names[i])) {
			out[i].error_code = KERR_GROUP_AUTHORIZATION_FAILED;
			out[i].group_state = KSTR_LIT("");
			out[i].authorized_operations = INT32_MIN;
			continue;
		}
		if (load_error && cluster_is_coordinator(names[i])) {
			out[i].error_code = load_error;
			out[i].group_state = KSTR_LIT("");
			continue;
		}
		/* GroupMetadataManager.describeGroups: a consumer group is not
		 * a classic group, so DescribeGroups (v0-5) says Dead. */
		if (cluster_is_coordinator(names[i]) && cg_exists(cgroups(), names[i])) {
			out[i].group_state = kstr_c(group_state_name(GROUP_DEAD));
			continue;
		}
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
		pgarray_add(&groups, pgtext_valid(c->missing[i]->group_id) ? c->missing[i]->group_id
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
		int16_t e = coordinator_db_error("describe groups", err, sqlstate, retriable);
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

typedef struct lg_ctx {
	request *req;
	PGresult *offsets; /* groups known from their offsets */
	kstr *cg_ids;      /* every consumer group (KIP-848) in PostgreSQL */
	int ncg_ids;
} lg_ctx;

void handle_list_groups(request *req)
{
	list_groups_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	lg_ctx *c = arena_alloc(req->arena, sizeof(*c));
	params p = {0};
	params *none = arena_alloc(req->arena, sizeof(*none));
	db_stmt st[2];

	c->req = req;
	req->resp = resp;
	params_str(&p, req->arena, KSTR_NULL);
	st[0] = params_stmt(Q_GROUPS_WITH_OFFSETS, &p, 0);
	st[1] = params_stmt(Q_CG_IDS, none, 0);
	db_submit(req->db, st, 2, lg_done, c);
}

/* Java's String.trim(): without leading and trailing bytes <= ' '. */
static kstr java_trim(kstr s)
{
	while (s.len > 0 && (uint8_t)s.ptr[0] <= ' ') {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && (uint8_t)s.ptr[s.len - 1] <= ' ')
		s.len--;
	return s;
}

/* KIP-518: states compare case-insensitively and, as Kafka trims each
 * filter, without surrounding white space; an empty filter takes all. */
static bool lg_state_wanted(const list_groups_req *b, int16_t ver, const char *name)
{
	const kstr *states = b->states_filter.items;
	size_t len = strlen(name);

	if (ver < 4 || b->states_filter.count <= 0)
		return true;
	for (int32_t i = 0; i < b->states_filter.count; i++) {
		kstr f = java_trim(states[i]);
		if ((size_t)f.len == len && strncasecmp(f.ptr, name, len) == 0)
			return true;
	}
	return false;
}

/* KIP-848 group types, "classic" or "consumer", any case (Kafka's
 * Group.GroupType.parse); anything else matches no group. */
static bool lg_type_wanted(const list_groups_req *b, int16_t ver, const char *type)
{
	const kstr *types = b->types_filter.items;
	size_t len = strlen(type);

	if (ver < 5 || b->types_filter.count <= 0)
		return true;
	for (int32_t i = 0; i < b->types_filter.count; i++)
		if ((size_t)types[i].len == len && strncasecmp(types[i].ptr, type, len) == 0)
			return true;
	return false;
}

/* KafkaApis: DESCRIBE on the cluster lists every group, else those the
 * principal may DESCRIBE. */
static bool lg_may_describe(const request *req, kstr group)
{
	return authz_cluster(req, ACL_OP_DESCRIBE) || authz_group(req, ACL_OP_DESCRIBE, group);
}

/* The consumer groups (KIP-848) this broker coordinates are loaded before
 * they are listed. */
static void lg_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	lg_ctx *c = arg;
	request *req = c->req;
	list_groups_resp *resp = req->resp;
	(void)n;

	if (err) {
		resp->error_code = coordinator_db_error("list groups", err, sqlstate, retriable);
		lg_prepared(c, KERR_NONE);
		return;
	}
	c->offsets = res[0];
	res[0] = NULL;
	int nids = PQntuples(res[1]);
	kstr *ids = ARENA_NEW_ARRAY(req->arena, kstr, nids > 0 ? nids : 1);
	for (int r = 0; r < nids; r++)
		ids[r] = arena_kstrdup(req->arena, pgtext_str(res[1], r, 0));
	c->cg_ids = ids;
	c->ncg_ids = nids;
	cgroups_prepare(req, ids, nids, false, lg_prepared, c);
}

static void lg_prepared(void *arg, int16_t load_error)
{
	lg_ctx *c = arg;
	request *req = c->req;
	const list_groups_req *b = req->body;
	list_groups_resp *resp = req->resp;
	coord_group_info *mem;
	int nmem = coord_list(req->arena, &mem);
	cg_group_brief *cgs;
	int ncg = cg_list(cgroups(), req->arena, &cgs);
	int nrows = c->offsets ? PQntuples(c->offsets) : 0;
	list_groups_resp_group *out =
		ARENA_NEW_ARRAY(req->arena, list_groups_resp_group, nmem + ncg + nrows + 1);
	int nout = 0;

	if (load_error && !resp->error_code)
		resp->error_code = load_error;
	bool classic_ok = lg_type_wanted(b, req->api_version, "classic");
	bool consumer_ok = lg_type_wanted(b, req->api_version, "consumer");
	for (int i = 0; i < nmem && classic_ok; i++) {
		if (!lg_state_wanted(b, req->api_version, group_state_name(mem[i].state)) ||
		    !lg_may_describe(req, mem[i].group_id))
			continue;
		out[nout].group_id = mem[i].group_id;
		out[nout].protocol_type = mem[i].protocol_type;
		out[nout].group_state = kstr_c(group_state_name(mem[i].state));
		out[nout].group_type = KSTR_LIT("classic");
		nout++;
	}
	/* Consumer groups this broker coordinates, with their own states. */
	for (int i = 0; i < ncg && consumer_ok; i++) {
		const char *state = cg_group_state_name(cgs[i].state);
		if (!cluster_is_coordinator(cgs[i].group_id) ||
		    !lg_state_wanted(b, req->api_version, state) ||
		    !lg_may_describe(req, cgs[i].group_id))
			continue;
		out[nout].group_id = cgs[i].group_id;
		out[nout].protocol_type = KSTR_LIT("consumer");
		out[nout].group_state = kstr_c(state);
		out[nout].group_type = KSTR_LIT("consumer");
		nout++;
	}
	/* Groups known only from their offsets are Empty classic groups (a
	 * consumer group's offsets are its own, wherever it is coordinated). */
	for (int r = 0; r < nrows && classic_ok; r++) {
		kstr id = pgtext_str(c->offsets, r, 0);
		bool listed = false;
		for (int i = 0; i < nmem && !listed; i++)
			listed = kstr_eqk(mem[i].group_id, id);
		for (int i = 0; i < ncg && !listed; i++)
			listed = kstr_eqk(cgs[i].group_id, id);
		for (int i = 0; i < c->ncg_ids && !listed; i++)
			listed = kstr_eqk(c->cg_ids[i], id);
		if (listed ||
		    !lg_state_wanted(b, req->api_version, group_state_name(GROUP_EMPTY)) ||
		    !lg_may_describe(req, id))
			continue;
		out[nout].group_id = arena_kstrdup(req->arena, id);
		out[nout].protocol_type = KSTR_LIT("");
		out[nout].group_state = kstr_c(group_state_name(GROUP_EMPTY));
		out[nout].group_type = KSTR_LIT("classic");
		nout++;
	}
	if (c->offsets)
		PQclear(c->offsets);
	c->offsets = NULL;
	resp->groups = karray_of(out, nout);
	request_complete(req);
}

/* ---- DeleteGroups ---- */

void handle_delete_groups(request *req)
{
	const delete_groups_req *b = req->body;
	int32_t n = b->groups_names.count > 0 ? b->groups_names.count : 0;

	/* Consumer groups (KIP-848) of those ids are loaded first. */
	cgroups_prepare(req, b->groups_names.items, n, false, del_prepared, req);
}

static void del_prepared(void *arg, int16_t load_error)
{
	request *req = arg;
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
		if (!authz_group(req, ACL_OP_DELETE, names[i])) {
			r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
			continue;
		}
		if (load_error && cluster_is_coordinator(names[i])) {
			r->error_code = load_error;
			continue;
		}
		/* An empty consumer group goes with its offsets; one with
		 * members is NON_EMPTY_GROUP, as for classic groups. */
		if (cluster_is_coordinator(names[i]) && cg_exists(cgroups(), names[i])) {
			r->error_code = cg_delete(cgroups(), names[i]);
			known = true;
			c->cg_deleted = c->cg_deleted || r->error_code == KERR_NONE;
		} else {
			r->error_code = coord_delete(names[i], &known);
		}
		if (r->error_code)
			continue;
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, names[i]);
		c->results[c->n] = r;
		c->known[c->n] = known;
		stmts[c->n++] = params_stmt(Q_GROUP_DELETE, p, 0);
	}
	resp->results = karray_of(out, nout);
	c->stmts = stmts;
	/* The consumer groups' rows go first; then the offsets. */
	if (c->cg_deleted) {
		cgroups_persist(del_stored, c);
		return;
	}
	del_stored(c, KERR_NONE);
}

static void del_stored(void *arg, int16_t err)
{
	del_ctx *c = arg;

	if (err) {
		for (int i = 0; i < c->n; i++)
			c->results[i]->error_code = err;
		request_complete(c->req);
		return;
	}
	if (c->n == 0) {
		request_complete(c->req);
		return;
	}
	db_submit(c->req->db, c->stmts, c->n, del_done, c);
}

static void del_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	del_ctx *c = arg;
	(void)n;

	int16_t e = err ? coordinator_db_error("delete groups", err, sqlstate, retriable) : KERR_NONE;
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
