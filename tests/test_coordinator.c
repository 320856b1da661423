/*
 * Unit tests for the group coordinator's state machine (coordinator.c),
 * driven without libevent: coord_init(NULL, ...) makes every timer a
 * deadline that fires from coord_advance() on a clock the test moves.
 * Held JoinGroup and SyncGroup answers land in "waiter" records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coordinator.h"
#include "kerr.h"

#define SESSION_MS 10000
#define REBALANCE_MS 30000
#define DELAY_MS 100
#define GROUP "g"

/* What a held request was answered with. */
typedef struct waiter {
	int join_calls, sync_calls;
	int16_t error;
	int32_t generation;
	char member_id[128];
	char leader[128];
	char protocol[32];
	bool protocol_null;
	bool skip;
	int nmembers;
	char members[8][128];
	char assignment[64];
} waiter;

static int64_t now;

static void copy(char *dst, size_t size, kstr s);
static void on_join(void *w, const coord_join_result *r);
static void on_sync(void *w, const coord_sync_result *r);
static void advance(int64_t ms);
static void join_as(waiter *w, const char *group, const char *member, const char *instance,
		    const coord_protocol *p, int n, int version, int32_t session,
		    int32_t rebalance);
static void join(waiter *w, const char *member, int version);
static void sync_as(waiter *w, const char *member, int32_t generation, const char *instance,
		    int nassign, const coord_assignment *a);
static void sync_(waiter *w, const char *member, int32_t generation);
static int16_t hb(const char *member, int32_t generation);
static void member(char *id, size_t size);
static group_state state(void);
static int32_t generation(void);

static const coord_protocol RANGE[] = {{KSTR_LIT("range"), KSTR_LIT("meta")}};

static void copy(char *dst, size_t size, kstr s)
{
	size_t n = s.len > 0 ? (size_t)s.len : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, s.ptr, n);
	dst[n] = 0;
}

static void on_join(void *wp, const coord_join_result *r)
{
	waiter *w = wp;
	w->join_calls++;
	w->error = r->error_code;
	w->generation = r->generation_id;
	copy(w->member_id, sizeof(w->member_id), r->member_id);
	copy(w->leader, sizeof(w->leader), r->leader);
	copy(w->protocol, sizeof(w->protocol), r->protocol_name);
	w->protocol_null = r->protocol_name.len < 0;
	w->skip = r->skip_assignment;
	w->nmembers = r->nmembers;
	for (int i = 0; i < r->nmembers && i < 8; i++)
		copy(w->members[i], sizeof(w->members[i]), r->members[i].member_id);
}

static void on_sync(void *wp, const coord_sync_result *r)
{
	waiter *w = wp;
	w->sync_calls++;
	w->error = r->error_code;
	copy(w->assignment, sizeof(w->assignment), r->assignment);
	copy(w->protocol, sizeof(w->protocol), r->protocol_name);
}

static void advance(int64_t ms)
{
	now += ms;
	coord_advance(now);
}

static void join_as(waiter *w, const char *group, const char *member, const char *instance,
		    const coord_protocol *p, int n, int version, int32_t session, int32_t rebalance)
{
	coord_join_req r = {
		.group_id = kstr_c(group),
		.member_id = kstr_c(member),
		.group_instance_id = kstr_c(instance),
		.client_id = KSTR_LIT("client"),
		.client_host = KSTR_LIT("/127.0.0.1"),
		.protocol_type = KSTR_LIT("consumer"),
		.session_timeout_ms = session,
		.rebalance_timeout_ms = rebalance,
		.protocols = p,
		.nprotocols = n,
		.require_known_member_id = version >= 4,
		.supports_skip_assignment = version >= 9,
	};
	memset(w, 0, sizeof(*w));
	coord_join(&r, w);
}

static void join(waiter *w, const char *member, int version)
{
	join_as(w, GROUP, member, NULL, RANGE, 1, version, SESSION_MS, REBALANCE_MS);
}

static void sync_as(waiter *w, const char *member, int32_t generation, const char *instance,
		    int nassign, const coord_assignment *a)
{
	coord_sync_req r = {
		.group_id = KSTR_LIT(GROUP),
		.member_id = kstr_c(member),
		.group_instance_id = kstr_c(instance),
		.protocol_type = KSTR_NULL,
		.protocol_name = KSTR_NULL,
		.generation_id = generation,
		.assignments = a,
		.nassignments = nassign,
	};
	memset(w, 0, sizeof(*w));
	coord_sync(&r, w);
}

static void sync_(waiter *w, const char *member, int32_t generation)
{
	sync_as(w, member, generation, NULL, 0, NULL);
}

static int16_t hb(const char *member, int32_t generation)
{
	return coord_heartbeat(KSTR_LIT(GROUP), kstr_c(member), KSTR_NULL, generation);
}

/* A member id as JoinGroup v4+ hands it out (MEMBER_ID_REQUIRED). */
static void member(char *id, size_t size)
{
	waiter w;
	join(&w, "", 4);
	assert_int_equal(w.join_calls, 1);
	assert_int_equal(w.error, KERR_MEMBER_ID_REQUIRED);
	assert_true(strncmp(w.member_id, "client-", 7) == 0);
	snprintf(id, size, "%s", w.member_id);
}

static group_state state(void)
{
	coord_group_info gi;
	arena *a = arena_new();
	group_state s = coord_describe(KSTR_LIT(GROUP), a, &gi) ? gi.state : GROUP_DEAD;
	arena_free(a);
	return s;
}

static int32_t generation(void)
{
	coord_group_info gi;
	arena *a = arena_new();
	int32_t g = coord_describe(KSTR_LIT(GROUP), a, &gi) ? gi.generation_id : -1;
	arena_free(a);
	return g;
}

/* Two members A (leader) and B in a Stable group of generation 1. */
static void stable_pair(char *a, char *b, size_t size)
{
	waiter ja, jb, sa, sb;
	coord_assignment assign[2];

	member(a, size);
	member(b, size);
	join(&ja, a, 4);
	join(&jb, b, 4);
	assert_int_equal(ja.join_calls + jb.join_calls, 0);
	advance(DELAY_MS);
	/* b joined during the initial delay: one more delay, as in Kafka. */
	assert_int_equal(ja.join_calls, 0);
	advance(DELAY_MS);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(ja.generation, 1);
	assert_string_equal(ja.leader, a);
	assert_int_equal(ja.nmembers, 2);
	assert_int_equal(jb.nmembers, 0);
	assert_int_equal(state(), GROUP_COMPLETING_REBALANCE);
	sync_(&sb, b, 1);
	assert_int_equal(sb.sync_calls, 0); /* held until the leader syncs */
	assign[0] = (coord_assignment){kstr_c(a), KSTR_LIT("to-a")};
	assign[1] = (coord_assignment){kstr_c(b), KSTR_LIT("to-b")};
	sync_as(&sa, a, 1, NULL, 2, assign);
	assert_int_equal(sa.sync_calls, 1);
	assert_int_equal(sb.sync_calls, 1);
	assert_string_equal(sa.assignment, "to-a");
	assert_string_equal(sb.assignment, "to-b");
	assert_int_equal(state(), GROUP_STABLE);
}

