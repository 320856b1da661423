/*
 * Broker configuration: the settings[] table below describes every setting
 * once (config file key, environment variable, option, default, help, type
 * and range); common/cfg.c loads it (defaults, config file from --config
 * or PGK_CONFIG, environment, options) and prints --help and --version.
 * This file adds what is the broker's own: host:port values, the
 * listeners (the older listen/advertised pair is one PLAINTEXT listener)
 * with their advertised endpoints, and the TLS files an SSL listener needs.
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
#include "listeners.h"
#include "log.h"
#include "sasl.h"

#define PROG "pg_kafka"

/* Defaults that --help prints and set_defaults() applies. */
#define DEF_CONNINFO "dbname=pg_kafka"
#define DEF_LISTEN_HOST "0.0.0.0"
#define DEF_LISTEN_PORT 9092
#define DEF_NODE_ID 1
#define DEF_CLUSTER_ID "pg-kafka-cluster"
#define DEF_BROKER_SESSION_TIMEOUT_MS 6000
#define DEF_BROKER_HEARTBEAT_INTERVAL_MS 1000
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
#define DEF_LOG_RETENTION_MS 604800000
#define DEF_LOG_ROLL_MS 604800000
#define DEF_LOG_SEGMENT_BYTES 1073741824
#define DEF_LOG_RETENTION_CHECK_INTERVAL_MS 300000
#define DEF_LOG_MAINTENANCE_BUDGET 100000
#define DEF_PRODUCER_ID_EXPIRATION_MS 86400000
#define DEF_OFFSETS_RETENTION_MINUTES 10080
#define DEF_OFFSETS_RETENTION_CHECK_INTERVAL_MS 600000
#define DEF_TRANSACTIONAL_ID_EXPIRATION_MS 604800000

#define STR_(x) #x
#define STR(x) STR_(x)

config g_config = {
	.listen_port = DEF_LISTEN_PORT,
	.node_id = DEF_NODE_ID,
	.broker_session_timeout_ms = DEF_BROKER_SESSION_TIMEOUT_MS,
	.broker_heartbeat_interval_ms = DEF_BROKER_HEARTBEAT_INTERVAL_MS,
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
	.quota_window_num = 11,
	.quota_window_size_seconds = 1,
	.txn_abort_timed_out_cleanup_interval_ms = DEF_TXN_ABORT_CLEANUP_INTERVAL_MS,
	.log_retention_ms = DEF_LOG_RETENTION_MS,
	.log_retention_bytes = -1,
	.log_roll_ms = DEF_LOG_ROLL_MS,
	.log_segment_bytes = DEF_LOG_SEGMENT_BYTES,
	.log_retention_check_interval_ms = DEF_LOG_RETENTION_CHECK_INTERVAL_MS,
	.log_maintenance_budget = DEF_LOG_MAINTENANCE_BUDGET,
	.producer_id_expiration_ms = DEF_PRODUCER_ID_EXPIRATION_MS,
	.transactional_id_expiration_ms = DEF_TRANSACTIONAL_ID_EXPIRATION_MS,
	.offsets_retention_minutes = DEF_OFFSETS_RETENTION_MINUTES,
	.offsets_retention_check_interval_ms = DEF_OFFSETS_RETENTION_CHECK_INTERVAL_MS,
	.stream_enabled = true,
	.sasl_mechanisms = 1u << SASL_SCRAM_SHA_256 | 1u << SASL_SCRAM_SHA_512,
};

/* Whether the advertised address was given, or follows the listen address. */
static bool advertised_host_set;
static bool advertised_port_set;
/* Which of the older and the Kafka-style settings were given. */
static bool listen_given;
static bool advertised_given;
/* advertised.listeners, matched to listeners by name in finish(). */
static listener_cfg *adv_listeners;
static int nadv_listeners;

