/*
 * Broker configuration: the settings[] table below describes every setting
 * once (config file key, environment variable, option, default, help, type
 * and range); common/cfg.c loads it (defaults, config file from --config
 * or PGK_CONFIG, environment, options) and prints --help and --version.
 * This file adds what is the broker's own: host:port values and the
 * advertised address that follows the listen address unless given.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "config.h"
#include "log.h"

#define PROG "pg_kafka"

/* Defaults that --help prints and set_defaults() applies. */
#define DEF_CONNINFO "dbname=pg_kafka"
#define DEF_LISTEN_HOST "0.0.0.0"
#define DEF_LISTEN_PORT 9092
#define DEF_NODE_ID 1
#define DEF_CLUSTER_ID "pg-kafka-cluster"
#define DEF_POOL_SIZE 4
#define DEF_MAX_REQUEST_BYTES 104857600
#define DEF_NUM_PARTITIONS 1
#define DEF_MESSAGE_MAX_BYTES 1048588
#define DEF_FETCH_MAX_BYTES 52428800
#define DEF_FETCH_READAHEAD_MAX_BYTES 67108864
#define DEF_LOG_LEVEL LOG_INFO
#define DEF_GROUP_INITIAL_REBALANCE_DELAY_MS 100
#define DEF_TRANSACTION_MAX_TIMEOUT_MS 900000
#define DEF_TXN_ABORT_CLEANUP_INTERVAL_MS 10000

#define STR_(x) #x
#define STR(x) STR_(x)

config g_config = {
	.listen_port = DEF_LISTEN_PORT,
	.node_id = DEF_NODE_ID,
	.pool_size = DEF_POOL_SIZE,
	.max_request_bytes = DEF_MAX_REQUEST_BYTES,
	.num_partitions = DEF_NUM_PARTITIONS,
	.auto_create_topics = true,
	.message_max_bytes = DEF_MESSAGE_MAX_BYTES,
	.fetch_max_bytes_cap = DEF_FETCH_MAX_BYTES,
	.fetch_readahead_max_bytes = DEF_FETCH_READAHEAD_MAX_BYTES,
	.log_level = DEF_LOG_LEVEL,
	.group_initial_rebalance_delay_ms = DEF_GROUP_INITIAL_REBALANCE_DELAY_MS,
	.transaction_max_timeout_ms = DEF_TRANSACTION_MAX_TIMEOUT_MS,
	.txn_abort_timed_out_cleanup_interval_ms = DEF_TXN_ABORT_CLEANUP_INTERVAL_MS,
	.stream_enabled = true,
};

/* Whether the advertised address was given, or follows the listen address. */
static bool advertised_host_set;
static bool advertised_port_set;

static int set_listen(const char *v, char *why, size_t whylen);
static int set_listen_host(const char *v, char *why, size_t whylen);
static int set_advertised(const char *v, char *why, size_t whylen);
static int set_advertised_host(const char *v, char *why, size_t whylen);
static int set_advertised_port(const char *v, char *why, size_t whylen);
static int set_cluster_id(const char *v, char *why, size_t whylen);
static int set_metrics_listen(const char *v, char *why, size_t whylen);

static const cfg_name log_levels[] = {
	{"error", LOG_ERROR}, {"warn", LOG_WARN}, {"warning", LOG_WARN}, {"info", LOG_INFO},
	{"debug", LOG_DEBUG}, {"0", LOG_ERROR},   {"1", LOG_WARN},       {"2", LOG_INFO},
	{"3", LOG_DEBUG},     {NULL, 0},
};

#define INT_SETTING(target_, min_, max_)                                                           \
	.type = CFG_INT, .target = (target_), .min = (min_), .max = (max_)

