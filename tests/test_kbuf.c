/*
 * Unit tests for kbuf: Kafka primitive types, varints, strings, tagged
 * fields, and the promise that no reader ever steps past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kbuf.h"

struct vec {
	int64_t value;
	uint8_t bytes[10];
	size_t len;
};

typedef void (*read_fn)(kreader *r);

static void expect_bytes(const kwriter *w, const uint8_t *want, size_t len);
static uint8_t *reader_on_copy(kreader *r, const uint8_t *p, size_t n);

/* Encoded forms from the Kafka spec (zigzag then LEB128). */
static const struct vec varint_vecs[] = {
	{0, {0x00}, 1},
	{1, {0x02}, 1},
	{-1, {0x01}, 1},
	{63, {0x7e}, 1},
	{-64, {0x7f}, 1},
	{64, {0x80, 0x01}, 2},
	{300, {0xd8, 0x04}, 2},
	{-300, {0xd7, 0x04}, 2},
	{INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
	{INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
};

static const struct vec varlong_vecs[] = {
	{0, {0x00}, 1},
	{-1, {0x01}, 1},
	{1, {0x02}, 1},
	{63, {0x7e}, 1},
	{-64, {0x7f}, 1},
	{64, {0x80, 0x01}, 2},
	{300, {0xd8, 0x04}, 2},
	{INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
	{INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
	{INT64_MAX, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
	{INT64_MIN, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
};

static const struct vec uvarint_vecs[] = {
	{0, {0x00}, 1},
	{1, {0x01}, 1},
	{127, {0x7f}, 1},
	{128, {0x80, 0x01}, 2},
	{300, {0xac, 0x02}, 2},
	{16384, {0x80, 0x80, 0x01}, 3},
	{UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
};

static void expect_bytes(const kwriter *w, const uint8_t *want, size_t len)
{
	assert_int_equal(w->len, len);
	assert_memory_equal(w->buf, want, len);
}

/* A malloc'd copy of exactly n bytes, so ASan sees any overread. */
static uint8_t *reader_on_copy(kreader *r, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	kr_init(r, copy, n);
	return copy;
}

static void test_varint_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(varint_vecs) / sizeof(varint_vecs[0]); i++) {
		const struct vec *v = &varint_vecs[i];
		kwriter w;
		kreader r;

		kw_init(&w, 0);
		kw_varint(&w, (int32_t)v->value);
		expect_bytes(&w, v->bytes, v->len);
		kr_init(&r, w.buf, w.len);
		assert_int_equal(kr_varint(&r), v->value);
		assert_true(kr_ok(&r));
		assert_int_equal(kr_remaining(&r), 0);
		kw_free(&w);
	}
}

static void test_varlong_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(varlong_vecs) / sizeof(varlong_vecs[0]); i++) {
		const struct vec *v = &varlong_vecs[i];
		kwriter w;
		kreader r;

		kw_init(&w, 0);
		kw_varlong(&w, v->value);
		expect_bytes(&w, v->bytes, v->len);
		kr_init(&r, w.buf, w.len);
		assert_true(kr_varlong(&r) == v->value);
		assert_true(kr_ok(&r));
		assert_int_equal(kr_remaining(&r), 0);
		kw_free(&w);
	}
}

static void test_uvarint_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uvarint_vecs) / sizeof(uvarint_vecs[0]); i++) {
		const struct vec *v = &uvarint_vecs[i];
		kwriter w;
		kreader r;

		kw_init(&w, 0);
		kw_uvarint(&w, (uint32_t)v->value);
		expect_bytes(&w, v->bytes, v->len);
		kr_init(&r, w.buf, w.len);
		assert_int_equal(kr_uvarint(&r), (uint32_t)v->value);
		assert_true(kr_ok(&r));

		/* The same values as unsigned varlongs encode identically. */
		w.len = 0;
		kw_uvarlong(&w, (uint64_t)v->value);
		expect_bytes(&w, v->bytes, v->len);
		kr_init(&r, w.buf, w.len);
		assert_true(kr_uvarlong(&r) == (uint64_t)v->value);
		assert_true(kr_ok(&r));
		kw_free(&w);
	}
}

