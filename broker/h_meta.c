/*
 * ApiVersions and Metadata: what the broker speaks, who the brokers are, and
 * which topics and partitions exist (creating unknown topics on request).
 *
 * The brokers, the controller and the partition leaders come from the
 * cluster's registry (cluster.h); a standalone broker reports itself as the
 * only broker and the leader of every partition.
 */
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "config.h"
#include "feature_levels.h"
#include "handlers.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "tp_dup.h"
#include "uuid.h"
#include "validate.h"

typedef struct md_ctx {
	request *req;
	bool by_id;        /* v12 with a topic id: topics are looked up by id only */
	bool created;      /* auto-creation ran; this is the second look */
	int pending;       /* auto-create jobs still running */
} md_ctx;

/* KafkaApis: a topic the principal may not DESCRIBE is left out of an
 * all-topics answer and refused when named; one it may not CREATE (on the
 * cluster or the topic) is not auto-created and refused. */
static bool md_may_describe(const request *req, kstr name)
{
	return authz_topic(req, ACL_OP_DESCRIBE, name);
}

static bool md_may_create(const request *req, kstr name)
{
	return authz_cluster(req, ACL_OP_CREATE) || authz_topic(req, ACL_OP_CREATE, name);
}

static void md_query(md_ctx *c);
static void md_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void md_created(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void md_respond(md_ctx *c, const PGresult *rows, int16_t db_error);
static bool md_all_topics(const request *req);
static void md_fail_request(request *req, int16_t error_code);

/* Kafka's pattern for client software names and versions (KIP-511):
 * letters, digits, '-' and '.', starting and ending with a letter or digit. */
static bool software_name_valid(kstr s)
{
	if (s.len <= 0)
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		char ch = s.ptr[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && ((ch != '-' && ch != '.') || i == 0 || i == s.len - 1))
			return false;
	}
	return true;
}

void handle_api_versions(request *req)
{
	const api_versions_req *body = req->body;
	api_versions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	api_versions_resp_key *keys = ARENA_NEW_ARRAY(req->arena, api_versions_resp_key, api_count);

	/* ApiVersionsRequest.isValid: Kafka answers INVALID_REQUEST and no
	 * keys. */
	if (req->api_version >= 3 && (!software_name_valid(body->client_software_name) ||
				      !software_name_valid(body->client_software_version))) {
		resp->error_code = KERR_INVALID_REQUEST;
		resp->api_keys = karray_of(keys, 0);
		resp->finalized_features_epoch = -1;
		req->resp = resp;
		request_complete(req);
		return;
	}

	for (int i = 0; i < api_count; i++) {
		keys[i].api_key = api_table[i].key;
		keys[i].min_version = api_table[i].min_ver;
		keys[i].max_version = api_table[i].max_ver;
	}
	resp->error_code = KERR_NONE;
	resp->api_keys = karray_of(keys, api_count);
	features_fill(req->arena, req->api_version, resp);
	req->resp = resp;
	request_complete(req);
}

/* Null topics (v1+), or an empty list in v0, mean every topic. */
static bool md_all_topics(const request *req)
{
	const metadata_req *body = req->body;
	return body->topics.count < 0 || (req->api_version == 0 && body->topics.count == 0);
}

void handle_metadata(request *req)
{
	const metadata_req *body = req->body;
	md_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	if (!md_all_topics(req) && body->topics.count == 0) {
		md_respond(c, NULL, KERR_NONE);
		return;
	}
	/* KafkaApis: before v12 every topic is named and none has an id,
	 * else the whole request fails. From v12, once any topic has an id,
	 * topics are looked up by their ids and names are not read (a topic
	 * named without an id is not answered). */
	const metadata_req_topic *t = body->topics.items;
	for (int32_t i = 0; i < body->topics.count; i++) {
		bool has_id = !uuid_is_zero(&t[i].topic_id);
		if (req->api_version < 12 && (t[i].name.len < 0 || has_id)) {
			md_fail_request(req, KERR_INVALID_REQUEST);
			return;
		}
		if (has_id)
			c->by_id = true;
	}
	md_query(c);
}

