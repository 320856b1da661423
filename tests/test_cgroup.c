/*
 * Unit tests for consumer groups of the consumer protocol (cgroup.c), on a
 * fake clock. A "client" here behaves as a KIP-848 consumer does: it owns
 * what the last response with an assignment gave it, gives up at once what
 * a response took away, and reports what it owns in every heartbeat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "cgroup.h"
#include "kerr.h"

#define GROUP "g"
#define MAXP 512
#define MAXT 4

typedef struct client {
	char id[64];
	const char *instance;
	const char *assignor;
	const char *regex;
	const char *principal; /* NULL: none given */
	const char *topics[MAXT]; /* subscribed names, NULL-terminated */
	int32_t epoch;
	int ntopics; /* owned */
	uint8_t tid[MAXT][16];
	int32_t parts[MAXT][MAXP];
	int nparts[MAXT];
	int16_t err;
	bool got_assignment;
} client;

static cg_coord *C;
static arena *A;
static int64_t now;

static const uint8_t T1[16] = {1};
static const uint8_t T2[16] = {2};
static const uint8_t T3[16] = {3};
static const uint8_t TI[16] = {9};

static void topics(int n1, int n2);
static cg_heartbeat_req base_req(client *c, int32_t epoch);
static int16_t send_req(client *c, cg_heartbeat_req *r);
static int16_t join(client *c, const char *id);
static int16_t beat(client *c);
static int16_t leave(client *c, int32_t epoch);
static int owned(const client *c);
static bool owns(const client *c, const uint8_t *tid, int32_t p);
static void no_double_owner(client **cs, int n);
static int32_t group_epoch(void);
static const char *state(void);
static void describe_text(cg_coord *c, char *buf, size_t size);
static void advance(int64_t ms);

static void topics(int n1, int n2)
{
	cg_topic t[4];
	int n = 0;
	if (n1 > 0)
		t[n++] = (cg_topic){.name = KSTR_LIT("t1"), .partitions = n1};
	memcpy(t[n - 1].id, T1, 16);
	if (n2 > 0) {
		t[n++] = (cg_topic){.name = KSTR_LIT("t2"), .partitions = n2};
		memcpy(t[n - 1].id, T2, 16);
	}
	cg_set_topics(C, t, n, now);
}

static cg_heartbeat_req base_req(client *c, int32_t epoch)
{
	static kstr names[MAXT];
	static cg_tps own[MAXT];
	int nn = 0;
	for (int i = 0; i < MAXT && c->topics[i]; i++)
		names[nn++] = kstr_c(c->topics[i]);
	for (int i = 0; i < c->ntopics; i++) {
		memcpy(own[i].topic_id, c->tid[i], 16);
		own[i].partitions = c->parts[i];
		own[i].npartitions = c->nparts[i];
	}
	cg_heartbeat_req r = {
		.api_version = 1,
		.group_id = KSTR_LIT(GROUP),
		.member_id = kstr_c(c->id),
		.generated_member_id = KSTR_NULL,
		.member_epoch = epoch,
		.instance_id = kstr_c(c->instance),
		.rack_id = KSTR_NULL,
		.rebalance_timeout_ms = epoch == 0 ? 30000 : -1,
		.subscribed_topic_names = names,
		.nsubscribed_topic_names = epoch == 0 && !c->regex ? nn : -1,
		.subscribed_topic_regex = epoch == 0 ? kstr_c(c->regex) : KSTR_NULL,
		.server_assignor = epoch == 0 ? kstr_c(c->assignor) : KSTR_NULL,
		.topic_partitions = own,
		.ntopic_partitions = epoch == 0 ? 0 : c->ntopics,
		.client_id = KSTR_LIT("client"),
		.client_host = KSTR_LIT("/127.0.0.1"),
		.principal = kstr_c(c->principal),
	};
	return r;
}

/* Send and act on the answer as a consumer does. */
static int16_t send_req(client *c, cg_heartbeat_req *r)
{
	cg_heartbeat_resp out;
	c->err = cg_heartbeat(C, r, now, A, &out);
	assert_int_equal(c->err, out.error_code);
	c->got_assignment = out.has_assignment;
	if (c->err != KERR_NONE) {
		assert_null(out.member_id.ptr);
		assert_int_equal(out.heartbeat_interval_ms, 0);
		return c->err;
	}
	if (out.member_id.len > 0)
		snprintf(c->id, sizeof(c->id), "%.*s", (int)out.member_id.len, out.member_id.ptr);
	c->epoch = out.member_epoch;
	assert_int_equal(out.heartbeat_interval_ms, 5000);
	if (out.has_assignment) {
		assert_true(out.nassignment <= MAXT);
		c->ntopics = out.nassignment;
		for (int i = 0; i < out.nassignment; i++) {
			memcpy(c->tid[i], out.assignment[i].topic_id, 16);
			assert_true(out.assignment[i].npartitions <= MAXP);
			memcpy(c->parts[i], out.assignment[i].partitions,
			       (size_t)out.assignment[i].npartitions * sizeof(int32_t));
			c->nparts[i] = out.assignment[i].npartitions;
		}
	}
	return c->err;
}

static int16_t join(client *c, const char *id)
{
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->ntopics = 0;
	cg_heartbeat_req r = base_req(c, 0);
	return send_req(c, &r);
}

static int16_t beat(client *c)
{
	cg_heartbeat_req r = base_req(c, c->epoch);
	return send_req(c, &r);
}

static int16_t leave(client *c, int32_t epoch)
{
	cg_heartbeat_req r = base_req(c, epoch);
	cg_heartbeat_resp out;
	int16_t err = cg_heartbeat(C, &r, now, A, &out);
	if (err == KERR_NONE) {
		assert_int_equal(out.member_epoch, epoch);
		assert_false(out.has_assignment);
		assert_int_equal(out.heartbeat_interval_ms, 0);
		assert_true(kstr_eq(out.member_id, c->id));
	}
	return err;
}

static int owned(const client *c)
{
	int n = 0;
	for (int i = 0; i < c->ntopics; i++)
		n += c->nparts[i];
	return n;
}

static bool owns(const client *c, const uint8_t *tid, int32_t p)
{
	for (int i = 0; i < c->ntopics; i++)
		if (memcmp(c->tid[i], tid, 16) == 0)
			for (int j = 0; j < c->nparts[i]; j++)
				if (c->parts[i][j] == p)
					return true;
	return false;
}

