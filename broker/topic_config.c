/*
 * Topic configurations (see topic_config.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "config.h"
#include "topic_config.h"

static const char *const compression_types[] = {"producer", "uncompressed", "gzip", "snappy",
						"lz4",      "zstd",         NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const cleanup_policies[] = {"delete", "compact", NULL};
static const char *const booleans[] = {"true", "false", NULL};

#define NO_MIN INT64_MIN

/*
 * Kafka's topic configs (LogConfig), with its defaults and lower bounds,
 * sorted by name (CreateTopics answers them in this order).
 * compression.type, max.message.bytes, message.timestamp.type and the two
 * message.timestamp.*.max.ms change what the broker does; the others are
 * kept and reported so tools that set them work, and are documented as not
 * enforced (retention and compaction are PostgreSQL's job).
 */
const topic_config_def topic_config_defs[] = {
	{"cleanup.policy", "delete", CK_LIST, cleanup_policies, NO_MIN},
	{"compression.type", "producer", CK_STRING, compression_types, NO_MIN},
	{"delete.retention.ms", "86400000", CK_LONG, NULL, 0},
	{"max.compaction.lag.ms", "9223372036854775807", CK_LONG, NULL, 1},
	{"max.message.bytes", NULL, CK_INT, NULL, 0},
	{"message.timestamp.after.max.ms", "9223372036854775807", CK_LONG, NULL, 0},
	{"message.timestamp.before.max.ms", "9223372036854775807", CK_LONG, NULL, 0},
	{"message.timestamp.type", "CreateTime", CK_STRING, timestamp_types, NO_MIN},
	{"min.compaction.lag.ms", "0", CK_LONG, NULL, 0},
	{"min.insync.replicas", "1", CK_INT, NULL, 1},
	{"retention.bytes", NULL, CK_LONG, NULL, NO_MIN},
	{"retention.ms", NULL, CK_LONG, NULL, -1},
	{"segment.bytes", NULL, CK_INT, NULL, 14},
	{"segment.ms", NULL, CK_LONG, NULL, 1},
	{"unclean.leader.election.enable", "false", CK_BOOL, booleans, NO_MIN},
};
const int topic_config_count = (int)(sizeof(topic_config_defs) / sizeof(topic_config_defs[0]));

const topic_config_def *topic_config_lookup(kstr name)
{
	for (int i = 0; i < topic_config_count; i++)
		if (kstr_eq(name, topic_config_defs[i].name))
			return &topic_config_defs[i];
	return NULL;
}

/* A NULL default is the broker's setting of the same meaning: message.max.bytes,
 * or the log.* settings the storage job applies (maintenance.c). */
const char *topic_config_default(arena *a, const topic_config_def *d)
{
	if (d->dflt)
		return d->dflt;
	if (strcmp(d->name, "retention.bytes") == 0)
		return arena_printf(a, "%" PRId64, g_config.log_retention_bytes);
	if (strcmp(d->name, "retention.ms") == 0)
		return arena_printf(a, "%" PRId64, g_config.log_retention_ms);
	if (strcmp(d->name, "segment.bytes") == 0)
		return arena_printf(a, "%" PRId32, g_config.log_segment_bytes);
	if (strcmp(d->name, "segment.ms") == 0)
		return arena_printf(a, "%" PRId64, g_config.log_roll_ms);
	return arena_printf(a, "%" PRId32, g_config.message_max_bytes);
}

static bool allowed(const char *const *list, const char *p, size_t n)
{
	for (int i = 0; list[i]; i++)
		if (strlen(list[i]) == n && memcmp(list[i], p, n) == 0)
			return true;
	return false;
}

void config_list_init(config_list_iter *it, kstr list)
{
	it->p = list.ptr;
	it->end = list.len > 0 ? list.ptr + list.len : list.ptr;
	it->done = list.len < 0;
}

bool config_list_next(config_list_iter *it, kstr *el)
{
	if (it->done)
		return false;
	const char *comma = memchr(it->p, ',', (size_t)(it->end - it->p));
	const char *a = it->p, *b = comma ? comma : it->end;
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	*el = (kstr){a, (int32_t)(b - a)};
	if (comma)
		it->p = comma + 1;
	else
		it->done = true;
	return true;
}

bool config_list_has(kstr list, kstr e)
{
	config_list_iter it;
	kstr el;

	for (config_list_init(&it, list); config_list_next(&it, &el);)
		if (kstr_eqk(el, e))
			return true;
	return false;
}

/* Every element of a CK_LIST value is one of list's. */
static bool list_allowed(const char *const *list, kstr value)
{
	config_list_iter it;
	kstr el;

	for (config_list_init(&it, value); config_list_next(&it, &el);)
		if (!allowed(list, el.ptr, (size_t)el.len))
			return false;
	return true;
}

const char *topic_config_check(const topic_config_def *d, kstr value)
{
	if (value.len < 0)
		return "null value not supported for topic configs";
	if (d->kind == CK_LIST)
		return list_allowed(d->allowed, value) ? NULL : "invalid value";
	if (d->allowed)
		return allowed(d->allowed, value.ptr, (size_t)value.len) ? NULL : "invalid value";
	if (d->kind == CK_INT || d->kind == CK_LONG) {
		char buf[32];
		if (value.len == 0 || value.len >= (int32_t)sizeof(buf))
			return "not a number";
		memcpy(buf, value.ptr, (size_t)value.len);
		buf[value.len] = 0;
		char *end;
		errno = 0;
		long long v = strtoll(buf, &end, 10);
		while (*end == ' ')
			end++;
		/* The whole value: a NUL byte inside it ends strtoll early. */
		if (end != buf + value.len || errno == ERANGE)
			return "not a number";
		if (d->kind == CK_INT && (v < INT32_MIN || v > INT32_MAX))
			return "not a number";
		if (v < d->min)
			return "value out of range";
	}
	return NULL;
}
