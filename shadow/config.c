/*
 * Forwarder configuration: one table of settings. Each has a config file
 * key, an environment variable and a long option; values are applied from
 * defaults, then the file (--config or SHADOW_CONFIG), then the environment,
 * then the flags. librdkafka properties are "kafka.<property> = value" in
 * the file, SHADOW_KAFKA_<PROPERTY> is not offered (names have dots), and
 * "--kafka-prop property=value" on the command line.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define PROG "pg_kafka_shadow"

shadow_config g_shadow;

typedef enum kind { K_STR, K_INT, K_BOOL } kind;

typedef struct setting {
	const char *key;     /* config file key */
	const char *env;     /* environment variable */
	const char *flag;    /* long option without "--" */
	const char *metavar; /* argument name in --help */
	const char *dflt;
	const char *help;
	kind kind;
	void *target;
} setting;

static const setting settings[] = {
	{"pg.conninfo", "SHADOW_PG", "pg", "CONNINFO", "dbname=pg_kafka",
	 "libpq connection string of the pg_kafka database", K_STR, &g_shadow.pg_conninfo},
	{"slot", "SHADOW_SLOT", "slot", "NAME", "pg_kafka_shadow",
	 "permanent logical replication slot (created with plugin pg_kafka if missing)", K_STR,
	 &g_shadow.slot},
	{"bootstrap.servers", "SHADOW_BOOTSTRAP", "bootstrap", "HOST:PORT,...", "",
	 "external Kafka cluster (same as kafka.bootstrap.servers)", K_STR, &g_shadow.bootstrap},
	{"topics.include", "SHADOW_TOPICS_INCLUDE", "include", "T1,T2", "",
	 "mirror only these topics (empty: every topic)", K_STR, &g_shadow.topics_include},
	{"topics.exclude", "SHADOW_TOPICS_EXCLUDE", "exclude", "T1,T2", "",
	 "never mirror these topics", K_STR, &g_shadow.topics_exclude},
	{"topic.map", "SHADOW_TOPIC_MAP", "topic-map", "LOCAL:EXT,...", "",
	 "external topic names (default: the same name)", K_STR, &g_shadow.topic_map},
	{"checkpoint.topic", "SHADOW_CHECKPOINT_TOPIC", "checkpoint-topic", "NAME",
	 "__pg_kafka_shadow", "external topic (partition 0) holding forwarded positions", K_STR,
	 &g_shadow.checkpoint_topic},
	{"dedup", "SHADOW_DEDUP", "dedup", "true|false", "true",
	 "after a restart, skip records the external cluster already has (docs/SHADOW.md)", K_BOOL,
	 &g_shadow.dedup},
	{"confirm.interval.ms", "SHADOW_CONFIRM_INTERVAL_MS", "confirm-interval-ms", "MS", "200",
	 "how often to checkpoint and confirm the slot position", K_INT,
	 &g_shadow.confirm_interval_ms},
	{"status.interval.ms", "SHADOW_STATUS_INTERVAL_MS", "status-interval-ms", "MS", "5000",
	 "how often to log the status line and update kafka.shadow_partitions", K_INT,
	 &g_shadow.status_interval_ms},
	{"sql.status", "SHADOW_SQL_STATUS", "sql-status", "true|false", "true",
	 "write per-partition status to kafka.shadow_partitions (if the table exists)", K_BOOL,
	 &g_shadow.sql_status},
	{"metrics.listen", "SHADOW_METRICS_LISTEN", "metrics-listen", "HOST:PORT", "",
	 "serve Prometheus text on http://HOST:PORT/metrics (empty: off)", K_STR,
	 &g_shadow.metrics_listen},
	{"cutover.group", "SHADOW_CUTOVER", "cutover", "GROUP", "",
	 "translate GROUP's committed offsets and commit them on the external cluster, then exit",
	 K_STR, &g_shadow.cutover_group},
	{"cutover.status", "SHADOW_CUTOVER_STATUS", "cutover-status", "GROUP", "",
	 "report whether GROUP is ready for cutover (offsets, lag), then exit", K_STR,
	 &g_shadow.cutover_status},
	{"replay.topic", "SHADOW_REPLAY", "replay", "TOPIC", "",
	 "copy TOPIC's stored records to the external cluster (forwarder stopped), then exit",
	 K_STR, &g_shadow.replay_topic},
	{"replay.from", "SHADOW_REPLAY_FROM", "replay-from", "earliest|OFFSET|@TIME", "earliest",
	 "where --replay starts in each partition (@TIME: any PostgreSQL timestamptz)", K_STR,
	 &g_shadow.replay_from},
};
#define NSETTINGS ((int)(sizeof(settings) / sizeof(settings[0])))