static const cfg_setting settings[] = {
	{"pg.conninfo", "PGK_PG", "pg", "CONNINFO", DEF_CONNINFO, NULL,
	 "libpq connection string of the PostgreSQL database", CFG_STR,
	 .target = &g_config.pg_conninfo},
	{"listen", "PGK_LISTEN", "listen", "HOST:PORT", DEF_LISTEN_HOST ":" STR(DEF_LISTEN_PORT),
	 NULL, "address to accept Kafka clients on ([ADDR]:PORT for IPv6)", CFG_CUSTOM,
	 .set = set_listen},
	{"listen.host", NULL, NULL, "HOST", NULL, DEF_LISTEN_HOST, "host part of listen",
	 CFG_CUSTOM, .set = set_listen_host},
	{"listen.port", NULL, NULL, "PORT", NULL, STR(DEF_LISTEN_PORT), "port part of listen",
	 INT_SETTING(&g_config.listen_port, 1, 65535)},
	{"advertised", "PGK_ADVERTISED", "advertised", "HOST:PORT", NULL,
	 "listen address; localhost if that is 0.0.0.0",
	 "address clients are told to connect to (Metadata)", CFG_CUSTOM, .set = set_advertised},
	{"advertised.host", NULL, NULL, "HOST", NULL, "see advertised", "host part of advertised",
	 CFG_CUSTOM, .set = set_advertised_host},
	{"advertised.port", NULL, NULL, "PORT", NULL, "see advertised", "port part of advertised",
	 CFG_CUSTOM, .set = set_advertised_port},
	{"node.id", "PGK_NODE_ID", "node-id", "N", STR(DEF_NODE_ID), NULL,
	 "broker id, unique among the brokers of one database",
	 INT_SETTING(&g_config.node_id, 0, INT32_MAX)},
	{"cluster.id", "PGK_CLUSTER_ID", "cluster-id", "ID", DEF_CLUSTER_ID, NULL,
	 "cluster id reported to clients", CFG_CUSTOM, .set = set_cluster_id},
	{"pg.pool.size", "PGK_POOL_SIZE", "pool-size", "N", STR(DEF_POOL_SIZE), NULL,
	 "number of PostgreSQL connections", INT_SETTING(&g_config.pool_size, 1, 1000)},
	{"socket.request.max.bytes", "PGK_MAX_REQUEST_BYTES", "max-request-bytes", "N",
	 STR(DEF_MAX_REQUEST_BYTES), NULL,
	 "largest request frame accepted; larger ones close the connection",
	 INT_SETTING(&g_config.max_request_bytes, 64, INT32_MAX)},
	{"num.partitions", "PGK_NUM_PARTITIONS", "num-partitions", "N", STR(DEF_NUM_PARTITIONS),
	 NULL, "partitions of auto-created topics",
	 INT_SETTING(&g_config.num_partitions, 1, 100000)},
	{"auto.create.topics.enable", "PGK_AUTO_CREATE_TOPICS", "auto-create-topics", "true|false",
	 "true", NULL, "create a topic when a client first uses it", CFG_BOOL,
	 .target = &g_config.auto_create_topics},
	{"message.max.bytes", "PGK_MESSAGE_MAX_BYTES", "message-max-bytes", "N",
	 STR(DEF_MESSAGE_MAX_BYTES), NULL, "largest record batch accepted by Produce",
	 INT_SETTING(&g_config.message_max_bytes, 1, INT32_MAX)},
	{"fetch.max.bytes", "PGK_FETCH_MAX_BYTES", "fetch-max-bytes", "N", STR(DEF_FETCH_MAX_BYTES),
	 NULL, "upper bound on the size of one Fetch response",
	 INT_SETTING(&g_config.fetch_max_bytes_cap, 1024, INT32_MAX)},
	{"fetch.readahead.max.bytes", "PGK_FETCH_READAHEAD_MAX_BYTES", "fetch-readahead-max-bytes",
	 "N", STR(DEF_FETCH_READAHEAD_MAX_BYTES), NULL,
	 "memory for reading ahead of consumers that are catching up; 0 turns it off",
	 INT_SETTING(&g_config.fetch_readahead_max_bytes, 0, INT32_MAX)},
	{"log.level", "PGK_LOG_LEVEL", "log-level", "error|warn|info|debug", "info", NULL,
	 "least severe level logged", CFG_ENUM, .target = &g_config.log_level, .names = log_levels},
	{"group.initial.rebalance.delay.ms", "PGK_GROUP_INITIAL_REBALANCE_DELAY_MS",
	 "group-initial-rebalance-delay-ms", "MS", STR(DEF_GROUP_INITIAL_REBALANCE_DELAY_MS), NULL,
	 "how long a new consumer group waits for more members before its first rebalance",
	 INT_SETTING(&g_config.group_initial_rebalance_delay_ms, 0, 300000)},
	{"transaction.max.timeout.ms", "PGK_TRANSACTION_MAX_TIMEOUT_MS",
	 "transaction-max-timeout-ms", "MS", STR(DEF_TRANSACTION_MAX_TIMEOUT_MS), NULL,
	 "longest transaction timeout a transactional producer may ask for",
	 INT_SETTING(&g_config.transaction_max_timeout_ms, 1, INT32_MAX)},
	{"transaction.abort.timed.out.transaction.cleanup.interval.ms",
	 "PGK_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS",
	 "transaction-abort-cleanup-interval-ms", "MS", STR(DEF_TXN_ABORT_CLEANUP_INTERVAL_MS),
	 NULL, "how often transactions past their timeout are looked for and aborted",
	 INT_SETTING(&g_config.txn_abort_timed_out_cleanup_interval_ms, 1, INT32_MAX)},
	{"stream.enabled", "PGK_STREAM_ENABLED", "stream-enabled", "true|false", "true", NULL,
	 "wake long-polling fetches from a logical decoding stream (records written by any "
	 "broker or by SQL)",
	 CFG_BOOL, .target = &g_config.stream_enabled},
	{"metrics.listen", "PGK_METRICS_LISTEN", "metrics-listen", "HOST:PORT", "", "off",
	 "serve Prometheus /metrics, /healthz and /readyz over HTTP on this address "
	 "(make run: 127.0.0.1:9404); empty: off",
	 CFG_CUSTOM, .set = set_metrics_listen},
};

