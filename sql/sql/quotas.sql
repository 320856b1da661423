--
-- Client quotas (pg_kafka 0.8): kafka.client_quotas and
-- kafka.set_client_quota(), what AlterClientQuotas calls.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_kafka;
-- a user, the default user with a client id, the default client id, an ip
SELECT kafka.set_client_quota('user', 'alice', NULL, NULL, 'producer_byte_rate', 1024);
SELECT kafka.set_client_quota('user,client-id', NULL, 'app', NULL, 'consumer_byte_rate', 2048);
SELECT kafka.set_client_quota('client-id', NULL, NULL, NULL, 'request_percentage', 12.5);
SELECT kafka.set_client_quota('ip', NULL, NULL, '10.0.0.1', 'connection_creation_rate', 5);
-- setting again replaces (the default entity too)
SELECT kafka.set_client_quota('user', 'alice', NULL, NULL, 'producer_byte_rate', 4096);
SELECT kafka.set_client_quota('client-id', NULL, NULL, NULL, 'request_percentage', 50);
SELECT entity_types, user_name, client_id, ip, quota_key, quota_value FROM kafka.client_quotas
ORDER BY 1, 2, 3, 4, 5;
-- a NULL value removes
SELECT kafka.set_client_quota('client-id', NULL, NULL, NULL, 'request_percentage', NULL);
SELECT count(*) FROM kafka.client_quotas WHERE entity_types = 'client-id';
-- what no Kafka entity can be is refused
\set VERBOSITY terse
SELECT kafka.set_client_quota('ip', 'bob', NULL, NULL, 'connection_creation_rate', 1);
SELECT kafka.set_client_quota('user', 'bob', NULL, NULL, 'connection_creation_rate', 1);
SELECT kafka.set_client_quota('group', 'g', NULL, NULL, 'producer_byte_rate', 1);
SELECT kafka.set_client_quota('user', 'bob', NULL, NULL, 'no_such_quota', 1);
\set VERBOSITY default
DELETE FROM kafka.client_quotas;
