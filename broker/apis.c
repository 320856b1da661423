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
#define PGK_SUB_BYTES(sub) NULL
#define PGK_SUB_ARRS(sub) &sub##_schema
#define PGK_SUB_ARRI32(sub) NULL
#define PGK_SUB_ARRI64(sub) NULL
#define PGK_SUB_ARRSTR(sub) NULL

#define PGK_FIELD(S, T, n, lo, hi, nul, d, sub)                                                    \
	{#n, FT_##T, lo, hi, nul, (uint16_t)offsetof(S, n), (int64_t)(d), PGK_SUB_##T(sub)},
#define PGK_SCHEMA(S, LIST)                                                                        \
	static const field_def S##_fields[] = {LIST(PGK_FIELD, S)};                                \
	const schema_def S##_schema = {#S, sizeof(S), (int)(sizeof(S##_fields) / sizeof(field_def)), \
				       S##_fields};

PGK_SCHEMA(api_versions_req, API_VERSIONS_REQ)
PGK_SCHEMA(api_versions_resp_key, API_VERSIONS_RESP_KEY)
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
PGK_SCHEMA(produce_resp_partition, PRODUCE_RESP_PARTITION)
PGK_SCHEMA(produce_resp_topic, PRODUCE_RESP_TOPIC)
PGK_SCHEMA(produce_resp, PRODUCE_RESP)

PGK_SCHEMA(fetch_req_partition, FETCH_REQ_PARTITION)
PGK_SCHEMA(fetch_req_topic, FETCH_REQ_TOPIC)
PGK_SCHEMA(fetch_req_forgotten, FETCH_REQ_FORGOTTEN)
PGK_SCHEMA(fetch_req, FETCH_REQ)
PGK_SCHEMA(fetch_resp_aborted, FETCH_RESP_ABORTED)
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
 * and the Java 3.x client. Fetch stops at 12: v13+ addresses topics by id only.
 * docs/PROTOCOL.md mirrors this table (a test keeps them equal).
 */
PGK_SCHEMA(init_producer_id_req, INIT_PRODUCER_ID_REQ)
PGK_SCHEMA(init_producer_id_resp, INIT_PRODUCER_ID_RESP)

PGK_SCHEMA(add_partitions_to_txn_topic, ADD_PARTITIONS_TO_TXN_TOPIC)
PGK_SCHEMA(add_partitions_to_txn_req, ADD_PARTITIONS_TO_TXN_REQ)
PGK_SCHEMA(add_partitions_to_txn_partition_result, ADD_PARTITIONS_TO_TXN_PARTITION_RESULT)
PGK_SCHEMA(add_partitions_to_txn_topic_result, ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)
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

const api_def api_table[] = {
	{API_PRODUCE, "Produce", 3, 9, 9, &produce_req_schema, &produce_resp_schema},
	{API_FETCH, "Fetch", 4, 12, 12, &fetch_req_schema, &fetch_resp_schema},
	{API_LIST_OFFSETS, "ListOffsets", 1, 7, 6, &list_offsets_req_schema,
	 &list_offsets_resp_schema},
	{API_METADATA, "Metadata", 0, 12, 9, &metadata_req_schema, &metadata_resp_schema},
	{API_API_VERSIONS, "ApiVersions", 0, 3, 3, &api_versions_req_schema,
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
	 * Java 3.x client asks for; the v9 OffsetCommit/OffsetFetch and v6
	 * FindCoordinator belong to the KIP-848 and share group protocols. */
	{API_OFFSET_COMMIT, "OffsetCommit", 0, 8, 8, &offset_commit_req_schema,
	 &offset_commit_resp_schema},
	{API_OFFSET_FETCH, "OffsetFetch", 0, 8, 6, &offset_fetch_req_schema,
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
	/* InitProducerId v5 belongs to KIP-890 (transactions verified by
	 * the partition leader), as do v4+ of AddPartitionsToTxn,
	 * AddOffsetsToTxn, EndTxn and TxnOffsetCommit; clients negotiate
	 * down from them. */
	{API_INIT_PRODUCER_ID, "InitProducerId", 0, 4, 2, &init_producer_id_req_schema,
	 &init_producer_id_resp_schema},
	/* Transactions (docs/TRANSACTIONS.md). */
	{API_ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", 0, 3, 3,
	 &add_partitions_to_txn_req_schema, &add_partitions_to_txn_resp_schema},
	{API_ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", 0, 3, 3, &add_offsets_to_txn_req_schema,
	 &add_offsets_to_txn_resp_schema},
	{API_END_TXN, "EndTxn", 0, 3, 3, &end_txn_req_schema, &end_txn_resp_schema},
	{API_TXN_OFFSET_COMMIT, "TxnOffsetCommit", 0, 3, 3, &txn_offset_commit_req_schema,
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
};
const int api_count = (int)(sizeof(api_table) / sizeof(api_table[0]));

const api_def *api_lookup(int16_t key)
{
	for (int i = 0; i < api_count; i++)
		if (api_table[i].key == key)
			return &api_table[i];
	return NULL;
}
