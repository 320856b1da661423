/*
 * Request handlers, one per Kafka API, grouped by family in h_*.c.
 * handler_lookup() is the dispatch table used by the server.
 */
#ifndef PGK_HANDLERS_H
#define PGK_HANDLERS_H

#include <event2/event.h>

#include "apis.h"
#include "request.h"

handler_fn handler_lookup(int16_t api_key);

void handle_api_versions(request *req);
void handle_metadata(request *req);
void handle_produce(request *req);
void handle_fetch(request *req);
void handle_list_offsets(request *req);
void handle_create_topics(request *req);
void handle_delete_topics(request *req);
void handle_create_partitions(request *req);
void handle_describe_configs(request *req);
void handle_delete_records(request *req);
void handle_alter_configs(request *req);
void handle_incremental_alter_configs(request *req);
void handle_find_coordinator(request *req);
void handle_join_group(request *req);
void handle_sync_group(request *req);
void handle_heartbeat(request *req);
void handle_leave_group(request *req);
void handle_offset_commit(request *req);
void handle_offset_fetch(request *req);
void handle_describe_groups(request *req);
void handle_list_groups(request *req);
void handle_delete_groups(request *req);
void handle_offset_delete(request *req);
void handle_consumer_group_heartbeat(request *req);
void handle_consumer_group_describe(request *req);
void handle_init_producer_id(request *req);
void handle_add_partitions_to_txn(request *req);
void handle_add_offsets_to_txn(request *req);
void handle_end_txn(request *req);
void handle_txn_offset_commit(request *req);
void handle_describe_transactions(request *req);
void handle_list_transactions(request *req);
void handle_sasl_handshake(request *req);
void handle_sasl_authenticate(request *req);
void handle_describe_user_scram_credentials(request *req);
void handle_alter_user_scram_credentials(request *req);
void handle_describe_acls(request *req);
void handle_create_acls(request *req);
void handle_delete_acls(request *req);
/* Cluster, replica, quota, token and feature APIs */
void handle_describe_cluster(request *req);
void handle_describe_topic_partitions(request *req);
void handle_update_features(request *req);
void handle_list_client_metrics_resources(request *req);
void handle_elect_leaders(request *req);
void handle_alter_partition_reassignments(request *req);
void handle_list_partition_reassignments(request *req);
void handle_alter_replica_log_dirs(request *req);
void handle_describe_log_dirs(request *req);
void handle_offset_for_leader_epoch(request *req);
void handle_describe_producers(request *req);
void handle_create_delegation_token(request *req);
void handle_renew_delegation_token(request *req);
void handle_expire_delegation_token(request *req);
void handle_describe_delegation_token(request *req);
void handle_describe_client_quotas(request *req);
void handle_alter_client_quotas(request *req);
void handle_write_txn_markers(request *req);

/* Called once at start-up and shutdown: the group coordinator, the
 * transaction timeout timer, fetches waiting for data. Shutdown runs before
 * the pool's. */
void handlers_init(struct event_base *base);
void handlers_shutdown(void);

/* The broker's event loop, for handler timers (set by handlers_init). */
extern struct event_base *handler_base;

#endif
