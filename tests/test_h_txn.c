/*
 * The transaction APIs driven without sockets (handler_harness.h):
 * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and
 * EndTxn against a real PostgreSQL, through a committed and an aborted
 * transaction as a transactional producer runs them, and what a producer
 * is told when it gets things wrong: fenced by a newer epoch (in the error
 * code its API version knows), an unknown producer id, an invalid state,
 * invalid ids and timeouts, unknown partitions, a stale group generation.
 */
#include "coordinator.h"
#include "handler_harness.h"
#include "idtext.h"
#include "validate.h"

#define TOPIC "txn-data"

static int setup(void **state)
{
	if (hx_setup(state) != 0)
		return -1;
	if (HX.base && hx_create_topic(TOPIC, 2) != KERR_NONE)
		return -1;
	return 0;
}

typedef struct producer {
	const char *txn_id;
	int64_t pid;
	int16_t epoch;
} producer;

static int16_t init_pid(int16_t ver, kstr txn_id, int32_t timeout_ms, producer *p)
{
	init_producer_id_req b = {.transactional_id = txn_id,
				  .transaction_timeout_ms = timeout_ms,
				  .producer_id = -1,
				  .producer_epoch = -1};
	request *req = hx_call(API_INIT_PRODUCER_ID, ver, b);
	init_producer_id_resp *r = req->resp;
	int16_t e = r->error_code;
	if (p && e == KERR_NONE) {
		p->pid = r->producer_id;
		p->epoch = r->producer_epoch;
	}
	hx_free(req);
	return e;
}

static producer begin_producer(const char *txn_id)
{
	producer p = {.txn_id = txn_id};
	assert_int_equal(init_pid(4, KS(txn_id), 60000, &p), KERR_NONE);
	assert_true(p.pid >= 0);
	return p;
}

/* AddPartitionsToTxn of (topic, partition) at version ver: its error. */
static int16_t add_partition(int16_t ver, const producer *p, int64_t pid, int16_t epoch,
			     const char *topic, int32_t partition)
{
	int32_t parts[1] = {partition};
	add_partitions_to_txn_topic t = {.name = KS(topic), .partitions = ARR(parts, 1)};
	add_partitions_to_txn_req b = {.v3_and_below_transactional_id = KS(p->txn_id),
				       .v3_and_below_producer_id = pid,
				       .v3_and_below_producer_epoch = epoch,
				       .v3_and_below_topics = ARR(&t, 1)};
	request *req = hx_call(API_ADD_PARTITIONS_TO_TXN, ver, b);
	add_partitions_to_txn_resp *r = req->resp;
	assert_int_equal(r->results_by_topic_v3_and_below.count, 1);
	add_partitions_to_txn_topic_result *rt = r->results_by_topic_v3_and_below.items;
	assert_int_equal(rt[0].results_by_partition.count, 1);
	add_partitions_to_txn_partition_result *rp = rt[0].results_by_partition.items;
	assert_int_equal(rp[0].partition_index, partition);
	int16_t e = rp[0].partition_error_code;
	hx_free(req);
	return e;
}

static int16_t add_offsets(kstr txn_id, int64_t pid, int16_t epoch, kstr group)
{
	add_offsets_to_txn_req b = {
		.transactional_id = txn_id, .producer_id = pid, .producer_epoch = epoch,
		.group_id = group};
	request *req = hx_call(API_ADD_OFFSETS_TO_TXN, 3, b);
	int16_t e = ((add_offsets_to_txn_resp *)req->resp)->error_code;
	hx_free(req);
	return e;
}

static int16_t end_txn(int16_t ver, const producer *p, int16_t epoch, bool commit)
{
	end_txn_req b = {.transactional_id = KS(p->txn_id), .producer_id = p->pid,
			 .producer_epoch = epoch, .committed = commit};
	request *req = hx_call(API_END_TXN, ver, b);
	int16_t e = ((end_txn_resp *)req->resp)->error_code;
	hx_free(req);
	return e;
}

