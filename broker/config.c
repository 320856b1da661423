/*
 * Broker configuration.
 *
 * Every setting is described once in the settings[] table: its config file
 * key, its environment variable, its command-line flag, its default as shown
 * by --help, and the function that validates and stores a value. Loading
 * walks that table four times, each source overriding the previous one:
 * defaults, the config file (--config FILE or PGK_CONFIG), the environment,
 * then the flags. An invalid value anywhere stops the broker with a message
 * naming the setting and where the value came from.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"

#ifndef PGK_VERSION
#define PGK_VERSION "0.1.0"
#endif

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

/* A setter validates value and stores it in g_config; on error it returns
 * -1 and describes the expected form in why. */
typedef int (*setter_fn)(const char *value, char *why, size_t whylen);

typedef struct setting {
	const char *key;     /* config file key */
	const char *env;     /* environment variable, or NULL */
	const char *flag;    /* long option without "--", or NULL */
	const char *metavar; /* argument name in --help */
	const char *dflt;    /* default as shown by --help */
	const char *help;
	setter_fn set;
} setting;

static int set_conninfo(const char *v, char *why, size_t whylen);
static int set_listen(const char *v, char *why, size_t whylen);
static int set_listen_host(const char *v, char *why, size_t whylen);
static int set_listen_port(const char *v, char *why, size_t whylen);
static int set_advertised(const char *v, char *why, size_t whylen);
static int set_advertised_host(const char *v, char *why, size_t whylen);
static int set_advertised_port(const char *v, char *why, size_t whylen);
static int set_node_id(const char *v, char *why, size_t whylen);
static int set_cluster_id(const char *v, char *why, size_t whylen);
static int set_pool_size(const char *v, char *why, size_t whylen);
static int set_max_request_bytes(const char *v, char *why, size_t whylen);
static int set_num_partitions(const char *v, char *why, size_t whylen);
static int set_auto_create_topics(const char *v, char *why, size_t whylen);
static int set_message_max_bytes(const char *v, char *why, size_t whylen);
static int set_fetch_max_bytes(const char *v, char *why, size_t whylen);
static int set_fetch_readahead_max_bytes(const char *v, char *why, size_t whylen);
static int set_log_level(const char *v, char *why, size_t whylen);
static int set_group_initial_rebalance_delay(const char *v, char *why, size_t whylen);
static int set_transaction_max_timeout(const char *v, char *why, size_t whylen);
static int set_txn_abort_cleanup_interval(const char *v, char *why, size_t whylen);
static int set_stream_enabled(const char *v, char *why, size_t whylen);

