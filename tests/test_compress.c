/*
 * Unit tests for the compression codecs: round trips, corrupt and truncated
 * input, the max_out bound (decompression bombs), and the foreign framings
 * other clients produce (xerial snappy, LZ4 frames with checksums, zstd
 * frames without a content size, concatenated streams).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zstd.h>

#include "compress.h"

#define MIB (1024 * 1024)

static const int all_codecs[] = {CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD};
static const int real_codecs[] = {CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *make_text(size_t n);
static uint8_t *make_random(size_t n);
static void roundtrip(int codec, const uint8_t *in, size_t len);
static void compress_or_fail(int codec, const uint8_t *in, size_t len, kwriter *w);
static void xerial_header(kwriter *w);
static void xerial_block(kwriter *w, const void *in, size_t len);

/* Loosely repetitive text: compresses, but not trivially. */
static uint8_t *make_text(size_t n)
{
	static const char *words[] = {"kafka ",     "postgres ", "offset ", "record ",
				      "partition ", "topic ",    "batch ",  "12345 "};
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = 7;
	size_t i = 0;

	assert_non_null(p);
	while (i < n) {
		const char *w;
		size_t wl;

		x = x * 1103515245u + 12345u;
		w = words[(x >> 16) & 7];
		wl = strlen(w);
		if (wl > n - i)
			wl = n - i;
		memcpy(p + i, w, wl);
		i += wl;
	}
	return p;
}

static uint8_t *make_random(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	uint64_t x = 88172645463325252ull;
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
	return p;
}

static void compress_or_fail(int codec, const uint8_t *in, size_t len, kwriter *w)
{
	if (codec_compress(codec, in, len, w) != 0)
		fail_msg("%s: compress of %zu bytes failed", codec_name(codec), len);
}

static void roundtrip(int codec, const uint8_t *in, size_t len)
{
	kwriter w;
	uint8_t *out;
	size_t out_len;
	int rc;

	kw_init(&w, 0);
	compress_or_fail(codec, in, len, &w);
	rc = codec_decompress(codec, w.buf, w.len, len + 16, &out, &out_len);
	if (rc != 0)
		fail_msg("%s: decompress of %zu bytes gave %d", codec_name(codec), len, rc);
	assert_int_equal(out_len, len);
	if (len)
		assert_memory_equal(out, in, len);
	free(out);

	/* Exactly the right bound is enough. */
	rc = codec_decompress(codec, w.buf, w.len, len, &out, &out_len);
	assert_int_equal(rc, 0);
	free(out);
	/* One byte less is not. */
	if (len > 0) {
		rc = codec_decompress(codec, w.buf, w.len, len - 1, &out, &out_len);
		assert_int_equal(rc, -2);
		assert_null(out);
	}
	kw_free(&w);
}

static void test_roundtrip_small(void **state)
{
	static const uint8_t one[] = {'x'};
	uint8_t *text = make_text(1000);
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(all_codecs); i++) {
		roundtrip(all_codecs[i], one, 0);
		roundtrip(all_codecs[i], one, 1);
		roundtrip(all_codecs[i], text, 100);
		roundtrip(all_codecs[i], text, 1000);
	}
	free(text);
}

static void test_roundtrip_1mib(void **state)
{
	uint8_t *text = make_text(MIB), *rnd = make_random(MIB);
	uint8_t *zeros = calloc(1, MIB);
	size_t i;

	(void)state;
	assert_non_null(zeros);
	for (i = 0; i < NELEM(all_codecs); i++) {
		roundtrip(all_codecs[i], text, MIB);
		roundtrip(all_codecs[i], rnd, MIB);
		roundtrip(all_codecs[i], zeros, MIB);
	}
	free(text);
	free(rnd);
	free(zeros);
}

/* Compression appends: what was in the writer stays. */
static void test_compress_appends(void **state)
{
	uint8_t *text = make_text(5000);
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(all_codecs); i++) {
		kwriter w;
		uint8_t *out;
		size_t out_len;

		kw_init(&w, 0);
		kw_raw(&w, "HEAD", 4);
		compress_or_fail(all_codecs[i], text, 5000, &w);
		assert_memory_equal(w.buf, "HEAD", 4);
		assert_int_equal(
			codec_decompress(all_codecs[i], w.buf + 4, w.len - 4, MIB, &out, &out_len),
			0);
		assert_int_equal(out_len, 5000);
		assert_memory_equal(out, text, 5000);
		free(out);
		kw_free(&w);
	}
	free(text);
}