static int setup(void **st)
{
	coord_options opt = COORD_DEFAULT_OPTIONS;
	(void)st;
	now = 0;
	opt.initial_rebalance_delay_ms = DELAY_MS;
	coord_init(NULL, &opt, on_join, on_sync);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	coord_shutdown();
	return 0;
}

/* ---- tests ---- */

static void test_single_member(void **st)
{
	char a[128];
	waiter j, s;
	coord_assignment as[1];
	(void)st;

	member(a, sizeof(a));
	assert_int_equal(state(), GROUP_EMPTY);
	join(&j, a, 4);
	assert_int_equal(j.join_calls, 0);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	advance(DELAY_MS - 1);
	assert_int_equal(j.join_calls, 0); /* the initial delay runs its course */
	advance(1);
	assert_int_equal(j.join_calls, 1);
	assert_int_equal(j.error, KERR_NONE);
	assert_int_equal(j.generation, 1);
	assert_string_equal(j.member_id, a);
	assert_string_equal(j.leader, a);
	assert_string_equal(j.protocol, "range");
	assert_int_equal(j.nmembers, 1);
	as[0] = (coord_assignment){kstr_c(a), KSTR_LIT("all")};
	sync_as(&s, a, 1, NULL, 1, as);
	assert_int_equal(s.sync_calls, 1);
	assert_int_equal(s.error, KERR_NONE);
	assert_string_equal(s.assignment, "all");
	assert_int_equal(state(), GROUP_STABLE);
	assert_int_equal(hb(a, 1), KERR_NONE);
}

static void test_join_v3_needs_no_member_id(void **st)
{
	waiter j;
	(void)st;

	join(&j, "", 3);
	assert_int_equal(j.join_calls, 0);
	advance(DELAY_MS);
	assert_int_equal(j.join_calls, 1);
	assert_int_equal(j.error, KERR_NONE);
	assert_true(strncmp(j.member_id, "client-", 7) == 0);
	assert_string_equal(j.leader, j.member_id);
}

static void test_second_member_rebalances(void **st)
{
	char a[128], b[128], c[128];
	waiter ja, jc, sa, sc;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(c, sizeof(c));
	join(&jc, c, 4);
	assert_int_equal(jc.join_calls, 0);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	assert_int_equal(hb(a, 1), KERR_REBALANCE_IN_PROGRESS);
	assert_int_equal(hb(b, 1), KERR_REBALANCE_IN_PROGRESS);
	join(&ja, a, 4);
	assert_int_equal(ja.join_calls, 0); /* b has not rejoined yet */
	waiter jb;
	join(&jb, b, 4);
	/* Everyone rejoined: completes at once, no timer needed. */
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(jc.join_calls, 1);
	assert_int_equal(ja.generation, 2);
	assert_int_equal(ja.nmembers, 3);
	assert_int_equal(jc.nmembers, 0);
	assert_string_equal(jc.leader, a);
	/* Commits are refused until the assignment is out. */
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(c), KSTR_NULL, 2),
			 KERR_REBALANCE_IN_PROGRESS);
	sync_(&sc, c, 2);
	assert_int_equal(sc.sync_calls, 0);
	coord_assignment as[1] = {{kstr_c(c), KSTR_LIT("to-c")}};
	sync_as(&sa, a, 2, NULL, 1, as);
	assert_int_equal(sc.sync_calls, 1);
	assert_string_equal(sc.assignment, "to-c");
	assert_string_equal(sa.assignment, ""); /* missing from the leader's list */
	waiter sb;
	sync_(&sb, b, 2); /* after the leader: answered from the stored assignment */
	assert_int_equal(sb.sync_calls, 1);
	assert_int_equal(sb.error, KERR_NONE);
	assert_string_equal(sb.assignment, "");
}