/* MetadataRequest.getErrorResponse: each requested topic with the error,
 * a null name as "", and nothing else (no brokers, no cluster id). */
static void md_fail_request(request *req, int16_t error_code)
{
	const metadata_req *body = req->body;
	metadata_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const metadata_req_topic *t = body->topics.items;
	int32_t n = body->topics.count > 0 ? body->topics.count : 0;
	metadata_resp_topic *topics = ARENA_NEW_ARRAY(req->arena, metadata_resp_topic, n + 1);

	resp->brokers = karray_of(NULL, 0);
	resp->cluster_id = KSTR_NULL;
	resp->controller_id = -1;
	resp->cluster_authorized_operations = INT32_MIN;
	for (int32_t i = 0; i < n; i++) {
		topics[i].error_code = error_code;
		topics[i].name = t[i].name.len < 0 ? kstr_c("") : t[i].name;
		topics[i].topic_id = t[i].topic_id;
		topics[i].is_internal = false;
		topics[i].partitions = karray_of(NULL, 0);
		topics[i].topic_authorized_operations = INT32_MIN;
	}
	resp->topics = karray_of(topics, n);
	req->resp = resp;
	request_complete(req);
}

static void md_query(md_ctx *c)
{
	request *req = c->req;
	const metadata_req *body = req->body;

	if (md_all_topics(req) || c->by_id) {
		db_stmt st = {Q_TOPICS_ALL, 0, NULL, NULL, NULL, 0};
		db_submit(req->db, &st, 1, md_rows, c);
		return;
	}
	pgarray names;
	pgarray_begin(&names, OID_TEXT, 256);
	const metadata_req_topic *t = body->topics.items;
	for (int32_t i = 0; i < body->topics.count; i++)
		pgarray_add(&names, t[i].name);
	pgarray_end(&names);
	params p = {0};
	params_bin(&p, names.w.buf, (int)names.w.len);
	db_stmt st = params_stmt(Q_TOPICS_BY_NAME, &p, 0);
	db_submit(req->db, &st, 1, md_rows, c);
	pgarray_free(&names);
}

/* Whether topics named and not found are to be created. */
static bool md_auto_create(const request *req, const md_ctx *c)
{
	const metadata_req *body = req->body;
	return g_config.auto_create_topics && !md_all_topics(req) && !c->by_id &&
	       (req->api_version < 4 || body->allow_auto_topic_creation);
}

static bool md_row_has(const PGresult *rows, kstr name)
{
	for (int r = 0; rows && r < PQntuples(rows); r++)
		if (kstr_eqk(pgtext_str(rows, r, 0), name))
			return true;
	return false;
}

static void md_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	md_ctx *c = arg;
	request *req = c->req;
	const metadata_req *body = req->body;
	(void)n;

	if (err) {
		log_warn("metadata: %s", err);
		(void)sqlstate;
		(void)retriable;
		md_respond(c, NULL, KERR_LEADER_NOT_AVAILABLE);
		return;
	}
	bool may_create = !c->created && md_auto_create(req, c);
	if (may_create) {
		const metadata_req_topic *t = body->topics.items;
		for (int32_t i = 0; i < body->topics.count; i++) {
			if (t[i].name.len < 0 || !topic_name_valid(t[i].name) ||
			    md_row_has(res[0], t[i].name) || !md_may_describe(req, t[i].name) ||
			    !md_may_create(req, t[i].name))
				continue;
			params p = {0};
			params_str(&p, req->arena, t[i].name);
			params_int(&p, req->arena, g_config.num_partitions);
			db_stmt st = params_stmt(Q_TOPIC_AUTO_CREATE, &p, 0);
			c->pending++;
			db_submit(req->db, &st, 1, md_created, c);
			log_info("auto-creating topic %.*s with %d partitions", t[i].name.len,
				 t[i].name.ptr, g_config.num_partitions);
		}
		if (c->pending > 0) {
			c->created = true;
			return;
		}
	}
	md_respond(c, res[0], KERR_NONE);
}

