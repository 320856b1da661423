/*
 * Every SQL statement the broker runs, prepared once per pool connection.
 * Parameter types are fixed by casts in the SQL text. The statements rely on
 * the invariants of sql/pg_kafka--*.sql: offsets are allocated by updating
 * the partition row (its lock orders writers), records are inserted in the
 * same transaction.
 */
#ifndef PGK_QUERIES_H
#define PGK_QUERIES_H

#include "pool.h"

typedef enum query_id {
	Q_TOPICS_ALL,          /* () -> name, topic_id, partitions */
	Q_TOPICS_BY_NAME,      /* (text[]) -> name, topic_id, partitions */
	Q_TOPIC_AUTO_CREATE,   /* (name, partitions) -> topic_id or no row */
	Q_TOPIC_NAME_TAKEN,    /* (name) -> it, or a name colliding with it, or no row */
	Q_TOPIC_CREATE,        /* (name, partitions, configs jsonb) -> topic_id, or NULL
				* and a colliding name */
	Q_TOPIC_SET_RF,        /* (name, replication_factor) */
	Q_TOPIC_EXISTS,        /* (name) -> partitions or no row */
	Q_TOPIC_DELETE,        /* (name or NULL, topic_id or NULL) -> name, topic_id */
	Q_TOPIC_ADD_PARTITIONS,/* (name, total, current): a row if added */
	Q_TOPIC_CONFIGS,       /* (name) -> config name, value (one row with NULLs if none) */
	Q_TOPIC_SET_CONFIGS,   /* (name, names[], values[]) -> a row if the topic exists */
	Q_DELETE_RECORDS,      /* (topic, partition, before) -> low watermark, error */
	Q_PRODUCE,             /* see queries.c */
	Q_FETCH,               /* (topic, partition, offset, limit, isolation_level, topic_id or
				  NULL) binary rows; none if the topic (with that id) is gone */
	Q_LIST_OFFSETS,        /* (topic, partition, timestamp) -> ..., last stable offset,
				* current epoch, epoch at log start, epoch of the found offset */
	Q_OFFSET_COMMIT,       /* (group, topics[], partitions[], offsets[], epochs[], metadata[],
				* retention ms or NULL) */
	Q_OFFSET_FETCH,        /* (group, topics[], partitions[]) -> one row per input,
				* with whether a transactional offset is pending */
	Q_OFFSET_FETCH_ALL,    /* (group) -> topic, partition, offset, epoch, metadata */
	Q_GROUPS_WITH_OFFSETS, /* (groups[] or NULL) -> group_id */
	Q_GROUP_HAS_OFFSETS,   /* (group) -> bool */
	Q_GROUP_DELETE,        /* (group) -> offsets deleted */
	Q_OFFSET_DELETE,       /* (group, topics[], partitions[]) -> partition exists, per input */
	Q_PRODUCE_IDEMPOTENT,  /* Q_PRODUCE's, then (producer_id, epoch, base_sequence); + error */
	Q_INIT_PRODUCER_ID,    /* (producer_id, epoch) -> producer_id, epoch, error */
	/* Transactions (docs/TRANSACTIONS.md) */
	Q_PRODUCE_TRANSACTIONAL,  /* Q_PRODUCE_IDEMPOTENT's, then transactional_id */
	Q_INIT_PRODUCER_ID_TXN,   /* (txn_id, timeout, pid, epoch, max timeout)
				   * -> pid, epoch, error, topics[], partitions[] */
	Q_ADD_PARTITIONS_TO_TXN,  /* (txn_id, pid, epoch, topics[], partitions[])
				   * -> topic, partition, error per input */
	Q_ADD_OFFSETS_TO_TXN,     /* (txn_id, pid, epoch, group) -> error */
	Q_TXN_OFFSET_COMMIT,      /* (txn_id, group, pid, epoch, topics[], partitions[],
				   * offsets[], leader_epochs[], metadata[])
				   * -> topic, partition, error per input */
	Q_END_TXN,                /* (txn_id, pid, epoch, commit) -> error, topics[], partitions[] */
	Q_ABORT_EXPIRED_TXNS,     /* () -> txn_id, topics[], partitions[] */
	Q_DESCRIBE_TXNS,          /* (txn_ids[]) -> state, pid, epoch, timeout, start ms,
				   * topics[], partitions[]; one row per input */
	Q_LIST_TXNS,              /* (states[] or NULL, pids[] or NULL, duration ms)
				   * -> txn_id, pid, state */
	Q_PARTITIONS_EXIST,       /* (topics[], partitions[]) -> exists, per input */
	Q_TXN_ONGOING,            /* (txn_id) -> whether its transaction is Ongoing */
	Q_TXN_VERIFY,             /* (txn_id, pid, epoch, group or NULL: not checked) -> error */
	/* Transactions v2 (KIP-890) */
	Q_PRODUCE_TRANSACTIONAL_V2, /* Q_PRODUCE_TRANSACTIONAL's; adds the partition first */
	Q_END_TXN_V2,             /* (txn_id, pid, epoch, commit)
				   * -> error, pid, epoch, topics[], partitions[] */
	Q_ADD_PARTITIONS_TO_TXN_VERIFY, /* Q_ADD_PARTITIONS_TO_TXN's, nothing added */
	Q_TXN_OFFSET_COMMIT_V2,   /* Q_TXN_OFFSET_COMMIT's; adds the group first */
	/* Client quotas (h_quotas.c) */
	Q_QUOTA_LOAD,             /* () -> entity_types, user, client_id, ip, key, value */
	Q_QUOTA_SET,              /* (entity_types, user, client_id, ip, key, value or NULL) */
	/* SASL (h_sasl.c): kafka.scram_credential*(), kafka.scram_credentials */
	Q_SCRAM_CREDENTIAL,       /* (user, mechanism) -> iterations, salt, stored_key,
				   * server_key (hex), source; at most one row */
	Q_SCRAM_LIST,             /* () -> user_name, mechanism, iterations, source */
	Q_SCRAM_UPSERT,           /* (user, mechanism, iterations, salt, stored_key,
				   * server_key (hex)) -> a row unless the role's own */
	Q_SCRAM_DELETE,           /* (user, mechanism) -> a row if deleted */
	Q_TOPIC_NAMES_BY_ID,      /* (topic_ids uuid[]) -> topic_id, name of those that exist */
	/* ACLs (authorizer.c, h_acl.c) */
	Q_ACL_LOAD,               /* (loaded version) -> version, then the rules if it moved */
	Q_ACL_SET_AUTHORIZER,     /* (enabled, super_users[], allow if no acl) */
	Q_ACL_CREATE,             /* (type, pattern, name, principal, host, op, permission) */
	Q_ACL_DELETE,             /* (filter; NULL: any) -> the rows deleted */
	/* Cluster and replica APIs (h_replicas.c) */
	Q_PARTITION_ENDS,         /* (topics[], partitions[]) -> next_offset, log_start_offset
				   * (NULL: no such partition), database; one row per input */
	Q_LOG_DIR_SIZES,          /* (topics[] or NULL, partitions[]) -> database, topic, partition,
				   * estimated bytes; topic NULL when there is no partition */
	Q_DESCRIBE_PRODUCERS,     /* (topics[], partitions[]) -> topic, partition, pid, epoch,
				   * last sequence, last ms, ongoing txn's first offset */
	/* Cluster membership (cluster.c) */
	Q_BROKER_HEARTBEAT,       /* (node_id, incarnation, listeners, rack, lease ms)
				   * -> node_id, listeners, rack, leadership_version per live broker */
	Q_BROKER_LEAVE,           /* (node_id, incarnation) */
	Q_PARTITION_LEADERS,      /* () -> topic, partition, leader_id, leader_epoch */
	Q_OFFSET_FOR_LEADER_EPOCH, /* (topics[], partitions[], epochs[]) -> leader_epoch,
				   * end_offset per input; NULLs if no partition */
	Q_CHECK_TIMELINE,         /* (): bump every leader epoch once on a new WAL timeline */
	Q_PARTITION_EPOCHS,       /* () -> topic, partition, current leader epoch */
	/* Storage and retention (maintenance.c) */
	Q_MAINTENANCE,            /* (defaults jsonb, budget) -> action, topic, partition,
				   * from, to, records; no rows when another broker runs it */
	/* Offset expiry (offset_expiry.c, group_coord.c) */
	Q_OFFSET_EXPIRY_GROUPS,   /* (retention ms) -> group_id: groups that may have
				   * offsets to expire */
	Q_OFFSET_EXPIRE,          /* (retention ms, groups[], has_members[], sub_groups[],
				   * sub_topics[]) -> group_id, expired, gone */
	Q_GROUP_MEMBERSHIP,       /* (group, has_members, since ms) */
	/* Consumer groups of the KIP-848 protocol (consumer_groups.c) */
	Q_CG_SAVE,                /* (group, group_epoch, assignment_epoch, assignor,
				   * members jsonb, metadata_hash) */
	Q_CG_DELETE,              /* (group) */
	Q_CG_LOAD,                /* (group) -> kafka.consumer_group_load's rows */
	Q_CG_IDS,                 /* () -> group_id of every consumer group */
	Q_CHUNK_WORK,             /* (defaults jsonb) -> action, table, topic, partition, lo, hi */
	Q_ADD_CHUNK,              /* (topic, partition, defaults jsonb) -> new table or NULL */
	Q_DROP_CHUNK,             /* (table) -> dropped */
	Q_UTILITY,                /* (statement text): run as it is, not prepared (pool.h) */
	Q_QUERY_COUNT
} query_id;

/* The table given to pool_init; db_stmt.q is a query_id. */
extern const pool_statement queries[Q_QUERY_COUNT];

#endif
