/*
 * Bounds-checked readers and growable writers for Kafka's primitive types.
 *
 * Readers: every function checks the remaining length before touching a byte.
 * A failed read sets r->err, which is sticky: once a reader has failed, every
 * later read fails too and returns a zero value (KSTR_NULL for strings), so a
 * parser can read a whole structure and test kr_ok() once.
 *
 * Writers: a kwriter owns one malloc'd buffer that grows by doubling. Running
 * out of memory aborts; there is no useful way for the broker to continue.
 */
#include "kbuf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *take(kreader *r, size_t n);
static kstr read_sized(kreader *r, int64_t len);
static void oom(size_t want) __attribute__((noreturn));
static void put_be(uint8_t *p, uint64_t v, int n);
static void kw_be(kwriter *w, uint64_t v, int n);
static void check_patch(const kwriter *w, size_t off, size_t n);

/* ---- kstr ---- */

kstr kstr_c(const char *s)
{
	size_t n;

	if (s == NULL)
		return KSTR_NULL;
	n = strlen(s);
	if (n > INT32_MAX)
		n = INT32_MAX;
	return (kstr){s, (int32_t)n};
}

bool kstr_eq(kstr a, const char *c)
{
	size_t n;

	if (c == NULL)
		return a.len < 0;
	if (a.len < 0)
		return false;
	n = strlen(c);
	if ((size_t)a.len != n)
		return false;
	return n == 0 || memcmp(a.ptr, c, n) == 0;
}

bool kstr_eqk(kstr a, kstr b)
{
	if (a.len < 0 || b.len < 0)
		return a.len < 0 && b.len < 0;
	if (a.len != b.len)
		return false;
	return a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

/* ---- readers ---- */

/* The only place that advances r->p: checks room, or fails the reader. */
static const uint8_t *take(kreader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || kr_remaining(r) < n) {
		r->err = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	return p;
}

int8_t kr_i8(kreader *r)
{
	const uint8_t *p = take(r, 1);

	return p ? (int8_t)p[0] : 0;
}

int16_t kr_i16(kreader *r)
{
	const uint8_t *p = take(r, 2);

	return p ? (int16_t)be16(p) : 0;
}

int32_t kr_i32(kreader *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (int32_t)be32(p) : 0;
}

uint32_t kr_u32(kreader *r)
{
	const uint8_t *p = take(r, 4);

	return p ? be32(p) : 0;
}

int64_t kr_i64(kreader *r)
{
	const uint8_t *p = take(r, 8);

	return p ? (int64_t)be64(p) : 0;
}

double kr_f64(kreader *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t bits;
	double d;

	if (p == NULL)
		return 0;
	bits = be64(p);
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/*
 * Unsigned LEB128. The last permitted byte may only carry the bits that fit
 * the type: a 5th byte above 0x0f (or a 10th above 0x01) is an overflow, not
 * a value, and is rejected along with encodings that are simply too long.
 */
uint32_t kr_uvarint(kreader *r)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 5; i++) {
		const uint8_t *p = take(r, 1);

		if (p == NULL)
			return 0;
		if (i == 4 && *p > 0x0f)
			break;
		v |= (uint32_t)(*p & 0x7f) << (7 * i);
		if (!(*p & 0x80))
			return v;
	}
	r->err = true;
	return 0;
}

uint64_t kr_uvarlong(kreader *r)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 10; i++) {
		const uint8_t *p = take(r, 1);

		if (p == NULL)
			return 0;
		if (i == 9 && *p > 0x01)
			break;
		v |= (uint64_t)(*p & 0x7f) << (7 * i);
		if (!(*p & 0x80))
			return v;
	}
	r->err = true;
	return 0;
}

