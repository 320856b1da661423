/*
 * The broker's consumer groups of the KIP-848 protocol (see
 * consumer_groups.h): cgroup.c on the event loop, its topic image, its
 * deadlines, and its state in PostgreSQL.
 *
 * Invariants:
 * - Only groups this broker coordinates are written; a group whose
 *   coordinator moved away is forgotten by the loaded set (a sweep every
 *   second), so that coming back loads what the other broker wrote.
 * - Writes and loads go through one pool lane: PostgreSQL sees the writes
 *   of a group in the order its state changed, and a load never overtakes
 *   a write queued before it.
 * - A group is restored from PostgreSQL at most once per coordinatorship:
 *   a second load queued behind the first is dropped when it completes.
 * - A write that failed is retried with the next one; the heartbeats that
 *   waited for it get the coordinator error (the member retries).
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "consumer_groups.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "uuid.h"
#include "validate.h"

#define SWEEP_MS 1000

/* A set of group or topic names, each malloc'd: open addressing, a
 * removed entry leaves a tombstone until the next growth. */
typedef struct idset {
	char **slot; /* NULL: free; TOMB: removed */
	int cap;     /* a power of two, or 0 */
	int used;    /* entries and tombstones */
} idset;

#define TOMB ((char *)1)

static struct {
	cg_coord *cg;
	struct event *deadline; /* the state machine's next deadline */
	struct event *sweep;    /* forget groups coordinated elsewhere now */
	pool_lane *lane;        /* writes and loads, in order */
	int64_t topics_at;      /* clock of the last topic image; -1: never */
	idset loaded;           /* loaded since this broker became their coordinator */
	idset dirty;            /* writes that failed, done again with the next */
	idset topic_names;      /* the topics of the image */
} G;

typedef struct prep {
	cgroups_done_fn done;
	void *arg;
	bool topics; /* the job's first statement is Q_TOPICS_ALL */
	kstr *ids;   /* the groups loaded by the other statements */
	int nids;
} prep;

typedef struct persist_ctx {
	arena *a;
	cgroups_done_fn done;
	void *arg;
	kstr *ids; /* one per statement */
	int n;
} persist_ctx;

static uint32_t idset_hash(kstr id);
static bool idset_eq(const char *s, kstr id);
static int idset_find(const idset *s, kstr id);
static bool idset_has(const idset *s, kstr id);
static void idset_add(idset *s, kstr id);
static void idset_remove_at(idset *s, int i);
static void idset_put(idset *s, char *owned);
static void idset_clear(idset *s);
static void arm_deadline(void);
static void on_deadline(evutil_socket_t fd, short what, void *arg);
static void on_sweep(evutil_socket_t fd, short what, void *arg);
static void prep_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static void apply_topics(const PGresult *res);
static void restore_group(kstr group_id, const PGresult *res);
static void persist_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static char *members_json(arena *a, const cg_group_record *r);
static int int_array(arena *a, const char *s, int32_t **out);
static cg_member_state member_state_parse(const char *s);
static void json_str(kwriter *w, kstr s);
static void json_raw(kwriter *w, const char *s);
static void json_int(kwriter *w, int64_t v);
static void json_tps(kwriter *w, arena *a, const cg_tps *t, int n);

/* ---- set of ids ---- */

static uint32_t idset_hash(kstr id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int32_t i = 0; i < id.len; i++)
		h = (h ^ (uint8_t)id.ptr[i]) * 16777619u;
	return h;
}

static bool idset_eq(const char *s, kstr id)
{
	return strlen(s) == (size_t)(id.len > 0 ? id.len : 0) &&
	       memcmp(s, id.ptr ? id.ptr : "", (size_t)(id.len > 0 ? id.len : 0)) == 0;
}

/* The slot of id, or -1. */
static int idset_find(const idset *s, kstr id)
{
	if (s->cap == 0)
		return -1;
	for (uint32_t i = idset_hash(id) & (uint32_t)(s->cap - 1);;
	     i = (i + 1) & (uint32_t)(s->cap - 1)) {
		if (!s->slot[i])
			return -1;
		if (s->slot[i] != TOMB && idset_eq(s->slot[i], id))
			return (int)i;
	}
}

