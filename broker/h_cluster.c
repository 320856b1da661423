/*
 * The cluster as a whole: DescribeCluster, DescribeTopicPartitions (the
 * paged topic description of KIP-966), UpdateFeatures and
 * ListClientMetricsResources.
 *
 * As in Metadata (h_meta.c), this broker is the whole cluster it shows:
 * the only broker, the controller, and the leader of every partition, with
 * replication factor 1 and leader epoch 0.
 *
 * With the authorizer on, each needs what KafkaApis (ControllerApis for
 * UpdateFeatures) needs: DESCRIBE on the cluster for DescribeCluster's
 * authorized operations, DESCRIBE on each topic DescribeTopicPartitions
 * shows, ALTER on the cluster for UpdateFeatures and DESCRIBE_CONFIGS on
 * it for ListClientMetricsResources.
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "config.h"
#include "feature_levels.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "listeners.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "uuid.h"
#include "validate.h"

/* ClusterAuthorizationException's message, as Kafka's ApiError carries it. */
#define CLUSTER_REFUSED "Request is not authorized."

/* Kafka's max.request.partition.size.limit default: the most partitions
 * one DescribeTopicPartitions answer holds. */
#define DTP_PARTITION_LIMIT 2000

/* DescribeCluster endpoint types (KIP-919). */
enum { ENDPOINT_BROKER = 1, ENDPOINT_CONTROLLER = 2 };

typedef struct dtp_ctx {
	request *req;
	bool all_topics;
} dtp_ctx;

static void dtp_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static void dtp_fail(request *req, int16_t error_code);
static int32_t cluster_operations(const request *req);
static int kstr_cmp(kstr a, kstr b);
static int kstr_qcmp(const void *a, const void *b);

/* ---- DescribeCluster ---- */

/* AuthHelper.computeDescribeClusterResponse: what the principal may do on
 * the cluster, if it may DESCRIBE it; else nothing. */
static int32_t cluster_operations(const request *req)
{
	if (!authz_cluster(req, ACL_OP_DESCRIBE))
		return 0;
	return authz_operations(req, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME));
}

void handle_describe_cluster(request *req)
{
	const describe_cluster_req *body = req->body;
	describe_cluster_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->endpoint_type = ENDPOINT_BROKER;
	resp->controller_id = -1;
	resp->cluster_id = kstr_c("");
	resp->cluster_authorized_operations = INT32_MIN;
	/* AuthHelper.computeDescribeClusterResponse: an unknown endpoint
	 * type, or one this listener is not (a controller's). */
	if (body->endpoint_type != ENDPOINT_BROKER && body->endpoint_type != ENDPOINT_CONTROLLER) {
		resp->error_code = req->api_version == 0 ? KERR_INVALID_REQUEST
							 : KERR_UNSUPPORTED_ENDPOINT_TYPE;
		resp->error_message = kstr_c(arena_printf(
			req->arena, "Unsupported endpoint type %d", body->endpoint_type));
		request_complete(req);
		return;
	}
	if (body->endpoint_type != ENDPOINT_BROKER) {
		resp->error_code = req->api_version == 0 ? KERR_INVALID_REQUEST
							 : KERR_MISMATCHED_ENDPOINT_TYPE;
		resp->error_message = kstr_c("The request was sent to an endpoint of type BROKER, "
					     "but we wanted an endpoint of type CONTROLLER");
		request_complete(req);
		return;
	}

	/* The live brokers of the cluster (cluster.h), as Metadata lists them;
	 * standalone, this broker alone. A broker holding its lease is never
	 * fenced (v2 lists fenced brokers on request; there are none). */
	const cluster_broker *live;
	int nlive = cluster_live_brokers(&live);
	describe_cluster_resp_broker *b =
		ARENA_NEW_ARRAY(req->arena, describe_cluster_resp_broker, nlive > 0 ? nlive : 1);
	int32_t nb = 0;
	if (nlive == 0) {
		b->broker_id = g_config.node_id;
		/* The endpoint of the listener the client came in on, as Metadata. */
		b->host = kstr_c(req->listener ? req->listener->adv_host
					       : g_config.advertised_host);
		b->port = req->listener ? req->listener->adv_port : g_config.advertised_port;
		b->rack = KSTR_NULL;
		b->is_fenced = false;
		nb = 1;
	}
	for (int i = 0; i < nlive; i++) {
		const char *host;
		int port;
		if (!cluster_broker_endpoint(&live[i], req->listener, &host, &port))
			continue;
		b[nb].broker_id = live[i].node_id;
		b[nb].host = kstr_c(host);
		b[nb].port = port;
		b[nb].rack = kstr_c(live[i].rack);
		b[nb].is_fenced = false;
		nb++;
	}
	resp->error_code = KERR_NONE;
	resp->error_message = KSTR_NULL;
	resp->cluster_id = kstr_c(g_config.cluster_id);
	/* A KRaft broker names a live broker as the controller. */
	resp->controller_id = cluster_controller_id();
	resp->brokers = karray_of(b, nb);
	if (body->include_cluster_authorized_operations)
		resp->cluster_authorized_operations = cluster_operations(req);
	request_complete(req);
}

