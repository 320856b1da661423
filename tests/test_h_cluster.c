/*
 * The cluster, replica, quota, token and feature APIs driven without
 * sockets (handler_harness.h): what each answers for pg_kafka's cluster of
 * one broker (node.id 1) leading every partition at leader epoch 0, with
 * the database as its one log directory, and the refusals of the features
 * it does not have; then what each requires with the authorizer on.
 */
#include "acl.h"
#include "arena_str.h"
#include "authorizer.h"
#include "feature_levels.h"
#include "handler_harness.h"

static int setup(void **state) { return hx_setup(state); }

static void test_describe_cluster(void **state)
{
	(void)state;
	HX_NEED_PG();
	describe_cluster_req b = {.include_cluster_authorized_operations = true,
				  .endpoint_type = 1};
	request *req = hx_call(API_DESCRIBE_CLUSTER, 1, b);
	describe_cluster_resp *r = req->resp;
	assert_int_equal(r->error_code, KERR_NONE);
	assert_int_equal(r->controller_id, g_config.node_id);
	assert_int_equal(r->brokers.count, 1);
	assert_int_equal(((describe_cluster_resp_broker *)r->brokers.items)[0].broker_id,
			 g_config.node_id);
	assert_true(r->cluster_authorized_operations > 0);
	hx_free(req);

	b.endpoint_type = 2; /* a controller's endpoint */
	req = hx_call(API_DESCRIBE_CLUSTER, 1, b);
	assert_int_equal(((describe_cluster_resp *)req->resp)->error_code,
			 KERR_MISMATCHED_ENDPOINT_TYPE);
	hx_free(req);
	req = hx_call(API_DESCRIBE_CLUSTER, 0, b);
	assert_int_equal(((describe_cluster_resp *)req->resp)->error_code, KERR_INVALID_REQUEST);
	hx_free(req);
}

static describe_topic_partitions_resp *dtp(request **req, const char **names, int n, int32_t limit,
					   describe_topic_partitions_cursor *cur)
{
	describe_topic_partitions_req_topic *t = calloc((size_t)n + 1, sizeof(*t));
	for (int i = 0; i < n; i++)
		t[i].name = KS(names[i]);
	describe_topic_partitions_req b = {
		.topics = ARR(t, n), .response_partition_limit = limit, .cursor = cur};
	*req = hx_call(API_DESCRIBE_TOPIC_PARTITIONS, 0, b);
	free(t);
	return (*req)->resp;
}

static void test_describe_topic_partitions_paging(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("pa", 3), KERR_NONE);
	assert_int_equal(hx_create_topic("pb", 1), KERR_NONE);
	const char *names[] = {"pb", "pa", "pz", "pa"};
	request *req;
	describe_topic_partitions_resp *r = dtp(&req, names, 4, 2, NULL);
	/* Sorted, once each, two partitions: pa 0-1, then the cursor. */
	assert_int_equal(r->topics.count, 1);
	describe_topic_partitions_resp_topic *t = r->topics.items;
	assert_true(kstr_eq(t[0].name, "pa"));
	assert_int_equal(t[0].partitions.count, 2);
	assert_non_null(r->next_cursor);
	describe_topic_partitions_cursor *next = r->next_cursor;
	assert_true(kstr_eq(next->topic_name, "pa"));
	assert_int_equal(next->partition_index, 2);
	describe_topic_partitions_cursor cur = {.topic_name = KS("pa"), .partition_index = 2};
	hx_free(req);

	r = dtp(&req, names, 4, 100, &cur);
	assert_null(r->next_cursor);
	assert_int_equal(r->topics.count, 3);
	t = r->topics.items;
	assert_int_equal(((describe_topic_partitions_resp_partition *)t[0].partitions.items)[0]
				 .partition_index,
			 2);
	assert_true(kstr_eq(t[1].name, "pb"));
	assert_int_equal(t[1].error_code, KERR_NONE);
	assert_true(kstr_eq(t[2].name, "pz"));
	assert_int_equal(t[2].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);

	/* A limit of 0 still gives one partition (Kafka's minimum). */
	r = dtp(&req, names, 1, 0, NULL);
	t = r->topics.items;
	assert_int_equal(t[0].partitions.count, 1);
	hx_free(req);

	cur.topic_name = KS("elsewhere");
	r = dtp(&req, names, 2, 10, &cur);
	t = r->topics.items;
	assert_int_equal(r->topics.count, 2);
	assert_int_equal(t[0].error_code, KERR_INVALID_REQUEST);
	hx_free(req);
}

