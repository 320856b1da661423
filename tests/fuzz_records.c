/*
 * libFuzzer target for RecordBatch decoding.
 *
 * Each input is decoded twice: as given, and with every batch CRC recomputed
 * so that mutations reach the record parser and the codecs instead of dying
 * at the checksum. Whatever decodes is re-encoded with records_encode_batch
 * and decoded again; the second decode must succeed and give the same
 * batches and records.
 *
 * Each input is also read as a kafka.read_records_packed() value (what
 * Fetch reads from PostgreSQL): counting and filling must agree, and every
 * field must lie inside the input.
 *
 * Built with -DFUZZ_RECORDS_SEEDS (and without -fsanitize=fuzzer) this file
 * is instead a small program that writes the seed corpus:
 *   ./gen tests/corpus/records
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "compress.h"
#include "crc32c.h"
#include "kbuf.h"
#include "kerr.h"
#include "records.h"

#define FUZZ_MAX_BYTES (8u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fix_crcs(uint8_t *buf, size_t len);
static void check(const uint8_t *buf, size_t len);
static void check_unpack(const uint8_t *buf, size_t len);
static void compare_batches(const record_batch *a, const record_batch *b);
static void die(const char *what) __attribute__((noreturn));

static void die(const char *what)
{
	fprintf(stderr, "fuzz_records: %s\n", what);
	abort();
}

/* Recompute the CRC of every batch whose framing holds together. */
static void fix_crcs(uint8_t *buf, size_t len)
{
	size_t pos = 0;

	while (len - pos >= BATCH_HEADER_SIZE) {
		int32_t blen = (int32_t)be32(buf + pos + 8);
		uint32_t crc;

		if (blen < BATCH_HEADER_SIZE - 12 || (size_t)blen > len - pos - 12)
			break;
		crc = crc32c(0, buf + pos + 21, (size_t)blen - 9);
		buf[pos + 17] = (uint8_t)(crc >> 24);
		buf[pos + 18] = (uint8_t)(crc >> 16);
		buf[pos + 19] = (uint8_t)(crc >> 8);
		buf[pos + 20] = (uint8_t)crc;
		pos += 12 + (size_t)blen;
	}
}

/* b is the re-encoded form of a: what the encoder keeps must match. */
static void compare_batches(const record_batch *a, const record_batch *b)
{
	int i, n = a->record_count;

	if (a->base_offset != b->base_offset ||
	    a->partition_leader_epoch != b->partition_leader_epoch ||
	    a->attributes != b->attributes || a->producer_id != b->producer_id ||
	    a->producer_epoch != b->producer_epoch || a->base_sequence != b->base_sequence ||
	    a->record_count != b->record_count || b->magic != 2)
		die("batch header changed in round trip");
	if (a->base_timestamp != -1) {
		if (a->base_timestamp != b->base_timestamp || a->max_timestamp != b->max_timestamp)
			die("batch timestamps changed in round trip");
	} else if (b->base_timestamp != (n > 0 ? a->records[0].timestamp : -1)) {
		die("computed base timestamp is not the first record's");
	}
	if (b->last_offset_delta !=
	    (n > 0 ? (int32_t)a->records[n - 1].offset_delta : a->last_offset_delta))
		die("last offset delta wrong in round trip");
	for (i = 0; i < n; i++) {
		const record *ra = &a->records[i], *rb = &b->records[i];

		if (ra->offset_delta != rb->offset_delta || ra->timestamp != rb->timestamp ||
		    !kstr_eqk(ra->key, rb->key) || !kstr_eqk(ra->value, rb->value) ||
		    ra->header_count != rb->header_count || !kstr_eqk(ra->headers, rb->headers))
			die("record changed in round trip");
	}
}

/* The outline of records that decode: the same batches, none corrupt. */
static void check_outline(const uint8_t *buf, size_t len, const record_batch *bs, int n)
{
	records_outline o;
	bool transactional = false;

	records_outline_of(buf, len, &o);
	for (int i = 0; i < n; i++)
		if (bs[i].attributes & ATTR_TRANSACTIONAL)
			transactional = true;
	if (o.corrupt || o.nbatches != n || o.any_transactional != transactional)
		die("outline disagrees with decoded batches");
	if (n > 0 && (o.first_magic != 2 || o.first_attributes != bs[0].attributes))
		die("outline's first batch differs from the decoded one");
}

