/*
 * The Kafka APIs the broker implements, each message described once.
 *
 * Every message is an X-macro list of fields:
 *     X(STRUCT, TYPE, name, first_version, last_version, nullable_from, default, sub)
 * expanded twice: here into a C struct, and in apis.c into the field table
 * that proto.c walks to decode and encode any version. Field names are the
 * protocol's names in snake_case, so code and spec read alike. Tagged fields
 * are described only where the broker uses them (TAG<n>_ types); proto.c
 * skips unknown tags on input.
 */
#ifndef PGK_APIS_H
#define PGK_APIS_H

#include "proto.h"

#define PGK_CT_I8 int8_t
#define PGK_CT_I16 int16_t
#define PGK_CT_I32 int32_t
#define PGK_CT_I64 int64_t
#define PGK_CT_BOOL bool
#define PGK_CT_UUID kuuid
#define PGK_CT_F64 double
#define PGK_CT_STR kstr
#define PGK_CT_ID kstr /* internal form, idtext.h */
#define PGK_CT_BYTES kstr
#define PGK_CT_ARRS karray
#define PGK_CT_ARRI32 karray
#define PGK_CT_ARRI64 karray
#define PGK_CT_ARRSTR karray
#define PGK_CT_ARRID karray
#define PGK_CT_STRUCT void * /* NULL: null */
/* Tagged fields (flexible versions): TAG<n>_<type> is the field of tag n,
 * written only when it differs from its default. */
#define PGK_CT_TAG0_ARRS karray
#define PGK_CT_TAG1_I64 int64_t
#define PGK_CT_TAG2_ARRS karray
#define PGK_CT_TAG0_STRUCT void *
#define PGK_CT_TAG1_STRUCT void *

#define PGK_MEMBER(S, T, n, lo, hi, nul, d, sub) PGK_CT_##T n;
#define PGK_MESSAGE(S, LIST)                                                                       \
	typedef struct S {                                                                         \
		LIST(PGK_MEMBER, S)                                                                \
	} S;                                                                                       \
	extern const schema_def S##_schema;

/* ---- ApiVersions (18) ---- */
#define API_VERSIONS_REQ(X, S)                                                                     \
	X(S, STR, client_software_name, 3, VMAX, NN, 0, _)                                         \
	X(S, STR, client_software_version, 3, VMAX, NN, 0, _)
#define API_VERSIONS_RESP_KEY(X, S)                                                                \
	X(S, I16, api_key, 0, VMAX, NN, 0, _)                                                      \
	X(S, I16, min_version, 0, VMAX, NN, 0, _)                                                  \
	X(S, I16, max_version, 0, VMAX, NN, 0, _)
#define API_VERSIONS_RESP_SUPPORTED_FEATURE(X, S)                                                  \
	X(S, STR, name, 3, VMAX, NN, 0, _)                                                         \
	X(S, I16, min_version, 3, VMAX, NN, 0, _)                                                  \
	X(S, I16, max_version, 3, VMAX, NN, 0, _)
#define API_VERSIONS_RESP_FINALIZED_FEATURE(X, S)                                                  \
	X(S, STR, name, 3, VMAX, NN, 0, _)                                                         \
	X(S, I16, max_version_level, 3, VMAX, NN, 0, _)                                            \
	X(S, I16, min_version_level, 3, VMAX, NN, 0, _)
#define API_VERSIONS_RESP(X, S)                                                                    \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, api_keys, 0, VMAX, NN, 0, api_versions_resp_key)                                \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, TAG0_ARRS, supported_features, 3, VMAX, NN, 0, api_versions_resp_supported_feature)   \
	X(S, TAG1_I64, finalized_features_epoch, 3, VMAX, NN, -1, _)                               \
	X(S, TAG2_ARRS, finalized_features, 3, VMAX, NN, 0, api_versions_resp_finalized_feature)
PGK_MESSAGE(api_versions_req, API_VERSIONS_REQ)
PGK_MESSAGE(api_versions_resp_key, API_VERSIONS_RESP_KEY)
PGK_MESSAGE(api_versions_resp_supported_feature, API_VERSIONS_RESP_SUPPORTED_FEATURE)
PGK_MESSAGE(api_versions_resp_finalized_feature, API_VERSIONS_RESP_FINALIZED_FEATURE)
PGK_MESSAGE(api_versions_resp, API_VERSIONS_RESP)

/* ---- Metadata (3) ---- */
#define METADATA_REQ_TOPIC(X, S)                                                                   \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, STR, name, 0, VMAX, 10, 0, _)
#define METADATA_REQ(X, S)                                                                         \
	X(S, ARRS, topics, 0, VMAX, 1, 0, metadata_req_topic)                                      \
	X(S, BOOL, allow_auto_topic_creation, 4, VMAX, NN, 1, _)                                   \
	X(S, BOOL, include_cluster_authorized_operations, 8, 10, NN, 0, _)                         \
	X(S, BOOL, include_topic_authorized_operations, 8, VMAX, NN, 0, _)
#define METADATA_RESP_BROKER(X, S)                                                                 \
	X(S, I32, node_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, host, 0, VMAX, NN, 0, _)                                                         \
	X(S, I32, port, 0, VMAX, NN, 0, _)                                                         \
	X(S, STR, rack, 1, VMAX, 1, 0, _)
#define METADATA_RESP_PARTITION(X, S)                                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I32, leader_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, leader_epoch, 7, VMAX, NN, -1, _)                                                \
	X(S, ARRI32, replica_nodes, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRI32, isr_nodes, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRI32, offline_replicas, 5, VMAX, NN, 0, _)
#define METADATA_RESP_TOPIC(X, S)                                                                  \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, name, 0, VMAX, 12, 0, _)                                                         \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, BOOL, is_internal, 1, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, metadata_resp_partition)                            \
	X(S, I32, topic_authorized_operations, 8, VMAX, NN, INT32_MIN, _)
#define METADATA_RESP(X, S)                                                                        \
	X(S, I32, throttle_time_ms, 3, VMAX, NN, 0, _)                                             \
	X(S, ARRS, brokers, 0, VMAX, NN, 0, metadata_resp_broker)                                  \
	X(S, STR, cluster_id, 2, VMAX, 2, 0, _)                                                    \
	X(S, I32, controller_id, 1, VMAX, NN, -1, _)                                               \
	X(S, ARRS, topics, 0, VMAX, NN, 0, metadata_resp_topic)                                    \
	X(S, I32, cluster_authorized_operations, 8, 10, NN, INT32_MIN, _)                          \
	X(S, I16, error_code, 13, VMAX, NN, 0, _)
PGK_MESSAGE(metadata_req_topic, METADATA_REQ_TOPIC)
PGK_MESSAGE(metadata_req, METADATA_REQ)
PGK_MESSAGE(metadata_resp_broker, METADATA_RESP_BROKER)
PGK_MESSAGE(metadata_resp_partition, METADATA_RESP_PARTITION)
PGK_MESSAGE(metadata_resp_topic, METADATA_RESP_TOPIC)
PGK_MESSAGE(metadata_resp, METADATA_RESP)

/* ---- Produce (0) ---- */
#define PRODUCE_REQ_PARTITION(X, S)                                                                \
	X(S, I32, index, 0, VMAX, NN, 0, _)                                                        \
	X(S, BYTES, records, 0, VMAX, 0, 0, _)
#define PRODUCE_REQ_TOPIC(X, S)                                                                    \
	X(S, STR, name, 0, 12, NN, 0, _)                                                           \
	X(S, UUID, topic_id, 13, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partition_data, 0, VMAX, NN, 0, produce_req_partition)
#define PRODUCE_REQ(X, S)                                                                          \
	X(S, ID, transactional_id, 3, VMAX, 3, 0, _)                                               \
	X(S, I16, acks, 0, VMAX, NN, 0, _)                                                         \
	X(S, I32, timeout_ms, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, topic_data, 0, VMAX, NN, 0, produce_req_topic)
#define PRODUCE_RESP_RECORD_ERROR(X, S)                                                            \
	X(S, I32, batch_index, 8, VMAX, NN, 0, _)                                                  \
	X(S, STR, batch_index_error_message, 8, VMAX, 8, 0, _)
#define PRODUCE_RESP_LEADER(X, S)                                                                  \
	X(S, I32, leader_id, 10, VMAX, NN, -1, _)                                                  \
	X(S, I32, leader_epoch, 10, VMAX, NN, -1, _)
#define PRODUCE_RESP_NODE_ENDPOINT(X, S)                                                           \
	X(S, I32, node_id, 10, VMAX, NN, 0, _)                                                     \
	X(S, STR, host, 10, VMAX, NN, 0, _)                                                        \
	X(S, I32, port, 10, VMAX, NN, 0, _)                                                        \
	X(S, STR, rack, 10, VMAX, 10, 0, _)
#define PRODUCE_RESP_PARTITION(X, S)                                                               \
	X(S, I32, index, 0, VMAX, NN, 0, _)                                                        \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I64, base_offset, 0, VMAX, NN, 0, _)                                                  \
	X(S, I64, log_append_time_ms, 2, VMAX, NN, -1, _)                                          \
	X(S, I64, log_start_offset, 5, VMAX, NN, -1, _)                                            \
	X(S, ARRS, record_errors, 8, VMAX, NN, 0, produce_resp_record_error)                       \
	X(S, STR, error_message, 8, VMAX, 8, 0, _)                                                 \
	X(S, TAG0_STRUCT, current_leader, 10, VMAX, NN, 0, produce_resp_leader)
#define PRODUCE_RESP_TOPIC(X, S)                                                                   \
	X(S, STR, name, 0, 12, NN, 0, _)                                                           \
	X(S, UUID, topic_id, 13, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partition_responses, 0, VMAX, NN, 0, produce_resp_partition)
#define PRODUCE_RESP(X, S)                                                                         \
	X(S, ARRS, responses, 0, VMAX, NN, 0, produce_resp_topic)                                  \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, TAG0_ARRS, node_endpoints, 10, VMAX, NN, 0, produce_resp_node_endpoint)
PGK_MESSAGE(produce_req_partition, PRODUCE_REQ_PARTITION)
PGK_MESSAGE(produce_req_topic, PRODUCE_REQ_TOPIC)
PGK_MESSAGE(produce_req, PRODUCE_REQ)
PGK_MESSAGE(produce_resp_record_error, PRODUCE_RESP_RECORD_ERROR)
PGK_MESSAGE(produce_resp_leader, PRODUCE_RESP_LEADER)
PGK_MESSAGE(produce_resp_node_endpoint, PRODUCE_RESP_NODE_ENDPOINT)
PGK_MESSAGE(produce_resp_partition, PRODUCE_RESP_PARTITION)
PGK_MESSAGE(produce_resp_topic, PRODUCE_RESP_TOPIC)
PGK_MESSAGE(produce_resp, PRODUCE_RESP)

/* ---- Fetch (1) ---- */
#define FETCH_REQ_PARTITION(X, S)                                                                  \
	X(S, I32, partition, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, current_leader_epoch, 9, VMAX, NN, -1, _)                                        \
	X(S, I64, fetch_offset, 0, VMAX, NN, 0, _)                                                 \
	X(S, I32, last_fetched_epoch, 12, VMAX, NN, -1, _)                                         \
	X(S, I64, log_start_offset, 5, VMAX, NN, -1, _)                                            \
	X(S, I32, partition_max_bytes, 0, VMAX, NN, 0, _)
#define FETCH_REQ_TOPIC(X, S)                                                                      \
	X(S, STR, topic, 0, 12, NN, 0, _)                                                          \
	X(S, UUID, topic_id, 13, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, fetch_req_partition)
#define FETCH_REQ_FORGOTTEN(X, S)                                                                  \
	X(S, STR, topic, 7, 12, NN, 0, _)                                                          \
	X(S, UUID, topic_id, 13, VMAX, NN, 0, _)                                                   \
	X(S, ARRI32, partitions, 7, VMAX, NN, 0, _)
#define FETCH_REQ_REPLICA_STATE(X, S)                                                              \
	X(S, I32, replica_id, 15, VMAX, NN, -1, _)                                                 \
	X(S, I64, replica_epoch, 15, VMAX, NN, -1, _)
#define FETCH_REQ(X, S)                                                                            \
	X(S, I32, replica_id, 0, 14, NN, -1, _)                                                    \
	X(S, TAG1_STRUCT, replica_state, 15, VMAX, NN, 0, fetch_req_replica_state)                 \
	X(S, I32, max_wait_ms, 0, VMAX, NN, 0, _)                                                  \
	X(S, I32, min_bytes, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, max_bytes, 3, VMAX, NN, INT32_MAX, _)                                            \
	X(S, I8, isolation_level, 4, VMAX, NN, 0, _)                                               \
	X(S, I32, session_id, 7, VMAX, NN, 0, _)                                                   \
	X(S, I32, session_epoch, 7, VMAX, NN, -1, _)                                               \
	X(S, ARRS, topics, 0, VMAX, NN, 0, fetch_req_topic)                                        \
	X(S, ARRS, forgotten_topics_data, 7, VMAX, NN, 0, fetch_req_forgotten)                     \
	X(S, STR, rack_id, 11, VMAX, NN, 0, _)