static void test_elect_and_reassign(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("el", 1), KERR_NONE);
	int32_t parts[2] = {0, 1};
	topic_partitions_req tp = {.topic = KS("el"), .partitions = ARR(parts, 2)};
	elect_leaders_req eb = {
		.election_type = 0, .topic_partitions = ARR(&tp, 1), .timeout_ms = 1000};
	request *req = hx_call(API_ELECT_LEADERS, 2, eb);
	elect_leaders_resp *er = req->resp;
	partition_result *pr = ((elect_leaders_resp_result *)er->replica_election_results.items)[0]
				       .partition_result.items;
	assert_int_equal(pr[0].error_code, KERR_ELECTION_NOT_NEEDED);
	assert_int_equal(pr[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);

	int32_t self[1] = {g_config.node_id}, other[2] = {g_config.node_id, 9};
	alter_reassignments_req_partition ap[4] = {
		{.partition_index = 0, .replicas = ARR(self, 1)},
		{.partition_index = 0, .replicas = ARR(other, 2)},
		{.partition_index = 0, .replicas = {-1, NULL}},
		{.partition_index = 2, .replicas = ARR(self, 1)}};
	alter_reassignments_req_topic at = {.name = KS("el"), .partitions = ARR(ap, 4)};
	alter_reassignments_req ab = {.timeout_ms = 1000, .topics = ARR(&at, 1)};
	req = hx_call(API_ALTER_PARTITION_REASSIGNMENTS, 0, ab);
	alter_reassignments_resp *ar = req->resp;
	pr = ((alter_reassignments_resp_topic *)ar->responses.items)[0].partitions.items;
	assert_int_equal(pr[0].error_code, KERR_NONE);
	assert_int_equal(pr[1].error_code, KERR_INVALID_REPLICA_ASSIGNMENT);
	assert_int_equal(pr[2].error_code, KERR_NO_REASSIGNMENT_IN_PROGRESS);
	assert_int_equal(pr[3].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);
}

static void test_offset_for_leader_epoch(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("ep", 1), KERR_NONE);
	arena *a = arena_new();
	assert_int_equal(hx_produce("ep", 0, hx_batch(a, 4, 0, -1, -1, -1, false), KSTR_NULL, NULL),
			 KERR_NONE);
	arena_free(a);
	offset_for_leader_epoch_req_partition p[4] = {
		{.partition = 0, .current_leader_epoch = -1, .leader_epoch = 0},
		{.partition = 0, .current_leader_epoch = -1, .leader_epoch = 1},
		{.partition = 0, .current_leader_epoch = 2, .leader_epoch = 0},
		{.partition = 1, .current_leader_epoch = -1, .leader_epoch = 0}};
	offset_for_leader_epoch_req_topic t = {.topic = KS("ep"), .partitions = ARR(p, 4)};
	offset_for_leader_epoch_req b = {.replica_id = -1, .topics = ARR(&t, 1)};
	request *req = hx_call(API_OFFSET_FOR_LEADER_EPOCH, 4, b);
	offset_for_leader_epoch_resp *r = req->resp;
	offset_for_leader_epoch_resp_partition *o =
		((offset_for_leader_epoch_resp_topic *)r->topics.items)[0].partitions.items;
	assert_int_equal(o[0].error_code, KERR_NONE);
	assert_int_equal(o[0].leader_epoch, 0);
	assert_int_equal(o[0].end_offset, 4);
	assert_int_equal(o[1].leader_epoch, -1);
	assert_int_equal(o[1].end_offset, -1);
	assert_int_equal(o[2].error_code, KERR_UNKNOWN_LEADER_EPOCH);
	assert_int_equal(o[3].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);
}

