--
-- kafka.records in chunks (sql/pg_kafka--0.11.sql, "Records in chunks"):
-- the tables a topic gets, the next chunk created ahead of need, rows past
-- the chunks caught by the DEFAULT leaf, chunks below the log start dropped
-- whole, a deleted topic's tables detached and dropped, a topic created
-- again while its old tables are still there, and statements pruned to one
-- partition's chunks.
--
SET client_min_messages = warning;

-- The shape of a partition's tables, without their generated names.
CREATE FUNCTION pg_temp.shape(p_topic text)
RETURNS TABLE (kind text, partition int, lo bigint, hi bigint, parent_kind text, rows bigint)
LANGUAGE sql AS $$
	SELECT c.kind, c.partition, c.lo, c.hi,
	       (SELECT pc.kind FROM pg_inherits i
		JOIN kafka.chunks pc ON format('kafka_chunks.%I', pc.table_name)::regclass = i.inhparent
		WHERE i.inhrelid = format('kafka_chunks.%I', c.table_name)::regclass),
	       (SELECT count(*) FROM kafka.records r
		WHERE r.tableoid = format('kafka_chunks.%I', c.table_name)::regclass)
	FROM kafka.chunks c WHERE c.topic = p_topic
	ORDER BY c.partition NULLS FIRST, c.kind DESC, c.lo
$$;

-- a topic gets a table, each partition a table, a DEFAULT leaf and a first
-- chunk, in the creating transaction
SELECT kafka.create_topic('chunky', 2) IS NOT NULL AS created;
SELECT * FROM pg_temp.shape('chunky');
SELECT obj_description(format('kafka_chunks.%I', c.table_name)::regclass, 'pg_class') LIKE
	'Records of chunky-0, offsets 0 to 999: a chunk%' AS commented
FROM kafka.chunks c WHERE c.topic = 'chunky' AND c.kind = 'chunk' AND c.partition = 0;
-- growing the topic adds the new partition's tables
SELECT kafka.create_partitions('chunky', 3);
SELECT kind, partition, lo, hi FROM pg_temp.shape('chunky') WHERE partition = 2;

-- rows land in their partition's chunk
SELECT count(*) FROM (SELECT kafka.produce('chunky', 'k' || i, 'v' || i, '{}', 0)
		      FROM generate_series(1, 3) i) p;
SELECT kind, partition, lo, hi, rows FROM pg_temp.shape('chunky') WHERE partition = 0;

-- nothing to do until the chunk is half full
SELECT action, topic, partition, lo, hi FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide');
UPDATE kafka.partitions SET next_offset = 500 WHERE topic = 'chunky' AND partition = 0;
SELECT action, topic, partition, lo, hi FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide');
SELECT kafka.add_chunk('chunky', 0) LIKE 'records_%' AS added;
SELECT kind, lo, hi >= lo + 100 AS at_least_100 FROM pg_temp.shape('chunky')
WHERE partition = 0 AND kind = 'chunk';
SELECT action, topic, partition FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide');

-- behind: a row past the last chunk goes to the DEFAULT leaf, and the next
-- chunk starts past it and ahead of the producers
SELECT max(hi) AS last_hi FROM kafka.chunks WHERE topic = 'chunky' AND partition = 0 \gset
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", value)
VALUES ('chunky', 0, :last_hi + 5, now(), 'late');
UPDATE kafka.partitions SET next_offset = :last_hi + 6 WHERE topic = 'chunky' AND partition = 0;
SELECT kind, rows FROM pg_temp.shape('chunky') WHERE partition = 0 AND kind = 'default';
SELECT action, partition FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide');
SELECT kafka.add_chunk('chunky', 0) LIKE 'records_%' AS added;
SELECT lo > :last_hi + 6 AS past_the_producers, hi - lo >= 100 AS sized
FROM kafka.chunks WHERE topic = 'chunky' AND partition = 0 AND kind = 'chunk'
ORDER BY lo DESC LIMIT 1;
SELECT count(*) AS chunks FROM kafka.chunks WHERE topic = 'chunky' AND partition = 0 AND kind = 'chunk';

