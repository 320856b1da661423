--
-- kafka.read_records() (decoder/read.c) returns what the SELECT on
-- kafka.records it stands for returns: reads crossing from a chunk into the
-- next, rows the DEFAULT leaf holds before, between and after the chunks,
-- p_upto and p_limit cuts, empty and unknown partitions; the caller's
-- privileges and row security apply. kafka.read_records_packed() holds the
-- same rows in pieces, and stops at its byte cap.
--
SET client_min_messages = warning;

-- The records of read_records as read_records_packed lays them out after
-- each piece's two leading bytes: offset, ts, then key, value and headers
-- as a length (-1 for NULL) and bytes.
CREATE FUNCTION pg_temp.packed_body(p_topic text, p_partition int, p_from bigint, p_upto bigint,
	p_limit int)
RETURNS bytea
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(int8send(x."offset") || int8send(x.ts)
		|| coalesce(int4send(length(x.key)) || x.key, '\xffffffff')
		|| coalesce(int4send(length(x.value)) || x.value, '\xffffffff')
		|| coalesce(int4send(length(x.headers)) || x.headers, '\xffffffff'),
		'' ORDER BY x.n), '')
	FROM kafka.read_records(p_topic, p_partition, p_from, p_upto, p_limit)
		WITH ORDINALITY AS x("offset", ts, key, value, headers, n)
$$;

-- The pieces of read_records_packed, their records' bytes end to end, and
-- the flags of all of them together.
CREATE FUNCTION pg_temp.packed(p_topic text, p_partition int, p_from bigint, p_upto bigint,
	p_limit int, p_max_bytes int, OUT pieces int, OUT flags int, OUT body bytea)
LANGUAGE sql AS $$
	SELECT count(*)::int, coalesce(bit_or(get_byte(v, 1)), 0), coalesce(string_agg(substr(v, 3), '' ORDER BY n), '')
	FROM kafka.read_records_packed(p_topic, p_partition, p_from, p_upto, p_limit, p_max_bytes)
		WITH ORDINALITY AS x(v, n)
	WHERE get_byte(v, 0) = 1
$$;

-- What read_records returns against the plain query, the offsets read, and
-- whether read_records_packed (without a byte cap) holds the same rows.
CREATE FUNCTION pg_temp.check(p_topic text, p_partition int, p_from bigint, p_upto bigint,
	p_limit int)
RETURNS TABLE (same boolean, offsets bigint[], packed boolean)
LANGUAGE sql AS $$
	WITH f AS (SELECT array_agg(row(x."offset", x.ts, x.key, x.value, x.headers)::text
				    ORDER BY x.n) AS rows,
			  array_agg(x."offset" ORDER BY x.n) AS offsets
		   FROM kafka.read_records(p_topic, p_partition, p_from, p_upto, p_limit)
			WITH ORDINALITY AS x("offset", ts, key, value, headers, n)),
	     q AS (SELECT array_agg(row(r."offset", r.ts, r.key, r.value, r.headers)::text
				    ORDER BY r."offset") AS rows
		   FROM (SELECT r."offset",
				coalesce(r.timestamp_ms,
					 floor(extract(epoch FROM r."timestamp") * 1000)::int8) AS ts,
				r.key, r.value, r.headers
			 FROM kafka.records r
			 WHERE r.topic = p_topic AND r.partition = p_partition
			   AND r."offset" >= p_from AND r."offset" < p_upto
			 ORDER BY r."offset" LIMIT p_limit) r)
	SELECT f.rows IS NOT DISTINCT FROM q.rows, f.offsets,
	       (SELECT k.body = pg_temp.packed_body(p_topic, p_partition, p_from, p_upto, p_limit)
		       AND k.flags = 0
		FROM pg_temp.packed(p_topic, p_partition, p_from, p_upto, p_limit, NULL) k)
	FROM f, q
$$;

-- Partition 0 of rr: the first chunk [0, 1000) and two more, [1000, 1100)
-- and [1200, 1300); the DEFAULT leaf takes offsets below 0, 1100 .. 1199
-- and from 1300 on.
SELECT kafka.create_topic('rr', 2) IS NOT NULL AS created;
SELECT c.topic_id, c.topic_table, format('kafka_chunks.%I', c.table_name) AS part_table
FROM kafka.chunks c WHERE c.topic = 'rr' AND c.partition = 0 AND c.kind = 'partition' \gset
SELECT kafka.chunk_table('chunk', 'rr', :'topic_id', 0, 1000, 1100, :'topic_table', :'part_table',
			 'FOR VALUES FROM (1000) TO (1100)', NULL) LIKE 'records_%' AS added;