static void md_created(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	md_ctx *c = arg;
	(void)res;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	/* A topic created concurrently by another broker shows up as a
	 * unique violation: the second look below finds it either way. */
	if (err)
		log_info("metadata auto-create: %s", err);
	if (--c->pending == 0)
		md_query(c);
}

static void md_fill_topic(request *req, metadata_resp_topic *out, const PGresult *rows, int r)
{
	const metadata_req *body = req->body;
	int32_t nparts = (int32_t)pgtext_i64(rows, r, 2, 0);
	metadata_resp_partition *parts = ARENA_NEW_ARRAY(req->arena, metadata_resp_partition, nparts);
	out->error_code = KERR_NONE;
	out->name = kstr_c(arena_cstr(req->arena, pgtext_str(rows, r, 0)));
	out->is_internal = topic_is_internal(out->name);
	uuid_parse(PQgetvalue(rows, r, 1), &out->topic_id);
	out->topic_authorized_operations = body->include_topic_authorized_operations
						   ? authz_operations(req, ACL_RES_TOPIC, out->name)
						   : INT32_MIN;
	for (int32_t p = 0; p < nparts; p++) {
		int32_t *leader = ARENA_NEW_ARRAY(req->arena, int32_t, 1);
		int32_t epoch = 0;
		parts[p].partition_index = p;
		/* A partition created since leadership was last read: Kafka
		 * answers LEADER_NOT_AVAILABLE until its leader is chosen. */
		if (!cluster_partition_leader(out->name, p, leader, &epoch)) {
			parts[p].error_code = KERR_LEADER_NOT_AVAILABLE;
			parts[p].leader_id = -1;
			parts[p].leader_epoch = -1;
			parts[p].replica_nodes = karray_of(NULL, 0);
			parts[p].isr_nodes = karray_of(NULL, 0);
			parts[p].offline_replicas = karray_of(NULL, 0);
			continue;
		}
		parts[p].leader_id = *leader;
		parts[p].leader_epoch = epoch;
		parts[p].replica_nodes = karray_of(leader, 1);
		parts[p].isr_nodes = karray_of(leader, 1);
		parts[p].offline_replicas = karray_of(NULL, 0);
	}
	out->partitions = karray_of(parts, nparts);
}

