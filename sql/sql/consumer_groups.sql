--
-- Consumer groups of the KIP-848 protocol (0.9): what the coordinator writes
-- when a heartbeat changes a group, and reads back when it becomes the
-- group's coordinator (docs/GROUPS.md).
--
SET client_min_messages = warning;
-- alone (make installcheck REGRESS=consumer_groups) or after the other tests
CREATE EXTENSION IF NOT EXISTS pg_kafka;

\d kafka.consumer_groups
\d kafka.consumer_group_members

-- every new table and column is documented
SELECT c.relname, a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid IN ('kafka.consumer_groups'::regclass, 'kafka.consumer_group_members'::regclass)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND col_description(a.attrelid, a.attnum) IS NULL;

-- two members, one of them static, one still revoking a partition
SELECT kafka.consumer_group_save('cg-orders', 3, 3, 'uniform', '[
  {"member_id": "m-a", "client_id": "app", "client_host": "/10.0.0.1", "member_epoch": 3,
   "previous_member_epoch": 2, "state": "stable", "rebalance_timeout_ms": 45000,
   "subscribed_topic_names": ["orders"],
   "assigned_partitions": {"6f1f2a3b-0000-4000-8000-000000000001": [0, 1]},
   "target_assignment": {"6f1f2a3b-0000-4000-8000-000000000001": [0, 1]}},
  {"member_id": "m-b", "instance_id": "host-2", "rack_id": "r2", "member_epoch": 2,
   "previous_member_epoch": 1, "state": "unrevoked_partitions", "rebalance_timeout_ms": 30000,
   "server_assignor": "uniform", "subscribed_topic_regex": "ord.*",
   "assigned_partitions": {"6f1f2a3b-0000-4000-8000-000000000001": [2]},
   "partitions_pending_revocation": {"6f1f2a3b-0000-4000-8000-000000000001": [3]},
   "target_assignment": {"6f1f2a3b-0000-4000-8000-000000000001": [2]}}
]');
SELECT group_id, group_epoch, assignment_epoch, assignor FROM kafka.consumer_groups;
SELECT member_id, instance_id, rack_id, client_id, client_host, member_epoch,
       previous_member_epoch, state, rebalance_timeout_ms, server_assignor,
       subscribed_topic_names, subscribed_topic_regex, assigned_partitions,
       partitions_pending_revocation, target_assignment
FROM kafka.consumer_group_members ORDER BY member_id;

-- the load: one row per member, kind and topic
SELECT group_epoch, assignment_epoch, metadata_hash, member_id, instance_id, member_epoch, state,
       subscribed_topic_names, subscribed_topic_regex, kind, topic_id, partitions
FROM kafka.consumer_group_load('cg-orders');

-- the next write replaces the member list: m-a left, m-b is stable
SELECT kafka.consumer_group_save('cg-orders', 4, 4, 'uniform', '[
  {"member_id": "m-b", "instance_id": "host-2", "member_epoch": 4, "previous_member_epoch": 2,
   "state": "stable", "rebalance_timeout_ms": 30000, "subscribed_topic_regex": "ord.*",
   "assigned_partitions": {"6f1f2a3b-0000-4000-8000-000000000001": [0, 1, 2, 3]},
   "target_assignment": {"6f1f2a3b-0000-4000-8000-000000000001": [0, 1, 2, 3]}}
]');
SELECT member_id, member_epoch, state, assigned_partitions FROM kafka.consumer_group_members;

-- an empty group keeps its epochs; a member without partitions is one row
SELECT kafka.consumer_group_save('cg-empty', 7, 7, NULL, '[]', -8070450532247928832);
SELECT kafka.consumer_group_save('cg-idle', 1, 1, 'range',
  '[{"member_id": "m-x", "member_epoch": 1, "subscribed_topic_names": ["none"]}]');
SELECT group_epoch, metadata_hash, member_id, kind, topic_id, partitions FROM kafka.consumer_group_load('cg-empty');
SELECT group_epoch, member_id, state, rebalance_timeout_ms, kind FROM kafka.consumer_group_load('cg-idle');
SELECT count(*) AS unknown_group_rows FROM kafka.consumer_group_load('cg-none');

-- what the database refuses
\set VERBOSITY terse
SELECT kafka.consumer_group_save('cg-bad', 1, 2, NULL, '[]');
SELECT kafka.consumer_group_save('cg-bad', 1, 1, NULL,
  '[{"member_id": "a", "instance_id": "i", "member_epoch": 1},
    {"member_id": "b", "instance_id": "i", "member_epoch": 1}]');
SELECT kafka.consumer_group_save('cg-bad', 1, 1, NULL,
  '[{"member_id": "a", "member_epoch": 1, "state": "dancing"}]');
SELECT kafka.consumer_group_save('cg-bad', 1, 1, NULL,
  '[{"member_id": "a", "member_epoch": 1, "assigned_partitions": [1]}]');
\set VERBOSITY default
SELECT count(*) AS bad_groups FROM kafka.consumer_groups WHERE group_id = 'cg-bad';

-- deleting the group deletes its members
DELETE FROM kafka.consumer_groups WHERE group_id IN ('cg-orders', 'cg-empty', 'cg-idle');
SELECT count(*) AS members_left FROM kafka.consumer_group_members;