/* TxnOffsetCommit v3 of one partition: its error. */
static int16_t txn_commit(const producer *p, kstr group, int32_t generation, const char *member,
			  int32_t partition, int64_t offset)
{
	txn_offset_commit_req_partition part = {.partition_index = partition,
						.committed_offset = offset,
						.committed_leader_epoch = -1,
						.committed_metadata = KS("")};
	txn_offset_commit_req_topic t = {.name = KS(TOPIC), .partitions = ARR(&part, 1)};
	txn_offset_commit_req b = {.transactional_id = KS(p->txn_id),
				   .group_id = group,
				   .producer_id = p->pid,
				   .producer_epoch = p->epoch,
				   .generation_id = generation,
				   .member_id = KS(member),
				   .group_instance_id = KSTR_NULL,
				   .topics = ARR(&t, 1)};
	request *req = hx_call(API_TXN_OFFSET_COMMIT, 3, b);
	txn_offset_commit_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	txn_offset_commit_resp_topic *rt = r->topics.items;
	int16_t e = ((txn_offset_commit_resp_partition *)rt[0].partitions.items)[0].error_code;
	hx_free(req);
	return e;
}

static int16_t produce_txn(const producer *p, int32_t partition, int32_t seq, int n,
			   int64_t *base)
{
	arena *a = arena_new();
	int16_t e = hx_produce(TOPIC, partition, hx_batch(a, n, seq, p->pid, p->epoch, seq, true),
			       KS(p->txn_id), base);
	arena_free(a);
	return e;
}

/* ListOffsets LATEST of a partition, read_committed or not. */
static int64_t latest(int32_t partition, bool read_committed)
{
	list_offsets_req_partition lp = {
		.partition_index = partition, .current_leader_epoch = -1, .timestamp = -1};
	list_offsets_req_topic t = {.name = KS(TOPIC), .partitions = ARR(&lp, 1)};
	list_offsets_req b = {.replica_id = -1,
			      .isolation_level = read_committed ? 1 : 0,
			      .topics = ARR(&t, 1)};
	request *req = hx_call(API_LIST_OFFSETS, 7, b);
	list_offsets_resp_topic *rt = ((list_offsets_resp *)req->resp)->topics.items;
	list_offsets_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp[0].error_code, KERR_NONE);
	int64_t off = rp[0].offset;
	hx_free(req);
	return off;
}

/* OffsetFetch (v8, require_stable) of one partition: error and offset. */
static int16_t fetch_committed(const char *group, int32_t partition, int64_t *offset)
{
	int32_t parts[1] = {partition};
	offset_fetch_req_topic t = {.name = KS(TOPIC), .partition_indexes = ARR(parts, 1)};
	offset_fetch_req_group g = {.group_id = KS(group), .topics = ARR(&t, 1)};
	offset_fetch_req b = {.groups = ARR(&g, 1), .require_stable = true};
	request *req = hx_call(API_OFFSET_FETCH, 8, b);
	offset_fetch_resp_group *rg = ((offset_fetch_resp *)req->resp)->groups.items;
	offset_fetch_resp_topic *rt = rg[0].topics.items;
	offset_fetch_resp_partition *rp = rt[0].partitions.items;
	int16_t e = rp[0].error_code;
	*offset = rp[0].committed_offset;
	hx_free(req);
	return e;
}

static void test_committed_transaction(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-commit");
	int64_t lso_before = latest(0, true);
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, TOPIC, 0), KERR_NONE);
	int64_t base;
	assert_int_equal(produce_txn(&p, 0, 0, 3, &base), KERR_NONE);
	/* Open: read_committed consumers do not see past the transaction. */
	assert_int_equal(latest(0, false), base + 3);
	assert_int_equal(latest(0, true), lso_before);
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, KS("tx-group")), KERR_NONE);
	assert_int_equal(txn_commit(&p, KS("tx-group"), -1, "", 1, 77), KERR_NONE);
	int64_t off;
	assert_int_equal(fetch_committed("tx-group", 1, &off), KERR_UNSTABLE_OFFSET_COMMIT);

	assert_int_equal(end_txn(3, &p, p.epoch, true), KERR_NONE);
	/* The marker follows the records: the stable offset passes both. */
	assert_int_equal(latest(0, true), base + 4);
	assert_int_equal(fetch_committed("tx-group", 1, &off), KERR_NONE);
	assert_int_equal(off, 77);
	/* A retried commit is answered as the first was; an abort of what
	 * committed is not possible. */
	assert_int_equal(end_txn(3, &p, p.epoch, true), KERR_NONE);
	assert_int_equal(end_txn(3, &p, p.epoch, false), KERR_INVALID_TXN_STATE);
}

