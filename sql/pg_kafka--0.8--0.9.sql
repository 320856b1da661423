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
