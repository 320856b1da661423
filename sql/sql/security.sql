--
-- Users and ACLs (pg_kafka 0.8, docs/SECURITY.md): Kafka users as
-- PostgreSQL roles with the SCRAM verifier PostgreSQL stores, Kafka-managed
-- SCRAM credentials, and Kafka's ACL decision in SQL.
--
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';

--
-- Upgrade: a 0.7 database with records gets the 0.8 tables, and keeps its
-- records.
--
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka VERSION '0.7';
SELECT kafka.create_topic('kept', 1) IS NOT NULL AS created;
SELECT (kafka.produce('kept', 'k', 'v')).offset;
ALTER EXTENSION pg_kafka UPDATE TO '0.8';
SELECT extversion FROM pg_extension WHERE extname = 'pg_kafka';
SELECT topic, "offset", kafka.bytes_text(value) AS value FROM kafka.records;
SELECT enabled, super_users, acl_version FROM kafka.authorizer;
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka;

--
-- The key derivation is RFC 5802's: for a role's password, it gives the
-- StoredKey and ServerKey PostgreSQL computed itself.
--
CREATE ROLE regress_alice LOGIN PASSWORD 'pencil' IN ROLE kafka_users;
CREATE ROLE regress_bob LOGIN PASSWORD 'bob-secret';
CREATE ROLE regress_team NOLOGIN IN ROLE kafka_users;
CREATE ROLE regress_carol LOGIN PASSWORD 'carol-secret' IN ROLE regress_team;
CREATE ROLE regress_dave NOLOGIN PASSWORD 'dave-secret' IN ROLE kafka_users;

SELECT v.iterations, length(v.salt) AS salt_bytes,
       (kafka.scram_keys('SCRAM-SHA-256', 'pencil', v.salt, v.iterations)).stored_key = v.stored_key AS stored_key_matches,
       (kafka.scram_keys('SCRAM-SHA-256', 'pencil', v.salt, v.iterations)).server_key = v.server_key AS server_key_matches,
       (kafka.scram_keys('SCRAM-SHA-256', 'pen', v.salt, v.iterations)).stored_key = v.stored_key AS wrong_password_matches,
       v.source
FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-256') v;

-- Only LOGIN roles in kafka_users (directly or through another role) are
-- Kafka users; a role's password changed with ALTER ROLE is the new one.
SELECT r.u, (SELECT count(*) FROM kafka.scram_credential(r.u, 'SCRAM-SHA-256')) AS credentials
FROM unnest(ARRAY['regress_alice', 'regress_bob', 'regress_carol', 'regress_dave',
		  'regress_nobody']) AS r(u);
SELECT stored_key AS old_key FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-256') \gset
ALTER ROLE regress_alice PASSWORD 'new-pencil';
SELECT (kafka.scram_keys('SCRAM-SHA-256', 'new-pencil', v.salt, v.iterations)).stored_key = v.stored_key AS new_password_matches,
       v.stored_key = :'old_key'::bytea AS old_key_kept
FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-256') v;
ALTER ROLE regress_alice VALID UNTIL '2000-01-01';
SELECT count(*) AS expired_credentials FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-256');
ALTER ROLE regress_alice VALID UNTIL 'infinity';

-- Kafka-managed credentials: SCRAM-SHA-512 for a role, SCRAM-SHA-256 for a
-- user that is no role. The role's own verifier wins for SCRAM-SHA-256.
SELECT kafka.set_scram_credential('regress_alice', 'SCRAM-SHA-512', 'pencil-512', 8192);
SELECT kafka.set_scram_credential('svc', 'SCRAM-SHA-256', 'svc-secret');
SELECT kafka.set_scram_credential('regress_alice', 'SCRAM-SHA-256', 'shadowed');
SELECT kafka.set_scram_credential('svc', 'SCRAM-SHA-256', 'svc-secret', 100);
SELECT v.iterations, length(v.salt) AS salt_bytes, length(v.stored_key) AS key_bytes,
       (kafka.scram_keys('SCRAM-SHA-512', 'pencil-512', v.salt, v.iterations)).stored_key = v.stored_key AS matches,
       v.source
FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-512') v;
SELECT (kafka.scram_keys('SCRAM-SHA-256', 'svc-secret', v.salt, v.iterations)).server_key = v.server_key AS matches,
       v.source
FROM kafka.scram_credential('svc', 'SCRAM-SHA-256') v;
SELECT source FROM kafka.scram_credential('regress_alice', 'SCRAM-SHA-256');
SELECT * FROM kafka.scram_credential_list() WHERE user_name IN ('regress_alice', 'regress_carol', 'svc');
SELECT kafka.delete_scram_credential('svc', 'SCRAM-SHA-256') AS deleted,
       kafka.delete_scram_credential('svc', 'SCRAM-SHA-256') AS deleted_again;

-- Nothing here is readable by other roles.
SELECT has_function_privilege('regress_bob', 'kafka.scram_credential(text, text)', 'EXECUTE') AS bob_reads_verifiers,
       has_function_privilege('regress_bob', 'kafka.scram_credential_list()', 'EXECUTE') AS bob_lists,
       has_table_privilege('regress_bob', 'kafka.scram_credentials', 'SELECT') AS bob_reads_table;

