/*
 * Unit tests for the schema-driven protocol codec: every implemented API and
 * version decodes what it encodes (requests and responses), hand-assembled
 * frames from the protocol spec decode to the right values, and malformed or
 * unsupported frames are classified as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apis.h"
#include "kerr.h"
#include "proto.h"

static void fill(const schema_def *s, int16_t ver, arena *a, void *out, unsigned *seed, int depth);

static unsigned next(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* Populate every field present in ver with varied values; arrays get two
 * elements (or null, where the version allows it, now and then). */
static void fill(const schema_def *s, int16_t ver, arena *a, void *out, unsigned *seed, int depth)
{
	static const char *words[] = {"", "a", "orders", "topic.with-dots_and_dashes", "ümlaut"};
	/* Ids in their internal form (idtext.h): a NUL, an U+E000, an U+FFFD. */
	static const char *ids[] = {"", "grp", "grp\xee\x80\x80\xee\x80\x81one",
				    "\xee\x80\x80\xee\x80\x80", "a\xef\xbf\xbd"};
	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		void *dst = (char *)out + f->offset;
		bool nullable = ver >= f->null_min;
		if (ver < f->min_ver || ver > f->max_ver)
			continue;
		unsigned r = next(seed);
		switch (f->type) {
		case FT_I8:
			*(int8_t *)dst = (int8_t)(r - 64);
			break;
		case FT_I16:
			*(int16_t *)dst = (int16_t)(r * 3 - 20000);
			break;
		case FT_I32:
			*(int32_t *)dst = (int32_t)(r * 65599u) - 7;
			break;
		case FT_I64:
			*(int64_t *)dst = ((int64_t)r << 40) - 1234567;
			break;
		case FT_BOOL:
			*(bool *)dst = r & 1;
			break;
		case FT_UUID:
			for (int k = 0; k < 16; k++)
				((kuuid *)dst)->b[k] = (uint8_t)next(seed);
			break;
		case FT_F64:
			*(double *)dst = r * 0.5;
			break;
		case FT_STR:
		case FT_ID:
		case FT_BYTES:
			if (nullable && r % 4 == 0)
				*(kstr *)dst = KSTR_NULL;
			else
				*(kstr *)dst = kstr_c((f->type == FT_ID ? ids : words)[r % 5]);
			break;
		case FT_STRUCT:
			if (nullable && r % 4 == 0) {
				*(void **)dst = NULL;
				break;
			}
			*(void **)dst = arena_alloc(a, f->sub->size);
			fill(f->sub, ver, a, *(void **)dst, seed, depth + 1);
			break;
		default: {
			karray *arr = dst;
			if (nullable && r % 4 == 0) {
				*arr = (karray){-1, NULL};
				break;
			}
			int32_t n = depth > 3 ? 0 : 2;
			size_t es = f->type == FT_ARRS     ? f->sub->size
				    : f->type == FT_ARRI32 ? sizeof(int32_t)
				    : f->type == FT_ARRI64 ? sizeof(int64_t)
							   : sizeof(kstr);
			arr->count = n;
			arr->items = arena_alloc(a, es * 2);
			for (int32_t j = 0; j < n; j++) {
				void *item = (char *)arr->items + es * (size_t)j;
				if (f->type == FT_ARRS)
					fill(f->sub, ver, a, item, seed, depth + 1);
				else if (f->type == FT_ARRI32)
					*(int32_t *)item = (int32_t)next(seed) - 5;
				else if (f->type == FT_ARRI64)
					*(int64_t *)item = (int64_t)next(seed) << 33;
				else
					*(kstr *)item = kstr_c(
						(f->type == FT_ARRID ? ids : words)[next(seed) % 5]);
			}
		}
		}
	}
}

static void roundtrip(const schema_def *s, int16_t ver, bool flex, unsigned seed)
{
	arena *a = arena_new();
	void *orig = arena_alloc(a, s->size);
	void *copy = arena_alloc(a, s->size);
	kwriter w1, w2;
	kreader r;

	fill(s, ver, a, orig, &seed, 0);
	kw_init(&w1, 64);
	proto_encode(s, ver, flex, orig, &w1);
	kr_init(&r, w1.buf, w1.len);
	int rc = proto_decode(s, ver, flex, &r, a, copy);
	if (rc != 0 || kr_remaining(&r) != 0)
		fail_msg("%s v%d: decode failed (rc %d, %zu bytes left)", s->name, ver, rc,
			 kr_remaining(&r));
	kw_init(&w2, 64);
	proto_encode(s, ver, flex, copy, &w2);
	if (w1.len != w2.len || memcmp(w1.buf, w2.buf, w1.len) != 0)
		fail_msg("%s v%d: re-encoding differs", s->name, ver);
	/* Every truncation of a valid message must be rejected, never read
	 * out of bounds. */
	for (size_t cut = 0; cut < w1.len; cut++) {
		void *tmp = arena_alloc(a, s->size);
		kr_init(&r, w1.buf, cut);
		if (proto_decode(s, ver, flex, &r, a, tmp) == 0 && kr_remaining(&r) == 0 &&
		    cut != w1.len) {
			/* A shorter prefix can only decode if the message ends in
			 * fields that are empty; it must then re-encode shorter. */
			kwriter w3;
			kw_init(&w3, 64);
			proto_encode(s, ver, flex, tmp, &w3);
			assert_int_equal(w3.len, cut);
			kw_free(&w3);
		}
	}
	kw_free(&w1);
	kw_free(&w2);
	arena_free(a);
}

static void test_every_api_every_version(void **state)
{
	(void)state;
	int checked = 0;
	for (int i = 0; i < api_count; i++) {
		const api_def *api = &api_table[i];
		for (int16_t v = api->min_ver; v <= api->max_ver; v++) {
			for (unsigned seed = 1; seed <= 4; seed++) {
				roundtrip(api->req, v, api_flexible(api, v), seed * 7919u + (unsigned)v);
				roundtrip(api->resp, v, api_flexible(api, v), seed * 104729u + (unsigned)v);
			}
			checked++;
		}
	}
	assert_true(checked > 50);
}

