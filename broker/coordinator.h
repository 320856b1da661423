/*
 * The group coordinator: Kafka's classic group membership protocol as a
 * state machine over groups and their members, kept in broker memory.
 *
 * A group moves Empty -> PreparingRebalance -> CompletingRebalance -> Stable,
 * and back to PreparingRebalance whenever its membership changes, exactly as
 * in Kafka. The coordinator never computes an assignment: it relays the
 * members' protocols to the leader member (JoinGroup), which runs whatever
 * assignor the members chose, and relays the leader's assignment to every
 * member (SyncGroup).
 *
 * This module is pure logic: no sockets, no SQL, no wire encoding. Requests
 * come in as plain structs. Answers that must wait (a JoinGroup until the
 * rebalance completes, a SyncGroup until the leader's assignment arrives)
 * are delivered later through the callbacks given to coord_init(), tagged
 * with the caller's opaque waiter pointer; every waiter handed to
 * coord_join() or coord_sync() gets exactly one callback, possibly before
 * that call returns, unless the caller withdraws it with coord_cancel().
 *
 * Timers (session expiry, the join and sync deadlines, the initial
 * rebalance delay) are libevent timers. Without an event base they are
 * plain deadlines that coord_advance() fires on a clock the caller sets,
 * which is how tests/test_coordinator.c drives the state machine.
 *
 * Committed offsets are not kept here: they live in PostgreSQL (h_group.c).
 * The coordinator only says whether a member may commit.
 */
#ifndef PGK_COORDINATOR_H
#define PGK_COORDINATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"
#include "kerr.h"

struct event_base;

typedef enum group_state {
	GROUP_EMPTY,
	GROUP_PREPARING_REBALANCE,
	GROUP_COMPLETING_REBALANCE,
	GROUP_STABLE,
	GROUP_DEAD,
} group_state;

/* "Empty", "PreparingRebalance", ... as Kafka names them. */
const char *group_state_name(group_state s);

typedef struct coord_options {
	int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
	int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms */
	int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms */
	int32_t new_member_join_timeout_ms; /* a new member's JoinGroup is held at most this long */
	int32_t empty_group_retention_ms;   /* an Empty group is forgotten after this long */
} coord_options;

/* Kafka's defaults, and a short initial rebalance delay. */
#define COORD_DEFAULT_OPTIONS                                                                      \
	{                                                                                          \
		100, 6000, 1800000, 300000, 600000                                                 \
	}

/* ---- JoinGroup ---- */

typedef struct coord_protocol {
	kstr name;
	kstr metadata;
} coord_protocol;

typedef struct coord_join_req {
	kstr group_id;
	kstr member_id;         /* "" for a member that does not have one yet */
	kstr group_instance_id; /* null for dynamic members (and before v5) */
	kstr client_id;
	kstr client_host;
	kstr protocol_type;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	const coord_protocol *protocols;
	int nprotocols;
	bool require_known_member_id;  /* JoinGroup v4+: MEMBER_ID_REQUIRED first */
	bool supports_skip_assignment; /* JoinGroup v9+ */
} coord_join_req;

typedef struct coord_member_meta {
	kstr member_id;
	kstr group_instance_id;
	kstr metadata;
} coord_member_meta;

/* Everything in a result points into coordinator memory that stays valid
 * only while the callback runs. */
typedef struct coord_join_result {
	int16_t error_code;
	int32_t generation_id;
	kstr protocol_type; /* null when unknown */
	kstr protocol_name; /* null when unknown */
	kstr leader;
	kstr member_id;
	bool skip_assignment;
	int nmembers; /* the leader gets every member's metadata */
	const coord_member_meta *members;
} coord_join_result;

/* ---- SyncGroup ---- */

typedef struct coord_assignment {
	kstr member_id;
	kstr assignment;
} coord_assignment;

typedef struct coord_sync_req {
	kstr group_id;
	kstr member_id;
	kstr group_instance_id;
	kstr protocol_type; /* null before v5 */
	kstr protocol_name;
	int32_t generation_id;
	const coord_assignment *assignments; /* the leader's; ignored from others */
	int nassignments;
} coord_sync_req;

typedef struct coord_sync_result {
	int16_t error_code;
	kstr protocol_type;
	kstr protocol_name;
	kstr assignment;
} coord_sync_result;

typedef void (*coord_join_fn)(void *waiter, const coord_join_result *r);
typedef void (*coord_sync_fn)(void *waiter, const coord_sync_result *r);

/*
 * Start the coordinator. base == NULL: no libevent; timers fire only from
 * coord_advance(), and time starts at 0. Calling it again after
 * coord_shutdown() starts over.
 */
void coord_init(struct event_base *base, const coord_options *opt, coord_join_fn on_join,
		coord_sync_fn on_sync);
/* Answer every waiting JoinGroup and SyncGroup with NOT_COORDINATOR, then
 * forget every group. */
void coord_shutdown(void);

