--
-- The SQL API of pg_kafka 0.3: kafka.produce (the transactional outbox),
-- key partitioning as the Java client does it, headers, the decoded records
-- view and replay slots.
--
SET timezone = 'UTC';
SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka';

SELECT kafka.create_topic('outbox', 4) IS NOT NULL AS created;
SELECT kafka.create_topic('audit', 1, '{"message.timestamp.type": "LogAppendTime"}') IS NOT NULL AS created;

-- murmur2 as the Java client computes it (values from Kafka's own tests)
SELECT s AS key, kafka.murmur2(convert_to(s, 'UTF8')) AS murmur2
FROM unnest(ARRAY['21', 'foobar', 'a-little-bit-long-string', 'abc', '']) s;
-- the default partitioner: (murmur2 & 0x7fffffff) % partitions
SELECT s AS key, kafka.key_partition(convert_to(s, 'UTF8'), 4) AS of_4,
       kafka.key_partition(convert_to(s, 'UTF8'), 7) AS of_7
FROM unnest(ARRAY['21', 'foobar', 'user-42', 'k']) s;
SELECT kafka.key_partition('x', 0);

-- produce in a committed transaction: offsets come from kafka.partitions
BEGIN;
SELECT partition, "offset" FROM kafka.produce('outbox', 'order-1'::bytea, '{"total": 10}'::bytea, partition => 2);
SELECT partition, "offset" FROM kafka.produce('outbox', 'order-2'::bytea, NULL::bytea, partition => 2);
COMMIT;
SELECT partition, next_offset FROM kafka.partitions WHERE topic = 'outbox' ORDER BY partition;

-- rolled back: no row, and the offset is not used up
BEGIN;
SELECT partition, "offset" FROM kafka.produce('outbox', 'order-3'::bytea, 'never'::bytea, partition => 2);
ROLLBACK;
SELECT next_offset FROM kafka.partitions WHERE topic = 'outbox' AND partition = 2;
SELECT count(*) AS never FROM kafka.records WHERE value = 'never';

-- a keyed record without a partition goes where the Java client puts it
SELECT topic, partition, "offset", partition = kafka.key_partition('user-42', 4) AS java_partition
FROM kafka.produce('outbox', 'user-42', 'hello');
-- without key or partition: any partition of the topic (rolled back, to keep
-- this test's output the same from run to run)
BEGIN;
SELECT partition BETWEEN 0 AND 3 AS in_range FROM kafka.produce('outbox', NULL::text, 'anywhere');
ROLLBACK;

-- timestamps: given (to the millisecond), or the clock; LogAppendTime topics use the clock
SELECT "timestamp" FROM kafka.produce('outbox', 'k', 'v', partition => 0,
				      "timestamp" => '2024-05-01 12:00:00.123456+00');
SELECT "timestamp" > now() - interval '1 hour' AS recent
FROM kafka.produce('audit', 'k', 'v', "timestamp" => '2001-01-01 00:00:00+00');

-- headers: an object, a list of pairs (order and duplicates kept), or
-- the objects kafka.headers_jsonb returns; JSON null is a null value
SELECT "offset" FROM kafka.produce('outbox', 'h', 'v', headers => '{"trace": "abc", "n": 5, "none": null}', partition => 1);
SELECT "offset" FROM kafka.produce('outbox', 'h', 'v', headers => '[["b", "2"], ["a", "1"], ["b", "3"]]', partition => 1);
SELECT "offset" FROM kafka.produce('outbox', 'h', 'v', headers => '[{"key": "x", "value": "y"}]', partition => 1);
SELECT "offset" FROM kafka.produce('outbox', 'h', 'v', headers => '[]', partition => 1);
SELECT "offset", kafka.headers_jsonb(headers) AS headers, headers IS NULL AS no_headers
FROM kafka.records WHERE topic = 'outbox' AND partition = 1 ORDER BY "offset";

-- the wire encoding, and decoding it back
SELECT kafka.encode_headers(ARRAY['trace', 'empty', 'null'], ARRAY['abc', '', NULL]::bytea[]);
SELECT * FROM kafka.decode_headers(kafka.encode_headers(ARRAY['trace', 'empty', 'null'], ARRAY['abc', '', NULL]::bytea[]));
SELECT kafka.encode_headers('{}', '{}') IS NULL AS none;
SELECT kafka.headers_jsonb('\x04026102780002ff') AS binary_value;
SELECT kafka.headers_jsonb('\x07') AS malformed;
SELECT * FROM kafka.decode_headers('\x07');
SELECT kafka.encode_headers(ARRAY['a', 'b'], ARRAY['x']::bytea[]);
SELECT kafka.encode_headers(ARRAY[NULL]::text[], ARRAY['x']::bytea[]);

-- errors
SELECT kafka.produce('no-such-topic', 'k', 'v');
SELECT kafka.produce('outbox', 'k', 'v', partition => 4);
SELECT kafka.produce('outbox', 'k', 'v', partition => -1);
SELECT kafka.produce('outbox', 'k', 'v', headers => '"just a string"');
SELECT kafka.produce('outbox', 'k', 'v', headers => '[["only-a-key"]]');

-- the records view shows text where there is text
SELECT topic, partition, "offset", key_text, value_text, headers
FROM kafka.records_decoded WHERE topic = 'outbox' ORDER BY partition, "offset";
-- (a row needs its topic: kafka.records is partitioned by topic)
SELECT kafka.create_topic('raw', 1) IS NOT NULL AS created;
INSERT INTO kafka.records VALUES ('raw', 0, 0, now(), '\xff', '\x00', '\x07');
SELECT key_text, value_text, key, value, headers, headers_raw
FROM kafka.records_decoded WHERE topic = 'raw';
DELETE FROM kafka.records WHERE topic = 'raw';
SELECT kafka.delete_topic('raw');

-- replay slots: created, listed, peeked at, advanced, dropped
SELECT kafka.create_replay_slot('sqlapi_replay') IS NOT NULL AS created;
SELECT slot_name, temporary, active, lag_bytes >= 0 AS has_lag FROM kafka.replay_slots;
BEGIN;
SELECT "offset" FROM kafka.produce('outbox', 'replayed', '1', partition => 3);
SELECT "offset" FROM kafka.produce('outbox', 'replayed', '2', partition => 3);
COMMIT;
BEGIN;
SELECT "offset" FROM kafka.produce('outbox', 'rolled-back', 'x', partition => 3);
ROLLBACK;
-- records written by kafka.produce stream exactly like the broker's
SELECT record - 'lsn' - 'timestamp' AS record FROM kafka.peek_replay_slot('sqlapi_replay');
SELECT count(*) AS still_there FROM kafka.peek_replay_slot('sqlapi_replay');
SELECT kafka.advance_replay_slot('sqlapi_replay') IS NOT NULL AS advanced;
SELECT count(*) AS after_advance FROM kafka.peek_replay_slot('sqlapi_replay');
SELECT kafka.drop_replay_slot('sqlapi_replay');
SELECT count(*) AS slots FROM kafka.replay_slots;
SELECT kafka.drop_replay_slot('sqlapi_replay');

SELECT kafka.delete_topic('outbox'), kafka.delete_topic('audit');
