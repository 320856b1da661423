/*
 * Unit tests for the config engine (common/cfg.c) through both programs'
 * tables: the broker's (broker/config.c: defaults, the file < environment
 * < flags precedence, derived advertised address, rejection of bad values)
 * and the forwarder's (shadow/config.c: the same rules, librdkafka
 * properties, its own checks), and --help listing every setting of each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../shadow/config.h"
#include "cfg.h"
#include "config.h"
#include "listeners.h"
#include "sasl.h"
#include "topic_config.h"

static const char *const env_vars[] = {
	"PGK_CONFIG",
	"PGK_PG",
	"PGK_LISTEN",
	"PGK_ADVERTISED",
	"PGK_LISTENERS",
	"PGK_ADVERTISED_LISTENERS",
	"PGK_SSL_CERTIFICATE_LOCATION",
	"PGK_SSL_KEY_LOCATION",
	"PGK_SSL_CA_LOCATION",
	"PGK_SSL_CLIENT_AUTH",
	"PGK_NODE_ID",
	"PGK_CLUSTER_ID",
	"PGK_POOL_SIZE",
	"PGK_NUM_PARTITIONS",
	"PGK_LOG_LEVEL",
	"PGK_MAX_REQUEST_BYTES",
	"PGK_AUTO_CREATE_TOPICS",
	"PGK_MESSAGE_MAX_BYTES",
	"PGK_FETCH_MAX_BYTES",
	"SHADOW_CONFIG",
	"SHADOW_PG",
	"SHADOW_SLOT",
	"SHADOW_BOOTSTRAP",
	"SHADOW_TOPICS_INCLUDE",
	"SHADOW_DEDUP",
	"SHADOW_CONFIRM_INTERVAL_MS",
};

/* config_load with a NULL-terminated argument list after the program name. */
#define LOAD(...)                                                                                  \
	({                                                                                         \
		char *argv_[] = {"pg_kafka", __VA_ARGS__, NULL};                                   \
		config_load((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);                   \
	})

/* The same for the forwarder. */
#define SLOAD(...)                                                                                 \
	({                                                                                         \
		char *argv_[] = {"pg_kafka_shadow", __VA_ARGS__, NULL};                            \
		shadow_config_load((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);            \
	})

static char tmp_path[64];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	tmp_path[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (tmp_path[0])
		unlink(tmp_path);
	config_free();
	shadow_config_free();
	return 0;
}

static const char *write_file(const char *text)
{
	int fd;
	FILE *f;

	if (tmp_path[0])
		unlink(tmp_path); /* one file at a time */
	strcpy(tmp_path, "/tmp/pgk_test_config_XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return tmp_path;
}

static void test_defaults(void **state)
{
	(void)state;
	char *argv[] = {"pg_kafka", NULL};

	assert_int_equal(config_load(1, argv), 0);
	assert_string_equal(g_config.pg_conninfo, "dbname=pg_kafka");
	assert_string_equal(g_config.listen_host, "0.0.0.0");
	assert_int_equal(g_config.listen_port, 9092);
	assert_string_equal(g_config.advertised_host, "localhost");
	assert_int_equal(g_config.advertised_port, 9092);
	assert_int_equal(g_config.node_id, 1);
	assert_string_equal(g_config.cluster_id, "pg-kafka-cluster");
	assert_int_equal(g_config.pool_size, 4);
	assert_int_equal(g_config.max_request_bytes, 104857600);
	assert_int_equal(g_config.num_partitions, 1);
	assert_true(g_config.auto_create_topics);
	assert_int_equal(g_config.message_max_bytes, 1048588);
	assert_int_equal(g_config.fetch_max_bytes_cap, 52428800);
	assert_int_equal(g_config.fetch_readahead_max_bytes, 67108864);
	assert_int_equal(g_config.log_level, 2);
	assert_null(g_config.metrics_host); /* metrics.listen: off */
	assert_null(g_config.config_file);
	/* listen is one PLAINTEXT listener */
	assert_int_equal(g_config.nlisteners, 1);
	assert_int_equal(g_config.listeners[0].protocol, SEC_PLAINTEXT);
	assert_string_equal(g_config.listeners[0].host, "0.0.0.0");
	assert_int_equal(g_config.listeners[0].port, 9092);
	assert_string_equal(g_config.listeners[0].adv_host, "localhost");
	assert_int_equal(g_config.listeners[0].adv_port, 9092);
	assert_int_equal(g_config.ssl_client_auth, SSL_CLIENT_AUTH_NONE);
}

/* The parser of "listeners" and "advertised.listeners" on its own. */
static void test_listeners_parse(void **state)
{
	listener_cfg *ls;
	char why[256];
	int n;

	(void)state;
	assert_int_equal(listeners_parse("PLAINTEXT://127.0.0.1:9092, ssl://[::1]:9093 ,"
					 "SASL_SSL://:9094",
					 &ls, &n, why, sizeof(why)),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(ls[0].protocol, SEC_PLAINTEXT);
	assert_string_equal(ls[0].host, "127.0.0.1");
	assert_int_equal(ls[0].port, 9092);
	assert_int_equal(ls[1].protocol, SEC_SSL); /* names in any case */
	assert_string_equal(ls[1].host, "::1");
	assert_int_equal(ls[1].port, 9093);
	assert_int_equal(ls[2].protocol, SEC_SASL_SSL);
	assert_string_equal(ls[2].host, "");
	assert_int_equal(ls[2].port, 9094);
	assert_null(ls[0].adv_host);
	listeners_free(ls, n);

	assert_int_equal(listeners_parse("  ", &ls, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_null(ls);

	static const char *const bad[] = {
		"PLAINTEXT://:9092,",                 /* empty entry */
		",PLAINTEXT://:9092",                 /* empty entry */
		"PLAINTEXT:9092",                     /* no :// */
		"TLS://:9093",                        /* unknown name */
		"://:9093",                           /* no name */
		"PLAINTEXT://localhost",              /* no port */
		"PLAINTEXT://localhost:0",            /* port out of range */
		"PLAINTEXT://localhost:65536",        /* port out of range */
		"PLAINTEXT://localhost:x",            /* port not a number */
		"PLAINTEXT://::1:9092",               /* IPv6 without brackets */
		"PLAINTEXT://[::1:9092",              /* missing ] */
		"PLAINTEXT://a b:9092",               /* blank in host */
		"PLAINTEXT://:9092,PLAINTEXT://:9093", /* name twice */
		"PLAINTEXT://:9092,SSL://h:9092",     /* port twice */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (listeners_parse(bad[i], &ls, &n, why, sizeof(why)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(why[0] != '\0');
	}
	/* more entries than LISTENERS_MAX */
	char many[2048] = "";
	for (int i = 0; i <= LISTENERS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sPLAINTEXT://:%d",
			 i ? "," : "", 1000 + i);
	assert_int_equal(listeners_parse(many, &ls, &n, why, sizeof(why)), -1);
}

/* listeners and advertised.listeners through the config, and their checks. */
static void test_listeners(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--listeners", "PLAINTEXT://0.0.0.0:19092,SSL://127.0.0.1:19093",
			      "--ssl-certificate-location", "c.pem", "--ssl-key-location", "k.pem"),
			 0);
	assert_int_equal(g_config.nlisteners, 2);
	assert_string_equal(g_config.listeners[0].adv_host, "localhost"); /* wildcard */
	assert_int_equal(g_config.listeners[0].adv_port, 19092);
	assert_string_equal(g_config.listeners[1].adv_host, "127.0.0.1");
	assert_int_equal(g_config.listeners[1].adv_port, 19093);
	/* the older settings report the first listener */
	assert_string_equal(g_config.listen_host, "0.0.0.0");
	assert_int_equal(g_config.listen_port, 19092);
	assert_int_equal(g_config.advertised_port, 19092);

	/* advertised.listeners matched by name, in any order; the others default */
	assert_int_equal(LOAD("--listeners", "PLAINTEXT://:19092,SSL://:19093",
			      "--advertised-listeners", "SSL://b1.example.com:29093",
			      "--ssl-certificate-location", "c.pem", "--ssl-key-location", "k.pem",
			      "--ssl-client-auth", "required", "--ssl-ca-location", "ca.pem"),
			 0);
	assert_string_equal(g_config.listeners[0].adv_host, "localhost");
	assert_int_equal(g_config.listeners[0].adv_port, 19092);
	assert_string_equal(g_config.listeners[1].adv_host, "b1.example.com");
	assert_int_equal(g_config.listeners[1].adv_port, 29093);
	assert_int_equal(g_config.ssl_client_auth, SSL_CLIENT_AUTH_REQUIRED);
	char text[256];
	listeners_format(g_config.listeners, g_config.nlisteners, false, text, sizeof(text));
	assert_string_equal(text, "PLAINTEXT://:19092,SSL://:19093");
	listeners_format(g_config.listeners, g_config.nlisteners, true, text, sizeof(text));
	assert_string_equal(text, "PLAINTEXT://localhost:19092,SSL://b1.example.com:29093");
	listeners_format(g_config.listeners, g_config.nlisteners, true, text, 12); /* truncated */
	assert_string_equal(text, "PLAINTEXT:/");

	assert_int_equal(LOAD("--listeners", "SSL://[::1]:19093", "--ssl-certificate-location",
			      "c.pem", "--ssl-key-location", "k.pem"),
			 0);
	listeners_format(g_config.listeners, g_config.nlisteners, true, text, sizeof(text));
	assert_string_equal(text, "SSL://[::1]:19093");

	/* advertised.listeners applies to the PLAINTEXT listener of listen too */
	assert_int_equal(LOAD("--listen", "127.0.0.1:19092", "--advertised-listeners",
			      "PLAINTEXT://h:1"),
			 0);
	assert_int_equal(g_config.nlisteners, 1);
	assert_string_equal(g_config.listeners[0].host, "127.0.0.1");
	assert_string_equal(g_config.listeners[0].adv_host, "h");
	assert_int_equal(g_config.advertised_port, 1);

	/* from the environment and the file as well */
	setenv("PGK_LISTENERS", "SSL://127.0.0.1:19443", 1);
	setenv("PGK_SSL_CERTIFICATE_LOCATION", "c.pem", 1);
	setenv("PGK_SSL_KEY_LOCATION", "k.pem", 1);
	assert_int_equal(LOAD("--node-id", "2"), 0);
	assert_int_equal(g_config.nlisteners, 1);
	assert_int_equal(g_config.listeners[0].protocol, SEC_SSL);
	assert_int_equal(g_config.listen_port, 19443);
	unsetenv("PGK_LISTENERS");
	unsetenv("PGK_SSL_CERTIFICATE_LOCATION");
	unsetenv("PGK_SSL_KEY_LOCATION");

	/* refused */
	assert_int_equal(LOAD("--listen", ":1", "--listeners", "PLAINTEXT://:2"), -1);
	assert_int_equal(LOAD("--listeners", "PLAINTEXT://:2", "--advertised", "h:1"), -1);
	assert_int_equal(LOAD("--advertised", "h:1", "--advertised-listeners", "PLAINTEXT://h:1"),
			 -1);
	assert_int_equal(LOAD("--listeners", "PLAINTEXT://:2", "--advertised-listeners",
			      "SSL://h:3"),
			 -1); /* not a listener */
	assert_int_equal(LOAD("--listeners", "PLAINTEXT://:2", "--advertised-listeners",
			      "PLAINTEXT://0.0.0.0:2"),
			 -1); /* not an address to connect to */
	assert_int_equal(LOAD("--listeners", "SASL_SSL://:2"), -1); /* no certificate */
	assert_int_equal(LOAD("--sasl-enabled-mechanisms", "SCRAM-SHA-1"), -1);
	assert_int_equal(LOAD("--sasl-enabled-mechanisms", ""), -1);
	assert_int_equal(LOAD("--sasl-enabled-mechanisms", "plain"), -1); /* names are exact */
	assert_int_equal(LOAD("--connections-max-reauth-ms", "-1"), -1);
	assert_int_equal(LOAD("--listeners", "SSL://:2"), -1); /* no certificate */
	assert_int_equal(LOAD("--listeners", "SSL://:2", "--ssl-certificate-location", "c.pem"),
			 -1); /* no key */
	assert_int_equal(LOAD("--listeners", "SSL://:2", "--ssl-certificate-location", "c.pem",
			      "--ssl-key-location", "k.pem", "--ssl-client-auth", "requested"),
			 -1); /* no CA to verify clients with */
	assert_int_equal(LOAD("--ssl-client-auth", "maybe"), -1);
	assert_int_equal(LOAD("--listeners", "PLAINTEXT://x"), -1);
}

/* SASL listeners and their settings. */
static void test_sasl_settings(void **state)
{
	(void)state;
	assert_int_equal(LOAD("--listeners", "SASL_PLAINTEXT://:2"), 0);
	assert_int_equal(g_config.listeners[0].protocol, SEC_SASL_PLAINTEXT);
	assert_int_equal(g_config.sasl_mechanisms,
			 1u << SASL_SCRAM_SHA_256 | 1u << SASL_SCRAM_SHA_512);
	assert_false(g_config.sasl_plain_allow_plaintext);
	assert_int_equal(g_config.connections_max_reauth_ms, 0);
	assert_int_equal(LOAD("--listeners", "SASL_PLAINTEXT://:2", "--sasl-enabled-mechanisms",
			      " PLAIN , SCRAM-SHA-512", "--sasl-plain-allow-plaintext", "true",
			      "--connections-max-reauth-ms", "60000"),
			 0);
	assert_int_equal(g_config.sasl_mechanisms, 1u << SASL_PLAIN | 1u << SASL_SCRAM_SHA_512);
	assert_true(g_config.sasl_plain_allow_plaintext);
	assert_int_equal(g_config.connections_max_reauth_ms, 60000);
	assert_int_equal(LOAD("--listeners", "SASL_SSL://:2", "--ssl-certificate-location", "c.pem",
			      "--ssl-key-location", "k.pem"),
			 0);
	assert_int_equal(g_config.listeners[0].protocol, SEC_SASL_SSL);
}

static void test_metrics_listen(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--metrics-listen", "127.0.0.1:9404"), 0);
	assert_string_equal(g_config.metrics_host, "127.0.0.1");
	assert_int_equal(g_config.metrics_port, 9404);
	assert_int_equal(LOAD("--metrics-listen", "[::1]:9405"), 0);
	assert_string_equal(g_config.metrics_host, "::1");
	assert_int_equal(g_config.metrics_port, 9405);
	assert_int_equal(LOAD("--metrics-listen", ""), 0);
	assert_null(g_config.metrics_host);
	setenv("PGK_METRICS_LISTEN", "0.0.0.0:9999", 1);
	assert_int_equal(LOAD("--pg", "dbname=x"), 0);
	assert_string_equal(g_config.metrics_host, "0.0.0.0");
	assert_int_equal(g_config.metrics_port, 9999);
	unsetenv("PGK_METRICS_LISTEN");
	assert_int_equal(LOAD("--metrics-listen", "localhost"), -1); /* no port */
	assert_int_equal(LOAD("--metrics-listen", ":9404"), -1);     /* no host */
	assert_int_equal(LOAD("--metrics-listen", "localhost:0"), -1);
	assert_int_equal(LOAD("--metrics-listen", "::1:9404"), -1);
}

static void test_file(void **state)
{
	(void)state;
	const char *path = write_file("# a comment\n"
				      "\n"
				      "pg.conninfo = \"host=db password=a#b\"\n"
				      "listen = 127.0.0.1:19092   # trailing comment\n"
				      "node.id=7\n"
				      "  cluster.id   =   file-cluster  \n"
				      "pg.pool.size = 8\n"
				      "socket.request.max.bytes = 1000000\n"
				      "num.partitions = 3\n"
				      "auto.create.topics.enable = false\n"
				      "message.max.bytes = 2000000\n"
				      "fetch.max.bytes = 3000000\n"
				      "fetch.readahead.max.bytes = 0\n"
				      "log.level = debug\n");

	assert_int_equal(LOAD("--config", (char *)path), 0);
	assert_string_equal(g_config.pg_conninfo, "host=db password=a#b");
	assert_string_equal(g_config.listen_host, "127.0.0.1");
	assert_int_equal(g_config.listen_port, 19092);
	/* advertised follows a concrete listen address */
	assert_string_equal(g_config.advertised_host, "127.0.0.1");
	assert_int_equal(g_config.advertised_port, 19092);
	assert_int_equal(g_config.node_id, 7);
	assert_string_equal(g_config.cluster_id, "file-cluster");
	assert_int_equal(g_config.pool_size, 8);
	assert_int_equal(g_config.max_request_bytes, 1000000);
	assert_int_equal(g_config.num_partitions, 3);
	assert_false(g_config.auto_create_topics);
	assert_int_equal(g_config.message_max_bytes, 2000000);
	assert_int_equal(g_config.fetch_max_bytes_cap, 3000000);
	assert_int_equal(g_config.fetch_readahead_max_bytes, 0);
	assert_int_equal(g_config.log_level, 3);
	assert_string_equal(g_config.config_file, path);
}

static void test_file_from_env(void **state)
{
	(void)state;
	char *argv[] = {"pg_kafka", NULL};

	setenv("PGK_CONFIG", write_file("node.id = 42\n"), 1);
	assert_int_equal(config_load(1, argv), 0);
	assert_int_equal(g_config.node_id, 42);
}

static void test_precedence(void **state)
{
	(void)state;
	const char *path = write_file("node.id = 10\n"
				      "cluster.id = from-file\n"
				      "pg.pool.size = 2\n"
				      "log.level = warn\n"
				      "num.partitions = 5\n");

	setenv("PGK_NODE_ID", "20", 1);
	setenv("PGK_CLUSTER_ID", "from-env", 1);
	setenv("PGK_POOL_SIZE", "3", 1);

	assert_int_equal(LOAD("--config", (char *)path, "--node-id", "30", "--pool-size=6",
			      "--pool-size", "7"),
			 0);
	assert_int_equal(g_config.node_id, 30);               /* flag beats env and file */
	assert_string_equal(g_config.cluster_id, "from-env"); /* env beats file */
	assert_int_equal(g_config.pool_size, 7);              /* the last flag wins */
	assert_int_equal(g_config.log_level, 1);              /* file beats default */
	assert_int_equal(g_config.num_partitions, 5);
}

static void test_env(void **state)
{
	(void)state;
	char *argv[] = {"pg_kafka", NULL};

	setenv("PGK_PG", "host=/tmp port=5433", 1);
	setenv("PGK_LISTEN", "[::1]:9093", 1);
	setenv("PGK_ADVERTISED", "kafka.example.com", 1);
	setenv("PGK_LOG_LEVEL", "error", 1);
	setenv("PGK_AUTO_CREATE_TOPICS", "off", 1);
	setenv("PGK_MAX_REQUEST_BYTES", "65536", 1);

	assert_int_equal(config_load(1, argv), 0);
	assert_string_equal(g_config.pg_conninfo, "host=/tmp port=5433");
	assert_string_equal(g_config.listen_host, "::1");
	assert_int_equal(g_config.listen_port, 9093);
	assert_string_equal(g_config.advertised_host, "kafka.example.com");
	assert_int_equal(g_config.advertised_port, 9093); /* follows listen port */
	assert_int_equal(g_config.log_level, 0);
	assert_false(g_config.auto_create_topics);
	assert_int_equal(g_config.max_request_bytes, 65536);
}

static void test_flags(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--pg", "dbname=x", "--listen", ":19000", "--advertised",
			      "broker1:29000", "--cluster-id", "abcdefghijklmnopqrstuv",
			      "--num-partitions", "12", "--auto-create-topics", "true",
			      "--max-request-bytes", "1048576", "--message-max-bytes", "500",
			      "--log-level", "DEBUG"),
			 0);
	assert_string_equal(g_config.pg_conninfo, "dbname=x");
	assert_string_equal(g_config.listen_host, "0.0.0.0");
	assert_int_equal(g_config.listen_port, 19000);
	assert_string_equal(g_config.advertised_host, "broker1");
	assert_int_equal(g_config.advertised_port, 29000);
	assert_string_equal(g_config.cluster_id, "abcdefghijklmnopqrstuv");
	assert_int_equal(g_config.num_partitions, 12);
	assert_true(g_config.auto_create_topics);
	assert_int_equal(g_config.max_request_bytes, 1048576);
	assert_int_equal(g_config.message_max_bytes, 500);
	assert_int_equal(g_config.log_level, 3);
}

static void test_reload_resets(void **state)
{
	(void)state;
	char *argv[] = {"pg_kafka", NULL};

	assert_int_equal(LOAD("--node-id", "9", "--advertised", "x:1"), 0);
	assert_int_equal(g_config.node_id, 9);
	assert_int_equal(config_load(1, argv), 0);
	assert_int_equal(g_config.node_id, 1);
	assert_string_equal(g_config.advertised_host, "localhost");
	assert_int_equal(g_config.advertised_port, 9092);
}

static void test_help_version(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--help"), 1);
	assert_int_equal(LOAD("--version"), 1);
}

static void test_bad_flags(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--node-id", "abc"), -1);
	assert_int_equal(LOAD("--node-id", "-1"), -1);
	assert_int_equal(LOAD("--node-id", "99999999999"), -1);
	assert_int_equal(LOAD("--node-id", "5x"), -1);
	assert_int_equal(LOAD("--node-id", ""), -1);
	assert_int_equal(LOAD("--pool-size", "0"), -1);
	assert_int_equal(LOAD("--num-partitions", "0"), -1);
	assert_int_equal(LOAD("--listen", "localhost:99999"), -1);
	assert_int_equal(LOAD("--listen", "localhost:"), -1);
	assert_int_equal(LOAD("--listen", "::1:9092"), -1);
	assert_int_equal(LOAD("--listen", "[::1:9092"), -1);
	assert_int_equal(LOAD("--advertised", "host:port"), -1);
	assert_int_equal(LOAD("--log-level", "loud"), -1);
	assert_int_equal(LOAD("--auto-create-topics", "maybe"), -1);
	assert_int_equal(LOAD("--max-request-bytes", "10"), -1);
	assert_int_equal(LOAD("--message-max-bytes", "0"), -1);
	assert_int_equal(LOAD("--cluster-id", "has space"), -1);
	assert_int_equal(LOAD("--no-such-option"), -1);
	assert_int_equal(LOAD("--node-id"), -1);
	assert_int_equal(LOAD("stray"), -1);
	assert_int_equal(LOAD("--config", "/nonexistent/pg_kafka.conf"), -1);
}

static void test_bad_env(void **state)
{
	(void)state;
	char *argv[] = {"pg_kafka", NULL};

	setenv("PGK_POOL_SIZE", "many", 1);
	assert_int_equal(config_load(1, argv), -1);
	unsetenv("PGK_POOL_SIZE");
	/* a valid flag does not hide an invalid environment variable */
	setenv("PGK_NODE_ID", "x", 1);
	assert_int_equal(LOAD("--node-id", "3"), -1);
}

static void test_bad_file(void **state)
{
	(void)state;

	assert_int_equal(LOAD("--config", (char *)write_file("no.such.key = 1\n")), -1);
	unlink(tmp_path);
	assert_int_equal(LOAD("--config", (char *)write_file("node.id 5\n")), -1);
	unlink(tmp_path);
	assert_int_equal(LOAD("--config", (char *)write_file("node.id = five\n")), -1);
	unlink(tmp_path);
	assert_int_equal(LOAD("--config", (char *)write_file("cluster.id = \"open\n")), -1);
	unlink(tmp_path);
	assert_int_equal(LOAD("--config", (char *)write_file(" = 5\n")), -1);
}

/* ---- the forwarder's table ---- */

static const char *kafka_prop(const char *key)
{
	for (int i = 0; i < g_shadow.nkafka; i++)
		if (strcmp(g_shadow.kafka[i].key, key) == 0)
			return g_shadow.kafka[i].value;
	return NULL;
}

static void test_shadow_defaults(void **state)
{
	(void)state;

	assert_int_equal(SLOAD("--bootstrap", "ext:9092"), 0);
	assert_string_equal(g_shadow.pg_conninfo, "dbname=pg_kafka");
	assert_string_equal(g_shadow.slot, "pg_kafka_shadow");
	assert_string_equal(g_shadow.bootstrap, "ext:9092");
	assert_string_equal(g_shadow.topics_include, "");
	assert_string_equal(g_shadow.checkpoint_topic, "__pg_kafka_shadow");
	assert_true(g_shadow.dedup);
	assert_true(g_shadow.sql_status);
	assert_int_equal(g_shadow.confirm_interval_ms, 200);
	assert_int_equal(g_shadow.status_interval_ms, 5000);
	assert_string_equal(g_shadow.replay_from, "earliest");
	assert_int_equal(g_shadow.start_position, START_EARLIEST);
	assert_int_equal(g_shadow.nkafka, 0);
	assert_int_equal(SLOAD("--bootstrap", "ext:9092", "--start-position", "LATEST"), 0);
	assert_int_equal(g_shadow.start_position, START_LATEST);
}

/* Quoted values and trailing comments, as in the broker's file. */
static void test_shadow_file(void **state)
{
	(void)state;
	const char *path = write_file("# forwarder\n"
				      "pg.conninfo = \"host=db password=a#b\"\n"
				      "slot = file_slot   # trailing comment\n"
				      "topics.include = t1,t2\n"
				      "dedup = off\n"
				      "confirm.interval.ms = 50 # ms\n"
				      "kafka.bootstrap.servers = ext:1 # from the file\n"
				      "kafka.linger.ms = \"5\"\n");

	assert_int_equal(SLOAD("--config", (char *)path), 0);
	assert_string_equal(g_shadow.pg_conninfo, "host=db password=a#b");
	assert_string_equal(g_shadow.slot, "file_slot");
	assert_string_equal(g_shadow.topics_include, "t1,t2");
	assert_false(g_shadow.dedup);
	assert_int_equal(g_shadow.confirm_interval_ms, 50);
	assert_string_equal(kafka_prop("bootstrap.servers"), "ext:1");
	assert_string_equal(kafka_prop("linger.ms"), "5");
}

/* file < environment < flags; an empty variable counts as unset. */
static void test_shadow_precedence(void **state)
{
	(void)state;
	const char *path = write_file("slot = file_slot\n"
				      "bootstrap.servers = file:1\n"
				      "topics.include = file_topic\n"
				      "confirm.interval.ms = 10\n");

	setenv("SHADOW_CONFIG", path, 1);
	setenv("SHADOW_SLOT", "env_slot", 1);
	setenv("SHADOW_BOOTSTRAP", "env:1", 1);
	setenv("SHADOW_TOPICS_INCLUDE", "", 1);
	setenv("SHADOW_CONFIRM_INTERVAL_MS", "20", 1);
	assert_int_equal(SLOAD("--bootstrap", "flag:1", "--kafka-prop", "acks=1", "--kafka-prop",
			       "acks=all"),
			 0);
	assert_string_equal(g_shadow.slot, "env_slot");             /* env beats file */
	assert_string_equal(g_shadow.bootstrap, "flag:1");          /* flag beats env */
	assert_string_equal(g_shadow.topics_include, "file_topic"); /* empty env: unset */
	assert_int_equal(g_shadow.confirm_interval_ms, 20);
	assert_string_equal(kafka_prop("acks"), "all"); /* the last one wins */
	assert_int_equal(g_shadow.nkafka, 1);
}

static void test_shadow_errors(void **state)
{
	(void)state;

	/* ranges and types, wherever the value comes from */
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--confirm-interval-ms", "0"), -1);
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--status-interval-ms", "9999999999"), -1);
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--dedup", "maybe"), -1);
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--start-position", "end"), -1);
	setenv("SHADOW_DEDUP", "perhaps", 1);
	assert_int_equal(SLOAD("--bootstrap", "x:1"), -1);
	unsetenv("SHADOW_DEDUP");
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--kafka-prop", "no-equals-sign"), -1);
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--kafka-prop", "=v"), -1);
	assert_int_equal(SLOAD("--config", (char *)write_file("status.interval.ms = -5\n"),
			       "--bootstrap", "x:1"),
			 -1);
	assert_int_equal(SLOAD("--config", (char *)write_file("no.such.key = 1\n")), -1);
	assert_int_equal(SLOAD("--config", (char *)write_file("slot = \"open\n")), -1);
	/* the forwarder's own checks after loading */
	assert_int_equal(SLOAD("--slot", "x"), -1); /* no external cluster */
	assert_int_equal(SLOAD("--bootstrap", "x:1", "--slot", "Bad-Name"), -1);
	assert_int_equal(SLOAD("--bootstrap", "x:1", "stray"), -1);
	/* --help and --version answer before any check */
	assert_int_equal(SLOAD("--help"), 1);
	assert_int_equal(SLOAD("--version"), 1);
	assert_int_equal(SLOAD("-V"), 1);
}

/* --help names every option, variable and file key of a table. */
static void check_help_lists_all(const cfg_program *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cfg_print_help(p, f);
	fclose(f);
	for (int i = 0; i < p->nsettings; i++) {
		const cfg_setting *s = &p->settings[i];
		char flag[80];
		if (s->flag) {
			snprintf(flag, sizeof(flag), "--%s ", s->flag);
			assert_non_null(strstr(text, flag));
		}
		if (s->env)
			assert_non_null(strstr(text, s->env));
		if (s->key)
			assert_non_null(strstr(text, s->key));
	}
	assert_non_null(strstr(text, p->config_env));
	assert_non_null(strstr(text, "--version"));
	free(text);
}

static void test_help_lists_every_setting(void **state)
{
	(void)state;
	check_help_lists_all(&config_program);
	check_help_lists_all(&shadow_config_program);
}

/* The file syntax both programs share. */
static void test_parse_line(void **state)
{
	(void)state;
	char *key, *value;
	const char *err;
	char l1[] = "  a.b =  \"x # y\"  # c\n", l2[] = "k = v#not-a-comment # comment",
	     l3[] = "   # only a comment", l4[] = "k = \"say \\\"hi\\\"\"", l5[] = "k = \"x\" y";

	assert_int_equal(cfg_parse_line(l1, &key, &value, &err), 0);
	assert_string_equal(key, "a.b");
	assert_string_equal(value, "x # y");
	assert_int_equal(cfg_parse_line(l2, &key, &value, &err), 0);
	assert_string_equal(value, "v#not-a-comment");
	assert_int_equal(cfg_parse_line(l3, &key, &value, &err), 0);
	assert_null(key);
	assert_int_equal(cfg_parse_line(l4, &key, &value, &err), 0);
	assert_string_equal(value, "say \"hi\"");
	assert_int_equal(cfg_parse_line(l5, &key, &value, &err), -1);
}

/* Kafka's list type, as topic configs and IncrementalAlterConfigs'
 * APPEND and SUBTRACT read it. */
static void test_config_list(void **st)
{
	static const struct {
		const char *list;
		int n;
		const char *els[4];
	} cases[] = {
	    {"compact", 1, {"compact"}},
	    {" compact ,\tdelete", 2, {"compact", "delete"}},
	    {"", 1, {""}},
	    {"a,,b", 3, {"a", "", "b"}},
	    {"a,", 2, {"a", ""}},
	    {" , ", 2, {"", ""}},
	};
	(void)st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_list_iter it;
		kstr el;
		int n = 0;
		for (config_list_init(&it, kstr_c(cases[i].list)); config_list_next(&it, &el); n++) {
			assert_true(n < cases[i].n);
			assert_int_equal(el.len, (int32_t)strlen(cases[i].els[n]));
			assert_memory_equal(el.ptr, cases[i].els[n], (size_t)el.len);
		}
		assert_int_equal(n, cases[i].n);
	}
	config_list_iter it;
	kstr el;
	config_list_init(&it, KSTR_NULL);
	assert_false(config_list_next(&it, &el));
	assert_true(config_list_has(KSTR_LIT("compact, delete"), KSTR_LIT("delete")));
	assert_false(config_list_has(KSTR_LIT("compact, delete"), KSTR_LIT("del")));
	assert_false(config_list_has(KSTR_NULL, KSTR_LIT("")));

	const topic_config_def *d = topic_config_lookup(KSTR_LIT("cleanup.policy"));
	assert_non_null(d);
	assert_null(topic_config_check(d, KSTR_LIT("compact , delete")));
	assert_non_null(topic_config_check(d, KSTR_LIT("compact,")));
	assert_non_null(topic_config_check(d, KSTR_LIT("")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_list),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listeners_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sasl_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_lists_every_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