/* A request frame decodes only with a fresh arena attached. */
static int parse(const uint8_t *buf, size_t len, request *req, arena **a)
{
	*a = arena_new();
	memset(req, 0, sizeof(*req));
	req->arena = *a;
	return proto_parse_request(buf, len, req);
}

static void test_known_api_versions_v0(void **state)
{
	(void)state;
	/* ApiVersions v0: key 18, version 0, correlation id 1, client id "kcat". */
	const uint8_t frame[] = {0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
				 0x00, 0x04, 'k',  'c',  'a',  't'};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	assert_int_equal(req.api_key, 18);
	assert_int_equal(req.api_version, 0);
	assert_int_equal(req.correlation_id, 1);
	assert_true(kstr_eq(req.client_id, "kcat"));
	arena_free(a);
}

static void test_known_api_versions_v3_flexible(void **state)
{
	(void)state;
	/* ApiVersions v3: header v2 (client id is still a classic string,
	 * then an empty tag buffer), compact strings in the body. */
	const uint8_t frame[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x01,
				 'c',  0x00, /* header tags */
				 0x05, 'l',  'i',  'b',  'r',  /* "libr" compact */
				 0x04, '2',  '.',  '0',	      /* "2.0" */
				 0x00 /* body tags */};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const api_versions_req *body = req.body;
	assert_int_equal(req.correlation_id, 42);
	assert_true(kstr_eq(body->client_software_name, "libr"));
	assert_true(kstr_eq(body->client_software_version, "2.0"));
	arena_free(a);
}

static void test_known_metadata_v1_null_topics(void **state)
{
	(void)state;
	/* Metadata v1 with a null topic array (-1) means "all topics". */
	const uint8_t frame[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
				 0xff, 0xff, /* null client id */
				 0xff, 0xff, 0xff, 0xff};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const metadata_req *body = req.body;
	assert_int_equal(body->topics.count, -1);
	assert_int_equal(req.client_id.len, -1);
	/* Absent in v1: takes its default (true). */
	assert_true(body->allow_auto_topic_creation);
	arena_free(a);
}

static void test_known_produce_v3(void **state)
{
	(void)state;
	/* Produce v3: null transactional id, acks -1, timeout 1500 ms, one
	 * topic "t" with partition 2 and a 3-byte records blob. */
	const uint8_t frame[] = {0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
				 0xff, 0xff,			/* transactional_id null */
				 0xff, 0xff,			/* acks -1 */
				 0x00, 0x00, 0x05, 0xdc,	/* timeout 1500 */
				 0x00, 0x00, 0x00, 0x01,	/* 1 topic */
				 0x00, 0x01, 't',		/* name */
				 0x00, 0x00, 0x00, 0x01,	/* 1 partition */
				 0x00, 0x00, 0x00, 0x02,	/* index 2 */
				 0x00, 0x00, 0x00, 0x03, 1, 2, 3};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const produce_req *body = req.body;
	assert_int_equal(body->transactional_id.len, -1);
	assert_int_equal(body->acks, -1);
	assert_int_equal(body->timeout_ms, 1500);
	assert_int_equal(body->topic_data.count, 1);
	const produce_req_topic *t = body->topic_data.items;
	assert_true(kstr_eq(t->name, "t"));
	const produce_req_partition *p = t->partition_data.items;
	assert_int_equal(p->index, 2);
	assert_int_equal(p->records.len, 3);
	assert_memory_equal(p->records.ptr, "\x01\x02\x03", 3);
	arena_free(a);
}

static void test_known_fetch_v12_compact(void **state)
{
	(void)state;
	/* Fetch v12 (flexible): compact arrays are length+1 varints. */
	const uint8_t frame[] = {
		0x00, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff, 0x00, /* header */
		0xff, 0xff, 0xff, 0xff,	/* replica_id -1 */
		0x00, 0x00, 0x01, 0xf4,	/* max_wait 500 */
		0x00, 0x00, 0x00, 0x01,	/* min_bytes 1 */
		0x03, 0x20, 0x00, 0x00,	/* max_bytes 52428800 */
		0x01,			/* read_committed */
		0x00, 0x00, 0x00, 0x00,	/* session id */
		0xff, 0xff, 0xff, 0xff,	/* session epoch -1 */
		0x02,			/* 1 topic */
		0x02, 'x',		/* "x" */
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x04,	/* partition 4 */
		0xff, 0xff, 0xff, 0xff,	/* current leader epoch */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* fetch offset 100 */
		0xff, 0xff, 0xff, 0xff,	/* last fetched epoch */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset */
		0x00, 0x10, 0x00, 0x00,	/* partition max bytes 1 MiB */
		0x00,			/* partition tags */
		0x00,			/* topic tags */
		0x01,			/* 0 forgotten topics */
		0x01,			/* rack id "" */
		0x00			/* body tags */
	};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const fetch_req *body = req.body;
	assert_int_equal(body->max_wait_ms, 500);
	assert_int_equal(body->max_bytes, 52428800);
	assert_int_equal(body->isolation_level, 1);
	const fetch_req_topic *t = body->topics.items;
	assert_true(kstr_eq(t->topic, "x"));
	const fetch_req_partition *p = t->partitions.items;
	assert_int_equal(p->partition, 4);
	assert_int_equal(p->fetch_offset, 100);
	assert_int_equal(p->partition_max_bytes, 1048576);
	arena_free(a);
}

