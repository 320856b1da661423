/*
 * Cluster membership: this broker's registration and lease in PostgreSQL,
 * the live brokers, partition leadership and coordinator placement, as every
 * broker of one database sees them (kafka.brokers, kafka.partition_leaders;
 * docs/OPERATIONS.md, "Running a cluster").
 *
 * A broker given a node.id registers; one without runs standalone, as the
 * only broker, leader of every partition and coordinator of everything.
 */
#ifndef PGK_CLUSTER_H
#define PGK_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "kbuf.h"
#include "listeners.h"

typedef struct cluster_broker {
	int32_t node_id;
	char *rack;              /* NULL: none */
	listener_cfg *listeners; /* advertised endpoints in host/port */
	int nlisteners;
} cluster_broker;

/* Registers (when a node.id was given) and calls ready() once the lease is
 * held, or at once when standalone; fatal() if the node id is held by
 * another live broker. */
void cluster_start(struct event_base *base, void (*ready)(void), void (*fatal)(void));
/* Shutting down: give the lease back (kafka.broker_leave), so that
 * leadership moves at once. */
void cluster_leave(void);
/* Whether a statement of the cluster is still running (shutdown waits). */
bool cluster_busy(void);
void cluster_stop(void);

/* Whether this broker is a registered member (not standalone). */
bool cluster_enabled(void);
/* False while the lease could not be renewed in time: serve nothing. */
bool cluster_serving(void);

/* The live brokers, in leadership order; standalone: none (n = 0). */
int cluster_live_brokers(const cluster_broker **out);
/* The controller: the live broker with the lowest node id (this broker
 * when standalone). */
int32_t cluster_controller_id(void);
/* Whether cluster-wide background jobs (transaction timeouts, expiry) run
 * here: standalone, or this broker is the controller. */
bool cluster_runs_background_jobs(void);

/* The endpoint of a live broker on the listener named like l (its security
 * protocol); false if it has none. */
bool cluster_broker_endpoint(const cluster_broker *b, const listener_cfg *l, const char **host,
			     int *port);
const cluster_broker *cluster_broker_by_id(int32_t node_id);

/* The leader and leader epoch of a partition; false if the partition has no
 * leader yet (created since the last look: a refresh is started). */
bool cluster_partition_leader(kstr topic, int32_t partition, int32_t *leader, int32_t *epoch);
/*
 * KERR_NONE if this broker may serve the partition for a client that knows
 * current_leader_epoch (-1: none), else NOT_LEADER_OR_FOLLOWER,
 * FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH, as Kafka's leader checks
 * (standalone: every partition is led here, at the epoch kafka.partition_epochs
 * holds, 0 without history). A partition
 * without a known leader is served (the statement decides).
 */
int16_t cluster_check_leader(kstr topic, int32_t partition, int32_t current_leader_epoch);
/* The node id owning a group or transactional id among the live brokers. */
int32_t cluster_coordinator_for(kstr key);
/* Whether this broker coordinates key (always when standalone). */
bool cluster_is_coordinator(kstr key);

/* Pure placement of a coordinator key over n brokers (for the tests): the
 * index of its owner, as Kafka hashes a key to one of 50 partitions of
 * __consumer_offsets and those partitions to brokers. */
int cluster_coordinator_index(kstr key, int n);

#endif
