/*
 * pg_kafka 0.11: the whole extension, as a fresh CREATE EXTENSION installs it.
 *
 * This file is the one place to read the current definition of every table,
 * view, type and function. One row of kafka.records is one Kafka record; the
 * broker and any SQL session may read and write these tables, and the
 * pg_kafka logical decoding output plugin streams the inserted record rows in
 * commit order.
 *
 * A database made with an earlier version reaches the same catalog through
 * pg_kafka--0.1.sql and the upgrade scripts pg_kafka--0.1--0.2.sql ...
 * pg_kafka--0.10--0.11.sql; the regression test sql/upgrade.sql checks that
 * both ways end in the same objects. A change to the extension is a new
 * version: a new complete script pg_kafka--X.sql (this file, renamed and
 * edited), an upgrade script pg_kafka--0.11--X.sql that makes the same change,
 * and default_version in pg_kafka.control.
 *
 * Sections, in the order the features came:
 *   topics, partitions and records   (0.1)
 *   consumer group offsets           (0.2)
 *   the SQL API                      (0.3)
 *   shadow mode                      (0.4)
 *   idempotent producers             (0.5)
 *   transactions                     (0.6)
 *   exact record timestamps          (0.7)
 *   users and ACLs                   (0.8)
 *   records in chunks                (0.9)
 *   packed reads for Fetch           (0.10)
 */

\echo Use "CREATE EXTENSION pg_kafka" to load this file. \quit

/*
 * ---- Topics, partitions and records ----
 *
 * The tables behind a Kafka broker, and the SQL API to manage topics.
 */