#define FETCH_RESP_ABORTED(X, S)                                                                   \
	X(S, I64, producer_id, 4, VMAX, NN, 0, _)                                                  \
	X(S, I64, first_offset, 4, VMAX, NN, 0, _)
#define FETCH_RESP_LEADER(X, S)                                                                    \
	X(S, I32, leader_id, 12, VMAX, NN, -1, _)                                                  \
	X(S, I32, leader_epoch, 12, VMAX, NN, -1, _)
#define FETCH_RESP_NODE_ENDPOINT(X, S)                                                             \
	X(S, I32, node_id, 16, VMAX, NN, 0, _)                                                     \
	X(S, STR, host, 16, VMAX, NN, 0, _)                                                        \
	X(S, I32, port, 16, VMAX, NN, 0, _)                                                        \
	X(S, STR, rack, 16, VMAX, 16, 0, _)
#define FETCH_RESP_PARTITION(X, S)                                                                 \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I64, high_watermark, 0, VMAX, NN, 0, _)                                               \
	X(S, I64, last_stable_offset, 4, VMAX, NN, -1, _)                                          \
	X(S, I64, log_start_offset, 5, VMAX, NN, -1, _)                                            \
	X(S, ARRS, aborted_transactions, 4, VMAX, 4, 0, fetch_resp_aborted)                        \
	X(S, I32, preferred_read_replica, 11, VMAX, NN, -1, _)                                     \
	X(S, BYTES, records, 0, VMAX, 0, 0, _)                                                     \
	X(S, TAG1_STRUCT, current_leader, 12, VMAX, NN, 0, fetch_resp_leader)
#define FETCH_RESP_TOPIC(X, S)                                                                     \
	X(S, STR, topic, 0, 12, NN, 0, _)                                                          \
	X(S, UUID, topic_id, 13, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, fetch_resp_partition)
#define FETCH_RESP(X, S)                                                                           \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 7, VMAX, NN, 0, _)                                                   \
	X(S, I32, session_id, 7, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, responses, 0, VMAX, NN, 0, fetch_resp_topic)                                    \
	X(S, TAG0_ARRS, node_endpoints, 16, VMAX, NN, 0, fetch_resp_node_endpoint)
PGK_MESSAGE(fetch_req_replica_state, FETCH_REQ_REPLICA_STATE)
PGK_MESSAGE(fetch_req_partition, FETCH_REQ_PARTITION)
PGK_MESSAGE(fetch_req_topic, FETCH_REQ_TOPIC)
PGK_MESSAGE(fetch_req_forgotten, FETCH_REQ_FORGOTTEN)
PGK_MESSAGE(fetch_req, FETCH_REQ)
PGK_MESSAGE(fetch_resp_aborted, FETCH_RESP_ABORTED)
PGK_MESSAGE(fetch_resp_leader, FETCH_RESP_LEADER)
PGK_MESSAGE(fetch_resp_node_endpoint, FETCH_RESP_NODE_ENDPOINT)
PGK_MESSAGE(fetch_resp_partition, FETCH_RESP_PARTITION)
PGK_MESSAGE(fetch_resp_topic, FETCH_RESP_TOPIC)
PGK_MESSAGE(fetch_resp, FETCH_RESP)

/* ---- ListOffsets (2) ---- */
#define LIST_OFFSETS_REQ_PARTITION(X, S)                                                           \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I32, current_leader_epoch, 4, VMAX, NN, -1, _)                                        \
	X(S, I64, timestamp, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, max_num_offsets, 0, 0, NN, 1, _)
#define LIST_OFFSETS_REQ_TOPIC(X, S)                                                               \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, list_offsets_req_partition)
#define LIST_OFFSETS_REQ(X, S)                                                                     \
	X(S, I32, replica_id, 0, VMAX, NN, 0, _)                                                   \
	X(S, I8, isolation_level, 2, VMAX, NN, 0, _)                                               \
	X(S, ARRS, topics, 0, VMAX, NN, 0, list_offsets_req_topic)                                 \
	X(S, I32, timeout_ms, 10, VMAX, NN, 0, _)
#define LIST_OFFSETS_RESP_PARTITION(X, S)                                                          \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRI64, old_style_offsets, 0, 0, NN, 0, _)                                            \
	X(S, I64, timestamp, 1, VMAX, NN, -1, _)                                                   \
	X(S, I64, offset, 1, VMAX, NN, -1, _)                                                      \
	X(S, I32, leader_epoch, 4, VMAX, NN, -1, _)
#define LIST_OFFSETS_RESP_TOPIC(X, S)                                                              \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, list_offsets_resp_partition)
#define LIST_OFFSETS_RESP(X, S)                                                                    \
	X(S, I32, throttle_time_ms, 2, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, list_offsets_resp_topic)
PGK_MESSAGE(list_offsets_req_partition, LIST_OFFSETS_REQ_PARTITION)
PGK_MESSAGE(list_offsets_req_topic, LIST_OFFSETS_REQ_TOPIC)
PGK_MESSAGE(list_offsets_req, LIST_OFFSETS_REQ)
PGK_MESSAGE(list_offsets_resp_partition, LIST_OFFSETS_RESP_PARTITION)
PGK_MESSAGE(list_offsets_resp_topic, LIST_OFFSETS_RESP_TOPIC)
PGK_MESSAGE(list_offsets_resp, LIST_OFFSETS_RESP)

/* ---- CreateTopics (19) ---- */
#define CREATE_TOPICS_REQ_ASSIGNMENT(X, S)                                                         \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, ARRI32, broker_ids, 0, VMAX, NN, 0, _)
#define CREATE_TOPICS_REQ_CONFIG(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, STR, value, 0, VMAX, 0, 0, _)
#define CREATE_TOPICS_REQ_TOPIC(X, S)                                                              \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I32, num_partitions, 0, VMAX, NN, 0, _)                                               \
	X(S, I16, replication_factor, 0, VMAX, NN, 0, _)                                           \
	X(S, ARRS, assignments, 0, VMAX, NN, 0, create_topics_req_assignment)                      \
	X(S, ARRS, configs, 0, VMAX, NN, 0, create_topics_req_config)
#define CREATE_TOPICS_REQ(X, S)                                                                    \
	X(S, ARRS, topics, 0, VMAX, NN, 0, create_topics_req_topic)                                \
	X(S, I32, timeout_ms, 0, VMAX, NN, 60000, _)                                               \
	X(S, BOOL, validate_only, 1, VMAX, NN, 0, _)
#define CREATE_TOPICS_RESP_CONFIG(X, S)                                                            \
	X(S, STR, name, 5, VMAX, NN, 0, _)                                                         \
	X(S, STR, value, 5, VMAX, 5, 0, _)                                                         \
	X(S, BOOL, read_only, 5, VMAX, NN, 0, _)                                                   \
	X(S, I8, config_source, 5, VMAX, NN, -1, _)                                                \
	X(S, BOOL, is_sensitive, 5, VMAX, NN, 0, _)
#define CREATE_TOPICS_RESP_TOPIC(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, UUID, topic_id, 7, VMAX, NN, 0, _)                                                    \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 1, VMAX, 0, 0, _)                                                 \
	X(S, I32, num_partitions, 5, VMAX, NN, -1, _)                                              \
	X(S, I16, replication_factor, 5, VMAX, NN, -1, _)                                          \
	X(S, ARRS, configs, 5, VMAX, 5, 0, create_topics_resp_config)
#define CREATE_TOPICS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 2, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, create_topics_resp_topic)
PGK_MESSAGE(create_topics_req_assignment, CREATE_TOPICS_REQ_ASSIGNMENT)
PGK_MESSAGE(create_topics_req_config, CREATE_TOPICS_REQ_CONFIG)
PGK_MESSAGE(create_topics_req_topic, CREATE_TOPICS_REQ_TOPIC)
PGK_MESSAGE(create_topics_req, CREATE_TOPICS_REQ)
PGK_MESSAGE(create_topics_resp_config, CREATE_TOPICS_RESP_CONFIG)
PGK_MESSAGE(create_topics_resp_topic, CREATE_TOPICS_RESP_TOPIC)
PGK_MESSAGE(create_topics_resp, CREATE_TOPICS_RESP)

/* ---- DeleteTopics (20) ---- */
#define DELETE_TOPICS_REQ_TOPIC(X, S)                                                              \
	X(S, STR, name, 6, VMAX, 6, 0, _)                                                          \
	X(S, UUID, topic_id, 6, VMAX, NN, 0, _)
#define DELETE_TOPICS_REQ(X, S)                                                                    \
	X(S, ARRS, topics, 6, VMAX, NN, 0, delete_topics_req_topic)                                \
	X(S, ARRSTR, topic_names, 0, 5, NN, 0, _)                                                  \
	X(S, I32, timeout_ms, 0, VMAX, NN, 0, _)
#define DELETE_TOPICS_RESP_TOPIC(X, S)                                                             \
	X(S, STR, name, 0, VMAX, 6, 0, _)                                                          \
	X(S, UUID, topic_id, 6, VMAX, NN, 0, _)                                                    \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 5, VMAX, 5, 0, _)
#define DELETE_TOPICS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, ARRS, responses, 0, VMAX, NN, 0, delete_topics_resp_topic)
PGK_MESSAGE(delete_topics_req_topic, DELETE_TOPICS_REQ_TOPIC)
PGK_MESSAGE(delete_topics_req, DELETE_TOPICS_REQ)
PGK_MESSAGE(delete_topics_resp_topic, DELETE_TOPICS_RESP_TOPIC)
PGK_MESSAGE(delete_topics_resp, DELETE_TOPICS_RESP)

/* ---- CreatePartitions (37) ---- */
#define CREATE_PARTITIONS_REQ_ASSIGNMENT(X, S) X(S, ARRI32, broker_ids, 0, VMAX, NN, 0, _)
#define CREATE_PARTITIONS_REQ_TOPIC(X, S)                                                          \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I32, count, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRS, assignments, 0, VMAX, 0, 0, create_partitions_req_assignment)
#define CREATE_PARTITIONS_REQ(X, S)                                                                \
	X(S, ARRS, topics, 0, VMAX, NN, 0, create_partitions_req_topic)                            \
	X(S, I32, timeout_ms, 0, VMAX, NN, 0, _)                                                   \
	X(S, BOOL, validate_only, 0, VMAX, NN, 0, _)
#define CREATE_PARTITIONS_RESP_RESULT(X, S)                                                        \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)
#define CREATE_PARTITIONS_RESP(X, S)                                                               \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, create_partitions_resp_result)
PGK_MESSAGE(create_partitions_req_assignment, CREATE_PARTITIONS_REQ_ASSIGNMENT)
PGK_MESSAGE(create_partitions_req_topic, CREATE_PARTITIONS_REQ_TOPIC)
PGK_MESSAGE(create_partitions_req, CREATE_PARTITIONS_REQ)
PGK_MESSAGE(create_partitions_resp_result, CREATE_PARTITIONS_RESP_RESULT)
PGK_MESSAGE(create_partitions_resp, CREATE_PARTITIONS_RESP)

/* ---- DescribeConfigs (32): resource names are ids (idtext.h), for GROUP
 * resources; a topic's or broker's name is its own internal form. ---- */
#define DESCRIBE_CONFIGS_REQ_RESOURCE(X, S)                                                        \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRSTR, configuration_keys, 0, VMAX, 0, 0, _)
#define DESCRIBE_CONFIGS_REQ(X, S)                                                                 \
	X(S, ARRS, resources, 0, VMAX, NN, 0, describe_configs_req_resource)                       \
	X(S, BOOL, include_synonyms, 1, VMAX, NN, 0, _)                                            \
	X(S, BOOL, include_documentation, 3, VMAX, NN, 0, _)
#define DESCRIBE_CONFIGS_RESP_SYNONYM(X, S)                                                        \
	X(S, STR, name, 1, VMAX, NN, 0, _)                                                         \
	X(S, STR, value, 1, VMAX, 0, 0, _)                                                         \
	X(S, I8, source, 1, VMAX, NN, 0, _)
#define DESCRIBE_CONFIGS_RESP_CONFIG(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, STR, value, 0, VMAX, 0, 0, _)                                                         \
	X(S, BOOL, read_only, 0, VMAX, NN, 0, _)                                                   \
	X(S, BOOL, is_default, 0, 0, NN, 0, _)                                                     \
	X(S, I8, config_source, 1, VMAX, NN, -1, _)                                                \
	X(S, BOOL, is_sensitive, 0, VMAX, NN, 0, _)                                                \
	X(S, ARRS, synonyms, 1, VMAX, NN, 0, describe_configs_resp_synonym)                        \
	X(S, I8, config_type, 3, VMAX, NN, 0, _)                                                   \
	X(S, STR, documentation, 3, VMAX, 0, 0, _)
