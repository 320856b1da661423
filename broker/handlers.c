/*
 * The dispatch table from API key to handler, and the handlers' shared
 * start-up and shutdown.
 */
#include "apis.h"
#include "authorizer.h"
#include "cluster.h"
#include "config.h"
#include "group_coord.h"
#include "h_fetch.h"
#include "handlers.h"
#include "log.h"
#include "h_quotas.h"
#include "maintenance.h"
#include "offset_expiry.h"
#include "txn_reaper.h"

struct event_base *handler_base;

/* A broker that lost its lease serves nothing: the connection is closed
 * (clients move to the other brokers), as a broker cut off from its cluster. */
static void handle_fenced(request *req)
{
	log_info("closing a connection: this broker does not hold its lease (node %d)",
		 g_config.node_id);
	req->no_response = true;
	req->close_connection = true;
	request_complete(req);
}

handler_fn handler_lookup(int16_t api_key)
{
	if (!cluster_serving())
		return handle_fenced;
	switch (api_key) {
	case API_PRODUCE:
		return handle_produce;
	case API_FETCH:
		return handle_fetch;
	case API_LIST_OFFSETS:
		return handle_list_offsets;
	case API_METADATA:
		return handle_metadata;
	case API_API_VERSIONS:
		return handle_api_versions;
	case API_CREATE_TOPICS:
		return handle_create_topics;
	case API_DELETE_TOPICS:
		return handle_delete_topics;
	case API_DESCRIBE_CONFIGS:
		return handle_describe_configs;
	case API_CREATE_PARTITIONS:
		return handle_create_partitions;
	case API_FIND_COORDINATOR:
		return handle_find_coordinator;
	case API_JOIN_GROUP:
		return handle_join_group;
	case API_SYNC_GROUP:
		return handle_sync_group;
	case API_HEARTBEAT:
		return handle_heartbeat;
	case API_LEAVE_GROUP:
		return handle_leave_group;
	case API_OFFSET_COMMIT:
		return handle_offset_commit;
	case API_OFFSET_FETCH:
		return handle_offset_fetch;
	case API_DESCRIBE_GROUPS:
		return handle_describe_groups;
	case API_LIST_GROUPS:
		return handle_list_groups;
	case API_DELETE_GROUPS:
		return handle_delete_groups;
	case API_OFFSET_DELETE:
		return handle_offset_delete;
	case API_INIT_PRODUCER_ID:
		return handle_init_producer_id;
	case API_ADD_PARTITIONS_TO_TXN:
		return handle_add_partitions_to_txn;
	case API_ADD_OFFSETS_TO_TXN:
		return handle_add_offsets_to_txn;
	case API_END_TXN:
		return handle_end_txn;
	case API_TXN_OFFSET_COMMIT:
		return handle_txn_offset_commit;
	case API_DESCRIBE_TRANSACTIONS:
		return handle_describe_transactions;
	case API_LIST_TRANSACTIONS:
		return handle_list_transactions;
	case API_SASL_HANDSHAKE:
		return handle_sasl_handshake;
	case API_SASL_AUTHENTICATE:
		return handle_sasl_authenticate;
	case API_DESCRIBE_USER_SCRAM_CREDENTIALS:
		return handle_describe_user_scram_credentials;
	case API_ALTER_USER_SCRAM_CREDENTIALS:
		return handle_alter_user_scram_credentials;
	case API_DESCRIBE_ACLS:
		return handle_describe_acls;
	case API_CREATE_ACLS:
		return handle_create_acls;
	case API_DELETE_ACLS:
		return handle_delete_acls;
	case API_DELETE_RECORDS:
		return handle_delete_records;
	case API_ALTER_CONFIGS:
		return handle_alter_configs;
	case API_INCREMENTAL_ALTER_CONFIGS:
		return handle_incremental_alter_configs;
	/* Cluster, replica, quota, token and feature APIs */
	case API_DESCRIBE_CLUSTER:
		return handle_describe_cluster;
	case API_DESCRIBE_TOPIC_PARTITIONS:
		return handle_describe_topic_partitions;
	case API_UPDATE_FEATURES:
		return handle_update_features;
	case API_LIST_CLIENT_METRICS_RESOURCES:
		return handle_list_client_metrics_resources;
	case API_ELECT_LEADERS:
		return handle_elect_leaders;
	case API_ALTER_PARTITION_REASSIGNMENTS:
		return handle_alter_partition_reassignments;
	case API_LIST_PARTITION_REASSIGNMENTS:
		return handle_list_partition_reassignments;
	case API_ALTER_REPLICA_LOG_DIRS:
		return handle_alter_replica_log_dirs;
	case API_DESCRIBE_LOG_DIRS:
		return handle_describe_log_dirs;
	case API_OFFSET_FOR_LEADER_EPOCH:
		return handle_offset_for_leader_epoch;
	case API_DESCRIBE_PRODUCERS:
		return handle_describe_producers;
	case API_CREATE_DELEGATION_TOKEN:
		return handle_create_delegation_token;
	case API_RENEW_DELEGATION_TOKEN:
		return handle_renew_delegation_token;
	case API_EXPIRE_DELEGATION_TOKEN:
		return handle_expire_delegation_token;
	case API_DESCRIBE_DELEGATION_TOKEN:
		return handle_describe_delegation_token;
	case API_DESCRIBE_CLIENT_QUOTAS:
		return handle_describe_client_quotas;
	case API_ALTER_CLIENT_QUOTAS:
		return handle_alter_client_quotas;
	case API_WRITE_TXN_MARKERS:
		return handle_write_txn_markers;
	default:
		return NULL;
	}
}

void handlers_init(struct event_base *base)
{
	handler_base = base;
	group_coord_init(base);
	txn_reaper_init(base);
	maintenance_init(base);
	offset_expiry_init(base);
	authorizer_init(base);
	quotas_start(base);
}

void handlers_shutdown(void)
{
	fetch_shutdown();
	group_coord_shutdown();
	txn_reaper_shutdown();
	maintenance_shutdown();
	offset_expiry_shutdown();
	authorizer_shutdown();
	quotas_stop();
}
