/*
 * pg_kafka 0.8 -> 0.9.
 */

\echo Use "ALTER EXTENSION pg_kafka UPDATE TO '0.9'" to load this file. \quit

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
