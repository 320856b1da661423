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

#endif
