/*
 * The schema-driven codec: one decoder and one encoder that walk the field
 * tables of apis.c for any version, plus request header parsing and response
 * framing. Nothing here knows what a field means.
 */
#include <string.h>

#include "apis.h"
#include "kerr.h"
#include "proto.h"

static bool field_present(const field_def *f, int16_t ver);
static size_t elem_size(const field_def *f);
static int32_t read_array_len(kreader *r, bool flex);
static void write_array_len(kwriter *w, bool flex, int32_t n);
static int decode_scalar(field_type t, bool flex, bool nullable, kreader *r, void *dst);
static void encode_scalar(field_type t, bool flex, bool nullable, const void *src, kwriter *w);
static void set_default(const field_def *f, void *dst);
static bool field_tagged(const field_def *f);
static int decode_tags(const schema_def *s, int16_t ver, kreader *r, arena *a, void *out);
static void encode_tags(const schema_def *s, int16_t ver, const void *in, kwriter *w);

static bool field_present(const field_def *f, int16_t ver)
{
	return ver >= f->min_ver && ver <= f->max_ver;
}

/* Size of one element of an array field, in C. */
static size_t elem_size(const field_def *f)
{
	switch (f->type) {
	case FT_ARRS:
	case FT_TSTRUCT:
	case FT_TARRS:
		return f->sub->size;
	case FT_ARRI32:
		return sizeof(int32_t);
	case FT_ARRI64:
		return sizeof(int64_t);
	case FT_ARRSTR:
		return sizeof(kstr);
	default:
		return 0;
	}
}

static field_type elem_type(field_type t)
{
	switch (t) {
	case FT_ARRI32:
		return FT_I32;
	case FT_ARRI64:
		return FT_I64;
	default:
		return FT_STR;
	}
}

/* Returns the element count, -1 for null, or -2 on a malformed length. */
static int32_t read_array_len(kreader *r, bool flex)
{
	int64_t n;

	if (flex)
		n = (int64_t)kr_uvarint(r) - 1;
	else
		n = kr_i32(r);
	if (!kr_ok(r) || n < -1)
		return -2;
	/* Every element takes at least one byte on the wire: a count larger
	 * than what is left is a lie, and must not drive an allocation. */
	if (n > (int64_t)kr_remaining(r))
		return -2;
	return (int32_t)n;
}

static void write_array_len(kwriter *w, bool flex, int32_t n)
{
	if (flex)
		kw_uvarint(w, (uint32_t)(n + 1));
	else
		kw_i32(w, n);
}

static int decode_scalar(field_type t, bool flex, bool nullable, kreader *r, void *dst)
{
	switch (t) {
	case FT_I8:
		*(int8_t *)dst = kr_i8(r);
		break;
	case FT_I16:
		*(int16_t *)dst = kr_i16(r);
		break;
	case FT_I32:
		*(int32_t *)dst = kr_i32(r);
		break;
	case FT_I64:
		*(int64_t *)dst = kr_i64(r);
		break;
	case FT_BOOL:
		*(bool *)dst = kr_i8(r) != 0;
		break;
	case FT_F64:
		*(double *)dst = kr_f64(r);
		break;
	case FT_UUID: {
		const uint8_t *p = kr_bytes(r, 16);
		if (p)
			memcpy(dst, p, 16);
		break;
	}
	case FT_STR:
	case FT_BYTES: {
		kstr s;
		if (t == FT_STR)
			s = flex ? kr_compact_string(r) : kr_string(r);
		else
			s = flex ? kr_compact_bytes(r) : kr_bytes32(r);
		if (s.len < 0 && !nullable)
			return -1;
		*(kstr *)dst = s;
		break;
	}
	default:
		return -1;
	}
	return kr_ok(r) ? 0 : -1;
}

static void encode_scalar(field_type t, bool flex, bool nullable, const void *src, kwriter *w)
{
	switch (t) {
	case FT_I8:
		kw_i8(w, *(const int8_t *)src);
		break;
	case FT_I16:
		kw_i16(w, *(const int16_t *)src);
		break;
	case FT_I32:
		kw_i32(w, *(const int32_t *)src);
		break;
	case FT_I64:
		kw_i64(w, *(const int64_t *)src);
		break;
	case FT_BOOL:
		kw_i8(w, *(const bool *)src ? 1 : 0);
		break;
	case FT_F64:
		kw_f64(w, *(const double *)src);
		break;
	case FT_UUID:
		kw_raw(w, src, 16);
		break;
	case FT_STR:
	case FT_BYTES: {
		kstr s = *(const kstr *)src;
		if (s.len < 0 && !nullable)
			s = (kstr){"", 0};
		if (t == FT_STR) {
			if (flex)
				kw_compact_string(w, s);
			else
				kw_string(w, s);
		} else {
			if (flex)
				kw_compact_bytes(w, s);
			else
				kw_bytes32(w, s);
		}
		break;
	}
	default:
		break;
	}
}

