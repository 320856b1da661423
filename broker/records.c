/*
 * Kafka RecordBatch v2: decoding what producers send, encoding what fetch
 * returns.
 *
 * Decoding never trusts a length: the framing of every batch is checked
 * before anything is allocated, the CRC before any field is believed, and
 * each record must use exactly the bytes its length varint claims. Decoded
 * keys, values and headers point into the caller's buffer, or into
 * decompressed buffers that the arena adopts.
 */
#include "records.h"

#include <string.h>

#include "compress.h"
#include "crc32c.h"
#include "kerr.h"

/* Fixed offsets inside a v2 batch header. */
#define OFF_BATCH_LENGTH 8
#define OFF_MAGIC 16
#define OFF_CRC 17
#define OFF_ATTRIBUTES 21
#define LOG_OVERHEAD 12 /* base_offset + batch_length */
/* attributes, timestamp delta, offset delta, key length, value length,
 * header count and the length varint itself: one byte each at least. */
#define MIN_RECORD_SIZE 7

static int check_framing(const uint8_t *buf, size_t len, int *nbatches);
static int decode_batch(arena *a, const uint8_t *p, size_t size, size_t *budget, record_batch *b);
static int decode_record(kreader *r, int64_t base_timestamp, record *rec);
static kstr read_varbytes(kreader *r);
static int skip_headers(kreader *r, int32_t count);
static size_t uvarint_size(uint64_t v);
static size_t varint_size(int64_t v);
static size_t record_body_size(const record *rec, int64_t ts_delta);
static int write_records(kwriter *w, const record *recs, int n, int64_t base_timestamp);

int records_decode(arena *a, const uint8_t *buf, size_t len, size_t max_bytes,
		   record_batch **batches, int *nbatches)
{
	record_batch *bs;
	size_t pos = 0, budget = max_bytes;
	int n, i, rc;

	*batches = NULL;
	*nbatches = 0;
	rc = check_framing(buf, len, &n);
	if (rc != 0)
		return rc;
	bs = arena_alloc(a, (size_t)n * sizeof(*bs));
	for (i = 0; i < n; i++) {
		size_t size = LOG_OVERHEAD + be32(buf + pos + OFF_BATCH_LENGTH);

		rc = decode_batch(a, buf + pos, size, &budget, &bs[i]);
		if (rc != 0)
			return rc;
		pos += size;
	}
	*batches = bs;
	*nbatches = n;
	return 0;
}

/*
 * Walk the batch lengths once. Magic sits at byte 16 in every message
 * format, so v0/v1 message sets are recognised (and refused) here without
 * being parsed.
 */
static int check_framing(const uint8_t *buf, size_t len, int *nbatches)
{
	size_t pos = 0;
	int n = 0;

	if (len == 0)
		return KERR_INVALID_RECORD;
	while (pos < len) {
		size_t rem = len - pos;
		int32_t blen;
		int8_t magic;

		if (rem <= OFF_MAGIC)
			return KERR_CORRUPT_MESSAGE;
		magic = (int8_t)buf[pos + OFF_MAGIC];
		if (magic == 0 || magic == 1)
			return KERR_INVALID_RECORD;
		if (magic != 2)
			return KERR_CORRUPT_MESSAGE;
		blen = (int32_t)be32(buf + pos + OFF_BATCH_LENGTH);
		if (blen < BATCH_HEADER_SIZE - LOG_OVERHEAD || (size_t)blen > rem - LOG_OVERHEAD)
			return KERR_CORRUPT_MESSAGE;
		pos += LOG_OVERHEAD + (size_t)blen;
		if (n == INT32_MAX)
			return KERR_CORRUPT_MESSAGE;
		n++;
	}
	*nbatches = n;
	return 0;
}

