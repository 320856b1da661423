-- Leader epoch history: kafka.partition_epochs follows kafka.partition_leaders,
-- answers OffsetForLeaderEpoch as Kafka's epoch cache does, and is trimmed
-- by retention.
SET client_min_messages = warning;
SELECT kafka.create_topic('le_a', 2) IS NOT NULL AS created;
SELECT kafka.produce('le_a', NULL::text, 'r' || i, NULL, p) IS NOT NULL
FROM generate_series(0, 1) p, generate_series(1, 3) i;

-- No history (a broker alone): epoch 0 throughout.
SELECT * FROM kafka.partition_epochs WHERE topic = 'le_a';
SELECT kafka.current_leader_epoch('le_a', 0), kafka.leader_epoch_at('le_a', 0, 2);
SELECT e, (kafka.offset_for_leader_epoch('le_a', 0, e)).* FROM unnest(ARRAY[-2, -1, 0, 1]) e;
SELECT count(*) FROM kafka.offset_for_leader_epoch('le_a', 7, 0);

-- A broker alone after a failover (a new timeline): partitions without a
-- leader row begin their next epoch at their next offset. (The timeline is
-- faked without triggers, as a promotion changes it.)
SELECT kafka.cluster_check_timeline();
SET session_replication_role = replica;
UPDATE kafka.cluster_state SET timeline_id = timeline_id - 1;
RESET session_replication_role;
SELECT kafka.cluster_check_timeline();
SELECT partition, leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' ORDER BY 1, 2;
SELECT e, (kafka.offset_for_leader_epoch('le_a', 0, e)).* FROM unnest(ARRAY[0, 1]) e;
SELECT kafka.cluster_check_timeline();
SELECT count(*) FROM kafka.partition_epochs WHERE topic = 'le_a';
-- For what follows, a topic that has not been through that.
SELECT kafka.delete_topic('le_a');
SELECT kafka.create_topic('le_a', 2) IS NOT NULL AS created;
SELECT kafka.produce('le_a', NULL::text, 'r' || i, NULL, p) IS NOT NULL
FROM generate_series(0, 1) p, generate_series(1, 3) i;

-- A broker registers: epoch 0 begins at the log start, as before.
SELECT count(*) FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000001', 'PLAINTEXT://h1:9092', NULL, 60000);
SELECT partition, leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' ORDER BY 1, 2;

-- A second broker takes a partition over: its new epoch begins at the
-- partition's next offset.
SELECT count(*) FROM kafka.broker_heartbeat(2, '00000000-0000-0000-0000-000000000002', 'PLAINTEXT://h2:9092', NULL, 60000);
SELECT partition, leader_id, leader_epoch FROM kafka.partition_leaders WHERE topic = 'le_a' ORDER BY 1;
SELECT partition AS moved FROM kafka.partition_leaders WHERE topic = 'le_a' AND leader_epoch = 1 \gset
SELECT kafka.produce('le_a', NULL::text, 'r' || i, NULL, :moved) IS NOT NULL FROM generate_series(4, 5) i;
SELECT leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' AND partition = :moved ORDER BY 1;
SELECT o, kafka.leader_epoch_at('le_a', :moved, o) FROM generate_series(0, 5) o;
SELECT kafka.current_leader_epoch('le_a', :moved);

-- Epoch 0 ends where epoch 1 starts; epoch 1 (the current) at the log end;
-- an epoch above the current, or -1, is undefined.
SELECT e, (kafka.offset_for_leader_epoch('le_a', :moved, e)).* FROM unnest(ARRAY[-1, 0, 1, 2]) e;

-- A failover (a new timeline) bumps every epoch once; a partition with
-- nothing written since begins its new epoch at the same offset.
SET session_replication_role = replica;
UPDATE kafka.cluster_state SET timeline_id = timeline_id - 1;
RESET session_replication_role;
SELECT count(*) FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000001', 'PLAINTEXT://h1:9092', NULL, 60000);
SELECT leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' AND partition = :moved ORDER BY 1;
SELECT e, (kafka.offset_for_leader_epoch('le_a', :moved, e)).* FROM unnest(ARRAY[0, 1, 2]) e;
SELECT kafka.leader_epoch_at('le_a', :moved, 4), kafka.leader_epoch_at('le_a', :moved, 5);

-- Epochs only grow: an older one is not recorded again.
SELECT kafka.begin_leader_epoch('le_a', :moved, 1);
SELECT count(*) FROM kafka.partition_epochs WHERE topic = 'le_a' AND partition = :moved;

-- Retention: epochs that end at or before the new log start go, the first
-- one left starts there; an epoch below it answers the first start.
SELECT kafka.produce('le_a', NULL::text, 'r6', NULL, :moved) IS NOT NULL;
SELECT kafka.delete_records('le_a', :moved, 4);
SELECT leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' AND partition = :moved ORDER BY 1;
SELECT e, (kafka.offset_for_leader_epoch('le_a', :moved, e)).* FROM unnest(ARRAY[0, 1, 2]) e;
SELECT kafka.delete_records('le_a', :moved, 6);
SELECT leader_epoch, start_offset FROM kafka.partition_epochs WHERE topic = 'le_a' AND partition = :moved ORDER BY 1;

-- The history goes with its topic.
DELETE FROM kafka.brokers;
SELECT kafka.delete_topic('le_a');
SELECT count(*) FROM kafka.partition_epochs WHERE topic = 'le_a';
SELECT count(*) FROM kafka.partition_leaders;
UPDATE kafka.cluster_state SET live_brokers = '', timeline_id = NULL;