static void test_log_dirs_and_producers(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("ld", 2), KERR_NONE);
	arena *a = arena_new();
	assert_int_equal(
		hx_produce("ld", 1, hx_batch(a, 10, 0, -1, -1, -1, false), KSTR_NULL, NULL),
		KERR_NONE);
	arena_free(a);
	int32_t parts[2] = {0, 1};
	topic_partitions_req tp = {.topic = KS("ld"), .partitions = ARR(parts, 2)};
	describe_log_dirs_req lb = {.topics = ARR(&tp, 1)};
	request *req = hx_call(API_DESCRIBE_LOG_DIRS, 4, lb);
	describe_log_dirs_resp *lr = req->resp;
	assert_int_equal(lr->results.count, 1);
	describe_log_dirs_resp_result *d = lr->results.items;
	assert_true(kstr_eq(d->log_dir, HX.dbname));
	assert_int_equal(d->total_bytes, -1);
	assert_int_equal(d->topics.count, 1);
	describe_log_dirs_resp_partition *p =
		((describe_log_dirs_resp_topic *)d->topics.items)[0].partitions.items;
	/* The empty partition has no share of the table; the other one all. */
	assert_int_equal(p[0].partition_size, 0);
	assert_true(p[1].partition_size > 0);
	hx_free(req);

	/* Moving a partition to the directory it is in succeeds; to another
	 * one, the directory is not found. */
	int32_t one[1] = {0};
	alter_replica_log_dirs_req_topic dt = {.name = KS("ld"), .partitions = ARR(one, 1)};
	alter_replica_log_dirs_req_dir dirs[2] = {{.path = KS(HX.dbname), .topics = ARR(&dt, 1)},
						  {.path = KS("/data"), .topics = ARR(&dt, 1)}};
	alter_replica_log_dirs_req db = {.dirs = ARR(dirs, 2)};
	req = hx_call(API_ALTER_REPLICA_LOG_DIRS, 2, db);
	alter_replica_log_dirs_resp *dr = req->resp;
	assert_int_equal(dr->results.count, 1);
	partition_error *pe =
		((alter_replica_log_dirs_resp_topic *)dr->results.items)[0].partitions.items;
	assert_int_equal(pe[0].error_code, KERR_NONE);
	assert_int_equal(pe[1].error_code, KERR_LOG_DIR_NOT_FOUND);
	hx_free(req);

	int32_t pp[2] = {1, 5};
	describe_producers_req_topic pt = {.name = KS("ld"), .partition_indexes = ARR(pp, 2)};
	describe_producers_req pb = {.topics = ARR(&pt, 1)};
	req = hx_call(API_DESCRIBE_PRODUCERS, 0, pb);
	describe_producers_resp *prr = req->resp;
	describe_producers_resp_partition *dp =
		((describe_producers_resp_topic *)prr->topics.items)[0].partitions.items;
	assert_int_equal(dp[0].error_code, KERR_NONE);
	assert_int_equal(dp[0].active_producers.count, 0); /* not an idempotent producer */
	assert_int_equal(dp[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);
}

static void test_features_quotas_tokens(void **state)
{
	(void)state;
	HX_NEED_PG();
	update_features_req_update u[2] = {
		{.feature = KS("metadata.version"), .max_version_level = 21, .upgrade_type = 1},
		{.feature = KS("group.version"), .max_version_level = 2, .upgrade_type = 1}};
	update_features_req fb = {.timeout_ms = 1000, .feature_updates = ARR(u, 2)};
	request *req = hx_call(API_UPDATE_FEATURES, 1, fb);
	update_features_resp *fr = req->resp;
	update_features_resp_result *res = fr->results.items;
	assert_int_equal(fr->error_code, KERR_NONE);
	assert_int_equal(res[0].error_code, KERR_NONE);
	assert_int_equal(res[1].error_code, KERR_INVALID_UPDATE_VERSION);
	hx_free(req);
	req = hx_call(API_UPDATE_FEATURES, 2, fb);
	assert_int_equal(((update_features_resp *)req->resp)->error_code,
			 KERR_INVALID_UPDATE_VERSION);
	hx_free(req);
	assert_int_equal(feature_find(KS("metadata.version"))->finalized, 21);

	quota_entity ent = {.entity_type = KS("client-id"), .entity_name = KS("app")};
	alter_quotas_req_op ops[2] = {{.key = KS("consumer_byte_rate"), .value = 10},
				      {.key = KS("request_percentage"), .remove = true}};
	alter_quotas_req_entry e[2] = {{.entity = ARR(&ent, 1), .ops = ARR(ops, 2)},
				       {.entity = ARR(&ent, 1), .ops = ARR(&ops[1], 1)}};
	alter_quotas_req qb = {.entries = ARR(e, 2)};
	req = hx_call(API_ALTER_CLIENT_QUOTAS, 1, qb);
	alter_quotas_resp_entry *qe = ((alter_quotas_resp *)req->resp)->entries.items;
	assert_int_equal(qe[0].error_code, KERR_NONE);
	assert_int_equal(qe[1].error_code, KERR_NONE);
	hx_free(req);

	describe_quotas_req_component comp = {
		.entity_type = KS("client-id"), .match_type = 2, .match = KS("x")};
	describe_quotas_req dq = {.components = ARR(&comp, 1)};
	req = hx_call(API_DESCRIBE_CLIENT_QUOTAS, 1, dq);
	assert_int_equal(((describe_quotas_resp *)req->resp)->error_code, KERR_INVALID_REQUEST);
	hx_free(req);
	comp.match = KSTR_NULL;
	req = hx_call(API_DESCRIBE_CLIENT_QUOTAS, 1, dq);
	assert_int_equal(((describe_quotas_resp *)req->resp)->error_code, KERR_NONE);
	assert_int_equal(((describe_quotas_resp *)req->resp)->entries.count, 1);
	describe_quotas_resp_entry *de = ((describe_quotas_resp *)req->resp)->entries.items;
	assert_int_equal(de->values.count, 1);
	assert_true(kstr_eq(((describe_quotas_resp_value *)de->values.items)->key,
			    "consumer_byte_rate"));
	assert_true(((describe_quotas_resp_value *)de->values.items)->value == 10);
	hx_free(req);
	ops[0].remove = true;
	req = hx_call(API_ALTER_CLIENT_QUOTAS, 1, qb);
	hx_free(req);

	/* A request built here has no listener: treated as PLAINTEXT. */
	describe_token_req tb = {.owners = {-1, NULL}};
	req = hx_call(API_DESCRIBE_DELEGATION_TOKEN, 3, tb);
	assert_int_equal(((describe_token_resp *)req->resp)->error_code, 64);
	hx_free(req);
}

