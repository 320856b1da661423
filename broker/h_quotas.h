/*
 * Client quotas in the broker (h_quotas.c): the copy of kafka.client_quotas
 * that quotas.c enforces, and the throttle of Produce and Fetch answers.
 */
#ifndef PGK_H_QUOTAS_H
#define PGK_H_QUOTAS_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* How often each broker reads kafka.client_quotas again. */
#define QUOTA_POLL_MS 2000

void quotas_start(struct event_base *base);
void quotas_stop(void);
/* Read the quotas again soon (after this broker changed them). */
void quotas_reload(void);

/* Record a Produce request's bytes for its client and set its answer's
 * throttle_time_ms; before the answer is encoded. Returns the throttle
 * time (0: none). */
int32_t quota_throttle_produce(request *req);
/* Record an encoded Fetch answer's bytes; over the quota, take them back
 * and replace the answer with an empty one carrying the throttle time, as
 * Kafka does. Returns the throttle time (0: none). */
int32_t quota_throttle_fetch(request *req);
/* The most a consumer's Fetch may return: what its consumer_byte_rate
 * allows over the quota window with nothing else recorded (Kafka caps
 * fetch max_bytes so, since a larger answer would always be throttled);
 * SIZE_MAX without a quota, and for a follower's fetch. */
size_t quota_fetch_max_bytes(const request *req);

#endif