/* The protocol's promise: no partition is owned by two clients at once. */
static void no_double_owner(client **cs, int n)
{
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			for (int i = 0; i < cs[a]->ntopics; i++)
				for (int j = 0; j < cs[a]->nparts[i]; j++)
					assert_false(
						owns(cs[b], cs[a]->tid[i], cs[a]->parts[i][j]));
}

static int32_t group_epoch(void)
{
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	return d.group_epoch;
}

static const char *state(void) { return cg_group_state_name(cg_state(C, KSTR_LIT(GROUP))); }

static void tps_text(char **p, char *end, const cg_tps *t, int n)
{
	for (int i = 0; i < n; i++) {
		*p += snprintf(*p, (size_t)(end - *p), " %.*s:", (int)t[i].topic_name.len,
			       t[i].topic_name.ptr);
		for (int j = 0; j < t[i].npartitions; j++)
			*p += snprintf(*p, (size_t)(end - *p), "%d,", t[i].partitions[j]);
	}
}

/* Everything describe shows, as one string. */
static void describe_text(cg_coord *c, char *buf, size_t size)
{
	cg_group_desc d;
	char *p = buf, *end = buf + size;
	assert_true(cg_describe(c, KSTR_LIT(GROUP), A, &d));
	p += snprintf(p, (size_t)(end - p), "%s %d/%d %s %llx\n", d.state_name, d.group_epoch,
		      d.assignment_epoch, d.assignor_name, (unsigned long long)d.metadata_hash);
	for (int i = 0; i < d.nmembers; i++) {
		const cg_member_desc *m = &d.members[i];
		p += snprintf(p, (size_t)(end - p), "%.*s inst=%.*s rack=%.*s e=%d/%d %s %.*s %.*s",
			      (int)m->member_id.len, m->member_id.ptr,
			      m->instance_id.len < 0 ? 4 : (int)m->instance_id.len,
			      m->instance_id.len < 0 ? "null" : m->instance_id.ptr,
			      m->rack_id.len < 0 ? 4 : (int)m->rack_id.len,
			      m->rack_id.len < 0 ? "null" : m->rack_id.ptr, m->member_epoch,
			      m->previous_member_epoch, cg_member_state_name(m->state),
			      (int)m->client_id.len, m->client_id.ptr, (int)m->client_host.len,
			      m->client_host.ptr);
		p += snprintf(p, (size_t)(end - p), " subs=");
		for (int j = 0; j < m->nsubscribed_topic_names; j++)
			p += snprintf(p, (size_t)(end - p), "%.*s,",
				      (int)m->subscribed_topic_names[j].len,
				      m->subscribed_topic_names[j].ptr);
		p += snprintf(
			p, (size_t)(end - p), " re=%.*s as=%.*s rt=%d cur",
			m->subscribed_topic_regex.len < 0 ? 0 : (int)m->subscribed_topic_regex.len,
			m->subscribed_topic_regex.ptr ? m->subscribed_topic_regex.ptr : "",
			m->server_assignor.len < 0 ? 0 : (int)m->server_assignor.len,
			m->server_assignor.ptr ? m->server_assignor.ptr : "",
			m->rebalance_timeout_ms);
		tps_text(&p, end, m->assignment, m->nassignment);
		p += snprintf(p, (size_t)(end - p), " pend");
		tps_text(&p, end, m->pending_revocation, m->npending_revocation);
		p += snprintf(p, (size_t)(end - p), " tgt");
		tps_text(&p, end, m->target_assignment, m->ntarget_assignment);
		p += snprintf(p, (size_t)(end - p), "\n");
	}
}

static void advance(int64_t ms)
{
	now += ms;
	cg_fire_due(C, now);
}

static int setup(void **state)
{
	(void)state;
	now = 1000;
	C = cg_new(NULL);
	A = arena_new();
	assert_non_null(C);
	topics(8, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cg_free(C);
	arena_free(A);
	return 0;
}

/* a joins alone and gets all 8; b joins: a first revokes p4..p7, b gets
 * them only after that. */
static void split(client *a, client *b, const char *assignor)
{
	*a = (client){.topics = {"t1"}, .assignor = assignor};
	*b = (client){.topics = {"t1"}, .assignor = assignor};
	assert_int_equal(join(a, "a"), KERR_NONE);
	assert_int_equal(a->epoch, 1);
	assert_int_equal(owned(a), 8);
	assert_string_equal(state(), "Stable");

	assert_int_equal(join(b, "b"), KERR_NONE);
	assert_int_equal(group_epoch(), 2);
	assert_int_equal(b->epoch, 2);
	assert_int_equal(owned(b), 0); /* a still holds them */
	assert_true(b->got_assignment);
	assert_string_equal(state(), "Reconciling");

	assert_int_equal(beat(a), KERR_NONE); /* told to revoke, epoch kept */
	assert_int_equal(a->epoch, 1);
	assert_int_equal(owned(a), 4);
	for (int p = 0; p < 4; p++)
		assert_true(owns(a, T1, p));

	assert_int_equal(beat(b), KERR_NONE); /* a has not confirmed yet */
	assert_int_equal(owned(b), 0);
	assert_false(b->got_assignment);

	assert_int_equal(beat(a), KERR_NONE); /* revoked: moves to epoch 2 */
	assert_int_equal(a->epoch, 2);
	assert_int_equal(owned(a), 4);

	assert_int_equal(beat(b), KERR_NONE);
	assert_true(b->got_assignment);
	assert_int_equal(owned(b), 4);
	for (int p = 4; p < 8; p++)
		assert_true(owns(b, T1, p));
	assert_string_equal(state(), "Stable");
	client *cs[] = {a, b};
	no_double_owner(cs, 2);
}

static void test_uniform_split(void **st)
{
	(void)st;
	client a, b;
	split(&a, &b, NULL);
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	assert_string_equal(d.assignor_name, "uniform");
	assert_int_equal(d.nmembers, 2);
	assert_int_equal(d.members[0].ntarget_assignment, 1);
	assert_int_equal(d.members[0].target_assignment[0].npartitions, 4);
	assert_true(kstr_eq(d.members[0].target_assignment[0].topic_name, "t1"));
	/* A stable member's heartbeat carries no assignment and changes nothing. */
	kstr *ids;
	cg_take_changed(C, A, &ids);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_false(a.got_assignment);
	assert_int_equal(cg_take_changed(C, A, &ids), 0);
}

static void test_range_split(void **st)
{
	(void)st;
	client a, b, c;
	split(&a, &b, "range");
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	assert_string_equal(d.assignor_name, "range");

	/* A third member: ranges 0-2, 3-5, 6-7 by member id. */
	c = (client){.topics = {"t1"}, .assignor = "range"};
	assert_int_equal(join(&c, "c"), KERR_NONE);
	client *cs[] = {&a, &b, &c};
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 3; k++) {
			assert_int_equal(beat(cs[k]), KERR_NONE);
			no_double_owner(cs, 3);
		}
	}
	assert_string_equal(state(), "Stable");
	assert_int_equal(owned(&a), 3);
	assert_int_equal(owned(&b), 3);
	assert_int_equal(owned(&c), 2);
	for (int p = 0; p < 3; p++)
		assert_true(owns(&a, T1, p));
	for (int p = 3; p < 6; p++)
		assert_true(owns(&b, T1, p));
	assert_true(owns(&c, T1, 6) && owns(&c, T1, 7));
}

