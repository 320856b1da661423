/*
 * pg_kafka 0.1: the tables behind a Kafka broker, and the SQL API to manage
 * topics. One row of kafka.records is one Kafka record; the broker and any SQL
 * session may read and write these tables, and the pg_kafka logical decoding
 * output plugin streams the inserted record rows in commit order.
 */

\echo Use "CREATE EXTENSION pg_kafka" to load this file. \quit

-- Topic names as Kafka accepts them: 1 to 249 characters of [A-Za-z0-9._-],
-- and neither "." nor "..".
CREATE FUNCTION kafka.is_valid_topic_name(name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT name ~ '^[A-Za-z0-9._-]{1,249}$' AND name NOT IN ('.', '..')
$$;

COMMENT ON FUNCTION kafka.is_valid_topic_name(text) IS
	'True if the text is a legal Kafka topic name: 1 to 249 characters of [A-Za-z0-9._-], not "." or "..".';

CREATE TABLE kafka.topics (
	name text COLLATE "C" PRIMARY KEY
		CONSTRAINT topics_name_valid CHECK (kafka.is_valid_topic_name(name)),
	topic_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	partitions int NOT NULL CHECK (partitions > 0),
	replication_factor smallint NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE kafka.topics IS
	'Kafka topics. Deleting a row deletes the topic: its configs, partitions and records go with it.';
COMMENT ON COLUMN kafka.topics.name IS 'Topic name (Kafka rules, compared byte-wise).';
COMMENT ON COLUMN kafka.topics.topic_id IS 'Topic id, as returned in Metadata and used by Fetch v13+.';
COMMENT ON COLUMN kafka.topics.partitions IS
	'Number of partitions; kafka.partitions has one row for each of 0 .. partitions - 1.';
COMMENT ON COLUMN kafka.topics.replication_factor IS
	'Replication factor clients asked for; PostgreSQL does the replicating, the broker reports it.';
COMMENT ON COLUMN kafka.topics.created_at IS 'When the topic was created.';

CREATE TABLE kafka.topic_configs (
	topic text COLLATE "C" REFERENCES kafka.topics (name) ON DELETE CASCADE,
	name text NOT NULL,
	value text,
	PRIMARY KEY (topic, name)
);

COMMENT ON TABLE kafka.topic_configs IS
	'Per-topic configuration overrides (cleanup.policy, retention.ms, ...); absent keys take the broker default.';
COMMENT ON COLUMN kafka.topic_configs.topic IS 'The topic.';
COMMENT ON COLUMN kafka.topic_configs.name IS 'Kafka configuration key.';
COMMENT ON COLUMN kafka.topic_configs.value IS 'Its value as text; NULL for a key explicitly set to null.';

CREATE TABLE kafka.partitions (
	topic text COLLATE "C" REFERENCES kafka.topics (name) ON DELETE CASCADE,
	partition int NOT NULL CHECK (partition >= 0),
	next_offset bigint NOT NULL DEFAULT 0,
	log_start_offset bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (topic, partition),
	CONSTRAINT partitions_offsets_valid CHECK (0 <= log_start_offset AND log_start_offset <= next_offset)
);

COMMENT ON TABLE kafka.partitions IS
	'One row per topic partition. Producers allocate offsets by updating next_offset under this row''s lock, in the transaction that inserts the records.';
COMMENT ON COLUMN kafka.partitions.topic IS 'The topic.';
COMMENT ON COLUMN kafka.partitions.partition IS 'Partition number, 0 .. topic partitions - 1.';
COMMENT ON COLUMN kafka.partitions.next_offset IS
	'Offset the next record gets: the high watermark (records below it are committed).';
COMMENT ON COLUMN kafka.partitions.log_start_offset IS
	'First offset still readable; records below it are deleted or about to be.';

-- No foreign key to kafka.partitions: it would cost every insert a lookup,
-- and offsets are only allocated under the partition's row lock anyway.
CREATE TABLE kafka.records (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	"offset" bigint NOT NULL,
	"timestamp" timestamptz NOT NULL,
	key bytea,
	value bytea,
	headers bytea,
	PRIMARY KEY (topic, partition, "offset")
);

COMMENT ON TABLE kafka.records IS
	'Kafka records, one row each. Inserts are streamed by the pg_kafka output plugin in commit order.';
COMMENT ON COLUMN kafka.records.topic IS 'The topic.';
COMMENT ON COLUMN kafka.records.partition IS 'The partition.';
COMMENT ON COLUMN kafka.records."offset" IS 'The record''s offset in its partition.';
COMMENT ON COLUMN kafka.records."timestamp" IS
	'Record timestamp (create time from the producer, or log append time).';
COMMENT ON COLUMN kafka.records.key IS 'Record key; NULL for a null key.';
COMMENT ON COLUMN kafka.records.value IS 'Record value; NULL for a null value (a tombstone).';
COMMENT ON COLUMN kafka.records.headers IS
	'The record''s header section in Kafka wire encoding (varint count, then each header); NULL when it has none.';

-- Records have no foreign key, so deleting topics cleans them up here; this
-- also covers a plain DELETE FROM kafka.topics by hand.
CREATE FUNCTION kafka.topics_delete_records()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	DELETE FROM kafka.records r USING deleted_topics d WHERE r.topic = d.name;
	RETURN NULL;
END
$$;

CREATE TRIGGER topics_delete_records
	AFTER DELETE ON kafka.topics
	REFERENCING OLD TABLE AS deleted_topics
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.topics_delete_records();

CREATE FUNCTION kafka.topics_truncate_records()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	TRUNCATE kafka.records;
	RETURN NULL;
END
$$;

CREATE TRIGGER topics_truncate_records
	AFTER TRUNCATE ON kafka.topics
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.topics_truncate_records();

CREATE FUNCTION kafka.create_topic(name text, partitions int, configs jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	new_topic_id uuid;
	bad_key text;
BEGIN
	-- Checked here, before the table's CHECK constraint would, to raise
	-- invalid_name with a message that says what is wrong.
	IF name IS NULL OR NOT kafka.is_valid_topic_name(name) THEN
		RAISE EXCEPTION '%', CASE
			WHEN name IS NULL THEN 'topic name must not be null'
			WHEN name = '' THEN 'topic name must not be empty'
			WHEN name IN ('.', '..') THEN 'topic name cannot be "." or ".."'
			WHEN length(name) > 249 THEN
				format('topic name is %s characters long; the maximum is 249', length(name))
			ELSE format('topic name "%s" contains characters other than ASCII letters, digits, ".", "_" and "-"', name)
			END
			USING ERRCODE = 'invalid_name',
			      HINT = 'A topic name is 1 to 249 characters of [A-Za-z0-9._-], and not "." or "..".';
	END IF;
	IF partitions IS NULL OR partitions <= 0 THEN
		RAISE EXCEPTION 'number of partitions must be positive, not %', coalesce(partitions::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	configs := coalesce(configs, '{}');
	IF jsonb_typeof(configs) <> 'object' THEN
		RAISE EXCEPTION 'topic configs must be a JSON object, not %', jsonb_typeof(configs)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT c.key INTO bad_key
	FROM jsonb_each(configs) c
	WHERE jsonb_typeof(c.value) IN ('object', 'array')
	ORDER BY c.key
	LIMIT 1;
	IF bad_key IS NOT NULL THEN
		RAISE EXCEPTION 'value of topic config "%" must be a string, number, boolean or null', bad_key
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO kafka.topics AS t (name, partitions)
	VALUES (create_topic.name, create_topic.partitions)
	ON CONFLICT ON CONSTRAINT topics_pkey DO NOTHING
	RETURNING t.topic_id INTO new_topic_id;
	IF new_topic_id IS NULL THEN
		RAISE EXCEPTION 'topic "%" already exists', name
			USING ERRCODE = 'unique_violation';
	END IF;

	INSERT INTO kafka.partitions (topic, partition)
	SELECT create_topic.name, p
	FROM generate_series(0, create_topic.partitions - 1) p;

	INSERT INTO kafka.topic_configs (topic, name, value)
	SELECT create_topic.name, c.key, c.value #>> '{}'
	FROM jsonb_each(configs) c;

	RETURN new_topic_id;
END
$$;

COMMENT ON FUNCTION kafka.create_topic(text, int, jsonb) IS
	'Create a topic with partitions 0 .. partitions - 1 and the given config overrides (a JSON object of scalars); returns its topic id.';

CREATE FUNCTION kafka.create_partitions(name text, total int)
RETURNS void
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	current_count int;
BEGIN
	SELECT t.partitions INTO current_count
	FROM kafka.topics t
	WHERE t.name = create_partitions.name
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'topic "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF total IS NULL OR total <= current_count THEN
		RAISE EXCEPTION 'topic "%" has % partitions; the new total must be greater, not %',
				name, current_count, coalesce(total::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	INSERT INTO kafka.partitions (topic, partition)
	SELECT create_partitions.name, p
	FROM generate_series(current_count, total - 1) p;

	UPDATE kafka.topics t
	SET partitions = total
	WHERE t.name = create_partitions.name;
END
$$;

COMMENT ON FUNCTION kafka.create_partitions(text, int) IS
	'Grow a topic to total partitions; existing partitions keep their records and offsets.';

CREATE FUNCTION kafka.delete_topic(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	deleted int;
BEGIN
	-- Configs and partitions cascade; the trigger deletes the records.
	DELETE FROM kafka.topics t WHERE t.name = delete_topic.name;
	GET DIAGNOSTICS deleted = ROW_COUNT;
	RETURN deleted > 0;
END
$$;

COMMENT ON FUNCTION kafka.delete_topic(text) IS
	'Delete a topic with its configs, partitions and records; false if there was no such topic.';

-- The tables hold user data: pg_dump must dump their rows, not just the
-- CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('kafka.topics', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.topic_configs', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.partitions', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.records', '');
