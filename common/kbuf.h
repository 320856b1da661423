/*
 * Bounds-checked readers and writers for Kafka's primitive wire types.
 *
 * Every read goes through a kreader, which never moves past its end: a short
 * or malformed read sets r->err and returns a zero value, so parsing code
 * stays straight-line and checks kr_ok() once at the end of a unit.
 * Writers grow a malloc'd buffer; an allocation failure is fatal (the broker
 * cannot do anything useful without memory).
 */
#ifndef PGK_KBUF_H
#define PGK_KBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A Kafka string or bytes value pointing into someone else's buffer.
 * len == -1 means null. */
typedef struct kstr {
	const char *ptr;
	int32_t len;
} kstr;

#define KSTR_NULL ((kstr){NULL, -1})
#define KSTR_LIT(s) ((kstr){(s), (int32_t)(sizeof(s) - 1)})
kstr kstr_c(const char *s); /* NULL -> null kstr */
bool kstr_eq(kstr a, const char *c);
bool kstr_eqk(kstr a, kstr b);

typedef struct kreader {
	const uint8_t *p;
	const uint8_t *end;
	bool err;
} kreader;

static inline void kr_init(kreader *r, const void *buf, size_t len)
{
	r->p = (const uint8_t *)buf;
	r->end = r->p + len;
	r->err = false;
}
static inline size_t kr_remaining(const kreader *r) { return (size_t)(r->end - r->p); }
static inline bool kr_ok(const kreader *r) { return !r->err; }

int8_t kr_i8(kreader *r);
int16_t kr_i16(kreader *r);
int32_t kr_i32(kreader *r);
int64_t kr_i64(kreader *r);
uint32_t kr_u32(kreader *r);
double kr_f64(kreader *r);
uint32_t kr_uvarint(kreader *r); /* unsigned varint, max 5 bytes */
int32_t kr_varint(kreader *r);   /* zigzag varint */
int64_t kr_varlong(kreader *r);  /* zigzag varlong */
uint64_t kr_uvarlong(kreader *r);
/* Borrow n bytes; NULL (and err) if fewer remain. */
const uint8_t *kr_bytes(kreader *r, size_t n);
void kr_skip(kreader *r, size_t n);
/* Classic (int16 length) and compact (uvarint length+1) strings. */
kstr kr_string(kreader *r);
kstr kr_compact_string(kreader *r);
/* Classic (int32 length) and compact bytes. */
kstr kr_bytes32(kreader *r);
kstr kr_compact_bytes(kreader *r);
/* Skip a tagged-field section (flexible versions). */
void kr_skip_tags(kreader *r);

typedef struct kwriter {
	uint8_t *buf;
	size_t len;
	size_t cap;
} kwriter;

void kw_init(kwriter *w, size_t cap);
void kw_free(kwriter *w);
/* Take ownership of the buffer; the writer is reset. */
uint8_t *kw_steal(kwriter *w, size_t *len);
void kw_reserve(kwriter *w, size_t extra);
void kw_raw(kwriter *w, const void *p, size_t n);
/* Reserve n bytes and return their offset, to be patched later. */
size_t kw_skip(kwriter *w, size_t n);
void kw_i8(kwriter *w, int8_t v);
void kw_i16(kwriter *w, int16_t v);
void kw_i32(kwriter *w, int32_t v);
void kw_i64(kwriter *w, int64_t v);
void kw_u32(kwriter *w, uint32_t v);
void kw_f64(kwriter *w, double v);
void kw_uvarint(kwriter *w, uint32_t v);
void kw_uvarlong(kwriter *w, uint64_t v);
void kw_varint(kwriter *w, int32_t v);
void kw_varlong(kwriter *w, int64_t v);
void kw_string(kwriter *w, kstr s);         /* int16 length, -1 for null */
void kw_compact_string(kwriter *w, kstr s); /* uvarint length+1, 0 for null */
void kw_bytes32(kwriter *w, kstr s);
void kw_compact_bytes(kwriter *w, kstr s);
void kw_empty_tags(kwriter *w);
void kw_put_i32_at(kwriter *w, size_t off, int32_t v);
void kw_put_u32_at(kwriter *w, size_t off, uint32_t v);
void kw_put_i16_at(kwriter *w, size_t off, int16_t v);
void kw_put_i64_at(kwriter *w, size_t off, int64_t v);

/* Big-endian helpers for code that parses fixed layouts. */
static inline uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }
static inline uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

#endif
