--
-- Transactions (pg_kafka 0.6, docs/TRANSACTIONS.md): the coordinator's state
-- machine in SQL, the markers it writes, and transactional produce on top of
-- kafka.produce_idempotent().
--

--
-- Upgrade: a 0.5 database with records and producer state gets the
-- transaction tables in place.
--
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka VERSION '0.5';
SELECT kafka.create_topic('upgraded', 1) IS NOT NULL AS created;
SELECT * FROM kafka.init_producer_id(-1, -1::int2);
SELECT base, error_code FROM kafka.produce_idempotent('upgraded', 0, 1, ARRAY[now()],
	ARRAY[NULL::bytea], ARRAY['v'::bytea], ARRAY[NULL::bytea], 100, 1000000, 0, 0::int2, 0);
SELECT to_regclass('kafka.transactions') IS NULL AS no_transactions_in_0_5;
ALTER EXTENSION pg_kafka UPDATE TO '0.6';
SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka';
SELECT count(*) AS records FROM kafka.records WHERE topic = 'upgraded';
SELECT producer_id, last_seqs FROM kafka.producer_state;
SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_kafka')
  AND deptype = 'e'
  AND pg_describe_object(classid, objid, objsubid) ~ '(txn|transaction)'
ORDER BY 1;
-- every function of the extension is documented
SELECT p.oid::regprocedure AS undocumented
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_kafka')
  AND d.deptype = 'e' AND p.prorettype <> 'trigger'::regtype
  AND obj_description(p.oid, 'pg_proc') IS NULL;
-- continuing on a fresh database keeps producer ids the same from run to run
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka;

SET timezone = 'UTC';
SELECT kafka.create_topic('tx', 2) IS NOT NULL AS created;
SELECT kafka.create_topic('other', 1) IS NOT NULL AS created;

-- Produce n records of a transactional batch to topic tx; base, error code.
CREATE FUNCTION pg_temp.produce(txn text, pid bigint, epoch int, part int, seq int, n int,
	topic text DEFAULT 'tx', OUT base bigint, OUT error_code int)
LANGUAGE sql AS $$
	SELECT base, error_code FROM kafka.produce_transactional(topic, part, n,
		array_fill(now(), ARRAY[n]), array_fill(NULL::bytea, ARRAY[n]),
		(SELECT array_agg(convert_to(txn || '-' || (seq + i - 1), 'UTF8')) FROM generate_series(1, n) i),
		array_fill(NULL::bytea, ARRAY[n]), 100, 1000000, pid, epoch::int2, seq, txn)
$$;

-- The coordinator's state, without times.
CREATE FUNCTION pg_temp.txns() RETURNS TABLE (transactional_id text, producer_id bigint,
	producer_epoch smallint, state text, timeout_ms int, started boolean)
LANGUAGE sql AS $$
	SELECT transactional_id, producer_id, producer_epoch, state, timeout_ms, started IS NOT NULL
	FROM kafka.transactions ORDER BY transactional_id
$$;

-- What is pending: partitions (with first offsets), groups, offsets.
CREATE FUNCTION pg_temp.pending() RETURNS TABLE (transactional_id text, what text)
LANGUAGE sql AS $$
	SELECT transactional_id, format('partition %s-%s first %s', topic, partition,
		coalesce(first_offset::text, '-'))
	FROM kafka.txn_partitions
	UNION ALL
	SELECT transactional_id, format('group %s', group_id) FROM kafka.txn_groups
	UNION ALL
	SELECT transactional_id, format('offset %s %s-%s = %s (epoch %s, %s)', group_id, topic,
		partition, committed_offset, leader_epoch, coalesce(convert_from(metadata, 'UTF8'), 'null'))
	FROM kafka.txn_offsets
	ORDER BY 1, 2
$$;

CREATE FUNCTION pg_temp.batches() RETURNS TABLE (topic text, partition int, base_offset bigint,
	last_offset bigint, producer_id bigint, producer_epoch smallint, kind text)
