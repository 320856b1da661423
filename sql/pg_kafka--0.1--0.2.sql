/*
 * pg_kafka 0.1 -> 0.2: consumer group offsets.
 *
 * Committed offsets are rows of kafka.consumer_offsets, one per group, topic
 * and partition, written by the broker's OffsetCommit and read by
 * OffsetFetch. Group membership itself lives in the broker's memory: members
 * rejoin after a broker restart, and find their committed offsets here.
 */

\echo Use "CREATE EXTENSION pg_kafka" or "ALTER EXTENSION pg_kafka UPDATE TO '0.2'" to load this file. \quit

-- The foreign key makes offsets of a deleted topic go away with its
-- partitions, and keeps offsets of partitions that never existed out.
CREATE TABLE kafka.consumer_offsets (
	group_id text COLLATE "C",
	topic text COLLATE "C",
	partition int,
	committed_offset bigint NOT NULL,
	leader_epoch int NOT NULL DEFAULT -1,
	metadata text,
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
	'Metadata the client committed with the offset (NULL when it sent null).';
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
