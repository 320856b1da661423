/*
 * Forwarder configuration: the settings[] table below describes every
 * setting once (config file key, environment variable, option, default,
 * help, type and range); common/cfg.c loads it (defaults, config file from
 * --config or SHADOW_CONFIG, environment, options) and prints --help and
 * --version, the same way as for the broker. librdkafka properties are
 * "kafka.<property> = value" in the file and "--kafka-prop property=value"
 * on the command line (SHADOW_KAFKA_<PROPERTY> is not offered: names have
 * dots). This file adds the checks across settings and topic selection.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "config.h"

#define PROG "pg_kafka_shadow"

shadow_config g_shadow;

static int set_kafka_prop(const char *v, char *why, size_t whylen);
static int add_kafka_prop(const char *key, const char *value, char *why, size_t whylen);

static const cfg_name start_positions[] = {
	{"earliest", START_EARLIEST}, {"latest", START_LATEST}, {NULL, 0}};

#define POSITIVE_INT(target_) .type = CFG_INT, .target = (target_), .min = 1, .max = INT_MAX

static const cfg_setting settings[] = {
	{"pg.conninfo", "SHADOW_PG", "pg", "CONNINFO", "dbname=pg_kafka", NULL,
	 "libpq connection string of the pg_kafka database", CFG_STR,
	 .target = &g_shadow.pg_conninfo},
	{"slot", "SHADOW_SLOT", "slot", "NAME", "pg_kafka_shadow", NULL,
	 "permanent logical replication slot (created with plugin pg_kafka if missing)", CFG_STR,
	 .target = &g_shadow.slot},
	{"bootstrap.servers", "SHADOW_BOOTSTRAP", "bootstrap", "HOST:PORT,...", "", NULL,
	 "external Kafka cluster (same as kafka.bootstrap.servers)", CFG_STR,
	 .target = &g_shadow.bootstrap},
	{"topics.include", "SHADOW_TOPICS_INCLUDE", "include", "T1,T2", "", NULL,
	 "mirror only these topics (empty: every topic)", CFG_STR,
	 .target = &g_shadow.topics_include},
	{"topics.exclude", "SHADOW_TOPICS_EXCLUDE", "exclude", "T1,T2", "", NULL,
	 "never mirror these topics", CFG_STR, .target = &g_shadow.topics_exclude},
	{"topic.map", "SHADOW_TOPIC_MAP", "topic-map", "LOCAL:EXT,...", "", NULL,
	 "external topic names (default: the same name)", CFG_STR, .target = &g_shadow.topic_map},
	{"checkpoint.topic", "SHADOW_CHECKPOINT_TOPIC", "checkpoint-topic", "NAME",
	 "__pg_kafka_shadow", NULL, "external topic (partition 0) holding forwarded positions",
	 CFG_STR, .target = &g_shadow.checkpoint_topic},
	{"start.position", "SHADOW_START_POSITION", "start-position", "earliest|latest", "earliest",
	 NULL,
	 "a partition never mirrored before: copy its stored history first (earliest), or start "
	 "at its current end (latest)",
	 CFG_ENUM, .target = &g_shadow.start_position, .names = start_positions},
	{"dedup", "SHADOW_DEDUP", "dedup", "true|false", "true", NULL,
	 "after a restart, skip records the external cluster already has (docs/SHADOW.md)",
	 CFG_BOOL, .target = &g_shadow.dedup},
	{"confirm.interval.ms", "SHADOW_CONFIRM_INTERVAL_MS", "confirm-interval-ms", "MS", "200",
	 NULL, "how often to checkpoint and confirm the slot position",
	 POSITIVE_INT(&g_shadow.confirm_interval_ms)},
	{"status.interval.ms", "SHADOW_STATUS_INTERVAL_MS", "status-interval-ms", "MS", "5000",
	 NULL, "how often to log the status line and update kafka.shadow_partitions",
	 POSITIVE_INT(&g_shadow.status_interval_ms)},
	{"sql.status", "SHADOW_SQL_STATUS", "sql-status", "true|false", "true", NULL,
	 "write per-partition status to kafka.shadow_partitions (if the table exists)", CFG_BOOL,
	 .target = &g_shadow.sql_status},
	{"metrics.listen", "SHADOW_METRICS_LISTEN", "metrics-listen", "[HOST:]PORT", "", NULL,
	 "serve Prometheus text on http://HOST:PORT/metrics; a PORT alone is on 127.0.0.1 "
	 "(empty: off)", CFG_STR,
	 .target = &g_shadow.metrics_listen},
	{"cutover.group", "SHADOW_CUTOVER", "cutover", "GROUP", "", NULL,
	 "translate GROUP's committed offsets and commit them on the external cluster, then exit",
	 CFG_STR, .target = &g_shadow.cutover_group},
	{"cutover.status", "SHADOW_CUTOVER_STATUS", "cutover-status", "GROUP", "", NULL,
	 "report whether GROUP is ready for cutover (offsets, lag), then exit", CFG_STR,
	 .target = &g_shadow.cutover_status},
	{"replay.topic", "SHADOW_REPLAY", "replay", "TOPIC", "", NULL,
	 "copy TOPIC's stored records again (a range, with --replay-from; the slot must exist), "
	 "then exit",
	 CFG_STR, .target = &g_shadow.replay_topic},
	{"replay.from", "SHADOW_REPLAY_FROM", "replay-from", "earliest|OFFSET|@TIME", "earliest",
	 NULL, "where --replay starts in each partition (@TIME: any PostgreSQL timestamptz)",
	 CFG_STR, .target = &g_shadow.replay_from},
	{NULL, NULL, "kafka-prop", "PROPERTY=VALUE", NULL, NULL,
	 "any librdkafka producer property (SASL, TLS, compression, ...); repeatable; in the "
	 "config file: kafka.PROPERTY = VALUE",
	 CFG_CUSTOM, .set = set_kafka_prop},
};

const cfg_program shadow_config_program = {
	.name = PROG,
	.version = PGK_VERSION,
	.summary = "Mirror every record of pg_kafka to an external Kafka cluster (docs/SHADOW.md).",
	.config_env = "SHADOW_CONFIG",
	.settings = settings,
	.nsettings = (int)(sizeof(settings) / sizeof(settings[0])),
	.prefix = "kafka.",
	.set_prefixed = add_kafka_prop,
};

typedef struct rule {
	char *topic;
	char *external; /* NULL: same name */
	bool mirrored;
} rule;

