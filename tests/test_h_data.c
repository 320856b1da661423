/*
 * The data path's handlers driven without sockets (handler_harness.h):
 * Produce, Fetch and ListOffsets against a real PostgreSQL, including what
 * a client sees when it gets things wrong -- unknown topics and partitions,
 * bad acks, corrupt or empty batches, oversized batches, fetch sessions,
 * offsets past the end -- and the waiting side of Fetch: a long poll that a
 * produce wakes, one that times out, and read-ahead that serves the next
 * Fetch from where the last one stopped.
 */
#include "handler_harness.h"

#define TOPIC "data"

static int setup(void **state)
{
	if (hx_setup(state) != 0)
		return -1;
	if (HX.base) {
		if (hx_create_topic(TOPIC, 2) != KERR_NONE)
			return -1;
		if (hx_create_topic("empty", 1) != KERR_NONE)
			return -1;
	}
	return 0;
}

/* ---- helpers ---- */

typedef struct fetch_out {
	int16_t top_error;
	int16_t error;
	int64_t high_watermark;
	int64_t last_stable_offset;
	int nrecords;
	int64_t first_offset, last_offset;
	char first_value[16];
} fetch_out;

/* Decode a partition's records as a consumer would. */
static void read_records(const fetch_resp_partition *p, fetch_out *o)
{
	arena *a = arena_new();
	record_batch *batches;
	int nb;

	o->nrecords = 0;
	o->first_offset = o->last_offset = -1;
	o->first_value[0] = 0;
	if (p->records.len > 0) {
		assert_int_equal(records_decode(a, (const uint8_t *)p->records.ptr,
						(size_t)p->records.len, 1 << 26, &batches, &nb),
				 0);
		for (int b = 0; b < nb; b++) {
			for (int r = 0; r < batches[b].record_count; r++) {
				int64_t off = batches[b].base_offset + batches[b].records[r].offset_delta;
				if (o->nrecords == 0) {
					o->first_offset = off;
					kstr v = batches[b].records[r].value;
					snprintf(o->first_value, sizeof(o->first_value), "%.*s",
						 (int)v.len, v.ptr);
				} else {
					/* offsets rise by one within what is returned */
					assert_int_equal(off, o->last_offset + 1);
				}
				o->last_offset = off;
				o->nrecords++;
			}
		}
	}
	arena_free(a);
}

static fetch_req_partition fetch_part(int32_t partition, int64_t offset, int32_t max_bytes)
{
	return (fetch_req_partition){.partition = partition,
				     .current_leader_epoch = -1,
				     .fetch_offset = offset,
				     .last_fetched_epoch = -1,
				     .log_start_offset = -1,
				     .partition_max_bytes = max_bytes};
}

static fetch_req fetch_body(fetch_req_topic *t, int32_t max_wait_ms, int32_t min_bytes)
{
	return (fetch_req){.replica_id = -1,
			   .max_wait_ms = max_wait_ms,
			   .min_bytes = min_bytes,
			   .max_bytes = 1 << 20,
			   .isolation_level = 0,
			   .session_id = 0,
			   .session_epoch = -1,
			   .topics = ARR(t, 1),
			   .forgotten_topics_data = ARR(NULL, 0),
			   .rack_id = KS("")};
}

static void fetch_result(request *req, fetch_out *o)
{
	fetch_resp *r = req->resp;
	o->top_error = r->error_code;
	if (r->responses.count == 0) {
		o->error = -2;
		return;
	}
	assert_int_equal(r->responses.count, 1);
	fetch_resp_topic *rt = r->responses.items;
	assert_int_equal(rt[0].partitions.count, 1);
	fetch_resp_partition *p = rt[0].partitions.items;
	o->error = p->error_code;
	o->high_watermark = p->high_watermark;
	o->last_stable_offset = p->last_stable_offset;
	read_records(p, o);
}