#define DESCRIBE_CONFIGS_RESP_RESULT(X, S)                                                         \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, configs, 0, VMAX, NN, 0, describe_configs_resp_config)
#define DESCRIBE_CONFIGS_RESP(X, S)                                                                \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, describe_configs_resp_result)
PGK_MESSAGE(describe_configs_req_resource, DESCRIBE_CONFIGS_REQ_RESOURCE)
PGK_MESSAGE(describe_configs_req, DESCRIBE_CONFIGS_REQ)
PGK_MESSAGE(describe_configs_resp_synonym, DESCRIBE_CONFIGS_RESP_SYNONYM)
PGK_MESSAGE(describe_configs_resp_config, DESCRIBE_CONFIGS_RESP_CONFIG)
PGK_MESSAGE(describe_configs_resp_result, DESCRIBE_CONFIGS_RESP_RESULT)
PGK_MESSAGE(describe_configs_resp, DESCRIBE_CONFIGS_RESP)

/* ---- FindCoordinator (10) ---- */
#define FIND_COORDINATOR_REQ(X, S)                                                                 \
	X(S, ID, key, 0, 3, NN, 0, _)                                                              \
	X(S, I8, key_type, 1, VMAX, NN, 0, _)                                                      \
	X(S, ARRID, coordinator_keys, 4, VMAX, NN, 0, _)
#define FIND_COORDINATOR_RESP_COORDINATOR(X, S)                                                    \
	X(S, ID, key, 4, VMAX, NN, 0, _)                                                           \
	X(S, I32, node_id, 4, VMAX, NN, 0, _)                                                      \
	X(S, STR, host, 4, VMAX, NN, 0, _)                                                         \
	X(S, I32, port, 4, VMAX, NN, 0, _)                                                         \
	X(S, I16, error_code, 4, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 4, VMAX, 4, 0, _)
#define FIND_COORDINATOR_RESP(X, S)                                                                \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, 3, NN, 0, _)                                                      \
	X(S, STR, error_message, 1, 3, 1, 0, _)                                                    \
	X(S, I32, node_id, 0, 3, NN, 0, _)                                                         \
	X(S, STR, host, 0, 3, NN, 0, _)                                                            \
	X(S, I32, port, 0, 3, NN, 0, _)                                                            \
	X(S, ARRS, coordinators, 4, VMAX, NN, 0, find_coordinator_resp_coordinator)
PGK_MESSAGE(find_coordinator_req, FIND_COORDINATOR_REQ)
PGK_MESSAGE(find_coordinator_resp_coordinator, FIND_COORDINATOR_RESP_COORDINATOR)
PGK_MESSAGE(find_coordinator_resp, FIND_COORDINATOR_RESP)

/* ---- JoinGroup (11) ---- */
#define JOIN_GROUP_REQ_PROTOCOL(X, S)                                                              \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, BYTES, metadata, 0, VMAX, NN, 0, _)
#define JOIN_GROUP_REQ(X, S)                                                                       \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I32, session_timeout_ms, 0, VMAX, NN, 0, _)                                           \
	X(S, I32, rebalance_timeout_ms, 1, VMAX, NN, -1, _)                                        \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 5, VMAX, 5, 0, _)                                             \
	X(S, STR, protocol_type, 0, VMAX, NN, 0, _)                                                \
	X(S, ARRS, protocols, 0, VMAX, NN, 0, join_group_req_protocol)                             \
	X(S, STR, reason, 8, VMAX, 8, 0, _)
#define JOIN_GROUP_RESP_MEMBER(X, S)                                                               \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 5, VMAX, 5, 0, _)                                             \
	X(S, BYTES, metadata, 0, VMAX, NN, 0, _)
#define JOIN_GROUP_RESP(X, S)                                                                      \
	X(S, I32, throttle_time_ms, 2, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, generation_id, 0, VMAX, NN, -1, _)                                               \
	X(S, STR, protocol_type, 7, VMAX, 7, 0, _)                                                 \
	X(S, STR, protocol_name, 0, VMAX, 7, 0, _)                                                 \
	X(S, STR, leader, 0, VMAX, NN, 0, _)                                                       \
	X(S, BOOL, skip_assignment, 9, VMAX, NN, 0, _)                                             \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, ARRS, members, 0, VMAX, NN, 0, join_group_resp_member)
PGK_MESSAGE(join_group_req_protocol, JOIN_GROUP_REQ_PROTOCOL)
PGK_MESSAGE(join_group_req, JOIN_GROUP_REQ)
PGK_MESSAGE(join_group_resp_member, JOIN_GROUP_RESP_MEMBER)
PGK_MESSAGE(join_group_resp, JOIN_GROUP_RESP)

/* ---- SyncGroup (14) ---- */
#define SYNC_GROUP_REQ_ASSIGNMENT(X, S)                                                            \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, BYTES, assignment, 0, VMAX, NN, 0, _)
#define SYNC_GROUP_REQ(X, S)                                                                       \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I32, generation_id, 0, VMAX, NN, 0, _)                                                \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 3, VMAX, 3, 0, _)                                             \
	X(S, STR, protocol_type, 5, VMAX, 5, 0, _)                                                 \
	X(S, STR, protocol_name, 5, VMAX, 5, 0, _)                                                 \
	X(S, ARRS, assignments, 0, VMAX, NN, 0, sync_group_req_assignment)
#define SYNC_GROUP_RESP(X, S)                                                                      \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, protocol_type, 5, VMAX, 5, 0, _)                                                 \
	X(S, STR, protocol_name, 5, VMAX, 5, 0, _)                                                 \
	X(S, BYTES, assignment, 0, VMAX, NN, 0, _)
PGK_MESSAGE(sync_group_req_assignment, SYNC_GROUP_REQ_ASSIGNMENT)
PGK_MESSAGE(sync_group_req, SYNC_GROUP_REQ)
PGK_MESSAGE(sync_group_resp, SYNC_GROUP_RESP)

/* ---- Heartbeat (12) ---- */
#define HEARTBEAT_REQ(X, S)                                                                        \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I32, generation_id, 0, VMAX, NN, 0, _)                                                \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 3, VMAX, 3, 0, _)
#define HEARTBEAT_RESP(X, S)                                                                       \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
PGK_MESSAGE(heartbeat_req, HEARTBEAT_REQ)
PGK_MESSAGE(heartbeat_resp, HEARTBEAT_RESP)

/* ---- LeaveGroup (13) ---- */
#define LEAVE_GROUP_REQ_MEMBER(X, S)                                                               \
	X(S, STR, member_id, 3, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 3, VMAX, 3, 0, _)                                             \
	X(S, STR, reason, 5, VMAX, 5, 0, _)
#define LEAVE_GROUP_REQ(X, S)                                                                      \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, member_id, 0, 2, NN, 0, _)                                                       \
	X(S, ARRS, members, 3, VMAX, NN, 0, leave_group_req_member)
#define LEAVE_GROUP_RESP_MEMBER(X, S)                                                              \
	X(S, STR, member_id, 3, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 3, VMAX, 3, 0, _)                                             \
	X(S, I16, error_code, 3, VMAX, NN, 0, _)
#define LEAVE_GROUP_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, members, 3, VMAX, NN, 0, leave_group_resp_member)
PGK_MESSAGE(leave_group_req_member, LEAVE_GROUP_REQ_MEMBER)
PGK_MESSAGE(leave_group_req, LEAVE_GROUP_REQ)
PGK_MESSAGE(leave_group_resp_member, LEAVE_GROUP_RESP_MEMBER)
PGK_MESSAGE(leave_group_resp, LEAVE_GROUP_RESP)

/* ---- OffsetCommit (8) ---- */
#define OFFSET_COMMIT_REQ_PARTITION(X, S)                                                          \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, committed_offset, 0, VMAX, NN, 0, _)                                             \
	X(S, I32, committed_leader_epoch, 6, VMAX, NN, -1, _)                                      \
	X(S, I64, commit_timestamp, 1, 1, NN, -1, _)                                               \
	X(S, STR, committed_metadata, 0, VMAX, 0, 0, _)
#define OFFSET_COMMIT_REQ_TOPIC(X, S)                                                              \
	X(S, STR, name, 0, 9, NN, 0, _)                                                            \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_commit_req_partition)
#define OFFSET_COMMIT_REQ(X, S)                                                                    \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I32, generation_id_or_member_epoch, 1, VMAX, NN, -1, _)                               \
	X(S, STR, member_id, 1, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 7, VMAX, 7, 0, _)                                             \
	X(S, I64, retention_time_ms, 2, 4, NN, -1, _)                                              \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_commit_req_topic)
#define OFFSET_COMMIT_RESP_PARTITION(X, S)                                                         \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define OFFSET_COMMIT_RESP_TOPIC(X, S)                                                             \
	X(S, STR, name, 0, 9, NN, 0, _)                                                            \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_commit_resp_partition)
#define OFFSET_COMMIT_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 3, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_commit_resp_topic)
PGK_MESSAGE(offset_commit_req_partition, OFFSET_COMMIT_REQ_PARTITION)
PGK_MESSAGE(offset_commit_req_topic, OFFSET_COMMIT_REQ_TOPIC)
PGK_MESSAGE(offset_commit_req, OFFSET_COMMIT_REQ)
PGK_MESSAGE(offset_commit_resp_partition, OFFSET_COMMIT_RESP_PARTITION)
PGK_MESSAGE(offset_commit_resp_topic, OFFSET_COMMIT_RESP_TOPIC)
PGK_MESSAGE(offset_commit_resp, OFFSET_COMMIT_RESP)

/* ---- OffsetFetch (9): one group up to v7, a list of groups from v8;
 * the topic and partition structs serve both shapes. From v10 a topic is
 * named by its id (KIP-516), in OffsetCommit too. ---- */
#define OFFSET_FETCH_REQ_TOPIC(X, S)                                                               \
	X(S, STR, name, 0, 9, NN, 0, _)                                                            \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, ARRI32, partition_indexes, 0, VMAX, NN, 0, _)
#define OFFSET_FETCH_REQ_GROUP(X, S)                                                               \
	X(S, ID, group_id, 8, VMAX, NN, 0, _)                                                      \
	X(S, STR, member_id, 9, VMAX, 9, 0, _)                                                     \
	X(S, I32, member_epoch, 9, VMAX, NN, -1, _)                                                \
	X(S, ARRS, topics, 8, VMAX, 8, 0, offset_fetch_req_topic)
#define OFFSET_FETCH_REQ(X, S)                                                                     \
	X(S, ID, group_id, 0, 7, NN, 0, _)                                                         \
	X(S, ARRS, topics, 0, 7, 2, 0, offset_fetch_req_topic)                                     \
	X(S, ARRS, groups, 8, VMAX, NN, 0, offset_fetch_req_group)                                 \
	X(S, BOOL, require_stable, 7, VMAX, NN, 0, _)
#define OFFSET_FETCH_RESP_PARTITION(X, S)                                                          \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, committed_offset, 0, VMAX, NN, 0, _)                                             \
	X(S, I32, committed_leader_epoch, 5, VMAX, NN, -1, _)                                      \
	X(S, STR, metadata, 0, VMAX, 0, 0, _)                                                      \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define OFFSET_FETCH_RESP_TOPIC(X, S)                                                              \
	X(S, STR, name, 0, 9, NN, 0, _)                                                            \
	X(S, UUID, topic_id, 10, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_fetch_resp_partition)
#define OFFSET_FETCH_RESP_GROUP(X, S)                                                              \
	X(S, ID, group_id, 8, VMAX, NN, 0, _)                                                      \
	X(S, ARRS, topics, 8, VMAX, NN, 0, offset_fetch_resp_topic)                                \
	X(S, I16, error_code, 8, VMAX, NN, 0, _)
#define OFFSET_FETCH_RESP(X, S)                                                                    \
	X(S, I32, throttle_time_ms, 3, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, 7, NN, 0, offset_fetch_resp_topic)                                   \
	X(S, I16, error_code, 2, 7, NN, 0, _)                                                      \
	X(S, ARRS, groups, 8, VMAX, NN, 0, offset_fetch_resp_group)
PGK_MESSAGE(offset_fetch_req_topic, OFFSET_FETCH_REQ_TOPIC)
PGK_MESSAGE(offset_fetch_req_group, OFFSET_FETCH_REQ_GROUP)
PGK_MESSAGE(offset_fetch_req, OFFSET_FETCH_REQ)
PGK_MESSAGE(offset_fetch_resp_partition, OFFSET_FETCH_RESP_PARTITION)
PGK_MESSAGE(offset_fetch_resp_topic, OFFSET_FETCH_RESP_TOPIC)
PGK_MESSAGE(offset_fetch_resp_group, OFFSET_FETCH_RESP_GROUP)
PGK_MESSAGE(offset_fetch_resp, OFFSET_FETCH_RESP)

/* ---- DescribeGroups (15) ---- */
#define DESCRIBE_GROUPS_REQ(X, S)                                                                  \
	X(S, ARRID, groups, 0, VMAX, NN, 0, _)                                                     \
	X(S, BOOL, include_authorized_operations, 3, VMAX, NN, 0, _)
#define DESCRIBE_GROUPS_RESP_MEMBER(X, S)                                                          \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 4, VMAX, 4, 0, _)                                             \
	X(S, ID, client_id, 0, VMAX, NN, 0, _)                                                     \
	X(S, STR, client_host, 0, VMAX, NN, 0, _)                                                  \
	X(S, BYTES, member_metadata, 0, VMAX, NN, 0, _)                                            \
	X(S, BYTES, member_assignment, 0, VMAX, NN, 0, _)
