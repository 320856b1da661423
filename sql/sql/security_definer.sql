--
-- The ACL check of SQL sessions (0.9): row security on kafka.records and
-- kafka.produce() follow the ACLs for a role that has no privilege on
-- kafka.acls or kafka.authorizer; kafka.role_authorized() answers only
-- about roles the session may act as.
--
SET client_min_messages = warning;

CREATE ROLE regress_erin NOLOGIN;
CREATE ROLE regress_frank NOLOGIN;

SELECT p.prosecdef, p.proconfig
FROM pg_proc p
WHERE p.oid = 'kafka.role_authorized(name, text, text, text, text)'::regprocedure;

SELECT kafka.create_topic('sd-open', 1) IS NOT NULL AS created;
SELECT kafka.create_topic('sd-closed', 1) IS NOT NULL AS created;
SELECT (kafka.produce('sd-open', 'k', 'one')).offset;
SELECT (kafka.produce('sd-closed', 'k', 'secret')).offset;
INSERT INTO kafka.acls (resource_type, pattern_type, resource_name, principal, host, operation, permission) VALUES
	('TOPIC', 'LITERAL', 'sd-open', 'User:regress_erin', '*', 'READ', 'ALLOW'),
	('TOPIC', 'LITERAL', 'sd-open', 'User:regress_erin', '*', 'WRITE', 'ALLOW'),
	('TOPIC', 'LITERAL', 'sd-closed', 'User:regress_frank', '*', 'READ', 'ALLOW');
SELECT kafka.set_authorizer(true, '{}', false);

-- no privilege on the ACL tables
GRANT USAGE ON SCHEMA kafka TO regress_erin;
GRANT SELECT, INSERT ON kafka.records TO regress_erin;
GRANT SELECT, UPDATE ON kafka.partitions TO regress_erin;
GRANT SELECT ON kafka.topics, kafka.topic_configs, kafka.records_decoded TO regress_erin;

SET SESSION AUTHORIZATION regress_erin;
SELECT has_table_privilege('kafka.acls', 'SELECT') AS reads_acls,
       has_table_privilege('kafka.authorizer', 'SELECT') AS reads_authorizer;
SELECT topic, "offset" FROM kafka.records WHERE topic LIKE 'sd-%' ORDER BY topic;
SELECT topic, value_text FROM kafka.records_decoded WHERE topic LIKE 'sd-%' ORDER BY topic;
SELECT (kafka.produce('sd-open', 'k', 'from erin')).offset;
SELECT (kafka.produce('sd-closed', 'k', 'from erin')).offset;
-- about itself, yes; about another role, nothing
SELECT kafka.role_authorized('regress_erin', '', 'READ', 'TOPIC', 'sd-open') AS erin_reads_open,
       kafka.role_authorized('regress_erin', '', 'READ', 'TOPIC', 'sd-closed') AS erin_reads_closed,
       kafka.role_authorized('regress_frank', '', 'READ', 'TOPIC', 'sd-closed') AS about_frank;
SELECT count(*) FROM kafka.acls;
RESET SESSION AUTHORIZATION;

-- the same question from a session that may act as frank
SELECT kafka.role_authorized('regress_frank', '', 'READ', 'TOPIC', 'sd-closed') AS frank_reads_closed;

-- authorizer off: the grants alone decide
SELECT kafka.set_authorizer(false, '{}', false);
SET SESSION AUTHORIZATION regress_erin;
SELECT topic, "offset" FROM kafka.records WHERE topic LIKE 'sd-%' ORDER BY topic, "offset";
RESET SESSION AUTHORIZATION;

DELETE FROM kafka.acls WHERE resource_name LIKE 'sd-%';
SELECT kafka.delete_topic('sd-open') IS NOT NULL AS deleted;
SELECT kafka.delete_topic('sd-closed') IS NOT NULL AS deleted;
DROP OWNED BY regress_erin, regress_frank;
DROP ROLE regress_erin, regress_frank;