LANGUAGE sql AS $$
	SELECT topic, partition, base_offset, last_offset, producer_id, producer_epoch,
	       CASE control WHEN 0 THEN 'ABORT' WHEN 1 THEN 'COMMIT' ELSE 'records' END
	FROM kafka.txn_batches ORDER BY topic, partition, last_offset
$$;

-- Last stable offset and high watermark per partition, as fetch computes them.
CREATE FUNCTION pg_temp.offsets() RETURNS TABLE (topic text, partition int, lso bigint,
	high_watermark bigint, records bigint)
LANGUAGE sql AS $$
	SELECT p.topic, p.partition,
	       coalesce((SELECT min(first_offset) FROM kafka.txn_partitions t
			 WHERE t.topic = p.topic AND t.partition = p.partition), p.next_offset),
	       p.next_offset,
	       (SELECT count(*) FROM kafka.records r WHERE r.topic = p.topic AND r.partition = p.partition)
	FROM kafka.partitions p ORDER BY 1, 2
$$;

--
-- InitProducerId with a transactional id
--
-- the timeout must be 1 .. max: INVALID_TRANSACTION_TIMEOUT (50), nothing stored
SELECT * FROM kafka.init_producer_id_txn('a', 0, -1, -1::int2, 60000);
SELECT * FROM kafka.init_producer_id_txn('a', 60001, -1, -1::int2, 60000);
SELECT * FROM kafka.init_producer_id_txn('a', NULL, -1, -1::int2, 60000);
-- no transactional id: INVALID_PRODUCER_ID_MAPPING (49)
SELECT * FROM kafka.init_producer_id_txn(NULL, 1000, -1, -1::int2, 60000);
SELECT count(*) FROM kafka.transactions;
-- a new transactional id: a new producer id at epoch 0, Empty
SELECT * FROM kafka.init_producer_id_txn('a', 60000, -1, -1::int2, 60000);
SELECT * FROM kafka.init_producer_id_txn('b', 1000, -1, -1::int2, 60000);
-- (KIP-360 for an id the coordinator does not know: a new producer id too)
SELECT * FROM kafka.init_producer_id_txn('c', 1000, 77, 3::int2, 60000);
-- a known id: the next epoch, fencing the previous one; the timeout is stored
SELECT * FROM kafka.init_producer_id_txn('a', 30000, -1, -1::int2, 60000);
SELECT * FROM pg_temp.txns();
-- KIP-360: the current id and epoch bump it, anything else is PRODUCER_FENCED (90)
SELECT * FROM kafka.init_producer_id_txn('a', 30000, 0, 0::int2, 60000);
SELECT * FROM kafka.init_producer_id_txn('a', 30000, 1, 1::int2, 60000);
SELECT * FROM kafka.init_producer_id_txn('a', 30000, 0, 1::int2, 60000);
-- epochs run out: at 32766 a new producer id at epoch 0
UPDATE kafka.transactions SET producer_epoch = 32766 WHERE transactional_id = 'c';
SELECT * FROM kafka.init_producer_id_txn('c', 1000, 2, 32766::int2, 60000);
SELECT * FROM pg_temp.txns();
-- kafka.producers follows every id and epoch
SELECT producer_id, producer_epoch FROM kafka.producers ORDER BY producer_id;

--
-- AddPartitionsToTxn
--
-- unknown transactional id or another producer id: INVALID_PRODUCER_ID_MAPPING (49) for all
SELECT * FROM kafka.add_partitions_to_txn('nope', 0, 2::int2, '{tx,tx}', '{0,1}');
SELECT * FROM kafka.add_partitions_to_txn('a', 1, 2::int2, '{tx,tx}', '{0,1}');
-- another epoch, older or newer: PRODUCER_FENCED (90) for all
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 1::int2, '{tx,tx}', '{0,1}');
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 3::int2, '{tx,tx}', '{0,1}');
-- a partition that does not exist: 3 for it, OPERATION_NOT_ATTEMPTED (55) for the others
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx,tx,nope}', '{0,2,0}');
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx,other}', '{1,5}');
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx}', '{NULL}');
-- nothing added, still Empty
SELECT * FROM pg_temp.pending();
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';
-- an empty list makes the transaction Ongoing, as Kafka's coordinator does
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{}', '{}');
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';