static rule *rules;
static int nrules;
static bool any_mirrored_rule;

static char *trim(char *s);
static bool in_list(const char *list, const char *name);

int shadow_config_load(int argc, char **argv)
{
	shadow_config_free();
	int rc = cfg_load(&shadow_config_program, argc, argv, NULL);
	if (rc != 0)
		return rc;
	if (!*g_shadow.bootstrap) {
		bool found = false;
		for (int i = 0; i < g_shadow.nkafka; i++)
			found |= strcmp(g_shadow.kafka[i].key, "bootstrap.servers") == 0;
		if (!found) {
			fprintf(stderr, PROG
				": no external cluster: set bootstrap.servers (--bootstrap)\n");
			return -1;
		}
	}
	if (!*g_shadow.slot || strspn(g_shadow.slot, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
				       strlen(g_shadow.slot)) {
		fprintf(stderr, PROG ": slot names are lower case letters, digits and _\n");
		return -1;
	}
	return 0;
}

void shadow_config_free(void)
{
	cfg_free(&shadow_config_program);
	for (int i = 0; i < g_shadow.nkafka; i++) {
		free(g_shadow.kafka[i].key);
		free(g_shadow.kafka[i].value);
	}
	free(g_shadow.kafka);
	g_shadow.kafka = NULL;
	g_shadow.nkafka = 0;
	shadow_config_free_rules();
}

void shadow_config_free_rules(void)
{
	for (int i = 0; i < nrules; i++) {
		free(rules[i].topic);
		free(rules[i].external);
	}
	free(rules);
	rules = NULL;
	nrules = 0;
	any_mirrored_rule = false;
}

int shadow_topic_rule(const char *topic, const char *external, bool mirrored)
{
	rule *n = realloc(rules, sizeof(*n) * (size_t)(nrules + 1));
	if (!n)
		return -1;
	rules = n;
	n[nrules].topic = strdup(topic);
	n[nrules].external = external && *external ? strdup(external) : NULL;
	n[nrules].mirrored = mirrored;
	nrules++;
	any_mirrored_rule |= mirrored;
	return 0;
}

static const rule *find_rule(const char *topic)
{
	for (int i = 0; i < nrules; i++)
		if (strcmp(rules[i].topic, topic) == 0)
			return &rules[i];
	return NULL;
}

bool shadow_topic_selected(const char *topic)
{
	const rule *r = find_rule(topic);
	if (r && !r->mirrored)
		return false;
	if (!r && any_mirrored_rule)
		return false;
	if (*g_shadow.topics_include && !in_list(g_shadow.topics_include, topic))
		return false;
	return !in_list(g_shadow.topics_exclude, topic);
}

const char *shadow_topic_external(const char *topic)
{
	/* "a:b,c:d": find "topic:" at the start of an entry */
	static char buf[256];
	size_t tl = strlen(topic);
	const rule *r = find_rule(topic);
	if (r && r->external)
		return r->external;
	const char *p = g_shadow.topic_map;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > tl + 1 && strncmp(p, topic, tl) == 0 && p[tl] == ':' &&
		    len - tl - 1 < sizeof(buf)) {
			memcpy(buf, p + tl + 1, len - tl - 1);
			buf[len - tl - 1] = '\0';
			return trim(buf);
		}
		p = end;
	}
	return topic;
}

/* ---- helpers ---- */

/* --kafka-prop PROPERTY=VALUE */
static int set_kafka_prop(const char *v, char *why, size_t whylen)
{
	const char *eq = strchr(v, '=');
	if (!eq || eq == v) {
		snprintf(why, whylen, "expected PROPERTY=VALUE");
		return -1;
	}
	char *key = strndup(v, (size_t)(eq - v));
	if (!key) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	int rc = add_kafka_prop(key, eq + 1, why, whylen);
	free(key);
	return rc;
}

/* A librdkafka property; a later value of the same one replaces it. */
static int add_kafka_prop(const char *key, const char *value, char *why, size_t whylen)
{
	for (int i = 0; i < g_shadow.nkafka; i++)
		if (strcmp(g_shadow.kafka[i].key, key) == 0) {
			char *v = strdup(value);
			if (!v)
				goto oom;
			free(g_shadow.kafka[i].value);
			g_shadow.kafka[i].value = v;
			return 0;
		}
	shadow_kv *n = realloc(g_shadow.kafka, sizeof(*n) * (size_t)(g_shadow.nkafka + 1));
	if (!n)
		goto oom;
	g_shadow.kafka = n;
	n[g_shadow.nkafka].key = strdup(key);
	n[g_shadow.nkafka].value = strdup(value);
	g_shadow.nkafka++;
	return 0;
oom:
	snprintf(why, whylen, "out of memory");
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool in_list(const char *list, const char *name)
{
	size_t nl = strlen(name);
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p + strcspn(p, ",");
		const char *e = end;
		while (e > p && e[-1] == ' ')
			e--;
		if ((size_t)(e - p) == nl && strncmp(p, name, nl) == 0)
			return true;
		p = end;
	}
	return false;
}
