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

/*
 * ---- Records in chunks (0.9) ----
 *
 * kafka.records is partitioned: by topic (LIST), each topic's table by
 * partition (LIST), each partition's table by offset (RANGE) into chunks,
 * consecutive offset ranges whose bounds are fixed when the chunk is
 * created, plus a DEFAULT leaf that catches rows past the last chunk when
 * the storage job fell behind. The tables live in schema kafka_chunks,
 * named records_<n>, each with a comment naming its topic, partition and
 * offsets; kafka.chunks is their bookkeeping. Inside a chunk topic and
 * partition are constant, so its primary key index grows at its right edge.
 *
 * Chunks are a storage detail under Kafka's segments (kafka.segments). The
 * storage job creates a partition's next chunk when the current one is half
 * full (CREATE TABLE, then ATTACH PARTITION), sized from the partition's
 * observed rate to hold about a segment's worth of records (100 ..
 * 10,000,000 offsets; a new partition's first chunk has 1,000), and drops each
 * chunk whose offsets are all below the log start offset (DROP TABLE, in a
 * transaction of its own under a short lock_timeout). Rows below the log
 * start in the chunk that holds it, and in the DEFAULT leaf, are deleted as
 * rows (kafka.purge_records()). A deleted topic's tables are detached from
 * kafka.records (DETACH PARTITION ... CONCURRENTLY, by the broker) and
 * dropped in the background; a topic created again under its name removes
 * them first, in the creating transaction.
 */
CREATE SCHEMA kafka_chunks;

COMMENT ON SCHEMA kafka_chunks IS
	'The tables under kafka.records (per topic, per partition, and the chunks holding the rows), managed by pg_kafka: query kafka.records.';

CREATE SEQUENCE kafka.chunk_ids;

COMMENT ON SEQUENCE kafka.chunk_ids IS 'Numbers the tables of schema kafka_chunks (records_<n>).';

CREATE TABLE kafka.chunks (
	table_name text PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('topic', 'partition', 'chunk', 'default')),
	topic text COLLATE "C" NOT NULL,
	topic_id uuid NOT NULL,
	partition int,
	lo bigint,
	hi bigint,
	topic_table text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT chunks_shape_valid CHECK (
		(kind = 'topic') = (partition IS NULL)
		AND (kind = 'chunk') = (hi IS NOT NULL)
		AND (kind = 'chunk') = (lo IS NOT NULL)
		AND (hi IS NULL OR lo < hi))
);

CREATE INDEX chunks_by_partition ON kafka.chunks (topic, partition, lo);

COMMENT ON TABLE kafka.chunks IS
	'The tables of schema kafka_chunks under kafka.records: one per topic, one per topic partition, its DEFAULT leaf and its chunks.';
COMMENT ON COLUMN kafka.chunks.table_name IS 'The table, in schema kafka_chunks.';
COMMENT ON COLUMN kafka.chunks.kind IS
	'topic (partitioned by partition), partition (partitioned by offset), chunk (rows of offsets lo .. hi - 1) or default (rows past the chunks).';
COMMENT ON COLUMN kafka.chunks.topic IS 'The topic.';
COMMENT ON COLUMN kafka.chunks.topic_id IS 'The topic''s id: tables of a deleted topic keep the old one.';
COMMENT ON COLUMN kafka.chunks.partition IS 'The partition; NULL for a topic''s table.';
COMMENT ON COLUMN kafka.chunks.lo IS 'A chunk''s first offset.';
COMMENT ON COLUMN kafka.chunks.hi IS 'A chunk''s upper bound: its last offset + 1.';
COMMENT ON COLUMN kafka.chunks.topic_table IS 'The topic''s table this one is under (itself for a topic''s table).';
COMMENT ON COLUMN kafka.chunks.created IS 'When the table was created.';

SELECT pg_catalog.pg_extension_config_dump('kafka.chunks', '');
SELECT pg_catalog.pg_extension_config_dump('kafka.chunk_ids', '');

/*
 * Create one table of the tree and attach it under p_parent with bound
 * p_bound; partitioned by p_partition_by when given. Returns its name. It
 * goes in its parent's tablespace, when that has one (ALTER TABLE
 * kafka.records SET TABLESPACE moves where new tables go).
 * SECURITY DEFINER: attaching needs the ownership of kafka.records, and
 * whoever may create topics may get their tables.
 */