static bool idset_has(const idset *s, kstr id) { return idset_find(s, id) >= 0; }

static void idset_put(idset *s, char *owned)
{
	kstr id = kstr_c(owned);
	uint32_t i = idset_hash(id) & (uint32_t)(s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (uint32_t)(s->cap - 1);
	s->slot[i] = owned;
	s->used++;
}

static void idset_add(idset *s, kstr id)
{
	if (idset_has(s, id))
		return;
	if (2 * (s->used + 1) > s->cap) {
		idset old = *s;
		s->cap = old.cap ? 2 * old.cap : 64;
		s->slot = calloc((size_t)s->cap, sizeof(*s->slot));
		s->used = 0;
		if (!s->slot) {
			log_error("out of memory");
			abort();
		}
		for (int i = 0; i < old.cap; i++)
			if (old.slot[i] && old.slot[i] != TOMB)
				idset_put(s, old.slot[i]);
		free(old.slot);
	}
	char *copy = strndup(id.ptr ? id.ptr : "", id.len > 0 ? (size_t)id.len : 0);
	if (!copy) {
		log_error("out of memory");
		abort();
	}
	idset_put(s, copy);
}

static void idset_remove_at(idset *s, int i)
{
	free(s->slot[i]);
	s->slot[i] = TOMB;
}

static void idset_clear(idset *s)
{
	for (int i = 0; i < s->cap; i++)
		if (s->slot[i] != TOMB)
			free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* ---- life cycle ---- */

/* A regex subscription resolves to the topics its member may DESCRIBE
 * (GroupMetadataManager filters them with the member's authorization). */
static bool regex_topic_visible(void *arg, kstr principal, kstr client_host, kstr topic)
{
	(void)arg;
	return authz_as(principal, client_host, ACL_OP_DESCRIBE, ACL_RES_TOPIC, topic);
}

void cgroups_init(struct event_base *base)
{
	cg_options opt = CG_DEFAULT_OPTIONS;
	static char assignor[16];
	const char *a = g_config.cg_assignors ? g_config.cg_assignors : "uniform";

	/* The first of group.consumer.assignors (config.c checked the list). */
	while (*a == ' ')
		a++;
	size_t n = strcspn(a, ", ");
	if (n >= sizeof(assignor))
		n = sizeof(assignor) - 1;
	memcpy(assignor, a, n);
	assignor[n] = '\0';
	opt.session_timeout_ms = g_config.cg_session_timeout_ms;
	opt.heartbeat_interval_ms = g_config.cg_heartbeat_interval_ms;
	opt.max_size = g_config.cg_max_size;
	opt.default_assignor = assignor;
	opt.topic_visible = regex_topic_visible;
	G.cg = cg_new(&opt);
	G.deadline = evtimer_new(base, on_deadline, NULL);
	G.sweep = event_new(base, -1, EV_PERSIST, on_sweep, NULL);
	if (!G.cg || !G.deadline || !G.sweep) {
		log_error("cannot start the consumer group coordinator");
		abort();
	}
	G.lane = pool_lane_new();
	G.topics_at = -1;
	struct timeval tv = {SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000};
	evtimer_add(G.sweep, &tv);
}

void cgroups_shutdown(void)
{
	if (G.deadline)
		event_free(G.deadline);
	if (G.sweep)
		event_free(G.sweep);
	if (G.lane)
		pool_lane_free(G.lane);
	cg_free(G.cg);
	idset_clear(&G.loaded);
	idset_clear(&G.dirty);
	idset_clear(&G.topic_names);
	memset(&G, 0, sizeof(G));
}

cg_coord *cgroups(void) { return G.cg; }

int64_t cgroups_now(void) { return clock_mono_ms(); }

void cgroups_want_topics(const kstr *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!idset_has(&G.topic_names, names[i]))
			G.topics_at = -1;
}

/* ---- timers ---- */

static void arm_deadline(void)
{
	int64_t d = cg_next_deadline(G.cg);

	if (d == INT64_MAX) {
		evtimer_del(G.deadline);
		return;
	}
	int64_t ms = d - cgroups_now();
	if (ms < 0)
		ms = 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	evtimer_add(G.deadline, &tv);
}

/* Session and rebalance timeouts: members removed, groups written. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	cg_fire_due(G.cg, cgroups_now());
	cgroups_persist(NULL, NULL);
}

/* A group whose coordinator moved away is loaded again when it comes back. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < G.loaded.cap; i++) {
		char *id = G.loaded.slot[i];
		if (id && id != TOMB && !cluster_is_coordinator(kstr_c(id)))
			idset_remove_at(&G.loaded, i);
	}
}

/* ---- loading ---- */

void cgroups_prepare(request *req, const kstr *group_ids, int n, bool topics, cgroups_done_fn done,
		     void *arg)
{
	prep *p = arena_alloc(req->arena, sizeof(*p));
	db_stmt *st = ARENA_NEW_ARRAY(req->arena, db_stmt, n + 1);
	int k = 1; /* st[0]: the topics, if they are read */

	if (!G.cg) {
		done(arg, KERR_NOT_COORDINATOR);
		return;
	}
	p->done = done;
	p->arg = arg;
	p->ids = ARENA_NEW_ARRAY(req->arena, kstr, n + 1);
	for (int i = 0; i < n; i++) {
		kstr id = group_ids[i];
		bool dup = false;
		for (int j = 0; j < p->nids && !dup; j++)
			dup = kstr_eqk(p->ids[j], id);
		if (dup || !pgtext_valid(id) || !cluster_is_coordinator(id) ||
		    idset_has(&G.loaded, id))
			continue;
		params *q = arena_alloc(req->arena, sizeof(*q));
		params_str(q, req->arena, id);
		st[k++] = params_stmt(Q_CG_LOAD, q, 0);
		p->ids[p->nids++] = id;
	}
	/* The topics go first: a restored group needs them (cgroup.h). */
	if ((topics || (p->nids > 0 && G.topics_at < 0)) &&
	    (G.topics_at < 0 || cgroups_now() - G.topics_at >= CGROUPS_TOPICS_MAX_AGE_MS)) {
		params *q = arena_alloc(req->arena, sizeof(*q));
		st[0] = params_stmt(Q_TOPICS_ALL, q, 0);
		p->topics = true;
	}
	if (k == 1 && !p->topics) {
		done(arg, KERR_NONE);
		return;
	}
	db_submit(G.lane, p->topics ? st : st + 1, p->topics ? k : k - 1, prep_done, p);
}

static void prep_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	prep *p = arg;
	int off = p->topics ? 1 : 0;
	(void)n;

	if (err) {
		p->done(p->arg,
			coordinator_db_error("consumer group load", err, sqlstate, retriable));
		return;
	}
	if (!G.cg) { /* shut down meanwhile */
		p->done(p->arg, KERR_NOT_COORDINATOR);
		return;
	}
	if (p->topics)
		apply_topics(res[0]);
	for (int i = 0; i < p->nids; i++) {
		/* Loaded meanwhile by an earlier job: that state is newer. */
		if (idset_has(&G.loaded, p->ids[i]))
			continue;
		if (cluster_is_coordinator(p->ids[i]))
			restore_group(p->ids[i], res[off + i]);
		idset_add(&G.loaded, p->ids[i]);
	}
	arm_deadline();
	p->done(p->arg, KERR_NONE);
}

