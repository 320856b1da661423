/*
 * pg_kafka 0.8 -> 0.9.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.9'" to load this file. \quit

/*
 * ---- Committed offset expiry (offsets.retention.minutes) ----
 *
 * As Kafka's group coordinator: the offsets of a group without members
 * expire once offsets.retention.minutes has passed since the later of their
 * commit and the moment the group became empty; a consumer group with
 * members keeps the offsets of the topics its members subscribe to and its
 * other offsets expire by commit time; an offset committed with an explicit
 * retention (OffsetCommit v2 to v4) expires at its expire_timestamp instead.
 * A group whose last offset expires while it has no members is gone.
 *
 * Which groups have members, and what they subscribe to, is known only to
 * the broker coordinating each group: it calls kafka.expire_offsets() for
 * its own groups every offsets.retention.check.interval.ms. What must
 * survive a restart is here: the commit times, and kafka.group_membership,
 * which the coordinator writes when a group gains its first member or loses
 * its last one.
 */

ALTER TABLE kafka.consumer_offsets ADD COLUMN expire_timestamp timestamptz;

COMMENT ON COLUMN kafka.consumer_offsets.expire_timestamp IS
	'When the offset expires, if the client committed it with a retention time (OffsetCommit v2 to v4); NULL: offsets.retention.minutes after the commit, or after the group became empty.';

-- A commit that sets no expiry of its own (TxnOffsetCommit's, or one from
-- SQL) ends the expiry an earlier OffsetCommit v2-v4 gave the offset. The
-- WHEN clause keeps the trigger off the common path.
CREATE FUNCTION kafka.consumer_offsets_recommitted()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	NEW.expire_timestamp := NULL;
	RETURN NEW;
END
$$;

CREATE TRIGGER consumer_offsets_recommitted
BEFORE UPDATE ON kafka.consumer_offsets
FOR EACH ROW
WHEN (OLD.expire_timestamp IS NOT NULL
      AND NEW.expire_timestamp IS NOT DISTINCT FROM OLD.expire_timestamp
      AND NEW.commit_timestamp IS DISTINCT FROM OLD.commit_timestamp)
EXECUTE FUNCTION kafka.consumer_offsets_recommitted();

CREATE TABLE kafka.group_membership (
	group_id text COLLATE "C" PRIMARY KEY,
	has_members boolean NOT NULL,
	since timestamptz NOT NULL
);

COMMENT ON TABLE kafka.group_membership IS
	'Whether each group had members when its coordinator last saw that change, and since when: the "empty since" that offset expiry counts from. Written by the coordinating broker; a row goes with the group''s last offset.';
COMMENT ON COLUMN kafka.group_membership.group_id IS 'The consumer group.';
COMMENT ON COLUMN kafka.group_membership.has_members IS
	'True from the first member''s join, false from the moment the last member left.';
COMMENT ON COLUMN kafka.group_membership.since IS 'When has_members last changed.';

SELECT pg_catalog.pg_extension_config_dump('kafka.group_membership', '');

-- The coordinator's record of a change; an older change arriving late
-- (the broker writes them asynchronously) does not undo a newer one.
CREATE FUNCTION kafka.set_group_membership(p_group text, p_has_members boolean, p_since timestamptz)
RETURNS void
LANGUAGE sql
AS $$
	INSERT INTO kafka.group_membership AS m (group_id, has_members, since)
	VALUES (p_group, p_has_members, p_since)
	ON CONFLICT (group_id) DO UPDATE
	SET has_members = EXCLUDED.has_members, since = EXCLUDED.since
	WHERE m.since <= EXCLUDED.since;
$$;

COMMENT ON FUNCTION kafka.set_group_membership(text, boolean, timestamptz) IS
	'Record that a group gained its first member (true) or lost its last (false) at p_since, unless a later change is already recorded.';

