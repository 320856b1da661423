/*
 * pg_kafka 0.6 -> 0.7: record timestamps stored exactly.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.7'" to load this file. \quit

ALTER TABLE kafka.records ADD COLUMN timestamp_ms bigint;

COMMENT ON COLUMN kafka.records."timestamp" IS
	'Record timestamp (create time from the producer, or log append time); -infinity or infinity where timestamp_ms is beyond what timestamptz holds.';
COMMENT ON COLUMN kafka.records.timestamp_ms IS
	'Record timestamp as Kafka has it: milliseconds since the Unix epoch, any bigint, -1 for none; NULL when "timestamp" is exact (rows written before 0.7 or by kafka.produce()).';

/*
 * ---- Exact record timestamps (0.7) ----
 *
 * A Kafka timestamp is any int64 (milliseconds since the Unix epoch, -1 for
 * none); timestamptz holds only part of that range, at microseconds. The
 * broker passes timestamps as bigint[] and kafka.records.timestamp_ms keeps
 * each as sent; the timestamptz column "timestamp" keeps the same instant
 * where PostgreSQL can hold it and -infinity/infinity beyond, for views and
 * queries. A NULL timestamp_ms (rows written before 0.7, or by
 * kafka.produce()) means "timestamp" is exact. The timestamptz[] forms of
 * the functions below stay for brokers older than 0.7.
 */

/*
 * The error Kafka's LogValidator finds in a batch for p_topic, 0 if none:
 * 32 (INVALID_TIMESTAMP) for a CreateTime timestamp other than -1 (none)
 * beyond the topic's message.timestamp.before.max.ms / after.max.ms of now
 * (no limit without them), or a batch that claims LogAppendTime
 * (p_log_append_batch, its attribute) on a LogAppendTime topic or with a
 * record without timestamp; else 87 (INVALID_RECORD) for a record without
 * key on a topic whose cleanup.policy includes compact.
 */
CREATE FUNCTION kafka.batch_error(p_topic text, p_ts bigint[], p_keys bytea[],
	p_log_append_batch boolean DEFAULT false)
RETURNS int
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	err int;
BEGIN
	-- plpgsql, not sql: a sql function called from a prepared statement is
	-- planned again at every call; plpgsql keeps its plan for the session,
	-- and every produce calls this.
	WITH l AS (
		SELECT coalesce(max(value) FILTER (WHERE name = 'message.timestamp.type'),
				'CreateTime') = 'LogAppendTime' AS lat,
		       max(value) FILTER (WHERE name = 'message.timestamp.before.max.ms')::numeric
			AS before_max,
		       max(value) FILTER (WHERE name = 'message.timestamp.after.max.ms')::numeric
			AS after_max,
		       coalesce('compact' = ANY(string_to_array(replace(
				max(value) FILTER (WHERE name = 'cleanup.policy'), ' ', ''), ',')),
				false) AS compact,
		       floor(extract(epoch FROM now()) * 1000) AS now_ms
		FROM kafka.topic_configs WHERE topic = p_topic)
	SELECT CASE
		WHEN p_log_append_batch AND (l.lat OR -1 = ANY(p_ts)) THEN 32
		WHEN NOT l.lat AND (l.before_max IS NOT NULL OR l.after_max IS NOT NULL)
		     AND EXISTS (SELECT 1 FROM unnest(p_ts) AS t(ms)
				 WHERE t.ms <> -1 AND (l.now_ms - t.ms > l.before_max
						       OR t.ms - l.now_ms > l.after_max)) THEN 32
		WHEN l.compact AND array_position(p_keys, NULL) IS NOT NULL THEN 87
		ELSE 0 END INTO err
	FROM l;
	RETURN err;
END
$$;

COMMENT ON FUNCTION kafka.batch_error(text, bigint[], bytea[], boolean) IS
	'The error Kafka''s LogValidator finds in a batch: 32 (INVALID_TIMESTAMP) for a timestamp beyond the topic''s message.timestamp.before/after.max.ms or a LogAppendTime batch Kafka refuses, 87 (INVALID_RECORD) for a keyless record on a compacted topic, else 0.';

CREATE FUNCTION kafka.append_records(p_topic text, p_partition int, p_base bigint,
	p_log_append_time boolean, p_timestamps bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[])
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'pgk_append_records';

COMMENT ON FUNCTION kafka.append_records(text, int, bigint, boolean, bigint[], bytea[],
	bytea[], bytea[]) IS
	'Insert records at offsets p_base, p_base + 1, ... as one bulk write and return p_base; the timestamps are Kafka''s milliseconds, kept exactly in timestamp_ms. The caller must hold the partition row lock and have advanced next_offset past them.';

/* kafka.produce_idempotent() with Kafka timestamps, checked against the
 * batch checks of kafka.batch_error() (error 32 or 87). */
CREATE FUNCTION kafka.produce_idempotent(
	p_topic text, p_partition int, p_count int, p_ts bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int,
	p_log_append_batch boolean DEFAULT false, OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
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
	error_code := kafka.batch_error(p_topic, p_ts, p_keys, p_log_append_batch);
	IF error_code <> 0 THEN
		RETURN;
	END IF;

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

COMMENT ON FUNCTION kafka.produce_idempotent(text, int, int, bigint[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, boolean) IS
	'Append one idempotent batch (Kafka timestamps) after checking it (kafka.batch_error()) and its sequence; a retried batch returns its first base offset.';

/* kafka.produce_transactional() with Kafka timestamps. */
CREATE FUNCTION kafka.produce_transactional(
	p_topic text, p_partition int, p_count int, p_ts bigint[], p_keys bytea[],
	p_values bytea[], p_headers bytea[], p_batch_bytes int, p_default_max int,
	p_producer_id bigint, p_epoch smallint, p_base_seq int, p_transactional_id text,
	p_log_append_batch boolean DEFAULT false, OUT base bigint, OUT log_start bigint, OUT lat boolean, OUT now_ms bigint,
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
		p_headers, p_batch_bytes, p_default_max, p_producer_id, p_epoch, p_base_seq,
		p_log_append_batch);
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

COMMENT ON FUNCTION kafka.produce_transactional(text, int, int, bigint[], bytea[], bytea[],
	bytea[], int, int, bigint, smallint, int, text, boolean) IS
	'Append one transactional batch (Kafka timestamps): the transaction checks, then kafka.produce_idempotent(), then its range in kafka.txn_batches.';
