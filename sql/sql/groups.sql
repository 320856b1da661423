--
-- Consumer group offsets (0.2): the table the broker's OffsetCommit and
-- OffsetFetch use, how it follows topics, and the upgrade from 0.1.
--
\d kafka.consumer_offsets
\d+ kafka.consumer_lag

-- every new table and column is documented
SELECT a.attname
FROM pg_attribute a
WHERE a.attrelid = 'kafka.consumer_offsets'::regclass AND a.attnum > 0
  AND col_description(a.attrelid, a.attnum) IS NULL;

SELECT kafka.create_topic('grp-orders', 3) IS NOT NULL AS created;
SELECT kafka.create_topic('grp-other', 1) IS NOT NULL AS created;
UPDATE kafka.partitions SET next_offset = 10 WHERE topic = 'grp-orders';

-- what OffsetCommit does: insert, then overwrite on the next commit
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset, metadata)
VALUES ('billing', 'grp-orders', 0, 4, 'first'),
       ('billing', 'grp-orders', 1, 10, NULL),
       ('billing', 'grp-other', 0, 0, ''),
       ('audit', 'grp-orders', 0, 7, NULL);
INSERT INTO kafka.consumer_offsets AS c (group_id, topic, partition, committed_offset, leader_epoch, metadata)
VALUES ('billing', 'grp-orders', 0, 6, 3, 'second')
ON CONFLICT (group_id, topic, partition) DO UPDATE
SET committed_offset = EXCLUDED.committed_offset, leader_epoch = EXCLUDED.leader_epoch,
    metadata = EXCLUDED.metadata;
-- metadata is bytes (0.8): any Kafka string, NUL included
SELECT group_id, topic, partition, committed_offset, leader_epoch,
       convert_from(metadata, 'UTF8') AS metadata
FROM kafka.consumer_offsets ORDER BY 1, 2, 3;

-- lag per partition
SELECT group_id, topic, partition, committed_offset, high_watermark, lag
FROM kafka.consumer_lag ORDER BY 1, 2, 3;

-- offsets exist only for partitions that exist
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)
VALUES ('billing', 'grp-orders', 3, 0);
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)
VALUES ('billing', 'no-such-topic', 0, 0);

-- more partitions: the offsets stay
SELECT kafka.create_partitions('grp-orders', 4);
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)
VALUES ('billing', 'grp-orders', 3, 0);
SELECT topic, count(*) FROM kafka.consumer_offsets GROUP BY topic ORDER BY topic;

-- a deleted topic takes its offsets along; other topics keep theirs
SELECT kafka.delete_topic('grp-orders');
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets ORDER BY 1, 2, 3;
-- ...also with a plain DELETE
DELETE FROM kafka.topics WHERE name = 'grp-other';
SELECT count(*) AS offsets_left FROM kafka.consumer_offsets;

-- a topic created again under the same name starts without offsets
SELECT kafka.create_topic('grp-orders', 1) IS NOT NULL AS created;
SELECT count(*) AS offsets_of_new_topic FROM kafka.consumer_offsets WHERE topic = 'grp-orders';
SELECT kafka.delete_topic('grp-orders');

-- pg_dump keeps committed offsets
SELECT 'kafka.consumer_offsets'::regclass::oid = ANY (e.extconfig) AS dumped
FROM pg_extension e WHERE e.extname = 'pg_kafka';

--
-- Upgrade: a 0.1 database with topics gets consumer_offsets in place.
--
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka VERSION '0.1';
SELECT kafka.create_topic('upgraded', 2) IS NOT NULL AS created;
SELECT to_regclass('kafka.consumer_offsets') IS NULL AS no_offsets_in_0_1;
ALTER EXTENSION pg_kafka UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka';
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)
VALUES ('g', 'upgraded', 1, 42);
SELECT group_id, topic, partition, committed_offset, lag FROM kafka.consumer_lag;
SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_kafka')
  AND deptype = 'e'
  AND pg_describe_object(classid, objid, objsubid) ~ 'consumer'
ORDER BY 1;

-- leave the database as later tests expect it: the default version
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka;
