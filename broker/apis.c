/*
 * Field tables for every message in apis.h, and the table of implemented
 * APIs with the versions advertised in ApiVersions.
 */
#include <stddef.h>

#include "apis.h"

#define PGK_SUB_I8(sub) NULL
#define PGK_SUB_I16(sub) NULL
#define PGK_SUB_I32(sub) NULL
#define PGK_SUB_I64(sub) NULL
#define PGK_SUB_BOOL(sub) NULL
#define PGK_SUB_UUID(sub) NULL
#define PGK_SUB_F64(sub) NULL
#define PGK_SUB_STR(sub) NULL
#define PGK_SUB_ID(sub) NULL
#define PGK_SUB_BYTES(sub) NULL
#define PGK_SUB_ARRS(sub) &sub##_schema
#define PGK_SUB_ARRI32(sub) NULL
#define PGK_SUB_ARRI64(sub) NULL
#define PGK_SUB_ARRSTR(sub) NULL
#define PGK_SUB_ARRID(sub) NULL
#define PGK_SUB_STRUCT(sub) &sub##_schema

/* Field types as the codec knows them, and the tag of tagged fields. */
#define PGK_FT_I8 FT_I8
#define PGK_TAG_I8 (-1)
#define PGK_FT_I16 FT_I16
#define PGK_TAG_I16 (-1)
#define PGK_FT_I32 FT_I32
#define PGK_TAG_I32 (-1)
#define PGK_FT_I64 FT_I64
#define PGK_TAG_I64 (-1)
#define PGK_FT_BOOL FT_BOOL
#define PGK_TAG_BOOL (-1)
#define PGK_FT_UUID FT_UUID
#define PGK_TAG_UUID (-1)
#define PGK_FT_F64 FT_F64
#define PGK_TAG_F64 (-1)
#define PGK_FT_STR FT_STR
#define PGK_TAG_STR (-1)
#define PGK_FT_ID FT_ID
#define PGK_TAG_ID (-1)
#define PGK_FT_BYTES FT_BYTES
#define PGK_TAG_BYTES (-1)
#define PGK_FT_ARRS FT_ARRS
#define PGK_TAG_ARRS (-1)
#define PGK_FT_ARRI32 FT_ARRI32
#define PGK_TAG_ARRI32 (-1)
#define PGK_FT_ARRI64 FT_ARRI64
#define PGK_TAG_ARRI64 (-1)
#define PGK_FT_ARRSTR FT_ARRSTR
#define PGK_TAG_ARRSTR (-1)
#define PGK_FT_ARRID FT_ARRID
#define PGK_TAG_ARRID (-1)
#define PGK_FT_STRUCT FT_STRUCT
#define PGK_TAG_STRUCT (-1)
/* Tagged fields: TAG<n>_<type> is the field of tag n (apis.h). */
#define PGK_SUB_TAG0_ARRS(sub) &sub##_schema
#define PGK_FT_TAG0_ARRS FT_ARRS
#define PGK_TAG_TAG0_ARRS 0
#define PGK_SUB_TAG1_I64(sub) NULL
#define PGK_FT_TAG1_I64 FT_I64
#define PGK_TAG_TAG1_I64 1
#define PGK_SUB_TAG2_ARRS(sub) &sub##_schema
#define PGK_FT_TAG2_ARRS FT_ARRS
#define PGK_TAG_TAG2_ARRS 2
#define PGK_SUB_TAG0_STRUCT(sub) &sub##_schema
#define PGK_FT_TAG0_STRUCT FT_STRUCT
#define PGK_TAG_TAG0_STRUCT 0
#define PGK_SUB_TAG1_STRUCT(sub) &sub##_schema
#define PGK_FT_TAG1_STRUCT FT_STRUCT
#define PGK_TAG_TAG1_STRUCT 1