/* ---- DescribeTopicPartitions ---- */

static int kstr_cmp(kstr a, kstr b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

void handle_describe_topic_partitions(request *req)
{
	const describe_topic_partitions_req *body = req->body;
	const describe_topic_partitions_cursor *cur = body->cursor;
	dtp_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	c->all_topics = body->topics.count <= 0;
	/* DescribeTopicPartitionsRequestHandler: a cursor must name one of
	 * the listed topics and a partition that can exist. */
	if (cur) {
		bool listed = c->all_topics;
		const describe_topic_partitions_req_topic *t = body->topics.items;
		for (int32_t i = 0; !listed && i < body->topics.count; i++)
			listed = kstr_eqk(t[i].name, cur->topic_name);
		if (!listed || cur->partition_index < 0) {
			dtp_fail(req, KERR_INVALID_REQUEST);
			return;
		}
	}
	db_stmt st = {Q_TOPICS_ALL, 0, NULL, NULL, NULL, 0};
	db_submit(req->db, &st, 1, dtp_rows, c);
}

/* DescribeTopicPartitionsRequest.getErrorResponse: every requested topic
 * with the error. */
static void dtp_fail(request *req, int16_t error_code)
{
	const describe_topic_partitions_req *body = req->body;
	describe_topic_partitions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = body->topics.count > 0 ? body->topics.count : 0;
	describe_topic_partitions_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, describe_topic_partitions_resp_topic, n + 1);
	const describe_topic_partitions_req_topic *t = body->topics.items;

	for (int32_t i = 0; i < n; i++) {
		out[i].error_code = error_code;
		out[i].name = t[i].name;
		out[i].partitions = karray_of(NULL, 0);
		out[i].topic_authorized_operations = INT32_MIN;
	}
	resp->topics = karray_of(out, n);
	req->resp = resp;
	request_complete(req);
}

static int kstr_qcmp(const void *a, const void *b)
{
	return kstr_cmp(*(const kstr *)a, *(const kstr *)b);
}

/* Requested names, sorted and without duplicates, from the cursor's topic
 * on (as the Java handler's sorted set). */
static int dtp_names(request *req, kstr from, kstr **out)
{
	const describe_topic_partitions_req *body = req->body;
	const describe_topic_partitions_req_topic *t = body->topics.items;
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, body->topics.count + 1);
	int n = 0, kept = 0;

	for (int32_t i = 0; i < body->topics.count; i++)
		if (kstr_cmp(t[i].name, from) >= 0)
			names[n++] = t[i].name;
	qsort(names, (size_t)n, sizeof(kstr), kstr_qcmp);
	for (int i = 0; i < n; i++)
		if (kept == 0 || kstr_cmp(names[i], names[kept - 1]) != 0)
			names[kept++] = names[i];
	*out = names;
	return kept;
}

/* The row of that topic: rows are sorted by name in byte order (COLLATE
 * "C"), the order of kstr_cmp. -1 if none. */