static void test_rebalance_timeout_removes_laggards(void **st)
{
	char a[128], b[128], c[128];
	waiter ja, jc;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(c, sizeof(c));
	join(&jc, c, 4);
	join(&ja, a, 4);
	/* b keeps heartbeating but never rejoins (max.poll.interval.ms). */
	for (int i = 0; i < 5; i++) {
		advance(REBALANCE_MS / 6);
		assert_int_equal(hb(b, 1), KERR_REBALANCE_IN_PROGRESS);
	}
	assert_int_equal(ja.join_calls, 0);
	advance(REBALANCE_MS / 6);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(jc.join_calls, 1);
	assert_int_equal(ja.generation, 2);
	assert_int_equal(ja.nmembers, 2);
	assert_int_equal(hb(b, 1), KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(hb(b, 2), KERR_UNKNOWN_MEMBER_ID);
}

static void test_session_timeout(void **st)
{
	char a[128], b[128];
	waiter ja, sa;
	(void)st;

	stable_pair(a, b, sizeof(a));
	for (int i = 0; i < 4; i++) {
		advance(SESSION_MS / 4);
		if (i < 3)
			assert_int_equal(hb(a, 1), KERR_NONE);
	}
	/* b never heartbeat: gone, and the group rebalances. */
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	assert_int_equal(hb(a, 1), KERR_REBALANCE_IN_PROGRESS);
	assert_int_equal(hb(b, 1), KERR_UNKNOWN_MEMBER_ID);
	join(&ja, a, 4);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(ja.generation, 2);
	assert_int_equal(ja.nmembers, 1);
	sync_(&sa, a, 2);
	assert_int_equal(sa.sync_calls, 1);
	assert_int_equal(state(), GROUP_STABLE);
}

static void test_session_does_not_expire_while_held(void **st)
{
	char a[128], b[128], c[128];
	waiter ja, jb, jc;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(c, sizeof(c));
	join(&jc, c, 4);
	join(&ja, a, 4);
	/* a's JoinGroup is held past its session timeout: a stays. b neither
	 * rejoined nor heartbeat: its session ends, and without it everyone
	 * has rejoined. */
	advance(SESSION_MS + 1);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(ja.nmembers, 2);
	assert_int_equal(ja.generation, 2);
	assert_int_equal(hb(a, 2), KERR_NONE);
	join(&jb, b, 4);
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(jb.error, KERR_UNKNOWN_MEMBER_ID);
}

static void test_leave_group(void **st)
{
	char a[128], b[128];
	waiter ja;
	coord_leave_member l[3];
	(void)st;

	stable_pair(a, b, sizeof(a));
	l[0] = (coord_leave_member){kstr_c(b), KSTR_NULL, -1};
	l[1] = (coord_leave_member){KSTR_LIT("nobody"), KSTR_NULL, -1};
	l[2] = (coord_leave_member){KSTR_LIT(""), KSTR_LIT("no-such-instance"), -1};
	assert_int_equal(coord_leave(KSTR_LIT(GROUP), l, 3), KERR_NONE);
	assert_int_equal(l[0].error_code, KERR_NONE);
	assert_int_equal(l[1].error_code, KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(l[2].error_code, KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	join(&ja, a, 4);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(ja.nmembers, 1);

	l[0] = (coord_leave_member){kstr_c(a), KSTR_NULL, -1};
	assert_int_equal(coord_leave(KSTR_LIT("other"), l, 1), KERR_NONE);
	assert_int_equal(l[0].error_code, KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(coord_leave(KSTR_LIT(""), l, 1), KERR_INVALID_GROUP_ID);

	/* The last member leaves: the group is Empty at once. */
	assert_int_equal(coord_leave(KSTR_LIT(GROUP), l, 1), KERR_NONE);
	assert_int_equal(l[0].error_code, KERR_NONE);
	assert_int_equal(state(), GROUP_EMPTY);
	assert_int_equal(generation(), 3);
}

static void test_leave_while_join_held(void **st)
{
	char a[128], b[128], c[128];
	waiter ja, jc;
	coord_leave_member l;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(c, sizeof(c));
	join(&jc, c, 4);
	join(&ja, a, 4);
	/* c gives up waiting and leaves: its held JoinGroup is answered. */
	l = (coord_leave_member){kstr_c(c), KSTR_NULL, -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(jc.join_calls, 1);
	assert_int_equal(jc.error, KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(ja.join_calls, 0);
}

static void test_generation_and_member_errors(void **st)
{
	char a[128], b[128];
	waiter w;
	(void)st;

	stable_pair(a, b, sizeof(a));
	assert_int_equal(hb(a, 0), KERR_ILLEGAL_GENERATION);
	assert_int_equal(hb(a, 2), KERR_ILLEGAL_GENERATION);
	assert_int_equal(hb("stranger", 1), KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(coord_heartbeat(KSTR_LIT("nogroup"), kstr_c(a), KSTR_NULL, 1),
			 KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(coord_heartbeat(KSTR_LIT(""), kstr_c(a), KSTR_NULL, 1),
			 KERR_INVALID_GROUP_ID);
	sync_(&w, a, 7);
	assert_int_equal(w.sync_calls, 1);
	assert_int_equal(w.error, KERR_ILLEGAL_GENERATION);
	sync_(&w, "stranger", 1);
	assert_int_equal(w.error, KERR_UNKNOWN_MEMBER_ID);
	memset(&w, 0, sizeof(w));
	coord_sync_req r = {KSTR_LIT("nogroup"), kstr_c(a), KSTR_NULL, KSTR_NULL,
			    KSTR_NULL,           1,         NULL,      0};
	coord_sync(&r, &w);
	assert_int_equal(w.error, KERR_UNKNOWN_MEMBER_ID);
	/* SyncGroup v5 checks the protocol type and name. */
	coord_sync_req r5 = {KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, KSTR_LIT("connect"),
			     KSTR_NULL,       1,         NULL,      0};
	coord_sync(&r5, &w);
	assert_int_equal(w.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
	r5.protocol_type = KSTR_LIT("consumer");
	r5.protocol_name = KSTR_LIT("roundrobin");
	coord_sync(&r5, &w);
	assert_int_equal(w.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
	r5.protocol_name = KSTR_LIT("range");
	coord_sync(&r5, &w);
	assert_int_equal(w.error, KERR_NONE);
	assert_string_equal(w.assignment, "to-a");

	/* A member id the group does not know, and a group we do not know. */
	join(&w, "stranger", 5);
	assert_int_equal(w.join_calls, 1);
	assert_int_equal(w.error, KERR_UNKNOWN_MEMBER_ID);
	join_as(&w, "nogroup", a, NULL, RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(w.error, KERR_UNKNOWN_MEMBER_ID);
	assert_string_equal(w.member_id, a);
	assert_int_equal(w.generation, -1);
}

static void test_join_validation(void **st)
{
	waiter w;
	static const coord_protocol rr[] = {{KSTR_LIT("roundrobin"), KSTR_LIT("")}};
	char a[128];
	(void)st;

	join_as(&w, "", "", NULL, RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(w.error, KERR_INVALID_GROUP_ID);
	join_as(&w, GROUP, "", NULL, RANGE, 1, 5, 5999, REBALANCE_MS);
	assert_int_equal(w.error, KERR_INVALID_SESSION_TIMEOUT);
	join_as(&w, GROUP, "", NULL, RANGE, 1, 5, 1800001, REBALANCE_MS);
	assert_int_equal(w.error, KERR_INVALID_SESSION_TIMEOUT);
	join_as(&w, GROUP, "", NULL, RANGE, 0, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(w.error, KERR_INCONSISTENT_GROUP_PROTOCOL); /* no protocols */

	member(a, sizeof(a));
	join(&w, a, 4);
	advance(2 * DELAY_MS);
	/* Once the group has members, newcomers must share a protocol... */
	join_as(&w, GROUP, "", NULL, rr, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(w.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
	assert_string_equal(w.member_id, "");
	/* ...and the protocol type. */
	memset(&w, 0, sizeof(w));
	coord_join_req r = {KSTR_LIT(GROUP),
			    KSTR_LIT(""),
			    KSTR_NULL,
			    KSTR_LIT("c"),
			    KSTR_LIT(""),
			    KSTR_LIT("connect"),
			    SESSION_MS,
			    REBALANCE_MS,
			    RANGE,
			    1,
			    true,
			    false};
	coord_join(&r, &w);
	assert_int_equal(w.error, KERR_INCONSISTENT_GROUP_PROTOCOL);
}

static void test_protocol_vote(void **st)
{
	static const coord_protocol p1[] = {{KSTR_LIT("range"), KSTR_LIT("1")},
					    {KSTR_LIT("roundrobin"), KSTR_LIT("1")}};
	static const coord_protocol p2[] = {{KSTR_LIT("roundrobin"), KSTR_LIT("2")},
					    {KSTR_LIT("range"), KSTR_LIT("2")}};
	static const coord_protocol p3[] = {{KSTR_LIT("sticky"), KSTR_LIT("3")},
					    {KSTR_LIT("roundrobin"), KSTR_LIT("3")},
					    {KSTR_LIT("range"), KSTR_LIT("3")}};
	waiter w1, w2, w3;
	(void)st;

	join_as(&w1, GROUP, "", NULL, p1, 2, 3, SESSION_MS, REBALANCE_MS);
	join_as(&w2, GROUP, "", NULL, p2, 2, 3, SESSION_MS, REBALANCE_MS);
	join_as(&w3, GROUP, "", NULL, p3, 3, 3, SESSION_MS, REBALANCE_MS);
	advance(2 * DELAY_MS);
	/* sticky is not common; range 1 vote, roundrobin 2 votes. */
	assert_string_equal(w1.protocol, "roundrobin");
	assert_string_equal(w3.protocol, "roundrobin");
	assert_int_equal(w1.nmembers, 3); /* w1 joined first: it leads */
	assert_int_equal(w2.nmembers, 0);
}

static void test_initial_delay_grows_while_members_arrive(void **st)
{
	waiter w[4];
	(void)st;

	join(&w[0], "", 3);
	for (int i = 1; i < 4; i++) {
		advance(DELAY_MS - 10);
		join(&w[i], "", 3);
	}
	/* Each newcomer during the delay bought another delay. */
	advance(DELAY_MS - 10);
	assert_int_equal(w[0].join_calls, 0);
	advance(DELAY_MS);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(w[i].join_calls, 1);
		assert_int_equal(w[i].generation, 1);
	}
	assert_int_equal(w[0].nmembers, 4);
}

static void test_member_id_required_pending(void **st)
{
	char a[128], b[128], p[128];
	waiter ja;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(p, sizeof(p)); /* handed out, not used yet */
	assert_int_equal(state(), GROUP_STABLE);
	waiter jb;
	join(&ja, a, 4); /* the leader rejoins: rebalance */
	join(&jb, b, 4);
	/* Everyone known rejoined, but an unused member id holds it up. */
	assert_int_equal(ja.join_calls, 0);
	advance(SESSION_MS);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(ja.nmembers, 2);
	/* That id is forgotten now. */
	waiter jp;
	join(&jp, p, 4);
	assert_int_equal(jp.error, KERR_UNKNOWN_MEMBER_ID);
}

static void test_pending_member_joins(void **st)
{
	char a[128], b[128], p[128];
	waiter ja, jb, jp;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(p, sizeof(p));
	join(&ja, a, 4);
	join(&jb, b, 4);
	join(&jp, p, 4);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(jp.join_calls, 1);
	assert_int_equal(ja.nmembers, 3);
	assert_int_equal(jp.generation, 2);
	/* A pending id may leave before it ever joined. */
	char q[128];
	member(q, sizeof(q));
	coord_leave_member l = {kstr_c(q), KSTR_NULL, -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(l.error_code, KERR_NONE);
}

static void test_follower_rejoin_same_metadata(void **st)
{
	char a[128], b[128];
	waiter jb;
	(void)st;

	stable_pair(a, b, sizeof(a));
	/* A follower that rejoins unchanged just learns the generation. */
	join(&jb, b, 4);
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(jb.error, KERR_NONE);
	assert_int_equal(jb.generation, 1);
	assert_string_equal(jb.leader, a);
	assert_int_equal(state(), GROUP_STABLE);
	/* With new metadata (cooperative rebalancing sends owned
	 * partitions) it makes the group rebalance. */
	static const coord_protocol changed[] = {{KSTR_LIT("range"), KSTR_LIT("other")}};
	join_as(&jb, GROUP, b, NULL, changed, 1, 4, SESSION_MS, REBALANCE_MS);
	assert_int_equal(jb.join_calls, 0);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
}

static void test_rejoin_during_completing(void **st)
{
	char a[128], b[128];
	waiter ja, jb, ja2;
	(void)st;

	member(a, sizeof(a));
	member(b, sizeof(b));
	join(&ja, a, 4);
	join(&jb, b, 4);
	advance(2 * DELAY_MS);
	assert_int_equal(state(), GROUP_COMPLETING_REBALANCE);
	/* The leader lost the answer and asks again: it gets it again. */
	join(&ja2, a, 4);
	assert_int_equal(ja2.join_calls, 1);
	assert_int_equal(ja2.generation, 1);
	assert_int_equal(ja2.nmembers, 2);
	assert_int_equal(state(), GROUP_COMPLETING_REBALANCE);
}

static void test_sync_deadline(void **st)
{
	char a[128], b[128];
	waiter ja, jb, sa;
	(void)st;

	member(a, sizeof(a));
	member(b, sizeof(b));
	join(&ja, a, 4);
	join(&jb, b, 4);
	advance(2 * DELAY_MS);
	sync_(&sa, a, 1);
	assert_int_equal(sa.sync_calls, 1);
	assert_int_equal(state(), GROUP_STABLE);
	/* b heartbeats but never sends SyncGroup: removed when the sync
	 * deadline (the rebalance timeout) passes. */
	for (int i = 0; i < 4; i++) {
		advance(REBALANCE_MS / 4 - 1);
		assert_int_equal(hb(a, 1), KERR_NONE);
		assert_int_equal(hb(b, 1), KERR_NONE);
	}
	assert_int_equal(state(), GROUP_STABLE);
	advance(4);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	assert_int_equal(hb(b, 1), KERR_UNKNOWN_MEMBER_ID);
}

static void test_leader_leaves_while_followers_wait(void **st)
{
	char a[128], b[128];
	waiter ja, jb, sb;
	coord_leave_member l;
	(void)st;

	member(a, sizeof(a));
	member(b, sizeof(b));
	join(&ja, a, 4);
	join(&jb, b, 4);
	advance(2 * DELAY_MS);
	sync_(&sb, b, 1);
	assert_int_equal(sb.sync_calls, 0);
	l = (coord_leave_member){kstr_c(a), KSTR_NULL, -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(sb.sync_calls, 1);
	assert_int_equal(sb.error, KERR_REBALANCE_IN_PROGRESS);
	/* b rejoins and leads now. */
	join(&jb, b, 4);
	assert_int_equal(jb.join_calls, 1);
	assert_string_equal(jb.leader, b);
	assert_int_equal(jb.generation, 2);
}

static void test_leader_does_not_rejoin(void **st)
{
	char a[128], b[128];
	waiter jb;
	(void)st;

	stable_pair(a, b, sizeof(a));
	/* b changes metadata: a rebalance, but the leader a never rejoins. */
	static const coord_protocol changed[] = {{KSTR_LIT("range"), KSTR_LIT("x")}};
	join_as(&jb, GROUP, b, NULL, changed, 1, 4, SESSION_MS, REBALANCE_MS);
	for (int i = 0; i < 6; i++) {
		advance(REBALANCE_MS / 6);
		hb(a, 1);
	}
	assert_int_equal(jb.join_calls, 1);
	assert_string_equal(jb.leader, b);
	assert_int_equal(jb.nmembers, 1);
	assert_int_equal(hb(a, 1), KERR_UNKNOWN_MEMBER_ID);
}

static void test_static_member_restart(void **st)
{
	waiter ja, jb, sa, sb, ja2, sa2;
	char a[128], b[128];
	(void)st;

	join_as(&ja, GROUP, "", "inst-a", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	join_as(&jb, GROUP, "", "inst-b", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	advance(2 * DELAY_MS);
	/* Static members skip MEMBER_ID_REQUIRED; ids start with the instance id. */
	assert_int_equal(ja.error, KERR_NONE);
	assert_true(strncmp(ja.member_id, "inst-a-", 7) == 0);
	snprintf(a, sizeof(a), "%s", ja.member_id);
	snprintf(b, sizeof(b), "%s", jb.member_id);
	coord_assignment as[2] = {{kstr_c(a), KSTR_LIT("p0-3")}, {kstr_c(b), KSTR_LIT("p4-7")}};
	sync_as(&sb, b, 1, "inst-b", 0, NULL);
	sync_as(&sa, a, 1, "inst-a", 2, as);
	assert_string_equal(sb.assignment, "p4-7");

	/* a restarts: same instance id, no member id. No rebalance. */
	advance(SESSION_MS / 2);
	assert_int_equal(hb(b, 1), KERR_NONE);
	join_as(&ja2, GROUP, "", "inst-a", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(ja2.join_calls, 1);
	assert_int_equal(ja2.error, KERR_NONE);
	assert_int_equal(ja2.generation, 1);
	assert_string_not_equal(ja2.member_id, a);
	/* Before v9 the old leader id is named, so the new a does not lead. */
	assert_string_equal(ja2.leader, a);
	assert_int_equal(ja2.nmembers, 0);
	assert_int_equal(state(), GROUP_STABLE);
	sync_as(&sa2, ja2.member_id, 1, "inst-a", 0, NULL);
	assert_int_equal(sa2.error, KERR_NONE);
	assert_string_equal(sa2.assignment, "p0-3");
	assert_int_equal(hb(b, 1), KERR_NONE);
	assert_int_equal(generation(), 1);
	/* The old instance is fenced. */
	assert_int_equal(coord_heartbeat(KSTR_LIT(GROUP), kstr_c(a), KSTR_LIT("inst-a"), 1),
			 KERR_FENCED_INSTANCE_ID);
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_LIT("inst-a"), 1),
			 KERR_FENCED_INSTANCE_ID);
	join_as(&ja, GROUP, a, "inst-a", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(ja.error, KERR_FENCED_INSTANCE_ID);
	coord_leave_member l = {kstr_c(a), KSTR_LIT("inst-a"), -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(l.error_code, KERR_FENCED_INSTANCE_ID);
	assert_int_equal(hb(b, 1), KERR_NONE);

	/* v9: the restarted leader learns it leads, and must skip assigning. */
	waiter ja3;
	join_as(&ja3, GROUP, "", "inst-a", RANGE, 1, 9, SESSION_MS, REBALANCE_MS);
	assert_int_equal(ja3.error, KERR_NONE);
	assert_true(ja3.skip);
	assert_string_equal(ja3.leader, ja3.member_id);
	assert_int_equal(ja3.nmembers, 2);
	assert_int_equal(state(), GROUP_STABLE);

	/* An administrator removes b by instance id: that rebalances. */
	l = (coord_leave_member){KSTR_LIT(""), KSTR_LIT("inst-b"), -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(l.error_code, KERR_NONE);
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
}

static void test_static_member_replaced_while_held(void **st)
{
	waiter ja, jb, jnew;
	(void)st;

	join_as(&ja, GROUP, "", "inst-a", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	join_as(&jb, GROUP, "", "inst-b", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	/* A second process with a's instance id joins during the delay:
	 * the first one's held JoinGroup is fenced. */
	join_as(&jnew, GROUP, "", "inst-a", RANGE, 1, 5, SESSION_MS, REBALANCE_MS);
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(ja.error, KERR_FENCED_INSTANCE_ID);
	assert_int_equal(jnew.join_calls, 0);
	advance(2 * DELAY_MS);
	assert_int_equal(jnew.join_calls, 1);
	assert_int_equal(jnew.error, KERR_NONE);
	assert_int_equal(jb.nmembers + jnew.nmembers, 2);
}

static void test_static_member_not_removed_on_join_deadline(void **st)
{
	waiter ja, jb, jc;
	char a[128], b[128];
	(void)st;

	join_as(&ja, GROUP, "", "inst-a", RANGE, 1, 5, SESSION_MS * 4, REBALANCE_MS / 3);
	join_as(&jb, GROUP, "", "inst-b", RANGE, 1, 5, SESSION_MS * 4, REBALANCE_MS / 3);
	advance(2 * DELAY_MS);
	snprintf(a, sizeof(a), "%s", ja.member_id);
	snprintf(b, sizeof(b), "%s", jb.member_id);
	sync_as(&ja, a, 1, "inst-a", 0, NULL);
	sync_as(&jb, b, 1, "inst-b", 0, NULL);
	/* A dynamic member joins; b is down and does not rejoin, a does. */
	char c[128];
	member(c, sizeof(c));
	join(&jc, c, 4);
	join_as(&ja, GROUP, a, "inst-a", RANGE, 1, 5, SESSION_MS * 4, REBALANCE_MS / 3);
	advance(REBALANCE_MS - 1); /* c's rebalance timeout is the group's */
	assert_int_equal(jc.join_calls, 0);
	advance(1);
	/* The join deadline keeps static b (only its session removes it). */
	assert_int_equal(jc.join_calls, 1);
	assert_int_equal(ja.nmembers, 3);
	assert_int_equal(coord_heartbeat(KSTR_LIT(GROUP), kstr_c(b), KSTR_LIT("inst-b"), 2),
			 KERR_NONE);
}

static void test_commit_checks(void **st)
{
	char a[128], b[128];
	(void)st;

	/* Simple commits (no group management) create an Empty group. */
	assert_int_equal(coord_commit_check(KSTR_LIT("simple"), KSTR_LIT(""), KSTR_NULL, -1),
			 KERR_NONE);
	coord_group_info gi;
	arena *ar = arena_new();
	assert_true(coord_describe(KSTR_LIT("simple"), ar, &gi));
	assert_int_equal(gi.state, GROUP_EMPTY);
	assert_int_equal(gi.protocol_type.len, 0);
	arena_free(ar);
	/* A generation for a group we do not know: from before a restart. */
	assert_int_equal(coord_commit_check(KSTR_LIT("gone"), KSTR_LIT("m"), KSTR_NULL, 3),
			 KERR_ILLEGAL_GENERATION);
	assert_int_equal(coord_commit_check(KSTR_NULL, KSTR_LIT(""), KSTR_NULL, -1),
			 KERR_INVALID_GROUP_ID);
	/* The empty group id is allowed for offsets, as in Kafka. */
	assert_int_equal(coord_commit_check(KSTR_LIT(""), KSTR_LIT(""), KSTR_NULL, -1), KERR_NONE);

	stable_pair(a, b, sizeof(a));
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, 1), KERR_NONE);
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, 0),
			 KERR_ILLEGAL_GENERATION);
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), KSTR_LIT("x"), KSTR_NULL, 1),
			 KERR_UNKNOWN_MEMBER_ID);
	/* Outsiders cannot commit for a live group. */
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), KSTR_LIT(""), KSTR_NULL, -1),
			 KERR_UNKNOWN_MEMBER_ID);
	/* Commits keep a member alive like heartbeats do. */
	for (int i = 0; i < 3; i++) {
		advance(SESSION_MS / 2);
		assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, 1),
				 KERR_NONE);
		hb(b, 1);
	}
	assert_int_equal(state(), GROUP_STABLE);
}

/*
 * The race of a commit that arrives under generation 1, waits for its SQL
 * write, and would land after its member was expelled and the next
 * generation had read offsets: the next generation waits for the write.
 */
static void test_commit_in_flight_holds_next_generation(void **st)
{
	char a[128], b[128];
	waiter jb, jb2;
	bool held;
	(void)st;

	stable_pair(a, b, sizeof(a));
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, 1), KERR_NONE);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &held), KERR_NONE);
	assert_true(held);
	/* a stops heartbeating and is expelled; b keeps its session. */
	for (int i = 0; i < 4; i++) {
		advance(SESSION_MS / 4 + 1);
		hb(b, 1);
	}
	assert_int_equal(state(), GROUP_PREPARING_REBALANCE);
	/* b rejoins: the rebalance could complete, but a's commit is unwritten. */
	join(&jb, b, 4);
	assert_int_equal(jb.join_calls, 0);
	assert_int_equal(generation(), 1);
	/* Nor does the join deadline hand out generation 2. */
	advance(REBALANCE_MS + 1);
	assert_int_equal(jb.join_calls, 0);
	assert_int_equal(generation(), 1);
	/* New commits of generation 1 are refused now, plain and transactional. */
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(b), KSTR_NULL, 1), KERR_NONE);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &held),
			 KERR_REBALANCE_IN_PROGRESS);
	assert_false(held);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), true, &held),
			 KERR_COORDINATOR_LOAD_IN_PROGRESS);
	assert_false(held);
	/* The write is over: generation 2 goes out, without a. */
	coord_commit_release(KSTR_LIT(GROUP));
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(jb.error, KERR_NONE);
	assert_int_equal(jb.generation, 2);
	assert_int_equal(jb.nmembers, 1);
	assert_int_equal(coord_commit_check(KSTR_LIT(GROUP), kstr_c(a), KSTR_NULL, 1),
			 KERR_UNKNOWN_MEMBER_ID);
	/* Commits of the new generation are held and released as usual. */
	waiter sb;
	sync_(&sb, b, 2);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &held), KERR_NONE);
	assert_true(held);
	coord_commit_release(KSTR_LIT(GROUP));
	join(&jb2, b, 4);
	assert_int_equal(jb2.join_calls, 1);
	assert_int_equal(jb2.generation, 3);
}

