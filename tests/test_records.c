/*
 * Unit tests for RecordBatch v2 decoding and encoding: a batch written out
 * byte by byte from the spec, round trips through every codec, and the error
 * code for each kind of damage a producer could send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "compress.h"
#include "crc32c.h"
#include "kerr.h"
#include "records.h"

#define MIB (1024 * 1024)
#define NRECS 1000

/* Owned storage for generated records: keys, values and headers. */
struct recset {
	record recs[NRECS];
	char keys[NRECS][16];
	char values[NRECS][64];
	kwriter hdrs[NRECS];
	int n;
};

static void fix_crc(uint8_t *batch, size_t size);
static void recset_build(struct recset *rs, int n, int64_t ts0);
static void recset_free(struct recset *rs);
static void assert_kstr_equal(kstr a, kstr b);
static void assert_records_equal(const record *a, const record *b, int n);
static record_batch default_header(void);
static int decode_copy(const uint8_t *buf, size_t len, size_t max_bytes);

/*
 * Two records, laid out field by field from the v2 spec. The CRC is left
 * zero here and computed by fix_crc().
 */
static const uint8_t spec_batch[] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* baseOffset 5 */
	0x00, 0x00, 0x00, 0x51,                         /* batchLength 81 */
	0x00, 0x00, 0x00, 0x03,                         /* partitionLeaderEpoch 3 */
	0x02,                                           /* magic */
	0x00, 0x00, 0x00, 0x00,                         /* crc (patched) */
	0x00, 0x00,                                     /* attributes */
	0x00, 0x00, 0x00, 0x01,                         /* lastOffsetDelta 1 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* baseTimestamp 1700000000000 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x0a, /* maxTimestamp +10 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
	0xff, 0xff,                                     /* producerEpoch -1 */
	0xff, 0xff, 0xff, 0xff,                         /* baseSequence -1 */
	0x00, 0x00, 0x00, 0x02,                         /* recordsCount 2 */
	/* record 0: length 12 */
	0x18, 0x00, 0x00, 0x00,        /* len, attrs, tsDelta 0, offDelta 0 */
	0x02, 'k',                     /* key "k" */
	0x0a, 'h', 'e', 'l', 'l', 'o', /* value "hello" */
	0x00,                          /* no headers */
	/* record 1: length 18 */
	0x24, 0x00, 0x14, 0x02,    /* len, attrs, tsDelta 10, offDelta 1 */
	0x01,                      /* key null */
	0x06, 'a', 'b', 'c',       /* value "abc" */
	0x04,                      /* 2 headers */
	0x04, 'h', '1', 0x02, 'v', /* "h1" = "v" */
	0x04, 'h', '2', 0x01,      /* "h2" = null */
};

#define SPEC_REC1_HEADERS 83 /* offset of record 1's header count */

static void fix_crc(uint8_t *batch, size_t size)
{
	uint32_t crc = crc32c(0, batch + 21, size - 21);

	batch[17] = (uint8_t)(crc >> 24);
	batch[18] = (uint8_t)(crc >> 16);
	batch[19] = (uint8_t)(crc >> 8);
	batch[20] = (uint8_t)crc;
}

static record_batch default_header(void)
{
	record_batch h;

	memset(&h, 0, sizeof(h));
	h.base_offset = 1000;
	h.partition_leader_epoch = 7;
	h.producer_id = 42;
	h.producer_epoch = 3;
	h.base_sequence = 17;
	h.base_timestamp = -1;
	h.max_timestamp = -1;
	return h;
}

/*
 * Every third key null, every fifth value null, every fourth record with
 * headers (one of them with a null value), timestamps not monotonic.
 */