static void test_aborted_transaction(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-abort");
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, TOPIC, 1), KERR_NONE);
	int64_t base;
	assert_int_equal(produce_txn(&p, 1, 0, 2, &base), KERR_NONE);
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, KS("tx-abort-group")),
			 KERR_NONE);
	assert_int_equal(txn_commit(&p, KS("tx-abort-group"), -1, "", 0, 5), KERR_NONE);
	assert_int_equal(end_txn(3, &p, p.epoch, false), KERR_NONE);
	assert_int_equal(latest(1, true), base + 3);
	int64_t off;
	assert_int_equal(fetch_committed("tx-abort-group", 0, &off), KERR_NONE);
	assert_int_equal(off, -1); /* the aborted commit never happened */

	/* read_committed Fetch names the aborted transaction. */
	fetch_req_partition fp = {.partition = 1, .current_leader_epoch = -1, .fetch_offset = base,
				  .last_fetched_epoch = -1, .log_start_offset = -1,
				  .partition_max_bytes = 1 << 20};
	fetch_req_topic ft = {.topic = KS(TOPIC), .partitions = ARR(&fp, 1)};
	fetch_req fb = {.replica_id = -1, .max_wait_ms = 0, .min_bytes = 1, .max_bytes = 1 << 20,
			.isolation_level = 1, .session_epoch = -1, .topics = ARR(&ft, 1),
			.forgotten_topics_data = ARR(NULL, 0), .rack_id = KS("")};
	request *req = hx_call(API_FETCH, 12, fb);
	fetch_resp_topic *rt = ((fetch_resp *)req->resp)->responses.items;
	fetch_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp->error_code, KERR_NONE);
	assert_int_equal(rp->last_stable_offset, base + 3);
	assert_int_equal(rp->aborted_transactions.count, 1);
	fetch_resp_aborted *ab = rp->aborted_transactions.items;
	assert_int_equal(ab[0].producer_id, p.pid);
	assert_int_equal(ab[0].first_offset, base);
	hx_free(req);
}

static void test_init_producer_id_errors(void **state)
{
	(void)state;
	HX_NEED_PG();
	assert_int_equal(init_pid(4, KS(""), 60000, NULL), KERR_INVALID_REQUEST);
	/* Ids with a NUL or bytes that are not UTF-8, as the codec hands them
	 * over (idtext.h), are ids like any other. */
	arena *a = arena_new();
	assert_int_equal(init_pid(4, idtext_from_wire((kstr){"t\0x", 3}, a), 60000, NULL), KERR_NONE);
	assert_int_equal(init_pid(4, idtext_from_wire(KS("tx-\xff"), a), 60000, NULL), KERR_NONE);
	arena_free(a);
	/* Longer than an id PostgreSQL can index; at the bound it is stored. */
	static char id[ID_MAX_BYTES + 1];
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (char)('a' + (i * 7 + i / 26) % 26);
	assert_int_equal(init_pid(4, (kstr){id, ID_MAX_BYTES + 1}, 60000, NULL),
			 KERR_INVALID_REQUEST);
	assert_int_equal(init_pid(4, (kstr){id, ID_MAX_BYTES}, 60000, NULL), KERR_NONE);
	assert_int_equal(init_pid(4, KS("tx-timeout"), g_config.transaction_max_timeout_ms + 1,
				  NULL),
			 KERR_INVALID_TRANSACTION_TIMEOUT);
	/* A producer id without its epoch. */
	init_producer_id_req b = {.transactional_id = KS("tx-half"), .transaction_timeout_ms = 1000,
				  .producer_id = 5, .producer_epoch = -1};
	request *req = hx_call(API_INIT_PRODUCER_ID, 4, b);
	assert_int_equal(((init_producer_id_resp *)req->resp)->error_code, KERR_INVALID_REQUEST);
	hx_free(req);
}