#define DESCRIBE_GROUPS_RESP_GROUP(X, S)                                                           \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, group_state, 0, VMAX, NN, 0, _)                                                  \
	X(S, STR, protocol_type, 0, VMAX, NN, 0, _)                                                \
	X(S, STR, protocol_data, 0, VMAX, NN, 0, _)                                                \
	X(S, ARRS, members, 0, VMAX, NN, 0, describe_groups_resp_member)                           \
	X(S, I32, authorized_operations, 3, VMAX, NN, INT32_MIN, _)
#define DESCRIBE_GROUPS_RESP(X, S)                                                                 \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, ARRS, groups, 0, VMAX, NN, 0, describe_groups_resp_group)
PGK_MESSAGE(describe_groups_req, DESCRIBE_GROUPS_REQ)
PGK_MESSAGE(describe_groups_resp_member, DESCRIBE_GROUPS_RESP_MEMBER)
PGK_MESSAGE(describe_groups_resp_group, DESCRIBE_GROUPS_RESP_GROUP)
PGK_MESSAGE(describe_groups_resp, DESCRIBE_GROUPS_RESP)

/* ---- ListGroups (16) ---- */
#define LIST_GROUPS_REQ(X, S)                                                                      \
	X(S, ARRSTR, states_filter, 4, VMAX, NN, 0, _)                                             \
	X(S, ARRSTR, types_filter, 5, VMAX, NN, 0, _)
#define LIST_GROUPS_RESP_GROUP(X, S)                                                               \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, protocol_type, 0, VMAX, NN, 0, _)                                                \
	X(S, STR, group_state, 4, VMAX, NN, 0, _)                                                  \
	X(S, STR, group_type, 5, VMAX, NN, 0, _)
#define LIST_GROUPS_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 1, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, groups, 0, VMAX, NN, 0, list_groups_resp_group)
PGK_MESSAGE(list_groups_req, LIST_GROUPS_REQ)
PGK_MESSAGE(list_groups_resp_group, LIST_GROUPS_RESP_GROUP)
PGK_MESSAGE(list_groups_resp, LIST_GROUPS_RESP)

/* ---- DeleteGroups (42) ---- */
#define DELETE_GROUPS_REQ(X, S) X(S, ARRID, groups_names, 0, VMAX, NN, 0, _)
#define DELETE_GROUPS_RESP_RESULT(X, S)                                                            \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define DELETE_GROUPS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, delete_groups_resp_result)
PGK_MESSAGE(delete_groups_req, DELETE_GROUPS_REQ)
PGK_MESSAGE(delete_groups_resp_result, DELETE_GROUPS_RESP_RESULT)
PGK_MESSAGE(delete_groups_resp, DELETE_GROUPS_RESP)

/* ---- ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69): the
 * KIP-848 consumer group protocol. The partitions of a topic appear in
 * both; ConsumerGroupDescribe names the topic too. ---- */
#define CG_TOPIC_PARTITIONS(X, S)                                                                  \
	X(S, UUID, topic_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
#define CG_HEARTBEAT_REQ(X, S)                                                                     \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, member_epoch, 0, VMAX, NN, 0, _)                                                 \
	X(S, STR, instance_id, 0, VMAX, 0, 0, _)                                                   \
	X(S, STR, rack_id, 0, VMAX, 0, 0, _)                                                       \
	X(S, I32, rebalance_timeout_ms, 0, VMAX, NN, -1, _)                                        \
	X(S, ARRSTR, subscribed_topic_names, 0, VMAX, 0, 0, _)                                     \
	X(S, STR, subscribed_topic_regex, 1, VMAX, 1, 0, _)                                        \
	X(S, STR, server_assignor, 0, VMAX, 0, 0, _)                                               \
	X(S, ARRS, topic_partitions, 0, VMAX, 0, 0, consumer_group_topic_partitions)
#define CG_HEARTBEAT_RESP_ASSIGNMENT(X, S)                                                         \
	X(S, ARRS, topic_partitions, 0, VMAX, NN, 0, consumer_group_topic_partitions)
#define CG_HEARTBEAT_RESP(X, S)                                                                    \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, STR, member_id, 0, VMAX, 0, 0, _)                                                     \
	X(S, I32, member_epoch, 0, VMAX, NN, 0, _)                                                 \
	X(S, I32, heartbeat_interval_ms, 0, VMAX, NN, 0, _)                                        \
	X(S, STRUCT, assignment, 0, VMAX, 0, 0, consumer_group_heartbeat_resp_assignment)
#define CG_DESCRIBE_REQ(X, S)                                                                      \
	X(S, ARRID, group_ids, 0, VMAX, NN, 0, _)                                                  \
	X(S, BOOL, include_authorized_operations, 0, VMAX, NN, 0, _)
#define CG_DESCRIBE_TOPIC_PARTITIONS(X, S)                                                         \
	X(S, UUID, topic_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, topic_name, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
#define CG_DESCRIBE_ASSIGNMENT(X, S)                                                               \
	X(S, ARRS, topic_partitions, 0, VMAX, NN, 0, consumer_group_describe_topic_partitions)
#define CG_DESCRIBE_RESP_MEMBER(X, S)                                                              \
	X(S, STR, member_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, instance_id, 0, VMAX, 0, 0, _)                                                   \
	X(S, STR, rack_id, 0, VMAX, 0, 0, _)                                                       \
	X(S, I32, member_epoch, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, client_id, 0, VMAX, NN, 0, _)                                                     \
	X(S, STR, client_host, 0, VMAX, NN, 0, _)                                                  \
	X(S, ARRSTR, subscribed_topic_names, 0, VMAX, NN, 0, _)                                    \
	X(S, STR, subscribed_topic_regex, 0, VMAX, 0, 0, _)                                        \
	X(S, STRUCT, assignment, 0, VMAX, NN, 0, consumer_group_describe_assignment)               \
	X(S, STRUCT, target_assignment, 0, VMAX, NN, 0, consumer_group_describe_assignment)        \
	X(S, I8, member_type, 1, VMAX, NN, -1, _)
#define CG_DESCRIBE_RESP_GROUP(X, S)                                                               \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, STR, group_state, 0, VMAX, NN, 0, _)                                                  \
	X(S, I32, group_epoch, 0, VMAX, NN, 0, _)                                                  \
	X(S, I32, assignment_epoch, 0, VMAX, NN, 0, _)                                             \
	X(S, STR, assignor_name, 0, VMAX, NN, 0, _)                                                \
	X(S, ARRS, members, 0, VMAX, NN, 0, consumer_group_describe_resp_member)                   \
	X(S, I32, authorized_operations, 0, VMAX, NN, INT32_MIN, _)
#define CG_DESCRIBE_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, groups, 0, VMAX, NN, 0, consumer_group_describe_resp_group)
PGK_MESSAGE(consumer_group_topic_partitions, CG_TOPIC_PARTITIONS)
PGK_MESSAGE(consumer_group_heartbeat_req, CG_HEARTBEAT_REQ)
PGK_MESSAGE(consumer_group_heartbeat_resp_assignment, CG_HEARTBEAT_RESP_ASSIGNMENT)
PGK_MESSAGE(consumer_group_heartbeat_resp, CG_HEARTBEAT_RESP)
PGK_MESSAGE(consumer_group_describe_req, CG_DESCRIBE_REQ)
PGK_MESSAGE(consumer_group_describe_topic_partitions, CG_DESCRIBE_TOPIC_PARTITIONS)
PGK_MESSAGE(consumer_group_describe_assignment, CG_DESCRIBE_ASSIGNMENT)
PGK_MESSAGE(consumer_group_describe_resp_member, CG_DESCRIBE_RESP_MEMBER)
PGK_MESSAGE(consumer_group_describe_resp_group, CG_DESCRIBE_RESP_GROUP)
PGK_MESSAGE(consumer_group_describe_resp, CG_DESCRIBE_RESP)

/* ---- OffsetDelete (47) ---- */
#define OFFSET_DELETE_REQ_PARTITION(X, S) X(S, I32, partition_index, 0, VMAX, NN, 0, _)
#define OFFSET_DELETE_REQ_TOPIC(X, S)                                                              \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_delete_req_partition)
#define OFFSET_DELETE_REQ(X, S)                                                                    \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_delete_req_topic)
#define OFFSET_DELETE_RESP_PARTITION(X, S)                                                         \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define OFFSET_DELETE_RESP_TOPIC(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_delete_resp_partition)
#define OFFSET_DELETE_RESP(X, S)                                                                   \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_delete_resp_topic)
PGK_MESSAGE(offset_delete_req_partition, OFFSET_DELETE_REQ_PARTITION)
PGK_MESSAGE(offset_delete_req_topic, OFFSET_DELETE_REQ_TOPIC)
PGK_MESSAGE(offset_delete_req, OFFSET_DELETE_REQ)
PGK_MESSAGE(offset_delete_resp_partition, OFFSET_DELETE_RESP_PARTITION)
PGK_MESSAGE(offset_delete_resp_topic, OFFSET_DELETE_RESP_TOPIC)
PGK_MESSAGE(offset_delete_resp, OFFSET_DELETE_RESP)

/* ---- DeleteRecords (21) ---- */
#define DELETE_RECORDS_REQ_PARTITION(X, S)                                                         \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, offset, 0, VMAX, NN, 0, _)
#define DELETE_RECORDS_REQ_TOPIC(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, delete_records_req_partition)
#define DELETE_RECORDS_REQ(X, S)                                                                   \
	X(S, ARRS, topics, 0, VMAX, NN, 0, delete_records_req_topic)                               \
	X(S, I32, timeout_ms, 0, VMAX, NN, 0, _)
#define DELETE_RECORDS_RESP_PARTITION(X, S)                                                        \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, low_watermark, 0, VMAX, NN, -1, _)                                               \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define DELETE_RECORDS_RESP_TOPIC(X, S)                                                            \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, delete_records_resp_partition)
#define DELETE_RECORDS_RESP(X, S)                                                                  \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, delete_records_resp_topic)
PGK_MESSAGE(delete_records_req_partition, DELETE_RECORDS_REQ_PARTITION)
PGK_MESSAGE(delete_records_req_topic, DELETE_RECORDS_REQ_TOPIC)
PGK_MESSAGE(delete_records_req, DELETE_RECORDS_REQ)
PGK_MESSAGE(delete_records_resp_partition, DELETE_RECORDS_RESP_PARTITION)
PGK_MESSAGE(delete_records_resp_topic, DELETE_RECORDS_RESP_TOPIC)
PGK_MESSAGE(delete_records_resp, DELETE_RECORDS_RESP)

/* ---- AlterConfigs (33) and IncrementalAlterConfigs (44): resource names
 * are ids, as in DescribeConfigs. ---- */
#define ALTER_CONFIGS_REQ_CONFIG(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, STR, value, 0, VMAX, 0, 0, _)
#define ALTER_CONFIGS_REQ_RESOURCE(X, S)                                                           \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, configs, 0, VMAX, NN, 0, alter_configs_req_config)
#define ALTER_CONFIGS_REQ(X, S)                                                                    \
	X(S, ARRS, resources, 0, VMAX, NN, 0, alter_configs_req_resource)                          \
	X(S, BOOL, validate_only, 0, VMAX, NN, 0, _)
#define INCREMENTAL_ALTER_CONFIGS_REQ_CONFIG(X, S)                                                 \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, config_operation, 0, VMAX, NN, 0, _)                                              \
	X(S, STR, value, 0, VMAX, 0, 0, _)
#define INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCE(X, S)                                               \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, configs, 0, VMAX, NN, 0, incremental_alter_configs_req_config)
#define INCREMENTAL_ALTER_CONFIGS_REQ(X, S)                                                        \
	X(S, ARRS, resources, 0, VMAX, NN, 0, incremental_alter_configs_req_resource)              \
	X(S, BOOL, validate_only, 0, VMAX, NN, 0, _)
/* Both APIs answer the same way. */
#define ALTER_CONFIGS_RESP_RESULT(X, S)                                                            \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)
#define ALTER_CONFIGS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, responses, 0, VMAX, NN, 0, alter_configs_resp_result)
PGK_MESSAGE(alter_configs_req_config, ALTER_CONFIGS_REQ_CONFIG)
PGK_MESSAGE(alter_configs_req_resource, ALTER_CONFIGS_REQ_RESOURCE)
PGK_MESSAGE(alter_configs_req, ALTER_CONFIGS_REQ)
PGK_MESSAGE(incremental_alter_configs_req_config, INCREMENTAL_ALTER_CONFIGS_REQ_CONFIG)
PGK_MESSAGE(incremental_alter_configs_req_resource, INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCE)
PGK_MESSAGE(incremental_alter_configs_req, INCREMENTAL_ALTER_CONFIGS_REQ)
PGK_MESSAGE(alter_configs_resp_result, ALTER_CONFIGS_RESP_RESULT)
PGK_MESSAGE(alter_configs_resp, ALTER_CONFIGS_RESP)

/* ---- InitProducerId (22) ---- */
#define INIT_PRODUCER_ID_REQ(X, S)                                                                 \
	X(S, ID, transactional_id, 0, VMAX, 0, 0, _)                                               \
	X(S, I32, transaction_timeout_ms, 0, VMAX, NN, 0, _)                                       \
	X(S, I64, producer_id, 3, VMAX, NN, -1, _)                                                 \
	X(S, I16, producer_epoch, 3, VMAX, NN, -1, _)
#define INIT_PRODUCER_ID_RESP(X, S)                                                                \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I64, producer_id, 0, VMAX, NN, -1, _)                                                 \
	X(S, I16, producer_epoch, 0, VMAX, NN, 0, _)
PGK_MESSAGE(init_producer_id_req, INIT_PRODUCER_ID_REQ)
PGK_MESSAGE(init_producer_id_resp, INIT_PRODUCER_ID_RESP)

/* ---- Transactions (docs/TRANSACTIONS.md) ---- */

/* ---- AddPartitionsToTxn (24): v0-3 come from clients, one transaction;
 * v4+ from brokers (KIP-890), a batch of transactions, each to add to or
 * (verify_only) to check. ---- */
#define ADD_PARTITIONS_TO_TXN_TOPIC(X, S)                                                          \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
#define ADD_PARTITIONS_TO_TXN_TRANSACTION(X, S)                                                    \
	X(S, ID, transactional_id, 4, VMAX, NN, 0, _)                                              \
	X(S, I64, producer_id, 4, VMAX, NN, 0, _)                                                  \
	X(S, I16, producer_epoch, 4, VMAX, NN, 0, _)                                               \
	X(S, BOOL, verify_only, 4, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, topics, 4, VMAX, NN, 0, add_partitions_to_txn_topic)
#define ADD_PARTITIONS_TO_TXN_REQ(X, S)                                                            \
	X(S, ARRS, transactions, 4, VMAX, NN, 0, add_partitions_to_txn_transaction)                \
	X(S, ID, v3_and_below_transactional_id, 0, 3, NN, 0, _)                                    \
	X(S, I64, v3_and_below_producer_id, 0, 3, NN, 0, _)                                        \
	X(S, I16, v3_and_below_producer_epoch, 0, 3, NN, 0, _)                                     \
	X(S, ARRS, v3_and_below_topics, 0, 3, NN, 0, add_partitions_to_txn_topic)
#define ADD_PARTITIONS_TO_TXN_PARTITION_RESULT(X, S)                                               \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, partition_error_code, 0, VMAX, NN, 0, _)
#define ADD_PARTITIONS_TO_TXN_TOPIC_RESULT(X, S)                                                   \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, results_by_partition, 0, VMAX, NN, 0, add_partitions_to_txn_partition_result)
#define ADD_PARTITIONS_TO_TXN_RESULT(X, S)                                                         \
	X(S, ID, transactional_id, 4, VMAX, NN, 0, _)                                              \
	X(S, ARRS, topic_results, 4, VMAX, NN, 0, add_partitions_to_txn_topic_result)
#define ADD_PARTITIONS_TO_TXN_RESP(X, S)                                                           \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 4, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, results_by_transaction, 4, VMAX, NN, 0, add_partitions_to_txn_result)           \
	X(S, ARRS, results_by_topic_v3_and_below, 0, 3, NN, 0, add_partitions_to_txn_topic_result)
PGK_MESSAGE(add_partitions_to_txn_topic, ADD_PARTITIONS_TO_TXN_TOPIC)
PGK_MESSAGE(add_partitions_to_txn_transaction, ADD_PARTITIONS_TO_TXN_TRANSACTION)
PGK_MESSAGE(add_partitions_to_txn_req, ADD_PARTITIONS_TO_TXN_REQ)
PGK_MESSAGE(add_partitions_to_txn_partition_result, ADD_PARTITIONS_TO_TXN_PARTITION_RESULT)
PGK_MESSAGE(add_partitions_to_txn_topic_result, ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)
PGK_MESSAGE(add_partitions_to_txn_result, ADD_PARTITIONS_TO_TXN_RESULT)
PGK_MESSAGE(add_partitions_to_txn_resp, ADD_PARTITIONS_TO_TXN_RESP)

/* ---- AddOffsetsToTxn (25) ---- */
#define ADD_OFFSETS_TO_TXN_REQ(X, S)                                                               \
	X(S, ID, transactional_id, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, I16, producer_epoch, 0, VMAX, NN, 0, _)                                               \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)
#define ADD_OFFSETS_TO_TXN_RESP(X, S)                                                              \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
PGK_MESSAGE(add_offsets_to_txn_req, ADD_OFFSETS_TO_TXN_REQ)
PGK_MESSAGE(add_offsets_to_txn_resp, ADD_OFFSETS_TO_TXN_RESP)

/* ---- EndTxn (26): v5 (KIP-890, transaction.version 2) bumps the epoch
 * and answers with the producer id and epoch. ---- */
#define END_TXN_REQ(X, S)                                                                          \
	X(S, ID, transactional_id, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, I16, producer_epoch, 0, VMAX, NN, 0, _)                                               \
	X(S, BOOL, committed, 0, VMAX, NN, 0, _)
#define END_TXN_RESP(X, S)                                                                         \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I64, producer_id, 5, VMAX, NN, -1, _)                                                 \
	X(S, I16, producer_epoch, 5, VMAX, NN, -1, _)
PGK_MESSAGE(end_txn_req, END_TXN_REQ)
PGK_MESSAGE(end_txn_resp, END_TXN_RESP)

/* ---- TxnOffsetCommit (28) ---- */
#define TXN_OFFSET_COMMIT_REQ_PARTITION(X, S)                                                      \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, committed_offset, 0, VMAX, NN, 0, _)                                             \
	X(S, I32, committed_leader_epoch, 2, VMAX, NN, -1, _)                                      \
	X(S, STR, committed_metadata, 0, VMAX, 0, 0, _)
#define TXN_OFFSET_COMMIT_REQ_TOPIC(X, S)                                                          \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, txn_offset_commit_req_partition)
#define TXN_OFFSET_COMMIT_REQ(X, S)                                                                \
	X(S, ID, transactional_id, 0, VMAX, NN, 0, _)                                              \
	X(S, ID, group_id, 0, VMAX, NN, 0, _)                                                      \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, I16, producer_epoch, 0, VMAX, NN, 0, _)                                               \
	X(S, I32, generation_id, 3, VMAX, NN, -1, _)                                               \
	X(S, STR, member_id, 3, VMAX, NN, 0, _)                                                    \
	X(S, STR, group_instance_id, 3, VMAX, 3, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, txn_offset_commit_req_topic)