SELECT kafka.chunk_table('chunk', 'rr', :'topic_id', 0, 1200, 1300, :'topic_table', :'part_table',
			 'FOR VALUES FROM (1200) TO (1300)', NULL) LIKE 'records_%' AS added;
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", timestamp_ms, key, value, headers)
SELECT 'rr', 0, o, to_timestamp(o), o * 1000 + 7, ('k' || o)::bytea,
       CASE WHEN o % 5 <> 0 THEN ('v' || o)::bytea END,
       CASE WHEN o % 3 = 0 THEN kafka.encode_headers(ARRAY['h'], ARRAY[('x' || o)::bytea]) END
FROM unnest(ARRAY[-2, -1, 995, 996, 997, 998, 999, 1000, 1001, 1002, 1003, 1004,
		  1095, 1096, 1097, 1098, 1099, 1100, 1101, 1150, 1199,
		  1200, 1201, 1202, 1300, 1301, 5000]::bigint[]) o;
-- rows written before 0.7 have no timestamp_ms: their timestamp, in
-- milliseconds rounded down
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", value)
VALUES ('rr', 0, 1250, '2020-01-01 00:00:00.1237+00', 'old'),
       ('rr', 0, 1251, '1960-01-01 00:00:00.0005+00', 'older'),
       ('rr', 0, 1160, '1969-12-31 23:59:59.9999+00', 'gap');
UPDATE kafka.partitions SET next_offset = 5001 WHERE topic = 'rr' AND partition = 0;
SELECT kind, lo, hi,
       (SELECT array_agg(r."offset" ORDER BY r."offset") FROM kafka.records r
	WHERE r.tableoid = format('kafka_chunks.%I', c.table_name)::regclass) AS offsets
FROM kafka.chunks c WHERE c.topic = 'rr' AND c.partition = 0 AND c.kind IN ('chunk', 'default')
ORDER BY kind, lo;

-- everything, from before the first chunk to past the last
SELECT * FROM pg_temp.check('rr', 0, -100, 9223372036854775807, NULL);
-- starting inside a chunk and crossing into the next, the gap and the one after
SELECT * FROM pg_temp.check('rr', 0, 997, 9223372036854775807, 12);
SELECT * FROM pg_temp.check('rr', 0, 1096, 9223372036854775807, 6);
-- starting inside the DEFAULT leaf's ranges
SELECT * FROM pg_temp.check('rr', 0, 1101, 9223372036854775807, 4);
SELECT * FROM pg_temp.check('rr', 0, 1260, 9223372036854775807, 10);
SELECT * FROM pg_temp.check('rr', 0, 1302, 9223372036854775807, 10);
-- p_upto cuts inside a chunk, at a chunk's bound and inside a gap
SELECT * FROM pg_temp.check('rr', 0, 990, 1002, 100);
SELECT * FROM pg_temp.check('rr', 0, 990, 1100, 100);
SELECT * FROM pg_temp.check('rr', 0, 1099, 1151, 100);
-- p_limit cuts; nothing for a limit of 0 or an empty offset range
SELECT * FROM pg_temp.check('rr', 0, 0, 9223372036854775807, 1);
SELECT * FROM pg_temp.check('rr', 0, 0, 9223372036854775807, 0);
SELECT * FROM pg_temp.check('rr', 0, 1000, 1000, 10);
SELECT * FROM pg_temp.check('rr', 0, 1200, 1100, 10);
-- timestamps, from timestamp_ms or from the timestamp
SELECT "offset", ts FROM kafka.read_records('rr', 0, 1249, 1252, 10);
SELECT "offset", ts FROM kafka.read_records('rr', 0, 1160, 1161, 10);
-- an empty partition, an unknown partition and topic, NULLs
SELECT * FROM pg_temp.check('rr', 1, 0, 9223372036854775807, 10);
SELECT * FROM pg_temp.check('rr', 7, 0, 9223372036854775807, 10);
SELECT * FROM pg_temp.check('no-such-topic', 0, 0, 9223372036854775807, 10);
SELECT * FROM pg_temp.check(NULL, 0, 0, 9223372036854775807, 10);
SELECT * FROM pg_temp.check('rr', 0, NULL, 9223372036854775807, 10);
-- a negative limit is the query's error
SELECT * FROM kafka.read_records('rr', 0, 0, 10, -1);
SELECT kafka.read_records_packed('rr', 0, 0, 10, -1, NULL);
-- the byte cap: packing stops after the record that reaches it, and the
-- flags byte says so; a cap past the rows, or a limit reached first, does not
SELECT length(pg_temp.packed_body('rr', 0, 997, 9223372036854775807, 3)) AS three \gset
SELECT n, k.flags, k.body = pg_temp.packed_body('rr', 0, 997, 9223372036854775807, n) AS same
FROM (VALUES (1, 0), (1, 1), (3, :three), (4, :three + 1)) c(n, cap),
     pg_temp.packed('rr', 0, 997, 9223372036854775807, NULL, c.cap) k;
