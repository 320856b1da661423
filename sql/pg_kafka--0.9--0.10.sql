/*
 * pg_kafka 0.9 -> 0.10: kafka.read_records_packed(), what the broker's Fetch
 * reads (pg_kafka--0.10.sql, "Reading a partition's records"); the size of
 * a new chunk worked out before its partition's producers wait; the
 * storage job's log start moves skip a partition row a producer holds.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.10'" to load this file. \quit

/*
 * What the broker's Fetch reads: the rows of kafka.read_records() for its
 * first five arguments, packed into pieces of about 64 KiB (decoder/read.c
 * has the layout), up to about p_max_bytes. A Fetch reads thousands of
 * records, and as rows each costs a tuplestore copy, a projection, a send
 * function per column and a protocol message; packed they cost a copy
 * into a piece. Called in a select list, the pieces go out as they are
 * read, so a read of any size holds no more than a piece in memory.
 */
CREATE FUNCTION kafka.read_records_packed(p_topic text, p_partition int, p_from bigint,
	p_upto bigint, p_limit int, p_max_bytes int)
RETURNS SETOF bytea
LANGUAGE C STABLE SECURITY INVOKER ROWS 16
AS 'MODULE_PATHNAME', 'pgk_read_records_packed';

COMMENT ON FUNCTION kafka.read_records_packed(text, int, bigint, bigint, int, int) IS
	'The records kafka.read_records() returns, packed for the broker''s Fetch into pieces of about 64 KiB, each a format byte (1), a flags byte, then per record offset and ts (8-byte) and key, value and headers as 4-byte length (-1 NULL) and bytes, big-endian. Stops after the record that brings the records'' bytes to p_max_bytes (NULL: 256 MB), and then, unless p_limit stopped it too, sets flag 1 in the last piece.';

/*
 * Add a partition's next chunk, after its last one, or past the rows its
 * DEFAULT leaf caught when the job fell behind (those stay there and are
 * deleted as rows once below the log start). Attaching scans the DEFAULT
 * leaf; a lock not granted within p_lock_timeout_ms gives up (an error)
 * and the next pass tries again. One short transaction per chunk.
 *
 * The partition's table is locked in SHARE mode before the bounds are
 * chosen: producers of the partition wait for the rest of this transaction
 * (fetches do not), so the chunk's size is worked out and its table and
 * primary key are created before, and attaching only checks the DEFAULT
 * leaf and links them. An insert routes
 * its rows with the list of chunks it read when it reached the partition's
 * table; had it read that list before the new chunk was attached and
 * written a row of the new chunk's range into the DEFAULT leaf after, that
 * row would break the DEFAULT leaf's new partition constraint and the
 * produce would fail.
 */
CREATE OR REPLACE FUNCTION kafka.add_chunk(p_topic text, p_partition int, p_defaults jsonb DEFAULT '{}',
	p_lock_timeout_ms int DEFAULT 200)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	last record;
	parent text;
	dflt text;
	t text := 'records_' || nextval('kafka.chunk_ids');
	lo bigint;
	span bigint;
	n bigint;
BEGIN
	PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
	-- The partition's producers wait for this commit: not also for its
	-- WAL flush (lost in a crash, the chunk is simply created again).
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT c.* INTO last FROM kafka.chunks c JOIN kafka.topics t ON t.topic_id = c.topic_id
	WHERE c.topic = p_topic AND c.partition = p_partition AND c.kind = 'chunk'
	ORDER BY c.lo DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT c.table_name INTO parent FROM kafka.chunks c
	WHERE c.topic_table = last.topic_table AND c.partition = p_partition AND c.kind = 'partition';
	SELECT c.table_name INTO dflt FROM kafka.chunks c
	WHERE c.topic_table = last.topic_table AND c.partition = p_partition AND c.kind = 'default';
	-- The chunk's size, the table and the index ATTACH would build, while
	-- producers go on.
	span := kafka.chunk_span(p_topic, p_partition, p_defaults);
	EXECUTE format('CREATE TABLE kafka_chunks.%I (LIKE kafka.records)%s', t,
		       (SELECT ' TABLESPACE ' || quote_ident(ts.spcname)
			FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
			WHERE c.oid = format('kafka_chunks.%I', parent)::regclass));
	EXECUTE format('ALTER TABLE kafka_chunks.%I ADD PRIMARY KEY (topic, partition, "offset")', t);
	EXECUTE format('LOCK TABLE kafka_chunks.%I IN SHARE MODE', parent);
	EXECUTE format('SELECT max("offset") + 1 FROM kafka_chunks.%I', dflt) INTO lo;
	-- Behind: producers are writing into the DEFAULT leaf, so the chunk
	-- starts far enough ahead of them that none reaches it before it is
	-- attached (attaching fails if the DEFAULT leaf has a row for it).
	SELECT CASE WHEN p.next_offset >= last.hi THEN p.next_offset + span / 4 END INTO n
	FROM kafka.partitions p WHERE p.topic = p_topic AND p.partition = p_partition;
	lo := greatest(last.hi, lo, n);
	EXECUTE format('ALTER TABLE kafka_chunks.%I ATTACH PARTITION kafka_chunks.%I'
		       ' FOR VALUES FROM (%s) TO (%s)', parent, t, lo, lo + span);
	EXECUTE format('COMMENT ON TABLE kafka_chunks.%I IS %L', t,
		       format('Records of %s-%s, offsets %s to %s: a chunk, dropped whole once the log start offset passes it (under kafka.records).',
			      p_topic, p_partition, lo, lo + span - 1));
	INSERT INTO kafka.chunks (table_name, kind, topic, topic_id, partition, lo, hi, topic_table)
	VALUES (t, 'chunk', p_topic, last.topic_id, p_partition, lo, lo + span, last.topic_table);
	RETURN t;
