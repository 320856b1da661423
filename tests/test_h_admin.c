/*
 * Topic administration driven without sockets (handler_harness.h), for the
 * checks Kafka's controller makes: CreateTopics answers the effective
 * configs of a created topic and refuses a replication factor above the
 * one broker, a name colliding in '.' / '_', a null config value and a bad
 * assignment; DeleteTopics refuses a topic named by both name and id, by
 * neither, or twice, and deletes nothing then. And tp_dup_find(), which
 * the handlers use to find a topic partition named twice.
 */
#include "arena_str.h"
#include "handler_harness.h"
#include "tp_dup.h"
#include "uuid.h"

static int setup(void **state) { return hx_setup(state); }

/* CreateTopics v7 of one topic: the answer's error (and the answer). */
static int16_t create(const create_topics_req_topic *t, create_topics_resp_topic *out)
{
	create_topics_req b = {.topics = ARR((void *)t, 1), .timeout_ms = 10000};
	request *req = hx_call(API_CREATE_TOPICS, 7, b);
	create_topics_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	create_topics_resp_topic *rt = r->topics.items;
	int16_t e = rt[0].error_code;
	if (out) {
		/* Keep what the test looks at beyond the request's arena. */
		*out = rt[0];
		out->configs = karray_of(NULL, rt[0].configs.count);
		out->name = KSTR_NULL;
		out->error_message = KSTR_NULL;
	}
	if (e == KERR_NONE) {
		/* Sorted by name, as Kafka answers them. */
		const create_topics_resp_config *c = rt[0].configs.items;
		for (int32_t i = 1; i < rt[0].configs.count; i++) {
			int32_t n = c[i].name.len < c[i - 1].name.len ? c[i].name.len
								      : c[i - 1].name.len;
			int cmp = memcmp(c[i - 1].name.ptr, c[i].name.ptr, (size_t)n);
			assert_true(cmp < 0 || (cmp == 0 && c[i - 1].name.len < c[i].name.len));
		}
	}
	hx_free(req);
	return e;
}