/* ---- with the authorizer on ---- */

/* Run a request as principal from 127.0.0.1. */
#define hx_call_as(principal, key, ver, body)                                                      \
	hx_call_as_(principal, key, ver, &(body), sizeof(body))
static request *hx_call_as_(const char *principal, int16_t key, int16_t ver, const void *body,
			    size_t size)
{
	request *req = hx_new(key, ver, body, size);
	req->principal = kstr_c(principal);
	hx_run(req);
	return req;
}

/* User:alice may READ topic az and DESCRIBE the cluster; User:replica has
 * CLUSTER_ACTION; User:bob nothing; User:admin is a super user. */
static void authz_on(void)
{
	acl_rules rs;

	acl_rules_init(&rs);
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "az", "User:alice", "*", ACL_OP_READ,
		      ACL_PERM_ALLOW);
	acl_rules_add(&rs, ACL_RES_CLUSTER, ACL_PAT_LITERAL, ACL_CLUSTER_NAME, "User:alice", "*",
		      ACL_OP_DESCRIBE, ACL_PERM_ALLOW);
	acl_rules_add(&rs, ACL_RES_CLUSTER, ACL_PAT_LITERAL, ACL_CLUSTER_NAME, "User:replica", "*",
		      ACL_OP_CLUSTER_ACTION, ACL_PERM_ALLOW);
	acl_rules_set_super_users(&rs, "User:admin");
	authorizer_set_for_test(true, &rs);
}