static void set_default(const field_def *f, void *dst)
{
	switch (f->type) {
	case FT_I8:
		*(int8_t *)dst = (int8_t)f->dflt;
		break;
	case FT_I16:
		*(int16_t *)dst = (int16_t)f->dflt;
		break;
	case FT_I32:
		*(int32_t *)dst = (int32_t)f->dflt;
		break;
	case FT_I64:
		*(int64_t *)dst = f->dflt;
		break;
	case FT_BOOL:
		*(bool *)dst = f->dflt != 0;
		break;
	case FT_STR:
	case FT_BYTES:
		*(kstr *)dst = KSTR_NULL;
		break;
	case FT_ARRS:
	case FT_ARRI32:
	case FT_ARRI64:
	case FT_ARRSTR:
	case FT_TSTRUCT:
	case FT_TARRS:
		*(karray *)dst = (karray){0, NULL};
		break;
	default:
		break; /* zeroed */
	}
}

int proto_decode(const schema_def *s, int16_t ver, bool flex, kreader *r, arena *a, void *out)
{
	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		void *dst = (char *)out + f->offset;
		bool nullable = ver >= f->null_min;

		if (!field_present(f, ver) || field_tagged(f)) {
			set_default(f, dst);
			continue;
		}
		if (f->type < FT_ARRS) {
			if (decode_scalar(f->type, flex, nullable, r, dst) < 0)
				return -1;
			continue;
		}

		int32_t n = read_array_len(r, flex);
		if (n == -2 || (n == -1 && !nullable))
			return -1;
		karray *arr = dst;
		arr->count = n;
		arr->items = NULL;
		if (n <= 0)
			continue;
		size_t es = elem_size(f);
		arr->items = arena_alloc(a, es * (size_t)n);
		for (int32_t j = 0; j < n; j++) {
			void *item = (char *)arr->items + es * (size_t)j;
			int rc;
			if (f->type == FT_ARRS)
				rc = proto_decode(f->sub, ver, flex, r, a, item);
			else
				rc = decode_scalar(elem_type(f->type), flex, false, r, item);
			if (rc < 0)
				return -1;
		}
	}
	if (flex && decode_tags(s, ver, r, a, out) < 0)
		return -1;
	return kr_ok(r) ? 0 : -1;
}

void proto_encode(const schema_def *s, int16_t ver, bool flex, const void *in, kwriter *w)
{
	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		const void *src = (const char *)in + f->offset;
		bool nullable = ver >= f->null_min;

		if (!field_present(f, ver) || field_tagged(f))
			continue;
		if (f->type < FT_ARRS) {
			encode_scalar(f->type, flex, nullable, src, w);
			continue;
		}

		const karray *arr = src;
		int32_t n = arr->count;
		if (n < 0 && !nullable)
			n = 0;
		if (n > 0 && !arr->items)
			n = 0;
		write_array_len(w, flex, n);
		size_t es = elem_size(f);
		for (int32_t j = 0; j < n; j++) {
			const void *item = (const char *)arr->items + es * (size_t)j;
			if (f->type == FT_ARRS)
				proto_encode(f->sub, ver, flex, item, w);
			else
				encode_scalar(elem_type(f->type), flex, false, item, w);
		}
	}
	if (flex)
		encode_tags(s, ver, in, w);
}

static bool field_tagged(const field_def *f)
{
	return f->type == FT_TSTRUCT || f->type == FT_TARRS;
}

/* The tag section: the tagged fields s describes for ver are decoded from
 * their bytes (which they must fill exactly), every other tag skipped. */