const cfg_program config_program = {
	.name = PROG,
	.version = PGK_VERSION,
	.summary = "A Kafka broker that keeps its records in PostgreSQL.",
	.config_env = "PGK_CONFIG",
	.settings = settings,
	.nsettings = (int)(sizeof(settings) / sizeof(settings[0])),
	.epilog = "Example: " PROG " --pg 'host=/var/run/postgresql dbname=kafka' "
		  "--listen 0.0.0.0:9092 --advertised broker1.example.com:9092",
};

static void finish(void);
static int parse_hostport(const char *v, char **host, int *port, bool *port_given, char *why,
			  size_t whylen);
static void replace_str(char **dst, const char *src);
static bool is_wildcard_host(const char *h);

int config_load(int argc, char **argv)
{
	int rc;

	config_free();
	advertised_host_set = false;
	advertised_port_set = false;
	g_config.advertised_port = 0;
	rc = cfg_load(&config_program, argc, argv, &g_config.config_file);
	if (rc == 0)
		finish();
	return rc;
}

void config_free(void)
{
	cfg_free(&config_program);
	free(g_config.listen_host);
	free(g_config.advertised_host);
	free(g_config.cluster_id);
	free(g_config.metrics_host);
	free(g_config.config_file);
	g_config.listen_host = NULL;
	g_config.advertised_host = NULL;
	g_config.cluster_id = NULL;
	g_config.metrics_host = NULL;
	g_config.config_file = NULL;
}

/* Settings that depend on others, once every source has been read. */
static void finish(void)
{
	if (!g_config.listen_host || !*g_config.listen_host)
		replace_str(&g_config.listen_host, DEF_LISTEN_HOST);
	if (!advertised_host_set || !g_config.advertised_host || !*g_config.advertised_host) {
		if (is_wildcard_host(g_config.listen_host))
			replace_str(&g_config.advertised_host, "localhost");
		else
			replace_str(&g_config.advertised_host, g_config.listen_host);
	}
	if (!advertised_port_set)
		g_config.advertised_port = g_config.listen_port;
}

/* ---- setters ---- */

static int set_listen(const char *v, char *why, size_t whylen)
{
	char *host;
	int port;
	bool port_given;

	if (parse_hostport(v, &host, &port, &port_given, why, whylen) < 0)
		return -1;
	free(g_config.listen_host);
	g_config.listen_host = host;
	if (port_given)
		g_config.listen_port = port;
	return 0;
}

static int set_listen_host(const char *v, char *why, size_t whylen)
{
	if (v[0] == '[') {
		snprintf(why, whylen, "write an IPv6 address without brackets here");
		return -1;
	}
	replace_str(&g_config.listen_host, v);
	return 0;
}

