/*
 * The schema-driven codec: one decoder and one encoder that walk the field
 * tables of apis.c for any version, plus request header parsing and response
 * framing. Nothing here knows what a field means.
 */
#include <stdlib.h>
#include <string.h>

#include "apis.h"
#include "idtext.h"
#include "kerr.h"
#include "proto.h"

static bool field_present(const field_def *f, int16_t ver);
static size_t elem_size(const field_def *f);
static int32_t read_array_len(kreader *r, bool flex);
static void write_array_len(kwriter *w, bool flex, int32_t n);
static int decode_scalar(field_type t, bool flex, bool nullable, kreader *r, arena *a, void *dst);
static void encode_scalar(field_type t, bool flex, bool nullable, const void *src, kwriter *w);
static void set_default(const field_def *f, void *dst);
static int decode_field(const field_def *f, int16_t ver, bool flex, kreader *r, arena *a,
			void *dst);
static void encode_field(const field_def *f, int16_t ver, bool flex, const void *src, kwriter *w);
static void encode_zero_struct(const schema_def *s, int16_t ver, bool flex, kwriter *w);

static bool field_present(const field_def *f, int16_t ver)
{
	return ver >= f->min_ver && ver <= f->max_ver;
}

/* Size of one element of an array field, in C. */
static size_t elem_size(const field_def *f)
{
	switch (f->type) {
	case FT_ARRS:
		return f->sub->size;
	case FT_ARRI32:
		return sizeof(int32_t);
	case FT_ARRI64:
		return sizeof(int64_t);
	case FT_ARRSTR:
	case FT_ARRID:
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
	case FT_ARRID:
		return FT_ID;
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

static int decode_scalar(field_type t, bool flex, bool nullable, kreader *r, arena *a, void *dst)
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
	case FT_ID:
	case FT_BYTES: {
		kstr s;
		if (t == FT_BYTES)
			s = flex ? kr_compact_bytes(r) : kr_bytes32(r);
		else
			s = flex ? kr_compact_string(r) : kr_string(r);
		if (s.len < 0 && !nullable)
			return -1;
		if (t == FT_ID && kr_ok(r)) {
			s = idtext_from_wire(s, a);
			if (s.len < -1)
				return -1;
		}
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
	case FT_ID:
	case FT_BYTES: {
		kstr s = *(const kstr *)src;
		char *wire = NULL;
		if (s.len < 0 && !nullable)
			s = (kstr){"", 0};
		if (t == FT_ID && s.len > 0 && !idtext_plain(s)) {
			wire = malloc((size_t)s.len);
			if (!wire)
				abort();
			s.len = (int32_t)idtext_to_wire(s, wire);
			s.ptr = wire;
		}
		if (t != FT_BYTES) {
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
		free(wire);
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
	case FT_ID:
	case FT_BYTES:
		*(kstr *)dst = KSTR_NULL;
		break;
	case FT_ARRS:
	case FT_ARRI32:
	case FT_ARRI64:
	case FT_ARRSTR:
	case FT_ARRID:
		*(karray *)dst = (karray){0, NULL};
		break;
	case FT_STRUCT:
		*(void **)dst = NULL;
		break;
	default:
		break; /* zeroed */
	}
}

/* One field's value (scalar, array or struct), present in this version. */
static int decode_field(const field_def *f, int16_t ver, bool flex, kreader *r, arena *a, void *dst)
{
	bool nullable = ver >= f->null_min;

	if (f->type == FT_STRUCT) {
		/* A struct field: in nullable versions an int8 says whether it
		 * is there (-1 null, 1 present). */
		if (nullable) {
			int8_t present = kr_i8(r);
			if (!kr_ok(r) || (present != -1 && present != 1))
				return -1;
			if (present < 0) {
				*(void **)dst = NULL;
				return 0;
			}
		}
		void *item = arena_alloc(a, f->sub->size);
		*(void **)dst = item;
		return proto_decode(f->sub, ver, flex, r, a, item);
	}
	if (f->type < FT_ARRS)
		return decode_scalar(f->type, flex, nullable, r, a, dst);

	int32_t n = read_array_len(r, flex);
	if (n == -2 || (n == -1 && !nullable))
		return -1;
	karray *arr = dst;
	arr->count = n;
	arr->items = NULL;
	if (n <= 0)
		return 0;
	size_t es = elem_size(f);
	arr->items = arena_alloc(a, es * (size_t)n);
	for (int32_t j = 0; j < n; j++) {
		void *item = (char *)arr->items + es * (size_t)j;
		int rc;
		if (f->type == FT_ARRS)
			rc = proto_decode(f->sub, ver, flex, r, a, item);
		else
			rc = decode_scalar(elem_type(f->type), flex, false, r, a, item);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The tagged-field section: described tags decode from their own bytes,
 * unknown ones are skipped. */
static int decode_tags(const schema_def *s, int16_t ver, kreader *r, arena *a, void *out)
{
	uint32_t count = kr_uvarint(r);

	while (count-- > 0 && kr_ok(r)) {
		uint32_t tag = kr_uvarint(r);
		uint32_t size = kr_uvarint(r);
		const uint8_t *p = kr_bytes(r, size);
		if (!p)
			return -1;
		for (int i = 0; i < s->nfields; i++) {
			const field_def *f = &s->fields[i];
			if (f->tag < 0 || (uint32_t)f->tag != tag || !field_present(f, ver))
				continue;
			kreader sub;
			kr_init(&sub, p, size);
			if (decode_field(f, ver, true, &sub, a, (char *)out + f->offset) < 0 ||
			    !kr_ok(&sub))
				return -1;
		}
	}
	return kr_ok(r) ? 0 : -1;
}

int proto_decode(const schema_def *s, int16_t ver, bool flex, kreader *r, arena *a, void *out)
{
	bool has_tags = false;

	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		void *dst = (char *)out + f->offset;

		if (!field_present(f, ver) || f->tag >= 0) {
			set_default(f, dst);
			has_tags |= f->tag >= 0;
			continue;
		}
		if (decode_field(f, ver, flex, r, a, dst) < 0)
			return -1;
	}
	if (flex && has_tags) {
		if (decode_tags(s, ver, r, a, out) < 0)
			return -1;
	} else if (flex) {
		kr_skip_tags(r);
	}
	return kr_ok(r) ? 0 : -1;
}

static void encode_field(const field_def *f, int16_t ver, bool flex, const void *src, kwriter *w)
{
	bool nullable = ver >= f->null_min;

	if (f->type == FT_STRUCT) {
		const void *item = *(const void *const *)src;
		if (nullable)
			kw_i8(w, item ? 1 : -1);
		if (item)
			proto_encode(f->sub, ver, flex, item, w);
		else if (!nullable)
			encode_zero_struct(f->sub, ver, flex, w);
		return;
	}
	if (f->type < FT_ARRS) {
		encode_scalar(f->type, flex, nullable, src, w);
		return;
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

/* A struct that is not nullable in this version but was left unset: its
 * zero value. */
static void encode_zero_struct(const schema_def *s, int16_t ver, bool flex, kwriter *w)
{
	void *zero = calloc(1, s->size);
	if (!zero)
		abort();
	proto_encode(s, ver, flex, zero, w);
	free(zero);
}

/* A tagged field is written only when it differs from its default, as
 * Kafka's generated code does: an array when it has elements, a struct or
 * string when it is set, a number when it is not the default. */
static bool tag_worth_writing(const field_def *f, const void *src)
{
	switch (f->type) {
	case FT_ARRS:
	case FT_ARRI32:
	case FT_ARRI64:
	case FT_ARRSTR:
	case FT_ARRID:
		return ((const karray *)src)->count > 0;
	case FT_STRUCT:
		return *(const void *const *)src != NULL;
	case FT_STR:
	case FT_ID:
	case FT_BYTES:
		return ((const kstr *)src)->len >= 0;
	case FT_I8:
		return *(const int8_t *)src != (int8_t)f->dflt;
	case FT_I16:
		return *(const int16_t *)src != (int16_t)f->dflt;
	case FT_I32:
		return *(const int32_t *)src != (int32_t)f->dflt;
	case FT_I64:
		return *(const int64_t *)src != f->dflt;
	case FT_BOOL:
		return *(const bool *)src != (f->dflt != 0);
	default:
		return true;
	}
}

static void encode_tags(const schema_def *s, int16_t ver, const void *in, kwriter *w)
{
	uint32_t count = 0;

	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		if (f->tag >= 0 && field_present(f, ver) &&
		    tag_worth_writing(f, (const char *)in + f->offset))
			count++;
	}
	kw_uvarint(w, count);
	/* Tags are described in increasing order, the order they are written. */
	for (int i = 0; i < s->nfields && count > 0; i++) {
		const field_def *f = &s->fields[i];
		const void *src = (const char *)in + f->offset;
		if (f->tag < 0 || !field_present(f, ver) || !tag_worth_writing(f, src))
			continue;
		kwriter value;
		kw_init(&value, 64);
		encode_field(f, ver, true, src, &value);
		kw_uvarint(w, (uint32_t)f->tag);
		kw_uvarint(w, (uint32_t)value.len);
		kw_raw(w, value.buf, value.len);
		kw_free(&value);
	}
}

void proto_encode(const schema_def *s, int16_t ver, bool flex, const void *in, kwriter *w)
{
	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		if (!field_present(f, ver) || f->tag >= 0)
			continue;
		encode_field(f, ver, flex, (const char *)in + f->offset, w);
	}
	if (flex)
		encode_tags(s, ver, in, w);
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
	 * a classic nullable string even in flexible versions, and an id
	 * (idtext.h): quotas and group members store and compare it. */
	bool flex = api_flexible(req->api, req->api_version);
	req->client_id = kr_string(&r);
	if (kr_ok(&r))
		req->client_id = idtext_from_wire(req->client_id, req->arena);
	if (req->client_id.len < -1)
		return PROTO_MALFORMED;
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