static void test_known_fetch_v17_by_topic_id(void **state)
{
	(void)state;
	/* Fetch v17: no replica_id (v15+ carries it in the ReplicaState tag,
	 * tag 1), the topic is its 16-byte id, and the partition has the
	 * ReplicaDirectoryId tag (tag 0). */
	const uint8_t frame[] = {
		0x00, 0x01, 0x00, 0x11, 0x00, 0x00, 0x00, 0x2a, 0xff, 0xff, 0x00, /* header */
		0x00, 0x00, 0x01, 0xf4,	/* max_wait 500 */
		0x00, 0x00, 0x00, 0x01,	/* min_bytes 1 */
		0x7f, 0xff, 0xff, 0xff,	/* max_bytes */
		0x00,			/* read_uncommitted */
		0x00, 0x00, 0x00, 0x00,	/* session id */
		0xff, 0xff, 0xff, 0xff,	/* session epoch -1 */
		0x02,			/* 1 topic */
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* topic id */
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x03,	/* partition 3 */
		0xff, 0xff, 0xff, 0xff,	/* current leader epoch */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* fetch offset 7 */
		0xff, 0xff, 0xff, 0xff,	/* last fetched epoch */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset */
		0x00, 0x10, 0x00, 0x00,	/* partition max bytes 1 MiB */
		0x01, 0x00, 0x10,	/* partition tags: tag 0, 16 bytes */
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0x00,			/* topic tags */
		0x02,			/* 1 forgotten topic */
		0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, /* its id */
		0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
		0x02, 0x00, 0x00, 0x00, 0x05, /* partitions [5] */
		0x00,			/* forgotten topic tags */
		0x01,			/* rack id "" */
		0x01, 0x01, 0x0d,	/* body tags: tag 1 (ReplicaState), 13 bytes */
		0x00, 0x00, 0x00, 0x03, /* replica id 3 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* replica epoch 7 */
		0x00,			/* its tags */
	};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const fetch_req *body = req.body;
	assert_int_equal(body->replica_id, -1); /* the default, absent from v15 */
	assert_non_null(body->replica_state);
	const fetch_req_replica_state *rs = body->replica_state;
	assert_int_equal(rs->replica_id, 3);
	assert_int_equal(rs->replica_epoch, 7);
	assert_int_equal(body->max_wait_ms, 500);
	assert_int_equal(body->max_bytes, INT32_MAX);
	assert_int_equal(body->topics.count, 1);
	const fetch_req_topic *t = body->topics.items;
	assert_int_equal(t->topic.len, -1);
	for (int i = 0; i < 16; i++)
		assert_int_equal(t->topic_id.b[i], 0x10 + i);
	const fetch_req_partition *p = t->partitions.items;
	assert_int_equal(p->partition, 3);
	assert_int_equal(p->fetch_offset, 7);
	assert_int_equal(p->partition_max_bytes, 1048576);
	assert_int_equal(body->forgotten_topics_data.count, 1);
	const fetch_req_forgotten *f = body->forgotten_topics_data.items;
	assert_int_equal(f->topic_id.b[0], 0x20);
	assert_int_equal(f->partitions.count, 1);
	assert_int_equal(((const int32_t *)f->partitions.items)[0], 5);
	arena_free(a);
}

static void test_fetch_v13_response_bytes(void **state)
{
	(void)state;
	/* The answer to the request above at v13: the topic is its id, and
	 * UNKNOWN_TOPIC_ID (100) for its partition. */
	fetch_resp_partition part = {.partition_index = 3,
				     .error_code = KERR_UNKNOWN_TOPIC_ID,
				     .high_watermark = -1,
				     .last_stable_offset = -1,
				     .log_start_offset = -1,
				     .aborted_transactions = {-1, NULL},
				     .preferred_read_replica = -1,
				     .records = {"", 0}};
	fetch_resp_topic topic = {.topic = KSTR_NULL, .partitions = {1, &part}};
	for (int i = 0; i < 16; i++)
		topic.topic_id.b[i] = (uint8_t)(0x10 + i);
	fetch_resp resp = {.responses = {1, &topic}};
	const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle */
		0x00, 0x00,		/* error */
		0x00, 0x00, 0x00, 0x00, /* session id */
		0x02,			/* 1 topic */
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x03, 0x00, 0x64, /* partition 3, error 100 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* high watermark */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* last stable offset */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset */
		0x00,			/* aborted transactions: null */
		0xff, 0xff, 0xff, 0xff, /* preferred read replica */
		0x01,			/* records: empty */
		0x00, 0x00, 0x00,	/* partition, topic, body tags */
	};
	kwriter w;
	kw_init(&w, 64);
	proto_encode(&fetch_resp_schema, 13, true, &resp, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
}

