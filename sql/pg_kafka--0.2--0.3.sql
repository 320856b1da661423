/*
 * pg_kafka 0.3: the SQL API for applications and operators.
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

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.3'" to load this file. \quit

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

CREATE VIEW kafka.records_decoded AS
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