END
$$;

/*
 * The background job, one call per interval from the broker: on one
 * session at a time across every broker of the database (a transaction
 * advisory lock; the others return at once), it purges at most p_budget
 * rows, extends and rolls segments, compacts, and moves log start offsets
 * where retention says. The log start offsets move last, so the partition
 * row locks producers wait on are held only until the call commits, and a
 * move skips a partition whose row a producer holds (until more records
 * lie below its new log start than above it), so that producers never
 * queue behind the pass. Returns
 * one row per action for the broker's log: action is 'purged' (rows below a
 * log start offset), 'topic' (rows of a deleted topic), 'compacted',
 * 'retention' (log start offset moved to to_offset), 'segments' (a
 * partition had more new records than p_budget: call again) or 'producers'
 * (from_offset idle producer states and to_offset transactional ids
 * expired, when p_defaults has producer.id.expiration.ms and
 * transactional.id.expiration.ms).
 */
CREATE OR REPLACE FUNCTION kafka.run_maintenance(p_defaults jsonb DEFAULT '{}', p_budget bigint DEFAULT 100000,
	OUT action text, OUT topic text, OUT partition int, OUT from_offset bigint,
	OUT to_offset bigint, OUT records bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	p record;
	pr record;
	n bigint;
	point bigint;
	moves text[] := '{}';
	move_parts int[] := '{}';
	move_points bigint[] := '{}';
	i int;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('pg_kafka maintenance')) THEN
		RETURN;
	END IF;
	-- The pass's commit does not wait for its WAL to reach disk: producers
	-- waiting on a partition row it updated go on as soon as it commits.
	-- Lost in a crash, the pass is simply done again.
	PERFORM set_config('synchronous_commit', 'off', true);
	p_defaults := coalesce(p_defaults, '{}');

	FOR pr IN SELECT * FROM kafka.purge_records(p_budget) LOOP
		action := CASE WHEN EXISTS (SELECT FROM kafka.partitions x
					    WHERE x.topic = pr.topic AND x.partition = pr.partition)
			       THEN 'purged' ELSE 'topic' END;
		topic := pr.topic;
		partition := pr.partition;
		from_offset := pr.from_offset;
		to_offset := pr.to_offset;
		records := pr.removed;
		RETURN NEXT;
	END LOOP;

	FOR p IN SELECT x.topic, x.partition FROM kafka.partitions x ORDER BY 1, 2 LOOP
		n := kafka.segments_extend(p.topic, p.partition, p_defaults, p_budget);
		IF n >= p_budget THEN
			action := 'segments';
			topic := p.topic;
			partition := p.partition;
			from_offset := NULL;
			to_offset := (SELECT max(s.last_offset) + 1 FROM kafka.segments s
				      WHERE s.topic = p.topic AND s.partition = p.partition);
			records := n;
			RETURN NEXT;
		END IF;
		n := kafka.compact_partition(p.topic, p.partition, p_defaults);
		IF n > 0 THEN
			action := 'compacted';
			topic := p.topic;
			partition := p.partition;
			from_offset := NULL;
			to_offset := NULL;
			records := n;
			RETURN NEXT;
		END IF;
		point := kafka.retention_point(p.topic, p.partition, p_defaults);
		IF point IS NOT NULL THEN
			moves := moves || p.topic;
			move_parts := move_parts || p.partition;
			move_points := move_points || point;
		END IF;
	END LOOP;

	IF p_defaults ? 'producer.id.expiration.ms' AND p_defaults ? 'transactional.id.expiration.ms' THEN
		SELECT * INTO pr FROM kafka.expire_producers(
			(p_defaults ->> 'producer.id.expiration.ms')::bigint,
			(p_defaults ->> 'transactional.id.expiration.ms')::bigint);
		IF pr.producer_states + pr.transactional_ids > 0 THEN
			action := 'producers';
			topic := NULL;
			partition := NULL;
			from_offset := pr.producer_states;
			to_offset := pr.transactional_ids;
			records := NULL;
			RETURN NEXT;
		END IF;
	END IF;

	FOR i IN 1 .. coalesce(array_length(moves, 1), 0) LOOP
		-- A producer of the partition holds its row until it commits: the
		-- move waits for none (the next pass moves it), or producers
		-- would queue behind it, until more records lie below the point
		-- than above it.
		IF EXISTS (SELECT FROM kafka.partitions y
			   WHERE y.topic = moves[i] AND y.partition = move_parts[i]
			     AND y.next_offset - move_points[i] < move_points[i] - y.log_start_offset) THEN
			UPDATE kafka.partitions x SET log_start_offset = move_points[i]
			WHERE x.topic = moves[i] AND x.partition = move_parts[i]
			  AND x.log_start_offset < move_points[i]
			RETURNING x.log_start_offset INTO to_offset;
		ELSE
			UPDATE kafka.partitions x SET log_start_offset = move_points[i]
			WHERE x.ctid = (SELECT y.ctid FROM kafka.partitions y
					WHERE y.topic = moves[i] AND y.partition = move_parts[i]
					  AND y.log_start_offset < move_points[i]
					FOR NO KEY UPDATE SKIP LOCKED)
			RETURNING x.log_start_offset INTO to_offset;
		END IF;
		IF FOUND THEN
			action := 'retention';
			topic := moves[i];
			partition := move_parts[i];
			from_offset := NULL;
			records := NULL;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;