/* A second InitProducerId of the same id bumps the epoch and fences the
 * first producer, which learns it in the code its version knows. */
static void test_fencing(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer old = begin_producer("tx-fence");
	assert_int_equal(add_partition(3, &old, old.pid, old.epoch, TOPIC, 0), KERR_NONE);
	/* The open transaction is aborted and the new producer told to retry,
	 * as Kafka tells it; the retry bumps the epoch once more. */
	producer cur = {.txn_id = "tx-fence"};
	assert_int_equal(init_pid(4, KS(cur.txn_id), 60000, &cur), KERR_CONCURRENT_TRANSACTIONS);
	assert_int_equal(init_pid(4, KS(cur.txn_id), 60000, &cur), KERR_NONE);
	assert_int_equal(cur.pid, old.pid);
	assert_int_equal(cur.epoch, old.epoch + 2);

	assert_int_equal(add_partition(3, &old, old.pid, old.epoch, TOPIC, 1), KERR_PRODUCER_FENCED);
	assert_int_equal(add_partition(1, &old, old.pid, old.epoch, TOPIC, 1),
			 KERR_INVALID_PRODUCER_EPOCH);
	assert_int_equal(end_txn(3, &old, old.epoch, true), KERR_PRODUCER_FENCED);
	assert_int_equal(end_txn(1, &old, old.epoch, true), KERR_INVALID_PRODUCER_EPOCH);
	assert_int_equal(add_offsets(KS(old.txn_id), old.pid, old.epoch, KS("g")),
			 KERR_PRODUCER_FENCED);
	/* Produce speaks of epochs, as in Kafka. */
	assert_int_equal(produce_txn(&old, 0, 0, 1, NULL), KERR_INVALID_PRODUCER_EPOCH);
	/* The fencing aborted the old transaction; the new producer starts clean. */
	assert_int_equal(end_txn(3, &cur, cur.epoch, true), KERR_INVALID_TXN_STATE);
	assert_int_equal(add_partition(3, &cur, cur.pid, cur.epoch, TOPIC, 1), KERR_NONE);
	assert_int_equal(end_txn(3, &cur, cur.epoch, false), KERR_NONE);
}

static void test_add_partitions_errors(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-add");
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, "no-such-topic", 0),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, TOPIC, 9),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(add_partition(3, &p, p.pid + 1000, p.epoch, TOPIC, 0),
			 KERR_INVALID_PRODUCER_ID_MAPPING);
	producer stranger = {.txn_id = "tx-never-initialised", .pid = p.pid, .epoch = p.epoch};
	assert_int_equal(add_partition(3, &stranger, p.pid, p.epoch, TOPIC, 0),
			 KERR_INVALID_PRODUCER_ID_MAPPING);
	/* Producing to a partition not added to the transaction. */
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, TOPIC, 0), KERR_NONE);
	assert_int_equal(produce_txn(&p, 1, 0, 1, NULL), KERR_INVALID_TXN_STATE);
	assert_int_equal(end_txn(3, &p, p.epoch, false), KERR_NONE);
}

