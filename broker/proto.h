/*
 * Schema-driven Kafka protocol codec.
 *
 * Each API message is described once, as a table of fields with the version
 * range in which each field exists and the versions from which it may be
 * null (apis.h). One decoder and one encoder walk those tables for any
 * version; flexible versions (compact strings, arrays and bytes, tagged
 * fields) are a property of the version, not separate code.
 */
#ifndef PGK_PROTO_H
#define PGK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"
#include "request.h"

#define VMAX 0x7fff /* "and every later version" */
#define NN 0x7fff   /* never nullable */

typedef struct kuuid {
	uint8_t b[16];
} kuuid;

/* Arrays decode into count elements of the field's C type; count -1 = null. */
typedef struct karray {
	int32_t count;
	void *items;
} karray;

typedef enum field_type {
	FT_I8,
	FT_I16,
	FT_I32,
	FT_I64,
	FT_BOOL,
	FT_UUID,
	FT_F64,
	FT_STR,    /* string (kstr) */
	FT_BYTES,  /* bytes / records (kstr) */
	FT_ID,     /* a string carrying a group, transactional or client id:
		    * decoded into its internal form (idtext.h), encoded back */
	FT_ARRS,   /* array of structs (sub schema) */
	FT_ARRI32, /* array of int32 */
	FT_ARRI64, /* array of int64 */
	FT_ARRSTR, /* array of strings (kstr) */
	FT_ARRID,  /* array of ids (kstr, internal form) */
	FT_STRUCT, /* one struct (sub schema), by pointer; nullable: NULL */
} field_type;

struct schema_def;

typedef struct field_def {
	const char *name;
	field_type type;
	int16_t min_ver;  /* field exists in [min_ver, max_ver] */
	int16_t max_ver;
	int16_t null_min; /* nullable from this version on (NN: never) */
	uint16_t offset;  /* offsetof in the C struct */
	int64_t dflt;     /* value of integer fields absent in a version */
	const struct schema_def *sub;
	int16_t tag;      /* tagged field number (flexible versions only), or -1 */
} field_def;

typedef struct schema_def {
	const char *name;
	size_t size;
	int nfields;
	const field_def *fields;
} schema_def;

typedef struct api_def {
	int16_t key;
	const char *name;
	int16_t min_ver;  /* versions implemented and advertised */
	int16_t max_ver;
	int16_t flex_min; /* first flexible version */
	const schema_def *req;
	const schema_def *resp;
} api_def;

/* ApiVersions response error for versions we do not implement. */
#define API_VERSIONS_KEY 18

extern const api_def api_table[];
extern const int api_count;
const api_def *api_lookup(int16_t key);
static inline bool api_flexible(const api_def *a, int16_t v) { return v >= a->flex_min; }

/*
 * Decode a message body of the given version into out (a zeroed struct of
 * s->size bytes). Strings and bytes point into the reader's buffer, arrays are
 * allocated from the arena, and so are ids whose internal form differs from
 * their wire bytes. Unknown tagged fields are skipped.
 * Returns 0, or -1 if the bytes do not form a valid message.
 */
int proto_decode(const schema_def *s, int16_t ver, bool flex, kreader *r, arena *a, void *out);
/* Encode a message body; fields absent in this version are skipped, and a null
 * in a version where the field is not nullable is written as empty. */
void proto_encode(const schema_def *s, int16_t ver, bool flex, const void *in, kwriter *w);

/*
 * Parse a request frame (without its 4-byte size): the header into req, and,
 * if the API and version are implemented, the body into req->body.
 * Returns:
 *   PROTO_OK          header and body decoded
 *   PROTO_UNSUPPORTED known header fields (api_key, api_version,
 *                     correlation_id) are set but the API or version is not
 *                     implemented; req->api is NULL for unknown keys
 *   PROTO_MALFORMED   the frame cannot be parsed
 */
enum { PROTO_OK = 0, PROTO_UNSUPPORTED = 1, PROTO_MALFORMED = 2 };
int proto_parse_request(const uint8_t *frame, size_t len, request *req);

/*
 * Encode req->resp as a complete response frame, size prefix included.
 * The ApiVersions response always uses response header v0.
 */
void proto_encode_response(const request *req, kwriter *w);

/*
 * The ApiVersions answer for an unsupported ApiVersions request version:
 * error UNSUPPORTED_VERSION with the v0 body, so clients can retry.
 */
void proto_encode_apiversions_fallback(int32_t correlation_id, kwriter *w);

#endif