/* Q_TOPICS_ALL: name, topic_id, partitions. */
static void apply_topics(const PGresult *res)
{
	int n = PQntuples(res);
	cg_topic *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t));
	int k = 0;

	if (!t) {
		log_error("out of memory");
		abort();
	}
	for (int r = 0; r < n; r++) {
		kuuid id;
		if (PQgetisnull(res, r, 1) || !uuid_parse(PQgetvalue(res, r, 1), &id))
			continue;
		t[k].name = pgtext_str(res, r, 0);
		memcpy(t[k].id, id.b, 16);
		t[k].partitions = (int32_t)pgtext_i64(res, r, 2, 0);
		t[k].internal = false;
		k++;
	}
	cg_set_topics(G.cg, t, k, cgroups_now());
	idset_clear(&G.topic_names);
	for (int i = 0; i < k; i++)
		idset_add(&G.topic_names, t[i].name);
	free(t);
	G.topics_at = cgroups_now();
}

/* "{1,2,3}" -> the ints, in a. */
static int int_array(arena *a, const char *s, int32_t **out)
{
	int cap = 1;
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	int32_t *v = ARENA_NEW_ARRAY(a, int32_t, cap);
	int n = 0;

	while (*s && n < cap) {
		while (*s == '{' || *s == ',' || *s == ' ')
			s++;
		if (*s == '}' || !*s)
			break;
		char *end;
		long x = strtol(s, &end, 10);
		if (end == s)
			break;
		v[n++] = (int32_t)x;
		s = end;
	}
	*out = v;
	return n;
}

