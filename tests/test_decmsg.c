/*
 * Unit tests for the output plugin's binary messages as the broker and the
 * shadow forwarder read them (decmsg.c): each type decodes to its fields,
 * and every truncation or inconsistent length is rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decmsg.h"

/* A record message as docs/DECODER.md lays it out. */
static size_t build_record(kwriter *w, uint8_t flags, const char *topic, bool payload)
{
	kw_i8(w, DECMSG_VERSION);
	kw_i8(w, DECMSG_RECORD);
	kw_i8(w, (int8_t)flags);
	kw_i64(w, 0x1A2B3C4D);      /* commit lsn */
	kw_i32(w, 7);               /* partition */
	kw_i64(w, 123456789012LL);  /* offset */
	kw_i64(w, 1700000000123LL); /* timestamp */
	kw_bytes32(w, kstr_c(topic));
	if (payload) {
		kw_bytes32(w, KSTR_LIT("k1"));
		kw_bytes32(w, KSTR_NULL);
		kw_bytes32(w, (kstr){"\x02\x02h\x02v", 5});
	}
	return w->len;
}

static void test_record_with_payload(void **state)
{
	(void)state;
	kwriter w;
	decmsg m;

	kw_init(&w, 64);
	build_record(&w, DECMSG_FLAG_PAYLOAD, "orders", true);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_OK);
	assert_int_equal(m.type, DECMSG_RECORD);
	assert_int_equal(m.commit_lsn, 0x1A2B3C4D);
	assert_int_equal(m.partition, 7);
	assert_int_equal(m.offset, 123456789012LL);
	assert_int_equal(m.timestamp, 1700000000123LL);
	assert_true(kstr_eq(m.topic, "orders"));
	assert_true(kstr_eq(m.key, "k1"));
	assert_int_equal(m.value.len, -1);
	assert_int_equal(m.headers.len, 5);
	/* every shorter prefix is rejected, never read past */
	for (size_t cut = 0; cut < w.len; cut++)
		assert_int_not_equal(decmsg_parse(w.buf, cut, &m), DECMSG_OK);
	kw_free(&w);
}

static void test_summary_record_without_payload(void **state)
{
	(void)state;
	kwriter w;
	decmsg m;

	kw_init(&w, 64);
	build_record(&w, DECMSG_FLAG_SUMMARY, "t", false);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_OK);
	assert_int_equal(m.flags, DECMSG_FLAG_SUMMARY);
	assert_true(kstr_eq(m.topic, "t"));
	assert_int_equal(m.key.len, -1);
	/* trailing bytes after a complete message are an error */
	kw_i8(&w, 0);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_MALFORMED);
	kw_free(&w);
}

static void test_bad_topic_length(void **state)
{
	(void)state;
	kwriter w;
	decmsg m;

	kw_init(&w, 64);
	size_t n = build_record(&w, 0, "abc", false);
	/* claim a topic longer than the message */
	kw_put_i32_at(&w, n - 3 - 4, 1000);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_MALFORMED);
	/* a null topic */
	kw_put_i32_at(&w, n - 3 - 4, -1);
	w.len = n - 3;
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_MALFORMED);
	kw_free(&w);
}

static void test_markers_and_versions(void **state)
{
	(void)state;
	kwriter w;
	decmsg m;

	kw_init(&w, 64);
	kw_i8(&w, DECMSG_VERSION);
	kw_i8(&w, DECMSG_COMMIT);
	kw_u32(&w, 4242);
	kw_i64(&w, 100); /* commit lsn */
	kw_i64(&w, 180); /* end lsn */
	kw_i64(&w, 1700000000000LL);
	assert_int_equal(w.len, 30);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_OK);
	assert_int_equal(m.type, DECMSG_COMMIT);
	assert_int_equal(m.xid, 4242);
	assert_int_equal(m.commit_lsn, 100);
	assert_int_equal(m.end_lsn, 180);
	assert_int_equal(m.timestamp, 1700000000000LL);

	w.len = 0;
	kw_i8(&w, DECMSG_VERSION);
	kw_i8(&w, DECMSG_BEGIN);
	kw_u32(&w, 4242);
	kw_i64(&w, 100);
	kw_i64(&w, 1700000000000LL);
	assert_int_equal(w.len, 22);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_OK);
	assert_int_equal(m.type, DECMSG_BEGIN);

	/* an unknown type of a known version is for the reader to skip */
	w.len = 0;
	kw_i8(&w, DECMSG_VERSION);
	kw_i8(&w, 'Z');
	kw_i32(&w, 99);
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_OK);
	assert_int_equal(m.type, 'Z');

	/* another format version */
	w.buf[0] = 2;
	assert_int_equal(decmsg_parse(w.buf, w.len, &m), DECMSG_BAD_VERSION);
	assert_int_equal(decmsg_parse(w.buf, 0, &m), DECMSG_MALFORMED);
	kw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_with_payload),
		cmocka_unit_test(test_summary_record_without_payload),
		cmocka_unit_test(test_bad_topic_length),
		cmocka_unit_test(test_markers_and_versions),
	};
	return cmocka_run_group_tests_name("decmsg", tests, NULL, NULL);
}