/* Range across two topics: each topic split on its own. */
static void test_range_two_topics(void **st)
{
	(void)st;
	topics(3, 3);
	client a = {.topics = {"t1", "t2"}, .assignor = "range"};
	client b = {.topics = {"t1", "t2"}, .assignor = "range"};
	assert_int_equal(join(&a, "m0"), KERR_NONE);
	assert_int_equal(join(&b, "m1"), KERR_NONE);
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	assert_int_equal(d.members[0].ntarget_assignment, 2);
	assert_int_equal(d.members[0].target_assignment[0].npartitions, 2);
	assert_int_equal(d.members[0].target_assignment[1].npartitions, 2);
	assert_int_equal(d.members[1].target_assignment[0].npartitions, 1);
	assert_int_equal(d.members[1].target_assignment[0].partitions[0], 2);
}

/* Every partition of a subscribed topic in exactly one member's target,
 * only members subscribed to its topic; returns max - min partitions. */
static int check_targets(cg_coord *c, const char *const *topic_names, const int *nparts, int nt)
{
	cg_group_desc d;
	assert_true(cg_describe(c, KSTR_LIT(GROUP), A, &d));
	int seen[4][512] = {{0}};
	int lo = 1 << 30, hi = 0;
	for (int i = 0; i < d.nmembers; i++) {
		const cg_member_desc *m = &d.members[i];
		int n = 0;
		for (int k = 0; k < m->ntarget_assignment; k++) {
			const cg_tps *t = &m->target_assignment[k];
			int ti = -1;
			for (int x = 0; x < nt; x++)
				if (kstr_eq(t->topic_name, topic_names[x]))
					ti = x;
			assert_true(ti >= 0);
			bool sub = false;
			for (int x = 0; x < m->nsubscribed_topic_names; x++)
				sub |= kstr_eq(m->subscribed_topic_names[x], topic_names[ti]);
			assert_true(sub);
			for (int j = 0; j < t->npartitions; j++) {
				assert_true(t->partitions[j] >= 0 && t->partitions[j] < nparts[ti]);
				seen[ti][t->partitions[j]]++;
			}
			n += t->npartitions;
		}
		lo = n < lo ? n : lo;
		hi = n > hi ? n : hi;
	}
	for (int x = 0; x < nt; x++)
		for (int p = 0; p < nparts[x]; p++)
			assert_int_equal(seen[x][p], 1);
	return hi - lo;
}

/* Members subscribed to different topics: still one owner per partition,
 * only subscribers, counts within one of each other; and the same result
 * from a second coordinator fed the same requests. */
static void test_uniform_balance(void **st)
{
	(void)st;
	static const char *const names[] = {"t1", "t2"};
	static const int nparts[] = {30, 7};
	char first[8192], second[8192];
	for (int run = 0; run < 2; run++) {
		cg_free(C);
		C = cg_new(NULL);
		topics(30, 7);
		for (int i = 0; i < 10; i++) {
			client m = {.topics = {"t1", i < 5 ? "t2" : NULL}};
			char id[16];
			snprintf(id, sizeof(id), "m%d", (i * 7) % 10);
			assert_int_equal(join(&m, id), KERR_NONE);
			assert_true(check_targets(C, names, nparts, 2) <= 1);
		}
		describe_text(C, run == 0 ? first : second, sizeof(first));
	}
	assert_string_equal(first, second);
	/* A homogeneous group of 40 members over 400 partitions. */
	cg_free(C);
	C = cg_new(NULL);
	topics(400, 0);
	static const int n400[] = {400};
	for (int i = 0; i < 40; i++) {
		client m = {.topics = {"t1"}};
		char id[16];
		snprintf(id, sizeof(id), "m%02d", i);
		assert_int_equal(join(&m, id), KERR_NONE);
	}
	assert_int_equal(check_targets(C, names, n400, 1), 0);
}