static void recset_build(struct recset *rs, int n, int64_t ts0)
{
	int i;

	rs->n = n;
	for (i = 0; i < n; i++) {
		record *r = &rs->recs[i];

		memset(r, 0, sizeof(*r));
		r->offset_delta = i;
		r->timestamp = ts0 + (i % 7 == 3 ? -i : i * 3);
		snprintf(rs->keys[i], sizeof(rs->keys[i]), "key-%d", i);
		snprintf(rs->values[i], sizeof(rs->values[i]), "value %d of the test set", i);
		r->key = i % 3 == 0 ? KSTR_NULL : kstr_c(rs->keys[i]);
		r->value = i % 5 == 0 ? KSTR_NULL : kstr_c(rs->values[i]);
		if (i == 1)
			r->value = (kstr){"", 0};
		kw_init(&rs->hdrs[i], 0);
		if (i % 4 == 0) {
			kw_varint(&rs->hdrs[i], 2);
			kw_varint(&rs->hdrs[i], 5);
			kw_raw(&rs->hdrs[i], "trace", 5);
			kw_varint(&rs->hdrs[i], 4);
			kw_raw(&rs->hdrs[i], &i, 4);
			kw_varint(&rs->hdrs[i], 0); /* empty key */
			kw_varint(&rs->hdrs[i], -1);
			r->headers =
				(kstr){(const char *)rs->hdrs[i].buf, (int32_t)rs->hdrs[i].len};
			r->header_count = 2;
		}
	}
}

static void recset_free(struct recset *rs)
{
	int i;

	for (i = 0; i < rs->n; i++)
		kw_free(&rs->hdrs[i]);
}

static void assert_kstr_equal(kstr a, kstr b)
{
	assert_int_equal(a.len, b.len);
	if (a.len > 0)
		assert_memory_equal(a.ptr, b.ptr, (size_t)a.len);
}

static void assert_records_equal(const record *a, const record *b, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_true(a[i].offset_delta == b[i].offset_delta);
		assert_true(a[i].timestamp == b[i].timestamp);
		assert_kstr_equal(a[i].key, b[i].key);
		assert_kstr_equal(a[i].value, b[i].value);
		assert_int_equal(a[i].header_count, b[i].header_count);
		assert_kstr_equal(a[i].headers, b[i].headers);
		if (a[i].header_count == 0)
			assert_null(a[i].headers.ptr);
	}
}

/* Decode a malloc'd copy of exactly len bytes, so ASan sees overreads. */
static int decode_copy(const uint8_t *buf, size_t len, size_t max_bytes)
{
	uint8_t *copy = malloc(len ? len : 1);
	arena *a = arena_new();
	record_batch *bs;
	int n, rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	rc = records_decode(a, copy, len, max_bytes, &bs, &n);
	if (rc != 0) {
		assert_null(bs);
		assert_int_equal(n, 0);
	}
	arena_free(a);
	free(copy);
	return rc;
}

static void test_spec_batch_decodes(void **state)
{
	uint8_t buf[sizeof(spec_batch)];
	arena *a = arena_new();
	record_batch *bs;
	const record *r;
	int n;

	(void)state;
	assert_int_equal(sizeof(spec_batch), 93);
	memcpy(buf, spec_batch, sizeof(buf));
	fix_crc(buf, sizeof(buf));
	assert_int_equal(records_decode(a, buf, sizeof(buf), MIB, &bs, &n), 0);
	assert_int_equal(n, 1);
	assert_true(bs[0].base_offset == 5);
	assert_int_equal(bs[0].batch_length, 81);
	assert_int_equal(bs[0].partition_leader_epoch, 3);
	assert_int_equal(bs[0].magic, 2);
	assert_int_equal(bs[0].crc, (uint32_t)crc32c(0, buf + 21, sizeof(buf) - 21));
	assert_int_equal(bs[0].attributes, 0);
	assert_int_equal(bs[0].last_offset_delta, 1);
	assert_true(bs[0].base_timestamp == 1700000000000LL);
	assert_true(bs[0].max_timestamp == 1700000000010LL);
	assert_true(bs[0].producer_id == -1);
	assert_int_equal(bs[0].producer_epoch, -1);
	assert_int_equal(bs[0].base_sequence, -1);
	assert_int_equal(bs[0].record_count, 2);

	r = &bs[0].records[0];
	assert_true(r->offset_delta == 0);
	assert_true(r->timestamp == 1700000000000LL);
	assert_true(kstr_eq(r->key, "k"));
	assert_true(kstr_eq(r->value, "hello"));
	assert_int_equal(r->header_count, 0);
	assert_int_equal(r->headers.len, 0);
	assert_null(r->headers.ptr);
	/* Uncompressed data is not copied. */
	assert_ptr_equal(r->value.ptr, (const char *)buf + 68);

	r = &bs[0].records[1];
	assert_true(r->offset_delta == 1);
	assert_true(r->timestamp == 1700000000010LL);
	assert_int_equal(r->key.len, -1);
	assert_true(kstr_eq(r->value, "abc"));
	assert_int_equal(r->header_count, 2);
	assert_int_equal(r->headers.len, 10);
	assert_ptr_equal(r->headers.ptr, (const char *)buf + SPEC_REC1_HEADERS);
	assert_memory_equal(r->headers.ptr, "\x04\x04h1\x02v\x04h2\x01", 10);
	arena_free(a);
}

