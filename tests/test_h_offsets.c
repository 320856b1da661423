/*
 * Committed offsets driven without sockets (handler_harness.h):
 * OffsetCommit, OffsetFetch and OffsetDelete against a real PostgreSQL and
 * the in-memory group coordinator. Checked as a consumer sees it: a commit
 * of the current generation is read back with its metadata; a stale
 * generation, an unknown member, a group id PostgreSQL cannot hold,
 * oversized metadata and unknown partitions are refused with Kafka's error
 * codes and change nothing; a simple commit (no generation) is accepted
 * only while the group has no members; OffsetDelete forgets offsets of an
 * Empty group and refuses those of a topic the group consumes.
 */
#include "group_coord.h"
#include "hutil.h"
#include "handler_harness.h"
#include "arena_str.h"
#include "idtext.h"
#include "validate.h"

#define TOPIC "events"

static int setup(void **state)
{
	if (hx_setup(state) != 0)
		return -1;
	if (HX.base && hx_create_topic(TOPIC, 3) != KERR_NONE)
		return -1;
	return 0;
}

/* OffsetCommit v8 of one partition: its error. */
static int16_t commit(const char *group, const char *member, int32_t generation,
		      const char *topic, int32_t partition, int64_t offset, kstr metadata)
{
	offset_commit_req_partition p = {.partition_index = partition,
					 .committed_offset = offset,
					 .committed_leader_epoch = -1,
					 .commit_timestamp = -1,
					 .committed_metadata = metadata};
	offset_commit_req_topic t = {.name = KS(topic), .partitions = ARR(&p, 1)};
	offset_commit_req b = {.group_id = (kstr){group, (int32_t)strlen(group)},
			       .generation_id_or_member_epoch = generation,
			       .member_id = KS(member),
			       .group_instance_id = KSTR_NULL,
			       .retention_time_ms = -1,
			       .topics = ARR(&t, 1)};
	request *req = hx_call(API_OFFSET_COMMIT, 8, b);
	offset_commit_resp *r = req->resp;
	assert_int_equal(r->topics.count, 1);
	offset_commit_resp_topic *rt = r->topics.items;
	assert_int_equal(rt[0].partitions.count, 1);
	offset_commit_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp[0].partition_index, partition);
	int16_t e = rp[0].error_code;
	hx_free(req);
	return e;
}

/* OffsetFetch of one partition at version ver (the v8 groups shape or the
 * single-group one): its error, offset and metadata. */
static int16_t fetch_committed(int16_t ver, const char *group, const char *topic,
			       int32_t partition, int64_t *offset, char *metadata, size_t mlen)
{
	int32_t parts[1] = {partition};
	offset_fetch_req_topic t = {.name = KS(topic), .partition_indexes = ARR(parts, 1)};
	offset_fetch_req_group g = {.group_id = KS(group), .topics = ARR(&t, 1)};
	offset_fetch_req b = {.require_stable = true};
	if (ver >= 8) {
		b.groups = ARR(&g, 1);
	} else {
		b.group_id = KS(group);
		b.topics = ARR(&t, 1);
	}
	request *req = hx_call(API_OFFSET_FETCH, ver, b);
	offset_fetch_resp *r = req->resp;
	karray topics = r->topics;
	int16_t group_error = r->error_code;
	if (ver >= 8) {
		assert_int_equal(r->groups.count, 1);
		offset_fetch_resp_group *rg = r->groups.items;
		assert_true(kstr_eq(rg[0].group_id, group));
		topics = rg[0].topics;
		group_error = rg[0].error_code;
	}
	assert_int_equal(group_error, KERR_NONE);
	assert_int_equal(topics.count, 1);
	offset_fetch_resp_topic *rt = topics.items;
	assert_int_equal(rt[0].partitions.count, 1);
	offset_fetch_resp_partition *rp = rt[0].partitions.items;
	assert_int_equal(rp[0].partition_index, partition);
	*offset = rp[0].committed_offset;
	if (metadata)
		snprintf(metadata, mlen, "%.*s", rp[0].metadata.len > 0 ? (int)rp[0].metadata.len : 0,
			 rp[0].metadata.ptr ? rp[0].metadata.ptr : "");
	int16_t e = rp[0].error_code;
	hx_free(req);
	return e;
}

static int64_t committed(const char *group, int32_t partition)
{
	int64_t off;
	assert_int_equal(fetch_committed(8, group, TOPIC, partition, &off, NULL, 0), KERR_NONE);
	return off;
}

