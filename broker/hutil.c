/*
 * Helpers shared by the request handlers (see hutil.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "hutil.h"
#include "log.h"
#include "sqlstate.h"

char *arena_cstr(arena *a, kstr s)
{
	if (s.len <= 0)
		return arena_strndup(a, "", 0);
	return arena_strndup(a, s.ptr, (size_t)s.len);
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strndup(a, "", 0);
	if ((size_t)n < sizeof(small))
		return arena_strndup(a, small, (size_t)n);
	char *buf = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf;
}

/* More parameters than a statement holds is a programming error. */
static int params_next(params *p)
{
	if (p->n >= PARAMS_MAX) {
		log_error("statement with more than %d parameters", PARAMS_MAX);
		abort();
	}
	return p->n++;
}

void params_str(params *p, arena *a, kstr s)
{
	int i = params_next(p);
	p->values[i] = s.len < 0 ? NULL : arena_cstr(a, s);
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void params_int(params *p, arena *a, int64_t v)
{
	int i = params_next(p);
	p->values[i] = arena_printf(a, "%" PRId64, v);
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void params_bin(params *p, const void *data, int len)
{
	int i = params_next(p);
	p->values[i] = data;
	p->lengths[i] = len;
	p->formats[i] = 1;
}

db_stmt params_stmt(query_id q, const params *p, int result_format)
{
	return (db_stmt){q, p->n, p->values, p->lengths, p->formats, result_format};
}

bool topic_name_valid(kstr name)
{
	if (name.len <= 0 || name.len > 249)
		return false;
	if ((name.len == 1 && name.ptr[0] == '.') ||
	    (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
		return false;
	for (int32_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static const char *const compression_types[] = {"producer", "uncompressed", "gzip", "snappy",
						"lz4",      "zstd",         NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const cleanup_policies[] = {"delete", "compact", "compact,delete",
					       "delete,compact", NULL};
static const char *const booleans[] = {"true", "false", NULL};

/*
 * compression.type, max.message.bytes and message.timestamp.type change what
 * the broker does; the others are kept and reported so tools that set them
 * work, and are documented as not enforced (retention is PostgreSQL's job).
 */
const topic_config_def topic_config_defs[] = {
	{"cleanup.policy", "delete", CK_LIST, cleanup_policies},
	{"compression.type", "producer", CK_STRING, compression_types},
	{"max.message.bytes", NULL, CK_INT, NULL},
	{"message.timestamp.type", "CreateTime", CK_STRING, timestamp_types},
	{"min.insync.replicas", "1", CK_INT, NULL},
	{"retention.bytes", "-1", CK_LONG, NULL},
	{"retention.ms", "604800000", CK_LONG, NULL},
	{"segment.bytes", "1073741824", CK_INT, NULL},
	{"segment.ms", "604800000", CK_LONG, NULL},
	{"unclean.leader.election.enable", "false", CK_BOOL, booleans},
};
const int topic_config_count = (int)(sizeof(topic_config_defs) / sizeof(topic_config_defs[0]));

const topic_config_def *topic_config_lookup(kstr name)
{
	for (int i = 0; i < topic_config_count; i++)
		if (kstr_eq(name, topic_config_defs[i].name))
			return &topic_config_defs[i];
	return NULL;
}

const char *topic_config_default(arena *a, const topic_config_def *d)
{
	if (d->dflt)
		return d->dflt;
	return arena_printf(a, "%" PRId32, g_config.message_max_bytes);
}

const char *topic_config_check(const topic_config_def *d, kstr value)
{
	if (value.len < 0)
		return NULL; /* null: back to the default */
	if (d->allowed) {
		for (int i = 0; d->allowed[i]; i++)
			if (kstr_eq(value, d->allowed[i]))
				return NULL;
		return "invalid value";
	}
	if (d->kind == CK_INT || d->kind == CK_LONG) {
		char buf[32];
		if (value.len == 0 || value.len >= (int32_t)sizeof(buf))
			return "not a number";
		memcpy(buf, value.ptr, (size_t)value.len);
		buf[value.len] = 0;
		char *end;
		long long v = strtoll(buf, &end, 10);
		if (*end)
			return "not a number";
		if (d->kind == CK_INT && (v < -1 || v > INT32_MAX))
			return "out of range";
		if (v < -1)
			return "out of range";
	}
	return NULL;
}

bool uuid_parse(const char *s, kuuid *out)
{
	int n = 0;
	for (const char *p = s; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		int v;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return false;
		if (n % 2 == 0)
			out->b[n / 2] = (uint8_t)(v << 4);
		else
			out->b[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32;
}

char *uuid_format(arena *a, const kuuid *u)
{
	const uint8_t *b = u->b;
	return arena_printf(a,
			    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			    b[12], b[13], b[14], b[15]);
}

bool uuid_is_zero(const kuuid *u)
{
	for (int i = 0; i < 16; i++)
		if (u->b[i])
			return false;
	return true;
}

bool db_error_retriable(const char *sqlstate, bool retriable)
{
	return retriable || sqlstate_retriable(sqlstate); /* common/sqlstate.c */
}

int64_t now_ms(void)
{
	return clock_wall_ms();
}
