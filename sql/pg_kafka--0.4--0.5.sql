/*
 * pg_kafka 0.5: idempotent producers (docs/IDEMPOTENCE.md).
 *
 *  - kafka.producer_ids: the sequence InitProducerId draws new ids from.
 *  - kafka.producers: every producer id handed out and its current epoch.
 *  - kafka.producer_state: per producer and partition, the epoch and the
 *    sequence numbers and base offsets of its last five batches, which is
 *    what a Kafka broker keeps to recognise a retried batch.
 *  - kafka.produce_idempotent(): checks a batch's sequence against that
 *    state and appends it, in one statement, under the partition row lock.
 *  - kafka.init_producer_id(): a new id at epoch 0, or an epoch bump.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.5'" to load this file. \quit

CREATE SEQUENCE kafka.producer_ids AS bigint MINVALUE 0 START 0;

CREATE TABLE kafka.producers (
	producer_id bigint PRIMARY KEY,
	producer_epoch smallint NOT NULL CHECK (producer_epoch >= 0),
	updated timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE kafka.producers IS
	'Producer ids handed out by InitProducerId and their current epochs.';
COMMENT ON COLUMN kafka.producers.producer_id IS 'The producer id.';
COMMENT ON COLUMN kafka.producers.producer_epoch IS 'Its current epoch.';
COMMENT ON COLUMN kafka.producers.updated IS 'When the id was handed out or its epoch bumped.';

CREATE TABLE kafka.producer_state (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	producer_id bigint NOT NULL,
	producer_epoch smallint NOT NULL,
	first_seqs int[] NOT NULL,
	last_seqs int[] NOT NULL,
	base_offsets bigint[] NOT NULL,
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (topic, partition, producer_id),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition)
		ON DELETE CASCADE
);

COMMENT ON TABLE kafka.producer_state IS
	'Per idempotent producer and partition: its epoch and its last five batches (oldest first), to detect retried and out-of-order batches.';
COMMENT ON COLUMN kafka.producer_state.topic IS 'The topic.';
COMMENT ON COLUMN kafka.producer_state.partition IS 'The partition.';
COMMENT ON COLUMN kafka.producer_state.producer_id IS 'The producer id.';
COMMENT ON COLUMN kafka.producer_state.producer_epoch IS 'The epoch of the batches below.';
COMMENT ON COLUMN kafka.producer_state.first_seqs IS 'First sequence number of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.last_seqs IS 'Last sequence number of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.base_offsets IS 'Offset of the first record of each remembered batch.';
COMMENT ON COLUMN kafka.producer_state.updated IS 'When the last batch was appended.';

SELECT pg_catalog.pg_extension_config_dump('kafka.producers', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.producer_state', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.producer_ids', '');

/*
 * Append one idempotent batch: the same arguments and result columns as the
 * broker's plain produce statement, plus the producer id, epoch and base
 * sequence, and a Kafka error code as the last column (0, 45 or 47). A
 * retried batch (same epoch, first and last sequence as one of the last five)
 * is not written again: its original base offset is returned.
 * No row from the partition (unknown partition, batch too large) returns a
 * NULL base, as the plain statement does.
 */
CREATE FUNCTION kafka.produce_idempotent(
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
	INSERT INTO kafka.records (topic, partition, "offset", "timestamp", key, value, headers)
	SELECT p_topic, p_partition, base + r.n - 1, CASE WHEN lat THEN now() ELSE r.ts END,
	       r.k, r.v, r.h
	FROM unnest(p_ts, p_keys, p_values, p_headers) WITH ORDINALITY AS r(ts, k, v, h, n);

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

COMMENT ON FUNCTION kafka.produce_idempotent(text, int, int, timestamptz[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int) IS
	'Append one idempotent batch after checking its sequence; a retried batch returns its first base offset.';

/*
 * InitProducerId without a transactional id. p_producer_id = -1: a new id at
 * epoch 0. Otherwise (KIP-360, a producer recovering from an error) the epoch
 * is bumped if p_epoch is the current one; at the largest epoch the producer
 * gets a new id instead. error_code 90 (PRODUCER_FENCED) when the id is
 * unknown or the epoch is not the current one; the broker answers 47 to v3.
 */
CREATE FUNCTION kafka.init_producer_id(p_producer_id bigint, p_epoch smallint,
	OUT producer_id bigint, OUT producer_epoch smallint, OUT error_code int)
LANGUAGE plpgsql AS $$
DECLARE
	cur smallint;
BEGIN
	error_code := 0;
	IF p_producer_id >= 0 THEN
		SELECT p.producer_epoch INTO cur FROM kafka.producers p
		WHERE p.producer_id = p_producer_id FOR UPDATE;
		IF NOT FOUND OR cur <> p_epoch THEN
			producer_id := -1;
			producer_epoch := -1;
			error_code := 90;
			RETURN;
		END IF;
		IF cur < 32766 THEN
			UPDATE kafka.producers p SET producer_epoch = cur + 1, updated = now()
			WHERE p.producer_id = p_producer_id;
			producer_id := p_producer_id;
			producer_epoch := cur + 1;
			RETURN;
		END IF;
	END IF;
	producer_id := nextval('kafka.producer_ids');
	producer_epoch := 0;
	INSERT INTO kafka.producers (producer_id, producer_epoch) VALUES (producer_id, 0);
END
$$;

COMMENT ON FUNCTION kafka.init_producer_id(bigint, smallint) IS
	'InitProducerId for idempotent producers: a new producer id, or the next epoch of an existing one.';
