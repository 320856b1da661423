/*
 * Topic configurations (see topic_config.h).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "config.h"
#include "topic_config.h"

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
