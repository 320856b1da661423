--
-- kafka.append_records(): the broker's bulk insert of a produced batch. It
-- writes rows like COPY, at the offsets the caller reserved, and falls back
-- to a plain INSERT when kafka.records has insert triggers, rules or
-- row-level security.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_kafka;
RESET client_min_messages;

SELECT kafka.create_topic('append-t', 2) IS NOT NULL AS created;

-- Three records: null key, null value, headers; the base offset comes back.
SELECT kafka.append_records('append-t', 0, 0, false,
	ARRAY['2024-05-01 12:00:00+00', '2024-05-01 12:00:01+00', '2024-05-01 12:00:02+00']::timestamptz[],
	ARRAY[NULL, 'k1', 'k2']::bytea[], ARRAY['v0', NULL, '']::bytea[],
	ARRAY[NULL, NULL, '\x0206680261']::bytea[]) AS base;
SELECT partition, "offset", "timestamp" AT TIME ZONE 'UTC' AS ts, key, value, headers
FROM kafka.records WHERE topic = 'append-t' ORDER BY partition, "offset";

-- LogAppendTime: every row gets the transaction's time, even with NULL timestamps.
BEGIN;
SELECT kafka.append_records('append-t', 1, 10, true, ARRAY[NULL, NULL]::timestamptz[],
	ARRAY[NULL, NULL]::bytea[], ARRAY['a', 'b']::bytea[], ARRAY[NULL, NULL]::bytea[]) AS base;
SELECT count(*) AS rows_at_now FROM kafka.records
WHERE topic = 'append-t' AND partition = 1 AND "timestamp" = now();
COMMIT;