static void test_authz_describe(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("az", 2), KERR_NONE);
	assert_int_equal(hx_create_topic("hidden", 1), KERR_NONE);
	authz_on();

	/* DescribeCluster: the principal's own cluster operations; none
	 * without DESCRIBE; all of them for a super user. */
	describe_cluster_req cb = {.include_cluster_authorized_operations = true,
				   .endpoint_type = 1};
	request *req = hx_call_as("User:alice", API_DESCRIBE_CLUSTER, 1, cb);
	assert_int_equal(((describe_cluster_resp *)req->resp)->cluster_authorized_operations,
			 1 << ACL_OP_DESCRIBE);
	hx_free(req);
	req = hx_call_as("User:bob", API_DESCRIBE_CLUSTER, 1, cb);
	assert_int_equal(((describe_cluster_resp *)req->resp)->error_code, KERR_NONE);
	assert_int_equal(((describe_cluster_resp *)req->resp)->cluster_authorized_operations, 0);
	hx_free(req);
	req = hx_call_as("User:admin", API_DESCRIBE_CLUSTER, 1, cb);
	assert_int_equal(((describe_cluster_resp *)req->resp)->cluster_authorized_operations,
			 acl_supported_operations(ACL_RES_CLUSTER));
	hx_free(req);

	/* DescribeTopicPartitions: a named topic without DESCRIBE is refused
	 * after the page; all topics leaves it out. */
	describe_topic_partitions_req_topic names[2] = {{.name = KS("hidden")}, {.name = KS("az")}};
	describe_topic_partitions_req db = {.topics = ARR(names, 2),
					    .response_partition_limit = 100};
	req = hx_call_as("User:alice", API_DESCRIBE_TOPIC_PARTITIONS, 0, db);
	describe_topic_partitions_resp *dr = req->resp;
	describe_topic_partitions_resp_topic *t = dr->topics.items;
	assert_int_equal(dr->topics.count, 2);
	assert_true(kstr_eq(t[0].name, "az"));
	assert_int_equal(t[0].error_code, KERR_NONE);
	assert_int_equal(t[0].partitions.count, 2);
	assert_int_equal(t[0].topic_authorized_operations,
			 (1 << ACL_OP_READ) | (1 << ACL_OP_DESCRIBE));
	assert_true(kstr_eq(t[1].name, "hidden"));
	assert_int_equal(t[1].error_code, KERR_TOPIC_AUTHORIZATION_FAILED);
	assert_int_equal(t[1].partitions.count, 0);
	hx_free(req);
	db.topics = (karray){0, NULL};
	req = hx_call_as("User:alice", API_DESCRIBE_TOPIC_PARTITIONS, 0, db);
	dr = req->resp;
	assert_int_equal(dr->topics.count, 1);
	assert_true(
		kstr_eq(((describe_topic_partitions_resp_topic *)dr->topics.items)[0].name, "az"));
	hx_free(req);

	/* DescribeProducers: READ on the topic. */
	int32_t p0[1] = {0};
	describe_producers_req_topic pt[2] = {
		{.name = KS("az"), .partition_indexes = ARR(p0, 1)},
		{.name = KS("hidden"), .partition_indexes = ARR(p0, 1)}};
	describe_producers_req pb = {.topics = ARR(pt, 2)};
	req = hx_call_as("User:alice", API_DESCRIBE_PRODUCERS, 0, pb);
	describe_producers_resp_topic *prt = ((describe_producers_resp *)req->resp)->topics.items;
	assert_int_equal(
		((describe_producers_resp_partition *)prt[0].partitions.items)[0].error_code,
		KERR_NONE);
	assert_int_equal(
		((describe_producers_resp_partition *)prt[1].partitions.items)[0].error_code,
		KERR_TOPIC_AUTHORIZATION_FAILED);
	hx_free(req);

	/* OffsetForLeaderEpoch: DESCRIBE on the topic, or CLUSTER_ACTION. */
	offset_for_leader_epoch_req_partition ep = {.partition = 0, .current_leader_epoch = -1};
	offset_for_leader_epoch_req_topic et[2] = {
		{.topic = KS("az"), .partitions = ARR(&ep, 1)},
		{.topic = KS("hidden"), .partitions = ARR(&ep, 1)}};
	offset_for_leader_epoch_req eb = {.replica_id = -1, .topics = ARR(et, 2)};
	req = hx_call_as("User:alice", API_OFFSET_FOR_LEADER_EPOCH, 4, eb);
	offset_for_leader_epoch_resp_topic *ot =
		((offset_for_leader_epoch_resp *)req->resp)->topics.items;
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[0].partitions.items)[0].error_code,
		KERR_NONE);
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[1].partitions.items)[0].error_code,
		KERR_TOPIC_AUTHORIZATION_FAILED);
	hx_free(req);
	req = hx_call_as("User:replica", API_OFFSET_FOR_LEADER_EPOCH, 4, eb);
	ot = ((offset_for_leader_epoch_resp *)req->resp)->topics.items;
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[1].partitions.items)[0].error_code,
		KERR_NONE);
	hx_free(req);

	/* Topics the principal may not see are not even looked up: a name
	 * PostgreSQL text cannot hold next to an allowed topic costs the
	 * allowed one nothing. */
	et[1].topic = KS("hid\xff");
	req = hx_call_as("User:alice", API_OFFSET_FOR_LEADER_EPOCH, 4, eb);
	ot = ((offset_for_leader_epoch_resp *)req->resp)->topics.items;
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[0].partitions.items)[0].error_code,
		KERR_NONE);
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[1].partitions.items)[0].error_code,
		KERR_TOPIC_AUTHORIZATION_FAILED);
	hx_free(req);
	pt[1].name = KS("hid\xff");
	req = hx_call_as("User:alice", API_DESCRIBE_PRODUCERS, 0, pb);
	prt = ((describe_producers_resp *)req->resp)->topics.items;
	assert_int_equal(
		((describe_producers_resp_partition *)prt[0].partitions.items)[0].error_code,
		KERR_NONE);
	assert_int_equal(
		((describe_producers_resp_partition *)prt[1].partitions.items)[0].error_code,
		KERR_INVALID_TOPIC_EXCEPTION);
	hx_free(req);
	/* Nothing to look up at all. */
	eb.topics = ARR(&et[1], 1);
	req = hx_call_as("User:alice", API_OFFSET_FOR_LEADER_EPOCH, 4, eb);
	ot = ((offset_for_leader_epoch_resp *)req->resp)->topics.items;
	assert_int_equal(
		((offset_for_leader_epoch_resp_partition *)ot[0].partitions.items)[0].error_code,
		KERR_TOPIC_AUTHORIZATION_FAILED);
	hx_free(req);

	/* DescribeLogDirs and ListPartitionReassignments: DESCRIBE on the
	 * cluster. */
	describe_log_dirs_req lb = {.topics = {-1, NULL}};
	req = hx_call_as("User:alice", API_DESCRIBE_LOG_DIRS, 4, lb);
	assert_int_equal(((describe_log_dirs_resp *)req->resp)->error_code, KERR_NONE);
	assert_int_equal(((describe_log_dirs_resp *)req->resp)->results.count, 1);
	hx_free(req);
	req = hx_call_as("User:bob", API_DESCRIBE_LOG_DIRS, 4, lb);
	assert_int_equal(((describe_log_dirs_resp *)req->resp)->error_code,
			 KERR_CLUSTER_AUTHORIZATION_FAILED);
	assert_int_equal(((describe_log_dirs_resp *)req->resp)->results.count, 0);
	hx_free(req);
	list_reassignments_req_topic lt = {.name = KS("az"), .partition_indexes = ARR(p0, 1)};
	list_reassignments_req rb = {.timeout_ms = 1000, .topics = ARR(&lt, 1)};
	req = hx_call_as("User:alice", API_LIST_PARTITION_REASSIGNMENTS, 0, rb);
	assert_int_equal(((list_reassignments_resp *)req->resp)->error_code, KERR_NONE);
	hx_free(req);
	req = hx_call_as("User:bob", API_LIST_PARTITION_REASSIGNMENTS, 0, rb);
	list_reassignments_resp *lr = req->resp;
	assert_int_equal(lr->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	assert_int_equal(lr->topics.count, 1);
	hx_free(req);
	authorizer_set_for_test(false, NULL);
}