/* One batch of exactly size bytes, framing already checked. */
static int decode_batch(arena *a, const uint8_t *p, size_t size, size_t *budget, record_batch *b)
{
	kreader r;
	const uint8_t *data;
	size_t dlen;
	int codec, i, rc;

	kr_init(&r, p, size);
	b->base_offset = kr_i64(&r);
	b->batch_length = kr_i32(&r);
	b->partition_leader_epoch = kr_i32(&r);
	b->magic = kr_i8(&r);
	b->crc = kr_u32(&r);
	b->attributes = kr_i16(&r);
	b->last_offset_delta = kr_i32(&r);
	b->base_timestamp = kr_i64(&r);
	b->max_timestamp = kr_i64(&r);
	b->producer_id = kr_i64(&r);
	b->producer_epoch = kr_i16(&r);
	b->base_sequence = kr_i32(&r);
	b->record_count = kr_i32(&r);
	b->records = NULL;
	if (!kr_ok(&r))
		return KERR_CORRUPT_MESSAGE;
	if (crc32c(0, p + OFF_ATTRIBUTES, size - OFF_ATTRIBUTES) != b->crc)
		return KERR_CORRUPT_MESSAGE;
	if (b->record_count < 0)
		return KERR_CORRUPT_MESSAGE;

	data = r.p;
	dlen = kr_remaining(&r);
	codec = b->attributes & ATTR_CODEC_MASK;
	if (codec > CODEC_ZSTD)
		return KERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (codec != CODEC_NONE) {
		uint8_t *out;
		size_t out_len;

		rc = codec_decompress(codec, data, dlen, *budget, &out, &out_len);
		if (rc == -2)
			return KERR_MESSAGE_TOO_LARGE;
		if (rc != 0)
			return KERR_CORRUPT_MESSAGE;
		arena_adopt(a, out);
		*budget -= out_len;
		data = out;
		dlen = out_len;
	}

	/* Refuse a count the data cannot hold before sizing an array by it. */
	if ((size_t)b->record_count > dlen / MIN_RECORD_SIZE)
		return KERR_CORRUPT_MESSAGE;
	if (b->record_count > 0)
		b->records = arena_alloc(a, (size_t)b->record_count * sizeof(record));
	kr_init(&r, data, dlen);
	for (i = 0; i < b->record_count; i++) {
		rc = decode_record(&r, b->base_timestamp, &b->records[i]);
		if (rc != 0)
			return rc;
	}
	/* Bytes after the last counted record mean the count is wrong. */
	if (kr_remaining(&r) != 0)
		return KERR_CORRUPT_MESSAGE;
	return 0;
}

static int decode_record(kreader *r, int64_t base_timestamp, record *rec)
{
	kreader rr;
	const uint8_t *hstart;
	int32_t len, hcount;
	int64_t ts_delta;

	len = kr_varint(r);
	if (!kr_ok(r) || len < 0 || (size_t)len > kr_remaining(r))
		return KERR_CORRUPT_MESSAGE;
	kr_init(&rr, r->p, (size_t)len);
	kr_skip(r, (size_t)len);

	(void)kr_i8(&rr); /* record attributes: unused in v2 */
	ts_delta = kr_varlong(&rr);
	rec->offset_delta = kr_varint(&rr);
	rec->key = read_varbytes(&rr);
	rec->value = read_varbytes(&rr);
	hstart = rr.p;
	hcount = kr_varint(&rr);
	if (!kr_ok(&rr) || hcount < 0)
		return KERR_CORRUPT_MESSAGE;
	if (skip_headers(&rr, hcount) != 0)
		return KERR_CORRUPT_MESSAGE;
	/* The record must end exactly where its length said it would. */
	if (kr_remaining(&rr) != 0)
		return KERR_CORRUPT_MESSAGE;

	/* Wrapping add: a hostile delta must not be signed overflow. */
	rec->timestamp = (int64_t)((uint64_t)base_timestamp + (uint64_t)ts_delta);
	rec->header_count = hcount;
	if (hcount > 0)
		rec->headers = (kstr){(const char *)hstart, (int32_t)(rr.p - hstart)};
	else
		rec->headers = (kstr){NULL, 0};
	return 0;
}

