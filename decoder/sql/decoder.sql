--
-- The pg_kafka output plugin emits one message per row inserted into
-- kafka.records, in commit order, and nothing for anything else. JSON is the
-- default format; the payload (key, value, headers) is base64 by default.
-- Timestamps and LSNs differ between runs, so most queries drop them.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_kafka;
RESET client_min_messages;

-- kafka.records is partitioned (extension 0.9): rows come as changes of
-- the leaf tables. Topic orders has the tables a topic gets (topic,
-- partition, chunk); the other topics' rows go to a DEFAULT partition
-- right under kafka.records (the table itself does not check topics).
SELECT kafka.create_topic('orders', 2) IS NOT NULL AS created;
CREATE TABLE public.records_elsewhere PARTITION OF kafka.records DEFAULT;

CREATE TABLE other (id int PRIMARY KEY, note text);
-- same table name, other schema: not a record
CREATE TABLE public.records (topic text, partition int, "offset" bigint);

SELECT 'init' FROM pg_create_logical_replication_slot('pgk_regression', 'pg_kafka');

INSERT INTO kafka.records VALUES ('orders', 0, 0, '2024-05-01 12:00:00.123+00', 'k', 'v', NULL);
INSERT INTO other VALUES (1, 'not a record');
INSERT INTO public.records VALUES ('orders', 0, 99);
BEGIN;
INSERT INTO kafka.records VALUES ('orders', 1, 0, now(), NULL, NULL, NULL),
                                 ('orders', 1, 1, now(), NULL, NULL, NULL);
INSERT INTO other VALUES (2, 'still not');
INSERT INTO kafka.records VALUES ('orders', 0, 1, now(), NULL, '', '\x00');
COMMIT;
SELECT data::jsonb - 'lsn' - 'timestamp' AS record
FROM pg_logical_slot_peek_changes('pgk_regression', NULL, NULL);
-- the whole line, with its timestamp in milliseconds since 1970
SELECT regexp_replace(data, '"lsn":"[0-9A-F]+/[0-9A-F]+"', '"lsn":"X/X"') AS line
FROM pg_logical_slot_peek_changes('pgk_regression', NULL, 1);
-- every record of a transaction carries its commit LSN
SELECT count(DISTINCT data::jsonb ->> 'lsn') AS commit_lsns, count(*) AS records
FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- a rolled-back transaction emits nothing
BEGIN;
INSERT INTO kafka.records VALUES ('orders', 0, 2, now(), NULL, NULL, NULL);
ROLLBACK;
SELECT count(*) AS changes FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- updates, deletes, truncates and DDL are not records, and do not break the stream
UPDATE kafka.records SET value = 'changed' WHERE topic = 'orders';
DELETE FROM kafka.records WHERE partition = 1;
TRUNCATE other;
CREATE TABLE kafka_scratch (x int);
SELECT count(*) AS changes FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);
BEGIN;
INSERT INTO kafka.records VALUES ('gone', 0, 0, now(), NULL, NULL, NULL);
TRUNCATE kafka.records;
INSERT INTO kafka.records VALUES ('gone', 0, 1, now(), NULL, NULL, NULL);
COMMIT;
INSERT INTO kafka.records VALUES ('after', 0, 0, now(), NULL, NULL, NULL);
SELECT data::jsonb ->> 'topic' AS topic, data::jsonb -> 'offset' AS "offset"
FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- a rolled-back savepoint drops only its own rows; commit order is kept
BEGIN;
INSERT INTO kafka.records VALUES ('late', 0, 0, now(), NULL, NULL, NULL);
SAVEPOINT s;
INSERT INTO kafka.records VALUES ('late', 0, 1, now(), NULL, NULL, NULL);
ROLLBACK TO SAVEPOINT s;
INSERT INTO kafka.records VALUES ('late', 0, 2, now(), NULL, NULL, NULL);
COMMIT;
INSERT INTO kafka.records VALUES ('early', 0, 0, now(), NULL, NULL, NULL);
SELECT data::jsonb ->> 'topic' AS topic, data::jsonb -> 'offset' AS "offset"
FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- topic names are JSON-escaped (the table itself does not check them)
INSERT INTO kafka.records VALUES (E'we"ird\\name\n', 7, 9000000000, now(), NULL, NULL, NULL);
SELECT (data::json)->>'topic' AS topic FROM pg_logical_slot_peek_changes('pgk_regression', NULL, NULL);
SELECT data::jsonb - 'lsn' - 'timestamp' AS record FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- a big transaction, spilled to disk by the reorder buffer, comes out whole and in order
SET logical_decoding_work_mem = '64kB';
BEGIN;
INSERT INTO kafka.records
SELECT 'big', 0, i, now(), convert_to('key-' || i, 'UTF8'), convert_to(repeat('v', 500), 'UTF8'), NULL
FROM generate_series(0, 19999) i;
COMMIT;
-- one value bigger than a page: stored out of line (TOAST), reassembled
INSERT INTO kafka.records
SELECT 'big', 1, 0, now(), NULL, convert_to(string_agg(md5(i::text), ''), 'UTF8'), NULL
FROM generate_series(1, 2000) i;
WITH c AS (
	SELECT row_number() OVER () AS n, data::jsonb AS r
	FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL)
)
SELECT r ->> 'partition' AS partition, count(*) AS records,
       min((r ->> 'offset')::bigint) AS first, max((r ->> 'offset')::bigint) AS last,
       bool_and((r ->> 'offset')::bigint = n - 1 OR r ->> 'partition' = '1') AS in_order,
       max(length(decode(r ->> 'value', 'base64'))) AS longest_value
FROM c GROUP BY 1 ORDER BY 1;
RESET logical_decoding_work_mem;

SELECT 'stop' FROM pg_drop_replication_slot('pgk_regression');
DELETE FROM kafka.records;
DROP TABLE other, public.records, kafka_scratch, public.records_elsewhere;
