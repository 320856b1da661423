/*
 * Unit tests for idtext.c: the internal form of group, transactional and
 * client ids, and the codec's id fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apis.h"
#include "idtext.h"
#include "proto.h"
#include "validate.h"

#define K(lit) ((kstr){(lit), (int32_t)(sizeof(lit) - 1)})

static void assert_kstr(kstr got, kstr want)
{
	assert_int_equal(got.len, want.len);
	if (want.len > 0)
		assert_memory_equal(got.ptr, want.ptr, (size_t)want.len);
}

static kstr to_wire(arena *a, kstr internal)
{
	char *out = arena_alloc(a, internal.len > 0 ? (size_t)internal.len : 1);
	return (kstr){out, (int32_t)idtext_to_wire(internal, out)};
}

/* Valid UTF-8 without NUL and U+E000 is its own internal form, not copied. */
static void test_plain_ids_unchanged(void **state)
{
	(void)state;
	arena *a = arena_new();
	static const char *plain[] = {"",
				      "grp",
				      "ümlaut",
				      "\xf0\x9f\x98\x80 emoji",
				      "\xee\x80\x81 U+E001 alone",
				      "\xef\xbf\xbd"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		kstr s = kstr_c(plain[i]);
		kstr in = idtext_from_wire(s, a);
		assert_ptr_equal(in.ptr, s.ptr);
		assert_int_equal(in.len, s.len);
		assert_kstr(to_wire(a, in), s);
	}
	kstr null = idtext_from_wire(KSTR_NULL, a);
	assert_int_equal(null.len, -1);
	arena_free(a);
}

/* Wire bytes, the internal form, and the bytes Kafka would send back (the
 * UTF-8 of the Java string it decoded, U+FFFD for what was ill-formed). */