--
-- Produce before AddPartitionsToTxn: INVALID_TXN_STATE (48), nothing written
--
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 0, 2);
SELECT count(*) FROM kafka.records;

-- added: Ongoing, started; adding again (and twice in one list) is fine
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx,other,tx}', '{0,0,0}');
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx}', '{0}');
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';
SELECT * FROM pg_temp.pending();

--
-- Transactional produce
--
-- a partition not in the transaction: 48; an unknown partition: no base, as
-- for plain produce (UNKNOWN_TOPIC_OR_PARTITION)
SELECT * FROM pg_temp.produce('a', 0, 2, 1, 0, 2);
SELECT * FROM pg_temp.produce('a', 0, 2, 7, 0, 2);
-- unknown transactional id, or not its producer id: 48
SELECT * FROM pg_temp.produce('nope', 0, 2, 0, 0, 2);
SELECT * FROM kafka.produce_transactional('tx', 0, 1, ARRAY[now()], ARRAY[NULL::bytea],
	ARRAY['x'::bytea], ARRAY[NULL::bytea], 100, 1000000, 1, 2::int2, 0, 'a');
-- another epoch: INVALID_PRODUCER_EPOCH (47)
SELECT * FROM pg_temp.produce('a', 0, 1, 0, 0, 2);
SELECT count(*) FROM kafka.records;
-- a plain record first, so the transaction starts at offset 1 of tx-0
SELECT "offset" FROM kafka.produce('tx', 'k', 'plain', partition => 0);
-- written: a txn_batches range, and the partition's first offset
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 0, 2);
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 2, 3);
-- a retried batch is a duplicate: its base again, written once, no new range
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 0, 2);
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 2, 3);
-- sequence errors come from produce_idempotent (45) and record nothing
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 9, 1);
-- too large for the topic: no base, nothing recorded
SELECT base, error_code, maxb FROM kafka.produce_transactional('tx', 0, 1, ARRAY[now()],
	ARRAY[NULL::bytea], ARRAY['x'::bytea], ARRAY[NULL::bytea], 2000000, 1000000, 0, 2::int2, 5, 'a');
SELECT * FROM pg_temp.batches();
SELECT * FROM pg_temp.pending();
-- the last stable offset of tx-0 is the transaction's first offset
SELECT * FROM pg_temp.offsets();

--
-- AddOffsetsToTxn and TxnOffsetCommit
--
SELECT * FROM kafka.add_offsets_to_txn('nope', 0, 2::int2, 'g1');
SELECT * FROM kafka.add_offsets_to_txn('a', 5, 2::int2, 'g1');
SELECT * FROM kafka.add_offsets_to_txn('a', 0, 1::int2, 'g1');
-- TxnOffsetCommit for a group not added: INVALID_TXN_STATE (48) for all
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 0, 2::int2, '{tx,other}', '{0,0}',
	'{1,1}', '{-1,-1}', '{NULL,NULL}');
SELECT * FROM kafka.add_offsets_to_txn('a', 0, 2::int2, 'g1');
SELECT * FROM kafka.add_offsets_to_txn('a', 0, 2::int2, 'g1');
-- 49 and 90 as for the other APIs
SELECT * FROM kafka.txn_offset_commit('nope', 'g1', 0, 2::int2, '{tx}', '{0}', '{1}', '{-1}', '{NULL}');
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 3, 2::int2, '{tx}', '{0}', '{1}', '{-1}', '{NULL}');
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 0, 0::int2, '{tx}', '{0}', '{1}', '{-1}', '{NULL}');
-- an unknown partition gets 3, the others are stored; the last of a partition wins
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 0, 2::int2, '{tx,tx,nope,other,tx}', '{0,1,0,0,0}',
	'{10,20,30,40,11}', '{5,-1,-1,NULL,6}', '{first,NULL,NULL,m,last}');