int32_t kr_varint(kreader *r)
{
	uint32_t u = kr_uvarint(r);

	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

int64_t kr_varlong(kreader *r)
{
	uint64_t u = kr_uvarlong(r);

	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

const uint8_t *kr_bytes(kreader *r, size_t n) { return take(r, n); }

void kr_skip(kreader *r, size_t n) { (void)take(r, n); }

/* len is the decoded wire length: -1 is null, other negatives are errors. */
static kstr read_sized(kreader *r, int64_t len)
{
	const uint8_t *p;

	if (r->err)
		return KSTR_NULL;
	if (len == -1)
		return KSTR_NULL;
	if (len < -1 || len > INT32_MAX) {
		r->err = true;
		return KSTR_NULL;
	}
	p = take(r, (size_t)len);
	if (p == NULL)
		return KSTR_NULL;
	return (kstr){(const char *)p, (int32_t)len};
}

kstr kr_string(kreader *r)
{
	int16_t len = kr_i16(r);

	return read_sized(r, len);
}

kstr kr_compact_string(kreader *r)
{
	uint32_t n = kr_uvarint(r);

	return read_sized(r, (int64_t)n - 1);
}

kstr kr_bytes32(kreader *r)
{
	int32_t len = kr_i32(r);

	return read_sized(r, len);
}

kstr kr_compact_bytes(kreader *r) { return kr_compact_string(r); }

void kr_skip_tags(kreader *r)
{
	uint32_t count = kr_uvarint(r);

	/* Each tag takes at least two bytes, so a huge count fails fast. */
	while (count-- > 0 && !r->err) {
		(void)kr_uvarint(r); /* tag */
		kr_skip(r, kr_uvarint(r));
	}
}

/* ---- writers ---- */

static void oom(size_t want)
{
	fprintf(stderr, "pg_kafka: out of memory allocating %zu bytes\n", want);
	abort();
}

void kw_init(kwriter *w, size_t cap)
{
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	if (cap > 0) {
		w->buf = malloc(cap);
		if (w->buf == NULL)
			oom(cap);
		w->cap = cap;
	}
}

void kw_free(kwriter *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
}

uint8_t *kw_steal(kwriter *w, size_t *len)
{
	uint8_t *b = w->buf;

	if (len)
		*len = w->len;
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	return b;
}

void kw_reserve(kwriter *w, size_t extra)
{
	size_t need, cap;
	uint8_t *nb;

	if (extra > SIZE_MAX - w->len)
		oom(SIZE_MAX);
	need = w->len + extra;
	if (need <= w->cap)
		return;
	cap = w->cap ? w->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	nb = realloc(w->buf, cap);
	if (nb == NULL)
		oom(cap);
	w->buf = nb;
	w->cap = cap;
}

void kw_raw(kwriter *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	kw_reserve(w, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* The gap is zeroed so that an unpatched field never leaks old heap bytes. */
size_t kw_skip(kwriter *w, size_t n)
{
	size_t off = w->len;

	kw_reserve(w, n);
	if (n > 0)
		memset(w->buf + off, 0, n);
	w->len += n;
	return off;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void kw_be(kwriter *w, uint64_t v, int n)
{
	kw_reserve(w, (size_t)n);
	put_be(w->buf + w->len, v, n);
	w->len += (size_t)n;
}

void kw_i8(kwriter *w, int8_t v) { kw_be(w, (uint8_t)v, 1); }
void kw_i16(kwriter *w, int16_t v) { kw_be(w, (uint16_t)v, 2); }
void kw_i32(kwriter *w, int32_t v) { kw_be(w, (uint32_t)v, 4); }
void kw_u32(kwriter *w, uint32_t v) { kw_be(w, v, 4); }
void kw_i64(kwriter *w, int64_t v) { kw_be(w, (uint64_t)v, 8); }

void kw_f64(kwriter *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	kw_be(w, bits, 8);
}

void kw_uvarlong(kwriter *w, uint64_t v)
{
	kw_reserve(w, 10);
	while (v >= 0x80) {
		w->buf[w->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	w->buf[w->len++] = (uint8_t)v;
}

void kw_uvarint(kwriter *w, uint32_t v) { kw_uvarlong(w, v); }

void kw_varint(kwriter *w, int32_t v)
{
	uint32_t u = (uint32_t)v;

	kw_uvarint(w, (u << 1) ^ (0u - (u >> 31)));
}

void kw_varlong(kwriter *w, int64_t v)
{
	uint64_t u = (uint64_t)v;

	kw_uvarlong(w, (u << 1) ^ (0ull - (u >> 63)));
}

/*
 * A classic string cannot be longer than INT16_MAX. Values that reach here
 * longer than that come from the broker itself (error messages), so they are
 * cut rather than turned into a malformed frame.
 */
void kw_string(kwriter *w, kstr s)
{
	int32_t n = s.len;

	if (n < 0) {
		kw_i16(w, -1);
		return;
	}
	if (n > INT16_MAX)
		n = INT16_MAX;
	kw_i16(w, (int16_t)n);
	kw_raw(w, s.ptr, (size_t)n);
}

void kw_compact_string(kwriter *w, kstr s)
{
	if (s.len < 0) {
		kw_uvarint(w, 0);
		return;
	}
	kw_uvarint(w, (uint32_t)s.len + 1);
	kw_raw(w, s.ptr, (size_t)s.len);
}

void kw_bytes32(kwriter *w, kstr s)
{
	if (s.len < 0) {
		kw_i32(w, -1);
		return;
	}
	kw_i32(w, s.len);
	kw_raw(w, s.ptr, (size_t)s.len);
}

void kw_compact_bytes(kwriter *w, kstr s) { kw_compact_string(w, s); }

void kw_empty_tags(kwriter *w) { kw_uvarint(w, 0); }

/* Patching outside what was written is a bug in the caller, never input. */
static void check_patch(const kwriter *w, size_t off, size_t n)
{
	if (off > w->len || n > w->len - off) {
		fprintf(stderr, "pg_kafka: kwriter patch at %zu+%zu beyond length %zu\n", off, n,
			w->len);
		abort();
	}
}

void kw_put_i16_at(kwriter *w, size_t off, int16_t v)
{
	check_patch(w, off, 2);
	put_be(w->buf + off, (uint16_t)v, 2);
}

void kw_put_i32_at(kwriter *w, size_t off, int32_t v)
{
	check_patch(w, off, 4);
	put_be(w->buf + off, (uint32_t)v, 4);
}

void kw_put_u32_at(kwriter *w, size_t off, uint32_t v)
{
	check_patch(w, off, 4);
	put_be(w->buf + off, v, 4);
}

void kw_put_i64_at(kwriter *w, size_t off, int64_t v)
{
	check_patch(w, off, 8);
	put_be(w->buf + off, (uint64_t)v, 8);
}
