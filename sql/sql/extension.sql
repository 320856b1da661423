--
-- The extension installs into schema kafka and owns exactly these objects.
--
CREATE EXTENSION pg_kafka;

SELECT e.extname, e.extversion, n.nspname AS schema, e.extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_kafka';

SELECT pg_describe_object(classid, objid, objsubid) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_kafka')
  AND deptype = 'e'
ORDER BY 1;

-- pg_dump dumps the rows of every table
SELECT t::regclass AS dumped_table
FROM pg_extension e, unnest(e.extconfig) t
WHERE e.extname = 'pg_kafka'
ORDER BY t::regclass::text;

\d kafka.topics
\d kafka.topic_configs
\d kafka.partitions
\d kafka.records

-- every table and column is documented
SELECT c.relname, a.attname
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'kafka'::regnamespace AND c.relkind = 'r'
  AND col_description(c.oid, a.attnum) IS NULL
UNION ALL
SELECT c.relname, NULL
FROM pg_class c
WHERE c.relnamespace = 'kafka'::regnamespace AND c.relkind = 'r'
  AND obj_description(c.oid, 'pg_class') IS NULL;

-- the extension can be dropped and created again
DROP EXTENSION pg_kafka;
SELECT count(*) AS kafka_tables_left FROM pg_class WHERE relname IN ('topics', 'topic_configs', 'partitions', 'records') AND relnamespace::regnamespace::text = 'kafka';
-- (the schema is not the extension's: CREATE EXTENSION made it, but it stays)
SELECT nspname FROM pg_namespace WHERE nspname = 'kafka';
CREATE EXTENSION pg_kafka;

-- topic name rules
SELECT CASE WHEN length(n) > 20 THEN format('%s... (%s chars)', left(n, 3), length(n)) ELSE n END AS name,
       kafka.is_valid_topic_name(n) AS valid
FROM unnest(ARRAY['orders', 'a.b_c-D9', '...', '.', '..', '', 'has space', 'a/b', 'ü',
		  repeat('x', 249), repeat('x', 250)]) n;