SELECT * FROM pg_temp.pending();
-- pending offsets are not committed offsets
SELECT count(*) FROM kafka.consumer_offsets;

--
-- EndTxn: commit
--
SELECT * FROM kafka.end_txn('nope', 0, 2::int2, true);
SELECT * FROM kafka.end_txn('a', 1, 2::int2, true);
SELECT * FROM kafka.end_txn('a', 0, 1::int2, true);
-- Empty: INVALID_TXN_STATE (48)
SELECT * FROM kafka.end_txn('b', 1, 0::int2, true);
SELECT * FROM kafka.end_txn('b', 1, 0::int2, false);
-- a commit marker in each partition of the transaction (tx-0 and other-0)
SELECT * FROM kafka.end_txn('a', 0, 2::int2, true);
SELECT * FROM pg_temp.batches();
-- next_offset advanced by one per marker; no record row for it; LSO = high watermark
SELECT * FROM pg_temp.offsets();
SELECT "offset", convert_from(value, 'UTF8') AS value FROM kafka.records
WHERE topic = 'tx' ORDER BY "offset";
-- the offsets are committed now, and nothing is pending
SELECT group_id, topic, partition, committed_offset, leader_epoch,
       convert_from(metadata, 'UTF8') AS metadata
FROM kafka.consumer_offsets ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.pending();
SELECT count(*) AS aborted FROM kafka.aborted_txns;
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';
-- a retried commit: 0, nothing written; an abort now: 48
SELECT * FROM kafka.end_txn('a', 0, 2::int2, true);
SELECT * FROM kafka.end_txn('a', 0, 2::int2, false);
SELECT * FROM kafka.end_txn('a', 0, 2::int2, NULL);
-- TxnOffsetCommit after the commit: 48 (the group must be added again)
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 0, 2::int2, '{tx}', '{0}', '{12}', '{-1}', '{NULL}');
-- produce after the commit, before AddPartitionsToTxn: 48
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 5, 1);
SELECT count(*) AS batches FROM kafka.txn_batches;

--
-- EndTxn: abort
--
-- the next transaction of the same producer; sequences continue; it writes
-- to tx-0 and tx-1 but only adds other-0
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{tx,tx,other}', '{1,0,0}');
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 5, 2);
SELECT * FROM pg_temp.produce('a', 0, 2, 1, 0, 1);
SELECT * FROM kafka.add_offsets_to_txn('a', 0, 2::int2, 'g1');
SELECT * FROM kafka.txn_offset_commit('a', 'g1', 0, 2::int2, '{tx}', '{0}', '{99}', '{-1}', '{NULL}');
SELECT * FROM pg_temp.offsets();
SELECT * FROM kafka.end_txn('a', 0, 2::int2, false);
-- abort markers everywhere; aborted_txns only where the transaction wrote
SELECT * FROM pg_temp.batches() WHERE kind <> 'records' OR base_offset > 6;
SELECT * FROM kafka.aborted_txns ORDER BY topic, partition, last_offset;
SELECT * FROM pg_temp.offsets();
-- the pending offset is dropped, the committed one unchanged
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.pending();
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'a';
-- a retried abort: 0 and nothing written; a commit now: 48
SELECT * FROM kafka.end_txn('a', 0, 2::int2, false);
SELECT * FROM kafka.end_txn('a', 0, 2::int2, true);
SELECT count(*) AS markers FROM kafka.txn_batches WHERE control IS NOT NULL;

-- a transaction of offsets only: no markers, the offsets committed
SELECT * FROM kafka.add_offsets_to_txn('b', 1, 0::int2, 'g2');
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'b';
SELECT * FROM kafka.txn_offset_commit('b', 'g2', 1, 0::int2, '{other}', '{0}', '{3}', '{-1}', '{NULL}');
SELECT * FROM kafka.end_txn('b', 1, 0::int2, true);
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets ORDER BY 1, 2, 3;