#define TXN_OFFSET_COMMIT_RESP_PARTITION(X, S)                                                     \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define TXN_OFFSET_COMMIT_RESP_TOPIC(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, txn_offset_commit_resp_partition)
#define TXN_OFFSET_COMMIT_RESP(X, S)                                                               \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, txn_offset_commit_resp_topic)
PGK_MESSAGE(txn_offset_commit_req_partition, TXN_OFFSET_COMMIT_REQ_PARTITION)
PGK_MESSAGE(txn_offset_commit_req_topic, TXN_OFFSET_COMMIT_REQ_TOPIC)
PGK_MESSAGE(txn_offset_commit_req, TXN_OFFSET_COMMIT_REQ)
PGK_MESSAGE(txn_offset_commit_resp_partition, TXN_OFFSET_COMMIT_RESP_PARTITION)
PGK_MESSAGE(txn_offset_commit_resp_topic, TXN_OFFSET_COMMIT_RESP_TOPIC)
PGK_MESSAGE(txn_offset_commit_resp, TXN_OFFSET_COMMIT_RESP)

/* ---- DescribeTransactions (65) ---- */
#define DESCRIBE_TRANSACTIONS_REQ(X, S) X(S, ARRID, transactional_ids, 0, VMAX, NN, 0, _)
#define DESCRIBE_TRANSACTIONS_RESP_TOPIC(X, S)                                                     \
	X(S, STR, topic, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
#define DESCRIBE_TRANSACTIONS_RESP_STATE(X, S)                                                     \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ID, transactional_id, 0, VMAX, NN, 0, _)                                              \
	X(S, STR, transaction_state, 0, VMAX, NN, 0, _)                                            \
	X(S, I32, transaction_timeout_ms, 0, VMAX, NN, 0, _)                                       \
	X(S, I64, transaction_start_time_ms, 0, VMAX, NN, -1, _)                                   \
	X(S, I64, producer_id, 0, VMAX, NN, -1, _)                                                 \
	X(S, I16, producer_epoch, 0, VMAX, NN, -1, _)                                              \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_transactions_resp_topic)
#define DESCRIBE_TRANSACTIONS_RESP(X, S)                                                           \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, transaction_states, 0, VMAX, NN, 0, describe_transactions_resp_state)
PGK_MESSAGE(describe_transactions_req, DESCRIBE_TRANSACTIONS_REQ)
PGK_MESSAGE(describe_transactions_resp_topic, DESCRIBE_TRANSACTIONS_RESP_TOPIC)
PGK_MESSAGE(describe_transactions_resp_state, DESCRIBE_TRANSACTIONS_RESP_STATE)
PGK_MESSAGE(describe_transactions_resp, DESCRIBE_TRANSACTIONS_RESP)

/* ---- ListTransactions (66) ---- */
#define LIST_TRANSACTIONS_REQ(X, S)                                                                \
	X(S, ARRSTR, state_filters, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRI64, producer_id_filters, 0, VMAX, NN, 0, _)                                       \
	X(S, I64, duration_filter, 1, VMAX, NN, -1, _)
#define LIST_TRANSACTIONS_RESP_STATE(X, S)                                                         \
	X(S, ID, transactional_id, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, STR, transaction_state, 0, VMAX, NN, 0, _)
#define LIST_TRANSACTIONS_RESP(X, S)                                                               \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRSTR, unknown_state_filters, 0, VMAX, NN, 0, _)                                     \
	X(S, ARRS, transaction_states, 0, VMAX, NN, 0, list_transactions_resp_state)
PGK_MESSAGE(list_transactions_req, LIST_TRANSACTIONS_REQ)
PGK_MESSAGE(list_transactions_resp_state, LIST_TRANSACTIONS_RESP_STATE)
PGK_MESSAGE(list_transactions_resp, LIST_TRANSACTIONS_RESP)

/* ---- SaslHandshake (17), SaslAuthenticate (36) ---- */
#define SASL_HANDSHAKE_REQ(X, S) X(S, STR, mechanism, 0, VMAX, NN, 0, _)
#define SASL_HANDSHAKE_RESP(X, S)                                                                  \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRSTR, mechanisms, 0, VMAX, NN, 0, _)
#define SASL_AUTHENTICATE_REQ(X, S) X(S, BYTES, auth_bytes, 0, VMAX, NN, 0, _)
#define SASL_AUTHENTICATE_RESP(X, S)                                                               \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, BYTES, auth_bytes, 0, VMAX, NN, 0, _)                                                 \
	X(S, I64, session_lifetime_ms, 1, VMAX, NN, 0, _)
PGK_MESSAGE(sasl_handshake_req, SASL_HANDSHAKE_REQ)
PGK_MESSAGE(sasl_handshake_resp, SASL_HANDSHAKE_RESP)
PGK_MESSAGE(sasl_authenticate_req, SASL_AUTHENTICATE_REQ)
PGK_MESSAGE(sasl_authenticate_resp, SASL_AUTHENTICATE_RESP)

/* ---- DescribeUserScramCredentials (50), AlterUserScramCredentials (51) ---- */
#define DESCRIBE_SCRAM_REQ_USER(X, S) X(S, STR, name, 0, VMAX, NN, 0, _)
#define DESCRIBE_SCRAM_REQ(X, S) X(S, ARRS, users, 0, VMAX, 0, 0, describe_scram_req_user)
#define DESCRIBE_SCRAM_RESP_INFO(X, S)                                                             \
	X(S, I8, mechanism, 0, VMAX, NN, 0, _)                                                     \
	X(S, I32, iterations, 0, VMAX, NN, 0, _)
#define DESCRIBE_SCRAM_RESP_RESULT(X, S)                                                           \
	X(S, STR, user, 0, VMAX, NN, 0, _)                                                         \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, credential_infos, 0, VMAX, NN, 0, describe_scram_resp_info)
#define DESCRIBE_SCRAM_RESP(X, S)                                                                  \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, results, 0, VMAX, NN, 0, describe_scram_resp_result)
PGK_MESSAGE(describe_scram_req_user, DESCRIBE_SCRAM_REQ_USER)
PGK_MESSAGE(describe_scram_req, DESCRIBE_SCRAM_REQ)
PGK_MESSAGE(describe_scram_resp_info, DESCRIBE_SCRAM_RESP_INFO)
PGK_MESSAGE(describe_scram_resp_result, DESCRIBE_SCRAM_RESP_RESULT)
PGK_MESSAGE(describe_scram_resp, DESCRIBE_SCRAM_RESP)

#define ALTER_SCRAM_REQ_DELETION(X, S)                                                             \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, mechanism, 0, VMAX, NN, 0, _)
#define ALTER_SCRAM_REQ_UPSERTION(X, S)                                                            \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, mechanism, 0, VMAX, NN, 0, _)                                                     \
	X(S, I32, iterations, 0, VMAX, NN, 0, _)                                                   \
	X(S, BYTES, salt, 0, VMAX, NN, 0, _)                                                       \
	X(S, BYTES, salted_password, 0, VMAX, NN, 0, _)
