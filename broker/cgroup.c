/*
 * Consumer groups of the consumer protocol (KIP-848), see cgroup.h: groups,
 * members, the server assignors and per-member reconciliation as Kafka's
 * GroupMetadataManager and CurrentAssignmentBuilder run them.
 *
 * Invariants:
 * - assignment_epoch <= group_epoch. Every change that bumps the group
 *   epoch computes the new target assignment in the same call, so the two
 *   are equal between calls (Assigning is never observed from outside; Kafka
 *   computes the target on the next heartbeat instead, with the same result).
 * - A partition is held by at most one member, in its assigned partitions
 *   or its partitions pending revocation. A member is given a partition of
 *   its target only when no other member holds it (a static member that
 *   left with epoch -2 still holds its partitions until it comes back or
 *   its session expires).
 * - A member in UNREVOKED_PARTITIONS has a rebalance deadline armed for its
 *   current epoch; every member has a session deadline. Both are plain
 *   numbers that cg_fire_due() compares with the caller's clock.
 * - A member's epoch moves only forwards, to the assignment epoch, once it
 *   holds nothing its target took away.
 * - Every change to what cg_export() returns marks the group changed.
 *
 * Sections: strings and sets, topics, groups and members, the assignors,
 * reconciliation, heartbeat, deadlines, describe and lists, offsets checks,
 * persistence.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgroup.h"
#include "log.h"

/* One topic's partitions, ascending. */
typedef struct tpset {
	uint8_t id[16];
	int32_t *p;
	int n, cap;
} tpset;

/* An assignment: topics ordered by id bytes. */
typedef struct asg {
	tpset *t;
	int n, cap;
} asg;

typedef struct member {
	kstr id;
	kstr instance_id;
	kstr rack_id;
	kstr client_id;
	kstr client_host;
	kstr principal; /* null until a heartbeat gave it (a restored member) */
	kstr *subs; /* subscribed topic names, sorted */
	int nsubs;
	kstr regex; /* null when none */
	regex_t re;
	bool re_ok;
	kstr assignor; /* null when none */
	int32_t rebalance_timeout_ms;
	int32_t epoch;
	int32_t prev_epoch;
	cg_member_state state;
	asg assigned;
	asg pending; /* partitions pending revocation */
	asg target;
	int64_t session_deadline;
	int64_t rebalance_deadline; /* INT64_MAX: none */
	int32_t rebalance_epoch;    /* the epoch the rebalance deadline is for */
} member;

typedef struct group {
	kstr id;
	int32_t epoch;
	int32_t assignment_epoch;
	uint64_t meta_hash;
	member **m; /* sorted by member id */
	int nm, cap;
} group;

struct cg_coord {
	cg_options opt;
	group **g; /* sorted by group id */
	int ng, cap;
	cg_topic *topics; /* sorted by name; names owned */
	int ntopics;
	kstr *changed; /* ids of groups changed since cg_take_changed() */
	int nchanged, capchanged;
};

/* strings and sets */
static void *xrealloc(void *p, size_t n);
static kstr kown(kstr s);
static void kfree(kstr *s);
static int kcmp(kstr a, kstr b);
static bool keq(kstr a, kstr b);
static uint64_t fnv(uint64_t h, const void *p, size_t n);
static void asg_free(asg *a);
static void asg_clear(asg *a);
static tpset *asg_topic(asg *a, const uint8_t id[16], bool create);
static const tpset *asg_find(const asg *a, const uint8_t id[16]);
static void asg_add(asg *a, const uint8_t id[16], int32_t p);
static bool asg_has(const asg *a, const uint8_t id[16], int32_t p);
static void asg_copy(asg *dst, const asg *src);
static bool asg_equal(const asg *a, const asg *b);
static int asg_count(const asg *a);
static void asg_from_tps(asg *a, const cg_tps *t, int n);
static cg_tps *asg_to_tps(const cg_coord *c, const asg *a, arena *ar, int *n);
/* topics */
static const cg_topic *topic_by_name(const cg_coord *c, kstr name);
static const cg_topic *topic_by_id(const cg_coord *c, const uint8_t id[16]);
static bool topic_internal(const cg_topic *t);
static bool member_subscribes(const cg_coord *c, const member *m, const cg_topic *t);
static bool regex_compile(regex_t *re, kstr src, bool anchored);
static uint64_t group_meta_hash(const cg_coord *c, const group *g);
/* groups and members */
static int group_index(const cg_coord *c, kstr id, bool *found);
static group *group_find(const cg_coord *c, kstr id);
static group *group_create(cg_coord *c, kstr id);
static void group_destroy(cg_coord *c, group *g, bool changed);
static void member_free(member *m);
static member *member_find(const group *g, kstr id);
static member *member_by_instance(const group *g, kstr instance_id);
static void member_insert(group *g, member *m);
static void member_remove(group *g, member *m);
static void mark_changed(cg_coord *c, kstr group_id);
static cg_group_state group_state(const group *g);
static const char *group_assignor(const cg_coord *c, const group *g);
static void group_bump(cg_coord *c, group *g);
static void fence_member(cg_coord *c, group *g, member *m, const char *why);
/* the assignors */
static void compute_target(cg_coord *c, group *g);
static void assign_uniform(const cg_coord *c, group *g, asg *out);
static void assign_range(const cg_coord *c, group *g, asg *out);
/* reconciliation */
static bool held_by_other(const group *g, const member *self, const uint8_t id[16], int32_t p);
static bool owns_any(const cg_tps *owned, int nowned, const asg *set);
static bool owned_subset(const cg_tps *owned, int nowned, const asg *set);
static void set_epoch(member *m, int32_t epoch);
static void next_assignment(group *g, member *m, int32_t epoch, const cg_tps *owned, int nowned);
static void reconcile(group *g, member *m, const cg_tps *owned, int nowned);
/* heartbeat */
static const char *validate(const cg_heartbeat_req *r, int16_t *err);
static int16_t hb_error(cg_heartbeat_resp *out, int16_t err, const char *msg);
static int16_t hb_leave(cg_coord *c, const cg_heartbeat_req *r, cg_heartbeat_resp *out);
static int16_t check_epoch(const member *m, const cg_heartbeat_req *r);
static bool set_subscription(member *m, const cg_heartbeat_req *r);
static bool set_regex(member *m, kstr regex);
static int kstr_cmp_qsort(const void *a, const void *b);
static bool update(kstr *dst, kstr src);
static member *member_new(kstr id);
/* describe, persistence */
static int topic_cmp(const void *a, const void *b);
static kstr *subs_copy(const member *m, arena *a);

/* ---- strings and sets ---- */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		log_error("out of memory in the consumer group coordinator");
		abort();
	}
	return q;
}

/* A malloc'd copy, NUL-terminated; null stays null. */
static kstr kown(kstr s)
{
	if (s.len < 0)
		return KSTR_NULL;
	char *p = xrealloc(NULL, (size_t)s.len + 1);
	if (s.len > 0)
		memcpy(p, s.ptr, (size_t)s.len);
	p[s.len] = '\0';
	return (kstr){p, s.len};
}

static void kfree(kstr *s)
{
	free((char *)s->ptr);
	*s = KSTR_NULL;
}

/* Byte order; null sorts first. */
static int kcmp(kstr a, kstr b)
{
	if (a.len < 0 || b.len < 0)
		return (a.len >= 0) - (b.len >= 0);
	int32_t n = a.len < b.len ? a.len : b.len;
	int r = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	if (r)
		return r;
	return (a.len > b.len) - (a.len < b.len);
}

static bool keq(kstr a, kstr b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void asg_free(asg *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->t[i].p);
	free(a->t);
	memset(a, 0, sizeof(*a));
}

static void asg_clear(asg *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->t[i].p);
	a->n = 0;
}