CREATE FUNCTION kafka.chunk_table(p_kind text, p_topic text, p_topic_id uuid, p_partition int,
	p_lo bigint, p_hi bigint, p_topic_table text, p_parent text, p_bound text,
	p_partition_by text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text := 'records_' || nextval('kafka.chunk_ids');
BEGIN
	EXECUTE format('CREATE TABLE kafka_chunks.%I (LIKE kafka.records)%s%s', t,
		       coalesce(' PARTITION BY ' || p_partition_by, ''),
		       (SELECT ' TABLESPACE ' || quote_ident(ts.spcname)
			FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
			WHERE c.oid = p_parent::regclass));
	EXECUTE format('ALTER TABLE %s ATTACH PARTITION kafka_chunks.%I %s', p_parent, t, p_bound);
	EXECUTE format('COMMENT ON TABLE kafka_chunks.%I IS %L', t, CASE p_kind
		WHEN 'topic' THEN format('Records of topic %s (under kafka.records).', p_topic)
		WHEN 'partition' THEN format('Records of %s-%s (under kafka.records).', p_topic, p_partition)
		WHEN 'default' THEN format('Records of %s-%s past its chunks, while the storage job is behind (under kafka.records).',
					   p_topic, p_partition)
		ELSE format('Records of %s-%s, offsets %s to %s: a chunk, dropped whole once the log start offset passes it (under kafka.records).',
			    p_topic, p_partition, p_lo, p_hi - 1) END);
	INSERT INTO kafka.chunks (table_name, kind, topic, topic_id, partition, lo, hi, topic_table)
	VALUES (t, p_kind, p_topic, p_topic_id, p_partition, p_lo, p_hi, coalesce(p_topic_table, t));
	RETURN t;
END
$$;

COMMENT ON FUNCTION kafka.chunk_table(text, text, uuid, int, bigint, bigint, text, text, text, text) IS
	'Create and attach one table under kafka.records (the storage job''s and topic creation''s helper); returns its name in kafka_chunks.';

/*
 * Remove a topic's tables in the current transaction: detach the topic's
 * table from kafka.records (a plain DETACH, ACCESS EXCLUSIVE on
 * kafka.records for a moment; or FINALIZE for an interrupted concurrent
 * one) and drop it with everything under it.
 */
CREATE FUNCTION kafka.chunks_remove_topic(p_table text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pending boolean;
BEGIN
	SELECT i.inhdetachpending INTO pending
	FROM pg_inherits i
	WHERE i.inhrelid = to_regclass(format('kafka_chunks.%I', p_table))
	  AND i.inhparent = 'kafka.records'::regclass;
	IF pending THEN
		EXECUTE format('ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.%I FINALIZE', p_table);
	ELSIF pending IS NOT NULL THEN
		EXECUTE format('ALTER TABLE kafka.records DETACH PARTITION kafka_chunks.%I', p_table);
	END IF;
	EXECUTE format('DROP TABLE IF EXISTS kafka_chunks.%I', p_table);
	DELETE FROM kafka.chunks c WHERE c.topic_table = p_table;
END
$$;

COMMENT ON FUNCTION kafka.chunks_remove_topic(text) IS
	'Detach and drop a topic''s table from under kafka.records, with everything under it, in the current transaction.';

/*
 * A partition's tables: its topic's table (created with the topic, after
 * removing the tables of an earlier topic of that name), its own, its
 * DEFAULT leaf and a first chunk of offsets p_lo .. p_lo + p_span - 1.
 */
CREATE FUNCTION kafka.chunks_add_partition(p_topic text, p_partition int, p_lo bigint,
	p_span bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	tt text;
	pt text;
	old record;
BEGIN
	SELECT t.topic_id INTO tid FROM kafka.topics t WHERE t.name = p_topic;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	FOR old IN SELECT c.table_name FROM kafka.chunks c
		   WHERE c.kind = 'topic' AND c.topic = p_topic AND c.topic_id <> tid LOOP
		PERFORM kafka.chunks_remove_topic(old.table_name);
	END LOOP;
	SELECT c.table_name INTO tt FROM kafka.chunks c
	WHERE c.kind = 'topic' AND c.topic = p_topic AND c.topic_id = tid;
	IF NOT FOUND THEN
		tt := kafka.chunk_table('topic', p_topic, tid, NULL, NULL, NULL, NULL, 'kafka.records',
					format('FOR VALUES IN (%L)', p_topic), 'LIST (partition)');
	END IF;
	IF EXISTS (SELECT FROM kafka.chunks c WHERE c.topic_table = tt AND c.kind = 'partition'
		   AND c.partition = p_partition) THEN
		RETURN;
	END IF;
	pt := kafka.chunk_table('partition', p_topic, tid, p_partition, NULL, NULL, tt,
				format('kafka_chunks.%I', tt), format('FOR VALUES IN (%s)', p_partition),
				'RANGE ("offset")');
	PERFORM kafka.chunk_table('default', p_topic, tid, p_partition, NULL, NULL, tt,
				  format('kafka_chunks.%I', pt), 'DEFAULT', NULL);
	PERFORM kafka.chunk_table('chunk', p_topic, tid, p_partition, p_lo, p_lo + p_span, tt,
				  format('kafka_chunks.%I', pt),
				  format('FOR VALUES FROM (%s) TO (%s)', p_lo, p_lo + p_span), NULL);
END
$$;

COMMENT ON FUNCTION kafka.chunks_add_partition(text, int, bigint, bigint) IS
	'Create a partition''s tables under kafka.records (its topic''s too if needed) with a first chunk of p_span offsets from p_lo.';

/* New partitions (a topic created, or grown) get their tables at once. */
CREATE FUNCTION kafka.partitions_add_chunks()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	n record;
BEGIN
	FOR n IN SELECT x.topic, x.partition, x.next_offset FROM new_partitions x
		 ORDER BY x.topic, x.partition LOOP
		PERFORM kafka.chunks_add_partition(n.topic, n.partition, n.next_offset, 1000);
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER partitions_add_chunks
	AFTER INSERT ON kafka.partitions
	REFERENCING NEW TABLE AS new_partitions
	FOR EACH STATEMENT EXECUTE FUNCTION kafka.partitions_add_chunks();

/*
 * A deleted partition's records stay in its topic's tables, which the
 * storage job detaches and drops: nothing is queued for row deletes any
 * more. Its segments go now (they are small). (Replaces the 0.8 function.)
 */
CREATE OR REPLACE FUNCTION kafka.partitions_queue_records()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	DELETE FROM kafka.segments s USING old_partitions o
	WHERE s.topic = o.topic AND s.partition = o.partition;
	RETURN NULL;
END
$$;

/*
 * The next chunk's size, in offsets: about a segment's worth of records --
 * the offsets of the partition's last rolled segments, else what its rate
 * fills in segment.ms or segment.bytes -- and at least what it fills in
 * three job intervals, so that the chunk after it is created (when this
 * one is half full) in time, and at least a sixteenth of what the partition
 * retains, so that it has some twenty chunks at most (a read from its start
 * plans every chunk after it: about 0.15 ms each); 100 .. 10,000,000.
 * Small chunks keep what is dropped late small: a chunk goes only once all
 * of it is below the log start. The rate is the higher of two estimates: the offsets of the last
 * segments over the time between their first and newest records, and the
 * offsets written into the current chunk since it was created (which counts
 * the time it waited, created ahead of need, so it runs low).
 */
CREATE FUNCTION kafka.chunk_span(p_topic text, p_partition int, p_defaults jsonb)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
DECLARE
	cur record;
	next_off bigint;
	log_start bigint;
	rate float8;
	per_seg float8;
	avg_bytes float8;
	interval_ms float8 := coalesce((p_defaults ->> 'log.retention.check.interval.ms')::float8, 300000);
BEGIN
	SELECT c.lo, c.created INTO cur FROM kafka.chunks c
	WHERE c.topic = p_topic AND c.partition = p_partition AND c.kind = 'chunk'
	ORDER BY c.lo DESC LIMIT 1;
	SELECT p.next_offset, p.log_start_offset INTO next_off, log_start FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition;
	-- offsets per millisecond
	rate := greatest(next_off - cur.lo, 0)
		/ greatest(extract(epoch FROM now() - cur.created) * 1000, 1);
	SELECT greatest(rate, sum(s.last_offset - s.base_offset + 1)::float8
			/ greatest(extract(epoch FROM max(s.max_timestamp) - min(s.first_timestamp)) * 1000,
				   1))
	INTO rate
	FROM (SELECT * FROM kafka.segments s
	      WHERE s.topic = p_topic AND s.partition = p_partition
		AND s.max_timestamp < 'infinity' AND s.first_timestamp > '-infinity'
	      ORDER BY s.base_offset DESC LIMIT 4) s;
	rate := coalesce(rate, 0);
	SELECT avg(s.last_offset - s.base_offset + 1), sum(s.bytes)::float8 / nullif(sum(s.records), 0)
	INTO per_seg, avg_bytes
	FROM (SELECT * FROM kafka.segments s
	      WHERE s.topic = p_topic AND s.partition = p_partition AND s.rolled
	      ORDER BY s.base_offset DESC LIMIT 3) s;
	IF per_seg IS NULL THEN
		per_seg := least(rate * kafka.topic_setting(p_topic, 'segment.ms', p_defaults)::float8,
				 kafka.topic_setting(p_topic, 'segment.bytes', p_defaults)::float8
				 / coalesce(avg_bytes, 100));
	END IF;
	RETURN least(greatest(per_seg, rate * 3 * interval_ms, (next_off - log_start) / 16, 100),
		     10000000)::bigint;
END
$$;

COMMENT ON FUNCTION kafka.chunk_span(text, int, jsonb) IS
	'How many offsets a partition''s next chunk spans: about a segment''s worth at its observed rate, 100 .. 10,000,000.';

/*
 * Add a partition's next chunk, after its last one, or past the rows its
 * DEFAULT leaf caught when the job fell behind (those stay there and are
 * deleted as rows once below the log start). Attaching scans the DEFAULT
 * leaf; a lock not granted within p_lock_timeout_ms gives up (an error)
 * and the next pass tries again. One short transaction per chunk.
 *
 * The partition's table is locked in SHARE mode before the bounds are
 * chosen: producers of the partition wait for the rest of this transaction
 * (fetches do not), so the chunk's table and its primary key are created
 * before, and attaching only checks the DEFAULT leaf and links them. An insert routes
 * its rows with the list of chunks it read when it reached the partition's
 * table; had it read that list before the new chunk was attached and
 * written a row of the new chunk's range into the DEFAULT leaf after, that
 * row would break the DEFAULT leaf's new partition constraint and the
 * produce would fail.
 */
CREATE FUNCTION kafka.add_chunk(p_topic text, p_partition int, p_defaults jsonb DEFAULT '{}',
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
	-- The table and the index ATTACH would build, while producers go on.
	EXECUTE format('CREATE TABLE kafka_chunks.%I (LIKE kafka.records)%s', t,
		       (SELECT ' TABLESPACE ' || quote_ident(ts.spcname)
			FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
			WHERE c.oid = format('kafka_chunks.%I', parent)::regclass));
	EXECUTE format('ALTER TABLE kafka_chunks.%I ADD PRIMARY KEY (topic, partition, "offset")', t);
	EXECUTE format('LOCK TABLE kafka_chunks.%I IN SHARE MODE', parent);
	SELECT c.table_name INTO dflt FROM kafka.chunks c
	WHERE c.topic_table = last.topic_table AND c.partition = p_partition AND c.kind = 'default';
	EXECUTE format('SELECT max("offset") + 1 FROM kafka_chunks.%I', dflt) INTO lo;
	span := kafka.chunk_span(p_topic, p_partition, p_defaults);
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

COMMENT ON FUNCTION kafka.add_chunk(text, int, jsonb, int) IS
	'Create a partition''s next chunk (CREATE TABLE, ATTACH PARTITION); returns its table in kafka_chunks.';

/*
 * Drop a chunk all of whose offsets are below its partition's log start
 * offset (DROP TABLE: ACCESS EXCLUSIVE on the partition's table for a
 * moment, under p_lock_timeout_ms), or the table of a deleted topic once
 * it is detached from kafka.records. False when there is nothing (more)
 * to drop.
 */
CREATE FUNCTION kafka.drop_chunk(p_table text, p_lock_timeout_ms int DEFAULT 100)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
BEGIN
	PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
	PERFORM set_config('synchronous_commit', 'off', true);
	SELECT x.* INTO c FROM kafka.chunks x WHERE x.table_name = p_table FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF c.kind = 'chunk' THEN
		IF EXISTS (SELECT FROM kafka.partitions p JOIN kafka.topics t ON t.name = p.topic
			   WHERE p.topic = c.topic AND p.partition = c.partition
			     AND t.topic_id = c.topic_id AND p.log_start_offset < c.hi) THEN
			RETURN false;
		END IF;
		EXECUTE format('DROP TABLE kafka_chunks.%I', p_table);
		DELETE FROM kafka.chunks x WHERE x.table_name = p_table;
		RETURN true;
	END IF;
	IF c.kind <> 'topic' OR EXISTS (SELECT FROM kafka.topics t WHERE t.topic_id = c.topic_id)
	   OR EXISTS (SELECT FROM pg_inherits i
		      WHERE i.inhrelid = to_regclass(format('kafka_chunks.%I', p_table))) THEN
		RETURN false;
	END IF;
	EXECUTE format('DROP TABLE IF EXISTS kafka_chunks.%I', p_table);
	DELETE FROM kafka.chunks x WHERE x.topic_table = p_table;
	RETURN true;
END
$$;

COMMENT ON FUNCTION kafka.drop_chunk(text, int) IS
	'Drop a chunk below its partition''s log start offset, or a deleted topic''s detached table; false if not (yet) droppable.';

/*
 * What the storage job has to do with the tables, for the broker to do one
 * short transaction at a time: 'add' (the partition's last chunk is half
 * full: kafka.add_chunk()), 'drop' (a chunk below the log start:
 * kafka.drop_chunk()), and for a deleted topic's table 'detach' (ALTER
 * TABLE kafka.records DETACH PARTITION ... CONCURRENTLY, which cannot run
 * in a function), 'finalize' (a detach interrupted half way: DETACH ...
 * FINALIZE) or 'drop'. One caller at a time across brokers (an advisory
 * lock; the others get no rows).
 */
CREATE FUNCTION kafka.chunk_work(p_defaults jsonb DEFAULT '{}',
	OUT action text, OUT table_name text, OUT topic text, OUT partition int,
	OUT lo bigint, OUT hi bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtext('pg_kafka chunks')) THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT 'add'::text, c.table_name, c.topic, c.partition, c.lo, c.hi
	FROM kafka.partitions p
	JOIN kafka.topics t ON t.name = p.topic
	CROSS JOIN LATERAL (SELECT x.* FROM kafka.chunks x
			    WHERE x.topic = p.topic AND x.partition = p.partition
			      AND x.topic_id = t.topic_id AND x.kind = 'chunk'
			    ORDER BY x.lo DESC LIMIT 1) c
	WHERE p.next_offset >= c.lo + (c.hi - c.lo) / 2
	UNION ALL
	SELECT 'drop', c.table_name, c.topic, c.partition, c.lo, c.hi
	FROM kafka.chunks c
	JOIN kafka.topics t ON t.topic_id = c.topic_id
	JOIN kafka.partitions p ON p.topic = c.topic AND p.partition = c.partition
	WHERE c.kind = 'chunk' AND c.hi <= p.log_start_offset
	UNION ALL
	SELECT CASE WHEN i.inhdetachpending THEN 'finalize'
		    WHEN i.inhrelid IS NOT NULL THEN 'detach' ELSE 'drop' END,
	       c.table_name, c.topic, NULL::int, NULL::bigint, NULL::bigint
	FROM kafka.chunks c
	LEFT JOIN pg_inherits i ON i.inhrelid = to_regclass(format('kafka_chunks.%I', c.table_name))
	WHERE c.kind = 'topic' AND NOT EXISTS (SELECT FROM kafka.topics t WHERE t.topic_id = c.topic_id)
	ORDER BY 1, 3, 4, 5;
END
$$;

COMMENT ON FUNCTION kafka.chunk_work(jsonb) IS
	'The storage job''s work on the tables under kafka.records: chunks to add, chunks to drop, deleted topics'' tables to detach and drop.';

/*
 * Delete records below log start offsets and of deleted topics, at most
 * p_budget rows, oldest segment first, with the transactional ranges and
 * aborted transactions below the log start. Rows in chunks entirely below
 * the log start are left alone: the chunk is dropped whole. Returns what
 * went: (topic, partition, from, to, rows). (Replaces the 0.8 function.)
 */
CREATE OR REPLACE FUNCTION kafka.purge_records(p_budget bigint,
	OUT topic text, OUT partition int, OUT from_offset bigint, OUT to_offset bigint,
	OUT removed bigint)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	left_ bigint := p_budget;
	seg record;
	upto bigint;
	floor_ bigint;
	n bigint;
BEGIN
	FOR seg IN SELECT s.topic, s.partition, s.base_offset, s.last_offset, p.log_start_offset,
			  false AS deleted_topic
		   FROM kafka.segments s JOIN kafka.partitions p USING (topic, partition)
		   WHERE s.base_offset < p.log_start_offset
		   UNION ALL
		   SELECT d.topic, d.partition, d.from_offset, d.to_offset - 1, d.to_offset, true
		   FROM kafka.deleted_partitions d
		   ORDER BY 6, 3 LOOP
		EXIT WHEN left_ <= 0;
		-- Lock the row and check it is still there: a topic deleted (its
		-- segments go) or created again (its queued range goes) since the
		-- loop's snapshot must not lose the new topic's records.
		IF seg.deleted_topic THEN
			PERFORM FROM kafka.deleted_partitions d
			WHERE d.topic = seg.topic AND d.partition = seg.partition
			  AND d.from_offset = seg.base_offset
			FOR UPDATE;
		ELSE
			PERFORM FROM kafka.segments s
			WHERE s.topic = seg.topic AND s.partition = seg.partition
			  AND s.base_offset = seg.base_offset
			FOR UPDATE;
		END IF;
		CONTINUE WHEN NOT FOUND;
		upto := least(seg.last_offset + 1, seg.log_start_offset, seg.base_offset + left_);
		-- Below the end of the chunks that lie wholly under the log start,
		-- rows go with their chunk.
		floor_ := CASE WHEN seg.deleted_topic THEN seg.base_offset ELSE greatest(seg.base_offset,
			coalesce((SELECT max(c.hi) FROM kafka.chunks c JOIN kafka.topics t
				  ON t.topic_id = c.topic_id
				  WHERE c.topic = seg.topic AND c.partition = seg.partition
				    AND c.kind = 'chunk' AND c.hi <= seg.log_start_offset), 0)) END;
		n := 0;
		IF floor_ < upto THEN
			DELETE FROM kafka.records r
			WHERE r.topic = seg.topic AND r.partition = seg.partition
			  AND r."offset" >= floor_ AND r."offset" < upto;
			GET DIAGNOSTICS n = ROW_COUNT;
		END IF;
		left_ := left_ - greatest(n, 1);
		IF seg.deleted_topic THEN
			IF upto > seg.last_offset THEN
				DELETE FROM kafka.deleted_partitions d
				WHERE d.topic = seg.topic AND d.partition = seg.partition;
			ELSE
				UPDATE kafka.deleted_partitions d SET from_offset = upto
				WHERE d.topic = seg.topic AND d.partition = seg.partition;
			END IF;
		ELSE
			IF upto > seg.last_offset THEN
				DELETE FROM kafka.segments s
				WHERE s.topic = seg.topic AND s.partition = seg.partition
				  AND s.base_offset = seg.base_offset;
			ELSE
				UPDATE kafka.segments s SET base_offset = upto
				WHERE s.topic = seg.topic AND s.partition = seg.partition
				  AND s.base_offset = seg.base_offset;
			END IF;
			DELETE FROM kafka.txn_batches b
			WHERE b.topic = seg.topic AND b.partition = seg.partition AND b.last_offset < upto;
			DELETE FROM kafka.aborted_txns a
			WHERE a.topic = seg.topic AND a.partition = seg.partition AND a.last_offset < upto;
		END IF;
		topic := seg.topic;
		partition := seg.partition;
		from_offset := floor_;
		to_offset := upto;
		removed := n;
		IF n > 0 OR seg.deleted_topic THEN
			RETURN NEXT;
		END IF;
	END LOOP;
END
$$;

/*
 * The existing kafka.records becomes the partitioned one, every record
 * kept: the new tree is created next to it, each partition gets its tables
 * and one chunk covering its records from the log start offset to past its
 * high watermark, the rows are copied (rows below a log start offset, which
 * the 0.8 job had yet to delete, and rows of deleted topics are not), and
 * the old table and the views that read it are replaced. It rewrites the
 * table once: docs/OPERATIONS.md, "Upgrading to 0.9".
 */
DROP VIEW kafka.records_decoded;
DROP VIEW kafka.shadow_status;
ALTER TABLE kafka.records RENAME TO records_0_8;
ALTER INDEX kafka.records_pkey RENAME TO records_0_8_pkey;

CREATE TABLE kafka.records (
	topic text COLLATE "C" NOT NULL,
	partition int NOT NULL,
	"offset" bigint NOT NULL,
	"timestamp" timestamptz NOT NULL,
	key bytea,
	value bytea,
	headers bytea,
	timestamp_ms bigint,
	PRIMARY KEY (topic, partition, "offset")
) PARTITION BY LIST (topic);

COMMENT ON TABLE kafka.records IS
	'Kafka records, one row each, partitioned by topic, partition and offset range (the tables of schema kafka_chunks, listed in kafka.chunks). Inserts are streamed by the pg_kafka output plugin in commit order.';
COMMENT ON COLUMN kafka.records.topic IS 'The topic.';
COMMENT ON COLUMN kafka.records.partition IS 'The partition.';
COMMENT ON COLUMN kafka.records."offset" IS 'The record''s offset in its partition.';
COMMENT ON COLUMN kafka.records."timestamp" IS
	'Record timestamp (create time from the producer, or log append time); -infinity or infinity where timestamp_ms is beyond what timestamptz holds.';
COMMENT ON COLUMN kafka.records.key IS 'Record key; NULL for a null key.';
COMMENT ON COLUMN kafka.records.value IS 'Record value; NULL for a null value (a tombstone).';
COMMENT ON COLUMN kafka.records.headers IS
	'The record''s header section in Kafka wire encoding (varint count, then each header); NULL when it has none.';
COMMENT ON COLUMN kafka.records.timestamp_ms IS
	'Record timestamp as Kafka has it: milliseconds since the Unix epoch, any bigint, -1 for none; NULL when "timestamp" is exact (rows written before 0.7 or by kafka.produce()).';

SELECT pg_catalog.pg_extension_config_dump('kafka.records', '');

ALTER TABLE kafka.records ENABLE ROW LEVEL SECURITY;

CREATE POLICY records_read ON kafka.records FOR SELECT
	USING (kafka.sql_authorized('READ', topic));
CREATE POLICY records_write ON kafka.records FOR INSERT
	WITH CHECK (kafka.sql_authorized('WRITE', topic));
CREATE POLICY records_delete ON kafka.records FOR DELETE
	USING (kafka.sql_authorized('DELETE', topic));
CREATE POLICY records_alter ON kafka.records FOR UPDATE
	USING (kafka.sql_authorized('ALTER', topic));

CREATE VIEW kafka.records_decoded WITH (security_invoker = true) AS
SELECT r.topic, r.partition, r."offset", r."timestamp",
       kafka.bytes_text(r.key) AS key_text,
       kafka.bytes_text(r.value) AS value_text,
       kafka.headers_jsonb(r.headers) AS headers,
       r.key, r.value, r.headers AS headers_raw
  FROM kafka.records r;

COMMENT ON VIEW kafka.records_decoded IS
	'kafka.records for people: key and value as text when they are UTF-8, headers as a JSON array of {"key", "value"}.';

CREATE VIEW kafka.shadow_status AS
SELECT s.slot, s.topic, s.partition, s.external_topic,
       p.next_offset AS local_high_watermark,
       s.local_offset, s.external_offset,
       greatest(p.next_offset - 1 - s.local_offset, 0) AS lag_records,
       coalesce((SELECT sum(coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
                            + coalesce(octet_length(r.headers), 0))
                 FROM kafka.records r
                 WHERE r.topic = s.topic AND r.partition = s.partition
                   AND r."offset" > s.local_offset), 0)::bigint AS lag_bytes,
       s.last_error, s.updated_at
FROM kafka.shadow_partitions s
JOIN kafka.partitions p ON p.topic = s.topic AND p.partition = s.partition;

COMMENT ON VIEW kafka.shadow_status IS
	'Shadow mode per partition: what the forwarder reported next to the local high watermark; lag counted from kafka.records.';

-- Each partition's tables, with one chunk from its log start offset to
-- 10,000 offsets past its high watermark. They hold user data, not the
-- extension's definition: out of the extension they go.
DO $$
DECLARE
	p record;
	t record;
BEGIN
	FOR p IN SELECT x.topic, x.partition, x.log_start_offset, x.next_offset
		 FROM kafka.partitions x ORDER BY 1, 2 LOOP
		PERFORM kafka.chunks_add_partition(p.topic, p.partition, p.log_start_offset,
						   p.next_offset - p.log_start_offset + 10000);
	END LOOP;
	FOR t IN SELECT c.table_name FROM kafka.chunks c ORDER BY c.created, c.table_name LOOP
		EXECUTE format('ALTER EXTENSION pg_kafka DROP TABLE kafka_chunks.%I', t.table_name);
	END LOOP;
END
$$;

INSERT INTO kafka.records (topic, partition, "offset", "timestamp", key, value, headers, timestamp_ms)
SELECT r.topic, r.partition, r."offset", r."timestamp", r.key, r.value, r.headers, r.timestamp_ms
FROM kafka.records_0_8 r
JOIN kafka.partitions p ON p.topic = r.topic AND p.partition = r.partition
WHERE r."offset" >= p.log_start_offset
ORDER BY r.topic, r.partition, r."offset";

TRUNCATE kafka.deleted_partitions;
ALTER EXTENSION pg_kafka DROP TABLE kafka.records_0_8;
DROP TABLE kafka.records_0_8;

/*
 * ---- Reading a partition's records (0.9) ----
 *
 * The broker reads kafka.records through these functions, not in its own
 * statements. A statement naming the partitioned kafka.records must be
 * planned with its topic and partition known to touch only that
 * partition's chunks: a generic plan of it locks every table under
 * kafka.records at each execution (PostgreSQL 15), and planning the
 * broker's whole Fetch statement each time costs more than a cached plan
 * of it. Here only the small query over kafka.records is planned per call,
 * with its parameters (plan_cache_mode), and the statements that call these
 * functions keep a cached plan. No sorts where an index gives the order
 * (enable_sort): a chunk filled since autovacuum last analyzed it looks
 * empty to the planner, which would otherwise read a partition's chunks
 * whole and sort them rather than merge their index scans up to the LIMIT.
 * SECURITY INVOKER: the caller's privileges and row security apply.
 *
 * kafka.read_records() plans nothing (decoder/read.c): it finds the
 * partition's tables from PostgreSQL's partition descriptors, locks only
 * those it reads, and reads each chunk and the DEFAULT leaf through its
 * primary key index, in offset order across them. Where row security
 * applies to the caller, or a table under kafka.records is not one it
 * reads directly (a foreign table, another partitioning, another primary
 * key), it runs the SELECT on kafka.records it stands for instead.
 */
CREATE FUNCTION kafka.read_records(p_topic text, p_partition int, p_from bigint,
	p_upto bigint, p_limit int)
RETURNS TABLE ("offset" bigint, ts bigint, key bytea, value bytea, headers bytea)
LANGUAGE C STABLE SECURITY INVOKER
AS 'MODULE_PATHNAME', 'pgk_read_records';

COMMENT ON FUNCTION kafka.read_records(text, int, bigint, bigint, int) IS
	'Up to p_limit records of a partition from offset p_from up to (not including) p_upto, in offset order, timestamps in Kafka milliseconds; what Fetch reads. Reads the partition''s tables through their primary key indexes without planning a query, or runs the equivalent SELECT on kafka.records where row security applies.';

CREATE FUNCTION kafka.find_record_by_time(p_topic text, p_partition int, p_ts bigint,
	p_log_start bigint)
RETURNS TABLE ("offset" bigint, ts bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET plan_cache_mode = force_custom_plan
SET enable_sort = off
AS $$
DECLARE
	v_from bigint;
BEGIN
	IF p_ts >= 0 THEN
		-- Records before the first segment whose newest record is at or
		-- after p_ts are all older: start there, or past the segments.
		v_from := coalesce(
			(SELECT s.base_offset FROM kafka.segments s
			 WHERE s.topic = p_topic AND s.partition = p_partition
			   AND (s.max_timestamp = 'infinity' OR (s.max_timestamp > '-infinity'
			        AND extract(epoch FROM s.max_timestamp) * 1000 >= p_ts))
			 ORDER BY s.base_offset LIMIT 1),
			(SELECT s.last_offset + 1 FROM kafka.segments s
			 WHERE s.topic = p_topic AND s.partition = p_partition
			 ORDER BY s.base_offset DESC LIMIT 1),
			0);
		RETURN QUERY
			SELECT r."offset", t.ts
			FROM kafka.records r,
				LATERAL (SELECT coalesce(r.timestamp_ms,
					floor(extract(epoch FROM r."timestamp") * 1000)::int8) AS ts) t
			WHERE r.topic = p_topic AND r.partition = p_partition
				AND r."offset" >= greatest(p_log_start, v_from) AND t.ts >= p_ts
			ORDER BY r."offset" LIMIT 1;
	ELSIF p_ts = -3 THEN
		RETURN QUERY
			SELECT r."offset", t.ts
			FROM kafka.records r,
				LATERAL (SELECT coalesce(r.timestamp_ms,
					floor(extract(epoch FROM r."timestamp") * 1000)::int8) AS ts) t
			WHERE r.topic = p_topic AND r.partition = p_partition
				AND r."offset" >= p_log_start
			ORDER BY t.ts DESC, r."offset" LIMIT 1;
	END IF;
END
$$;

COMMENT ON FUNCTION kafka.find_record_by_time(text, int, bigint, bigint) IS
	'ListOffsets: for p_ts >= 0 the first record at or after that time (Kafka milliseconds), for p_ts = -3 the record with the largest timestamp; from the log start offset p_log_start on.';

/*
 * ---- Segments with infinite timestamps (0.9) ----
 *
 * A record whose Kafka timestamp is beyond PostgreSQL's range (a client
 * may send any int64), or one written so through SQL, is stored with an
 * infinite timestamp. Rolling its segment by segment.ms subtracted the
 * segment's first timestamp from its newest, which PostgreSQL refuses for
 * infinite values: the storage job failed on the partition at every pass.
 * Such a span now counts as longer than any segment.ms.
 */
CREATE OR REPLACE FUNCTION kafka.segments_extend(p_topic text, p_partition int, p_defaults jsonb,
	p_budget bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
	part record;
	seg record;
	agg record;
	open_bytes bigint;
	pieces bigint[] := '{}';
	los bigint[] := '{}';
	firsts timestamptz[] := '{}';
	maxes timestamptz[] := '{}';
	ns bigint[] := '{}';
	sizes bigint[] := '{}';
	i int;
	scan_from bigint;
	scan_to bigint;
	seg_bytes bigint;
	seg_ms bigint;
	max_lag_ms numeric;
	compacted boolean;
BEGIN
	-- KEY SHARE: producers' updates of next_offset go on, but deleting the
	-- partition waits for this transaction, so no segment outlives it.
	SELECT p.next_offset, p.log_start_offset INTO part FROM kafka.partitions p
	WHERE p.topic = p_topic AND p.partition = p_partition
	FOR KEY SHARE;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	SELECT * INTO seg FROM kafka.segments s
	WHERE s.topic = p_topic AND s.partition = p_partition
	ORDER BY s.base_offset DESC LIMIT 1;
	scan_from := greatest(coalesce(seg.last_offset + 1, 0), part.log_start_offset);
	scan_to := least(part.next_offset, scan_from + greatest(p_budget, 1));
	seg_bytes := kafka.topic_setting(p_topic, 'segment.bytes', p_defaults)::bigint;
	seg_ms := kafka.topic_setting(p_topic, 'segment.ms', p_defaults)::bigint;
	compacted := 'compact' = ANY (string_to_array(replace(
		kafka.topic_setting(p_topic, 'cleanup.policy', p_defaults), ' ', ''), ','));
	max_lag_ms := CASE WHEN compacted
		THEN kafka.topic_setting(p_topic, 'max.compaction.lag.ms', p_defaults)::numeric END;

	-- The new records, cut where the running byte count crosses a multiple
	-- of segment.bytes; piece 0 extends the open segment.
	open_bytes := CASE WHEN seg.base_offset IS NOT NULL AND NOT seg.rolled
				AND seg.last_offset + 1 = scan_from THEN seg.bytes END;
	FOR agg IN
		WITH r AS (
			SELECT r."offset", r."timestamp",
			       sum(32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
				   + coalesce(octet_length(r.headers), 0))
				   OVER (ORDER BY r."offset" ROWS UNBOUNDED PRECEDING) AS upto,
			       32 + coalesce(octet_length(r.key), 0) + coalesce(octet_length(r.value), 0)
				   + coalesce(octet_length(r.headers), 0) AS b
			FROM kafka.records r
			WHERE r.topic = p_topic AND r.partition = p_partition
			  AND r."offset" >= scan_from AND r."offset" < scan_to)
		SELECT (coalesce(open_bytes, 0) + r.upto - r.b) / seg_bytes AS piece,
		       min(r."offset") AS lo, min(r."timestamp") AS first_ts,
		       max(r."timestamp") AS max_ts, count(*) AS n, sum(r.b) AS bytes
		FROM r GROUP BY 1 ORDER BY 1
	LOOP
		pieces := pieces || agg.piece;
		los := los || CASE WHEN cardinality(los) = 0 THEN scan_from ELSE agg.lo END;
		firsts := firsts || agg.first_ts;
		maxes := maxes || agg.max_ts;
		ns := ns || agg.n;
		sizes := sizes || agg.bytes::bigint;
	END LOOP;
	IF scan_to > scan_from AND cardinality(los) = 0 THEN
		-- only offsets without rows (transaction markers, compacted gaps)
		los := ARRAY[scan_from];
		pieces := ARRAY[0::bigint];
		firsts := ARRAY[now()];
		maxes := ARRAY[now()];
		ns := ARRAY[0::bigint];
		sizes := ARRAY[0::bigint];
	END IF;
	FOR i IN 1 .. cardinality(los) LOOP
		IF i = 1 AND pieces[1] = 0 AND open_bytes IS NOT NULL THEN
			UPDATE kafka.segments s
			SET last_offset = CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
			    first_timestamp = least(s.first_timestamp, firsts[i]),
			    max_timestamp = greatest(s.max_timestamp, maxes[i]),
			    records = s.records + ns[i],
			    bytes = s.bytes + sizes[i]
			WHERE s.topic = p_topic AND s.partition = p_partition
			  AND s.base_offset = seg.base_offset;
		ELSE
			UPDATE kafka.segments s SET rolled = true
			WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled;
			INSERT INTO kafka.segments (topic, partition, base_offset, last_offset,
						    first_timestamp, max_timestamp, records, bytes)
			VALUES (p_topic, p_partition, los[i],
				CASE WHEN i < cardinality(los) THEN los[i + 1] - 1 ELSE scan_to - 1 END,
				firsts[i], maxes[i], ns[i], sizes[i]);
		END IF;
	END LOOP;

	-- Roll the open segment once it is full or old enough.
	UPDATE kafka.segments s SET rolled = true
	WHERE s.topic = p_topic AND s.partition = p_partition AND NOT s.rolled
	  AND (s.bytes >= seg_bytes
	       OR now() - s.created >= seg_ms * interval '1 millisecond'
	       -- an infinite timestamp (a Kafka timestamp beyond PostgreSQL's
	       -- range) spans more than any segment.ms; subtracting it is an error
	       OR CASE WHEN s.max_timestamp = s.first_timestamp THEN false
		       WHEN NOT isfinite(s.max_timestamp) OR NOT isfinite(s.first_timestamp) THEN true
		       ELSE s.max_timestamp - s.first_timestamp >= seg_ms * interval '1 millisecond' END
	       OR (max_lag_ms IS NOT NULL AND max_lag_ms < 9.2e15
		   AND now() - s.created >= max_lag_ms * interval '1 millisecond'));
	RETURN greatest(scan_to - scan_from, 0);
END
$$;