/* The encoder writes the canonical form: the spec batch, byte for byte. */
static void test_spec_batch_reencodes_identically(void **state)
{
	uint8_t buf[sizeof(spec_batch)];
	arena *a = arena_new();
	record_batch *bs;
	kwriter w;
	int n;

	(void)state;
	memcpy(buf, spec_batch, sizeof(buf));
	fix_crc(buf, sizeof(buf));
	assert_int_equal(records_decode(a, buf, sizeof(buf), MIB, &bs, &n), 0);
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &bs[0], bs[0].records, 2, CODEC_NONE), 0);
	assert_int_equal(w.len, sizeof(buf));
	assert_memory_equal(w.buf, buf, sizeof(buf));

	/* Computed timestamps give the same header here too. */
	bs[0].base_timestamp = -1;
	w.len = 0;
	assert_int_equal(records_encode_batch(&w, &bs[0], bs[0].records, 2, CODEC_NONE), 0);
	assert_memory_equal(w.buf, buf, sizeof(buf));
	kw_free(&w);
	arena_free(a);
}

static void test_roundtrip_every_codec(void **state)
{
	static const int codecs[] = {CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD};
	struct recset *rs = calloc(1, sizeof(*rs));
	size_t c;

	(void)state;
	assert_non_null(rs);
	recset_build(rs, NRECS, 1700000000000LL);
	for (c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		record_batch h = default_header(), *bs;
		arena *a = arena_new();
		kwriter w;
		int n, i;
		int64_t maxts = INT64_MIN;

		kw_init(&w, 0);
		assert_int_equal(records_encode_batch(&w, &h, rs->recs, NRECS, codecs[c]), 0);
		assert_int_equal(records_decode(a, w.buf, w.len, 8 * MIB, &bs, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(bs[0].attributes & ATTR_CODEC_MASK, codecs[c]);
		assert_true(bs[0].base_offset == 1000);
		assert_int_equal(bs[0].partition_leader_epoch, 7);
		assert_true(bs[0].producer_id == 42);
		assert_int_equal(bs[0].producer_epoch, 3);
		assert_int_equal(bs[0].base_sequence, 17);
		assert_int_equal(bs[0].record_count, NRECS);
		assert_int_equal(bs[0].last_offset_delta, NRECS - 1);
		assert_int_equal(bs[0].batch_length, (int32_t)w.len - 12);
		assert_true(bs[0].base_timestamp == rs->recs[0].timestamp);
		for (i = 0; i < NRECS; i++)
			if (rs->recs[i].timestamp > maxts)
				maxts = rs->recs[i].timestamp;
		assert_true(bs[0].max_timestamp == maxts);
		assert_records_equal(bs[0].records, rs->recs, NRECS);
		kw_free(&w);
		arena_free(a);
	}
	recset_free(rs);
	free(rs);
}

/* Several batches in one records field, each with its own codec. */
static void test_multiple_batches(void **state)
{
	struct recset *rs = calloc(1, sizeof(*rs));
	record_batch h = default_header(), *bs;
	arena *a = arena_new();
	kwriter w;
	int n;

	(void)state;
	assert_non_null(rs);
	recset_build(rs, 30, 1000);
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &h, rs->recs, 10, CODEC_ZSTD), 0);
	h.base_offset = 1010;
	assert_int_equal(records_encode_batch(&w, &h, rs->recs + 10, 10, CODEC_NONE), 0);
	h.base_offset = 1020;
	assert_int_equal(records_encode_batch(&w, &h, rs->recs + 20, 10, CODEC_LZ4), 0);
	assert_int_equal(records_decode(a, w.buf, w.len, MIB, &bs, &n), 0);
	assert_int_equal(n, 3);
	assert_true(bs[1].base_offset == 1010);
	assert_true(bs[2].base_offset == 1020);
	assert_records_equal(bs[0].records, rs->recs, 10);
	assert_records_equal(bs[1].records, rs->recs + 10, 10);
	assert_records_equal(bs[2].records, rs->recs + 20, 10);

	/* A valid batch followed by a partial one is corrupt as a whole. */
	kw_raw(&w, w.buf, 30);
	assert_int_equal(decode_copy(w.buf, w.len, MIB), KERR_CORRUPT_MESSAGE);
	kw_free(&w);
	arena_free(a);
	recset_free(rs);
	free(rs);
}

