--
-- Storage and retention (pg_kafka 0.8): segments, retention by time and
-- size, compaction, deleted topics' records, and the upgrade from 0.7.
--
SET client_min_messages = warning;

--
-- Upgrade: a 0.7 database with records, committed offsets and a
-- transactional range keeps all of them; the job then covers the records
-- with segments without deleting any (retention.ms -1).
--
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka VERSION '0.7';
SELECT kafka.create_topic('old', 2) IS NOT NULL AS created;
SELECT count(*) FROM (SELECT kafka.produce('old', 'k' || i, 'v' || i, partition => i % 2)
		      FROM generate_series(1, 10) i) p;
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset)
VALUES ('g', 'old', 0, 3);
INSERT INTO kafka.txn_batches (topic, partition, base_offset, last_offset, producer_id, producer_epoch)
VALUES ('old', 1, 0, 1, 42, 0);
ALTER EXTENSION pg_kafka UPDATE TO '0.8';
SELECT topic, partition, count(*) FROM kafka.records GROUP BY 1, 2 ORDER BY 1, 2;
SELECT group_id, committed_offset FROM kafka.consumer_offsets;
SELECT count(*) AS txn_batches FROM kafka.txn_batches;
SELECT * FROM kafka.run_maintenance('{"retention.ms": "-1"}');
SELECT topic, partition, base_offset, last_offset, records, bytes, rolled FROM kafka.segments ORDER BY 1, 2, 3;
SELECT topic, partition, count(*) FROM kafka.records GROUP BY 1, 2 ORDER BY 1, 2;
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka;

CREATE FUNCTION pg_temp.put(p_topic text, p_from int, p_to int, p_ts timestamptz,
	p_key text DEFAULT NULL, p_value text DEFAULT 'value-of-twenty-byte')
RETURNS void LANGUAGE sql AS $$
	INSERT INTO kafka.records (topic, partition, "offset", "timestamp", key, value)
	SELECT p_topic, 0, o, p_ts, convert_to(p_key, 'UTF8'), convert_to(p_value, 'UTF8')
	FROM generate_series(p_from, p_to) o;
	UPDATE kafka.partitions SET next_offset = p_to + 1 WHERE topic = p_topic AND partition = 0;
$$;
CREATE FUNCTION pg_temp.state(p_topic text)
RETURNS TABLE (log_start bigint, next bigint, rows bigint, segments text)
LANGUAGE sql AS $$
	SELECT p.log_start_offset, p.next_offset,
	       (SELECT count(*) FROM kafka.records r WHERE r.topic = p.topic),
	       (SELECT string_agg(s.base_offset || '-' || s.last_offset || CASE WHEN s.rolled THEN '' ELSE '*' END, ' '
				  ORDER BY s.base_offset)
		FROM kafka.segments s WHERE s.topic = p.topic)
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = 0;
$$;

--
-- Segments: new records are cut where the bytes cross segment.bytes (a
-- record counts key + value + headers + 32: 52 bytes here); the last piece
-- stays open (*).
--
SELECT kafka.create_topic('seg', 1, '{"segment.bytes": "200", "retention.ms": "-1"}') IS NOT NULL AS created;
SELECT pg_temp.put('seg', 0, 9, now());
SELECT action, records FROM kafka.run_maintenance();
SELECT * FROM pg_temp.state('seg');
-- more records extend the open segment, then roll it
SELECT pg_temp.put('seg', 10, 12, now());
SELECT action, records FROM kafka.run_maintenance();
SELECT * FROM pg_temp.state('seg');
-- segment.bytes large: one open segment takes them all
SELECT kafka.create_topic('one', 1, '{"retention.ms": "-1"}') IS NOT NULL AS created;
SELECT pg_temp.put('one', 0, 4, now());
SELECT count(*) FROM kafka.run_maintenance();
SELECT * FROM pg_temp.state('one');
-- a budget of 2 offsets per call: the job says there is more
SELECT pg_temp.put('one', 5, 9, now());
SELECT action, topic, to_offset, records FROM kafka.run_maintenance('{}', 2);
SELECT * FROM pg_temp.state('one');