#define ALTER_SCRAM_REQ(X, S)                                                                      \
	X(S, ARRS, deletions, 0, VMAX, NN, 0, alter_scram_req_deletion)                            \
	X(S, ARRS, upsertions, 0, VMAX, NN, 0, alter_scram_req_upsertion)
#define ALTER_SCRAM_RESP_RESULT(X, S)                                                              \
	X(S, STR, user, 0, VMAX, NN, 0, _)                                                         \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)
#define ALTER_SCRAM_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, alter_scram_resp_result)
PGK_MESSAGE(alter_scram_req_deletion, ALTER_SCRAM_REQ_DELETION)
PGK_MESSAGE(alter_scram_req_upsertion, ALTER_SCRAM_REQ_UPSERTION)
PGK_MESSAGE(alter_scram_req, ALTER_SCRAM_REQ)
PGK_MESSAGE(alter_scram_resp_result, ALTER_SCRAM_RESP_RESULT)
PGK_MESSAGE(alter_scram_resp, ALTER_SCRAM_RESP)
/* ---- DescribeAcls (29): resource names are ids (idtext.h) whatever the
 * resource type, so that a GROUP or TRANSACTIONAL_ID binding names a group
 * or transactional id as the handlers see it; a topic's name is its own
 * internal form. ---- */
#define DESCRIBE_ACLS_REQ(X, S)                                                                    \
	X(S, I8, resource_type_filter, 0, VMAX, NN, 0, _)                                          \
	X(S, ID, resource_name_filter, 0, VMAX, 0, 0, _)                                           \
	X(S, I8, pattern_type_filter, 1, VMAX, NN, 3, _)                                           \
	X(S, STR, principal_filter, 0, VMAX, 0, 0, _)                                              \
	X(S, STR, host_filter, 0, VMAX, 0, 0, _)                                                   \
	X(S, I8, operation, 0, VMAX, NN, 0, _)                                                     \
	X(S, I8, permission_type, 0, VMAX, NN, 0, _)
#define DESCRIBE_ACLS_RESP_ACL(X, S)                                                               \
	X(S, STR, principal, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, host, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, operation, 0, VMAX, NN, 0, _)                                                     \
	X(S, I8, permission_type, 0, VMAX, NN, 0, _)
#define DESCRIBE_ACLS_RESP_RESOURCE(X, S)                                                          \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, I8, pattern_type, 1, VMAX, NN, 3, _)                                                  \
	X(S, ARRS, acls, 0, VMAX, NN, 0, describe_acls_resp_acl)
#define DESCRIBE_ACLS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, resources, 0, VMAX, NN, 0, describe_acls_resp_resource)
PGK_MESSAGE(describe_acls_req, DESCRIBE_ACLS_REQ)
PGK_MESSAGE(describe_acls_resp_acl, DESCRIBE_ACLS_RESP_ACL)
PGK_MESSAGE(describe_acls_resp_resource, DESCRIBE_ACLS_RESP_RESOURCE)
PGK_MESSAGE(describe_acls_resp, DESCRIBE_ACLS_RESP)

/* ---- CreateAcls (30) ---- */
#define CREATE_ACLS_REQ_CREATION(X, S)                                                             \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, I8, resource_pattern_type, 1, VMAX, NN, 3, _)                                         \
	X(S, STR, principal, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, host, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, operation, 0, VMAX, NN, 0, _)                                                     \
	X(S, I8, permission_type, 0, VMAX, NN, 0, _)
#define CREATE_ACLS_REQ(X, S) X(S, ARRS, creations, 0, VMAX, NN, 0, create_acls_req_creation)
#define CREATE_ACLS_RESP_RESULT(X, S)                                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)
#define CREATE_ACLS_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, create_acls_resp_result)
PGK_MESSAGE(create_acls_req_creation, CREATE_ACLS_REQ_CREATION)
PGK_MESSAGE(create_acls_req, CREATE_ACLS_REQ)
PGK_MESSAGE(create_acls_resp_result, CREATE_ACLS_RESP_RESULT)
PGK_MESSAGE(create_acls_resp, CREATE_ACLS_RESP)

/* ---- DeleteAcls (31) ---- */
#define DELETE_ACLS_REQ_FILTER(X, S)                                                               \
	X(S, I8, resource_type_filter, 0, VMAX, NN, 0, _)                                          \
	X(S, ID, resource_name_filter, 0, VMAX, 0, 0, _)                                           \
	X(S, I8, pattern_type_filter, 1, VMAX, NN, 3, _)                                           \
	X(S, STR, principal_filter, 0, VMAX, 0, 0, _)                                              \
	X(S, STR, host_filter, 0, VMAX, 0, 0, _)                                                   \
	X(S, I8, operation, 0, VMAX, NN, 0, _)                                                     \
	X(S, I8, permission_type, 0, VMAX, NN, 0, _)
#define DELETE_ACLS_REQ(X, S) X(S, ARRS, filters, 0, VMAX, NN, 0, delete_acls_req_filter)
#define DELETE_ACLS_RESP_MATCH(X, S)                                                               \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, I8, resource_type, 0, VMAX, NN, 0, _)                                                 \
	X(S, ID, resource_name, 0, VMAX, NN, 0, _)                                                 \
	X(S, I8, pattern_type, 1, VMAX, NN, 3, _)                                                  \
	X(S, STR, principal, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, host, 0, VMAX, NN, 0, _)                                                         \
	X(S, I8, operation, 0, VMAX, NN, 0, _)                                                     \
	X(S, I8, permission_type, 0, VMAX, NN, 0, _)
#define DELETE_ACLS_RESP_RESULT(X, S)                                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, matching_acls, 0, VMAX, NN, 0, delete_acls_resp_match)
#define DELETE_ACLS_RESP(X, S)                                                                     \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, filter_results, 0, VMAX, NN, 0, delete_acls_resp_result)
PGK_MESSAGE(delete_acls_req_filter, DELETE_ACLS_REQ_FILTER)
PGK_MESSAGE(delete_acls_req, DELETE_ACLS_REQ)
PGK_MESSAGE(delete_acls_resp_match, DELETE_ACLS_RESP_MATCH)
PGK_MESSAGE(delete_acls_resp_result, DELETE_ACLS_RESP_RESULT)
PGK_MESSAGE(delete_acls_resp, DELETE_ACLS_RESP)

/*
 * ---- Cluster, replica, quota, token and feature APIs ----
 * (handled in h_cluster.c, h_replicas.c and h_unavailable.c)
 */

/* ---- DescribeCluster (60) ---- */
#define DESCRIBE_CLUSTER_REQ(X, S)                                                                 \
	X(S, BOOL, include_cluster_authorized_operations, 0, VMAX, NN, 0, _)                       \
	X(S, I8, endpoint_type, 1, VMAX, NN, 1, _)                                                 \
	X(S, BOOL, include_fenced_brokers, 2, VMAX, NN, 0, _)
#define DESCRIBE_CLUSTER_RESP_BROKER(X, S)                                                         \
	X(S, I32, broker_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, STR, host, 0, VMAX, NN, 0, _)                                                         \
	X(S, I32, port, 0, VMAX, NN, 0, _)                                                         \
	X(S, STR, rack, 0, VMAX, 0, 0, _)                                                          \
	X(S, BOOL, is_fenced, 2, VMAX, NN, 0, _)
#define DESCRIBE_CLUSTER_RESP(X, S)                                                                \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, I8, endpoint_type, 1, VMAX, NN, 1, _)                                                 \
	X(S, STR, cluster_id, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, controller_id, 0, VMAX, NN, -1, _)                                               \
	X(S, ARRS, brokers, 0, VMAX, NN, 0, describe_cluster_resp_broker)                          \
	X(S, I32, cluster_authorized_operations, 0, VMAX, NN, INT32_MIN, _)
PGK_MESSAGE(describe_cluster_req, DESCRIBE_CLUSTER_REQ)
PGK_MESSAGE(describe_cluster_resp_broker, DESCRIBE_CLUSTER_RESP_BROKER)
PGK_MESSAGE(describe_cluster_resp, DESCRIBE_CLUSTER_RESP)

/* ---- DescribeTopicPartitions (75) ---- */
#define DESCRIBE_TOPIC_PARTITIONS_CURSOR(X, S)                                                     \
	X(S, STR, topic_name, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)
#define DESCRIBE_TOPIC_PARTITIONS_REQ_TOPIC(X, S) X(S, STR, name, 0, VMAX, NN, 0, _)
#define DESCRIBE_TOPIC_PARTITIONS_REQ(X, S)                                                        \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_topic_partitions_req_topic)                    \
	X(S, I32, response_partition_limit, 0, VMAX, NN, 2000, _)                                  \
	X(S, STRUCT, cursor, 0, VMAX, 0, 0, describe_topic_partitions_cursor)
#define DESCRIBE_TOPIC_PARTITIONS_RESP_PARTITION(X, S)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I32, leader_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, leader_epoch, 0, VMAX, NN, -1, _)                                                \
	X(S, ARRI32, replica_nodes, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRI32, isr_nodes, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRI32, eligible_leader_replicas, 0, VMAX, 0, 0, _)                                   \
	X(S, ARRI32, last_known_elr, 0, VMAX, 0, 0, _)                                             \
	X(S, ARRI32, offline_replicas, 0, VMAX, NN, 0, _)
#define DESCRIBE_TOPIC_PARTITIONS_RESP_TOPIC(X, S)                                                 \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, name, 0, VMAX, 0, 0, _)                                                          \
	X(S, UUID, topic_id, 0, VMAX, NN, 0, _)                                                    \
	X(S, BOOL, is_internal, 0, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, describe_topic_partitions_resp_partition)           \
	X(S, I32, topic_authorized_operations, 0, VMAX, NN, INT32_MIN, _)
#define DESCRIBE_TOPIC_PARTITIONS_RESP(X, S)                                                       \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_topic_partitions_resp_topic)                   \
	X(S, STRUCT, next_cursor, 0, VMAX, 0, 0, describe_topic_partitions_cursor)
PGK_MESSAGE(describe_topic_partitions_cursor, DESCRIBE_TOPIC_PARTITIONS_CURSOR)
PGK_MESSAGE(describe_topic_partitions_req_topic, DESCRIBE_TOPIC_PARTITIONS_REQ_TOPIC)
PGK_MESSAGE(describe_topic_partitions_req, DESCRIBE_TOPIC_PARTITIONS_REQ)
PGK_MESSAGE(describe_topic_partitions_resp_partition, DESCRIBE_TOPIC_PARTITIONS_RESP_PARTITION)
PGK_MESSAGE(describe_topic_partitions_resp_topic, DESCRIBE_TOPIC_PARTITIONS_RESP_TOPIC)
PGK_MESSAGE(describe_topic_partitions_resp, DESCRIBE_TOPIC_PARTITIONS_RESP)

/* ---- DescribeProducers (61) ---- */
#define DESCRIBE_PRODUCERS_REQ_TOPIC(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRI32, partition_indexes, 0, VMAX, NN, 0, _)
#define DESCRIBE_PRODUCERS_REQ(X, S)                                                               \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_producers_req_topic)
#define DESCRIBE_PRODUCERS_RESP_PRODUCER(X, S)                                                     \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, I32, producer_epoch, 0, VMAX, NN, 0, _)                                               \
	X(S, I32, last_sequence, 0, VMAX, NN, -1, _)                                               \
	X(S, I64, last_timestamp, 0, VMAX, NN, -1, _)                                              \
	X(S, I32, coordinator_epoch, 0, VMAX, NN, 0, _)                                            \
	X(S, I64, current_txn_start_offset, 0, VMAX, NN, -1, _)
#define DESCRIBE_PRODUCERS_RESP_PARTITION(X, S)                                                    \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, active_producers, 0, VMAX, NN, 0, describe_producers_resp_producer)
#define DESCRIBE_PRODUCERS_RESP_TOPIC(X, S)                                                        \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, describe_producers_resp_partition)
#define DESCRIBE_PRODUCERS_RESP(X, S)                                                              \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_producers_resp_topic)
PGK_MESSAGE(describe_producers_req_topic, DESCRIBE_PRODUCERS_REQ_TOPIC)
PGK_MESSAGE(describe_producers_req, DESCRIBE_PRODUCERS_REQ)
PGK_MESSAGE(describe_producers_resp_producer, DESCRIBE_PRODUCERS_RESP_PRODUCER)
PGK_MESSAGE(describe_producers_resp_partition, DESCRIBE_PRODUCERS_RESP_PARTITION)
PGK_MESSAGE(describe_producers_resp_topic, DESCRIBE_PRODUCERS_RESP_TOPIC)
PGK_MESSAGE(describe_producers_resp, DESCRIBE_PRODUCERS_RESP)

/* A topic and some of its partitions: the request part of DescribeLogDirs,
 * ElectLeaders and AlterReplicaLogDirs. */
