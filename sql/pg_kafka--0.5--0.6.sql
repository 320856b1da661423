/*
 * pg_kafka 0.6: transactions (docs/TRANSACTIONS.md).
 *
 *  - kafka.transactions: the transaction coordinator's state, one row per
 *    transactional id: its producer id and epoch, state and timeout.
 *  - kafka.txn_partitions, kafka.txn_groups, kafka.txn_offsets: what the
 *    ongoing transaction of an id has added (partitions, consumer groups)
 *    and the consumer offsets it will commit.
 *  - kafka.txn_batches: the offset ranges of transactional batches and the
 *    transaction markers; a marker takes an offset but is no row of
 *    kafka.records.
 *  - kafka.aborted_txns: per partition, the aborted transactions that wrote
 *    there, for the aborted-transactions list of read_committed fetches.
 *  - One function per coordinator API (InitProducerId with a transactional
 *    id, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), the
 *    abort of timed-out transactions, and kafka.produce_transactional(), the
 *    append of a transactional batch.
 *  - kafka.append_records(): the bulk insert (decoder/append.c) that the
 *    broker's produce statement and kafka.produce_idempotent() now use.
 *
 * Every function locks the kafka.transactions row first and partition rows
 * after, in (topic, partition) order, so that they never deadlock with each
 * other or with producers. A transaction ends in one PostgreSQL transaction:
 * markers, consumer offsets and state commit together or not at all, so the
 * Java broker's prepare states are never visible.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.6'" to load this file. \quit

CREATE TABLE kafka.transactions (
	transactional_id text COLLATE "C" PRIMARY KEY,
	producer_id bigint NOT NULL UNIQUE,
	producer_epoch smallint NOT NULL CHECK (producer_epoch >= 0),
	state text NOT NULL DEFAULT 'Empty'
		CHECK (state IN ('Empty', 'Ongoing', 'CompleteCommit', 'CompleteAbort')),
	timeout_ms int NOT NULL CHECK (timeout_ms > 0),
	started timestamptz,
	updated timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT transactions_started_iff_ongoing CHECK ((started IS NOT NULL) = (state = 'Ongoing'))
);

-- The reaper of timed-out transactions looks only at ongoing ones.
CREATE INDEX transactions_ongoing ON kafka.transactions (started) WHERE state = 'Ongoing';

COMMENT ON TABLE kafka.transactions IS
	'Transaction coordinator state: one row per transactional.id (Kafka''s __transaction_state).';
COMMENT ON COLUMN kafka.transactions.transactional_id IS 'The producer''s transactional.id.';
COMMENT ON COLUMN kafka.transactions.producer_id IS 'The producer id the transactional id currently has.';
COMMENT ON COLUMN kafka.transactions.producer_epoch IS
	'Its current epoch; a producer with an older one is fenced.';
COMMENT ON COLUMN kafka.transactions.state IS
	'Empty (no transaction since InitProducerId), Ongoing, CompleteCommit or CompleteAbort.';
COMMENT ON COLUMN kafka.transactions.timeout_ms IS
	'transaction.timeout.ms of the producer: an Ongoing transaction older than this is aborted.';
COMMENT ON COLUMN kafka.transactions.started IS
	'When the ongoing transaction added its first partition or group; NULL unless Ongoing.';
COMMENT ON COLUMN kafka.transactions.updated IS 'When the row last changed.';

CREATE TABLE kafka.txn_partitions (
	transactional_id text COLLATE "C" NOT NULL
		REFERENCES kafka.transactions (transactional_id) ON DELETE CASCADE,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	first_offset bigint,
	PRIMARY KEY (transactional_id, topic, partition),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

-- The last stable offset of a partition is the smallest first_offset here;
-- the index also serves the cascade when a topic is deleted.
CREATE INDEX txn_partitions_lso ON kafka.txn_partitions (topic, partition, first_offset);

COMMENT ON TABLE kafka.txn_partitions IS
	'Partitions of ongoing transactions (AddPartitionsToTxn). The smallest first_offset of a partition is its last stable offset.';
COMMENT ON COLUMN kafka.txn_partitions.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_partitions.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_partitions.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_partitions.first_offset IS
	'Offset of the transaction''s first record in the partition; NULL until it writes there.';

CREATE TABLE kafka.txn_groups (
	transactional_id text COLLATE "C" NOT NULL
		REFERENCES kafka.transactions (transactional_id) ON DELETE CASCADE,
	group_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (transactional_id, group_id)
);

COMMENT ON TABLE kafka.txn_groups IS
	'Consumer groups added to ongoing transactions (AddOffsetsToTxn): the groups TxnOffsetCommit accepts.';
COMMENT ON COLUMN kafka.txn_groups.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_groups.group_id IS 'The consumer group.';

-- The foreign key to kafka.txn_groups keeps offsets of groups that were not
-- added out, and drops pending offsets with their group.
CREATE TABLE kafka.txn_offsets (
	transactional_id text COLLATE "C" NOT NULL,
	group_id text COLLATE "C" NOT NULL,
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	committed_offset bigint NOT NULL,
	leader_epoch int NOT NULL DEFAULT -1,
	metadata text,
	PRIMARY KEY (transactional_id, group_id, topic, partition),
	FOREIGN KEY (transactional_id, group_id) REFERENCES kafka.txn_groups (transactional_id, group_id)
		ON DELETE CASCADE,
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

-- OffsetFetch with require_stable asks whether an offset is pending for a
-- group and partition.
CREATE INDEX txn_offsets_group ON kafka.txn_offsets (group_id, topic, partition);

COMMENT ON TABLE kafka.txn_offsets IS
	'Consumer offsets committed in ongoing transactions (TxnOffsetCommit): moved into kafka.consumer_offsets on commit, dropped on abort.';
COMMENT ON COLUMN kafka.txn_offsets.transactional_id IS 'The transaction.';
COMMENT ON COLUMN kafka.txn_offsets.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.txn_offsets.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_offsets.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_offsets.committed_offset IS 'The offset to commit.';
COMMENT ON COLUMN kafka.txn_offsets.leader_epoch IS
	'Leader epoch the client committed with, -1 if it gave none.';
COMMENT ON COLUMN kafka.txn_offsets.metadata IS
	'Metadata the client committed with the offset (NULL when it sent null).';

-- Ranges never overlap within a partition, so a fetch from offset X reads
-- "last_offset >= X ORDER BY last_offset" on the primary key.
CREATE TABLE kafka.txn_batches (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	base_offset bigint NOT NULL,
	last_offset bigint NOT NULL,
	producer_id bigint NOT NULL,
	producer_epoch smallint NOT NULL,
	control smallint CHECK (control IN (0, 1)),
	coordinator_epoch int NOT NULL DEFAULT 0,
	"timestamp" timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition, last_offset),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE,
	CONSTRAINT txn_batches_range_valid CHECK (base_offset <= last_offset),
	CONSTRAINT txn_batches_marker_one_offset CHECK (control IS NULL OR base_offset = last_offset)
);

COMMENT ON TABLE kafka.txn_batches IS
	'Transactional batches and transaction markers, by offset range; markers have an offset but no row in kafka.records.';
COMMENT ON COLUMN kafka.txn_batches.topic IS 'The topic.';
COMMENT ON COLUMN kafka.txn_batches.partition IS 'The partition.';
COMMENT ON COLUMN kafka.txn_batches.base_offset IS 'Offset of the first record of the batch (of the marker).';
COMMENT ON COLUMN kafka.txn_batches.last_offset IS 'Offset of the last record of the batch (of the marker).';
COMMENT ON COLUMN kafka.txn_batches.producer_id IS 'The producer id that wrote it.';
COMMENT ON COLUMN kafka.txn_batches.producer_epoch IS 'Its epoch.';
COMMENT ON COLUMN kafka.txn_batches.control IS
	'NULL for a batch of records, 0 for an abort marker, 1 for a commit marker.';
COMMENT ON COLUMN kafka.txn_batches.coordinator_epoch IS
	'Coordinator epoch written in a marker''s control record (0: there is one coordinator).';
COMMENT ON COLUMN kafka.txn_batches."timestamp" IS 'When the batch or marker was written.';

CREATE TABLE kafka.aborted_txns (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	producer_id bigint NOT NULL,
	first_offset bigint NOT NULL,
	last_offset bigint NOT NULL,
	PRIMARY KEY (topic, partition, last_offset),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

COMMENT ON TABLE kafka.aborted_txns IS
	'Aborted transactions per partition where they wrote records: the aborted-transactions list of read_committed fetches.';
COMMENT ON COLUMN kafka.aborted_txns.topic IS 'The topic.';
COMMENT ON COLUMN kafka.aborted_txns.partition IS 'The partition.';
COMMENT ON COLUMN kafka.aborted_txns.producer_id IS 'Producer id of the aborted transaction.';
COMMENT ON COLUMN kafka.aborted_txns.first_offset IS 'Offset of its first record in the partition.';
COMMENT ON COLUMN kafka.aborted_txns.last_offset IS 'Offset of its abort marker.';

SELECT pg_catalog.pg_extension_config_dump('kafka.transactions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_partitions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_groups', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_offsets', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.txn_batches', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.aborted_txns', '');

/*
 * End the ongoing transaction of p_transactional_id, whose row the caller has
 * locked FOR UPDATE and which is Ongoing: a marker in every partition of the
 * transaction (in (topic, partition) order, locking each partition row), on
 * abort an aborted_txns row where it wrote, on commit its pending offsets
 * become consumer offsets; then its partitions, groups and offsets are
 * cleared. The markers carry the producer id and epoch the transaction's
 * records were written with, which is what read_committed clients match.
 * Returns the partitions that got a marker.
 */
