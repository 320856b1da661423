/*
 * The SQL text of every prepared statement (see queries.h).
 */
#include "queries.h"

const query_def queries[Q_QUERY_COUNT] = {
	[Q_TOPICS_ALL] = {"pgk_topics_all",
			  "SELECT name, topic_id::text, partitions FROM kafka.topics ORDER BY name", 0},
	[Q_TOPICS_BY_NAME] = {"pgk_topics_by_name",
			      "SELECT name, topic_id::text, partitions FROM kafka.topics "
			      "WHERE name = ANY($1::text[]) ORDER BY name",
			      1},
	/* Metadata auto-creation: a topic created meanwhile by someone else
	 * is not an error. */
	[Q_TOPIC_AUTO_CREATE] = {"pgk_topic_auto_create",
				 "SELECT kafka.create_topic($1::text, $2::int) "
				 "WHERE NOT EXISTS (SELECT 1 FROM kafka.topics WHERE name = $1::text)",
				 2},
	[Q_TOPIC_CREATE] = {"pgk_topic_create",
			    "SELECT kafka.create_topic($1::text, $2::int, $3::jsonb)::text", 3},
	/* Run after Q_TOPIC_CREATE in the same job (one transaction). */
	[Q_TOPIC_SET_RF] = {"pgk_topic_set_rf",
			    "UPDATE kafka.topics SET replication_factor = $2::smallint WHERE name = $1::text",
			    2},
	[Q_TOPIC_EXISTS] = {"pgk_topic_exists",
			    "SELECT partitions FROM kafka.topics WHERE name = $1::text", 1},
	[Q_TOPIC_DELETE] = {"pgk_topic_delete",
			    "DELETE FROM kafka.topics WHERE ($1::text IS NOT NULL AND name = $1::text) "
			    "OR ($1::text IS NULL AND topic_id = $2::uuid) "
			    "RETURNING name, topic_id::text",
			    2},
	[Q_TOPIC_ADD_PARTITIONS] = {"pgk_topic_add_partitions",
				    "SELECT kafka.create_partitions($1::text, $2::int)", 2},
	[Q_TOPIC_CONFIGS] = {"pgk_topic_configs",
			     "SELECT c.name, c.value FROM kafka.topics t "
			     "LEFT JOIN kafka.topic_configs c ON c.topic = t.name "
			     "WHERE t.name = $1::text",
			     1},
	/*
	 * Append one batch to one partition, in one statement: take the
	 * partition row lock while reserving $3 offsets, insert the records
	 * with those offsets, and report the base offset. No row in p means
	 * no such partition; a batch larger than the topic's
	 * max.message.bytes ($8 > maxb) inserts nothing.
	 * $1 topic, $2 partition, $3 record count, $4 timestamptz[],
	 * $5 keys bytea[], $6 values bytea[], $7 headers bytea[],
	 * $8 batch size, $9 broker default max.message.bytes.
	 */
	[Q_PRODUCE] = {"pgk_produce",
		       "WITH cfg AS ("
		       " SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),"
		       "  'CreateTime') = 'LogAppendTime' AS lat,"
		       "  coalesce(max(value) FILTER (WHERE name = 'max.message.bytes')::int,"
		       "  $9::int) AS maxb"
		       " FROM kafka.topic_configs WHERE topic = $1::text),"
		       " p AS (UPDATE kafka.partitions SET next_offset = next_offset + $3::int"
		       "  FROM cfg WHERE topic = $1::text AND partition = $2::int AND $8::int <= cfg.maxb"
		       "  RETURNING next_offset - $3::int AS base, log_start_offset),"
		       " ins AS (INSERT INTO kafka.records"
		       "  (topic, partition, \"offset\", \"timestamp\", key, value, headers)"
		       "  SELECT $1::text, $2::int, p.base + r.n - 1,"
		       "   CASE WHEN cfg.lat THEN now() ELSE r.ts END, r.k, r.v, r.h"
		       "  FROM p, cfg, unnest($4::timestamptz[], $5::bytea[], $6::bytea[], $7::bytea[])"
		       "   WITH ORDINALITY AS r(ts, k, v, h, n))"
		       " SELECT p.base, p.log_start_offset, cfg.lat,"
		       "  (extract(epoch FROM now()) * 1000)::int8, cfg.maxb"
		       " FROM cfg LEFT JOIN p ON true",
		       9},
	/*
	 * Read from one partition: its watermarks and up to $4 records from
	 * offset $3, in one snapshot, plus the topic settings that shape the
	 * batches (compression.type, message.timestamp.type). Binary results.
	 */
	[Q_FETCH] = {"pgk_fetch",
		     "SELECT p.next_offset, p.log_start_offset, r.\"offset\", r.\"timestamp\","
		     " r.key, r.value, r.headers,"
		     " (SELECT value FROM kafka.topic_configs c WHERE c.topic = $1::text"
		     "   AND c.name = 'compression.type'),"
		     " (SELECT value FROM kafka.topic_configs c WHERE c.topic = $1::text"
		     "   AND c.name = 'message.timestamp.type')"
		     " FROM kafka.partitions p LEFT JOIN LATERAL ("
		     "  SELECT \"offset\", \"timestamp\", key, value, headers FROM kafka.records"
		     "  WHERE topic = p.topic AND partition = p.partition AND \"offset\" >= $3::int8"
		     "  ORDER BY \"offset\" LIMIT $4::int) r ON true"
		     " WHERE p.topic = $1::text AND p.partition = $2::int",
		     4},
	/*
	 * ListOffsets: watermarks, and for $3 >= 0 the first record at or
	 * after that time, for $3 = -3 the record with the largest timestamp.
	 */
	[Q_LIST_OFFSETS] = {"pgk_list_offsets",
			    "SELECT p.next_offset, p.log_start_offset, m.\"offset\","
			    " (extract(epoch FROM m.\"timestamp\") * 1000)::int8"
			    " FROM kafka.partitions p LEFT JOIN LATERAL ("
			    "  (SELECT \"offset\", \"timestamp\" FROM kafka.records r"
			    "   WHERE $3::int8 >= 0 AND r.topic = p.topic AND r.partition = p.partition"
			    "   AND r.\"timestamp\" >= 'epoch'::timestamptz + $3::int8 * interval '1 millisecond'"
			    "   ORDER BY \"offset\" LIMIT 1)"
			    "  UNION ALL"
			    "  (SELECT \"offset\", \"timestamp\" FROM kafka.records r"
			    "   WHERE $3::int8 = -3 AND r.topic = p.topic AND r.partition = p.partition"
			    "   ORDER BY \"timestamp\" DESC, \"offset\" LIMIT 1)) m ON true"
			    " WHERE p.topic = $1::text AND p.partition = $2::int",
			    3},
	/*
	 * OffsetCommit: store the offsets of the partitions that exist (the
	 * last one wins when a request names a partition twice) and return
	 * which were stored; the others are unknown to Kafka. Arrays: $2
	 * text[], $3 int8[], $4 int8[], $5 int8[], $6 text[].
	 */
	[Q_OFFSET_COMMIT] = {"pgk_offset_commit",
			     "WITH i AS (SELECT DISTINCT ON (t, p) t, p::int AS p, o, e::int AS e, m"
			     "  FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[])"
			     "   WITH ORDINALITY AS x(t, p, o, e, m, n)"
			     "  ORDER BY t, p, n DESC)"
			     " INSERT INTO kafka.consumer_offsets AS c (group_id, topic, partition,"
			     "  committed_offset, leader_epoch, metadata, commit_timestamp)"
			     " SELECT $1::text, i.t, i.p, i.o, i.e, i.m, now()"
			     " FROM i JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
			     " ON CONFLICT (group_id, topic, partition) DO UPDATE"
			     " SET committed_offset = EXCLUDED.committed_offset,"
			     "  leader_epoch = EXCLUDED.leader_epoch, metadata = EXCLUDED.metadata,"
			     "  commit_timestamp = EXCLUDED.commit_timestamp"
			     " RETURNING c.topic, c.partition",
			     6},
	/* OffsetFetch of listed partitions: one row per input, in order;
	 * NULL offset when nothing is committed. */
	[Q_OFFSET_FETCH] = {"pgk_offset_fetch",
			    "SELECT o.committed_offset, o.leader_epoch, o.metadata,"
			    " q.partition IS NOT NULL"
			    " FROM unnest($2::text[], $3::int8[]) WITH ORDINALITY AS i(t, p, n)"
			    " LEFT JOIN kafka.consumer_offsets o"
			    "  ON o.group_id = $1::text AND o.topic = i.t AND o.partition = i.p"
			    " LEFT JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
			    " ORDER BY i.n",
			    3},
	[Q_OFFSET_FETCH_ALL] = {"pgk_offset_fetch_all",
				"SELECT topic, partition, committed_offset, leader_epoch, metadata"
				" FROM kafka.consumer_offsets WHERE group_id = $1::text"
				" ORDER BY topic, partition",
				1},
	/* Groups known from their offsets (after a restart, or from another
	 * broker); NULL means all of them. */
	[Q_GROUPS_WITH_OFFSETS] = {"pgk_groups_with_offsets",
				   "SELECT DISTINCT group_id FROM kafka.consumer_offsets"
				   " WHERE $1::text[] IS NULL OR group_id = ANY($1::text[])"
				   " ORDER BY group_id",
				   1},
	[Q_GROUP_HAS_OFFSETS] = {"pgk_group_has_offsets",
				 "SELECT EXISTS (SELECT 1 FROM kafka.consumer_offsets"
				 " WHERE group_id = $1::text)",
				 1},
	[Q_GROUP_DELETE] = {"pgk_group_delete",
			    "WITH d AS (DELETE FROM kafka.consumer_offsets WHERE group_id = $1::text"
			    " RETURNING 1) SELECT count(*) FROM d",
			    1},
	/* OffsetDelete: delete what is listed; say per input whether the
	 * partition exists. */
	[Q_OFFSET_DELETE] = {"pgk_offset_delete",
			     "WITH i AS (SELECT t, p, n FROM unnest($2::text[], $3::int8[])"
			     "  WITH ORDINALITY AS x(t, p, n)),"
			     " d AS (DELETE FROM kafka.consumer_offsets o USING i"
			     "  WHERE o.group_id = $1::text AND o.topic = i.t AND o.partition = i.p"
			     "  RETURNING 1)"
			     " SELECT EXISTS (SELECT 1 FROM kafka.partitions q"
			     "  WHERE q.topic = i.t AND q.partition = i.p)"
			     " FROM i ORDER BY i.n",
			     3},
	/*
	 * Produce of an idempotent batch (producer_id >= 0): the sequence
	 * checks and the append happen in one function call, under the
	 * partition row lock (sql/pg_kafka--0.4--0.5.sql). Same columns as
	 * Q_PRODUCE, then a Kafka error code.
	 */
	[Q_PRODUCE_IDEMPOTENT] = {"pgk_produce_idempotent",
				  "SELECT * FROM kafka.produce_idempotent($1::text, $2::int, $3::int,"
				  " $4::timestamptz[], $5::bytea[], $6::bytea[], $7::bytea[], $8::int,"
				  " $9::int, $10::int8, $11::int2, $12::int)",
				  12},
	[Q_INIT_PRODUCER_ID] = {"pgk_init_producer_id",
				"SELECT * FROM kafka.init_producer_id($1::int8, $2::int2)", 2},
};
