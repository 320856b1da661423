/*
 * pg_kafka 0.9 -> 0.10: kafka.read_records_packed(), what the broker's Fetch
 * reads (pg_kafka--0.10.sql, "Reading a partition's records"); the size of
 * a new chunk worked out before its partition's producers wait.
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