static void test_third_member_incremental(void **st)
{
	(void)st;
	client a, b, c = {.topics = {"t1"}};
	split(&a, &b, NULL);
	int32_t e = group_epoch();
	assert_int_equal(join(&c, "c"), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(owned(&c), 0);
	client *cs[] = {&a, &b, &c};
	/* c heartbeats first each round: it must never get a partition that a
	 * or b still owns. */
	for (int round = 0; round < 4; round++)
		for (int k = 2; k >= 0; k--) {
			assert_int_equal(beat(cs[k]), KERR_NONE);
			no_double_owner(cs, 3);
		}
	assert_string_equal(state(), "Stable");
	assert_int_equal(owned(&a) + owned(&b) + owned(&c), 8);
	assert_int_equal(owned(&c), 2);
	assert_true(owned(&a) == 3 && owned(&b) == 3);
	/* Sticky: a and b lost one partition each and kept the rest. */
	for (int p = 0; p < 3; p++)
		assert_true(owns(&a, T1, p));
	for (int p = 4; p < 7; p++)
		assert_true(owns(&b, T1, p));
	assert_int_equal(a.epoch, e + 1);
	assert_int_equal(c.epoch, e + 1);
}

static void test_leave_reassigns(void **st)
{
	(void)st;
	client a, b;
	split(&a, &b, NULL);
	int32_t e = group_epoch();
	assert_int_equal(leave(&b, -1), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_int_equal(owned(&a), 8);
	assert_int_equal(a.epoch, e + 1);
	/* b is gone */
	assert_int_equal(beat(&b), KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(leave(&b, -1), KERR_UNKNOWN_MEMBER_ID);
	/* Last member leaves: Empty, still there. */
	assert_int_equal(leave(&a, -1), KERR_NONE);
	assert_string_equal(state(), "Empty");
	assert_true(cg_is_empty(C, KSTR_LIT(GROUP)));
	assert_int_equal(cg_delete(C, KSTR_LIT(GROUP)), KERR_NONE);
	assert_false(cg_exists(C, KSTR_LIT(GROUP)));
	assert_int_equal(cg_delete(C, KSTR_LIT(GROUP)), KERR_GROUP_ID_NOT_FOUND);
}

static void test_session_expiry(void **st)
{
	(void)st;
	client a, b;
	split(&a, &b, NULL);
	int32_t e = group_epoch();
	assert_int_equal(cg_next_deadline(C), now + 45000);
	for (int i = 0; i < 8; i++) { /* a heartbeats every 5 s, b is silent */
		advance(5000);
		assert_int_equal(beat(&a), KERR_NONE);
	}
	advance(4999);
	assert_int_equal(group_epoch(), e);
	advance(1); /* 45 s since b's last heartbeat */
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_int_equal(owned(&a), 8);
	assert_int_equal(beat(&b), KERR_UNKNOWN_MEMBER_ID);
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	assert_int_equal(d.nmembers, 1);
	/* a's session expires too: the group stays, empty. */
	advance(45000);
	assert_string_equal(state(), "Empty");
	assert_int_equal(cg_next_deadline(C), INT64_MAX);
}

static void test_fencing(void **st)
{
	(void)st;
	client a, b;
	split(&a, &b, NULL);
	client x = a;
	x.epoch = a.epoch + 1; /* ahead */
	assert_int_equal(beat(&x), KERR_FENCED_MEMBER_EPOCH);
	x = a;
	x.epoch = a.epoch - 1; /* the previous epoch, owning a subset: tolerated */
	assert_int_equal(beat(&x), KERR_NONE);
	assert_int_equal(x.epoch, a.epoch);
	x = a;
	x.epoch = a.epoch - 1; /* previous epoch, owning one of b's: fenced */
	x.parts[0][x.nparts[0]++] = 7;
	assert_int_equal(beat(&x), KERR_FENCED_MEMBER_EPOCH);
	x = a;
	x.epoch = a.epoch - 2; /* older than the previous epoch */
	assert_int_equal(beat(&x), KERR_FENCED_MEMBER_EPOCH);
	x = a;
	snprintf(x.id, sizeof(x.id), "nobody");
	assert_int_equal(beat(&x), KERR_UNKNOWN_MEMBER_ID);
	/* An unknown group, for a heartbeat other than a join. */
	cg_heartbeat_req r = base_req(&a, a.epoch);
	r.group_id = KSTR_LIT("other");
	cg_heartbeat_resp out;
	assert_int_equal(cg_heartbeat(C, &r, now, A, &out), KERR_UNKNOWN_MEMBER_ID);
	assert_false(cg_exists(C, KSTR_LIT("other")));
}

/* The client reports owning all n partitions of t1. */
static void own_all(client *c, int n)
{
	c->ntopics = 1;
	memcpy(c->tid[0], T1, 16);
	c->nparts[0] = n;
	for (int p = 0; p < n; p++)
		c->parts[0][p] = p;
}

/* A member that does not revoke within its rebalance timeout (30 s here)
 * is removed. */
static void test_rebalance_timeout(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}}, b = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(join(&b, "b"), KERR_NONE);
	int32_t e = group_epoch();
	int64_t asked = now;
	assert_int_equal(beat(&a), KERR_NONE); /* told to give up 4 */
	assert_int_equal(owned(&a), 4);
	for (int i = 0; i < 5; i++) {
		advance(5000);
		own_all(&a, 8); /* but keeps them */
		assert_int_equal(beat(&a), KERR_NONE);
		assert_int_equal(a.epoch, e - 1);
		assert_int_equal(beat(&b), KERR_NONE);
		assert_int_equal(owned(&b), 0);
	}
	assert_int_equal(cg_next_deadline(C), asked + 30000);
	advance(asked + 30000 - now);
	own_all(&a, 8);
	assert_int_equal(beat(&a), KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(beat(&b), KERR_NONE);
	assert_int_equal(owned(&b), 8);
}

/* A member that revokes in time is not removed. */
static void test_rebalance_timeout_met(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}}, b = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(join(&b, "b"), KERR_NONE);
	int64_t asked = now;
	assert_int_equal(beat(&a), KERR_NONE);
	advance(20000);
	assert_int_equal(beat(&a), KERR_NONE); /* revoked */
	assert_int_equal(beat(&b), KERR_NONE);
	advance(asked + 40000 - now);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_int_equal(owned(&a), 4);
	assert_int_equal(owned(&b), 4);
}