--
-- InitProducerId while a transaction is ongoing: it is aborted, the epoch
-- bumped, and the old producer fenced
--
SELECT * FROM kafka.add_partitions_to_txn('b', 1, 0::int2, '{tx,other}', '{1,0}');
SELECT * FROM pg_temp.produce('b', 1, 0, 1, 0, 2);
SELECT * FROM kafka.add_offsets_to_txn('b', 1, 0::int2, 'g2');
SELECT * FROM kafka.txn_offset_commit('b', 'g2', 1, 0::int2, '{other}', '{0}', '{4}', '{-1}', '{NULL}');
SELECT * FROM kafka.init_producer_id_txn('b', 1000, -1, -1::int2, 60000);
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'b';
SELECT * FROM pg_temp.batches() WHERE producer_id = 1;
SELECT * FROM kafka.aborted_txns WHERE producer_id = 1;
SELECT * FROM pg_temp.pending();
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets WHERE group_id = 'g2';
-- the fenced producer: 47 on produce, 90 on the coordinator APIs
SELECT * FROM pg_temp.produce('b', 1, 0, 1, 2, 1);
SELECT * FROM kafka.end_txn('b', 1, 0::int2, true);
SELECT * FROM kafka.add_partitions_to_txn('b', 1, 0::int2, '{tx}', '{1}');
-- the new epoch starts a new transaction at sequence 0
SELECT * FROM kafka.add_partitions_to_txn('b', 1, 1::int2, '{tx}', '{1}');
SELECT * FROM pg_temp.produce('b', 1, 1, 1, 0, 1);
SELECT * FROM kafka.end_txn('b', 1, 1::int2, true);
SELECT * FROM pg_temp.batches() WHERE topic = 'tx' AND partition = 1;
SELECT * FROM pg_temp.offsets();

--
-- Transactions past their timeout are aborted and fenced
--
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 2::int2, '{other}', '{0}');
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 0, 1, 'other');
UPDATE kafka.transactions SET timeout_ms = 60000 WHERE transactional_id = 'c';
SELECT * FROM kafka.add_partitions_to_txn('c', 3, 0::int2, '{tx}', '{0}');
-- nothing expired yet
SELECT * FROM kafka.abort_expired_transactions();
-- 'a' (timeout 30 s) started a minute ago; 'c' (60 s) just now
UPDATE kafka.transactions SET started = now() - interval '1 minute' WHERE transactional_id = 'a';
SELECT * FROM kafka.abort_expired_transactions();
SELECT * FROM pg_temp.txns();
SELECT * FROM pg_temp.batches() WHERE topic = 'other';
SELECT * FROM kafka.aborted_txns WHERE topic = 'other';
-- the late producer is fenced
SELECT * FROM pg_temp.produce('a', 0, 2, 0, 1, 1, 'other');
SELECT * FROM kafka.end_txn('a', 0, 2::int2, true);
-- a second round finds nothing
SELECT * FROM kafka.abort_expired_transactions();
-- 'c' once it is older than its 60 s
UPDATE kafka.transactions SET started = started - interval '50 seconds' WHERE transactional_id = 'c';
SELECT * FROM kafka.abort_expired_transactions();
UPDATE kafka.transactions SET started = started - interval '11 seconds' WHERE transactional_id = 'c';
SELECT * FROM kafka.abort_expired_transactions();
SELECT * FROM pg_temp.txns() WHERE transactional_id = 'c';
SELECT * FROM pg_temp.batches() WHERE producer_id = 3;
SELECT count(*) AS aborted_c FROM kafka.aborted_txns WHERE producer_id = 3;

