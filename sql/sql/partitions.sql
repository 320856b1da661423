--
-- kafka.create_partitions: growing a topic keeps existing partitions as they are.
--
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

UPDATE kafka.partitions SET next_offset = 42, log_start_offset = 40
WHERE topic = 'orders' AND partition = 1;

SELECT kafka.create_partitions('orders', 5);
SELECT partitions FROM kafka.topics WHERE name = 'orders';
SELECT * FROM kafka.partitions WHERE topic = 'orders' ORDER BY partition;

-- the count must grow: invalid_parameter_value
SELECT pg_temp.try($$SELECT kafka.create_partitions('orders', 5)$$);
SELECT pg_temp.try($$SELECT kafka.create_partitions('orders', 2)$$);
SELECT pg_temp.try($$SELECT kafka.create_partitions('orders', NULL)$$);
-- unknown topic: undefined_object
SELECT pg_temp.try($$SELECT kafka.create_partitions('nope', 3)$$);

SELECT partitions FROM kafka.topics WHERE name = 'orders';
SELECT count(*) AS partition_rows FROM kafka.partitions WHERE topic = 'orders';