static void test_fetch_v16_leader_hints_bytes(void **state)
{
	(void)state;
	/* v16: a partition's CurrentLeader (tag 1) and the answer's
	 * NodeEndpoints (tag 0) go in the tag sections, each with its own
	 * size; they are decoded back. */
	fetch_resp_leader leader = {.leader_id = 1, .leader_epoch = 0};
	fetch_resp_partition part = {.partition_index = 0,
				     .error_code = KERR_NOT_LEADER_OR_FOLLOWER,
				     .high_watermark = -1,
				     .last_stable_offset = -1,
				     .log_start_offset = -1,
				     .aborted_transactions = {-1, NULL},
				     .preferred_read_replica = -1,
				     .records = {"", 0},
				     .current_leader = &leader};
	fetch_resp_topic topic = {.topic = KSTR_NULL, .partitions = {1, &part}};
	fetch_resp_node_endpoint node = {.node_id = 1, .host = KSTR_LIT("h"), .port = 9092,
					 .rack = KSTR_NULL};
	fetch_resp resp = {.responses = {1, &topic}, .node_endpoints = {1, &node}};
	const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* throttle, error, session */
		0x02,			/* 1 topic */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* topic id */
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x06, /* partition 0, error 6 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00,			/* aborted transactions: null */
		0xff, 0xff, 0xff, 0xff, /* preferred read replica */
		0x01,			/* records: empty */
		0x01, 0x01, 0x09,	/* partition tags: tag 1, 9 bytes */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* leader 1, epoch 0, tags */
		0x00,			/* topic tags */
		0x01, 0x00, 0x0d,	/* body tags: tag 0, 13 bytes */
		0x02,			/* 1 node */
		0x00, 0x00, 0x00, 0x01, 0x02, 'h', 0x00, 0x00, 0x23, 0x84, /* 1, "h", 9092 */
		0x00, 0x00,		/* rack null, tags */
	};
	kwriter w;
	kw_init(&w, 64);
	proto_encode(&fetch_resp_schema, 16, true, &resp, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));

	arena *a = arena_new();
	fetch_resp back;
	kreader r;
	kr_init(&r, w.buf, w.len);
	assert_int_equal(proto_decode(&fetch_resp_schema, 16, true, &r, a, &back), 0);
	assert_int_equal(back.node_endpoints.count, 1);
	assert_int_equal(((fetch_resp_node_endpoint *)back.node_endpoints.items)->port, 9092);
	fetch_resp_partition *bp = ((fetch_resp_topic *)back.responses.items)->partitions.items;
	assert_non_null(bp->current_leader);
	assert_int_equal(((fetch_resp_leader *)bp->current_leader)->leader_id, 1);
	/* v15 has no NodeEndpoints: not written. */
	kw_free(&w);
	kw_init(&w, 64);
	proto_encode(&fetch_resp_schema, 15, true, &resp, &w);
	assert_int_equal(w.len, sizeof(want) - 15);
	kw_free(&w);
	arena_free(a);
}

static void test_metadata_v13_top_level_error_code(void **state)
{
	(void)state;
	/* v13 ends the answer with a top-level error code. */
	metadata_resp md = {.brokers = {0, NULL},
			    .cluster_id = KSTR_NULL,
			    .controller_id = 1,
			    .topics = {0, NULL},
			    .error_code = 0x0102};
	const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x00, /* throttle */
		0x01,			/* no brokers */
		0x00,			/* cluster id null */
		0x00, 0x00, 0x00, 0x01, /* controller */
		0x01,			/* no topics */
		0x01, 0x02,		/* error code */
		0x00,			/* tags */
	};
	kwriter w;
	kw_init(&w, 32);
	proto_encode(&metadata_resp_schema, 13, true, &md, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	/* v12 has none. */
	kw_init(&w, 32);
	proto_encode(&metadata_resp_schema, 12, true, &md, &w);
	assert_int_equal(w.len, sizeof(want) - 2);
	kw_free(&w);
}

static void test_known_list_offsets_v10(void **state)
{
	(void)state;
	const uint8_t frame[] = {
		0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0x00, /* header */
		0xff, 0xff, 0xff, 0xff, /* replica id */
		0x01,			/* read_committed */
		0x02, 0x02, 't',	/* 1 topic, "t" */
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x00, /* partition 0 */
		0xff, 0xff, 0xff, 0xff, /* current leader epoch */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, /* timestamp -4 */
		0x00, 0x00,		/* partition, topic tags */
		0x00, 0x00, 0x75, 0x30, /* timeout 30000 ms */
		0x00,			/* body tags */
	};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const list_offsets_req *body = req.body;
	assert_int_equal(body->isolation_level, 1);
	assert_int_equal(body->timeout_ms, 30000);
	const list_offsets_req_topic *t = body->topics.items;
	assert_true(kstr_eq(t->name, "t"));
	const list_offsets_req_partition *p = t->partitions.items;
	assert_int_equal(p->timestamp, -4);
	arena_free(a);
}