#define TOPIC_PARTITIONS_REQ(X, S)                                                                 \
	X(S, STR, topic, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
PGK_MESSAGE(topic_partitions_req, TOPIC_PARTITIONS_REQ)

/* ---- DescribeLogDirs (35) ---- */
#define DESCRIBE_LOG_DIRS_REQ(X, S) X(S, ARRS, topics, 0, VMAX, 0, 0, topic_partitions_req)
#define DESCRIBE_LOG_DIRS_RESP_PARTITION(X, S)                                                     \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, partition_size, 0, VMAX, NN, 0, _)                                               \
	X(S, I64, offset_lag, 0, VMAX, NN, 0, _)                                                   \
	X(S, BOOL, is_future_key, 0, VMAX, NN, 0, _)
#define DESCRIBE_LOG_DIRS_RESP_TOPIC(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, describe_log_dirs_resp_partition)
#define DESCRIBE_LOG_DIRS_RESP_RESULT(X, S)                                                        \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, log_dir, 0, VMAX, NN, 0, _)                                                      \
	X(S, ARRS, topics, 0, VMAX, NN, 0, describe_log_dirs_resp_topic)                           \
	X(S, I64, total_bytes, 4, VMAX, NN, -1, _)                                                 \
	X(S, I64, usable_bytes, 4, VMAX, NN, -1, _)
#define DESCRIBE_LOG_DIRS_RESP(X, S)                                                               \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 3, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, results, 0, VMAX, NN, 0, describe_log_dirs_resp_result)
PGK_MESSAGE(describe_log_dirs_req, DESCRIBE_LOG_DIRS_REQ)
PGK_MESSAGE(describe_log_dirs_resp_partition, DESCRIBE_LOG_DIRS_RESP_PARTITION)
PGK_MESSAGE(describe_log_dirs_resp_topic, DESCRIBE_LOG_DIRS_RESP_TOPIC)
PGK_MESSAGE(describe_log_dirs_resp_result, DESCRIBE_LOG_DIRS_RESP_RESULT)
PGK_MESSAGE(describe_log_dirs_resp, DESCRIBE_LOG_DIRS_RESP)

/* Per-partition results with a message: ElectLeaders and
 * AlterPartitionReassignments. */
#define PARTITION_RESULT(X, S)                                                                     \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)
PGK_MESSAGE(partition_result, PARTITION_RESULT)

/* ---- ElectLeaders (43) ---- */
#define ELECT_LEADERS_REQ(X, S)                                                                    \
	X(S, I8, election_type, 1, VMAX, NN, 0, _)                                                 \
	X(S, ARRS, topic_partitions, 0, VMAX, 0, 0, topic_partitions_req)                          \
	X(S, I32, timeout_ms, 0, VMAX, NN, 60000, _)
#define ELECT_LEADERS_RESP_RESULT(X, S)                                                            \
	X(S, STR, topic, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRS, partition_result, 0, VMAX, NN, 0, partition_result)
#define ELECT_LEADERS_RESP(X, S)                                                                   \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 1, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, replica_election_results, 0, VMAX, NN, 0, elect_leaders_resp_result)
PGK_MESSAGE(elect_leaders_req, ELECT_LEADERS_REQ)
PGK_MESSAGE(elect_leaders_resp_result, ELECT_LEADERS_RESP_RESULT)
PGK_MESSAGE(elect_leaders_resp, ELECT_LEADERS_RESP)

/* ---- AlterPartitionReassignments (45) ---- */
#define ALTER_REASSIGNMENTS_REQ_PARTITION(X, S)                                                    \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, ARRI32, replicas, 0, VMAX, 0, 0, _)
#define ALTER_REASSIGNMENTS_REQ_TOPIC(X, S)                                                        \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, alter_reassignments_req_partition)
#define ALTER_REASSIGNMENTS_REQ(X, S)                                                              \
	X(S, I32, timeout_ms, 0, VMAX, NN, 60000, _)                                               \
	X(S, ARRS, topics, 0, VMAX, NN, 0, alter_reassignments_req_topic)
#define ALTER_REASSIGNMENTS_RESP_TOPIC(X, S)                                                       \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, partition_result)
#define ALTER_REASSIGNMENTS_RESP(X, S)                                                             \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, responses, 0, VMAX, NN, 0, alter_reassignments_resp_topic)
PGK_MESSAGE(alter_reassignments_req_partition, ALTER_REASSIGNMENTS_REQ_PARTITION)
PGK_MESSAGE(alter_reassignments_req_topic, ALTER_REASSIGNMENTS_REQ_TOPIC)
PGK_MESSAGE(alter_reassignments_req, ALTER_REASSIGNMENTS_REQ)
PGK_MESSAGE(alter_reassignments_resp_topic, ALTER_REASSIGNMENTS_RESP_TOPIC)
PGK_MESSAGE(alter_reassignments_resp, ALTER_REASSIGNMENTS_RESP)

/* ---- ListPartitionReassignments (46) ---- */
#define LIST_REASSIGNMENTS_REQ_TOPIC(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRI32, partition_indexes, 0, VMAX, NN, 0, _)
#define LIST_REASSIGNMENTS_REQ(X, S)                                                               \
	X(S, I32, timeout_ms, 0, VMAX, NN, 60000, _)                                               \
	X(S, ARRS, topics, 0, VMAX, 0, 0, list_reassignments_req_topic)
#define LIST_REASSIGNMENTS_RESP_PARTITION(X, S)                                                    \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, ARRI32, replicas, 0, VMAX, NN, 0, _)                                                  \
	X(S, ARRI32, adding_replicas, 0, VMAX, NN, 0, _)                                           \
	X(S, ARRI32, removing_replicas, 0, VMAX, NN, 0, _)
#define LIST_REASSIGNMENTS_RESP_TOPIC(X, S)                                                        \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, list_reassignments_resp_partition)
#define LIST_REASSIGNMENTS_RESP(X, S)                                                              \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, topics, 0, VMAX, NN, 0, list_reassignments_resp_topic)
PGK_MESSAGE(list_reassignments_req_topic, LIST_REASSIGNMENTS_REQ_TOPIC)
PGK_MESSAGE(list_reassignments_req, LIST_REASSIGNMENTS_REQ)
PGK_MESSAGE(list_reassignments_resp_partition, LIST_REASSIGNMENTS_RESP_PARTITION)
PGK_MESSAGE(list_reassignments_resp_topic, LIST_REASSIGNMENTS_RESP_TOPIC)
PGK_MESSAGE(list_reassignments_resp, LIST_REASSIGNMENTS_RESP)

/* ---- AlterReplicaLogDirs (34) ---- */
#define ALTER_REPLICA_LOG_DIRS_REQ_TOPIC(X, S)                                                     \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRI32, partitions, 0, VMAX, NN, 0, _)
#define ALTER_REPLICA_LOG_DIRS_REQ_DIR(X, S)                                                       \
	X(S, STR, path, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, topics, 0, VMAX, NN, 0, alter_replica_log_dirs_req_topic)
#define ALTER_REPLICA_LOG_DIRS_REQ(X, S)                                                           \
	X(S, ARRS, dirs, 0, VMAX, NN, 0, alter_replica_log_dirs_req_dir)
#define PARTITION_ERROR(X, S)                                                                      \
	X(S, I32, partition_index, 0, VMAX, NN, 0, _)                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)
#define ALTER_REPLICA_LOG_DIRS_RESP_TOPIC(X, S)                                                    \
	X(S, STR, topic_name, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, partition_error)
#define ALTER_REPLICA_LOG_DIRS_RESP(X, S)                                                          \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, results, 0, VMAX, NN, 0, alter_replica_log_dirs_resp_topic)
PGK_MESSAGE(alter_replica_log_dirs_req_topic, ALTER_REPLICA_LOG_DIRS_REQ_TOPIC)
PGK_MESSAGE(alter_replica_log_dirs_req_dir, ALTER_REPLICA_LOG_DIRS_REQ_DIR)
PGK_MESSAGE(alter_replica_log_dirs_req, ALTER_REPLICA_LOG_DIRS_REQ)
PGK_MESSAGE(partition_error, PARTITION_ERROR)
PGK_MESSAGE(alter_replica_log_dirs_resp_topic, ALTER_REPLICA_LOG_DIRS_RESP_TOPIC)
PGK_MESSAGE(alter_replica_log_dirs_resp, ALTER_REPLICA_LOG_DIRS_RESP)

/* ---- OffsetForLeaderEpoch (23) ---- */
#define OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION(X, S)                                                \
	X(S, I32, partition, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, current_leader_epoch, 2, VMAX, NN, -1, _)                                        \
	X(S, I32, leader_epoch, 0, VMAX, NN, 0, _)
#define OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC(X, S)                                                    \
	X(S, STR, topic, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_for_leader_epoch_req_partition)
#define OFFSET_FOR_LEADER_EPOCH_REQ(X, S)                                                          \
	X(S, I32, replica_id, 3, VMAX, NN, -2, _)                                                  \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_for_leader_epoch_req_topic)
#define OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION(X, S)                                               \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I32, partition, 0, VMAX, NN, 0, _)                                                    \
	X(S, I32, leader_epoch, 1, VMAX, NN, -1, _)                                                \
	X(S, I64, end_offset, 0, VMAX, NN, -1, _)
#define OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC(X, S)                                                   \
	X(S, STR, topic, 0, VMAX, NN, 0, _)                                                        \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, offset_for_leader_epoch_resp_partition)
#define OFFSET_FOR_LEADER_EPOCH_RESP(X, S)                                                         \
	X(S, I32, throttle_time_ms, 2, VMAX, NN, 0, _)                                             \
	X(S, ARRS, topics, 0, VMAX, NN, 0, offset_for_leader_epoch_resp_topic)
PGK_MESSAGE(offset_for_leader_epoch_req_partition, OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION)
PGK_MESSAGE(offset_for_leader_epoch_req_topic, OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC)
PGK_MESSAGE(offset_for_leader_epoch_req, OFFSET_FOR_LEADER_EPOCH_REQ)
PGK_MESSAGE(offset_for_leader_epoch_resp_partition, OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION)
PGK_MESSAGE(offset_for_leader_epoch_resp_topic, OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC)
PGK_MESSAGE(offset_for_leader_epoch_resp, OFFSET_FOR_LEADER_EPOCH_RESP)

/* ---- WriteTxnMarkers (27) ---- */
#define WRITE_TXN_MARKERS_REQ_TOPIC(X, S)                                                          \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRI32, partition_indexes, 0, VMAX, NN, 0, _)
#define WRITE_TXN_MARKERS_REQ_MARKER(X, S)                                                         \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, I16, producer_epoch, 0, VMAX, NN, 0, _)                                               \
	X(S, BOOL, transaction_result, 0, VMAX, NN, 0, _)                                          \
	X(S, ARRS, topics, 0, VMAX, NN, 0, write_txn_markers_req_topic)                            \
	X(S, I32, coordinator_epoch, 0, VMAX, NN, 0, _)
#define WRITE_TXN_MARKERS_REQ(X, S)                                                                \
	X(S, ARRS, markers, 0, VMAX, NN, 0, write_txn_markers_req_marker)
#define WRITE_TXN_MARKERS_RESP_TOPIC(X, S)                                                         \
	X(S, STR, name, 0, VMAX, NN, 0, _)                                                         \
	X(S, ARRS, partitions, 0, VMAX, NN, 0, partition_error)
#define WRITE_TXN_MARKERS_RESP_MARKER(X, S)                                                        \
	X(S, I64, producer_id, 0, VMAX, NN, 0, _)                                                  \
	X(S, ARRS, topics, 0, VMAX, NN, 0, write_txn_markers_resp_topic)
#define WRITE_TXN_MARKERS_RESP(X, S)                                                               \
	X(S, ARRS, markers, 0, VMAX, NN, 0, write_txn_markers_resp_marker)
PGK_MESSAGE(write_txn_markers_req_topic, WRITE_TXN_MARKERS_REQ_TOPIC)
PGK_MESSAGE(write_txn_markers_req_marker, WRITE_TXN_MARKERS_REQ_MARKER)
PGK_MESSAGE(write_txn_markers_req, WRITE_TXN_MARKERS_REQ)
PGK_MESSAGE(write_txn_markers_resp_topic, WRITE_TXN_MARKERS_RESP_TOPIC)
PGK_MESSAGE(write_txn_markers_resp_marker, WRITE_TXN_MARKERS_RESP_MARKER)
PGK_MESSAGE(write_txn_markers_resp, WRITE_TXN_MARKERS_RESP)

/* ---- UpdateFeatures (57) ---- */
#define UPDATE_FEATURES_REQ_UPDATE(X, S)                                                           \
	X(S, STR, feature, 0, VMAX, NN, 0, _)                                                      \
	X(S, I16, max_version_level, 0, VMAX, NN, 0, _)                                            \
	X(S, BOOL, allow_downgrade, 0, 0, NN, 0, _)                                                \
	X(S, I8, upgrade_type, 1, VMAX, NN, 1, _)
#define UPDATE_FEATURES_REQ(X, S)                                                                  \
	X(S, I32, timeout_ms, 0, VMAX, NN, 60000, _)                                               \
	X(S, ARRS, feature_updates, 0, VMAX, NN, 0, update_features_req_update)                    \
	X(S, BOOL, validate_only, 1, VMAX, NN, 0, _)
#define UPDATE_FEATURES_RESP_RESULT(X, S)                                                          \
	X(S, STR, feature, 0, VMAX, NN, 0, _)                                                      \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)