static int set_advertised(const char *v, char *why, size_t whylen)
{
	char *host;
	int port;
	bool port_given;

	if (parse_hostport(v, &host, &port, &port_given, why, whylen) < 0)
		return -1;
	free(g_config.advertised_host);
	g_config.advertised_host = host;
	advertised_host_set = *host != '\0';
	if (port_given) {
		g_config.advertised_port = port;
		advertised_port_set = true;
	}
	return 0;
}

static int set_advertised_host(const char *v, char *why, size_t whylen)
{
	if (v[0] == '[') {
		snprintf(why, whylen, "write an IPv6 address without brackets here");
		return -1;
	}
	replace_str(&g_config.advertised_host, v);
	advertised_host_set = *v != '\0';
	return 0;
}

static int set_advertised_port(const char *v, char *why, size_t whylen)
{
	long n;
	if (cfg_parse_long(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	g_config.advertised_port = (int)n;
	advertised_port_set = true;
	return 0;
}

static int set_cluster_id(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);

	if (len == 0 || len > 255) {
		snprintf(why, whylen, "expected 1 to 255 characters");
		return -1;
	}
	for (const char *p = v; *p; p++) {
		if (!isgraph((unsigned char)*p)) {
			snprintf(why, whylen,
				 "only printable characters without spaces are allowed");
			return -1;
		}
	}
	replace_str(&g_config.cluster_id, v);
	return 0;
}

static int set_metrics_listen(const char *v, char *why, size_t whylen)
{
	char *host;
	int port;
	bool port_given;

	if (!*v) {
		free(g_config.metrics_host);
		g_config.metrics_host = NULL;
		return 0;
	}
	if (parse_hostport(v, &host, &port, &port_given, why, whylen) < 0)
		return -1;
	if (!port_given || !*host) {
		free(host);
		snprintf(why, whylen, "expected HOST:PORT, such as 127.0.0.1:9404");
		return -1;
	}
	free(g_config.metrics_host);
	g_config.metrics_host = host;
	g_config.metrics_port = port;
	return 0;
}

/* ---- helpers ---- */

/*
 * "host:port", "[ipv6]:port", ":port" (host left empty) or "host" (port not
 * given). The host is returned malloc'd, without brackets.
 */
static int parse_hostport(const char *v, char **host, int *port, bool *port_given, char *why,
			  size_t whylen)
{
	const char *host_start, *host_end, *port_str = NULL;
	long n;

	*port_given = false;
	if (v[0] == '[') {
		host_start = v + 1;
		host_end = strchr(host_start, ']');
		if (!host_end) {
			snprintf(why, whylen, "missing ']' after IPv6 address");
			return -1;
		}
		if (host_end[1] == ':')
			port_str = host_end + 2;
		else if (host_end[1] != '\0') {
			snprintf(why, whylen, "expected [ADDRESS]:PORT");
			return -1;
		}
	} else {
		const char *colon = strrchr(v, ':');
		host_start = v;
		if (colon && strchr(v, ':') != colon) {
			snprintf(why, whylen, "write IPv6 addresses in brackets: [ADDRESS]:PORT");
			return -1;
		}
		host_end = colon ? colon : v + strlen(v);
		if (colon)
			port_str = colon + 1;
	}
	for (const char *p = host_start; p < host_end; p++) {
		if (isspace((unsigned char)*p) || *p == '/' || !isprint((unsigned char)*p)) {
			snprintf(why, whylen, "invalid character in host name");
			return -1;
		}
	}
	if (port_str) {
		if (cfg_parse_long(port_str, 1, 65535, &n, why, whylen) < 0) {
			snprintf(why, whylen, "expected HOST:PORT with a port from 1 to 65535");
			return -1;
		}
		*port = (int)n;
		*port_given = true;
	}
	*host = strndup(host_start, (size_t)(host_end - host_start));
	if (!*host) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

static void replace_str(char **dst, const char *src)
{
	char *copy = strdup(src);
	if (!copy) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	free(*dst);
	*dst = copy;
}

static bool is_wildcard_host(const char *h)
{
	return !h || !*h || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}
