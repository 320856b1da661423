--
-- kafka.create_topic: the topic row, its partitions and configs, and the
-- errors (with their SQLSTATEs) for bad input.
--
-- Runs a statement and shows "ok" or the SQLSTATE and message it raised.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT kafka.create_topic('orders', 3) AS orders_id \gset
SELECT name, topic_id = :'orders_id' AS same_id, partitions, replication_factor,
       created_at <= now() AS created_before_now
FROM kafka.topics;
SELECT * FROM kafka.partitions ORDER BY topic, partition;
SELECT count(*) AS configs FROM kafka.topic_configs WHERE topic = 'orders';

-- configs: strings, numbers and booleans become text, JSON null becomes NULL
SELECT kafka.create_topic('logs', 1,
	'{"cleanup.policy": "compact", "retention.ms": 86400000, "preallocate": false,
	  "min.insync.replicas": null}') IS NOT NULL AS created;
SELECT topic, name, value, value IS NULL AS is_null
FROM kafka.topic_configs ORDER BY topic, name;
SELECT * FROM kafka.partitions WHERE topic = 'logs';

-- named arguments and an explicit NULL configs
SELECT kafka.create_topic(name => 'named', partitions => 2, configs => NULL) IS NOT NULL AS created;
SELECT count(*) AS named_partitions FROM kafka.partitions WHERE topic = 'named';

-- topic ids are distinct
SELECT count(DISTINCT topic_id) AS distinct_ids FROM kafka.topics;

-- duplicate names: unique_violation
SELECT pg_temp.try($$SELECT kafka.create_topic('orders', 1)$$);

-- invalid names: invalid_name
SELECT pg_temp.try(format('SELECT kafka.create_topic(%L, 1)', n)) AS result
FROM unnest(ARRAY['', '.', '..', 'has space', 'a/b', 'ü', repeat('x', 250), NULL]) n;
-- the longest legal name, and names Kafka accepts that look odd
SELECT pg_temp.try(format('SELECT kafka.create_topic(%L, 1)', n)) AS result
FROM unnest(ARRAY[repeat('x', 249), '...', '_-.9']) n;

-- partition counts: invalid_parameter_value
SELECT pg_temp.try($$SELECT kafka.create_topic('p0', 0)$$);
SELECT pg_temp.try($$SELECT kafka.create_topic('p1', -1)$$);
SELECT pg_temp.try($$SELECT kafka.create_topic('p2', NULL)$$);

-- configs must be an object of scalars: invalid_parameter_value
SELECT pg_temp.try($$SELECT kafka.create_topic('c1', 1, '[1, 2]')$$);
SELECT pg_temp.try($$SELECT kafka.create_topic('c2', 1, '{"a": {"b": 1}}')$$);
SELECT pg_temp.try($$SELECT kafka.create_topic('c3', 1, '{"a": 1, "b": [1]}')$$);

-- failed calls left nothing behind
SELECT left(name, 10) AS name, length(name) FROM kafka.topics ORDER BY name;
SELECT left(topic, 10) AS topic, count(*) AS partitions FROM kafka.partitions GROUP BY topic ORDER BY topic;
SELECT kafka.delete_topic(repeat('x', 249));

-- the table itself refuses bad rows written by hand
SELECT pg_temp.try($$INSERT INTO kafka.topics (name, partitions) VALUES ('bad name', 1)$$);
SELECT pg_temp.try($$INSERT INTO kafka.topics (name, partitions) VALUES ('zero', 0)$$);
SELECT pg_temp.try($$INSERT INTO kafka.partitions (topic, partition) VALUES ('nope', 0)$$);
SELECT pg_temp.try($$INSERT INTO kafka.partitions (topic, partition) VALUES ('orders', -1)$$);
SELECT pg_temp.try($$UPDATE kafka.partitions SET log_start_offset = 10 WHERE topic = 'orders'$$);
