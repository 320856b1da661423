/*
 * pg_kafka 0.8 -> 0.9.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.9'" to load this file. \quit

/*
 * ---- Consumer groups of the KIP-848 protocol (0.9) ----
 *
 * A group of the consumer protocol (ConsumerGroupHeartbeat) keeps its state
 * here, so that a broker restart, or the move of the group to another
 * coordinator, keeps every member's epoch and assignment: the coordinator
 * writes the group when a heartbeat changes it, before it answers, and reads
 * it back when it becomes the group's coordinator. Committed offsets stay in
 * kafka.consumer_offsets, as for classic groups. Assignments are jsonb
 * objects from topic id to the sorted array of its partitions.
 */

CREATE TABLE kafka.consumer_groups (
	group_id text COLLATE "C" PRIMARY KEY,
	group_epoch int NOT NULL CHECK (group_epoch >= 0),
	assignment_epoch int NOT NULL CHECK (assignment_epoch >= 0),
	assignor text,
	metadata_hash bigint NOT NULL DEFAULT 0,
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (assignment_epoch <= group_epoch)
);

COMMENT ON TABLE kafka.consumer_groups IS
	'Consumer groups of the KIP-848 consumer protocol (group type "consumer"), one row each; their members are in kafka.consumer_group_members.';
COMMENT ON COLUMN kafka.consumer_groups.group_id IS 'The consumer group (group.id).';
COMMENT ON COLUMN kafka.consumer_groups.group_epoch IS
	'The group epoch: bumped whenever a member joins or leaves or a subscription or the topics it covers change.';
COMMENT ON COLUMN kafka.consumer_groups.assignment_epoch IS
	'The group epoch the target assignment was computed for.';
COMMENT ON COLUMN kafka.consumer_groups.assignor IS
	'The server-side assignor (uniform or range) the target assignment was computed with.';
COMMENT ON COLUMN kafka.consumer_groups.metadata_hash IS
	'Hash of the subscribed topics'' metadata the target assignment was computed from; a coordinator that loads the group and sees other metadata computes a new one.';
COMMENT ON COLUMN kafka.consumer_groups.updated_at IS 'When the coordinator last wrote the group.';

CREATE TABLE kafka.consumer_group_members (
	group_id text COLLATE "C" REFERENCES kafka.consumer_groups ON DELETE CASCADE,
	member_id text COLLATE "C",
	instance_id text,
	rack_id text,
	client_id text NOT NULL DEFAULT '',
	client_host text NOT NULL DEFAULT '',
	member_epoch int NOT NULL,
	previous_member_epoch int NOT NULL,
	state text NOT NULL CHECK (state IN ('stable', 'unrevoked_partitions', 'unreleased_partitions', 'unknown')),
	rebalance_timeout_ms int NOT NULL,
	server_assignor text,
	subscribed_topic_names text[] NOT NULL DEFAULT '{}',
	subscribed_topic_regex text,
	assigned_partitions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(assigned_partitions) = 'object'),
	partitions_pending_revocation jsonb NOT NULL DEFAULT '{}'
		CHECK (jsonb_typeof(partitions_pending_revocation) = 'object'),
	target_assignment jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(target_assignment) = 'object'),
	PRIMARY KEY (group_id, member_id)
);

CREATE UNIQUE INDEX consumer_group_members_instance ON kafka.consumer_group_members (group_id, instance_id)
	WHERE instance_id IS NOT NULL;

COMMENT ON TABLE kafka.consumer_group_members IS
	'Members of the consumer groups in kafka.consumer_groups, with their epochs, subscriptions and assignments.';
COMMENT ON COLUMN kafka.consumer_group_members.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.consumer_group_members.member_id IS 'The member id.';
COMMENT ON COLUMN kafka.consumer_group_members.instance_id IS
	'group.instance.id of a static member, NULL for a dynamic one.';
COMMENT ON COLUMN kafka.consumer_group_members.rack_id IS 'The rack the member said it is in, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.client_id IS 'The client id of the member''s last heartbeat.';
COMMENT ON COLUMN kafka.consumer_group_members.client_host IS 'The address the member''s last heartbeat came from.';
COMMENT ON COLUMN kafka.consumer_group_members.member_epoch IS 'The member epoch.';
COMMENT ON COLUMN kafka.consumer_group_members.previous_member_epoch IS
	'The member epoch before the last one, which a commit may still carry.';
COMMENT ON COLUMN kafka.consumer_group_members.state IS
	'Reconciliation state: stable, unrevoked_partitions (waiting for the member to give partitions up) or unreleased_partitions (waiting for other members to give them up).';
COMMENT ON COLUMN kafka.consumer_group_members.rebalance_timeout_ms IS
	'How long the member may take to revoke partitions.';
COMMENT ON COLUMN kafka.consumer_group_members.server_assignor IS
	'The server-side assignor the member asked for, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.subscribed_topic_names IS 'The topics the member subscribes to by name.';
COMMENT ON COLUMN kafka.consumer_group_members.subscribed_topic_regex IS
	'The regular expression (RE2/J) the member subscribes with, or NULL.';