--
-- Deleting a topic takes its transactional rows along
--
SELECT kafka.create_topic('gone', 1) IS NOT NULL AS created;
SELECT * FROM kafka.add_partitions_to_txn('a', 0, 3::int2, '{gone,tx}', '{0,0}');
SELECT * FROM pg_temp.produce('a', 0, 3, 0, 0, 2, 'gone');
SELECT * FROM kafka.add_offsets_to_txn('a', 0, 3::int2, 'g3');
SELECT * FROM kafka.txn_offset_commit('a', 'g3', 0, 3::int2, '{gone,tx}', '{0,0}', '{1,2}', '{-1,-1}', '{NULL,NULL}');
-- 'b' only adds the partition
SELECT * FROM kafka.add_partitions_to_txn('b', 1, 1::int2, '{gone}', '{0}');
SELECT * FROM pg_temp.pending();
SELECT kafka.delete_topic('gone');
SELECT * FROM pg_temp.pending();
SELECT action, topic, records FROM kafka.run_maintenance();
SELECT count(*) AS gone_rows FROM (
	SELECT topic FROM kafka.txn_batches UNION ALL SELECT topic FROM kafka.aborted_txns
	UNION ALL SELECT topic FROM kafka.records) r WHERE topic = 'gone';
-- the transaction goes on without the topic
SELECT * FROM kafka.end_txn('a', 0, 3::int2, true);
SELECT * FROM kafka.end_txn('b', 1, 1::int2, true);
SELECT group_id, topic, partition, committed_offset FROM kafka.consumer_offsets ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.txns();

--
-- InitProducerId retries (KIP-360): a bump whose answer was lost is asked
-- again with the epoch before it and gets the current epoch, not another
-- bump; after epochs ran out, the previous producer id with its exhausted
-- epoch does the same. Any other epoch is PRODUCER_FENCED (90).
--
SELECT producer_id AS rp FROM kafka.init_producer_id_txn('r', 1000, -1, -1::int2, 60000) \gset
SELECT producer_id = :rp AS same_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, :rp, 0::int2, 60000);
SELECT producer_id = :rp AS same_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, :rp, 0::int2, 60000);
SELECT producer_id = :rp AS same_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, :rp, 1::int2, 60000);
SELECT producer_epoch, error_code FROM kafka.init_producer_id_txn('r', 1000, :rp, 0::int2, 60000);
UPDATE kafka.transactions SET producer_epoch = 32766 WHERE transactional_id = 'r';
SELECT producer_id AS rq FROM kafka.init_producer_id_txn('r', 1000, :rp, 32766::int2, 60000) \gset
SELECT :rq <> :rp AS new_id, producer_id = :rq AS same_new_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, :rp, 32766::int2, 60000);
SELECT producer_epoch, error_code FROM kafka.init_producer_id_txn('r', 1000, :rp, 32765::int2, 60000);
-- a transaction the id left open: aborted, the epoch fenced, CompleteAbort
-- (the broker answers CONCURRENT_TRANSACTIONS); the start time stays
SELECT error_code FROM kafka.add_partitions_to_txn('r', :rq, 0::int2, '{}', '{}');
SELECT state, started IS NOT NULL AS started FROM kafka.transactions WHERE transactional_id = 'r';
SELECT producer_id = :rq AS same_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, -1, -1::int2, 60000);
SELECT state, producer_epoch, last_epoch, started IS NOT NULL AS started
FROM kafka.transactions WHERE transactional_id = 'r';
SELECT producer_id = :rq AS same_id, producer_epoch, error_code
FROM kafka.init_producer_id_txn('r', 1000, -1, -1::int2, 60000);
SELECT state, started IS NOT NULL AS started FROM kafka.transactions WHERE transactional_id = 'r';

-- pg_dump keeps the coordinator's state
SELECT t::regclass AS dumped FROM pg_extension e, unnest(e.extconfig) t
WHERE e.extname = 'pg_kafka' AND t::regclass::text ~ '(txn|transactions)'
ORDER BY t::regclass::text;

-- clean up for whatever runs next
SELECT kafka.delete_topic('tx');
SELECT kafka.delete_topic('other');
SELECT count(*) AS left_over FROM (
	SELECT topic FROM kafka.txn_batches UNION ALL SELECT topic FROM kafka.aborted_txns
	UNION ALL SELECT topic FROM kafka.txn_partitions UNION ALL SELECT topic FROM kafka.txn_offsets) r;