/* OffsetCommit and TxnOffsetCommit judge a group id alike. */
static void test_group_id_checks_agree(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-groups");
	arena *a = arena_new();
	kstr bad_utf8 = idtext_from_wire(KS("g-\xff\xfe"), a);
	kstr with_nul = idtext_from_wire((kstr){"g\0x", 3}, a);
	static char long_id[ID_MAX_BYTES + 1];
	memset(long_id, 'g', sizeof(long_id));
	kstr too_long = {long_id, ID_MAX_BYTES + 1};
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, too_long),
			 KERR_INVALID_GROUP_ID);
	assert_int_equal(txn_commit(&p, too_long, -1, "", 0, 1), KERR_INVALID_GROUP_ID);
	assert_int_equal(add_offsets(KS(""), p.pid, p.epoch, KS("g")), KERR_INVALID_REQUEST);
	/* Ids with a NUL or bytes that are not UTF-8, as the codec hands them
	 * over (idtext.h), are groups like any other, for both APIs. */
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, bad_utf8), KERR_NONE);
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, with_nul), KERR_NONE);
	assert_int_equal(txn_commit(&p, bad_utf8, -1, "", 0, 1), KERR_NONE);
	assert_int_equal(txn_commit(&p, with_nul, -1, "", 0, 1), KERR_NONE);

	offset_commit_req_partition op = {.partition_index = 0, .committed_offset = 1,
					  .committed_leader_epoch = -1, .commit_timestamp = -1,
					  .committed_metadata = KSTR_NULL};
	offset_commit_req_topic ot = {.name = KS(TOPIC), .partitions = ARR(&op, 1)};
	kstr ids[3] = {too_long, bad_utf8, with_nul};
	int16_t want[3] = {KERR_INVALID_GROUP_ID, KERR_NONE, KERR_NONE};
	for (int i = 0; i < 3; i++) {
		offset_commit_req ob = {.group_id = ids[i], .generation_id_or_member_epoch = -1,
					.member_id = KS(""), .group_instance_id = KSTR_NULL,
					.retention_time_ms = -1, .topics = ARR(&ot, 1)};
		request *req = hx_call(API_OFFSET_COMMIT, 8, ob);
		offset_commit_resp_topic *rt = ((offset_commit_resp *)req->resp)->topics.items;
		assert_int_equal(
			((offset_commit_resp_partition *)rt[0].partitions.items)[0].error_code,
			want[i]);
		hx_free(req);
	}
	arena_free(a);
}

/* TxnOffsetCommit v3 carries the consumer's generation: a stale one is
 * refused, as in OffsetCommit, once the transaction is verified (Kafka
 * verifies it first). */
static void test_txn_offset_commit_generation(void **state)
{
	(void)state;
	HX_NEED_PG();
	hx_member m;
	hx_join_stable("tx-live-group", TOPIC, &m);
	producer p = begin_producer("tx-gen");
	assert_int_equal(txn_commit(&p, KS("tx-live-group"), m.generation + 1, m.member_id, 0, 3),
			 KERR_INVALID_TXN_STATE);
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, KS("tx-live-group")), KERR_NONE);
	producer stale = p;
	stale.epoch = (int16_t)(p.epoch + 1);
	assert_int_equal(
		txn_commit(&stale, KS("tx-live-group"), m.generation + 1, m.member_id, 0, 3),
		KERR_PRODUCER_FENCED);
	stale = p;
	stale.pid = p.pid + 1000;
	assert_int_equal(
		txn_commit(&stale, KS("tx-live-group"), m.generation, "not-a-member", 0, 3),
		KERR_INVALID_PRODUCER_ID_MAPPING);
	assert_int_equal(txn_commit(&p, KS("tx-live-group"), m.generation + 1, m.member_id, 0, 3),
			 KERR_ILLEGAL_GENERATION);
	assert_int_equal(txn_commit(&p, KS("tx-live-group"), m.generation, "not-a-member", 0, 3),
			 KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(txn_commit(&p, KS("tx-live-group"), m.generation, m.member_id, 0, 3),
			 KERR_NONE);
	assert_int_equal(end_txn(3, &p, p.epoch, true), KERR_NONE);
	int64_t off;
	assert_int_equal(fetch_committed("tx-live-group", 0, &off), KERR_NONE);
	assert_int_equal(off, 3);
	hx_leave("tx-live-group", &m);
}

/* TxnOffsetCommit while the group's next generation waits for an earlier
 * commit to be written: COORDINATOR_LOAD_IN_PROGRESS, which clients
 * before v2 are told as COORDINATOR_NOT_AVAILABLE (KafkaApis). */
