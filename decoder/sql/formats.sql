--
-- Options of the pg_kafka output plugin: format, bytes, payload, topics,
-- markers, version; and the errors for unknown options and bad values.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_kafka;
RESET client_min_messages;

-- (rows of topics without tables of their own go to a DEFAULT partition of
-- kafka.records)
CREATE TABLE public.records_elsewhere PARTITION OF kafka.records DEFAULT;

SELECT 'init' FROM pg_create_logical_replication_slot('pgk_formats', 'pg_kafka');

BEGIN;
INSERT INTO kafka.records VALUES
	('orders', 0, 0, '2024-05-01 12:00:00.123+00', 'k1', 'hello', '\x0202680276'),
	('orders', 0, 1, '1969-12-31 23:59:59.999+00', '\xff00', NULL, '\x04026102780002ff'),
	('audit', 2, 7, '2024-05-01 12:00:00+00', NULL, 'é "quoted"', '\x02086e756c6c01'),
	('orders', 1, 0, '2024-05-01 12:00:00+00', NULL, '\x00', '\x07');
COMMIT;

-- bytes=base64 (the default): key, value and header values in base64
SELECT data::jsonb - 'lsn' AS record
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'format', 'json');
-- bytes=text: text where it is UTF-8 (without NUL), {"base64": ...} otherwise;
-- headers that do not decode (the last record's) are shown as their raw bytes
-- in base64
SELECT data::jsonb - 'lsn' AS record
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'bytes', 'text');
-- payload=false: topic, partition, offset and timestamp only
SELECT data::jsonb - 'lsn' AS record
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'payload', 'false');
-- topics: only the named topics
SELECT data::jsonb ->> 'topic' AS topic, data::jsonb -> 'offset' AS "offset"
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'topics', 'audit, nothing-here');
SELECT data::jsonb ->> 'topic' AS topic, data::jsonb -> 'offset' AS "offset"
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'topics', 'orders');
-- markers: begin and commit around the records of each transaction
SELECT data::jsonb ->> 'type' AS type, data::jsonb ->> 'topic' AS topic,
       (data::jsonb ->> 'lsn') = (SELECT data::jsonb ->> 'lsn'
				  FROM pg_logical_slot_peek_changes('pgk_formats', NULL, 1) LIMIT 1) AS same_commit
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'markers', 'on', 'payload', 'off');
-- a transaction whose records are all filtered out has no markers either
SELECT count(*) AS messages
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'markers', 'true', 'topics', 'none');

-- binary: version 1, type 'R', flags, commit LSN, partition, offset,
-- timestamp (ms), then int32-length-prefixed topic, key, value, headers
SELECT encode(substr(data, 1, 3), 'hex') AS head, encode(substr(data, 12), 'hex') AS after_lsn
FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, NULL, 'format', 'binary');
SELECT encode(substr(data, 1, 3), 'hex') AS head, encode(substr(data, 12), 'hex') AS after_lsn
FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, NULL, 'format', 'binary',
					 'payload', 'false', 'topics', 'audit', 'version', '1');
-- binary markers: 'B' xid commit_lsn time (22 bytes),
-- 'C' xid commit_lsn end_lsn time (30 bytes)
SELECT encode(substr(data, 1, 2), 'hex') AS head, length(data) AS bytes
FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, NULL, 'format', 'binary',
					 'markers', 'true', 'payload', 'false');
-- the commit LSN in a binary record is the one JSON shows
SELECT (SELECT data::jsonb ->> 'lsn' FROM pg_logical_slot_peek_changes('pgk_formats', NULL, 1) LIMIT 1)
       = (SELECT ('0/0'::pg_lsn + ('x' || encode(substr(data, 4, 8), 'hex'))::bit(64)::bigint)::text
	  FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, 1, 'format', 'binary')
	  LIMIT 1) AS same_lsn;

-- summary: one message per partition and transaction, with the highest
-- offset written (what a wake-up stream needs)
SELECT data::jsonb - 'lsn' - 'timestamp' AS summary
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'summary', 'true');
SELECT count(*) AS messages, count(*) FILTER (WHERE get_byte(data, 2) = 2) AS summary_flag
FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, NULL, 'format', 'binary',
					 'summary', 'true');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'summary', 'often');

-- errors name the option
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'colour', 'blue');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'format', 'xml');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'payload', 'maybe');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'markers', '2');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'bytes', 'hex');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'topics', '');
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'topics', 'ok,not/ok');
SELECT * FROM pg_logical_slot_peek_binary_changes('pgk_formats', NULL, NULL, 'format', 'binary', 'version', '2');
-- binary output needs the binary functions (PostgreSQL's own check)
SELECT * FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'format', 'binary');

-- consuming confirms: a second read gets nothing
SELECT count(*) AS records FROM pg_logical_slot_get_changes('pgk_formats', NULL, NULL);
SELECT count(*) AS records FROM pg_logical_slot_get_changes('pgk_formats', NULL, NULL);

-- summary carries transaction markers too (kafka.txn_batches rows with a
-- control type move the high watermark without a record), not batches
SELECT kafka.create_topic('marked', 1) IS NOT NULL AS created;
INSERT INTO kafka.txn_batches (topic, partition, base_offset, last_offset, producer_id,
			       producer_epoch, control)
VALUES ('marked', 0, 0, 0, 1, 0, NULL);
INSERT INTO kafka.txn_batches (topic, partition, base_offset, last_offset, producer_id,
			       producer_epoch, control)
VALUES ('marked', 0, 1, 1, 1, 0, 1);
SELECT data::jsonb - 'lsn' - 'timestamp' AS summary
FROM pg_logical_slot_peek_changes('pgk_formats', NULL, NULL, 'summary', 'true');
SELECT count(*) AS records FROM pg_logical_slot_get_changes('pgk_formats', NULL, NULL);
SELECT kafka.delete_topic('marked');

SELECT 'stop' FROM pg_drop_replication_slot('pgk_formats');
DELETE FROM kafka.records;
DROP TABLE public.records_elsewhere;