static int set_listen(const char *v, char *why, size_t whylen);
static int set_listen_host(const char *v, char *why, size_t whylen);
static int set_listen_port(const char *v, char *why, size_t whylen);
static int set_listeners(const char *v, char *why, size_t whylen);
static int set_advertised_listeners(const char *v, char *why, size_t whylen);
static int set_advertised(const char *v, char *why, size_t whylen);
static int set_advertised_host(const char *v, char *why, size_t whylen);
static int set_advertised_port(const char *v, char *why, size_t whylen);
static int set_cluster_id(const char *v, char *why, size_t whylen);
static int set_node_id(const char *v, char *why, size_t whylen);
static int set_metrics_listen(const char *v, char *why, size_t whylen);
static int set_sasl_mechanisms(const char *v, char *why, size_t whylen);
static int set_authorizer_class_name(const char *v, char *why, size_t whylen);
static int set_log_retention_ms(const char *v, char *why, size_t whylen);
static int set_log_retention_bytes(const char *v, char *why, size_t whylen);
static int set_log_roll_ms(const char *v, char *why, size_t whylen);
static int set_producer_id_expiration_ms(const char *v, char *why, size_t whylen);
static int set_transactional_id_expiration_ms(const char *v, char *why, size_t whylen);

static const cfg_name log_levels[] = {
	{"error", LOG_ERROR}, {"warn", LOG_WARN}, {"warning", LOG_WARN}, {"info", LOG_INFO},
	{"debug", LOG_DEBUG}, {"0", LOG_ERROR},   {"1", LOG_WARN},       {"2", LOG_INFO},
	{"3", LOG_DEBUG},     {NULL, 0},
};

static const cfg_name client_auth_names[] = {
	{"none", SSL_CLIENT_AUTH_NONE},
	{"requested", SSL_CLIENT_AUTH_REQUESTED},
	{"required", SSL_CLIENT_AUTH_REQUIRED},
	{NULL, 0},
};

#define INT_SETTING(target_, min_, max_)                                                           \
	.type = CFG_INT, .target = (target_), .min = (min_), .max = (max_)

