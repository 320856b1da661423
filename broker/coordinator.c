/*
 * The group coordinator (see coordinator.h): groups, members, and the
 * classic rebalance protocol as Kafka's GroupCoordinator runs it.
 *
 * Invariants:
 * - A member is "awaiting join" from its JoinGroup until the rebalance
 *   completes, and "awaiting sync" from its SyncGroup (in
 *   CompletingRebalance) until the leader's assignment arrives. While it
 *   awaits either, its session cannot expire (it has a request held here),
 *   except for a brand-new member, whose JoinGroup is held at most
 *   new_member_join_timeout_ms.
 * - num_awaiting counts members awaiting join; a rebalance completes when
 *   every member awaits join and no member id handed out with
 *   MEMBER_ID_REQUIRED is still unused, or when the join deadline passes
 *   (members that did not rejoin are then removed).
 * - After a rebalance every member must send SyncGroup before the sync
 *   deadline (the group's rebalance timeout), or it is removed.
 * - Every waiter gets exactly one callback. A waiter whose member leaves,
 *   is fenced or is replaced is answered on the spot.
 * - A commit is valid when it is written, not only when it arrives:
 *   commits_unwritten counts the commits coord_commit_hold() let through and
 *   whose write has not finished (coord_commit_release()). While it is not
 *   zero no new generation is handed out (complete_join waits, join_deferred)
 *   and the group is not forgotten, so a commit checked against generation N
 *   is in PostgreSQL before any member of generation N+1 can read offsets.
 *   While a rebalance waits so, new commits are refused, so that a stream of
 *   commits cannot hold the rebalance back forever.
 *
 * Why one file of ~1,650 lines: it is one state machine. Every transition
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, expiry, deletion) reads and
 * writes the same group and member records and must keep the invariants
 * above together; split by API, each piece would have to expose the group
 * internals to the others and the invariants would have no single home.
 * The sections below (strings and clock, timers, groups, answers, one per
 * API) are its table of contents. The broker's glue (held requests, the
 * callbacks) is group_coord.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "coordinator.h"
#include "kerr.h"
#include "log.h"
#include "validate.h"

#define CONSUMER_PROTOCOL_TYPE "consumer"

/* A deadline: a libevent timer, or an entry of the armed list that
 * coord_advance() walks when there is no event base. */
typedef struct ctimer ctimer;
struct ctimer {
	int64_t deadline; /* -1: not armed */
	void (*fire)(void *owner);
	void *owner;
	struct event *ev;
	ctimer *prev, *next; /* manual mode: C.armed */
};

typedef struct cprotocol {
	kstr name;
	kstr metadata;
} cprotocol;

typedef struct cgroup cgroup;

typedef struct cmember {
	struct cmember *next; /* g->members, in join order */
	cgroup *group;
	kstr member_id;
	kstr group_instance_id; /* null for dynamic members */
	kstr client_id;
	kstr client_host;
	kstr protocol_type;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	cprotocol *protocols;
	int nprotocols;
	kstr assignment;
	bool is_new; /* joined, first rebalance not completed yet */
	bool awaiting_join;
	void *join_waiter; /* NULL when cancelled */
	bool awaiting_sync;
	void *sync_waiter;
	bool pending_sync; /* must still send SyncGroup for this generation */
	ctimer heartbeat;  /* session expiry */
} cmember;

/* A member id handed out with MEMBER_ID_REQUIRED, not used yet. */
typedef struct cpending {
	struct cpending *next;
	cgroup *group;
	kstr member_id;
	ctimer expiry;
} cpending;

typedef enum join_kind { JOIN_NONE, JOIN_INITIAL, JOIN_NORMAL } join_kind;

struct cgroup {
	cgroup *hnext; /* hash chain */
	kstr group_id;
	group_state state;
	int32_t generation_id;
	kstr protocol_type; /* null: none yet */
	kstr protocol_name; /* null: none selected */
	cmember *members, *members_tail;
	int nmembers;
	int num_awaiting;
	cmember *leader;
	cpending *pending;
	int npending_sync;
	bool new_member_added; /* during the initial delay */
	join_kind join;
	int32_t join_delay_ms;     /* JOIN_INITIAL: the delay now running */
	int32_t join_remaining_ms; /* JOIN_INITIAL: how much longer it may grow */
	ctimer join_timer;
	ctimer sync_timer;
	ctimer empty_timer; /* forget an Empty group after a while */

	int commits_unwritten; /* commits allowed, their SQL write not finished */
	bool join_deferred;    /* complete_join waits for commits_unwritten == 0 */
};

static struct {
	bool ready;
	struct event_base *base;
	coord_options opt;
	coord_join_fn on_join;
	coord_sync_fn on_sync;
	int64_t now; /* manual clock */
	ctimer *armed, *armed_tail;
	cgroup **buckets;
	size_t nbuckets;
	size_t ngroups;
	coord_membership_fn on_membership; /* coord_set_membership_hook() */
} C;

/* strings and clock */
static kstr kown(kstr s);
static void kfree(kstr *s);
static void kreplace(kstr *dst, kstr src);
static bool knull(kstr s);
static kstr kempty_if_null(kstr s);
static kstr member_id_new(kstr prefix);
static int64_t clock_ms(void);
/* timers */
static void timer_init(ctimer *t, void (*fire)(void *), void *owner);
static void timer_arm(ctimer *t, int64_t delay_ms);
static void timer_disarm(ctimer *t);
static void timer_free(ctimer *t);
static void on_timer_event(evutil_socket_t fd, short what, void *arg);
/* groups and members */
static uint64_t hash_kstr(kstr s);
static cgroup *group_find(kstr group_id);
static cgroup *group_create(kstr group_id);
static void group_free(cgroup *g);
static void group_forget(cgroup *g);
static void group_set_state(cgroup *g, group_state s);
static cmember *member_find(cgroup *g, kstr member_id);
static cmember *static_member_find(cgroup *g, kstr group_instance_id);
static cpending *pending_find(cgroup *g, kstr member_id);
static void pending_add(cgroup *g, kstr member_id, int32_t timeout_ms);
static void pending_remove(cgroup *g, cpending *p);
static cmember *member_new(cgroup *g, const coord_join_req *r, kstr member_id);
static void member_set_protocols(cmember *m, const coord_protocol *p, int n);
static bool member_matches(const cmember *m, const coord_protocol *p, int n);
static const cprotocol *member_protocol(const cmember *m, kstr name);
static void group_add(cgroup *g, cmember *m, void *waiter);
static void group_remove(cgroup *g, cmember *m);
static void member_free(cmember *m);
static void member_set_waiter(cmember *m, void *waiter);
static void member_heartbeat(cmember *m);
static int32_t group_rebalance_timeout(const cgroup *g);
static int members_supporting(const cgroup *g, kstr name);
static bool group_supports(const cgroup *g, kstr protocol_type, const coord_protocol *p, int n);
static kstr group_select_protocol(const cgroup *g);
static int16_t validate_member(cgroup *g, kstr member_id, kstr group_instance_id);
/* answers */
static void answer_join(cmember *m, const coord_join_result *r);
static void answer_join_error(cmember *m, kstr member_id, int16_t error);
static void answer_join_current(cgroup *g, cmember *m, bool with_members, kstr leader,
				bool skip_assignment);
static void answer_sync_full(cmember *m, const coord_sync_result *r);
static void answer_sync(cmember *m, int16_t error);
static void reply_join_error(void *waiter, kstr member_id, int16_t error);
/* the protocol */
static void join_new_member(cgroup *g, const coord_join_req *r, void *waiter);
static void join_current_member(cgroup *g, const coord_join_req *r, void *waiter);
static void add_member_and_rebalance(cgroup *g, const coord_join_req *r, kstr member_id,
				     void *waiter);
static void update_static_member(cgroup *g, cmember *m, kstr new_member_id, const coord_join_req *r,
				 void *waiter);
