/*
 * What the forwarder's files share: the checkpoint topic
 * (per partition: last forwarded local offset and its external offset),
 * and the cutover command.
 */
#ifndef SHADOW_SHADOW_H
#define SHADOW_SHADOW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* One checkpoint entry: key "topic/partition" (the slot prefix removed). */
typedef struct cpent {
	char *key;
	int64_t local, ext;
} cpent;

/* A librdkafka configuration: for a producer, the forwarder's defaults
 * (idempotence, acks=all, no message timeout), then the user's properties
 * and bootstrap. */
rd_kafka_conf_t *shadow_kafka_conf(bool producer);

/* Kafka wire-encoded record headers as librdkafka headers (NULL if none). */
rd_kafka_headers_t *shadow_headers(const unsigned char *h, int32_t len);

/* Read the checkpoint topic to its end (last entry per key wins); entries
 * of other slots are skipped. rk answers the watermark query. Retries while
 * the cluster is down, until *stop or 60 s. */
int checkpoint_load(rd_kafka_t *rk, cpent **out, int *n, volatile sig_atomic_t *stop);
void checkpoint_free(cpent *cps, int n);
const cpent *checkpoint_find(const cpent *cps, int n, const char *topic, int32_t partition);

/* --cutover / --cutover-status: 0 ready (and committed), 3 not ready, 1 error. */
int cutover_run(const char *group, bool commit);

/* --replay TOPIC: copy stored history to the external cluster, then exit. */
int replay_run(const char *topic, const char *from);

/* The Prometheus endpoint (metrics.c); the text comes from shadow.c. */
struct evbuffer;
int metrics_start(const char *listen);
void metrics_poll(void);
void metrics_stop(void);
void shadow_metrics_text(struct evbuffer *out);

#endif