static const cfg_setting settings[] = {
	{"pg.conninfo", "PGK_PG", "pg", "CONNINFO", DEF_CONNINFO, NULL,
	 "libpq connection string of the PostgreSQL database", CFG_STR,
	 .target = &g_config.pg_conninfo},
	{"listen", "PGK_LISTEN", "listen", "HOST:PORT", NULL,
	 DEF_LISTEN_HOST ":" STR(DEF_LISTEN_PORT),
	 "address to accept Kafka clients on ([ADDR]:PORT for IPv6): one PLAINTEXT listener; "
	 "not with listeners",
	 CFG_CUSTOM, .set = set_listen},
	{"listen.host", NULL, NULL, "HOST", NULL, DEF_LISTEN_HOST, "host part of listen",
	 CFG_CUSTOM, .set = set_listen_host},
	{"listen.port", NULL, NULL, "PORT", NULL, STR(DEF_LISTEN_PORT), "port part of listen",
	 CFG_CUSTOM, .set = set_listen_port},
	{"listeners", "PGK_LISTENERS", "listeners", "PROTO://HOST:PORT,...", "", "see listen",
	 "listeners as Kafka writes them, e.g. PLAINTEXT://0.0.0.0:9092,SSL://0.0.0.0:9093 "
	 "(PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)",
	 CFG_CUSTOM, .set = set_listeners},
	{"advertised.listeners", "PGK_ADVERTISED_LISTENERS", "advertised-listeners",
	 "PROTO://HOST:PORT,...", "", "each listener's address; localhost if that is 0.0.0.0",
	 "addresses clients are told to connect to, per listener (matched by name)", CFG_CUSTOM,
	 .set = set_advertised_listeners},
	{"ssl.certificate.location", "PGK_SSL_CERTIFICATE_LOCATION", "ssl-certificate-location",
	 "FILE", "", NULL,
	 "PEM server certificate (and chain) of the SSL listeners; re-read on SIGHUP", CFG_STR,
	 .target = &g_config.ssl_certificate_location},
	{"ssl.key.location", "PGK_SSL_KEY_LOCATION", "ssl-key-location", "FILE", "", NULL,
	 "PEM private key of that certificate (unencrypted); re-read on SIGHUP", CFG_STR,
	 .target = &g_config.ssl_key_location},
	{"ssl.ca.location", "PGK_SSL_CA_LOCATION", "ssl-ca-location", "FILE", "", NULL,
	 "PEM CA certificates that client certificates must chain to (ssl.client.auth)", CFG_STR,
	 .target = &g_config.ssl_ca_location},
	{"ssl.client.auth", "PGK_SSL_CLIENT_AUTH", "ssl-client-auth", "none|requested|required",
	 "none", NULL,
	 "ask SSL clients for a certificate (mTLS); required refuses clients without one", CFG_ENUM,
	 .target = &g_config.ssl_client_auth, .names = client_auth_names},
	{"sasl.enabled.mechanisms", "PGK_SASL_ENABLED_MECHANISMS", "sasl-enabled-mechanisms",
	 "MECH,...", "SCRAM-SHA-256,SCRAM-SHA-512", NULL,
	 "SASL mechanisms of the SASL listeners: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN", CFG_CUSTOM,
	 .set = set_sasl_mechanisms},
	{"sasl.plain.allow.plaintext", "PGK_SASL_PLAIN_ALLOW_PLAINTEXT", "sasl-plain-allow-plaintext",
	 "true|false", "false", NULL,
	 "offer PLAIN (passwords in clear) on SASL_PLAINTEXT listeners too, not only SASL_SSL",
	 CFG_BOOL, .target = &g_config.sasl_plain_allow_plaintext},
	{"connections.max.reauth.ms", "PGK_CONNECTIONS_MAX_REAUTH_MS", "connections-max-reauth-ms",
	 "MS", "0", NULL,
	 "SASL session lifetime: a client must re-authenticate within it or its connection is "
	 "closed (KIP-368); 0: sessions last as long as the connection",
	 INT_SETTING(&g_config.connections_max_reauth_ms, 0, INT32_MAX)},
	{"advertised", "PGK_ADVERTISED", "advertised", "HOST:PORT", NULL,
	 "listen address; localhost if that is 0.0.0.0",
	 "address clients are told to connect to (Metadata)", CFG_CUSTOM, .set = set_advertised},
	{"advertised.host", NULL, NULL, "HOST", NULL, "see advertised", "host part of advertised",
	 CFG_CUSTOM, .set = set_advertised_host},
	{"advertised.port", NULL, NULL, "PORT", NULL, "see advertised", "port part of advertised",
	 CFG_CUSTOM, .set = set_advertised_port},
	{"node.id", "PGK_NODE_ID", "node-id", "N", NULL, STR(DEF_NODE_ID) " (standalone)",
	 "broker id, unique among the live brokers of one database; given, the broker "
	 "registers and joins the database's cluster, else it runs standalone",
	 CFG_CUSTOM, .set = set_node_id},
	{"broker.rack", "PGK_BROKER_RACK", "broker-rack", "RACK", NULL, "none",
	 "rack of this broker: partition leadership alternates racks", CFG_STR,
	 .target = &g_config.broker_rack},
	{"broker.session.timeout.ms", "PGK_BROKER_SESSION_TIMEOUT_MS", "broker-session-timeout-ms",
	 "MS", STR(DEF_BROKER_SESSION_TIMEOUT_MS), NULL,
	 "lease of a registered broker: one that has not renewed it for this long is out "
	 "(and stops serving by itself)",
	 INT_SETTING(&g_config.broker_session_timeout_ms, 500, 3600000)},
	{"broker.heartbeat.interval.ms", "PGK_BROKER_HEARTBEAT_INTERVAL_MS",
	 "broker-heartbeat-interval-ms", "MS", STR(DEF_BROKER_HEARTBEAT_INTERVAL_MS), NULL,
	 "how often a registered broker renews its lease and looks at the other brokers",
	 INT_SETTING(&g_config.broker_heartbeat_interval_ms, 50, 600000)},
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
	{"quota.window.num", "PGK_QUOTA_WINDOW_NUM", "quota-window-num", "N", "11", NULL,
	 "samples a client's byte rate is measured over, for its quotas",
	 INT_SETTING(&g_config.quota_window_num, 2, 1000)},
	{"quota.window.size.seconds", "PGK_QUOTA_WINDOW_SIZE_SECONDS", "quota-window-size-seconds",
	 "S", "1", NULL, "length of each of those samples",
	 INT_SETTING(&g_config.quota_window_size_seconds, 1, 3600)},
	{"transaction.max.timeout.ms", "PGK_TRANSACTION_MAX_TIMEOUT_MS",
	 "transaction-max-timeout-ms", "MS", STR(DEF_TRANSACTION_MAX_TIMEOUT_MS), NULL,
	 "longest transaction timeout a transactional producer may ask for",
	 INT_SETTING(&g_config.transaction_max_timeout_ms, 1, INT32_MAX)},
	{"transaction.abort.timed.out.transaction.cleanup.interval.ms",
	 "PGK_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS",
	 "transaction-abort-cleanup-interval-ms", "MS", STR(DEF_TXN_ABORT_CLEANUP_INTERVAL_MS),
	 NULL, "how often transactions past their timeout are looked for and aborted",
	 INT_SETTING(&g_config.txn_abort_timed_out_cleanup_interval_ms, 1, INT32_MAX)},
	{"log.retention.ms", "PGK_LOG_RETENTION_MS", "log-retention-ms", "MS",
	 STR(DEF_LOG_RETENTION_MS), NULL,
	 "retention.ms of topics that do not set it: how long records are kept; -1 for ever",
	 CFG_CUSTOM, .set = set_log_retention_ms},
	{"log.retention.bytes", "PGK_LOG_RETENTION_BYTES", "log-retention-bytes", "N", "-1", NULL,
	 "retention.bytes of topics that do not set it: the size a partition is trimmed to; "
	 "-1 for no limit",
	 CFG_CUSTOM, .set = set_log_retention_bytes},
	{"log.roll.ms", "PGK_LOG_ROLL_MS", "log-roll-ms", "MS", STR(DEF_LOG_ROLL_MS), NULL,
	 "segment.ms of topics that do not set it: the age at which a segment is rolled",
	 CFG_CUSTOM, .set = set_log_roll_ms},
	{"log.segment.bytes", "PGK_LOG_SEGMENT_BYTES", "log-segment-bytes", "N",
	 STR(DEF_LOG_SEGMENT_BYTES), NULL,
	 "segment.bytes of topics that do not set it: the size at which a segment is rolled",
	 INT_SETTING(&g_config.log_segment_bytes, 14, INT32_MAX)},
	{"log.retention.check.interval.ms", "PGK_LOG_RETENTION_CHECK_INTERVAL_MS",
	 "log-retention-check-interval-ms", "MS", STR(DEF_LOG_RETENTION_CHECK_INTERVAL_MS), NULL,
	 "how often the storage job (segments, retention, compaction, deleted topics) runs; "
	 "one broker of a database runs it at a time",
	 INT_SETTING(&g_config.log_retention_check_interval_ms, 1, INT32_MAX)},
	{"log.maintenance.budget", "PGK_LOG_MAINTENANCE_BUDGET", "log-maintenance-budget", "N",
	 STR(DEF_LOG_MAINTENANCE_BUDGET), NULL,
	 "most rows the storage job deletes or reads per partition in one transaction; it "
	 "runs again at once while there is more",
	 INT_SETTING(&g_config.log_maintenance_budget, 1, INT32_MAX)},
	{"producer.id.expiration.ms", "PGK_PRODUCER_ID_EXPIRATION_MS", "producer-id-expiration-ms",
	 "MS", STR(DEF_PRODUCER_ID_EXPIRATION_MS), NULL,
	 "idempotent producer state unused this long is forgotten", CFG_CUSTOM,
	 .set = set_producer_id_expiration_ms},
	{"transactional.id.expiration.ms", "PGK_TRANSACTIONAL_ID_EXPIRATION_MS",
	 "transactional-id-expiration-ms", "MS", STR(DEF_TRANSACTIONAL_ID_EXPIRATION_MS), NULL,
	 "a transactional id with no transaction this long is forgotten", CFG_CUSTOM,
	 .set = set_transactional_id_expiration_ms},
	{"offsets.retention.minutes", "PGK_OFFSETS_RETENTION_MINUTES", "offsets-retention-minutes",
	 "MIN", STR(DEF_OFFSETS_RETENTION_MINUTES), NULL,
	 "committed offsets of a group without members expire this long after their commit "
	 "or the group becoming empty, whichever is later",
	 INT_SETTING(&g_config.offsets_retention_minutes, 1, INT32_MAX)},
	{"offsets.retention.check.interval.ms", "PGK_OFFSETS_RETENTION_CHECK_INTERVAL_MS",
	 "offsets-retention-check-interval-ms", "MS", STR(DEF_OFFSETS_RETENTION_CHECK_INTERVAL_MS),
	 NULL,
	 "how often each broker expires the committed offsets of the groups it coordinates",
	 INT_SETTING(&g_config.offsets_retention_check_interval_ms, 1, INT32_MAX)},
	{"stream.enabled", "PGK_STREAM_ENABLED", "stream-enabled", "true|false", "true", NULL,
	 "wake long-polling fetches from a logical decoding stream (records written by any "
	 "broker or by SQL)",
	 CFG_BOOL, .target = &g_config.stream_enabled},
	{"authorizer.enabled", "PGK_AUTHORIZER_ENABLED", "authorizer-enabled", "true|false",
	 "false", NULL,
	 "enforce Kafka ACLs (the table kafka.acls; CreateAcls, DescribeAcls, DeleteAcls); "
	 "Kafka's authorizer.class.name is also accepted",
	 CFG_BOOL, .target = &g_config.authorizer_enabled},
	{"authorizer.class.name", NULL, NULL, "CLASS", "", NULL,
	 "as Kafka: any non-empty value turns on authorizer.enabled", CFG_CUSTOM,
	 .set = set_authorizer_class_name},
	{"super.users", "PGK_SUPER_USERS", "super-users", "User:A;User:B", "", NULL,
	 "principals the authorizer allows everything, separated by ';'", CFG_STR,
	 .target = &g_config.super_users},
	{"allow.everyone.if.no.acl.found", "PGK_ALLOW_EVERYONE_IF_NO_ACL_FOUND",
	 "allow-everyone-if-no-acl-found", "true|false", "false", NULL,
	 "with the authorizer on, allow anyone on a resource that has no ACL at all", CFG_BOOL,
	 .target = &g_config.allow_everyone_if_no_acl_found},
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

static int finish(void);
static int resolve_listeners(char *why, size_t whylen);
static void replace_str(char **dst, const char *src);

int config_load(int argc, char **argv)
{
	int rc;

	config_free();
	advertised_host_set = false;
	advertised_port_set = false;
	listen_given = false;
	advertised_given = false;
	g_config.listen_port = DEF_LISTEN_PORT;
	g_config.advertised_port = 0;
	/* node.id has no default string: given, the broker is a member. */
	g_config.node_id = DEF_NODE_ID;
	g_config.cluster_member = false;
	rc = cfg_load(&config_program, argc, argv, &g_config.config_file);
	if (rc == 0)
		rc = finish();
	listeners_free(adv_listeners, nadv_listeners);
	adv_listeners = NULL;
	nadv_listeners = 0;
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
	listeners_free(g_config.listeners, g_config.nlisteners);
	listeners_free(adv_listeners, nadv_listeners);
	g_config.listeners = NULL;
	g_config.nlisteners = 0;
	adv_listeners = NULL;
	nadv_listeners = 0;
	g_config.listen_host = NULL;
	g_config.advertised_host = NULL;
	g_config.cluster_id = NULL;
	g_config.metrics_host = NULL;
	g_config.config_file = NULL;
}

/* Settings that depend on others, once every source has been read.
 * 0, or -1 with one line printed. */
static int finish(void)
{
	char why[256];

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
	if (resolve_listeners(why, sizeof(why)) < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return -1;
	}
	return 0;
}

/*
 * The listeners: those of "listeners", or one PLAINTEXT listener on the
 * listen address, each with the advertised.listeners entry of its name, or
 * else its own address (localhost for a wildcard). listen.host/port and
 * advertised.host/port end up as the first listener's, for what reports
 * one address.
 */
static int resolve_listeners(char *why, size_t whylen)
{
	listener_cfg *ls = g_config.listeners;
	bool any_tls = false;

	if (ls && listen_given) {
		snprintf(why, whylen, "give either listen or listeners, not both");
		return -1;
	}
	if (ls && advertised_given) {
		snprintf(why, whylen,
			 "with listeners, give advertised.listeners instead of advertised");
		return -1;
	}
	if (adv_listeners && advertised_given) {
		snprintf(why, whylen, "give either advertised or advertised.listeners, not both");
		return -1;
	}
	if (!ls) {
		ls = calloc(1, sizeof(*ls));
		if (!ls) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		ls->protocol = SEC_PLAINTEXT;
		replace_str(&ls->host, g_config.listen_host);
		ls->port = g_config.listen_port;
		if (!adv_listeners) {
			replace_str(&ls->adv_host, g_config.advertised_host);
			ls->adv_port = g_config.advertised_port;
		}
		g_config.listeners = ls;
		g_config.nlisteners = 1;
	}
	for (int i = 0; i < nadv_listeners; i++) {
		int j = 0;
		while (j < g_config.nlisteners && ls[j].protocol != adv_listeners[i].protocol)
			j++;
		if (j == g_config.nlisteners) {
			snprintf(why, whylen,
				 "advertised.listeners names %s, which is not a listener",
				 sec_protocol_name(adv_listeners[i].protocol));
			return -1;
		}
		if (is_wildcard_host(adv_listeners[i].host)) {
			snprintf(why, whylen,
				 "advertised.listeners %s needs a host clients can connect to, not "
				 "'%s'",
				 sec_protocol_name(adv_listeners[i].protocol),
				 adv_listeners[i].host);
			return -1;
		}
		replace_str(&ls[j].adv_host, adv_listeners[i].host);
		ls[j].adv_port = adv_listeners[i].port;
	}
	for (int i = 0; i < g_config.nlisteners; i++) {
		any_tls |= sec_protocol_tls(ls[i].protocol);
		if (!ls[i].adv_host) {
			replace_str(&ls[i].adv_host,
				    is_wildcard_host(ls[i].host) ? "localhost" : ls[i].host);
			ls[i].adv_port = ls[i].port;
		}
	}
	replace_str(&g_config.listen_host, ls[0].host);
	g_config.listen_port = ls[0].port;
	replace_str(&g_config.advertised_host, ls[0].adv_host);
	g_config.advertised_port = ls[0].adv_port;
	if (any_tls && (!g_config.ssl_certificate_location || !*g_config.ssl_certificate_location ||
			!g_config.ssl_key_location || !*g_config.ssl_key_location)) {
		snprintf(why, whylen,
			 "an SSL listener needs ssl.certificate.location and ssl.key.location");
		return -1;
	}
	if (any_tls && g_config.ssl_client_auth != SSL_CLIENT_AUTH_NONE &&
	    (!g_config.ssl_ca_location || !*g_config.ssl_ca_location)) {
		snprintf(why, whylen,
			 "ssl.client.auth needs ssl.ca.location to verify clients with");
		return -1;
	}
	return 0;
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
	listen_given = true;
	return 0;
}

static int set_listen_host(const char *v, char *why, size_t whylen)
{
	if (v[0] == '[') {
		snprintf(why, whylen, "write an IPv6 address without brackets here");
		return -1;
	}
	replace_str(&g_config.listen_host, v);
	listen_given = true;
	return 0;
}

static int set_listen_port(const char *v, char *why, size_t whylen)
{
	long n;
	if (cfg_parse_long(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	g_config.listen_port = (int)n;
	listen_given = true;
	return 0;
}

static int set_listeners(const char *v, char *why, size_t whylen)
{
	listener_cfg *ls;
	int n;

	if (listeners_parse(v, &ls, &n, why, whylen) < 0)
		return -1;
	listeners_free(g_config.listeners, g_config.nlisteners);
	g_config.listeners = ls;
	g_config.nlisteners = n;
	return 0;
}

static int set_advertised_listeners(const char *v, char *why, size_t whylen)
{
	listener_cfg *ls;
	int n;

	if (listeners_parse(v, &ls, &n, why, whylen) < 0)
		return -1;
	listeners_free(adv_listeners, nadv_listeners);
	adv_listeners = ls;
	nadv_listeners = n;
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
	advertised_given = true;
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
	advertised_given = true;
	return 0;
}

static int set_advertised_port(const char *v, char *why, size_t whylen)
{
	long n;
	if (cfg_parse_long(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	g_config.advertised_port = (int)n;
	advertised_port_set = true;
	advertised_given = true;
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

/* node.id given: the broker is a member of its database's cluster. */
static int set_node_id(const char *v, char *why, size_t whylen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < 0 || n > INT32_MAX) {
		snprintf(why, whylen, "expected an integer from 0 to %d", INT32_MAX);
		return -1;
	}
	g_config.node_id = (int32_t)n;
	g_config.cluster_member = true;
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

/* Comma-separated mechanism names, as Kafka writes them; at least one. */
static int set_sasl_mechanisms(const char *v, char *why, size_t whylen)
{
	unsigned mask = 0;
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t lead = 0;
		int m;
		while (lead < n && p[lead] == ' ')
			lead++;
		while (n > lead && p[n - 1] == ' ')
			n--;
		m = sasl_mech_parse(p + lead, n - lead);
		if (m < 0) {
			snprintf(why, whylen,
				 "unknown SASL mechanism '%.*s'; expected SCRAM-SHA-256, "
				 "SCRAM-SHA-512 or PLAIN",
				 (int)(n - lead > 40 ? 40 : n - lead), p + lead);
			return -1;
		}
		mask |= 1u << m;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	if (!mask) {
		snprintf(why, whylen, "give at least one SASL mechanism");
		return -1;
	}
	g_config.sasl_mechanisms = mask;
	return 0;
}

/* ---- helpers ---- */

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

/* Kafka turns its authorizer on by naming its class; any name does here. */
static int set_authorizer_class_name(const char *v, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	if (v && *v)
		g_config.authorizer_enabled = true;
	return 0;
}

/* The 64-bit settings of the storage job. */
static int set_long_setting(int64_t *target, long min, const char *v, char *why, size_t whylen)
{
	long n;

	if (cfg_parse_long(v, min, INT64_MAX, &n, why, whylen) < 0)
		return -1;
	*target = n;
	return 0;
}

static int set_log_retention_ms(const char *v, char *why, size_t whylen)
{
	return set_long_setting(&g_config.log_retention_ms, -1, v, why, whylen);
}

static int set_log_retention_bytes(const char *v, char *why, size_t whylen)
{
	return set_long_setting(&g_config.log_retention_bytes, -1, v, why, whylen);
}

static int set_log_roll_ms(const char *v, char *why, size_t whylen)
{
	return set_long_setting(&g_config.log_roll_ms, 1, v, why, whylen);
}

static int set_producer_id_expiration_ms(const char *v, char *why, size_t whylen)
{
	return set_long_setting(&g_config.producer_id_expiration_ms, 1, v, why, whylen);
}

static int set_transactional_id_expiration_ms(const char *v, char *why, size_t whylen)
{
	return set_long_setting(&g_config.transactional_id_expiration_ms, 1, v, why, whylen);
}
