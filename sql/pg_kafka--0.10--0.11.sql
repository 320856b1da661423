/*
 * pg_kafka 0.10 -> 0.11: the storage job's segment bookkeeping reads the new
 * records with one aggregate unless they fill a segment, and without JIT
 * (pg_kafka--0.11.sql, kafka.segments_extend()).
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.11'" to load this file. \quit

CREATE OR REPLACE FUNCTION kafka.segments_extend(p_topic text, p_partition int, p_defaults jsonb,
	p_budget bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
-- Its statements read a second's to a pass interval's new records: planned
-- as large, they were compiled by JIT each call (30 ms), which costs more
-- than the reading.
SET jit = off
AS $$
DECLARE
	part record;
	seg record;
	agg record;
	open_bytes bigint;
	pieces bigint[] := '{}';
	los bigint[] := '{}';
	firsts timestamptz[] := '{}';
	maxes timestamptz[] := '{}';
	ns bigint[] := '{}';
	sizes bigint[] := '{}';
	i int;
	scan_from bigint;
	scan_to bigint;
	seg_bytes bigint;
	seg_ms bigint;
	max_lag_ms numeric;
	compacted boolean;
BEGIN
	-- KEY SHARE: producers' updates of next_offset go on, but deleting the
	-- partition waits for this transaction, so no segment outlives it.
	SELECT p.next_offset, p.log_start_offset INTO part FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition
	FOR KEY SHARE;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	SELECT * INTO seg FROM kafka.segments s
	WHERE s.topic = p_topic AND s.partition = p_partition
	ORDER BY s.base_offset DESC LIMIT 1;
	scan_from := greatest(coalesce(seg.last_offset + 1, 0), part.log_start_offset);
	scan_to := least(part.next_offset, scan_from + greatest(p_budget, 1));
	seg_bytes := kafka.topic_setting(p_topic, 'segment.bytes', p_defaults)::bigint;
	seg_ms := kafka.topic_setting(p_topic, 'segment.ms', p_defaults)::bigint;
	compacted := 'compact' = ANY (string_to_array(replace(
		kafka.topic_setting(p_topic, 'cleanup.policy', p_defaults), ' ', ''), ','));
	max_lag_ms := CASE WHEN compacted
		THEN kafka.topic_setting(p_topic, 'max.compaction.lag.ms', p_defaults)::numeric END;

	-- The new records, cut where the running byte count crosses a multiple
	-- of segment.bytes; piece 0 extends the open segment. Most calls find
	-- fewer new bytes than the open segment has room for: one aggregate
	-- covers them. Only a range that fills a segment is read again, record
	-- by record, to find its cuts (a running sum, twice the work).
	open_bytes := CASE WHEN seg.base_offset IS NOT NULL AND NOT seg.rolled
				AND seg.last_offset + 1 = scan_from THEN seg.bytes END;
	SELECT min(r."timestamp") AS first_ts, max(r."timestamp") AS max_ts, count(*) AS n,
	       sum(32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
		   + coalesce(octet_length(r.headers), 0)) AS bytes
	INTO agg
	FROM kafka.records r
	WHERE r.topic = p_topic AND r.partition = p_partition
	  AND r."offset" >= scan_from AND r."offset" < scan_to;
	IF agg.n > 0 AND coalesce(open_bytes, 0) + agg.bytes < seg_bytes THEN
		pieces := ARRAY[0::bigint];
		los := ARRAY[scan_from];
		firsts := ARRAY[agg.first_ts];
		maxes := ARRAY[agg.max_ts];
		ns := ARRAY[agg.n];
		sizes := ARRAY[agg.bytes::bigint];
	ELSIF agg.n > 0 THEN
		FOR agg IN
			WITH r AS (
				SELECT r."offset", r."timestamp",
				       32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
					   + coalesce(octet_length(r.headers), 0) AS b
				FROM kafka.records r
				WHERE r.topic = p_topic AND r.partition = p_partition
				  AND r."offset" >= scan_from AND r."offset" < scan_to),
			w AS (
				SELECT r.*, sum(r.b) OVER (ORDER BY r."offset" ROWS UNBOUNDED PRECEDING) AS upto
				FROM r)
			SELECT (coalesce(open_bytes, 0) + w.upto - w.b) / seg_bytes AS piece,
			       min(w."offset") AS lo, min(w."timestamp") AS first_ts,
			       max(w."timestamp") AS max_ts, count(*) AS n, sum(w.b) AS bytes
			FROM w GROUP BY 1 ORDER BY 1
		LOOP
			pieces := pieces || agg.piece;
			los := los || CASE WHEN cardinality(los) = 0 THEN scan_from ELSE agg.lo END;
			firsts := firsts || agg.first_ts;
			maxes := maxes || agg.max_ts;
			ns := ns || agg.n;
			sizes := sizes || agg.bytes::bigint;
		END LOOP;
	END IF;
	IF scan_to > scan_from AND cardinality(los) = 0 THEN
		-- only offsets without rows (transaction markers, compacted gaps)
		los := ARRAY[scan_from];
		pieces := ARRAY[0::bigint];
		firsts := ARRAY[now()];
		maxes := ARRAY[now()];
		ns := ARRAY[0::bigint];
		sizes := ARRAY[0::bigint];
	END IF;
	FOR i IN 1 .. cardinality(los) LOOP
		IF i = 1 AND pieces[1] = 0 AND open_bytes IS NOT NULL THEN
			UPDATE kafka.segments s
			SET last_offset = CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
			    first_timestamp = least(s.first_timestamp, firsts[i]),
			    max_timestamp = greatest(s.max_timestamp, maxes[i]),
			    records = s.records + ns[i],
			    bytes = s.bytes + sizes[i]
			WHERE s.topic = p_topic AND s.partition = p_partition
			  AND s.base_offset = seg.base_offset;
		ELSE
			UPDATE kafka.segments s SET rolled = true
			WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled;
			INSERT INTO kafka.segments (topic, partition, base_offset, last_offset,
						    first_timestamp, max_timestamp, records, bytes)
			VALUES (p_topic, p_partition, los[i],
				CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
				firsts[i], maxes[i], ns[i], sizes[i]);
		END IF;
	END LOOP;

	-- Roll the open segment once it is full or old enough.
	UPDATE kafka.segments s SET rolled = true
	WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled
	  AND (s.bytes >= seg_bytes
	       OR now() - s.created >= seg_ms * interval '1 millisecond'
	       -- an infinite timestamp (a Kafka timestamp beyond PostgreSQL's
	       -- range) spans more than any segment.ms; subtracting it is an error
	       OR CASE WHEN s.max_timestamp = s.first_timestamp THEN false
		       WHEN NOT isfinite(s.max_timestamp) OR NOT isfinite(s.first_timestamp) THEN true
		       ELSE s.max_timestamp - s.first_timestamp >= seg_ms * interval '1 millisecond' END
	       OR (max_lag_ms IS NOT NULL AND max_lag_ms < 9.2e15
		   AND now() - s.created >= max_lag_ms * interval '1 millisecond'));
	RETURN greatest(scan_to - scan_from, 0);
END
$$;