enum { OPT_HELP = 1000, OPT_CONFIG, OPT_KAFKA_PROP, OPT_SETTING_BASE };

typedef struct rule {
	char *topic;
	char *external; /* NULL: same name */
	bool mirrored;
} rule;

static rule *rules;
static int nrules;
static bool any_mirrored_rule;

static int apply(const setting *s, const char *value, const char *source);
static int add_kafka_prop(const char *key, const char *value, const char *source);
static int load_file(const char *path);
static char *trim(char *s);
static bool in_list(const char *list, const char *name);
static void print_help(void);

int shadow_config_load(int argc, char **argv)
{
	struct option longopts[NSETTINGS + 4];
	const char *config_path = NULL;
	int nopts = 0, rc = 0;
	int *flag_setting = calloc((size_t)argc + 1, sizeof(int));
	char **flag_value = calloc((size_t)argc + 1, sizeof(char *));
	int nflags = 0;

	if (!flag_setting || !flag_value) {
		free(flag_setting);
		free(flag_value);
		return -1;
	}
	for (int i = 0; i < NSETTINGS; i++) {
		if (apply(&settings[i], settings[i].dflt, "default") < 0)
			return -1;
		longopts[nopts++] = (struct option){settings[i].flag, required_argument, NULL,
						    OPT_SETTING_BASE + i};
	}
	longopts[nopts++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	longopts[nopts++] = (struct option){"kafka-prop", required_argument, NULL, OPT_KAFKA_PROP};
	longopts[nopts++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[nopts] = (struct option){NULL, 0, NULL, 0};

	/* flags are collected first and applied last; --config names the file */
	optind = 0;
	for (;;) {
		int c = getopt_long(argc, argv, "h", longopts, NULL);
		if (c == -1)
			break;
		if (c == OPT_HELP || c == 'h') {
			print_help();
			rc = 1;
			goto out;
		} else if (c == OPT_CONFIG) {
			config_path = optarg;
		} else if (c == OPT_KAFKA_PROP ||
			   (c >= OPT_SETTING_BASE && c < OPT_SETTING_BASE + NSETTINGS)) {
			flag_setting[nflags] = c;
			flag_value[nflags] = optarg;
			nflags++;
		} else {
			fprintf(stderr, "Try '" PROG " --help' for the list of options.\n");
			rc = -1;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		rc = -1;
		goto out;
	}
	if (!config_path && getenv("SHADOW_CONFIG") && *getenv("SHADOW_CONFIG"))
		config_path = getenv("SHADOW_CONFIG");
	if (config_path && load_file(config_path) < 0) {
		rc = -1;
		goto out;
	}
	for (int i = 0; i < NSETTINGS; i++) {
		const char *v = getenv(settings[i].env);
		if (v && apply(&settings[i], v, settings[i].env) < 0) {
			rc = -1;
			goto out;
		}
	}
	for (int i = 0; i < nflags; i++) {
		if (flag_setting[i] == OPT_KAFKA_PROP) {
			char *eq = strchr(flag_value[i], '=');
			if (!eq || eq == flag_value[i]) {
				fprintf(stderr,
					PROG ": --kafka-prop wants PROPERTY=VALUE, not \"%s\"\n",
					flag_value[i]);
				rc = -1;
				goto out;
			}
			*eq = '\0';
			rc = add_kafka_prop(flag_value[i], eq + 1, "--kafka-prop");
			*eq = '=';
			if (rc < 0)
				goto out;
		} else {
			const setting *s = &settings[flag_setting[i] - OPT_SETTING_BASE];
			if (apply(s, flag_value[i], "command line") < 0) {
				rc = -1;
				goto out;
			}
		}
	}
	if (!*g_shadow.bootstrap) {
		bool found = false;
		for (int i = 0; i < g_shadow.nkafka; i++)
			found |= strcmp(g_shadow.kafka[i].key, "bootstrap.servers") == 0;
		if (!found) {
			fprintf(stderr, PROG
				": no external cluster: set bootstrap.servers (--bootstrap)\n");
			rc = -1;
			goto out;
		}
	}
	if (!*g_shadow.slot || strspn(g_shadow.slot, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
				       strlen(g_shadow.slot)) {
		fprintf(stderr, PROG ": slot names are lower case letters, digits and _\n");
		rc = -1;
	}
out:
	free(flag_setting);
	free(flag_value);
	return rc;
}

void shadow_config_free(void)
{
	for (int i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_STR) {
			free(*(char **)settings[i].target);
			*(char **)settings[i].target = NULL;
		}
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

static int apply(const setting *s, const char *value, const char *source)
{
	char *end;
	switch (s->kind) {
	case K_STR: {
		char *copy = strdup(value);
		if (!copy)
			return -1;
		free(*(char **)s->target);
		*(char **)s->target = copy;
		return 0;
	}
	case K_INT: {
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < 1 || v > INT_MAX) {
			fprintf(stderr, PROG ": %s: %s must be a positive integer, not \"%s\"\n",
				source, s->key, value);
			return -1;
		}
		*(int *)s->target = (int)v;
		return 0;
	}
	case K_BOOL:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "on") ||
		    !strcasecmp(value, "yes") || !strcmp(value, "1")) {
			*(bool *)s->target = true;
			return 0;
		}
		if (!strcasecmp(value, "false") || !strcasecmp(value, "off") ||
		    !strcasecmp(value, "no") || !strcmp(value, "0")) {
			*(bool *)s->target = false;
			return 0;
		}
		fprintf(stderr, PROG ": %s: %s must be true or false, not \"%s\"\n", source, s->key,
			value);
		return -1;
	}
	return -1;
}

static int add_kafka_prop(const char *key, const char *value, const char *source)
{
	for (int i = 0; i < g_shadow.nkafka; i++)
		if (strcmp(g_shadow.kafka[i].key, key) == 0) {
			char *v = strdup(value);
			if (!v)
				return -1;
			free(g_shadow.kafka[i].value);
			g_shadow.kafka[i].value = v;
			return 0;
		}
	shadow_kv *n = realloc(g_shadow.kafka, sizeof(*n) * (size_t)(g_shadow.nkafka + 1));
	if (!n) {
		fprintf(stderr, PROG ": %s: out of memory\n", source);
		return -1;
	}
	g_shadow.kafka = n;
	n[g_shadow.nkafka].key = strdup(key);
	n[g_shadow.nkafka].value = strdup(value);
	g_shadow.nkafka++;
	return 0;
}

static int load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], source[512];
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		snprintf(source, sizeof(source), "%s:%d", path, lineno);
		if (!eq) {
			fprintf(stderr, PROG ": %s: expected key = value\n", source);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (strncmp(key, "kafka.", 6) == 0 && key[6]) {
			rc = add_kafka_prop(key + 6, value, source);
			continue;
		}
		int i;
		for (i = 0; i < NSETTINGS; i++)
			if (strcmp(settings[i].key, key) == 0)
				break;
		if (i == NSETTINGS) {
			fprintf(stderr, PROG ": %s: unknown setting \"%s\"\n", source, key);
			rc = -1;
		} else {
			rc = apply(&settings[i], value, source);
		}
	}
	fclose(f);
	return rc;
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

static void print_help(void)
{
	printf("Usage: " PROG " [OPTIONS]\n\n"
	       "Mirror every record of pg_kafka to an external Kafka cluster (docs/SHADOW.md).\n\n"
	       "Options (config file key, environment variable, default):\n");
	for (int i = 0; i < NSETTINGS; i++) {
		const setting *s = &settings[i];
		printf("  --%s=%s\n      %s\n      [%s, %s, default \"%s\"]\n", s->flag, s->metavar,
		       s->help, s->key, s->env, s->dflt);
	}
	printf("  --kafka-prop=PROPERTY=VALUE\n"
	       "      any librdkafka producer property (SASL, TLS, compression, ...);\n"
	       "      in the config file: kafka.PROPERTY = VALUE\n"
	       "  --config=FILE\n      config file of key = value lines [SHADOW_CONFIG]\n"
	       "  --help\n      this text\n");
}
