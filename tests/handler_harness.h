/*
 * Driving request handlers without sockets, for the test_h_*.c unit tests.
 *
 * Each test program gets a database of its own in the PostgreSQL named by
 * PGK_TEST_PG (created with the pg_kafka extension at the start, dropped at
 * the end; every test is skipped when PGK_TEST_PG is empty), a pool of one
 * connection preparing the broker's statements, the wake-up registry and
 * the handlers' start-up, on one event loop.
 *
 * hx_call() builds a request the way server.c does -- its own arena, the
 * API's description, a completion callback, a connection's slots -- with a
 * body struct the test filled (what proto.c would have decoded), runs the
 * API's handler and then the event loop until the completion callback has
 * fired, and encodes the response with proto.c as the server would. The
 * test asserts on req->resp and frees the request with hx_free().
 */
#ifndef PGK_HANDLER_HARNESS_H
#define PGK_HANDLER_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "apis.h"
#include "config.h"
#include "handlers.h"
#include "kbuf.h"
#include "kerr.h"
#include "pool.h"
#include "proto.h"
#include "queries.h"
#include "records.h"
#include "request.h"
#include "wake.h"

/* Longest any request may take before the test fails (not a sleep: the
 * loop runs until the completion callback fires). */
#define HX_TIMEOUT_S 20

static struct {
	const char *admin_conninfo; /* PGK_TEST_PG */
	char dbname[64];
	char *conninfo; /* of the test database */
	struct event_base *base;
	struct event *deadline;
	bool timed_out;
	pool_lane *db;
	conn_slot slots[CONN_SLOTS]; /* one client connection's */
	int completions;
} HX;

static inline void hx_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	HX.timed_out = true;
}