static void check(const uint8_t *buf, size_t len)
{
	arena *a = arena_new(), *a2;
	record_batch *bs, *bs2;
	int n, n2, i, rc;
	kwriter w;
	records_outline o;

	/* Any input: the walk stays inside it and agrees with itself. */
	records_outline_of(buf, len, &o);
	if (o.nbatches < 0 ||
	    (o.nbatches == 0 &&
	     (o.first_magic != -1 || o.first_attributes != -1 || o.any_transactional)))
		die("outline of no batch is not empty");
	rc = records_decode(a, buf, len, FUZZ_MAX_BYTES, &bs, &n);
	switch (rc) {
	case 0:
		check_outline(buf, len, bs, n);
		break;
	case KERR_CORRUPT_MESSAGE:
	case KERR_INVALID_RECORD:
	case KERR_MESSAGE_TOO_LARGE:
	case KERR_UNSUPPORTED_COMPRESSION_TYPE:
		arena_free(a);
		return;
	default:
		die("unexpected error code from records_decode");
	}

	kw_init(&w, len + 64);
	for (i = 0; i < n; i++)
		if (records_encode_batch(&w, &bs[i], bs[i].records, bs[i].record_count,
					 bs[i].attributes & ATTR_CODEC_MASK) != 0)
			die("re-encoding a decoded batch failed");
	a2 = arena_new();
	if (records_decode(a2, w.buf, w.len, FUZZ_MAX_BYTES, &bs2, &n2) != 0)
		die("re-encoded batches do not decode");
	if (n2 != n)
		die("batch count changed in round trip");
	for (i = 0; i < n; i++)
		compare_batches(&bs[i], &bs2[i]);
	arena_free(a2);
	kw_free(&w);
	arena_free(a);
}

static bool inside(kstr s, const uint8_t *buf, size_t len)
{
	if (s.len < 0)
		return s.ptr == NULL;
	return s.ptr == NULL ? s.len == 0
			     : (const uint8_t *)s.ptr >= buf &&
				       (const uint8_t *)s.ptr + s.len <= buf + len;
}

static void check_unpack(const uint8_t *buf, size_t len)
{
	bool truncated;
	int n = records_unpack(buf, len, NULL, NULL, &truncated);

	if (n <= 0)
		return;
	record *recs = calloc((size_t)n, sizeof(*recs));
	int64_t *offsets = calloc((size_t)n, sizeof(*offsets));
	if (recs == NULL || offsets == NULL)
		die("out of memory");
	if (records_unpack(buf, len, recs, offsets, NULL) != n)
		die("records_unpack counted and filled differently");
	for (int i = 0; i < n; i++)
		if (!inside(recs[i].key, buf, len) || !inside(recs[i].value, buf, len) ||
		    !inside(recs[i].headers, buf, len) || recs[i].headers.len < 0 ||
		    recs[i].header_count < 0)
			die("records_unpack: a field outside the input");
	free(recs);
	free(offsets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	check_unpack(data, size);
	check(data, size);
	if (size < BATCH_HEADER_SIZE)
		return 0;
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	check(copy, size);
	free(copy);
	return 0;
}

#ifdef FUZZ_RECORDS_SEEDS
/* ---- seed corpus generator ---- */

#include <snappy-c.h>

static void write_seed(const char *dir, const char *name, const kwriter *w);
static void batch(kwriter *w, int codec, int nrec, int16_t attributes);

static void write_seed(const char *dir, const char *name, const kwriter *w)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(w->buf, 1, w->len, f) != w->len || fclose(f) != 0)
		die("cannot write seed");
	printf("%s: %zu bytes\n", path, w->len);
}