static void update_member_and_rebalance(cgroup *g, cmember *m, const coord_join_req *r,
					void *waiter, const char *reason);
static void update_member(cmember *m, const coord_join_req *r, void *waiter);
static void maybe_prepare_rebalance(cgroup *g, const char *reason);
static void prepare_rebalance(cgroup *g, const char *reason);
static void try_complete_join(cgroup *g);
static void complete_join(cgroup *g);
static void init_next_generation(cgroup *g);
static bool elect_joined_leader(cgroup *g);
static void remove_member_and_update(cgroup *g, cmember *m, const char *reason);
static void propagate_assignment(cgroup *g, int16_t error);
static void pending_sync_done(cgroup *g, cmember *m);
/* views */
static void group_info(cgroup *g, arena *a, coord_group_info *out, bool with_members);
static int subscription_has(kstr metadata, kstr topic);
static int subscription_topics(kstr metadata, arena *a, kstr **topics, int *n, int *cap);
/* timer callbacks */
static void on_join_deadline(void *owner);
static void on_sync_deadline(void *owner);
static void on_member_expiry(void *owner);
static void on_pending_expiry(void *owner);
static void on_empty_expiry(void *owner);

const char *group_state_name(group_state s)
{
	switch (s) {
	case GROUP_EMPTY:
		return "Empty";
	case GROUP_PREPARING_REBALANCE:
		return "PreparingRebalance";
	case GROUP_COMPLETING_REBALANCE:
		return "CompletingRebalance";
	case GROUP_STABLE:
		return "Stable";
	case GROUP_DEAD:
		return "Dead";
	}
	return "Unknown";
}

/* ---- strings, ids, clock ---- */

/* A malloc'd copy (NUL-terminated for logging); null stays null. */
static kstr kown(kstr s)
{
	if (s.len < 0)
		return KSTR_NULL;
	char *p = malloc((size_t)s.len + 1);
	if (!p) {
		log_error("out of memory in the group coordinator");
		abort();
	}
	if (s.len > 0)
		memcpy(p, s.ptr, (size_t)s.len);
	p[s.len] = 0;
	return (kstr){p, s.len};
}

static void kfree(kstr *s)
{
	free((void *)s->ptr);
	*s = KSTR_NULL;
}

static void kreplace(kstr *dst, kstr src)
{
	kstr copy = kown(src);
	kfree(dst);
	*dst = copy;
}

static bool knull(kstr s) { return s.len < 0; }

static kstr kempty_if_null(kstr s) { return s.len < 0 ? KSTR_LIT("") : s; }

/* Kafka's form: the client id (or group.instance.id), a dash, a UUID. */
static kstr member_id_new(kstr prefix)
{
	uint8_t r[16];
	char buf[64];
	kwriter w;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		int64_t t = clock_ms();
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)(rand() ^ (t >> (i % 8 * 8)));
	}
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	snprintf(buf, sizeof(buf),
		 "-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
	kw_init(&w, 128);
	if (prefix.len > 0)
		kw_raw(&w, prefix.ptr, (size_t)prefix.len);
	kw_raw(&w, buf, strlen(buf));
	kstr id = kown((kstr){(const char *)w.buf, (int32_t)w.len});
	kw_free(&w);
	return id;
}

static int64_t clock_ms(void)
{
	if (!C.base)
		return C.now;
	return clock_mono_ms();
}

int64_t coord_now(void) { return clock_ms(); }

/* ---- timers ---- */

static void timer_init(ctimer *t, void (*fire)(void *), void *owner)
{
	memset(t, 0, sizeof(*t));
	t->deadline = -1;
	t->fire = fire;
	t->owner = owner;
	if (C.base) {
		t->ev = evtimer_new(C.base, on_timer_event, t);
		if (!t->ev) {
			log_error("out of memory creating a group coordinator timer");
			abort();
		}
	}
}

static void timer_arm(ctimer *t, int64_t delay_ms)
{
	timer_disarm(t);
	if (delay_ms < 0)
		delay_ms = 0;
	t->deadline = clock_ms() + delay_ms;
	if (C.base) {
		struct timeval tv = {(time_t)(delay_ms / 1000),
				     (suseconds_t)(delay_ms % 1000) * 1000};
		evtimer_add(t->ev, &tv);
		return;
	}
	t->next = NULL;
	t->prev = C.armed_tail;
	if (C.armed_tail)
		C.armed_tail->next = t;
	else
		C.armed = t;
	C.armed_tail = t;
}

static void timer_disarm(ctimer *t)
{
	if (t->deadline < 0)
		return;
	t->deadline = -1;
	if (C.base) {
		evtimer_del(t->ev);
		return;
	}
	if (t->prev)
		t->prev->next = t->next;
	else
		C.armed = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		C.armed_tail = t->prev;
	t->prev = t->next = NULL;
}

static void timer_free(ctimer *t)
{
	timer_disarm(t);
	if (t->ev)
		event_free(t->ev);
	t->ev = NULL;
}

/* The owner may free the timer from fire(): nothing touches t after it. */
static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
	ctimer *t = arg;

	(void)fd;
	(void)what;
	t->deadline = -1;
	t->fire(t->owner);
}

void coord_advance(int64_t now_ms)
{
	if (C.base)
		return;
	/* Each timer fires with the clock at its own deadline, so that what
	 * it arms counts from then, as it would in real time. */
	for (;;) {
		ctimer *due = NULL;
		for (ctimer *t = C.armed; t; t = t->next)
			if (t->deadline <= now_ms && (!due || t->deadline < due->deadline))
				due = t;
		if (!due)
			break;
		if (due->deadline > C.now)
			C.now = due->deadline;
		timer_disarm(due);
		due->fire(due->owner);
	}
	if (now_ms > C.now)
		C.now = now_ms;
}

/* ---- start and stop ---- */

void coord_init(struct event_base *base, const coord_options *opt, coord_join_fn on_join,
		coord_sync_fn on_sync)
{
	static const coord_options defaults = COORD_DEFAULT_OPTIONS;

	if (C.ready)
		coord_shutdown();
	memset(&C, 0, sizeof(C));
	C.base = base;
	C.opt = opt ? *opt : defaults;
	C.on_join = on_join;
	C.on_sync = on_sync;
	C.nbuckets = 64;
	C.buckets = calloc(C.nbuckets, sizeof(*C.buckets));
	if (!C.buckets) {
		log_error("out of memory starting the group coordinator");
		abort();
	}
	C.ready = true;
}

void coord_shutdown(void)
{
	if (!C.ready)
		return;
	for (size_t b = 0; b < C.nbuckets; b++) {
		while (C.buckets[b]) {
			cgroup *g = C.buckets[b];
			for (cmember *m = g->members; m; m = m->next) {
				answer_join_error(m, m->member_id, KERR_NOT_COORDINATOR);
				answer_sync(m, KERR_NOT_COORDINATOR);
			}
			group_forget(g);
		}
	}
	free(C.buckets);
	memset(&C, 0, sizeof(C));
}

/* ---- groups ---- */