#define PGK_FIELD(S, T, n, lo, hi, nul, d, sub)                                                    \
	{#n, PGK_FT_##T, lo, hi, nul, (uint16_t)offsetof(S, n), (int64_t)(d), PGK_SUB_##T(sub),    \
	 PGK_TAG_##T},
#define PGK_SCHEMA(S, LIST)                                                                        \
	static const field_def S##_fields[] = {LIST(PGK_FIELD, S)};                                \
	const schema_def S##_schema = {#S, sizeof(S), (int)(sizeof(S##_fields) / sizeof(field_def)), \
				       S##_fields};

PGK_SCHEMA(api_versions_req, API_VERSIONS_REQ)
PGK_SCHEMA(api_versions_resp_key, API_VERSIONS_RESP_KEY)
PGK_SCHEMA(api_versions_resp_supported_feature, API_VERSIONS_RESP_SUPPORTED_FEATURE)
PGK_SCHEMA(api_versions_resp_finalized_feature, API_VERSIONS_RESP_FINALIZED_FEATURE)
PGK_SCHEMA(api_versions_resp, API_VERSIONS_RESP)

PGK_SCHEMA(metadata_req_topic, METADATA_REQ_TOPIC)
PGK_SCHEMA(metadata_req, METADATA_REQ)
PGK_SCHEMA(metadata_resp_broker, METADATA_RESP_BROKER)
PGK_SCHEMA(metadata_resp_partition, METADATA_RESP_PARTITION)
PGK_SCHEMA(metadata_resp_topic, METADATA_RESP_TOPIC)
PGK_SCHEMA(metadata_resp, METADATA_RESP)

PGK_SCHEMA(produce_req_partition, PRODUCE_REQ_PARTITION)
PGK_SCHEMA(produce_req_topic, PRODUCE_REQ_TOPIC)
PGK_SCHEMA(produce_req, PRODUCE_REQ)
PGK_SCHEMA(produce_resp_record_error, PRODUCE_RESP_RECORD_ERROR)
PGK_SCHEMA(produce_resp_leader, PRODUCE_RESP_LEADER)
PGK_SCHEMA(produce_resp_node_endpoint, PRODUCE_RESP_NODE_ENDPOINT)
PGK_SCHEMA(produce_resp_partition, PRODUCE_RESP_PARTITION)
PGK_SCHEMA(produce_resp_topic, PRODUCE_RESP_TOPIC)
PGK_SCHEMA(produce_resp, PRODUCE_RESP)

PGK_SCHEMA(fetch_req_replica_state, FETCH_REQ_REPLICA_STATE)
PGK_SCHEMA(fetch_req_partition, FETCH_REQ_PARTITION)
PGK_SCHEMA(fetch_req_topic, FETCH_REQ_TOPIC)
PGK_SCHEMA(fetch_req_forgotten, FETCH_REQ_FORGOTTEN)
PGK_SCHEMA(fetch_req, FETCH_REQ)
PGK_SCHEMA(fetch_resp_aborted, FETCH_RESP_ABORTED)
PGK_SCHEMA(fetch_resp_leader, FETCH_RESP_LEADER)
PGK_SCHEMA(fetch_resp_node_endpoint, FETCH_RESP_NODE_ENDPOINT)
PGK_SCHEMA(fetch_resp_partition, FETCH_RESP_PARTITION)
PGK_SCHEMA(fetch_resp_topic, FETCH_RESP_TOPIC)
PGK_SCHEMA(fetch_resp, FETCH_RESP)

PGK_SCHEMA(list_offsets_req_partition, LIST_OFFSETS_REQ_PARTITION)
PGK_SCHEMA(list_offsets_req_topic, LIST_OFFSETS_REQ_TOPIC)
PGK_SCHEMA(list_offsets_req, LIST_OFFSETS_REQ)
PGK_SCHEMA(list_offsets_resp_partition, LIST_OFFSETS_RESP_PARTITION)
PGK_SCHEMA(list_offsets_resp_topic, LIST_OFFSETS_RESP_TOPIC)
PGK_SCHEMA(list_offsets_resp, LIST_OFFSETS_RESP)

PGK_SCHEMA(create_topics_req_assignment, CREATE_TOPICS_REQ_ASSIGNMENT)
PGK_SCHEMA(create_topics_req_config, CREATE_TOPICS_REQ_CONFIG)
PGK_SCHEMA(create_topics_req_topic, CREATE_TOPICS_REQ_TOPIC)
PGK_SCHEMA(create_topics_req, CREATE_TOPICS_REQ)
PGK_SCHEMA(create_topics_resp_config, CREATE_TOPICS_RESP_CONFIG)
PGK_SCHEMA(create_topics_resp_topic, CREATE_TOPICS_RESP_TOPIC)
PGK_SCHEMA(create_topics_resp, CREATE_TOPICS_RESP)

PGK_SCHEMA(delete_topics_req_topic, DELETE_TOPICS_REQ_TOPIC)
PGK_SCHEMA(delete_topics_req, DELETE_TOPICS_REQ)
PGK_SCHEMA(delete_topics_resp_topic, DELETE_TOPICS_RESP_TOPIC)
PGK_SCHEMA(delete_topics_resp, DELETE_TOPICS_RESP)

PGK_SCHEMA(create_partitions_req_assignment, CREATE_PARTITIONS_REQ_ASSIGNMENT)
PGK_SCHEMA(create_partitions_req_topic, CREATE_PARTITIONS_REQ_TOPIC)
PGK_SCHEMA(create_partitions_req, CREATE_PARTITIONS_REQ)
PGK_SCHEMA(create_partitions_resp_result, CREATE_PARTITIONS_RESP_RESULT)
PGK_SCHEMA(create_partitions_resp, CREATE_PARTITIONS_RESP)

PGK_SCHEMA(describe_configs_req_resource, DESCRIBE_CONFIGS_REQ_RESOURCE)
PGK_SCHEMA(describe_configs_req, DESCRIBE_CONFIGS_REQ)
PGK_SCHEMA(describe_configs_resp_synonym, DESCRIBE_CONFIGS_RESP_SYNONYM)
PGK_SCHEMA(describe_configs_resp_config, DESCRIBE_CONFIGS_RESP_CONFIG)
PGK_SCHEMA(describe_configs_resp_result, DESCRIBE_CONFIGS_RESP_RESULT)
PGK_SCHEMA(describe_configs_resp, DESCRIBE_CONFIGS_RESP)

PGK_SCHEMA(find_coordinator_req, FIND_COORDINATOR_REQ)
PGK_SCHEMA(find_coordinator_resp_coordinator, FIND_COORDINATOR_RESP_COORDINATOR)
PGK_SCHEMA(find_coordinator_resp, FIND_COORDINATOR_RESP)

PGK_SCHEMA(join_group_req_protocol, JOIN_GROUP_REQ_PROTOCOL)
PGK_SCHEMA(join_group_req, JOIN_GROUP_REQ)
PGK_SCHEMA(join_group_resp_member, JOIN_GROUP_RESP_MEMBER)
PGK_SCHEMA(join_group_resp, JOIN_GROUP_RESP)

PGK_SCHEMA(sync_group_req_assignment, SYNC_GROUP_REQ_ASSIGNMENT)
PGK_SCHEMA(sync_group_req, SYNC_GROUP_REQ)
PGK_SCHEMA(sync_group_resp, SYNC_GROUP_RESP)

PGK_SCHEMA(heartbeat_req, HEARTBEAT_REQ)
PGK_SCHEMA(heartbeat_resp, HEARTBEAT_RESP)

PGK_SCHEMA(leave_group_req_member, LEAVE_GROUP_REQ_MEMBER)
PGK_SCHEMA(leave_group_req, LEAVE_GROUP_REQ)
PGK_SCHEMA(leave_group_resp_member, LEAVE_GROUP_RESP_MEMBER)
PGK_SCHEMA(leave_group_resp, LEAVE_GROUP_RESP)

PGK_SCHEMA(offset_commit_req_partition, OFFSET_COMMIT_REQ_PARTITION)
PGK_SCHEMA(offset_commit_req_topic, OFFSET_COMMIT_REQ_TOPIC)
PGK_SCHEMA(offset_commit_req, OFFSET_COMMIT_REQ)
PGK_SCHEMA(offset_commit_resp_partition, OFFSET_COMMIT_RESP_PARTITION)
PGK_SCHEMA(offset_commit_resp_topic, OFFSET_COMMIT_RESP_TOPIC)
PGK_SCHEMA(offset_commit_resp, OFFSET_COMMIT_RESP)

PGK_SCHEMA(offset_fetch_req_topic, OFFSET_FETCH_REQ_TOPIC)
PGK_SCHEMA(offset_fetch_req_group, OFFSET_FETCH_REQ_GROUP)
PGK_SCHEMA(offset_fetch_req, OFFSET_FETCH_REQ)
PGK_SCHEMA(offset_fetch_resp_partition, OFFSET_FETCH_RESP_PARTITION)
PGK_SCHEMA(offset_fetch_resp_topic, OFFSET_FETCH_RESP_TOPIC)
PGK_SCHEMA(offset_fetch_resp_group, OFFSET_FETCH_RESP_GROUP)
PGK_SCHEMA(offset_fetch_resp, OFFSET_FETCH_RESP)

PGK_SCHEMA(describe_groups_req, DESCRIBE_GROUPS_REQ)
PGK_SCHEMA(describe_groups_resp_member, DESCRIBE_GROUPS_RESP_MEMBER)
PGK_SCHEMA(describe_groups_resp_group, DESCRIBE_GROUPS_RESP_GROUP)
PGK_SCHEMA(describe_groups_resp, DESCRIBE_GROUPS_RESP)

PGK_SCHEMA(list_groups_req, LIST_GROUPS_REQ)
PGK_SCHEMA(list_groups_resp_group, LIST_GROUPS_RESP_GROUP)
PGK_SCHEMA(list_groups_resp, LIST_GROUPS_RESP)

PGK_SCHEMA(delete_groups_req, DELETE_GROUPS_REQ)
PGK_SCHEMA(delete_groups_resp_result, DELETE_GROUPS_RESP_RESULT)
PGK_SCHEMA(delete_groups_resp, DELETE_GROUPS_RESP)

PGK_SCHEMA(delete_records_req_partition, DELETE_RECORDS_REQ_PARTITION)
PGK_SCHEMA(delete_records_req_topic, DELETE_RECORDS_REQ_TOPIC)
PGK_SCHEMA(delete_records_req, DELETE_RECORDS_REQ)
PGK_SCHEMA(delete_records_resp_partition, DELETE_RECORDS_RESP_PARTITION)
PGK_SCHEMA(delete_records_resp_topic, DELETE_RECORDS_RESP_TOPIC)
PGK_SCHEMA(delete_records_resp, DELETE_RECORDS_RESP)
PGK_SCHEMA(alter_configs_req_config, ALTER_CONFIGS_REQ_CONFIG)
PGK_SCHEMA(alter_configs_req_resource, ALTER_CONFIGS_REQ_RESOURCE)
PGK_SCHEMA(alter_configs_req, ALTER_CONFIGS_REQ)
PGK_SCHEMA(incremental_alter_configs_req_config, INCREMENTAL_ALTER_CONFIGS_REQ_CONFIG)
PGK_SCHEMA(incremental_alter_configs_req_resource, INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCE)
PGK_SCHEMA(incremental_alter_configs_req, INCREMENTAL_ALTER_CONFIGS_REQ)
PGK_SCHEMA(alter_configs_resp_result, ALTER_CONFIGS_RESP_RESULT)
PGK_SCHEMA(alter_configs_resp, ALTER_CONFIGS_RESP)
PGK_SCHEMA(consumer_group_topic_partitions, CG_TOPIC_PARTITIONS)
PGK_SCHEMA(consumer_group_heartbeat_req, CG_HEARTBEAT_REQ)
PGK_SCHEMA(consumer_group_heartbeat_resp_assignment, CG_HEARTBEAT_RESP_ASSIGNMENT)
PGK_SCHEMA(consumer_group_heartbeat_resp, CG_HEARTBEAT_RESP)
PGK_SCHEMA(consumer_group_describe_req, CG_DESCRIBE_REQ)
PGK_SCHEMA(consumer_group_describe_topic_partitions, CG_DESCRIBE_TOPIC_PARTITIONS)
PGK_SCHEMA(consumer_group_describe_assignment, CG_DESCRIBE_ASSIGNMENT)
PGK_SCHEMA(consumer_group_describe_resp_member, CG_DESCRIBE_RESP_MEMBER)
PGK_SCHEMA(consumer_group_describe_resp_group, CG_DESCRIBE_RESP_GROUP)
PGK_SCHEMA(consumer_group_describe_resp, CG_DESCRIBE_RESP)
PGK_SCHEMA(offset_delete_req_partition, OFFSET_DELETE_REQ_PARTITION)
PGK_SCHEMA(offset_delete_req_topic, OFFSET_DELETE_REQ_TOPIC)
PGK_SCHEMA(offset_delete_req, OFFSET_DELETE_REQ)
PGK_SCHEMA(offset_delete_resp_partition, OFFSET_DELETE_RESP_PARTITION)
PGK_SCHEMA(offset_delete_resp_topic, OFFSET_DELETE_RESP_TOPIC)
PGK_SCHEMA(offset_delete_resp, OFFSET_DELETE_RESP)

/*
 * Implemented versions. Lower bounds follow what current Kafka still accepts
 * and what kafka-python 2.0 uses (Produce v3 = first RecordBatch v2 version,
 * Fetch v4, ListOffsets v1); upper bounds cover librdkafka 2.x, KafkaJS 2.2
 * and the Java 3.x client; Fetch up to Kafka 4's 17 (v13+ names topics by id).
 * docs/PROTOCOL.md mirrors this table (a test keeps them equal).
 */
PGK_SCHEMA(init_producer_id_req, INIT_PRODUCER_ID_REQ)
PGK_SCHEMA(init_producer_id_resp, INIT_PRODUCER_ID_RESP)

PGK_SCHEMA(add_partitions_to_txn_topic, ADD_PARTITIONS_TO_TXN_TOPIC)
PGK_SCHEMA(add_partitions_to_txn_transaction, ADD_PARTITIONS_TO_TXN_TRANSACTION)
PGK_SCHEMA(add_partitions_to_txn_req, ADD_PARTITIONS_TO_TXN_REQ)
PGK_SCHEMA(add_partitions_to_txn_partition_result, ADD_PARTITIONS_TO_TXN_PARTITION_RESULT)
PGK_SCHEMA(add_partitions_to_txn_topic_result, ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)
PGK_SCHEMA(add_partitions_to_txn_result, ADD_PARTITIONS_TO_TXN_RESULT)
PGK_SCHEMA(add_partitions_to_txn_resp, ADD_PARTITIONS_TO_TXN_RESP)

PGK_SCHEMA(add_offsets_to_txn_req, ADD_OFFSETS_TO_TXN_REQ)
PGK_SCHEMA(add_offsets_to_txn_resp, ADD_OFFSETS_TO_TXN_RESP)

PGK_SCHEMA(end_txn_req, END_TXN_REQ)
PGK_SCHEMA(end_txn_resp, END_TXN_RESP)

PGK_SCHEMA(txn_offset_commit_req_partition, TXN_OFFSET_COMMIT_REQ_PARTITION)
PGK_SCHEMA(txn_offset_commit_req_topic, TXN_OFFSET_COMMIT_REQ_TOPIC)
PGK_SCHEMA(txn_offset_commit_req, TXN_OFFSET_COMMIT_REQ)
PGK_SCHEMA(txn_offset_commit_resp_partition, TXN_OFFSET_COMMIT_RESP_PARTITION)
PGK_SCHEMA(txn_offset_commit_resp_topic, TXN_OFFSET_COMMIT_RESP_TOPIC)
PGK_SCHEMA(txn_offset_commit_resp, TXN_OFFSET_COMMIT_RESP)

PGK_SCHEMA(describe_transactions_req, DESCRIBE_TRANSACTIONS_REQ)
PGK_SCHEMA(describe_transactions_resp_topic, DESCRIBE_TRANSACTIONS_RESP_TOPIC)
PGK_SCHEMA(describe_transactions_resp_state, DESCRIBE_TRANSACTIONS_RESP_STATE)
PGK_SCHEMA(describe_transactions_resp, DESCRIBE_TRANSACTIONS_RESP)

PGK_SCHEMA(list_transactions_req, LIST_TRANSACTIONS_REQ)
PGK_SCHEMA(list_transactions_resp_state, LIST_TRANSACTIONS_RESP_STATE)
PGK_SCHEMA(list_transactions_resp, LIST_TRANSACTIONS_RESP)

PGK_SCHEMA(sasl_handshake_req, SASL_HANDSHAKE_REQ)
PGK_SCHEMA(sasl_handshake_resp, SASL_HANDSHAKE_RESP)
PGK_SCHEMA(sasl_authenticate_req, SASL_AUTHENTICATE_REQ)
PGK_SCHEMA(sasl_authenticate_resp, SASL_AUTHENTICATE_RESP)

PGK_SCHEMA(describe_scram_req_user, DESCRIBE_SCRAM_REQ_USER)
PGK_SCHEMA(describe_scram_req, DESCRIBE_SCRAM_REQ)
PGK_SCHEMA(describe_scram_resp_info, DESCRIBE_SCRAM_RESP_INFO)
PGK_SCHEMA(describe_scram_resp_result, DESCRIBE_SCRAM_RESP_RESULT)
PGK_SCHEMA(describe_scram_resp, DESCRIBE_SCRAM_RESP)

PGK_SCHEMA(alter_scram_req_deletion, ALTER_SCRAM_REQ_DELETION)
PGK_SCHEMA(alter_scram_req_upsertion, ALTER_SCRAM_REQ_UPSERTION)
PGK_SCHEMA(alter_scram_req, ALTER_SCRAM_REQ)
PGK_SCHEMA(alter_scram_resp_result, ALTER_SCRAM_RESP_RESULT)
PGK_SCHEMA(alter_scram_resp, ALTER_SCRAM_RESP)
PGK_SCHEMA(describe_acls_req, DESCRIBE_ACLS_REQ)
PGK_SCHEMA(describe_acls_resp_acl, DESCRIBE_ACLS_RESP_ACL)
PGK_SCHEMA(describe_acls_resp_resource, DESCRIBE_ACLS_RESP_RESOURCE)
PGK_SCHEMA(describe_acls_resp, DESCRIBE_ACLS_RESP)

PGK_SCHEMA(create_acls_req_creation, CREATE_ACLS_REQ_CREATION)
PGK_SCHEMA(create_acls_req, CREATE_ACLS_REQ)
PGK_SCHEMA(create_acls_resp_result, CREATE_ACLS_RESP_RESULT)
PGK_SCHEMA(create_acls_resp, CREATE_ACLS_RESP)

PGK_SCHEMA(delete_acls_req_filter, DELETE_ACLS_REQ_FILTER)
PGK_SCHEMA(delete_acls_req, DELETE_ACLS_REQ)
PGK_SCHEMA(delete_acls_resp_match, DELETE_ACLS_RESP_MATCH)
PGK_SCHEMA(delete_acls_resp_result, DELETE_ACLS_RESP_RESULT)
PGK_SCHEMA(delete_acls_resp, DELETE_ACLS_RESP)

/* Cluster, replica, quota, token and feature APIs. */
PGK_SCHEMA(describe_cluster_req, DESCRIBE_CLUSTER_REQ)
PGK_SCHEMA(describe_cluster_resp_broker, DESCRIBE_CLUSTER_RESP_BROKER)
PGK_SCHEMA(describe_cluster_resp, DESCRIBE_CLUSTER_RESP)
PGK_SCHEMA(describe_topic_partitions_cursor, DESCRIBE_TOPIC_PARTITIONS_CURSOR)
PGK_SCHEMA(describe_topic_partitions_req_topic, DESCRIBE_TOPIC_PARTITIONS_REQ_TOPIC)
PGK_SCHEMA(describe_topic_partitions_req, DESCRIBE_TOPIC_PARTITIONS_REQ)
PGK_SCHEMA(describe_topic_partitions_resp_partition, DESCRIBE_TOPIC_PARTITIONS_RESP_PARTITION)
PGK_SCHEMA(describe_topic_partitions_resp_topic, DESCRIBE_TOPIC_PARTITIONS_RESP_TOPIC)
PGK_SCHEMA(describe_topic_partitions_resp, DESCRIBE_TOPIC_PARTITIONS_RESP)
PGK_SCHEMA(describe_producers_req_topic, DESCRIBE_PRODUCERS_REQ_TOPIC)
PGK_SCHEMA(describe_producers_req, DESCRIBE_PRODUCERS_REQ)
PGK_SCHEMA(describe_producers_resp_producer, DESCRIBE_PRODUCERS_RESP_PRODUCER)
PGK_SCHEMA(describe_producers_resp_partition, DESCRIBE_PRODUCERS_RESP_PARTITION)
PGK_SCHEMA(describe_producers_resp_topic, DESCRIBE_PRODUCERS_RESP_TOPIC)
PGK_SCHEMA(describe_producers_resp, DESCRIBE_PRODUCERS_RESP)
PGK_SCHEMA(topic_partitions_req, TOPIC_PARTITIONS_REQ)
PGK_SCHEMA(describe_log_dirs_req, DESCRIBE_LOG_DIRS_REQ)
PGK_SCHEMA(describe_log_dirs_resp_partition, DESCRIBE_LOG_DIRS_RESP_PARTITION)
PGK_SCHEMA(describe_log_dirs_resp_topic, DESCRIBE_LOG_DIRS_RESP_TOPIC)
PGK_SCHEMA(describe_log_dirs_resp_result, DESCRIBE_LOG_DIRS_RESP_RESULT)
PGK_SCHEMA(describe_log_dirs_resp, DESCRIBE_LOG_DIRS_RESP)
PGK_SCHEMA(partition_result, PARTITION_RESULT)
PGK_SCHEMA(elect_leaders_req, ELECT_LEADERS_REQ)
PGK_SCHEMA(elect_leaders_resp_result, ELECT_LEADERS_RESP_RESULT)
PGK_SCHEMA(elect_leaders_resp, ELECT_LEADERS_RESP)
PGK_SCHEMA(alter_reassignments_req_partition, ALTER_REASSIGNMENTS_REQ_PARTITION)
PGK_SCHEMA(alter_reassignments_req_topic, ALTER_REASSIGNMENTS_REQ_TOPIC)
PGK_SCHEMA(alter_reassignments_req, ALTER_REASSIGNMENTS_REQ)
PGK_SCHEMA(alter_reassignments_resp_topic, ALTER_REASSIGNMENTS_RESP_TOPIC)
PGK_SCHEMA(alter_reassignments_resp, ALTER_REASSIGNMENTS_RESP)
PGK_SCHEMA(list_reassignments_req_topic, LIST_REASSIGNMENTS_REQ_TOPIC)
PGK_SCHEMA(list_reassignments_req, LIST_REASSIGNMENTS_REQ)
PGK_SCHEMA(list_reassignments_resp_partition, LIST_REASSIGNMENTS_RESP_PARTITION)
PGK_SCHEMA(list_reassignments_resp_topic, LIST_REASSIGNMENTS_RESP_TOPIC)
PGK_SCHEMA(list_reassignments_resp, LIST_REASSIGNMENTS_RESP)
PGK_SCHEMA(alter_replica_log_dirs_req_topic, ALTER_REPLICA_LOG_DIRS_REQ_TOPIC)
PGK_SCHEMA(alter_replica_log_dirs_req_dir, ALTER_REPLICA_LOG_DIRS_REQ_DIR)
PGK_SCHEMA(alter_replica_log_dirs_req, ALTER_REPLICA_LOG_DIRS_REQ)
PGK_SCHEMA(partition_error, PARTITION_ERROR)
PGK_SCHEMA(alter_replica_log_dirs_resp_topic, ALTER_REPLICA_LOG_DIRS_RESP_TOPIC)
PGK_SCHEMA(alter_replica_log_dirs_resp, ALTER_REPLICA_LOG_DIRS_RESP)
PGK_SCHEMA(offset_for_leader_epoch_req_partition, OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION)
PGK_SCHEMA(offset_for_leader_epoch_req_topic, OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC)
PGK_SCHEMA(offset_for_leader_epoch_req, OFFSET_FOR_LEADER_EPOCH_REQ)
PGK_SCHEMA(offset_for_leader_epoch_resp_partition, OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION)
PGK_SCHEMA(offset_for_leader_epoch_resp_topic, OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC)
PGK_SCHEMA(offset_for_leader_epoch_resp, OFFSET_FOR_LEADER_EPOCH_RESP)
PGK_SCHEMA(write_txn_markers_req_topic, WRITE_TXN_MARKERS_REQ_TOPIC)
PGK_SCHEMA(write_txn_markers_req_marker, WRITE_TXN_MARKERS_REQ_MARKER)
PGK_SCHEMA(write_txn_markers_req, WRITE_TXN_MARKERS_REQ)
PGK_SCHEMA(write_txn_markers_resp_topic, WRITE_TXN_MARKERS_RESP_TOPIC)
PGK_SCHEMA(write_txn_markers_resp_marker, WRITE_TXN_MARKERS_RESP_MARKER)
PGK_SCHEMA(write_txn_markers_resp, WRITE_TXN_MARKERS_RESP)
PGK_SCHEMA(update_features_req_update, UPDATE_FEATURES_REQ_UPDATE)
PGK_SCHEMA(update_features_req, UPDATE_FEATURES_REQ)
PGK_SCHEMA(update_features_resp_result, UPDATE_FEATURES_RESP_RESULT)
PGK_SCHEMA(update_features_resp, UPDATE_FEATURES_RESP)
PGK_SCHEMA(quota_entity, QUOTA_ENTITY)
PGK_SCHEMA(describe_quotas_req_component, DESCRIBE_QUOTAS_REQ_COMPONENT)
PGK_SCHEMA(describe_quotas_req, DESCRIBE_QUOTAS_REQ)
PGK_SCHEMA(describe_quotas_resp_value, DESCRIBE_QUOTAS_RESP_VALUE)
PGK_SCHEMA(describe_quotas_resp_entry, DESCRIBE_QUOTAS_RESP_ENTRY)
PGK_SCHEMA(describe_quotas_resp, DESCRIBE_QUOTAS_RESP)
PGK_SCHEMA(alter_quotas_req_op, ALTER_QUOTAS_REQ_OP)
PGK_SCHEMA(alter_quotas_req_entry, ALTER_QUOTAS_REQ_ENTRY)
PGK_SCHEMA(alter_quotas_req, ALTER_QUOTAS_REQ)
PGK_SCHEMA(alter_quotas_resp_entry, ALTER_QUOTAS_RESP_ENTRY)
PGK_SCHEMA(alter_quotas_resp, ALTER_QUOTAS_RESP)
PGK_SCHEMA(token_principal, TOKEN_PRINCIPAL)
PGK_SCHEMA(create_token_req, CREATE_TOKEN_REQ)
PGK_SCHEMA(create_token_resp, CREATE_TOKEN_RESP)
PGK_SCHEMA(renew_token_req, RENEW_TOKEN_REQ)
PGK_SCHEMA(expire_token_req, EXPIRE_TOKEN_REQ)
PGK_SCHEMA(token_expiry_resp, TOKEN_EXPIRY_RESP)
PGK_SCHEMA(describe_token_req, DESCRIBE_TOKEN_REQ)
PGK_SCHEMA(describe_token_resp_token, DESCRIBE_TOKEN_RESP_TOKEN)
PGK_SCHEMA(describe_token_resp, DESCRIBE_TOKEN_RESP)
PGK_SCHEMA(list_client_metrics_req, LIST_CLIENT_METRICS_REQ)
PGK_SCHEMA(list_client_metrics_resp_resource, LIST_CLIENT_METRICS_RESP_RESOURCE)
PGK_SCHEMA(list_client_metrics_resp, LIST_CLIENT_METRICS_RESP)

const api_def api_table[] = {
	/* Produce v10-v11 add what a client needs after NOT_LEADER_OR_FOLLOWER
	 * (tagged fields, never sent: this broker leads every partition) and
	 * v12 only says the client knows transactions v2, which it uses only
	 * once the transaction.version feature says so; v13 names topics by
	 * id. */
	{API_PRODUCE, "Produce", 3, 13, 9, &produce_req_schema, &produce_resp_schema},
	{API_FETCH, "Fetch", 4, 17, 12, &fetch_req_schema, &fetch_resp_schema},
	{API_LIST_OFFSETS, "ListOffsets", 1, 10, 6, &list_offsets_req_schema,
	 &list_offsets_resp_schema},
	{API_METADATA, "Metadata", 0, 13, 9, &metadata_req_schema, &metadata_resp_schema},
	{API_API_VERSIONS, "ApiVersions", 0, 4, 3, &api_versions_req_schema,
	 &api_versions_resp_schema},
	{API_CREATE_TOPICS, "CreateTopics", 2, 7, 5, &create_topics_req_schema,
	 &create_topics_resp_schema},
	{API_DELETE_TOPICS, "DeleteTopics", 1, 6, 4, &delete_topics_req_schema,
	 &delete_topics_resp_schema},
	{API_DESCRIBE_CONFIGS, "DescribeConfigs", 1, 4, 4, &describe_configs_req_schema,
	 &describe_configs_resp_schema},
	{API_CREATE_PARTITIONS, "CreatePartitions", 0, 3, 2, &create_partitions_req_schema,
	 &create_partitions_resp_schema},
	{API_DELETE_RECORDS, "DeleteRecords", 0, 2, 2, &delete_records_req_schema,
	 &delete_records_resp_schema},
	{API_ALTER_CONFIGS, "AlterConfigs", 0, 2, 2, &alter_configs_req_schema,
	 &alter_configs_resp_schema},
	{API_INCREMENTAL_ALTER_CONFIGS, "IncrementalAlterConfigs", 0, 1, 1,
	 &incremental_alter_configs_req_schema, &alter_configs_resp_schema},
	/* Groups: every version from 0 (kafka-python 2.0 sends FindCoordinator
	 * v0, JoinGroup v2, OffsetCommit v2, OffsetFetch v1) up to what the
	 * Java 3.x client asks for; v6 FindCoordinator belongs to share
	 * groups. OffsetCommit/OffsetFetch v9 carry KIP-848 member epochs,
	 * which a classic group ignores as Kafka's does; v10 (Kafka 4.1)
	 * names topics by id. */
	{API_OFFSET_COMMIT, "OffsetCommit", 0, 10, 8, &offset_commit_req_schema,
	 &offset_commit_resp_schema},
	{API_OFFSET_FETCH, "OffsetFetch", 0, 10, 6, &offset_fetch_req_schema,
	 &offset_fetch_resp_schema},
	{API_FIND_COORDINATOR, "FindCoordinator", 0, 4, 3, &find_coordinator_req_schema,
	 &find_coordinator_resp_schema},
	{API_JOIN_GROUP, "JoinGroup", 0, 9, 6, &join_group_req_schema, &join_group_resp_schema},
	{API_HEARTBEAT, "Heartbeat", 0, 4, 4, &heartbeat_req_schema, &heartbeat_resp_schema},
	{API_LEAVE_GROUP, "LeaveGroup", 0, 5, 4, &leave_group_req_schema, &leave_group_resp_schema},
	{API_SYNC_GROUP, "SyncGroup", 0, 5, 4, &sync_group_req_schema, &sync_group_resp_schema},
	{API_DESCRIBE_GROUPS, "DescribeGroups", 0, 5, 5, &describe_groups_req_schema,
	 &describe_groups_resp_schema},
	{API_LIST_GROUPS, "ListGroups", 0, 5, 3, &list_groups_req_schema,
	 &list_groups_resp_schema},
	{API_DELETE_GROUPS, "DeleteGroups", 0, 2, 2, &delete_groups_req_schema,
	 &delete_groups_resp_schema},
	{API_OFFSET_DELETE, "OffsetDelete", 0, 0, VMAX, &offset_delete_req_schema,
	 &offset_delete_resp_schema},
	/* The consumer group protocol (KIP-848): ConsumerGroupHeartbeat v1
	 * adds regex subscriptions and the member id chosen by the client;
	 * ConsumerGroupDescribe v1 (Kafka 4.1) each member's type. */
	{API_CONSUMER_GROUP_HEARTBEAT, "ConsumerGroupHeartbeat", 0, 1, 0,
	 &consumer_group_heartbeat_req_schema, &consumer_group_heartbeat_resp_schema},
	{API_CONSUMER_GROUP_DESCRIBE, "ConsumerGroupDescribe", 0, 1, 0,
	 &consumer_group_describe_req_schema, &consumer_group_describe_resp_schema},
	/* Transactions (docs/TRANSACTIONS.md), with the versions of
	 * transactions v2 (KIP-890): InitProducerId v5, AddOffsetsToTxn v4
	 * and TxnOffsetCommit v4-5 add only error codes; AddPartitionsToTxn
	 * v4+ is the broker-to-coordinator form; EndTxn v5 bumps the epoch. */
	{API_INIT_PRODUCER_ID, "InitProducerId", 0, 5, 2, &init_producer_id_req_schema,
	 &init_producer_id_resp_schema},
	{API_ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", 0, 5, 3,
	 &add_partitions_to_txn_req_schema, &add_partitions_to_txn_resp_schema},
	{API_ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", 0, 4, 3, &add_offsets_to_txn_req_schema,
	 &add_offsets_to_txn_resp_schema},
	{API_END_TXN, "EndTxn", 0, 5, 3, &end_txn_req_schema, &end_txn_resp_schema},
	{API_TXN_OFFSET_COMMIT, "TxnOffsetCommit", 0, 5, 3, &txn_offset_commit_req_schema,
	 &txn_offset_commit_resp_schema},
	{API_DESCRIBE_TRANSACTIONS, "DescribeTransactions", 0, 0, 0,
	 &describe_transactions_req_schema, &describe_transactions_resp_schema},
	{API_LIST_TRANSACTIONS, "ListTransactions", 0, 1, 0, &list_transactions_req_schema,
	 &list_transactions_resp_schema},
	/* SASL (docs/SECURITY.md). SaslHandshake v0 means raw SASL tokens
	 * follow instead of SaslAuthenticate requests (server.c). */
	{API_SASL_HANDSHAKE, "SaslHandshake", 0, 1, VMAX, &sasl_handshake_req_schema,
	 &sasl_handshake_resp_schema},
	{API_SASL_AUTHENTICATE, "SaslAuthenticate", 0, 2, 2, &sasl_authenticate_req_schema,
	 &sasl_authenticate_resp_schema},
	{API_DESCRIBE_USER_SCRAM_CREDENTIALS, "DescribeUserScramCredentials", 0, 0, 0,
	 &describe_scram_req_schema, &describe_scram_resp_schema},
	{API_ALTER_USER_SCRAM_CREDENTIALS, "AlterUserScramCredentials", 0, 0, 0,
	 &alter_scram_req_schema, &alter_scram_resp_schema},
	/* ACLs (docs/SECURITY.md): v0 and v1 for kafka-python, librdkafka
	 * and KafkaJS, up to Kafka 4's v3. */
	{API_DESCRIBE_ACLS, "DescribeAcls", 0, 3, 2, &describe_acls_req_schema,
	 &describe_acls_resp_schema},
	{API_CREATE_ACLS, "CreateAcls", 0, 3, 2, &create_acls_req_schema, &create_acls_resp_schema},
	{API_DELETE_ACLS, "DeleteAcls", 0, 3, 2, &delete_acls_req_schema, &delete_acls_resp_schema},

	/* Cluster, replica, quota, token and feature APIs: the versions
	 * Kafka 4.x serves on a broker listener (KIP-896 dropped the oldest
	 * of OffsetForLeaderEpoch, the log-dir and the token APIs);
	 * docs/PROTOCOL.md. */
	{API_OFFSET_FOR_LEADER_EPOCH, "OffsetForLeaderEpoch", 2, 4, 4,
	 &offset_for_leader_epoch_req_schema, &offset_for_leader_epoch_resp_schema},
	{API_WRITE_TXN_MARKERS, "WriteTxnMarkers", 0, 1, 1, &write_txn_markers_req_schema,
	 &write_txn_markers_resp_schema},
	{API_ALTER_REPLICA_LOG_DIRS, "AlterReplicaLogDirs", 1, 2, 2,
	 &alter_replica_log_dirs_req_schema, &alter_replica_log_dirs_resp_schema},
	{API_DESCRIBE_LOG_DIRS, "DescribeLogDirs", 1, 4, 2, &describe_log_dirs_req_schema,
	 &describe_log_dirs_resp_schema},
	{API_CREATE_DELEGATION_TOKEN, "CreateDelegationToken", 1, 3, 2, &create_token_req_schema,
	 &create_token_resp_schema},
	{API_RENEW_DELEGATION_TOKEN, "RenewDelegationToken", 1, 2, 2, &renew_token_req_schema,
	 &token_expiry_resp_schema},
	{API_EXPIRE_DELEGATION_TOKEN, "ExpireDelegationToken", 1, 2, 2, &expire_token_req_schema,
	 &token_expiry_resp_schema},
	{API_DESCRIBE_DELEGATION_TOKEN, "DescribeDelegationToken", 1, 3, 2,
	 &describe_token_req_schema, &describe_token_resp_schema},
	{API_ELECT_LEADERS, "ElectLeaders", 0, 2, 2, &elect_leaders_req_schema,
	 &elect_leaders_resp_schema},
	{API_ALTER_PARTITION_REASSIGNMENTS, "AlterPartitionReassignments", 0, 0, 0,
	 &alter_reassignments_req_schema, &alter_reassignments_resp_schema},
	{API_LIST_PARTITION_REASSIGNMENTS, "ListPartitionReassignments", 0, 0, 0,
	 &list_reassignments_req_schema, &list_reassignments_resp_schema},
	{API_DESCRIBE_CLIENT_QUOTAS, "DescribeClientQuotas", 0, 1, 1, &describe_quotas_req_schema,
	 &describe_quotas_resp_schema},
	{API_ALTER_CLIENT_QUOTAS, "AlterClientQuotas", 0, 1, 1, &alter_quotas_req_schema,
	 &alter_quotas_resp_schema},
	{API_UPDATE_FEATURES, "UpdateFeatures", 0, 2, 0, &update_features_req_schema,
	 &update_features_resp_schema},
	{API_DESCRIBE_CLUSTER, "DescribeCluster", 0, 2, 0, &describe_cluster_req_schema,
	 &describe_cluster_resp_schema},
	{API_DESCRIBE_PRODUCERS, "DescribeProducers", 0, 0, 0, &describe_producers_req_schema,
	 &describe_producers_resp_schema},
	{API_LIST_CLIENT_METRICS_RESOURCES, "ListClientMetricsResources", 0, 0, 0,
	 &list_client_metrics_req_schema, &list_client_metrics_resp_schema},
	{API_DESCRIBE_TOPIC_PARTITIONS, "DescribeTopicPartitions", 0, 0, 0,
	 &describe_topic_partitions_req_schema, &describe_topic_partitions_resp_schema},
};
const int api_count = (int)(sizeof(api_table) / sizeof(api_table[0]));

const api_def *api_lookup(int16_t key)
{
	for (int i = 0; i < api_count; i++)
		if (api_table[i].key == key)
			return &api_table[i];
	return NULL;
}
