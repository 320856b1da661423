/*
 * Byte helpers shared by the output plugin and the SQL functions: Kafka's
 * header encoding, murmur2 partitioning, UTF-8 checks and JSON writing of
 * byte strings. Reads are bounds-checked against the end of the buffer; a
 * malformed input is reported to the caller, never read past.
 */
#include "postgres.h"

#include "common/base64.h"
#include "datatype/timestamp.h"

#include "kbytes.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_UNIX_EPOCH_DIFF_MS                                                                      \
	((int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * INT64CONST(1000))

typedef struct reader {
	const unsigned char *p, *end;
	bool ok;
} reader;

static int32 read_varint(reader *r);
static const char *read_bytes(reader *r, int32 len);
static void append_varint(StringInfo out, int32 v);

/* ---- Kafka headers ---- */

/* A zigzag varint of at most 5 bytes, as Kafka writes int32 varints. */
static int32 read_varint(reader *r)
{
	uint32 raw = 0;

	for (int shift = 0; shift < 35; shift += 7) {
		unsigned char b;

		if (r->p >= r->end) {
			r->ok = false;
			return 0;
		}
		b = *r->p++;
		raw |= (uint32)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return (int32)((raw >> 1) ^ (uint32) - (int32)(raw & 1));
	}
	r->ok = false; /* longer than 5 bytes */
	return 0;
}

static const char *read_bytes(reader *r, int32 len)
{
	const char *start = (const char *)r->p;

	if (!r->ok || len < 0 || len > r->end - r->p) {
		r->ok = false;
		return NULL;
	}
	r->p += len;
	return start;
}

bool kheaders_decode(const char *data, int len, kheader **headers, int *count)
{
	reader r = {(const unsigned char *)data, (const unsigned char *)data + len, true};
	int32 n = read_varint(&r);
	kheader *h;

	/* Each header takes at least two bytes: this bounds the allocation. */
	if (!r.ok || n < 0 || n > len)
		return false;
	h = palloc0(sizeof(kheader) * (n > 0 ? n : 1));
	for (int32 i = 0; i < n; i++) {
		h[i].key_len = read_varint(&r);
		h[i].key = read_bytes(&r, h[i].key_len);
		h[i].value_len = read_varint(&r);
		if (r.ok && h[i].value_len == -1)
			h[i].value = NULL;
		else
			h[i].value = read_bytes(&r, h[i].value_len);
		if (!r.ok)
			break;
	}
	if (!r.ok || r.p != r.end) {
		pfree(h);
		return false;
	}
	*headers = h;
	*count = n;
	return true;
}

static void append_varint(StringInfo out, int32 v)
{
	uint32 u = ((uint32)v << 1) ^ (uint32)(v >> 31);

	while (u >= 0x80) {
		appendStringInfoChar(out, (char)((u & 0x7f) | 0x80));
		u >>= 7;
	}
	appendStringInfoChar(out, (char)u);
}

void kheaders_encode(StringInfo out, int count, const char *const *keys, const int *key_lens,
		     const char *const *values, const int *value_lens)
{
	append_varint(out, count);
	for (int i = 0; i < count; i++) {
		append_varint(out, key_lens[i]);
		appendBinaryStringInfo(out, keys[i], key_lens[i]);
		if (values[i] == NULL) {
			append_varint(out, -1);
		} else {
			append_varint(out, value_lens[i]);
			appendBinaryStringInfo(out, values[i], value_lens[i]);
		}
	}
}

/* ---- partitioning ---- */

/*
 * MurmurHash2 with Kafka's seed, reading 4-byte little-endian blocks and
 * mixing the 1-3 trailing bytes the way the Java client does, so that keyed
 * records land where a Java producer would put them.
 */
int32 kafka_murmur2(const char *data, int len)
{
	const unsigned char *b = (const unsigned char *)data;
	const uint32 m = 0x5bd1e995;
	uint32 h = 0x9747b28cu ^ (uint32)len;
	int blocks = len / 4;
	int tail = blocks * 4;

	for (int i = 0; i < blocks; i++) {
		const unsigned char *p = b + i * 4;
		uint32 k = (uint32)p[0] | ((uint32)p[1] << 8) | ((uint32)p[2] << 16) |
			   ((uint32)p[3] << 24);

		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len % 4) {
	case 3:
		h ^= (uint32)b[tail + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32)b[tail + 1] << 8;
		/* fall through */
	case 1:
		h ^= (uint32)b[tail];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32)h;
}

int32 kafka_key_partition(const char *key, int len, int32 partitions)
{
	uint32 positive = (uint32)kafka_murmur2(key, len) & 0x7fffffffu;

	return (int32)(positive % (uint32)partitions);
}

/* ---- UTF-8 and JSON ---- */

bool kbytes_is_text(const char *data, int len)
{
	const unsigned char *p = (const unsigned char *)data;
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		int more;
		unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

		if (c < 0x80) {
			if (c == 0)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0; /* no overlong forms */
			else if (c == 0xed)
				hi = 0x9f; /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f; /* nothing above U+10FFFF */
		} else
			return false;
		if (end - p <= more)
			return false;
		if (p[1] < lo || p[1] > hi)
			return false;
		for (int i = 2; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
		}
		p += more + 1;
	}
	return true;
}