static void test_attribute_bits_pass_through(void **state)
{
	record_batch h = default_header(), *bs;
	record rec;
	arena *a = arena_new();
	kwriter w;
	int n;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.timestamp = 99;
	rec.key = KSTR_NULL;
	rec.value = KSTR_LIT("\x00\x00\x00\x00\x00\x00");
	h.attributes = ATTR_TRANSACTIONAL | ATTR_CONTROL | ATTR_TIMESTAMP_LOG_APPEND |
		       CODEC_GZIP; /* the codec bits come from the codec argument */
	h.base_timestamp = 50;
	h.max_timestamp = 123;
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &h, &rec, 1, CODEC_SNAPPY), 0);
	assert_int_equal(records_decode(a, w.buf, w.len, MIB, &bs, &n), 0);
	assert_int_equal(bs[0].attributes, ATTR_TRANSACTIONAL | ATTR_CONTROL |
						   ATTR_TIMESTAMP_LOG_APPEND | CODEC_SNAPPY);
	/* Explicit timestamps are written as given. */
	assert_true(bs[0].base_timestamp == 50);
	assert_true(bs[0].max_timestamp == 123);
	assert_true(bs[0].records[0].timestamp == 99);
	kw_free(&w);
	arena_free(a);
}

static void test_empty_batch(void **state)
{
	record_batch h = default_header(), *bs;
	arena *a = arena_new();
	kwriter w;
	int n;

	(void)state;
	h.last_offset_delta = 4;
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &h, NULL, 0, CODEC_NONE), 0);
	assert_int_equal(w.len, BATCH_HEADER_SIZE);
	assert_int_equal(records_encode_batch(&w, &h, NULL, 0, CODEC_ZSTD), 0);
	assert_int_equal(records_decode(a, w.buf, w.len, MIB, &bs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bs[0].record_count, 0);
	assert_int_equal(bs[0].last_offset_delta, 4);
	assert_true(bs[0].base_timestamp == -1);
	assert_true(bs[0].max_timestamp == -1);
	assert_int_equal(bs[1].record_count, 0);
	kw_free(&w);
	arena_free(a);
}

static void test_encode_bad_codec(void **state)
{
	record_batch h = default_header();
	kwriter w;

	(void)state;
	kw_init(&w, 0);
	kw_raw(&w, "x", 1);
	assert_int_equal(records_encode_batch(&w, &h, NULL, 0, 5), -1);
	assert_int_equal(records_encode_batch(&w, &h, NULL, 0, -1), -1);
	assert_int_equal(w.len, 1);
	kw_free(&w);
}

static void test_corrupt_crc(void **state)
{
	uint8_t buf[sizeof(spec_batch)];
	size_t i;

	(void)state;
	memcpy(buf, spec_batch, sizeof(buf));
	fix_crc(buf, sizeof(buf));
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), 0);
	/* Any change from the CRC field on is caught. */
	for (i = 17; i < sizeof(buf); i++) {
		buf[i] ^= 0x20;
		assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
		buf[i] ^= 0x20;
	}
}