static cg_member_state member_state_parse(const char *s)
{
	if (strcmp(s, "unrevoked_partitions") == 0)
		return CG_MEMBER_UNREVOKED_PARTITIONS;
	if (strcmp(s, "unreleased_partitions") == 0)
		return CG_MEMBER_UNRELEASED_PARTITIONS;
	return CG_MEMBER_STABLE;
}

/*
 * Q_CG_LOAD's rows (one per member, kind and topic, ordered by member) as
 * a cg_group_record, handed to cg_restore. No rows: the group is not
 * stored, and a copy left in memory from an earlier coordinatorship (the
 * group deleted by another broker since) is dropped.
 */
static void restore_group(kstr group_id, const PGresult *res)
{
	int nrows = PQntuples(res);
	arena *a;
	cg_group_record g = {0};

	if (nrows == 0) {
		cg_forget(G.cg, group_id);
		return;
	}
	a = arena_new();
	cg_member_record *m = ARENA_NEW_ARRAY(a, cg_member_record, nrows);
	cg_tps *tps = ARENA_NEW_ARRAY(a, cg_tps, 3 * nrows);
	int ntps = 0;
	g.group_id = group_id;
	g.group_epoch = (int32_t)pgtext_i64(res, 0, 0, 0);
	g.assignment_epoch = (int32_t)pgtext_i64(res, 0, 1, 0);
	g.metadata_hash = (uint64_t)pgtext_i64(res, 0, 2, 0);
	g.members = m;
	for (int r = 0; r < nrows; r++) {
		if (PQgetisnull(res, r, 3))
			continue; /* a group without members */
		kstr member_id = pgtext_str(res, r, 3);
		cg_member_record *cur = g.nmembers > 0 ? &m[g.nmembers - 1] : NULL;
		if (!cur || !kstr_eqk(cur->member_id, member_id)) {
			cur = &m[g.nmembers++];
			memset(cur, 0, sizeof(*cur));
			cur->member_id = arena_kstrdup(a, member_id);
			cur->instance_id = arena_kstrdup(a, pgtext_str(res, r, 4));
			cur->rack_id = arena_kstrdup(a, pgtext_str(res, r, 5));
			cur->client_id = arena_kstrdup(a, pgtext_str(res, r, 6));
			cur->client_host = arena_kstrdup(a, pgtext_str(res, r, 7));
			cur->member_epoch = (int32_t)pgtext_i64(res, r, 8, 0);
			cur->previous_member_epoch = (int32_t)pgtext_i64(res, r, 9, -1);
			cur->state = member_state_parse(PQgetvalue(res, r, 10));
			cur->rebalance_timeout_ms = (int32_t)pgtext_i64(res, r, 11, 300000);
			cur->server_assignor = arena_kstrdup(a, pgtext_str(res, r, 12));
			kstr *names = NULL;
			int nn = PQgetisnull(res, r, 13)
					 ? 0
					 : pgtext_array(a, PQgetvalue(res, r, 13), &names);
			cur->subscribed_topic_names = names;
			cur->nsubscribed_topic_names = nn < 0 ? 0 : nn;
			cur->subscribed_topic_regex = arena_kstrdup(a, pgtext_str(res, r, 14));
		}
		if (PQgetisnull(res, r, 15))
			continue; /* a member without partitions */
		kuuid tid;
		if (!uuid_parse(PQgetvalue(res, r, 16), &tid))
			continue;
		cg_tps *t = &tps[ntps++];
		int32_t *parts;
		memcpy(t->topic_id, tid.b, 16);
		t->topic_name = KSTR_LIT("");
		t->npartitions = int_array(a, PQgetvalue(res, r, 17), &parts);
		t->partitions = parts;
		/* Rows of one member and kind are adjacent: extend its list. */
		const char *kind = PQgetvalue(res, r, 15);
		const cg_tps **list;
		int *count;
		if (strcmp(kind, "assigned") == 0) {
			list = &cur->assigned;
			count = &cur->nassigned;
		} else if (strcmp(kind, "revoking") == 0) {
			list = &cur->pending_revocation;
			count = &cur->npending_revocation;
		} else {
			list = &cur->target;
			count = &cur->ntarget;
		}
		if (*count == 0)
			*list = t;
		(*count)++;
	}
	int16_t e = cg_restore(G.cg, &g, cgroups_now());
	if (e)
		log_warn("consumer group %.*s: its stored state is inconsistent (error %d), not "
			 "loaded",
			 group_id.len, group_id.ptr, e);
	else
		log_info("consumer group %.*s loaded: group epoch %d, %d members", group_id.len,
			 group_id.ptr, g.group_epoch, g.nmembers);
	arena_free(a);
}

