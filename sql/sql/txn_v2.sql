--
-- Transactions v2 (KIP-890 part 2, pg_kafka 0.8, docs/TRANSACTIONS.md):
-- Produce v12+ adds its partition to the transaction as it writes, EndTxn v5
-- gives the producer a new epoch every time, and brokers verify partitions
-- with AddPartitionsToTxn v4+ verify_only.
--
SET client_min_messages = warning;
SET timezone = 'UTC';
-- alone (make installcheck REGRESS=txn_v2) or after the other tests
CREATE EXTENSION IF NOT EXISTS pg_kafka;
SELECT kafka.create_topic('tv2', 2) IS NOT NULL AS created;

-- n records of a transactional batch through the v2 produce path.
CREATE FUNCTION pg_temp.produce2(txn text, pid bigint, epoch int, part int, seq int, n int,
	OUT base bigint, OUT error_code int)
LANGUAGE sql AS $$
	SELECT base, error_code FROM kafka.produce_transactional_v2('tv2', part, n,
		array_fill(0::int8, ARRAY[n]), array_fill(NULL::bytea, ARRAY[n]),
		(SELECT array_agg(convert_to(txn || '-' || (seq + i - 1), 'UTF8')) FROM generate_series(1, n) i),
		array_fill(NULL::bytea, ARRAY[n]), 100, 1000000, pid, epoch::int2, seq, txn)
$$;

CREATE FUNCTION pg_temp.state(txn text, pid0 bigint) RETURNS TABLE (producer_id_delta bigint,
	producer_epoch smallint, state text, partitions text)
LANGUAGE sql AS $$
	SELECT x.producer_id - pid0, x.producer_epoch, x.state,
	       (SELECT string_agg(tp.topic || '-' || tp.partition, ',' ORDER BY tp.topic, tp.partition)
		FROM kafka.txn_partitions tp WHERE tp.transactional_id = txn)
	FROM kafka.transactions x WHERE x.transactional_id = txn
$$;

SELECT producer_id AS pid FROM kafka.init_producer_id_txn('t2', 60000, -1, -1::int2, 60000) \gset

-- Produce without AddPartitionsToTxn: the partition is added, the
-- transaction is Ongoing, the batch written.
SELECT * FROM pg_temp.produce2('t2', :pid, 0, 0, 0, 2);
SELECT * FROM pg_temp.state('t2', :pid);
SELECT * FROM pg_temp.produce2('t2', :pid, 0, 1, 0, 1);
SELECT * FROM pg_temp.produce2('t2', :pid, 0, 0, 2, 1);
SELECT * FROM pg_temp.state('t2', :pid);
-- a wrong epoch or producer id adds nothing: 47 and 48 as for v11-
SELECT * FROM pg_temp.produce2('t2', :pid, 1, 0, 3, 1);
SELECT * FROM pg_temp.produce2('t2', :pid + 1000, 0, 0, 3, 1);
-- an unknown partition: a NULL base (UNKNOWN_TOPIC_OR_PARTITION), nothing added
SELECT * FROM pg_temp.produce2('t2', :pid, 0, 7, 0, 1);
SELECT * FROM pg_temp.state('t2', :pid);

-- Verify only (AddPartitionsToTxn v4+): in the transaction 0, else 120;
-- another epoch 90, another producer id or transactional id 49; a
-- partition that does not exist 3, and 55 for the others.
SELECT * FROM kafka.add_partitions_to_txn_verify('t2', :pid, 0::int2, ARRAY['tv2', 'tv2'],
	ARRAY[1, 0]);
DELETE FROM kafka.txn_partitions WHERE transactional_id = 't2' AND partition = 1 RETURNING topic;
SELECT * FROM kafka.add_partitions_to_txn_verify('t2', :pid, 0::int2, ARRAY['tv2', 'tv2'],
	ARRAY[1, 0]);
INSERT INTO kafka.txn_partitions (transactional_id, topic, partition, first_offset)
VALUES ('t2', 'tv2', 1, 0);
SELECT * FROM kafka.add_partitions_to_txn_verify('t2', :pid, 0::int2, ARRAY['tv2', 'nope'],
	ARRAY[1, 0]);
SELECT * FROM kafka.add_partitions_to_txn_verify('t2', :pid, 1::int2, ARRAY['tv2'], ARRAY[0]);
SELECT * FROM kafka.add_partitions_to_txn_verify('t2', :pid + 1000, 0::int2, ARRAY['tv2'], ARRAY[0]);
SELECT * FROM kafka.add_partitions_to_txn_verify('nope', :pid, 0::int2, ARRAY['tv2'], ARRAY[0]);

-- EndTxn v5 commits and bumps the epoch; markers in both partitions.
SELECT error_code, producer_id - :pid AS pid_delta, producer_epoch, topics, partitions
FROM kafka.end_txn_v2('t2', :pid, 0::int2, true);
SELECT * FROM pg_temp.state('t2', :pid);
SELECT topic, partition, base_offset, last_offset, producer_epoch, control
FROM kafka.txn_batches WHERE topic = 'tv2' ORDER BY partition, last_offset;
-- its retry (the old epoch) answers the same, writes nothing
SELECT error_code, producer_id - :pid AS pid_delta, producer_epoch, topics
FROM kafka.end_txn_v2('t2', :pid, 0::int2, true);
-- the other outcome with the old epoch is INVALID_TXN_STATE
SELECT error_code FROM kafka.end_txn_v2('t2', :pid, 0::int2, false);
-- a write with the old epoch is fenced (47)
SELECT * FROM pg_temp.produce2('t2', :pid, 0, 0, 3, 1);
-- an older epoch still: PRODUCER_FENCED
UPDATE kafka.transactions SET producer_epoch = 5 WHERE transactional_id = 't2';
SELECT error_code FROM kafka.end_txn_v2('t2', :pid, 1::int2, true);
UPDATE kafka.transactions SET producer_epoch = 1 WHERE transactional_id = 't2';