-- Strict: a NULL base (no partition row in the broker's statement) writes nothing.
SELECT kafka.append_records('append-t', 0, NULL, false, ARRAY[now()],
	ARRAY[NULL]::bytea[], ARRAY['x']::bytea[], ARRAY[NULL]::bytea[]) IS NULL AS no_call;
-- Empty arrays write nothing.
SELECT kafka.append_records('append-t', 0, 99, false, '{}'::timestamptz[], '{}', '{}', '{}') AS base;

-- Bad input.
SELECT kafka.append_records('append-t', 0, 50, false, ARRAY[now(), now()],
	ARRAY[NULL]::bytea[], ARRAY['x']::bytea[], ARRAY[NULL]::bytea[]);
SELECT kafka.append_records('append-t', 0, 50, false, ARRAY[NULL]::timestamptz[],
	ARRAY[NULL]::bytea[], ARRAY['x']::bytea[], ARRAY[NULL]::bytea[]);
SELECT kafka.append_records('append-t', 0, 50, false, ARRAY[[now()]],
	ARRAY[[NULL]]::bytea[], ARRAY[['x']]::bytea[], ARRAY[[NULL]]::bytea[]);
-- An offset that is taken violates the primary key, as COPY would.
SELECT kafka.append_records('append-t', 0, 2, false, ARRAY[now()],
	ARRAY[NULL]::bytea[], ARRAY['dup']::bytea[], ARRAY[NULL]::bytea[]);

-- A large batch: more rows than one bulk write holds, and values that are
-- toasted; every row lands once, in order.
SELECT kafka.append_records('append-t', 1, 100, false, array_agg(now()), array_agg(NULL::bytea),
	array_agg(CASE WHEN n % 500 = 0 THEN convert_to(repeat(md5(n::text), 4000), 'UTF8')
		       ELSE convert_to(n::text, 'UTF8') END),
	array_agg(NULL::bytea)) AS base
FROM generate_series(1, 2500) n;
SELECT count(*) AS rows, min("offset"), max("offset"),
       count(*) FILTER (WHERE length(value) > 100000) AS large,
       bool_and(value = convert_to(("offset" - 99)::text, 'UTF8') OR length(value) > 100000) AS in_order
FROM kafka.records WHERE topic = 'append-t' AND partition = 1 AND "offset" >= 100;

-- Kafka timestamps (bigint[], 0.7): any int64 is kept exactly in
-- timestamp_ms; "timestamp" holds the same instant where timestamptz can,
-- and -infinity/infinity beyond (PostgreSQL's range ends before 4714 BC and
-- after 294276 AD).
SELECT kafka.append_records('append-t', 0, 200, false,
	ARRAY[-1, 0, -86400001, 1714564800123, 4611686018427511360,
	      9223372036854775807, -9223372036854775808,
	      -210866803200000, -210866803200001, 9224318015999999, 9224318016000000]::bigint[],
	array_fill(NULL::bytea, ARRAY[11]), array_fill('ts'::bytea, ARRAY[11]),
	array_fill(NULL::bytea, ARRAY[11])) AS base;
SELECT "offset", timestamp_ms, "timestamp" AT TIME ZONE 'UTC' AS ts
FROM kafka.records WHERE topic = 'append-t' AND partition = 0 AND "offset" >= 200
ORDER BY "offset";
-- timestamptz[] (brokers before 0.7) fills timestamp_ms too.
SELECT kafka.append_records('append-t', 0, 220, false,
	ARRAY['1969-12-31 23:59:59.999+00', '-infinity']::timestamptz[],
	ARRAY[NULL, NULL]::bytea[], ARRAY['a', 'b']::bytea[], ARRAY[NULL, NULL]::bytea[]) AS base;
SELECT "offset", timestamp_ms, "timestamp" AT TIME ZONE 'UTC' AS ts
FROM kafka.records WHERE topic = 'append-t' AND partition = 0 AND "offset" >= 220
ORDER BY "offset";
-- LogAppendTime: both columns are the transaction's time.
BEGIN;
SELECT kafka.append_records('append-t', 1, 20, true, ARRAY[5]::bigint[],
	ARRAY[NULL]::bytea[], ARRAY['l']::bytea[], ARRAY[NULL]::bytea[]) AS base;
SELECT "timestamp" = now() AS ts_now,
       timestamp_ms = floor(extract(epoch FROM now()) * 1000) AS ms_now
FROM kafka.records WHERE topic = 'append-t' AND partition = 1 AND "offset" = 20;
COMMIT;

-- kafka.batch_error(): what Kafka's LogValidator refuses. Timestamps
-- (32) against message.timestamp.before.max.ms / after.max.ms: -1 is never
-- out of range, nothing is without the configs or on a LogAppendTime topic.
SELECT kafka.batch_error('append-t', ARRAY[-9223372036854775808, 9223372036854775807],
	ARRAY[NULL, NULL]::bytea[]) AS no_limits;
INSERT INTO kafka.topic_configs VALUES ('append-t', 'message.timestamp.before.max.ms', '60000');
SELECT kafka.batch_error('append-t', ARRAY[-1, (extract(epoch FROM now()) * 1000)::bigint],
	ARRAY['k', 'k']::bytea[]) AS recent,
       kafka.batch_error('append-t', ARRAY[-1, 0], ARRAY['k', 'k']::bytea[]) AS old,
       kafka.batch_error('append-t', ARRAY[9223372036854775807], ARRAY['k']::bytea[]) AS future;
INSERT INTO kafka.topic_configs VALUES ('append-t', 'message.timestamp.after.max.ms', '60000');
SELECT kafka.batch_error('append-t', ARRAY[9223372036854775807], ARRAY['k']::bytea[]) AS future,
       kafka.batch_error('append-t', ARRAY[(extract(epoch FROM now()) * 1000)::bigint + 1000],
	ARRAY['k']::bytea[]) AS soon;
-- A batch that claims LogAppendTime: only with every timestamp set, and
-- only on a CreateTime topic.
SELECT kafka.batch_error('append-t', ARRAY[(extract(epoch FROM now()) * 1000)::bigint],
	ARRAY['k']::bytea[], true) AS lat_batch,
       kafka.batch_error('append-t', ARRAY[-1], ARRAY['k']::bytea[], true) AS lat_batch_unset;
INSERT INTO kafka.topic_configs VALUES ('append-t', 'message.timestamp.type', 'LogAppendTime');
SELECT kafka.batch_error('append-t', ARRAY[0], ARRAY['k']::bytea[]) AS log_append_time,
       kafka.batch_error('append-t', ARRAY[0], ARRAY['k']::bytea[], true) AS lat_batch_on_lat_topic;
DELETE FROM kafka.topic_configs WHERE topic = 'append-t';
-- A record without key (87) on a compacted topic only; a timestamp error
-- comes first.
SELECT kafka.batch_error('append-t', ARRAY[5, 6], ARRAY['k', NULL]::bytea[]) AS not_compacted;
INSERT INTO kafka.topic_configs VALUES ('append-t', 'cleanup.policy', 'delete, compact');
SELECT kafka.batch_error('append-t', ARRAY[5, 6], ARRAY['k', NULL]::bytea[]) AS keyless,
       kafka.batch_error('append-t', ARRAY[5, 6], ARRAY['k', '']::bytea[]) AS empty_key,
       kafka.batch_error('append-t', ARRAY[-1], ARRAY[NULL]::bytea[], true) AS both;
DELETE FROM kafka.topic_configs WHERE topic = 'append-t';

-- A DBA's insert trigger on kafka.records still fires: the plain path is taken.
CREATE TABLE append_audit (topic text, "offset" bigint);
CREATE FUNCTION append_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO append_audit VALUES (NEW.topic, NEW."offset");
	RETURN NEW;
END $$;
CREATE TRIGGER append_audit AFTER INSERT ON kafka.records
	FOR EACH ROW EXECUTE FUNCTION append_audit();
SELECT kafka.append_records('append-t', 0, 3, false, ARRAY[now(), now()],
	ARRAY[NULL, NULL]::bytea[], ARRAY['t3', 't4']::bytea[], ARRAY[NULL, NULL]::bytea[]) AS base;
SELECT kafka.append_records('append-t', 0, 230, false, ARRAY[-5, 9223372036854775807]::bigint[],
	ARRAY[NULL, NULL]::bytea[], ARRAY['t5', 't6']::bytea[], ARRAY[NULL, NULL]::bytea[]) AS base;
SELECT * FROM append_audit ORDER BY "offset";
SELECT "offset", timestamp_ms, "timestamp" AT TIME ZONE 'UTC' AS ts FROM kafka.records
WHERE topic = 'append-t' AND partition = 0 AND "offset" >= 230 ORDER BY "offset";
DROP TRIGGER append_audit ON kafka.records;
DROP FUNCTION append_audit();
DROP TABLE append_audit;

-- Inserting needs the INSERT privilege on kafka.records.
CREATE ROLE append_reader;
GRANT USAGE ON SCHEMA kafka TO append_reader;
SET ROLE append_reader;
SELECT kafka.append_records('append-t', 0, 5, false, ARRAY[now()],
	ARRAY[NULL]::bytea[], ARRAY['no']::bytea[], ARRAY[NULL]::bytea[]);
RESET ROLE;
REVOKE USAGE ON SCHEMA kafka FROM append_reader;
DROP ROLE append_reader;

-- The output plugin sees bulk-written rows like any others.
SELECT 'init' FROM pg_create_logical_replication_slot('pgk_append', 'pg_kafka');
SELECT kafka.append_records('append-t', 0, 5, false, ARRAY[now(), now(), now()],
	ARRAY[NULL, NULL, NULL]::bytea[], ARRAY['s5', 's6', 's7']::bytea[],
	ARRAY[NULL, NULL, NULL]::bytea[]) AS base;
SELECT data::jsonb ->> 'offset' AS "offset", data::jsonb ->> 'value' AS value
FROM pg_logical_slot_get_changes('pgk_append', NULL, NULL);
-- ... with their exact Kafka timestamps.
SELECT kafka.append_records('append-t', 0, 240, false,
	ARRAY[-1, 4611686018427511360, -9223372036854775808]::bigint[],
	ARRAY[NULL, NULL, NULL]::bytea[], ARRAY['e1', 'e2', 'e3']::bytea[],
	ARRAY[NULL, NULL, NULL]::bytea[]) AS base;
SELECT data::jsonb ->> 'offset' AS "offset", data::jsonb ->> 'timestamp' AS "timestamp"
FROM pg_logical_slot_get_changes('pgk_append', NULL, NULL);
SELECT pg_drop_replication_slot('pgk_append');

-- kafka.records in chunks: a batch runs from the end of one chunk into the
-- next, and past the last chunk into the DEFAULT leaf; every row lands once,
-- in the table its offset belongs to (through the bulk path: the duplicate
-- offset above fails without the CONTEXT of the plain INSERT).
SELECT kafka.create_topic('append-c', 1) IS NOT NULL AS created;
SELECT kafka.add_chunk('append-c', 0) LIKE 'records_%' AS added;
SELECT max(hi) AS last_hi FROM kafka.chunks WHERE topic = 'append-c' AND partition = 0 \gset
CREATE FUNCTION pg_temp.append_n(p_base bigint, p_n int) RETURNS bigint LANGUAGE sql AS $$
	SELECT kafka.append_records('append-c', 0, p_base, false, array_agg(n::bigint),
		array_agg(NULL::bytea), array_agg(convert_to((p_base + n - 1)::text, 'UTF8')),
		array_agg(NULL::bytea))
	FROM generate_series(1, p_n) n
$$;
SELECT pg_temp.append_n(995, 10) AS base;
SELECT pg_temp.append_n(:last_hi - 3, 6) - :last_hi AS base_past_hi;
-- Where each table's rows are: first as offset - lo, last as offset - hi
-- (the DEFAULT leaf's relative to the last chunk's hi).
CREATE FUNCTION pg_temp.append_where(p_hi bigint) RETURNS TABLE (kind text, lo bigint,
	rows bigint, first_from_lo bigint, last_from_hi bigint, in_bounds boolean, values_ok boolean)
LANGUAGE sql AS $$
	SELECT c.kind, c.lo, count(*), min(r."offset") - coalesce(c.lo, p_hi),
	       max(r."offset") - coalesce(c.hi, p_hi),
	       bool_and(c.kind = 'default' OR r."offset" >= c.lo AND r."offset" < c.hi),
	       bool_and(r.value = convert_to(r."offset"::text, 'UTF8'))
	FROM kafka.records r
	JOIN kafka.chunks c ON r.tableoid = format('kafka_chunks.%I', c.table_name)::regclass
	WHERE r.topic = 'append-c'
	GROUP BY c.kind, c.lo, c.hi ORDER BY min(r."offset")
$$;
SELECT * FROM pg_temp.append_where(:last_hi);

-- A leaf whose columns are in another order than kafka.records' (a dropped
-- column) gets each row in its own layout.
SELECT format('kafka_chunks.%I', table_name) AS part_table FROM kafka.chunks
WHERE topic = 'append-c' AND partition = 0 AND kind = 'partition' \gset
CREATE TABLE append_leaf (gone int, LIKE kafka.records);
ALTER TABLE append_leaf DROP COLUMN gone;
ALTER TABLE :part_table ATTACH PARTITION append_leaf
	FOR VALUES FROM (:last_hi + 10) TO (:last_hi + 20);
