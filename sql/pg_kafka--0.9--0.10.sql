/*
 * pg_kafka 0.9 -> 0.10: kafka.read_records_packed(), what the broker's Fetch
 * reads (pg_kafka--0.10.sql, "Reading a partition's records").
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