SELECT k.flags, k.body = pg_temp.packed_body('rr', 0, 997, 9223372036854775807, 3) AS same
FROM pg_temp.packed('rr', 0, 997, 9223372036854775807, 3, :three) k;
SELECT k.flags, k.body = pg_temp.packed_body('rr', 0, 997, 1002, NULL) AS same
FROM pg_temp.packed('rr', 0, 997, 1002, NULL, 100000) k;
-- nothing to read: no piece
SELECT count(*) FROM kafka.read_records_packed('rr', 0, 1000, 1000, 10, NULL);
SELECT count(*) FROM kafka.read_records_packed(NULL, 0, 0, 10, 10, NULL);
-- records produced the ordinary way
SELECT count(*) FROM (SELECT kafka.produce('rr', 'k' || i, 'v' || i, '{}', 1)
		      FROM generate_series(1, 5) i) p;
SELECT * FROM pg_temp.check('rr', 1, 0, 9223372036854775807, 10);
SELECT * FROM pg_temp.check('rr', 1, 2, 4, 10);
-- a read of many pieces: each starts at a record (its first offset) and
-- holds 64 KiB or more of them, but the last; called in a select list, as
-- Fetch calls it, and stopped early
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", timestamp_ms, value)
SELECT 'rr', 1, o, now(), o, convert_to(repeat('x', 200 + o % 50), 'UTF8')
FROM generate_series(3000, 4999) o;
SELECT * FROM pg_temp.check('rr', 1, 3000, 5000, NULL) \gset
SELECT :'same' AS same, cardinality(:'offsets'::int8[]) AS records, :'packed' AS packed;
SELECT row_number() OVER () AS n, length(v) - 2 >= 65536 AS full, get_byte(v, 0) AS format,
       get_byte(v, 1) AS flags, ('x' || encode(substr(v, 3, 8), 'hex'))::bit(64)::int8 AS first_offset
FROM (SELECT kafka.read_records_packed('rr', 1, 3000, 5000, NULL, NULL) AS v) x;
SELECT count(*) FROM (SELECT kafka.read_records_packed('rr', 1, 3000, 5000, NULL, NULL) LIMIT 2) x;
SELECT k.pieces, k.flags, k.body = pg_temp.packed_body('rr', 1, 3000, 5000, 600) AS same
FROM pg_temp.packed('rr', 1, 3000, 5000, 1000,
		    length(pg_temp.packed_body('rr', 1, 3000, 5000, 600))) k;

-- only the tables read are locked: the topic's, the partition's and the
-- leaves holding the offsets asked for
BEGIN;
SELECT array_agg("offset") FROM kafka.read_records('rr', 0, 995, 1001, 10);
SELECT c.kind, c.partition, c.lo FROM pg_locks l JOIN kafka.chunks c
	ON format('kafka_chunks.%I', c.table_name)::regclass = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.topic = 'rr'
ORDER BY c.partition NULLS FIRST, c.kind DESC, c.lo;
COMMIT;
BEGIN;
SELECT array_agg("offset") FROM kafka.read_records('rr', 0, 1150, 1201, 10);
SELECT c.kind, c.partition, c.lo FROM pg_locks l JOIN kafka.chunks c
	ON format('kafka_chunks.%I', c.table_name)::regclass = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.topic = 'rr'
ORDER BY c.partition NULLS FIRST, c.kind DESC, c.lo;
COMMIT;

-- and a read to the end of the partition locks the tables it reaches, not
-- those past its limit
BEGIN;
SELECT count(*) FROM (SELECT kafka.read_records_packed('rr', 0, 995, 9223372036854775807, 3,
							NULL)) x;
SELECT c.kind, c.partition, c.lo FROM pg_locks l JOIN kafka.chunks c
	ON format('kafka_chunks.%I', c.table_name)::regclass = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.topic = 'rr'
ORDER BY c.partition NULLS FIRST, c.kind DESC, c.lo;
COMMIT;