static void test_uvarlong_max(void **state)
{
	static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	kwriter w;
	kreader r;

	(void)state;
	kw_init(&w, 0);
	kw_uvarlong(&w, UINT64_MAX);
	expect_bytes(&w, max, sizeof(max));
	kr_init(&r, w.buf, w.len);
	assert_true(kr_uvarlong(&r) == UINT64_MAX);
	assert_true(kr_ok(&r));
	kw_free(&w);
}

/* Every 32-bit boundary value survives a zigzag round trip. */
static void test_varint_roundtrip_range(void **state)
{
	static const int64_t vals[] = {
		0,         1,          -1,        63,        -64,           64,
		-65,       8191,       -8192,     8192,      1048575,       -1048576,
		134217727, -134217728, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		kwriter w;
		kreader r;

		kw_init(&w, 0);
		kw_varint(&w, (int32_t)vals[i]);
		kw_varlong(&w, vals[i] * 4096);
		kr_init(&r, w.buf, w.len);
		assert_int_equal(kr_varint(&r), vals[i]);
		assert_true(kr_varlong(&r) == vals[i] * 4096);
		assert_true(kr_ok(&r));
		assert_int_equal(kr_remaining(&r), 0);
		kw_free(&w);
	}
}

static void test_overlong_rejected(void **state)
{
	/* Six bytes for a 32-bit varint. */
	static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	/* Five bytes but the last still says "more". */
	static const uint8_t five_cont[] = {0xff, 0xff, 0xff, 0xff, 0x8f};
	/* Five bytes whose last byte carries bits above bit 31. */
	static const uint8_t five_over[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	/* Five bytes, padded but in range: allowed. */
	static const uint8_t five_ok[] = {0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					 0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t ten_over[] = {0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x02};
	kreader r;

	(void)state;
	kr_init(&r, six, sizeof(six));
	assert_int_equal(kr_uvarint(&r), 0);
	assert_false(kr_ok(&r));
	kr_init(&r, six, sizeof(six));
	assert_int_equal(kr_varint(&r), 0);
	assert_false(kr_ok(&r));
	kr_init(&r, five_cont, sizeof(five_cont));
	(void)kr_uvarint(&r);
	assert_false(kr_ok(&r));
	kr_init(&r, five_over, sizeof(five_over));
	(void)kr_uvarint(&r);
	assert_false(kr_ok(&r));
	kr_init(&r, five_ok, sizeof(five_ok));
	assert_int_equal(kr_uvarint(&r), 0);
	assert_true(kr_ok(&r));

	kr_init(&r, eleven, sizeof(eleven));
	assert_true(kr_uvarlong(&r) == 0);
	assert_false(kr_ok(&r));
	kr_init(&r, eleven, sizeof(eleven));
	assert_true(kr_varlong(&r) == 0);
	assert_false(kr_ok(&r));
	kr_init(&r, ten_over, sizeof(ten_over));
	(void)kr_uvarlong(&r);
	assert_false(kr_ok(&r));
}

static void test_fixed_width(void **state)
{
	static const uint8_t want[] = {
		0x81,                                           /* i8 -127 */
		0xfe, 0xdc,                                     /* i16 */
		0x80, 0x00, 0x00, 0x01,                         /* i32 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* i64 */
		0xde, 0xad, 0xbe, 0xef,                         /* u32 */
		0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, /* f64 pi */
	};
	kwriter w;
	kreader r;

	(void)state;
	kw_init(&w, 0);
	kw_i8(&w, -127);
	kw_i16(&w, (int16_t)0xfedc);
	kw_i32(&w, (int32_t)0x80000001u);
	kw_i64(&w, 0x0102030405060708LL);
	kw_u32(&w, 0xdeadbeefu);
	kw_f64(&w, 3.141592653589793);
	expect_bytes(&w, want, sizeof(want));

	kr_init(&r, w.buf, w.len);
	assert_int_equal(kr_i8(&r), -127);
	assert_int_equal(kr_i16(&r), (int16_t)0xfedc);
	assert_int_equal(kr_i32(&r), (int32_t)0x80000001u);
	assert_true(kr_i64(&r) == 0x0102030405060708LL);
	assert_int_equal(kr_u32(&r), 0xdeadbeefu);
	assert_true(kr_f64(&r) == 3.141592653589793);
	assert_true(kr_ok(&r));
	assert_int_equal(kr_remaining(&r), 0);
	kw_free(&w);
}

static void test_classic_strings(void **state)
{
	kwriter w;
	kreader r;
	kstr s;

	(void)state;
	kw_init(&w, 0);
	kw_string(&w, KSTR_LIT("hello"));
	kw_string(&w, KSTR_LIT(""));
	kw_string(&w, KSTR_NULL);
	kw_bytes32(&w, KSTR_LIT("xyz"));
	kw_bytes32(&w, KSTR_NULL);
	kw_bytes32(&w, KSTR_LIT(""));

	kr_init(&r, w.buf, w.len);
	s = kr_string(&r);
	assert_true(kstr_eq(s, "hello"));
	s = kr_string(&r);
	assert_int_equal(s.len, 0);
	assert_true(kstr_eq(s, ""));
	s = kr_string(&r);
	assert_int_equal(s.len, -1);
	assert_true(kstr_eq(s, NULL));
	s = kr_bytes32(&r);
	assert_true(kstr_eq(s, "xyz"));
	s = kr_bytes32(&r);
	assert_int_equal(s.len, -1);
	s = kr_bytes32(&r);
	assert_int_equal(s.len, 0);
	assert_true(kr_ok(&r));
	assert_int_equal(kr_remaining(&r), 0);
	kw_free(&w);
}

static void test_classic_string_bad_lengths(void **state)
{
	static const uint8_t neg2[] = {0xff, 0xfe, 'a', 'b'};
	static const uint8_t too_long[] = {0x00, 0x05, 'a', 'b'};
	static const uint8_t neg2_32[] = {0xff, 0xff, 0xff, 0xfe, 'a'};
	static const uint8_t min32[] = {0x80, 0x00, 0x00, 0x00, 'a'};
	kreader r;
	kstr s;

	(void)state;
	kr_init(&r, neg2, sizeof(neg2));
	s = kr_string(&r);
	assert_false(kr_ok(&r));
	assert_int_equal(s.len, -1);
	kr_init(&r, too_long, sizeof(too_long));
	(void)kr_string(&r);
	assert_false(kr_ok(&r));
	kr_init(&r, neg2_32, sizeof(neg2_32));
	(void)kr_bytes32(&r);
	assert_false(kr_ok(&r));
	kr_init(&r, min32, sizeof(min32));
	(void)kr_bytes32(&r);
	assert_false(kr_ok(&r));
}

static void test_compact_strings(void **state)
{
	static const uint8_t want[] = {0x06, 'h', 'e', 'l', 'l', 'o', 0x01, 0x00, 0x03, 0xaa, 0xbb};
	kwriter w;
	kreader r;
	kstr s;

	(void)state;
	kw_init(&w, 0);
	kw_compact_string(&w, KSTR_LIT("hello"));
	kw_compact_string(&w, KSTR_LIT(""));
	kw_compact_string(&w, KSTR_NULL);
	kw_compact_bytes(&w, (kstr){"\xaa\xbb", 2});
	expect_bytes(&w, want, sizeof(want));

	kr_init(&r, w.buf, w.len);
	assert_true(kstr_eq(kr_compact_string(&r), "hello"));
	s = kr_compact_string(&r);
	assert_int_equal(s.len, 0);
	s = kr_compact_string(&r);
	assert_int_equal(s.len, -1);
	s = kr_compact_bytes(&r);
	assert_int_equal(s.len, 2);
	assert_memory_equal(s.ptr, "\xaa\xbb", 2);
	assert_true(kr_ok(&r));
	assert_int_equal(kr_remaining(&r), 0);
	kw_free(&w);
}

static void test_compact_string_bad_lengths(void **state)
{
	/* N+1 = 2^32-1: a length that does not fit int32. */
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
	static const uint8_t short_[] = {0x04, 'a', 'b'};
	kreader r;

	(void)state;
	kr_init(&r, huge, sizeof(huge));
	(void)kr_compact_string(&r);
	assert_false(kr_ok(&r));
	kr_init(&r, short_, sizeof(short_));
	(void)kr_compact_bytes(&r);
	assert_false(kr_ok(&r));
}

static void test_string_truncated_on_write(void **state)
{
	size_t n = 40000;
	char *big = malloc(n);
	kwriter w;
	kreader r;
	kstr s;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	kw_init(&w, 0);
	kw_string(&w, (kstr){big, (int32_t)n});
	kr_init(&r, w.buf, w.len);
	s = kr_string(&r);
	assert_true(kr_ok(&r));
	assert_int_equal(s.len, INT16_MAX);
	kw_free(&w);
	free(big);
}

static void test_sticky_error(void **state)
{
	static const uint8_t buf[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
	kreader r;

	(void)state;
	kr_init(&r, buf, sizeof(buf));
	(void)kr_i64(&r); /* only 7 bytes */
	assert_false(kr_ok(&r));
	/* The bytes are there, but a failed reader stays failed. */
	assert_int_equal(kr_i8(&r), 0);
	assert_int_equal(kr_i16(&r), 0);
	assert_null(kr_bytes(&r, 1));
	assert_int_equal(kr_string(&r).len, -1);
	assert_false(kr_ok(&r));
}

static void test_bytes_and_skip(void **state)
{
	static const uint8_t buf[] = {1, 2, 3, 4, 5};
	const uint8_t *p;
	kreader r;

	(void)state;
	kr_init(&r, buf, sizeof(buf));
	p = kr_bytes(&r, 2);
	assert_ptr_equal(p, buf);
	kr_skip(&r, 2);
	assert_int_equal(kr_remaining(&r), 1);
	assert_non_null(kr_bytes(&r, 0));
	assert_null(kr_bytes(&r, 2));
	assert_false(kr_ok(&r));

	kr_init(&r, buf, sizeof(buf));
	kr_skip(&r, 6);
	assert_false(kr_ok(&r));
	kr_init(&r, buf, sizeof(buf));
	kr_skip(&r, SIZE_MAX);
	assert_false(kr_ok(&r));
}

static void test_tags(void **state)
{
	kwriter w;
	kreader r;

	(void)state;
	kw_init(&w, 0);
	kw_uvarint(&w, 3); /* three tags */
	kw_uvarint(&w, 0); /* tag 0 */
	kw_uvarint(&w, 3); /* size */
	kw_raw(&w, "abc", 3);
	kw_uvarint(&w, 5); /* tag 5, empty */
	kw_uvarint(&w, 0);
	kw_uvarint(&w, 300); /* tag 300, 200 bytes */
	kw_uvarint(&w, 200);
	kw_skip(&w, 200);
	kw_i8(&w, 42); /* what follows the section */
	kw_empty_tags(&w);

	kr_init(&r, w.buf, w.len);
	kr_skip_tags(&r);
	assert_true(kr_ok(&r));
	assert_int_equal(kr_i8(&r), 42);
	kr_skip_tags(&r);
	assert_true(kr_ok(&r));
	assert_int_equal(kr_remaining(&r), 0);

	/* A size that runs past the end. */
	w.len = 0;
	kw_uvarint(&w, 1);
	kw_uvarint(&w, 0);
	kw_uvarint(&w, 10);
	kw_raw(&w, "abc", 3);
	kr_init(&r, w.buf, w.len);
	kr_skip_tags(&r);
	assert_false(kr_ok(&r));

	/* A count far larger than the data. */
	w.len = 0;
	kw_uvarint(&w, UINT32_MAX);
	kw_uvarint(&w, 1);
	kw_uvarint(&w, 0);
	kr_init(&r, w.buf, w.len);
	kr_skip_tags(&r);
	assert_false(kr_ok(&r));
	kw_free(&w);
}

/* ---- every reader, every truncation ---- */

/* Each reader paired with a writer of its longest valid encoding. */
static void rd_i8(kreader *r) { (void)kr_i8(r); }
static void rd_i16(kreader *r) { (void)kr_i16(r); }
static void rd_i32(kreader *r) { (void)kr_i32(r); }
static void rd_i64(kreader *r) { (void)kr_i64(r); }
static void rd_u32(kreader *r) { (void)kr_u32(r); }
static void rd_f64(kreader *r) { (void)kr_f64(r); }
static void rd_uvarint(kreader *r) { (void)kr_uvarint(r); }
static void rd_varint(kreader *r) { (void)kr_varint(r); }
static void rd_varlong(kreader *r) { (void)kr_varlong(r); }
static void rd_uvarlong(kreader *r) { (void)kr_uvarlong(r); }
static void rd_bytes(kreader *r) { (void)kr_bytes(r, 7); }
static void rd_skip(kreader *r) { kr_skip(r, 7); }
static void rd_string(kreader *r) { (void)kr_string(r); }
static void rd_compact_string(kreader *r) { (void)kr_compact_string(r); }
static void rd_bytes32(kreader *r) { (void)kr_bytes32(r); }
static void rd_compact_bytes(kreader *r) { (void)kr_compact_bytes(r); }
static void rd_tags(kreader *r) { kr_skip_tags(r); }

static void wr_i8(kwriter *w) { kw_i8(w, 1); }
static void wr_i16(kwriter *w) { kw_i16(w, 1); }
static void wr_i32(kwriter *w) { kw_i32(w, 1); }
static void wr_i64(kwriter *w) { kw_i64(w, 1); }
static void wr_u32(kwriter *w) { kw_u32(w, 1); }
static void wr_f64(kwriter *w) { kw_f64(w, 1.5); }
static void wr_uvarint(kwriter *w) { kw_uvarint(w, UINT32_MAX); }
static void wr_varint(kwriter *w) { kw_varint(w, INT32_MIN); }
static void wr_varlong(kwriter *w) { kw_varlong(w, INT64_MIN); }
static void wr_uvarlong(kwriter *w) { kw_uvarlong(w, UINT64_MAX); }
static void wr_bytes(kwriter *w) { kw_raw(w, "abcdefg", 7); }
static void wr_skip(kwriter *w) { kw_raw(w, "abcdefg", 7); }
static void wr_string(kwriter *w) { kw_string(w, KSTR_LIT("some string")); }
static void wr_compact_string(kwriter *w) { kw_compact_string(w, KSTR_LIT("some string")); }
static void wr_bytes32(kwriter *w) { kw_bytes32(w, KSTR_LIT("some bytes")); }
static void wr_compact_bytes(kwriter *w) { kw_compact_bytes(w, KSTR_LIT("some bytes")); }
static void wr_tags(kwriter *w)
{
	kw_uvarint(w, 2);
	kw_uvarint(w, 1);
	kw_uvarint(w, 4);
	kw_raw(w, "abcd", 4);
	kw_uvarint(w, 200);
	kw_uvarint(w, 1);
	kw_i8(w, 9);
}

/* clang-format off */
#define RW(nm) {#nm, rd_##nm, wr_##nm}

static const struct {
	const char *name;
	read_fn read;
	void (*write)(kwriter *w);
} readers[] = {
	RW(i8), RW(i16), RW(i32), RW(i64), RW(u32), RW(f64),
	RW(uvarint), RW(varint), RW(varlong), RW(uvarlong),
	RW(bytes), RW(skip), RW(string), RW(compact_string),
	RW(bytes32), RW(compact_bytes), RW(tags),
};
/* clang-format on */

static void test_truncation_every_reader(void **state)
{
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		uint8_t *copy;
		kreader r;
		kwriter w;

		kw_init(&w, 0);
		readers[i].write(&w);

		/* Whole: succeeds and consumes everything. */
		copy = reader_on_copy(&r, w.buf, w.len);
		readers[i].read(&r);
		assert_true(kr_ok(&r));
		assert_int_equal(kr_remaining(&r), 0);
		free(copy);

		/* Every proper prefix: fails, never moves past the end. */
		for (cut = 0; cut < w.len; cut++) {
			copy = reader_on_copy(&r, w.buf, cut);
			readers[i].read(&r);
			if (kr_ok(&r))
				fail_msg("reader %s accepted %zu of %zu bytes", readers[i].name,
					 cut, w.len);
			assert_true(r.p <= r.end);
			free(copy);
		}
		kw_free(&w);
	}
}

static void test_writer_growth_and_patch(void **state)
{
	kwriter w;
	uint8_t *buf;
	size_t len, i, off16, off32, off64;

	(void)state;
	kw_init(&w, 0);
	off16 = kw_skip(&w, 2);
	off32 = kw_skip(&w, 4);
	off64 = kw_skip(&w, 8);
	assert_int_equal(off16, 0);
	assert_int_equal(off32, 2);
	assert_int_equal(off64, 6);
	for (i = 0; i < 100000; i++)
		kw_i8(&w, (int8_t)i);
	assert_true(w.cap >= w.len);
	kw_put_i16_at(&w, off16, -2);
	kw_put_i32_at(&w, off32, 0x11223344);
	kw_put_u32_at(&w, off32, 0xa1b2c3d4u);
	kw_put_i64_at(&w, off64, -3);
	assert_int_equal(w.buf[0], 0xff);
	assert_int_equal(w.buf[1], 0xfe);
	assert_int_equal(w.buf[2], 0xa1);
	assert_int_equal(w.buf[5], 0xd4);
	assert_int_equal(w.buf[13], 0xfd);
	assert_int_equal(w.buf[14 + 99999], (uint8_t)99999);

	buf = kw_steal(&w, &len);
	assert_int_equal(len, 14 + 100000);
	assert_null(w.buf);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.cap, 0);
	free(buf);

	/* A stolen-from writer is reusable; kw_free on an empty one is fine. */
	kw_raw(&w, "ab", 2);
	assert_int_equal(w.len, 2);
	kw_free(&w);
	kw_free(&w);

	kw_init(&w, 3);
	kw_reserve(&w, 1000);
	assert_true(w.cap >= 1000);
	kw_free(&w);
}

static void test_kstr_helpers(void **state)
{
	kstr n = kstr_c(NULL), e = kstr_c(""), a = kstr_c("abc");

	(void)state;
	assert_int_equal(n.len, -1);
	assert_int_equal(e.len, 0);
	assert_int_equal(a.len, 3);
	assert_true(kstr_eq(n, NULL));
	assert_false(kstr_eq(n, ""));
	assert_false(kstr_eq(e, NULL));
	assert_true(kstr_eq(e, ""));
	assert_true(kstr_eq(a, "abc"));
	assert_false(kstr_eq(a, "abcd"));
	assert_false(kstr_eq(a, "ab"));
	assert_false(kstr_eq(a, "abd"));
	assert_true(kstr_eq((kstr){"abcdef", 3}, "abc"));

	assert_true(kstr_eqk(n, KSTR_NULL));
	assert_false(kstr_eqk(n, e));
	assert_true(kstr_eqk(e, (kstr){NULL, 0}));
	assert_true(kstr_eqk(a, KSTR_LIT("abc")));
	assert_false(kstr_eqk(a, KSTR_LIT("abd")));
	assert_false(kstr_eqk(a, KSTR_LIT("ab")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_vectors),
		cmocka_unit_test(test_varlong_vectors),
		cmocka_unit_test(test_uvarint_vectors),
		cmocka_unit_test(test_uvarlong_max),
		cmocka_unit_test(test_varint_roundtrip_range),
		cmocka_unit_test(test_overlong_rejected),
		cmocka_unit_test(test_fixed_width),
		cmocka_unit_test(test_classic_strings),
		cmocka_unit_test(test_classic_string_bad_lengths),
		cmocka_unit_test(test_compact_strings),
		cmocka_unit_test(test_compact_string_bad_lengths),
		cmocka_unit_test(test_string_truncated_on_write),
		cmocka_unit_test(test_sticky_error),
		cmocka_unit_test(test_bytes_and_skip),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_truncation_every_reader),
		cmocka_unit_test(test_writer_growth_and_patch),
		cmocka_unit_test(test_kstr_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