/* Tests: move the clock to now_ms and fire every timer due by then. */
void coord_advance(int64_t now_ms);
/* The coordinator's clock (monotonic milliseconds). */
int64_t coord_now(void);

void coord_join(const coord_join_req *r, void *waiter);
void coord_sync(const coord_sync_req *r, void *waiter);
/* The waiter's connection went away: it gets no callback. The member keeps
 * its place, as in Kafka (its session timeout decides). */
void coord_cancel(void *waiter);

int16_t coord_heartbeat(kstr group_id, kstr member_id, kstr group_instance_id,
			int32_t generation_id);

typedef struct coord_leave_member {
	kstr member_id;         /* "" to name a static member by instance id */
	kstr group_instance_id; /* null for dynamic members */
	int16_t error_code;     /* out */
} coord_leave_member;

/* LeaveGroup: returns the group-level error; sets each member's. */
int16_t coord_leave(kstr group_id, coord_leave_member *members, int n);

/*
 * OffsetCommit: may this caller commit offsets for the group now? A commit
 * with generation -1 and no member id is a "simple" commit, allowed while
 * the group has no members (it creates the group if needed).
 */
int16_t coord_commit_check(kstr group_id, kstr member_id, kstr group_instance_id,
			   int32_t generation_id);

/*
 * A commit that passed its check is about to be written: until
 * coord_commit_release() says the write finished (committed or failed), the
 * group hands out no new generation and is not forgotten, so the commit
 * cannot land after its member was replaced. *held says whether the group
 * was held (it is not when not in memory); release exactly once per hold,
 * with the same group id, when the write is over. Returns
 * REBALANCE_IN_PROGRESS (COORDINATOR_LOAD_IN_PROGRESS for a transactional
 * commit) when a new generation is already waiting for earlier commits; the
 * caller then writes nothing. A group not in memory is not held (NONE).
 */
int16_t coord_commit_hold(kstr group_id, bool transactional, bool *held);
void coord_commit_release(kstr group_id);

/* ---- DescribeGroups, ListGroups, DeleteGroups, OffsetDelete ---- */

typedef struct coord_member_info {
	kstr member_id;
	kstr group_instance_id;
	kstr client_id;
	kstr client_host;
	kstr metadata;   /* Stable groups only */
	kstr assignment; /* Stable groups only */
} coord_member_info;

typedef struct coord_group_info {
	kstr group_id;
	group_state state;
	kstr protocol_type; /* "" when none */
	kstr protocol_data; /* the selected protocol, Stable groups only */
	int32_t generation_id;
	kstr leader;  /* "" when none */
	int nmembers; /* in join order */
	coord_member_info *members;
} coord_group_info;

/* Copy what Kafka's DescribeGroups shows into a's memory. False if the
 * group is not in memory. */
bool coord_describe(kstr group_id, arena *a, coord_group_info *out);
/* Every group in memory (members left out), in a's memory. */
int coord_list(arena *a, coord_group_info **out);

/* DeleteGroups: NON_EMPTY_GROUP if the group has members, else NONE (the
 * group is forgotten); *known tells whether it was in memory. */
int16_t coord_delete(kstr group_id, bool *known);

typedef enum coord_offsets_use {
	COORD_OFFSETS_FREE,      /* not in memory, or Empty: any offset may go */
	COORD_OFFSETS_CONSUMER,  /* active consumer group: not its subscribed topics */
	COORD_OFFSETS_NON_EMPTY, /* active group of another protocol type */
} coord_offsets_use;

/* OffsetDelete: how the group uses its offsets; *known as above. */
coord_offsets_use coord_offsets_in_use(kstr group_id, bool *known);
/* True if a member of the group subscribes to the topic (consumer
 * protocol), or its subscriptions cannot be read. */
bool coord_subscribed(kstr group_id, kstr topic);

/* ---- Offset expiry (offset_expiry.c, through group_coord.c) ---- */

/* What the members of a group in memory say about its committed offsets. */
typedef struct coord_offsets_keep {
	bool has_members;  /* not Empty */
	bool topics_known; /* Stable consumer group whose subscriptions all read */
	int ntopics;       /* topics_known: the union of the subscriptions */
	kstr *topics;      /* in a's memory */
} coord_offsets_keep;

/* False if the group is not in memory (it has no members then). */
bool coord_offsets_keep_of(kstr group_id, arena *a, coord_offsets_keep *out);
/* Expiry removed the group's last offset: forget it if it is Empty, has
 * no commit in flight and no member id handed out (Kafka marks it Dead). */
void coord_offsets_gone(kstr group_id);

/* Called when a group gets its first member (true) or loses its last
 * (false), with the wall-clock time (the manual clock without an event
 * base), so that "empty since" can be stored. Set after coord_init();
 * coord_shutdown() clears it (forgetting groups is not a change). */
typedef void (*coord_membership_fn)(kstr group_id, bool has_members, int64_t at_ms);
void coord_set_membership_hook(coord_membership_fn fn);

#endif