/* v0 and v1 message sets (magic also at byte 16) are refused, not parsed. */
static void test_old_magic(void **state)
{
	kwriter w;
	size_t at;
	int magic;

	(void)state;
	for (magic = 0; magic <= 1; magic++) {
		kw_init(&w, 0);
		kw_i64(&w, 0);           /* offset */
		at = kw_skip(&w, 4);     /* message size */
		kw_u32(&w, 0x12345678u); /* crc (not checked) */
		kw_i8(&w, (int8_t)magic);
		kw_i8(&w, 0); /* attributes */
		if (magic == 1)
			kw_i64(&w, 1700000000000LL);
		kw_bytes32(&w, KSTR_NULL);
		kw_bytes32(&w, KSTR_LIT("hello"));
		kw_put_i32_at(&w, at, (int32_t)(w.len - 12));
		assert_int_equal(decode_copy(w.buf, w.len, MIB), KERR_INVALID_RECORD);
		/* Even cut short, once the magic byte is visible. */
		assert_int_equal(decode_copy(w.buf, 17, MIB), KERR_INVALID_RECORD);
		kw_free(&w);
	}
}

static void test_bad_magic_and_sizes(void **state)
{
	uint8_t buf[sizeof(spec_batch)];

	(void)state;
	assert_int_equal(decode_copy(spec_batch, 0, MIB), KERR_INVALID_RECORD);

	memcpy(buf, spec_batch, sizeof(buf));
	buf[16] = 3;
	fix_crc(buf, sizeof(buf));
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
	buf[16] = 0xff;
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);

	/* batchLength shorter than a header, negative, or past the end. */
	memcpy(buf, spec_batch, sizeof(buf));
	buf[11] = 48;
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
	buf[8] = 0x80;
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
	memcpy(buf, spec_batch, sizeof(buf));
	buf[11] = 82;
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
}

static void test_truncated_everywhere(void **state)
{
	struct recset *rs = calloc(1, sizeof(*rs));
	static const int codecs[] = {CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD};
	size_t c, cut;

	(void)state;
	assert_non_null(rs);
	recset_build(rs, 12, 5000);
	for (c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		record_batch h = default_header();
		kwriter w;

		kw_init(&w, 0);
		assert_int_equal(records_encode_batch(&w, &h, rs->recs, 12, codecs[c]), 0);
		assert_int_equal(decode_copy(w.buf, w.len, MIB), 0);
		assert_int_equal(decode_copy(w.buf, 0, MIB), KERR_INVALID_RECORD);
		for (cut = 1; cut < w.len; cut++)
			assert_int_equal(decode_copy(w.buf, cut, MIB), KERR_CORRUPT_MESSAGE);

		/* Truncated inside but with the lengths and CRC fixed up to
		 * match: the records themselves run short. */
		for (cut = BATCH_HEADER_SIZE; cut < w.len; cut++) {
			uint8_t *b = malloc(cut);
			int rc;

			assert_non_null(b);
			memcpy(b, w.buf, cut);
			b[8] = (uint8_t)((cut - 12) >> 24);
			b[9] = (uint8_t)((cut - 12) >> 16);
			b[10] = (uint8_t)((cut - 12) >> 8);
			b[11] = (uint8_t)(cut - 12);
			fix_crc(b, cut);
			rc = decode_copy(b, cut, MIB);
			assert_int_equal(rc, KERR_CORRUPT_MESSAGE);
			free(b);
		}
		kw_free(&w);
	}
	recset_free(rs);
	free(rs);
}

static void test_record_count_mismatch(void **state)
{
	uint8_t buf[sizeof(spec_batch)];
	static const uint8_t counts[][4] = {
		{0, 0, 0, 3},             /* more than present */
		{0, 0, 0, 1},             /* fewer: bytes left over */
		{0, 0, 0, 0},             /* none, but data present */
		{0xff, 0xff, 0xff, 0xff}, /* negative */
		{0x7f, 0xff, 0xff, 0xff}, /* absurd: must not size an array by it */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		memcpy(buf, spec_batch, sizeof(buf));
		memcpy(buf + 57, counts[i], 4);
		fix_crc(buf, sizeof(buf));
		assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
	}
}