/* ---- writing ---- */

/* s as a JSON string; bytes PostgreSQL text cannot hold become '?'. */
static void json_str(kwriter *w, kstr s)
{
	static const char hex[] = "0123456789abcdef";
	bool valid;

	if (s.len < 0) {
		kw_raw(w, "null", 4);
		return;
	}
	valid = pgtext_valid(s);
	kw_raw(w, "\"", 1);
	for (int32_t i = 0; i < s.len; i++) {
		uint8_t c = (uint8_t)s.ptr[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			kw_raw(w, e, 2);
		} else if (c == 0 || (!valid && c >= 0x80)) {
			kw_raw(w, "?", 1);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			kw_raw(w, e, 6);
		} else {
			kw_raw(w, &s.ptr[i], 1);
		}
	}
	kw_raw(w, "\"", 1);
}

static void json_raw(kwriter *w, const char *s) { kw_raw(w, s, strlen(s)); }

static void json_int(kwriter *w, int64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", (long long)v);
	kw_raw(w, b, (size_t)n);
}

/* {"<topic id>": [partitions], ...} */
static void json_tps(kwriter *w, arena *a, const cg_tps *t, int n)
{
	kw_raw(w, "{", 1);
	for (int i = 0; i < n; i++) {
		kuuid id;
		memcpy(id.b, t[i].topic_id, 16);
		if (i)
			kw_raw(w, ",", 1);
		json_str(w, kstr_c(uuid_format(a, &id)));
		kw_raw(w, ":[", 2);
		for (int j = 0; j < t[i].npartitions; j++) {
			if (j)
				kw_raw(w, ",", 1);
			json_int(w, t[i].partitions[j]);
		}
		kw_raw(w, "]", 1);
	}
	kw_raw(w, "}", 1);
}