CREATE FUNCTION kafka.txn_complete(p_transactional_id text, p_commit boolean,
	OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	tp record;
	marker bigint;
BEGIN
	topics := '{}';
	partitions := '{}';
	SELECT x.producer_id, x.producer_epoch INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id;
	FOR tp IN
		SELECT p.topic, p.partition, p.first_offset FROM kafka.txn_partitions p
		WHERE p.transactional_id = p_transactional_id
		ORDER BY p.topic, p.partition
	LOOP
		UPDATE kafka.partitions p SET next_offset = p.next_offset + 1
		WHERE p.topic = tp.topic AND p.partition = tp.partition
		RETURNING p.next_offset - 1 INTO marker;
		INSERT INTO kafka.txn_batches
			(topic, partition, base_offset, last_offset, producer_id, producer_epoch, control)
		VALUES (tp.topic, tp.partition, marker, marker, t.producer_id, t.producer_epoch,
			CASE WHEN p_commit THEN 1 ELSE 0 END);
		IF NOT p_commit AND tp.first_offset IS NOT NULL THEN
			INSERT INTO kafka.aborted_txns (topic, partition, producer_id, first_offset, last_offset)
			VALUES (tp.topic, tp.partition, t.producer_id, tp.first_offset, marker);
		END IF;
		topics := topics || tp.topic;
		partitions := partitions || tp.partition;
	END LOOP;

	IF p_commit THEN
		INSERT INTO kafka.consumer_offsets AS c
			(group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
		SELECT o.group_id, o.topic, o.partition, o.committed_offset, o.leader_epoch, o.metadata, now()
		FROM kafka.txn_offsets o WHERE o.transactional_id = p_transactional_id
		ON CONFLICT (group_id, topic, partition) DO UPDATE
		SET committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
		    metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp;
	END IF;
	DELETE FROM kafka.txn_offsets o WHERE o.transactional_id = p_transactional_id;
	DELETE FROM kafka.txn_groups g WHERE g.transactional_id = p_transactional_id;
	DELETE FROM kafka.txn_partitions p WHERE p.transactional_id = p_transactional_id;
	UPDATE kafka.transactions x
	SET state = CASE WHEN p_commit THEN 'CompleteCommit' ELSE 'CompleteAbort' END,
	    started = NULL, updated = now()
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.txn_complete(text, boolean) IS
	'Internal (the caller holds the transaction row lock): write the markers of an ongoing transaction and complete it.';

/*
 * Fence the current producer of p_transactional_id (row locked by the
 * caller): the next epoch, or at epoch 32766 and above a new producer id at
 * epoch 0, as kafka.init_producer_id() does. kafka.producers follows.
 */
CREATE FUNCTION kafka.txn_bump_epoch(p_transactional_id text,
	OUT producer_id bigint, OUT producer_epoch smallint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT x.producer_id, x.producer_epoch INTO producer_id, producer_epoch
	FROM kafka.transactions x WHERE x.transactional_id = p_transactional_id;
	IF producer_epoch < 32766 THEN
		producer_epoch := producer_epoch + 1;
	ELSE
		producer_id := nextval('kafka.producer_ids');
		producer_epoch := 0;
	END IF;
	INSERT INTO kafka.producers AS p (producer_id, producer_epoch)
	VALUES (txn_bump_epoch.producer_id, txn_bump_epoch.producer_epoch)
	ON CONFLICT ON CONSTRAINT producers_pkey DO UPDATE
	SET producer_epoch = excluded.producer_epoch, updated = now();
	UPDATE kafka.transactions x
	SET producer_id = txn_bump_epoch.producer_id, producer_epoch = txn_bump_epoch.producer_epoch,
	    updated = now()
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.txn_bump_epoch(text) IS
	'Internal (the caller holds the transaction row lock): the next epoch of a transactional id, or a new producer id when epochs run out.';

/*
 * InitProducerId with a transactional id. A new id gets a producer id at
 * epoch 0 in state Empty. A known one (KIP-360: p_producer_id >= 0 must be its
 * current id and epoch, else 90) has its ongoing transaction aborted and its
 * epoch bumped, which fences the previous producer; the state is then Empty.
 * topics/partitions: where abort markers were written.
 */
CREATE FUNCTION kafka.init_producer_id_txn(p_transactional_id text, p_timeout_ms int,
	p_producer_id bigint, p_epoch smallint, p_max_timeout_ms int,
	OUT producer_id bigint, OUT producer_epoch smallint, OUT error_code int,
	OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	producer_id := -1;
	producer_epoch := -1;
	error_code := 0;
	topics := '{}';
	partitions := '{}';
	IF p_transactional_id IS NULL THEN
		error_code := 49; -- INVALID_PRODUCER_ID_MAPPING: not a transactional producer
		RETURN;
	END IF;
	IF p_timeout_ms IS NULL OR p_timeout_ms < 1 OR p_timeout_ms > p_max_timeout_ms THEN
		error_code := 50; -- INVALID_TRANSACTION_TIMEOUT
		RETURN;
	END IF;

	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	IF NOT FOUND THEN
		-- Two producers starting the same new id at once: one inserts, the
		-- other waits for it and takes the known-id path below.
		INSERT INTO kafka.transactions AS x (transactional_id, producer_id, producer_epoch, timeout_ms)
		VALUES (p_transactional_id, nextval('kafka.producer_ids'), 0, p_timeout_ms)
		ON CONFLICT (transactional_id) DO NOTHING
		RETURNING x.producer_id INTO init_producer_id_txn.producer_id;
		IF FOUND THEN
			producer_epoch := 0;
			INSERT INTO kafka.producers (producer_id, producer_epoch)
			VALUES (init_producer_id_txn.producer_id, 0);
			RETURN;
		END IF;
		SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
		WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	END IF;

	IF p_producer_id >= 0 AND (p_producer_id <> t.producer_id OR p_epoch IS DISTINCT FROM t.producer_epoch) THEN
		error_code := 90; -- PRODUCER_FENCED
		RETURN;
	END IF;
	IF t.state = 'Ongoing' THEN
		SELECT c.topics, c.partitions INTO topics, partitions
		FROM kafka.txn_complete(p_transactional_id, false) c;
	END IF;
	SELECT b.producer_id, b.producer_epoch INTO producer_id, producer_epoch
	FROM kafka.txn_bump_epoch(p_transactional_id) b;
	UPDATE kafka.transactions x SET state = 'Empty', started = NULL, timeout_ms = p_timeout_ms
	WHERE x.transactional_id = p_transactional_id;
END
$$;

COMMENT ON FUNCTION kafka.init_producer_id_txn(text, int, bigint, smallint, int) IS
	'InitProducerId for a transactional id: a new producer id, or the next epoch after aborting the ongoing transaction.';

/*
 * The checks every coordinator API makes once it holds the transaction row:
 * 49 (INVALID_PRODUCER_ID_MAPPING) for an unknown transactional id or another
 * producer id, 90 (PRODUCER_FENCED) for another epoch, else 0.
 */
CREATE FUNCTION kafka.txn_check_producer(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, OUT error_code int, OUT state text)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR UPDATE;
	IF NOT FOUND OR t.producer_id IS DISTINCT FROM p_producer_id THEN
		error_code := 49;
	ELSIF t.producer_epoch IS DISTINCT FROM p_epoch THEN
		error_code := 90;
	ELSE
		error_code := 0;
		state := t.state;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.txn_check_producer(text, bigint, smallint) IS
	'Internal: lock a transaction row and check the producer id (49) and epoch (90) of a request.';

-- Ongoing from now on; the timeout runs from the first partition or group.
CREATE FUNCTION kafka.txn_set_ongoing(p_transactional_id text)
RETURNS void
LANGUAGE sql AS $$
	UPDATE kafka.transactions x
	SET state = 'Ongoing', started = coalesce(x.started, now()), updated = now()
	WHERE x.transactional_id = p_transactional_id
$$;

COMMENT ON FUNCTION kafka.txn_set_ongoing(text) IS
	'Internal: mark a transaction Ongoing, starting its timeout if it was not.';


/*
 * AddPartitionsToTxn: one row per input partition, in input order. All or
 * nothing: if a partition does not exist, it gets 3 and the others 55
 * (OPERATION_NOT_ATTEMPTED). Adding a partition again is fine. The
 * partitions are only added: their rows are not locked until a marker is
 * written, so this never waits for producers.
 */
CREATE FUNCTION kafka.add_partitions_to_txn(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, p_topics text[], p_partitions int[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	err int;
	missing boolean;
BEGIN
	SELECT c.error_code INTO err
	FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch) c;
	IF err = 0 THEN
		SELECT bool_or(p.topic IS NULL) INTO missing
		FROM unnest(p_topics, p_partitions) u(t, p)
		LEFT JOIN kafka.partitions p ON p.topic = u.t AND p.partition = u.p;
	END IF;
	IF err = 0 AND missing THEN
		RETURN QUERY
		SELECT u.t, u.p,
		       CASE WHEN EXISTS (SELECT 1 FROM kafka.partitions p
					 WHERE p.topic = u.t AND p.partition = u.p) THEN 55 ELSE 3 END
		FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n) ORDER BY u.n;
		RETURN;
	END IF;
	IF err = 0 AND cardinality(p_topics) > 0 THEN
		INSERT INTO kafka.txn_partitions AS x (transactional_id, topic, partition)
		SELECT DISTINCT p_transactional_id, u.t, u.p FROM unnest(p_topics, p_partitions) u(t, p)
		ON CONFLICT DO NOTHING;
		PERFORM kafka.txn_set_ongoing(p_transactional_id);
	END IF;
	RETURN QUERY
	SELECT u.t, u.p, err FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n) ORDER BY u.n;
END
$$;

COMMENT ON FUNCTION kafka.add_partitions_to_txn(text, bigint, smallint, text[], int[]) IS
	'AddPartitionsToTxn: add partitions to the ongoing transaction (all or none); an error code per partition.';

-- AddOffsetsToTxn: the group may then take TxnOffsetCommit in this transaction.
CREATE FUNCTION kafka.add_offsets_to_txn(p_transactional_id text, p_producer_id bigint,
	p_epoch smallint, p_group_id text, OUT error_code int)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT c.error_code INTO error_code
	FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch) c;
	IF error_code <> 0 THEN
		RETURN;
	END IF;
	INSERT INTO kafka.txn_groups (transactional_id, group_id)
	VALUES (p_transactional_id, coalesce(p_group_id, ''))
	ON CONFLICT DO NOTHING;
	PERFORM kafka.txn_set_ongoing(p_transactional_id);
END
$$;

COMMENT ON FUNCTION kafka.add_offsets_to_txn(text, bigint, smallint, text) IS
	'AddOffsetsToTxn: add a consumer group to the ongoing transaction.';

/*
 * TxnOffsetCommit: one row per input partition, in input order. The offsets
 * wait in kafka.txn_offsets until the transaction ends; for a partition given
 * twice the last one wins. A partition that does not exist (or a NULL entry,
 * which the broker never sends) gets 3, the others are stored.
 */
CREATE FUNCTION kafka.txn_offset_commit(p_transactional_id text, p_group_id text,
	p_producer_id bigint, p_epoch smallint, p_topics text[], p_partitions int[],
	p_offsets bigint[], p_leader_epochs int[], p_metadata text[])
RETURNS TABLE (topic text, partition int, error_code int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	chk record;
	err int;
BEGIN
	SELECT * INTO chk FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch);
	err := chk.error_code;
	IF err = 0 AND (chk.state <> 'Ongoing' OR NOT EXISTS (
			SELECT 1 FROM kafka.txn_groups g
			WHERE g.transactional_id = p_transactional_id AND g.group_id = p_group_id)) THEN
		err := 48; -- INVALID_TXN_STATE
	END IF;
	IF err <> 0 THEN
		RETURN QUERY
		SELECT u.t, u.p, err FROM unnest(p_topics, p_partitions) WITH ORDINALITY u(t, p, n)
		ORDER BY u.n;
		RETURN;
	END IF;

	INSERT INTO kafka.txn_offsets AS x
		(transactional_id, group_id, topic, partition, committed_offset, leader_epoch, metadata)
	SELECT DISTINCT ON (u.t, u.p) p_transactional_id, p_group_id, u.t, u.p, u.o,
	       coalesce(u.e, -1), u.m
	FROM unnest(p_topics, p_partitions, p_offsets, p_leader_epochs, p_metadata)
		WITH ORDINALITY u(t, p, o, e, m, n)
	JOIN kafka.partitions p ON p.topic = u.t AND p.partition = u.p
	WHERE u.o IS NOT NULL
	ORDER BY u.t, u.p, u.n DESC
	ON CONFLICT ON CONSTRAINT txn_offsets_pkey DO UPDATE
	SET committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
	    metadata = excluded.metadata;

	RETURN QUERY
	SELECT u.t, u.p,
	       CASE WHEN u.o IS NOT NULL AND EXISTS (SELECT 1 FROM kafka.partitions p
			WHERE p.topic = u.t AND p.partition = u.p) THEN 0 ELSE 3 END
	FROM unnest(p_topics, p_partitions, p_offsets) WITH ORDINALITY u(t, p, o, n)
	ORDER BY u.n;
END
$$;

COMMENT ON FUNCTION kafka.txn_offset_commit(text, text, bigint, smallint, text[], int[], bigint[],
	int[], text[]) IS
	'TxnOffsetCommit: store consumer offsets to be committed with the ongoing transaction; an error code per partition.';

/*
 * EndTxn: commit or abort the ongoing transaction. A retry of the outcome
 * already reached (CompleteCommit and commit, CompleteAbort and abort) is 0
 * and writes nothing; any other state is 48 (INVALID_TXN_STATE).
 * topics/partitions: where markers were written.
 */
CREATE FUNCTION kafka.end_txn(p_transactional_id text, p_producer_id bigint, p_epoch smallint,
	p_commit boolean, OUT error_code int, OUT topics text[], OUT partitions int[])
LANGUAGE plpgsql AS $$
DECLARE
	chk record;
BEGIN
	topics := '{}';
	partitions := '{}';
	SELECT * INTO chk FROM kafka.txn_check_producer(p_transactional_id, p_producer_id, p_epoch);
	error_code := chk.error_code;
	IF error_code <> 0 THEN
		RETURN;
	END IF;
	IF p_commit IS NULL THEN
		error_code := 48;
	ELSIF chk.state = 'Ongoing' THEN
		SELECT c.topics, c.partitions INTO topics, partitions
		FROM kafka.txn_complete(p_transactional_id, p_commit) c;
	ELSIF (p_commit AND chk.state <> 'CompleteCommit')
	   OR (NOT p_commit AND chk.state <> 'CompleteAbort') THEN
		error_code := 48;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.end_txn(text, bigint, smallint, boolean) IS
	'EndTxn: write commit or abort markers, commit the pending offsets, complete the transaction.';

/*
 * Abort every Ongoing transaction older than its timeout, and bump its epoch
 * so that its late producer is fenced. A transaction whose row is locked (a
 * producer or coordinator request is at work on it) is left for the next
 * round. One row per aborted transaction, with the partitions that got a
 * marker.
 */
CREATE FUNCTION kafka.abort_expired_transactions()
RETURNS TABLE (transactional_id text, topics text[], partitions int[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	x record;
	c record;
BEGIN
	FOR x IN
		SELECT t.transactional_id FROM kafka.transactions t
		WHERE t.state = 'Ongoing' AND t.started + t.timeout_ms * interval '1 millisecond' < now()
		ORDER BY t.transactional_id
		FOR UPDATE SKIP LOCKED
	LOOP
		SELECT * INTO c FROM kafka.txn_complete(x.transactional_id, false);
		PERFORM kafka.txn_bump_epoch(x.transactional_id);
		transactional_id := x.transactional_id;
		topics := c.topics;
		partitions := c.partitions;
		RETURN NEXT;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.abort_expired_transactions() IS
	'Abort the ongoing transactions that outlived their timeout and fence their producers.';

/*
 * Append one transactional batch: the arguments and result columns of
 * kafka.produce_idempotent(), plus the transactional id. The transactional id
 * must have this producer id, be Ongoing and hold the partition, else 48
 * (INVALID_TXN_STATE); another epoch is 47 (INVALID_PRODUCER_EPOCH), which is
 * what a fenced producer gets. produce_idempotent() then checks the sequence
 * and appends; a batch it wrote (not a retried duplicate: that one returns an
 * offset below the partition's next offset as it was before) records its
 * range in kafka.txn_batches and, if it is the transaction's first there, its
 * first offset in kafka.txn_partitions. An unknown partition returns a NULL
 * base as produce_idempotent() does.
 */
CREATE FUNCTION kafka.produce_transactional(
	p_topic text, p_partition int, p_count int, p_ts timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int, p_transactional_id text,
	OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	next_before bigint;
BEGIN
	error_code := 0;
	-- FOR SHARE: producers of one transaction do not wait for each other,
	-- but EndTxn (FOR UPDATE) waits for them, and they for it.
	SELECT x.producer_id, x.producer_epoch, x.state INTO t FROM kafka.transactions x
	WHERE x.transactional_id = p_transactional_id FOR SHARE;
	IF NOT FOUND OR t.producer_id IS DISTINCT FROM p_producer_id THEN
		error_code := 48;
		RETURN;
	ELSIF t.producer_epoch IS DISTINCT FROM p_epoch THEN
		error_code := 47;
		RETURN;
	END IF;
	IF t.state <> 'Ongoing' OR NOT EXISTS (
			SELECT 1 FROM kafka.txn_partitions tp
			WHERE tp.transactional_id = p_transactional_id
			  AND tp.topic = p_topic AND tp.partition = p_partition) THEN
		IF EXISTS (SELECT 1 FROM kafka.partitions p
			   WHERE p.topic = p_topic AND p.partition = p_partition) THEN
			error_code := 48;
		END IF;
		RETURN;
	END IF;

	-- Locked here already (produce_idempotent locks it again), to know
	-- whether the batch it returns was written now.
	SELECT p.next_offset INTO next_before FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition FOR UPDATE;
	SELECT * INTO base, log_start, lat, now_ms, maxb, error_code
	FROM kafka.produce_idempotent(p_topic, p_partition, p_count, p_ts, p_keys, p_values,
		p_headers, p_batch_bytes, p_default_max, p_producer_id, p_epoch, p_base_seq);
	IF error_code <> 0 OR base IS DISTINCT FROM next_before THEN
		RETURN;
	END IF;
	INSERT INTO kafka.txn_batches
		(topic, partition, base_offset, last_offset, producer_id, producer_epoch)
	VALUES (p_topic, p_partition, base, base + p_count - 1, p_producer_id, p_epoch)
	ON CONFLICT DO NOTHING;
	UPDATE kafka.txn_partitions tp SET first_offset = base
	WHERE tp.transactional_id = p_transactional_id
	  AND tp.topic = p_topic AND tp.partition = p_partition AND tp.first_offset IS NULL;
END
$$;

COMMENT ON FUNCTION kafka.produce_transactional(text, int, int, timestamptz[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, text) IS
	'Append one transactional batch: the transaction checks, then kafka.produce_idempotent(), then its range in kafka.txn_batches.';

/*
 * kafka.append_records(): the broker's insert of a produced batch
 * (decoder/append.c). It writes the rows as COPY does -- one WAL record
 * per heap page, no executor in between -- at the offsets the caller
 * reserved under the partition row lock; with insert triggers, rules or
 * row-level security on kafka.records it falls back to a plain INSERT.
 */
CREATE FUNCTION kafka.append_records(p_topic text, p_partition int, p_base bigint,
	p_log_append_time boolean, p_timestamps timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[])
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgk_append_records';

COMMENT ON FUNCTION kafka.append_records(text, int, bigint, boolean, timestamptz[], bytea[],
	bytea[], bytea[]) IS
	'Insert records at offsets p_base, p_base + 1, ... as one bulk write and return p_base; the caller must hold the partition row lock and have advanced next_offset past them.';

-- The idempotent append, unchanged but for writing its rows with
-- kafka.append_records().
CREATE OR REPLACE FUNCTION kafka.produce_idempotent(
	p_topic text, p_partition int, p_count int, p_ts timestamptz[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int,
	OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
	OUT maxb int, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	part record;
	st kafka.producer_state;
	last_seq int := ((p_base_seq::bigint + p_count - 1) % 2147483648)::int;
	nb int;
BEGIN
	SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),
			'CreateTime') = 'LogAppendTime',
	       coalesce(max(value) FILTER (WHERE name = 'max.message.bytes')::int, p_default_max)
	INTO lat, maxb
	FROM kafka.topic_configs WHERE topic = p_topic;
	now_ms := (extract(epoch FROM now()) * 1000)::int8;
	error_code := 0;
	IF p_batch_bytes > maxb THEN
		RETURN;
	END IF;
	SELECT p.next_offset, p.log_start_offset INTO part
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	log_start := part.log_start_offset;

	SELECT * INTO st FROM kafka.producer_state s
	WHERE s.topic = p_topic AND s.partition = p_partition AND s.producer_id = p_producer_id;
	IF FOUND THEN
		IF p_epoch < st.producer_epoch THEN
			error_code := 47; -- INVALID_PRODUCER_EPOCH
			RETURN;
		ELSIF p_epoch = st.producer_epoch THEN
			nb := array_length(st.last_seqs, 1);
			FOR i IN 1 .. nb LOOP
				IF st.first_seqs[i] = p_base_seq AND st.last_seqs[i] = last_seq THEN
					base := st.base_offsets[i];
					RETURN;
				END IF;
			END LOOP;
			IF NOT (p_base_seq::bigint = st.last_seqs[nb]::bigint + 1
				OR (p_base_seq = 0 AND st.last_seqs[nb] = 2147483647)) THEN
				error_code := 45; -- OUT_OF_ORDER_SEQUENCE_NUMBER
				RETURN;
			END IF;
		ELSIF p_base_seq <> 0 THEN
			error_code := 45; -- a new epoch starts at sequence 0
			RETURN;
		END IF;
	END IF;
	-- No state for this producer here: any sequence starts it, as in Kafka.

	base := part.next_offset;
	UPDATE kafka.partitions SET next_offset = next_offset + p_count
	WHERE topic = p_topic AND partition = p_partition;
	PERFORM kafka.append_records(p_topic, p_partition, base, lat, p_ts, p_keys, p_values,
		p_headers);

	IF st.producer_id IS NULL THEN
		INSERT INTO kafka.producer_state
			(topic, partition, producer_id, producer_epoch, first_seqs, last_seqs, base_offsets)
		VALUES (p_topic, p_partition, p_producer_id, p_epoch,
			ARRAY[p_base_seq], ARRAY[last_seq], ARRAY[base]);
	ELSIF p_epoch <> st.producer_epoch THEN
		UPDATE kafka.producer_state s
		SET producer_epoch = p_epoch, first_seqs = ARRAY[p_base_seq],
		    last_seqs = ARRAY[last_seq], base_offsets = ARRAY[base], updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	ELSE
		UPDATE kafka.producer_state s
		SET first_seqs = (s.first_seqs || p_base_seq)[greatest(1, nb - 3):],
		    last_seqs = (s.last_seqs || last_seq)[greatest(1, nb - 3):],
		    base_offsets = (s.base_offsets || base)[greatest(1, nb - 3):],
		    updated = now()
		WHERE s.topic = p_topic AND s.partition = p_partition
		  AND s.producer_id = p_producer_id;
	END IF;
END
$$;