COMMENT ON COLUMN kafka.consumer_group_members.assigned_partitions IS
	'The partitions the member owns: {"<topic id>": [partitions]}.';
COMMENT ON COLUMN kafka.consumer_group_members.partitions_pending_revocation IS
	'The partitions the member must give up before its next epoch: {"<topic id>": [partitions]}.';
COMMENT ON COLUMN kafka.consumer_group_members.target_assignment IS
	'The member''s part of the group''s target assignment: {"<topic id>": [partitions]}.';

-- The coordinator's write: the group row and its complete member list, in
-- one statement, so a reader never sees half of a heartbeat's change.
-- p_members is an array of objects with the member columns as keys.
CREATE FUNCTION kafka.consumer_group_save(p_group_id text, p_group_epoch int, p_assignment_epoch int,
	p_assignor text, p_members jsonb, p_metadata_hash bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO kafka.consumer_groups AS g (group_id, group_epoch, assignment_epoch, assignor,
		metadata_hash)
	VALUES (p_group_id, p_group_epoch, p_assignment_epoch, p_assignor, p_metadata_hash)
	ON CONFLICT (group_id) DO UPDATE
	SET group_epoch = EXCLUDED.group_epoch, assignment_epoch = EXCLUDED.assignment_epoch,
	    assignor = EXCLUDED.assignor, metadata_hash = EXCLUDED.metadata_hash, updated_at = now();
	DELETE FROM kafka.consumer_group_members m WHERE m.group_id = p_group_id;
	INSERT INTO kafka.consumer_group_members (group_id, member_id, instance_id, rack_id, client_id,
		client_host, member_epoch, previous_member_epoch, state, rebalance_timeout_ms,
		server_assignor, subscribed_topic_names, subscribed_topic_regex, assigned_partitions,
		partitions_pending_revocation, target_assignment)
	SELECT p_group_id, e ->> 'member_id', e ->> 'instance_id', e ->> 'rack_id',
	       coalesce(e ->> 'client_id', ''), coalesce(e ->> 'client_host', ''),
	       (e ->> 'member_epoch')::int, coalesce((e ->> 'previous_member_epoch')::int, -1),
	       coalesce(e ->> 'state', 'stable'), coalesce((e ->> 'rebalance_timeout_ms')::int, 300000),
	       e ->> 'server_assignor',
	       coalesce(ARRAY(SELECT jsonb_array_elements_text(e -> 'subscribed_topic_names')), '{}'),
	       e ->> 'subscribed_topic_regex',
	       coalesce(e -> 'assigned_partitions', '{}'),
	       coalesce(e -> 'partitions_pending_revocation', '{}'),
	       coalesce(e -> 'target_assignment', '{}')
	FROM jsonb_array_elements(coalesce(p_members, '[]')) e;
END
$$;

COMMENT ON FUNCTION kafka.consumer_group_save(text, int, int, text, jsonb, bigint) IS
	'The coordinator''s write of a consumer group: its epochs and assignor, and its complete member list (a JSON array of member objects).';

-- One row per member and kind of assignment ('assigned', 'revoking',
-- 'target') and topic, for the coordinator's load; a member with no
-- partitions has one row with kind NULL.
CREATE FUNCTION kafka.consumer_group_load(p_group_id text)
RETURNS TABLE (group_epoch int, assignment_epoch int, metadata_hash bigint, member_id text,
	instance_id text, rack_id text, client_id text, client_host text, member_epoch int,
	previous_member_epoch int, state text, rebalance_timeout_ms int, server_assignor text,
	subscribed_topic_names text[], subscribed_topic_regex text, kind text, topic_id uuid,
	partitions int[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT g.group_epoch, g.assignment_epoch, g.metadata_hash, m.member_id, m.instance_id,
	       m.rack_id, m.client_id, m.client_host, m.member_epoch, m.previous_member_epoch,
	       m.state, m.rebalance_timeout_ms, m.server_assignor, m.subscribed_topic_names,
	       m.subscribed_topic_regex, a.kind, a.topic_id::uuid,
	       ARRAY(SELECT jsonb_array_elements_text(a.parts)::int)
	FROM kafka.consumer_groups g
	LEFT JOIN kafka.consumer_group_members m ON m.group_id = g.group_id
	LEFT JOIN LATERAL (
		SELECT 'assigned' AS kind, x.key AS topic_id, x.value AS parts
		FROM jsonb_each(m.assigned_partitions) x
		UNION ALL
		SELECT 'revoking', x.key, x.value FROM jsonb_each(m.partitions_pending_revocation) x
		UNION ALL
		SELECT 'target', x.key, x.value FROM jsonb_each(m.target_assignment) x
	) a ON true
	WHERE g.group_id = p_group_id
	ORDER BY m.member_id, a.kind, a.topic_id
$$;

COMMENT ON FUNCTION kafka.consumer_group_load(text) IS
	'A consumer group as its coordinator loads it: one row per member, kind of assignment and topic (no row: the group does not exist).';

SELECT pg_catalog.pg_extension_config_dump('kafka.consumer_groups', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.consumer_group_members', '');