/* The members as kafka.consumer_group_save takes them. */
static char *members_json(arena *a, const cg_group_record *r)
{
	kwriter w;
	kw_init(&w, 256);
	kw_raw(&w, "[", 1);
	for (int i = 0; i < r->nmembers; i++) {
		const cg_member_record *m = &r->members[i];
		if (i)
			kw_raw(&w, ",", 1);
		json_raw(&w, "{\"member_id\":");
		json_str(&w, m->member_id);
		json_raw(&w, ",\"instance_id\":");
		json_str(&w, m->instance_id);
		json_raw(&w, ",\"rack_id\":");
		json_str(&w, m->rack_id);
		json_raw(&w, ",\"client_id\":");
		json_str(&w, m->client_id);
		json_raw(&w, ",\"client_host\":");
		json_str(&w, m->client_host);
		json_raw(&w, ",\"member_epoch\":");
		json_int(&w, m->member_epoch);
		json_raw(&w, ",\"previous_member_epoch\":");
		json_int(&w, m->previous_member_epoch);
		json_raw(&w, ",\"state\":");
		json_str(&w, kstr_c(cg_member_state_name(m->state)));
		json_raw(&w, ",\"rebalance_timeout_ms\":");
		json_int(&w, m->rebalance_timeout_ms);
		json_raw(&w, ",\"server_assignor\":");
		json_str(&w, m->server_assignor);
		json_raw(&w, ",\"subscribed_topic_names\":[");
		for (int j = 0; j < m->nsubscribed_topic_names; j++) {
			if (j)
				kw_raw(&w, ",", 1);
			json_str(&w, m->subscribed_topic_names[j]);
		}
		json_raw(&w, "],\"subscribed_topic_regex\":");
		json_str(&w, m->subscribed_topic_regex);
		json_raw(&w, ",\"assigned_partitions\":");
		json_tps(&w, a, m->assigned, m->nassigned);
		json_raw(&w, ",\"partitions_pending_revocation\":");
		json_tps(&w, a, m->pending_revocation, m->npending_revocation);
		json_raw(&w, ",\"target_assignment\":");
		json_tps(&w, a, m->target, m->ntarget);
		kw_raw(&w, "}", 1);
	}
	kw_raw(&w, "]", 1);
	char *s = arena_strndup(a, (const char *)w.buf, w.len);
	kw_free(&w);
	return s;
}

void cgroups_persist(cgroups_done_fn done, void *arg)
{
	if (!G.cg) {
		if (done)
			done(arg, KERR_NOT_COORDINATOR);
		return;
	}
	arena *a = arena_new();
	kstr *changed;
	int nchanged = cg_take_changed(G.cg, a, &changed);
	persist_ctx *c = arena_alloc(a, sizeof(*c));
	int cap = nchanged + G.dirty.used;
	db_stmt *st = ARENA_NEW_ARRAY(a, db_stmt, cap + 1);
	kstr *all = ARENA_NEW_ARRAY(a, kstr, cap + 1);
	int nall = 0;

	for (int i = 0; i < nchanged; i++)
		all[nall++] = changed[i];
	for (int i = 0; i < G.dirty.cap; i++) {
		if (!G.dirty.slot[i] || G.dirty.slot[i] == TOMB)
			continue;
		kstr id = arena_kstrdup(a, kstr_c(G.dirty.slot[i]));
		bool dup = false;
		for (int j = 0; j < nall && !dup; j++)
			dup = kstr_eqk(all[j], id);
		if (!dup)
			all[nall++] = id;
	}
	idset_clear(&G.dirty);
	c->a = a;
	c->done = done;
	c->arg = arg;
	c->ids = ARENA_NEW_ARRAY(a, kstr, cap + 1);
	for (int i = 0; i < nall; i++) {
		kstr id = all[i];
		cg_group_record r;
		cg_group_desc d;
		params *p = arena_alloc(a, sizeof(*p));

		if (!pgtext_valid(id) || !cluster_is_coordinator(id))
			continue;
		params_str(p, a, id);
		if (!cg_export(G.cg, id, a, &r)) {
			st[c->n] = params_stmt(Q_CG_DELETE, p, 0);
		} else {
			const char *assignor =
				cg_describe(G.cg, id, a, &d) ? d.assignor_name : NULL;
			params_int(p, a, r.group_epoch);
			params_int(p, a, r.assignment_epoch);
			params_str(p, a, kstr_c(assignor));
			params_str(p, a, kstr_c(members_json(a, &r)));
			params_int(p, a, (int64_t)r.metadata_hash);
			st[c->n] = params_stmt(Q_CG_SAVE, p, 0);
		}
		c->ids[c->n++] = id;
	}
	arm_deadline();
	if (c->n == 0) {
		arena_free(a);
		if (done)
			done(arg, KERR_NONE);
		return;
	}
	db_submit(G.lane, st, c->n, persist_done, c);
}

static void persist_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	persist_ctx *c = arg;
	int16_t e = KERR_NONE;
	(void)res;
	(void)n;

	if (err) {
		e = coordinator_db_error("consumer group write", err, sqlstate, retriable);
		for (int i = 0; i < c->n && G.cg; i++)
			idset_add(&G.dirty, c->ids[i]);
	}
	if (c->done)
		c->done(c->arg, e);
	arena_free(c->a);
}