/* varint length, -1 for null, then the bytes. Errors go through r->err. */
static kstr read_varbytes(kreader *r)
{
	int32_t n = kr_varint(r);
	const uint8_t *p;

	if (!kr_ok(r))
		return KSTR_NULL;
	if (n == -1)
		return KSTR_NULL;
	if (n < -1) {
		r->err = true;
		return KSTR_NULL;
	}
	p = kr_bytes(r, (size_t)n);
	if (p == NULL)
		return KSTR_NULL;
	return (kstr){(const char *)p, n};
}

/* Header keys are never null; values may be. */
static int skip_headers(kreader *r, int32_t count)
{
	int32_t i;

	for (i = 0; i < count && kr_ok(r); i++) {
		int32_t klen = kr_varint(r);

		if (klen < 0)
			return -1;
		kr_skip(r, (size_t)klen);
		(void)read_varbytes(r);
	}
	return kr_ok(r) ? 0 : -1;
}

/* ---- encoding ---- */

static size_t uvarint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t varint_size(int64_t v)
{
	uint64_t u = (uint64_t)v;

	return uvarint_size((u << 1) ^ (0ull - (u >> 63)));
}

static size_t record_body_size(const record *rec, int64_t ts_delta)
{
	size_t n = 1; /* attributes */

	n += varint_size(ts_delta);
	n += varint_size((int32_t)rec->offset_delta);
	n += varint_size(rec->key.len < 0 ? -1 : rec->key.len);
	if (rec->key.len > 0)
		n += (size_t)rec->key.len;
	n += varint_size(rec->value.len < 0 ? -1 : rec->value.len);
	if (rec->value.len > 0)
		n += (size_t)rec->value.len;
	n += rec->headers.len > 0 ? (size_t)rec->headers.len : 1;
	return n;
}

/* Records in wire form, their timestamps relative to base_timestamp. */
static int write_records(kwriter *w, const record *recs, int n, int64_t base_timestamp)
{
	int i;

	for (i = 0; i < n; i++) {
		const record *rec = &recs[i];
		int64_t ts_delta = (int64_t)((uint64_t)rec->timestamp - (uint64_t)base_timestamp);
		size_t body = record_body_size(rec, ts_delta);

		if (body > INT32_MAX)
			return -1;
		kw_varint(w, (int32_t)body);
		kw_i8(w, 0);
		kw_varlong(w, ts_delta);
		kw_varint(w, (int32_t)rec->offset_delta);
		kw_varint(w, rec->key.len < 0 ? -1 : rec->key.len);
		if (rec->key.len > 0)
			kw_raw(w, rec->key.ptr, (size_t)rec->key.len);
		kw_varint(w, rec->value.len < 0 ? -1 : rec->value.len);
		if (rec->value.len > 0)
			kw_raw(w, rec->value.ptr, (size_t)rec->value.len);
		/* Stored headers are already in wire form, count included. */
		if (rec->headers.len > 0)
			kw_raw(w, rec->headers.ptr, (size_t)rec->headers.len);
		else
			kw_varint(w, 0);
	}
	return 0;
}