void kjson_escape(StringInfo out, const char *data, int len)
{
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		switch (c) {
		case '"':
			appendStringInfoString(out, "\\\"");
			break;
		case '\\':
			appendStringInfoString(out, "\\\\");
			break;
		case '\n':
			appendStringInfoString(out, "\\n");
			break;
		case '\r':
			appendStringInfoString(out, "\\r");
			break;
		case '\t':
			appendStringInfoString(out, "\\t");
			break;
		default:
			if (c < 0x20)
				appendStringInfo(out, "\\u%04x", c);
			else
				appendStringInfoCharMacro(out, (char)c);
		}
	}
}

void kjson_base64(StringInfo out, const char *data, int len)
{
	int need = pg_b64_enc_len(len);
	int written;

	appendStringInfoChar(out, '"');
	enlargeStringInfo(out, need + 2);
	written = pg_b64_encode(data, len, out->data + out->len, need);
	if (written < 0)
		elog(ERROR, "base64 encoding of %d bytes failed", len);
	out->len += written;
	out->data[out->len] = '\0';
	appendStringInfoChar(out, '"');
}

void kjson_bytes(StringInfo out, const char *data, int len, kjson_bytes_mode mode)
{
	if (data == NULL) {
		appendStringInfoString(out, "null");
		return;
	}
	if (mode == KJSON_BASE64) {
		kjson_base64(out, data, len);
		return;
	}
	/* NUL is valid UTF-8, but not text to most readers (nor to jsonb). */
	if (kbytes_is_text(data, len)) {
		appendStringInfoChar(out, '"');
		kjson_escape(out, data, len);
		appendStringInfoChar(out, '"');
		return;
	}
	appendStringInfoString(out, "{\"base64\":");
	kjson_base64(out, data, len);
	appendStringInfoChar(out, '}');
}

void kjson_headers(StringInfo out, const char *data, int len, kjson_bytes_mode mode)
{
	kheader *h;
	int n;
	/* Header keys are strings in Kafka: show them as text whenever possible. */
	const kjson_bytes_mode key_mode = KJSON_TEXT;

	if (data == NULL) {
		appendStringInfoString(out, "null");
		return;
	}
	if (!kheaders_decode(data, len, &h, &n)) {
		kjson_base64(out, data, len);
		return;
	}
	appendStringInfoChar(out, '[');
	for (int i = 0; i < n; i++) {
		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoString(out, "{\"key\":");
		kjson_bytes(out, h[i].key, h[i].key_len, key_mode);
		appendStringInfoString(out, ",\"value\":");
		kjson_bytes(out, h[i].value, h[i].value_len, mode);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
	pfree(h);
}

int64 kafka_timestamp_ms(int64 pg_timestamp)
{
	int64 ms = pg_timestamp / 1000;

	if (TIMESTAMP_IS_NOBEGIN(pg_timestamp))
		return PG_INT64_MIN;
	if (TIMESTAMP_IS_NOEND(pg_timestamp))
		return PG_INT64_MAX;

	if (pg_timestamp % 1000 < 0)
		ms--; /* round towards minus infinity, like Kafka's millisecond clock */
	return ms + PG_UNIX_EPOCH_DIFF_MS;
}

int64 kafka_ms_to_timestamp(int64 ms)
{
	/* MIN_TIMESTAMP and END_TIMESTAMP are whole milliseconds. */
	if (ms < MIN_TIMESTAMP / 1000 + PG_UNIX_EPOCH_DIFF_MS) {
		int64 t;
		TIMESTAMP_NOBEGIN(t);
		return t;
	}
	if (ms >= END_TIMESTAMP / 1000 + PG_UNIX_EPOCH_DIFF_MS) {
		int64 t;
		TIMESTAMP_NOEND(t);
		return t;
	}
	return (ms - PG_UNIX_EPOCH_DIFF_MS) * 1000;
}