static tpset *asg_topic(asg *a, const uint8_t id[16], bool create)
{
	int lo = 0, hi = a->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int r = memcmp(a->t[mid].id, id, 16);
		if (r == 0)
			return &a->t[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->t = xrealloc(a->t, (size_t)a->cap * sizeof(*a->t));
	}
	memmove(&a->t[lo + 1], &a->t[lo], (size_t)(a->n - lo) * sizeof(*a->t));
	memset(&a->t[lo], 0, sizeof(*a->t));
	memcpy(a->t[lo].id, id, 16);
	a->n++;
	return &a->t[lo];
}

static const tpset *asg_find(const asg *a, const uint8_t id[16])
{
	return asg_topic((asg *)a, id, false);
}

static void asg_add(asg *a, const uint8_t id[16], int32_t p)
{
	tpset *t = asg_topic(a, id, true);
	int lo = 0, hi = t->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (t->p[mid] == p)
			return;
		if (t->p[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->p = xrealloc(t->p, (size_t)t->cap * sizeof(*t->p));
	}
	memmove(&t->p[lo + 1], &t->p[lo], (size_t)(t->n - lo) * sizeof(*t->p));
	t->p[lo] = p;
	t->n++;
}

static bool asg_has(const asg *a, const uint8_t id[16], int32_t p)
{
	const tpset *t = asg_find(a, id);
	if (!t)
		return false;
	int lo = 0, hi = t->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (t->p[mid] == p)
			return true;
		if (t->p[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void asg_copy(asg *dst, const asg *src)
{
	asg_clear(dst);
	for (int i = 0; i < src->n; i++)
		for (int j = 0; j < src->t[i].n; j++)
			asg_add(dst, src->t[i].id, src->t[i].p[j]);
}

/* Equal as sets (topics with no partitions count as absent). */
static bool asg_equal(const asg *a, const asg *b)
{
	if (asg_count(a) != asg_count(b))
		return false;
	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < a->t[i].n; j++)
			if (!asg_has(b, a->t[i].id, a->t[i].p[j]))
				return false;
	return true;
}

static int asg_count(const asg *a)
{
	int n = 0;
	for (int i = 0; i < a->n; i++)
		n += a->t[i].n;
	return n;
}

static void asg_from_tps(asg *a, const cg_tps *t, int n)
{
	asg_clear(a);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < t[i].npartitions; j++)
			asg_add(a, t[i].topic_id, t[i].partitions[j]);
}

/* Topics with at least one partition, named from the topic image. */
static cg_tps *asg_to_tps(const cg_coord *c, const asg *a, arena *ar, int *n)
{
	cg_tps *out = arena_alloc(ar, (size_t)(a->n ? a->n : 1) * sizeof(*out));
	int k = 0;
	for (int i = 0; i < a->n; i++) {
		if (a->t[i].n == 0)
			continue;
		const cg_topic *t = topic_by_id(c, a->t[i].id);
		memcpy(out[k].topic_id, a->t[i].id, 16);
		out[k].topic_name = arena_kstrdup(ar, t ? t->name : KSTR_LIT(""));
		out[k].partitions =
			arena_memdup(ar, a->t[i].p, (size_t)a->t[i].n * sizeof(int32_t));
		out[k].npartitions = a->t[i].n;
		k++;
	}
	*n = k;
	return out;
}

/* ---- topics ---- */

static const cg_topic *topic_by_name(const cg_coord *c, kstr name)
{
	int lo = 0, hi = c->ntopics;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int r = kcmp(c->topics[mid].name, name);
		if (r == 0)
			return &c->topics[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const cg_topic *topic_by_id(const cg_coord *c, const uint8_t id[16])
{
	for (int i = 0; i < c->ntopics; i++)
		if (memcmp(c->topics[i].id, id, 16) == 0)
			return &c->topics[i];
	return NULL;
}

static bool topic_internal(const cg_topic *t)
{
	return t->internal || kstr_eq(t->name, "__consumer_offsets") ||
	       kstr_eq(t->name, "__transaction_state") || kstr_eq(t->name, "__share_group_state");
}

/* By name, or by its regex (internal topics excluded, and topics the
 * member's principal may not see: cg_options.topic_visible). */
static bool member_subscribes(const cg_coord *c, const member *m, const cg_topic *t)
{
	int lo = 0, hi = m->nsubs;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int r = kcmp(m->subs[mid], t->name);
		if (r == 0)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!m->re_ok || topic_internal(t) || (int32_t)strlen(t->name.ptr) != t->name.len)
		return false;
	if (regexec(&m->re, t->name.ptr, 0, NULL, 0) != 0)
		return false;
	return !c->opt.topic_visible || m->principal.len < 0 ||
	       c->opt.topic_visible(c->opt.topic_visible_arg, m->principal, m->client_host, t->name);
}

/* An extended regular expression; anchored: it must match a whole topic
 * name, as Java's Matcher.matches(). The expression is first compiled on
 * its own, so that "a)|(b" is refused rather than made valid by the
 * anchoring parentheses. A NUL inside cannot be compiled. */
static bool regex_compile(regex_t *re, kstr src, bool anchored)
{
	if (src.len <= 0 || memchr(src.ptr, '\0', (size_t)src.len))
		return false;
	char *buf = xrealloc(NULL, (size_t)src.len + 5);
	memcpy(buf, src.ptr, (size_t)src.len);
	buf[src.len] = '\0';
	bool ok = regcomp(re, buf, REG_EXTENDED | REG_NOSUB) == 0;
	if (ok && anchored) {
		regfree(re);
		snprintf(buf, (size_t)src.len + 5, "^(%.*s)$", (int)src.len, src.ptr);
		ok = regcomp(re, buf, REG_EXTENDED | REG_NOSUB) == 0;
	}
	free(buf);
	return ok;
}

/* What the target assignment depends on, apart from the members: name, id
 * and partition count of every subscribed topic that exists. */
static uint64_t group_meta_hash(const cg_coord *c, const group *g)
{
	uint64_t h = 14695981039346656037ULL;
	for (int i = 0; i < c->ntopics; i++) {
		const cg_topic *t = &c->topics[i];
		bool sub = false;
		for (int j = 0; j < g->nm && !sub; j++)
			sub = member_subscribes(c, g->m[j], t);
		if (!sub)
			continue;
		h = fnv(h, t->name.ptr, (size_t)t->name.len);
		h = fnv(h, "\0", 1);
		h = fnv(h, t->id, 16);
		h = fnv(h, &t->partitions, sizeof(t->partitions));
	}
	return h;
}

/* ---- groups and members ---- */

static int group_index(const cg_coord *c, kstr id, bool *found)
{
	int lo = 0, hi = c->ng;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int r = kcmp(c->g[mid]->id, id);
		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static group *group_find(const cg_coord *c, kstr id)
{
	bool found;
	int i = group_index(c, id, &found);
	return found ? c->g[i] : NULL;
}

static group *group_create(cg_coord *c, kstr id)
{
	bool found;
	int i = group_index(c, id, &found);
	if (found)
		return c->g[i];
	group *g = xrealloc(NULL, sizeof(*g));
	memset(g, 0, sizeof(*g));
	g->id = kown(id);
	if (c->ng == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->g = xrealloc(c->g, (size_t)c->cap * sizeof(*c->g));
	}
	memmove(&c->g[i + 1], &c->g[i], (size_t)(c->ng - i) * sizeof(*c->g));
	c->g[i] = g;
	c->ng++;
	g->meta_hash = group_meta_hash(c, g);
	mark_changed(c, id);
	return g;
}

static void group_destroy(cg_coord *c, group *g, bool changed)
{
	bool found;
	int i = group_index(c, g->id, &found);
	if (found) {
		memmove(&c->g[i], &c->g[i + 1], (size_t)(c->ng - i - 1) * sizeof(*c->g));
		c->ng--;
	}
	if (changed)
		mark_changed(c, g->id);
	for (int j = 0; j < g->nm; j++)
		member_free(g->m[j]);
	free(g->m);
	kfree(&g->id);
	free(g);
}

static void member_free(member *m)
{
	kfree(&m->id);
	kfree(&m->instance_id);
	kfree(&m->rack_id);
	kfree(&m->client_id);
	kfree(&m->client_host);
	kfree(&m->principal);
	for (int i = 0; i < m->nsubs; i++)
		kfree(&m->subs[i]);
	free(m->subs);
	kfree(&m->regex);
	if (m->re_ok)
		regfree(&m->re);
	kfree(&m->assignor);
	asg_free(&m->assigned);
	asg_free(&m->pending);
	asg_free(&m->target);
	free(m);
}

static member *member_find(const group *g, kstr id)
{
	int lo = 0, hi = g->nm;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int r = kcmp(g->m[mid]->id, id);
		if (r == 0)
			return g->m[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static member *member_by_instance(const group *g, kstr instance_id)
{
	if (instance_id.len < 0)
		return NULL;
	for (int i = 0; i < g->nm; i++)
		if (g->m[i]->instance_id.len >= 0 && keq(g->m[i]->instance_id, instance_id))
			return g->m[i];
	return NULL;
}

static void member_insert(group *g, member *m)
{
	int lo = 0, hi = g->nm;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (kcmp(g->m[mid]->id, m->id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (g->nm == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->m = xrealloc(g->m, (size_t)g->cap * sizeof(*g->m));
	}
	memmove(&g->m[lo + 1], &g->m[lo], (size_t)(g->nm - lo) * sizeof(*g->m));
	g->m[lo] = m;
	g->nm++;
}

/* Takes m out of g without freeing it. */
static void member_remove(group *g, member *m)
{
	for (int i = 0; i < g->nm; i++) {
		if (g->m[i] == m) {
			memmove(&g->m[i], &g->m[i + 1], (size_t)(g->nm - i - 1) * sizeof(*g->m));
			g->nm--;
			return;
		}
	}
}

static void mark_changed(cg_coord *c, kstr group_id)
{
	for (int i = 0; i < c->nchanged; i++)
		if (keq(c->changed[i], group_id))
			return;
	if (c->nchanged == c->capchanged) {
		c->capchanged = c->capchanged ? c->capchanged * 2 : 8;
		c->changed = xrealloc(c->changed, (size_t)c->capchanged * sizeof(*c->changed));
	}
	c->changed[c->nchanged++] = kown(group_id);
}

static cg_group_state group_state(const group *g)
{
	if (g->nm == 0)
		return CG_EMPTY;
	if (g->epoch > g->assignment_epoch)
		return CG_ASSIGNING;
	for (int i = 0; i < g->nm; i++)
		if (g->m[i]->state != CG_MEMBER_STABLE || g->m[i]->epoch != g->assignment_epoch)
			return CG_RECONCILING;
	return CG_STABLE;
}

/* The assignor most members chose (ties: the smallest name), else the
 * default. */
static const char *group_assignor(const cg_coord *c, const group *g)
{
	int nuniform = 0, nrange = 0;
	for (int i = 0; i < g->nm; i++) {
		if (kstr_eq(g->m[i]->assignor, "uniform"))
			nuniform++;
		else if (kstr_eq(g->m[i]->assignor, "range"))
			nrange++;
	}
	if (nuniform == 0 && nrange == 0)
		return c->opt.default_assignor ? c->opt.default_assignor : "uniform";
	return nrange >= nuniform ? "range" : "uniform";
}

/* The group epoch moves on: new metadata hash, new target assignment. */
static void group_bump(cg_coord *c, group *g)
{
	g->epoch++;
	g->meta_hash = group_meta_hash(c, g);
	compute_target(c, g);
	g->assignment_epoch = g->epoch;
	mark_changed(c, g->id);
}

/* Kafka's fenceMember: the member is gone, its partitions free, and the
 * group rebalances without it. */
static void fence_member(cg_coord *c, group *g, member *m, const char *why)
{
	log_info("consumer group %s: member %s removed: %s", g->id.ptr, m->id.ptr, why);
	member_remove(g, m);
	member_free(m);
	group_bump(c, g);
}

/* ---- the assignors ---- */

/* The target assignment of every member for the group's current epoch. */
static void compute_target(cg_coord *c, group *g)
{
	asg *out = xrealloc(NULL, (size_t)(g->nm ? g->nm : 1) * sizeof(*out));
	memset(out, 0, (size_t)(g->nm ? g->nm : 1) * sizeof(*out));
	if (strcmp(group_assignor(c, g), "range") == 0)
		assign_range(c, g, out);
	else
		assign_uniform(c, g, out);
	for (int i = 0; i < g->nm; i++) {
		asg_free(&g->m[i]->target);
		g->m[i]->target = out[i];
	}
	free(out);
}

/*
 * Kafka's uniform assignor: every partition of a subscribed topic goes to
 * one of its subscribers; counts differ by at most one between members that
 * could trade a partition; and members keep as much of their previous target
 * as that allows. Deterministic: members in id order, topics in name order,
 * partitions ascending.
 *
 * 1. Each member keeps what it had in the previous target and still
 *    subscribes to, up to its fair share (total / members subscribed to
 *    anything, plus one for as many members as the remainder allows) when
 *    every member subscribes to the same topics.
 * 2. Every partition left goes to the least-loaded of its subscribers,
 *    partitions of topics with fewer subscribers first.
 * 3. While a member has two partitions more than a member that could take
 *    one of them, its highest partition moves there.
 */
static void assign_uniform(const cg_coord *c, group *g, asg *out)
{
	int nm = g->nm;
	if (nm == 0)
		return;
	int *count = xrealloc(NULL, (size_t)nm * sizeof(int));
	memset(count, 0, (size_t)nm * sizeof(int));
	/* subscribed[i * ntopics + t] */
	int nt = c->ntopics;
	bool *sub = xrealloc(NULL, (size_t)(nm * (nt ? nt : 1)) * sizeof(bool));
	int *nsubscribers = xrealloc(NULL, (size_t)(nt ? nt : 1) * sizeof(int));
	int total = 0;
	bool homogeneous = true;
	for (int t = 0; t < nt; t++) {
		nsubscribers[t] = 0;
		for (int i = 0; i < nm; i++) {
			sub[i * nt + t] = member_subscribes(c, g->m[i], &c->topics[t]);
			if (sub[i * nt + t])
				nsubscribers[t]++;
			if (sub[i * nt + t] != sub[t])
				homogeneous = false;
		}
		if (nsubscribers[t] > 0)
			total += c->topics[t].partitions;
	}
	int active = 0;
	for (int i = 0; i < nm; i++) {
		bool any = false;
		for (int t = 0; t < nt && !any; t++)
			any = sub[i * nt + t];
		active += any;
	}
	int min_quota = active ? total / active : 0;
	int extra = active ? total % active : 0;

	/* 1. stickiness */
	bool *taken = NULL;
	int *toff = xrealloc(NULL, (size_t)(nt + 1) * sizeof(int));
	toff[0] = 0;
	for (int t = 0; t < nt; t++)
		toff[t + 1] = toff[t] + (c->topics[t].partitions > 0 ? c->topics[t].partitions : 0);
	taken = xrealloc(NULL, (size_t)(toff[nt] ? toff[nt] : 1) * sizeof(bool));
	memset(taken, 0, (size_t)(toff[nt] ? toff[nt] : 1) * sizeof(bool));
	for (int i = 0; i < nm; i++) {
		const member *m = g->m[i];
		int quota = homogeneous ? min_quota : total;
		for (int pass = 0; pass < 2; pass++) {
			for (int k = 0; k < m->target.n; k++) {
				const tpset *ts = &m->target.t[k];
				const cg_topic *tp = topic_by_id(c, ts->id);
				if (!tp)
					continue;
				int t = (int)(tp - c->topics);
				if (!sub[i * nt + t])
					continue;
				for (int j = 0; j < ts->n; j++) {
					int32_t p = ts->p[j];
					if (p < 0 || p >= tp->partitions || taken[toff[t] + p])
						continue;
					if (count[i] >= quota)
						break;
					taken[toff[t] + p] = true;
					asg_add(&out[i], ts->id, p);
					count[i]++;
				}
			}
			/* A member that had more than its share keeps one more
			 * while the remainder lasts. */
			if (pass == 0 && homogeneous && extra > 0 && count[i] == min_quota &&
			    asg_count(&m->target) > min_quota) {
				quota = min_quota + 1;
				extra--;
				continue;
			}
			break;
		}
	}

	/* 2. the rest, topics with fewer subscribers first */
	int *order = xrealloc(NULL, (size_t)(nt ? nt : 1) * sizeof(int));
	for (int t = 0; t < nt; t++)
		order[t] = t;
	for (int a = 1; a < nt; a++) {
		int v = order[a], b = a - 1;
		while (b >= 0 && nsubscribers[order[b]] > nsubscribers[v]) {
			order[b + 1] = order[b];
			b--;
		}
		order[b + 1] = v;
	}
	for (int oi = 0; oi < nt; oi++) {
		int t = order[oi];
		if (nsubscribers[t] == 0)
			continue;
		for (int32_t p = 0; p < c->topics[t].partitions; p++) {
			if (taken[toff[t] + p])
				continue;
			int best = -1;
			for (int i = 0; i < nm; i++)
				if (sub[i * nt + t] && (best < 0 || count[i] < count[best]))
					best = i;
			taken[toff[t] + p] = true;
			asg_add(&out[best], c->topics[t].id, p);
			count[best]++;
		}
	}

	/* 3. balance: one move at a time, from the most loaded member that
	 * can give, its highest partition, to the least loaded taker. */
	int *rank = xrealloc(NULL, (size_t)nm * sizeof(int));
	for (bool moved = true; moved;) {
		moved = false;
		for (int i = 0; i < nm; i++)
			rank[i] = i;
		for (int x = 1; x < nm; x++) {
			int v = rank[x], y = x - 1;
			while (y >= 0 && count[rank[y]] < count[v]) {
				rank[y + 1] = rank[y];
				y--;
			}
			rank[y + 1] = v;
		}
		for (int r = 0; r < nm && !moved; r++) {
			asg *s = &out[rank[r]];
			int src = rank[r];
			for (int k = s->n - 1; k >= 0 && !moved; k--) {
				const cg_topic *tp = topic_by_id(c, s->t[k].id);
				if (!tp || s->t[k].n == 0)
					continue;
				int t = (int)(tp - c->topics);
				int dst = -1;
				for (int i = 0; i < nm; i++)
					if (sub[i * nt + t] && count[i] + 1 < count[src] &&
					    (dst < 0 || count[i] < count[dst]))
						dst = i;
				if (dst < 0)
					continue;
				int32_t p = s->t[k].p[--s->t[k].n];
				asg_add(&out[dst], tp->id, p);
				count[src]--;
				count[dst]++;
				moved = true;
			}
		}
	}
	free(rank);
	free(order);
	free(taken);
	free(toff);
	free(nsubscribers);
	free(sub);
	free(count);
}

/* Kafka's range assignor: for each topic, its subscribers ordered by
 * instance id (member id for dynamic members) take contiguous ranges, the
 * first (partitions % subscribers) of them one partition more. */
static void assign_range(const cg_coord *c, group *g, asg *out)
{
	int nm = g->nm;
	if (nm == 0)
		return;
	int *idx = xrealloc(NULL, (size_t)nm * sizeof(int));
	for (int t = 0; t < c->ntopics; t++) {
		const cg_topic *tp = &c->topics[t];
		int k = 0;
		for (int i = 0; i < nm; i++)
			if (member_subscribes(c, g->m[i], tp))
				idx[k++] = i;
		if (k == 0 || tp->partitions <= 0)
			continue;
		/* insertion sort by instance id, else member id */
		for (int a = 1; a < k; a++) {
			int v = idx[a], b = a - 1;
			for (; b >= 0; b--) {
				const member *x = g->m[idx[b]], *y = g->m[v];
				kstr kx = x->instance_id.len >= 0 ? x->instance_id : x->id;
				kstr ky = y->instance_id.len >= 0 ? y->instance_id : y->id;
				if (kcmp(kx, ky) <= 0)
					break;
				idx[b + 1] = idx[b];
			}
			idx[b + 1] = v;
		}
		int per = tp->partitions / k, extra = tp->partitions % k;
		int32_t start = 0;
		for (int a = 0; a < k; a++) {
			int len = per + (a < extra ? 1 : 0);
			for (int j = 0; j < len; j++)
				asg_add(&out[idx[a]], tp->id, start + j);
			start += len;
		}
	}
	free(idx);
}

/* ---- reconciliation ---- */

/* Does a member other than self hold the partition (assigned or pending
 * revocation)? Kafka's currentPartitionEpoch != -1. */
static bool held_by_other(const group *g, const member *self, const uint8_t id[16], int32_t p)
{
	for (int i = 0; i < g->nm; i++) {
		const member *m = g->m[i];
		if (m == self)
			continue;
		if (asg_has(&m->assigned, id, p) || asg_has(&m->pending, id, p))
			return true;
	}
	return false;
}

/* Kafka's ownsRevokedPartitions: a null owned list counts as owning. */
static bool owns_any(const cg_tps *owned, int nowned, const asg *set)
{
	if (nowned < 0)
		return true;
	for (int i = 0; i < nowned; i++)
		for (int j = 0; j < owned[i].npartitions; j++)
			if (asg_has(set, owned[i].topic_id, owned[i].partitions[j]))
				return true;
	return false;
}

/* Kafka's isSubset: a null owned list is not a subset. */
static bool owned_subset(const cg_tps *owned, int nowned, const asg *set)
{
	if (nowned < 0)
		return false;
	for (int i = 0; i < nowned; i++) {
		if (!asg_find(set, owned[i].topic_id))
			return false;
		for (int j = 0; j < owned[i].npartitions; j++)
			if (!asg_has(set, owned[i].topic_id, owned[i].partitions[j]))
				return false;
	}
	return true;
}

/* Kafka's updateMemberEpoch: the previous epoch is the one before this
 * step, even when the step keeps the epoch. */
static void set_epoch(member *m, int32_t epoch)
{
	m->prev_epoch = m->epoch;
	m->epoch = epoch;
}

/* CurrentAssignmentBuilder.computeNextAssignment. */
static void next_assignment(group *g, member *m, int32_t epoch, const cg_tps *owned, int nowned)
{
	asg keep = {0}, revoke = {0}, add = {0};
	bool unreleased = false;
	for (int i = 0; i < m->assigned.n; i++)
		for (int j = 0; j < m->assigned.t[i].n; j++) {
			const uint8_t *id = m->assigned.t[i].id;
			int32_t p = m->assigned.t[i].p[j];
			if (asg_has(&m->target, id, p))
				asg_add(&keep, id, p);
			else
				asg_add(&revoke, id, p);
		}
	for (int i = 0; i < m->target.n; i++)
		for (int j = 0; j < m->target.t[i].n; j++) {
			const uint8_t *id = m->target.t[i].id;
			int32_t p = m->target.t[i].p[j];
			if (asg_has(&keep, id, p))
				continue;
			if (held_by_other(g, m, id, p))
				unreleased = true;
			else
				asg_add(&add, id, p);
		}
	if (asg_count(&revoke) > 0 && owns_any(owned, nowned, &revoke)) {
		m->state = CG_MEMBER_UNREVOKED_PARTITIONS;
		set_epoch(m, epoch);
		asg_copy(&m->assigned, &keep);
		asg_copy(&m->pending, &revoke);
	} else {
		for (int i = 0; i < add.n; i++)
			for (int j = 0; j < add.t[i].n; j++)
				asg_add(&keep, add.t[i].id, add.t[i].p[j]);
		m->state = unreleased ? CG_MEMBER_UNRELEASED_PARTITIONS : CG_MEMBER_STABLE;
		set_epoch(m, g->assignment_epoch);
		asg_copy(&m->assigned, &keep);
		asg_clear(&m->pending);
	}
	asg_free(&keep);
	asg_free(&revoke);
	asg_free(&add);
}

/* CurrentAssignmentBuilder.build, for a member not yet reconciled to the
 * assignment epoch. */
static void reconcile(group *g, member *m, const cg_tps *owned, int nowned)
{
	if (m->state == CG_MEMBER_STABLE && m->epoch == g->assignment_epoch)
		return;
	switch (m->state) {
	case CG_MEMBER_STABLE:
		next_assignment(g, m, m->epoch, owned, nowned);
		break;
	case CG_MEMBER_UNREVOKED_PARTITIONS:
		if (owns_any(owned, nowned, &m->pending))
			return;
		next_assignment(g, m, m->epoch + 1, owned, nowned);
		break;
	case CG_MEMBER_UNRELEASED_PARTITIONS:
		next_assignment(g, m, m->epoch, owned, nowned);
		break;
	}
}

/* ---- heartbeat ---- */

const char *cg_group_state_name(cg_group_state s)
{
	switch (s) {
	case CG_EMPTY:
		return "Empty";
	case CG_ASSIGNING:
		return "Assigning";
	case CG_RECONCILING:
		return "Reconciling";
	case CG_STABLE:
		return "Stable";
	case CG_DEAD:
		break;
	}
	return "Dead";
}

bool cg_group_state_parse(kstr name, cg_group_state *out)
{
	static const cg_group_state all[] = {CG_EMPTY, CG_ASSIGNING, CG_RECONCILING, CG_STABLE,
					     CG_DEAD};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = cg_group_state_name(all[i]);
		if (name.len == (int32_t)strlen(n) &&
		    strncasecmp(name.ptr, n, (size_t)name.len) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

const char *cg_member_state_name(cg_member_state s)
{
	switch (s) {
	case CG_MEMBER_STABLE:
		return "stable";
	case CG_MEMBER_UNREVOKED_PARTITIONS:
		return "unrevoked_partitions";
	case CG_MEMBER_UNRELEASED_PARTITIONS:
		return "unreleased_partitions";
	}
	return "unknown";
}

bool cg_assignor_known(kstr name) { return kstr_eq(name, "uniform") || kstr_eq(name, "range"); }

cg_coord *cg_new(const cg_options *options)
{
	cg_options def = CG_DEFAULT_OPTIONS;
	if (!options)
		options = &def;
	if (options->default_assignor && !cg_assignor_known(kstr_c(options->default_assignor)))
		return NULL;
	cg_coord *c = xrealloc(NULL, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->opt = *options;
	if (!c->opt.default_assignor)
		c->opt.default_assignor = "uniform";
	return c;
}

void cg_free(cg_coord *c)
{
	if (!c)
		return;
	while (c->ng > 0)
		group_destroy(c, c->g[c->ng - 1], true);
	free(c->g);
	for (int i = 0; i < c->ntopics; i++)
		kfree(&c->topics[i].name);
	free(c->topics);
	for (int i = 0; i < c->nchanged; i++)
		kfree(&c->changed[i]);
	free(c->changed);
	free(c);
}

static int topic_cmp(const void *a, const void *b)
{
	return kcmp(((const cg_topic *)a)->name, ((const cg_topic *)b)->name);
}

void cg_set_topics(cg_coord *c, const cg_topic *topics, int ntopics, int64_t now_ms)
{
	(void)now_ms;
	for (int i = 0; i < c->ntopics; i++)
		kfree(&c->topics[i].name);
	c->topics = xrealloc(c->topics, (size_t)(ntopics > 0 ? ntopics : 1) * sizeof(cg_topic));
	c->ntopics = 0;
	for (int i = 0; i < ntopics; i++) {
		if (topics[i].name.len < 0)
			continue;
		c->topics[c->ntopics] = topics[i];
		c->topics[c->ntopics].name = kown(topics[i].name);
		c->ntopics++;
	}
	qsort(c->topics, (size_t)c->ntopics, sizeof(cg_topic), topic_cmp);
	for (int i = 0; i < c->ng; i++) {
		group *g = c->g[i];
		if (g->nm > 0 && group_meta_hash(c, g) != g->meta_hash)
			group_bump(c, g);
	}
}

/* Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid (4.x). */
static const char *validate(const cg_heartbeat_req *r, int16_t *err)
{
	*err = KERR_INVALID_REQUEST;
	if (r->api_version >= 1 && r->member_id.len <= 0)
		return "MemberId can't be empty.";
	if (r->group_id.len <= 0)
		return "GroupId can't be empty.";
	if (r->instance_id.len == 0)
		return "InstanceId can't be empty.";
	if (r->rack_id.len == 0)
		return "RackId can't be empty.";
	if (r->member_epoch > 0 || r->member_epoch == CG_LEAVE_EPOCH) {
		if (r->member_id.len <= 0)
			return "MemberId can't be empty.";
	} else if (r->member_epoch == CG_JOIN_EPOCH) {
		if (r->rebalance_timeout_ms == -1)
			return "RebalanceTimeoutMs must be provided in first request.";
		if (r->ntopic_partitions != 0)
			return "TopicPartitions must be empty when (re-)joining.";
		if (r->nsubscribed_topic_names < 0 && r->subscribed_topic_regex.len < 0)
			return "Either SubscribedTopicNames or SubscribedTopicRegex must be "
			       "non-null when (re-)joining.";
	} else if (r->member_epoch == CG_STATIC_LEAVE_EPOCH) {
		if (r->member_id.len <= 0)
			return "MemberId can't be empty.";
		if (r->instance_id.len < 0)
			return "InstanceId can't be null.";
	} else {
		return "MemberEpoch is invalid.";
	}
	if (r->subscribed_topic_regex.len > 0) {
		regex_t re;
		if (!regex_compile(&re, r->subscribed_topic_regex, false)) {
			*err = KERR_INVALID_REGULAR_EXPRESSION;
			return "SubscribedTopicRegex is not a valid regular expression.";
		}
		regfree(&re);
	}
	if (r->server_assignor.len >= 0 && !cg_assignor_known(r->server_assignor)) {
		*err = KERR_UNSUPPORTED_ASSIGNOR;
		return "ServerAssignor is not supported. Supported assignors: uniform, range.";
	}
	*err = KERR_NONE;
	return NULL;
}

static int16_t hb_error(cg_heartbeat_resp *out, int16_t err, const char *msg)
{
	out->error_code = err;
	out->error_message = msg;
	out->member_id = KSTR_NULL;
	out->member_epoch = 0;
	out->heartbeat_interval_ms = 0; /* as Kafka's error responses */
	out->has_assignment = false;
	return err;
}

/* member_epoch -1 or -2: Kafka's consumerGroupLeave. */
static int16_t hb_leave(cg_coord *c, const cg_heartbeat_req *r, cg_heartbeat_resp *out)
{
	group *g = group_find(c, r->group_id);
	if (!g)
		return hb_error(out, KERR_GROUP_ID_NOT_FOUND, "Group not found.");
	member *m;
	if (r->instance_id.len < 0) {
		m = member_find(g, r->member_id);
		if (!m)
			return hb_error(out, KERR_UNKNOWN_MEMBER_ID, "Unknown member id.");
	} else {
		m = member_by_instance(g, r->instance_id);
		if (!m)
			return hb_error(out, KERR_UNKNOWN_MEMBER_ID, "Unknown instance id.");
		if (!keq(m->id, r->member_id))
			return hb_error(out, KERR_FENCED_INSTANCE_ID,
					"The instance id is owned by another member.");
	}
	if (r->member_epoch == CG_STATIC_LEAVE_EPOCH) {
		/* Away for now: keeps its assignment until it rejoins or
		 * its session expires. */
		log_info("consumer group %s: static member %s left for now", g->id.ptr, m->id.ptr);
		m->epoch = CG_STATIC_LEAVE_EPOCH;
		asg_clear(&m->pending);
		m->rebalance_deadline = INT64_MAX;
		mark_changed(c, g->id);
	} else {
		fence_member(c, g, m, "it left the group");
	}
	out->member_id = r->member_id;
	out->member_epoch = r->member_epoch;
	out->heartbeat_interval_ms = 0; /* Kafka's leave response leaves it unset */
	return KERR_NONE;
}

/* Kafka's throwIfConsumerGroupMemberEpochIsInvalid. */
static int16_t check_epoch(const member *m, const cg_heartbeat_req *r)
{
	if (r->member_epoch > m->epoch)
		return KERR_FENCED_MEMBER_EPOCH;
	if (r->member_epoch < m->epoch &&
	    (r->member_epoch != m->prev_epoch ||
	     !owned_subset(r->topic_partitions, r->ntopic_partitions, &m->assigned)))
		return KERR_FENCED_MEMBER_EPOCH;
	return KERR_NONE;
}

static bool set_regex(member *m, kstr regex)
{
	if (regex.len == 0)
		regex = KSTR_NULL;
	if (keq(m->regex, regex) && (regex.len < 0 || m->re_ok))
		return false;
	kfree(&m->regex);
	if (m->re_ok)
		regfree(&m->re);
	m->re_ok = false;
	m->regex = kown(regex);
	if (m->regex.len > 0)
		m->re_ok = regex_compile(&m->re, m->regex, true);
	return true;
}

static int kstr_cmp_qsort(const void *a, const void *b)
{
	return kcmp(*(const kstr *)a, *(const kstr *)b);
}

/* Names (if given), regex (if given), assignor (if given): true if the
 * subscription changed. */
static bool set_subscription(member *m, const cg_heartbeat_req *r)
{
	bool changed = false;
	if (r->nsubscribed_topic_names >= 0) {
		kstr *n = xrealloc(NULL, (size_t)(r->nsubscribed_topic_names + 1) * sizeof(kstr));
		int k = 0;
		for (int i = 0; i < r->nsubscribed_topic_names; i++)
			if (r->subscribed_topic_names[i].len >= 0)
				n[k++] = r->subscribed_topic_names[i];
		qsort(n, (size_t)k, sizeof(kstr), kstr_cmp_qsort);
		int u = 0;
		for (int i = 0; i < k; i++)
			if (u == 0 || !keq(n[u - 1], n[i]))
				n[u++] = n[i];
		bool same = u == m->nsubs;
		for (int i = 0; same && i < u; i++)
			same = keq(n[i], m->subs[i]);
		if (!same) {
			for (int i = 0; i < m->nsubs; i++)
				kfree(&m->subs[i]);
			m->subs = xrealloc(m->subs, (size_t)(u + 1) * sizeof(kstr));
			for (int i = 0; i < u; i++)
				m->subs[i] = kown(n[i]);
			m->nsubs = u;
			changed = true;
		}
		free(n);
	}
	if (r->subscribed_topic_regex.len >= 0 && set_regex(m, r->subscribed_topic_regex))
		changed = true;
	if (r->server_assignor.len >= 0 && !keq(m->assignor, r->server_assignor)) {
		kfree(&m->assignor);
		m->assignor = kown(r->server_assignor);
		changed = true;
	}
	return changed;
}

/* Replace *dst by src when it differs; true if it did. */
static bool update(kstr *dst, kstr src)
{
	if (keq(*dst, src))
		return false;
	kfree(dst);
	*dst = kown(src);
	return true;
}

static member *member_new(kstr id)
{
	member *m = xrealloc(NULL, sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->id = kown(id);
	m->instance_id = KSTR_NULL;
	m->rack_id = KSTR_NULL;
	m->client_id = KSTR_NULL;
	m->client_host = KSTR_NULL;
	m->principal = KSTR_NULL;
	m->regex = KSTR_NULL;
	m->assignor = KSTR_NULL;
	m->rebalance_timeout_ms = -1;
	m->epoch = 0;
	m->prev_epoch = -1;
	m->state = CG_MEMBER_STABLE;
	m->rebalance_deadline = INT64_MAX;
	return m;
}

int16_t cg_heartbeat(cg_coord *c, const cg_heartbeat_req *r, int64_t now_ms, arena *a,
		     cg_heartbeat_resp *out)
{
	memset(out, 0, sizeof(*out));
	out->member_id = KSTR_NULL;
	out->heartbeat_interval_ms = c->opt.heartbeat_interval_ms;
	int16_t err;
	const char *msg = validate(r, &err);
	if (msg)
		return hb_error(out, err, msg);
	if (r->member_epoch == CG_LEAVE_EPOCH || r->member_epoch == CG_STATIC_LEAVE_EPOCH)
		return hb_leave(c, r, out);

	bool joining = r->member_epoch == CG_JOIN_EPOCH;
	kstr member_id = r->member_id;
	if (member_id.len <= 0) { /* v0 join */
		member_id = r->generated_member_id;
		if (member_id.len <= 0)
			return hb_error(out, KERR_INVALID_REQUEST, "MemberId can't be empty.");
	}
	group *g = group_find(c, r->group_id);
	if (!g && !joining)
		return hb_error(out, KERR_UNKNOWN_MEMBER_ID, "Consumer group not found.");
	if (g && g->nm >= c->opt.max_size && (r->member_id.len <= 0 || !member_find(g, member_id)))
		return hb_error(out, KERR_GROUP_MAX_SIZE_REACHED,
				"The consumer group has reached its maximum capacity.");
	if (!g && c->opt.max_size <= 0)
		return hb_error(out, KERR_GROUP_MAX_SIZE_REACHED,
				"The consumer group has reached its maximum capacity.");

	member *m = g ? member_find(g, member_id) : NULL;
	member *old_static = NULL; /* replaced by this static member */
	bool is_new = false;
	if (r->instance_id.len < 0) {
		if (!m && !joining)
			return hb_error(out, KERR_UNKNOWN_MEMBER_ID, "Unknown member id.");
		if (m && (err = check_epoch(m, r)) != KERR_NONE)
			return hb_error(out, err, "The member epoch is fenced.");
		is_new = !m;
	} else {
		member *s = g ? member_by_instance(g, r->instance_id) : NULL;
		if (joining) {
			if (s && s->epoch != CG_STATIC_LEAVE_EPOCH)
				return hb_error(out, KERR_UNRELEASED_INSTANCE_ID,
						"The instance id is still used by another member.");
			if (s) {
				old_static = s;
				m = NULL;
			} else if (m && (err = check_epoch(m, r)) != KERR_NONE) {
				return hb_error(out, err, "The member epoch is fenced.");
			}
			is_new = !m && !s;
		} else {
			if (!s)
				return hb_error(out, KERR_UNKNOWN_MEMBER_ID,
						"Unknown instance id.");
			if (!keq(s->id, member_id))
				return hb_error(out, KERR_FENCED_INSTANCE_ID,
						"The instance id is owned by another member.");
			if ((err = check_epoch(s, r)) != KERR_NONE)
				return hb_error(out, err, "The member epoch is fenced.");
			m = s;
		}
	}

	if (!g)
		g = group_create(c, r->group_id);
	bool changed = false; /* persistent state */
	bool bump = false;    /* group epoch */
	asg before = {0};     /* assigned partitions before, to answer changes */
	if (old_static) {
		/* The static member restarts under a new member id: it takes
		 * the old one's place, assignment and target. */
		log_info("consumer group %s: static member %.*s replaces %s", g->id.ptr,
			 (int)member_id.len, member_id.ptr, old_static->id.ptr);
		member_remove(g, old_static);
		if (!keq(old_static->id, member_id)) {
			kfree(&old_static->id);
			old_static->id = kown(member_id);
		}
		old_static->epoch = 0;
		old_static->prev_epoch = 0;
		old_static->rebalance_deadline = INT64_MAX;
		member_insert(g, old_static);
		m = old_static;
		changed = true;
	} else if (is_new) {
		m = member_new(member_id);
		member_insert(g, m);
		log_info("consumer group %s: member %s joins", g->id.ptr, m->id.ptr);
		changed = bump = true;
	}
	asg_copy(&before, &m->assigned);
	cg_member_state state_before = m->state;
	int32_t epoch_before = m->epoch;

	changed |=
		update(&m->instance_id, r->instance_id.len >= 0 ? r->instance_id : m->instance_id);
	if (r->rack_id.len >= 0)
		changed |= update(&m->rack_id, r->rack_id);
	if (r->rebalance_timeout_ms != -1 && r->rebalance_timeout_ms != m->rebalance_timeout_ms) {
		m->rebalance_timeout_ms = r->rebalance_timeout_ms;
		changed = true;
	}
	changed |= update(&m->client_id, r->client_id.len >= 0 ? r->client_id : KSTR_LIT(""));
	changed |= update(&m->client_host, r->client_host.len >= 0 ? r->client_host : KSTR_LIT(""));
	/* The principal decides which topics a regex resolves to: a new one
	 * (a restored member's first heartbeat) may change the subscription. */
	if (r->principal.len >= 0 && !keq(m->principal, r->principal)) {
		update(&m->principal, r->principal);
		if (m->regex.len > 0)
			bump = true;
	}
	if (set_subscription(m, r))
		changed = bump = true;

	/* Topic metadata changes were applied by cg_set_topics() already. */
	if (bump)
		group_bump(c, g);

	reconcile(g, m, r->topic_partitions, r->ntopic_partitions);
	if (m->state != state_before || m->epoch != epoch_before ||
	    !asg_equal(&before, &m->assigned))
		changed = true;
	if (m->state != state_before || m->epoch != epoch_before) {
		if (m->state == CG_MEMBER_UNREVOKED_PARTITIONS) {
			m->rebalance_deadline =
				now_ms +
				(m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0);
			m->rebalance_epoch = m->epoch;
		} else {
			m->rebalance_deadline = INT64_MAX;
		}
	}
	m->session_deadline = now_ms + c->opt.session_timeout_ms;
	if (changed)
		mark_changed(c, g->id);

	out->error_code = KERR_NONE;
	out->member_id = arena_kstrdup(a, m->id);
	out->member_epoch = m->epoch;
	bool full = joining ||
		    (r->rebalance_timeout_ms != -1 &&
		     (r->nsubscribed_topic_names >= 0 || r->subscribed_topic_regex.len >= 0) &&
		     r->ntopic_partitions >= 0);
	if (full || !asg_equal(&before, &m->assigned)) {
		out->has_assignment = true;
		out->assignment = asg_to_tps(c, &m->assigned, a, &out->nassignment);
	}
	asg_free(&before);
	return KERR_NONE;
}

/* ---- deadlines ---- */

int64_t cg_next_deadline(const cg_coord *c)
{
	int64_t next = INT64_MAX;
	for (int i = 0; i < c->ng; i++)
		for (int j = 0; j < c->g[i]->nm; j++) {
			const member *m = c->g[i]->m[j];
			if (m->session_deadline < next)
				next = m->session_deadline;
			if (m->rebalance_deadline < next)
				next = m->rebalance_deadline;
		}
	return next;
}

void cg_fire_due(cg_coord *c, int64_t now_ms)
{
	for (int i = 0; i < c->ng; i++) {
		group *g = c->g[i];
		for (int j = 0; j < g->nm;) {
			member *m = g->m[j];
			if (m->session_deadline <= now_ms) {
				fence_member(c, g, m, "its session expired");
				j = 0;
			} else if (m->rebalance_deadline <= now_ms) {
				if (m->epoch == m->rebalance_epoch &&
				    m->state == CG_MEMBER_UNREVOKED_PARTITIONS) {
					fence_member(c, g, m,
						     "it did not revoke its partitions within its "
						     "rebalance timeout");
					j = 0;
				} else {
					m->rebalance_deadline = INT64_MAX;
					j++;
				}
			} else {
				j++;
			}
		}
	}
}

/* ---- describe and lists ---- */

static kstr *subs_copy(const member *m, arena *a)
{
	kstr *s = arena_alloc(a, (size_t)(m->nsubs ? m->nsubs : 1) * sizeof(kstr));
	for (int i = 0; i < m->nsubs; i++)
		s[i] = arena_kstrdup(a, m->subs[i]);
	return s;
}

bool cg_describe(cg_coord *c, kstr group_id, arena *a, cg_group_desc *out)
{
	memset(out, 0, sizeof(*out));
	const group *g = group_find(c, group_id);
	if (!g)
		return false;
	out->group_id = arena_kstrdup(a, g->id);
	out->state = group_state(g);
	out->state_name = cg_group_state_name(out->state);
	out->group_epoch = g->epoch;
	out->assignment_epoch = g->assignment_epoch;
	out->assignor_name = group_assignor(c, g);
	out->metadata_hash = g->meta_hash;
	out->nmembers = g->nm;
	out->members = arena_alloc(a, (size_t)(g->nm ? g->nm : 1) * sizeof(cg_member_desc));
	for (int i = 0; i < g->nm; i++) {
		const member *m = g->m[i];
		cg_member_desc *d = &out->members[i];
		d->member_id = arena_kstrdup(a, m->id);
		d->instance_id = arena_kstrdup(a, m->instance_id);
		d->rack_id = arena_kstrdup(a, m->rack_id);
		d->member_epoch = m->epoch;
		d->previous_member_epoch = m->prev_epoch;
		d->state = m->state;
		d->client_id = arena_kstrdup(a, m->client_id);
		d->client_host = arena_kstrdup(a, m->client_host);
		d->subscribed_topic_names = subs_copy(m, a);
		d->nsubscribed_topic_names = m->nsubs;
		d->subscribed_topic_regex = arena_kstrdup(a, m->regex);
		d->server_assignor = arena_kstrdup(a, m->assignor);
		d->rebalance_timeout_ms = m->rebalance_timeout_ms;
		d->assignment = asg_to_tps(c, &m->assigned, a, &d->nassignment);
		d->pending_revocation = asg_to_tps(c, &m->pending, a, &d->npending_revocation);
		d->target_assignment = asg_to_tps(c, &m->target, a, &d->ntarget_assignment);
	}
	return true;
}

int cg_list(cg_coord *c, arena *a, cg_group_brief **out)
{
	*out = arena_alloc(a, (size_t)(c->ng ? c->ng : 1) * sizeof(cg_group_brief));
	for (int i = 0; i < c->ng; i++) {
		(*out)[i].group_id = arena_kstrdup(a, c->g[i]->id);
		(*out)[i].state = group_state(c->g[i]);
	}
	return c->ng;
}

bool cg_exists(const cg_coord *c, kstr group_id) { return group_find(c, group_id) != NULL; }

bool cg_is_empty(const cg_coord *c, kstr group_id)
{
	const group *g = group_find(c, group_id);
	return !g || g->nm == 0;
}

cg_group_state cg_state(const cg_coord *c, kstr group_id)
{
	const group *g = group_find(c, group_id);
	return g ? group_state(g) : CG_DEAD;
}

bool cg_subscribed(const cg_coord *c, kstr group_id, kstr topic)
{
	const group *g = group_find(c, group_id);
	if (!g || topic.len < 0)
		return false;
	kstr name = kown(topic);
	cg_topic t = {.name = name};
	const cg_topic *known = topic_by_name(c, topic);
	if (known)
		t.internal = known->internal;
	bool sub = false;
	for (int i = 0; i < g->nm && !sub; i++)
		sub = member_subscribes(c, g->m[i], &t);
	kfree(&name);
	return sub;
}

void cg_forget(cg_coord *c, kstr group_id)
{
	group *g = group_find(c, group_id);
	if (g)
		group_destroy(c, g, false);
}

int16_t cg_delete(cg_coord *c, kstr group_id)
{
	group *g = group_find(c, group_id);
	if (!g)
		return KERR_GROUP_ID_NOT_FOUND;
	if (g->nm > 0)
		return KERR_NON_EMPTY_GROUP;
	group_destroy(c, g, true);
	return KERR_NONE;
}

/* ---- offsets checks ---- */

int16_t cg_commit_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
			bool transactional, int16_t api_version, bool *known)
{
	const group *g = group_find(c, group_id);
	*known = g != NULL;
	if (!g)
		return KERR_NONE;
	if (member_epoch < 0 && g->nm == 0)
		return KERR_NONE;
	const member *m = member_id.len >= 0 ? member_find(g, member_id) : NULL;
	if (!m)
		return KERR_UNKNOWN_MEMBER_ID;
	if (!transactional && api_version < 9)
		return KERR_UNSUPPORTED_VERSION;
	if (member_epoch != m->epoch)
		return KERR_STALE_MEMBER_EPOCH;
	return KERR_NONE;
}

int16_t cg_fetch_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
		       bool *known)
{
	const group *g = group_find(c, group_id);
	*known = g != NULL;
	if (!g)
		return KERR_NONE;
	if (member_id.len < 0 && member_epoch < 0)
		return KERR_NONE;
	const member *m = member_id.len >= 0 ? member_find(g, member_id) : NULL;
	if (!m)
		return KERR_UNKNOWN_MEMBER_ID;
	if (member_epoch != m->epoch)
		return KERR_STALE_MEMBER_EPOCH;
	return KERR_NONE;
}

/* ---- persistence ---- */

bool cg_export(cg_coord *c, kstr group_id, arena *a, cg_group_record *out)
{
	memset(out, 0, sizeof(*out));
	cg_group_desc d;
	if (!cg_describe(c, group_id, a, &d))
		return false;
	out->group_id = d.group_id;
	out->group_epoch = d.group_epoch;
	out->assignment_epoch = d.assignment_epoch;
	out->metadata_hash = d.metadata_hash;
	out->nmembers = d.nmembers;
	cg_member_record *mr =
		arena_alloc(a, (size_t)(d.nmembers ? d.nmembers : 1) * sizeof(cg_member_record));
	for (int i = 0; i < d.nmembers; i++) {
		const cg_member_desc *m = &d.members[i];
		mr[i] = (cg_member_record){
			.member_id = m->member_id,
			.instance_id = m->instance_id,
			.rack_id = m->rack_id,
			.client_id = m->client_id,
			.client_host = m->client_host,
			.subscribed_topic_names = m->subscribed_topic_names,
			.nsubscribed_topic_names = m->nsubscribed_topic_names,
			.subscribed_topic_regex = m->subscribed_topic_regex,
			.server_assignor = m->server_assignor,
			.rebalance_timeout_ms = m->rebalance_timeout_ms,
			.member_epoch = m->member_epoch,
			.previous_member_epoch = m->previous_member_epoch,
			.state = m->state,
			.assigned = m->assignment,
			.nassigned = m->nassignment,
			.pending_revocation = m->pending_revocation,
			.npending_revocation = m->npending_revocation,
			.target = m->target_assignment,
			.ntarget = m->ntarget_assignment,
		};
	}
	out->members = mr;
	return true;
}

int16_t cg_restore(cg_coord *c, const cg_group_record *g, int64_t now_ms)
{
	if (g->group_id.len <= 0 || g->group_epoch < 0 || g->assignment_epoch < 0 ||
	    g->assignment_epoch > g->group_epoch || g->nmembers < 0)
		return KERR_INVALID_REQUEST;
	for (int i = 0; i < g->nmembers; i++) {
		const cg_member_record *m = &g->members[i];
		if (m->member_id.len <= 0)
			return KERR_INVALID_REQUEST;
		if (m->server_assignor.len >= 0 && !cg_assignor_known(m->server_assignor))
			return KERR_INVALID_REQUEST;
		if (m->member_epoch < 0 &&
		    !(m->member_epoch == CG_STATIC_LEAVE_EPOCH && m->instance_id.len > 0))
			return KERR_INVALID_REQUEST;
		if (m->state != CG_MEMBER_STABLE && m->state != CG_MEMBER_UNREVOKED_PARTITIONS &&
		    m->state != CG_MEMBER_UNRELEASED_PARTITIONS)
			return KERR_INVALID_REQUEST;
		if (m->nsubscribed_topic_names > 0 && !m->subscribed_topic_names)
			return KERR_INVALID_REQUEST;
		regex_t re;
		if (m->subscribed_topic_regex.len > 0) {
			if (!regex_compile(&re, m->subscribed_topic_regex, true))
				return KERR_INVALID_REQUEST;
			regfree(&re);
		}
		for (int j = 0; j < i; j++)
			if (keq(g->members[j].member_id, m->member_id))
				return KERR_INVALID_REQUEST;
	}
	group *old = group_find(c, g->group_id);
	if (old)
		group_destroy(c, old, true);
	group *ng = group_create(c, g->group_id);
	ng->epoch = g->group_epoch;
	ng->assignment_epoch = g->assignment_epoch;
	for (int i = 0; i < g->nmembers; i++) {
		const cg_member_record *r = &g->members[i];
		member *m = member_new(r->member_id);
		m->instance_id = kown(r->instance_id);
		m->rack_id = kown(r->rack_id);
		m->client_id = kown(r->client_id);
		m->client_host = kown(r->client_host);
		cg_heartbeat_req sub = {
			.subscribed_topic_names = r->subscribed_topic_names,
			.nsubscribed_topic_names =
				r->nsubscribed_topic_names > 0 ? r->nsubscribed_topic_names : 0,
			.subscribed_topic_regex = r->subscribed_topic_regex,
			.server_assignor = r->server_assignor,
		};
		set_subscription(m, &sub);
		m->rebalance_timeout_ms = r->rebalance_timeout_ms;
		m->epoch = r->member_epoch;
		m->prev_epoch = r->previous_member_epoch;
		m->state = r->state;
		asg_from_tps(&m->assigned, r->assigned, r->nassigned);
		asg_from_tps(&m->pending, r->pending_revocation, r->npending_revocation);
		asg_from_tps(&m->target, r->target, r->ntarget);
		m->session_deadline = now_ms + c->opt.session_timeout_ms;
		if (m->state == CG_MEMBER_UNREVOKED_PARTITIONS && m->epoch >= 0) {
			m->rebalance_deadline =
				now_ms +
				(m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0);
			m->rebalance_epoch = m->epoch;
		}
		member_insert(ng, m);
	}
	ng->meta_hash = g->metadata_hash;
	if (ng->epoch > ng->assignment_epoch || group_meta_hash(c, ng) != ng->meta_hash)
		group_bump(c, ng);
	/* Restoring is writing nothing new, unless the epoch moved. */
	if (ng->epoch == g->group_epoch) {
		for (int i = 0; i < c->nchanged; i++) {
			if (keq(c->changed[i], ng->id)) {
				kfree(&c->changed[i]);
				c->changed[i] = c->changed[--c->nchanged];
				break;
			}
		}
	}
	return KERR_NONE;
}

int cg_take_changed(cg_coord *c, arena *a, kstr **group_ids)
{
	*group_ids = arena_alloc(a, (size_t)(c->nchanged ? c->nchanged : 1) * sizeof(kstr));
	int n = c->nchanged;
	for (int i = 0; i < n; i++) {
		(*group_ids)[i] = arena_kstrdup(a, c->changed[i]);
		kfree(&c->changed[i]);
	}
	c->nchanged = 0;
	return n;
}