-- a table under kafka.records that is not read directly (here a chunk
-- partitioned by hash): the same rows, through the query
SELECT c.topic_table, format('kafka_chunks.%I', c.table_name) AS part_table
FROM kafka.chunks c WHERE c.topic = 'rr' AND c.partition = 1 AND c.kind = 'partition' \gset
SELECT kafka.chunk_table('chunk', 'rr', :'topic_id', 1, 1000, 2000, :'topic_table', :'part_table',
			 'FOR VALUES FROM (1000) TO (2000)', 'HASH ("offset")') AS hashed \gset
CREATE TABLE kafka_chunks.regress_rr_h0 PARTITION OF kafka_chunks.:hashed
	FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE kafka_chunks.regress_rr_h1 PARTITION OF kafka_chunks.:hashed
	FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", timestamp_ms, value)
SELECT 'rr', 1, o, now(), o, 'h' FROM generate_series(998, 1006) o;
SELECT * FROM pg_temp.check('rr', 1, 3, 9223372036854775807, 8);
SELECT * FROM pg_temp.check('rr', 1, 1002, 1005, 8);
-- read directly up to it, then through the query, across pieces
SELECT * FROM pg_temp.check('rr', 1, 0, 9223372036854775807, NULL) \gset
SELECT :'same' AS same, cardinality(:'offsets'::int8[]) AS records, :'packed' AS packed;
SELECT pieces FROM pg_temp.packed('rr', 1, 0, 9223372036854775807, NULL, NULL);

-- the caller's privileges: SELECT on kafka.records, or on the columns read
CREATE ROLE regress_rr_none;
GRANT USAGE ON SCHEMA kafka TO regress_rr_none;
SET ROLE regress_rr_none;
SELECT * FROM kafka.read_records('rr', 0, 0, 10, 10);
SELECT kafka.read_records_packed('rr', 0, 0, 10, 10, NULL);
RESET ROLE;
GRANT SELECT (topic, partition, "offset", "timestamp", timestamp_ms, key, value, headers)
	ON kafka.records TO regress_rr_none;
GRANT SELECT ON kafka.authorizer TO regress_rr_none;
SET ROLE regress_rr_none;
SELECT array_agg("offset") FROM kafka.read_records('rr', 0, 995, 1001, 10);
RESET ROLE;
REVOKE SELECT (headers) ON kafka.records FROM regress_rr_none;
SET ROLE regress_rr_none;
SELECT * FROM kafka.read_records('rr', 0, 0, 10, 10);
RESET ROLE;

-- row security: a role under a policy reads only the rows it lets it see
CREATE ROLE regress_rr_some;
GRANT USAGE ON SCHEMA kafka TO regress_rr_some;
GRANT SELECT ON kafka.records, kafka.authorizer TO regress_rr_some;
CREATE POLICY regress_rr_even ON kafka.records AS RESTRICTIVE FOR SELECT TO regress_rr_some
	USING ("offset" % 2 = 0);
SET ROLE regress_rr_some;
SELECT array_agg("offset") FROM kafka.read_records('rr', 0, 995, 1104, 100);
SELECT k.pieces, k.flags, k.body = pg_temp.packed_body('rr', 0, 995, 1104, 1) AS same
FROM pg_temp.packed('rr', 0, 995, 1104, 100, 1) k;
-- (half the records: half the pieces of the read above)
SELECT k.pieces, k.flags, k.body = pg_temp.packed_body('rr', 1, 0, 9223372036854775807, NULL) AS same
FROM pg_temp.packed('rr', 1, 0, 9223372036854775807, NULL, NULL) k;
SELECT * FROM pg_temp.check('rr', 0, -100, 9223372036854775807, NULL);
SELECT * FROM pg_temp.check('rr', 0, 997, 9223372036854775807, 5);
RESET ROLE;
-- the table's owner is not under it
SELECT array_agg("offset") FROM kafka.read_records('rr', 0, 995, 1002, 100);

DROP POLICY regress_rr_even ON kafka.records;
REVOKE ALL ON kafka.records, kafka.authorizer FROM regress_rr_none, regress_rr_some;
REVOKE ALL ON SCHEMA kafka FROM regress_rr_none, regress_rr_some;
DROP ROLE regress_rr_none;
DROP ROLE regress_rr_some;
SELECT kafka.delete_topic('rr');
SELECT table_name AS rr_table FROM kafka.chunks WHERE topic = 'rr' AND kind = 'topic' \gset
ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.:rr_table CONCURRENTLY;
SELECT kafka.drop_chunk(:'rr_table') AS dropped;
