/*
 * pg_kafka 0.4: shadow mode status and configuration (docs/SHADOW.md).
 *
 *  - kafka.shadow_topics: per forwarder slot, which topics are mirrored and
 *    under which external name (the forwarder reads it when it starts; its
 *    own configuration file can say the same).
 *  - kafka.shadow_partitions: what the forwarder reports, per partition:
 *    the last local offset the external cluster has, its external offset,
 *    the lag it sees and the last error. The forwarder upserts these rows.
 *  - kafka.shadow_status: the same rows next to the local high watermark,
 *    with lag in records and bytes counted from kafka.records.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.4'" to load this file. \quit

CREATE TABLE kafka.shadow_topics (
	slot name NOT NULL,
	topic text COLLATE "C" NOT NULL,
	external_topic text COLLATE "C",
	mirrored boolean NOT NULL DEFAULT true,
	PRIMARY KEY (slot, topic)
);

COMMENT ON TABLE kafka.shadow_topics IS
	'Shadow mode: per forwarder slot, topics to mirror or skip and their external names.';
COMMENT ON COLUMN kafka.shadow_topics.slot IS 'The forwarder''s replication slot.';
COMMENT ON COLUMN kafka.shadow_topics.topic IS 'The local topic.';
COMMENT ON COLUMN kafka.shadow_topics.external_topic IS
	'Topic name on the external cluster; NULL for the same name.';
COMMENT ON COLUMN kafka.shadow_topics.mirrored IS
	'false: never forward this topic. When a slot has a row with true, only such topics are forwarded.';

SELECT pg_catalog.pg_extension_config_dump('kafka.shadow_topics', '');

CREATE TABLE kafka.shadow_partitions (
	slot name NOT NULL,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	external_topic text COLLATE "C" NOT NULL,
	local_offset bigint NOT NULL,
	external_offset bigint NOT NULL,
	lag_records bigint NOT NULL,
	lag_bytes bigint NOT NULL,
	last_error text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (slot, topic, partition)
);

COMMENT ON TABLE kafka.shadow_partitions IS
	'Shadow mode status, one row per forwarded partition, written by pg_kafka_shadow.';
COMMENT ON COLUMN kafka.shadow_partitions.slot IS 'The forwarder''s replication slot.';
COMMENT ON COLUMN kafka.shadow_partitions.topic IS 'The local topic.';
COMMENT ON COLUMN kafka.shadow_partitions.partition IS 'The partition (the same number outside).';
COMMENT ON COLUMN kafka.shadow_partitions.external_topic IS 'The topic on the external cluster.';
COMMENT ON COLUMN kafka.shadow_partitions.local_offset IS
	'Last local offset the external cluster acknowledged; -1 for none.';
COMMENT ON COLUMN kafka.shadow_partitions.external_offset IS
	'Its offset on the external cluster; -1 for none.';
COMMENT ON COLUMN kafka.shadow_partitions.lag_records IS
	'Records the forwarder has read from the slot but the external cluster has not acknowledged.';
COMMENT ON COLUMN kafka.shadow_partitions.lag_bytes IS
	'Key, value and header bytes of those records.';
COMMENT ON COLUMN kafka.shadow_partitions.last_error IS
	'The last produce or delivery error, NULL once a record went through again.';
COMMENT ON COLUMN kafka.shadow_partitions.updated_at IS 'When the forwarder last wrote this row.';

CREATE VIEW kafka.shadow_status AS
SELECT s.slot, s.topic, s.partition, s.external_topic,
       p.next_offset AS local_high_watermark,
       s.local_offset, s.external_offset,
       greatest(p.next_offset - 1 - s.local_offset, 0) AS lag_records,
       coalesce((SELECT sum(coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
                            + coalesce(octet_length(r.headers), 0))
                 FROM kafka.records r
                 WHERE r.topic = s.topic AND r.partition = s.partition
                   AND r."offset" > s.local_offset), 0)::bigint AS lag_bytes,
       s.last_error, s.updated_at
FROM kafka.shadow_partitions s
JOIN kafka.partitions p ON p.topic = s.topic AND p.partition = s.partition;

COMMENT ON VIEW kafka.shadow_status IS
	'Shadow mode per partition: what the forwarder reported next to the local high watermark; lag counted from kafka.records.';

CREATE FUNCTION kafka.shadow_ready(slot name, topic text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	-- every partition of the topic reported, and nothing left to forward
	SELECT count(s.*) = count(*) AND coalesce(bool_and(s.lag_records = 0), false)
	FROM kafka.partitions p
	LEFT JOIN kafka.shadow_status s
	       ON s.slot = shadow_ready.slot AND s.topic = p.topic AND s.partition = p.partition
	WHERE p.topic = shadow_ready.topic;
$$;

COMMENT ON FUNCTION kafka.shadow_ready(name, text) IS
	'true when the forwarder on slot has acknowledged every record of topic (records lag zero on every partition).';