static void test_static_member_restart(void **st)
{
	(void)st;
	client s = {.topics = {"t1"}, .instance = "i1"};
	client d = {.topics = {"t1"}};
	assert_int_equal(join(&s, "s1"), KERR_NONE);
	assert_int_equal(join(&d, "d"), KERR_NONE);
	client *cs[] = {&s, &d};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(beat(&s), KERR_NONE);
		assert_int_equal(beat(&d), KERR_NONE);
		no_double_owner(cs, 2);
	}
	assert_string_equal(state(), "Stable");
	int32_t e = group_epoch();
	client before = s;
	assert_int_equal(owned(&s), 4);

	/* A second instance with the same id while s1 is live. */
	client other = {.topics = {"t1"}, .instance = "i1"};
	assert_int_equal(join(&other, "s2"), KERR_UNRELEASED_INSTANCE_ID);
	/* Heartbeat with the instance id and another member id. */
	other = s;
	snprintf(other.id, sizeof(other.id), "s2");
	assert_int_equal(beat(&other), KERR_FENCED_INSTANCE_ID);
	assert_int_equal(leave(&other, -2), KERR_FENCED_INSTANCE_ID);

	/* Temporary leave: no rebalance, its partitions stay reserved. */
	assert_int_equal(leave(&s, -2), KERR_NONE);
	assert_int_equal(group_epoch(), e);
	assert_int_equal(beat(&d), KERR_NONE);
	assert_int_equal(owned(&d), 4);

	/* Restart under a new member id: same partitions, the group's epoch,
	 * no rebalance. */
	s.ntopics = 0;
	assert_int_equal(join(&s, "s2"), KERR_NONE);
	assert_int_equal(group_epoch(), e);
	assert_int_equal(s.epoch, e);
	assert_int_equal(owned(&s), 4);
	for (int p = 0; p < 8; p++)
		assert_int_equal(owns(&s, T1, p), owns(&before, T1, p));
	assert_string_equal(state(), "Stable");
	/* The old incarnation is fenced by the new one. */
	assert_int_equal(beat(&before), KERR_FENCED_INSTANCE_ID);

	/* Static leave for good (-1): a rebalance. */
	assert_int_equal(leave(&s, -1), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	/* A static member that left with -2 and never came back is removed
	 * when its session expires. */
	client t = {.topics = {"t1"}, .instance = "i2"};
	assert_int_equal(join(&t, "t"), KERR_NONE);
	assert_int_equal(leave(&t, -2), KERR_NONE);
	e = group_epoch();
	for (int i = 0; i < 10; i++) {
		advance(5000);
		assert_int_equal(beat(&d), KERR_NONE);
	}
	assert_int_equal(group_epoch(), e + 1);
	cg_group_desc desc;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &desc));
	assert_int_equal(desc.nmembers, 1);
	/* Unknown instance id on leave. */
	assert_int_equal(leave(&t, -2), KERR_UNKNOWN_MEMBER_ID);
}

/* bob may not see "payments" */
static bool visible(void *arg, kstr principal, kstr host, kstr topic)
{
	(*(int *)arg)++;
	assert_true(kstr_eq(host, "/127.0.0.1"));
	return !(kstr_eq(principal, "User:bob") && kstr_eq(topic, "payments"));
}

static void test_regex_sees_only_visible_topics(void **st)
{
	(void)st;
	int calls = 0;
	cg_free(C);
	cg_options o = CG_DEFAULT_OPTIONS;
	o.topic_visible = visible;
	o.topic_visible_arg = &calls;
	C = cg_new(&o);
	cg_topic t[2] = {
		{.name = KSTR_LIT("orders-1"), .partitions = 2},
		{.name = KSTR_LIT("payments"), .partitions = 1},
	};
	memcpy(t[0].id, T1, 16);
	memcpy(t[1].id, T3, 16);
	cg_set_topics(C, t, 2, now);
	/* A regex resolves to what the member's principal may see; names
	 * subscribed outright are not filtered here (the broker checks them
	 * on the request). */
	client b = {.regex = ".*", .principal = "User:bob"};
	assert_int_equal(join(&b, "b"), KERR_NONE);
	assert_int_equal(owned(&b), 2);
	assert_false(owns(&b, T3, 0));
	assert_false(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("payments")));
	assert_true(calls > 0);
	client a = {.regex = ".*", .principal = "User:alice"};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_true(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("payments")));
	for (int i = 0; i < 10 && (beat(&a) == KERR_NONE) && (beat(&b) == KERR_NONE); i++)
		;
	assert_int_equal(owned(&a) + owned(&b), 3);
	/* Only alice may hold payments. */
	assert_false(owns(&b, T3, 0));
	assert_true(owns(&a, T3, 0));
}

static void test_regex_subscription(void **st)
{
	(void)st;
	cg_topic t[3] = {
		{.name = KSTR_LIT("orders-1"), .partitions = 2},
		{.name = KSTR_LIT("__consumer_offsets"), .partitions = 50},
		{.name = KSTR_LIT("payments"), .partitions = 1},
	};
	memcpy(t[0].id, T1, 16);
	memcpy(t[1].id, TI, 16);
	memcpy(t[2].id, T3, 16);
	cg_set_topics(C, t, 3, now);
	client a = {.regex = "orders-.*"};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(owned(&a), 2);
	assert_true(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("orders-1")));
	assert_true(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("orders-9")));
	assert_false(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("payments")));
	/* The whole name must match. */
	assert_false(cg_subscribed(C, KSTR_LIT(GROUP), KSTR_LIT("old-orders-1")));
	int32_t e = group_epoch();

	/* A new matching topic: the epoch moves and a gets it. */
	cg_topic t2[4] = {t[0], t[1], t[2], {.name = KSTR_LIT("orders-2"), .partitions = 3}};
	memcpy(t2[3].id, T2, 16);
	cg_set_topics(C, t2, 4, now);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_int_equal(owned(&a), 5);
	assert_true(owns(&a, T2, 2));

	/* Internal topics never match a regex. */
	client b = {.regex = ".*"};
	assert_int_equal(join(&b, "b"), KERR_NONE);
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	for (int i = 0; i < d.nmembers; i++)
		for (int j = 0; j < d.members[i].ntarget_assignment; j++)
			assert_false(kstr_eq(d.members[i].target_assignment[j].topic_name,
					     "__consumer_offsets"));

	/* An expression POSIX cannot compile. */
	client c = {.regex = "orders-(1"};
	assert_int_equal(join(&c, "c"), KERR_INVALID_REGULAR_EXPRESSION);
	c.regex = "a)|(b";
	assert_int_equal(join(&c, "c"), KERR_INVALID_REGULAR_EXPRESSION);

	/* A topic deleted: the epoch moves, its partitions are revoked. */
	cg_set_topics(C, t, 3, now);
	assert_int_equal(group_epoch(), e + 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(beat(&a), KERR_NONE);
		assert_int_equal(beat(&b), KERR_NONE);
	}
	assert_false(owns(&a, T2, 0) || owns(&b, T2, 0));
	assert_int_equal(owned(&a) + owned(&b), 3);
}