/* nrec small records with a mix of null keys, null values and headers. */
static void batch(kwriter *w, int codec, int nrec, int16_t attributes)
{
	static const char hdrs[] = "\x04\x04h1\x02v\x04h2\x01";
	record recs[8];
	record_batch h;
	int i;

	memset(&h, 0, sizeof(h));
	h.base_offset = 0;
	h.partition_leader_epoch = -1;
	h.attributes = attributes;
	h.producer_id = -1;
	h.producer_epoch = -1;
	h.base_sequence = -1;
	h.base_timestamp = -1;
	memset(recs, 0, sizeof(recs));
	for (i = 0; i < nrec; i++) {
		recs[i].offset_delta = i;
		recs[i].timestamp = 1700000000000LL + i;
		recs[i].key = i % 2 ? KSTR_NULL : KSTR_LIT("key");
		recs[i].value = i == 2 ? KSTR_NULL : KSTR_LIT("value value value");
		if (i == 1) {
			recs[i].headers = (kstr){hdrs, (int32_t)sizeof(hdrs) - 1};
			recs[i].header_count = 2;
		}
	}
	if (records_encode_batch(w, &h, recs, nrec, codec) != 0)
		die("encode failed");
}

int main(int argc, char **argv)
{
	static const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
	char name[64];
	kwriter w, raw;
	size_t n;
	int c;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (c = CODEC_NONE; c <= CODEC_ZSTD; c++) {
		kw_init(&w, 0);
		batch(&w, c, 3, 0);
		snprintf(name, sizeof(name), "batch-%s", names[c]);
		write_seed(argv[1], name, &w);
		kw_free(&w);
	}

	kw_init(&w, 0);
	batch(&w, CODEC_NONE, 1, 0);
	batch(&w, CODEC_ZSTD, 2, ATTR_TRANSACTIONAL);
	write_seed(argv[1], "two-batches", &w);
	kw_free(&w);

	kw_init(&w, 0);
	batch(&w, CODEC_NONE, 0, ATTR_TRANSACTIONAL | ATTR_CONTROL);
	write_seed(argv[1], "empty-control", &w);
	kw_free(&w);

	/* A kafka.read_records_packed() value: a record with a key, headers
	 * and no value, then one with neither key nor headers. */
	kw_init(&w, 0);
	kw_i8(&w, 1);
	kw_i8(&w, 1);
	kw_i64(&w, 41);
	kw_i64(&w, 1700000000000LL);
	kw_bytes32(&w, KSTR_LIT("key"));
	kw_bytes32(&w, KSTR_NULL);
	kw_bytes32(&w, (kstr){"\x02\x04h1\x02v", 6});
	kw_i64(&w, 42);
	kw_i64(&w, -1);
	kw_bytes32(&w, KSTR_NULL);
	kw_bytes32(&w, KSTR_LIT("value"));
	kw_bytes32(&w, KSTR_NULL);
	write_seed(argv[1], "packed", &w);
	kw_free(&w);

	/* The same records, snappy with the xerial framing Java writes. */
	kw_init(&w, 0);
	batch(&w, CODEC_NONE, 3, 0);
	kw_init(&raw, 0);
	kw_raw(&raw, w.buf, BATCH_HEADER_SIZE);
	kw_raw(&raw, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
	n = snappy_max_compressed_length(w.len - BATCH_HEADER_SIZE);
	kw_i32(&raw, 0);
	kw_reserve(&raw, n);
	if (snappy_compress((const char *)w.buf + BATCH_HEADER_SIZE, w.len - BATCH_HEADER_SIZE,
			    (char *)raw.buf + raw.len, &n) != SNAPPY_OK)
		die("snappy failed");
	kw_put_i32_at(&raw, raw.len - 4, (int32_t)n);
	raw.len += n;
	kw_put_i32_at(&raw, 8, (int32_t)(raw.len - 12));
	kw_put_i16_at(&raw, 21, CODEC_SNAPPY);
	kw_put_u32_at(&raw, 17, crc32c(0, raw.buf + 21, raw.len - 21));
	write_seed(argv[1], "batch-snappy-xerial", &raw);
	kw_free(&raw);
	kw_free(&w);

	/* A v1 message set, which must be refused. */
	kw_init(&w, 0);
	kw_i64(&w, 0);
	kw_i32(&w, 4 + 1 + 1 + 8 + 4 + 4 + 2);
	kw_u32(&w, 0);
	kw_i8(&w, 1);
	kw_i8(&w, 0);
	kw_i64(&w, 1700000000000LL);
	kw_bytes32(&w, KSTR_NULL);
	kw_bytes32(&w, KSTR_LIT("hi"));
	write_seed(argv[1], "message-set-v1", &w);
	kw_free(&w);
	return 0;
}
#endif