static const setting settings[] = {
	{"pg.conninfo", "PGK_PG", "pg", "CONNINFO", DEF_CONNINFO,
	 "libpq connection string of the PostgreSQL database", set_conninfo},
	{"listen", "PGK_LISTEN", "listen", "HOST:PORT", DEF_LISTEN_HOST ":" STR(DEF_LISTEN_PORT),
	 "address to accept Kafka clients on ([ADDR]:PORT for IPv6)", set_listen},
	{"listen.host", NULL, NULL, "HOST", DEF_LISTEN_HOST, "host part of listen",
	 set_listen_host},
	{"listen.port", NULL, NULL, "PORT", STR(DEF_LISTEN_PORT), "port part of listen",
	 set_listen_port},
	{"advertised", "PGK_ADVERTISED", "advertised", "HOST:PORT",
	 "listen address; localhost if that is 0.0.0.0",
	 "address clients are told to connect to (Metadata)", set_advertised},
	{"advertised.host", NULL, NULL, "HOST", "see advertised", "host part of advertised",
	 set_advertised_host},
	{"advertised.port", NULL, NULL, "PORT", "see advertised", "port part of advertised",
	 set_advertised_port},
	{"node.id", "PGK_NODE_ID", "node-id", "N", STR(DEF_NODE_ID),
	 "broker id, unique among the brokers of one database", set_node_id},
	{"cluster.id", "PGK_CLUSTER_ID", "cluster-id", "ID", DEF_CLUSTER_ID,
	 "cluster id reported to clients", set_cluster_id},
	{"pg.pool.size", "PGK_POOL_SIZE", "pool-size", "N", STR(DEF_POOL_SIZE),
	 "number of PostgreSQL connections", set_pool_size},
	{"socket.request.max.bytes", "PGK_MAX_REQUEST_BYTES", "max-request-bytes", "N",
	 STR(DEF_MAX_REQUEST_BYTES),
	 "largest request frame accepted; larger ones close the connection", set_max_request_bytes},
	{"num.partitions", "PGK_NUM_PARTITIONS", "num-partitions", "N", STR(DEF_NUM_PARTITIONS),
	 "partitions of auto-created topics", set_num_partitions},
	{"auto.create.topics.enable", "PGK_AUTO_CREATE_TOPICS", "auto-create-topics", "true|false",
	 "true", "create a topic when a client first uses it", set_auto_create_topics},
	{"message.max.bytes", "PGK_MESSAGE_MAX_BYTES", "message-max-bytes", "N",
	 STR(DEF_MESSAGE_MAX_BYTES), "largest record batch accepted by Produce",
	 set_message_max_bytes},
	{"fetch.max.bytes", "PGK_FETCH_MAX_BYTES", "fetch-max-bytes", "N", STR(DEF_FETCH_MAX_BYTES),
	 "upper bound on the size of one Fetch response", set_fetch_max_bytes},
	{"fetch.readahead.max.bytes", "PGK_FETCH_READAHEAD_MAX_BYTES", "fetch-readahead-max-bytes",
	 "N", STR(DEF_FETCH_READAHEAD_MAX_BYTES),
	 "memory for reading ahead of consumers that are catching up; 0 turns it off",
	 set_fetch_readahead_max_bytes},
	{"log.level", "PGK_LOG_LEVEL", "log-level", "error|warn|info|debug", "info",
	 "least severe level logged", set_log_level},
	{"group.initial.rebalance.delay.ms", "PGK_GROUP_INITIAL_REBALANCE_DELAY_MS",
	 "group-initial-rebalance-delay-ms", "MS", STR(DEF_GROUP_INITIAL_REBALANCE_DELAY_MS),
	 "how long a new consumer group waits for more members before its first rebalance",
	 set_group_initial_rebalance_delay},
	{"transaction.max.timeout.ms", "PGK_TRANSACTION_MAX_TIMEOUT_MS",
	 "transaction-max-timeout-ms", "MS", STR(DEF_TRANSACTION_MAX_TIMEOUT_MS),
	 "longest transaction timeout a transactional producer may ask for",
	 set_transaction_max_timeout},
	{"transaction.abort.timed.out.transaction.cleanup.interval.ms",
	 "PGK_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS",
	 "transaction-abort-cleanup-interval-ms", "MS", STR(DEF_TXN_ABORT_CLEANUP_INTERVAL_MS),
	 "how often transactions past their timeout are looked for and aborted",
	 set_txn_abort_cleanup_interval},
	{"stream.enabled", "PGK_STREAM_ENABLED", "stream-enabled", "true|false", "true",
	 "wake long-polling fetches from a logical decoding stream (records written by any "
	 "broker or by SQL)",
	 set_stream_enabled},
};

#define NSETTINGS ((int)(sizeof(settings) / sizeof(settings[0])))

/* getopt_long values of the flags that are not settings. */
enum { OPT_CONFIG = 1000, OPT_HELP, OPT_VERSION, OPT_SETTING_BASE = 2000 };

static void set_defaults(void);
static void finish(void);
static int apply(const setting *s, const char *value, const char *source);
static int load_file(const char *path);
static int parse_file_line(char *line, char **key, char **value, const char **err);
static int load_env(void);
static const setting *find_key(const char *key);
static void print_help(void);
static int parse_long(const char *v, long min, long max, long *out, char *why, size_t whylen);
static int parse_hostport(const char *v, char **host, int *port, bool *port_given, char *why,
			  size_t whylen);
static void replace_str(char **dst, const char *src);
static bool is_wildcard_host(const char *h);