static bool topic_exists(const char *name)
{
	char sql[300];
	snprintf(sql, sizeof(sql),
		 "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM kafka.topics WHERE name = '%s') "
		 "THEN RAISE EXCEPTION 'no topic'; END IF; END $$",
		 name);
	PGconn *pg = PQconnectdb(HX.conninfo);
	PGresult *r = PQexec(pg, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	PQfinish(pg);
	return ok;
}

static void test_create_topics_answers_effective_configs(void **state)
{
	(void)state;
	HX_NEED_PG();
	create_topics_req_config cfg[1] = {{.name = KS("retention.ms"), .value = KS("1000")}};
	create_topics_req_topic t = {.name = KS("cfg"),
				     .num_partitions = 2,
				     .replication_factor = 1,
				     .assignments = ARR(NULL, 0),
				     .configs = ARR(cfg, 1)};
	create_topics_resp_topic out;
	assert_int_equal(create(&t, &out), KERR_NONE);
	assert_int_equal(out.num_partitions, 2);
	assert_true(out.configs.count > 0);
	/* The same name again: refused, with an empty list. */
	assert_int_equal(create(&t, &out), KERR_TOPIC_ALREADY_EXISTS);
	assert_int_equal(out.configs.count, 0);
	assert_int_equal(out.num_partitions, -1);
}

static void test_create_topics_refusals(void **state)
{
	(void)state;
	HX_NEED_PG();
	create_topics_req_topic t = {.name = KS("rf3"),
				     .num_partitions = 1,
				     .replication_factor = 3,
				     .assignments = ARR(NULL, 0),
				     .configs = ARR(NULL, 0)};
	assert_int_equal(create(&t, NULL), KERR_INVALID_REPLICATION_FACTOR);
	assert_false(topic_exists("rf3"));

	t = (create_topics_req_topic){.name = KS("dot.name"),
				      .num_partitions = 1,
				      .replication_factor = 1,
				      .assignments = ARR(NULL, 0),
				      .configs = ARR(NULL, 0)};
	assert_int_equal(create(&t, NULL), KERR_NONE);
	t.name = KS("dot_name");
	assert_int_equal(create(&t, NULL), KERR_INVALID_TOPIC_EXCEPTION);
	assert_false(topic_exists("dot_name"));

	create_topics_req_config nullcfg[1] = {{.name = KS("retention.ms"), .value = KSTR_NULL}};
	t = (create_topics_req_topic){.name = KS("nullcfg"),
				      .num_partitions = 1,
				      .replication_factor = 1,
				      .assignments = ARR(NULL, 0),
				      .configs = ARR(nullcfg, 1)};
	assert_int_equal(create(&t, NULL), KERR_INVALID_CONFIG);

	int32_t twice[2] = {1, 1};
	create_topics_req_assignment a[1] = {{.partition_index = 0, .broker_ids = ARR(twice, 2)}};
	t = (create_topics_req_topic){.name = KS("assigned"),
				      .num_partitions = -1,
				      .replication_factor = -1,
				      .assignments = ARR(a, 1),
				      .configs = ARR(NULL, 0)};
	assert_int_equal(create(&t, NULL), KERR_INVALID_REPLICA_ASSIGNMENT);
	assert_false(topic_exists("assigned"));
}

/* DeleteTopics v6 of the given topics: the number of answers and the
 * first one's error. */
static int16_t delete_v6(delete_topics_req_topic *topics, int32_t n, int32_t *answers)
{
	delete_topics_req b = {
		.topic_names = ARR(NULL, 0), .topics = ARR(topics, n), .timeout_ms = 10000};
	request *req = hx_call(API_DELETE_TOPICS, 6, b);
	delete_topics_resp *r = req->resp;
	*answers = r->responses.count;
	int16_t e = r->responses.count > 0
			    ? ((delete_topics_resp_topic *)r->responses.items)[0].error_code
			    : KERR_NONE;
	hx_free(req);
	return e;
}

static void test_delete_topics_refusals(void **state)
{
	(void)state;
	HX_NEED_PG();
	int32_t answers;
	assert_int_equal(hx_create_topic("doomed", 1), KERR_NONE);
	kuuid other;
	memset(&other, 7, sizeof(other));
	delete_topics_req_topic both = {.name = KS("doomed"), .topic_id = other};
	assert_int_equal(delete_v6(&both, 1, &answers), KERR_INVALID_REQUEST);
	assert_true(topic_exists("doomed"));

	delete_topics_req_topic neither = {.name = KSTR_NULL};
	memset(&neither.topic_id, 0, sizeof(neither.topic_id));
	assert_int_equal(delete_v6(&neither, 1, &answers), KERR_INVALID_REQUEST);

	delete_topics_req_topic twice[2] = {{.name = KS("doomed")}, {.name = KS("doomed")}};
	memset(&twice[0].topic_id, 0, sizeof(kuuid));
	memset(&twice[1].topic_id, 0, sizeof(kuuid));
	assert_int_equal(delete_v6(twice, 2, &answers), KERR_INVALID_REQUEST);
	assert_int_equal(answers, 1);
	assert_true(topic_exists("doomed"));

	assert_int_equal(delete_v6(twice, 1, &answers), KERR_NONE);
	assert_false(topic_exists("doomed"));
}

static void test_tp_dup_find(void **state)
{
	(void)state;
	arena *a = arena_new();
	kstr topics[6] = {KS("a"), KS("b"), KS("a"), KS("a"), KSTR_NULL, KSTR_NULL};
	int32_t parts[6] = {0, 0, 1, 0, 0, 0};
	int32_t first[6], last[6];
	tp_dup_find(a, topics, parts, 6, first, last);
	int32_t want_first[6] = {0, 1, 2, 0, 4, 4}, want_last[6] = {3, 1, 2, 3, 5, 5};
	for (int i = 0; i < 6; i++) {
		assert_int_equal(first[i], want_first[i]);
		assert_int_equal(last[i], want_last[i]);
	}
	tp_dup_find(a, topics, parts, 0, first, last); /* nothing to do */
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_topics_answers_effective_configs),
		cmocka_unit_test(test_create_topics_refusals),
		cmocka_unit_test(test_delete_topics_refusals),
		cmocka_unit_test(test_tp_dup_find),
	};
	return cmocka_run_group_tests(tests, setup, hx_teardown);
}