static void test_txn_offset_commit_load_in_progress_by_version(void **state)
{
	(void)state;
	HX_NEED_PG();
	hx_member m;
	hx_join_stable("tx-held-group", TOPIC, &m);
	producer p = begin_producer("tx-held");
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, KS("tx-held-group")), KERR_NONE);

	/* A commit being written, then the leader rejoins: the next
	 * generation waits for it. */
	bool held = false;
	assert_int_equal(coord_commit_hold(KS("tx-held-group"), true, &held), KERR_NONE);
	assert_true(held);
	arena *a = arena_new();
	join_group_req_protocol proto = {.name = KS("range"),
					 .metadata = hx_subscription(a, TOPIC)};
	join_group_req jb = {.group_id = KS("tx-held-group"),
			     .session_timeout_ms = 30000,
			     .rebalance_timeout_ms = 30000,
			     .member_id = KS(m.member_id),
			     .group_instance_id = KSTR_NULL,
			     .protocol_type = KS("consumer"),
			     .protocols = ARR(&proto, 1),
			     .reason = KSTR_NULL};
	request *join = hx_new(API_JOIN_GROUP, 5, &jb, sizeof(jb));
	handler_lookup(API_JOIN_GROUP)(join);
	for (int i = 0; i < 100 && !join->done; i++)
		event_base_loop(HX.base, EVLOOP_NONBLOCK);
	assert_false(join->done);

	const int16_t expected[4] = {KERR_COORDINATOR_NOT_AVAILABLE, KERR_COORDINATOR_NOT_AVAILABLE,
				     KERR_COORDINATOR_LOAD_IN_PROGRESS,
				     KERR_COORDINATOR_LOAD_IN_PROGRESS};
	for (int16_t v = 0; v <= 3; v++) {
		txn_offset_commit_req_partition part = {.partition_index = 0,
							.committed_offset = 4,
							.committed_leader_epoch = -1,
							.committed_metadata = KS("")};
		txn_offset_commit_req_topic t = {.name = KS(TOPIC), .partitions = ARR(&part, 1)};
		txn_offset_commit_req b = {.transactional_id = KS(p.txn_id),
					   .group_id = KS("tx-held-group"),
					   .producer_id = p.pid,
					   .producer_epoch = p.epoch,
					   .generation_id = -1,
					   .member_id = KS(""),
					   .group_instance_id = KSTR_NULL,
					   .topics = ARR(&t, 1)};
		request *req = hx_call(API_TXN_OFFSET_COMMIT, v, b);
		txn_offset_commit_resp_topic *rt =
			((txn_offset_commit_resp *)req->resp)->topics.items;
		assert_int_equal(
			((txn_offset_commit_resp_partition *)rt[0].partitions.items)[0].error_code,
			expected[v]);
		hx_free(req);
	}

	coord_commit_release(KS("tx-held-group"));
	hx_wait(join);
	join_group_resp *jr = join->resp;
	assert_int_equal(jr->error_code, KERR_NONE);
	m.generation = jr->generation_id;
	hx_free(join);
	arena_free(a);
	assert_int_equal(end_txn(3, &p, p.epoch, false), KERR_NONE);
	hx_leave("tx-held-group", &m);
}

/* TxnOffsetCommit checks each partition as OffsetCommit does; the valid
 * partitions of the same request are still committed. Metadata is bytes:
 * what is not UTF-8 is stored as sent. */