int config_load(int argc, char **argv)
{
	struct option longopts[NSETTINGS + 4];
	int nopts = 0;
	int *flag_setting = NULL; /* flags in command-line order: setting index */
	char **flag_value = NULL;
	int nflags = 0;
	const char *config_path = NULL;
	int rc = 0;

	config_free();
	set_defaults();

	for (int i = 0; i < NSETTINGS; i++) {
		if (!settings[i].flag)
			continue;
		longopts[nopts++] = (struct option){settings[i].flag, required_argument, NULL,
						    OPT_SETTING_BASE + i};
	}
	longopts[nopts++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	longopts[nopts++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[nopts++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
	longopts[nopts] = (struct option){NULL, 0, NULL, 0};

	flag_setting = calloc((size_t)argc + 1, sizeof(*flag_setting));
	flag_value = calloc((size_t)argc + 1, sizeof(*flag_value));
	if (!flag_setting || !flag_value) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = -1;
		goto out;
	}

	/*
	 * Collect the flags first and apply them last: they override the file
	 * and the environment, and --config names the file to read.
	 * optind = 0 makes glibc start over, so config_load can run again.
	 */
	optind = 0;
	opterr = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "hV", longopts, NULL);
		if (c == -1)
			break;
		if (c == OPT_HELP || c == 'h') {
			print_help();
			rc = 1;
			goto out;
		} else if (c == OPT_VERSION || c == 'V') {
			printf(PROG " " PGK_VERSION "\n");
			rc = 1;
			goto out;
		} else if (c == OPT_CONFIG) {
			config_path = optarg;
		} else if (c >= OPT_SETTING_BASE && c < OPT_SETTING_BASE + NSETTINGS) {
			flag_setting[nflags] = c - OPT_SETTING_BASE;
			flag_value[nflags] = optarg;
			nflags++;
		} else {
			/* getopt_long already said what is wrong */
			fprintf(stderr, "Try '" PROG " --help' for the list of options.\n");
			rc = -1;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		fprintf(stderr, "Try '" PROG " --help' for the list of options.\n");
		rc = -1;
		goto out;
	}

	if (!config_path) {
		const char *env = getenv("PGK_CONFIG");
		if (env && *env)
			config_path = env;
	}
	if (config_path) {
		replace_str(&g_config.config_file, config_path);
		if (load_file(config_path) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (load_env() < 0) {
		rc = -1;
		goto out;
	}
	for (int i = 0; i < nflags; i++) {
		const setting *s = &settings[flag_setting[i]];
		char source[80];
		snprintf(source, sizeof(source), "option --%s", s->flag);
		if (apply(s, flag_value[i], source) < 0) {
			rc = -1;
			goto out;
		}
	}
	finish();

out:
	free(flag_setting);
	free(flag_value);
	return rc;
}

void config_free(void)
{
	free(g_config.pg_conninfo);
	free(g_config.listen_host);
	free(g_config.advertised_host);
	free(g_config.cluster_id);
	free(g_config.config_file);
	g_config.pg_conninfo = NULL;
	g_config.listen_host = NULL;
	g_config.advertised_host = NULL;
	g_config.cluster_id = NULL;
	g_config.config_file = NULL;
}

static void set_defaults(void)
{
	replace_str(&g_config.pg_conninfo, DEF_CONNINFO);
	replace_str(&g_config.listen_host, DEF_LISTEN_HOST);
	g_config.listen_port = DEF_LISTEN_PORT;
	/* advertised_host stays NULL until finish() derives it */
	g_config.advertised_port = 0;
	advertised_host_set = false;
	advertised_port_set = false;
	g_config.node_id = DEF_NODE_ID;
	replace_str(&g_config.cluster_id, DEF_CLUSTER_ID);
	g_config.pool_size = DEF_POOL_SIZE;
	g_config.max_request_bytes = DEF_MAX_REQUEST_BYTES;
	g_config.num_partitions = DEF_NUM_PARTITIONS;
	g_config.auto_create_topics = true;
	g_config.message_max_bytes = DEF_MESSAGE_MAX_BYTES;
	g_config.fetch_max_bytes_cap = DEF_FETCH_MAX_BYTES;
	g_config.fetch_readahead_max_bytes = DEF_FETCH_READAHEAD_MAX_BYTES;
	g_config.log_level = DEF_LOG_LEVEL;
	g_config.group_initial_rebalance_delay_ms = DEF_GROUP_INITIAL_REBALANCE_DELAY_MS;
	g_config.transaction_max_timeout_ms = DEF_TRANSACTION_MAX_TIMEOUT_MS;
	g_config.txn_abort_timed_out_cleanup_interval_ms = DEF_TXN_ABORT_CLEANUP_INTERVAL_MS;
	g_config.stream_enabled = true;
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

static int apply(const setting *s, const char *value, const char *source)
{
	char why[200] = "";

	if (s->set(value, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, PROG ": invalid value \"%s\" for %s (%s): %s\n", value, s->key, source,
		why);
	return -1;
}

static int load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	int rc = 0;

	if (!f) {
		fprintf(stderr, PROG ": cannot open config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		char *key, *value;
		const char *err = NULL;
		const setting *s;
		char source[PATH_MAX + 40];

		lineno++;
		if (parse_file_line(line, &key, &value, &err) < 0) {
			fprintf(stderr, PROG ": config file %s line %d: %s\n", path, lineno, err);
			rc = -1;
			break;
		}
		if (!key)
			continue; /* blank or comment */
		s = find_key(key);
		if (!s) {
			fprintf(stderr, PROG ": config file %s line %d: unknown setting \"%s\"\n",
				path, lineno, key);
			rc = -1;
			break;
		}
		snprintf(source, sizeof(source), "config file %s line %d", path, lineno);
		if (apply(s, value, source) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, PROG ": cannot read config file %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/*
 * Split "key = value" in place. A value may be double-quoted to keep
 * surrounding spaces or a '#'; otherwise " #" starts a trailing comment.
 * Blank lines and lines starting with '#' yield key = NULL.
 */
static int parse_file_line(char *line, char **key, char **value, const char **err)
{
	char *p = line, *eq, *end;

	*key = *value = NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	eq = strchr(p, '=');
	if (!eq) {
		*err = "expected \"key = value\"";
		return -1;
	}
	end = eq;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (end == p) {
		*err = "missing setting name before '='";
		return -1;
	}
	*key = p;

	p = eq + 1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		char *out = ++p, *val = p;
		for (;;) {
			if (*p == '\0' || *p == '\n') {
				*err = "unterminated quoted value";
				return -1;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*out++ = *p++;
		}
		*out = '\0';
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '\0' && *p != '#') {
			*err = "unexpected text after quoted value";
			return -1;
		}
		*value = val;
		return 0;
	}
	*value = p;
	for (end = p; *end; end++) {
		if (*end == '#' && (end == p || isspace((unsigned char)end[-1])))
			break;
	}
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return 0;
}

static int load_env(void)
{
	for (int i = 0; i < NSETTINGS; i++) {
		const setting *s = &settings[i];
		const char *v;
		char source[80];

		if (!s->env)
			continue;
		v = getenv(s->env);
		if (!v || !*v)
			continue;
		snprintf(source, sizeof(source), "environment variable %s", s->env);
		if (apply(s, v, source) < 0)
			return -1;
	}
	return 0;
}

static const setting *find_key(const char *key)
{
	for (int i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	}
	return NULL;
}

static void print_help(void)
{
	printf("Usage: " PROG " [OPTION]...\n"
	       "A Kafka broker that keeps its records in PostgreSQL.\n"
	       "\n"
	       "Each setting is taken from, in increasing priority: its default, the\n"
	       "config file (lines \"key = value\", '#' starts a comment), its environment\n"
	       "variable, and its option.\n"
	       "\n"
	       "Options:\n");
	for (int i = 0; i < NSETTINGS; i++) {
		const setting *s = &settings[i];
		char opt[64];

		if (!s->flag)
			continue;
		snprintf(opt, sizeof(opt), "--%s %s", s->flag, s->metavar);
		printf("  %-34s %s\n", opt, s->help);
		printf("  %-34s default: %s\n", "", s->dflt);
		printf("  %-34s env %s, file key %s\n", "", s->env, s->key);
	}
	printf("  %-34s %s\n", "--config FILE", "read settings from FILE");
	printf("  %-34s env PGK_CONFIG\n", "");
	printf("  %-34s %s\n", "-h, --help", "print this help and exit");
	printf("  %-34s %s\n", "-V, --version", "print the version and exit");
	printf("\nConfig file keys without an option:\n");
	for (int i = 0; i < NSETTINGS; i++) {
		const setting *s = &settings[i];
		if (s->flag)
			continue;
		printf("  %-34s %s (default: %s)\n", s->key, s->help, s->dflt);
	}
	printf("\nExample: " PROG " --pg 'host=/var/run/postgresql dbname=kafka' "
	       "--listen 0.0.0.0:9092 --advertised broker1.example.com:9092\n");
}

/* ---- setters ---- */

static int set_conninfo(const char *v, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	replace_str(&g_config.pg_conninfo, v);
	return 0;
}

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

static int set_listen_port(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	g_config.listen_port = (int)n;
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
	if (parse_long(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	g_config.advertised_port = (int)n;
	advertised_port_set = true;
	return 0;
}

static int set_node_id(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 0, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.node_id = (int32_t)n;
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

static int set_pool_size(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, 1000, &n, why, whylen) < 0)
		return -1;
	g_config.pool_size = (int)n;
	return 0;
}

static int set_max_request_bytes(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 64, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.max_request_bytes = (int32_t)n;
	return 0;
}

static int set_num_partitions(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, 100000, &n, why, whylen) < 0)
		return -1;
	g_config.num_partitions = (int32_t)n;
	return 0;
}

static int set_group_initial_rebalance_delay(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 0, 300000, &n, why, whylen) < 0)
		return -1;
	g_config.group_initial_rebalance_delay_ms = (int32_t)n;
	return 0;
}

static int set_transaction_max_timeout(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.transaction_max_timeout_ms = (int32_t)n;
	return 0;
}

static int set_txn_abort_cleanup_interval(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.txn_abort_timed_out_cleanup_interval_ms = (int32_t)n;
	return 0;
}

static int set_auto_create_topics(const char *v, char *why, size_t whylen)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			g_config.auto_create_topics = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			g_config.auto_create_topics = false;
			return 0;
		}
	}
	snprintf(why, whylen, "expected true or false");
	return -1;
}

static int set_message_max_bytes(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.message_max_bytes = (int32_t)n;
	return 0;
}

static int set_fetch_max_bytes(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 1024, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.fetch_max_bytes_cap = (int32_t)n;
	return 0;
}

static int set_fetch_readahead_max_bytes(const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_long(v, 0, INT32_MAX, &n, why, whylen) < 0)
		return -1;
	g_config.fetch_readahead_max_bytes = (int32_t)n;
	return 0;
}