/* Several commits in flight: the generation waits for the last one. */
static void test_commit_holds_count(void **st)
{
	char a[128], b[128];
	waiter ja, jb;
	bool h1, h2, h3;
	(void)st;

	stable_pair(a, b, sizeof(a));
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &h1), KERR_NONE);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), true, &h2), KERR_NONE);
	/* A rebalance in progress does not stop commits until it is due. */
	join(&ja, a, 4);
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &h3), KERR_NONE);
	assert_true(h1 && h2 && h3);
	join(&jb, b, 4);
	assert_int_equal(ja.join_calls + jb.join_calls, 0);
	coord_commit_release(KSTR_LIT(GROUP));
	coord_commit_release(KSTR_LIT(GROUP));
	assert_int_equal(ja.join_calls + jb.join_calls, 0);
	coord_commit_release(KSTR_LIT(GROUP));
	assert_int_equal(ja.join_calls, 1);
	assert_int_equal(jb.join_calls, 1);
	assert_int_equal(ja.generation, 2);
	/* An extra release (none held) changes nothing. */
	coord_commit_release(KSTR_LIT(GROUP));
	assert_int_equal(generation(), 2);
}

/* An Empty group with a commit in flight is neither deleted nor forgotten;
 * a group not in memory is not held. */
static void test_commit_hold_keeps_empty_group(void **st)
{
	bool known, held;
	coord_group_info gi;
	arena *ar = arena_new();
	(void)st;

	assert_int_equal(coord_commit_hold(KSTR_LIT("nowhere"), false, &held), KERR_NONE);
	assert_false(held);
	assert_int_equal(coord_commit_check(KSTR_LIT("simple"), KSTR_LIT(""), KSTR_NULL, -1),
			 KERR_NONE);
	assert_int_equal(coord_commit_hold(KSTR_LIT("simple"), false, &held), KERR_NONE);
	assert_true(held);
	assert_int_equal(coord_delete(KSTR_LIT("simple"), &known),
			 KERR_COORDINATOR_LOAD_IN_PROGRESS);
	assert_true(known);
	advance(600000 + 1); /* the default empty_group_retention_ms */
	assert_true(coord_describe(KSTR_LIT("simple"), ar, &gi));
	coord_commit_release(KSTR_LIT("simple"));
	assert_int_equal(coord_delete(KSTR_LIT("simple"), &known), KERR_NONE);
	assert_false(coord_describe(KSTR_LIT("simple"), ar, &gi));
	arena_free(ar);
}