int records_encode_batch(kwriter *w, const record_batch *hdr, const record *recs, int n, int codec)
{
	size_t start = w->len, total;
	int64_t base_ts = hdr->base_timestamp, max_ts = hdr->max_timestamp;
	int32_t last_delta = hdr->last_offset_delta;
	int16_t attributes;
	int i, rc;

	if (codec < CODEC_NONE || codec > CODEC_ZSTD || n < 0)
		return -1;
	if (base_ts == -1) {
		/* Like the Java producer: the first record sets the base. */
		max_ts = -1;
		if (n > 0)
			base_ts = recs[0].timestamp;
		for (i = 0; i < n; i++)
			if (recs[i].timestamp > max_ts)
				max_ts = recs[i].timestamp;
	}
	if (n > 0)
		last_delta = (int32_t)recs[n - 1].offset_delta;
	attributes = (int16_t)((hdr->attributes & ~ATTR_CODEC_MASK) | codec);

	kw_i64(w, hdr->base_offset);
	kw_i32(w, 0); /* batch_length, patched below */
	kw_i32(w, hdr->partition_leader_epoch);
	kw_i8(w, 2);  /* magic */
	kw_u32(w, 0); /* crc, patched below */
	kw_i16(w, attributes);
	kw_i32(w, last_delta);
	kw_i64(w, base_ts);
	kw_i64(w, max_ts);
	kw_i64(w, hdr->producer_id);
	kw_i16(w, hdr->producer_epoch);
	kw_i32(w, hdr->base_sequence);
	kw_i32(w, n);

	if (codec == CODEC_NONE) {
		rc = write_records(w, recs, n, base_ts);
	} else {
		kwriter tmp;

		kw_init(&tmp, 1024);
		rc = write_records(&tmp, recs, n, base_ts);
		if (rc == 0)
			rc = codec_compress(codec, tmp.buf, tmp.len, w);
		kw_free(&tmp);
	}
	total = w->len - start;
	if (rc != 0 || total - LOG_OVERHEAD > INT32_MAX) {
		w->len = start;
		return -1;
	}
	kw_put_i32_at(w, start + OFF_BATCH_LENGTH, (int32_t)(total - LOG_OVERHEAD));
	kw_put_u32_at(w, start + OFF_CRC,
		      crc32c(0, w->buf + start + OFF_ATTRIBUTES, total - OFF_ATTRIBUTES));
	return 0;
}

void records_outline_of(const uint8_t *buf, size_t len, records_outline *out)
{
	size_t pos = 0;

	*out = (records_outline){0, false, -1, -1, false};
	while (len - pos >= 12) {
		int32_t size = (int32_t)be32(buf + pos + 8);
		if (size < 14) {
			out->corrupt = true;
			return;
		}
		if ((size_t)size > len - pos - 12)
			return;
		/* 12 + size >= 26 bytes: the magic (16) and attributes (21)
		 * are inside the batch. */
		int8_t magic = (int8_t)buf[pos + 16];
		int16_t attributes = (int16_t)be16(buf + pos + 21);
		if (out->nbatches++ == 0) {
			out->first_magic = magic;
			out->first_attributes = attributes;
		}
		if (magic == 2 && (attributes & ATTR_TRANSACTIONAL))
			out->any_transactional = true;
		pos += 12 + (size_t)size;
	}
}

/* The header count of a stored header section (its leading varint). */
static int32_t stored_header_count(kstr headers)
{
	kreader r;
	if (headers.len <= 0)
		return 0;
	kr_init(&r, headers.ptr, (size_t)headers.len);
	int32_t n = kr_varint(&r);
	return kr_ok(&r) && n > 0 ? n : 0;
}

int records_unpack(const uint8_t *buf, size_t len, record *recs, int64_t *offsets,
		   bool *truncated)
{
	kreader r;
	int n = 0;

	kr_init(&r, buf, len);
	int8_t format = kr_i8(&r);
	int8_t flags = kr_i8(&r);
	if (!kr_ok(&r) || format != 1)
		return -1;
	if (truncated)
		*truncated = (flags & 1) != 0;
	while (kr_remaining(&r) > 0) {
		int64_t offset = kr_i64(&r);
		int64_t ts = kr_i64(&r);
		kstr key = kr_bytes32(&r);
		kstr value = kr_bytes32(&r);
		kstr headers = kr_bytes32(&r);
		if (!kr_ok(&r) || n == INT32_MAX)
			return -1;
		if (recs) {
			record *rec = &recs[n];
			rec->offset_delta = 0;
			rec->timestamp = ts;
			rec->key = key;
			rec->value = value;
			rec->headers = headers.len < 0 ? (kstr){NULL, 0} : headers;
			rec->header_count = stored_header_count(rec->headers);
			offsets[n] = offset;
		}
		n++;
	}
	return n;
}
