--
-- Shadow mode status (pg_kafka 0.4): what the forwarder writes, and the
-- view and readiness check built on it.
--
SELECT kafka.create_topic('shadowed', 2) IS NOT NULL AS created;
INSERT INTO kafka.shadow_topics (slot, topic, external_topic) VALUES ('fwd', 'shadowed', 'mirror');
INSERT INTO kafka.shadow_topics (slot, topic, mirrored) VALUES ('fwd', 'private', false);
SELECT * FROM kafka.shadow_topics ORDER BY topic;

-- no status yet: not ready
SELECT kafka.shadow_ready('fwd', 'shadowed');

SELECT p.partition, p."offset" FROM kafka.produce('shadowed', 'k', 'abc', NULL, 0) p;
SELECT p.partition, p."offset" FROM kafka.produce('shadowed', 'k', 'defgh', '{"h": "v"}', 0) p;
SELECT p.partition, p."offset" FROM kafka.produce('shadowed', NULL::bytea, 'x', NULL, 1) p;

-- the forwarder's upsert: partition 0 has one of its two records outside
INSERT INTO kafka.shadow_partitions AS s (slot, topic, partition, external_topic,
	local_offset, external_offset, lag_records, lag_bytes, last_error)
VALUES ('fwd', 'shadowed', 0, 'mirror', 0, 0, 1, 8, NULL),
       ('fwd', 'shadowed', 1, 'mirror', 0, 0, 0, 0, NULL)
ON CONFLICT (slot, topic, partition) DO UPDATE SET local_offset = EXCLUDED.local_offset;

SELECT slot, topic, partition, external_topic, local_high_watermark, local_offset,
       external_offset, lag_records, lag_bytes, last_error
FROM kafka.shadow_status ORDER BY partition;
SELECT kafka.shadow_ready('fwd', 'shadowed');

-- caught up
UPDATE kafka.shadow_partitions SET local_offset = 1, external_offset = 1, lag_records = 0,
	lag_bytes = 0 WHERE partition = 0;
SELECT partition, lag_records, lag_bytes FROM kafka.shadow_status ORDER BY partition;
SELECT kafka.shadow_ready('fwd', 'shadowed');

-- an unknown topic is never ready
SELECT kafka.shadow_ready('fwd', 'nope');

DELETE FROM kafka.shadow_partitions;
DELETE FROM kafka.shadow_topics;
SELECT kafka.delete_topic('shadowed');
