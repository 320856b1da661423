-- Cluster membership: leases, the node id guard, leadership and its epochs.
SET client_min_messages = warning;
SELECT kafka.create_topic('cl_a', 4) IS NOT NULL AS created;

-- Broker 1 registers alone and leads every partition at epoch 0.
SELECT node_id, listeners, rack FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000001', 'PLAINTEXT://h1:9092', 'r1', 60000);
SELECT partition, leader_id, leader_epoch FROM kafka.partition_leaders WHERE topic = 'cl_a' ORDER BY 1;

-- A second incarnation of node 1 is refused while the lease is live.
SELECT * FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000009', 'PLAINTEXT://other:9092', NULL, 60000);

-- Renewing keeps the start time.
SELECT started_at AS s1 FROM kafka.brokers WHERE node_id = 1 \gset
SELECT count(*) FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000001', 'PLAINTEXT://h1:9092', 'r1', 60000);
SELECT started_at = :'s1' AS same_start FROM kafka.brokers WHERE node_id = 1;

-- Broker 2 joins: leadership splits 2/2, and moved partitions get epoch 1.
SELECT node_id, listeners, rack FROM kafka.broker_heartbeat(2, '00000000-0000-0000-0000-000000000002', 'PLAINTEXT://h2:9092', 'r2', 60000) ORDER BY 1;
SELECT leader_id, count(*), max(leader_epoch) AS max_epoch
FROM kafka.partition_leaders WHERE topic = 'cl_a' GROUP BY 1 ORDER BY 1;
SELECT bool_and((leader_id = 1) = (leader_epoch = 0)) AS moved_bumped FROM kafka.partition_leaders WHERE topic = 'cl_a';

-- New partitions get a leader at the next heartbeat.
SELECT kafka.create_topic('cl_b', 2) IS NOT NULL AS created;
SELECT count(*) FROM kafka.broker_heartbeat(2, '00000000-0000-0000-0000-000000000002', 'PLAINTEXT://h2:9092', 'r2', 60000);
SELECT count(*) FROM kafka.partition_leaders WHERE topic = 'cl_b';

-- Broker 2 leaves: broker 1 leads everything again, epochs only grew.
SELECT kafka.broker_leave(2, '00000000-0000-0000-0000-000000000002');
SELECT partition, leader_id, leader_epoch FROM kafka.partition_leaders WHERE topic = 'cl_a' ORDER BY 1;

-- A lapsed lease is out: the next heartbeat of another broker drops it.
UPDATE kafka.brokers SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE node_id = 1;
SELECT node_id FROM kafka.live_brokers();
SELECT node_id FROM kafka.broker_heartbeat(3, '00000000-0000-0000-0000-000000000003', 'PLAINTEXT://h3:9092', NULL, 60000);
SELECT DISTINCT leader_id FROM kafka.partition_leaders;
-- and node 1 may come back with a new incarnation.
SELECT node_id FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000019', 'PLAINTEXT://h1:9092', 'r1', 60000) ORDER BY 1;

-- Racks alternate in the leadership order.
SELECT count(*) FROM kafka.broker_heartbeat(4, '00000000-0000-0000-0000-000000000004', 'PLAINTEXT://h4:9092', 'r1', 60000);
SELECT node_id, rack, place FROM kafka.live_brokers();

SELECT * FROM kafka.broker_heartbeat(5, '00000000-0000-0000-0000-000000000005', 'x', NULL, 0);

-- Only a lost broker's partitions move, and they spread over the others:
-- brokers 1, 3 and 4 lead 2 of cl_c's 6 partitions each.
SELECT kafka.create_topic('cl_c', 6) IS NOT NULL AS created;
SELECT count(*) FROM kafka.broker_heartbeat(3, '00000000-0000-0000-0000-000000000003', 'PLAINTEXT://h3:9092', NULL, 60000);
SELECT leader_id, count(*) FROM kafka.partition_leaders WHERE topic = 'cl_c' GROUP BY 1 ORDER BY 1;
CREATE TEMP TABLE before_loss AS SELECT * FROM kafka.partition_leaders WHERE topic = 'cl_c';
UPDATE kafka.brokers SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE node_id = 4;
SELECT count(*) FROM kafka.broker_heartbeat(3, '00000000-0000-0000-0000-000000000003', 'PLAINTEXT://h3:9092', NULL, 60000);
SELECT count(*) AS kept FROM kafka.partition_leaders a JOIN before_loss b USING (topic, partition)
WHERE b.leader_id <> 4 AND a.leader_id = b.leader_id AND a.leader_epoch = b.leader_epoch;
SELECT leader_id, count(*) FROM kafka.partition_leaders WHERE topic = 'cl_c' GROUP BY 1 ORDER BY 1;
SELECT bool_and(a.leader_epoch = b.leader_epoch + 1) AS moved_bumped
FROM kafka.partition_leaders a JOIN before_loss b USING (topic, partition) WHERE b.leader_id = 4;

-- A new WAL timeline (a promoted standby) bumps every leader epoch once.
SELECT timeline_id = kafka.wal_timeline() AS timeline_recorded FROM kafka.cluster_state;
CREATE TEMP TABLE before_failover AS SELECT * FROM kafka.partition_leaders;
UPDATE kafka.cluster_state SET timeline_id = timeline_id - 1;
SELECT count(*) FROM kafka.broker_heartbeat(3, '00000000-0000-0000-0000-000000000003', 'PLAINTEXT://h3:9092', NULL, 60000);
SELECT count(*) FROM kafka.broker_heartbeat(1, '00000000-0000-0000-0000-000000000019', 'PLAINTEXT://h1:9092', 'r1', 60000);
SELECT count(*) AS partitions, bool_and(a.leader_epoch = b.leader_epoch + 1 AND a.leader_id = b.leader_id) AS bumped_once
FROM kafka.partition_leaders a JOIN before_failover b USING (topic, partition);

DELETE FROM kafka.brokers;
SELECT kafka.delete_topic('cl_a');
SELECT kafka.delete_topic('cl_b');
SELECT kafka.delete_topic('cl_c');
SELECT count(*) FROM kafka.partition_leaders;