static void test_cancelled_waiter_gets_no_callback(void **st)
{
	char a[128], b[128];
	waiter ja, jb;
	(void)st;

	member(a, sizeof(a));
	member(b, sizeof(b));
	join(&ja, a, 4);
	join(&jb, b, 4);
	coord_cancel(&ja); /* a's connection closed */
	advance(2 * DELAY_MS);
	assert_int_equal(ja.join_calls, 0);
	assert_int_equal(jb.join_calls, 1);
	/* a is still a member (its session decides), and leads. */
	assert_int_equal(jb.nmembers, 0);
	assert_string_equal(jb.leader, a);
	waiter sb;
	sync_(&sb, b, 1);
	coord_cancel(&sb);
	coord_leave_member l = {kstr_c(a), KSTR_NULL, -1};
	coord_leave(KSTR_LIT(GROUP), &l, 1);
	assert_int_equal(sb.sync_calls, 0);
}

static void test_duplicate_join_superseded(void **st)
{
	char a[128];
	waiter j1, j2;
	(void)st;

	member(a, sizeof(a));
	join(&j1, a, 4);
	join(&j2, a, 4);
	assert_int_equal(j1.join_calls, 1);
	assert_int_equal(j1.error, KERR_REBALANCE_IN_PROGRESS);
	advance(DELAY_MS);
	assert_int_equal(j2.join_calls, 1);
	assert_int_equal(j2.error, KERR_NONE);
	assert_int_equal(j2.nmembers, 1);
}

