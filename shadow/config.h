/*
 * Forwarder configuration: one struct, filled by common/cfg.c from
 * defaults, a config file (key = value), SHADOW_* environment variables and
 * --flags, in that order.
 * Keys starting with "kafka." go to librdkafka unchanged (without the prefix).
 */
#ifndef SHADOW_CONFIG_H
#define SHADOW_CONFIG_H

#include <stdbool.h>

typedef struct shadow_kv {
	char *key;
	char *value;
} shadow_kv;

typedef struct shadow_config {
	char *pg_conninfo;       /* database with the pg_kafka extension */
	char *slot;              /* permanent logical slot, created if missing */
	char *bootstrap;         /* external cluster bootstrap.servers */
	char *topics_include;    /* comma list; empty = every topic */
	char *topics_exclude;    /* comma list */
	char *topic_map;         /* comma list of local:external */
	char *checkpoint_topic;  /* external topic holding forwarded positions */
	bool dedup;              /* skip what the external cluster already has */
	int confirm_interval_ms; /* checkpoint + confirm cadence */
	int status_interval_ms;  /* status log line + SQL status cadence */
	bool sql_status;         /* upsert kafka.shadow_partitions */
	char *metrics_listen;    /* HOST:PORT of GET /metrics; empty = off */
	char *cutover_group;     /* --cutover: translate and commit, then exit */
	char *cutover_status;    /* --cutover-status: only report */
	char *replay_topic;      /* --replay: copy a topic's history, then exit */
	char *replay_from;       /* earliest, an offset, or @timestamp */
	int start_position;      /* START_EARLIEST or START_LATEST */
	shadow_kv *kafka;        /* librdkafka properties */
	int nkafka;
} shadow_config;

/* start.position: where a partition the forwarder never mirrored starts. */
enum { START_EARLIEST = 0, START_LATEST = 1 };

extern shadow_config g_shadow;

/* The settings table, for common/cfg.c (and the tests). */
struct cfg_program;
extern const struct cfg_program shadow_config_program;

/* 0: run; 1: exit 0 (--help, --version); -1: exit 2 (bad configuration,
 * said why). */
int shadow_config_load(int argc, char **argv);
void shadow_config_free(void);

/* Topic selection and renaming; the result of map is a static-free pointer
 * into the configuration or the name itself. */
bool shadow_topic_selected(const char *topic);
const char *shadow_topic_external(const char *topic);

/* Per-topic rules from kafka.shadow_topics (read at start): a rule for the
 * topic decides; otherwise, when any rule says mirrored, only those are. */
int shadow_topic_rule(const char *topic, const char *external, bool mirrored);
void shadow_config_free_rules(void);

#endif