static void test_bomb_rejected(void **state)
{
	uint8_t *zeros = calloc(1, MIB);
	size_t i;

	(void)state;
	assert_non_null(zeros);
	for (i = 0; i < NELEM(all_codecs); i++) {
		kwriter w;
		uint8_t *out = (uint8_t *)1;
		size_t out_len;
		int rc;

		kw_init(&w, 0);
		compress_or_fail(all_codecs[i], zeros, MIB, &w);
		rc = codec_decompress(all_codecs[i], w.buf, w.len, 1000, &out, &out_len);
		if (rc != -2)
			fail_msg("%s: 1 MiB into max_out 1000 gave %d", codec_name(all_codecs[i]),
				 rc);
		assert_null(out);
		rc = codec_decompress(all_codecs[i], w.buf, w.len, 0, &out, &out_len);
		assert_int_equal(rc, -2);
		kw_free(&w);
	}
	free(zeros);
}

/* Frames that do not state their size: the bound must hold while streaming. */
static void test_bomb_without_size_hint(void **state)
{
	uint8_t *zeros = calloc(1, MIB);
	LZ4F_preferences_t prefs;
	ZSTD_CCtx *cctx;
	ZSTD_inBuffer ib;
	ZSTD_outBuffer ob;
	uint8_t *out;
	size_t out_len, n;
	kwriter w;

	(void)state;
	assert_non_null(zeros);

	/* LZ4 frame, no content size. */
	memset(&prefs, 0, sizeof(prefs));
	kw_init(&w, LZ4F_compressFrameBound(MIB, &prefs));
	n = LZ4F_compressFrame(w.buf, w.cap, zeros, MIB, &prefs);
	assert_false(LZ4F_isError(n));
	assert_int_equal(codec_decompress(CODEC_LZ4, w.buf, n, 100000, &out, &out_len), -2);
	assert_int_equal(codec_decompress(CODEC_LZ4, w.buf, n, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, MIB);
	free(out);
	kw_free(&w);

	/* zstd frame written by the streaming API: no content size. */
	cctx = ZSTD_createCCtx();
	assert_non_null(cctx);
	kw_init(&w, ZSTD_compressBound(MIB));
	ib = (ZSTD_inBuffer){zeros, MIB, 0};
	ob = (ZSTD_outBuffer){w.buf, w.cap, 0};
	n = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_continue);
	assert_false(ZSTD_isError(n));
	do {
		n = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
		assert_false(ZSTD_isError(n));
	} while (n != 0);
	ZSTD_freeCCtx(cctx);
	assert_true(ZSTD_getFrameContentSize(w.buf, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
	assert_int_equal(codec_decompress(CODEC_ZSTD, w.buf, ob.pos, 100000, &out, &out_len), -2);
	assert_int_equal(codec_decompress(CODEC_ZSTD, w.buf, ob.pos, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, MIB);
	assert_memory_equal(out, zeros, MIB);
	free(out);
	kw_free(&w);
	free(zeros);
}

static void test_garbage_rejected(void **state)
{
	uint8_t *rnd = make_random(4096);
	size_t i;

	(void)state;
	/* Byte 0 of the random data is not a valid start for any format. */
	for (i = 0; i < NELEM(real_codecs); i++) {
		uint8_t *out = (uint8_t *)1;
		size_t out_len;
		int rc;

		rc = codec_decompress(real_codecs[i], rnd, 4096, MIB, &out, &out_len);
		if (rc != -1)
			fail_msg("%s: garbage gave %d", codec_name(real_codecs[i]), rc);
		assert_null(out);
		rc = codec_decompress(real_codecs[i], rnd, 0, MIB, &out, &out_len);
		if (rc != -1)
			fail_msg("%s: empty input gave %d", codec_name(real_codecs[i]), rc);
	}
	free(rnd);
}

/* Every truncation of a valid stream is an error, never a crash. */
static void test_truncated_rejected(void **state)
{
	uint8_t *text = make_text(3000);
	size_t i, cut;

	(void)state;
	for (i = 0; i < NELEM(real_codecs); i++) {
		kwriter w;

		kw_init(&w, 0);
		compress_or_fail(real_codecs[i], text, 3000, &w);
		for (cut = 0; cut < w.len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1), *out;
			size_t out_len;
			int rc;

			assert_non_null(copy);
			memcpy(copy, w.buf, cut);
			rc = codec_decompress(real_codecs[i], copy, cut, MIB, &out, &out_len);
			if (rc != -1)
				fail_msg("%s: %zu of %zu bytes gave %d", codec_name(real_codecs[i]),
					 cut, w.len, rc);
			free(copy);
		}
		kw_free(&w);
	}
	free(text);
}

/* Flipped bytes inside the data: error or (where unchecked) other data. */
static void test_bitflips_safe(void **state)
{
	uint8_t *text = make_text(3000);
	size_t i, pos;

	(void)state;
	for (i = 0; i < NELEM(real_codecs); i++) {
		kwriter w;

		kw_init(&w, 0);
		compress_or_fail(real_codecs[i], text, 3000, &w);
		for (pos = 0; pos < w.len; pos++) {
			uint8_t *out;
			size_t out_len;
			int rc;

			w.buf[pos] ^= 0x5a;
			rc = codec_decompress(real_codecs[i], w.buf, w.len, 4000, &out, &out_len);
			assert_true(rc == 0 || rc == -1 || rc == -2);
			if (rc == 0)
				free(out);
			w.buf[pos] ^= 0x5a;
		}
		kw_free(&w);
	}
	free(text);
}

static void xerial_header(kwriter *w)
{
	kw_raw(w, "\x82SNAPPY\0", 8);
	kw_i32(w, 1); /* version */
	kw_i32(w, 1); /* compatible version */
}

static void xerial_block(kwriter *w, const void *in, size_t len)
{
	size_t n = snappy_max_compressed_length(len), at;

	at = kw_skip(w, 4);
	kw_reserve(w, n);
	assert_int_equal(snappy_compress(in, len, (char *)w->buf + w->len, &n), SNAPPY_OK);
	w->len += n;
	kw_put_i32_at(w, at, (int32_t)n);
}

static void test_snappy_xerial(void **state)
{
	uint8_t *text = make_text(100000);
	uint8_t *out;
	size_t out_len, cut;
	kwriter w;

	(void)state;
	kw_init(&w, 0);
	xerial_header(&w);
	xerial_block(&w, text, 32768);
	xerial_block(&w, text + 32768, 32768);
	xerial_block(&w, text + 65536, 100000 - 65536);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, 100000);
	assert_memory_equal(out, text, 100000);
	free(out);

	/* The sum of the blocks is what max_out bounds. */
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, 100000, &out, &out_len), 0);
	free(out);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, 99999, &out, &out_len), -2);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, 40000, &out, &out_len), -2);

	/* Any cut that is not a block boundary is corrupt. */
	for (cut = 8; cut < w.len; cut += 7) {
		int rc = codec_decompress(CODEC_SNAPPY, w.buf, cut, MIB, &out, &out_len);

		if (rc == 0) {
			free(out);
			continue;
		}
		assert_int_equal(rc, -1);
	}
	kw_free(&w);

	/* A header alone is an empty stream; a header cut short is not. */
	kw_init(&w, 0);
	xerial_header(&w);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, 0);
	free(out);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, 12, MIB, &out, &out_len), -1);

	/* A block length running past the end. */
	kw_i32(&w, 1000);
	kw_raw(&w, "\x05", 1);
	assert_int_equal(codec_decompress(CODEC_SNAPPY, w.buf, w.len, MIB, &out, &out_len), -1);
	kw_free(&w);
	free(text);
}