/*
 * One pass for the groups p_groups, as their coordinator sees them:
 * p_has_members[i] tells whether p_groups[i] has members, and the pairs
 * (p_sub_groups[j], p_sub_topics[j]) list the topics the members of such a
 * group subscribe to (none listed: all of its offsets may expire by commit
 * time). A coordinator leaves out a group whose members' subscriptions it
 * cannot tell: none of its offsets expire. An offset with a transactional
 * commit pending stays, as does a group in a transaction.
 *
 * A group without members whose stored membership says it had members
 * (its coordinator stopped or moved without seeing it empty) is recorded as
 * empty from now, and expires a retention from now at the earliest.
 *
 * Returns one row per group touched: the offsets it lost, and whether the
 * group is gone (no members, no offsets left).
 */
CREATE FUNCTION kafka.expire_offsets(p_retention_ms bigint, p_groups text[], p_has_members boolean[],
				     p_sub_groups text[] DEFAULT '{}', p_sub_topics text[] DEFAULT '{}')
RETURNS TABLE (group_id text, expired_offsets bigint, group_gone boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
	g record;
	cutoff timestamptz := now() - p_retention_ms * interval '1 millisecond';
	empty_since timestamptz;
	n bigint;
BEGIN
	IF p_retention_ms IS NULL OR p_retention_ms < 1 THEN
		RAISE EXCEPTION 'offsets retention must be at least 1 ms, not %', p_retention_ms;
	END IF;
	IF coalesce(array_length(p_groups, 1), 0) <> coalesce(array_length(p_has_members, 1), 0)
	   OR coalesce(array_length(p_sub_groups, 1), 0) <> coalesce(array_length(p_sub_topics, 1), 0) THEN
		RAISE EXCEPTION 'kafka.expire_offsets: arrays of different lengths';
	END IF;

	FOR g IN
		SELECT DISTINCT ON (x.grp) x.grp, x.members
		FROM unnest(p_groups, p_has_members) AS x(grp, members)
		WHERE x.grp IS NOT NULL
		ORDER BY x.grp
	LOOP
		empty_since := NULL;
		IF NOT coalesce(g.members, false) THEN
			SELECT CASE WHEN m.has_members THEN NULL ELSE m.since END INTO empty_since
			FROM kafka.group_membership m WHERE m.group_id = g.grp;
			IF FOUND AND empty_since IS NULL THEN
				-- Its coordinator last saw members: empty from now.
				PERFORM kafka.set_group_membership(g.grp, false, now());
				empty_since := now();
			END IF;
		END IF;

		WITH d AS (
			DELETE FROM kafka.consumer_offsets o
			WHERE o.group_id = g.grp
			  AND CASE
				WHEN o.expire_timestamp IS NOT NULL THEN o.expire_timestamp <= now()
				WHEN coalesce(g.members, false) THEN o.commit_timestamp <= cutoff
				ELSE greatest(o.commit_timestamp, empty_since) <= cutoff
			      END
			  AND NOT (coalesce(g.members, false) AND o.topic IN (
				SELECT s.topic FROM unnest(p_sub_groups, p_sub_topics) AS s(grp, topic)
				WHERE s.grp = g.grp))
			  AND NOT EXISTS (SELECT 1 FROM kafka.txn_offsets t
					  WHERE t.group_id = o.group_id AND t.topic = o.topic
					    AND t.partition = o.partition)
			RETURNING 1)
		SELECT count(*) INTO n FROM d;

		group_gone := false;
		IF NOT coalesce(g.members, false)
		   AND NOT EXISTS (SELECT 1 FROM kafka.consumer_offsets o WHERE o.group_id = g.grp)
		   AND NOT EXISTS (SELECT 1 FROM kafka.txn_groups t WHERE t.group_id = g.grp)
		   AND (empty_since IS NULL OR empty_since <= cutoff OR n > 0) THEN
			DELETE FROM kafka.group_membership m WHERE m.group_id = g.grp;
			group_gone := n > 0;
		END IF;
		IF n > 0 THEN
			group_id := g.grp;
			expired_offsets := n;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION kafka.expire_offsets(bigint, text[], boolean[], text[], text[]) IS
	'Offset expiry for the groups a coordinator names (offsets.retention.minutes): deletes their expired committed offsets; one row per group that lost offsets, saying whether the group is gone.';

/*
 * ---- ACL checks of SQL sessions without SELECT on the ACL tables (0.9) ----
 *
 * Row security on kafka.records and kafka.produce() ask
 * kafka.sql_authorized(), which used to read kafka.authorizer and
 * kafka.acls as the calling role, so every SQL user needed SELECT on them
 * (and so could read every binding). The lookup is now
 * kafka.role_authorized(), SECURITY DEFINER: it reads the tables as their
 * owner and answers only about a role the session may act as (its login
 * role, or any role that role is a member of, which SET ROLE could switch
 * to), so EXECUTE can go to everyone without telling anyone about other
 * principals' rights.
 */
CREATE FUNCTION kafka.role_authorized(p_role name, p_host text, p_operation text,
				      p_resource_type text, p_resource_name text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN NOT pg_catalog.pg_has_role(session_user, p_role, 'MEMBER') THEN false
		WHEN NOT z.enabled THEN true
		ELSE kafka.acl_allows('User:' || p_role, p_host, p_operation, p_resource_type,
				      p_resource_name)
	       END
	FROM kafka.authorizer z
$$;

GRANT EXECUTE ON FUNCTION kafka.role_authorized(name, text, text, text, text) TO PUBLIC;

COMMENT ON FUNCTION kafka.role_authorized(name, text, text, text, text) IS
	'Whether the role, as the Kafka principal User:<role> from p_host, may do the operation on the resource under the authorizer''s current settings (always when it is off). Answers only about roles the session user is a member of (false for others), so SQL users need no SELECT on kafka.acls or kafka.authorizer.';

CREATE OR REPLACE FUNCTION kafka.sql_authorized(p_operation text, p_topic text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	SELECT NOT row_security_active('kafka.records')
	    OR kafka.role_authorized(current_user, coalesce(host(inet_client_addr()), ''),
				     p_operation, 'TOPIC', p_topic)
$$;

COMMENT ON FUNCTION kafka.sql_authorized(text, text) IS
	'Whether the current role, as the Kafka principal User:<role>, may do an operation on a topic: always when the authorizer is off, and for roles that row security does not apply to (superusers, the tables'' owner, BYPASSRLS). Needs no privilege on the ACL tables (kafka.role_authorized).';

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

/*
 * ---- Leader epoch history (0.9) ----
 *
 * Every partition's leader epochs with the offset each started at, as
 * Kafka's LeaderEpochFileCache keeps them: an epoch covers the offsets
 * from its start to the next epoch's start (the last one: to the log end).
 * Fetch stamps each batch with the epoch its records were written under,
 * ListOffsets answers the epoch of the offset it finds, and
 * OffsetForLeaderEpoch the end offset of an epoch, so that a client that
 * read past the end of the log a promoted standby kept (a PostgreSQL
 * failover that lost its tail bumps every epoch) truncates to it instead
 * of reading other records at the same offsets.
 *
 * Rows follow kafka.partition_leaders: a new or bumped leader epoch starts
 * at the partition's next offset as committed. It is read without a lock:
 * a heartbeat must not wait for an application's open transaction that
 * called kafka.produce(). A write in flight took its offsets at or above
 * that point, so it falls in the new epoch, never below an epoch's start.
 *
 * A partition without rows is at epoch 0 from its first offset; the first
 * row written keeps it so (epoch 0 from the log start offset). A broker
 * alone has no leader rows: it calls kafka.cluster_check_timeline() when it
 * starts and after reconnecting, and on a new timeline the partitions
 * without a leader row begin their next epoch too.
 *
 * Retention trims the history as Kafka's truncateFromStart: epochs that
 * end at or before the new log start offset go, and the first one left
 * starts there.
 */
CREATE TABLE kafka.partition_epochs (
	topic text COLLATE "C",
	partition int,
	leader_epoch int CHECK (leader_epoch >= 0),
	start_offset bigint NOT NULL CHECK (start_offset >= 0),
	PRIMARY KEY (topic, partition, leader_epoch),
	FOREIGN KEY (topic, partition) REFERENCES kafka.partitions (topic, partition) ON DELETE CASCADE
);

COMMENT ON TABLE kafka.partition_epochs IS
	'Leader epoch history: each epoch of a partition and the first offset written under it (Kafka''s leader-epoch checkpoint); no rows: epoch 0 throughout.';
COMMENT ON COLUMN kafka.partition_epochs.topic IS 'The topic.';
COMMENT ON COLUMN kafka.partition_epochs.partition IS 'The partition.';
COMMENT ON COLUMN kafka.partition_epochs.leader_epoch IS 'A leader epoch.';
COMMENT ON COLUMN kafka.partition_epochs.start_offset IS 'The first offset of the epoch (the partition''s next offset when it began, or the log start offset after retention).';

SELECT pg_catalog.pg_extension_config_dump('kafka.partition_epochs', '');

-- Record that p_epoch began at the partition's next offset; an epoch not
-- above the newest recorded is ignored (epochs only grow).
CREATE FUNCTION kafka.begin_leader_epoch(p_topic text, p_partition int, p_epoch int)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	nxt bigint;
	lso bigint;
	newest int;
BEGIN
	SELECT p.next_offset, p.log_start_offset INTO nxt, lso FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition;
	IF NOT FOUND OR p_epoch IS NULL OR p_epoch < 0 THEN
		RETURN;
	END IF;
	SELECT max(e.leader_epoch) INTO newest FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition;
	IF newest >= p_epoch THEN
		RETURN;
	END IF;
	IF newest IS NULL AND (p_epoch = 0 OR nxt > lso) THEN
		INSERT INTO kafka.partition_epochs VALUES (p_topic, p_partition, 0, lso);
	END IF;
	IF p_epoch > 0 THEN
		INSERT INTO kafka.partition_epochs VALUES (p_topic, p_partition, p_epoch, nxt);
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.begin_leader_epoch(text, int, int) IS
	'Internal: record that a leader epoch of a partition begins at its next offset (ignored unless newer than every recorded one).';

CREATE FUNCTION kafka.partition_leaders_epoch_history()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM kafka.begin_leader_epoch(NEW.topic, NEW.partition, NEW.leader_epoch);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_leaders_epoch_history() IS
	'Trigger: a partition leader epoch set or bumped in kafka.partition_leaders begins in kafka.partition_epochs.';

CREATE TRIGGER partition_leaders_epoch_history
AFTER INSERT OR UPDATE OF leader_epoch ON kafka.partition_leaders
FOR EACH ROW EXECUTE FUNCTION kafka.partition_leaders_epoch_history();

CREATE FUNCTION kafka.partition_epochs_trim()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM kafka.partition_epochs e
	WHERE e.topic = NEW.topic AND e.partition = NEW.partition
	  AND EXISTS (SELECT 1 FROM kafka.partition_epochs n
		      WHERE n.topic = e.topic AND n.partition = e.partition
		        AND n.leader_epoch > e.leader_epoch AND n.start_offset <= NEW.log_start_offset);
	UPDATE kafka.partition_epochs e SET start_offset = NEW.log_start_offset
	WHERE e.topic = NEW.topic AND e.partition = NEW.partition
	  AND e.start_offset < NEW.log_start_offset;
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_epochs_trim() IS
	'Trigger: when a partition''s log start offset moves up, drop the epochs that end at or before it and start the first one left there.';

CREATE TRIGGER partition_epochs_trim
AFTER UPDATE OF log_start_offset ON kafka.partitions
FOR EACH ROW WHEN (NEW.log_start_offset > OLD.log_start_offset)
EXECUTE FUNCTION kafka.partition_epochs_trim();

-- The epoch an offset of a partition was written under: the newest epoch
-- starting at or before it; 0 for a partition without history.
CREATE FUNCTION kafka.leader_epoch_at(p_topic text, p_partition int, p_offset bigint)
RETURNS int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT e.leader_epoch FROM kafka.partition_epochs e
			 WHERE e.topic = p_topic AND e.partition = p_partition
			   AND e.start_offset <= p_offset
			 ORDER BY e.leader_epoch DESC LIMIT 1),
			(SELECT min(e.leader_epoch) FROM kafka.partition_epochs e
			 WHERE e.topic = p_topic AND e.partition = p_partition), 0)
$$;

COMMENT ON FUNCTION kafka.leader_epoch_at(text, int, bigint) IS
	'The leader epoch an offset of a partition was written under (0 without epoch history).';

-- The current leader epoch of a partition: the newest recorded, 0 if none.
CREATE FUNCTION kafka.current_leader_epoch(p_topic text, p_partition int)
RETURNS int
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(max(e.leader_epoch), 0) FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition
$$;

COMMENT ON FUNCTION kafka.current_leader_epoch(text, int) IS
	'The newest leader epoch of a partition (0 without epoch history).';

/*
 * OffsetForLeaderEpoch, as LeaderEpochFileCache.endOffsetFor answers it:
 * -1 (undefined) asked: (-1, -1); the current epoch: (it, log end); an
 * older epoch: (the newest epoch at or below it, the start of the first
 * epoch above it); one below every recorded epoch: (it, the start of the
 * first); one above the current: (-1, -1). No row for a partition that
 * does not exist. A partition without history has had epoch 0 only,
 * from its log start offset.
 */
CREATE FUNCTION kafka.offset_for_leader_epoch(p_topic text, p_partition int, p_epoch int,
	OUT leader_epoch int, OUT end_offset bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p kafka.partitions;
	newest int;
	floor_epoch int;
	above bigint;
BEGIN
	SELECT * INTO p FROM kafka.partitions x WHERE x.topic = p_topic AND x.partition = p_partition;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	leader_epoch := -1;
	end_offset := -1;
	SELECT max(e.leader_epoch) INTO newest FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition;
	IF newest IS NULL THEN
		IF p_epoch = 0 THEN
			leader_epoch := 0;
			end_offset := p.next_offset;
		ELSIF p_epoch < -1 THEN
			leader_epoch := p_epoch;
			end_offset := p.log_start_offset;
		END IF;
		RETURN NEXT;
		RETURN;
	END IF;
	IF p_epoch = -1 OR p_epoch > newest THEN
		RETURN NEXT;
		RETURN;
	END IF;
	IF p_epoch = newest THEN
		leader_epoch := newest;
		end_offset := p.next_offset;
		RETURN NEXT;
		RETURN;
	END IF;
	SELECT e.start_offset INTO above FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition AND e.leader_epoch > p_epoch
	ORDER BY e.leader_epoch LIMIT 1;
	SELECT max(e.leader_epoch) INTO floor_epoch FROM kafka.partition_epochs e
	WHERE e.topic = p_topic AND e.partition = p_partition AND e.leader_epoch <= p_epoch;
	leader_epoch := coalesce(floor_epoch, p_epoch);
	end_offset := above;
	RETURN NEXT;
END
$$;

COMMENT ON FUNCTION kafka.offset_for_leader_epoch(text, int, int) IS
	'OffsetForLeaderEpoch: the epoch at or below the one asked and the offset where it ends (Kafka''s LeaderEpochFileCache.endOffsetFor); (-1, -1) if undefined; no row if the partition does not exist.';

-- A new WAL timeline (a promoted standby): kafka.cluster_check_timeline()
-- bumps the epochs of kafka.partition_leaders, which begin here through
-- their trigger; partitions without a leader row (a broker alone) get
-- their next epoch here.
CREATE FUNCTION kafka.partition_epochs_new_timeline()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM kafka.begin_leader_epoch(p.topic, p.partition,
					 kafka.current_leader_epoch(p.topic, p.partition) + 1)
	FROM kafka.partitions p
	WHERE NOT EXISTS (SELECT 1 FROM kafka.partition_leaders l
			  WHERE l.topic = p.topic AND l.partition = p.partition);
	RETURN NULL;
END
$$;

COMMENT ON FUNCTION kafka.partition_epochs_new_timeline() IS
	'Trigger: on a new WAL timeline, the partitions without a leader row begin their next leader epoch.';

CREATE TRIGGER partition_epochs_new_timeline
AFTER UPDATE OF timeline_id ON kafka.cluster_state
FOR EACH ROW WHEN (OLD.timeline_id IS NOT NULL AND NEW.timeline_id IS DISTINCT FROM OLD.timeline_id)
EXECUTE FUNCTION kafka.partition_epochs_new_timeline();

-- Databases that were clusters before 0.9: the current epochs begin now.
SELECT kafka.begin_leader_epoch(l.topic, l.partition, l.leader_epoch)
FROM kafka.partition_leaders l;