static uint64_t hash_kstr(kstr s)
{
	uint64_t h = 1469598103934665603ULL;
	for (int32_t i = 0; i < s.len; i++) {
		h ^= (uint8_t)s.ptr[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static cgroup *group_find(kstr group_id)
{
	if (!C.ready || group_id.len < 0)
		return NULL;
	for (cgroup *g = C.buckets[hash_kstr(group_id) % C.nbuckets]; g; g = g->hnext)
		if (kstr_eqk(g->group_id, group_id))
			return g;
	return NULL;
}

static cgroup *group_create(kstr group_id)
{
	if (C.ngroups >= C.nbuckets) {
		size_t n = C.nbuckets * 2;
		cgroup **nb = calloc(n, sizeof(*nb));
		if (nb) {
			for (size_t b = 0; b < C.nbuckets; b++) {
				while (C.buckets[b]) {
					cgroup *g = C.buckets[b];
					C.buckets[b] = g->hnext;
					size_t h = hash_kstr(g->group_id) % n;
					g->hnext = nb[h];
					nb[h] = g;
				}
			}
			free(C.buckets);
			C.buckets = nb;
			C.nbuckets = n;
		}
	}
	cgroup *g = calloc(1, sizeof(*g));
	if (!g) {
		log_error("out of memory creating a group");
		abort();
	}
	g->group_id = kown(group_id);
	g->protocol_type = KSTR_NULL;
	g->protocol_name = KSTR_NULL;
	g->state = GROUP_EMPTY;
	timer_init(&g->join_timer, on_join_deadline, g);
	timer_init(&g->sync_timer, on_sync_deadline, g);
	timer_init(&g->empty_timer, on_empty_expiry, g);
	size_t h = hash_kstr(group_id) % C.nbuckets;
	g->hnext = C.buckets[h];
	C.buckets[h] = g;
	C.ngroups++;
	timer_arm(&g->empty_timer, C.opt.empty_group_retention_ms);
	return g;
}

/* Unlink from the table and free; the group must have no waiters left. */
static void group_forget(cgroup *g)
{
	size_t h = hash_kstr(g->group_id) % C.nbuckets;
	for (cgroup **pp = &C.buckets[h]; *pp; pp = &(*pp)->hnext) {
		if (*pp == g) {
			*pp = g->hnext;
			break;
		}
	}
	C.ngroups--;
	group_free(g);
}

static void group_free(cgroup *g)
{
	while (g->members) {
		cmember *m = g->members;
		g->members = m->next;
		member_free(m);
	}
	while (g->pending)
		pending_remove(g, g->pending);
	timer_free(&g->join_timer);
	timer_free(&g->sync_timer);
	timer_free(&g->empty_timer);
	kfree(&g->group_id);
	kfree(&g->protocol_type);
	kfree(&g->protocol_name);
	free(g);
}

static void group_set_state(cgroup *g, group_state s)
{
	if (g->state == s)
		return;
	if ((g->state == GROUP_EMPTY) != (s == GROUP_EMPTY) && C.on_membership)
		C.on_membership(g->group_id, s != GROUP_EMPTY, C.base ? clock_wall_ms() : C.now);
	g->state = s;
	if (s == GROUP_EMPTY)
		timer_arm(&g->empty_timer, C.opt.empty_group_retention_ms);
	else
		timer_disarm(&g->empty_timer);
}

static cmember *member_find(cgroup *g, kstr member_id)
{
	for (cmember *m = g->members; m; m = m->next)
		if (kstr_eqk(m->member_id, member_id))
			return m;
	return NULL;
}

static cmember *static_member_find(cgroup *g, kstr group_instance_id)
{
	if (knull(group_instance_id))
		return NULL;
	for (cmember *m = g->members; m; m = m->next)
		if (kstr_eqk(m->group_instance_id, group_instance_id))
			return m;
	return NULL;
}

static cpending *pending_find(cgroup *g, kstr member_id)
{
	for (cpending *p = g->pending; p; p = p->next)
		if (kstr_eqk(p->member_id, member_id))
			return p;
	return NULL;
}

static void pending_add(cgroup *g, kstr member_id, int32_t timeout_ms)
{
	cpending *p = calloc(1, sizeof(*p));
	if (!p) {
		log_error("out of memory adding a pending member");
		abort();
	}
	p->group = g;
	p->member_id = kown(member_id);
	timer_init(&p->expiry, on_pending_expiry, p);
	timer_arm(&p->expiry, timeout_ms);
	p->next = g->pending;
	g->pending = p;
}

static void pending_remove(cgroup *g, cpending *p)
{
	for (cpending **pp = &g->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	timer_free(&p->expiry);
	kfree(&p->member_id);
	free(p);
}

static cmember *member_new(cgroup *g, const coord_join_req *r, kstr member_id)
{
	cmember *m = calloc(1, sizeof(*m));
	if (!m) {
		log_error("out of memory adding a group member");
		abort();
	}
	m->group = g;
	m->member_id = kown(member_id);
	m->group_instance_id = kown(r->group_instance_id);
	m->client_id = kown(kempty_if_null(r->client_id));
	m->client_host = kown(kempty_if_null(r->client_host));
	m->protocol_type = kown(r->protocol_type);
	m->session_timeout_ms = r->session_timeout_ms;
	m->rebalance_timeout_ms = r->rebalance_timeout_ms;
	m->assignment = kown(KSTR_LIT(""));
	member_set_protocols(m, r->protocols, r->nprotocols);
	timer_init(&m->heartbeat, on_member_expiry, m);
	return m;
}

static void member_set_protocols(cmember *m, const coord_protocol *p, int n)
{
	for (int i = 0; i < m->nprotocols; i++) {
		kfree(&m->protocols[i].name);
		kfree(&m->protocols[i].metadata);
	}
	free(m->protocols);
	m->protocols = NULL;
	m->nprotocols = 0;
	if (n <= 0)
		return;
	m->protocols = calloc((size_t)n, sizeof(*m->protocols));
	if (!m->protocols) {
		log_error("out of memory storing member protocols");
		abort();
	}
	for (int i = 0; i < n; i++) {
		m->protocols[i].name = kown(kempty_if_null(p[i].name));
		m->protocols[i].metadata = kown(kempty_if_null(p[i].metadata));
	}
	m->nprotocols = n;
}

/* Same protocols, same order, same metadata. */
static bool member_matches(const cmember *m, const coord_protocol *p, int n)
{
	if (n != m->nprotocols)
		return false;
	for (int i = 0; i < n; i++)
		if (!kstr_eqk(m->protocols[i].name, kempty_if_null(p[i].name)) ||
		    !kstr_eqk(m->protocols[i].metadata, kempty_if_null(p[i].metadata)))
			return false;
	return true;
}

static const cprotocol *member_protocol(const cmember *m, kstr name)
{
	for (int i = 0; i < m->nprotocols; i++)
		if (kstr_eqk(m->protocols[i].name, name))
			return &m->protocols[i];
	return NULL;
}

static void group_add(cgroup *g, cmember *m, void *waiter)
{
	if (g->nmembers == 0)
		kreplace(&g->protocol_type, m->protocol_type);
	if (!g->leader)
		g->leader = m;
	m->next = NULL;
	if (g->members_tail)
		g->members_tail->next = m;
	else
		g->members = m;
	g->members_tail = m;
	g->nmembers++;
	member_set_waiter(m, waiter);
	cpending *p = pending_find(g, m->member_id);
	if (p)
		pending_remove(g, p);
}

/* Take m out of the group and free it. Its waiters, if any, learn that it
 * is no longer a member. */
static void group_remove(cgroup *g, cmember *m)
{
	answer_join_error(m, KSTR_LIT(""), KERR_UNKNOWN_MEMBER_ID);
	answer_sync(m, KERR_UNKNOWN_MEMBER_ID);
	cmember *prev = NULL;
	for (cmember *x = g->members; x; prev = x, x = x->next) {
		if (x != m)
			continue;
		if (prev)
			prev->next = m->next;
		else
			g->members = m->next;
		if (g->members_tail == m)
			g->members_tail = prev;
		break;
	}
	g->nmembers--;
	if (m->pending_sync)
		g->npending_sync--;
	if (g->leader == m)
		g->leader = g->members;
	member_free(m);
}

static void member_free(cmember *m)
{
	timer_free(&m->heartbeat);
	member_set_protocols(m, NULL, 0);
	kfree(&m->member_id);
	kfree(&m->group_instance_id);
	kfree(&m->client_id);
	kfree(&m->client_host);
	kfree(&m->protocol_type);
	kfree(&m->assignment);
	free(m);
}

/* The member's JoinGroup is now held here. A JoinGroup it sent earlier and
 * that is still held is superseded: it gets REBALANCE_IN_PROGRESS. */
static void member_set_waiter(cmember *m, void *waiter)
{
	answer_join_error(m, m->member_id, KERR_REBALANCE_IN_PROGRESS);
	m->awaiting_join = true;
	m->join_waiter = waiter;
	m->group->num_awaiting++;
}

/* Alive: the session starts over. */
static void member_heartbeat(cmember *m) { timer_arm(&m->heartbeat, m->session_timeout_ms); }

static int32_t group_rebalance_timeout(const cgroup *g)
{
	int32_t t = 0;
	for (const cmember *m = g->members; m; m = m->next)
		if (m->rebalance_timeout_ms > t)
			t = m->rebalance_timeout_ms;
	return t;
}

static int members_supporting(const cgroup *g, kstr name)
{
	int n = 0;
	for (const cmember *m = g->members; m; m = m->next)
		if (member_protocol(m, name))
			n++;
	return n;
}

/* May a member with these protocols join? An Empty group takes any
 * protocol type; otherwise the type must match and one of the protocols
 * must be supported by every current member. */
static bool group_supports(const cgroup *g, kstr protocol_type, const coord_protocol *p, int n)
{
	if (g->state == GROUP_EMPTY)
		return protocol_type.len > 0 && n > 0;
	if (!kstr_eqk(g->protocol_type, protocol_type))
		return false;
	for (int i = 0; i < n; i++)
		if (members_supporting(g, kempty_if_null(p[i].name)) == g->nmembers)
			return true;
	return false;
}

/* Kafka's vote: the candidates are the protocols every member supports;
 * each member votes for the first candidate in its own preference order;
 * most votes wins (ties: the first member's preference). */
static kstr group_select_protocol(const cgroup *g)
{
	const cmember *first = g->members;
	kstr best = KSTR_NULL;
	int best_votes = 0;

	if (!first || first->nprotocols <= 0)
		return KSTR_NULL;
	/* Candidates are among the first member's protocols, like any
	 * protocol every member supports. */
	int n = first->nprotocols;
	int *votes = calloc((size_t)n, sizeof(*votes));
	bool *candidate = calloc((size_t)n, sizeof(*candidate));
	if (!votes || !candidate) {
		log_error("out of memory selecting a group protocol");
		abort();
	}
	for (int i = 0; i < n; i++)
		candidate[i] = members_supporting(g, first->protocols[i].name) == g->nmembers;
	for (const cmember *m = g->members; m; m = m->next) {
		bool voted = false;
		for (int j = 0; j < m->nprotocols && !voted; j++) {
			for (int i = 0; i < n && !voted; i++) {
				if (candidate[i] &&
				    kstr_eqk(m->protocols[j].name, first->protocols[i].name)) {
					votes[i]++;
					voted = true;
				}
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (votes[i] > best_votes) {
			best = first->protocols[i].name;
			best_votes = votes[i];
		}
	}
	free(votes);
	free(candidate);
	return best;
}

/* The member exists, and a group.instance.id, if given, is the one it
 * joined with (else the caller is a fenced, older instance). */
static int16_t validate_member(cgroup *g, kstr member_id, kstr group_instance_id)
{
	if (!knull(group_instance_id)) {
		cmember *s = static_member_find(g, group_instance_id);
		if (!s)
			return KERR_UNKNOWN_MEMBER_ID;
		if (!kstr_eqk(s->member_id, member_id)) {
			log_info("group %s: member %.*s with group.instance.id %.*s is fenced by "
				 "member %s",
				 g->group_id.ptr, member_id.len, member_id.ptr,
				 group_instance_id.len, group_instance_id.ptr, s->member_id.ptr);
			return KERR_FENCED_INSTANCE_ID;
		}
		return KERR_NONE;
	}
	return member_find(g, member_id) ? KERR_NONE : KERR_UNKNOWN_MEMBER_ID;
}

/* ---- answers ---- */

static void answer_join(cmember *m, const coord_join_result *r)
{
	if (!m->awaiting_join)
		return;
	void *w = m->join_waiter;
	m->awaiting_join = false;
	m->join_waiter = NULL;
	m->group->num_awaiting--;
	if (w)
		C.on_join(w, r);
}

static void answer_join_error(cmember *m, kstr member_id, int16_t error)
{
	coord_join_result r = {.error_code = error,
			       .generation_id = -1,
			       .protocol_type = KSTR_NULL,
			       .protocol_name = KSTR_NULL,
			       .leader = KSTR_LIT(""),
			       .member_id = member_id};
	answer_join(m, &r);
}

static void reply_join_error(void *waiter, kstr member_id, int16_t error)
{
	coord_join_result r = {.error_code = error,
			       .generation_id = -1,
			       .protocol_type = KSTR_NULL,
			       .protocol_name = KSTR_NULL,
			       .leader = KSTR_LIT(""),
			       .member_id = kempty_if_null(member_id)};
	C.on_join(waiter, &r);
}

/* The current generation, as a completed rebalance tells it. The leader
 * (with_members) also gets every member's metadata for the protocol. */
static void answer_join_current(cgroup *g, cmember *m, bool with_members, kstr leader,
				bool skip_assignment)
{
	coord_member_meta *metas = NULL;
	int n = 0;

	if (with_members && g->nmembers > 0) {
		metas = calloc((size_t)g->nmembers, sizeof(*metas));
		if (!metas) {
			log_error("out of memory answering JoinGroup");
			abort();
		}
		for (cmember *x = g->members; x; x = x->next) {
			const cprotocol *p = member_protocol(x, g->protocol_name);
			metas[n].member_id = x->member_id;
			metas[n].group_instance_id = x->group_instance_id;
			metas[n].metadata = p ? p->metadata : KSTR_LIT("");
			n++;
		}
	}
	coord_join_result r = {.error_code = KERR_NONE,
			       .generation_id = g->generation_id,
			       .protocol_type = g->protocol_type,
			       .protocol_name = g->protocol_name,
			       .leader = leader,
			       .member_id = m->member_id,
			       .skip_assignment = skip_assignment,
			       .nmembers = n,
			       .members = metas};
	answer_join(m, &r);
	free(metas);
}

static void answer_sync_full(cmember *m, const coord_sync_result *r)
{
	if (!m->awaiting_sync)
		return;
	void *w = m->sync_waiter;
	m->awaiting_sync = false;
	m->sync_waiter = NULL;
	if (w)
		C.on_sync(w, r);
}

static void answer_sync(cmember *m, int16_t error)
{
	coord_sync_result r = {error, KSTR_NULL, KSTR_NULL, KSTR_LIT("")};
	answer_sync_full(m, &r);
}

/* ---- JoinGroup ---- */

void coord_join(const coord_join_req *r, void *waiter)
{
	kstr member_id = kempty_if_null(r->member_id);

	/* A group whose id is too long to store (validate.h) is refused at
	 * once rather than at its first commit. */
	if (r->group_id.len <= 0 || !pgid_valid(r->group_id)) {
		reply_join_error(waiter, member_id, KERR_INVALID_GROUP_ID);
		return;
	}
	if (r->session_timeout_ms < C.opt.min_session_timeout_ms ||
	    r->session_timeout_ms > C.opt.max_session_timeout_ms) {
		reply_join_error(waiter, member_id, KERR_INVALID_SESSION_TIMEOUT);
		return;
	}
	bool unknown = member_id.len == 0;
	cgroup *g = group_find(r->group_id);
	if (!g) {
		/* A member id for a group we do not know: the member is from
		 * before a restart, or the group was deleted. */
		if (!unknown) {
			reply_join_error(waiter, member_id, KERR_UNKNOWN_MEMBER_ID);
			return;
		}
		g = group_create(r->group_id);
	}
	if (unknown)
		join_new_member(g, r, waiter);
	else
		join_current_member(g, r, waiter);
	if (g->state == GROUP_PREPARING_REBALANCE)
		try_complete_join(g);
}

static void join_new_member(cgroup *g, const coord_join_req *r, void *waiter)
{
	if (!group_supports(g, r->protocol_type, r->protocols, r->nprotocols)) {
		reply_join_error(waiter, KSTR_LIT(""), KERR_INCONSISTENT_GROUP_PROTOCOL);
		return;
	}
	bool is_static = !knull(r->group_instance_id);
	kstr id = member_id_new(is_static ? r->group_instance_id : kempty_if_null(r->client_id));
	if (is_static) {
		cmember *old = static_member_find(g, r->group_instance_id);
		if (old)
			update_static_member(g, old, id, r, waiter);
		else
			add_member_and_rebalance(g, r, id, waiter);
	} else if (r->require_known_member_id) {
		/* JoinGroup v4+: hand out the id first, so that a client that
		 * times out and retries does not leave a stale member behind. */
		pending_add(g, id, r->session_timeout_ms);
		log_debug("group %s: new member gets id %s and must rejoin with it",
			  g->group_id.ptr, id.ptr);
		reply_join_error(waiter, id, KERR_MEMBER_ID_REQUIRED);
	} else {
		add_member_and_rebalance(g, r, id, waiter);
	}
	kfree(&id);
}

static void join_current_member(cgroup *g, const coord_join_req *r, void *waiter)
{
	kstr member_id = r->member_id;

	if (!group_supports(g, r->protocol_type, r->protocols, r->nprotocols)) {
		reply_join_error(waiter, member_id, KERR_INCONSISTENT_GROUP_PROTOCOL);
		return;
	}
	cpending *p = pending_find(g, member_id);
	if (p) {
		if (!knull(r->group_instance_id)) {
			/* Ids handed out with MEMBER_ID_REQUIRED are dynamic. */
			reply_join_error(waiter, member_id, KERR_UNKNOWN_MEMBER_ID);
			return;
		}
		add_member_and_rebalance(g, r, member_id, waiter);
		return;
	}
	int16_t err = validate_member(g, member_id, r->group_instance_id);
	if (err) {
		reply_join_error(waiter, member_id, err);
		return;
	}
	cmember *m = member_find(g, member_id);
	switch (g->state) {
	case GROUP_PREPARING_REBALANCE:
		update_member_and_rebalance(g, m, r, waiter, "member rejoins during a rebalance");
		break;
	case GROUP_COMPLETING_REBALANCE:
		if (member_matches(m, r->protocols, r->nprotocols)) {
			/* It missed the JoinGroup answer: send it again. */
			member_set_waiter(m, waiter);
			answer_join_current(g, m, g->leader == m, g->leader->member_id, false);
		} else {
			update_member_and_rebalance(g, m, r, waiter, "member changed its metadata");
		}
		break;
	case GROUP_STABLE:
		if (g->leader == m) {
			/* The leader rejoins to make the group rebalance, e.g.
			 * after a topic metadata change. */
			update_member_and_rebalance(g, m, r, waiter, "the leader rejoins");
		} else if (!member_matches(m, r->protocols, r->nprotocols)) {
			update_member_and_rebalance(g, m, r, waiter, "member changed its metadata");
		} else {
			member_set_waiter(m, waiter);
			answer_join_current(g, m, false, g->leader->member_id, false);
		}
		break;
	case GROUP_EMPTY:
	case GROUP_DEAD:
		reply_join_error(waiter, member_id, KERR_UNKNOWN_MEMBER_ID);
		break;
	}
}

static void add_member_and_rebalance(cgroup *g, const coord_join_req *r, kstr member_id,
				     void *waiter)
{
	cmember *m = member_new(g, r, member_id);

	m->is_new = true;
	if (g->state == GROUP_PREPARING_REBALANCE && g->generation_id == 0)
		g->new_member_added = true;
	group_add(g, m, waiter);
	/* A new member cannot heartbeat before it has its id, and its held
	 * JoinGroup hides a disconnect: bound how long it may wait. */
	timer_arm(&m->heartbeat, C.opt.new_member_join_timeout_ms);
	log_info("group %s: member %s (client %s%s%.*s) joins", g->group_id.ptr, m->member_id.ptr,
		 m->client_id.ptr, knull(m->group_instance_id) ? "" : ", group.instance.id ",
		 knull(m->group_instance_id) ? 0 : m->group_instance_id.len,
		 knull(m->group_instance_id) ? "" : m->group_instance_id.ptr);
	maybe_prepare_rebalance(g, "a member joins");
}

/*
 * A static member restarted: it joins without a member id but with the
 * group.instance.id it had. It takes over its old place (and assignment)
 * under a new member id; the old id is fenced. In a Stable group whose
 * protocol does not change, nobody else rebalances.
 */
static void update_static_member(cgroup *g, cmember *m, kstr new_member_id, const coord_join_req *r,
				 void *waiter)
{
	kstr old_leader = kown(g->leader ? g->leader->member_id : KSTR_LIT(""));

	answer_join_error(m, m->member_id, KERR_FENCED_INSTANCE_ID);
	answer_sync(m, KERR_FENCED_INSTANCE_ID);
	log_info("group %s: static member %s replaces member %s (group.instance.id %s)",
		 g->group_id.ptr, new_member_id.ptr, m->member_id.ptr, m->group_instance_id.ptr);
	kreplace(&m->member_id, new_member_id);
	member_heartbeat(m);
	update_member(m, r, waiter);

	switch (g->state) {
	case GROUP_STABLE: {
		kstr selected = group_select_protocol(g);
		if (kstr_eqk(selected, g->protocol_name)) {
			if (r->supports_skip_assignment) {
				/* v9: the leader learns it leads, but must not
				 * compute a new assignment. */
				bool lead = g->leader == m;
				answer_join_current(g, m, lead, g->leader->member_id, lead);
			} else {
				/* Older versions: name the old leader id, so that a
				 * restarted leader does not think it leads. */
				answer_join_current(g, m, false, old_leader, false);
			}
		} else {
			maybe_prepare_rebalance(g, "a static member rejoins with other protocols");
		}
		break;
	}
	case GROUP_COMPLETING_REBALANCE:
		/* The leader may already hold the old member id: start over. */
		prepare_rebalance(g, "a static member rejoins during CompletingRebalance");
		break;
	case GROUP_PREPARING_REBALANCE:
	case GROUP_EMPTY:
	case GROUP_DEAD:
		break;
	}
	kfree(&old_leader);
}

static void update_member(cmember *m, const coord_join_req *r, void *waiter)
{
	member_set_protocols(m, r->protocols, r->nprotocols);
	m->rebalance_timeout_ms = r->rebalance_timeout_ms;
	m->session_timeout_ms = r->session_timeout_ms;
	member_set_waiter(m, waiter);
}

static void update_member_and_rebalance(cgroup *g, cmember *m, const coord_join_req *r,
					void *waiter, const char *reason)
{
	update_member(m, r, waiter);
	maybe_prepare_rebalance(g, reason);
}

static void maybe_prepare_rebalance(cgroup *g, const char *reason)
{
	if (g->state == GROUP_STABLE || g->state == GROUP_COMPLETING_REBALANCE ||
	    g->state == GROUP_EMPTY)
		prepare_rebalance(g, reason);
}

static void prepare_rebalance(cgroup *g, const char *reason)
{
	if (g->state == GROUP_COMPLETING_REBALANCE) {
		/* Members waiting for the leader's assignment must rejoin. */
		for (cmember *m = g->members; m; m = m->next) {
			kfree(&m->assignment);
			m->assignment = kown(KSTR_LIT(""));
		}
		propagate_assignment(g, KERR_REBALANCE_IN_PROGRESS);
	}
	for (cmember *m = g->members; m; m = m->next)
		m->pending_sync = false;
	g->npending_sync = 0;
	timer_disarm(&g->sync_timer);

	int32_t rebalance_timeout = group_rebalance_timeout(g);
	if (g->state == GROUP_EMPTY) {
		/* group.initial.rebalance.delay.ms: let the first members of a
		 * new group arrive together instead of rebalancing per member. */
		g->join = JOIN_INITIAL;
		g->join_delay_ms = C.opt.initial_rebalance_delay_ms;
		g->join_remaining_ms = rebalance_timeout - g->join_delay_ms;
		if (g->join_remaining_ms < 0)
			g->join_remaining_ms = 0;
		g->new_member_added = false;
		timer_arm(&g->join_timer, g->join_delay_ms);
	} else {
		g->join = JOIN_NORMAL;
		timer_arm(&g->join_timer, rebalance_timeout);
	}
	log_info("group %s: preparing to rebalance from %s, generation %d (%s)", g->group_id.ptr,
		 group_state_name(g->state), g->generation_id, reason);
	group_set_state(g, GROUP_PREPARING_REBALANCE);
	try_complete_join(g);
}

/* The join phase ends early once every member has rejoined (not during
 * the initial delay, which always runs its course). */
static void try_complete_join(cgroup *g)
{
	if (g->state == GROUP_PREPARING_REBALANCE && g->join == JOIN_NORMAL &&
	    g->num_awaiting == g->nmembers && !g->pending)
		complete_join(g);
}

static void on_join_deadline(void *owner)
{
	cgroup *g = owner;

	if (g->state != GROUP_PREPARING_REBALANCE)
		return;
	if (g->join == JOIN_INITIAL && g->new_member_added && g->join_remaining_ms > 0) {
		/* Members keep arriving: wait another delay, within the
		 * group's rebalance timeout. */
		int32_t delay = C.opt.initial_rebalance_delay_ms < g->join_remaining_ms
					? C.opt.initial_rebalance_delay_ms
					: g->join_remaining_ms;
		g->join_remaining_ms -= g->join_delay_ms;
		if (g->join_remaining_ms < 0)
			g->join_remaining_ms = 0;
		g->join_delay_ms = delay;
		g->new_member_added = false;
		timer_arm(&g->join_timer, delay);
		return;
	}
	complete_join(g);
}

static void complete_join(cgroup *g)
{
	timer_disarm(&g->join_timer);
	if (g->commits_unwritten > 0) {
		/* Commits checked against this generation are still being
		 * written: hand out the next one when they are (invariants). */
		g->join_deferred = true;
		return;
	}
	g->join_deferred = false;
	g->join = JOIN_NONE;

	/* Dynamic members that did not rejoin in time are gone; static ones
	 * stay until their session expires. */
	for (cmember *m = g->members, *next; m; m = next) {
		next = m->next;
		if (m->awaiting_join || !knull(m->group_instance_id))
			continue;
		log_info("group %s: member %s did not rejoin in time and is removed",
			 g->group_id.ptr, m->member_id.ptr);
		group_remove(g, m);
	}
	if (!elect_joined_leader(g) && g->nmembers > 0) {
		/* Nobody rejoined: wait again, until sessions expire. */
		log_warn("group %s: no member rejoined; waiting another rebalance timeout",
			 g->group_id.ptr);
		g->join = JOIN_NORMAL;
		timer_arm(&g->join_timer, group_rebalance_timeout(g));
		return;
	}
	init_next_generation(g);
	if (g->state == GROUP_EMPTY) {
		log_info("group %s: generation %d is empty", g->group_id.ptr, g->generation_id);
		return;
	}
	log_info("group %s: generation %d with %d members, protocol %s, leader %s", g->group_id.ptr,
		 g->generation_id, g->nmembers,
		 knull(g->protocol_name) ? "(none)" : g->protocol_name.ptr,
		 g->leader->member_id.ptr);
	for (cmember *m = g->members; m; m = m->next) {
		answer_join_current(g, m, g->leader == m, g->leader->member_id, false);
		member_heartbeat(m);
		m->is_new = false;
		m->pending_sync = true;
		g->npending_sync++;
	}
	timer_arm(&g->sync_timer, group_rebalance_timeout(g));
}

/* The leader must be a member that rejoined; false if there is none. */
static bool elect_joined_leader(cgroup *g)
{
	if (!g->leader)
		return false;
	if (g->leader->awaiting_join)
		return true;
	for (cmember *m = g->members; m; m = m->next) {
		if (m->awaiting_join) {
			log_info("group %s: leader %s did not rejoin; %s leads now",
				 g->group_id.ptr, g->leader->member_id.ptr, m->member_id.ptr);
			g->leader = m;
			return true;
		}
	}
	return false;
}

static void init_next_generation(cgroup *g)
{
	g->generation_id++;
	if (g->nmembers > 0) {
		kreplace(&g->protocol_name, group_select_protocol(g));
		group_set_state(g, GROUP_COMPLETING_REBALANCE);
	} else {
		kfree(&g->protocol_name);
		group_set_state(g, GROUP_EMPTY);
	}
	for (cmember *m = g->members; m; m = m->next)
		m->pending_sync = false;
	g->npending_sync = 0;
}

static void remove_member_and_update(cgroup *g, cmember *m, const char *reason)
{
	log_info("group %s: member %s leaves (%s)", g->group_id.ptr, m->member_id.ptr, reason);
	group_remove(g, m);
	switch (g->state) {
	case GROUP_STABLE:
	case GROUP_COMPLETING_REBALANCE:
		maybe_prepare_rebalance(g, reason);
		break;
	case GROUP_PREPARING_REBALANCE:
		try_complete_join(g);
		break;
	case GROUP_EMPTY:
	case GROUP_DEAD:
		break;
	}
}

/* ---- SyncGroup ---- */

void coord_sync(const coord_sync_req *r, void *waiter)
{
	coord_sync_result err = {KERR_NONE, KSTR_NULL, KSTR_NULL, KSTR_LIT("")};
	cgroup *g = NULL;
	cmember *m = NULL;

	if (r->group_id.len <= 0)
		err.error_code = KERR_INVALID_GROUP_ID;
	else if (!(g = group_find(r->group_id)))
		err.error_code = KERR_UNKNOWN_MEMBER_ID;
	else if ((err.error_code = validate_member(g, kempty_if_null(r->member_id),
						   r->group_instance_id)) != KERR_NONE)
		;
	else if (r->generation_id != g->generation_id)
		err.error_code = KERR_ILLEGAL_GENERATION;
	else if ((!knull(r->protocol_type) && !kstr_eqk(r->protocol_type, g->protocol_type)) ||
		 (!knull(r->protocol_name) && !kstr_eqk(r->protocol_name, g->protocol_name)))
		err.error_code = KERR_INCONSISTENT_GROUP_PROTOCOL;
	else if (g->state == GROUP_EMPTY)
		err.error_code = KERR_UNKNOWN_MEMBER_ID;
	else if (g->state == GROUP_PREPARING_REBALANCE)
		err.error_code = KERR_REBALANCE_IN_PROGRESS;
	if (err.error_code) {
		C.on_sync(waiter, &err);
		return;
	}
	m = member_find(g, kempty_if_null(r->member_id));

	if (g->state == GROUP_STABLE) {
		/* A follower that syncs after the leader, or a static member
		 * that came back: the assignment is already known. */
		coord_sync_result ok = {KERR_NONE, g->protocol_type, g->protocol_name,
					m->assignment};
		pending_sync_done(g, m);
		member_heartbeat(m);
		C.on_sync(waiter, &ok);
		return;
	}

	/* CompletingRebalance: hold the answer until the leader's assignment. */
	answer_sync(m, KERR_REBALANCE_IN_PROGRESS); /* an earlier SyncGroup still held */
	m->awaiting_sync = true;
	m->sync_waiter = waiter;
	pending_sync_done(g, m);
	if (g->leader != m)
		return;

	log_info("group %s: assignment for generation %d from leader %s", g->group_id.ptr,
		 g->generation_id, m->member_id.ptr);
	for (cmember *x = g->members; x; x = x->next) {
		kstr a = KSTR_LIT("");
		for (int i = 0; i < r->nassignments; i++) {
			if (kstr_eqk(r->assignments[i].member_id, x->member_id)) {
				a = kempty_if_null(r->assignments[i].assignment);
				break;
			}
		}
		kreplace(&x->assignment, a);
	}
	propagate_assignment(g, KERR_NONE);
	group_set_state(g, GROUP_STABLE);
}

/* Answer every member waiting in SyncGroup. */
static void propagate_assignment(cgroup *g, int16_t error)
{
	for (cmember *m = g->members; m; m = m->next) {
		if (!m->awaiting_sync)
			continue;
		coord_sync_result r = {error, error ? KSTR_NULL : g->protocol_type,
				       error ? KSTR_NULL : g->protocol_name,
				       error ? KSTR_LIT("") : m->assignment};
		answer_sync_full(m, &r);
		/* Its session may have run out while it waited. */
		member_heartbeat(m);
	}
}

static void pending_sync_done(cgroup *g, cmember *m)
{
	if (!m->pending_sync)
		return;
	m->pending_sync = false;
	if (--g->npending_sync == 0)
		timer_disarm(&g->sync_timer);
}

static void on_sync_deadline(void *owner)
{
	cgroup *g = owner;

	if ((g->state != GROUP_COMPLETING_REBALANCE && g->state != GROUP_STABLE) ||
	    g->npending_sync == 0)
		return;
	for (cmember *m = g->members, *next; m; m = next) {
		next = m->next;
		if (!m->pending_sync)
			continue;
		log_info("group %s: member %s did not send SyncGroup in time and is removed",
			 g->group_id.ptr, m->member_id.ptr);
		group_remove(g, m);
	}
	prepare_rebalance(g, "members did not sync in time");
}

/* ---- Heartbeat, LeaveGroup, session expiry ---- */

int16_t coord_heartbeat(kstr group_id, kstr member_id, kstr group_instance_id,
			int32_t generation_id)
{
	cgroup *g;

	if (group_id.len <= 0)
		return KERR_INVALID_GROUP_ID;
	if (!(g = group_find(group_id)))
		return KERR_UNKNOWN_MEMBER_ID;
	int16_t err = validate_member(g, kempty_if_null(member_id), group_instance_id);
	if (err)
		return err;
	if (generation_id != g->generation_id)
		return KERR_ILLEGAL_GENERATION;
	cmember *m = member_find(g, kempty_if_null(member_id));
	switch (g->state) {
	case GROUP_COMPLETING_REBALANCE:
	case GROUP_STABLE:
		member_heartbeat(m);
		return KERR_NONE;
	case GROUP_PREPARING_REBALANCE:
		member_heartbeat(m);
		return KERR_REBALANCE_IN_PROGRESS;
	case GROUP_EMPTY:
	case GROUP_DEAD:
		break;
	}
	return KERR_UNKNOWN_MEMBER_ID;
}

int16_t coord_leave(kstr group_id, coord_leave_member *members, int n)
{
	cgroup *g;

	if (group_id.len <= 0)
		return KERR_INVALID_GROUP_ID;
	g = group_find(group_id);
	for (int i = 0; i < n; i++) {
		coord_leave_member *l = &members[i];
		kstr id = kempty_if_null(l->member_id);
		cmember *m;
		cpending *p;

		if (!g) {
			l->error_code = KERR_UNKNOWN_MEMBER_ID;
		} else if (id.len == 0) {
			/* An administrator removes a static member by its
			 * group.instance.id. */
			m = static_member_find(g, l->group_instance_id);
			l->error_code = m ? KERR_NONE : KERR_UNKNOWN_MEMBER_ID;
			if (m)
				remove_member_and_update(g, m, "removed by group.instance.id");
		} else if ((p = pending_find(g, id))) {
			pending_remove(g, p);
			l->error_code = KERR_NONE;
			try_complete_join(g);
		} else {
			l->error_code = validate_member(g, id, l->group_instance_id);
			if (l->error_code == KERR_NONE)
				remove_member_and_update(g, member_find(g, id), "LeaveGroup");
		}
	}
	return KERR_NONE;
}

static void on_member_expiry(void *owner)
{
	cmember *m = owner;

	/* A member whose JoinGroup or SyncGroup is held here is alive by
	 * definition; a new member is not, past its join timeout. */
	if (!m->is_new && (m->awaiting_join || m->awaiting_sync))
		return;
	remove_member_and_update(m->group, m,
				 m->is_new ? "its JoinGroup waited too long" : "session timeout");
}

static void on_pending_expiry(void *owner)
{
	cpending *p = owner;
	cgroup *g = p->group;

	log_info("group %s: member id %s handed out but never used; forgotten", g->group_id.ptr,
		 p->member_id.ptr);
	pending_remove(g, p);
	try_complete_join(g);
}

static void on_empty_expiry(void *owner)
{
	cgroup *g = owner;

	if (g->state != GROUP_EMPTY)
		return;
	if (g->pending || g->commits_unwritten > 0) {
		timer_arm(&g->empty_timer, C.opt.empty_group_retention_ms);
		return;
	}
	log_debug("group %s has been empty for %d ms; forgetting it (its offsets stay)",
		  g->group_id.ptr, C.opt.empty_group_retention_ms);
	group_forget(g);
}

/* ---- OffsetCommit ---- */

int16_t coord_commit_check(kstr group_id, kstr member_id, kstr group_instance_id,
			   int32_t generation_id)
{
	kstr mid = kempty_if_null(member_id);
	cgroup *g;

	if (group_id.len < 0)
		return KERR_INVALID_GROUP_ID;
	if (!(g = group_find(group_id))) {
		if (generation_id >= 0)
			return KERR_ILLEGAL_GENERATION; /* an older generation, or before a restart */
		if (!C.ready)
			return KERR_COORDINATOR_NOT_AVAILABLE;
		g = group_create(group_id); /* a group that only commits offsets */
	}
	if (generation_id < 0 && g->state == GROUP_EMPTY)
		return KERR_NONE;
	if (generation_id >= 0 || mid.len > 0 || !knull(group_instance_id)) {
		int16_t err = validate_member(g, mid, group_instance_id);
		if (err)
			return err;
		if (generation_id != g->generation_id)
			return KERR_ILLEGAL_GENERATION;
	} else if (g->state != GROUP_EMPTY) {
		return KERR_UNKNOWN_MEMBER_ID; /* only members commit for a live group */
	}
	switch (g->state) {
	case GROUP_STABLE:
	case GROUP_PREPARING_REBALANCE: {
		cmember *m = member_find(g, mid);
		if (m)
			member_heartbeat(m);
		return KERR_NONE;
	}
	case GROUP_COMPLETING_REBALANCE:
		return KERR_REBALANCE_IN_PROGRESS;
	case GROUP_EMPTY:
	case GROUP_DEAD:
		break;
	}
	return KERR_NONE;
}

int16_t coord_commit_hold(kstr group_id, bool transactional, bool *held)
{
	cgroup *g = group_find(group_id);

	*held = false;
	if (!g)
		return KERR_NONE; /* nothing in memory to protect */
	if (g->join_deferred) {
		/* The next generation is due: this commit's generation is
		 * over. Producers retry COORDINATOR_LOAD_IN_PROGRESS and then
		 * learn the outcome; consumers rejoin on REBALANCE_IN_PROGRESS. */
		return transactional ? KERR_COORDINATOR_LOAD_IN_PROGRESS
				     : KERR_REBALANCE_IN_PROGRESS;
	}
	g->commits_unwritten++;
	*held = true;
	return KERR_NONE;
}

void coord_commit_release(kstr group_id)
{
	cgroup *g = group_find(group_id);

	if (!g || g->commits_unwritten <= 0)
		return; /* the coordinator was shut down since */
	if (--g->commits_unwritten > 0 || !g->join_deferred)
		return;
	g->join_deferred = false;
	if (g->state == GROUP_PREPARING_REBALANCE)
		complete_join(g);
}

/* ---- DescribeGroups, ListGroups, DeleteGroups, OffsetDelete ---- */

static void group_info(cgroup *g, arena *a, coord_group_info *out, bool with_members)
{
	bool stable = g->state == GROUP_STABLE;

	memset(out, 0, sizeof(*out));
	out->group_id = arena_kstrdup(a, g->group_id);
	out->state = g->state;
	out->protocol_type = arena_kstrdup(a, kempty_if_null(g->protocol_type));
	out->protocol_data =
		stable ? arena_kstrdup(a, kempty_if_null(g->protocol_name)) : KSTR_LIT("");
	out->generation_id = g->generation_id;
	out->leader = g->leader ? arena_kstrdup(a, g->leader->member_id) : KSTR_LIT("");
	if (!with_members || g->nmembers == 0)
		return;
	out->members = arena_alloc(a, sizeof(*out->members) * (size_t)g->nmembers);
	for (cmember *m = g->members; m; m = m->next) {
		coord_member_info *mi = &out->members[out->nmembers++];
		const cprotocol *p = stable ? member_protocol(m, g->protocol_name) : NULL;
		mi->member_id = arena_kstrdup(a, m->member_id);
		mi->group_instance_id = arena_kstrdup(a, m->group_instance_id);
		mi->client_id = arena_kstrdup(a, m->client_id);
		mi->client_host = arena_kstrdup(a, m->client_host);
		mi->metadata = p ? arena_kstrdup(a, p->metadata) : KSTR_LIT("");
		mi->assignment = stable ? arena_kstrdup(a, m->assignment) : KSTR_LIT("");
	}
}

bool coord_describe(kstr group_id, arena *a, coord_group_info *out)
{
	cgroup *g = group_find(group_id);

	if (!g)
		return false;
	group_info(g, a, out, true);
	return true;
}

int coord_list(arena *a, coord_group_info **out)
{
	int n = 0;

	*out = NULL;
	if (!C.ready || C.ngroups == 0)
		return 0;
	*out = arena_alloc(a, sizeof(**out) * C.ngroups);
	for (size_t b = 0; b < C.nbuckets; b++)
		for (cgroup *g = C.buckets[b]; g; g = g->hnext)
			group_info(g, a, &(*out)[n++], false);
	return n;
}

int16_t coord_delete(kstr group_id, bool *known)
{
	cgroup *g = group_find(group_id);

	*known = g != NULL;
	if (!g)
		return KERR_NONE;
	if (g->state != GROUP_EMPTY)
		return KERR_NON_EMPTY_GROUP;
	if (g->commits_unwritten > 0)
		return KERR_COORDINATOR_LOAD_IN_PROGRESS; /* retriable: a commit is landing */
	log_info("group %s deleted", g->group_id.ptr);
	group_forget(g);
	return KERR_NONE;
}

coord_offsets_use coord_offsets_in_use(kstr group_id, bool *known)
{
	cgroup *g = group_find(group_id);

	*known = g != NULL;
	if (!g || g->state == GROUP_EMPTY)
		return COORD_OFFSETS_FREE;
	if (kstr_eq(g->protocol_type, CONSUMER_PROTOCOL_TYPE))
		return COORD_OFFSETS_CONSUMER;
	return COORD_OFFSETS_NON_EMPTY;
}

/* Does a consumer protocol subscription (any version: int16 version,
 * then the topic array) name the topic? -1 if it cannot be read. */
static int subscription_has(kstr metadata, kstr topic)
{
	kreader r;

	kr_init(&r, metadata.ptr, metadata.len > 0 ? (size_t)metadata.len : 0);
	(void)kr_i16(&r);
	int32_t n = kr_i32(&r);
	if (!kr_ok(&r) || n < 0)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		kstr t = kr_string(&r);
		if (!kr_ok(&r))
			return -1;
		if (kstr_eqk(t, topic))
			return 1;
	}
	return 0;
}

/* Add the topics a consumer protocol subscription names to *topics (a
 * growing array in a's memory, *n used of *cap), each once; -1 if the
 * subscription cannot be read. */
static int subscription_topics(kstr metadata, arena *a, kstr **topics, int *n, int *cap)
{
	kreader r;

	kr_init(&r, metadata.ptr, metadata.len > 0 ? (size_t)metadata.len : 0);
	(void)kr_i16(&r);
	int32_t count = kr_i32(&r);
	if (!kr_ok(&r) || count < 0)
		return -1;
	for (int32_t i = 0; i < count; i++) {
		kstr t = kr_string(&r);
		bool seen = false;
		if (!kr_ok(&r) || t.len < 0)
			return -1;
		for (int j = 0; j < *n && !seen; j++)
			seen = kstr_eqk((*topics)[j], t);
		if (seen)
			continue;
		if (*n == *cap) {
			int ncap = *cap ? *cap * 2 : 8;
			kstr *nt = arena_alloc(a, sizeof(*nt) * (size_t)ncap);
			if (*n)
				memcpy(nt, *topics, sizeof(*nt) * (size_t)*n);
			*topics = nt;
			*cap = ncap;
		}
		(*topics)[(*n)++] = arena_kstrdup(a, t);
	}
	return 0;
}

bool coord_subscribed(kstr group_id, kstr topic)
{
	cgroup *g = group_find(group_id);

	if (!g || g->state == GROUP_EMPTY)
		return false;
	if (knull(g->protocol_name))
		return true; /* no protocol selected yet: assume it is */
	for (cmember *m = g->members; m; m = m->next) {
		const cprotocol *p = member_protocol(m, g->protocol_name);
		if (!p || subscription_has(p->metadata, topic) != 0)
			return true;
	}
	return false;
}

void coord_cancel(void *waiter)
{
	if (!C.ready || !waiter)
		return;
	for (size_t b = 0; b < C.nbuckets; b++) {
		for (cgroup *g = C.buckets[b]; g; g = g->hnext) {
			for (cmember *m = g->members; m; m = m->next) {
				if (m->join_waiter == waiter)
					m->join_waiter = NULL;
				if (m->sync_waiter == waiter)
					m->sync_waiter = NULL;
			}
		}
	}
}

/* ---- Offset expiry ---- */

void coord_set_membership_hook(coord_membership_fn fn) { C.on_membership = fn; }

bool coord_offsets_keep_of(kstr group_id, arena *a, coord_offsets_keep *out)
{
	cgroup *g = group_find(group_id);

	memset(out, 0, sizeof(*out));
	if (!g)
		return false;
	out->has_members = g->state != GROUP_EMPTY;
	/* ClassicGroup.offsetExpirationCondition: only a Stable group of the
	 * consumer protocol lets the offsets of other topics expire. */
	if (g->state != GROUP_STABLE || !kstr_eq(g->protocol_type, CONSUMER_PROTOCOL_TYPE) ||
	    knull(g->protocol_name))
		return true;
	int cap = 0;
	for (cmember *m = g->members; m; m = m->next) {
		const cprotocol *p = member_protocol(m, g->protocol_name);
		if (!p || subscription_topics(p->metadata, a, &out->topics, &out->ntopics, &cap) < 0) {
			out->ntopics = 0;
			out->topics = NULL;
			return true;
		}
	}
	out->topics_known = true;
	return true;
}

void coord_offsets_gone(kstr group_id)
{
	cgroup *g = group_find(group_id);

	if (!g || g->state != GROUP_EMPTY || g->pending || g->commits_unwritten > 0)
		return;
	log_debug("group %s: its last offset expired; forgotten", g->group_id.ptr);
	group_forget(g);
}