static int dtp_find(const PGresult *rows, kstr name)
{
	int lo = 0, hi = PQntuples(rows) - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = kstr_cmp(pgtext_str(rows, mid, 0), name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void dtp_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	dtp_ctx *c = arg;
	request *req = c->req;
	const describe_topic_partitions_req *body = req->body;
	const describe_topic_partitions_cursor *cur = body->cursor;
	(void)n;

	if (err) {
		log_warn("describe topic partitions: %s", err);
		dtp_fail(req, db_error_retriable(sqlstate, retriable) ? KERR_REQUEST_TIMED_OUT
								      : KERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	const PGresult *rows = res[0];
	kstr from = cur ? cur->topic_name : kstr_c("");
	kstr *names;
	int nnames;
	if (c->all_topics) {
		nnames = 0;
		names = ARENA_NEW_ARRAY(req->arena, kstr, PQntuples(rows) + 1);
		/* Rows come sorted by name (COLLATE "C": byte order). */
		for (int r = 0; r < PQntuples(rows); r++) {
			kstr name = kstr_c(arena_cstr(req->arena, pgtext_str(rows, r, 0)));
			if (kstr_cmp(name, from) >= 0)
				names[nnames++] = name;
		}
	} else {
		nnames = dtp_names(req, from, &names);
	}

	int32_t limit = body->response_partition_limit;
	if (limit > DTP_PARTITION_LIMIT)
		limit = DTP_PARTITION_LIMIT;
	if (limit < 1)
		limit = 1;
	int32_t remaining = limit;

	describe_topic_partitions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	describe_topic_partitions_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, describe_topic_partitions_resp_topic, nnames + 1);
	int nout = 0;
	/* Named topics the principal may not DESCRIBE: refused after the
	 * page, without saying whether they exist. */
	describe_topic_partitions_resp_topic *refused =
		ARENA_NEW_ARRAY(req->arena, describe_topic_partitions_resp_topic, nnames + 1);
	int nrefused = 0;
	int32_t *self = ARENA_NEW_ARRAY(req->arena, int32_t, 1);
	self[0] = g_config.node_id;

	/* KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse: fill
	 * topics in name order until the partition budget is spent; the
	 * cursor points where the next page starts. Topics the principal
	 * may not DESCRIBE are skipped before (DescribeTopicPartitions-
	 * RequestHandler filters the names it pages over). */
	for (int i = 0; i < nnames; i++) {
		if (!authz_topic(req, ACL_OP_DESCRIBE, names[i])) {
			if (!c->all_topics) {
				describe_topic_partitions_resp_topic *u = &refused[nrefused++];
				u->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				u->name = names[i];
				u->partitions = karray_of(NULL, 0);
				u->topic_authorized_operations = INT32_MIN;
			}
			continue;
		}
		if (remaining == 0) {
			describe_topic_partitions_cursor *next =
				arena_alloc(req->arena, sizeof(*next));
			next->topic_name = names[i];
			next->partition_index = 0;
			resp->next_cursor = next;
			break;
		}
		int r = dtp_find(rows, names[i]);
		describe_topic_partitions_resp_topic *t = &out[nout];
		t->name = names[i];
		t->is_internal = topic_is_internal(names[i]);
		/* Kafka reports them on every topic of the answer (every
		 * operation without an authorizer). */
		t->topic_authorized_operations = authz_operations(req, ACL_RES_TOPIC, names[i]);
		t->partitions = karray_of(NULL, 0);
		if (r < 0) {
			if (c->all_topics)
				continue;
			t->error_code = topic_name_valid(names[i]) ? KERR_UNKNOWN_TOPIC_OR_PARTITION
								   : KERR_INVALID_TOPIC_EXCEPTION;
			nout++;
			continue;
		}
		nout++;
		int32_t nparts = (int32_t)pgtext_i64(rows, r, 2, 0);
		int32_t start =
			cur && kstr_eqk(names[i], cur->topic_name) ? cur->partition_index : 0;
		int32_t upper = nparts;
		if ((int64_t)start + remaining < upper)
			upper = start + remaining;
		int32_t count = upper > start ? upper - start : 0;
		describe_topic_partitions_resp_partition *parts = ARENA_NEW_ARRAY(
			req->arena, describe_topic_partitions_resp_partition, count + 1);
		for (int32_t p = 0; p < count; p++) {
			parts[p].partition_index = start + p;
			parts[p].leader_id = g_config.node_id;
			parts[p].leader_epoch = 0;
			parts[p].replica_nodes = karray_of(self, 1);
			parts[p].isr_nodes = karray_of(self, 1);
			parts[p].eligible_leader_replicas = karray_of(NULL, 0);
			parts[p].last_known_elr = karray_of(NULL, 0);
			parts[p].offline_replicas = karray_of(NULL, 0);
		}
		t->error_code = KERR_NONE;
		uuid_parse(PQgetvalue(rows, r, 1), &t->topic_id);
		t->partitions = karray_of(parts, count);
		if (upper < nparts) {
			describe_topic_partitions_cursor *next =
				arena_alloc(req->arena, sizeof(*next));
			next->topic_name = names[i];
			next->partition_index = upper;
			resp->next_cursor = next;
			break;
		}
		remaining -= count;
	}
	for (int i = 0; i < nrefused; i++)
		out[nout++] = refused[i];
	resp->topics = karray_of(out, nout);
	req->resp = resp;
	request_complete(req);
}

/* ---- UpdateFeatures ---- */

/* Kafka's FeatureUpdate.UpgradeType ids. */
enum { UPGRADE = 1, SAFE_DOWNGRADE = 2, UNSAFE_DOWNGRADE = 3 };

/*
 * The levels are fixed by the release (feature_levels.h): asking for the level
 * in force changes nothing and succeeds, as in Kafka; any other level is
 * INVALID_UPDATE_VERSION, the error Kafka's controller gives for a level
 * outside what its brokers support.
 */
void handle_update_features(request *req)
{
	const update_features_req *body = req->body;
	update_features_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = body->feature_updates.count > 0 ? body->feature_updates.count : 0;
	const update_features_req_update *u = body->feature_updates.items;
	update_features_resp_result *results =
		ARENA_NEW_ARRAY(req->arena, update_features_resp_result, n + 1);

	req->resp = resp;
	resp->error_message = KSTR_NULL;
	/* ControllerApis.handleUpdateFeatures: ALTER on the cluster, else
	 * the error at the top and no results. */
	if (!authz_cluster(req, ACL_OP_ALTER)) {
		resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
		resp->error_message = kstr_c(CLUSTER_REFUSED);
		resp->results = karray_of(NULL, 0);
		request_complete(req);
		return;
	}
	/* KafkaApis: a feature named twice fails the whole request. */
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, n + 1);
	for (int32_t i = 0; i < n; i++)
		names[i] = u[i].feature;
	qsort(names, (size_t)n, sizeof(kstr), kstr_qcmp);
	for (int32_t i = 1; i < n; i++) {
		if (kstr_cmp(names[i], names[i - 1]) == 0) {
			resp->error_code = KERR_INVALID_REQUEST;
			resp->error_message = kstr_c(
				arena_printf(req->arena, "Feature %.*s appears more than once",
					     names[i].len, names[i].ptr));
			resp->results = karray_of(NULL, 0);
			request_complete(req);
			return;
		}
	}
	for (int32_t i = 0; i < n; i++) {
		update_features_resp_result *r = &results[i];
		const feature_level *f = feature_find(u[i].feature);
		int8_t type = req->api_version == 0
				      ? (u[i].allow_downgrade ? SAFE_DOWNGRADE : UPGRADE)
				      : u[i].upgrade_type;
		r->feature = u[i].feature;
		r->error_message = KSTR_NULL;
		if (u[i].feature.len <= 0 || type < UPGRADE || type > UNSAFE_DOWNGRADE) {
			r->error_code = KERR_INVALID_REQUEST;
			r->error_message = kstr_c("Invalid feature name or upgrade type");
		} else if (!f) {
			r->error_code = KERR_INVALID_UPDATE_VERSION;
			r->error_message = kstr_c(arena_printf(
				req->arena,
				"Invalid update version %d for feature %.*s. "
				"The broker does not support this feature.",
				u[i].max_version_level, u[i].feature.len, u[i].feature.ptr));
		} else if (u[i].max_version_level != f->finalized) {
			r->error_code = KERR_INVALID_UPDATE_VERSION;
			r->error_message =
				kstr_c(arena_printf(req->arena,
						    "Invalid update version %d for feature %s. "
						    "pg_kafka supports only level %d.",
						    u[i].max_version_level, f->name, f->finalized));
		} else {
			r->error_code = KERR_NONE;
		}
		/* v2 answers with the first failure at the top level. */
		if (req->api_version >= 2 && r->error_code != KERR_NONE &&
		    resp->error_code == KERR_NONE) {
			resp->error_code = r->error_code;
			resp->error_message = r->error_message;
		}
	}
	resp->results = karray_of(results, n);
	request_complete(req);
}

/* ---- ListClientMetricsResources ---- */

/* Client-metrics resources are configs pg_kafka cannot create (no
 * AlterConfigs for them), so there are none to list. */
void handle_list_client_metrics_resources(request *req)
{
	list_client_metrics_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	/* KafkaApis.handleListClientMetricsResources: DESCRIBE_CONFIGS on
	 * the cluster. */
	resp->error_code = authz_cluster(req, ACL_OP_DESCRIBE_CONFIGS)
				   ? KERR_NONE
				   : KERR_CLUSTER_AUTHORIZATION_FAILED;
	resp->client_metrics_resources = karray_of(NULL, 0);
	req->resp = resp;
	request_complete(req);
}
