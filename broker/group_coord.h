/*
 * The broker's group coordinator: coordinator.c on the broker's event loop,
 * with callbacks that answer the JoinGroup and SyncGroup requests it holds.
 * Used by the membership handlers (h_group.c) and, for the generation
 * checks of commits, by h_committed_offsets.c and h_txn.c.
 */
#ifndef PGK_GROUP_COORD_H
#define PGK_GROUP_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "arena.h"
#include "kbuf.h"
#include "request.h"

void group_coord_init(struct event_base *base);
/* Answers every held request (NOT_COORDINATOR), then forgets all groups;
 * runs before the pool's shutdown. */
void group_coord_shutdown(void);

/* Hold req (a JoinGroup or SyncGroup) until the coordinator answers it;
 * returns the waiter to hand to coord_join or coord_sync. */
void *group_coord_hold(request *req);
/* After coord_join or coord_sync: make sure held requests whose client
 * went away are answered soon. */
void group_coord_sweep_arm(void);

/*
 * ---- What keeps a group's committed offsets (offset_expiry.c) ----
 *
 * The offset expiry job asks here, for a group this broker coordinates,
 * whether it has members and which topics they subscribe to. The classic
 * coordinator (coordinator.c) answers today; another group protocol's
 * coordinator answers through these same two functions when it has the
 * group. A group no coordinator has in memory has no members.
 */
typedef struct group_liveness {
	bool in_memory; /* some coordinator has the group */
	bool has_members;
	bool topics_known; /* has_members: the members' subscriptions are known,
			    * and offsets of other topics may expire */
	int ntopics;
	kstr *topics; /* topics_known: every topic a member subscribes to */
	bool held;    /* released by group_liveness_release() */
} group_liveness;

/*
 * Fill *out for group_id (strings in a's memory). While the expiry's SQL
 * runs, a group in memory is held as a commit holds it: it hands out no
 * new generation, so no member can read offsets that are being deleted.
 * False when the group cannot be judged now (a rebalance is waiting for
 * earlier commits): leave it for the next pass. Release what was held.
 */
bool group_liveness_hold(kstr group_id, arena *a, group_liveness *out);
/* After the SQL: gone says the group lost its last offset and has no
 * members, so an Empty group in memory is forgotten too. */
void group_liveness_release(kstr group_id, const group_liveness *l, bool gone);

#endif