-- Topic names as Kafka accepts them: 1 to 249 characters of [A-Za-z0-9._-],
-- and neither "." nor "..".
CREATE FUNCTION kafka.is_valid_topic_name(name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT name ~ '^[A-Za-z0-9._-]{1,249}$' AND name NOT IN ('.', '..')
$$;

COMMENT ON FUNCTION kafka.is_valid_topic_name(text) IS
	'True if the text is a legal Kafka topic name: 1 to 249 characters of [A-Za-z0-9._-], not "." or "..".';

CREATE TABLE kafka.topics (
	name text COLLATE "C" PRIMARY KEY
		CONSTRAINT topics_name_valid CHECK (kafka.is_valid_topic_name(name)),
	topic_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	partitions int NOT NULL CHECK (partitions > 0),
	replication_factor smallint NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE kafka.topics IS
	'Kafka topics. Deleting a row deletes the topic: its configs, partitions and records go with it.';
COMMENT ON COLUMN kafka.topics.name IS 'Topic name (Kafka rules, compared byte-wise).';
COMMENT ON COLUMN kafka.topics.topic_id IS 'Topic id, as returned in Metadata and used by Fetch v13+.';
COMMENT ON COLUMN kafka.topics.partitions IS
	'Number of partitions; kafka.partitions has one row for each of 0 .. partitions - 1.';
COMMENT ON COLUMN kafka.topics.replication_factor IS
	'Replication factor clients asked for; PostgreSQL does the replicating, the broker reports it.';
COMMENT ON COLUMN kafka.topics.created_at IS 'When the topic was created.';

CREATE TABLE kafka.topic_configs (
	topic text COLLATE "C" REFERENCES kafka.topics (name) ON DELETE CASCADE,
	name text NOT NULL,
	value text,
	PRIMARY KEY (topic, name)
);

COMMENT ON TABLE kafka.topic_configs IS
	'Per-topic configuration overrides (cleanup.policy, retention.ms, ...); absent keys take the broker default.';
COMMENT ON COLUMN kafka.topic_configs.topic IS 'The topic.';
COMMENT ON COLUMN kafka.topic_configs.name IS 'Kafka configuration key.';
COMMENT ON COLUMN kafka.topic_configs.value IS 'Its value as text; NULL for a key explicitly set to null.';

CREATE TABLE kafka.partitions (
	topic text COLLATE "C" REFERENCES kafka.topics (name) ON DELETE CASCADE,
	partition int NOT NULL CHECK (partition >= 0),
	next_offset bigint NOT NULL DEFAULT 0,
	log_start_offset bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (topic, partition),
	CONSTRAINT partitions_offsets_valid CHECK (0 <= log_start_offset AND log_start_offset <= next_offset)
);

COMMENT ON TABLE kafka.partitions IS
	'One row per topic partition. Producers allocate offsets by updating next_offset under this row''s lock, in the transaction that inserts the records.';
COMMENT ON COLUMN kafka.partitions.topic IS 'The topic.';
COMMENT ON COLUMN kafka.partitions.partition IS 'Partition number, 0 .. topic partitions - 1.';
COMMENT ON COLUMN kafka.partitions.next_offset IS
	'Offset the next record gets: the high watermark (records below it are committed).';
COMMENT ON COLUMN kafka.partitions.log_start_offset IS
	'First offset still readable; records below it are deleted or about to be.';

-- No foreign key to kafka.partitions: it would cost every insert a lookup,
-- and offsets are only allocated under the partition's row lock anyway.
CREATE TABLE kafka.records (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	"offset" bigint NOT NULL,
	"timestamp" timestamptz NOT NULL,
	key bytea,
	value bytea,
	headers bytea,
	timestamp_ms bigint,
	PRIMARY KEY (topic, partition, "offset")
) PARTITION BY LIST (topic);

-- Its tables per topic, per partition and per offset range (chunks): "Records
-- in chunks" at the end of this file.
COMMENT ON TABLE kafka.records IS
	'Kafka records, one row each, partitioned by topic, partition and offset range (the tables of schema kafka_chunks, listed in kafka.chunks). Inserts are streamed by the pg_kafka output plugin in commit order.';
COMMENT ON COLUMN kafka.records.topic IS 'The topic.';
COMMENT ON COLUMN kafka.records.partition IS 'The partition.';
COMMENT ON COLUMN kafka.records."offset" IS 'The record''s offset in its partition.';
COMMENT ON COLUMN kafka.records."timestamp" IS
	'Record timestamp (create time from the producer, or log append time); -infinity or infinity where timestamp_ms is beyond what timestamptz holds.';
COMMENT ON COLUMN kafka.records.key IS 'Record key; NULL for a null key.';
COMMENT ON COLUMN kafka.records.value IS 'Record value; NULL for a null value (a tombstone).';
COMMENT ON COLUMN kafka.records.headers IS
	'The record''s header section in Kafka wire encoding (varint count, then each header); NULL when it has none.';
COMMENT ON COLUMN kafka.records.timestamp_ms IS
	'Record timestamp as Kafka has it: milliseconds since the Unix epoch, any bigint, -1 for none; NULL when "timestamp" is exact (rows written before 0.7 or by kafka.produce()).';

/*
 * kafka.append_records(): the broker's insert of a produced batch
 * (decoder/append.c). It writes the rows as COPY does -- one WAL record
 * per heap page, no executor in between -- at the offsets the caller
 * reserved under the partition row lock; with insert triggers, rules or
 * row-level security on kafka.records it falls back to a plain INSERT.
 */
CREATE FUNCTION kafka.append_records(p_topic text, p_partition int, p_base bigint,
	p_log_append_time boolean, p_timestamps timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[])
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgk_append_records';

COMMENT ON FUNCTION kafka.append_records(text, int, bigint, boolean, timestamptz[], bytea[],
	bytea[], bytea[]) IS
	'Insert records at offsets p_base, p_base + 1, ... as one bulk write and return p_base; the caller must hold the partition row lock and have advanced next_offset past them.';

-- Records have no foreign key: deleting a topic cascades to its partitions,
-- whose trigger (kafka.partitions_queue_records, "Storage and retention")
-- queues their records for the maintenance job to delete in the
-- background. That also covers a plain DELETE FROM kafka.topics by hand.

CREATE FUNCTION kafka.topics_truncate_records()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	TRUNCATE kafka.records, kafka.segments, kafka.deleted_partitions;
	RETURN NULL;
END
$$;

CREATE TRIGGER topics_truncate_records
	AFTER TRUNCATE ON kafka.topics
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.topics_truncate_records();

CREATE FUNCTION kafka.create_topic(name text, partitions int, configs jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	new_topic_id uuid;
	bad_key text;
BEGIN
	-- Checked here, before the table's CHECK constraint would, to raise
	-- invalid_name with a message that says what is wrong.
	IF name IS NULL OR NOT kafka.is_valid_topic_name(name) THEN
		RAISE EXCEPTION '%', CASE
			WHEN name IS NULL THEN 'topic name must not be null'
			WHEN name = '' THEN 'topic name must not be empty'
			WHEN name IN ('.', '..') THEN 'topic name cannot be "." or ".."'
			WHEN length(name) > 249 THEN
				format('topic name is %s characters long; the maximum is 249', length(name))
			ELSE format('topic name "%s" contains characters other than ASCII letters, digits, ".", "_" and "-"', name)
			END
			USING ERRCODE = 'invalid_name',
			      HINT = 'A topic name is 1 to 249 characters of [A-Za-z0-9._-], and not "." or "..".';
	END IF;
	IF partitions IS NULL OR partitions <= 0 THEN
		RAISE EXCEPTION 'number of partitions must be positive, not %', coalesce(partitions::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	configs := coalesce(configs, '{}');
	IF jsonb_typeof(configs) <> 'object' THEN
		RAISE EXCEPTION 'topic configs must be a JSON object, not %', jsonb_typeof(configs)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT c.key INTO bad_key
	FROM jsonb_each(configs) c
	WHERE jsonb_typeof(c.value) IN ('object', 'array')
	ORDER BY c.key
	LIMIT 1;
	IF bad_key IS NOT NULL THEN
		RAISE EXCEPTION 'value of topic config "%" must be a string, number, boolean or null', bad_key
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO kafka.topics AS t (name, partitions)
	VALUES (create_topic.name, create_topic.partitions)
	ON CONFLICT ON CONSTRAINT topics_pkey DO NOTHING
	RETURNING t.topic_id INTO new_topic_id;
	IF new_topic_id IS NULL THEN
		RAISE EXCEPTION 'topic "%" already exists', name
			USING ERRCODE = 'unique_violation';
	END IF;

	INSERT INTO kafka.partitions (topic, partition)
	SELECT create_topic.name, p
	FROM generate_series(0, create_topic.partitions - 1) p;

	INSERT INTO kafka.topic_configs (topic, name, value)
	SELECT create_topic.name, c.key, c.value #>> '{}'
	FROM jsonb_each(configs) c;

	RETURN new_topic_id;
END
$$;

COMMENT ON FUNCTION kafka.create_topic(text, int, jsonb) IS
	'Create a topic with partitions 0 .. partitions - 1 and the given config overrides (a JSON object of scalars); returns its topic id.';

CREATE FUNCTION kafka.create_partitions(name text, total int)
RETURNS void
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	current_count int;
BEGIN
	SELECT t.partitions INTO current_count
	FROM kafka.topics t
	WHERE t.name = create_partitions.name
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'topic "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF total IS NULL OR total <= current_count THEN
		RAISE EXCEPTION 'topic "%" has % partitions; the new total must be greater, not %',
				name, current_count, coalesce(total::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO kafka.partitions (topic, partition)
	SELECT create_partitions.name, p
	FROM generate_series(current_count, total - 1) p;

	UPDATE kafka.topics t
	SET partitions = total
	WHERE t.name = create_partitions.name;
END
$$;

COMMENT ON FUNCTION kafka.create_partitions(text, int) IS
	'Grow a topic to total partitions; existing partitions keep their records and offsets.';

CREATE FUNCTION kafka.delete_topic(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	deleted int;
BEGIN
	-- Configs and partitions cascade; the partitions' trigger queues the
	-- records for the maintenance job.
	DELETE FROM kafka.topics t WHERE t.name = delete_topic.name;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted > 0;
END
$$;

COMMENT ON FUNCTION kafka.delete_topic(text) IS
	'Delete a topic with its configs and partitions, and queue its records for the background job; false if there was no such topic.';

-- The tables hold user data: pg_dump must dump their rows, not just the
-- CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('kafka.topics', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.topic_configs', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.partitions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.records', '');

/*
 * ---- Consumer group offsets ----
 *
 * Committed offsets are rows of kafka.consumer_offsets, one per group, topic
 * and partition, written by the broker's OffsetCommit and read by
 * OffsetFetch. Group membership itself lives in the broker's memory: members
 * rejoin after a broker restart, and find their committed offsets here.
 */

-- The foreign key makes offsets of a deleted topic go away with its
-- partitions, and keeps offsets of partitions that never existed out.
CREATE TABLE kafka.consumer_offsets (
	group_id text COLLATE "C",
	topic text COLLATE "C",
	partition int,
	committed_offset bigint NOT NULL,
	leader_epoch int NOT NULL DEFAULT -1,
	metadata bytea,
	commit_timestamp timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (group_id, topic, partition),
	CONSTRAINT consumer_offsets_partition_fkey FOREIGN KEY (topic, partition)
		REFERENCES kafka.partitions (topic, partition) ON DELETE CASCADE
);

-- For the cascade when a topic is deleted, and for lag by topic.
CREATE INDEX consumer_offsets_topic_partition ON kafka.consumer_offsets (topic, partition);

COMMENT ON TABLE kafka.consumer_offsets IS
	'Committed offsets of consumer groups (Kafka''s __consumer_offsets). Rows of a topic go when the topic is deleted.';
COMMENT ON COLUMN kafka.consumer_offsets.group_id IS 'The consumer group (group.id).';
COMMENT ON COLUMN kafka.consumer_offsets.topic IS 'The topic.';
COMMENT ON COLUMN kafka.consumer_offsets.partition IS 'The partition.';
COMMENT ON COLUMN kafka.consumer_offsets.committed_offset IS
	'The committed offset: the next record the group will read from this partition.';
COMMENT ON COLUMN kafka.consumer_offsets.leader_epoch IS
	'Leader epoch the client committed with, -1 if it gave none.';
COMMENT ON COLUMN kafka.consumer_offsets.metadata IS
	'Metadata the client committed with the offset, as the bytes of the Kafka string (any, NUL included; convert_from(metadata, ''UTF8'') reads the usual ones as text).';
COMMENT ON COLUMN kafka.consumer_offsets.commit_timestamp IS 'When the offset was committed.';

-- How far behind each group is, per partition.
CREATE VIEW kafka.consumer_lag AS
SELECT o.group_id, o.topic, o.partition, o.committed_offset,
       p.next_offset AS high_watermark,
       greatest(p.next_offset - o.committed_offset, 0) AS lag,
       o.commit_timestamp
FROM kafka.consumer_offsets o
JOIN kafka.partitions p USING (topic, partition);

COMMENT ON VIEW kafka.consumer_lag IS
	'Per group and partition: committed offset, high watermark and the number of records not yet consumed.';

SELECT pg_catalog.pg_extension_config_dump('kafka.consumer_offsets', '');

/*
 * ---- The SQL API for applications and operators ----
 *
 *  - kafka.produce(...): write a record from SQL, inside the caller's own
 *    transaction (the transactional outbox). Offsets are allocated exactly
 *    as the broker allocates them, so consumers see the record when, and
 *    only if, the transaction commits.
 *  - kafka.records_decoded: kafka.records with keys, values and headers
 *    shown as text where they are text.
 *  - replay slots: named logical replication slots with the pg_kafka output
 *    plugin, to create, inspect, peek at, advance and drop.
 *
 * docs/SQL.md documents every function with examples.
 */

-- ---- C helpers (decoder/sqlfuncs.c, in the output plugin's library) ----

CREATE FUNCTION kafka.murmur2(data bytea)
RETURNS int
AS 'MODULE_PATHNAME', 'pgk_murmur2'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION kafka.murmur2(bytea) IS
	'Kafka''s murmur2 hash of the bytes, as the Java client computes it (a signed 32-bit value).';

CREATE FUNCTION kafka.key_partition(key bytea, partitions int)
RETURNS int
AS 'MODULE_PATHNAME', 'pgk_key_partition'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION kafka.key_partition(bytea, int) IS
	'The partition the Java client''s default partitioner picks for a non-null key: (murmur2(key) & 0x7fffffff) % partitions.';

CREATE FUNCTION kafka.encode_headers(keys text[], "values" bytea[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'pgk_encode_headers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION kafka.encode_headers(text[], bytea[]) IS
	'Headers in Kafka wire encoding, as kafka.records.headers stores them; NULL for no headers. values[i] may be NULL.';

CREATE FUNCTION kafka.decode_headers(headers bytea)
RETURNS TABLE (key text, value bytea)
AS 'MODULE_PATHNAME', 'pgk_decode_headers'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;

COMMENT ON FUNCTION kafka.decode_headers(bytea) IS
	'One row per header of a kafka.records.headers value, in order; an error if the bytes are not a header section.';

CREATE FUNCTION kafka.headers_jsonb(headers bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgk_headers_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION kafka.headers_jsonb(bytea) IS
	'Headers as a JSON array of {"key", "value"}; values are text when valid UTF-8, else {"base64": ...}.';

CREATE FUNCTION kafka.bytes_text(data bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'pgk_bytes_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION kafka.bytes_text(bytea) IS
	'The bytes as text if they are valid UTF-8 (without NUL characters), else NULL.';

-- ---- producing from SQL ----

CREATE TYPE kafka.produced AS (
	topic text,
	partition int,
	"offset" bigint,
	"timestamp" timestamptz
);

COMMENT ON TYPE kafka.produced IS 'Where kafka.produce put a record.';

-- Headers given as JSON, in Kafka wire encoding. Accepted forms:
--   {"name": "value", ...}                 (an object; keys in jsonb order)
--   [["name", "value"], ...]               (pairs, in order, duplicates kept)
--   [{"key": "name", "value": "v"}, ...]   (what kafka.headers_jsonb returns)
-- A JSON null value is a null header value; other non-strings are stored as
-- their JSON text.
CREATE FUNCTION kafka.headers_from_jsonb(headers jsonb)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	names text[];
	vals bytea[];
BEGIN
	IF headers IS NULL OR headers = 'null'::jsonb THEN
		RETURN NULL;
	END IF;
	IF jsonb_typeof(headers) = 'object' THEN
		SELECT coalesce(array_agg(h.key ORDER BY h.key), '{}'),
		       coalesce(array_agg(convert_to(h.value #>> '{}', 'UTF8') ORDER BY h.key), '{}')
		  INTO names, vals
		  FROM jsonb_each(headers) h;
	ELSIF jsonb_typeof(headers) = 'array' THEN
		IF EXISTS (SELECT 1 FROM jsonb_array_elements(headers) e
			    WHERE NOT ((jsonb_typeof(e) = 'array' AND jsonb_array_length(e) = 2
					AND jsonb_typeof(e -> 0) = 'string')
				       OR (jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'key') = 'string'))) THEN
			RAISE EXCEPTION 'invalid headers: %', headers
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Give headers as {"name": "value"}, [["name", "value"], ...] or [{"key": "name", "value": "value"}, ...].';
		END IF;
		SELECT coalesce(array_agg(CASE jsonb_typeof(e) WHEN 'array' THEN e ->> 0 ELSE e ->> 'key' END
					  ORDER BY n), '{}'),
		       coalesce(array_agg(convert_to(CASE jsonb_typeof(e) WHEN 'array' THEN e -> 1 ELSE e -> 'value' END
						     #>> '{}', 'UTF8') ORDER BY n), '{}')
		  INTO names, vals
		  FROM jsonb_array_elements(headers) WITH ORDINALITY AS a(e, n);
	ELSE
		RAISE EXCEPTION 'invalid headers: %', headers
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Give headers as {"name": "value"}, [["name", "value"], ...] or [{"key": "name", "value": "value"}, ...].';
	END IF;
	RETURN kafka.encode_headers(names, vals);
END
$$;

COMMENT ON FUNCTION kafka.headers_from_jsonb(jsonb) IS
	'Headers given as JSON ({"k": "v"}, [["k", "v"], ...] or [{"key": "k", "value": "v"}, ...]) in Kafka wire encoding.';

CREATE FUNCTION kafka.produce(
	topic text,
	key bytea,
	value bytea,
	headers jsonb DEFAULT NULL,
	partition int DEFAULT NULL,
	"timestamp" timestamptz DEFAULT NULL)
RETURNS kafka.produced
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
DECLARE
	npartitions int;
	ts_type text;
	result kafka.produced;
BEGIN
	-- with the authorizer on, WRITE on the topic, as a Kafka producer needs
	IF NOT kafka.sql_authorized('WRITE', produce.topic) THEN
		RAISE EXCEPTION 'TOPIC_AUTHORIZATION_FAILED: role "%" may not write to topic "%"',
				current_user, produce.topic
			USING ERRCODE = 'insufficient_privilege',
			      HINT = 'An ACL in kafka.acls must allow WRITE on the topic to User:' || current_user || '.';
	END IF;

	SELECT t.partitions INTO npartitions FROM kafka.topics t WHERE t.name = produce.topic;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'topic "%" does not exist', produce.topic
			USING ERRCODE = 'undefined_object',
			      HINT = 'Create it with kafka.create_topic(name, partitions).';
	END IF;

	result.topic := produce.topic;
	IF produce.partition IS NOT NULL THEN
		IF produce.partition < 0 OR produce.partition >= npartitions THEN
			RAISE EXCEPTION 'topic "%" has partitions 0 to %, not %',
					produce.topic, npartitions - 1, produce.partition
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		result.partition := produce.partition;
	ELSIF produce.key IS NOT NULL THEN
		-- where the Java client's default partitioner puts this key
		result.partition := kafka.key_partition(produce.key, npartitions);
	ELSE
		result.partition := floor(random() * npartitions)::int;
	END IF;

	SELECT c.value INTO ts_type FROM kafka.topic_configs c
	 WHERE c.topic = produce.topic AND c.name = 'message.timestamp.type';
	IF ts_type = 'LogAppendTime' OR produce."timestamp" IS NULL THEN
		result."timestamp" := date_trunc('milliseconds', clock_timestamp());
	ELSE
		result."timestamp" := date_trunc('milliseconds', produce."timestamp");
	END IF;

	-- Exactly the broker's allocation (Q_PRODUCE): the partition row lock,
	-- held until this transaction ends, orders writers, so commit order is
	-- offset order.
	UPDATE kafka.partitions p
	   SET next_offset = p.next_offset + 1
	 WHERE p.topic = produce.topic AND p.partition = result.partition
	RETURNING p.next_offset - 1 INTO result."offset";
	IF NOT FOUND THEN
		RAISE EXCEPTION 'partition % of topic "%" does not exist', result.partition, produce.topic
			USING ERRCODE = 'undefined_object';
	END IF;

	INSERT INTO kafka.records (topic, partition, "offset", "timestamp", key, value, headers)
	VALUES (produce.topic, result.partition, result."offset", result."timestamp",
		produce.key, produce.value, kafka.headers_from_jsonb(produce.headers));
	RETURN result;
END
$$;

COMMENT ON FUNCTION kafka.produce(text, bytea, bytea, jsonb, int, timestamptz) IS
	'Write one record in the current transaction; consumers see it when the transaction commits, never if it rolls back. Without a partition, a keyed record goes where the Java client would put it.';

CREATE FUNCTION kafka.produce(
	topic text,
	key text,
	value text,
	headers jsonb DEFAULT NULL,
	partition int DEFAULT NULL,
	"timestamp" timestamptz DEFAULT NULL)
RETURNS kafka.produced
LANGUAGE sql VOLATILE SECURITY INVOKER
AS $$
	SELECT kafka.produce(topic, convert_to(key, 'UTF8'), convert_to(value, 'UTF8'),
			     headers, partition, "timestamp")
$$;

COMMENT ON FUNCTION kafka.produce(text, text, text, jsonb, int, timestamptz) IS
	'kafka.produce with a text key and value, stored as UTF-8.';

-- ---- reading ----

CREATE VIEW kafka.records_decoded WITH (security_invoker = true) AS
SELECT r.topic, r.partition, r."offset", r."timestamp",
       kafka.bytes_text(r.key) AS key_text,
       kafka.bytes_text(r.value) AS value_text,
       kafka.headers_jsonb(r.headers) AS headers,
       r.key, r.value, r.headers AS headers_raw
  FROM kafka.records r;

COMMENT ON VIEW kafka.records_decoded IS
	'kafka.records for people: key and value as text when they are UTF-8, headers as a JSON array of {"key", "value"}.';

-- ---- replay slots ----

CREATE VIEW kafka.replay_slots AS
SELECT s.slot_name::text AS slot_name,
       s.temporary,
       s.active,
       s.active_pid,
       s.restart_lsn,
       s.confirmed_flush_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,
       s.wal_status
  FROM pg_catalog.pg_replication_slots s
 WHERE s.plugin = 'pg_kafka' AND s.database = current_database();

COMMENT ON VIEW kafka.replay_slots IS
	'Logical replication slots of this database that use the pg_kafka output plugin (replay slots, the shadow forwarder''s, brokers'' temporary wake-up slots).';

CREATE FUNCTION kafka.create_replay_slot(slot_name name)
RETURNS pg_lsn
LANGUAGE sql VOLATILE
AS $$
	SELECT s.lsn FROM pg_catalog.pg_create_logical_replication_slot(slot_name, 'pg_kafka') s
$$;

COMMENT ON FUNCTION kafka.create_replay_slot(name) IS
	'Create a permanent slot with the pg_kafka output plugin; it holds every record committed from now on until consumed, advanced or dropped. Returns its start LSN.';

CREATE FUNCTION kafka.peek_replay_slot(slot_name name, max_records int DEFAULT NULL)
RETURNS TABLE (lsn pg_lsn, record jsonb)
LANGUAGE sql VOLATILE
AS $$
	SELECT c.lsn, c.data::jsonb
	  FROM pg_catalog.pg_logical_slot_peek_changes(slot_name, NULL, max_records,
						       'format', 'json', 'bytes', 'text') c
$$;

COMMENT ON FUNCTION kafka.peek_replay_slot(name, int) IS
	'The records a replay slot would deliver next, as JSON, without consuming them.';

CREATE FUNCTION kafka.advance_replay_slot(slot_name name, upto pg_lsn DEFAULT NULL)
RETURNS pg_lsn
LANGUAGE sql VOLATILE
AS $$
	SELECT a.end_lsn
	  FROM pg_catalog.pg_replication_slot_advance(slot_name,
						      coalesce(upto, pg_catalog.pg_current_wal_lsn())) a
$$;

COMMENT ON FUNCTION kafka.advance_replay_slot(name, pg_lsn) IS
	'Skip a replay slot forward to an LSN (default: now), dropping the records before it from its stream. Returns the new position.';

CREATE FUNCTION kafka.drop_replay_slot(slot_name name)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
	SELECT pg_catalog.pg_drop_replication_slot(slot_name)
$$;

COMMENT ON FUNCTION kafka.drop_replay_slot(name) IS 'Drop a replay slot.';

/*
 * ---- Shadow mode status and configuration (docs/SHADOW.md) ----
 *
 *  - kafka.shadow_topics: per forwarder slot, which topics are mirrored and
 *    under which external name (the forwarder reads it when it starts; its
 *    own configuration file can say the same).
 *  - kafka.shadow_partitions: what the forwarder reports, per partition:
 *    the last local offset the external cluster has, its external offset,
 *    the lag it sees and the last error. The forwarder upserts these rows.
 *  - kafka.shadow_status: the same rows next to the local high watermark,
 *    with lag in records and bytes counted from kafka.records.
 */

CREATE TABLE kafka.shadow_topics (
	slot name NOT NULL,
	topic text COLLATE "C" NOT NULL,
	external_topic text COLLATE "C",
	mirrored boolean NOT NULL DEFAULT true,
	PRIMARY KEY (slot, topic)
);

COMMENT ON TABLE kafka.shadow_topics IS
	'Shadow mode: per forwarder slot, topics to mirror or skip and their external names.';
COMMENT ON COLUMN kafka.shadow_topics.slot IS 'The forwarder''s replication slot.';
COMMENT ON COLUMN kafka.shadow_topics.topic IS 'The local topic.';
COMMENT ON COLUMN kafka.shadow_topics.external_topic IS
	'Topic name on the external cluster; NULL for the same name.';
COMMENT ON COLUMN kafka.shadow_topics.mirrored IS
	'false: never forward this topic. When a slot has a row with true, only such topics are forwarded.';

SELECT pg_catalog.pg_extension_config_dump('kafka.shadow_topics', '');

CREATE TABLE kafka.shadow_partitions (
	slot name NOT NULL,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	external_topic text COLLATE "C" NOT NULL,
	local_offset bigint NOT NULL,
	external_offset bigint NOT NULL,
	lag_records bigint NOT NULL,
	lag_bytes bigint NOT NULL,
	last_error text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (slot, topic, partition)
);

COMMENT ON TABLE kafka.shadow_partitions IS
	'Shadow mode status, one row per forwarded partition, written by pg_kafka_shadow.';
COMMENT ON COLUMN kafka.shadow_partitions.slot IS 'The forwarder''s replication slot.';
COMMENT ON COLUMN kafka.shadow_partitions.topic IS 'The local topic.';
COMMENT ON COLUMN kafka.shadow_partitions.partition IS 'The partition (the same number outside).';
COMMENT ON COLUMN kafka.shadow_partitions.external_topic IS 'The topic on the external cluster.';
COMMENT ON COLUMN kafka.shadow_partitions.local_offset IS
	'Last local offset the external cluster acknowledged; -1 for none.';
COMMENT ON COLUMN kafka.shadow_partitions.external_offset IS
	'Its offset on the external cluster; -1 for none.';
COMMENT ON COLUMN kafka.shadow_partitions.lag_records IS
	'Records the forwarder has read from the slot but the external cluster has not acknowledged.';
COMMENT ON COLUMN kafka.shadow_partitions.lag_bytes IS
	'Key, value and header bytes of those records.';
COMMENT ON COLUMN kafka.shadow_partitions.last_error IS
	'The last produce or delivery error, NULL once a record went through again.';
COMMENT ON COLUMN kafka.shadow_partitions.updated_at IS 'When the forwarder last wrote this row.';

CREATE VIEW kafka.shadow_status AS
SELECT s.slot, s.topic, s.partition, s.external_topic,
       p.next_offset AS local_high_watermark,
       s.local_offset, s.external_offset,
       greatest(p.next_offset - 1 - s.local_offset, 0) AS lag_records,
       coalesce((SELECT sum(coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
                            + coalesce(octet_length(r.headers), 0))
                 FROM kafka.records r
                 WHERE r.topic = s.topic AND r.partition = s.partition
                   AND r."offset" > s.local_offset), 0)::bigint AS lag_bytes,
       s.last_error, s.updated_at
FROM kafka.shadow_partitions s
JOIN kafka.partitions p ON p.topic = s.topic AND p.partition = s.partition;

COMMENT ON VIEW kafka.shadow_status IS
	'Shadow mode per partition: what the forwarder reported next to the local high watermark; lag counted from kafka.records.';

CREATE FUNCTION kafka.shadow_ready(slot name, topic text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	-- every partition of the topic reported, and nothing left to forward
	SELECT count(s.*) = count(*) AND coalesce(bool_and(s.lag_records = 0), false)
	FROM kafka.partitions p
	LEFT JOIN kafka.shadow_status s
	       ON s.slot = shadow_ready.slot AND s.topic = p.topic AND s.partition = p.partition
	WHERE p.topic = shadow_ready.topic;
$$;

COMMENT ON FUNCTION kafka.shadow_ready(name, text) IS
	'true when the forwarder on slot has acknowledged every record of topic (records lag zero on every partition).';

/*
 * ---- Idempotent producers (docs/IDEMPOTENCE.md) ----
 *
 *  - kafka.producer_ids: the sequence InitProducerId draws new ids from.
 *  - kafka.producers: every producer id handed out and its current epoch.
 *  - kafka.producer_state: per producer and partition, the epoch and the
 *    sequence numbers and base offsets of its last five batches, which is
 *    what a Kafka broker keeps to recognise a retried batch.
 *  - kafka.produce_idempotent(): checks a batch's sequence against that
 *    state and appends it, in one statement, under the partition row lock.
 *  - kafka.init_producer_id(): a new id at epoch 0, or an epoch bump.
 */

CREATE SEQUENCE kafka.producer_ids AS bigint MINVALUE 0 START 0;

CREATE TABLE kafka.producers (
	producer_id bigint PRIMARY KEY,
	producer_epoch smallint NOT NULL CHECK (producer_epoch >= 0),
	updated timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE kafka.producers IS
	'Producer ids handed out by InitProducerId and their current epochs.';
COMMENT ON COLUMN kafka.producers.producer_id IS 'The producer id.';
COMMENT ON COLUMN kafka.producers.producer_epoch IS 'Its current epoch.';
COMMENT ON COLUMN kafka.producers.updated IS 'When the id was handed out or its epoch bumped.';

CREATE TABLE kafka.producer_state (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	producer_id bigint NOT NULL,
	producer_epoch smallint NOT NULL,
	first_seqs int[] NOT NULL,
	last_seqs int[] NOT NULL,
	base_offsets bigint[] NOT NULL,
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition, producer_id),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

COMMENT ON TABLE kafka.producer_state IS
	'Per idempotent producer and partition: its epoch and its last five batches (oldest first), to detect retried and out-of-order batches.';
COMMENT ON COLUMN kafka.producer_state.topic IS 'The topic.';
COMMENT ON COLUMN kafka.producer_state.partition IS 'The partition.';
COMMENT ON COLUMN kafka.producer_state.producer_id IS 'The producer id.';
COMMENT ON COLUMN kafka.producer_state.producer_epoch IS 'The epoch of the batches below.';
COMMENT ON COLUMN kafka.producer_state.first_seqs IS 'First sequence number of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.last_seqs IS 'Last sequence number of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.base_offsets IS 'Offset of the first record of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.updated IS 'When the last batch was appended.';

SELECT pg_catalog.pg_extension_config_dump('kafka.producers', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.producer_state', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.producer_ids', '');

/*
 * Append one idempotent batch: the same arguments and result columns as the
 * broker's plain produce statement, plus the producer id, epoch and base
 * sequence, and a Kafka error code as the last column (0, 45 or 47). A
 * retried batch (same epoch, first and last sequence as one of the last five)
 * is not written again: its original base offset is returned.
 * No row from the partition (unknown partition, batch too large) returns a
 * NULL base, as the plain statement does.
 */
CREATE FUNCTION kafka.produce_idempotent(
	p_topic text, p_partition int, p_count int, p_ts timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int,
	OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	part record;
	st kafka.producer_state;
	last_seq int := ((p_base_seq::bigint + p_count - 1) % 2147483648)::int;
	nb int;
BEGIN
	SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),
			'CreateTime') = 'LogAppendTime',
	       coalesce(max(value) FILTER (WHERE name = 'max.message.bytes')::int, p_default_max)
	INTO lat, maxb
	FROM kafka.topic_configs WHERE topic = p_topic;
	now_ms := (extract(epoch FROM now()) * 1000)::int8;
	error_code := 0;
	IF p_batch_bytes > maxb THEN
		RETURN;
	END IF;
	SELECT p.next_offset, p.log_start_offset INTO part
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	log_start := part.log_start_offset;

	SELECT * INTO st FROM kafka.producer_state s
	WHERE s.topic = p_topic AND s.partition = p_partition AND s.producer_id = p_producer_id;
	IF FOUND THEN
		IF p_epoch < st.producer_epoch THEN
			error_code := 47; -- INVALID_PRODUCER_EPOCH
			RETURN;
		ELSIF p_epoch = st.producer_epoch THEN
			nb := array_length(st.last_seqs, 1);
			FOR i IN 1 .. nb LOOP
				IF st.first_seqs[i] = p_base_seq AND st.last_seqs[i] = last_seq THEN
					base := st.base_offsets[i];
					RETURN;
				END IF;
			END LOOP;
			IF NOT (p_base_seq::bigint = st.last_seqs[nb]::bigint + 1
				OR (p_base_seq = 0 AND st.last_seqs[nb] = 2147483647)) THEN
				error_code := 45; -- OUT_OF_ORDER_SEQUENCE_NUMBER
				RETURN;
			END IF;
		ELSIF p_base_seq <> 0 THEN
			error_code := 45; -- a new epoch starts at sequence 0
			RETURN;
		END IF;
	END IF;
	-- No state for this producer here: any sequence starts it, as in Kafka.

	base := part.next_offset;
	UPDATE kafka.partitions SET next_offset = next_offset + p_count
	WHERE topic = p_topic AND partition = p_partition;
	PERFORM kafka.append_records(p_topic, p_partition, base, lat, p_ts, p_keys, p_values,
		p_headers);

	IF st.producer_id IS NULL THEN
		INSERT INTO kafka.producer_state
			(topic, partition, producer_id, producer_epoch, first_seqs, last_seqs, base_offsets)
		VALUES (p_topic, p_partition, p_producer_id, p_epoch,
			ARRAY[p_base_seq], ARRAY[last_seq], ARRAY[base]);
	ELSIF p_epoch <> st.producer_epoch THEN
		UPDATE kafka.producer_state s
		SET producer_epoch = p_epoch, first_seqs = ARRAY[p_base_seq],
		    last_seqs = ARRAY[last_seq], base_offsets = ARRAY[base], updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	ELSE
		UPDATE kafka.producer_state s
		SET first_seqs = (s.first_seqs || p_base_seq)[greatest(1, nb - 3):],
		    last_seqs = (s.last_seqs || last_seq)[greatest(1, nb - 3):],
		    base_offsets = (s.base_offsets || base)[greatest(1, nb - 3):],
		    updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.produce_idempotent(text, int, int, timestamptz[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int) IS
	'Append one idempotent batch after checking its sequence; a retried batch returns its first base offset.';

/*
 * InitProducerId without a transactional id. p_producer_id = -1: a new id at
 * epoch 0. Otherwise (KIP-360, a producer recovering from an error) the epoch
 * is bumped if p_epoch is the current one; at the largest epoch the producer
 * gets a new id instead. error_code 90 (PRODUCER_FENCED) when the id is
 * unknown or the epoch is not the current one; the broker answers 47 to v3.
 */
CREATE FUNCTION kafka.init_producer_id(p_producer_id bigint, p_epoch smallint,
	OUT producer_id bigint, OUT producer_epoch smallint, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	cur smallint;
BEGIN
	error_code := 0;
	IF p_producer_id >= 0 THEN
		SELECT p.producer_epoch INTO cur FROM kafka.producers p
		WHERE p.producer_id = p_producer_id FOR UPDATE;
		IF NOT FOUND OR cur <> p_epoch THEN
			producer_id := -1;
			producer_epoch := -1;
			error_code := 90;
			RETURN;
		END IF;
		IF cur < 32766 THEN
			UPDATE kafka.producers p SET producer_epoch = cur + 1, updated = now()
			WHERE p.producer_id = p_producer_id;
			producer_id := p_producer_id;
			producer_epoch := cur + 1;
			RETURN;
		END IF;
	END IF;
	producer_id := nextval('kafka.producer_ids');
	producer_epoch := 0;
	INSERT INTO kafka.producers (producer_id, producer_epoch) VALUES (producer_id, 0);
END
$$;

COMMENT ON FUNCTION kafka.init_producer_id(bigint, smallint) IS
	'InitProducerId for idempotent producers: a new producer id, or the next epoch of an existing one.';

/*
 * ---- Transactions (docs/TRANSACTIONS.md) ----
 *
 *  - kafka.transactions: the transaction coordinator's state, one row per
 *    transactional id: its producer id and epoch, state and timeout.
 *  - kafka.txn_partitions, kafka.txn_groups, kafka.txn_offsets: what the
 *    ongoing transaction of an id has added (partitions, consumer groups)
 *    and the consumer offsets it will commit.
 *  - kafka.txn_batches: the offset ranges of transactional batches and the
 *    transaction markers; a marker takes an offset but is no row of
 *    kafka.records.
 *  - kafka.aborted_txns: per partition, the aborted transactions that wrote
 *    there, for the aborted-transactions list of read_committed fetches.
 *  - One function per coordinator API (InitProducerId with a transactional
 *    id, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), the
 *    abort of timed-out transactions, and kafka.produce_transactional(), the
 *    append of a transactional batch.
 *
 * Every function locks the kafka.transactions row first and partition rows
 * after, in (topic, partition) order, so that they never deadlock with each
 * other or with producers. A transaction ends in one PostgreSQL transaction:
 * markers, consumer offsets and state commit together or not at all, so the
 * Java broker's prepare states are never visible.
 */

CREATE TABLE kafka.transactions (
	transactional_id text COLLATE "C" PRIMARY KEY,
	producer_id bigint NOT NULL UNIQUE,
	producer_epoch smallint NOT NULL CHECK (producer_epoch >= 0),
	state text NOT NULL DEFAULT 'Empty'
		CHECK (state IN ('Empty', 'Ongoing', 'CompleteCommit', 'CompleteAbort')),
	timeout_ms int NOT NULL CHECK (timeout_ms > 0),
	started timestamptz,
	updated timestamptz NOT NULL DEFAULT now(),
	last_epoch smallint NOT NULL DEFAULT -1,
	previous_producer_id bigint NOT NULL DEFAULT -1,
	CONSTRAINT transactions_ongoing_started CHECK (state <> 'Ongoing' OR started IS NOT NULL)
);

-- The reaper of timed-out transactions looks only at ongoing ones.
CREATE INDEX transactions_ongoing ON kafka.transactions (started) WHERE state = 'Ongoing';

COMMENT ON TABLE kafka.transactions IS
	'Transaction coordinator state: one row per transactional.id (Kafka''s __transaction_state).';
COMMENT ON COLUMN kafka.transactions.transactional_id IS 'The producer''s transactional.id.';
COMMENT ON COLUMN kafka.transactions.producer_id IS 'The producer id the transactional id currently has.';
COMMENT ON COLUMN kafka.transactions.producer_epoch IS
	'Its current epoch; a producer with an older one is fenced.';
COMMENT ON COLUMN kafka.transactions.state IS
	'Empty (no transaction since InitProducerId), Ongoing, CompleteCommit or CompleteAbort.';
COMMENT ON COLUMN kafka.transactions.timeout_ms IS
	'transaction.timeout.ms of the producer: an Ongoing transaction older than this is aborted.';
COMMENT ON COLUMN kafka.transactions.started IS
	'When the current or last transaction added its first partition or group; NULL when Empty.';
COMMENT ON COLUMN kafka.transactions.updated IS 'When the row last changed.';
COMMENT ON COLUMN kafka.transactions.last_epoch IS
	'The epoch before the last bump that a producer asked for, or after a transaction ended: InitProducerId with it is a retry, answered with the current epoch (KIP-360); -1 for none.';
COMMENT ON COLUMN kafka.transactions.previous_producer_id IS
	'The producer id before epochs ran out and a new one was given, for a retried InitProducerId (KIP-360); -1 for none.';

CREATE TABLE kafka.txn_partitions (
	transactional_id text COLLATE "C" NOT NULL
		REFERENCES kafka.transactions (transactional_id) ON DELETE CASCADE,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	first_offset bigint,
	PRIMARY KEY (transactional_id, topic, partition),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

-- The last stable offset of a partition is the smallest first_offset here;
-- the index also serves the cascade when a topic is deleted.
CREATE INDEX txn_partitions_lso ON kafka.txn_partitions (topic, partition, first_offset);

COMMENT ON TABLE kafka.txn_partitions IS
	'Partitions of ongoing transactions (AddPartitionsToTxn). The smallest first_offset of a partition is its last stable offset.';
COMMENT ON COLUMN kafka.txn_partitions.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_partitions.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_partitions.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_partitions.first_offset IS
	'Offset of the transaction''s first record in the partition; NULL until it writes there.';

CREATE TABLE kafka.txn_groups (
	transactional_id text COLLATE "C" NOT NULL
		REFERENCES kafka.transactions (transactional_id) ON DELETE CASCADE,
	group_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (transactional_id, group_id)
);

COMMENT ON TABLE kafka.txn_groups IS
	'Consumer groups added to ongoing transactions (AddOffsetsToTxn): the groups TxnOffsetCommit accepts.';
COMMENT ON COLUMN kafka.txn_groups.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_groups.group_id IS 'The consumer group.';

-- The foreign key to kafka.txn_groups keeps offsets of groups that were not
-- added out, and drops pending offsets with their group.
CREATE TABLE kafka.txn_offsets (
	transactional_id text COLLATE "C" NOT NULL,
	group_id text COLLATE "C" NOT NULL,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	committed_offset bigint NOT NULL,
	leader_epoch int NOT NULL DEFAULT -1,
	metadata bytea,
	PRIMARY KEY (transactional_id, group_id, topic, partition),
	FOREIGN KEY (transactional_id, group_id) REFERENCES kafka.txn_groups (transactional_id, group_id)
		ON DELETE CASCADE,
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

-- OffsetFetch with require_stable asks whether an offset is pending for a
-- group and partition.
CREATE INDEX txn_offsets_group ON kafka.txn_offsets (group_id, topic, partition);

COMMENT ON TABLE kafka.txn_offsets IS
	'Consumer offsets committed in ongoing transactions (TxnOffsetCommit): moved into kafka.consumer_offsets on commit, dropped on abort.';
COMMENT ON COLUMN kafka.txn_offsets.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_offsets.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.txn_offsets.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_offsets.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_offsets.committed_offset IS 'The offset to commit.';
COMMENT ON COLUMN kafka.txn_offsets.leader_epoch IS
	'Leader epoch the client committed with, -1 if it gave none.';
COMMENT ON COLUMN kafka.txn_offsets.metadata IS
	'Metadata committed with the offset, as the bytes of the Kafka string.';

-- Ranges never overlap within a partition, so a fetch from offset X reads
-- "last_offset >= X ORDER BY last_offset" on the primary key.
CREATE TABLE kafka.txn_batches (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	base_offset bigint NOT NULL,
	last_offset bigint NOT NULL,
	producer_id bigint NOT NULL,
	producer_epoch smallint NOT NULL,
	control smallint CHECK (control IN (0, 1)),
	coordinator_epoch int NOT NULL DEFAULT 0,
	"timestamp" timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition, last_offset),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE,
	CONSTRAINT txn_batches_range_valid CHECK (base_offset <= last_offset),
	CONSTRAINT txn_batches_marker_one_offset CHECK (control IS NULL OR base_offset = last_offset)
);

COMMENT ON TABLE kafka.txn_batches IS
	'Transactional batches and transaction markers, by offset range; markers have an offset but no row in kafka.records.';
COMMENT ON COLUMN kafka.txn_batches.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_batches.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_batches.base_offset IS 'Offset of the first record of the batch (of the marker).';
COMMENT ON COLUMN kafka.txn_batches.last_offset IS 'Offset of the last record of the batch (of the marker).';
COMMENT ON COLUMN kafka.txn_batches.producer_id IS 'The producer id that wrote it.';
COMMENT ON COLUMN kafka.txn_batches.producer_epoch IS 'Its epoch.';
COMMENT ON COLUMN kafka.txn_batches.control IS
	'NULL for a batch of records, 0 for an abort marker, 1 for a commit marker.';
COMMENT ON COLUMN kafka.txn_batches.coordinator_epoch IS
	'Coordinator epoch written in a marker''s control record (0: there is one coordinator).';
COMMENT ON COLUMN kafka.txn_batches."timestamp" IS 'When the batch or marker was written.';

CREATE TABLE kafka.aborted_txns (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	producer_id bigint NOT NULL,
	first_offset bigint NOT NULL,
	last_offset bigint NOT NULL,
	PRIMARY KEY (topic, partition, last_offset),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

COMMENT ON TABLE kafka.aborted_txns IS
	'Aborted transactions per partition where they wrote records: the aborted-transactions list of read_committed fetches.';
COMMENT ON COLUMN kafka.aborted_txns.topic IS 'The topic.';
COMMENT ON COLUMN kafka.aborted_txns.partition IS 'The partition.';
COMMENT ON COLUMN kafka.aborted_txns.producer_id IS 'Producer id of the aborted transaction.';
COMMENT ON COLUMN kafka.aborted_txns.first_offset IS 'Offset of its first record in the partition.';
COMMENT ON COLUMN kafka.aborted_txns.last_offset IS 'Offset of its abort marker.';

SELECT pg_catalog.pg_extension_config_dump('kafka.transactions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_partitions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_groups', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_offsets', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_batches', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.aborted_txns', '');

/*
 * End the ongoing transaction of p_transactional_id, whose row the caller has
 * locked FOR UPDATE and which is Ongoing: a marker in every partition of the
 * transaction (in (topic, partition) order, locking each partition row), on
 * abort an aborted_txns row where it wrote, on commit its pending offsets
 * become consumer offsets; then its partitions, groups and offsets are
 * cleared. The markers carry the producer id and epoch the transaction's
 * records were written with, which is what read_committed clients match.
 * Returns the partitions that got a marker.
 */
CREATE FUNCTION kafka.txn_complete(p_transactional_id text, p_commit boolean,
	OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	tp record;
	marker bigint;
BEGIN
	topics := '{}';
	partitions := '{}';
	SELECT x.producer_id, x.producer_epoch INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id;
	FOR tp IN
		SELECT p.topic, p.partition, p.first_offset FROM kafka.txn_partitions p
		WHERE p.transactional_id = p_transactional_id
		ORDER BY p.topic, p.partition
	LOOP
		UPDATE kafka.partitions p SET next_offset = p.next_offset + 1
		WHERE p.topic = tp.topic AND p.partition = tp.partition
		RETURNING p.next_offset - 1 INTO marker;
		INSERT INTO kafka.txn_batches
			(topic, partition, base_offset, last_offset, producer_id, producer_epoch, control)
		VALUES (tp.topic, tp.partition, marker, marker, t.producer_id, t.producer_epoch,
			CASE WHEN p_commit THEN 1 ELSE 0 END);
		IF NOT p_commit AND tp.first_offset IS NOT NULL THEN
			INSERT INTO kafka.aborted_txns (topic, partition, producer_id, first_offset, last_offset)
			VALUES (tp.topic, tp.partition, t.producer_id, tp.first_offset, marker);
		END IF;
		topics := topics || tp.topic;
		partitions := partitions || tp.partition;
	END LOOP;

	IF p_commit THEN
		INSERT INTO kafka.consumer_offsets AS c
			(group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
		SELECT o.group_id, o.topic, o.partition, o.committed_offset, o.leader_epoch, o.metadata, now()
		FROM kafka.txn_offsets o WHERE o.transactional_id = p_transactional_id
		ON CONFLICT (group_id, topic, partition) DO UPDATE
		SET committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
		    metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp;
	END IF;
	DELETE FROM kafka.txn_offsets o WHERE o.transactional_id = p_transactional_id;
	DELETE FROM kafka.txn_groups g WHERE g.transactional_id = p_transactional_id;
	DELETE FROM kafka.txn_partitions p WHERE p.transactional_id = p_transactional_id;
	UPDATE kafka.transactions x
	SET state = CASE WHEN p_commit THEN 'CompleteCommit' ELSE 'CompleteAbort' END,
	    last_epoch = x.producer_epoch, updated = now()
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.txn_complete(text, boolean) IS
	'Internal (the caller holds the transaction row lock): write the markers of an ongoing transaction and complete it.';

/*
 * Fence the current producer of p_transactional_id (row locked by the
 * caller): the next epoch, or at epoch 32766 and above a new producer id at
 * epoch 0, as kafka.init_producer_id() does. kafka.producers follows.
 */
CREATE FUNCTION kafka.txn_bump_epoch(p_transactional_id text,
	OUT producer_id bigint, OUT producer_epoch smallint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT x.producer_id, x.producer_epoch INTO producer_id, producer_epoch
	FROM kafka.transactions x WHERE x.transactional_id = p_transactional_id;
	IF producer_epoch < 32766 THEN
		producer_epoch := producer_epoch + 1;
	ELSE
		producer_id := nextval('kafka.producer_ids');
		producer_epoch := 0;
	END IF;
	INSERT INTO kafka.producers AS p (producer_id, producer_epoch)
	VALUES (txn_bump_epoch.producer_id, txn_bump_epoch.producer_epoch)
	ON CONFLICT ON CONSTRAINT producers_pkey DO UPDATE
	SET producer_epoch = excluded.producer_epoch, updated = now();
	UPDATE kafka.transactions x
	SET previous_producer_id = CASE WHEN x.producer_id <> txn_bump_epoch.producer_id
					THEN x.producer_id ELSE x.previous_producer_id END,
	    producer_id = txn_bump_epoch.producer_id, producer_epoch = txn_bump_epoch.producer_epoch,
	    updated = now()
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.txn_bump_epoch(text) IS
	'Internal (the caller holds the transaction row lock): the next epoch of a transactional id, or a new producer id when epochs run out.';

/*
 * InitProducerId with a transactional id, as Kafka's transaction coordinator
 * answers it. A new id gets a producer id at epoch 0 in state Empty. A known
 * one with an Ongoing transaction has it aborted and its epoch bumped, which
 * fences the producer that left it open: the state is CompleteAbort, and the
 * broker answers CONCURRENT_TRANSACTIONS so that the client retries. Else the
 * epoch is bumped (a new producer id when epochs run out) and the state is
 * Empty. With an expected id and epoch (KIP-360, p_producer_id >= 0): the
 * current id, or the previous one with an exhausted epoch (a retry after a new
 * id was given), else 90; the current epoch is bumped, the last one
 * (last_epoch) is a retry whose answer was lost and gets the current epoch
 * again, any other is 90. topics/partitions: where abort markers were written.
 */
CREATE FUNCTION kafka.init_producer_id_txn(p_transactional_id text, p_timeout_ms int,
	p_producer_id bigint, p_epoch smallint, p_max_timeout_ms int,
	OUT producer_id bigint, OUT producer_epoch smallint, OUT error_code int,
	OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	producer_id := -1;
	producer_epoch := -1;
	error_code := 0;
	topics := '{}';
	partitions := '{}';
	IF p_transactional_id IS NULL THEN
		error_code := 49; -- INVALID_PRODUCER_ID_MAPPING: not a transactional producer
		RETURN;
	END IF;
	IF p_timeout_ms IS NULL OR p_timeout_ms < 1 OR p_timeout_ms > p_max_timeout_ms THEN
		error_code := 50; -- INVALID_TRANSACTION_TIMEOUT
		RETURN;
	END IF;

	SELECT x.producer_id, x.producer_epoch, x.state, x.last_epoch, x.previous_producer_id
	INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	IF NOT FOUND THEN
		-- Two producers starting the same new id at once: one inserts, the
		-- other waits for it and takes the known-id path below.
		INSERT INTO kafka.transactions AS x (transactional_id, producer_id, producer_epoch, timeout_ms)
		VALUES (p_transactional_id, nextval('kafka.producer_ids'), 0, p_timeout_ms)
		ON CONFLICT (transactional_id) DO NOTHING
		RETURNING x.producer_id INTO init_producer_id_txn.producer_id;
		IF FOUND THEN
			producer_epoch := 0;
			INSERT INTO kafka.producers (producer_id, producer_epoch)
			VALUES (init_producer_id_txn.producer_id, 0);
			RETURN;
		END IF;
		SELECT x.producer_id, x.producer_epoch, x.state, x.last_epoch, x.previous_producer_id
	INTO t FROM kafka.transactions x
		WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	END IF;

	IF p_producer_id >= 0 AND p_producer_id <> t.producer_id
	   AND NOT (p_producer_id = t.previous_producer_id AND p_epoch >= 32766) THEN
		error_code := 90; -- PRODUCER_FENCED
		RETURN;
	END IF;
	IF t.state = 'Ongoing' THEN
		SELECT c.topics, c.partitions INTO topics, partitions
		FROM kafka.txn_complete(p_transactional_id, false) c;
		SELECT b.producer_id, b.producer_epoch INTO producer_id, producer_epoch
		FROM kafka.txn_bump_epoch(p_transactional_id) b;
		UPDATE kafka.transactions x SET last_epoch = x.producer_epoch
		WHERE x.transactional_id = p_transactional_id;
		RETURN;
	END IF;
	IF p_producer_id >= 0 AND t.producer_epoch < 32766 AND p_epoch <> t.producer_epoch THEN
		IF p_epoch = t.last_epoch THEN
			-- a retry of a bump whose answer was lost
			producer_id := t.producer_id;
			producer_epoch := t.producer_epoch;
		ELSE
			error_code := 90;
		END IF;
		RETURN;
	END IF;
	IF p_producer_id >= 0 AND t.producer_epoch >= 32766 AND p_epoch <> t.producer_epoch THEN
		error_code := 90;
		RETURN;
	END IF;
	SELECT b.producer_id, b.producer_epoch INTO producer_id, producer_epoch
	FROM kafka.txn_bump_epoch(p_transactional_id) b;
	UPDATE kafka.transactions x
	SET state = 'Empty', started = NULL, timeout_ms = p_timeout_ms,
	    last_epoch = CASE WHEN p_producer_id >= 0 THEN t.producer_epoch ELSE -1 END
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.init_producer_id_txn(text, int, bigint, smallint, int) IS
	'InitProducerId for a transactional id: a new producer id, or the next epoch after aborting the ongoing transaction.';

/*
 * The checks every coordinator API makes once it holds the transaction row:
 * 49 (INVALID_PRODUCER_ID_MAPPING) for an unknown transactional id or another
 * producer id, 90 (PRODUCER_FENCED) for another epoch, else 0.
 */
CREATE FUNCTION kafka.txn_check_producer(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, OUT error_code int, OUT state text)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	IF NOT FOUND OR t.producer_id IS DISTINCT FROM p_producer_id THEN
		error_code := 49;
	ELSIF t.producer_epoch IS DISTINCT FROM p_epoch THEN
		error_code := 90;
	ELSE
		error_code := 0;
		state := t.state;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.txn_check_producer(text, bigint, smallint) IS
	'Internal: lock a transaction row and check the producer id (49) and epoch (90) of a request.';

-- Ongoing from now on; the timeout runs from the first partition or group.
CREATE FUNCTION kafka.txn_set_ongoing(p_transactional_id text)
RETURNS void
LANGUAGE sql AS $$
	UPDATE kafka.transactions x
	SET state = 'Ongoing', updated = now(),
	    started = CASE WHEN x.state = 'Ongoing' THEN x.started ELSE now() END
	WHERE x.transactional_id = p_transactional_id
$$;

COMMENT ON FUNCTION kafka.txn_set_ongoing(text) IS
	'Internal: mark a transaction Ongoing, starting its timeout if it was not.';


/*
 * AddPartitionsToTxn: one row per input partition, in input order. All or
 * nothing: if a partition does not exist, it gets 3 and the others 55
 * (OPERATION_NOT_ATTEMPTED). Adding a partition again is fine. The
 * partitions are only added: their rows are not locked until a marker is
 * written, so this never waits for producers.
 */
CREATE FUNCTION kafka.add_partitions_to_txn(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, p_topics text[], p_partitions int[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	err int;
	missing boolean;
BEGIN
	SELECT c.error_code INTO err
	FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch) c;
	IF err = 0 THEN
		SELECT bool_or(p.topic IS NULL) INTO missing
		FROM unnest(p_topics, p_partitions) u(t, p)
		LEFT JOIN kafka.partitions p ON p.topic = u.t AND p.partition = u.p;
	END IF;
	IF err = 0 AND missing THEN
		RETURN QUERY
		SELECT u.t, u.p,
		       CASE WHEN EXISTS (SELECT 1 FROM kafka.partitions p
					 WHERE p.topic = u.t AND p.partition = u.p) THEN 55 ELSE 3 END
		FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n) ORDER BY u.n;
		RETURN;
	END IF;
	IF err = 0 THEN
		INSERT INTO kafka.txn_partitions AS x (transactional_id, topic, partition)
		SELECT DISTINCT p_transactional_id, u.t, u.p FROM unnest(p_topics, p_partitions) u(t, p)
		ON CONFLICT DO NOTHING;
		-- even for no partitions, as Kafka's prepareAddPartitions
		PERFORM kafka.txn_set_ongoing(p_transactional_id);
	END IF;
	RETURN QUERY
	SELECT u.t, u.p, err FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n) ORDER BY u.n;
END
$$;

COMMENT ON FUNCTION kafka.add_partitions_to_txn(text, bigint, smallint, text[], int[]) IS
	'AddPartitionsToTxn: add partitions to the ongoing transaction (all or none); an error code per partition.';

-- AddOffsetsToTxn: the group may then take TxnOffsetCommit in this transaction.
CREATE FUNCTION kafka.add_offsets_to_txn(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, p_group_id text, OUT error_code int)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT c.error_code INTO error_code
	FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch) c;
	IF error_code <> 0 THEN
		RETURN;
	END IF;
	INSERT INTO kafka.txn_groups (transactional_id, group_id)
	VALUES (p_transactional_id, coalesce(p_group_id, ''))
	ON CONFLICT DO NOTHING;
	PERFORM kafka.txn_set_ongoing(p_transactional_id);
END
$$;

COMMENT ON FUNCTION kafka.add_offsets_to_txn(text, bigint, smallint, text) IS
	'AddOffsetsToTxn: add a consumer group to the ongoing transaction.';

/*
 * TxnOffsetCommit: one row per input partition, in input order. The offsets
 * wait in kafka.txn_offsets until the transaction ends; for a partition given
 * twice the last one wins. A partition that does not exist (or a NULL entry,
 * which the broker never sends) gets 3, the others are stored.
 */
CREATE FUNCTION kafka.txn_offset_commit(p_transactional_id text, p_group_id text,
	p_producer_id bigint, p_epoch smallint, p_topics text[], p_partitions int[],
	p_offsets bigint[], p_leader_epochs int[], p_metadata bytea[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	chk record;
	err int;
BEGIN
	SELECT * INTO chk FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch);
	err := chk.error_code;
	IF err = 0 AND (chk.state <> 'Ongoing' OR NOT EXISTS (
			SELECT 1 FROM kafka.txn_groups g
			WHERE g.transactional_id = p_transactional_id AND g.group_id = p_group_id)) THEN
		err := 48; -- INVALID_TXN_STATE
	END IF;
	IF err <> 0 THEN
		RETURN QUERY
		SELECT u.t, u.p, err FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n)
		ORDER BY u.n;
		RETURN;
	END IF;

	INSERT INTO kafka.txn_offsets AS x
		(transactional_id, group_id, topic, partition, committed_offset, leader_epoch, metadata)
	SELECT DISTINCT ON (u.t, u.p) p_transactional_id, p_group_id, u.t, u.p, u.o,
	       coalesce(u.e, -1), u.m
	FROM unnest(p_topics, p_partitions, p_offsets, p_leader_epochs, p_metadata)
		WITH ORDINALITY u(t, p, o, e, m, n)
	JOIN kafka.partitions p ON p.topic = u.t AND p.partition = u.p
	WHERE u.o IS NOT NULL
	ORDER BY u.t, u.p, u.n DESC
	ON CONFLICT ON CONSTRAINT txn_offsets_pkey DO UPDATE
	SET committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
	    metadata = excluded.metadata;

	RETURN QUERY
	SELECT u.t, u.p,
	       CASE WHEN u.o IS NOT NULL AND EXISTS (SELECT 1 FROM kafka.partitions p
			WHERE p.topic = u.t AND p.partition = u.p) THEN 0 ELSE 3 END
	FROM unnest(p_topics, p_partitions, p_offsets) WITH ORDINALITY u(t, p, o, n)
	ORDER BY u.n;
END
$$;

COMMENT ON FUNCTION kafka.txn_offset_commit(text, text, bigint, smallint, text[], int[], bigint[],
	int[], bytea[]) IS
	'TxnOffsetCommit: store consumer offsets to be committed with the ongoing transaction; an error code per partition.';

/*
 * EndTxn: commit or abort the ongoing transaction. A retry of the outcome
 * already reached (CompleteCommit and commit, CompleteAbort and abort) is 0
 * and writes nothing; any other state is 48 (INVALID_TXN_STATE).
 * topics/partitions: where markers were written.
 */
CREATE FUNCTION kafka.end_txn(p_transactional_id text, p_producer_id bigint, p_epoch smallint,
	p_commit boolean, OUT error_code int, OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	chk record;
BEGIN
	topics := '{}';
	partitions := '{}';
	SELECT * INTO chk FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch);
	error_code := chk.error_code;
	IF error_code <> 0 THEN
		RETURN;
	END IF;
	IF p_commit IS NULL THEN
		error_code := 48;
	ELSIF chk.state = 'Ongoing' THEN
		SELECT c.topics, c.partitions INTO topics, partitions
		FROM kafka.txn_complete(p_transactional_id, p_commit) c;
	ELSIF (p_commit AND chk.state <> 'CompleteCommit')
	   OR (NOT p_commit AND chk.state <> 'CompleteAbort') THEN
		error_code := 48;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.end_txn(text, bigint, smallint, boolean) IS
	'EndTxn: write commit or abort markers, commit the pending offsets, complete the transaction.';

/*
 * Abort every Ongoing transaction older than its timeout, and bump its epoch
 * so that its late producer is fenced. A transaction whose row is locked (a
 * producer or coordinator request is at work on it) is left for the next
 * round. One row per aborted transaction, with the partitions that got a
 * marker.
 */
CREATE FUNCTION kafka.abort_expired_transactions()
RETURNS TABLE (transactional_id text, topics text[], partitions int[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	x record;
	c record;
BEGIN
	FOR x IN
		SELECT t.transactional_id FROM kafka.transactions t
		WHERE t.state = 'Ongoing' AND t.started + t.timeout_ms * interval '1 millisecond' < now()
		ORDER BY t.transactional_id
		FOR UPDATE SKIP LOCKED
	LOOP
		SELECT * INTO c FROM kafka.txn_complete(x.transactional_id, false);
		PERFORM kafka.txn_bump_epoch(x.transactional_id);
		UPDATE kafka.transactions t SET last_epoch = t.producer_epoch
		WHERE t.transactional_id = x.transactional_id;
		transactional_id := x.transactional_id;
		topics := c.topics;
		partitions := c.partitions;
		RETURN NEXT;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.abort_expired_transactions() IS
	'Abort the ongoing transactions that outlived their timeout and fence their producers.';

/*
 * Append one transactional batch: the arguments and result columns of
 * kafka.produce_idempotent(), plus the transactional id. The transactional id
 * must have this producer id, be Ongoing and hold the partition, else 48
 * (INVALID_TXN_STATE); another epoch is 47 (INVALID_PRODUCER_EPOCH), which is
 * what a fenced producer gets. produce_idempotent() then checks the sequence
 * and appends; a batch it wrote (not a retried duplicate: that one returns an
 * offset below the partition's next offset as it was before) records its
 * range in kafka.txn_batches and, if it is the transaction's first there, its
 * first offset in kafka.txn_partitions. An unknown partition returns a NULL
 * base as produce_idempotent() does.
 */
CREATE FUNCTION kafka.produce_transactional(
	p_topic text, p_partition int, p_count int, p_ts timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int, p_transactional_id text,
	OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	next_before bigint;
BEGIN
	error_code := 0;
	-- FOR SHARE: producers of one transaction do not wait for each other,
	-- but EndTxn (FOR UPDATE) waits for them, and they for it.
	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR SHARE;
	IF NOT FOUND OR t.producer_id IS DISTINCT FROM p_producer_id THEN
		error_code := 48;
		RETURN;
	ELSIF t.producer_epoch IS DISTINCT FROM p_epoch THEN
		error_code := 47;
		RETURN;
	END IF;
	IF t.state <> 'Ongoing' OR NOT EXISTS (
			SELECT 1 FROM kafka.txn_partitions tp
			WHERE tp.transactional_id = p_transactional_id
			  AND tp.topic = p_topic AND tp.partition = p_partition) THEN
		IF EXISTS (SELECT 1 FROM kafka.partitions p
			   WHERE p.topic = p_topic AND p.partition = p_partition) THEN
			error_code := 48;
		END IF;
		RETURN;
	END IF;

	-- Locked here already (produce_idempotent locks it again), to know
	-- whether the batch it returns was written now.
	SELECT p.next_offset INTO next_before FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition FOR UPDATE;
	SELECT * INTO base, log_start, lat, now_ms, maxb, error_code
	FROM kafka.produce_idempotent(p_topic, p_partition, p_count, p_ts, p_keys, p_values,
		p_headers, p_batch_bytes, p_default_max, p_producer_id, p_epoch, p_base_seq);
	IF error_code <> 0 OR base IS DISTINCT FROM next_before THEN
		RETURN;
	END IF;
	INSERT INTO kafka.txn_batches
		(topic, partition, base_offset, last_offset, producer_id, producer_epoch)
	VALUES (p_topic, p_partition, base, base + p_count - 1, p_producer_id, p_epoch)
	ON CONFLICT DO NOTHING;
	UPDATE kafka.txn_partitions tp SET first_offset = base
	WHERE tp.transactional_id = p_transactional_id
	  AND tp.topic = p_topic AND tp.partition = p_partition AND tp.first_offset IS NULL;
END
$$;

COMMENT ON FUNCTION kafka.produce_transactional(text, int, int, timestamptz[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, text) IS
	'Append one transactional batch: the transaction checks, then kafka.produce_idempotent(), then its range in kafka.txn_batches.';

/*
 * ---- Exact record timestamps (0.7) ----
 *
 * A Kafka timestamp is any int64 (milliseconds since the Unix epoch, -1 for
 * none); timestamptz holds only part of that range, at microseconds. The
 * broker passes timestamps as bigint[] and kafka.records.timestamp_ms keeps
 * each as sent; the timestamptz column "timestamp" keeps the same instant
 * where PostgreSQL can hold it and -infinity/infinity beyond, for views and
 * queries. A NULL timestamp_ms (rows written before 0.7, or by
 * kafka.produce()) means "timestamp" is exact. The timestamptz[] forms of
 * the functions below stay for brokers older than 0.7.
 */

/*
 * The error Kafka's LogValidator finds in a batch for p_topic, 0 if none:
 * 32 (INVALID_TIMESTAMP) for a CreateTime timestamp other than -1 (none)
 * beyond the topic's message.timestamp.before.max.ms / after.max.ms of now
 * (no limit without them), or a batch that claims LogAppendTime
 * (p_log_append_batch, its attribute) on a LogAppendTime topic or with a
 * record without timestamp; else 87 (INVALID_RECORD) for a record without
 * key on a topic whose cleanup.policy includes compact; else 18
 * (RECORD_LIST_TOO_LARGE) for a batch of p_batch_bytes larger than the
 * topic's segment.bytes.
 */
CREATE FUNCTION kafka.batch_error(p_topic text, p_ts bigint[], p_keys bytea[],
	p_log_append_batch boolean DEFAULT false, p_batch_bytes int DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	err int;
BEGIN
	-- plpgsql, not sql: a sql function called from a prepared statement is
	-- planned again at every call; plpgsql keeps its plan for the session,
	-- and every produce calls this.
	WITH l AS (
		SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),
				'CreateTime') = 'LogAppendTime' AS lat,
		       max(value) FILTER (WHERE name = 'message.timestamp.before.max.ms')::numeric
			AS before_max,
		       max(value) FILTER (WHERE name = 'message.timestamp.after.max.ms')::numeric
			AS after_max,
		       coalesce('compact' = ANY(string_to_array(replace(
				max(value) FILTER (WHERE name = 'cleanup.policy'), ' ', ''), ',')),
				false) AS compact,
		       max(value) FILTER (WHERE name = 'segment.bytes')::int AS segment_bytes,
		       floor(extract(epoch FROM now()) * 1000) AS now_ms
		FROM kafka.topic_configs WHERE topic = p_topic)
	SELECT CASE
		WHEN p_log_append_batch AND (l.lat OR -1 = ANY(p_ts)) THEN 32
		WHEN NOT l.lat AND (l.before_max IS NOT NULL OR l.after_max IS NOT NULL)
		     AND EXISTS (SELECT 1 FROM unnest(p_ts) AS t(ms)
				 WHERE t.ms <> -1 AND (l.now_ms - t.ms > l.before_max
						       OR t.ms - l.now_ms > l.after_max)) THEN 32
		WHEN l.compact AND array_position(p_keys, NULL) IS NOT NULL THEN 87
		WHEN p_batch_bytes > l.segment_bytes THEN 18
		ELSE 0 END INTO err
	FROM l;
	RETURN err;
END
$$;

COMMENT ON FUNCTION kafka.batch_error(text, bigint[], bytea[], boolean, int) IS
	'The error Kafka''s LogValidator finds in a batch: 32 (INVALID_TIMESTAMP) for a timestamp beyond the topic''s message.timestamp.before/after.max.ms or a LogAppendTime batch Kafka refuses, 87 (INVALID_RECORD) for a keyless record on a compacted topic, 18 (RECORD_LIST_TOO_LARGE) for a batch larger than segment.bytes, else 0.';

CREATE FUNCTION kafka.append_records(p_topic text, p_partition int, p_base bigint,
	p_log_append_time boolean, p_timestamps bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[])
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgk_append_records';

COMMENT ON FUNCTION kafka.append_records(text, int, bigint, boolean, bigint[], bytea[],
	bytea[], bytea[]) IS
	'Insert records at offsets p_base, p_base + 1, ... as one bulk write and return p_base; the timestamps are Kafka''s milliseconds, kept exactly in timestamp_ms. The caller must hold the partition row lock and have advanced next_offset past them.';

/* kafka.produce_idempotent() with Kafka timestamps, checked against the
 * batch checks of kafka.batch_error() (error 32 or 87). */
CREATE FUNCTION kafka.produce_idempotent(
	p_topic text, p_partition int, p_count int, p_ts bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int,
	p_log_append_batch boolean DEFAULT false, OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	part record;
	st kafka.producer_state;
	last_seq int := ((p_base_seq::bigint + p_count - 1) % 2147483648)::int;
	nb int;
BEGIN
	SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),
			'CreateTime') = 'LogAppendTime',
	       coalesce(max(value) FILTER (WHERE name = 'max.message.bytes')::int, p_default_max)
	INTO lat, maxb
	FROM kafka.topic_configs WHERE topic = p_topic;
	now_ms := (extract(epoch FROM now()) * 1000)::int8;
	error_code := 0;
	IF p_batch_bytes > maxb THEN
		RETURN;
	END IF;
	SELECT p.next_offset, p.log_start_offset INTO part
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	log_start := part.log_start_offset;
	error_code := kafka.batch_error(p_topic, p_ts, p_keys, p_log_append_batch, p_batch_bytes);
	IF error_code <> 0 THEN
		RETURN;
	END IF;

	SELECT * INTO st FROM kafka.producer_state s
	WHERE s.topic = p_topic AND s.partition = p_partition AND s.producer_id = p_producer_id;
	IF FOUND THEN
		IF p_epoch < st.producer_epoch THEN
			error_code := 47; -- INVALID_PRODUCER_EPOCH
			RETURN;
		ELSIF p_epoch = st.producer_epoch THEN
			nb := array_length(st.last_seqs, 1);
			FOR i IN 1 .. nb LOOP
				IF st.first_seqs[i] = p_base_seq AND st.last_seqs[i] = last_seq THEN
					base := st.base_offsets[i];
					RETURN;
				END IF;
			END LOOP;
			IF NOT (p_base_seq::bigint = st.last_seqs[nb]::bigint + 1
				OR (p_base_seq = 0 AND st.last_seqs[nb] = 2147483647)) THEN
				error_code := 45; -- OUT_OF_ORDER_SEQUENCE_NUMBER
				RETURN;
			END IF;
		ELSIF p_base_seq <> 0 THEN
			error_code := 45; -- a new epoch starts at sequence 0
			RETURN;
		END IF;
	END IF;
	-- No state for this producer here: any sequence starts it, as in Kafka.

	base := part.next_offset;
	UPDATE kafka.partitions SET next_offset = next_offset + p_count
	WHERE topic = p_topic AND partition = p_partition;
	PERFORM kafka.append_records(p_topic, p_partition, base, lat, p_ts, p_keys, p_values,
		p_headers);

	IF st.producer_id IS NULL THEN
		INSERT INTO kafka.producer_state
			(topic, partition, producer_id, producer_epoch, first_seqs, last_seqs, base_offsets)
		VALUES (p_topic, p_partition, p_producer_id, p_epoch,
			ARRAY[p_base_seq], ARRAY[last_seq], ARRAY[base]);
	ELSIF p_epoch <> st.producer_epoch THEN
		UPDATE kafka.producer_state s
		SET producer_epoch = p_epoch, first_seqs = ARRAY[p_base_seq],
		    last_seqs = ARRAY[last_seq], base_offsets = ARRAY[base], updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	ELSE
		UPDATE kafka.producer_state s
		SET first_seqs = (s.first_seqs || p_base_seq)[greatest(1, nb - 3):],
		    last_seqs = (s.last_seqs || last_seq)[greatest(1, nb - 3):],
		    base_offsets = (s.base_offsets || base)[greatest(1, nb - 3):],
		    updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.produce_idempotent(text, int, int, bigint[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, boolean) IS
	'Append one idempotent batch (Kafka timestamps) after checking it (kafka.batch_error()) and its sequence; a retried batch returns its first base offset.';

/* kafka.produce_transactional() with Kafka timestamps. */
CREATE FUNCTION kafka.produce_transactional(
	p_topic text, p_partition int, p_count int, p_ts bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int, p_transactional_id text,
	p_log_append_batch boolean DEFAULT false, OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	next_before bigint;
BEGIN
	error_code := 0;
	-- FOR SHARE: producers of one transaction do not wait for each other,
	-- but EndTxn (FOR UPDATE) waits for them, and they for it.
	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR SHARE;
	IF NOT FOUND OR t.producer_id IS DISTINCT FROM p_producer_id THEN
		error_code := 48;
		RETURN;
	ELSIF t.producer_epoch IS DISTINCT FROM p_epoch THEN
		error_code := 47;
		RETURN;
	END IF;
	IF t.state <> 'Ongoing' OR NOT EXISTS (
			SELECT 1 FROM kafka.txn_partitions tp
			WHERE tp.transactional_id = p_transactional_id
			  AND tp.topic = p_topic AND tp.partition = p_partition) THEN
		IF EXISTS (SELECT 1 FROM kafka.partitions p
			   WHERE p.topic = p_topic AND p.partition = p_partition) THEN
			error_code := 48;
		END IF;
		RETURN;
	END IF;

	-- Locked here already (produce_idempotent locks it again), to know
	-- whether the batch it returns was written now.
	SELECT p.next_offset INTO next_before FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition FOR UPDATE;
	SELECT * INTO base, log_start, lat, now_ms, maxb, error_code
	FROM kafka.produce_idempotent(p_topic, p_partition, p_count, p_ts, p_keys, p_values,
		p_headers, p_batch_bytes, p_default_max, p_producer_id, p_epoch, p_base_seq,
		p_log_append_batch);
	IF error_code <> 0 OR base IS DISTINCT FROM next_before THEN
		RETURN;
	END IF;
	INSERT INTO kafka.txn_batches
		(topic, partition, base_offset, last_offset, producer_id, producer_epoch)
	VALUES (p_topic, p_partition, base, base + p_count - 1, p_producer_id, p_epoch)
	ON CONFLICT DO NOTHING;
	UPDATE kafka.txn_partitions tp SET first_offset = base
	WHERE tp.transactional_id = p_transactional_id
	  AND tp.topic = p_topic AND tp.partition = p_partition AND tp.first_offset IS NULL;
END
$$;

COMMENT ON FUNCTION kafka.produce_transactional(text, int, int, bigint[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, text, boolean) IS
	'Append one transactional batch (Kafka timestamps): the transaction checks, then kafka.produce_idempotent(), then its range in kafka.txn_batches.';

/*
 * ---- Users and ACLs (0.8) ----
 *
 * Kafka clients authenticate as PostgreSQL roles, and the broker's
 * authorizer keeps Kafka's ACLs in a table (docs/SECURITY.md).
 *
 * A role with LOGIN that is a member of kafka_users is the Kafka principal
 * User:<role>. SCRAM-SHA-256 checks a client against the verifier
 * PostgreSQL stores for the role (CREATE/ALTER ROLE ... PASSWORD), so a
 * Kafka password is changed with ALTER ROLE and stored once. SCRAM-SHA-512,
 * which PostgreSQL does not store, and users that are not roles live in
 * kafka.scram_credentials, written by AlterUserScramCredentials or
 * kafka.set_scram_credential().
 *
 * CREATE EXTENSION makes the role kafka_users if it does not exist; like
 * every role it belongs to the whole cluster and outlives the extension.
 */

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'kafka_users') THEN
		CREATE ROLE kafka_users NOLOGIN;
	END IF;
END
$$;

CREATE TABLE kafka.scram_credentials (
	user_name text NOT NULL,
	mechanism text NOT NULL
		CHECK (mechanism IN ('SCRAM-SHA-256', 'SCRAM-SHA-512')),
	iterations int NOT NULL CHECK (iterations BETWEEN 4096 AND 16384),
	salt bytea NOT NULL,
	stored_key bytea NOT NULL,
	server_key bytea NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_name, mechanism)
);

COMMENT ON TABLE kafka.scram_credentials IS
	'Kafka-managed SCRAM credentials (RFC 5802): SCRAM-SHA-512 for anyone, SCRAM-SHA-256 for users that are not PostgreSQL roles. No password is stored, only what a server needs to check one.';

COMMENT ON COLUMN kafka.scram_credentials.user_name IS 'Kafka user name; the principal is User:<user_name>.';
COMMENT ON COLUMN kafka.scram_credentials.mechanism IS 'SCRAM-SHA-256 or SCRAM-SHA-512.';
COMMENT ON COLUMN kafka.scram_credentials.iterations IS 'PBKDF2 iterations of the salted password (Kafka: 4096 to 16384).';
COMMENT ON COLUMN kafka.scram_credentials.salt IS 'Salt of the salted password.';
COMMENT ON COLUMN kafka.scram_credentials.stored_key IS 'StoredKey = H(HMAC(SaltedPassword, "Client Key")), what a client proof is checked against.';
COMMENT ON COLUMN kafka.scram_credentials.server_key IS 'ServerKey = HMAC(SaltedPassword, "Server Key"), what the server signs with.';
COMMENT ON COLUMN kafka.scram_credentials.updated_at IS 'When the credential was last set.';

SELECT pg_catalog.pg_extension_config_dump('kafka.scram_credentials', '');

-- The roles that are Kafka users: members of kafka_users, directly or
-- through other roles (superusers only when granted, unlike pg_has_role).
CREATE FUNCTION kafka.kafka_user_roles()
RETURNS SETOF oid
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
	WITH RECURSIVE m(roleid) AS (
		SELECT r.oid FROM pg_roles r WHERE r.rolname = 'kafka_users'
		UNION
		SELECT a.member FROM pg_auth_members a JOIN m ON a.roleid = m.roleid)
	SELECT roleid FROM m
$$;

COMMENT ON FUNCTION kafka.kafka_user_roles() IS
	'Oids of kafka_users and of every role that is a member of it, directly or not.';

-- A SCRAM-SHA-256 verifier of a role that may log in to Kafka now, decoded.
CREATE FUNCTION kafka.role_scram_verifier(p_user text)
RETURNS TABLE (iterations int, salt bytea, stored_key bytea, server_key bytea)
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog
AS $$
	SELECT v[1]::int, decode(v[2], 'base64'), decode(v[3], 'base64'), decode(v[4], 'base64')
	FROM pg_authid a,
	     regexp_match(a.rolpassword, '^SCRAM-SHA-256\$([0-9]+):([^$]+)\$([^:]+):(.+)$') AS v
	WHERE a.rolname = p_user
	  AND a.rolcanlogin
	  AND (a.rolvaliduntil IS NULL OR a.rolvaliduntil > now())
	  AND a.oid IN (SELECT kafka.kafka_user_roles())
$$;

REVOKE EXECUTE ON FUNCTION kafka.role_scram_verifier(text) FROM PUBLIC;

COMMENT ON FUNCTION kafka.role_scram_verifier(text) IS
	'The SCRAM-SHA-256 verifier PostgreSQL stores for a role with LOGIN, in kafka_users, whose password has not expired; no row otherwise.';

CREATE FUNCTION kafka.scram_credential(p_user text, p_mechanism text)
RETURNS TABLE (iterations int, salt bytea, stored_key bytea, server_key bytea, source text)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	IF p_mechanism = 'SCRAM-SHA-256' THEN
		RETURN QUERY SELECT v.iterations, v.salt, v.stored_key, v.server_key, 'role'::text
			     FROM kafka.role_scram_verifier(p_user) v;
		IF FOUND THEN
			RETURN;
		END IF;
	END IF;
	RETURN QUERY SELECT c.iterations, c.salt, c.stored_key, c.server_key, 'table'::text
		     FROM kafka.scram_credentials c
		     WHERE c.user_name = p_user AND c.mechanism = p_mechanism;
END
$$;

REVOKE EXECUTE ON FUNCTION kafka.scram_credential(text, text) FROM PUBLIC;

COMMENT ON FUNCTION kafka.scram_credential(text, text) IS
	'What the broker checks a SCRAM or PLAIN login against: for SCRAM-SHA-256 the role''s own verifier (source role) when it is a Kafka user, else the row of kafka.scram_credentials (source table).';

CREATE FUNCTION kafka.scram_credential_list()
RETURNS TABLE (user_name text, mechanism text, iterations int, source text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
	SELECT a.rolname::text, 'SCRAM-SHA-256'::text,
	       (regexp_match(a.rolpassword, '^SCRAM-SHA-256\$([0-9]+):'))[1]::int, 'role'::text
	FROM pg_authid a
	WHERE a.rolcanlogin AND a.rolpassword LIKE 'SCRAM-SHA-256$%'
	  AND a.oid IN (SELECT kafka.kafka_user_roles())
	UNION ALL
	SELECT c.user_name, c.mechanism, c.iterations, 'table'
	FROM kafka.scram_credentials c
	ORDER BY 1, 2, 4
$$;

REVOKE EXECUTE ON FUNCTION kafka.scram_credential_list() FROM PUBLIC;

COMMENT ON FUNCTION kafka.scram_credential_list() IS
	'Every SCRAM credential a Kafka client may log in with: roles in kafka_users with a SCRAM-SHA-256 password, and the rows of kafka.scram_credentials (DescribeUserScramCredentials).';

-- RFC 5802: SaltedPassword = Hi(password, salt, i) (PBKDF2 with HMAC-H),
-- StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey =
-- HMAC(SaltedPassword, "Server Key"). The password is taken as its UTF-8
-- bytes, as Kafka's clients send it (PostgreSQL applies SASLprep first,
-- which changes only passwords with non-ASCII characters).
CREATE FUNCTION kafka.scram_keys(mechanism text, password text, salt bytea, iterations int)
RETURNS TABLE (stored_key bytea, server_key bytea)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	sha512 boolean := mechanism = 'SCRAM-SHA-512';
	block int := CASE WHEN mechanism = 'SCRAM-SHA-512' THEN 128 ELSE 64 END;
	key bytea := convert_to(password, 'UTF8');
	ipad bytea;
	opad bytea;
	u bytea;
	acc varbit;
	salted bytea := '';
	i int;
BEGIN
	IF mechanism NOT IN ('SCRAM-SHA-256', 'SCRAM-SHA-512') THEN
		RAISE EXCEPTION 'unknown SCRAM mechanism "%"', mechanism
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF iterations < 1 THEN
		RAISE EXCEPTION 'SCRAM iterations must be positive, not %', iterations
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), K padded to a block
	IF length(key) > block THEN
		key := CASE WHEN sha512 THEN sha512(key) ELSE sha256(key) END;
	END IF;
	key := key || decode(repeat('00', block - length(key)), 'hex');
	ipad := key;
	opad := key;
	FOR i IN 0 .. block - 1 LOOP
		ipad := set_byte(ipad, i, get_byte(key, i) # 54);
		opad := set_byte(opad, i, get_byte(key, i) # 92);
	END LOOP;

	u := salt || '\x00000001'::bytea;
	FOR i IN 1 .. iterations LOOP
		IF sha512 THEN
			u := sha512(opad || sha512(ipad || u));
		ELSE
			u := sha256(opad || sha256(ipad || u));
		END IF;
		IF acc IS NULL THEN
			acc := ('x' || encode(u, 'hex'))::varbit;
		ELSE
			acc := acc # ('x' || encode(u, 'hex'))::varbit;
		END IF;
	END LOOP;
	FOR i IN 0 .. length(acc) / 64 - 1 LOOP
		salted := salted || decode(lpad(to_hex(substring(acc FROM i * 64 + 1 FOR 64)::bit(64)::bigint),
						16, '0'), 'hex');
	END LOOP;

	-- the two keys, HMAC with SaltedPassword (never longer than a block)
	key := salted || decode(repeat('00', block - length(salted)), 'hex');
	ipad := key;
	opad := key;
	FOR i IN 0 .. block - 1 LOOP
		ipad := set_byte(ipad, i, get_byte(key, i) # 54);
		opad := set_byte(opad, i, get_byte(key, i) # 92);
	END LOOP;
	IF sha512 THEN
		stored_key := sha512(sha512(opad || sha512(ipad || convert_to('Client Key', 'UTF8'))));
		server_key := sha512(opad || sha512(ipad || convert_to('Server Key', 'UTF8')));
	ELSE
		stored_key := sha256(sha256(opad || sha256(ipad || convert_to('Client Key', 'UTF8'))));
		server_key := sha256(opad || sha256(ipad || convert_to('Server Key', 'UTF8')));
	END IF;
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION kafka.scram_keys(text, text, bytea, int) IS
	'The StoredKey and ServerKey of RFC 5802 for a password, salt and iteration count (SCRAM-SHA-256 or SCRAM-SHA-512).';

CREATE FUNCTION kafka.set_scram_credential(user_name text, mechanism text, password text,
	iterations int DEFAULT 4096)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	s bytea := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
BEGIN
	IF iterations NOT BETWEEN 4096 AND 16384 THEN
		RAISE EXCEPTION 'SCRAM iterations must be between 4096 and 16384, not %', iterations
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO kafka.scram_credentials AS c
		(user_name, mechanism, iterations, salt, stored_key, server_key)
	SELECT set_scram_credential.user_name, set_scram_credential.mechanism,
	       set_scram_credential.iterations, s, k.stored_key, k.server_key
	FROM kafka.scram_keys(set_scram_credential.mechanism, set_scram_credential.password, s,
			      set_scram_credential.iterations) k
	ON CONFLICT ON CONSTRAINT scram_credentials_pkey DO UPDATE
	SET iterations = excluded.iterations, salt = excluded.salt,
	    stored_key = excluded.stored_key, server_key = excluded.server_key, updated_at = now();
END
$$;

COMMENT ON FUNCTION kafka.set_scram_credential(text, text, text, int) IS
	'Create or replace a Kafka-managed SCRAM credential (a new random salt each time); the password itself is not stored.';

CREATE FUNCTION kafka.delete_scram_credential(user_name text, mechanism text)
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$
	WITH d AS (DELETE FROM kafka.scram_credentials c
		   WHERE c.user_name = delete_scram_credential.user_name
		     AND c.mechanism = delete_scram_credential.mechanism
		   RETURNING 1)
	SELECT EXISTS (SELECT FROM d)
$$;

COMMENT ON FUNCTION kafka.delete_scram_credential(text, text) IS
	'Delete a Kafka-managed SCRAM credential; false if there was none.';

/*
 * Kafka's ACLs: one row per binding, Kafka's names as text. The broker keeps
 * a copy in memory and reloads it when kafka.authorizer.acl_version moves,
 * which every change to kafka.acls does in its own transaction.
 */
CREATE TABLE kafka.authorizer (
	id boolean PRIMARY KEY DEFAULT true CHECK (id),
	enabled boolean NOT NULL DEFAULT false,
	super_users text[] NOT NULL DEFAULT '{}',
	allow_everyone_if_no_acl_found boolean NOT NULL DEFAULT false,
	acl_version bigint NOT NULL DEFAULT 0
);

COMMENT ON TABLE kafka.authorizer IS
	'The authorizer''s settings as the last broker started wrote them (authorizer.enabled, super.users, allow.everyone.if.no.acl.found), and a counter every change to kafka.acls moves. One row.';

INSERT INTO kafka.authorizer DEFAULT VALUES;

COMMENT ON COLUMN kafka.authorizer.id IS 'Always true: the table has one row.';
COMMENT ON COLUMN kafka.authorizer.enabled IS 'authorizer.enabled of the broker that started last: whether ACLs are enforced, for SQL sessions too.';
COMMENT ON COLUMN kafka.authorizer.super_users IS 'super.users: principals allowed everything.';
COMMENT ON COLUMN kafka.authorizer.allow_everyone_if_no_acl_found IS 'allow.everyone.if.no.acl.found: whether a resource without any ACL is open to all.';
COMMENT ON COLUMN kafka.authorizer.acl_version IS 'Moves with every change to kafka.acls; brokers reload their rules when it does.';

CREATE TABLE kafka.acls (
	resource_type text NOT NULL
		CHECK (resource_type IN ('TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID',
					 'DELEGATION_TOKEN', 'USER')),
	pattern_type text NOT NULL CHECK (pattern_type IN ('LITERAL', 'PREFIXED')),
	resource_name text NOT NULL,
	principal text NOT NULL,
	host text NOT NULL DEFAULT '*',
	operation text NOT NULL
		CHECK (operation IN ('ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER',
				     'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS',
				     'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'CREATE_TOKENS',
				     'DESCRIBE_TOKENS')),
	permission text NOT NULL CHECK (permission IN ('ALLOW', 'DENY')),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (resource_type, pattern_type, resource_name, principal, host, operation,
		     permission)
);

COMMENT ON TABLE kafka.acls IS
	'Kafka ACL bindings (CreateAcls, DescribeAcls, DeleteAcls). A LITERAL name ''*'' matches every resource of its type; the cluster is named ''kafka-cluster''; principal ''User:*'' matches every user and host ''*'' every address.';

COMMENT ON COLUMN kafka.acls.resource_type IS 'TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, DELEGATION_TOKEN or USER.';
COMMENT ON COLUMN kafka.acls.pattern_type IS 'LITERAL (the name, or * for all) or PREFIXED (every name that starts with it).';
COMMENT ON COLUMN kafka.acls.resource_name IS 'Resource name or prefix; the cluster is kafka-cluster.';
COMMENT ON COLUMN kafka.acls.principal IS 'User:<name>, or User:* for everyone.';
COMMENT ON COLUMN kafka.acls.host IS 'Client IP address the binding applies to, or * for any.';
COMMENT ON COLUMN kafka.acls.operation IS 'Kafka operation: ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE_TOKENS, DESCRIBE_TOKENS.';
COMMENT ON COLUMN kafka.acls.permission IS 'ALLOW or DENY; a matching DENY wins.';
COMMENT ON COLUMN kafka.acls.created_at IS 'When the binding was created.';

SELECT pg_catalog.pg_extension_config_dump('kafka.acls', '');

CREATE FUNCTION kafka.acls_changed()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	UPDATE kafka.authorizer SET acl_version = acl_version + 1;
	RETURN NULL;
END
$$;

CREATE TRIGGER acls_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kafka.acls
FOR EACH STATEMENT EXECUTE FUNCTION kafka.acls_changed();

CREATE FUNCTION kafka.set_authorizer(enabled boolean, super_users text[],
	allow_everyone_if_no_acl_found boolean)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
	UPDATE kafka.authorizer a
	SET enabled = set_authorizer.enabled,
	    super_users = coalesce(set_authorizer.super_users, '{}'),
	    allow_everyone_if_no_acl_found = set_authorizer.allow_everyone_if_no_acl_found
$$;

COMMENT ON FUNCTION kafka.set_authorizer(boolean, text[], boolean) IS
	'What a broker calls at start: its authorizer.enabled, super.users and allow.everyone.if.no.acl.found, for SQL sessions to follow.';

-- Kafka's StandardAuthorizer decision, whether the authorizer is on or not.
CREATE FUNCTION kafka.acl_allows(p_principal text, p_host text, p_operation text,
	p_resource_type text, p_resource_name text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	WITH m AS (
		SELECT a.principal, a.host, a.operation, a.permission
		FROM kafka.acls a
		WHERE a.resource_type = p_resource_type
		  AND CASE a.pattern_type
			WHEN 'LITERAL' THEN a.resource_name IN (p_resource_name, '*')
			ELSE starts_with(p_resource_name, a.resource_name)
		      END),
	mine AS (
		SELECT m.operation, m.permission FROM m
		WHERE m.principal IN (p_principal, 'User:*') AND m.host IN (p_host, '*'))
	SELECT CASE
		WHEN p_principal = ANY (z.super_users) THEN true
		WHEN EXISTS (SELECT FROM mine
			     WHERE mine.permission = 'DENY'
			       AND mine.operation IN (p_operation, 'ALL')) THEN false
		WHEN EXISTS (SELECT FROM mine
			     WHERE mine.permission = 'ALLOW'
			       AND (mine.operation IN (p_operation, 'ALL')
				    OR (p_operation = 'DESCRIBE'
					AND mine.operation IN ('READ', 'WRITE', 'DELETE', 'ALTER'))
				    OR (p_operation = 'DESCRIBE_CONFIGS'
					AND mine.operation = 'ALTER_CONFIGS'))) THEN true
		WHEN NOT EXISTS (SELECT FROM m) THEN z.allow_everyone_if_no_acl_found
		ELSE false
	       END
	FROM kafka.authorizer z
$$;

COMMENT ON FUNCTION kafka.acl_allows(text, text, text, text, text) IS
	'Whether Kafka''s authorizer lets a principal from a host do an operation on a resource: super users may do anything, a matching DENY refuses, a matching ALLOW (READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS) permits, and a resource with no binding at all follows allow_everyone_if_no_acl_found.';

CREATE FUNCTION kafka.sql_authorized(p_operation text, p_topic text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	SELECT NOT z.enabled
	    OR NOT row_security_active('kafka.records')
	    OR kafka.acl_allows('User:' || current_user, coalesce(host(inet_client_addr()), ''),
				p_operation, 'TOPIC', p_topic)
	FROM kafka.authorizer z
$$;

COMMENT ON FUNCTION kafka.sql_authorized(text, text) IS
	'Whether the current role, as the Kafka principal User:<role>, may do an operation on a topic: always when the authorizer is off, and for roles that row security does not apply to (superusers, the tables'' owner, BYPASSRLS).';

/*
 * With the authorizer on, SQL sessions read and write records under the same
 * ACLs as Kafka clients. Row security does not apply to the tables' owner
 * nor to roles with BYPASSRLS, which the broker's role needs to be.
 */
ALTER TABLE kafka.records ENABLE ROW LEVEL SECURITY;

CREATE POLICY records_read ON kafka.records FOR SELECT
	USING (kafka.sql_authorized('READ', topic));
CREATE POLICY records_write ON kafka.records FOR INSERT
	WITH CHECK (kafka.sql_authorized('WRITE', topic));
CREATE POLICY records_delete ON kafka.records FOR DELETE
	USING (kafka.sql_authorized('DELETE', topic));
CREATE POLICY records_alter ON kafka.records FOR UPDATE
	USING (kafka.sql_authorized('ALTER', topic));

/*
 * ---- Deleting records (0.8) ----
 *
 * DeleteRecords, and the same from SQL: the partition's log start offset
 * moves to p_before (-1: the high watermark) and the records, transactional
 * ranges and aborted transactions wholly below it go. The partition row is
 * locked as producers lock it, so this waits for writes in flight and never
 * lets an offset be reused. Kafka's answers: 3 (UNKNOWN_TOPIC_OR_PARTITION)
 * for no such partition, 1 (OFFSET_OUT_OF_RANGE) for an offset below -1 or
 * above the high watermark, 44 (POLICY_VIOLATION) for a topic whose
 * cleanup.policy does not include delete. An offset at or below the log
 * start offset changes nothing. low_watermark: the log start offset after.
 */
CREATE FUNCTION kafka.delete_records(p_topic text, p_partition int, p_before bigint,
	OUT low_watermark bigint, OUT error_code int)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	part record;
	before bigint := p_before;
BEGIN
	low_watermark := -1;
	SELECT p.next_offset, p.log_start_offset INTO part FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition FOR UPDATE;
	IF NOT FOUND THEN
		error_code := 3;
		RETURN;
	END IF;
	IF NOT coalesce((SELECT 'delete' = ANY (string_to_array(replace(c.value, ' ', ''), ','))
			 FROM kafka.topic_configs c
			 WHERE c.topic = p_topic AND c.name = 'cleanup.policy'), true) THEN
		error_code := 44;
		RETURN;
	END IF;
	IF before = -1 THEN
		before := part.next_offset;
	END IF;
	IF before < 0 OR before > part.next_offset THEN
		error_code := 1;
		RETURN;
	END IF;
	error_code := 0;
	IF before <= part.log_start_offset THEN
		low_watermark := part.log_start_offset;
		RETURN;
	END IF;
	UPDATE kafka.partitions p SET log_start_offset = before
	WHERE p.topic = p_topic AND p.partition = p_partition;
	DELETE FROM kafka.records r
	WHERE r.topic = p_topic AND r.partition = p_partition AND r."offset" < before;
	DELETE FROM kafka.txn_batches b
	WHERE b.topic = p_topic AND b.partition = p_partition AND b.last_offset < before;
	DELETE FROM kafka.aborted_txns a
	WHERE a.topic = p_topic AND a.partition = p_partition AND a.last_offset < before;
	low_watermark := before;
END
$$;

COMMENT ON FUNCTION kafka.delete_records(text, int, bigint) IS
	'DeleteRecords: delete the records of a partition below an offset (-1: all) and move its log start offset there; Kafka''s error code, 0 if none.';

-- ---- Cluster: broker membership, leases and partition leadership ----------
--
-- Brokers given a node.id register here and renew a lease; a broker whose
-- lease has lapsed is out. Partition leadership is a deterministic spread over
-- the live brokers (racks alternated), stored with a leader epoch that only
-- grows: it is bumped whenever a partition's leader changes.

CREATE TABLE kafka.brokers (
	node_id int PRIMARY KEY CHECK (node_id >= 0),
	incarnation uuid NOT NULL,
	listeners text NOT NULL,
	rack text,
	started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	lease_expires_at timestamptz NOT NULL
);

COMMENT ON TABLE kafka.brokers IS
	'Registered brokers: advertised listeners (NAME://HOST:PORT,...), rack, start time and lease; live while lease_expires_at is in the future.';

COMMENT ON COLUMN kafka.brokers.node_id IS 'The broker''s node.id.';
COMMENT ON COLUMN kafka.brokers.incarnation IS 'Random id of the running process holding the node id.';
COMMENT ON COLUMN kafka.brokers.listeners IS 'Advertised listeners, NAME://HOST:PORT,...';
COMMENT ON COLUMN kafka.brokers.rack IS 'broker.rack, NULL if none.';
COMMENT ON COLUMN kafka.brokers.started_at IS 'When this incarnation registered.';
COMMENT ON COLUMN kafka.brokers.lease_expires_at IS 'The broker is live until then (renewed by its heartbeats).';

CREATE TABLE kafka.partition_leaders (
	topic text COLLATE "C",
	partition int,
	leader_id int NOT NULL,
	leader_epoch int NOT NULL DEFAULT 0 CHECK (leader_epoch >= 0),
	PRIMARY KEY (topic, partition),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition) ON DELETE CASCADE
);

COMMENT ON TABLE kafka.partition_leaders IS
	'The live broker leading each partition, and its leader epoch (bumped when the leader changes).';

COMMENT ON COLUMN kafka.partition_leaders.topic IS 'The topic.';
COMMENT ON COLUMN kafka.partition_leaders.partition IS 'The partition.';
COMMENT ON COLUMN kafka.partition_leaders.leader_id IS 'Node id of the leading broker.';
COMMENT ON COLUMN kafka.partition_leaders.leader_epoch IS 'Leader epoch: grows whenever the leader changes, and at a PostgreSQL failover.';

CREATE TABLE kafka.cluster_state (
	one bool PRIMARY KEY DEFAULT true CHECK (one),
	live_brokers text NOT NULL DEFAULT '',
	leadership_version bigint NOT NULL DEFAULT 0,
	timeline_id bigint
);
INSERT INTO kafka.cluster_state DEFAULT VALUES;

COMMENT ON TABLE kafka.cluster_state IS
	'One row: the live broker set leadership was last computed for, a version bumped whenever any partition leader or epoch changes, and the WAL timeline the brokers last saw.';

COMMENT ON COLUMN kafka.cluster_state.one IS 'Always true: the table has one row.';
COMMENT ON COLUMN kafka.cluster_state.live_brokers IS 'The live brokers (node:rack, in leadership order) leadership was last computed for.';
COMMENT ON COLUMN kafka.cluster_state.leadership_version IS 'Bumped whenever a partition leader or epoch changes; brokers then read kafka.partition_leaders again.';
COMMENT ON COLUMN kafka.cluster_state.timeline_id IS 'The WAL timeline last seen, NULL before the first heartbeat.';

-- The timeline of the WAL being written: it changes when a standby is
-- promoted (a failover), which may have lost the tail of the log.
CREATE FUNCTION kafka.wal_timeline()
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint
$$;

COMMENT ON FUNCTION kafka.wal_timeline() IS
	'The timeline of the current WAL position (changes at every promotion).';

-- After a failover (a new timeline), every leader epoch grows by one: the
-- new primary may have lost records clients already read, and a client that
-- sees the epoch move validates its position (OffsetForLeaderEpoch) and
-- truncates to the new end instead of reading other records at the same
-- offsets. The first call only records the timeline.
CREATE FUNCTION kafka.cluster_check_timeline()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tli bigint := kafka.wal_timeline();
	seen bigint;
BEGIN
	SELECT timeline_id INTO seen FROM kafka.cluster_state;
	IF seen IS NOT DISTINCT FROM tli THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('pg_kafka.cluster_rebalance'));
	SELECT timeline_id INTO seen FROM kafka.cluster_state FOR UPDATE;
	IF seen IS NOT DISTINCT FROM tli THEN
		RETURN;
	END IF;
	IF seen IS NOT NULL THEN
		UPDATE kafka.partition_leaders SET leader_epoch = leader_epoch + 1;
		UPDATE kafka.cluster_state SET leadership_version = leadership_version + 1;
	END IF;
	UPDATE kafka.cluster_state SET timeline_id = tli;
END
$$;

COMMENT ON FUNCTION kafka.cluster_check_timeline() IS
	'Bump every leader epoch once when the WAL timeline changed (a failover).';

-- The live brokers with their place in the leadership order: the first broker
-- of every rack, then the second of every rack, and so on (Kafka's
-- rack-alternated list), by node id within a rack.
CREATE FUNCTION kafka.live_brokers()
RETURNS TABLE (node_id int, listeners text, rack text, started_at timestamptz, place int)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.node_id, b.listeners, b.rack, b.started_at,
	       (row_number() OVER (ORDER BY b.pos, b.rack NULLS FIRST, b.node_id) - 1)::int
	FROM (SELECT x.*, row_number() OVER (PARTITION BY x.rack ORDER BY x.node_id) AS pos
	      FROM kafka.brokers x WHERE x.lease_expires_at > clock_timestamp()) b
	ORDER BY 5
$$;

COMMENT ON FUNCTION kafka.live_brokers() IS
	'The brokers whose lease has not lapsed, with their place in the leadership order (racks alternated).';

-- Recompute partition leadership if the live set changed or partitions were
-- added, moving as few partitions as balance allows: per topic, a partition
-- keeps its leader while that broker is live and leads at most
-- ceil(partitions / live brokers) of the topic; the others go, one by one, to
-- the live broker leading fewest of the topic, ties broken by the leadership
-- order rotated by (hashtext(topic) + partition). The epoch of every
-- partition whose leader changed is bumped. One caller at a time
-- (transaction-level advisory lock).
CREATE FUNCTION kafka.cluster_rebalance()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	live_sig text;
	live int[];
	n int;
	st kafka.cluster_state;
	t record;
	r record;
	cap int;
	counts int[];
	parts int[];
	leaders int[];
	orphans int[];
	idx int;
	best int;
	start int;
	h bigint;
	o int;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('pg_kafka.cluster_rebalance'));
	SELECT coalesce(string_agg(l.node_id || ':' || coalesce(l.rack, ''), ',' ORDER BY l.place), ''),
	       coalesce(array_agg(l.node_id ORDER BY l.place), '{}'), count(*)
	INTO live_sig, live, n FROM kafka.live_brokers() l;
	SELECT * INTO st FROM kafka.cluster_state FOR UPDATE;
	IF n = 0 OR (st.live_brokers = live_sig AND NOT EXISTS (
		SELECT 1 FROM kafka.partitions p
		WHERE NOT EXISTS (SELECT 1 FROM kafka.partition_leaders pl
				  WHERE pl.topic = p.topic AND pl.partition = p.partition))) THEN
		RETURN st.leadership_version;
	END IF;
	FOR t IN SELECT p.topic, count(*)::int AS nparts FROM kafka.partitions p GROUP BY p.topic LOOP
		cap := (t.nparts + n - 1) / n;
		counts := array_fill(0, ARRAY[n]);
		parts := '{}';
		leaders := '{}';
		orphans := '{}';
		FOR r IN SELECT p.partition, pl.leader_id
			 FROM kafka.partitions p
			 LEFT JOIN kafka.partition_leaders pl
			   ON pl.topic = p.topic AND pl.partition = p.partition
			 WHERE p.topic = t.topic ORDER BY p.partition LOOP
			idx := array_position(live, r.leader_id);
			IF idx IS NOT NULL AND counts[idx] < cap THEN
				counts[idx] := counts[idx] + 1;
				parts := parts || r.partition;
				leaders := leaders || r.leader_id;
			ELSE
				orphans := orphans || r.partition;
			END IF;
		END LOOP;
		h := hashtext(t.topic)::bigint & 2147483647;
		FOREACH o IN ARRAY orphans LOOP
			start := ((h + o) % n)::int;
			best := NULL;
			FOR k IN 0 .. n - 1 LOOP
				idx := (start + k) % n + 1;
				IF best IS NULL OR counts[idx] < counts[best] THEN
					best := idx;
				END IF;
			END LOOP;
			counts[best] := counts[best] + 1;
			parts := parts || o;
			leaders := leaders || live[best];
		END LOOP;
		INSERT INTO kafka.partition_leaders AS pl (topic, partition, leader_id, leader_epoch)
		SELECT t.topic, u.partition, u.leader_id, 0
		FROM unnest(parts, leaders) AS u (partition, leader_id)
		ON CONFLICT (topic, partition) DO UPDATE
		SET leader_id = EXCLUDED.leader_id, leader_epoch = pl.leader_epoch + 1
		WHERE pl.leader_id <> EXCLUDED.leader_id;
	END LOOP;
	UPDATE kafka.cluster_state
	SET live_brokers = live_sig, leadership_version = leadership_version + 1
	RETURNING leadership_version INTO st.leadership_version;
	RETURN st.leadership_version;
END
$$;

COMMENT ON FUNCTION kafka.cluster_rebalance() IS
	'Spread partition leadership over the live brokers if they or the partitions changed; the leadership version.';

-- A broker's heartbeat: register or renew its lease (refused while another
-- incarnation holds the node id with a live lease), rebalance leadership,
-- and answer the live brokers with the leadership version.
CREATE FUNCTION kafka.broker_heartbeat(p_node_id int, p_incarnation uuid, p_listeners text,
				       p_rack text, p_lease_ms int)
RETURNS TABLE (node_id int, listeners text, rack text, leadership_version bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cur kafka.brokers;
	ver bigint;
BEGIN
	IF p_lease_ms IS NULL OR p_lease_ms <= 0 THEN
		RAISE EXCEPTION 'lease must be positive' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO cur FROM kafka.brokers b WHERE b.node_id = p_node_id FOR UPDATE;
	IF FOUND AND cur.incarnation <> p_incarnation AND cur.lease_expires_at > clock_timestamp() THEN
		RAISE EXCEPTION 'node id % is held by another live broker (listeners %)',
			p_node_id, cur.listeners
			USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO kafka.brokers AS b (node_id, incarnation, listeners, rack, started_at, lease_expires_at)
	VALUES (p_node_id, p_incarnation, p_listeners, p_rack, clock_timestamp(),
		clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0))
	ON CONFLICT ON CONSTRAINT brokers_pkey DO UPDATE
	SET incarnation = EXCLUDED.incarnation, listeners = EXCLUDED.listeners, rack = EXCLUDED.rack,
	    started_at = CASE WHEN b.incarnation = EXCLUDED.incarnation AND b.lease_expires_at > clock_timestamp()
			      THEN b.started_at ELSE EXCLUDED.started_at END,
	    lease_expires_at = EXCLUDED.lease_expires_at;
	PERFORM kafka.cluster_check_timeline();
	ver := kafka.cluster_rebalance();
	RETURN QUERY SELECT l.node_id, l.listeners, l.rack, ver FROM kafka.live_brokers() l;
END
$$;

COMMENT ON FUNCTION kafka.broker_heartbeat(int, uuid, text, text, int) IS
	'Register a broker or renew its lease, rebalance leadership, and list the live brokers with the leadership version.';

-- A broker leaving cleanly: its lease ends now and leadership moves at once.
CREATE FUNCTION kafka.broker_leave(p_node_id int, p_incarnation uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM kafka.brokers b WHERE b.node_id = p_node_id AND b.incarnation = p_incarnation;
	IF FOUND THEN
		PERFORM kafka.cluster_rebalance();
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.broker_leave(int, uuid) IS
	'Unregister a broker that shuts down, moving its leadership to the others at once.';
/*
 * ---- Transactions v2 (KIP-890 part 2) (0.8) ----
 *
 * With transaction.version 2 a producer does not send AddPartitionsToTxn:
 * Produce v12+ adds the partition to the transaction as it writes
 * (kafka.produce_transactional_v2()), and every EndTxn v5 gives the
 * producer a new epoch (kafka.end_txn_v2()), so a write of the ended
 * transaction that arrives late is fenced. Brokers verify partitions with
 * AddPartitionsToTxn v4+ (kafka.add_partitions_to_txn_verify()).
 */

/*
 * EndTxn v5: as kafka.end_txn(), then the epoch is bumped (a new producer
 * id at epoch 0 when epochs run out) and returned. A retry of an EndTxn
 * whose answer was lost comes with the epoch before the bump (or the
 * previous producer id at the exhausted epoch): the outcome already
 * reached answers 0 with the current id and epoch, the other outcome 48.
 * An abort without an ongoing transaction (Empty, CompleteCommit,
 * CompleteAbort) is not a retry: it writes no marker and bumps the epoch,
 * as Kafka's coordinator does for transaction.version 2 clients, which
 * abort after any error.
 */
CREATE FUNCTION kafka.end_txn_v2(p_transactional_id text, p_producer_id bigint, p_epoch smallint,
	p_commit boolean, OUT error_code int, OUT producer_id bigint, OUT producer_epoch smallint,
	OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	retry boolean;
BEGIN
	error_code := 0;
	producer_id := -1;
	producer_epoch := -1;
	topics := '{}';
	partitions := '{}';
	SELECT x.producer_id, x.producer_epoch, x.state, x.previous_producer_id INTO t
	FROM kafka.transactions x WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	IF NOT FOUND OR p_commit IS NULL THEN
		error_code := CASE WHEN FOUND THEN 48 ELSE 49 END;
		RETURN;
	END IF;
	retry := (p_producer_id = t.producer_id AND p_epoch = t.producer_epoch - 1)
		 OR (p_producer_id = t.previous_producer_id AND p_producer_id <> t.producer_id
		     AND p_epoch = 32766 AND t.producer_epoch = 0);
	IF p_producer_id <> t.producer_id AND NOT retry THEN
		error_code := 49; -- INVALID_PRODUCER_ID_MAPPING
		RETURN;
	ELSIF p_epoch <> t.producer_epoch AND NOT retry THEN
		error_code := 90; -- PRODUCER_FENCED
		RETURN;
	END IF;
	IF retry THEN
		IF (p_commit AND t.state = 'CompleteCommit') OR (NOT p_commit AND t.state = 'CompleteAbort') THEN
			producer_id := t.producer_id;
			producer_epoch := t.producer_epoch;
		ELSIF t.state = 'Ongoing' THEN
			error_code := 90; -- a newer transaction of the producer has begun
		ELSE
			error_code := 48;
		END IF;
		RETURN;
	END IF;
	IF t.state = 'Ongoing' THEN
		SELECT c.topics, c.partitions INTO topics, partitions
		FROM kafka.txn_complete(p_transactional_id, p_commit) c;
	ELSIF p_commit THEN
		error_code := 48; -- INVALID_TXN_STATE: nothing to commit
		RETURN;
	ELSE
		UPDATE kafka.transactions x SET state = 'CompleteAbort', last_epoch = x.producer_epoch,
		    updated = now()
		WHERE x.transactional_id = p_transactional_id;
	END IF;
	SELECT b.producer_id, b.producer_epoch INTO producer_id, producer_epoch
	FROM kafka.txn_bump_epoch(p_transactional_id) b;
END
$$;

COMMENT ON FUNCTION kafka.end_txn_v2(text, bigint, smallint, boolean) IS
	'EndTxn v5 (transaction.version 2): end the transaction as kafka.end_txn() does, then give the producer its next epoch (or a new producer id) and return it.';

/*
 * AddPartitionsToTxn v4+ with verify_only, a broker asking the coordinator
 * before a transactional write: one row per input partition, in input
 * order, and nothing changes. As for adding, a partition that does not
 * exist gets 3 and fails the others (55). An unknown transactional id or
 * another producer id: 49 for all; another epoch: 90 for all; else 0 for a
 * partition in the ongoing transaction and 120 (TRANSACTION_ABORTABLE)
 * for one that is not, as Kafka's coordinator answers.
 */
CREATE FUNCTION kafka.add_partitions_to_txn_verify(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, p_topics text[], p_partitions int[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE sql STABLE AS $$
	WITH u AS (
		SELECT u.t, u.p, u.n, EXISTS (SELECT 1 FROM kafka.partitions q
					      WHERE q.topic = u.t AND q.partition = u.p) AS known
		FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n))
	SELECT u.t, u.p,
	       CASE WHEN NOT u.known THEN 3
		    WHEN NOT (SELECT bool_and(v.known) FROM u v) THEN 55
		    WHEN x.producer_id IS DISTINCT FROM p_producer_id THEN 49
		    WHEN x.producer_epoch IS DISTINCT FROM p_epoch THEN 90
		    WHEN x.state = 'Ongoing' AND EXISTS (SELECT 1 FROM kafka.txn_partitions tp
			WHERE tp.transactional_id = p_transactional_id
			  AND tp.topic = u.t AND tp.partition = u.p) THEN 0
		    ELSE 120 END
	FROM u LEFT JOIN kafka.transactions x ON x.transactional_id = p_transactional_id
	ORDER BY u.n
$$;

COMMENT ON FUNCTION kafka.add_partitions_to_txn_verify(text, bigint, smallint, text[], int[]) IS
	'AddPartitionsToTxn v4+ verify_only: whether each partition is in the ongoing transaction of this producer id and epoch; an error code per partition.';

/*
 * Produce v12+ under transaction.version 2: the partition is added to the
 * transaction (which becomes Ongoing if it was not) in the same statement
 * that appends the batch, where Kafka's partition leader sends
 * AddPartitionsToTxn to the coordinator first. Only for the transaction's
 * current producer id and epoch of a partition that exists; anything else
 * is left to kafka.produce_transactional(), which answers it. The
 * transaction row is locked FOR UPDATE only when the partition is new to
 * the transaction.
 */
CREATE FUNCTION kafka.produce_transactional_v2(
	p_topic text, p_partition int, p_count int, p_ts bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int, p_transactional_id text,
	p_log_append_batch boolean DEFAULT false, OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM kafka.transactions x
		       JOIN kafka.txn_partitions tp USING (transactional_id)
		       WHERE x.transactional_id = p_transactional_id AND x.state = 'Ongoing'
			 AND tp.topic = p_topic AND tp.partition = p_partition) THEN
		SELECT x.producer_id, x.producer_epoch INTO t FROM kafka.transactions x
		WHERE x.transactional_id = p_transactional_id FOR UPDATE;
		IF FOUND AND t.producer_id = p_producer_id AND t.producer_epoch = p_epoch
		   AND EXISTS (SELECT 1 FROM kafka.partitions p
			       WHERE p.topic = p_topic AND p.partition = p_partition) THEN
			INSERT INTO kafka.txn_partitions (transactional_id, topic, partition)
			VALUES (p_transactional_id, p_topic, p_partition)
			ON CONFLICT DO NOTHING;
			PERFORM kafka.txn_set_ongoing(p_transactional_id);
		END IF;
	END IF;
	SELECT * INTO base, log_start, lat, now_ms, maxb, error_code
	FROM kafka.produce_transactional(p_topic, p_partition, p_count, p_ts, p_keys, p_values,
		p_headers, p_batch_bytes, p_default_max, p_producer_id, p_epoch, p_base_seq,
		p_transactional_id, p_log_append_batch);
END
$$;

COMMENT ON FUNCTION kafka.produce_transactional_v2(text, int, int, bigint[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, text, boolean) IS
	'Produce v12+ (transaction.version 2): add the partition to the ongoing transaction, then append the batch as kafka.produce_transactional() does.';

/*
 * TxnOffsetCommit v5 (transaction.version 2): the group is added to the
 * transaction (which becomes Ongoing) as kafka.add_offsets_to_txn() adds it,
 * where Kafka's group coordinator asks the transaction coordinator to add
 * its offsets partition; then the offsets are stored as
 * kafka.txn_offset_commit() stores them. With another producer id or epoch
 * nothing is added and txn_offset_commit() answers 49 or 90.
 */
CREATE FUNCTION kafka.txn_offset_commit_v2(p_transactional_id text, p_group_id text,
	p_producer_id bigint, p_epoch smallint, p_topics text[], p_partitions int[],
	p_offsets bigint[], p_leader_epochs int[], p_metadata bytea[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kafka.add_offsets_to_txn(p_transactional_id, p_producer_id, p_epoch, p_group_id);
	RETURN QUERY SELECT * FROM kafka.txn_offset_commit(p_transactional_id, p_group_id,
		p_producer_id, p_epoch, p_topics, p_partitions, p_offsets, p_leader_epochs, p_metadata);
END
$$;

COMMENT ON FUNCTION kafka.txn_offset_commit_v2(text, text, bigint, smallint, text[], int[],
	bigint[], int[], bytea[]) IS
	'TxnOffsetCommit v5 (transaction.version 2): add the group to the transaction, then store the offsets as kafka.txn_offset_commit() does.';

/*
 * ---- Client quotas (0.8) ----
 *
 * What AlterClientQuotas stores and DescribeClientQuotas reads (Kafka keeps
 * them in its metadata log). An entity is a user, a client id, a user and
 * a client id, or an ip; a NULL name of a component the entity has is
 * Kafka's default entity for it. Brokers load the table and enforce
 * producer_byte_rate and consumer_byte_rate (docs/OPERATIONS.md).
 */
CREATE TABLE kafka.client_quotas (
	entity_types text NOT NULL
		CHECK (entity_types IN ('user', 'client-id', 'user,client-id', 'ip')),
	user_name text COLLATE "C",
	client_id text COLLATE "C",
	ip text COLLATE "C",
	quota_key text NOT NULL CHECK (quota_key IN ('producer_byte_rate', 'consumer_byte_rate',
		'request_percentage', 'controller_mutation_rate', 'connection_creation_rate')),
	quota_value float8 NOT NULL,
	updated timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT client_quotas_components CHECK (
		(user_name IS NULL OR entity_types LIKE 'user%')
		AND (client_id IS NULL OR entity_types LIKE '%client-id')
		AND (ip IS NULL OR entity_types = 'ip')),
	CONSTRAINT client_quotas_key_kind CHECK (
		(entity_types = 'ip') = (quota_key = 'connection_creation_rate')),
	CONSTRAINT client_quotas_entity UNIQUE NULLS NOT DISTINCT
		(entity_types, user_name, client_id, ip, quota_key)
);

COMMENT ON TABLE kafka.client_quotas IS
	'Client quotas (AlterClientQuotas): one row per entity and key.';
COMMENT ON COLUMN kafka.client_quotas.entity_types IS
	'The entity''s components: user, client-id, user,client-id or ip.';
COMMENT ON COLUMN kafka.client_quotas.user_name IS
	'The user (principal name without "User:"); NULL: the default user (when the entity has a user).';
COMMENT ON COLUMN kafka.client_quotas.client_id IS
	'The client id; NULL: the default client id (when the entity has a client-id).';
COMMENT ON COLUMN kafka.client_quotas.ip IS 'The ip; NULL: the default ip (when the entity is an ip).';
COMMENT ON COLUMN kafka.client_quotas.quota_key IS 'The quota (Kafka''s QuotaConfig name).';
COMMENT ON COLUMN kafka.client_quotas.quota_value IS 'Its value (bytes per second for the byte rates).';
COMMENT ON COLUMN kafka.client_quotas.updated IS 'When it was last set.';

SELECT pg_catalog.pg_extension_config_dump('kafka.client_quotas', '');

-- Set one quota of an entity, or remove it (p_value NULL).
CREATE FUNCTION kafka.set_client_quota(p_entity_types text, p_user_name text, p_client_id text,
	p_ip text, p_quota_key text, p_value float8)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_value IS NULL THEN
		DELETE FROM kafka.client_quotas q
		WHERE q.entity_types = p_entity_types AND q.user_name IS NOT DISTINCT FROM p_user_name
		  AND q.client_id IS NOT DISTINCT FROM p_client_id AND q.ip IS NOT DISTINCT FROM p_ip
		  AND q.quota_key = p_quota_key;
		RETURN;
	END IF;
	INSERT INTO kafka.client_quotas AS q
		(entity_types, user_name, client_id, ip, quota_key, quota_value)
	VALUES (p_entity_types, p_user_name, p_client_id, p_ip, p_quota_key, p_value)
	ON CONFLICT ON CONSTRAINT client_quotas_entity DO UPDATE
	SET quota_value = excluded.quota_value, updated = now();
END
$$;

COMMENT ON FUNCTION kafka.set_client_quota(text, text, text, text, text, float8) IS
	'AlterClientQuotas: set a quota of an entity (NULL names: default entities), or remove it with a NULL value.';

/*
 * ---- Kafka strings as bytes (0.8) ----
 *
 * Offset metadata is any Kafka string, NUL bytes and invalid UTF-8
 * included, which PostgreSQL text cannot hold: kafka.consumer_offsets and
 * kafka.txn_offsets keep it as bytea, the bytes the client sent, and
 * kafka.txn_offset_commit() takes bytea[]. Group ids and transactional ids
 * stay text keys (docs/GROUPS.md, "Ids PostgreSQL text cannot hold").
 */
/*
 * ---- Storage and retention (0.8) ----
 *
 * kafka.records stays one ordinary table. Old records go by offset range,
 * per partition, a segment at a time, with DELETEs bounded by a budget per
 * call; autovacuum reclaims the pages and new records reuse them. (Why not
 * declarative partitioning yet: docs/OPERATIONS.md, "Storage and
 * retention".)
 *
 * kafka.segments is the bookkeeping Kafka keeps in its segment files: per
 * partition, consecutive offset ranges with their first and last record
 * timestamps, record count and bytes. The background job
 * (kafka.run_maintenance(), called by one broker at a time) extends it from
 * the records produced since its last call -- an index range read of what is
 * new, never a scan of the partition -- rolls the open segment once it
 * reaches segment.bytes or is segment.ms old, and then:
 *
 *  - delete policy: moves the log start offset past the oldest segments
 *    whose newest record is older than retention.ms, and past the oldest
 *    rolled segments while the partition holds more than retention.bytes
 *    without them;
 *  - compact policy: in rolled segments whose newest record is older than
 *    min.compaction.lag.ms (or whose age passed max.compaction.lag.ms), and
 *    below the last stable offset, deletes every record that has a later
 *    record with the same key, and aborted transactional records; a
 *    tombstone (null value) goes delete.retention.ms after the pass that
 *    left it as its key's latest. Offsets keep their gaps. Transactional
 *    ranges and markers (kafka.txn_batches) stay until retention passes
 *    them.
 *  - the rows below the log start offset are deleted, budget rows per call,
 *    with the transactional ranges and aborted transactions below it.
 *
 * Deleting a topic queues its partitions in kafka.deleted_partitions and
 * returns; the same job deletes their records by offset range.
 */
CREATE TABLE kafka.segments (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	base_offset bigint NOT NULL,
	last_offset bigint NOT NULL,
	first_timestamp timestamptz NOT NULL,
	max_timestamp timestamptz NOT NULL,
	records bigint NOT NULL,
	bytes bigint NOT NULL,
	tombstones bigint NOT NULL DEFAULT 0,
	created timestamptz NOT NULL DEFAULT now(),
	rolled boolean NOT NULL DEFAULT false,
	cleaned timestamptz,
	PRIMARY KEY (topic, partition, base_offset),
	CONSTRAINT segments_range_valid CHECK (base_offset <= last_offset)
);

COMMENT ON TABLE kafka.segments IS
	'Log segments: consecutive offset ranges of a partition''s records, as the maintenance job saw them; retention drops them oldest first.';
COMMENT ON COLUMN kafka.segments.topic IS 'The topic.';
COMMENT ON COLUMN kafka.segments.partition IS 'The partition.';
COMMENT ON COLUMN kafka.segments.base_offset IS 'First offset of the segment.';
COMMENT ON COLUMN kafka.segments.last_offset IS 'Last offset of the segment (records may have been compacted away).';
COMMENT ON COLUMN kafka.segments.first_timestamp IS 'Smallest record timestamp in it.';
COMMENT ON COLUMN kafka.segments.max_timestamp IS 'Largest record timestamp in it: retention.ms counts from this.';
COMMENT ON COLUMN kafka.segments.records IS 'Records in it.';
COMMENT ON COLUMN kafka.segments.bytes IS 'Their size: key, value and headers plus 32 bytes of overhead each (retention.bytes, segment.bytes).';
COMMENT ON COLUMN kafka.segments.tombstones IS 'Tombstones left by the last compaction pass, still to be removed after delete.retention.ms.';
COMMENT ON COLUMN kafka.segments.created IS 'When the segment was opened: segment.ms counts from this.';
COMMENT ON COLUMN kafka.segments.rolled IS 'False for the partition''s open segment, which new records extend.';
COMMENT ON COLUMN kafka.segments.cleaned IS 'When compaction last passed over it; NULL if never.';

CREATE TABLE kafka.deleted_partitions (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	from_offset bigint NOT NULL,
	to_offset bigint NOT NULL,
	deleted timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition)
);

COMMENT ON TABLE kafka.deleted_partitions IS
	'Partitions of deleted topics whose records the maintenance job is still deleting, from from_offset up to to_offset.';
COMMENT ON COLUMN kafka.deleted_partitions.topic IS 'The deleted topic.';
COMMENT ON COLUMN kafka.deleted_partitions.partition IS 'The partition.';
COMMENT ON COLUMN kafka.deleted_partitions.from_offset IS 'Records below this are already deleted.';
COMMENT ON COLUMN kafka.deleted_partitions.to_offset IS 'The partition''s high watermark when it was deleted.';
COMMENT ON COLUMN kafka.deleted_partitions.deleted IS 'When the topic was deleted.';

SELECT pg_catalog.pg_extension_config_dump('kafka.segments', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.deleted_partitions', '');

/*
 * A deleted partition's records stay in its topic's tables, which the
 * storage job detaches and drops: nothing is queued for row deletes any
 * more. Its segments go now (they are small).
 */
CREATE FUNCTION kafka.partitions_queue_records()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	DELETE FROM kafka.segments s USING old_partitions o
	WHERE s.topic = o.topic AND s.partition = o.partition;
	RETURN NULL;
END
$$;

CREATE TRIGGER partitions_queue_records
	AFTER DELETE ON kafka.partitions
	REFERENCING OLD TABLE AS old_partitions
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.partitions_queue_records();

/*
 * A topic created again under the name of one whose records are still
 * queued: those records would collide with the new offsets, so they are
 * deleted now, in the creating transaction.
 */
CREATE FUNCTION kafka.partitions_purge_queued()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM kafka.deleted_partitions) THEN
		RETURN NULL;
	END IF;
	DELETE FROM kafka.records r
	USING kafka.deleted_partitions d JOIN new_partitions n USING (topic, partition)
	WHERE r.topic = d.topic AND r.partition = d.partition
	  AND r."offset" >= d.from_offset AND r."offset" < d.to_offset;
	DELETE FROM kafka.deleted_partitions d USING new_partitions n
	WHERE d.topic = n.topic AND d.partition = n.partition;
	RETURN NULL;
END
$$;

CREATE TRIGGER partitions_purge_queued
	AFTER INSERT ON kafka.partitions
	REFERENCING NEW TABLE AS new_partitions
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.partitions_purge_queued();

/*
 * A topic's setting: its override in kafka.topic_configs, else the broker's
 * default passed in p_defaults (log.* settings under the topic names), else
 * Kafka's default.
 */
CREATE FUNCTION kafka.topic_setting(p_topic text, p_name text, p_defaults jsonb DEFAULT '{}')
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT coalesce((SELECT c.value FROM kafka.topic_configs c
			 WHERE c.topic = p_topic AND c.name = p_name),
			p_defaults ->> p_name,
			CASE p_name
				WHEN 'cleanup.policy' THEN 'delete'
				WHEN 'retention.ms' THEN '604800000'
				WHEN 'retention.bytes' THEN '-1'
				WHEN 'segment.ms' THEN '604800000'
				WHEN 'segment.bytes' THEN '1073741824'
				WHEN 'delete.retention.ms' THEN '86400000'
				WHEN 'min.compaction.lag.ms' THEN '0'
				WHEN 'max.compaction.lag.ms' THEN '9223372036854775807'
			END)
$$;

COMMENT ON FUNCTION kafka.topic_setting(text, text, jsonb) IS
	'A topic config as it applies: the topic''s override, else p_defaults->>name (the broker''s), else Kafka''s default.';

/*
 * Bring a partition's segments up to its high watermark (at most p_budget
 * new offsets) and roll the open segment when it is due. Returns the number
 * of offsets newly covered.
 */
CREATE FUNCTION kafka.segments_extend(p_topic text, p_partition int, p_defaults jsonb,
	p_budget bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
-- Its statements read a second's to a pass interval's new records: planned
-- as large, they were compiled by JIT each call (30 ms), which costs more
-- than the reading.
SET jit = off
AS $$
DECLARE
	part record;
	seg record;
	agg record;
	open_bytes bigint;
	pieces bigint[] := '{}';
	los bigint[] := '{}';
	firsts timestamptz[] := '{}';
	maxes timestamptz[] := '{}';
	ns bigint[] := '{}';
	sizes bigint[] := '{}';
	i int;
	scan_from bigint;
	scan_to bigint;
	seg_bytes bigint;
	seg_ms bigint;
	max_lag_ms numeric;
	compacted boolean;
BEGIN
	-- KEY SHARE: producers' updates of next_offset go on, but deleting the
	-- partition waits for this transaction, so no segment outlives it.
	SELECT p.next_offset, p.log_start_offset INTO part FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition
	FOR KEY SHARE;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	SELECT * INTO seg FROM kafka.segments s
	WHERE s.topic = p_topic AND s.partition = p_partition
	ORDER BY s.base_offset DESC LIMIT 1;
	scan_from := greatest(coalesce(seg.last_offset + 1, 0), part.log_start_offset);
	scan_to := least(part.next_offset, scan_from + greatest(p_budget, 1));
	seg_bytes := kafka.topic_setting(p_topic, 'segment.bytes', p_defaults)::bigint;
	seg_ms := kafka.topic_setting(p_topic, 'segment.ms', p_defaults)::bigint;
	compacted := 'compact' = ANY (string_to_array(replace(
		kafka.topic_setting(p_topic, 'cleanup.policy', p_defaults), ' ', ''), ','));
	max_lag_ms := CASE WHEN compacted
		THEN kafka.topic_setting(p_topic, 'max.compaction.lag.ms', p_defaults)::numeric END;

	-- The new records, cut where the running byte count crosses a multiple
	-- of segment.bytes; piece 0 extends the open segment. Most calls find
	-- fewer new bytes than the open segment has room for: one aggregate
	-- covers them. Only a range that fills a segment is read again, record
	-- by record, to find its cuts (a running sum, twice the work).
	open_bytes := CASE WHEN seg.base_offset IS NOT NULL AND NOT seg.rolled
				AND seg.last_offset + 1 = scan_from THEN seg.bytes END;
	SELECT min(r."timestamp") AS first_ts, max(r."timestamp") AS max_ts, count(*) AS n,
	       sum(32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
		   + coalesce(octet_length(r.headers), 0)) AS bytes
	INTO agg
	FROM kafka.records r
	WHERE r.topic = p_topic AND r.partition = p_partition
	  AND r."offset" >= scan_from AND r."offset" < scan_to;
	IF agg.n > 0 AND coalesce(open_bytes, 0) + agg.bytes < seg_bytes THEN
		pieces := ARRAY[0::bigint];
		los := ARRAY[scan_from];
		firsts := ARRAY[agg.first_ts];
		maxes := ARRAY[agg.max_ts];
		ns := ARRAY[agg.n];
		sizes := ARRAY[agg.bytes::bigint];
	ELSIF agg.n > 0 THEN
		FOR agg IN
			WITH r AS (
				SELECT r."offset", r."timestamp",
				       32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
					   + coalesce(octet_length(r.headers), 0) AS b
				FROM kafka.records r
				WHERE r.topic = p_topic AND r.partition = p_partition
				  AND r."offset" >= scan_from AND r."offset" < scan_to),
			w AS (
				SELECT r.*, sum(r.b) OVER (ORDER BY r."offset" ROWS UNBOUNDED PRECEDING) AS upto
				FROM r)
			SELECT (coalesce(open_bytes, 0) + w.upto - w.b) / seg_bytes AS piece,
			       min(w."offset") AS lo, min(w."timestamp") AS first_ts,
			       max(w."timestamp") AS max_ts, count(*) AS n, sum(w.b) AS bytes
			FROM w GROUP BY 1 ORDER BY 1
		LOOP
			pieces := pieces || agg.piece;
			los := los || CASE WHEN cardinality(los) = 0 THEN scan_from ELSE agg.lo END;
			firsts := firsts || agg.first_ts;
			maxes := maxes || agg.max_ts;
			ns := ns || agg.n;
			sizes := sizes || agg.bytes::bigint;
		END LOOP;
	END IF;
	IF scan_to > scan_from AND cardinality(los) = 0 THEN
		-- only offsets without rows (transaction markers, compacted gaps)
		los := ARRAY[scan_from];
		pieces := ARRAY[0::bigint];
		firsts := ARRAY[now()];
		maxes := ARRAY[now()];
		ns := ARRAY[0::bigint];
		sizes := ARRAY[0::bigint];
	END IF;
	FOR i IN 1 .. cardinality(los) LOOP
		IF i = 1 AND pieces[1] = 0 AND open_bytes IS NOT NULL THEN
			UPDATE kafka.segments s
			SET last_offset = CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
			    first_timestamp = least(s.first_timestamp, firsts[i]),
			    max_timestamp = greatest(s.max_timestamp, maxes[i]),
			    records = s.records + ns[i],
			    bytes = s.bytes + sizes[i]
			WHERE s.topic = p_topic AND s.partition = p_partition
			  AND s.base_offset = seg.base_offset;
		ELSE
			UPDATE kafka.segments s SET rolled = true
			WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled;
			INSERT INTO kafka.segments (topic, partition, base_offset, last_offset,
						    first_timestamp, max_timestamp, records, bytes)
			VALUES (p_topic, p_partition, los[i],
				CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
				firsts[i], maxes[i], ns[i], sizes[i]);
		END IF;
	END LOOP;

	-- Roll the open segment once it is full or old enough.
	UPDATE kafka.segments s SET rolled = true
	WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled
	  AND (s.bytes >= seg_bytes
	       OR now() - s.created >= seg_ms * interval '1 millisecond'
	       -- an infinite timestamp (a Kafka timestamp beyond PostgreSQL's
	       -- range) spans more than any segment.ms; subtracting it is an error
	       OR CASE WHEN s.max_timestamp = s.first_timestamp THEN false
		       WHEN NOT isfinite(s.max_timestamp) OR NOT isfinite(s.first_timestamp) THEN true
		       ELSE s.max_timestamp - s.first_timestamp >= seg_ms * interval '1 millisecond' END
	       OR (max_lag_ms IS NOT NULL AND max_lag_ms < 9.2e15
		   AND now() - s.created >= max_lag_ms * interval '1 millisecond'));
	RETURN greatest(scan_to - scan_from, 0);
END
$$;

COMMENT ON FUNCTION kafka.segments_extend(text, int, jsonb, bigint) IS
	'Cover a partition''s new records (at most p_budget offsets) with segments and roll the open one when due; returns the offsets covered.';

/*
 * The offset a partition's retention moves its log start offset to:
 * past the oldest segments whose newest record is older than retention.ms
 * (the open one too, which is rolled first), and past the oldest rolled
 * segments while the rest still hold more than retention.bytes. NULL when
 * nothing is due or the topic's policy has no delete.
 */
CREATE FUNCTION kafka.retention_point(p_topic text, p_partition int, p_defaults jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	ret_ms bigint;
	ret_bytes bigint;
	log_start bigint;
	point bigint;
	total bigint;
	seg record;
BEGIN
	IF NOT 'delete' = ANY (string_to_array(replace(
			kafka.topic_setting(p_topic, 'cleanup.policy', p_defaults), ' ', ''), ',')) THEN
		RETURN NULL;
	END IF;
	ret_ms := kafka.topic_setting(p_topic, 'retention.ms', p_defaults)::bigint;
	ret_bytes := kafka.topic_setting(p_topic, 'retention.bytes', p_defaults)::bigint;
	SELECT p.log_start_offset INTO log_start FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF ret_ms >= 0 THEN
		FOR seg IN SELECT s.* FROM kafka.segments s
			   WHERE s.topic = p_topic AND s.partition = p_partition
			     AND s.last_offset >= log_start
			   ORDER BY s.base_offset LOOP
			EXIT WHEN seg.max_timestamp >= now() - ret_ms * interval '1 millisecond';
			point := seg.last_offset + 1;
			IF NOT seg.rolled THEN
				UPDATE kafka.segments s SET rolled = true
				WHERE s.topic = p_topic AND s.partition = p_partition
				  AND s.base_offset = seg.base_offset;
			END IF;
		END LOOP;
	END IF;
	IF ret_bytes >= 0 THEN
		SELECT coalesce(sum(s.bytes), 0) INTO total FROM kafka.segments s
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.base_offset >= greatest(log_start, coalesce(point, log_start));
		FOR seg IN SELECT s.* FROM kafka.segments s
			   WHERE s.topic = p_topic AND s.partition = p_partition AND s.rolled
			     AND s.base_offset >= greatest(log_start, coalesce(point, log_start))
			   ORDER BY s.base_offset LOOP
			EXIT WHEN total - seg.bytes < ret_bytes;
			total := total - seg.bytes;
			point := seg.last_offset + 1;
		END LOOP;
	END IF;
	IF point IS NULL OR point <= log_start THEN
		RETURN NULL;
	END IF;
	RETURN point;
END
$$;

COMMENT ON FUNCTION kafka.retention_point(text, int, jsonb) IS
	'Where retention.ms and retention.bytes move a partition''s log start offset, at segment granularity; NULL if nowhere.';

/*
 * Compact a partition: in the rolled segments that are old enough
 * (min.compaction.lag.ms, counted from their newest record; max.compaction.
 * lag.ms makes segment rolls due) and below the last stable offset, delete
 * aborted transactional records and every record a later record of the same
 * key supersedes; remove tombstones whose segment was compacted more than
 * delete.retention.ms ago. Returns the records deleted.
 */
CREATE FUNCTION kafka.compact_partition(p_topic text, p_partition int, p_defaults jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	min_lag bigint;
	del_ret bigint;
	log_start bigint;
	clean_end bigint;
	lso bigint;
	removed bigint := 0;
	n bigint;
BEGIN
	IF NOT 'compact' = ANY (string_to_array(replace(
			kafka.topic_setting(p_topic, 'cleanup.policy', p_defaults), ' ', ''), ',')) THEN
		RETURN 0;
	END IF;
	min_lag := kafka.topic_setting(p_topic, 'min.compaction.lag.ms', p_defaults)::bigint;
	del_ret := kafka.topic_setting(p_topic, 'delete.retention.ms', p_defaults)::bigint;
	SELECT p.log_start_offset, coalesce((SELECT min(t.first_offset) FROM kafka.txn_partitions t
					     WHERE t.topic = p.topic AND t.partition = p.partition),
					    p.next_offset)
	INTO log_start, lso
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;

	-- Tombstones left as their key's latest, delete.retention.ms ago.
	WITH due AS (
		UPDATE kafka.segments s SET tombstones = 0
		WHERE s.topic = p_topic AND s.partition = p_partition AND s.tombstones > 0
		  AND s.cleaned < now() - del_ret * interval '1 millisecond'
		RETURNING s.base_offset, s.last_offset),
	gone AS (
		DELETE FROM kafka.records r USING due
		WHERE r.topic = p_topic AND r.partition = p_partition
		  AND r."offset" BETWEEN due.base_offset AND due.last_offset AND r.value IS NULL
		RETURNING r."offset")
	SELECT count(*) INTO n FROM gone;
	removed := removed + n;

	-- The dirty end: the end of the newest rolled, uncleaned segment that is
	-- old enough, within the stable part of the log.
	SELECT max(s.last_offset) + 1 INTO clean_end FROM kafka.segments s
	WHERE s.topic = p_topic AND s.partition = p_partition AND s.rolled AND s.cleaned IS NULL
	  AND s.max_timestamp <= now() - min_lag * interval '1 millisecond'
	  AND s.last_offset < lso;
	IF clean_end IS NULL THEN
		RETURN removed;
	END IF;

	-- Records of aborted transactions: batches of a producer whose
	-- aborted transaction spans them.
	WITH ranges AS (
		SELECT b.base_offset AS lo, b.last_offset AS hi FROM kafka.txn_batches b
		WHERE b.topic = p_topic AND b.partition = p_partition AND b.control IS NULL
		  AND b.last_offset >= log_start AND b.base_offset < clean_end
		  AND EXISTS (SELECT FROM kafka.aborted_txns a
			      WHERE a.topic = b.topic AND a.partition = b.partition
				AND a.producer_id = b.producer_id
				AND a.first_offset <= b.base_offset AND a.last_offset > b.last_offset)),
	aborted AS (
		DELETE FROM kafka.records r USING ranges a
		WHERE r.topic = p_topic AND r.partition = p_partition
		  AND r."offset" BETWEEN a.lo AND a.hi AND r."offset" < clean_end
		RETURNING r."offset")
	SELECT count(*) INTO n FROM aborted;
	removed := removed + n;

	WITH latest AS (
		SELECT r.key, max(r."offset") AS o FROM kafka.records r
		WHERE r.topic = p_topic AND r.partition = p_partition
		  AND r."offset" >= log_start AND r."offset" < clean_end AND r.key IS NOT NULL
		GROUP BY r.key),
	superseded AS (
		DELETE FROM kafka.records r USING latest l
		WHERE r.topic = p_topic AND r.partition = p_partition
		  AND r."offset" >= log_start AND r."offset" < l.o AND r.key = l.key
		RETURNING r."offset")
	SELECT count(*) INTO n FROM superseded;
	removed := removed + n;

	-- What is left in each segment passed over, and its tombstones.
	UPDATE kafka.segments s
	SET cleaned = now(), records = c.n, bytes = c.bytes, tombstones = c.tombstones
	FROM (SELECT s2.base_offset, count(r."offset") AS n,
		     coalesce(sum(32 + coalesce(octet_length(r.key), 0)
				  + coalesce(octet_length(r.value), 0)
				  + coalesce(octet_length(r.headers), 0)), 0) AS bytes,
		     count(r."offset") FILTER (WHERE r.value IS NULL) AS tombstones
	      FROM kafka.segments s2
	      LEFT JOIN kafka.records r ON r.topic = s2.topic AND r.partition = s2.partition
		   AND r."offset" BETWEEN s2.base_offset AND s2.last_offset
	      WHERE s2.topic = p_topic AND s2.partition = p_partition
		AND s2.last_offset >= log_start AND s2.last_offset < clean_end
	      GROUP BY s2.base_offset) c
	WHERE s.topic = p_topic AND s.partition = p_partition AND s.base_offset = c.base_offset
	  AND (s.cleaned IS NULL OR s.tombstones > 0 OR c.n <> s.records);
	RETURN removed;
END
$$;

COMMENT ON FUNCTION kafka.compact_partition(text, int, jsonb) IS
	'Compact a partition''s rolled segments: keep the latest record per key, drop aborted records, and tombstones after delete.retention.ms; returns records deleted.';

/*
 * Delete records below log start offsets and of deleted topics, at most
 * p_budget rows, oldest segment first, with the transactional ranges and
 * aborted transactions below the log start. Rows in chunks entirely below
 * the log start are left alone: the chunk is dropped whole. Returns what
 * went: (topic, partition, from, to, rows).
 */
CREATE FUNCTION kafka.purge_records(p_budget bigint,
	OUT topic text, OUT partition int, OUT from_offset bigint, OUT to_offset bigint,
	OUT removed bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	left_ bigint := p_budget;
	seg record;
	upto bigint;
	floor_ bigint;
	n bigint;
BEGIN
	FOR seg IN SELECT s.topic, s.partition, s.base_offset, s.last_offset, p.log_start_offset,
			  false AS deleted_topic
		   FROM kafka.segments s JOIN kafka.partitions p USING (topic, partition)
		   WHERE s.base_offset < p.log_start_offset
		   UNION ALL
		   SELECT d.topic, d.partition, d.from_offset, d.to_offset - 1, d.to_offset, true
		   FROM kafka.deleted_partitions d
		   ORDER BY 6, 3 LOOP
		EXIT WHEN left_ <= 0;
		-- Lock the row and check it is still there: a topic deleted (its
		-- segments go) or created again (its queued range goes) since the
		-- loop's snapshot must not lose the new topic's records.
		IF seg.deleted_topic THEN
			PERFORM FROM kafka.deleted_partitions d
			WHERE d.topic = seg.topic AND d.partition = seg.partition
			  AND d.from_offset = seg.base_offset
			FOR UPDATE;
		ELSE
			PERFORM FROM kafka.segments s
			WHERE s.topic = seg.topic AND s.partition = seg.partition
			  AND s.base_offset = seg.base_offset
			FOR UPDATE;
		END IF;
		CONTINUE WHEN NOT FOUND;
		upto := least(seg.last_offset + 1, seg.log_start_offset, seg.base_offset + left_);
		-- Below the end of the chunks that lie wholly under the log start,
		-- rows go with their chunk.
		floor_ := CASE WHEN seg.deleted_topic THEN seg.base_offset ELSE greatest(seg.base_offset,
			coalesce((SELECT max(c.hi) FROM kafka.chunks c JOIN kafka.topics t
				  ON t.topic_id = c.topic_id
				  WHERE c.topic = seg.topic AND c.partition = seg.partition
				    AND c.kind = 'chunk' AND c.hi <= seg.log_start_offset), 0)) END;
		n := 0;
		IF floor_ < upto THEN
			DELETE FROM kafka.records r
			WHERE r.topic = seg.topic AND r.partition = seg.partition
			  AND r."offset" >= floor_ AND r."offset" < upto;
			GET DIAGNOSTICS n = ROW_COUNT;
		END IF;
		left_ := left_ - greatest(n, 1);
		IF seg.deleted_topic THEN
			IF upto > seg.last_offset THEN
				DELETE FROM kafka.deleted_partitions d
				WHERE d.topic = seg.topic AND d.partition = seg.partition;
			ELSE
				UPDATE kafka.deleted_partitions d SET from_offset = upto
				WHERE d.topic = seg.topic AND d.partition = seg.partition;
			END IF;
		ELSE
			IF upto > seg.last_offset THEN
				DELETE FROM kafka.segments s
				WHERE s.topic = seg.topic AND s.partition = seg.partition
				  AND s.base_offset = seg.base_offset;
			ELSE
				UPDATE kafka.segments s SET base_offset = upto
				WHERE s.topic = seg.topic AND s.partition = seg.partition
				  AND s.base_offset = seg.base_offset;
			END IF;
			DELETE FROM kafka.txn_batches b
			WHERE b.topic = seg.topic AND b.partition = seg.partition AND b.last_offset < upto;
			DELETE FROM kafka.aborted_txns a
			WHERE a.topic = seg.topic AND a.partition = seg.partition AND a.last_offset < upto;
		END IF;
		topic := seg.topic;
		partition := seg.partition;
		from_offset := floor_;
		to_offset := upto;
		removed := n;
		IF n > 0 OR seg.deleted_topic THEN
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.purge_records(bigint) IS
	'Delete at most p_budget records below log start offsets and of deleted topics; one row per range deleted.';

/*
 * Housekeeping of pg_kafka's own state: producer ids unused for
 * producer.id.expiration.ms lose their sequence state, transactional ids
 * idle (not Ongoing) for transactional.id.expiration.ms are forgotten.
 */
CREATE FUNCTION kafka.expire_producers(p_producer_id_expiration_ms bigint,
	p_transactional_id_expiration_ms bigint,
	OUT producer_states bigint, OUT transactional_ids bigint)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	DELETE FROM kafka.producer_state s
	WHERE s.updated < now() - p_producer_id_expiration_ms * interval '1 millisecond';
	GET DIAGNOSTICS producer_states = ROW_COUNT;
	DELETE FROM kafka.transactions t
	WHERE t.state <> 'Ongoing'
	  AND t.updated < now() - p_transactional_id_expiration_ms * interval '1 millisecond';
	GET DIAGNOSTICS transactional_ids = ROW_COUNT;
END
$$;

COMMENT ON FUNCTION kafka.expire_producers(bigint, bigint) IS
	'Forget idempotent producer state idle for p_producer_id_expiration_ms and transactional ids idle for p_transactional_id_expiration_ms.';

/*
 * The background job, one call per interval from the broker: on one
 * session at a time across every broker of the database (a transaction
 * advisory lock; the others return at once), it purges at most p_budget
 * rows, extends and rolls segments, compacts, and moves log start offsets
 * where retention says. The log start offsets move last, so the partition
 * row locks producers wait on are held only until the call commits, and a
 * move skips a partition whose row a producer holds (until more records
 * lie below its new log start than above it), so that producers never
 * queue behind the pass. Returns
 * one row per action for the broker's log: action is 'purged' (rows below a
 * log start offset), 'topic' (rows of a deleted topic), 'compacted',
 * 'retention' (log start offset moved to to_offset), 'segments' (a
 * partition had more new records than p_budget: call again) or 'producers'
 * (from_offset idle producer states and to_offset transactional ids
 * expired, when p_defaults has producer.id.expiration.ms and
 * transactional.id.expiration.ms).
 */
CREATE FUNCTION kafka.run_maintenance(p_defaults jsonb DEFAULT '{}', p_budget bigint DEFAULT 100000,
	OUT action text, OUT topic text, OUT partition int, OUT from_offset bigint,
	OUT to_offset bigint, OUT records bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	p record;
	pr record;
	n bigint;
	point bigint;
	moves text[] := '{}';
	move_parts int[] := '{}';
	move_points bigint[] := '{}';
	i int;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('pg_kafka maintenance')) THEN
		RETURN;
	END IF;
	-- The pass's commit does not wait for its WAL to reach disk: producers
	-- waiting on a partition row it updated go on as soon as it commits.
	-- Lost in a crash, the pass is simply done again.
	PERFORM set_config('synchronous_commit', 'off', true);
	p_defaults := coalesce(p_defaults, '{}');

	FOR pr IN SELECT * FROM kafka.purge_records(p_budget) LOOP
		action := CASE WHEN EXISTS (SELECT FROM kafka.partitions x
					    WHERE x.topic = pr.topic AND x.partition = pr.partition)
			       THEN 'purged' ELSE 'topic' END;
		topic := pr.topic;
		partition := pr.partition;
		from_offset := pr.from_offset;
		to_offset := pr.to_offset;
		records := pr.removed;
		RETURN NEXT;
	END LOOP;

	FOR p IN SELECT x.topic, x.partition FROM kafka.partitions x ORDER BY 1, 2 LOOP
		n := kafka.segments_extend(p.topic, p.partition, p_defaults, p_budget);
		IF n >= p_budget THEN
			action := 'segments';
			topic := p.topic;
			partition := p.partition;
			from_offset := NULL;
			to_offset := (SELECT max(s.last_offset) + 1 FROM kafka.segments s
				      WHERE s.topic = p.topic AND s.partition = p.partition);
			records := n;
			RETURN NEXT;
		END IF;
		n := kafka.compact_partition(p.topic, p.partition, p_defaults);
		IF n > 0 THEN
			action := 'compacted';
			topic := p.topic;
			partition := p.partition;
			from_offset := NULL;
			to_offset := NULL;
			records := n;
			RETURN NEXT;
		END IF;
		point := kafka.retention_point(p.topic, p.partition, p_defaults);
		IF point IS NOT NULL THEN
			moves := moves || p.topic;
			move_parts := move_parts || p.partition;
			move_points := move_points || point;
		END IF;
	END LOOP;

	IF p_defaults ? 'producer.id.expiration.ms' AND p_defaults ? 'transactional.id.expiration.ms' THEN
		SELECT * INTO pr FROM kafka.expire_producers(
			(p_defaults ->> 'producer.id.expiration.ms')::bigint,
			(p_defaults ->> 'transactional.id.expiration.ms')::bigint);
		IF pr.producer_states + pr.transactional_ids > 0 THEN
			action := 'producers';
			topic := NULL;
			partition := NULL;
			from_offset := pr.producer_states;
			to_offset := pr.transactional_ids;
			records := NULL;
			RETURN NEXT;
		END IF;
	END IF;

	FOR i IN 1 .. coalesce(array_length(moves, 1), 0) LOOP
		-- A producer of the partition holds its row until it commits: the
		-- move waits for none (the next pass moves it), or producers
		-- would queue behind it, until more records lie below the point
		-- than above it.
		IF EXISTS (SELECT FROM kafka.partitions y
			   WHERE y.topic = moves[i] AND y.partition = move_parts[i]
			     AND y.next_offset - move_points[i] < move_points[i] - y.log_start_offset) THEN
			UPDATE kafka.partitions x SET log_start_offset = move_points[i]
			WHERE x.topic = moves[i] AND x.partition = move_parts[i]
			  AND x.log_start_offset < move_points[i]
			RETURNING x.log_start_offset INTO to_offset;
		ELSE
			UPDATE kafka.partitions x SET log_start_offset = move_points[i]
			WHERE x.ctid = (SELECT y.ctid FROM kafka.partitions y
					WHERE y.topic = moves[i] AND y.partition = move_parts[i]
					  AND y.log_start_offset < move_points[i]
					FOR NO KEY UPDATE SKIP LOCKED)
			RETURNING x.log_start_offset INTO to_offset;
		END IF;
		IF FOUND THEN
			action := 'retention';
			topic := moves[i];
			partition := move_parts[i];
			from_offset := NULL;
			records := NULL;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.run_maintenance(jsonb, bigint) IS
	'The retention, compaction and purge job: one caller at a time; p_defaults are the broker''s topic defaults; returns one row per action taken.';

/*
 * ---- Committed offset expiry (offsets.retention.minutes) ----
 *
 * As Kafka's group coordinator: the offsets of a group without members
 * expire once offsets.retention.minutes has passed since the later of their
 * commit and the moment the group became empty; a consumer group with
 * members keeps the offsets of the topics its members subscribe to and its
 * other offsets expire by commit time; an offset committed with an explicit
 * retention (OffsetCommit v2 to v4) expires at its expire_timestamp instead.
 * A group whose last offset expires while it has no members is gone.
 *
 * Which groups have members, and what they subscribe to, is known only to
 * the broker coordinating each group: it calls kafka.expire_offsets() for
 * its own groups every offsets.retention.check.interval.ms. What must
 * survive a restart is here: the commit times, and kafka.group_membership,
 * which the coordinator writes when a group gains its first member or loses
 * its last one.
 */

ALTER TABLE kafka.consumer_offsets ADD COLUMN expire_timestamp timestamptz;

COMMENT ON COLUMN kafka.consumer_offsets.expire_timestamp IS
	'When the offset expires, if the client committed it with a retention time (OffsetCommit v2 to v4); NULL: offsets.retention.minutes after the commit, or after the group became empty.';

-- A commit that sets no expiry of its own (TxnOffsetCommit's, or one from
-- SQL) ends the expiry an earlier OffsetCommit v2-v4 gave the offset. The
-- WHEN clause keeps the trigger off the common path.
CREATE FUNCTION kafka.consumer_offsets_recommitted()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	NEW.expire_timestamp := NULL;
	RETURN NEW;
END
$$;

CREATE TRIGGER consumer_offsets_recommitted
BEFORE UPDATE ON kafka.consumer_offsets
FOR EACH ROW
WHEN (OLD.expire_timestamp IS NOT NULL
      AND NEW.expire_timestamp IS NOT DISTINCT FROM OLD.expire_timestamp
      AND NEW.commit_timestamp IS DISTINCT FROM OLD.commit_timestamp)
EXECUTE FUNCTION kafka.consumer_offsets_recommitted();

CREATE TABLE kafka.group_membership (
	group_id text COLLATE "C" PRIMARY KEY,
	has_members boolean NOT NULL,
	since timestamptz NOT NULL
);

COMMENT ON TABLE kafka.group_membership IS
	'Whether each group had members when its coordinator last saw that change, and since when: the "empty since" that offset expiry counts from. Written by the coordinating broker; a row goes with the group''s last offset.';
COMMENT ON COLUMN kafka.group_membership.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.group_membership.has_members IS
	'True from the first member''s join, false from the moment the last member left.';
COMMENT ON COLUMN kafka.group_membership.since IS 'When has_members last changed.';

SELECT pg_catalog.pg_extension_config_dump('kafka.group_membership', '');

-- The coordinator's record of a change; an older change arriving late
-- (the broker writes them asynchronously) does not undo a newer one.
CREATE FUNCTION kafka.set_group_membership(p_group text, p_has_members boolean, p_since timestamptz)
RETURNS void
LANGUAGE sql
AS $$
	INSERT INTO kafka.group_membership AS m (group_id, has_members, since)
	VALUES (p_group, p_has_members, p_since)
	ON CONFLICT (group_id) DO UPDATE
	SET has_members = EXCLUDED.has_members, since = EXCLUDED.since
	WHERE m.since <= EXCLUDED.since;
$$;

COMMENT ON FUNCTION kafka.set_group_membership(text, boolean, timestamptz) IS
	'Record that a group gained its first member (true) or lost its last (false) at p_since, unless a later change is already recorded.';

/*
 * One pass for the groups p_groups, as their coordinator sees them:
 * p_has_members[i] tells whether p_groups[i] has members, and the pairs
 * (p_sub_groups[j], p_sub_topics[j]) list the topics the members of such a
 * group subscribe to (none listed: all of its offsets may expire by commit
 * time). A coordinator leaves out a group whose members' subscriptions it
 * cannot tell: none of its offsets expire. An offset with a transactional
 * commit pending stays, as does a group in a transaction.
 *
 * A group without members whose stored membership says it had members
 * (its coordinator stopped or moved without seeing it empty) is recorded as
 * empty from now, and expires a retention from now at the earliest.
 *
 * Returns one row per group touched: the offsets it lost, and whether the
 * group is gone (no members, no offsets left).
 */
CREATE FUNCTION kafka.expire_offsets(p_retention_ms bigint, p_groups text[], p_has_members boolean[],
				     p_sub_groups text[] DEFAULT '{}', p_sub_topics text[] DEFAULT '{}')
RETURNS TABLE (group_id text, expired_offsets bigint, group_gone boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
	g record;
	cutoff timestamptz := now() - p_retention_ms * interval '1 millisecond';
	empty_since timestamptz;
	n bigint;
BEGIN
	IF p_retention_ms IS NULL OR p_retention_ms < 1 THEN
		RAISE EXCEPTION 'offsets retention must be at least 1 ms, not %', p_retention_ms;
	END IF;
	IF coalesce(array_length(p_groups, 1), 0) <> coalesce(array_length(p_has_members, 1), 0)
	   OR coalesce(array_length(p_sub_groups, 1), 0) <> coalesce(array_length(p_sub_topics, 1), 0) THEN
		RAISE EXCEPTION 'kafka.expire_offsets: arrays of different lengths';
	END IF;

	FOR g IN
		SELECT DISTINCT ON (x.grp) x.grp, x.members
		FROM unnest(p_groups, p_has_members) AS x(grp, members)
		WHERE x.grp IS NOT NULL
		ORDER BY x.grp
	LOOP
		empty_since := NULL;
		IF NOT coalesce(g.members, false) THEN
			SELECT CASE WHEN m.has_members THEN NULL ELSE m.since END INTO empty_since
			FROM kafka.group_membership m WHERE m.group_id = g.grp;
			IF FOUND AND empty_since IS NULL THEN
				-- Its coordinator last saw members: empty from now.
				PERFORM kafka.set_group_membership(g.grp, false, now());
				empty_since := now();
			END IF;
		END IF;

		WITH d AS (
			DELETE FROM kafka.consumer_offsets o
			WHERE o.group_id = g.grp
			  AND CASE
				WHEN o.expire_timestamp IS NOT NULL THEN o.expire_timestamp <= now()
				WHEN coalesce(g.members, false) THEN o.commit_timestamp <= cutoff
				ELSE greatest(o.commit_timestamp, empty_since) <= cutoff
			      END
			  AND NOT (coalesce(g.members, false) AND o.topic IN (
				SELECT s.topic FROM unnest(p_sub_groups, p_sub_topics) AS s(grp, topic)
				WHERE s.grp = g.grp))
			  AND NOT EXISTS (SELECT 1 FROM kafka.txn_offsets t
					  WHERE t.group_id = o.group_id AND t.topic = o.topic
					    AND t.partition = o.partition)
			RETURNING 1)
		SELECT count(*) INTO n FROM d;

		group_gone := false;
		IF NOT coalesce(g.members, false)
		   AND NOT EXISTS (SELECT 1 FROM kafka.consumer_offsets o WHERE o.group_id = g.grp)
		   AND NOT EXISTS (SELECT 1 FROM kafka.txn_groups t WHERE t.group_id = g.grp)
		   AND (empty_since IS NULL OR empty_since <= cutoff OR n > 0) THEN
			DELETE FROM kafka.group_membership m WHERE m.group_id = g.grp;
			group_gone := n > 0;
		END IF;
		IF n > 0 THEN
			group_id := g.grp;
			expired_offsets := n;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.expire_offsets(bigint, text[], boolean[], text[], text[]) IS
	'Offset expiry for the groups a coordinator names (offsets.retention.minutes): deletes their expired committed offsets; one row per group that lost offsets, saying whether the group is gone.';

/*
 * ---- ACL checks of SQL sessions without SELECT on the ACL tables (0.9) ----
 *
 * Row security on kafka.records and kafka.produce() ask
 * kafka.sql_authorized(), which used to read kafka.authorizer and
 * kafka.acls as the calling role, so every SQL user needed SELECT on them
 * (and so could read every binding). The lookup is now
 * kafka.role_authorized(), SECURITY DEFINER: it reads the tables as their
 * owner and answers only about a role the session may act as (its login
 * role, or any role that role is a member of, which SET ROLE could switch
 * to), so EXECUTE can go to everyone without telling anyone about other
 * principals' rights.
 */
CREATE FUNCTION kafka.role_authorized(p_role name, p_host text, p_operation text,
				      p_resource_type text, p_resource_name text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN NOT pg_catalog.pg_has_role(session_user, p_role, 'MEMBER') THEN false
		WHEN NOT z.enabled THEN true
		ELSE kafka.acl_allows('User:' || p_role, p_host, p_operation, p_resource_type,
				      p_resource_name)
	       END
	FROM kafka.authorizer z
$$;

GRANT EXECUTE ON FUNCTION kafka.role_authorized(name, text, text, text, text) TO PUBLIC;

COMMENT ON FUNCTION kafka.role_authorized(name, text, text, text, text) IS
	'Whether the role, as the Kafka principal User:<role> from p_host, may do the operation on the resource under the authorizer''s current settings (always when it is off). Answers only about roles the session user is a member of (false for others), so SQL users need no SELECT on kafka.acls or kafka.authorizer.';

CREATE OR REPLACE FUNCTION kafka.sql_authorized(p_operation text, p_topic text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	SELECT NOT row_security_active('kafka.records')
	    OR kafka.role_authorized(current_user, coalesce(host(inet_client_addr()), ''),
				     p_operation, 'TOPIC', p_topic)
$$;

COMMENT ON FUNCTION kafka.sql_authorized(text, text) IS
	'Whether the current role, as the Kafka principal User:<role>, may do an operation on a topic: always when the authorizer is off, and for roles that row security does not apply to (superusers, the tables'' owner, BYPASSRLS). Needs no privilege on the ACL tables (kafka.role_authorized).';

/*
 * ---- Consumer groups of the KIP-848 protocol (0.9) ----
 *
 * A group of the consumer protocol (ConsumerGroupHeartbeat) keeps its state
 * here, so that a broker restart, or the move of the group to another
 * coordinator, keeps every member's epoch and assignment: the coordinator
 * writes the group when a heartbeat changes it, before it answers, and reads
 * it back when it becomes the group's coordinator. Committed offsets stay in
 * kafka.consumer_offsets, as for classic groups. Assignments are jsonb
 * objects from topic id to the sorted array of its partitions.
 */

CREATE TABLE kafka.consumer_groups (
	group_id text COLLATE "C" PRIMARY KEY,
	group_epoch int NOT NULL CHECK (group_epoch >= 0),
	assignment_epoch int NOT NULL CHECK (assignment_epoch >= 0),
	assignor text,
	metadata_hash bigint NOT NULL DEFAULT 0,
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (assignment_epoch <= group_epoch)
);

COMMENT ON TABLE kafka.consumer_groups IS
	'Consumer groups of the KIP-848 consumer protocol (group type "consumer"), one row each; their members are in kafka.consumer_group_members.';
COMMENT ON COLUMN kafka.consumer_groups.group_id IS 'The consumer group (group.id).';
COMMENT ON COLUMN kafka.consumer_groups.group_epoch IS
	'The group epoch: bumped whenever a member joins or leaves or a subscription or the topics it covers change.';
COMMENT ON COLUMN kafka.consumer_groups.assignment_epoch IS
	'The group epoch the target assignment was computed for.';
COMMENT ON COLUMN kafka.consumer_groups.assignor IS
	'The server-side assignor (uniform or range) the target assignment was computed with.';
COMMENT ON COLUMN kafka.consumer_groups.metadata_hash IS
	'Hash of the subscribed topics'' metadata the target assignment was computed from; a coordinator that loads the group and sees other metadata computes a new one.';
COMMENT ON COLUMN kafka.consumer_groups.updated_at IS 'When the coordinator last wrote the group.';

CREATE TABLE kafka.consumer_group_members (
	group_id text COLLATE "C" REFERENCES kafka.consumer_groups ON DELETE CASCADE,
	member_id text COLLATE "C",
	instance_id text,
	rack_id text,
	client_id text NOT NULL DEFAULT '',
	client_host text NOT NULL DEFAULT '',
	member_epoch int NOT NULL,
	previous_member_epoch int NOT NULL,
	state text NOT NULL CHECK (state IN ('stable', 'unrevoked_partitions', 'unreleased_partitions', 'unknown')),
	rebalance_timeout_ms int NOT NULL,
	server_assignor text,
	subscribed_topic_names text[] NOT NULL DEFAULT '{}',
	subscribed_topic_regex text,
	assigned_partitions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(assigned_partitions) = 'object'),
	partitions_pending_revocation jsonb NOT NULL DEFAULT '{}'
		CHECK (jsonb_typeof(partitions_pending_revocation) = 'object'),
	target_assignment jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(target_assignment) = 'object'),
	PRIMARY KEY (group_id, member_id)
);

CREATE UNIQUE INDEX consumer_group_members_instance ON kafka.consumer_group_members (group_id, instance_id)
	WHERE instance_id IS NOT NULL;

COMMENT ON TABLE kafka.consumer_group_members IS
	'Members of the consumer groups in kafka.consumer_groups, with their epochs, subscriptions and assignments.';
COMMENT ON COLUMN kafka.consumer_group_members.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.consumer_group_members.member_id IS 'The member id.';
COMMENT ON COLUMN kafka.consumer_group_members.instance_id IS
	'group.instance.id of a static member, NULL for a dynamic one.';
COMMENT ON COLUMN kafka.consumer_group_members.rack_id IS 'The rack the member said it is in, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.client_id IS 'The client id of the member''s last heartbeat.';
COMMENT ON COLUMN kafka.consumer_group_members.client_host IS 'The address the member''s last heartbeat came from.';
COMMENT ON COLUMN kafka.consumer_group_members.member_epoch IS 'The member epoch.';
COMMENT ON COLUMN kafka.consumer_group_members.previous_member_epoch IS
	'The member epoch before the last one, which a commit may still carry.';
COMMENT ON COLUMN kafka.consumer_group_members.state IS
	'Reconciliation state: stable, unrevoked_partitions (waiting for the member to give partitions up) or unreleased_partitions (waiting for other members to give them up).';
COMMENT ON COLUMN kafka.consumer_group_members.rebalance_timeout_ms IS
	'How long the member may take to revoke partitions.';
COMMENT ON COLUMN kafka.consumer_group_members.server_assignor IS
	'The server-side assignor the member asked for, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.subscribed_topic_names IS 'The topics the member subscribes to by name.';
COMMENT ON COLUMN kafka.consumer_group_members.subscribed_topic_regex IS
	'The regular expression (RE2/J) the member subscribes with, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.assigned_partitions IS
	'The partitions the member owns: {"<topic id>": [partitions]}.';
COMMENT ON COLUMN kafka.consumer_group_members.partitions_pending_revocation IS
	'The partitions the member must give up before its next epoch: {"<topic id>": [partitions]}.';
COMMENT ON COLUMN kafka.consumer_group_members.target_assignment IS
	'The member''s part of the group''s target assignment: {"<topic id>": [partitions]}.';

-- The coordinator's write: the group row and its complete member list, in
-- one statement, so a reader never sees half of a heartbeat's change.
-- p_members is an array of objects with the member columns as keys.
CREATE FUNCTION kafka.consumer_group_save(p_group_id text, p_group_epoch int, p_assignment_epoch int,
	p_assignor text, p_members jsonb, p_metadata_hash bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO kafka.consumer_groups AS g (group_id, group_epoch, assignment_epoch, assignor,
		metadata_hash)
	VALUES (p_group_id, p_group_epoch, p_assignment_epoch, p_assignor, p_metadata_hash)
	ON CONFLICT (group_id) DO UPDATE
	SET group_epoch = EXCLUDED.group_epoch, assignment_epoch = EXCLUDED.assignment_epoch,
	    assignor = EXCLUDED.assignor, metadata_hash = EXCLUDED.metadata_hash, updated_at = now();
	DELETE FROM kafka.consumer_group_members m WHERE m.group_id = p_group_id;
	INSERT INTO kafka.consumer_group_members (group_id, member_id, instance_id, rack_id, client_id,
		client_host, member_epoch, previous_member_epoch, state, rebalance_timeout_ms,
		server_assignor, subscribed_topic_names, subscribed_topic_regex, assigned_partitions,
		partitions_pending_revocation, target_assignment)
	SELECT p_group_id, e ->> 'member_id', e ->> 'instance_id', e ->> 'rack_id',
	       coalesce(e ->> 'client_id', ''), coalesce(e ->> 'client_host', ''),
	       (e ->> 'member_epoch')::int, coalesce((e ->> 'previous_member_epoch')::int, -1),
	       coalesce(e ->> 'state', 'stable'), coalesce((e ->> 'rebalance_timeout_ms')::int, 300000),
	       e ->> 'server_assignor',
	       coalesce(ARRAY(SELECT jsonb_array_elements_text(e -> 'subscribed_topic_names')), '{}'),
	       e ->> 'subscribed_topic_regex',
	       coalesce(e -> 'assigned_partitions', '{}'),
	       coalesce(e -> 'partitions_pending_revocation', '{}'),
	       coalesce(e -> 'target_assignment', '{}')
	FROM jsonb_array_elements(coalesce(p_members, '[]')) e;
END
$$;

COMMENT ON FUNCTION kafka.consumer_group_save(text, int, int, text, jsonb, bigint) IS
	'The coordinator''s write of a consumer group: its epochs and assignor, and its complete member list (a JSON array of member objects).';

-- One row per member and kind of assignment ('assigned', 'revoking',
-- 'target') and topic, for the coordinator's load; a member with no
-- partitions has one row with kind NULL.
CREATE FUNCTION kafka.consumer_group_load(p_group_id text)
RETURNS TABLE (group_epoch int, assignment_epoch int, metadata_hash bigint, member_id text,
	instance_id text, rack_id text, client_id text, client_host text, member_epoch int,
	previous_member_epoch int, state text, rebalance_timeout_ms int, server_assignor text,
	subscribed_topic_names text[], subscribed_topic_regex text, kind text, topic_id uuid,
	partitions int[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT g.group_epoch, g.assignment_epoch, g.metadata_hash, m.member_id, m.instance_id,
	       m.rack_id, m.client_id, m.client_host, m.member_epoch, m.previous_member_epoch,
	       m.state, m.rebalance_timeout_ms, m.server_assignor, m.subscribed_topic_names,
	       m.subscribed_topic_regex, a.kind, a.topic_id::uuid,
	       ARRAY(SELECT jsonb_array_elements_text(a.parts)::int)
	FROM kafka.consumer_groups g
	LEFT JOIN kafka.consumer_group_members m ON m.group_id = g.group_id
	LEFT JOIN LATERAL (
		SELECT 'assigned' AS kind, x.key AS topic_id, x.value AS parts
		FROM jsonb_each(m.assigned_partitions) x
		UNION ALL
		SELECT 'revoking', x.key, x.value FROM jsonb_each(m.partitions_pending_revocation) x
		UNION ALL
		SELECT 'target', x.key, x.value FROM jsonb_each(m.target_assignment) x
	) a ON true
	WHERE g.group_id = p_group_id
	ORDER BY m.member_id, a.kind, a.topic_id
$$;

COMMENT ON FUNCTION kafka.consumer_group_load(text) IS
	'A consumer group as its coordinator loads it: one row per member, kind of assignment and topic (no row: the group does not exist).';

SELECT pg_catalog.pg_extension_config_dump('kafka.consumer_groups', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.consumer_group_members', '');

/*
 * ---- Leader epoch history (0.9) ----
 *
 * Every partition's leader epochs with the offset each started at, as
 * Kafka's LeaderEpochFileCache keeps them: an epoch covers the offsets
 * from its start to the next epoch's start (the last one: to the log end).
 * Fetch stamps each batch with the epoch its records were written under,
 * ListOffsets answers the epoch of the offset it finds, and
 * OffsetForLeaderEpoch the end offset of an epoch, so that a client that
 * read past the end of the log a promoted standby kept (a PostgreSQL
 * failover that lost its tail bumps every epoch) truncates to it instead
 * of reading other records at the same offsets.
 *
 * Rows follow kafka.partition_leaders: a new or bumped leader epoch starts
 * at the partition's next offset as committed. It is read without a lock:
 * a heartbeat must not wait for an application's open transaction that
 * called kafka.produce(). A write in flight took its offsets at or above
 * that point, so it falls in the new epoch, never below an epoch's start.
 *
 * A partition without rows is at epoch 0 from its first offset; the first
 * row written keeps it so (epoch 0 from the log start offset). A broker
 * alone has no leader rows: it calls kafka.cluster_check_timeline() when it
 * starts and after reconnecting, and on a new timeline the partitions
 * without a leader row begin their next epoch too.
 *
 * Retention trims the history as Kafka's truncateFromStart: epochs that
 * end at or before the new log start offset go, and the first one left
 * starts there.
 */
CREATE TABLE kafka.partition_epochs (
	topic text COLLATE "C",
	partition int,
	leader_epoch int CHECK (leader_epoch >= 0),
	start_offset bigint NOT NULL CHECK (start_offset >= 0),
	PRIMARY KEY (topic, partition, leader_epoch),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition) ON DELETE CASCADE
);

COMMENT ON TABLE kafka.partition_epochs IS
	'Leader epoch history: each epoch of a partition and the first offset written under it (Kafka''s leader-epoch checkpoint); no rows: epoch 0 throughout.';
COMMENT ON COLUMN kafka.partition_epochs.topic IS 'The topic.';
COMMENT ON COLUMN kafka.partition_epochs.partition IS 'The partition.';
COMMENT ON COLUMN kafka.partition_epochs.leader_epoch IS 'A leader epoch.';
COMMENT ON COLUMN kafka.partition_epochs.start_offset IS 'The first offset of the epoch (the partition''s next offset when it began, or the log start offset after retention).';

SELECT pg_catalog.pg_extension_config_dump('kafka.partition_epochs', '');

-- Record that p_epoch began at the partition's next offset; an epoch not
-- above the newest recorded is ignored (epochs only grow).
CREATE FUNCTION kafka.begin_leader_epoch(p_topic text, p_partition int, p_epoch int)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	nxt bigint;
	lso bigint;
	newest int;
BEGIN
	SELECT p.next_offset, p.log_start_offset INTO nxt, lso FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition;
	IF NOT FOUND OR p_epoch IS NULL OR p_epoch < 0 THEN
		RETURN;
	END IF;
	SELECT max(e.leader_epoch) INTO newest FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition;
	IF newest >= p_epoch THEN
		RETURN;
	END IF;
	IF newest IS NULL AND (p_epoch = 0 OR nxt > lso) THEN
		INSERT INTO kafka.partition_epochs VALUES (p_topic, p_partition, 0, lso);
	END IF;
	IF p_epoch > 0 THEN
		INSERT INTO kafka.partition_epochs VALUES (p_topic, p_partition, p_epoch, nxt);
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.begin_leader_epoch(text, int, int) IS
	'Internal: record that a leader epoch of a partition begins at its next offset (ignored unless newer than every recorded one).';

CREATE FUNCTION kafka.partition_leaders_epoch_history()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM kafka.begin_leader_epoch(NEW.topic, NEW.partition, NEW.leader_epoch);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_leaders_epoch_history() IS
	'Trigger: a partition leader epoch set or bumped in kafka.partition_leaders begins in kafka.partition_epochs.';

CREATE TRIGGER partition_leaders_epoch_history
AFTER INSERT OR UPDATE OF leader_epoch ON kafka.partition_leaders
FOR EACH ROW EXECUTE FUNCTION kafka.partition_leaders_epoch_history();

CREATE FUNCTION kafka.partition_epochs_trim()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM kafka.partition_epochs e
	WHERE e.topic = NEW.topic AND e.partition = NEW.partition
	  AND EXISTS (SELECT 1 FROM kafka.partition_epochs n
		      WHERE n.topic = e.topic AND n.partition = e.partition
		        AND n.leader_epoch > e.leader_epoch AND n.start_offset <= NEW.log_start_offset);
	UPDATE kafka.partition_epochs e SET start_offset = NEW.log_start_offset
	WHERE e.topic = NEW.topic AND e.partition = NEW.partition
	  AND e.start_offset < NEW.log_start_offset;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_epochs_trim() IS
	'Trigger: when a partition''s log start offset moves up, drop the epochs that end at or before it and start the first one left there.';

CREATE TRIGGER partition_epochs_trim
AFTER UPDATE OF log_start_offset ON kafka.partitions
FOR EACH ROW WHEN (NEW.log_start_offset > OLD.log_start_offset)
EXECUTE FUNCTION kafka.partition_epochs_trim();

-- The epoch an offset of a partition was written under: the newest epoch
-- starting at or before it; 0 for a partition without history.
CREATE FUNCTION kafka.leader_epoch_at(p_topic text, p_partition int, p_offset bigint)
RETURNS int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT e.leader_epoch FROM kafka.partition_epochs e
			 WHERE e.topic = p_topic AND e.partition = p_partition
			   AND e.start_offset <= p_offset
			 ORDER BY e.leader_epoch DESC LIMIT 1),
			(SELECT min(e.leader_epoch) FROM kafka.partition_epochs e
			 WHERE e.topic = p_topic AND e.partition = p_partition), 0)
$$;

COMMENT ON FUNCTION kafka.leader_epoch_at(text, int, bigint) IS
	'The leader epoch an offset of a partition was written under (0 without epoch history).';

-- The current leader epoch of a partition: the newest recorded, 0 if none.
CREATE FUNCTION kafka.current_leader_epoch(p_topic text, p_partition int)
RETURNS int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(max(e.leader_epoch), 0) FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition
$$;

COMMENT ON FUNCTION kafka.current_leader_epoch(text, int) IS
	'The newest leader epoch of a partition (0 without epoch history).';

/*
 * OffsetForLeaderEpoch, as LeaderEpochFileCache.endOffsetFor answers it:
 * -1 (undefined) asked: (-1, -1); the current epoch: (it, log end); an
 * older epoch: (the newest epoch at or below it, the start of the first
 * epoch above it); one below every recorded epoch: (it, the start of the
 * first); one above the current: (-1, -1). No row for a partition that
 * does not exist. A partition without history has had epoch 0 only,
 * from its log start offset.
 */
CREATE FUNCTION kafka.offset_for_leader_epoch(p_topic text, p_partition int, p_epoch int,
	OUT leader_epoch int, OUT end_offset bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p kafka.partitions;
	newest int;
	floor_epoch int;
	above bigint;
BEGIN
	SELECT * INTO p FROM kafka.partitions x WHERE x.topic = p_topic AND x.partition = p_partition;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	leader_epoch := -1;
	end_offset := -1;
	SELECT max(e.leader_epoch) INTO newest FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition;
	IF newest IS NULL THEN
		IF p_epoch = 0 THEN
			leader_epoch := 0;
			end_offset := p.next_offset;
		ELSIF p_epoch < -1 THEN
			leader_epoch := p_epoch;
			end_offset := p.log_start_offset;
		END IF;
		RETURN NEXT;
		RETURN;
	END IF;
	IF p_epoch = -1 OR p_epoch > newest THEN
		RETURN NEXT;
		RETURN;
	END IF;
	IF p_epoch = newest THEN
		leader_epoch := newest;
		end_offset := p.next_offset;
		RETURN NEXT;
		RETURN;
	END IF;
	SELECT e.start_offset INTO above FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition AND e.leader_epoch > p_epoch
	ORDER BY e.leader_epoch LIMIT 1;
	SELECT max(e.leader_epoch) INTO floor_epoch FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition AND e.leader_epoch <= p_epoch;
	leader_epoch := coalesce(floor_epoch, p_epoch);
	end_offset := above;
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION kafka.offset_for_leader_epoch(text, int, int) IS
	'OffsetForLeaderEpoch: the epoch at or below the one asked and the offset where it ends (Kafka''s LeaderEpochFileCache.endOffsetFor); (-1, -1) if undefined; no row if the partition does not exist.';

-- A new WAL timeline (a promoted standby): kafka.cluster_check_timeline()
-- bumps the epochs of kafka.partition_leaders, which begin here through
-- their trigger; partitions without a leader row (a broker alone) get
-- their next epoch here.
CREATE FUNCTION kafka.partition_epochs_new_timeline()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM kafka.begin_leader_epoch(p.topic, p.partition,
					 kafka.current_leader_epoch(p.topic, p.partition) + 1)
	FROM kafka.partitions p
	WHERE NOT EXISTS (SELECT 1 FROM kafka.partition_leaders l
			  WHERE l.topic = p.topic AND l.partition = p.partition);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_epochs_new_timeline() IS
	'Trigger: on a new WAL timeline, the partitions without a leader row begin their next leader epoch.';

CREATE TRIGGER partition_epochs_new_timeline
AFTER UPDATE OF timeline_id ON kafka.cluster_state
FOR EACH ROW WHEN (OLD.timeline_id IS NOT NULL AND NEW.timeline_id IS DISTINCT FROM OLD.timeline_id)
EXECUTE FUNCTION kafka.partition_epochs_new_timeline();

-- Databases that were clusters before 0.9: the current epochs begin now.
SELECT kafka.begin_leader_epoch(l.topic, l.partition, l.leader_epoch)
FROM kafka.partition_leaders l;

/*
 * ---- Records in chunks (0.9) ----
 *
 * kafka.records is partitioned: by topic (LIST), each topic's table by
 * partition (LIST), each partition's table by offset (RANGE) into chunks,
 * consecutive offset ranges whose bounds are fixed when the chunk is
 * created, plus a DEFAULT leaf that catches rows past the last chunk when
 * the storage job fell behind. The tables live in schema kafka_chunks,
 * named records_<n>, each with a comment naming its topic, partition and
 * offsets; kafka.chunks is their bookkeeping. Inside a chunk topic and
 * partition are constant, so its primary key index grows at its right edge.
 *
 * Chunks are a storage detail under Kafka's segments (kafka.segments). The
 * storage job creates a partition's next chunk when the current one is half
 * full (CREATE TABLE, then ATTACH PARTITION), sized from the partition's
 * observed rate to hold about a segment's worth of records (100 ..
 * 10,000,000 offsets; a new partition's first chunk has 1,000), and drops each
 * chunk whose offsets are all below the log start offset (DROP TABLE, in a
 * transaction of its own under a short lock_timeout). Rows below the log
 * start in the chunk that holds it, and in the DEFAULT leaf, are deleted as
 * rows (kafka.purge_records()). A deleted topic's tables are detached from
 * kafka.records (DETACH PARTITION ... CONCURRENTLY, by the broker) and
 * dropped in the background; a topic created again under its name removes
 * them first, in the creating transaction.
 */
CREATE SCHEMA kafka_chunks;

COMMENT ON SCHEMA kafka_chunks IS
	'The tables under kafka.records (per topic, per partition, and the chunks holding the rows), managed by pg_kafka: query kafka.records.';

CREATE SEQUENCE kafka.chunk_ids;

COMMENT ON SEQUENCE kafka.chunk_ids IS 'Numbers the tables of schema kafka_chunks (records_<n>).';

CREATE TABLE kafka.chunks (
	table_name text PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('topic', 'partition', 'chunk', 'default')),
	topic text COLLATE "C" NOT NULL,
	topic_id uuid NOT NULL,
	partition int,
	lo bigint,
	hi bigint,
	topic_table text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT chunks_shape_valid CHECK (
		(kind = 'topic') = (partition IS NULL)
		AND (kind = 'chunk') = (hi IS NOT NULL)
		AND (kind = 'chunk') = (lo IS NOT NULL)
		AND (hi IS NULL OR lo < hi))
);

CREATE INDEX chunks_by_partition ON kafka.chunks (topic, partition, lo);

COMMENT ON TABLE kafka.chunks IS
	'The tables of schema kafka_chunks under kafka.records: one per topic, one per topic partition, its DEFAULT leaf and its chunks.';
COMMENT ON COLUMN kafka.chunks.table_name IS 'The table, in schema kafka_chunks.';
COMMENT ON COLUMN kafka.chunks.kind IS
	'topic (partitioned by partition), partition (partitioned by offset), chunk (rows of offsets lo .. hi - 1) or default (rows past the chunks).';
COMMENT ON COLUMN kafka.chunks.topic IS 'The topic.';
COMMENT ON COLUMN kafka.chunks.topic_id IS 'The topic''s id: tables of a deleted topic keep the old one.';
COMMENT ON COLUMN kafka.chunks.partition IS 'The partition; NULL for a topic''s table.';
COMMENT ON COLUMN kafka.chunks.lo IS 'A chunk''s first offset.';
COMMENT ON COLUMN kafka.chunks.hi IS 'A chunk''s upper bound: its last offset + 1.';
COMMENT ON COLUMN kafka.chunks.topic_table IS 'The topic''s table this one is under (itself for a topic''s table).';
COMMENT ON COLUMN kafka.chunks.created IS 'When the table was created.';

SELECT pg_catalog.pg_extension_config_dump('kafka.chunks', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.chunk_ids', '');

/*
 * Create one table of the tree and attach it under p_parent with bound
 * p_bound; partitioned by p_partition_by when given. Returns its name. It
 * goes in its parent's tablespace, when that has one (ALTER TABLE
 * kafka.records SET TABLESPACE moves where new tables go).
 * SECURITY DEFINER: attaching needs the ownership of kafka.records, and
 * whoever may create topics may get their tables.
 */
CREATE FUNCTION kafka.chunk_table(p_kind text, p_topic text, p_topic_id uuid, p_partition int,
	p_lo bigint, p_hi bigint, p_topic_table text, p_parent text, p_bound text,
	p_partition_by text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text := 'records_' || nextval('kafka.chunk_ids');
BEGIN
	EXECUTE format('CREATE TABLE kafka_chunks.%I (LIKE kafka.records)%s%s', t,
		       coalesce(' PARTITION BY ' || p_partition_by, ''),
		       (SELECT ' TABLESPACE ' || quote_ident(ts.spcname)
			FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
			WHERE c.oid = p_parent::regclass));
	EXECUTE format('ALTER TABLE %s ATTACH PARTITION kafka_chunks.%I %s', p_parent, t, p_bound);
	EXECUTE format('COMMENT ON TABLE kafka_chunks.%I IS %L', t, CASE p_kind
		WHEN 'topic' THEN format('Records of topic %s (under kafka.records).', p_topic)
		WHEN 'partition' THEN format('Records of %s-%s (under kafka.records).', p_topic, p_partition)
		WHEN 'default' THEN format('Records of %s-%s past its chunks, while the storage job is behind (under kafka.records).',
					   p_topic, p_partition)
		ELSE format('Records of %s-%s, offsets %s to %s: a chunk, dropped whole once the log start offset passes it (under kafka.records).',
			    p_topic, p_partition, p_lo, p_hi - 1) END);
	INSERT INTO kafka.chunks (table_name, kind, topic, topic_id, partition, lo, hi, topic_table)
	VALUES (t, p_kind, p_topic, p_topic_id, p_partition, p_lo, p_hi, coalesce(p_topic_table, t));
	RETURN t;
END
$$;

COMMENT ON FUNCTION kafka.chunk_table(text, text, uuid, int, bigint, bigint, text, text, text, text) IS
	'Create and attach one table under kafka.records (the storage job''s and topic creation''s helper); returns its name in kafka_chunks.';

/*
 * Remove a topic's tables in the current transaction: detach the topic's
 * table from kafka.records (a plain DETACH, ACCESS EXCLUSIVE on
 * kafka.records for a moment; or FINALIZE for an interrupted concurrent
 * one) and drop it with everything under it.
 */
CREATE FUNCTION kafka.chunks_remove_topic(p_table text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pending boolean;
BEGIN
	SELECT i.inhdetachpending INTO pending
	FROM pg_inherits i
	WHERE i.inhrelid = to_regclass(format('kafka_chunks.%I', p_table))
	  AND i.inhparent = 'kafka.records'::regclass;
	IF pending THEN
		EXECUTE format('ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.%I FINALIZE', p_table);
	ELSIF pending IS NOT NULL THEN
		EXECUTE format('ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.%I', p_table);
	END IF;
	EXECUTE format('DROP TABLE IF EXISTS kafka_chunks.%I', p_table);
	DELETE FROM kafka.chunks c WHERE c.topic_table = p_table;
END
$$;

COMMENT ON FUNCTION kafka.chunks_remove_topic(text) IS
	'Detach and drop a topic''s table from under kafka.records, with everything under it, in the current transaction.';

/*
 * A partition's tables: its topic's table (created with the topic, after
 * removing the tables of an earlier topic of that name), its own, its
 * DEFAULT leaf and a first chunk of offsets p_lo .. p_lo + p_span - 1.
 */
CREATE FUNCTION kafka.chunks_add_partition(p_topic text, p_partition int, p_lo bigint,
	p_span bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	tt text;
	pt text;
	old record;
BEGIN
	SELECT t.topic_id INTO tid FROM kafka.topics t WHERE t.name = p_topic;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	FOR old IN SELECT c.table_name FROM kafka.chunks c
		   WHERE c.kind = 'topic' AND c.topic = p_topic AND c.topic_id <> tid LOOP
		PERFORM kafka.chunks_remove_topic(old.table_name);
	END LOOP;
	SELECT c.table_name INTO tt FROM kafka.chunks c
	WHERE c.kind = 'topic' AND c.topic = p_topic AND c.topic_id = tid;
	IF NOT FOUND THEN
		tt := kafka.chunk_table('topic', p_topic, tid, NULL, NULL, NULL, NULL, 'kafka.records',
					format('FOR VALUES IN (%L)', p_topic), 'LIST (partition)');
	END IF;
	IF EXISTS (SELECT FROM kafka.chunks c WHERE c.topic_table = tt AND c.kind = 'partition'
		   AND c.partition = p_partition) THEN
		RETURN;
	END IF;
	pt := kafka.chunk_table('partition', p_topic, tid, p_partition, NULL, NULL, tt,
				format('kafka_chunks.%I', tt), format('FOR VALUES IN (%s)', p_partition),
				'RANGE ("offset")');
	PERFORM kafka.chunk_table('default', p_topic, tid, p_partition, NULL, NULL, tt,
				  format('kafka_chunks.%I', pt), 'DEFAULT', NULL);
	PERFORM kafka.chunk_table('chunk', p_topic, tid, p_partition, p_lo, p_lo + p_span, tt,
				  format('kafka_chunks.%I', pt),
				  format('FOR VALUES FROM (%s) TO (%s)', p_lo, p_lo + p_span), NULL);
END
$$;

COMMENT ON FUNCTION kafka.chunks_add_partition(text, int, bigint, bigint) IS
	'Create a partition''s tables under kafka.records (its topic''s too if needed) with a first chunk of p_span offsets from p_lo.';

/* New partitions (a topic created, or grown) get their tables at once. */
CREATE FUNCTION kafka.partitions_add_chunks()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	n record;
BEGIN
	FOR n IN SELECT x.topic, x.partition, x.next_offset FROM new_partitions x
		 ORDER BY x.topic, x.partition LOOP
		PERFORM kafka.chunks_add_partition(n.topic, n.partition, n.next_offset, 1000);
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER partitions_add_chunks
	AFTER INSERT ON kafka.partitions
	REFERENCING NEW TABLE AS new_partitions
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.partitions_add_chunks();


/*
 * The next chunk's size, in offsets: about a segment's worth of records --
 * the offsets of the partition's last rolled segments, else what its rate
 * fills in segment.ms or segment.bytes -- and at least what it fills in
 * three job intervals, so that the chunk after it is created (when this
 * one is half full) in time, and at least a sixteenth of what the partition
 * retains, so that it has some twenty chunks at most (a read from its start
 * plans every chunk after it: about 0.15 ms each); 100 .. 10,000,000.
 * Small chunks keep what is dropped late small: a chunk goes only once all
 * of it is below the log start. The rate is the higher of two estimates: the offsets of the last
 * segments over the time between their first and newest records, and the
 * offsets written into the current chunk since it was created (which counts
 * the time it waited, created ahead of need, so it runs low).
 */
CREATE FUNCTION kafka.chunk_span(p_topic text, p_partition int, p_defaults jsonb)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
DECLARE
	cur record;
	next_off bigint;
	log_start bigint;
	rate float8;
	per_seg float8;
	avg_bytes float8;
	interval_ms float8 := coalesce((p_defaults ->> 'log.retention.check.interval.ms')::float8, 300000);
BEGIN
	SELECT c.lo, c.created INTO cur FROM kafka.chunks c
	WHERE c.topic = p_topic AND c.partition = p_partition AND c.kind = 'chunk'
	ORDER BY c.lo DESC LIMIT 1;
	SELECT p.next_offset, p.log_start_offset INTO next_off, log_start FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition;
	-- offsets per millisecond
	rate := greatest(next_off - cur.lo, 0)
		/ greatest(extract(epoch FROM now() - cur.created) * 1000, 1);
	SELECT greatest(rate, sum(s.last_offset - s.base_offset + 1)::float8
			/ greatest(extract(epoch FROM max(s.max_timestamp) - min(s.first_timestamp)) * 1000,
				   1))
	INTO rate
	FROM (SELECT * FROM kafka.segments s
	      WHERE s.topic = p_topic AND s.partition = p_partition
		AND s.max_timestamp < 'infinity' AND s.first_timestamp > '-infinity'
	      ORDER BY s.base_offset DESC LIMIT 4) s;
	rate := coalesce(rate, 0);
	SELECT avg(s.last_offset - s.base_offset + 1), sum(s.bytes)::float8 / nullif(sum(s.records), 0)
	INTO per_seg, avg_bytes
	FROM (SELECT * FROM kafka.segments s
	      WHERE s.topic = p_topic AND s.partition = p_partition AND s.rolled
	      ORDER BY s.base_offset DESC LIMIT 3) s;
	IF per_seg IS NULL THEN
		per_seg := least(rate * kafka.topic_setting(p_topic, 'segment.ms', p_defaults)::float8,
				 kafka.topic_setting(p_topic, 'segment.bytes', p_defaults)::float8
				 / coalesce(avg_bytes, 100));
	END IF;
	RETURN least(greatest(per_seg, rate * 3 * interval_ms, (next_off - log_start) / 16, 100),
		     10000000)::bigint;
END
$$;

COMMENT ON FUNCTION kafka.chunk_span(text, int, jsonb) IS
	'How many offsets a partition''s next chunk spans: about a segment''s worth at its observed rate, 100 .. 10,000,000.';

/*
 * Add a partition's next chunk, after its last one, or past the rows its
 * DEFAULT leaf caught when the job fell behind (those stay there and are
 * deleted as rows once below the log start). Attaching scans the DEFAULT
 * leaf; a lock not granted within p_lock_timeout_ms gives up (an error)
 * and the next pass tries again. One short transaction per chunk.
 *
 * The partition's table is locked in SHARE mode before the bounds are
 * chosen: producers of the partition wait for the rest of this transaction
 * (fetches do not), so the chunk's size is worked out and its table and
 * primary key are created before, and attaching only checks the DEFAULT
 * leaf and links them. An insert routes
 * its rows with the list of chunks it read when it reached the partition's
 * table; had it read that list before the new chunk was attached and
 * written a row of the new chunk's range into the DEFAULT leaf after, that
 * row would break the DEFAULT leaf's new partition constraint and the
 * produce would fail.
 */
CREATE FUNCTION kafka.add_chunk(p_topic text, p_partition int, p_defaults jsonb DEFAULT '{}',
	p_lock_timeout_ms int DEFAULT 200)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	last record;
	parent text;
	dflt text;
	t text := 'records_' || nextval('kafka.chunk_ids');
	lo bigint;
	span bigint;
	n bigint;
BEGIN
	PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
	-- The partition's producers wait for this commit: not also for its
	-- WAL flush (lost in a crash, the chunk is simply created again).
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT c.* INTO last FROM kafka.chunks c JOIN kafka.topics t ON t.topic_id = c.topic_id
	WHERE c.topic = p_topic AND c.partition = p_partition AND c.kind = 'chunk'
	ORDER BY c.lo DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT c.table_name INTO parent FROM kafka.chunks c
	WHERE c.topic_table = last.topic_table AND c.partition = p_partition AND c.kind = 'partition';
	SELECT c.table_name INTO dflt FROM kafka.chunks c
	WHERE c.topic_table = last.topic_table AND c.partition = p_partition AND c.kind = 'default';
	-- The chunk's size, the table and the index ATTACH would build, while
	-- producers go on.
	span := kafka.chunk_span(p_topic, p_partition, p_defaults);
	EXECUTE format('CREATE TABLE kafka_chunks.%I (LIKE kafka.records)%s', t,
		       (SELECT ' TABLESPACE ' || quote_ident(ts.spcname)
			FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
			WHERE c.oid = format('kafka_chunks.%I', parent)::regclass));
	EXECUTE format('ALTER TABLE kafka_chunks.%I ADD PRIMARY KEY (topic, partition, "offset")', t);
	EXECUTE format('LOCK TABLE kafka_chunks.%I IN SHARE MODE', parent);
	EXECUTE format('SELECT max("offset") + 1 FROM kafka_chunks.%I', dflt) INTO lo;
	-- Behind: producers are writing into the DEFAULT leaf, so the chunk
	-- starts far enough ahead of them that none reaches it before it is
	-- attached (attaching fails if the DEFAULT leaf has a row for it).
	SELECT CASE WHEN p.next_offset >= last.hi THEN p.next_offset + span / 4 END INTO n
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition;
	lo := greatest(last.hi, lo, n);
	EXECUTE format('ALTER TABLE kafka_chunks.%I ATTACH PARTITION kafka_chunks.%I'
		       ' FOR VALUES FROM (%s) TO (%s)', parent, t, lo, lo + span);
	EXECUTE format('COMMENT ON TABLE kafka_chunks.%I IS %L', t,
		       format('Records of %s-%s, offsets %s to %s: a chunk, dropped whole once the log start offset passes it (under kafka.records).',
			      p_topic, p_partition, lo, lo + span - 1));
	INSERT INTO kafka.chunks (table_name, kind, topic, topic_id, partition, lo, hi, topic_table)
	VALUES (t, 'chunk', p_topic, last.topic_id, p_partition, lo, lo + span, last.topic_table);
	RETURN t;
END
$$;

COMMENT ON FUNCTION kafka.add_chunk(text, int, jsonb, int) IS
	'Create a partition''s next chunk (CREATE TABLE, ATTACH PARTITION); returns its table in kafka_chunks.';

/*
 * Drop a chunk all of whose offsets are below its partition's log start
 * offset (DROP TABLE: ACCESS EXCLUSIVE on the partition's table for a
 * moment, under p_lock_timeout_ms), or the table of a deleted topic once
 * it is detached from kafka.records. False when there is nothing (more)
 * to drop.
 */
CREATE FUNCTION kafka.drop_chunk(p_table text, p_lock_timeout_ms int DEFAULT 100)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
BEGIN
	PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT x.* INTO c FROM kafka.chunks x WHERE x.table_name = p_table FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF c.kind = 'chunk' THEN
		IF EXISTS (SELECT FROM kafka.partitions p JOIN kafka.topics t ON t.name = p.topic
			   WHERE p.topic = c.topic AND p.partition = c.partition
			     AND t.topic_id = c.topic_id AND p.log_start_offset < c.hi) THEN
			RETURN false;
		END IF;
		EXECUTE format('DROP TABLE kafka_chunks.%I', p_table);
		DELETE FROM kafka.chunks x WHERE x.table_name = p_table;
		RETURN true;
	END IF;
	IF c.kind <> 'topic' OR EXISTS (SELECT FROM kafka.topics t WHERE t.topic_id = c.topic_id)
	   OR EXISTS (SELECT FROM pg_inherits i
		      WHERE i.inhrelid = to_regclass(format('kafka_chunks.%I', p_table))) THEN
		RETURN false;
	END IF;
	EXECUTE format('DROP TABLE IF EXISTS kafka_chunks.%I', p_table);
	DELETE FROM kafka.chunks x WHERE x.topic_table = p_table;
	RETURN true;
END
$$;

COMMENT ON FUNCTION kafka.drop_chunk(text, int) IS
	'Drop a chunk below its partition''s log start offset, or a deleted topic''s detached table; false if not (yet) droppable.';

/*
 * What the storage job has to do with the tables, for the broker to do one
 * short transaction at a time: 'add' (the partition's last chunk is half
 * full: kafka.add_chunk()), 'drop' (a chunk below the log start:
 * kafka.drop_chunk()), and for a deleted topic's table 'detach' (ALTER
 * TABLE kafka.records DETACH PARTITION ... CONCURRENTLY, which cannot run
 * in a function), 'finalize' (a detach interrupted half way: DETACH ...
 * FINALIZE) or 'drop'. One caller at a time across brokers (an advisory
 * lock; the others get no rows).
 */
CREATE FUNCTION kafka.chunk_work(p_defaults jsonb DEFAULT '{}',
	OUT action text, OUT table_name text, OUT topic text, OUT partition int,
	OUT lo bigint, OUT hi bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('pg_kafka chunks')) THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT 'add'::text, c.table_name, c.topic, c.partition, c.lo, c.hi
	FROM kafka.partitions p
	JOIN kafka.topics t ON t.name = p.topic
	CROSS JOIN LATERAL (SELECT x.* FROM kafka.chunks x
			    WHERE x.topic = p.topic AND x.partition = p.partition
			      AND x.topic_id = t.topic_id AND x.kind = 'chunk'
			    ORDER BY x.lo DESC LIMIT 1) c
	WHERE p.next_offset >= c.lo + (c.hi - c.lo) / 2
	UNION ALL
	SELECT 'drop', c.table_name, c.topic, c.partition, c.lo, c.hi
	FROM kafka.chunks c
	JOIN kafka.topics t ON t.topic_id = c.topic_id
	JOIN kafka.partitions p ON p.topic = c.topic AND p.partition = c.partition
	WHERE c.kind = 'chunk' AND c.hi <= p.log_start_offset
	UNION ALL
	SELECT CASE WHEN i.inhdetachpending THEN 'finalize'
		    WHEN i.inhrelid IS NOT NULL THEN 'detach' ELSE 'drop' END,
	       c.table_name, c.topic, NULL::int, NULL::bigint, NULL::bigint
	FROM kafka.chunks c
	LEFT JOIN pg_inherits i ON i.inhrelid = to_regclass(format('kafka_chunks.%I', c.table_name))
	WHERE c.kind = 'topic' AND NOT EXISTS (SELECT FROM kafka.topics t WHERE t.topic_id = c.topic_id)
	ORDER BY 1, 3, 4, 5;
END
$$;

COMMENT ON FUNCTION kafka.chunk_work(jsonb) IS
	'The storage job''s work on the tables under kafka.records: chunks to add, chunks to drop, deleted topics'' tables to detach and drop.';


/*
 * ---- Reading a partition's records (0.9) ----
 *
 * The broker reads kafka.records through these functions, not in its own
 * statements. A statement naming the partitioned kafka.records must be
 * planned with its topic and partition known to touch only that
 * partition's chunks: a generic plan of it locks every table under
 * kafka.records at each execution (PostgreSQL 15), and planning the
 * broker's whole Fetch statement each time costs more than a cached plan
 * of it. Here only the small query over kafka.records is planned per call,
 * with its parameters (plan_cache_mode), and the statements that call these
 * functions keep a cached plan. No sorts where an index gives the order
 * (enable_sort): a chunk filled since autovacuum last analyzed it looks
 * empty to the planner, which would otherwise read a partition's chunks
 * whole and sort them rather than merge their index scans up to the LIMIT.
 * SECURITY INVOKER: the caller's privileges and row security apply.
 *
 * kafka.read_records() plans nothing (decoder/read.c): it finds the
 * partition's tables from PostgreSQL's partition descriptors, locks only
 * those it reads, and reads each chunk and the DEFAULT leaf through its
 * primary key index, in offset order across them. Where row security
 * applies to the caller, or a table under kafka.records is not one it
 * reads directly (a foreign table, another partitioning, another primary
 * key), it runs the SELECT on kafka.records it stands for instead.
 */
CREATE FUNCTION kafka.read_records(p_topic text, p_partition int, p_from bigint,
	p_upto bigint, p_limit int)
RETURNS TABLE ("offset" bigint, ts bigint, key bytea, value bytea, headers bytea)
LANGUAGE C STABLE SECURITY INVOKER
AS 'MODULE_PATHNAME', 'pgk_read_records';

COMMENT ON FUNCTION kafka.read_records(text, int, bigint, bigint, int) IS
	'Up to p_limit records of a partition from offset p_from up to (not including) p_upto, in offset order, timestamps in Kafka milliseconds; what Fetch reads. Reads the partition''s tables through their primary key indexes without planning a query, or runs the equivalent SELECT on kafka.records where row security applies.';

/*
 * What the broker's Fetch reads (0.10): the rows of kafka.read_records() for its
 * first five arguments, packed into pieces of about 64 KiB (decoder/read.c
 * has the layout), up to about p_max_bytes. A Fetch reads thousands of
 * records, and as rows each costs a tuplestore copy, a projection, a send
 * function per column and a protocol message; packed they cost a copy
 * into a piece. Called in a select list, the pieces go out as they are
 * read, so a read of any size holds no more than a piece in memory.
 */
CREATE FUNCTION kafka.read_records_packed(p_topic text, p_partition int, p_from bigint,
	p_upto bigint, p_limit int, p_max_bytes int)
RETURNS SETOF bytea
LANGUAGE C STABLE SECURITY INVOKER ROWS 16
AS 'MODULE_PATHNAME', 'pgk_read_records_packed';

COMMENT ON FUNCTION kafka.read_records_packed(text, int, bigint, bigint, int, int) IS
	'The records kafka.read_records() returns, packed for the broker''s Fetch into pieces of about 64 KiB, each a format byte (1), a flags byte, then per record offset and ts (8-byte) and key, value and headers as 4-byte length (-1 NULL) and bytes, big-endian. Stops after the record that brings the records'' bytes to p_max_bytes (NULL: 256 MB), and then, unless p_limit stopped it too, sets flag 1 in the last piece.';

CREATE FUNCTION kafka.find_record_by_time(p_topic text, p_partition int, p_ts bigint,
	p_log_start bigint)
RETURNS TABLE ("offset" bigint, ts bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET plan_cache_mode = force_custom_plan
SET enable_sort = off
AS $$
DECLARE
	v_from bigint;
BEGIN
	IF p_ts >= 0 THEN
		-- Records before the first segment whose newest record is at or
		-- after p_ts are all older: start there, or past the segments.
		v_from := coalesce(
			(SELECT s.base_offset FROM kafka.segments s
			 WHERE s.topic = p_topic AND s.partition = p_partition
			   AND (s.max_timestamp = 'infinity' OR (s.max_timestamp > '-infinity'
			        AND extract(epoch FROM s.max_timestamp) * 1000 >= p_ts))
			 ORDER BY s.base_offset LIMIT 1),
			(SELECT s.last_offset + 1 FROM kafka.segments s
			 WHERE s.topic = p_topic AND s.partition = p_partition
			 ORDER BY s.base_offset DESC LIMIT 1),
			0);
		RETURN QUERY
			SELECT r."offset", t.ts
			FROM kafka.records r,
				LATERAL (SELECT coalesce(r.timestamp_ms,
					floor(extract(epoch FROM r."timestamp") * 1000)::int8) AS ts) t
			WHERE r.topic = p_topic AND r.partition = p_partition
				AND r."offset" >= greatest(p_log_start, v_from) AND t.ts >= p_ts
			ORDER BY r."offset" LIMIT 1;
	ELSIF p_ts = -3 THEN
		RETURN QUERY
			SELECT r."offset", t.ts
			FROM kafka.records r,
				LATERAL (SELECT coalesce(r.timestamp_ms,
					floor(extract(epoch FROM r."timestamp") * 1000)::int8) AS ts) t
			WHERE r.topic = p_topic AND r.partition = p_partition
				AND r."offset" >= p_log_start
			ORDER BY t.ts DESC, r."offset" LIMIT 1;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.find_record_by_time(text, int, bigint, bigint) IS
	'ListOffsets: for p_ts >= 0 the first record at or after that time (Kafka milliseconds), for p_ts = -3 the record with the largest timestamp; from the log start offset p_log_start on.';
