/*
 * Leader hints (KIP-951): a Produce (v10+) or Fetch (v16+) answered
 * NOT_LEADER_OR_FOLLOWER names the partition's current leader and the
 * address of that broker on the listener the request came in on, so the
 * client moves without waiting for a metadata refresh.
 */
#ifndef PGK_LEADER_HINT_H
#define PGK_LEADER_HINT_H

#include <stdbool.h>
#include <stdint.h>

#include "request.h"

typedef struct leader_endpoint {
	int32_t node_id;
	kstr host;
	int32_t port;
	kstr rack; /* null: none */
} leader_endpoint;

/*
 * The partition's leader and leader epoch, and its endpoint for req's
 * listener. False when the cluster knows no leader for it or no address
 * of that broker on this listener: the answer then carries no hint.
 */
bool leader_hint(const request *req, kstr topic, int32_t partition, int32_t *leader,
		 int32_t *epoch, leader_endpoint *endpoint);

/* Adds e to the n endpoints in list unless its node is there already. */
void leader_endpoint_add(leader_endpoint *list, int32_t *n, const leader_endpoint *e);

#endif
