/*
 * Consumer groups of Kafka's consumer protocol (KIP-848): the server side of
 * ConsumerGroupHeartbeat and ConsumerGroupDescribe as a state machine.
 *
 * A group has a group epoch, bumped whenever what the assignment depends on
 * changes (a member joins or leaves, a subscription or the chosen assignor
 * changes, the partition count of a subscribed topic changes, a subscribed
 * topic is created or deleted), and a target assignment computed by a server
 * assignor ("uniform" or "range") for that epoch (the assignment epoch).
 * Each member converges on its target by itself, one heartbeat at a time:
 *
 *   STABLE --target moved--> UNREVOKED_PARTITIONS --client dropped them-->
 *   UNRELEASED_PARTITIONS --previous owners dropped theirs--> STABLE
 *
 * A member first gives up what its target took away (the response carries
 * the reduced assignment, its epoch stays); once its heartbeat no longer
 * reports those partitions it moves to the assignment epoch and receives
 * the new partitions, but only those no other member still holds (assigned
 * or pending revocation). The group is Empty (no members), Assigning
 * (group epoch ahead of the assignment epoch), Reconciling (some member not
 * yet STABLE at the assignment epoch) or Stable. The target is computed in
 * the call that bumps the epoch (Kafka does it on the next heartbeat, with
 * the same result), so Assigning is not seen between calls.
 *
 * Left out: rack-aware assignment (rack ids are kept and shown, not used),
 * per-group overrides of the session timeout and heartbeat interval
 * (dynamic group configs), and members of the classic protocol inside a
 * consumer group (online upgrade/downgrade).
 *
 * Pure logic, like coordinator.c: no sockets, no SQL, no wire encoding. The
 * caller passes the clock (now_ms, any monotonic milliseconds) into every
 * call, asks cg_next_deadline() when to wake up and calls cg_fire_due() then
 * (session and rebalance timeouts). Topic metadata comes from the caller
 * through cg_set_topics(). Persistent state goes out through cg_export()
 * and comes back through cg_restore(); cg_take_changed() says which groups
 * to write.
 *
 * Regular expressions (subscribedTopicRegex): Kafka uses RE2/J; here they are
 * POSIX extended expressions (regcomp REG_EXTENDED), matched against the
 * whole topic name as Kafka's matches() does. What differs from RE2: no
 * \d \w \s classes (use [0-9], [[:alnum:]_], [[:space:]]), no non-greedy
 * or possessive quantifiers, no (?i) flags, no named or non-capturing groups
 * ((?:...)), and \Q...\E is not understood; an expression regcomp refuses is
 * INVALID_REGULAR_EXPRESSION. Internal topics (cg_topic.internal, and the
 * names __consumer_offsets, __transaction_state, __share_group_state) never
 * match a regex, as in Kafka; they can still be subscribed by name.
 *
 * Ownership: strings and arrays in requests are borrowed for the call;
 * everything in an output lives in the arena the caller passes in.
 */
#ifndef PGK_CGROUP_H
#define PGK_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"
#include "kerr.h"

typedef struct cg_coord cg_coord;

/* member_epoch values with a meaning of their own in a heartbeat. */
#define CG_JOIN_EPOCH 0
#define CG_LEAVE_EPOCH (-1)
#define CG_STATIC_LEAVE_EPOCH (-2)

typedef enum cg_group_state {
	CG_EMPTY,
	CG_ASSIGNING,
	CG_RECONCILING,
	CG_STABLE,
	CG_DEAD,
} cg_group_state;

/* "Empty", "Assigning", "Reconciling", "Stable", "Dead": Kafka's spelling,
 * as ConsumerGroupDescribe and ListGroups report it. */
const char *cg_group_state_name(cg_group_state s);
/* "empty", "assigning", ... as ListGroups v5 filters are matched
 * (case-insensitively); returns false for an unknown name. */
bool cg_group_state_parse(kstr name, cg_group_state *out);

/* A member's reconciliation state (Kafka's MemberState). */
typedef enum cg_member_state {
	CG_MEMBER_STABLE = 0,
	CG_MEMBER_UNREVOKED_PARTITIONS = 1,
	CG_MEMBER_UNRELEASED_PARTITIONS = 2,
} cg_member_state;

const char *cg_member_state_name(cg_member_state s); /* "stable", ... */

typedef struct cg_options {
	int32_t session_timeout_ms;    /* group.consumer.session.timeout.ms, 45000 */
	int32_t heartbeat_interval_ms; /* group.consumer.heartbeat.interval.ms, 5000 */
	int32_t max_size;              /* group.consumer.max.size, INT32_MAX */
	const char *default_assignor;  /* first of group.consumer.assignors: "uniform" */
	/* A regex subscription resolves only to topics this allows for the
	 * member's principal and client host (the broker: DESCRIBE, as Kafka
	 * filters a regex's topics by the member's authorization); NULL, and
	 * for a member no heartbeat has given a principal yet: every topic. */
	bool (*topic_visible)(void *arg, kstr principal, kstr client_host, kstr topic);
	void *topic_visible_arg;
} cg_options;

