--
-- Record rows written by hand, and deleting topics with everything they own.
--
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SET timezone = 'UTC';

-- what a producer does: allocate offsets under the partition lock, insert
BEGIN;
UPDATE kafka.partitions SET next_offset = next_offset + 2
WHERE topic = 'orders' AND partition = 0
RETURNING next_offset - 2 AS base_offset;
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", key, value, headers)
VALUES ('orders', 0, 0, '2024-05-01 12:00:00.123+00', 'k1', 'v1', NULL),
       ('orders', 0, 1, '2024-05-01 12:00:00.456+00', NULL, NULL, '\x02026831027631');
COMMIT;
INSERT INTO kafka.records VALUES ('logs', 0, 0, '2024-05-01 00:00:00+00', NULL, 'line', NULL);
INSERT INTO kafka.records VALUES ('named', 1, 0, '2024-05-01 00:00:00+00', 'x', 'y', NULL);

SELECT topic, partition, "offset", "timestamp", encode(key, 'escape') AS key,
       encode(value, 'escape') AS value, headers
FROM kafka.records ORDER BY topic, partition, "offset";
SELECT next_offset FROM kafka.partitions WHERE topic = 'orders' AND partition = 0;

-- an offset is stored once per partition
SELECT pg_temp.try($$INSERT INTO kafka.records VALUES ('orders', 0, 1, now(), NULL, NULL, NULL)$$);

-- delete_topic removes configs and partitions, and queues the records for
-- the background job (kafka.run_maintenance), which deletes them
SELECT kafka.create_topic('doomed', 2, '{"retention.ms": "1000"}') IS NOT NULL AS created;
INSERT INTO kafka.records VALUES ('doomed', 1, 0, now(), NULL, 'gone soon', NULL);
SELECT kafka.delete_topic('doomed');
SELECT (SELECT count(*) FROM kafka.topics WHERE name = 'doomed') AS topics,
       (SELECT count(*) FROM kafka.topic_configs WHERE topic = 'doomed') AS configs,
       (SELECT count(*) FROM kafka.partitions WHERE topic = 'doomed') AS partitions,
       (SELECT count(*) FROM kafka.records WHERE topic = 'doomed') AS records,
       (SELECT count(*) FROM kafka.deleted_partitions WHERE topic = 'doomed') AS queued;
SELECT action, topic, partition, from_offset, to_offset, records FROM kafka.run_maintenance('{"retention.ms": "-1"}');
SELECT (SELECT count(*) FROM kafka.records WHERE topic = 'doomed') AS records,
       (SELECT count(*) FROM kafka.deleted_partitions WHERE topic = 'doomed') AS queued;
SELECT kafka.delete_topic('doomed');
SELECT kafka.delete_topic('never-was');
SELECT kafka.delete_topic(NULL);

-- a plain DELETE by hand cleans up the same way
DELETE FROM kafka.topics WHERE name = 'logs';
SELECT (SELECT count(*) FROM kafka.topic_configs WHERE topic = 'logs') AS configs,
       (SELECT count(*) FROM kafka.partitions WHERE topic = 'logs') AS partitions,
       (SELECT count(*) FROM kafka.deleted_partitions WHERE topic = 'logs') AS queued;
SELECT action, topic, partition, from_offset, to_offset, records FROM kafka.run_maintenance('{"retention.ms": "-1"}');
SELECT count(*) AS records FROM kafka.records WHERE topic = 'logs';

-- rolled back, nothing is lost
BEGIN;
SELECT kafka.delete_topic('orders');
SELECT count(*) AS queued_inside FROM kafka.deleted_partitions WHERE topic = 'orders';
ROLLBACK;
SELECT count(*) AS queued_after_rollback FROM kafka.deleted_partitions WHERE topic = 'orders';
SELECT count(*) AS records_after_rollback FROM kafka.records WHERE topic = 'orders';

SELECT topic, partition, "offset" FROM kafka.records ORDER BY 1, 2, 3;
SELECT name FROM kafka.topics ORDER BY name;

-- TRUNCATE of the topics (CASCADE, for the foreign keys) empties records too
TRUNCATE kafka.topics CASCADE;
SELECT (SELECT count(*) FROM kafka.topics) AS topics,
       (SELECT count(*) FROM kafka.partitions) AS partitions,
       (SELECT count(*) FROM kafka.records) AS records;