static const struct {
	kstr wire, internal, back;
} cases[] = {
	{K("grp\0one"), K("grp\xee\x80\x80\xee\x80\x81one"), K("grp\0one")},
	{K("\0"), K("\xee\x80\x80\xee\x80\x81"), K("\0")},
	{K("\xee\x80\x80"), K("\xee\x80\x80\xee\x80\x80"), K("\xee\x80\x80")},
	{K("\xee\x80\x80\xee\x80\x81"), K("\xee\x80\x80\xee\x80\x80\xee\x80\x81"),
	 K("\xee\x80\x80\xee\x80\x81")},
	{K("a\xff"
	   "b"),
	 K("a\xef\xbf\xbd"
	   "b"),
	 K("a\xef\xbf\xbd"
	   "b")},
	/* C0/C1 never start a sequence: one U+FFFD each byte. */
	{K("\xc0\x80"), K("\xef\xbf\xbd\xef\xbf\xbd"), K("\xef\xbf\xbd\xef\xbf\xbd")},
	/* An encoded surrogate: one U+FFFD for its three bytes, as Java. */
	{K("\xed\xa0\x80"), K("\xef\xbf\xbd"), K("\xef\xbf\xbd")},
	/* Overlong three-byte form: E0 alone, then each continuation byte. */
	{K("\xe0\x80\x80"), K("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	 K("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
	/* A sequence cut short by the end of the string: one U+FFFD. */
	{K("x\xe2\x82"), K("x\xef\xbf\xbd"), K("x\xef\xbf\xbd")},
	{K("\xf0\x9f\x98"), K("\xef\xbf\xbd"), K("\xef\xbf\xbd")},
	/* Cut short by a byte that does not continue it. */
	{K("\xe2\x82x"), K("\xef\xbf\xbdx"), K("\xef\xbf\xbdx")},
	/* Past U+10FFFF: F4 90 cannot start anything. */
	{K("\xf4\x90\x80\x80"), K("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
	 K("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
	{K("\xf8"), K("\xef\xbf\xbd"), K("\xef\xbf\xbd")},
	{K("\0\xff\0"), K("\xee\x80\x80\xee\x80\x81\xef\xbf\xbd\xee\x80\x80\xee\x80\x81"),
	 K("\0\xef\xbf\xbd\0")},
};

static void test_known_mappings(void **state)
{
	(void)state;
	arena *a = arena_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kstr in = idtext_from_wire(cases[i].wire, a);
		assert_kstr(in, cases[i].internal);
		assert_true(pgtext_valid(in));
		assert_kstr(to_wire(a, in), cases[i].back);
		/* What Kafka sends back maps to the same id. */
		assert_kstr(idtext_from_wire(cases[i].back, a), cases[i].internal);
	}
	arena_free(a);
}

/* An U+E000 the mapping did not make (typed in SQL) goes out as it is. */
static void test_lone_escape_kept(void **state)
{
	(void)state;
	arena *a = arena_new();
	assert_kstr(to_wire(a, K("a\xee\x80\x80")), K("a\xee\x80\x80"));
	assert_kstr(to_wire(a, K("\xee\x80\x80z\xee\x80\x80\xee\x80\x81")), K("\xee\x80\x80z\0"));
	arena_free(a);
}

/* Arbitrary bytes: the internal form is PostgreSQL text, maps back to the
 * bytes when they were UTF-8 (NULs included), and is stable. */
static void test_random_bytes(void **state)
{
	(void)state;
	static const uint8_t alphabet[] = {0x00, 'a',  0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf,
					   0xe0, 0xed, 0xee, 0xef, 0xa0, 0x9f, 0xf0, 0xf4,
					   0xf5, 0xff, 0x90, 0x8f, 0x81, 0xbd};
	unsigned seed = 12345;
	for (int round = 0; round < 20000; round++) {
		arena *a = arena_new();
		uint8_t buf[12];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		kstr wire = {(const char *)buf, (int32_t)n};
		kstr in = idtext_from_wire(wire, a);
		assert_true(pgtext_valid(in));
		kstr back = to_wire(a, in);
		assert_kstr(idtext_from_wire(back, a), in);
		/* Bytes whose pieces between NULs are UTF-8 come back exactly. */
		bool utf8 = true;
		for (size_t i = 0, from = 0; i <= n; i++) {
			if (i < n && buf[i])
				continue;
			utf8 = utf8 &&
			       pgtext_valid((kstr){(const char *)buf + from, (int32_t)(i - from)});
			from = i + 1;
		}
		if (utf8)
			assert_kstr(back, wire);
		else
			assert_true(back.len != wire.len ||
				    memcmp(back.ptr, wire.ptr, (size_t)n) != 0);
		arena_free(a);
	}
}

/* The codec: an id field decodes to the internal form and encodes back to
 * the wire bytes; a plain string field is left alone. */
static void test_codec_id_fields(void **state)
{
	(void)state;
	arena *a = arena_new();
	/* DeleteGroups v0: groups_names ["g\0x", "h\xff"] */
	static const uint8_t req_v0[] = {0, 0, 0, 2, 0, 3, 'g', 0, 'x', 0, 2, 'h', 0xff};
	kreader r;
	kr_init(&r, req_v0, sizeof(req_v0));
	delete_groups_req body;
	memset(&body, 0, sizeof(body));
	assert_int_equal(proto_decode(&delete_groups_req_schema, 0, false, &r, a, &body), 0);
	assert_int_equal(body.groups_names.count, 2);
	kstr *names = body.groups_names.items;
	assert_kstr(names[0], K("g\xee\x80\x80\xee\x80\x81x"));
	assert_kstr(names[1], K("h\xef\xbf\xbd"));

	delete_groups_resp_result res[2] = {{names[0], 0}, {names[1], 69}};
	delete_groups_resp resp = {0, {2, res}};
	kwriter w;
	kw_init(&w, 64);
	proto_encode(&delete_groups_resp_schema, 0, false, &resp, &w);
	static const uint8_t want[] = {0,   0, 0, 0, 0, 0,   0,    2,    0,    3, 'g', 0,
				       'x', 0, 0, 0, 4, 'h', 0xef, 0xbf, 0xbd, 0, 69};
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kw_free(&w);
	arena_free(a);
}

/* The request header's client id is an id too. */
static void test_header_client_id(void **state)
{
	(void)state;
	/* ApiVersions v0, correlation 7, client id "c\0" */
	static const uint8_t frame[] = {0, 18, 0, 0, 0, 0, 0, 7, 0, 2, 'c', 0};
	request req;
	memset(&req, 0, sizeof(req));
	req.arena = arena_new();
	assert_int_equal(proto_parse_request(frame, sizeof(frame), &req), PROTO_OK);
	assert_kstr(req.client_id, K("c\xee\x80\x80\xee\x80\x81"));
	arena_free(req.arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ids_unchanged), cmocka_unit_test(test_known_mappings),
		cmocka_unit_test(test_lone_escape_kept),    cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_codec_id_fields),     cmocka_unit_test(test_header_client_id),
	};
	return cmocka_run_group_tests_name("idtext", tests, NULL, NULL);
}