#define CG_DEFAULT_OPTIONS                                                                         \
	{                                                                                          \
		45000, 5000, INT32_MAX, "uniform", NULL, NULL                                      \
	}

/* options == NULL: CG_DEFAULT_OPTIONS. NULL if default_assignor is neither
 * "uniform" nor "range". */
cg_coord *cg_new(const cg_options *options);
void cg_free(cg_coord *c);

/* True for "uniform" and "range". */
bool cg_assignor_known(kstr name);

/* ---- topic metadata ---- */

typedef struct cg_topic {
	kstr name;
	uint8_t id[16];     /* topic id (uuid) */
	int32_t partitions; /* partition count */
	bool internal;      /* never matched by a regex subscription */
} cg_topic;

/*
 * The whole topic image, replacing the previous one (copied). Every group
 * whose subscribed topics changed (created, deleted, partition count, id)
 * bumps its group epoch and gets a new target assignment at once; members
 * pick it up on their next heartbeat. Regex subscriptions are resolved
 * against it.
 */
void cg_set_topics(cg_coord *c, const cg_topic *topics, int ntopics, int64_t now_ms);

/* ---- ConsumerGroupHeartbeat ---- */

/* Partitions of one topic. In requests topic_name is ignored; in outputs it
 * is filled from the topic image ("" if the topic is gone). Partitions are
 * ascending in outputs. */
typedef struct cg_tps {
	uint8_t topic_id[16];
	kstr topic_name;
	const int32_t *partitions;
	int npartitions;
} cg_tps;

typedef struct cg_heartbeat_req {
	int16_t api_version; /* ConsumerGroupHeartbeat version: 0 or 1 */
	kstr group_id;
	kstr member_id;               /* v1: client-generated; v0: "" when joining */
	kstr generated_member_id;     /* v0 joining with "": the id to give it (a fresh uuid) */
	int32_t member_epoch;         /* 0 join, -1 leave, -2 static leave, else current */
	kstr instance_id;             /* null: dynamic member */
	kstr rack_id;                 /* null: unchanged */
	int32_t rebalance_timeout_ms; /* -1: unchanged */
	const kstr *subscribed_topic_names;
	int nsubscribed_topic_names; /* -1: null (unchanged) */
	kstr subscribed_topic_regex; /* null: unchanged; "" clears it */
	kstr server_assignor;        /* null: unchanged */
	const cg_tps *topic_partitions;
	int ntopic_partitions; /* -1: null (unchanged) */
	kstr client_id;        /* from the request header */
	kstr client_host;      /* the peer's address, as "/1.2.3.4" */
	kstr principal;        /* "User:alice"; null: unknown (no filter, cg_options) */
} cg_heartbeat_req;

typedef struct cg_heartbeat_resp {
	int16_t error_code;
	const char *error_message; /* static text, NULL when none */
	kstr member_id;            /* null on error */
	int32_t member_epoch;
	int32_t heartbeat_interval_ms; /* 0 on errors and leaves, as in Kafka */
	bool has_assignment;           /* false: the Assignment field is null */
	cg_tps *assignment;            /* the member's assigned partitions */
	int nassignment;
} cg_heartbeat_resp;

/*
 * One ConsumerGroupHeartbeat. Errors as Kafka 4.x gives them:
 * INVALID_REQUEST (field combinations Kafka rejects), UNSUPPORTED_ASSIGNOR,
 * INVALID_REGULAR_EXPRESSION, UNKNOWN_MEMBER_ID (unknown member, or no such
 * group for a heartbeat with an epoch > 0), GROUP_ID_NOT_FOUND (a leave, -1
 * or -2, for a group that does not exist), FENCED_MEMBER_EPOCH,
 * GROUP_MAX_SIZE_REACHED, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID.
 * A leave answers member_epoch -1 or -2 and no assignment. A join (epoch 0)
 * creates the group. Whether the id belongs to a classic group is the
 * caller's business (Kafka answers GROUP_ID_NOT_FOUND for a non-empty
 * classic group). Returns out->error_code; error_message is Kafka's text
 * where it has one.
 */
int16_t cg_heartbeat(cg_coord *c, const cg_heartbeat_req *r, int64_t now_ms, arena *a,
		     cg_heartbeat_resp *out);

/* ---- deadlines ---- */

/* When cg_fire_due() next has something to do; INT64_MAX when never. */
int64_t cg_next_deadline(const cg_coord *c);
/* Expire every session and rebalance timeout due by now_ms: the member is
 * removed and its group's epoch bumped. */
void cg_fire_due(cg_coord *c, int64_t now_ms);

/* ---- ConsumerGroupDescribe, ListGroups, DeleteGroups ---- */

typedef struct cg_member_desc {
	kstr member_id;
	kstr instance_id; /* null */
	kstr rack_id;     /* null */
	int32_t member_epoch;
	int32_t previous_member_epoch;
	cg_member_state state;
	kstr client_id;
	kstr client_host;
	kstr *subscribed_topic_names;
	int nsubscribed_topic_names;
	kstr subscribed_topic_regex; /* null */
	kstr server_assignor;        /* null */
	int32_t rebalance_timeout_ms;
	cg_tps *assignment; /* current */
	int nassignment;
	cg_tps *pending_revocation;
	int npending_revocation;
	cg_tps *target_assignment;
	int ntarget_assignment;
} cg_member_desc;

