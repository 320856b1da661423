--
-- Idempotent producers: producer ids and epochs, and the sequence checks of
-- kafka.produce_idempotent() (docs/IDEMPOTENCE.md).
--
SET timezone = 'UTC';
INSERT INTO kafka.topics (name, partitions) VALUES ('idem', 1);
INSERT INTO kafka.partitions (topic, partition) VALUES ('idem', 0);

-- Produce n records of an idempotent batch; base, error code.
CREATE FUNCTION pg_temp.produce(pid bigint, epoch int, seq int, n int,
	OUT base bigint, OUT error_code int)
LANGUAGE sql AS $$
	SELECT base, error_code FROM kafka.produce_idempotent('idem', 0, n,
		array_fill(now(), ARRAY[n]), array_fill(NULL::bytea, ARRAY[n]),
		(SELECT array_agg(convert_to((seq::bigint + i - 1) % 2147483648 || '', 'UTF8')) FROM generate_series(1, n) i),
		array_fill(NULL::bytea, ARRAY[n]), 100, 1000000, pid, epoch::int2, seq)
$$;

-- InitProducerId: new ids at epoch 0, epoch bumps, fenced epochs.
SELECT * FROM kafka.init_producer_id(-1, -1::int2);
SELECT * FROM kafka.init_producer_id(-1, -1::int2);
SELECT * FROM kafka.init_producer_id(0, 0::int2);
SELECT * FROM kafka.init_producer_id(0, 0::int2);   -- stale epoch: fenced
SELECT * FROM kafka.init_producer_id(77, 0::int2);  -- unknown id: fenced
UPDATE kafka.producers SET producer_epoch = 32766 WHERE producer_id = 1;
SELECT * FROM kafka.init_producer_id(1, 32766::int2); -- last epoch: a new id

-- In-order batches are appended.
SELECT * FROM pg_temp.produce(0, 1, 0, 3);
SELECT * FROM pg_temp.produce(0, 1, 3, 2);
-- A retried batch gets its first offset back and is not written again.
SELECT * FROM pg_temp.produce(0, 1, 0, 3);
SELECT * FROM pg_temp.produce(0, 1, 3, 2);
SELECT count(*) FROM kafka.records WHERE topic = 'idem';
-- Same first sequence, different last: not a duplicate, out of order.
SELECT * FROM pg_temp.produce(0, 1, 3, 1);
-- A gap: OUT_OF_ORDER_SEQUENCE_NUMBER (45).
SELECT * FROM pg_temp.produce(0, 1, 7, 1);
-- An older epoch: INVALID_PRODUCER_EPOCH (47).
SELECT * FROM pg_temp.produce(0, 0, 5, 1);
-- A new epoch must start at sequence 0.
SELECT * FROM pg_temp.produce(0, 2, 5, 1);
SELECT * FROM pg_temp.produce(0, 2, 0, 1);
-- the old epoch's batches are forgotten, the older epoch is fenced
SELECT * FROM pg_temp.produce(0, 1, 0, 3);
-- Only the last five batches are remembered.
SELECT (pg_temp.produce(0, 2, s, 1)).* FROM generate_series(1, 6) s;
SELECT * FROM pg_temp.produce(0, 2, 1, 1);  -- sixth from last: out of order
SELECT * FROM pg_temp.produce(0, 2, 2, 1);  -- fifth from last: duplicate
SELECT first_seqs, last_seqs, base_offsets FROM kafka.producer_state WHERE producer_id = 0;
-- A producer without state here starts at any sequence, as in Kafka.
SELECT * FROM pg_temp.produce(5, 0, 42, 1);
-- Sequences wrap after 2^31 - 1.
SELECT * FROM pg_temp.produce(6, 0, 2147483646, 3);
SELECT * FROM pg_temp.produce(6, 0, 2147483646, 3);
SELECT * FROM pg_temp.produce(6, 0, 1, 1);
-- Records stored once each, in order.
SELECT "offset", convert_from(value, 'UTF8') AS value FROM kafka.records
WHERE topic = 'idem' ORDER BY "offset";
-- Unknown partition: no base, as for plain produce.
SELECT base, error_code FROM kafka.produce_idempotent('nope', 0, 1, ARRAY[now()],
	ARRAY[NULL::bytea], ARRAY[NULL::bytea], ARRAY[NULL::bytea], 100, 1000000, 0, 2::int2, 8);
-- Deleting the topic deletes its producer state.
DELETE FROM kafka.topics WHERE name = 'idem';
SELECT count(*) FROM kafka.producer_state;