/* Raw snappy whose varint claims far more than max_out: refused up front. */
static void test_snappy_claimed_size(void **state)
{
	static const uint8_t claim[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
	uint8_t *out;
	size_t out_len;

	(void)state;
	assert_int_equal(codec_decompress(CODEC_SNAPPY, claim, sizeof(claim), MIB, &out, &out_len),
			 -2);
}

/* LZ4 frames as other libraries write them: linked blocks, checksums. */
static void test_lz4_foreign_frames(void **state)
{
	uint8_t *text = make_text(300000);
	LZ4F_preferences_t prefs;
	uint8_t *out;
	size_t out_len, n, n2;
	kwriter w;

	(void)state;
	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockMode = LZ4F_blockLinked;
	prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
	kw_init(&w, 2 * LZ4F_compressFrameBound(300000, &prefs));
	n = LZ4F_compressFrame(w.buf, w.cap, text, 300000, &prefs);
	assert_false(LZ4F_isError(n));
	assert_int_equal(codec_decompress(CODEC_LZ4, w.buf, n, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, 300000);
	assert_memory_equal(out, text, 300000);
	free(out);

	/* Two frames back to back decode as one stream. */
	n2 = LZ4F_compressFrame(w.buf + n, w.cap - n, text, 1000, &prefs);
	assert_false(LZ4F_isError(n2));
	assert_int_equal(codec_decompress(CODEC_LZ4, w.buf, n + n2, MIB, &out, &out_len), 0);
	assert_int_equal(out_len, 301000);
	assert_memory_equal(out + 300000, text, 1000);
	free(out);

	/* The content checksum is checked. */
	w.buf[n - 1] ^= 1;
	assert_int_equal(codec_decompress(CODEC_LZ4, w.buf, n, MIB, &out, &out_len), -1);
	kw_free(&w);
	free(text);
}

static void test_concatenated_streams(void **state)
{
	uint8_t *text = make_text(2000);
	static const int codecs[] = {CODEC_GZIP, CODEC_ZSTD};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(codecs); i++) {
		kwriter w;
		uint8_t *out;
		size_t out_len;

		kw_init(&w, 0);
		compress_or_fail(codecs[i], text, 2000, &w);
		compress_or_fail(codecs[i], text, 500, &w);
		assert_int_equal(codec_decompress(codecs[i], w.buf, w.len, MIB, &out, &out_len), 0);
		assert_int_equal(out_len, 2500);
		assert_memory_equal(out + 2000, text, 500);
		free(out);
		/* The second stream counts toward max_out too. */
		assert_int_equal(codec_decompress(codecs[i], w.buf, w.len, 2400, &out, &out_len),
				 -2);
		/* Trailing junk after a complete stream is corrupt. */
		kw_raw(&w, "junk", 4);
		assert_int_equal(codec_decompress(codecs[i], w.buf, w.len, MIB, &out, &out_len),
				 -1);
		kw_free(&w);
	}
	free(text);
}

static void test_gzip_has_gzip_wrapper(void **state)
{
	kwriter w;

	(void)state;
	kw_init(&w, 0);
	compress_or_fail(CODEC_GZIP, (const uint8_t *)"hello", 5, &w);
	assert_true(w.len > 18);
	assert_int_equal(w.buf[0], 0x1f);
	assert_int_equal(w.buf[1], 0x8b);
	kw_free(&w);
}

static void test_unknown_codec(void **state)
{
	uint8_t *out = (uint8_t *)1;
	size_t out_len;
	kwriter w;

	(void)state;
	kw_init(&w, 0);
	kw_raw(&w, "keep", 4);
	assert_int_equal(codec_compress(5, (const uint8_t *)"x", 1, &w), -1);
	assert_int_equal(codec_compress(-1, (const uint8_t *)"x", 1, &w), -1);
	assert_int_equal(w.len, 4);
	assert_int_equal(codec_decompress(7, (const uint8_t *)"x", 1, MIB, &out, &out_len), -1);
	assert_null(out);
	kw_free(&w);
}

static void test_codec_names(void **state)
{
	(void)state;
	assert_int_equal(codec_from_name("producer"), CODEC_NONE);
	assert_int_equal(codec_from_name("uncompressed"), CODEC_NONE);
	assert_int_equal(codec_from_name("none"), CODEC_NONE);
	assert_int_equal(codec_from_name("gzip"), CODEC_GZIP);
	assert_int_equal(codec_from_name("snappy"), CODEC_SNAPPY);
	assert_int_equal(codec_from_name("lz4"), CODEC_LZ4);
	assert_int_equal(codec_from_name("zstd"), CODEC_ZSTD);
	assert_int_equal(codec_from_name("brotli"), -1);
	assert_int_equal(codec_from_name("GZIP"), -1);
	assert_int_equal(codec_from_name(""), -1);
	assert_int_equal(codec_from_name(NULL), -1);
	assert_string_equal(codec_name(CODEC_GZIP), "gzip");
	assert_string_equal(codec_name(CODEC_SNAPPY), "snappy");
	assert_string_equal(codec_name(CODEC_LZ4), "lz4");
	assert_string_equal(codec_name(CODEC_ZSTD), "zstd");
	assert_string_equal(codec_name(CODEC_NONE), "none");
	assert_string_equal(codec_name(9), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_small),
		cmocka_unit_test(test_roundtrip_1mib),
		cmocka_unit_test(test_compress_appends),
		cmocka_unit_test(test_bomb_rejected),
		cmocka_unit_test(test_bomb_without_size_hint),
		cmocka_unit_test(test_garbage_rejected),
		cmocka_unit_test(test_truncated_rejected),
		cmocka_unit_test(test_bitflips_safe),
		cmocka_unit_test(test_snappy_xerial),
		cmocka_unit_test(test_snappy_claimed_size),
		cmocka_unit_test(test_lz4_foreign_frames),
		cmocka_unit_test(test_concatenated_streams),
		cmocka_unit_test(test_gzip_has_gzip_wrapper),
		cmocka_unit_test(test_unknown_codec),
		cmocka_unit_test(test_codec_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