static void test_partition_count_increase(void **st)
{
	(void)st;
	client a, b;
	split(&a, &b, NULL);
	int32_t e = group_epoch();
	topics(8, 0); /* the same image: nothing moves */
	assert_int_equal(group_epoch(), e);
	topics(12, 0);
	assert_int_equal(group_epoch(), e + 1);
	assert_string_equal(state(), "Reconciling");
	assert_int_equal(beat(&a), KERR_NONE);
	assert_int_equal(beat(&b), KERR_NONE);
	assert_int_equal(owned(&a), 6);
	assert_int_equal(owned(&b), 6);
	assert_string_equal(state(), "Stable");
	/* A topic nobody subscribes to changes nothing. */
	topics(12, 5);
	assert_int_equal(group_epoch(), e + 1);
}

/* A topic deleted and created again under the same name has a new id: the
 * group moves to a new epoch and the members move to the new id. */
static void test_topic_recreated(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(owned(&a), 8);
	int32_t e = group_epoch();
	cg_topic t = {.name = KSTR_LIT("t1"), .partitions = 2};
	memcpy(t.id, T3, 16);
	cg_set_topics(C, &t, 1, now);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(beat(&a), KERR_NONE); /* the old id's partitions go */
	assert_int_equal(owned(&a), 0);
	assert_int_equal(beat(&a), KERR_NONE); /* the new id's come */
	assert_int_equal(owned(&a), 2);
	assert_true(owns(&a, T3, 0) && owns(&a, T3, 1));
	assert_string_equal(state(), "Stable");
}

/* The assignment is in a response when it changed, and in every full
 * request (all of rebalance timeout, subscription and owned partitions),
 * as a client sends after an error; not in a plain heartbeat. */
static void test_full_request_gets_assignment(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(beat(&a), KERR_NONE);
	assert_false(a.got_assignment);
	cg_heartbeat_req r = base_req(&a, a.epoch);
	kstr names[] = {KSTR_LIT("t1")};
	r.rebalance_timeout_ms = 30000;
	r.subscribed_topic_names = names;
	r.nsubscribed_topic_names = 1;
	int32_t e = group_epoch();
	assert_int_equal(send_req(&a, &r), KERR_NONE);
	assert_true(a.got_assignment);
	assert_int_equal(owned(&a), 8);
	assert_int_equal(group_epoch(), e); /* same subscription: no rebalance */
	/* A changed subscription is a rebalance. */
	kstr none[] = {KSTR_LIT("t2")};
	r = base_req(&a, a.epoch);
	r.subscribed_topic_names = none;
	r.nsubscribed_topic_names = 1;
	assert_int_equal(send_req(&a, &r), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	assert_true(a.got_assignment);
	assert_int_equal(owned(&a), 0);
}

static void test_unsupported_assignor(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}, .assignor = "sticky"};
	assert_int_equal(join(&a, "a"), KERR_UNSUPPORTED_ASSIGNOR);
	assert_false(cg_exists(C, KSTR_LIT(GROUP)));
	cg_options o = CG_DEFAULT_OPTIONS;
	o.default_assignor = "cooperative-sticky";
	assert_null(cg_new(&o));
	/* The majority's assignor is the group's; switching bumps the epoch. */
	a.assignor = "uniform";
	assert_int_equal(join(&a, "a"), KERR_NONE);
	int32_t e = group_epoch();
	cg_heartbeat_req r = base_req(&a, a.epoch);
	r.server_assignor = KSTR_LIT("range");
	assert_int_equal(send_req(&a, &r), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	cg_group_desc d;
	assert_true(cg_describe(C, KSTR_LIT(GROUP), A, &d));
	assert_string_equal(d.assignor_name, "range");
}

static void test_invalid_requests(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}};
	snprintf(a.id, sizeof(a.id), "a");
	cg_heartbeat_resp out;
	cg_heartbeat_req r;
#define EXPECT(err, mutate)                                                                        \
	do {                                                                                       \
		r = base_req(&a, 0);                                                               \
		mutate;                                                                            \
		assert_int_equal(cg_heartbeat(C, &r, now, A, &out), err);                          \
		assert_int_equal(out.error_code, err);                                             \
	} while (0)
	EXPECT(KERR_INVALID_REQUEST, r.member_id = KSTR_LIT(""));
	EXPECT(KERR_INVALID_REQUEST, r.member_id = KSTR_NULL);
	EXPECT(KERR_INVALID_REQUEST, r.group_id = KSTR_LIT(""));
	EXPECT(KERR_INVALID_REQUEST, r.instance_id = KSTR_LIT(""));
	EXPECT(KERR_INVALID_REQUEST, r.rack_id = KSTR_LIT(""));
	EXPECT(KERR_INVALID_REQUEST, r.rebalance_timeout_ms = -1);
	EXPECT(KERR_INVALID_REQUEST, r.ntopic_partitions = -1);
	EXPECT(KERR_INVALID_REQUEST, r.ntopic_partitions = 1);
	EXPECT(KERR_INVALID_REQUEST, r.nsubscribed_topic_names = -1);
	EXPECT(KERR_INVALID_REQUEST, r.member_epoch = -3);
	EXPECT(KERR_INVALID_REQUEST, (r.member_epoch = -2, r.instance_id = KSTR_NULL));
	EXPECT(KERR_UNSUPPORTED_ASSIGNOR, r.server_assignor = KSTR_LIT("x"));
	/* v0: the member id may be empty when joining; the caller's fresh id
	 * is used. */
	EXPECT(KERR_INVALID_REQUEST, (r.api_version = 0, r.member_id = KSTR_LIT("")));
	EXPECT(KERR_INVALID_REQUEST,
	       (r.api_version = 0, r.member_id = KSTR_LIT(""), r.member_epoch = 3));
	EXPECT(KERR_NONE, (r.api_version = 0, r.member_id = KSTR_LIT(""),
			   r.generated_member_id = KSTR_LIT("fresh-uuid")));
	assert_true(kstr_eq(out.member_id, "fresh-uuid"));
	assert_int_equal(out.member_epoch, 1);
	/* An empty subscription is allowed: a member with nothing. */
	EXPECT(KERR_NONE, (r.member_id = KSTR_LIT("empty"), r.nsubscribed_topic_names = 0));
	assert_int_equal(out.nassignment, 0);
	assert_true(out.has_assignment);
#undef EXPECT
}