static void md_respond(md_ctx *c, const PGresult *rows, int16_t db_error)
{
	request *req = c->req;
	const metadata_req *body = req->body;
	metadata_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const cluster_broker *live;
	int nlive = cluster_live_brokers(&live);
	metadata_resp_broker *b =
		ARENA_NEW_ARRAY(req->arena, metadata_resp_broker, nlive > 0 ? nlive : 1);
	int32_t nb = 0;

	if (nlive == 0) {
		b->node_id = g_config.node_id;
		/* As Kafka: the endpoint of the listener this client came in on. */
		b->host = kstr_c(req->listener ? req->listener->adv_host
					       : g_config.advertised_host);
		b->port = req->listener ? req->listener->adv_port : g_config.advertised_port;
		b->rack = KSTR_NULL;
		nb = 1;
	}
	/* Every live broker with an endpoint on this client's listener. */
	for (int i = 0; i < nlive; i++) {
		const char *host;
		int port;
		if (!cluster_broker_endpoint(&live[i], req->listener, &host, &port))
			continue;
		b[nb].node_id = live[i].node_id;
		b[nb].host = kstr_c(host);
		b[nb].port = port;
		b[nb].rack = kstr_c(live[i].rack);
		nb++;
	}
	resp->brokers = karray_of(b, nb);
	resp->cluster_id = kstr_c(g_config.cluster_id);
	resp->controller_id = cluster_controller_id();
	/* When asked (v8-v10); without an authorizer Kafka grants every
	 * cluster operation. */
	resp->cluster_authorized_operations =
		body->include_cluster_authorized_operations
			? authz_operations(req, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME))
			: INT32_MIN;

	metadata_resp_topic *topics;
	int32_t ntopics = 0;
	if (md_all_topics(req)) {
		int nrows = rows ? PQntuples(rows) : 0;
		topics = ARENA_NEW_ARRAY(req->arena, metadata_resp_topic, nrows);
		for (int r = 0; r < nrows; r++)
			if (md_may_describe(req, pgtext_str(rows, r, 0)))
				md_fill_topic(req, &topics[ntopics++], rows, r);
	} else {
		const metadata_req_topic *t = body->topics.items;
		int32_t n = body->topics.count;
		kstr *keys = ARENA_NEW_ARRAY(req->arena, kstr, n + 1);
		int32_t *kinds = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
		int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
		int32_t *last = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
		/* Kafka answers each topic once, however often it is named. */
		for (int32_t i = 0; i < n; i++) {
			kinds[i] = c->by_id || t[i].name.len < 0;
			keys[i] = !kinds[i] ? t[i].name
					    : kstr_c(uuid_format(req->arena, &t[i].topic_id));
		}
		tp_dup_find(req->arena, keys, kinds, n, first, last);
		topics = ARENA_NEW_ARRAY(req->arena, metadata_resp_topic, n);
		for (int32_t i = 0; i < n; i++) {
			if (first[i] != i || (c->by_id && uuid_is_zero(&t[i].topic_id)))
				continue;
			metadata_resp_topic *out = &topics[ntopics++];
			int found = -1;
			for (int r = 0; rows && r < PQntuples(rows) && found < 0; r++) {
				kuuid id;
				if (!kinds[i] ? kstr_eqk(pgtext_str(rows, r, 0), t[i].name)
					      : (uuid_parse(PQgetvalue(rows, r, 1), &id) &&
						 memcmp(id.b, t[i].topic_id.b, 16) == 0))
					found = r;
			}
			if (found >= 0 && !md_may_describe(req, pgtext_str(rows, found, 0))) {
				/* Kafka does not say whether it exists. */
				out->name = kinds[i] ? KSTR_NULL : t[i].name;
				out->is_internal = false;
				out->topic_id = t[i].topic_id;
				out->partitions = karray_of(NULL, 0);
				out->topic_authorized_operations = INT32_MIN;
				out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (found >= 0) {
				md_fill_topic(req, out, rows, found);
				continue;
			}
			out->name = kinds[i] ? KSTR_NULL : t[i].name;
			out->is_internal = !kinds[i] && topic_is_internal(t[i].name);
			out->topic_id = t[i].topic_id;
			out->partitions = karray_of(NULL, 0);
			out->topic_authorized_operations = INT32_MIN;
			if (!kinds[i] &&
			    (!md_may_describe(req, t[i].name) ||
			     (md_auto_create(req, c) && !md_may_create(req, t[i].name))))
				out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			else if (db_error)
				out->error_code = db_error;
			else if (kinds[i])
				out->error_code = KERR_UNKNOWN_TOPIC_ID;
			else if (!topic_name_valid(t[i].name))
				out->error_code = KERR_INVALID_TOPIC_EXCEPTION;
			else if (c->created)
				/* Auto-creation was tried and did not make it (a name
				 * that collides once '.' and '_' are equated): Kafka
				 * hands the creation to its controller and answers
				 * LEADER_NOT_AVAILABLE, whatever the controller then
				 * decides; clients retry until their timeout. */
				out->error_code = KERR_LEADER_NOT_AVAILABLE;
			else
				out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	resp->topics = karray_of(topics, ntopics);
	req->resp = resp;
	request_complete(req);
}