static int set_log_level(const char *v, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{"error", LOG_ERROR}, {"warn", LOG_WARN},   {"warning", LOG_WARN},
		{"info", LOG_INFO},   {"debug", LOG_DEBUG}, {"0", LOG_ERROR},
		{"1", LOG_WARN},      {"2", LOG_INFO},      {"3", LOG_DEBUG},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(v, levels[i].name) == 0) {
			g_config.log_level = levels[i].level;
			return 0;
		}
	}
	snprintf(why, whylen, "expected error, warn, info or debug");
	return -1;
}

static int set_stream_enabled(const char *v, char *why, size_t whylen)
{
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0) {
		g_config.stream_enabled = true;
		return 0;
	}
	if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "no") == 0) {
		g_config.stream_enabled = false;
		return 0;
	}
	snprintf(why, whylen, "expected true or false");
	return -1;
}

/* ---- helpers ---- */

static int parse_long(const char *v, long min, long max, long *out, char *why, size_t whylen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno == ERANGE || n < min || n > max ||
	    isspace((unsigned char)*v)) {
		snprintf(why, whylen, "expected an integer from %ld to %ld", min, max);
		return -1;
	}
	*out = n;
	return 0;
}

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
		if (parse_long(port_str, 1, 65535, &n, why, whylen) < 0) {
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