static int decode_tags(const schema_def *s, int16_t ver, kreader *r, arena *a, void *out)
{
	uint32_t count = kr_uvarint(r);

	/* Each tag takes at least two bytes, so a huge count fails fast. */
	while (count-- > 0 && kr_ok(r)) {
		uint32_t tag = kr_uvarint(r);
		uint32_t size = kr_uvarint(r);
		const uint8_t *bytes = kr_bytes(r, size);
		const field_def *f = NULL;

		if (!bytes)
			return -1;
		for (int i = 0; i < s->nfields && !f; i++)
			if (field_tagged(&s->fields[i]) && field_present(&s->fields[i], ver) &&
			    s->fields[i].dflt == (int64_t)tag)
				f = &s->fields[i];
		if (!f)
			continue;
		kreader sub;
		karray *arr = (karray *)((char *)out + f->offset);
		int32_t n = 1;
		kr_init(&sub, bytes, size);
		if (f->type == FT_TARRS) {
			n = read_array_len(&sub, true);
			if (n < 0)
				return -1;
		}
		arr->count = n;
		arr->items = n > 0 ? arena_alloc(a, f->sub->size * (size_t)n) : NULL;
		for (int32_t j = 0; j < n; j++)
			if (proto_decode(f->sub, ver, true, &sub, a,
					 (char *)arr->items + f->sub->size * (size_t)j) < 0)
				return -1;
		if (kr_remaining(&sub) != 0)
			return -1;
	}
	return kr_ok(r) ? 0 : -1;
}

/* The tag section: each tagged field that is set (a struct present, an
 * array not empty), in the order s lists them, which is the tags' order. */
static void encode_tags(const schema_def *s, int16_t ver, const void *in, kwriter *w)
{
	uint32_t count = 0;

	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		const karray *arr = (const karray *)((const char *)in + f->offset);
		if (field_tagged(f) && field_present(f, ver) && arr->count > 0 && arr->items)
			count++;
	}
	kw_uvarint(w, count);
	for (int i = 0; count > 0 && i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		const karray *arr = (const karray *)((const char *)in + f->offset);
		if (!field_tagged(f) || !field_present(f, ver) || arr->count <= 0 || !arr->items)
			continue;
		int32_t n = f->type == FT_TSTRUCT ? 1 : arr->count;
		kwriter body;
		kw_init(&body, 64);
		if (f->type == FT_TARRS)
			write_array_len(&body, true, n);
		for (int32_t j = 0; j < n; j++)
			proto_encode(f->sub, ver, true,
				     (const char *)arr->items + f->sub->size * (size_t)j, &body);
		kw_uvarint(w, (uint32_t)f->dflt);
		kw_uvarint(w, (uint32_t)body.len);
		kw_raw(w, body.buf, body.len);
		kw_free(&body);
	}
}

int proto_parse_request(const uint8_t *frame, size_t len, request *req)
{
	kreader r;

	kr_init(&r, frame, len);
	req->api_key = kr_i16(&r);
	req->api_version = kr_i16(&r);
	req->correlation_id = kr_i32(&r);
	if (!kr_ok(&r))
		return PROTO_MALFORMED;

	req->api = api_lookup(req->api_key);
	if (!req->api || req->api_version < req->api->min_ver ||
	    req->api_version > req->api->max_ver)
		return PROTO_UNSUPPORTED;

	/* Request header v1 (client_id), v2 adds tagged fields. client_id is
	 * a classic nullable string even in flexible versions. */
	bool flex = api_flexible(req->api, req->api_version);
	req->client_id = kr_string(&r);
	if (flex)
		kr_skip_tags(&r);
	if (!kr_ok(&r))
		return PROTO_MALFORMED;

	req->body = arena_alloc(req->arena, req->api->req->size);
	if (proto_decode(req->api->req, req->api_version, flex, &r, req->arena, req->body) < 0)
		return PROTO_MALFORMED;
	return PROTO_OK;
}

void proto_encode_response(const request *req, kwriter *w)
{
	bool flex = api_flexible(req->api, req->api_version);
	size_t size_at = kw_skip(w, 4);

	kw_i32(w, req->correlation_id);
	/* Response header v1 in flexible versions, except for ApiVersions,
	 * whose response header stays v0 so any client can read it. */
	if (flex && req->api_key != API_VERSIONS_KEY)
		kw_empty_tags(w);
	proto_encode(req->api->resp, req->api_version, flex, req->resp, w);
	kw_put_i32_at(w, size_at, (int32_t)(w->len - size_at - 4));
}

void proto_encode_apiversions_fallback(int32_t correlation_id, kwriter *w)
{
	size_t size_at = kw_skip(w, 4);

	kw_i32(w, correlation_id);
	kw_i16(w, KERR_UNSUPPORTED_VERSION);
	kw_i32(w, api_count);
	for (int i = 0; i < api_count; i++) {
		kw_i16(w, api_table[i].key);
		kw_i16(w, api_table[i].min_ver);
		kw_i16(w, api_table[i].max_ver);
	}
	kw_put_i32_at(w, size_at, (int32_t)(w->len - size_at - 4));
}