--
-- ACLs: Kafka's decision, and the version counter brokers poll.
--
SELECT acl_version AS v0 FROM kafka.authorizer \gset
INSERT INTO kafka.acls (resource_type, pattern_type, resource_name, principal, host, operation, permission) VALUES
	('TOPIC', 'LITERAL', 'orders', 'User:regress_alice', '*', 'WRITE', 'ALLOW'),
	('TOPIC', 'PREFIXED', 'logs-', 'User:*', '*', 'READ', 'ALLOW'),
	('TOPIC', 'LITERAL', 'logs-secret', 'User:regress_carol', '*', 'ALL', 'DENY'),
	('TOPIC', 'LITERAL', '*', 'User:regress_carol', '10.0.0.1', 'DESCRIBE', 'ALLOW'),
	('GROUP', 'LITERAL', 'billing', 'User:regress_alice', '*', 'READ', 'ALLOW'),
	('CLUSTER', 'LITERAL', 'kafka-cluster', 'User:regress_alice', '*', 'ALTER_CONFIGS', 'ALLOW');
SELECT acl_version - :v0 AS bumps FROM kafka.authorizer;

SELECT t.principal, t.host, t.op, t.rtype, t.rname,
       kafka.acl_allows(t.principal, t.host, t.op, t.rtype, t.rname) AS allowed
FROM (VALUES
	('User:regress_alice', '1.2.3.4', 'WRITE', 'TOPIC', 'orders'),
	('User:regress_alice', '1.2.3.4', 'DESCRIBE', 'TOPIC', 'orders'),   -- implied by WRITE
	('User:regress_alice', '1.2.3.4', 'READ', 'TOPIC', 'orders'),
	('User:regress_bob', '1.2.3.4', 'WRITE', 'TOPIC', 'orders'),
	('User:regress_bob', '1.2.3.4', 'READ', 'TOPIC', 'logs-app'),       -- prefixed, any user
	('User:regress_bob', '1.2.3.4', 'READ', 'TOPIC', 'logs'),
	('User:regress_carol', '1.2.3.4', 'READ', 'TOPIC', 'logs-secret'),  -- deny wins
	('User:regress_carol', '1.2.3.4', 'DESCRIBE', 'TOPIC', 'orders'),   -- wrong host
	('User:regress_carol', '10.0.0.1', 'DESCRIBE', 'TOPIC', 'orders'),  -- wildcard name
	('User:regress_bob', '1.2.3.4', 'READ', 'TOPIC', 'unguarded'),      -- no binding at all
	('User:regress_alice', '1.2.3.4', 'READ', 'GROUP', 'billing'),
	('User:regress_alice', '1.2.3.4', 'DESCRIBE', 'GROUP', 'billing'),
	('User:regress_alice', '1.2.3.4', 'READ', 'GROUP', 'billing-2'),
	('User:regress_alice', '1.2.3.4', 'DESCRIBE_CONFIGS', 'CLUSTER', 'kafka-cluster'),
	('User:regress_alice', '1.2.3.4', 'ALTER', 'CLUSTER', 'kafka-cluster')
) AS t(principal, host, op, rtype, rname);

UPDATE kafka.authorizer SET allow_everyone_if_no_acl_found = true, super_users = '{User:regress_bob}';
SELECT kafka.acl_allows('User:regress_dave', '1.2.3.4', 'READ', 'TOPIC', 'unguarded') AS no_acl_found,
       kafka.acl_allows('User:regress_dave', '1.2.3.4', 'READ', 'TOPIC', 'orders') AS guarded,
       kafka.acl_allows('User:regress_bob', '1.2.3.4', 'DELETE', 'TOPIC', 'logs-secret') AS super_user;

--
-- SQL sessions follow the same ACLs when the authorizer is on: row security
-- on kafka.records, and kafka.produce() checks WRITE first. Roles that row
-- security does not apply to (here the superuser) are not held back.
--
SELECT kafka.set_authorizer(true, '{}', false);
SELECT kafka.create_topic('orders', 1) IS NOT NULL AS created;
SELECT kafka.create_topic('logs-app', 1) IS NOT NULL AS created;
SELECT (kafka.produce('orders', 'k', 'placed')).offset;
SELECT (kafka.produce('logs-app', 'k', 'started')).offset;
GRANT USAGE ON SCHEMA kafka TO regress_alice, regress_bob;
GRANT SELECT, INSERT ON kafka.records TO regress_alice, regress_bob;
GRANT SELECT, UPDATE ON kafka.partitions TO regress_alice, regress_bob;
GRANT SELECT ON kafka.topics, kafka.topic_configs, kafka.authorizer, kafka.acls, kafka.records_decoded
	TO regress_alice, regress_bob;

SET ROLE regress_alice;
SELECT topic, "offset" FROM kafka.records ORDER BY topic;
SELECT topic, value_text FROM kafka.records_decoded ORDER BY topic;
SELECT (kafka.produce('orders', 'k', 'from alice')).offset;
SELECT (kafka.produce('logs-app', 'k', 'from alice')).offset;
RESET ROLE;
SET ROLE regress_bob;
SELECT topic, "offset" FROM kafka.records ORDER BY topic, "offset";
SELECT (kafka.produce('orders', 'k', 'from bob')).offset;
INSERT INTO kafka.records (topic, partition, "offset", "timestamp", value)
VALUES ('orders', 0, 99, now(), 'around produce()');
RESET ROLE;

-- Off again: the grants alone decide.
SELECT kafka.set_authorizer(false, '{}', false);
SET ROLE regress_bob;
SELECT topic, "offset" FROM kafka.records ORDER BY topic, "offset";
RESET ROLE;

DROP EXTENSION pg_kafka;
DROP OWNED BY regress_alice, regress_bob;
DROP ROLE regress_alice, regress_bob, regress_carol, regress_dave, regress_team;
CREATE EXTENSION pg_kafka;