static void test_txn_offset_commit_partition_checks(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-part-checks");
	assert_int_equal(add_offsets(KS(p.txn_id), p.pid, p.epoch, KS("tx-checks-group")),
			 KERR_NONE);
	char big[4097];
	memset(big, 'm', sizeof(big));
	txn_offset_commit_req_partition parts[4] = {
		{.partition_index = 0,
		 .committed_offset = 5,
		 .committed_leader_epoch = -1,
		 .committed_metadata = (kstr){big, 4097}},
		{.partition_index = 0,
		 .committed_offset = 6,
		 .committed_leader_epoch = -1,
		 .committed_metadata = KS("\xc0\x80")},
		{.partition_index = -1,
		 .committed_offset = 7,
		 .committed_leader_epoch = -1,
		 .committed_metadata = KSTR_NULL},
		{.partition_index = 1,
		 .committed_offset = 8,
		 .committed_leader_epoch = 2,
		 .committed_metadata = (kstr){big, 4096}},
	};
	txn_offset_commit_req_partition other = {.partition_index = 0,
						 .committed_offset = 9,
						 .committed_leader_epoch = -1,
						 .committed_metadata = KSTR_NULL};
	txn_offset_commit_req_topic t[2] = {
		{.name = KS(TOPIC), .partitions = ARR(parts, 4)},
		{.name = KS("bad name!"), .partitions = ARR(&other, 1)}};
	txn_offset_commit_req b = {.transactional_id = KS(p.txn_id),
				   .group_id = KS("tx-checks-group"),
				   .producer_id = p.pid,
				   .producer_epoch = p.epoch,
				   .generation_id = -1,
				   .member_id = KS(""),
				   .group_instance_id = KSTR_NULL,
				   .topics = ARR(t, 2)};
	request *req = hx_call(API_TXN_OFFSET_COMMIT, 3, b);
	txn_offset_commit_resp_topic *rt = ((txn_offset_commit_resp *)req->resp)->topics.items;
	txn_offset_commit_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp[0].error_code, KERR_OFFSET_METADATA_TOO_LARGE);
	assert_int_equal(rp[1].error_code, KERR_NONE);
	assert_int_equal(rp[2].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(rp[3].error_code, KERR_NONE);
	assert_int_equal(rp[3].partition_index, 1);
	rp = rt[1].partitions.items;
	assert_int_equal(rp[0].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
	hx_free(req);

	assert_int_equal(end_txn(3, &p, p.epoch, true), KERR_NONE);
	int64_t off;
	assert_int_equal(fetch_committed("tx-checks-group", 1, &off), KERR_NONE);
	assert_int_equal(off, 8);
	assert_int_equal(fetch_committed("tx-checks-group", 0, &off), KERR_NONE);
	assert_int_equal(off, 6);
}

/* ListTransactions' duration filter at any int64: what has been ongoing
 * for longer than the Unix epoch is old is nothing. */
static void test_list_transactions_duration(void **state)
{
	(void)state;
	HX_NEED_PG();
	producer p = begin_producer("tx-duration");
	assert_int_equal(add_partition(3, &p, p.pid, p.epoch, TOPIC, 0), KERR_NONE);
	kstr ongoing = KS("Ongoing");
	const int64_t durations[] = {-1, 0, INT32_MAX, 1000000000000000LL, INT64_MAX};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		list_transactions_req b = {.state_filters = ARR(&ongoing, 1),
					   .duration_filter = durations[i]};
		request *req = hx_call(API_LIST_TRANSACTIONS, 1, b);
		list_transactions_resp *r = req->resp;
		assert_int_equal(r->error_code, KERR_NONE);
		bool listed = false;
		list_transactions_resp_state *s = r->transaction_states.items;
		for (int32_t k = 0; k < r->transaction_states.count; k++)
			listed = listed || kstr_eq(s[k].transactional_id, p.txn_id);
		assert_int_equal(listed, durations[i] <= 0);
		hx_free(req);
	}
	assert_int_equal(end_txn(3, &p, p.epoch, false), KERR_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_transaction),
		cmocka_unit_test(test_aborted_transaction),
		cmocka_unit_test(test_init_producer_id_errors),
		cmocka_unit_test(test_fencing),
		cmocka_unit_test(test_add_partitions_errors),
		cmocka_unit_test(test_group_id_checks_agree),
		cmocka_unit_test(test_txn_offset_commit_generation),
		cmocka_unit_test(test_txn_offset_commit_partition_checks),
		cmocka_unit_test(test_txn_offset_commit_load_in_progress_by_version),
		cmocka_unit_test(test_list_transactions_duration),
	};
	return cmocka_run_group_tests(tests, setup, hx_teardown);
}