static void test_known_produce_v13_by_topic_id(void **state)
{
	(void)state;
	const uint8_t frame[] = {
		0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff, 0x00, /* header */
		0x00,			/* transactional id null */
		0xff, 0xff,		/* acks -1 */
		0x00, 0x00, 0x27, 0x10, /* timeout 10000 */
		0x02,			/* 1 topic */
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, /* topic id */
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x01, /* index 1 */
		0x04, 0x01, 0x02, 0x03, /* records: 3 bytes */
		0x00, 0x00, 0x00,	/* partition, topic, body tags */
	};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const produce_req *body = req.body;
	assert_int_equal(body->acks, -1);
	const produce_req_topic *t = body->topic_data.items;
	assert_int_equal(t->name.len, -1);
	assert_int_equal(t->topic_id.b[0], 0xf0);
	assert_int_equal(t->topic_id.b[15], 0xff);
	const produce_req_partition *p = t->partition_data.items;
	assert_int_equal(p->index, 1);
	assert_int_equal(p->records.len, 3);

	/* Its answer: the topic by id. */
	produce_resp_partition rp = {.index = 1,
				     .error_code = KERR_UNKNOWN_TOPIC_ID,
				     .base_offset = -1,
				     .log_append_time_ms = -1,
				     .log_start_offset = -1,
				     .record_errors = {0, NULL},
				     .error_message = KSTR_NULL};
	produce_resp_topic rt = {.name = KSTR_NULL, .topic_id = t->topic_id,
				 .partition_responses = {1, &rp}};
	produce_resp resp = {.responses = {1, &rt}};
	const uint8_t want[] = {
		0x02,			/* 1 topic */
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
		0x02,			/* 1 partition */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x64, /* index 1, error 100 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base offset */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log append time */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset */
		0x01,			/* no record errors */
		0x00,			/* error message null */
		0x00, 0x00,		/* partition, topic tags */
		0x00, 0x00, 0x00, 0x00, /* throttle */
		0x00,			/* tags */
	};
	kwriter w;
	kw_init(&w, 64);
	proto_encode(&produce_resp_schema, 13, true, &resp, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	arena_free(a);
}

static void test_known_offset_fetch_v9(void **state)
{
	(void)state;
	/* v9 adds the member id and epoch to each group. */
	const uint8_t frame[] = {
		0x00, 0x09, 0x00, 0x09, 0x00, 0x00, 0x00, 0x06, 0xff, 0xff, 0x00, /* header */
		0x02,			/* 1 group */
		0x02, 'g',		/* "g" */
		0x03, 'm', '1',		/* member id "m1" */
		0x00, 0x00, 0x00, 0x05, /* member epoch 5 */
		0x00,			/* topics null: all */
		0x00,			/* group tags */
		0x01,			/* require stable */
		0x00,			/* body tags */
	};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const offset_fetch_req *body = req.body;
	assert_int_equal(body->groups.count, 1);
	const offset_fetch_req_group *g = body->groups.items;
	assert_true(kstr_eq(g->group_id, "g"));
	assert_true(kstr_eq(g->member_id, "m1"));
	assert_int_equal(g->member_epoch, 5);
	assert_int_equal(g->topics.count, -1);
	assert_true(body->require_stable);
	arena_free(a);
}

static void test_known_offset_commit_v10(void **state)
{
	(void)state;
	/* v10 names each topic by its id, where v9 gave its name. */
	const uint8_t frame[] = {
		0x00, 0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0x00, /* header */
		0x02, 'g',				/* group "g" */
		0x00, 0x00, 0x00, 0x03,			/* member epoch 3 */
		0x03, 'm', '1',				/* member id "m1" */
		0x00,					/* group instance id null */
		0x02,					/* 1 topic */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* topic id */
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /* ... */
		0x02,					/* 1 partition */
		0x00, 0x00, 0x00, 0x02,			/* partition 2 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* offset 42 */
		0xff, 0xff, 0xff, 0xff,			/* leader epoch -1 */
		0x01,					/* metadata "" */
		0x00,					/* partition tags */
		0x00,					/* topic tags */
		0x00,					/* body tags */
	};
	const uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const offset_commit_req *body = req.body;
	assert_true(kstr_eq(body->group_id, "g"));
	assert_int_equal(body->generation_id_or_member_epoch, 3);
	assert_int_equal(body->topics.count, 1);
	const offset_commit_req_topic *t = body->topics.items;
	assert_memory_equal(t->topic_id.b, id, 16);
	assert_int_equal(t->partitions.count, 1);
	const offset_commit_req_partition *p = t->partitions.items;
	assert_int_equal(p->partition_index, 2);
	assert_int_equal(p->committed_offset, 42);
	arena_free(a);
}

static void test_unknown_tags_are_skipped(void **state)
{
	(void)state;
	/* ApiVersions v3 with a header tag (tag 0, 2 bytes) and a body tag. */
	const uint8_t frame[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
				 0x01, 0x00, 0x02, 0xaa, 0xbb, /* header: 1 tag */
				 0x01, 0x01,		      /* two empty strings */
				 0x01, 0x05, 0x01, 0xcc};     /* body: tag 5, 1 byte */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	arena_free(a);
}

static void test_unsupported_and_malformed(void **state)
{
	(void)state;
	request req;
	arena *a;
	const uint8_t unknown_key[] = {0x27, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
	assert_int_equal(parse(unknown_key, sizeof(unknown_key), &req, &a), PROTO_UNSUPPORTED);
	assert_null(req.api);
	assert_int_equal(req.correlation_id, 1);
	arena_free(a);

	const uint8_t fetch_v99[] = {0x00, 0x01, 0x00, 0x63, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff};
	assert_int_equal(parse(fetch_v99, sizeof(fetch_v99), &req, &a), PROTO_UNSUPPORTED);
	assert_non_null(req.api);
	arena_free(a);

	const uint8_t short_header[] = {0x00, 0x12, 0x00};
	assert_int_equal(parse(short_header, sizeof(short_header), &req, &a), PROTO_MALFORMED);
	arena_free(a);

	/* Metadata v1 claiming 2^31-1 topics in a few bytes: rejected before
	 * any allocation of that size. */
	const uint8_t huge_array[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
				      0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'a'};
	assert_int_equal(parse(huge_array, sizeof(huge_array), &req, &a), PROTO_MALFORMED);
	arena_free(a);

	/* Produce v3 with a null topic name (not nullable). */
	const uint8_t null_name[] = {0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
				     0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x05, 0xdc,
				     0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
	assert_int_equal(parse(null_name, sizeof(null_name), &req, &a), PROTO_MALFORMED);
	arena_free(a);
}

static void test_response_framing(void **state)
{
	(void)state;
	arena *a = arena_new();
	request req = {0};
	api_versions_resp resp = {0};
	kwriter w;

	/* ApiVersions v3 is flexible but its response header stays v0. */
	req.arena = a;
	req.api = api_lookup(18);
	req.api_key = 18;
	req.api_version = 3;
	req.correlation_id = 77;
	req.resp = &resp;
	kw_init(&w, 64);
	proto_encode_response(&req, &w);
	assert_int_equal(be32(w.buf), w.len - 4);
	assert_int_equal(be32(w.buf + 4), 77);
	/* error code directly after the correlation id: no header tags */
	assert_int_equal(be16(w.buf + 8), 0);
	kw_free(&w);

	/* Metadata v9 response: header v1 has an empty tag buffer. */
	metadata_resp md = {0};
	req.api = api_lookup(3);
	req.api_key = 3;
	req.api_version = 9;
	req.resp = &md;
	kw_init(&w, 64);
	proto_encode_response(&req, &w);
	assert_int_equal(w.buf[8], 0x00);
	kw_free(&w);

	kw_init(&w, 64);
	proto_encode_apiversions_fallback(5, &w);
	assert_int_equal(be32(w.buf + 4), 5);
	assert_int_equal((int16_t)be16(w.buf + 8), KERR_UNSUPPORTED_VERSION);
	assert_int_equal((int32_t)be32(w.buf + 10), api_count);
	kw_free(&w);
	arena_free(a);
}

/* ---- transactions (docs/TRANSACTIONS.md) ---- */

static void test_transaction_apis_advertised(void **state)
{
	(void)state;
	/* What test_every_api_every_version round-trips for transactions. */
	static const struct {
		int16_t key, lo, hi, flex;
	} want[] = {
		{22, 0, 5, 2}, {24, 0, 5, 3}, {25, 0, 4, 3}, {26, 0, 5, 3}, {28, 0, 5, 3},
		{65, 0, 0, 0}, {66, 0, 1, 0},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const api_def *api = api_lookup(want[i].key);
		assert_non_null(api);
		assert_int_equal(api->min_ver, want[i].lo);
		assert_int_equal(api->max_ver, want[i].hi);
		assert_int_equal(api->flex_min, want[i].flex);
	}
}

static void test_known_end_txn_v0(void **state)
{
	(void)state;
	/* EndTxn v0: transactional id "tx", producer id 1000, epoch 5, commit. */
	const uint8_t frame[] = {0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 'c',
				 0x00, 0x02, 't',  'x',			       /* transactional_id */
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* producer_id */
				 0x00, 0x05,				       /* producer_epoch */
				 0x01};					       /* committed */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const end_txn_req *body = req.body;
	assert_int_equal(req.api_key, 26);
	assert_true(kstr_eq(body->transactional_id, "tx"));
	assert_int_equal(body->producer_id, 1000);
	assert_int_equal(body->producer_epoch, 5);
	assert_true(body->committed);
	arena_free(a);
}

static void test_known_end_txn_v3_flexible(void **state)
{
	(void)state;
	/* EndTxn v3: header v2, compact string, abort; then the response. */
	const uint8_t frame[] = {0x00, 0x1a, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xff, 0xff,
				 0x00,					       /* header tags */
				 0x03, 't',  'x',			       /* "tx" compact */
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* producer_id 7 */
				 0x7f, 0xfe,				       /* epoch 32766 */
				 0x00,					       /* abort */
				 0x00};					       /* body tags */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const end_txn_req *body = req.body;
	assert_true(kstr_eq(body->transactional_id, "tx"));
	assert_int_equal(body->producer_id, 7);
	assert_int_equal(body->producer_epoch, 32766);
	assert_false(body->committed);

	/* Response v3: size, correlation id, header tags, throttle, error, tags. */
	end_txn_resp resp = {.throttle_time_ms = 0, .error_code = KERR_INVALID_TXN_STATE};
	const uint8_t want[] = {0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0a,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00};
	kwriter w;
	req.resp = &resp;
	kw_init(&w, 64);
	proto_encode_response(&req, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	arena_free(a);
}

static void test_known_add_partitions_to_txn_v0(void **state)
{
	(void)state;
	/* AddPartitionsToTxn v0: "tx", producer 42 epoch 1, topic "t" with
	 * partitions 0 and 3; then its response. */
	const uint8_t frame[] = {0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0xff, 0xff,
				 0x00, 0x02, 't',  'x',
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* producer_id */
				 0x00, 0x01,				       /* epoch */
				 0x00, 0x00, 0x00, 0x01,		       /* 1 topic */
				 0x00, 0x01, 't',			       /* name */
				 0x00, 0x00, 0x00, 0x02,		       /* 2 partitions */
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const add_partitions_to_txn_req *body = req.body;
	assert_true(kstr_eq(body->v3_and_below_transactional_id, "tx"));
	assert_int_equal(body->v3_and_below_producer_id, 42);
	assert_int_equal(body->v3_and_below_producer_epoch, 1);
	assert_int_equal(body->v3_and_below_topics.count, 1);
	const add_partitions_to_txn_topic *t = body->v3_and_below_topics.items;
	assert_true(kstr_eq(t->name, "t"));
	assert_int_equal(t->partitions.count, 2);
	assert_int_equal(((const int32_t *)t->partitions.items)[1], 3);

	add_partitions_to_txn_partition_result pr[2] = {
		{.partition_index = 0, .partition_error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION},
		{.partition_index = 3, .partition_error_code = KERR_OPERATION_NOT_ATTEMPTED},
	};
	add_partitions_to_txn_topic_result tr = {.name = KSTR_LIT("t"),
						 .results_by_partition = {2, pr}};
	add_partitions_to_txn_resp resp = {.results_by_topic_v3_and_below = {1, &tr}};
	const uint8_t want[] = {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x0b, /* size, corr */
				0x00, 0x00, 0x00, 0x00,				/* throttle */
				0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',	/* 1 topic "t" */
				0x00, 0x00, 0x00, 0x02,				/* 2 partitions */
				0x00, 0x00, 0x00, 0x00, 0x00, 0x03,		/* 0: error 3 */
				0x00, 0x00, 0x00, 0x03, 0x00, 0x37};		/* 3: error 55 */
	kwriter w;
	req.resp = &resp;
	kw_init(&w, 64);
	proto_encode_response(&req, &w);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	arena_free(a);
}

static void test_known_add_partitions_to_txn_v3_flexible(void **state)
{
	(void)state;
	const uint8_t frame[] = {0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0c, 0xff, 0xff, 0x00,
				 0x03, 't',  'x',
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* producer_id */
				 0x00, 0x02,				       /* epoch */
				 0x02,					       /* 1 topic */
				 0x02, 'u',				       /* "u" */
				 0x02, 0x00, 0x00, 0x00, 0x05,		       /* [5] */
				 0x00,					       /* topic tags */
				 0x00};					       /* body tags */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const add_partitions_to_txn_req *body = req.body;
	const add_partitions_to_txn_topic *t = body->v3_and_below_topics.items;
	assert_int_equal(body->v3_and_below_producer_epoch, 2);
	assert_true(kstr_eq(t->name, "u"));
	assert_int_equal(t->partitions.count, 1);
	assert_int_equal(((const int32_t *)t->partitions.items)[0], 5);
	arena_free(a);
}

static void test_known_add_partitions_to_txn_v4_batch(void **state)
{
	(void)state;
	/* AddPartitionsToTxn v4 (a broker's): two transactions, "tx" to add
	 * "u" [5] and "ty" verify-only with no topics. */
	const uint8_t frame[] = {0x00, 0x18, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0e, 0xff, 0xff, 0x00,
				 0x03,                                           /* 2 transactions */
				 0x03, 't',  'x',
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* producer_id */
				 0x00, 0x02,                                     /* epoch */
				 0x00,                                           /* verify_only */
				 0x02, 0x02, 'u', 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, /* "u" [5] */
				 0x00,                                           /* transaction tags */
				 0x03, 't',  'y',
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b,
				 0x00, 0x00,
				 0x01,                                           /* verify_only */
				 0x01,                                           /* no topics */
				 0x00,
				 0x00};                                          /* body tags */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const add_partitions_to_txn_req *body = req.body;
	assert_int_equal(body->transactions.count, 2);
	const add_partitions_to_txn_transaction *t = body->transactions.items;
	assert_true(kstr_eq(t[0].transactional_id, "tx"));
	assert_int_equal(t[0].producer_id, 42);
	assert_false(t[0].verify_only);
	assert_int_equal(t[0].topics.count, 1);
	assert_true(t[1].verify_only);
	assert_int_equal(t[1].producer_id, 43);
	assert_int_equal(t[1].topics.count, 0);
	arena_free(a);
}

static void test_end_txn_v5_response(void **state)
{
	(void)state;
	end_txn_resp resp = {.error_code = 0, .producer_id = 42, .producer_epoch = 3};
	kwriter w;
	kw_init(&w, 32);
	proto_encode(&end_txn_resp_schema, 5, true, &resp, &w);
	const uint8_t want[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0, 3, 0};
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	/* v4 has neither. */
	kw_init(&w, 32);
	proto_encode(&end_txn_resp_schema, 4, true, &resp, &w);
	assert_int_equal(w.len, 7);
	kw_free(&w);
}

static void test_known_txn_offset_commit_v3(void **state)
{
	(void)state;
	/* TxnOffsetCommit v3: group "g", generation 4, member "m", null
	 * instance id, topic "t" partition 1 at offset 10, leader epoch -1,
	 * null metadata. */
	const uint8_t frame[] = {0x00, 0x1c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00,
				 0x03, 't',  'x',  0x02, 'g',
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* producer_id */
				 0x00, 0x00,				       /* epoch */
				 0x00, 0x00, 0x00, 0x04,		       /* generation */
				 0x02, 'm',				       /* member */
				 0x00,					       /* instance null */
				 0x02, 0x02, 't',			       /* 1 topic "t" */
				 0x02, 0x00, 0x00, 0x00, 0x01,		       /* 1 partition: 1 */
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* offset 10 */
				 0xff, 0xff, 0xff, 0xff,		       /* leader epoch */
				 0x00,					       /* metadata null */
				 0x00, 0x00, 0x00};			       /* tags */
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const txn_offset_commit_req *body = req.body;
	assert_true(kstr_eq(body->group_id, "g"));
	assert_int_equal(body->generation_id, 4);
	assert_true(kstr_eq(body->member_id, "m"));
	assert_int_equal(body->group_instance_id.len, -1);
	const txn_offset_commit_req_topic *t = body->topics.items;
	const txn_offset_commit_req_partition *p = t->partitions.items;
	assert_int_equal(p->partition_index, 1);
	assert_int_equal(p->committed_offset, 10);
	assert_int_equal(p->committed_leader_epoch, -1);
	assert_int_equal(p->committed_metadata.len, -1);
	arena_free(a);

	/* v0 has no generation: it decodes as -1. */
	const uint8_t v0[] = {0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0xff, 0xff,
			      0x00, 0x02, 't',  'x',  0x00, 0x01, 'g',
			      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00,
			      0x00, 0x00, 0x00, 0x00};
	assert_int_equal(parse(v0, sizeof(v0), &req, &a), PROTO_OK);
	body = req.body;
	assert_int_equal(body->generation_id, -1);
	assert_int_equal(body->topics.count, 0);
	arena_free(a);
}

static void test_known_list_transactions_v1(void **state)
{
	(void)state;
	/* ListTransactions v1 (flexible from v0): states ["Ongoing"],
	 * producer ids [7], duration 60000. */
	const uint8_t frame[] = {0x00, 0x42, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xff, 0xff, 0x00,
				 0x02, 0x08, 'O',  'n',  'g',  'o',  'i',  'n',  'g',
				 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
				 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x60,
				 0x00};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const list_transactions_req *body = req.body;
	assert_int_equal(body->state_filters.count, 1);
	assert_true(kstr_eq(((const kstr *)body->state_filters.items)[0], "Ongoing"));
	assert_int_equal(((const int64_t *)body->producer_id_filters.items)[0], 7);
	assert_int_equal(body->duration_filter, 60000);
	arena_free(a);

	/* v0 has no duration filter: -1, everything. */
	const uint8_t v0[] = {0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0x00,
			      0x01, 0x01, 0x00};
	assert_int_equal(parse(v0, sizeof(v0), &req, &a), PROTO_OK);
	body = req.body;
	assert_int_equal(body->duration_filter, -1);
	arena_free(a);
}

static void test_known_describe_transactions_v0(void **state)
{
	(void)state;
	const uint8_t frame[] = {0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0xff, 0xff, 0x00,
				 0x03, 0x02, 'a',  0x03, 'b',  'c',  0x00};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const describe_transactions_req *body = req.body;
	assert_int_equal(body->transactional_ids.count, 2);
	assert_true(kstr_eq(((const kstr *)body->transactional_ids.items)[1], "bc"));
	arena_free(a);
}

/* DescribeTopicPartitions v0: a nullable struct (the cursor), null and set,
 * and a marker other than -1 or 1 refused. */
static void test_known_describe_topic_partitions_cursor(void **state)
{
	(void)state;
	/* header: key 75, v0, corr 1, client id null, no tags; body: one
	 * topic "t", limit 5, then the cursor. */
	uint8_t frame[] = {0x00, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00,
			   0x02, 0x02, 't', 0x00, 0x00, 0x00, 0x00, 0x05,
			   0x01, 0x02, 't', 0x00, 0x00, 0x00, 0x03, 0x00, /* cursor t/3 */
			   0x00};
	request req;
	arena *a;
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_OK);
	const describe_topic_partitions_req *body = req.body;
	assert_int_equal(body->response_partition_limit, 5);
	const describe_topic_partitions_cursor *c = body->cursor;
	assert_non_null(c);
	assert_true(kstr_eq(c->topic_name, "t"));
	assert_int_equal(c->partition_index, 3);
	arena_free(a);

	const uint8_t null_cursor[] = {0x00, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
				       0x00, 0x01, 0x00, 0x00, 0x07, 0xd0, 0xff, 0x00};
	assert_int_equal(parse(null_cursor, sizeof(null_cursor), &req, &a), PROTO_OK);
	body = req.body;
	assert_null(body->cursor);
	assert_int_equal(body->response_partition_limit, 2000);
	arena_free(a);

	frame[19] = 0x02; /* neither -1 nor 1 */
	assert_int_equal(parse(frame, sizeof(frame), &req, &a), PROTO_MALFORMED);
	arena_free(a);
}

/* ApiVersions v3 and v4 answers: the features travel as tagged fields 0,
 * 1 and 2, in order, each only when set; v0 has none. */
static void test_api_versions_feature_tags(void **state)
{
	(void)state;
	api_versions_resp_supported_feature sup = {.name = kstr_c("f"), .min_version = 1,
						    .max_version = 2};
	api_versions_resp_finalized_feature fin = {.name = kstr_c("f"), .max_version_level = 2,
						    .min_version_level = 2};
	api_versions_resp resp = {.supported_features = {1, &sup},
				  .finalized_features_epoch = 7,
				  .finalized_features = {1, &fin}};
	kwriter w;
	kw_init(&w, 64);
	proto_encode(&api_versions_resp_schema, 3, true, &resp, &w);
	const uint8_t want[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* error, keys, throttle */
				0x03,                                     /* three tags */
				0x00, 0x08, 0x02, 0x02, 'f', 0x00, 0x01, 0x00, 0x02, 0x00,
				0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 7,
				0x02, 0x08, 0x02, 0x02, 'f', 0x00, 0x02, 0x00, 0x02, 0x00};
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	/* And back. */
	arena *a = arena_new();
	api_versions_resp back;
	kreader r;
	kr_init(&r, w.buf, w.len);
	assert_int_equal(proto_decode(&api_versions_resp_schema, 3, true, &r, a, &back), 0);
	assert_int_equal(back.finalized_features_epoch, 7);
	assert_int_equal(back.supported_features.count, 1);
	assert_int_equal(back.finalized_features.count, 1);
	kw_free(&w);

	/* Defaults (no features, epoch -1): an empty tag section. */
	api_versions_resp none = {.finalized_features_epoch = -1};
	kw_init(&w, 64);
	proto_encode(&api_versions_resp_schema, 4, true, &none, &w);
	assert_int_equal(w.len, 8);
	assert_int_equal(w.buf[7], 0);
	kw_free(&w);
	/* A tag whose bytes do not hold its value is malformed. */
	const uint8_t bad[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0, 0};
	kr_init(&r, bad, sizeof(bad));
	assert_int_equal(proto_decode(&api_versions_resp_schema, 3, true, &r, a, &back), -1);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_api_every_version),
		cmocka_unit_test(test_known_api_versions_v0),
		cmocka_unit_test(test_known_api_versions_v3_flexible),
		cmocka_unit_test(test_known_metadata_v1_null_topics),
		cmocka_unit_test(test_known_produce_v3),
		cmocka_unit_test(test_known_fetch_v12_compact),
		cmocka_unit_test(test_known_fetch_v17_by_topic_id),
		cmocka_unit_test(test_fetch_v13_response_bytes),
		cmocka_unit_test(test_fetch_v16_leader_hints_bytes),
		cmocka_unit_test(test_metadata_v13_top_level_error_code),
		cmocka_unit_test(test_known_list_offsets_v10),
		cmocka_unit_test(test_known_produce_v13_by_topic_id),
		cmocka_unit_test(test_known_offset_fetch_v9),
		cmocka_unit_test(test_known_offset_commit_v10),
		cmocka_unit_test(test_unknown_tags_are_skipped),
		cmocka_unit_test(test_unsupported_and_malformed),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_transaction_apis_advertised),
		cmocka_unit_test(test_known_end_txn_v0),
		cmocka_unit_test(test_known_end_txn_v3_flexible),
		cmocka_unit_test(test_known_add_partitions_to_txn_v0),
		cmocka_unit_test(test_known_add_partitions_to_txn_v3_flexible),
		cmocka_unit_test(test_known_add_partitions_to_txn_v4_batch),
		cmocka_unit_test(test_end_txn_v5_response),
		cmocka_unit_test(test_known_txn_offset_commit_v3),
		cmocka_unit_test(test_known_list_transactions_v1),
		cmocka_unit_test(test_known_describe_transactions_v0),
		cmocka_unit_test(test_known_describe_topic_partitions_cursor),
		cmocka_unit_test(test_api_versions_feature_tags),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
