/*
 * Broker configuration: one struct, filled from defaults, then a config file
 * (key = value lines), then PGK_* environment variables, then command-line
 * flags, in that order. `pg_kafka --help` lists every setting.
 */
#ifndef PGK_CONFIG_H
#define PGK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "listeners.h"

/* ssl.client.auth */
enum { SSL_CLIENT_AUTH_NONE, SSL_CLIENT_AUTH_REQUESTED, SSL_CLIENT_AUTH_REQUIRED };

typedef struct config {
	char *pg_conninfo;       /* libpq connection string (pg.conninfo) */
	/* Every listener with its advertised endpoint: those of "listeners",
	 * or the one PLAINTEXT listener of "listen"/"advertised". */
	listener_cfg *listeners;
	int nlisteners;
	/* The first listener's addresses (listen.*, advertised.* when given). */
	char *listen_host;       /* listen.host, default 0.0.0.0 ... see --help */
	int listen_port;         /* listen.port, default 9092 */
	char *advertised_host;   /* advertised.host, default: listen host or localhost */
	int advertised_port;     /* advertised.port, default: listen port */
	char *ssl_certificate_location; /* PEM files of the SSL listeners */
	char *ssl_key_location;
	char *ssl_ca_location;
	int ssl_client_auth;            /* SSL_CLIENT_AUTH_* */
	unsigned sasl_mechanisms;       /* sasl.enabled.mechanisms: 1 << sasl_mech */
	bool sasl_plain_allow_plaintext; /* sasl.plain.allow.plaintext: PLAIN on SASL_PLAINTEXT */
	int32_t connections_max_reauth_ms; /* 0: sessions never expire */
	int32_t node_id;         /* node.id, default 1 */
	bool cluster_member;     /* node.id was given: register (cluster.c) */
	char *broker_rack;       /* broker.rack, NULL: none */
	int32_t broker_session_timeout_ms;   /* broker.session.timeout.ms */
	int32_t broker_heartbeat_interval_ms; /* broker.heartbeat.interval.ms */
	char *cluster_id;        /* cluster.id */
	int pool_size;           /* pg.pool.size, libpq connections */
	int32_t max_request_bytes;  /* socket.request.max.bytes */
	int32_t num_partitions;     /* num.partitions for auto-created topics */
	bool auto_create_topics;    /* auto.create.topics.enable */
	int32_t message_max_bytes;  /* message.max.bytes, default batch size limit */
	int32_t fetch_max_bytes_cap; /* upper bound on one fetch response */
	int32_t fetch_readahead_max_bytes; /* fetch.readahead.max.bytes, 0: no read-ahead */
	int log_level;              /* 0 error, 1 warn, 2 info, 3 debug */
	int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
	int32_t transaction_max_timeout_ms;       /* transaction.max.timeout.ms */
	int32_t quota_window_num;                 /* quota.window.num */
	int32_t quota_window_size_seconds;        /* quota.window.size.seconds */
	/* transaction.abort.timed.out.transaction.cleanup.interval.ms */
	int32_t txn_abort_timed_out_cleanup_interval_ms;
	/* Storage and retention (maintenance.c): topic defaults and the job */
	int64_t log_retention_ms;     /* log.retention.ms, -1: for ever */
	int64_t log_retention_bytes;  /* log.retention.bytes, -1: no limit */
	int64_t log_roll_ms;          /* log.roll.ms: segment.ms's default */
	int32_t log_segment_bytes;    /* log.segment.bytes: segment.bytes's default */
	int32_t log_retention_check_interval_ms; /* log.retention.check.interval.ms */
	int32_t log_maintenance_budget;          /* rows deleted per pass at most */
	int64_t producer_id_expiration_ms;       /* producer.id.expiration.ms */
	int64_t transactional_id_expiration_ms;  /* transactional.id.expiration.ms */
	/* Committed offset expiry (offset_expiry.c) */
	int32_t offsets_retention_minutes;           /* offsets.retention.minutes */
	int32_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
	bool stream_enabled;        /* stream.enabled: wake fetches from the decoding stream */
	char *metrics_host;         /* metrics.listen host; NULL: no metrics listener */
	int metrics_port;
	bool authorizer_enabled;             /* authorizer.enabled: enforce kafka.acls */
	char *super_users;                   /* super.users, "User:a;User:b" */
	bool allow_everyone_if_no_acl_found; /* allow.everyone.if.no.acl.found */
	char *config_file;
} config;

extern config g_config;

/* The settings table, for common/cfg.c (and the tests). */
struct cfg_program;
extern const struct cfg_program config_program;

/* Fill g_config. Returns 0, 1 when --help/--version was printed, -1 on error. */
int config_load(int argc, char **argv);
void config_free(void);

#endif