/* A byte of the record changed so lengths disagree, CRC made valid again. */
static void test_inconsistent_record_fields(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} edits[] = {
		{61, 0x16}, /* record 0 length 11: one byte short */
		{61, 0x1a}, /* record 0 length 13: takes a byte of record 1 */
		{61, 0x01}, /* record 0 length -1 */
		{65, 0x03}, /* key length -2 */
		{65, 0x04}, /* key length 2: value length shifts */
		{67, 0x0e}, /* value length 7: runs past the record */
		{73, 0x02}, /* record 0 claims one header that is not there */
		{83, 0x06}, /* record 1: three headers, two present */
		{83, 0x01}, /* record 1: negative header count */
		{84, 0x01}, /* header key null */
		{84, 0x03}, /* header key length -2 */
		{87, 0x03}, /* header value length -2 */
		{74, 0x25}, /* record 1 length 18 -> -19 */
	};
	uint8_t buf[sizeof(spec_batch)];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(buf, spec_batch, sizeof(buf));
		buf[edits[i].off] = edits[i].val;
		fix_crc(buf, sizeof(buf));
		if (decode_copy(buf, sizeof(buf), MIB) != KERR_CORRUPT_MESSAGE)
			fail_msg("edit %zu (offset %zu) accepted", i, edits[i].off);
	}
}

static void test_unknown_codec_in_batch(void **state)
{
	uint8_t buf[sizeof(spec_batch)];
	int codec;

	(void)state;
	for (codec = 5; codec <= 7; codec++) {
		memcpy(buf, spec_batch, sizeof(buf));
		buf[22] = (uint8_t)codec;
		fix_crc(buf, sizeof(buf));
		assert_int_equal(decode_copy(buf, sizeof(buf), MIB),
				 KERR_UNSUPPORTED_COMPRESSION_TYPE);
	}
	/* Claiming gzip over data that is not gzip. */
	memcpy(buf, spec_batch, sizeof(buf));
	buf[22] = CODEC_GZIP;
	fix_crc(buf, sizeof(buf));
	assert_int_equal(decode_copy(buf, sizeof(buf), MIB), KERR_CORRUPT_MESSAGE);
}

static void test_decompressed_too_large(void **state)
{
	static const int codecs[] = {CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD};
	struct recset *rs = calloc(1, sizeof(*rs));
	record_batch h = default_header();
	size_t c, raw;
	kwriter w;

	(void)state;
	assert_non_null(rs);
	recset_build(rs, NRECS, 0);
	/* The size of the records once decompressed. */
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &h, rs->recs, NRECS, CODEC_NONE), 0);
	raw = w.len - BATCH_HEADER_SIZE;
	kw_free(&w);

	for (c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		size_t one;

		kw_init(&w, 0);
		assert_int_equal(records_encode_batch(&w, &h, rs->recs, NRECS, codecs[c]), 0);
		assert_int_equal(decode_copy(w.buf, w.len, 1000), KERR_MESSAGE_TOO_LARGE);
		assert_int_equal(decode_copy(w.buf, w.len, raw - 1), KERR_MESSAGE_TOO_LARGE);
		assert_int_equal(decode_copy(w.buf, w.len, raw), 0);
		/* The bound covers all batches of one call together. */
		one = w.len;
		assert_int_equal(records_encode_batch(&w, &h, rs->recs, NRECS, codecs[c]), 0);
		assert_int_equal(decode_copy(w.buf, one, raw), 0);
		assert_int_equal(decode_copy(w.buf, w.len, 2 * raw - 1), KERR_MESSAGE_TOO_LARGE);
		assert_int_equal(decode_copy(w.buf, w.len, 2 * raw), 0);
		kw_free(&w);
	}
	recset_free(rs);
	free(rs);
}

/* Huge timestamp deltas wrap instead of overflowing (UBSan watches). */
static void test_timestamp_extremes(void **state)
{
	record recs[2];
	record_batch h = default_header(), *bs;
	arena *a = arena_new();
	kwriter w;
	int n;

	(void)state;
	memset(recs, 0, sizeof(recs));
	recs[0].timestamp = INT64_MAX;
	recs[0].key = recs[0].value = KSTR_NULL;
	recs[1].timestamp = INT64_MIN;
	recs[1].key = recs[1].value = KSTR_NULL;
	recs[1].offset_delta = 1;
	kw_init(&w, 0);
	assert_int_equal(records_encode_batch(&w, &h, recs, 2, CODEC_NONE), 0);
	assert_int_equal(records_decode(a, w.buf, w.len, MIB, &bs, &n), 0);
	assert_true(bs[0].records[0].timestamp == INT64_MAX);
	assert_true(bs[0].records[1].timestamp == INT64_MIN);
	kw_free(&w);
	arena_free(a);
}