/* One Fetch of one partition with no wait. */
static fetch_out fetch1(const char *topic, int32_t partition, int64_t offset, int32_t max_bytes)
{
	fetch_req_partition p = fetch_part(partition, offset, max_bytes);
	fetch_req_topic t = {.topic = KS(topic), .partitions = ARR(&p, 1)};
	fetch_req b = fetch_body(&t, 0, 1);
	fetch_out o;
	request *req = hx_call(API_FETCH, 12, b);
	fetch_result(req, &o);
	hx_free(req);
	return o;
}

static int64_t produce_n(const char *topic, int32_t partition, int n, int first)
{
	arena *a = arena_new();
	int64_t base = -1;
	assert_int_equal(hx_produce(topic, partition, hx_batch(a, n, first, -1, -1, -1, false),
				    KSTR_NULL, &base),
			 KERR_NONE);
	arena_free(a);
	return base;
}

/* ListOffsets of one partition at timestamp ts (v7): error, offset. */
static int16_t list_offset(const char *topic, int32_t partition, int64_t ts, int8_t isolation,
			   int64_t *offset)
{
	list_offsets_req_partition p = {
		.partition_index = partition, .current_leader_epoch = -1, .timestamp = ts};
	list_offsets_req_topic t = {.name = KS(topic), .partitions = ARR(&p, 1)};
	list_offsets_req b = {.replica_id = -1, .isolation_level = isolation, .topics = ARR(&t, 1)};
	request *req = hx_call(API_LIST_OFFSETS, 7, b);
	list_offsets_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	list_offsets_resp_topic *rt = r->topics.items;
	assert_int_equal(rt[0].partitions.count, 1);
	list_offsets_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp[0].partition_index, partition);
	int16_t e = rp[0].error_code;
	*offset = rp[0].offset;
	hx_free(req);
	return e;
}

/* ---- Produce ---- */

static void test_produce_assigns_consecutive_offsets(void **state)
{
	(void)state;
	HX_NEED_PG();
	int64_t a = produce_n(TOPIC, 1, 3, 0);
	int64_t b = produce_n(TOPIC, 1, 2, 3);
	assert_int_equal(b, a + 3);
	int64_t latest;
	assert_int_equal(list_offset(TOPIC, 1, -1, 0, &latest), KERR_NONE);
	assert_int_equal(latest, b + 2);
}