-- a chunk wholly below the log start is dropped with its rows; the one
-- holding the log start stays
UPDATE kafka.partitions SET log_start_offset = 1000 WHERE topic = 'chunky' AND partition = 0;
SELECT action, partition, lo, hi FROM kafka.chunk_work() WHERE action = 'drop' AND topic IN ('chunky', 'wide');
SELECT table_name AS first_chunk FROM kafka.chunks
WHERE topic = 'chunky' AND partition = 0 AND kind = 'chunk' AND lo = 0 \gset
SELECT kafka.drop_chunk(:'first_chunk') AS dropped, kafka.drop_chunk(:'first_chunk') AS again;
SELECT to_regclass('kafka_chunks.' || :'first_chunk') IS NULL AS table_gone;
SELECT count(*) AS records_left FROM kafka.records WHERE topic = 'chunky' AND partition = 0;
-- a chunk not yet below the log start is not dropped
SELECT kafka.drop_chunk(table_name) AS dropped FROM kafka.chunks
WHERE topic = 'chunky' AND partition = 0 AND kind = 'chunk' ORDER BY lo LIMIT 1;

-- statements with topic and partition as constants read one partition's
-- tables only, among a few hundred; so do prepared ones, each execution
-- planned with its parameters (as the broker's connections do)
CREATE FUNCTION pg_temp.scanned(q text)
RETURNS TABLE (topic text, partition int, kind text)
LANGUAGE plpgsql AS $$
DECLARE
	l text;
BEGIN
	FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		RETURN QUERY SELECT c.topic, c.partition, c.kind FROM kafka.chunks c
			     WHERE c.table_name = substring(l FROM ' on (records_[0-9]+)');
	END LOOP;
END
$$;
SELECT kafka.create_topic('wide', 150) IS NOT NULL AS created;
SELECT table_name AS wide_table FROM kafka.chunks WHERE topic = 'wide' AND kind = 'topic' \gset
SELECT count(*) AS leaves FROM pg_partition_tree(format('kafka_chunks.%I', :'wide_table')) WHERE isleaf;
SELECT * FROM pg_temp.scanned($$SELECT "offset" FROM kafka.records
	WHERE topic = 'wide' AND partition = 77 AND "offset" >= 0 ORDER BY "offset" LIMIT 10$$)
ORDER BY kind;
SET plan_cache_mode = force_custom_plan;
PREPARE fetch_some(text, int, bigint) AS
	SELECT "offset" FROM kafka.records
	WHERE topic = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT 10;
SELECT * FROM pg_temp.scanned($$EXECUTE fetch_some('wide', 77, 0)$$) ORDER BY kind;
DEALLOCATE fetch_some;
RESET plan_cache_mode;

-- a deleted topic's tables stay until the broker detaches them
-- (concurrently) and drops them
SELECT kafka.delete_topic('wide');
SELECT action, count(*) FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide') GROUP BY 1 ORDER BY 1;
SELECT kafka.drop_chunk(:'wide_table') AS dropped_while_attached;
ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.:wide_table CONCURRENTLY;
SELECT action, count(*) FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide') GROUP BY 1 ORDER BY 1;
SELECT kafka.drop_chunk(:'wide_table') AS dropped;
SELECT count(*) AS wide_tables FROM kafka.chunks WHERE topic = 'wide';
SELECT to_regclass(format('kafka_chunks.%I', :'wide_table')) IS NULL AS wide_gone;

-- a topic created again while the old one's tables are still attached:
-- they go in the creating transaction, with the old records
SELECT kafka.delete_topic('chunky');
SELECT count(*) AS old_records FROM kafka.records WHERE topic = 'chunky';
SELECT kafka.create_topic('chunky', 1) IS NOT NULL AS created;
SELECT count(*) AS records FROM kafka.records WHERE topic = 'chunky';
SELECT kind, partition, lo, hi, rows FROM pg_temp.shape('chunky');
SELECT action FROM kafka.chunk_work() WHERE topic IN ('chunky', 'wide');
SELECT count(*) FROM (SELECT kafka.produce('chunky', 'k', 'new', '{}', 0)) p;
SELECT topic, partition, "offset", value FROM kafka.records WHERE topic = 'chunky';

SELECT kafka.delete_topic('chunky');
SELECT table_name AS chunky_table FROM kafka.chunks WHERE topic = 'chunky' AND kind = 'topic' \gset
ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.:chunky_table CONCURRENTLY;
SELECT kafka.drop_chunk(:'chunky_table') AS dropped;
SELECT count(*) AS tables_left FROM kafka.chunks WHERE topic IN ('chunky', 'wide');