typedef struct cg_group_desc {
	kstr group_id;
	cg_group_state state;
	const char *state_name; /* cg_group_state_name(state) */
	int32_t group_epoch;
	int32_t assignment_epoch;
	const char *assignor_name; /* the assignor the group uses now */
	uint64_t metadata_hash;    /* of the subscribed topics' metadata */
	cg_member_desc *members;   /* sorted by member id */
	int nmembers;
} cg_group_desc;

/* Everything ConsumerGroupDescribe shows, copied into a. False if there is
 * no such consumer group. */
bool cg_describe(cg_coord *c, kstr group_id, arena *a, cg_group_desc *out);

typedef struct cg_group_brief {
	kstr group_id;
	cg_group_state state;
} cg_group_brief;

/* Every consumer group, sorted by id. */
int cg_list(cg_coord *c, arena *a, cg_group_brief **out);
/* Does a consumer group of that id exist? */
bool cg_exists(const cg_coord *c, kstr group_id);
/* No members (true also when the group does not exist). */
bool cg_is_empty(const cg_coord *c, kstr group_id);
/* CG_DEAD when the group does not exist. */
cg_group_state cg_state(const cg_coord *c, kstr group_id);
/* Does a member of the group subscribe to the topic (by name or regex)? */
bool cg_subscribed(const cg_coord *c, kstr group_id, kstr topic);
/* DeleteGroups: NON_EMPTY_GROUP if it has members, GROUP_ID_NOT_FOUND if
 * unknown, else NONE and the group is gone. */
int16_t cg_delete(cg_coord *c, kstr group_id);
/* Drop the group from memory without recording a change (nothing is to be
 * written): the stored state is the truth, e.g. a coordinator that finds
 * no stored row for a group it still has from an earlier coordinatorship
 * (another broker deleted it meanwhile). */
void cg_forget(cg_coord *c, kstr group_id);

/* ---- OffsetCommit, TxnOffsetCommit, OffsetFetch ---- */

/*
 * May this member commit (ConsumerGroup.validateOffsetCommit)? NONE when
 * member_epoch < 0 and the group has no members; UNKNOWN_MEMBER_ID;
 * UNSUPPORTED_VERSION for a non-transactional OffsetCommit below v9;
 * STALE_MEMBER_EPOCH when the epoch is not the member's. *known is false
 * (and NONE returned) when no consumer group has that id: the caller then
 * applies its classic-group rules.
 */
int16_t cg_commit_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
			bool transactional, int16_t api_version, bool *known);
/* OffsetFetch v9+ (validateOffsetFetch): NONE for a null member id with a
 * negative epoch; else UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH. *known as
 * above. */
int16_t cg_fetch_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
		       bool *known);

/* ---- persistence ---- */

/* A group's persistent state: cg_export() fills it, cg_restore() takes it
 * back. A member's subscribed names are null when nsubscribed is -1. */
typedef struct cg_member_record {
	kstr member_id;
	kstr instance_id;
	kstr rack_id;
	kstr client_id;
	kstr client_host;
	const kstr *subscribed_topic_names;
	int nsubscribed_topic_names;
	kstr subscribed_topic_regex;
	kstr server_assignor;
	int32_t rebalance_timeout_ms;
	int32_t member_epoch;
	int32_t previous_member_epoch;
	cg_member_state state;
	const cg_tps *assigned;
	int nassigned;
	const cg_tps *pending_revocation;
	int npending_revocation;
	const cg_tps *target; /* the member's part of the target assignment */
	int ntarget;
} cg_member_record;

typedef struct cg_group_record {
	kstr group_id;
	int32_t group_epoch;
	int32_t assignment_epoch;
	uint64_t metadata_hash; /* cg_group_desc.metadata_hash when exported */
	const cg_member_record *members;
	int nmembers;
} cg_group_record;

/* The group's persistent state, copied into a. False if no such group. */
bool cg_export(cg_coord *c, kstr group_id, arena *a, cg_group_record *out);
/*
 * Rebuild a group (replacing any of that id) from a record, e.g. after a
 * restart. Session timeouts start over at now_ms; members pending
 * revocation get their rebalance timeout again. If the subscribed topics'
 * metadata no longer hashes to metadata_hash (set the topics first), the
 * group epoch is bumped and a new target computed. INVALID_REQUEST if the
 * record is inconsistent (empty or duplicate member ids, unknown assignor,
 * negative epochs other than a static member's -2).
 */
int16_t cg_restore(cg_coord *c, const cg_group_record *g, int64_t now_ms);

/*
 * The ids of the groups whose persistent state changed since the last call
 * (deleted groups included: cg_export() is false for them), copied into a;
 * the set is cleared. Heartbeats that change nothing persistent (a plain
 * heartbeat of a stable member) leave a group out.
 */
int cg_take_changed(cg_coord *c, arena *a, kstr **group_ids);

#endif