#define UPDATE_FEATURES_RESP(X, S)                                                                 \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, results, 0, 1, NN, 0, update_features_resp_result)
PGK_MESSAGE(update_features_req_update, UPDATE_FEATURES_REQ_UPDATE)
PGK_MESSAGE(update_features_req, UPDATE_FEATURES_REQ)
PGK_MESSAGE(update_features_resp_result, UPDATE_FEATURES_RESP_RESULT)
PGK_MESSAGE(update_features_resp, UPDATE_FEATURES_RESP)

/* ---- DescribeClientQuotas (48), AlterClientQuotas (49): entity names
 * and matches are ids (idtext.h), so that a client-id entity is the request
 * header's client id, which is one too. ---- */
#define QUOTA_ENTITY(X, S)                                                                         \
	X(S, STR, entity_type, 0, VMAX, NN, 0, _)                                                  \
	X(S, ID, entity_name, 0, VMAX, 0, 0, _)
#define DESCRIBE_QUOTAS_REQ_COMPONENT(X, S)                                                        \
	X(S, STR, entity_type, 0, VMAX, NN, 0, _)                                                  \
	X(S, I8, match_type, 0, VMAX, NN, 0, _)                                                    \
	X(S, ID, match, 0, VMAX, 0, 0, _)
#define DESCRIBE_QUOTAS_REQ(X, S)                                                                  \
	X(S, ARRS, components, 0, VMAX, NN, 0, describe_quotas_req_component)                      \
	X(S, BOOL, strict, 0, VMAX, NN, 0, _)
#define DESCRIBE_QUOTAS_RESP_VALUE(X, S)                                                           \
	X(S, STR, key, 0, VMAX, NN, 0, _)                                                          \
	X(S, F64, value, 0, VMAX, NN, 0, _)
#define DESCRIBE_QUOTAS_RESP_ENTRY(X, S)                                                           \
	X(S, ARRS, entity, 0, VMAX, NN, 0, quota_entity)                                           \
	X(S, ARRS, values, 0, VMAX, NN, 0, describe_quotas_resp_value)
#define DESCRIBE_QUOTAS_RESP(X, S)                                                                 \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, entries, 0, VMAX, 0, 0, describe_quotas_resp_entry)
#define ALTER_QUOTAS_REQ_OP(X, S)                                                                  \
	X(S, STR, key, 0, VMAX, NN, 0, _)                                                          \
	X(S, F64, value, 0, VMAX, NN, 0, _)                                                        \
	X(S, BOOL, remove, 0, VMAX, NN, 0, _)
#define ALTER_QUOTAS_REQ_ENTRY(X, S)                                                               \
	X(S, ARRS, entity, 0, VMAX, NN, 0, quota_entity)                                           \
	X(S, ARRS, ops, 0, VMAX, NN, 0, alter_quotas_req_op)
#define ALTER_QUOTAS_REQ(X, S)                                                                     \
	X(S, ARRS, entries, 0, VMAX, NN, 0, alter_quotas_req_entry)                                \
	X(S, BOOL, validate_only, 0, VMAX, NN, 0, _)
#define ALTER_QUOTAS_RESP_ENTRY(X, S)                                                              \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, error_message, 0, VMAX, 0, 0, _)                                                 \
	X(S, ARRS, entity, 0, VMAX, NN, 0, quota_entity)
#define ALTER_QUOTAS_RESP(X, S)                                                                    \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, ARRS, entries, 0, VMAX, NN, 0, alter_quotas_resp_entry)
PGK_MESSAGE(quota_entity, QUOTA_ENTITY)
PGK_MESSAGE(describe_quotas_req_component, DESCRIBE_QUOTAS_REQ_COMPONENT)
PGK_MESSAGE(describe_quotas_req, DESCRIBE_QUOTAS_REQ)
PGK_MESSAGE(describe_quotas_resp_value, DESCRIBE_QUOTAS_RESP_VALUE)
PGK_MESSAGE(describe_quotas_resp_entry, DESCRIBE_QUOTAS_RESP_ENTRY)
PGK_MESSAGE(describe_quotas_resp, DESCRIBE_QUOTAS_RESP)
PGK_MESSAGE(alter_quotas_req_op, ALTER_QUOTAS_REQ_OP)
PGK_MESSAGE(alter_quotas_req_entry, ALTER_QUOTAS_REQ_ENTRY)
PGK_MESSAGE(alter_quotas_req, ALTER_QUOTAS_REQ)
PGK_MESSAGE(alter_quotas_resp_entry, ALTER_QUOTAS_RESP_ENTRY)
PGK_MESSAGE(alter_quotas_resp, ALTER_QUOTAS_RESP)

/* ---- Delegation tokens (38-41) ---- */
#define TOKEN_PRINCIPAL(X, S)                                                                      \
	X(S, STR, principal_type, 0, VMAX, NN, 0, _)                                               \
	X(S, STR, principal_name, 0, VMAX, NN, 0, _)
#define CREATE_TOKEN_REQ(X, S)                                                                     \
	X(S, STR, owner_principal_type, 3, VMAX, 3, 0, _)                                          \
	X(S, STR, owner_principal_name, 3, VMAX, 3, 0, _)                                          \
	X(S, ARRS, renewers, 0, VMAX, NN, 0, token_principal)                                      \
	X(S, I64, max_lifetime_ms, 0, VMAX, NN, 0, _)
#define CREATE_TOKEN_RESP(X, S)                                                                    \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, STR, principal_type, 0, VMAX, NN, 0, _)                                               \
	X(S, STR, principal_name, 0, VMAX, NN, 0, _)                                               \
	X(S, STR, token_requester_principal_type, 3, VMAX, NN, 0, _)                               \
	X(S, STR, token_requester_principal_name, 3, VMAX, NN, 0, _)                               \
	X(S, I64, issue_timestamp_ms, 0, VMAX, NN, 0, _)                                           \
	X(S, I64, expiry_timestamp_ms, 0, VMAX, NN, 0, _)                                          \
	X(S, I64, max_timestamp_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, STR, token_id, 0, VMAX, NN, 0, _)                                                     \
	X(S, BYTES, hmac, 0, VMAX, NN, 0, _)                                                       \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)
/* RenewDelegationToken and ExpireDelegationToken share their layout. */
#define RENEW_TOKEN_REQ(X, S)                                                                      \
	X(S, BYTES, hmac, 0, VMAX, NN, 0, _)                                                       \
	X(S, I64, renew_period_ms, 0, VMAX, NN, 0, _)
#define EXPIRE_TOKEN_REQ(X, S)                                                                     \
	X(S, BYTES, hmac, 0, VMAX, NN, 0, _)                                                       \
	X(S, I64, expiry_time_period_ms, 0, VMAX, NN, 0, _)
#define TOKEN_EXPIRY_RESP(X, S)                                                                    \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, I64, expiry_timestamp_ms, 0, VMAX, NN, 0, _)                                          \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)
#define DESCRIBE_TOKEN_REQ(X, S) X(S, ARRS, owners, 0, VMAX, 0, 0, token_principal)
#define DESCRIBE_TOKEN_RESP_TOKEN(X, S)                                                            \
	X(S, STR, principal_type, 0, VMAX, NN, 0, _)                                               \
	X(S, STR, principal_name, 0, VMAX, NN, 0, _)                                               \
	X(S, STR, token_requester_principal_type, 3, VMAX, NN, 0, _)                               \
	X(S, STR, token_requester_principal_name, 3, VMAX, NN, 0, _)                               \
	X(S, I64, issue_timestamp, 0, VMAX, NN, 0, _)                                              \
	X(S, I64, expiry_timestamp, 0, VMAX, NN, 0, _)                                             \
	X(S, I64, max_timestamp, 0, VMAX, NN, 0, _)                                                \
	X(S, STR, token_id, 0, VMAX, NN, 0, _)                                                     \
	X(S, BYTES, hmac, 0, VMAX, NN, 0, _)                                                       \
	X(S, ARRS, renewers, 0, VMAX, NN, 0, token_principal)
#define DESCRIBE_TOKEN_RESP(X, S)                                                                  \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, tokens, 0, VMAX, NN, 0, describe_token_resp_token)                              \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)
PGK_MESSAGE(token_principal, TOKEN_PRINCIPAL)
PGK_MESSAGE(create_token_req, CREATE_TOKEN_REQ)
PGK_MESSAGE(create_token_resp, CREATE_TOKEN_RESP)
PGK_MESSAGE(renew_token_req, RENEW_TOKEN_REQ)
PGK_MESSAGE(expire_token_req, EXPIRE_TOKEN_REQ)
PGK_MESSAGE(token_expiry_resp, TOKEN_EXPIRY_RESP)
PGK_MESSAGE(describe_token_req, DESCRIBE_TOKEN_REQ)
PGK_MESSAGE(describe_token_resp_token, DESCRIBE_TOKEN_RESP_TOKEN)
PGK_MESSAGE(describe_token_resp, DESCRIBE_TOKEN_RESP)

/* ---- ListClientMetricsResources (74) ---- */
/* The request has no fields; the codec wants one member, never present. */
#define LIST_CLIENT_METRICS_REQ(X, S) X(S, I8, none, 1, 0, NN, 0, _)
#define LIST_CLIENT_METRICS_RESP_RESOURCE(X, S) X(S, STR, name, 0, VMAX, NN, 0, _)
#define LIST_CLIENT_METRICS_RESP(X, S)                                                             \
	X(S, I32, throttle_time_ms, 0, VMAX, NN, 0, _)                                             \
	X(S, I16, error_code, 0, VMAX, NN, 0, _)                                                   \
	X(S, ARRS, client_metrics_resources, 0, VMAX, NN, 0, list_client_metrics_resp_resource)
PGK_MESSAGE(list_client_metrics_req, LIST_CLIENT_METRICS_REQ)
PGK_MESSAGE(list_client_metrics_resp_resource, LIST_CLIENT_METRICS_RESP_RESOURCE)
PGK_MESSAGE(list_client_metrics_resp, LIST_CLIENT_METRICS_RESP)

/* API keys, as in the Kafka protocol. */
enum api_key {
	API_PRODUCE = 0,
	API_FETCH = 1,
	API_LIST_OFFSETS = 2,
	API_METADATA = 3,
	API_DESCRIBE_CONFIGS = 32,
	API_DELETE_RECORDS = 21,
	API_ALTER_CONFIGS = 33,
	API_INCREMENTAL_ALTER_CONFIGS = 44,
	API_API_VERSIONS = 18,
	API_CREATE_TOPICS = 19,
	API_DELETE_TOPICS = 20,
	API_CREATE_PARTITIONS = 37,
	API_OFFSET_COMMIT = 8,
	API_OFFSET_FETCH = 9,
	API_FIND_COORDINATOR = 10,
	API_JOIN_GROUP = 11,
	API_HEARTBEAT = 12,
	API_LEAVE_GROUP = 13,
	API_SYNC_GROUP = 14,
	API_DESCRIBE_GROUPS = 15,
	API_LIST_GROUPS = 16,
	API_DELETE_GROUPS = 42,
	API_OFFSET_DELETE = 47,
	API_INIT_PRODUCER_ID = 22,
	API_ADD_PARTITIONS_TO_TXN = 24,
	API_ADD_OFFSETS_TO_TXN = 25,
	API_END_TXN = 26,
	API_TXN_OFFSET_COMMIT = 28,
	API_DESCRIBE_TRANSACTIONS = 65,
	API_LIST_TRANSACTIONS = 66,
	API_CONSUMER_GROUP_HEARTBEAT = 68,
	API_CONSUMER_GROUP_DESCRIBE = 69,
	API_SASL_HANDSHAKE = 17,
	API_SASL_AUTHENTICATE = 36,
	API_DESCRIBE_USER_SCRAM_CREDENTIALS = 50,
	API_ALTER_USER_SCRAM_CREDENTIALS = 51,
	API_DESCRIBE_ACLS = 29,
	API_CREATE_ACLS = 30,
	API_DELETE_ACLS = 31,

	/* Cluster, replica, quota, token and feature APIs. */
	API_OFFSET_FOR_LEADER_EPOCH = 23,
	API_WRITE_TXN_MARKERS = 27,
	API_ALTER_REPLICA_LOG_DIRS = 34,
	API_DESCRIBE_LOG_DIRS = 35,
	API_CREATE_DELEGATION_TOKEN = 38,
	API_RENEW_DELEGATION_TOKEN = 39,
	API_EXPIRE_DELEGATION_TOKEN = 40,
	API_DESCRIBE_DELEGATION_TOKEN = 41,
	API_ELECT_LEADERS = 43,
	API_ALTER_PARTITION_REASSIGNMENTS = 45,
	API_LIST_PARTITION_REASSIGNMENTS = 46,
	API_DESCRIBE_CLIENT_QUOTAS = 48,
	API_ALTER_CLIENT_QUOTAS = 49,
	API_UPDATE_FEATURES = 57,
	API_DESCRIBE_CLUSTER = 60,
	API_DESCRIBE_PRODUCERS = 61,
	API_LIST_CLIENT_METRICS_RESOURCES = 74,
	API_DESCRIBE_TOPIC_PARTITIONS = 75,
};

#endif