--
-- retention.ms: whole segments whose newest record is older go, the log
-- start offset moves to the first segment kept; the rows go on the next
-- call (the log start offset moves last, at the end of a short transaction)
--
SELECT kafka.create_topic('aged', 1, '{"segment.bytes": "100", "retention.ms": "60000"}') IS NOT NULL AS created;
SELECT pg_temp.put('aged', 0, 4, now() - interval '1 hour');
SELECT pg_temp.put('aged', 5, 7, now());
SELECT action, topic, from_offset, to_offset, records FROM kafka.run_maintenance() ORDER BY 1;
SELECT * FROM pg_temp.state('aged');
SELECT action, topic, from_offset, to_offset, records FROM kafka.run_maintenance() ORDER BY 1, 3;
SELECT * FROM pg_temp.state('aged');
-- the open segment too, once its newest record has expired
SELECT kafka.create_topic('stale', 1, '{"retention.ms": "1000"}') IS NOT NULL AS created;
SELECT pg_temp.put('stale', 0, 2, now() - interval '1 minute');
SELECT action, to_offset FROM kafka.run_maintenance() ORDER BY 1;
SELECT * FROM pg_temp.state('stale');
-- a compact-only topic keeps its records
SELECT kafka.create_topic('kept', 1, '{"cleanup.policy": "compact", "retention.ms": "1000"}') IS NOT NULL AS created;
SELECT pg_temp.put('kept', 0, 2, now() - interval '1 minute', 'k');
SELECT count(*) FROM kafka.run_maintenance() WHERE action = 'retention';

--
-- retention.bytes: the oldest rolled segments go while the rest still hold
-- more than retention.bytes
--
SELECT kafka.create_topic('sized', 1, '{"segment.bytes": "100", "retention.bytes": "250", "retention.ms": "-1"}') IS NOT NULL AS created;
SELECT pg_temp.put('sized', 0, 11, now());
SELECT action, to_offset FROM kafka.run_maintenance() WHERE topic = 'sized' ORDER BY 1;
SELECT * FROM pg_temp.state('sized');
SELECT sum(bytes) AS bytes_after FROM kafka.segments WHERE topic = 'sized' AND base_offset >= 6;
-- the broker default applies where the topic sets nothing
SELECT kafka.create_topic('dflt', 1, '{"segment.bytes": "100"}') IS NOT NULL AS created;
SELECT pg_temp.put('dflt', 0, 5, now());
SELECT action, to_offset FROM kafka.run_maintenance('{"retention.bytes": "100"}') WHERE topic = 'dflt';

--
-- Compaction: the latest record per key survives, offsets keep their gaps;
-- aborted transactional records go, the ranges and markers stay; a
-- tombstone stays until delete.retention.ms after the pass that left it.
--
SELECT kafka.create_topic('compacted', 1, '{"cleanup.policy": "compact", "segment.bytes": "100", "delete.retention.ms": "0"}') IS NOT NULL AS created;
SELECT pg_temp.put('compacted', 0, 0, now(), 'a', 'a1');
SELECT pg_temp.put('compacted', 1, 1, now(), 'b', 'b1');
SELECT pg_temp.put('compacted', 2, 3, now(), 'a', 'aborted');
-- offset 4: the abort marker, no row
INSERT INTO kafka.txn_batches (topic, partition, base_offset, last_offset, producer_id, producer_epoch, control)
VALUES ('compacted', 0, 2, 3, 7, 0, NULL), ('compacted', 0, 4, 4, 7, 0, 0);
INSERT INTO kafka.aborted_txns VALUES ('compacted', 0, 7, 2, 4);
SELECT pg_temp.put('compacted', 5, 5, now(), 'b', 'b2');
SELECT pg_temp.put('compacted', 6, 6, now(), 'c', 'c1');
SELECT pg_temp.put('compacted', 7, 7, now(), 'c', NULL);
SELECT pg_temp.put('compacted', 8, 8, now(), 'd', 'd1');
SELECT pg_temp.put('compacted', 9, 9, now(), 'd', 'd2');
SELECT pg_temp.put('compacted', 10, 10, now(), 'e', 'e1');
SELECT * FROM pg_temp.state('compacted');
SELECT action, records FROM kafka.run_maintenance() WHERE topic = 'compacted';
SELECT "offset", convert_from(key, 'UTF8') AS key, convert_from(value, 'UTF8') AS value
FROM kafka.records WHERE topic = 'compacted' ORDER BY 1;
SELECT base_offset, last_offset, control FROM kafka.txn_batches WHERE topic = 'compacted' ORDER BY 1;
SELECT base_offset, last_offset, records, tombstones, cleaned IS NOT NULL AS cleaned
FROM kafka.segments WHERE topic = 'compacted' ORDER BY 1;
-- the next pass removes the tombstone (delete.retention.ms 0)
SELECT action, records FROM kafka.run_maintenance() WHERE topic = 'compacted';
SELECT "offset", convert_from(key, 'UTF8') AS key FROM kafka.records WHERE topic = 'compacted' ORDER BY 1;
-- min.compaction.lag.ms: segments with records newer than that wait
SELECT kafka.create_topic('lagged', 1, '{"cleanup.policy": "compact", "segment.bytes": "14", "min.compaction.lag.ms": "3600000"}') IS NOT NULL AS created;
SELECT pg_temp.put('lagged', 0, 3, now(), 'k');
SELECT count(*) FROM kafka.run_maintenance() WHERE topic = 'lagged';
SELECT count(*) AS rows FROM kafka.records WHERE topic = 'lagged';
-- ongoing transactions: nothing at or past the last stable offset
SELECT kafka.create_topic('open', 1, '{"cleanup.policy": "compact", "segment.bytes": "14"}') IS NOT NULL AS created;
SELECT pg_temp.put('open', 0, 3, now(), 'k');
INSERT INTO kafka.transactions (transactional_id, producer_id, producer_epoch, state, timeout_ms, started)
VALUES ('t-open', 9, 0, 'Ongoing', 60000, now());
INSERT INTO kafka.txn_partitions (transactional_id, topic, partition, first_offset)
VALUES ('t-open', 'open', 0, 2);
SELECT action, records FROM kafka.run_maintenance() WHERE topic = 'open';
SELECT "offset" FROM kafka.records WHERE topic = 'open' ORDER BY 1;
DELETE FROM kafka.transactions WHERE transactional_id = 't-open';

