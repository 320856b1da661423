/*
 * The broker's consumer groups of the KIP-848 protocol: the state machine of
 * cgroup.h on the broker's event loop, fed with the topics PostgreSQL has,
 * woken by a libevent timer at its deadlines, and kept in PostgreSQL
 * (kafka.consumer_groups, kafka.consumer_group_members).
 *
 * A group is loaded from PostgreSQL the first time a request needs it after
 * this broker became its coordinator (at start, or when ownership moved
 * here); a heartbeat that changed a group is answered only once the group
 * is written. Writes and loads share one lane of the pool, so they reach
 * PostgreSQL in the order the state changed. Used by h_consumer_group.c,
 * and by the classic group, offset and transaction handlers for their
 * checks on consumer groups.
 */
#ifndef PGK_CONSUMER_GROUPS_H
#define PGK_CONSUMER_GROUPS_H

#include <stdint.h>

#include <event2/event.h>

#include "cgroup.h"
#include "request.h"

void cgroups_init(struct event_base *base);
void cgroups_shutdown(void);

/* The state machine, and the clock its calls take. */
cg_coord *cgroups(void);
int64_t cgroups_now(void);

/* err is KERR_NONE or the coordinator error of a failed statement. */
typedef void (*cgroups_done_fn)(void *arg, int16_t err);

/*
 * Before the state machine is asked about group_ids[0..n-1]: load every one
 * of those groups that this broker coordinates and has not loaded since it
 * became its coordinator, and, when topics is true (or a group is loaded
 * and the topics were never read), refresh the topic image if it is older
 * than CGROUPS_TOPICS_MAX_AGE_MS. done runs when that is done, possibly
 * before this returns.
 */
#define CGROUPS_TOPICS_MAX_AGE_MS 1000
void cgroups_prepare(request *req, const kstr *group_ids, int n, bool topics, cgroups_done_fn done,
		     void *arg);

/*
 * After calls that may have changed groups: write every changed group this
 * broker coordinates (a deleted one is deleted), then done. Re-arms the
 * deadline timer. done may run before this returns (nothing to write).
 */
void cgroups_persist(cgroups_done_fn done, void *arg);

/* A heartbeat subscribes to these topics: if one is not in the topic image,
 * the next cgroups_prepare() with topics reads the topics again (a topic
 * created since is seen at once, as Kafka's coordinator sees it). */
void cgroups_want_topics(const kstr *names, int n);

#endif