static void test_new_member_join_timeout(void **st)
{
	char a[128], b[128], c[128];
	waiter jc;
	(void)st;

	stable_pair(a, b, sizeof(a));
	member(c, sizeof(c));
	/* A rebalance timeout longer than the new-member limit (5 min). */
	join_as(&jc, GROUP, c, NULL, RANGE, 1, 4, SESSION_MS, 600000);
	for (int i = 0; i < 59; i++) {
		advance(SESSION_MS / 2);
		assert_int_equal(hb(a, 1), KERR_REBALANCE_IN_PROGRESS);
		hb(b, 1);
	}
	assert_int_equal(jc.join_calls, 0);
	advance(SESSION_MS / 2);
	assert_int_equal(jc.join_calls, 1);
	assert_int_equal(jc.error, KERR_UNKNOWN_MEMBER_ID);
}

static void test_shutdown_answers_held(void **st)
{
	char a[128];
	waiter j, s;
	(void)st;

	member(a, sizeof(a));
	join(&j, a, 4);
	coord_shutdown();
	assert_int_equal(j.join_calls, 1);
	assert_int_equal(j.error, KERR_NOT_COORDINATOR);
	setup(NULL);
	char b[128];
	member(a, sizeof(a));
	member(b, sizeof(b));
	join(&j, a, 4);
	waiter jb;
	join(&jb, b, 4);
	advance(2 * DELAY_MS);
	sync_(&s, b, 1);
	coord_shutdown();
	assert_int_equal(s.sync_calls, 1);
	assert_int_equal(s.error, KERR_NOT_COORDINATOR);
	setup(NULL);
}