/* A kafka.read_records_packed() value as decoder/read.c writes it. */
static void packed_record(kwriter *w, int64_t offset, int64_t ts, kstr key, kstr value,
			  kstr headers)
{
	kw_i64(w, offset);
	kw_i64(w, ts);
	kw_bytes32(w, key);
	kw_bytes32(w, value);
	kw_bytes32(w, headers);
}

static void test_unpack_packed_records(void **state)
{
	static const char hdrs[] = "\x04\x04h1\x02v\x04h2\x01";
	kstr h = {hdrs, (int32_t)sizeof(hdrs) - 1};
	record recs[3];
	int64_t offsets[3];
	bool truncated = true;
	kwriter w;

	(void)state;
	kw_init(&w, 0);
	kw_i8(&w, 1);
	kw_i8(&w, 0);
	packed_record(&w, 7, 1700000000123LL, KSTR_LIT("k"), KSTR_LIT("value"), KSTR_NULL);
	size_t end1 = w.len;
	packed_record(&w, 9, -1, KSTR_NULL, KSTR_NULL, h);
	size_t end2 = w.len;
	packed_record(&w, 10, 5, KSTR_LIT(""), KSTR_LIT(""), KSTR_NULL);
	assert_int_equal(records_unpack(w.buf, w.len, NULL, NULL, &truncated), 3);
	assert_false(truncated);
	assert_int_equal(records_unpack(w.buf, w.len, recs, offsets, NULL), 3);
	assert_true(offsets[0] == 7 && offsets[1] == 9 && offsets[2] == 10);
	assert_true(recs[0].timestamp == 1700000000123LL && recs[1].timestamp == -1);
	assert_true(kstr_eq(recs[0].key, "k") && kstr_eq(recs[0].value, "value"));
	assert_int_equal(recs[0].headers.len, 0);
	assert_int_equal(recs[0].header_count, 0);
	/* NULL key and value stay NULL; empty ones stay empty */
	assert_int_equal(recs[1].key.len, -1);
	assert_int_equal(recs[1].value.len, -1);
	assert_int_equal(recs[2].key.len, 0);
	assert_non_null(recs[2].value.ptr);
	/* headers as stored, with their count */
	assert_int_equal(recs[1].headers.len, h.len);
	assert_memory_equal(recs[1].headers.ptr, hdrs, (size_t)h.len);
	assert_int_equal(recs[1].header_count, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recs[i].offset_delta, 0);

	/* the flag of a value cut at its byte cap */
	w.buf[1] = 1;
	assert_int_equal(records_unpack(w.buf, w.len, NULL, NULL, &truncated), 3);
	assert_true(truncated);
	/* no records */
	assert_int_equal(records_unpack(w.buf, 2, NULL, NULL, NULL), 0);
	/* cut between records: the records before; inside one: malformed */
	for (size_t cut = 3; cut < w.len; cut++)
		assert_int_equal(records_unpack(w.buf, cut, NULL, NULL, NULL),
				 cut == end1 ? 1 : cut == end2 ? 2 : -1);
	w.buf[0] = 2;
	assert_int_equal(records_unpack(w.buf, w.len, NULL, NULL, NULL), -1);
	assert_int_equal(records_unpack(w.buf, 1, NULL, NULL, NULL), -1);
	assert_int_equal(records_unpack(w.buf, 0, NULL, NULL, NULL), -1);
	kw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_batch_decodes),
		cmocka_unit_test(test_spec_batch_reencodes_identically),
		cmocka_unit_test(test_roundtrip_every_codec),
		cmocka_unit_test(test_multiple_batches),
		cmocka_unit_test(test_attribute_bits_pass_through),
		cmocka_unit_test(test_empty_batch),
		cmocka_unit_test(test_encode_bad_codec),
		cmocka_unit_test(test_corrupt_crc),
		cmocka_unit_test(test_old_magic),
		cmocka_unit_test(test_bad_magic_and_sizes),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_record_count_mismatch),
		cmocka_unit_test(test_inconsistent_record_fields),
		cmocka_unit_test(test_unknown_codec_in_batch),
		cmocka_unit_test(test_decompressed_too_large),
		cmocka_unit_test(test_timestamp_extremes),
		cmocka_unit_test(test_unpack_packed_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
