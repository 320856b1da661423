--
-- Committed offset expiry (0.9, offsets.retention.minutes): what
-- kafka.expire_offsets() removes for the groups a coordinator names, and
-- kafka.group_membership, the stored "empty since".
--
SET client_min_messages = warning;

-- every new table and column is documented
SELECT c.relname, a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid IN ('kafka.consumer_offsets'::regclass, 'kafka.group_membership'::regclass)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND col_description(a.attrelid, a.attnum) IS NULL;

SELECT kafka.create_topic('exp-a', 2) IS NOT NULL AS created;
SELECT kafka.create_topic('exp-b', 1) IS NOT NULL AS created;

-- Offsets committed 8 days ago (a retention of 7 days is 604800000 ms),
-- one 1 day ago, and one with an explicit expiry (OffsetCommit v2-v4).
CREATE TEMP TABLE seed AS
SELECT * FROM (VALUES
	('simple', 'exp-a', 0, now() - interval '8 days', NULL::timestamptz),
	('simple', 'exp-a', 1, now() - interval '1 day', NULL),
	('left', 'exp-a', 0, now() - interval '8 days', NULL),
	('left', 'exp-b', 0, now() - interval '8 days', NULL),
	('live', 'exp-a', 0, now() - interval '8 days', NULL),
	('live', 'exp-b', 0, now() - interval '8 days', NULL),
	('live-none', 'exp-a', 0, now() - interval '8 days', NULL),
	('crashed', 'exp-a', 0, now() - interval '8 days', NULL),
	('short', 'exp-a', 0, now(), now() - interval '1 second'),
	('long', 'exp-a', 0, now() - interval '30 days', now() + interval '1 day'),
	('txn', 'exp-a', 0, now() - interval '8 days', NULL),
	('txn', 'exp-a', 1, now() - interval '8 days', NULL)
) AS s(g, t, p, committed, expires);
INSERT INTO kafka.consumer_offsets (group_id, topic, partition, committed_offset,
				    commit_timestamp, expire_timestamp)
SELECT g, t, p, 5, committed, expires FROM seed;

-- 'left' became empty 2 days ago: its offsets count from then, the later
-- time. 'crashed' had members when its coordinator last wrote.
SELECT kafka.set_group_membership('left', false, now() - interval '2 days');
SELECT kafka.set_group_membership('crashed', true, now() - interval '9 days');
-- an older change arriving late does not undo a newer one
SELECT kafka.set_group_membership('left', true, now() - interval '3 days');
SELECT group_id, has_members, since < now() - interval '47 hours' AS two_days_ago
FROM kafka.group_membership ORDER BY group_id;

-- 'txn' has a transactional commit pending on partition 1
INSERT INTO kafka.transactions (transactional_id, producer_id, producer_epoch, state, timeout_ms, started)
VALUES ('tx', 987654, 0, 'Ongoing', 60000, now());
INSERT INTO kafka.txn_groups (transactional_id, group_id) VALUES ('tx', 'txn');
INSERT INTO kafka.txn_offsets (transactional_id, group_id, topic, partition, committed_offset)
VALUES ('tx', 'txn', 'exp-a', 1, 9);

-- The pass: 'live' has members subscribed to exp-a; 'live-none' has
-- members subscribed to nothing listed; the rest have none.
SELECT * FROM kafka.expire_offsets(604800000,
	ARRAY['simple', 'left', 'live', 'live-none', 'crashed', 'short', 'long', 'txn', 'unknown'],
	ARRAY[false, false, true, true, false, false, false, false, false],
	ARRAY['live'], ARRAY['exp-a'])
ORDER BY group_id;

SELECT group_id, topic, partition FROM kafka.consumer_offsets
WHERE group_id IN (SELECT g FROM seed) ORDER BY 1, 2, 3;

-- 'crashed' is now empty from now, so it keeps its offsets a retention longer
SELECT group_id, has_members, since > now() - interval '1 minute' AS just_now
FROM kafka.group_membership ORDER BY group_id;

-- Once 'left' has been empty long enough its offsets go and the group
-- with them (its membership row too).
UPDATE kafka.group_membership SET since = now() - interval '8 days' WHERE group_id = 'left';
SELECT * FROM kafka.expire_offsets(604800000, ARRAY['left'], ARRAY[false]);
SELECT count(*) AS left_rows FROM kafka.group_membership WHERE group_id = 'left';

-- A group with members whose subscriptions are known keeps nothing else
-- (a live group that lost all its offsets is not gone).
SELECT * FROM kafka.expire_offsets(604800000, ARRAY['live'], ARRAY[true]);

-- A later commit without a retention of its own (TxnOffsetCommit moves
-- offsets so) ends the explicit expiry; one with a new retention sets it.
UPDATE kafka.consumer_offsets SET committed_offset = 6, commit_timestamp = now() - interval '1 hour'
WHERE group_id = 'long';
SELECT expire_timestamp IS NULL AS cleared FROM kafka.consumer_offsets WHERE group_id = 'long';
UPDATE kafka.consumer_offsets SET commit_timestamp = now(), expire_timestamp = now() + interval '1 hour'
WHERE group_id = 'long';
SELECT expire_timestamp > now() AS set_again FROM kafka.consumer_offsets WHERE group_id = 'long';

-- the inputs are checked
SELECT * FROM kafka.expire_offsets(0, ARRAY['x'], ARRAY[false]);
SELECT * FROM kafka.expire_offsets(1000, ARRAY['x', 'y'], ARRAY[false]);

DELETE FROM kafka.transactions WHERE transactional_id = 'tx';
SELECT kafka.delete_topic('exp-a') IS NOT NULL AS deleted;
SELECT kafka.delete_topic('exp-b') IS NOT NULL AS deleted;
DELETE FROM kafka.group_membership;
