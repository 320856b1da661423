--
-- Deleting records (pg_kafka 0.8): kafka.delete_records(), what
-- DeleteRecords calls.
--
SET client_min_messages = warning;
SELECT kafka.create_topic('trim', 2) IS NOT NULL AS created;
SELECT kafka.create_topic('compacted', 1, '{"cleanup.policy": "compact"}') IS NOT NULL AS created;
SELECT kafka.create_topic('both', 1, '{"cleanup.policy": "compact, delete"}') IS NOT NULL AS created;
SELECT count(*) FROM (SELECT kafka.produce('trim', NULL::text, 'v' || i, partition => 0)
		      FROM generate_series(1, 5) i) p;
SELECT (kafka.produce('both', 'k', 'v')).offset;

-- below an offset: the records go, the log start offset moves
SELECT * FROM kafka.delete_records('trim', 0, 2);
SELECT "offset" FROM kafka.records WHERE topic = 'trim' ORDER BY "offset";
SELECT partition, log_start_offset, next_offset FROM kafka.partitions WHERE topic = 'trim' ORDER BY partition;
-- at or below the log start offset: nothing changes
SELECT * FROM kafka.delete_records('trim', 0, 1);
SELECT * FROM kafka.delete_records('trim', 0, 2);
-- -1: up to the high watermark
SELECT * FROM kafka.delete_records('trim', 0, -1);
SELECT count(*) AS left_in_p0 FROM kafka.records WHERE topic = 'trim' AND partition = 0;
-- an empty partition
SELECT * FROM kafka.delete_records('trim', 1, -1);
SELECT * FROM kafka.delete_records('trim', 1, 0);
-- Kafka's refusals: beyond the high watermark or below -1 (1), no such
-- partition (3), a topic that is compacted only (44)
SELECT * FROM kafka.delete_records('trim', 0, 6);
SELECT * FROM kafka.delete_records('trim', 0, -2);
SELECT * FROM kafka.delete_records('trim', 2, 0);
SELECT * FROM kafka.delete_records('nope', 0, 0);
SELECT * FROM kafka.delete_records('compacted', 0, -1);
SELECT * FROM kafka.delete_records('both', 0, -1);
-- new records continue after the deleted ones
SELECT (kafka.produce('trim', NULL::text, 'after', partition => 0)).offset;

SELECT kafka.delete_topic('trim'), kafka.delete_topic('compacted'), kafka.delete_topic('both');