static void test_group_max_size(void **st)
{
	(void)st;
	cg_free(C);
	cg_options o = CG_DEFAULT_OPTIONS;
	o.max_size = 2;
	C = cg_new(&o);
	topics(8, 0);
	client a = {.topics = {"t1"}}, b = {.topics = {"t1"}}, c = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(join(&b, "b"), KERR_NONE);
	assert_int_equal(join(&c, "c"), KERR_GROUP_MAX_SIZE_REACHED);
	assert_int_equal(beat(&a), KERR_NONE); /* members carry on */
	assert_int_equal(leave(&b, -1), KERR_NONE);
	assert_int_equal(join(&c, "c"), KERR_NONE);
}

static void test_commit_validation(void **st)
{
	(void)st;
	bool known;
	assert_int_equal(cg_commit_check(C, KSTR_LIT(GROUP), KSTR_LIT("a"), 1, false, 9, &known),
			 KERR_NONE);
	assert_false(known);
	client a = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	kstr g = KSTR_LIT(GROUP);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), a.epoch, false, 9, &known),
			 KERR_NONE);
	assert_true(known);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), a.epoch + 1, false, 9, &known),
			 KERR_STALE_MEMBER_EPOCH);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), a.epoch - 1, true, 5, &known),
			 KERR_STALE_MEMBER_EPOCH);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), a.epoch, false, 8, &known),
			 KERR_UNSUPPORTED_VERSION);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), a.epoch, true, 3, &known), KERR_NONE);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("zz"), a.epoch, false, 9, &known),
			 KERR_UNKNOWN_MEMBER_ID);
	/* admin commit (epoch -1) while the group has members */
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT(""), -1, false, 9, &known),
			 KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(cg_fetch_check(C, g, KSTR_NULL, -1, &known), KERR_NONE);
	assert_int_equal(cg_fetch_check(C, g, KSTR_LIT("a"), a.epoch, &known), KERR_NONE);
	assert_int_equal(cg_fetch_check(C, g, KSTR_LIT("a"), a.epoch + 5, &known),
			 KERR_STALE_MEMBER_EPOCH);
	assert_int_equal(cg_fetch_check(C, g, KSTR_LIT("b"), 1, &known), KERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(leave(&a, -1), KERR_NONE);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT(""), -1, false, 9, &known), KERR_NONE);
	assert_true(known);
	assert_int_equal(cg_commit_check(C, g, KSTR_LIT("a"), 1, false, 9, &known),
			 KERR_UNKNOWN_MEMBER_ID);
}

static void test_persist_restore(void **st)
{
	(void)st;
	topics(8, 4);
	client a = {.topics = {"t1", "t2"}, .regex = NULL};
	client b = {.topics = {"t1"}, .instance = "ib", .assignor = "uniform"};
	client c = {.regex = "t.*"};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	assert_int_equal(join(&b, "b"), KERR_NONE);
	assert_int_equal(beat(&a), KERR_NONE); /* a now revoking */
	assert_int_equal(join(&c, "c"), KERR_NONE);
	kstr *ids;
	int n = cg_take_changed(C, A, &ids);
	assert_int_equal(n, 1);
	assert_true(kstr_eq(ids[0], GROUP));
	assert_int_equal(cg_take_changed(C, A, &ids), 0);

	char before[4096], after[4096];
	describe_text(C, before, sizeof(before));
	cg_group_record rec;
	assert_true(cg_export(C, KSTR_LIT(GROUP), A, &rec));
	assert_int_equal(rec.nmembers, 3);

	/* A restarted broker: same topics, the record restored. */
	cg_coord *old = C;
	C = cg_new(NULL);
	topics(8, 4);
	assert_int_equal(cg_restore(C, &rec, now), KERR_NONE);
	describe_text(C, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(cg_take_changed(C, A, &ids), 0);
	cg_free(old);

	/* And the members carry on where they were. */
	client *cs[] = {&a, &b, &c};
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 3; k++) {
			assert_int_equal(beat(cs[k]), KERR_NONE);
			no_double_owner(cs, 3);
		}
	assert_string_equal(state(), "Stable");
	assert_int_equal(owned(&a) + owned(&b) + owned(&c), 12);

	/* Restored against changed metadata: the epoch moves. */
	assert_true(cg_export(C, KSTR_LIT(GROUP), A, &rec));
	int32_t e = rec.group_epoch;
	cg_free(C);
	C = cg_new(NULL);
	topics(10, 4);
	assert_int_equal(cg_restore(C, &rec, now), KERR_NONE);
	assert_int_equal(group_epoch(), e + 1);
	assert_int_equal(cg_take_changed(C, A, &ids), 1);

	/* Inconsistent records are refused. */
	cg_member_record bad[2] = {rec.members[0], rec.members[0]};
	cg_group_record r2 = rec;
	r2.members = bad;
	r2.nmembers = 2;
	assert_int_equal(cg_restore(C, &r2, now), KERR_INVALID_REQUEST);
	r2.nmembers = 1;
	bad[0].server_assignor = KSTR_LIT("nope");
	assert_int_equal(cg_restore(C, &r2, now), KERR_INVALID_REQUEST);

	/* Deletion is a change too. */
	cg_list(C, A, &(cg_group_brief *){0});
	for (int i = 0; i < 3; i++)
		leave(cs[i], -1);
	cg_take_changed(C, A, &ids);
	assert_int_equal(cg_delete(C, KSTR_LIT(GROUP)), KERR_NONE);
	assert_int_equal(cg_take_changed(C, A, &ids), 1);
	assert_false(cg_export(C, KSTR_LIT(GROUP), A, &rec));
}