static void test_describe_list_delete(void **st)
{
	char a[128], b[128];
	coord_group_info gi, *all;
	arena *ar = arena_new();
	bool known;
	(void)st;

	stable_pair(a, b, sizeof(a));
	assert_true(coord_describe(KSTR_LIT(GROUP), ar, &gi));
	assert_int_equal(gi.state, GROUP_STABLE);
	assert_int_equal(gi.nmembers, 2);
	assert_true(kstr_eq(gi.protocol_type, "consumer"));
	assert_true(kstr_eq(gi.protocol_data, "range"));
	assert_true(kstr_eq(gi.members[0].member_id, a));
	assert_true(kstr_eq(gi.members[0].client_id, "client"));
	assert_true(kstr_eq(gi.members[0].client_host, "/127.0.0.1"));
	assert_true(kstr_eq(gi.members[0].metadata, "meta"));
	assert_true(kstr_eq(gi.members[1].assignment, "to-b"));
	assert_false(coord_describe(KSTR_LIT("nope"), ar, &gi));
	coord_commit_check(KSTR_LIT("simple"), KSTR_LIT(""), KSTR_NULL, -1);
	assert_int_equal(coord_list(ar, &all), 2);

	assert_int_equal(coord_delete(KSTR_LIT(GROUP), &known), KERR_NON_EMPTY_GROUP);
	assert_true(known);
	assert_int_equal(coord_delete(KSTR_LIT("simple"), &known), KERR_NONE);
	assert_true(known);
	assert_int_equal(coord_delete(KSTR_LIT("simple"), &known), KERR_NONE);
	assert_false(known);

	/* During a rebalance members are listed without metadata. */
	waiter jc;
	join(&jc, "", 3);
	assert_true(coord_describe(KSTR_LIT(GROUP), ar, &gi));
	assert_int_equal(gi.state, GROUP_PREPARING_REBALANCE);
	assert_int_equal(gi.protocol_data.len, 0);
	assert_int_equal(gi.members[0].metadata.len, 0);
	arena_free(ar);
}

static void test_empty_group_forgotten(void **st)
{
	bool known;
	(void)st;

	coord_commit_check(KSTR_LIT("idle"), KSTR_LIT(""), KSTR_NULL, -1);
	advance(600000 - 1);
	arena *ar = arena_new();
	coord_group_info gi;
	assert_true(coord_describe(KSTR_LIT("idle"), ar, &gi));
	advance(1);
	assert_false(coord_describe(KSTR_LIT("idle"), ar, &gi));
	arena_free(ar);
	assert_int_equal(coord_delete(KSTR_LIT("idle"), &known), KERR_NONE);
	assert_false(known);
}

/* A consumer protocol subscription: version, topics, no user data. */
static size_t subscription(uint8_t *buf, const char *const *topics, int n)
{
	kwriter w;
	kw_init(&w, 64);
	kw_i16(&w, 0);
	kw_i32(&w, n);
	for (int i = 0; i < n; i++)
		kw_string(&w, kstr_c(topics[i]));
	kw_bytes32(&w, KSTR_NULL);
	memcpy(buf, w.buf, w.len);
	size_t len = w.len;
	kw_free(&w);
	return len;
}