static void test_commit_of_current_generation_reads_back(void **state)
{
	(void)state;
	HX_NEED_PG();
	hx_member m;
	hx_join_stable("g-stable", TOPIC, &m);
	assert_int_equal(commit("g-stable", m.member_id, m.generation, TOPIC, 0, 42, KS("meta")),
			 KERR_NONE);
	char md[32];
	int64_t off;
	assert_int_equal(fetch_committed(8, "g-stable", TOPIC, 0, &off, md, sizeof(md)),
			 KERR_NONE);
	assert_int_equal(off, 42);
	assert_string_equal(md, "meta");
	/* The older single-group shape reads the same row. */
	assert_int_equal(fetch_committed(5, "g-stable", TOPIC, 0, &off, md, sizeof(md)),
			 KERR_NONE);
	assert_int_equal(off, 42);
	/* Never committed: -1, no error. */
	assert_int_equal(committed("g-stable", 1), -1);
	hx_leave("g-stable", &m);
}

static void test_commit_generation_and_member_checks(void **state)
{
	(void)state;
	HX_NEED_PG();
	hx_member m;
	hx_join_stable("g-checks", TOPIC, &m);
	assert_int_equal(commit("g-checks", m.member_id, m.generation, TOPIC, 0, 10, KSTR_NULL),
			 KERR_NONE);
	assert_int_equal(commit("g-checks", m.member_id, m.generation + 1, TOPIC, 0, 11, KSTR_NULL),
			 KERR_ILLEGAL_GENERATION);
	assert_int_equal(commit("g-checks", m.member_id, m.generation - 1, TOPIC, 0, 11, KSTR_NULL),
			 KERR_ILLEGAL_GENERATION);
	assert_int_equal(commit("g-checks", "someone-else", m.generation, TOPIC, 0, 11, KSTR_NULL),
			 KERR_UNKNOWN_MEMBER_ID);
	/* A simple commit while the group has a member is refused. */
	assert_int_equal(commit("g-checks", "", -1, TOPIC, 0, 11, KSTR_NULL),
			 KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(committed("g-checks", 0), 10);
	hx_leave("g-checks", &m);
	/* Once it is Empty, a simple commit goes through. */
	assert_int_equal(commit("g-checks", "", -1, TOPIC, 0, 12, KSTR_NULL), KERR_NONE);
	assert_int_equal(committed("g-checks", 0), 12);
}

static void test_commit_refuses_bad_input(void **state)
{
	(void)state;
	HX_NEED_PG();
	/* Ids not UTF-8, or holding a NUL, reach the handler as the codec
	 * makes them (idtext.h) and are groups like any other. */
	arena *a = arena_new();
	kstr not_utf8 = idtext_from_wire(KS("g-\xff\xfe"), a);
	kstr with_nul = idtext_from_wire((kstr){"g\0x", 3}, a);
	assert_int_equal(commit(arena_cstr(a, not_utf8), "", -1, TOPIC, 0, 1, KSTR_NULL), KERR_NONE);
	assert_int_equal(committed(arena_cstr(a, not_utf8), 0), 1);
	assert_int_equal(commit(arena_cstr(a, with_nul), "", -1, TOPIC, 0, 2, KSTR_NULL), KERR_NONE);
	assert_int_equal(committed(arena_cstr(a, with_nul), 0), 2);
	arena_free(a);

	/* Longer than a group id PostgreSQL can index; at the bound it is
	 * stored. */
	static char long_id[ID_MAX_BYTES + 2];
	memset(long_id, 'g', sizeof(long_id));
	long_id[ID_MAX_BYTES + 1] = 0;
	assert_int_equal(commit(long_id, "", -1, TOPIC, 0, 1, KSTR_NULL), KERR_INVALID_GROUP_ID);
	long_id[ID_MAX_BYTES] = 0;
	assert_int_equal(commit(long_id, "", -1, TOPIC, 0, 1, KSTR_NULL), KERR_NONE);
	assert_int_equal(committed(long_id, 0), 1);

	char big[4097];
	memset(big, 'm', sizeof(big));
	assert_int_equal(commit("g-bad", "", -1, TOPIC, 0, 1, (kstr){big, 4097}),
			 KERR_OFFSET_METADATA_TOO_LARGE);
	assert_int_equal(commit("g-bad", "", -1, TOPIC, 0, 1, (kstr){big, 4096}), KERR_NONE);
	/* Metadata is bytes: what is not UTF-8 is stored as sent. */
	assert_int_equal(commit("g-bad", "", -1, TOPIC, 1, 2, KS("\xc0\x80")), KERR_NONE);
	assert_int_equal(commit("g-bad", "", -1, "bad name!", 0, 1, KSTR_NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(commit("g-bad", "", -1, TOPIC, -1, 1, KSTR_NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(commit("g-bad", "", -1, TOPIC, 7, 1, KSTR_NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	assert_int_equal(commit("g-bad", "", -1, "no-such-topic", 0, 1, KSTR_NULL),
			 KERR_UNKNOWN_TOPIC_OR_PARTITION);
	/* Only the valid commits were stored. */
	assert_int_equal(committed("g-bad", 0), 1);
	assert_int_equal(committed("g-bad", 1), 2);
}

/* OffsetDelete of one partition: the top-level and partition errors. */
static void offset_delete(const char *group, int32_t partition, int16_t *top, int16_t *part)
{
	offset_delete_req_partition p = {.partition_index = partition};
	offset_delete_req_topic t = {.name = KS(TOPIC), .partitions = ARR(&p, 1)};
	offset_delete_req b = {.group_id = KS(group), .topics = ARR(&t, 1)};
	request *req = hx_call(API_OFFSET_DELETE, 0, b);
	offset_delete_resp *r = req->resp;
	*top = r->error_code;
	*part = KERR_NONE;
	if (r->topics.count == 1) {
		offset_delete_resp_topic *rt = r->topics.items;
		*part = ((offset_delete_resp_partition *)rt[0].partitions.items)[0].error_code;
	}
	hx_free(req);
}

static void test_offset_delete(void **state)
{
	(void)state;
	HX_NEED_PG();
	int16_t top, part;
	assert_int_equal(commit("g-del", "", -1, TOPIC, 2, 5, KSTR_NULL), KERR_NONE);
	hx_member m;
	hx_join_stable("g-del", TOPIC, &m);
	/* The group consumes the topic: its offsets stay. */
	offset_delete("g-del", 2, &top, &part);
	assert_int_equal(top, KERR_NONE);
	assert_int_equal(part, KERR_GROUP_SUBSCRIBED_TO_TOPIC);
	assert_int_equal(committed("g-del", 2), 5);
	hx_leave("g-del", &m);
	offset_delete("g-del", 2, &top, &part);
	assert_int_equal(top, KERR_NONE);
	assert_int_equal(part, KERR_NONE);
	assert_int_equal(committed("g-del", 2), -1);
	offset_delete("g-never-existed", 2, &top, &part);
	assert_int_equal(top, KERR_GROUP_ID_NOT_FOUND);
}

/* How a failed statement is answered: PostgreSQL away or busy is
 * retriable, a value it refused is the request's fault, anything else the
 * server's. */
static void test_statement_errors(void **state)
{
	(void)state;
	assert_int_equal(coordinator_db_error("t", "connection lost", "08006", false),
			 KERR_COORDINATOR_NOT_AVAILABLE);
	assert_int_equal(coordinator_db_error("t", "serialization", "40001", false),
			 KERR_COORDINATOR_NOT_AVAILABLE);
	assert_int_equal(coordinator_db_error("t", "no result", NULL, true),
			 KERR_COORDINATOR_NOT_AVAILABLE);
	assert_int_equal(coordinator_db_error("t", "bigint out of range", "22003", false),
			 KERR_INVALID_REQUEST);
	assert_int_equal(coordinator_db_error("t", "not UTF-8", "22021", false), KERR_INVALID_REQUEST);
	assert_int_equal(coordinator_db_error("t", "index row size", "54000", false),
			 KERR_INVALID_REQUEST);
	assert_int_equal(coordinator_db_error("t", "duplicate key", "23505", false),
			 KERR_UNKNOWN_SERVER_ERROR);
	assert_int_equal(coordinator_db_error("t", "no such column", "42703", false),
			 KERR_UNKNOWN_SERVER_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_of_current_generation_reads_back),
		cmocka_unit_test(test_commit_generation_and_member_checks),
		cmocka_unit_test(test_commit_refuses_bad_input),
		cmocka_unit_test(test_offset_delete),
		cmocka_unit_test(test_statement_errors),
	};
	return cmocka_run_group_tests(tests, setup, hx_teardown);
}