-- The next transaction at epoch 1 (sequence from 0), aborted: markers, an
-- aborted_txns row, the epoch bumped again.
SELECT * FROM pg_temp.produce2('t2', :pid, 1, 1, 0, 2);
SELECT error_code, producer_id - :pid AS pid_delta, producer_epoch, topics, partitions
FROM kafka.end_txn_v2('t2', :pid, 1::int2, false);
SELECT topic, partition, producer_id - :pid AS pid_delta, first_offset, last_offset
FROM kafka.aborted_txns WHERE topic = 'tv2';
-- commit with nothing ongoing: INVALID_TXN_STATE; abort: the epoch bumps, no marker
SELECT error_code FROM kafka.end_txn_v2('t2', :pid, 2::int2, true);
SELECT error_code, producer_id - :pid AS pid_delta, producer_epoch, topics
FROM kafka.end_txn_v2('t2', :pid, 2::int2, false);
SELECT count(*) AS markers FROM kafka.txn_batches WHERE topic = 'tv2' AND control IS NOT NULL;
-- unknown transactional id, another producer id
SELECT error_code FROM kafka.end_txn_v2('nope', :pid, 0::int2, true);
SELECT error_code FROM kafka.end_txn_v2('t2', :pid + 1000, 3::int2, false);

-- Epochs run out: EndTxn at 32766 gives a new producer id at epoch 0; its
-- retry with the previous id and the exhausted epoch answers the same.
UPDATE kafka.transactions SET producer_epoch = 32766 WHERE transactional_id = 't2';
SELECT * FROM pg_temp.produce2('t2', :pid, 32766, 0, 0, 1);
SELECT error_code, producer_id > :pid AS new_pid, producer_epoch
FROM kafka.end_txn_v2('t2', :pid, 32766::int2, true);
SELECT error_code, producer_id > :pid AS new_pid, producer_epoch
FROM kafka.end_txn_v2('t2', :pid, 32766::int2, true);
SELECT previous_producer_id = :pid AS previous_kept, producer_epoch, state
FROM kafka.transactions WHERE transactional_id = 't2';
SELECT p.producer_epoch FROM kafka.producers p
JOIN kafka.transactions x USING (producer_id) WHERE x.transactional_id = 't2';

-- TxnOffsetCommit in a v2 transaction (AddOffsetsToTxn still comes first)
-- is committed by EndTxn v5.
SELECT producer_id AS pid2, producer_epoch AS ep2 FROM kafka.transactions
WHERE transactional_id = 't2' \gset
SELECT * FROM kafka.add_offsets_to_txn('t2', :pid2, :ep2::int2, 'g2');
SELECT * FROM kafka.txn_offset_commit('t2', 'g2', :pid2, :ep2::int2, ARRAY['tv2'], ARRAY[0],
	ARRAY[3::int8], ARRAY[-1], ARRAY['m'::bytea]);
SELECT error_code, producer_epoch FROM kafka.end_txn_v2('t2', :pid2, :ep2::int2, true);
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets
WHERE group_id = 'g2';

-- TxnOffsetCommit v5 adds the group itself: a new transaction at the next
-- epoch becomes Ongoing with it, and EndTxn v5 commits the offsets.
SELECT producer_epoch AS ep3 FROM kafka.transactions WHERE transactional_id = 't2' \gset
SELECT * FROM kafka.txn_offset_commit_v2('t2', 'g3', :pid2, :ep3::int2, ARRAY['tv2'], ARRAY[1],
	ARRAY[1::int8], ARRAY[-1], ARRAY[NULL::bytea]);
SELECT state FROM kafka.transactions WHERE transactional_id = 't2';
SELECT group_id FROM kafka.txn_groups WHERE transactional_id = 't2';
-- another epoch adds nothing
SELECT * FROM kafka.txn_offset_commit_v2('t2', 'g4', :pid2, 0::int2, ARRAY['tv2'], ARRAY[1],
	ARRAY[1::int8], ARRAY[-1], ARRAY[NULL::bytea]);
SELECT error_code FROM kafka.end_txn_v2('t2', :pid2, :ep3::int2, true);
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets
WHERE group_id IN ('g3', 'g4');

-- Offset metadata is bytes: a NUL byte round-trips.
SELECT producer_epoch AS ep4 FROM kafka.transactions WHERE transactional_id = 't2' \gset
SELECT * FROM kafka.txn_offset_commit_v2('t2', 'g5', :pid2, :ep4::int2, ARRAY['tv2'], ARRAY[0],
	ARRAY[7::int8], ARRAY[-1], ARRAY['\x48656c6c6f00776f726c6421'::bytea]);
SELECT error_code FROM kafka.end_txn_v2('t2', :pid2, :ep4::int2, true);
SELECT metadata, length(metadata) FROM kafka.consumer_offsets WHERE group_id = 'g5';