static void test_authz_alter(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("al", 1), KERR_NONE);
	authz_on();

	/* ElectLeaders: ALTER on the cluster; the error at the top and for
	 * every partition. */
	int32_t p0[1] = {0};
	topic_partitions_req tp = {.topic = KS("al"), .partitions = ARR(p0, 1)};
	elect_leaders_req eb = {
		.election_type = 0, .topic_partitions = ARR(&tp, 1), .timeout_ms = 1000};
	request *req = hx_call_as("User:alice", API_ELECT_LEADERS, 2, eb);
	elect_leaders_resp *er = req->resp;
	assert_int_equal(er->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	partition_result *pr = ((elect_leaders_resp_result *)er->replica_election_results.items)[0]
				       .partition_result.items;
	assert_int_equal(pr[0].error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	hx_free(req);
	req = hx_call_as("User:admin", API_ELECT_LEADERS, 2, eb);
	er = req->resp;
	assert_int_equal(er->error_code, KERR_NONE);
	pr = ((elect_leaders_resp_result *)er->replica_election_results.items)[0]
		     .partition_result.items;
	assert_int_equal(pr[0].error_code, KERR_ELECTION_NOT_NEEDED);
	hx_free(req);

	/* AlterPartitionReassignments: ALTER on the cluster. */
	int32_t self[1] = {g_config.node_id};
	alter_reassignments_req_partition ap = {.partition_index = 0, .replicas = ARR(self, 1)};
	alter_reassignments_req_topic at = {.name = KS("al"), .partitions = ARR(&ap, 1)};
	alter_reassignments_req ab = {.timeout_ms = 1000, .topics = ARR(&at, 1)};
	req = hx_call_as("User:alice", API_ALTER_PARTITION_REASSIGNMENTS, 0, ab);
	alter_reassignments_resp *ar = req->resp;
	assert_int_equal(ar->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	pr = ((alter_reassignments_resp_topic *)ar->responses.items)[0].partitions.items;
	assert_int_equal(pr[0].error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	hx_free(req);
	req = hx_call_as("User:admin", API_ALTER_PARTITION_REASSIGNMENTS, 0, ab);
	ar = req->resp;
	pr = ((alter_reassignments_resp_topic *)ar->responses.items)[0].partitions.items;
	assert_int_equal(pr[0].error_code, KERR_NONE);
	hx_free(req);

	/* AlterReplicaLogDirs: ALTER on the cluster; one result per topic of
	 * each directory. */
	alter_replica_log_dirs_req_topic dt = {.name = KS("al"), .partitions = ARR(p0, 1)};
	alter_replica_log_dirs_req_dir dirs[2] = {{.path = KS(HX.dbname), .topics = ARR(&dt, 1)},
						  {.path = KS("/data"), .topics = ARR(&dt, 1)}};
	alter_replica_log_dirs_req db = {.dirs = ARR(dirs, 2)};
	req = hx_call_as("User:alice", API_ALTER_REPLICA_LOG_DIRS, 2, db);
	alter_replica_log_dirs_resp *dr = req->resp;
	assert_int_equal(dr->results.count, 2);
	partition_error *pe =
		((alter_replica_log_dirs_resp_topic *)dr->results.items)[1].partitions.items;
	assert_int_equal(pe[0].error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
	hx_free(req);
	req = hx_call_as("User:admin", API_ALTER_REPLICA_LOG_DIRS, 2, db);
	dr = req->resp;
	assert_int_equal(dr->results.count, 1);
	pe = ((alter_replica_log_dirs_resp_topic *)dr->results.items)[0].partitions.items;
	assert_int_equal(pe[0].error_code, KERR_NONE);
	hx_free(req);

	/* UpdateFeatures: ALTER on the cluster; the error at the top. */
	update_features_req_update u = {
		.feature = KS("metadata.version"), .max_version_level = 21, .upgrade_type = 1};
	update_features_req fb = {.timeout_ms = 1000, .feature_updates = ARR(&u, 1)};
	req = hx_call_as("User:alice", API_UPDATE_FEATURES, 1, fb);
	assert_int_equal(((update_features_resp *)req->resp)->error_code,
			 KERR_CLUSTER_AUTHORIZATION_FAILED);
	assert_int_equal(((update_features_resp *)req->resp)->results.count, 0);
	hx_free(req);
	req = hx_call_as("User:admin", API_UPDATE_FEATURES, 1, fb);
	assert_int_equal(((update_features_resp *)req->resp)->error_code, KERR_NONE);
	assert_int_equal(((update_features_resp *)req->resp)->results.count, 1);
	hx_free(req);

	/* ListClientMetricsResources: DESCRIBE_CONFIGS on the cluster, which
	 * DESCRIBE does not give. */
	list_client_metrics_req mb = {0};
	req = hx_call_as("User:alice", API_LIST_CLIENT_METRICS_RESOURCES, 0, mb);
	assert_int_equal(((list_client_metrics_resp *)req->resp)->error_code,
			 KERR_CLUSTER_AUTHORIZATION_FAILED);
	hx_free(req);
	req = hx_call_as("User:admin", API_LIST_CLIENT_METRICS_RESOURCES, 0, mb);
	assert_int_equal(((list_client_metrics_resp *)req->resp)->error_code, KERR_NONE);
	hx_free(req);
	authorizer_set_for_test(false, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_cluster),
		cmocka_unit_test(test_describe_topic_partitions_paging),
		cmocka_unit_test(test_elect_and_reassign),
		cmocka_unit_test(test_offset_for_leader_epoch),
		cmocka_unit_test(test_log_dirs_and_producers),
		cmocka_unit_test(test_features_quotas_tokens),
		cmocka_unit_test(test_authz_describe),
		cmocka_unit_test(test_authz_alter),
	};
	return cmocka_run_group_tests(tests, setup, hx_teardown);
}