static inline void hx_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Run one SQL command on conninfo; false (printed) if it failed. */
static inline bool hx_sql(const char *conninfo, const char *sql)
{
	PGconn *pg = PQconnectdb(conninfo);
	bool ok = PQstatus(pg) == CONNECTION_OK;

	if (ok) {
		PQsetNoticeProcessor(pg, hx_quiet, NULL);
		PGresult *r = PQexec(pg, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
		if (!ok)
			print_error("%s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
	} else {
		print_error("cannot connect to %s: %s", conninfo, PQerrorMessage(pg));
	}
	PQfinish(pg);
	return ok;
}

/* Group set-up: a fresh database and everything the handlers need. */
static inline int hx_setup(void **state)
{
	char sql[160];
	(void)state;

	HX.admin_conninfo = getenv("PGK_TEST_PG");
	if (!HX.admin_conninfo || !*HX.admin_conninfo)
		return 0; /* each test skips */
	snprintf(HX.dbname, sizeof(HX.dbname), "pgk_unit_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", HX.dbname);
	if (!hx_sql(HX.admin_conninfo, sql))
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", HX.dbname);
	if (!hx_sql(HX.admin_conninfo, sql))
		return -1;
	/* A later keyword wins in a conninfo string. */
	size_t n = strlen(HX.admin_conninfo) + strlen(HX.dbname) + 16;
	HX.conninfo = malloc(n);
	snprintf(HX.conninfo, n, "%s dbname=%s", HX.admin_conninfo, HX.dbname);
	if (!hx_sql(HX.conninfo, "CREATE EXTENSION pg_kafka CASCADE"))
		return -1;

	g_config.auto_create_topics = false;
	g_config.group_initial_rebalance_delay_ms = 0;
	g_config.log_level = 0; /* errors only: error paths are tested on purpose */
	HX.base = event_base_new();
	HX.deadline = evtimer_new(HX.base, hx_on_deadline, NULL);
	if (pool_init(HX.base, HX.conninfo, 1, queries, Q_QUERY_COUNT) < 0)
		return -1;
	wake_init(HX.base);
	handlers_init(HX.base);
	HX.db = pool_lane_new();
	return 0;
}

static inline int hx_teardown(void **state)
{
	char sql[160];
	(void)state;

	if (!HX.base)
		return 0;
	for (int i = 0; i < CONN_SLOTS; i++)
		if (HX.slots[i].data && HX.slots[i].release)
			HX.slots[i].release(HX.slots[i].data);
	memset(HX.slots, 0, sizeof(HX.slots));
	handlers_shutdown();
	pool_shutdown();
	wake_shutdown();
	/* Callbacks of jobs failed by the shutdown free what they hold. */
	event_base_loop(HX.base, EVLOOP_NONBLOCK);
	pool_lane_free(HX.db);
	HX.db = NULL;
	event_free(HX.deadline);
	event_base_free(HX.base);
	HX.base = NULL;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", HX.dbname);
	hx_sql(HX.admin_conninfo, sql);
	free(HX.conninfo);
	HX.conninfo = NULL;
	return 0;
}

/* First line of every test that needs PostgreSQL. */
#define HX_NEED_PG()                                                                               \
	do {                                                                                       \
		if (!HX.base)                                                                      \
			skip();                                                                    \
	} while (0)

/* The completion callback: encode the response as server.c would. */
static inline void hx_on_complete(request *req)
{
	assert_false(req->done); /* exactly once */
	if (!req->no_response) {
		kwriter w;
		kw_init(&w, 256);
		assert_non_null(req->resp);
		proto_encode_response(req, &w);
		req->out = kw_steal(&w, &req->out_len);
		assert_true(req->out_len > 8);
	}
	req->done = true;
	HX.completions++;
}

/* Run the event loop until req completes. */
static inline void hx_wait(request *req)
{
	struct timeval tv = {HX_TIMEOUT_S, 0};

	HX.timed_out = false;
	evtimer_add(HX.deadline, &tv);
	while (!req->done && !HX.timed_out)
		event_base_loop(HX.base, EVLOOP_ONCE);
	evtimer_del(HX.deadline);
	if (!req->done)
		fail_msg("%s request did not complete within %d s", req->api->name, HX_TIMEOUT_S);
}

/* A request for API key at version ver with the given body, not yet run. */
static inline request *hx_new(int16_t key, int16_t ver, const void *body, size_t body_size)
{
	arena *a = arena_new();
	request *req = arena_alloc(a, sizeof(*req));

	req->arena = a;
	req->api = api_lookup(key);
	assert_non_null(req->api);
	assert_true(ver >= req->api->min_ver && ver <= req->api->max_ver);
	req->api_key = key;
	req->api_version = ver;
	req->correlation_id = 7;
	req->client_id = kstr_c("unit-test");
	req->client_host = kstr_c("/127.0.0.1");
	req->on_complete = hx_on_complete;
	req->slots = HX.slots;
	req->db = HX.db;
	/* The body lives in the request's arena, as a decoded one would. */
	req->body = arena_memdup(a, body, body_size);
	return req;
}

static inline void hx_run(request *req)
{
	handler_fn h = handler_lookup(req->api_key);

	assert_non_null(h);
	h(req);
	hx_wait(req);
}

/* Build, run and wait: the request, completed; free with hx_free(). */
#define hx_call(key, ver, body) hx_call_(key, ver, &(body), sizeof(body))
static inline request *hx_call_(int16_t key, int16_t ver, const void *body, size_t size)
{
	request *req = hx_new(key, ver, body, size);
	hx_run(req);
	return req;
}

static inline void hx_free(request *req)
{
	free(req->out);
	arena_free(req->arena);
}

/* ---- building bodies ---- */

#define KS(s) kstr_c(s)
#define ARR(items, n) ((karray){(n), (void *)(items)})

/* One RecordBatch of n records "v<first>".. with keys "k<i>", for produce;
 * producer fields -1 unless given. The bytes live in a's memory. */
static inline kstr hx_batch(arena *a, int n, int first, int64_t producer_id, int16_t epoch,
		     int32_t base_sequence, bool transactional)
{
	record *recs = arena_alloc(a, sizeof(*recs) * (size_t)n);
	record_batch hdr = {0};
	kwriter w;
	size_t len;

	for (int i = 0; i < n; i++) {
		char *k = arena_alloc(a, 16), *v = arena_alloc(a, 16);
		snprintf(k, 16, "k%d", first + i);
		snprintf(v, 16, "v%d", first + i);
		recs[i].offset_delta = i;
		recs[i].timestamp = 1700000000000 + first + i;
		recs[i].key = kstr_c(k);
		recs[i].value = kstr_c(v);
	}
	hdr.base_offset = 0;
	hdr.partition_leader_epoch = -1;
	hdr.attributes = transactional ? ATTR_TRANSACTIONAL : 0;
	hdr.base_timestamp = -1;
	hdr.producer_id = producer_id;
	hdr.producer_epoch = epoch;
	hdr.base_sequence = base_sequence;
	kw_init(&w, 256);
	assert_int_equal(records_encode_batch(&w, &hdr, recs, n, 0), 0);
	uint8_t *buf = kw_steal(&w, &len);
	arena_adopt(a, buf);
	return (kstr){(const char *)buf, (int32_t)len};
}

/* CreateTopics of one topic with the given partition count: its error. */
static inline int16_t hx_create_topic(const char *name, int32_t partitions)
{
	create_topics_req_topic t = {.name = KS(name),
				     .num_partitions = partitions,
				     .replication_factor = 1,
				     .assignments = ARR(NULL, 0),
				     .configs = ARR(NULL, 0)};
	create_topics_req b = {.topics = ARR(&t, 1), .timeout_ms = 10000};
	request *req = hx_call(API_CREATE_TOPICS, 5, b);
	create_topics_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	int16_t e = ((create_topics_resp_topic *)r->topics.items)[0].error_code;
	hx_free(req);
	return e;
}

/* Produce one batch to (topic, partition) with acks=-1 at v9; returns the
 * partition's error and sets *base_offset. */
static inline int16_t hx_produce(const char *topic, int32_t partition, kstr records, kstr txn_id,
			  int64_t *base_offset)
{
	produce_req_partition p = {.index = partition, .records = records};
	produce_req_topic t = {.name = KS(topic), .partition_data = ARR(&p, 1)};
	produce_req b = {.transactional_id = txn_id,
			 .acks = -1,
			 .timeout_ms = 10000,
			 .topic_data = ARR(&t, 1)};
	request *req = hx_call(API_PRODUCE, 9, b);
	produce_resp *r = req->resp;
	assert_int_equal(r->responses.count, 1);
	produce_resp_topic *rt = r->responses.items;
	assert_int_equal(rt[0].partition_responses.count, 1);
	produce_resp_partition *rp = rt[0].partition_responses.items;
	assert_int_equal(rp[0].index, partition);
	int16_t e = rp[0].error_code;
	if (base_offset)
		*base_offset = rp[0].base_offset;
	hx_free(req);
	return e;
}

/* A consumer group member, as the test keeps it between requests. */
typedef struct hx_member {
	char member_id[128];
	int32_t generation;
} hx_member;

/* The consumer protocol's subscription (v0) to one topic. */
static inline kstr hx_subscription(arena *a, const char *topic)
{
	kwriter w;
	size_t len;

	kw_init(&w, 64);
	kw_i16(&w, 0);
	kw_i32(&w, 1);
	kw_i16(&w, (int16_t)strlen(topic));
	kw_raw(&w, topic, strlen(topic));
	kw_i32(&w, -1);
	uint8_t *buf = kw_steal(&w, &len);
	arena_adopt(a, buf);
	return (kstr){(const char *)buf, (int32_t)len};
}

/* JoinGroup (v5: the member id is handed out first) and SyncGroup as the
 * only member, subscribed to topic: the group is Stable, m its member. */
static inline void hx_join_stable(const char *group, const char *topic, hx_member *m)
{
	arena *a = arena_new();
	join_group_req_protocol proto = {.name = KS("range"), .metadata = hx_subscription(a, topic)};
	join_group_req jb = {.group_id = KS(group),
			     .session_timeout_ms = 30000,
			     .rebalance_timeout_ms = 30000,
			     .member_id = KS(""),
			     .group_instance_id = KSTR_NULL,
			     .protocol_type = KS("consumer"),
			     .protocols = ARR(&proto, 1),
			     .reason = KSTR_NULL};
	request *req = hx_call(API_JOIN_GROUP, 5, jb);
	join_group_resp *jr = req->resp;
	assert_int_equal(jr->error_code, KERR_MEMBER_ID_REQUIRED);
	snprintf(m->member_id, sizeof(m->member_id), "%.*s", (int)jr->member_id.len,
		 jr->member_id.ptr);
	hx_free(req);

	jb.member_id = KS(m->member_id);
	req = hx_call(API_JOIN_GROUP, 5, jb);
	jr = req->resp;
	assert_int_equal(jr->error_code, KERR_NONE);
	assert_true(kstr_eq(jr->leader, m->member_id));
	m->generation = jr->generation_id;
	hx_free(req);

	sync_group_req_assignment as = {.member_id = KS(m->member_id), .assignment = KS("")};
	sync_group_req sb = {.group_id = KS(group),
			     .generation_id = m->generation,
			     .member_id = KS(m->member_id),
			     .group_instance_id = KSTR_NULL,
			     .protocol_type = KS("consumer"),
			     .protocol_name = KS("range"),
			     .assignments = ARR(&as, 1)};
	req = hx_call(API_SYNC_GROUP, 5, sb);
	assert_int_equal(((sync_group_resp *)req->resp)->error_code, KERR_NONE);
	hx_free(req);
	arena_free(a);
}

/* LeaveGroup of m: the group is Empty again. */
static inline void hx_leave(const char *group, const hx_member *m)
{
	leave_group_req_member lm = {.member_id = KS(m->member_id),
				     .group_instance_id = KSTR_NULL,
				     .reason = KSTR_NULL};
	leave_group_req b = {.group_id = KS(group), .member_id = KS(""), .members = ARR(&lm, 1)};
	request *req = hx_call(API_LEAVE_GROUP, 4, b);
	assert_int_equal(((leave_group_resp *)req->resp)->error_code, KERR_NONE);
	hx_free(req);
}

#endif
