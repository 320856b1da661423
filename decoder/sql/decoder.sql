--
-- The pg_kafka output plugin emits one JSON line per row inserted into
-- kafka.records, in commit order, and nothing for anything else.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_kafka;
RESET client_min_messages;

CREATE TABLE other (id int PRIMARY KEY, note text);
-- same table name, other schema: not a record
CREATE TABLE public.records (topic text, partition int, "offset" bigint);

SELECT 'init' FROM pg_create_logical_replication_slot('pgk_regression', 'pg_kafka');

INSERT INTO kafka.records VALUES ('orders', 0, 0, now(), 'k', 'v', NULL);
INSERT INTO other VALUES (1, 'not a record');
INSERT INTO public.records VALUES ('orders', 0, 99);
BEGIN;
INSERT INTO kafka.records VALUES ('orders', 1, 0, now(), NULL, NULL, NULL),
                                 ('orders', 1, 1, now(), NULL, NULL, NULL);
INSERT INTO other VALUES (2, 'still not');
INSERT INTO kafka.records VALUES ('orders', 0, 1, now(), NULL, NULL, '\x00');
COMMIT;
SELECT data FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- a rolled-back transaction emits nothing
BEGIN;
INSERT INTO kafka.records VALUES ('orders', 0, 2, now(), NULL, NULL, NULL);
ROLLBACK;
SELECT count(*) AS changes FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- updates, deletes and DDL are not records
UPDATE kafka.records SET value = 'changed' WHERE topic = 'orders';
DELETE FROM kafka.records WHERE partition = 1;
TRUNCATE other;
CREATE TABLE kafka_scratch (x int);
SELECT count(*) AS changes FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- a rolled-back savepoint drops only its own rows; commit order is kept
BEGIN;
INSERT INTO kafka.records VALUES ('late', 0, 0, now(), NULL, NULL, NULL);
SAVEPOINT s;
INSERT INTO kafka.records VALUES ('late', 0, 1, now(), NULL, NULL, NULL);
ROLLBACK TO SAVEPOINT s;
INSERT INTO kafka.records VALUES ('late', 0, 2, now(), NULL, NULL, NULL);
COMMIT;
INSERT INTO kafka.records VALUES ('early', 0, 0, now(), NULL, NULL, NULL);
SELECT data FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- topic names are JSON-escaped (the table itself does not check them)
INSERT INTO kafka.records VALUES (E'we"ird\\name\n', 7, 9000000000, now(), NULL, NULL, NULL);
SELECT (data::json)->>'topic' AS topic FROM pg_logical_slot_peek_changes('pgk_regression', NULL, NULL);
SELECT data FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL);

-- options are rejected until there are some
SELECT data FROM pg_logical_slot_get_changes('pgk_regression', NULL, NULL, 'format', 'json');

SELECT 'stop' FROM pg_drop_replication_slot('pgk_regression');
DROP TABLE other, public.records, kafka_scratch;
