/*
 * Every SQL statement the broker runs, prepared once per pool connection.
 * Parameter types are fixed by casts in the SQL text. The statements rely on
 * the invariants of sql/pg_kafka--*.sql: offsets are allocated by updating
 * the partition row (its lock orders writers), records are inserted in the
 * same transaction.
 */
#ifndef PGK_QUERIES_H
#define PGK_QUERIES_H

typedef enum query_id {
	Q_TOPICS_ALL,          /* () -> name, topic_id, partitions */
	Q_TOPICS_BY_NAME,      /* (text[]) -> name, topic_id, partitions */
	Q_TOPIC_AUTO_CREATE,   /* (name, partitions) -> topic_id or no row */
	Q_TOPIC_CREATE,        /* (name, partitions, configs jsonb) -> topic_id */
	Q_TOPIC_SET_RF,        /* (name, replication_factor) */
	Q_TOPIC_EXISTS,        /* (name) -> partitions or no row */
	Q_TOPIC_DELETE,        /* (name or NULL, topic_id or NULL) -> name, topic_id */
	Q_TOPIC_ADD_PARTITIONS,/* (name, total) */
	Q_TOPIC_CONFIGS,       /* (name) -> config name, value (one row with NULLs if none) */
	Q_PRODUCE,             /* see queries.c */
	Q_FETCH,               /* (topic, partition, offset, limit) binary rows */
	Q_LIST_OFFSETS,        /* (topic, partition, timestamp) */
	Q_OFFSET_COMMIT,       /* (group, topics[], partitions[], offsets[], epochs[], metadata[]) */
	Q_OFFSET_FETCH,        /* (group, topics[], partitions[]) -> one row per input */
	Q_OFFSET_FETCH_ALL,    /* (group) -> topic, partition, offset, epoch, metadata */
	Q_GROUPS_WITH_OFFSETS, /* (groups[] or NULL) -> group_id */
	Q_GROUP_HAS_OFFSETS,   /* (group) -> bool */
	Q_GROUP_DELETE,        /* (group) -> offsets deleted */
	Q_OFFSET_DELETE,       /* (group, topics[], partitions[]) -> partition exists, per input */
	Q_PRODUCE_IDEMPOTENT,  /* Q_PRODUCE's, then (producer_id, epoch, base_sequence); + error */
	Q_INIT_PRODUCER_ID,    /* (producer_id, epoch) -> producer_id, epoch, error */
	Q_QUERY_COUNT
} query_id;

typedef struct query_def {
	const char *name; /* prepared statement name */
	const char *sql;
	int nparams;
} query_def;

extern const query_def queries[Q_QUERY_COUNT];

#endif