SELECT pg_temp.append_n(:last_hi + 8, 4) - :last_hi AS base_past_hi;
SELECT r.tableoid::regclass AS leaf, r."offset" - :last_hi AS past_hi, r.key,
       r.value = convert_to(r."offset"::text, 'UTF8') AS value_ok, r.timestamp_ms
FROM kafka.records r WHERE r.topic = 'append-c' AND r."offset" >= :last_hi + 10
ORDER BY r."offset";

-- An insert trigger on a leaf the batch reaches sends the whole batch
-- through the plain INSERT: the trigger fires for that leaf's rows.
SELECT format('kafka_chunks.%I', table_name) AS default_leaf FROM kafka.chunks
WHERE topic = 'append-c' AND partition = 0 AND kind = 'default' \gset
CREATE TABLE append_audit (leaf regclass, "offset" bigint);
CREATE FUNCTION append_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO append_audit VALUES (TG_RELID::regclass, NEW."offset");
	RETURN NEW;
END $$;
CREATE TRIGGER append_audit AFTER INSERT ON :default_leaf
	FOR EACH ROW EXECUTE FUNCTION append_audit();
SELECT pg_temp.append_n(:last_hi + 20, 3) - :last_hi AS base_past_hi;
SELECT leaf = :'default_leaf'::regclass AS on_default, "offset" - :last_hi AS past_hi
FROM append_audit ORDER BY "offset";
SELECT * FROM pg_temp.append_where(:last_hi);
DROP TRIGGER append_audit ON :default_leaf;
DROP FUNCTION append_audit();
DROP TABLE append_audit;
ALTER TABLE :part_table DETACH PARTITION append_leaf;
DROP TABLE append_leaf;
SELECT kafka.delete_topic('append-c');

SELECT kafka.delete_topic('append-t');
