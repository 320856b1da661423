/*
 * The SQL text of every prepared statement (see queries.h).
 */
#include "queries.h"

const pool_statement queries[Q_QUERY_COUNT] = {
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
				 "WHERE NOT EXISTS (SELECT 1 FROM kafka.topics"
				 "  WHERE translate(name, '.', '_') = translate($1::text, '.', '_'))",
				 2},
	/*
	 * Create a topic unless its name collides with another once '.' and
	 * '_' are equated (as Kafka refuses it): the topic id, or NULL and the
	 * colliding name.
	 */
	[Q_TOPIC_CREATE] = {"pgk_topic_create",
			    "WITH c AS (SELECT name FROM kafka.topics"
			    "  WHERE translate(name, '.', '_') = translate($1::text, '.', '_')"
			    "  AND name <> $1::text LIMIT 1)"
			    " SELECT kafka.create_topic($1::text, $2::int, $3::jsonb)::text, NULL::text"
			    " WHERE NOT EXISTS (SELECT 1 FROM c)"
			    " UNION ALL SELECT NULL, name FROM c",
			    3},
	/* The topic of that name, else one whose name collides with it. */
	[Q_TOPIC_NAME_TAKEN] = {"pgk_topic_name_taken",
				"SELECT name FROM kafka.topics"
				" WHERE translate(name, '.', '_') = translate($1::text, '.', '_')"
				" ORDER BY name <> $1::text, name LIMIT 1",
				1},
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
	/* Adds only while the topic still has the $3 partitions the request
	 * was checked against: the row lock makes a concurrent
	 * CreatePartitions wait, and no row comes back when it changed the
	 * count meanwhile (the broker then checks again). */
	[Q_TOPIC_ADD_PARTITIONS] = {"pgk_topic_add_partitions",
				    "WITH t AS (SELECT partitions FROM kafka.topics "
				    "WHERE name = $1::text FOR UPDATE) "
				    "SELECT kafka.create_partitions($1::text, $2::int) FROM t "
				    "WHERE t.partitions = $3::int",
				    3},
	[Q_TOPIC_CONFIGS] = {"pgk_topic_configs",
			     "SELECT c.name, c.value FROM kafka.topics t "
			     "LEFT JOIN kafka.topic_configs c ON c.topic = t.name "
			     "WHERE t.name = $1::text",
			     1},
	/*
	 * AlterConfigs and IncrementalAlterConfigs: the topic's configs become
	 * exactly $2 = $3 (the topic row locked, so two changes to one topic
	 * apply one after the other); no row if the topic does not exist.
	 */
	[Q_TOPIC_SET_CONFIGS] = {"pgk_topic_set_configs",
				 "WITH t AS (SELECT name FROM kafka.topics WHERE name = $1::text"
				 "  FOR UPDATE),"
				 " d AS (DELETE FROM kafka.topic_configs c USING t"
				 "  WHERE c.topic = t.name AND c.name <> ALL($2::text[])),"
				 " u AS (INSERT INTO kafka.topic_configs (topic, name, value)"
				 "  SELECT t.name, x.n, x.v FROM t, unnest($2::text[], $3::text[]) AS x(n, v)"
				 "  ON CONFLICT (topic, name) DO UPDATE SET value = excluded.value)"
				 " SELECT name FROM t",
				 3},
	/* DeleteRecords: kafka.delete_records() (sql/pg_kafka--0.8.sql). */
	[Q_DELETE_RECORDS] = {"pgk_delete_records",
			      "SELECT low_watermark, error_code"
			      " FROM kafka.delete_records($1::text, $2::int, $3::int8)",
			      3},
	/*
	 * Append one batch to one partition, in one statement: take the
	 * partition row lock while reserving $3 offsets, insert the records
	 * with those offsets (kafka.append_records(), a bulk insert like
	 * COPY's, which returns the base offset; it is strict, so no
	 * partition row means no call and a NULL base). No row in p means
	 * no such partition; a batch larger than the topic's
	 * max.message.bytes ($8 > maxb) inserts nothing, and so does one
	 * that kafka.batch_error() refuses (its error, 32, 87 or 18, in the
	 * last column as the idempotent form has it).
	 * $1 topic, $2 partition, $3 record count, $4 timestamps int8[]
	 * (Kafka's milliseconds), $5 keys bytea[], $6 values bytea[],
	 * $7 headers bytea[], $8 batch size, $9 broker default
	 * max.message.bytes, $10 whether the batch claims LogAppendTime,
	 * $11 the topic id the client named the topic by (Produce v13) or
	 * NULL. A topic without that id any more writes nothing, and the last
	 * column (ok) is false.
	 */
	[Q_PRODUCE] = {"pgk_produce",
		       "WITH ok AS (SELECT $11::uuid IS NULL OR EXISTS (SELECT 1 FROM kafka.topics t"
		       "  WHERE t.name = $1::text AND t.topic_id = $11::uuid) AS ok),"
		       " cfg AS ("
		       " SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),"
		       "  'CreateTime') = 'LogAppendTime' AS lat,"
		       "  coalesce(max(value) FILTER (WHERE name = 'max.message.bytes')::int,"
		       "  $9::int) AS maxb,"
		       "  kafka.batch_error($1::text, $4::int8[], $5::bytea[], $10::bool, $8::int) AS batch_err"
		       " FROM kafka.topic_configs WHERE topic = $1::text),"
		       " p AS (UPDATE kafka.partitions SET next_offset = next_offset + $3::int"
		       "  FROM cfg WHERE topic = $1::text AND partition = $2::int AND $8::int <= cfg.maxb"
		       "  AND cfg.batch_err = 0 AND (SELECT ok FROM ok)"
		       "  RETURNING next_offset - $3::int AS base, log_start_offset)"
		       " SELECT kafka.append_records($1::text, $2::int, p.base, cfg.lat,"
		       "   $4::int8[], $5::bytea[], $6::bytea[], $7::bytea[]),"
		       "  p.log_start_offset, cfg.lat, (extract(epoch FROM now()) * 1000)::int8, cfg.maxb,"
		       "  CASE WHEN cfg.batch_err = 0 OR $8::int > cfg.maxb"
		       "   OR NOT EXISTS (SELECT 1 FROM kafka.partitions q"
		       "    WHERE q.topic = $1::text AND q.partition = $2::int) THEN 0"
		       "   ELSE cfg.batch_err END, (SELECT ok FROM ok)"
		       " FROM cfg LEFT JOIN p ON true",
		       11},
	/*
	 * Read from one partition, in one snapshot: a first row (s) of its
	 * watermarks and of the topic settings that shape the batches
	 * (compression.type, message.timestamp.type), then up to $4 records
	 * from offset $3, about $7 bytes at most, in the pieces of
	 * kafka.read_records_packed(), one per row (called in the select
	 * list, it sends each piece as it fills it). Binary results.
	 * Transactions (docs/TRANSACTIONS.md, "Fetch"), $5 the isolation
	 * level: the last stable offset (o: the first offset of the oldest
	 * ongoing transaction, NULL if none), below which read_committed ($5
	 * = 1) reads stop; the kafka.txn_batches ranges that end at or after
	 * $3 and below that bound, as a [n][7] int8 array (control -1 for
	 * data); for read_committed the aborted transactions as [n][2]
	 * (producer_id, first_offset) that a client may need, that is those
	 * starting before the bound, and before the last range when the
	 * range list was cut by its LIMIT. Last, the leader epoch history
	 * (start_offset, epoch) from the epoch of the fetch offset on, to
	 * stamp each batch with the epoch its records were written under.
	 * The topic is $1, and must have id $6 when one is given (Fetch v13+
	 * names topics by id): no row if there is no such topic, only the
	 * first, without a high watermark, if it has no partition $2.
	 * kafka.read_records_packed() reads and locks only that partition's
	 * chunks, through their primary key indexes, without planning a
	 * query (decoder/read.c), so this statement keeps a cached plan
	 * (sql/pg_kafka--0.11.sql, "Reading a partition's records"). Packed,
	 * the records of a Fetch cost PostgreSQL less than half of what they
	 * cost as rows (a tuplestore copy, a projection, a send function per
	 * column and a protocol message per record; docs/BENCHMARKS.md). Every
	 * statement below that reads records plans its query over
	 * kafka.records per call, through kafka.find_record_by_time().
	 */
	[Q_FETCH] = {"pgk_fetch",
		     "WITH b AS (SELECT m.o, CASE WHEN $5::int = 1 THEN coalesce(m.o,"
		     "  9223372036854775807) ELSE 9223372036854775807 END AS bound"
		     "  FROM (SELECT min(first_offset) AS o FROM kafka.txn_partitions"
		     "   WHERE topic = $1::text AND partition = $2::int) m),"
		     " tb AS (SELECT * FROM kafka.txn_batches"
		     "  WHERE topic = $1::text AND partition = $2::int AND last_offset >= $3::int8"
		     "  AND last_offset < (SELECT bound FROM b)"
		     "  ORDER BY last_offset LIMIT 2 * $4::int + 1),"
		     " s AS (SELECT p.next_offset, p.log_start_offset, p.topic IS NOT NULL AS known,"
		     "  (SELECT value FROM kafka.topic_configs c WHERE c.topic = $1::text"
		     "   AND c.name = 'compression.type') AS ctype,"
		     "  (SELECT value FROM kafka.topic_configs c WHERE c.topic = $1::text"
		     "   AND c.name = 'message.timestamp.type') AS tstype,"
		     "  coalesce((SELECT o FROM b), p.next_offset) AS lso,"
		     "  (SELECT array_agg(ARRAY[base_offset, last_offset, producer_id, producer_epoch,"
		     "   coalesce(control, -1), coordinator_epoch,"
		     "   (extract(epoch FROM \"timestamp\") * 1000)::int8] ORDER BY last_offset)"
		     "   FROM tb) AS ranges,"
		     "  CASE WHEN $5::int = 1 THEN"
		     "   (SELECT array_agg(ARRAY[a.producer_id, a.first_offset] ORDER BY a.first_offset)"
		     "    FROM kafka.aborted_txns a"
		     "    WHERE a.topic = $1::text AND a.partition = $2::int AND a.last_offset >= $3::int8"
		     "    AND a.first_offset < (SELECT bound FROM b)"
		     "    AND a.first_offset <= (SELECT CASE WHEN count(*) > 2 * $4::int"
		     "     THEN max(last_offset) ELSE 9223372036854775807 END FROM tb))"
		     "  END AS aborted,"
		     "  (SELECT array_agg(ARRAY[e.start_offset, e.leader_epoch::int8]"
		     "   ORDER BY e.leader_epoch) FROM kafka.partition_epochs e"
		     "   WHERE e.topic = $1::text AND e.partition = $2::int"
		     "   AND e.start_offset >= coalesce((SELECT max(x.start_offset)"
		     "    FROM kafka.partition_epochs x WHERE x.topic = $1::text"
		     "    AND x.partition = $2::int AND x.start_offset <= $3::int8), 0)) AS epochs"
		     "  FROM kafka.topics t"
		     "  LEFT JOIN kafka.partitions p ON p.topic = t.name AND p.partition = $2::int"
		     "  WHERE t.name = $1::text AND ($6::uuid IS NULL OR t.topic_id = $6::uuid))"
		     " SELECT next_offset, log_start_offset, NULL::bytea, ctype, tstype, lso, ranges,"
		     "  aborted, epochs FROM s"
		     " UNION ALL"
		     " SELECT NULL, NULL, kafka.read_records_packed($1::text, $2::int, $3::int8,"
		     "  (SELECT bound FROM b), $4::int, $7::int), NULL, NULL, NULL, NULL, NULL, NULL"
		     " FROM s WHERE known",
		     7},
	/*
	 * ListOffsets: watermarks, and for $3 >= 0 the first record at or
	 * after that time, for $3 = -3 the record with the largest timestamp.
	 * Then the last stable offset (docs/TRANSACTIONS.md), the LATEST of
	 * read_committed, and the leader epochs (sql: "Leader epoch history")
	 * of the partition (NULL without history), of its log start offset and
	 * of the offset found. A timestamp search starts at the first
	 * segment (kafka.segments) whose newest record is at or after the
	 * timestamp, or past the segments when none is: records before it are
	 * all older, so it reads no more than a segment of them. Rows below
	 * the log start offset, which the storage job has yet to delete, are
	 * not found.
	 */
	[Q_LIST_OFFSETS] = {"pgk_list_offsets",
			    "SELECT p.next_offset, p.log_start_offset, m.\"offset\", m.ts,"
			    " coalesce((SELECT min(first_offset) FROM kafka.txn_partitions"
			    "  WHERE topic = $1::text AND partition = $2::int), p.next_offset),"
			    " e.cur, e.first, e.found"
			    " FROM kafka.partitions p LEFT JOIN LATERAL"
			    "  kafka.find_record_by_time($1::text, $2::int, $3::int8, p.log_start_offset) m"
			    "  ON true"
			    " LEFT JOIN LATERAL (SELECT"
			    "  (SELECT max(e.leader_epoch) FROM kafka.partition_epochs e"
			    "   WHERE e.topic = p.topic AND e.partition = p.partition) AS cur,"
			    "  kafka.leader_epoch_at(p.topic, p.partition, p.log_start_offset) AS first,"
			    "  CASE WHEN m.\"offset\" IS NOT NULL THEN"
			    "   kafka.leader_epoch_at(p.topic, p.partition, m.\"offset\") END AS found) e"
			    "  ON true"
			    " WHERE p.topic = $1::text AND p.partition = $2::int",
			    3},
	/*
	 * OffsetCommit: store the offsets of the partitions that exist (the
	 * last one wins when a request names a partition twice) and return
	 * which were stored; the others are unknown to Kafka. Arrays: $2
	 * text[], $3 int8[], $4 int8[], $5 int8[], $6 bytea[] (metadata, any bytes).
	 */
	[Q_OFFSET_COMMIT] = {"pgk_offset_commit",
			     "WITH i AS (SELECT DISTINCT ON (t, p) t, p::int AS p, o, e::int AS e, m"
			     "  FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int8[], $6::bytea[])"
			     "   WITH ORDINALITY AS x(t, p, o, e, m, n)"
			     "  ORDER BY t, p, n DESC)"
			     " INSERT INTO kafka.consumer_offsets AS c (group_id, topic, partition,"
			     "  committed_offset, leader_epoch, metadata, commit_timestamp,"
			     "  expire_timestamp)"
			     " SELECT $1::text, i.t, i.p, i.o, i.e, i.m, now(),"
			     "  now() + $7::int8 * interval '1 ms'"
			     " FROM i JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
			     " ON CONFLICT (group_id, topic, partition) DO UPDATE"
			     " SET committed_offset = EXCLUDED.committed_offset,"
			     "  leader_epoch = EXCLUDED.leader_epoch, metadata = EXCLUDED.metadata,"
			     "  commit_timestamp = EXCLUDED.commit_timestamp,"
			     "  expire_timestamp = EXCLUDED.expire_timestamp"
			     " RETURNING c.topic, c.partition",
			     7},
	/* OffsetFetch of listed partitions: one row per input, in order;
	 * NULL offset when nothing is committed. The last column says whether
	 * an ongoing transaction holds an offset for the partition
	 * (require_stable answers UNSTABLE_OFFSET_COMMIT then). */
	[Q_OFFSET_FETCH] = {"pgk_offset_fetch",
			    "SELECT o.committed_offset, o.leader_epoch, encode(o.metadata, 'hex'),"
			    " q.partition IS NOT NULL,"
			    " EXISTS (SELECT 1 FROM kafka.txn_offsets x WHERE x.group_id = $1::text"
			    "  AND x.topic = i.t AND x.partition = i.p)"
			    " FROM unnest($2::text[], $3::int8[]) WITH ORDINALITY AS i(t, p, n)"
			    " LEFT JOIN kafka.consumer_offsets o"
			    "  ON o.group_id = $1::text AND o.topic = i.t AND o.partition = i.p"
			    " LEFT JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
			    " ORDER BY i.n",
			    3},
	[Q_OFFSET_FETCH_ALL] = {"pgk_offset_fetch_all",
				"SELECT o.topic, o.partition, o.committed_offset, o.leader_epoch,"
				" encode(o.metadata, 'hex'),"
				" (SELECT t.topic_id::text FROM kafka.topics t"
				"  WHERE t.name = o.topic)"
				" FROM kafka.consumer_offsets o WHERE o.group_id = $1::text"
				" ORDER BY o.topic, o.partition",
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
			    " RETURNING 1),"
			    " m AS (DELETE FROM kafka.group_membership WHERE group_id = $1::text)"
			    " SELECT count(*) FROM d",
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
	 * Q_PRODUCE, the Kafka error code among them, and ok. As in Q_PRODUCE,
	 * the last parameter is the topic id or NULL: when the topic no
	 * longer has it the function is not called (a one-time filter of the
	 * lateral subquery) and ok is false.
	 */
	[Q_PRODUCE_IDEMPOTENT] = {"pgk_produce_idempotent",
				  "SELECT f.*, g.ok FROM (SELECT $14::uuid IS NULL OR EXISTS"
				  " (SELECT 1 FROM kafka.topics t WHERE t.name = $1::text"
				  "  AND t.topic_id = $14::uuid) AS ok) g"
				  " LEFT JOIN LATERAL (SELECT * FROM kafka.produce_idempotent($1::text,"
				  " $2::int, $3::int, $4::int8[], $5::bytea[], $6::bytea[], $7::bytea[],"
				  " $8::int, $9::int, $10::int8, $11::int2, $12::int, $13::bool)"
				  " WHERE g.ok OFFSET 0) f ON true",
				  14},
	[Q_INIT_PRODUCER_ID] = {"pgk_init_producer_id",
				"SELECT * FROM kafka.init_producer_id($1::int8, $2::int2)", 2},
	/* Transactions: each API is one function call (sql/pg_kafka--0.5--0.6.sql). */
	[Q_PRODUCE_TRANSACTIONAL] = {"pgk_produce_transactional",
				     "SELECT f.*, g.ok FROM (SELECT $15::uuid IS NULL OR EXISTS"
				     " (SELECT 1 FROM kafka.topics t WHERE t.name = $1::text"
				     "  AND t.topic_id = $15::uuid) AS ok) g"
				     " LEFT JOIN LATERAL (SELECT * FROM"
				     " kafka.produce_transactional($1::text, $2::int,"
				     " $3::int, $4::int8[], $5::bytea[], $6::bytea[],"
				     " $7::bytea[], $8::int, $9::int, $10::int8, $11::int2, $12::int,"
				     " $13::text, $14::bool) WHERE g.ok OFFSET 0) f ON true",
				     15},
	[Q_INIT_PRODUCER_ID_TXN] = {"pgk_init_producer_id_txn",
				    "SELECT * FROM kafka.init_producer_id_txn($1::text, $2::int,"
				    " $3::int8, $4::int2, $5::int)",
				    5},
	[Q_ADD_PARTITIONS_TO_TXN] = {"pgk_add_partitions_to_txn",
				     "SELECT * FROM kafka.add_partitions_to_txn($1::text, $2::int8,"
				     " $3::int2, $4::text[], $5::int[])",
				     5},
	[Q_ADD_OFFSETS_TO_TXN] = {"pgk_add_offsets_to_txn",
				  "SELECT * FROM kafka.add_offsets_to_txn($1::text, $2::int8,"
				  " $3::int2, $4::text)",
				  4},
	[Q_TXN_OFFSET_COMMIT] = {"pgk_txn_offset_commit",
				 "SELECT * FROM kafka.txn_offset_commit($1::text, $2::text, $3::int8,"
				 " $4::int2, $5::text[], $6::int[], $7::int8[], $8::int[], $9::bytea[])",
				 9},
	[Q_END_TXN] = {"pgk_end_txn",
		       "SELECT * FROM kafka.end_txn($1::text, $2::int8, $3::int2, $4::bool)", 4},
	[Q_ABORT_EXPIRED_TXNS] = {"pgk_abort_expired_txns",
				  "SELECT * FROM kafka.abort_expired_transactions()", 0},
	/*
	 * DescribeTransactions: one row per input id, in order; NULL state
	 * for an unknown id. The start time is the current or last
	 * transaction's, NULL (Kafka's -1) when Empty. Partitions of the ongoing transaction come
	 * as two parallel arrays sorted by topic and partition.
	 */
	[Q_DESCRIBE_TXNS] = {"pgk_describe_txns",
			     "SELECT t.state, t.producer_id, t.producer_epoch, t.timeout_ms,"
			     " (extract(epoch FROM t.started) * 1000)::int8,"
			     " p.topics, p.partitions"
			     " FROM unnest($1::text[]) WITH ORDINALITY AS i(id, n)"
			     " LEFT JOIN kafka.transactions t ON t.transactional_id = i.id"
			     " LEFT JOIN LATERAL ("
			     "  SELECT array_agg(x.topic ORDER BY x.topic, x.partition) AS topics,"
			     "   array_agg(x.partition ORDER BY x.topic, x.partition) AS partitions"
			     "  FROM kafka.txn_partitions x WHERE x.transactional_id = t.transactional_id"
			     " ) p ON true"
			     " ORDER BY i.n",
			     1},
	/*
	 * ListTransactions: a NULL filter lets everything through; the
	 * duration filter ($3 >= 0) keeps transactions that have been
	 * Ongoing for longer than $3 ms, and Empty ones, whose start time is
	 * -1 in Kafka (the caller answers nothing for a duration past the
	 * current time, which leaves those out too).
	 */
	[Q_LIST_TXNS] = {"pgk_list_txns",
			 "SELECT transactional_id, producer_id, state FROM kafka.transactions"
			 " WHERE ($1::text[] IS NULL OR state = ANY($1::text[]))"
			 " AND ($2::int8[] IS NULL OR producer_id = ANY($2::int8[]))"
			 " AND ($3::int8 < 0 OR state = 'Empty'"
			 "  OR started < now() - $3::int8 * interval '1 millisecond')"
			 " ORDER BY transactional_id",
			 3},
	/* Whether each partition exists, one row per input, in order: the
	 * check KafkaApis makes against its metadata before a transaction
	 * API reaches the coordinator. */
	[Q_PARTITIONS_EXIST] = {"pgk_partitions_exist",
				"SELECT q.partition IS NOT NULL"
				" FROM unnest($1::text[], $2::int4[]) WITH ORDINALITY AS i(t, p, n)"
				" LEFT JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
				" ORDER BY i.n",
				2},
	/* Read without a lock before InitProducerId: the answer only decides
	 * whether the producer is told to retry (h_init_producer_id.c). */
	[Q_TXN_ONGOING] = {"pgk_txn_ongoing",
			   "SELECT EXISTS (SELECT 1 FROM kafka.transactions"
			   " WHERE transactional_id = $1::text AND state = 'Ongoing')",
			   1},
	/*
	 * TxnOffsetCommit whose generation or member the group refuses: the
	 * transaction is verified first, as Kafka does, with the checks of
	 * kafka.txn_offset_commit() (49, 90, then 48 unless Ongoing with the
	 * group added), and nothing is written. One row; 0: the group's
	 * refusal is the answer.
	 */
	[Q_TXN_VERIFY] = {"pgk_txn_verify",
			  "SELECT CASE WHEN t.producer_id IS DISTINCT FROM $2::int8 THEN 49"
			  " WHEN t.producer_epoch IS DISTINCT FROM $3::int2 THEN 90"
			  " WHEN t.state <> 'Ongoing' OR ($4::text IS NOT NULL AND NOT EXISTS"
			  "  (SELECT 1 FROM kafka.txn_groups g"
			  "  WHERE g.transactional_id = $1::text AND g.group_id = $4::text)) THEN 48"
			  " ELSE 0 END"
			  " FROM (SELECT 1) AS one"
			  " LEFT JOIN kafka.transactions t ON t.transactional_id = $1::text",
			  4},
	/* Transactions v2 (KIP-890): the partition is added to the
	 * transaction in the statement that writes (Produce v12+), EndTxn v5
	 * bumps the epoch, AddPartitionsToTxn v4+ may only verify. */
	[Q_PRODUCE_TRANSACTIONAL_V2] = {"pgk_produce_transactional_v2",
					"SELECT f.*, g.ok FROM (SELECT $15::uuid IS NULL OR EXISTS"
					" (SELECT 1 FROM kafka.topics t WHERE t.name = $1::text"
					"  AND t.topic_id = $15::uuid) AS ok) g"
					" LEFT JOIN LATERAL (SELECT * FROM"
					" kafka.produce_transactional_v2($1::text, $2::int,"
					" $3::int, $4::int8[], $5::bytea[], $6::bytea[],"
					" $7::bytea[], $8::int, $9::int, $10::int8, $11::int2, $12::int,"
					" $13::text, $14::bool) WHERE g.ok OFFSET 0) f ON true",
					15},
	[Q_END_TXN_V2] = {"pgk_end_txn_v2",
			  "SELECT error_code, topics, partitions, producer_id, producer_epoch"
			  " FROM kafka.end_txn_v2($1::text, $2::int8, $3::int2, $4::bool)",
			  4},
	[Q_ADD_PARTITIONS_TO_TXN_VERIFY] = {"pgk_add_partitions_to_txn_verify",
					    "SELECT * FROM kafka.add_partitions_to_txn_verify($1::text,"
					    " $2::int8, $3::int2, $4::text[], $5::int[])",
					    5},
	[Q_TXN_OFFSET_COMMIT_V2] = {"pgk_txn_offset_commit_v2",
				    "SELECT * FROM kafka.txn_offset_commit_v2($1::text, $2::text,"
				    " $3::int8, $4::int2, $5::text[], $6::int[], $7::int8[], $8::int[],"
				    " $9::bytea[])",
				    9},
	/* SCRAM credentials: a kafka_users role's own SCRAM-SHA-256 verifier
	 * or a row of kafka.scram_credentials, through the SECURITY DEFINER
	 * functions of the extension (docs/SECURITY.md). */
	[Q_SCRAM_CREDENTIAL] = {"pgk_scram_credential",
				"SELECT iterations, encode(salt, 'hex'), encode(stored_key, 'hex'),"
				" encode(server_key, 'hex'), source"
				" FROM kafka.scram_credential($1::text, $2::text) LIMIT 1",
				2},
	[Q_SCRAM_LIST] = {"pgk_scram_list",
			  "SELECT user_name, mechanism, iterations, source"
			  " FROM kafka.scram_credential_list() ORDER BY 1, 2",
			  0},
	/* A role's SCRAM-SHA-256 password is the role's: no table row may
	 * stand beside it (ALTER ROLE changes it). */
	[Q_SCRAM_UPSERT] = {"pgk_scram_upsert",
			    "INSERT INTO kafka.scram_credentials AS c"
			    " (user_name, mechanism, iterations, salt, stored_key, server_key)"
			    " SELECT $1::text, $2::text, $3::int, decode($4::text, 'hex'),"
			    " decode($5::text, 'hex'), decode($6::text, 'hex')"
			    " WHERE NOT EXISTS (SELECT 1 FROM kafka.scram_credential($1::text, $2::text)"
			    "  WHERE source = 'role')"
			    " ON CONFLICT (user_name, mechanism) DO UPDATE SET"
			    " iterations = EXCLUDED.iterations, salt = EXCLUDED.salt,"
			    " stored_key = EXCLUDED.stored_key, server_key = EXCLUDED.server_key,"
			    " updated_at = now() RETURNING true",
			    6},
	[Q_SCRAM_DELETE] = {"pgk_scram_delete",
			    "DELETE FROM kafka.scram_credentials"
			    " WHERE user_name = $1::text AND mechanism = $2::text RETURNING true",
			    2},
	[Q_QUOTA_LOAD] = {"pgk_quota_load",
			  "SELECT entity_types, user_name, client_id, ip, quota_key, quota_value"
			  " FROM kafka.client_quotas"
			  " ORDER BY entity_types, user_name NULLS FIRST, client_id NULLS FIRST,"
			  " ip NULLS FIRST, quota_key",
			  0},
	[Q_QUOTA_SET] = {"pgk_quota_set",
			 "SELECT kafka.set_client_quota($1::text, $2::text, $3::text, $4::text,"
			 " $5::text, $6::float8)",
			 6},
	[Q_TOPIC_NAMES_BY_ID] = {"pgk_topic_names_by_id",
				 "SELECT topic_id::text, name FROM kafka.topics"
				 " WHERE topic_id = ANY($1::uuid[])",
				 1},
	/*
	 * The ACL rules, read in one snapshot with their version: one row with
	 * the version and NULLs when it is still $1 (or there is no rule),
	 * else the version on every rule.
	 */
	[Q_ACL_LOAD] = {"pgk_acl_load",
			"SELECT a.acl_version, r.resource_type, r.pattern_type, r.resource_name,"
			" r.principal, r.host, r.operation, r.permission"
			" FROM kafka.authorizer a"
			" LEFT JOIN kafka.acls r ON a.acl_version <> $1::int8",
			1},
	[Q_ACL_SET_AUTHORIZER] = {"pgk_acl_set_authorizer",
				  "SELECT kafka.set_authorizer($1::boolean, $2::text[], $3::boolean)",
				  3},
	/* CreateAcls: an existing binding is no error (Kafka's are a set). */
	[Q_ACL_CREATE] = {"pgk_acl_create",
			  "INSERT INTO kafka.acls (resource_type, pattern_type, resource_name,"
			  " principal, host, operation, permission)"
			  " VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text)"
			  " ON CONFLICT DO NOTHING",
			  7},
	/*
	 * DeleteAcls, one filter: Kafka's ResourcePatternFilter and
	 * AccessControlEntryFilter (acl.c's acl_filter_matches) with NULL for
	 * ANY and for a null string. $3 is the pattern type filter's name:
	 * ANY, MATCH, LITERAL or PREFIXED.
	 */
	[Q_ACL_DELETE] = {"pgk_acl_delete",
			  "DELETE FROM kafka.acls"
			  " WHERE ($1::text IS NULL OR resource_type = $1::text)"
			  " AND ($3::text IN ('ANY', 'MATCH') OR pattern_type = $3::text)"
			  " AND ($2::text IS NULL"
			  "  OR ($3::text <> 'MATCH' AND resource_name = $2::text)"
			  "  OR ($3::text = 'MATCH' AND ((pattern_type = 'LITERAL'"
			  "    AND (resource_name = $2::text OR resource_name = '*'))"
			  "   OR (pattern_type = 'PREFIXED'"
			  "    AND left($2::text, length(resource_name)) = resource_name))))"
			  " AND ($4::text IS NULL OR principal = $4::text)"
			  " AND ($5::text IS NULL OR host = $5::text)"
			  " AND ($6::text IS NULL OR operation = $6::text)"
			  " AND ($7::text IS NULL OR permission = $7::text)"
			  " RETURNING resource_type, pattern_type, resource_name, principal, host,"
			  " operation, permission",
			  7},
	/*
	 * Cluster and replica APIs (h_replicas.c). The database is the one
	 * log directory; a partition's size is the records table's share
	 * in proportion to the partition's record count (next_offset -
	 * log_start_offset): a cheap estimate, exact only when records are
	 * of equal size (docs/PROTOCOL.md).
	 */
	[Q_PARTITION_ENDS] = {"pgk_partition_ends",
			      "SELECT q.next_offset, q.log_start_offset, current_database()"
			      " FROM unnest($1::text[], $2::int4[]) WITH ORDINALITY AS i(t, p, n)"
			      " LEFT JOIN kafka.partitions q ON q.topic = i.t AND q.partition = i.p"
			      " ORDER BY i.n",
			      2},
	[Q_LOG_DIR_SIZES] = {"pgk_log_dir_sizes",
			     "SELECT d.db, p.topic, p.partition,"
			     " CASE WHEN d.n > 0 THEN (d.bytes::float8"
			     "  * (p.next_offset - p.log_start_offset) / d.n)::int8 ELSE 0 END"
			     " FROM (SELECT current_database() AS db,"
			     "  (SELECT coalesce(sum(pg_total_relation_size(x.relid)), 0)"
			     "   FROM pg_partition_tree('kafka.records') x WHERE x.isleaf) AS bytes,"
			     "  (SELECT sum(next_offset - log_start_offset) FROM kafka.partitions) AS n) d"
			     " LEFT JOIN kafka.partitions p"
			     "  ON $1::text[] IS NULL OR (p.topic, p.partition) IN"
			     "   (SELECT * FROM unnest($1::text[], $2::int4[]))"
			     " ORDER BY p.topic, p.partition",
			     2},
	[Q_DESCRIBE_PRODUCERS] = {"pgk_describe_producers",
				  "SELECT s.topic, s.partition, s.producer_id, s.producer_epoch,"
				  " s.last_seqs[array_upper(s.last_seqs, 1)],"
				  " floor(extract(epoch FROM s.updated) * 1000)::int8,"
				  " (SELECT min(tp.first_offset) FROM kafka.transactions x"
				  "  JOIN kafka.txn_partitions tp"
				  "   ON tp.transactional_id = x.transactional_id"
				  "  WHERE x.producer_id = s.producer_id AND x.state = 'Ongoing'"
				  "   AND tp.topic = s.topic AND tp.partition = s.partition)"
				  " FROM kafka.producer_state s"
				  " WHERE (s.topic, s.partition) IN"
				  "  (SELECT * FROM unnest($1::text[], $2::int4[]))"
				  " ORDER BY s.topic, s.partition, s.producer_id",
				  2},
	[Q_BROKER_HEARTBEAT] = {"pgk_broker_heartbeat",
				"SELECT node_id, listeners, rack, leadership_version"
				" FROM kafka.broker_heartbeat($1::int, $2::uuid, $3::text, $4::text,"
				" $5::int)",
				5},
	[Q_BROKER_LEAVE] = {"pgk_broker_leave", "SELECT kafka.broker_leave($1::int, $2::uuid)", 2},
	[Q_PARTITION_LEADERS] = {"pgk_partition_leaders",
				 "SELECT topic, partition, leader_id, leader_epoch"
				 " FROM kafka.partition_leaders ORDER BY topic, partition",
				 0},
	/*
	 * Run on every new connection before it takes a job (main.c names it
	 * to pool_at_connect()): on a promoted standby the leader epochs are bumped
	 * before this broker writes anything there, so that no record written
	 * on the new timeline is counted in an epoch that ended on the old one.
	 * (A standby still in recovery has no WAL position to read, and a
	 * broker there writes nothing.)
	 */
	[Q_CHECK_TIMELINE] = {"pgk_check_timeline",
			      "SELECT kafka.cluster_check_timeline() WHERE NOT pg_is_in_recovery()", 0},
	[Q_PARTITION_EPOCHS] = {"pgk_partition_epochs",
				"SELECT topic, partition, max(leader_epoch) FROM kafka.partition_epochs"
				" GROUP BY topic, partition ORDER BY topic, partition",
				0},
	/* OffsetForLeaderEpoch (sql: "Leader epoch history"), per input in order. */
	[Q_OFFSET_FOR_LEADER_EPOCH] = {"pgk_offset_for_leader_epoch",
				       "SELECT e.leader_epoch, e.end_offset"
				       " FROM unnest($1::text[], $2::int4[], $3::int4[])"
				       "  WITH ORDINALITY AS i(t, p, ep, n)"
				       " LEFT JOIN LATERAL kafka.offset_for_leader_epoch(i.t, i.p, i.ep) e"
				       "  ON true ORDER BY i.n",
				       3},
	/*
	 * One pass of the background job (sql: "Storage and retention"); the
	 * function takes an advisory lock, so one broker of a database at a
	 * time does the work.
	 */
	[Q_MAINTENANCE] = {"pgk_maintenance",
			   "SELECT action, topic, partition, from_offset, to_offset, records"
			   " FROM kafka.run_maintenance($1::jsonb, $2::int8)",
			   2},
	/*
	 * Offset expiry (sql: "Committed offset expiry"). The candidates are
	 * the groups with an offset old enough to expire under some rule, and
	 * groups known only from their membership row, whose row can go. A
	 * consumer group (KIP-848) with members keeps all its offsets: its
	 * stored members are its members, whether or not this broker has
	 * loaded it yet.
	 */
	[Q_OFFSET_EXPIRY_GROUPS] = {"pgk_offset_expiry_groups",
				    "SELECT c.group_id FROM ("
				    " SELECT group_id FROM kafka.consumer_offsets"
				    " WHERE CASE WHEN expire_timestamp IS NOT NULL"
				    "  THEN expire_timestamp <= now()"
				    "  ELSE commit_timestamp <= now() - $1::int8 * interval '1 ms' END"
				    " UNION SELECT m.group_id FROM kafka.group_membership m"
				    " WHERE m.since <= now() - $1::int8 * interval '1 ms'"
				    "  AND NOT EXISTS (SELECT 1 FROM kafka.consumer_offsets o"
				    "   WHERE o.group_id = m.group_id)) c"
				    " WHERE NOT EXISTS (SELECT 1 FROM kafka.consumer_group_members g"
				    "  WHERE g.group_id = c.group_id)",
				    1},
	[Q_OFFSET_EXPIRE] = {"pgk_offset_expire",
			     "SELECT group_id, expired_offsets, group_gone"
			     " FROM kafka.expire_offsets($1::int8, $2::text[], $3::bool[],"
			     "  $4::text[], $5::text[])",
			     5},
	[Q_GROUP_MEMBERSHIP] = {"pgk_group_membership",
				"SELECT kafka.set_group_membership($1::text, $2::bool,"
				" to_timestamp($3::int8 / 1000.0))",
				3},
	[Q_CG_SAVE] = {"pgk_cg_save",
		       "SELECT kafka.consumer_group_save($1::text, $2::int, $3::int, $4::text,"
		       " $5::jsonb, $6::int8)",
		       6},
	[Q_CG_DELETE] = {"pgk_cg_delete", "DELETE FROM kafka.consumer_groups WHERE group_id = $1::text",
			 1},
	[Q_CG_LOAD] = {"pgk_cg_load",
		       "SELECT group_epoch, assignment_epoch, metadata_hash, member_id, instance_id,"
		       " rack_id, client_id, client_host, member_epoch, previous_member_epoch, state,"
		       " rebalance_timeout_ms, server_assignor, subscribed_topic_names,"
		       " subscribed_topic_regex, kind, topic_id::text, partitions"
		       " FROM kafka.consumer_group_load($1::text)",
		       1},
	[Q_CG_IDS] = {"pgk_cg_ids", "SELECT group_id FROM kafka.consumer_groups ORDER BY group_id", 0},
	/*
	 * The tables under kafka.records (sql: "Records in chunks"): what to
	 * do, then one short transaction per chunk added or dropped. Q_UTILITY
	 * carries the DETACH PARTITION ... CONCURRENTLY of a deleted topic's
	 * table, which cannot run in a function.
	 */
	[Q_CHUNK_WORK] = {"pgk_chunk_work",
			  "SELECT action, table_name, topic, partition, lo, hi"
			  " FROM kafka.chunk_work($1::jsonb)",
			  1},
	[Q_ADD_CHUNK] = {"pgk_add_chunk", "SELECT kafka.add_chunk($1::text, $2::int, $3::jsonb)", 3},
	[Q_DROP_CHUNK] = {"pgk_drop_chunk", "SELECT kafka.drop_chunk($1::text)", 1},
	[Q_UTILITY] = {"pgk_utility", "", 1},
};