static void test_produce_unknown_topic_or_partition(void **state)
{
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	kstr batch = hx_batch(a, 1, 0, -1, -1, -1, false);
	assert_int_equal(hx_produce("no-such-topic", 0, batch, KSTR_NULL, NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(hx_produce(TOPIC, 7, batch, KSTR_NULL, NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	/* No topic can have an illegal name: Kafka finds it in no metadata. */
	assert_int_equal(hx_produce("bad name!", 0, batch, KSTR_NULL, NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	arena_free(a);
}

static void test_produce_bad_records(void **state)
{
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	kstr batch = hx_batch(a, 2, 0, -1, -1, -1, false);
	char *corrupt = arena_memdup(a, batch.ptr, (size_t)batch.len);
	corrupt[batch.len - 1] ^= 0x55; /* the CRC covers the records */
	assert_int_equal(hx_produce(TOPIC, 0, (kstr){corrupt, batch.len}, KSTR_NULL, NULL),
			 KERR_CORRUPT_MESSAGE);
	assert_int_equal(hx_produce(TOPIC, 0, (kstr){batch.ptr, 30}, KSTR_NULL, NULL),
			 KERR_CORRUPT_MESSAGE);
	assert_int_equal(hx_produce(TOPIC, 0, KS(""), KSTR_NULL, NULL), KERR_INVALID_RECORD);
	/* A transactional batch needs a transactional id. */
	kstr txn = hx_batch(a, 1, 0, 1000, 0, 0, true);
	assert_int_equal(hx_produce(TOPIC, 0, txn, KSTR_NULL, NULL),
			 KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
	/* Nothing of the above was written. */
	int64_t latest;
	assert_int_equal(list_offset(TOPIC, 0, -1, 0, &latest), KERR_NONE);
	fetch_out o = fetch1(TOPIC, 0, 0, 1 << 20);
	assert_int_equal(o.high_watermark, latest);
	arena_free(a);
}

static void test_produce_message_too_large(void **state)
{
	int32_t saved = g_config.message_max_bytes;
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	kstr batch = hx_batch(a, 3, 0, -1, -1, -1, false);
	g_config.message_max_bytes = batch.len - 1;
	int16_t e = hx_produce(TOPIC, 0, batch, KSTR_NULL, NULL);
	g_config.message_max_bytes = saved;
	assert_int_equal(e, KERR_MESSAGE_TOO_LARGE);
	arena_free(a);
}

static void test_produce_bad_acks_and_acks_zero(void **state)
{
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	produce_req_partition p = {.index = 0, .records = hx_batch(a, 1, 0, -1, -1, -1, false)};
	produce_req_topic t = {.name = KS(TOPIC), .partition_data = ARR(&p, 1)};
	produce_req b = {.transactional_id = KSTR_NULL, .acks = 2, .timeout_ms = 1000,
			 .topic_data = ARR(&t, 1)};
	request *req = hx_call(API_PRODUCE, 9, b);
	produce_resp *r = req->resp;
	produce_resp_partition *rp = ((produce_resp_topic *)r->responses.items)[0].partition_responses.items;
	assert_int_equal(rp[0].error_code, KERR_INVALID_REQUIRED_ACKS);
	hx_free(req);

	int64_t before, after;
	assert_int_equal(list_offset(TOPIC, 0, -1, 0, &before), KERR_NONE);
	b.acks = 0;
	req = hx_call(API_PRODUCE, 9, b);
	assert_true(req->no_response); /* nothing is sent, yet it was written */
	hx_free(req);
	assert_int_equal(list_offset(TOPIC, 0, -1, 0, &after), KERR_NONE);
	assert_int_equal(after, before + 1);
	arena_free(a);
}

static void test_produce_idempotent_sequence(void **state)
{
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	init_producer_id_req ib = {.transactional_id = KSTR_NULL, .transaction_timeout_ms = -1,
				   .producer_id = -1, .producer_epoch = -1};
	request *req = hx_call(API_INIT_PRODUCER_ID, 4, ib);
	init_producer_id_resp *ir = req->resp;
	assert_int_equal(ir->error_code, KERR_NONE);
	int64_t pid = ir->producer_id;
	int16_t epoch = ir->producer_epoch;
	assert_true(pid >= 0);
	hx_free(req);

	int64_t base;
	assert_int_equal(hx_produce(TOPIC, 1, hx_batch(a, 2, 0, pid, epoch, 0, false), KSTR_NULL,
				    &base),
			 KERR_NONE);
	/* A gap in the sequence is refused; the next one in order is not. */
	assert_int_equal(hx_produce(TOPIC, 1, hx_batch(a, 1, 0, pid, epoch, 5, false), KSTR_NULL,
				    NULL),
			 KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	int64_t next;
	assert_int_equal(hx_produce(TOPIC, 1, hx_batch(a, 1, 0, pid, epoch, 2, false), KSTR_NULL,
				    &next),
			 KERR_NONE);
	assert_int_equal(next, base + 2);
	arena_free(a);
}

/* Produce v13: one batch to (topic id, partition); the partition's error. */
static int16_t produce_by_id(kuuid id, int32_t partition, kstr records, int64_t *base_offset)
{
	produce_req_partition p = {.index = partition, .records = records};
	produce_req_topic t = {.name = KSTR_NULL, .topic_id = id, .partition_data = ARR(&p, 1)};
	produce_req b = {.transactional_id = KSTR_NULL,
			 .acks = -1,
			 .timeout_ms = 10000,
			 .topic_data = ARR(&t, 1)};
	request *req = hx_call(API_PRODUCE, 13, b);
	produce_resp *r = req->resp;
	assert_int_equal(r->responses.count, 1);
	produce_resp_topic *rt = r->responses.items;
	assert_memory_equal(rt[0].topic_id.b, id.b, 16);
	produce_resp_partition *rp = rt[0].partition_responses.items;
	int16_t e = rp[0].error_code;
	if (base_offset)
		*base_offset = rp[0].base_offset;
	hx_free(req);
	return e;
}

static kuuid topic_id_of(const char *topic);

static void test_produce_by_topic_id(void **state)
{
	(void)state;
	HX_NEED_PG();
	arena *a = arena_new();
	init_producer_id_req ib = {.transactional_id = KSTR_NULL, .transaction_timeout_ms = -1,
				   .producer_id = -1, .producer_epoch = -1};
	request *req = hx_call(API_INIT_PRODUCER_ID, 4, ib);
	int64_t pid = ((init_producer_id_resp *)req->resp)->producer_id;
	int16_t epoch = ((init_producer_id_resp *)req->resp)->producer_epoch;
	hx_free(req);

	assert_int_equal(hx_create_topic("by-id", 1), KERR_NONE);
	kuuid id = topic_id_of("by-id");
	int64_t base = -1;
	assert_int_equal(produce_by_id(id, 0, hx_batch(a, 2, 0, -1, -1, -1, false), &base),
			 KERR_NONE);
	assert_int_equal(base, 0);
	assert_int_equal(produce_by_id(id, 0, hx_batch(a, 1, 2, pid, epoch, 0, false), &base),
			 KERR_NONE);
	assert_int_equal(base, 2);
	assert_int_equal(produce_by_id(id, 4, hx_batch(a, 1, 0, -1, -1, -1, false), NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	kuuid unknown = {{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}};
	assert_int_equal(produce_by_id(unknown, 0, hx_batch(a, 1, 0, -1, -1, -1, false), NULL),
			 KERR_UNKNOWN_TOPIC_ID);

	/* Created again: the old id, whose name the broker remembers, writes
	 * nothing, plain or idempotent. */
	assert_true(hx_sql(HX.conninfo, "SELECT kafka.delete_topic('by-id')"));
	assert_int_equal(hx_create_topic("by-id", 1), KERR_NONE);
	assert_int_equal(produce_by_id(id, 0, hx_batch(a, 1, 3, pid, epoch, 1, false), NULL),
			 KERR_UNKNOWN_TOPIC_ID);
	assert_int_equal(produce_by_id(id, 0, hx_batch(a, 1, 0, -1, -1, -1, false), NULL),
			 KERR_UNKNOWN_TOPIC_ID);
	assert_int_equal(produce_by_id(topic_id_of("by-id"), 0,
				       hx_batch(a, 1, 0, -1, -1, -1, false), &base),
			 KERR_NONE);
	assert_int_equal(base, 0);
	arena_free(a);
}

/* ---- Fetch ---- */

static void test_fetch_reads_what_was_produced(void **state)
{
	(void)state;
	HX_NEED_PG();
	int64_t base = produce_n(TOPIC, 0, 5, 100);
	fetch_out o = fetch1(TOPIC, 0, base, 1 << 20);
	assert_int_equal(o.top_error, KERR_NONE);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.high_watermark, base + 5);
	assert_int_equal(o.first_offset, base);
	assert_int_equal(o.last_offset, base + 4);
	assert_string_equal(o.first_value, "v100");

	o = fetch1(TOPIC, 0, base + 3, 1 << 20);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.first_offset, base + 3);
	assert_string_equal(o.first_value, "v103");

	/* At the high watermark: nothing, no error. */
	o = fetch1(TOPIC, 0, base + 5, 1 << 20);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.nrecords, 0);
}

static void test_fetch_errors(void **state)
{
	(void)state;
	HX_NEED_PG();
	fetch_out o = fetch1("no-such-topic", 0, 0, 1 << 20);
	assert_int_equal(o.error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	o = fetch1(TOPIC, 9, 0, 1 << 20);
	assert_int_equal(o.error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	o = fetch1(TOPIC, -1, 0, 1 << 20);
	assert_int_equal(o.error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	o = fetch1(TOPIC, 0, 1000000, 1 << 20);
	assert_int_equal(o.error, KERR_OFFSET_OUT_OF_RANGE);
	o = fetch1(TOPIC, 0, -5, 1 << 20);
	assert_int_equal(o.error, KERR_OFFSET_OUT_OF_RANGE);

	/* Fetch sessions do not exist: a client asking for one is told so. */
	fetch_req_partition p = fetch_part(0, 0, 1 << 20);
	fetch_req_topic t = {.topic = KS(TOPIC), .partitions = ARR(&p, 1)};
	fetch_req b = fetch_body(&t, 0, 1);
	b.session_id = 42;
	b.session_epoch = 1;
	request *req = hx_call(API_FETCH, 12, b);
	fetch_resp *r = req->resp;
	assert_int_equal(r->error_code, KERR_FETCH_SESSION_ID_NOT_FOUND);
	assert_int_equal(r->session_id, 0);
	hx_free(req);
}

/* The id Metadata v12 gives topic. */
static kuuid topic_id_of(const char *topic)
{
	metadata_req_topic t = {.name = KS(topic)};
	metadata_req b = {.topics = ARR(&t, 1)};
	request *req = hx_call(API_METADATA, 12, b);
	metadata_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	metadata_resp_topic *rt = r->topics.items;
	assert_int_equal(rt->error_code, KERR_NONE);
	kuuid id = rt->topic_id;
	hx_free(req);
	return id;
}

/* One Fetch at version ver (13+) of one partition of the topic with id. */
static fetch_out fetch_by_id(int16_t ver, kuuid id, int32_t partition, int64_t offset)
{
	fetch_req_partition p = fetch_part(partition, offset, 1 << 20);
	fetch_req_topic t = {.topic = KSTR_NULL, .topic_id = id, .partitions = ARR(&p, 1)};
	fetch_req b = fetch_body(&t, 0, 1);
	fetch_out o;
	request *req = hx_call(API_FETCH, ver, b);
	fetch_result(req, &o);
	fetch_resp_topic *rt = ((fetch_resp *)req->resp)->responses.items;
	assert_memory_equal(rt[0].topic_id.b, id.b, 16);
	hx_free(req);
	return o;
}

static void test_fetch_by_topic_id(void **state)
{
	(void)state;
	HX_NEED_PG();
	int64_t base = produce_n(TOPIC, 1, 3, 300);
	kuuid id = topic_id_of(TOPIC);
	for (int16_t ver = 13; ver <= 17; ver++) {
		fetch_out o = fetch_by_id(ver, id, 1, base);
		assert_int_equal(o.error, KERR_NONE);
		assert_int_equal(o.first_offset, base);
		assert_int_equal(o.high_watermark, base + 3);
		assert_string_equal(o.first_value, "v300");
		o = fetch_by_id(ver, id, 9, 0);
		assert_int_equal(o.error, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	}
	kuuid zero = {{0}}, unknown = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
	assert_int_equal(fetch_by_id(13, zero, 0, 0).error, KERR_UNKNOWN_TOPIC_ID);
	assert_int_equal(fetch_by_id(17, unknown, 0, 0).error, KERR_UNKNOWN_TOPIC_ID);

	/* A topic deleted and created again has a new id; the broker knew
	 * the old one's name, and now answers it UNKNOWN_TOPIC_ID. */
	assert_int_equal(hx_create_topic("reborn", 1), KERR_NONE);
	kuuid old = topic_id_of("reborn");
	assert_int_equal(fetch_by_id(13, old, 0, 0).error, KERR_NONE);
	assert_true(hx_sql(HX.conninfo, "SELECT kafka.delete_topic('reborn')"));
	assert_int_equal(hx_create_topic("reborn", 1), KERR_NONE);
	kuuid now = topic_id_of("reborn");
	assert_memory_not_equal(old.b, now.b, 16);
	assert_int_equal(fetch_by_id(13, old, 0, 0).error, KERR_UNKNOWN_TOPIC_ID);
	assert_int_equal(fetch_by_id(13, old, 0, 0).error, KERR_UNKNOWN_TOPIC_ID);
	assert_int_equal(fetch_by_id(13, now, 0, 0).error, KERR_NONE);
}

/* A long poll on an empty partition is answered when a produce lands,
 * not when max_wait_ms runs out. */
static void test_fetch_long_poll_woken_by_produce(void **state)
{
	(void)state;
	HX_NEED_PG();
	int64_t hw = fetch1("empty", 0, 0, 1 << 20).high_watermark;
	fetch_req_partition p = fetch_part(0, hw, 1 << 20);
	fetch_req_topic t = {.topic = KS("empty"), .partitions = ARR(&p, 1)};
	fetch_req b = fetch_body(&t, 60000, 1);
	request *fetch = hx_new(API_FETCH, 12, &b, sizeof(b));
	handler_lookup(API_FETCH)(fetch);
	/* Let its first round run and find nothing. */
	for (int i = 0; i < 20 && !fetch->done; i++)
		event_base_loop(HX.base, EVLOOP_NONBLOCK);
	assert_false(fetch->done);
	produce_n("empty", 0, 2, 500);
	hx_wait(fetch); /* fails after HX_TIMEOUT_S, far below max_wait_ms */
	fetch_out o;
	fetch_result(fetch, &o);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.first_offset, hw);
	assert_int_equal(o.nrecords, 2);
	assert_string_equal(o.first_value, "v500");
	hx_free(fetch);
}

static void test_fetch_max_wait_expires_empty(void **state)
{
	(void)state;
	HX_NEED_PG();
	fetch_req_partition p = fetch_part(0, fetch1(TOPIC, 1, 0, 1 << 20).high_watermark, 1 << 20);
	p.partition = 1;
	fetch_req_topic t = {.topic = KS(TOPIC), .partitions = ARR(&p, 1)};
	fetch_req b = fetch_body(&t, 100, 1);
	request *req = hx_call(API_FETCH, 12, b);
	fetch_out o;
	fetch_result(req, &o);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.nrecords, 0);
	hx_free(req);
}

/* A consumer that is behind: each answer stops at partition_max_bytes,
 * read-ahead reads on, and every next Fetch gets exactly the records that
 * follow the last one, none skipped or repeated. */
static void test_fetch_read_ahead_continues_where_answer_stopped(void **state)
{
	(void)state;
	HX_NEED_PG();
	int32_t saved = g_config.fetch_readahead_max_bytes;
	g_config.fetch_readahead_max_bytes = 1 << 20;
	assert_int_equal(hx_create_topic("behind", 1), KERR_NONE);
	for (int i = 0; i < 4; i++)
		produce_n("behind", 0, 50, i * 50);
	int64_t offset = 0;
	int rounds = 0, used_readahead = 0;
	while (offset < 200) {
		fetch_out o = fetch1("behind", 0, offset, 600);
		assert_int_equal(o.error, KERR_NONE);
		assert_true(o.nrecords > 0);
		assert_int_equal(o.first_offset, offset);
		char want[16];
		snprintf(want, sizeof(want), "v%d", (int)offset);
		assert_string_equal(o.first_value, want);
		offset = o.last_offset + 1;
		rounds++;
		if (HX.slots[CONN_SLOT_FETCH_READAHEAD].data)
			used_readahead++;
		assert_true(rounds < 200);
	}
	assert_int_equal(offset, 200);
	assert_true(rounds > 2);      /* the answers were cut short... */
	assert_true(used_readahead > 0); /* ...and read-ahead was kept for the next */
	g_config.fetch_readahead_max_bytes = saved;
}

/* A Fetch waiting for read-ahead still being read must be answered even
 * when a later Fetch of the connection (pipelined, for other partitions)
 * throws that read-ahead away. */
static void test_fetch_waiting_on_read_ahead_survives_a_later_fetch(void **state)
{
	(void)state;
	HX_NEED_PG();
	int32_t saved = g_config.fetch_readahead_max_bytes;
	g_config.fetch_readahead_max_bytes = 1 << 20;
	assert_int_equal(hx_create_topic("pipelined", 1), KERR_NONE);
	produce_n("pipelined", 0, 100, 0);

	fetch_out a = fetch1("pipelined", 0, 0, 600); /* short: read-ahead starts */
	assert_true(a.nrecords > 0 && a.last_offset < 99);
	assert_non_null(HX.slots[CONN_SLOT_FETCH_READAHEAD].data);

	fetch_req_partition bp = fetch_part(0, a.last_offset + 1, 600);
	fetch_req_topic bt = {.topic = KS("pipelined"), .partitions = ARR(&bp, 1)};
	fetch_req bb = fetch_body(&bt, 0, 1);
	request *b = hx_new(API_FETCH, 12, &bb, sizeof(bb));
	handler_lookup(API_FETCH)(b); /* waits for the read-ahead */
	assert_false(b->done);

	fetch_out c = fetch1("bad name!", 0, 0, 600);
	assert_int_equal(c.error, KERR_UNKNOWN_TOPIC_OR_PARTITION);

	hx_wait(b);
	fetch_out o;
	fetch_result(b, &o);
	assert_int_equal(o.error, KERR_NONE);
	assert_int_equal(o.first_offset, a.last_offset + 1);
	hx_free(b);
	g_config.fetch_readahead_max_bytes = saved;
}

/* ---- ListOffsets ---- */

static void test_list_offsets(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(hx_create_topic("listed", 1), KERR_NONE);
	int64_t off;
	assert_int_equal(list_offset("listed", 0, -2, 0, &off), KERR_NONE);
	assert_int_equal(off, 0);
	assert_int_equal(list_offset("listed", 0, -1, 0, &off), KERR_NONE);
	assert_int_equal(off, 0);
	produce_n("listed", 0, 5, 0); /* timestamps 1700000000000 + 0..4 */
	assert_int_equal(list_offset("listed", 0, -2, 0, &off), KERR_NONE);
	assert_int_equal(off, 0);
	assert_int_equal(list_offset("listed", 0, -1, 0, &off), KERR_NONE);
	assert_int_equal(off, 5);
	assert_int_equal(list_offset("listed", 0, -3, 0, &off), KERR_NONE);
	assert_int_equal(off, 4);
	assert_int_equal(list_offset("listed", 0, 1700000000002, 0, &off), KERR_NONE);
	assert_int_equal(off, 2);
	/* Past the last timestamp: no offset. */
	assert_int_equal(list_offset("listed", 0, 1800000000000, 0, &off), KERR_NONE);
	assert_int_equal(off, -1);
}

static void test_list_offsets_errors(void **state)
{
	(void)state;
	HX_NEED_PG();
	int64_t off;
	assert_int_equal(list_offset("no-such-topic", 0, -1, 0, &off),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(list_offset(TOPIC, 5, -1, 0, &off), KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(list_offset(TOPIC, -1, -1, 0, &off), KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(list_offset("bad name!", 0, -1, 0, &off),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_produce_assigns_consecutive_offsets),
		cmocka_unit_test(test_produce_unknown_topic_or_partition),
		cmocka_unit_test(test_produce_bad_records),
		cmocka_unit_test(test_produce_message_too_large),
		cmocka_unit_test(test_produce_bad_acks_and_acks_zero),
		cmocka_unit_test(test_produce_idempotent_sequence),
		cmocka_unit_test(test_produce_by_topic_id),
		cmocka_unit_test(test_fetch_reads_what_was_produced),
		cmocka_unit_test(test_fetch_errors),
		cmocka_unit_test(test_fetch_by_topic_id),
		cmocka_unit_test(test_fetch_long_poll_woken_by_produce),
		cmocka_unit_test(test_fetch_max_wait_expires_empty),
		cmocka_unit_test(test_fetch_read_ahead_continues_where_answer_stopped),
		cmocka_unit_test(test_fetch_waiting_on_read_ahead_survives_a_later_fetch),
		cmocka_unit_test(test_list_offsets),
		cmocka_unit_test(test_list_offsets_errors),
	};
	return cmocka_run_group_tests(tests, setup, hx_teardown);
}