--
-- DeleteTopics: the statement queues the records; the job deletes them a
-- budget at a time; a topic created again under the name first drops what
-- is still queued
--
SELECT kafka.create_topic('big', 1) IS NOT NULL AS created;
SELECT pg_temp.put('big', 0, 9, now());
SELECT kafka.delete_topic('big');
SELECT topic, partition, from_offset, to_offset FROM kafka.deleted_partitions;
SELECT action, topic, from_offset, to_offset, records FROM kafka.run_maintenance('{}', 4) WHERE action = 'topic';
SELECT topic, from_offset, to_offset FROM kafka.deleted_partitions;
SELECT kafka.create_topic('big', 1) IS NOT NULL AS created;
SELECT count(*) AS queued, (SELECT count(*) FROM kafka.records WHERE topic = 'big') AS rows
FROM kafka.deleted_partitions;

--
-- Idle producer state and transactional ids expire.
--
INSERT INTO kafka.producer_state (topic, partition, producer_id, producer_epoch, first_seqs, last_seqs, base_offsets, updated)
VALUES ('big', 0, 1, 0, '{0}', '{0}', '{0}', now() - interval '2 days'),
       ('big', 0, 2, 0, '{0}', '{0}', '{0}', now());
INSERT INTO kafka.transactions (transactional_id, producer_id, producer_epoch, timeout_ms, updated)
VALUES ('t-idle', 11, 0, 60000, now() - interval '8 days'), ('t-busy', 12, 0, 60000, now());
SELECT action, from_offset AS producer_states, to_offset AS transactional_ids
FROM kafka.run_maintenance('{"producer.id.expiration.ms": "86400000", "transactional.id.expiration.ms": "604800000"}')
WHERE action = 'producers';
SELECT producer_id FROM kafka.producer_state;
SELECT transactional_id FROM kafka.transactions;


-- Records with infinite timestamps (Kafka timestamps beyond PostgreSQL's
-- range are stored so; here written through SQL): the pass rolls
-- their segment (an infinite span is longer than any segment.ms) rather
-- than failing on the partition at every pass.
SELECT kafka.create_topic('life-inf', 1) IS NOT NULL AS created;
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", value)
VALUES ('life-inf', 0, 0, '-infinity', 'a'), ('life-inf', 0, 1, 'infinity', 'b');
UPDATE kafka.partitions SET next_offset = 2 WHERE topic = 'life-inf';
SELECT count(*) >= 0 AS pass_ran FROM kafka.run_maintenance('{"log.segment.ms": "60000"}', 1000);
SELECT base_offset, last_offset, first_timestamp, max_timestamp, rolled
FROM kafka.segments WHERE topic = 'life-inf';
SELECT kafka.delete_topic('life-inf');