static void test_list_and_states(void **st)
{
	(void)st;
	client a = {.topics = {"t1"}};
	assert_int_equal(join(&a, "a"), KERR_NONE);
	cg_heartbeat_req r = base_req(&a, 0);
	r.group_id = KSTR_LIT("a-first");
	r.member_id = KSTR_LIT("z");
	cg_heartbeat_resp out;
	assert_int_equal(cg_heartbeat(C, &r, now, A, &out), KERR_NONE);
	cg_group_brief *gs;
	assert_int_equal(cg_list(C, A, &gs), 2);
	assert_true(kstr_eq(gs[0].group_id, "a-first"));
	assert_true(kstr_eq(gs[1].group_id, GROUP));
	assert_int_equal(gs[1].state, CG_STABLE);
	assert_int_equal(cg_delete(C, KSTR_LIT(GROUP)), KERR_NON_EMPTY_GROUP);
	/* Forgetting drops even a group with members, and records no change:
	 * there is nothing to write. */
	kstr *ids;
	cg_take_changed(C, A, &ids);
	cg_forget(C, KSTR_LIT("a-first"));
	assert_int_equal(cg_take_changed(C, A, &ids), 0);
	assert_int_equal(cg_state(C, KSTR_LIT("a-first")), CG_DEAD);
	assert_int_equal(cg_list(C, A, &gs), 1);
	cg_forget(C, KSTR_LIT("a-first"));
	cg_group_state s;
	assert_true(cg_group_state_parse(KSTR_LIT("reconciling"), &s));
	assert_int_equal(s, CG_RECONCILING);
	assert_false(cg_group_state_parse(KSTR_LIT("PreparingRebalance"), &s));
	assert_int_equal(cg_state(C, KSTR_LIT("none")), CG_DEAD);
}

/* Server side: no partition in two members' assigned or pending sets. */
static void no_double_holder(void)
{
	cg_group_desc d;
	if (!cg_describe(C, KSTR_LIT(GROUP), A, &d))
		return;
	for (int a = 0; a < d.nmembers; a++)
		for (int b = 0; b < d.nmembers; b++) {
			if (a == b)
				continue;
			const cg_member_desc *x = &d.members[a], *y = &d.members[b];
			for (int i = 0; i < x->nassignment; i++)
				for (int j = 0; j < x->assignment[i].npartitions; j++)
					for (int k = 0; k < y->nassignment + y->npending_revocation;
					     k++) {
						const cg_tps *t =
							k < y->nassignment
								? &y->assignment[k]
								: &y->pending_revocation
									   [k - y->nassignment];
						if (memcmp(t->topic_id, x->assignment[i].topic_id,
							   16) != 0)
							continue;
						for (int l = 0; l < t->npartitions; l++)
							assert_int_not_equal(
								t->partitions[l],
								x->assignment[i].partitions[j]);
					}
		}
}

/* Random joins, heartbeats, leaves, silences and topic changes: the
 * invariants hold at every step, and once everyone heartbeats the group
 * settles with every partition assigned. */
static void test_random_operations(void **st)
{
	(void)st;
	uint32_t seed = 12345;
#define RND(n) ((seed = seed * 1103515245u + 12345u), (int)((seed >> 8) % (uint32_t)(n)))
	enum { N = 6 };
	client cl[N];
	bool in[N] = {false};
	client *ptrs[N];
	for (int i = 0; i < N; i++) {
		cl[i] = (client){.topics = {"t1", i % 2 ? "t2" : NULL},
				 .instance = i < 2 ? (i == 0 ? "s0" : "s1") : NULL};
		ptrs[i] = &cl[i];
	}
	topics(8, 3);
	int p1 = 8;
	for (int step = 0; step < 3000; step++) {
		int i = RND(N);
		char id[32];
		int action = RND(20);
		if (!in[i] || action == 0) {
			snprintf(id, sizeof(id), "m%d-%d", i, step);
			int16_t err = join(&cl[i], id);
			in[i] = err == KERR_NONE;
			if (!in[i]) /* a static member not yet released */
				assert_int_equal(err, KERR_UNRELEASED_INSTANCE_ID);
		} else if (action == 1) {
			int16_t err = leave(&cl[i], -1);
			/* expired while silent */
			assert_true(err == KERR_NONE || err == KERR_UNKNOWN_MEMBER_ID);
			in[i] = false;
			cl[i].ntopics = 0;
		} else if (action == 2 && cl[i].instance) {
			int16_t err = leave(&cl[i], -2);
			/* expired while silent */
			assert_true(err == KERR_NONE || err == KERR_UNKNOWN_MEMBER_ID);
			in[i] = false;
			cl[i].ntopics = 0;
		} else if (action == 3) {
			advance(RND(20000));
		} else if (action == 4) {
			p1 += RND(3);
			if (p1 > 60)
				p1 = 8;
			topics(p1, 3);
		} else {
			int16_t err = beat(&cl[i]);
			if (err != KERR_NONE) {
				/* fenced or expired: drop everything, rejoin later */
				assert_true(err == KERR_UNKNOWN_MEMBER_ID ||
					    err == KERR_FENCED_MEMBER_EPOCH ||
					    err == KERR_FENCED_INSTANCE_ID);
				in[i] = false;
				cl[i].ntopics = 0;
			}
		}
		no_double_holder();
	}
	/* Everyone in and heartbeating: it settles. */
	for (int i = 0; i < N; i++) {
		if (!in[i]) {
			char id[32];
			snprintf(id, sizeof(id), "final%d", i);
			if (join(&cl[i], id) != KERR_NONE) {
				advance(45000);
				assert_int_equal(join(&cl[i], id), KERR_NONE);
			}
			in[i] = true;
		}
	}
	/* Heartbeating every 5 s for 60 s: the incarnations left behind by
	 * rejoins under new ids expire. */
	for (int round = 0; round < 12; round++) {
		advance(5000);
		for (int i = 0; i < N; i++) {
			int16_t err = beat(&cl[i]);
			if (err != KERR_NONE) {
				char id[32];
				snprintf(id, sizeof(id), "again%d-%d", i, round);
				err = join(&cl[i], id);
				assert_true(err == KERR_NONE || err == KERR_UNRELEASED_INSTANCE_ID);
			}
			no_double_holder();
		}
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(beat(&cl[i]), KERR_NONE);
	no_double_owner(ptrs, N);
	if (strcmp(state(), "Stable") != 0) {
		char buf[16384];
		describe_text(C, buf, sizeof(buf));
		fprintf(stderr, "%s", buf);
	}
	assert_string_equal(state(), "Stable");
	int total = 0;
	for (int i = 0; i < N; i++)
		total += owned(&cl[i]);
	assert_int_equal(total, p1 + 3);
#undef RND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uniform_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_two_topics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uniform_balance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_third_member_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_reassigns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fencing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebalance_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebalance_timeout_met, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_member_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regex_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regex_sees_only_visible_topics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_count_increase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topic_recreated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_request_gets_assignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_assignor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_operations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