static void test_offsets_in_use(void **st)
{
	static const char *const t1[] = {"orders"};
	static const char *const t2[] = {"orders", "payments"};
	uint8_t m1[64], m2[64];
	waiter j1, j2;
	bool known;
	(void)st;

	assert_int_equal(coord_offsets_in_use(KSTR_LIT(GROUP), &known), COORD_OFFSETS_FREE);
	assert_false(known);
	coord_protocol p1[] = {{KSTR_LIT("range"), {(char *)m1, (int32_t)subscription(m1, t1, 1)}}};
	coord_protocol p2[] = {{KSTR_LIT("range"), {(char *)m2, (int32_t)subscription(m2, t2, 2)}}};
	join_as(&j1, GROUP, "", NULL, p1, 1, 3, SESSION_MS, REBALANCE_MS);
	join_as(&j2, GROUP, "", NULL, p2, 1, 3, SESSION_MS, REBALANCE_MS);
	advance(2 * DELAY_MS);
	assert_int_equal(coord_offsets_in_use(KSTR_LIT(GROUP), &known), COORD_OFFSETS_CONSUMER);
	assert_true(known);
	assert_true(coord_subscribed(KSTR_LIT(GROUP), KSTR_LIT("orders")));
	assert_true(coord_subscribed(KSTR_LIT(GROUP), KSTR_LIT("payments")));
	assert_false(coord_subscribed(KSTR_LIT(GROUP), KSTR_LIT("refunds")));

	/* Another protocol type: the whole group is in use. */
	waiter jx;
	coord_join_req r = {KSTR_LIT("connect-group"),
			    KSTR_LIT(""),
			    KSTR_NULL,
			    KSTR_LIT("c"),
			    KSTR_LIT(""),
			    KSTR_LIT("connect"),
			    SESSION_MS,
			    REBALANCE_MS,
			    RANGE,
			    1,
			    false,
			    false};
	memset(&jx, 0, sizeof(jx));
	coord_join(&r, &jx);
	advance(2 * DELAY_MS);
	assert_int_equal(jx.error, KERR_NONE);
	assert_int_equal(coord_offsets_in_use(KSTR_LIT("connect-group"), &known),
			 COORD_OFFSETS_NON_EMPTY);
	/* Unreadable subscriptions count as subscribed to everything. */
	coord_protocol bad[] = {{KSTR_LIT("range"), KSTR_LIT("x")}};
	waiter jb;
	join_as(&jb, "garbled", "", NULL, bad, 1, 3, SESSION_MS, REBALANCE_MS);
	advance(2 * DELAY_MS);
	assert_true(coord_subscribed(KSTR_LIT("garbled"), KSTR_LIT("anything")));
}

/* What the membership hook was told, last call first. */
static struct {
	int calls;
	bool has_members;
	int64_t at;
	char group[32];
} told;

static void on_membership(kstr group_id, bool has_members, int64_t at_ms)
{
	told.calls++;
	told.has_members = has_members;
	told.at = at_ms;
	copy(told.group, sizeof(told.group), group_id);
}

/* Offset expiry's view of a group: members, their subscriptions once the
 * group is Stable, the membership changes, and forgetting a group whose
 * offsets are gone. */
static void test_offsets_keep_and_membership(void **st)
{
	static const char *const topics[] = {"orders", "payments", "orders"};
	uint8_t meta[96];
	waiter j, s;
	coord_offsets_keep k;
	coord_leave_member l[1];
	arena *a = arena_new();
	(void)st;

	memset(&told, 0, sizeof(told));
	coord_set_membership_hook(on_membership);
	assert_false(coord_offsets_keep_of(KSTR_LIT(GROUP), a, &k));
	coord_protocol p[] = {
		{KSTR_LIT("range"), {(char *)meta, (int32_t)subscription(meta, topics, 3)}}};
	advance(1000);
	join_as(&j, GROUP, "", NULL, p, 1, 3, SESSION_MS, REBALANCE_MS);
	assert_int_equal(told.calls, 1); /* Empty -> PreparingRebalance */
	assert_true(told.has_members);
	assert_int_equal(told.at, 1000);
	assert_string_equal(told.group, GROUP);
	advance(DELAY_MS);
	assert_int_equal(j.join_calls, 1);
	/* CompletingRebalance: the subscriptions do not count yet */
	assert_true(coord_offsets_keep_of(KSTR_LIT(GROUP), a, &k));
	assert_true(k.has_members);
	assert_false(k.topics_known);
	coord_assignment as[] = {{kstr_c(j.member_id), KSTR_LIT("x")}};
	sync_as(&s, j.member_id, j.generation, NULL, 1, as);
	assert_int_equal(state(), GROUP_STABLE);
	assert_true(coord_offsets_keep_of(KSTR_LIT(GROUP), a, &k));
	assert_true(k.topics_known);
	assert_int_equal(k.ntopics, 2);
	assert_true(kstr_eq(k.topics[0], "orders"));
	assert_true(kstr_eq(k.topics[1], "payments"));
	/* a live group is not forgotten when its offsets go */
	coord_offsets_gone(KSTR_LIT(GROUP));
	assert_int_equal(state(), GROUP_STABLE);
	assert_int_equal(told.calls, 1);

	advance(500);
	l[0] = (coord_leave_member){kstr_c(j.member_id), KSTR_NULL, -1};
	assert_int_equal(coord_leave(KSTR_LIT(GROUP), l, 1), KERR_NONE);
	assert_int_equal(told.calls, 2);
	assert_false(told.has_members);
	assert_int_equal(told.at, 1000 + DELAY_MS + 500);
	assert_true(coord_offsets_keep_of(KSTR_LIT(GROUP), a, &k));
	assert_false(k.has_members);
	/* held by a commit (or the expiry itself): stays */
	bool held;
	assert_int_equal(coord_commit_hold(KSTR_LIT(GROUP), false, &held), KERR_NONE);
	coord_offsets_gone(KSTR_LIT(GROUP));
	assert_int_equal(state(), GROUP_EMPTY);
	coord_commit_release(KSTR_LIT(GROUP));
	coord_offsets_gone(KSTR_LIT(GROUP));
	assert_int_equal(state(), GROUP_DEAD); /* forgotten */
	assert_int_equal(told.calls, 2);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offsets_keep_and_membership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_v3_needs_no_member_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_member_rebalances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebalance_timeout_removes_laggards, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_does_not_expire_while_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leave_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_while_join_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_and_member_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_vote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_delay_grows_while_members_arrive,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_id_required_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_member_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follower_rejoin_same_metadata, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rejoin_during_completing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_leaves_while_followers_wait, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leader_does_not_rejoin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_member_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_member_replaced_while_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_member_not_removed_on_join_deadline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancelled_waiter_gets_no_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_join_superseded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_member_join_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_answers_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe_list_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_group_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offsets_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_in_flight_holds_next_generation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_holds_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_hold_keeps_empty_group, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
