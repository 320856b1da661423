/*
 * Topic id cache (see topic_ids.h): an open-addressing table keyed by the
 * 16 id bytes. It holds at most TOPIC_IDS_MAX topics and starts afresh
 * when full, which costs one lookup statement per id afterwards. Ids it
 * lacks are looked up with Q_TOPIC_NAMES_BY_ID.
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "topic_ids.h"
#include "uuid.h"

#define TOPIC_IDS_SLOTS 16384 /* a power of two */
#define TOPIC_IDS_MAX (TOPIC_IDS_SLOTS / 2)

typedef struct topic_id_slot {
	kuuid id;
	char *name; /* NULL: empty */
	int32_t name_len;
	bool tomb; /* emptied by forget: lookups continue past it */
} topic_id_slot;

static topic_id_slot *slots;
static int used; /* live entries and tombstones */

static uint32_t id_hash(const kuuid *id)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ id->b[i]) * 16777619u;
	return h;
}

/* The slot holding id, or NULL. */
static topic_id_slot *find(const kuuid *id)
{
	if (!slots)
		return NULL;
	for (uint32_t i = id_hash(id), n = 0; n < TOPIC_IDS_SLOTS; i++, n++) {
		topic_id_slot *s = &slots[i & (TOPIC_IDS_SLOTS - 1)];
		if (!s->name && !s->tomb)
			return NULL;
		if (s->name && memcmp(s->id.b, id->b, 16) == 0)
			return s;
	}
	return NULL;
}

bool topic_ids_get(const kuuid *id, kstr *name)
{
	const topic_id_slot *s = find(id);
	if (!s)
		return false;
	*name = (kstr){s->name, s->name_len};
	return true;
}

void topic_ids_put(const kuuid *id, kstr name)
{
	if (name.len <= 0 || find(id))
		return;
	if (used >= TOPIC_IDS_MAX)
		topic_ids_clear();
	if (!slots) {
		slots = calloc(TOPIC_IDS_SLOTS, sizeof(*slots));
		if (!slots)
			return;
	}
	char *copy = malloc((size_t)name.len);
	if (!copy)
		return;
	memcpy(copy, name.ptr, (size_t)name.len);
	for (uint32_t i = id_hash(id);; i++) {
		topic_id_slot *s = &slots[i & (TOPIC_IDS_SLOTS - 1)];
		if (s->name)
			continue;
		if (!s->tomb)
			used++;
		s->id = *id;
		s->name = copy;
		s->name_len = name.len;
		s->tomb = false;
		return;
	}
}

void topic_ids_forget(const kuuid *id)
{
	topic_id_slot *s = find(id);
	if (!s)
		return;
	free(s->name);
	s->name = NULL;
	s->tomb = true;
}

void topic_ids_clear(void)
{
	if (!slots)
		return;
	for (int i = 0; i < TOPIC_IDS_SLOTS; i++)
		free(slots[i].name);
	free(slots);
	slots = NULL;
	used = 0;
}

typedef struct resolve_ctx {
	request *req;
	const kuuid *ids;
	int n;
	kstr *names;
	int16_t *errors;
	topic_ids_done_fn done;
	void *arg;
} resolve_ctx;

static void resolve_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	resolve_ctx *c = arg;
	(void)n;

	if (err) {
		if (db_error_retriable(sqlstate, retriable))
			log_warn("topic ids: %s", err);
		else
			log_error("topic ids: %s", err);
		for (int i = 0; i < c->n; i++)
			if (c->names[i].len < 0 && !uuid_is_zero(&c->ids[i]))
				c->errors[i] = KERR_KAFKA_STORAGE_ERROR;
		c->done(c->arg);
		return;
	}
	for (int r = 0; r < PQntuples(res[0]); r++) {
		kuuid id;
		kstr name = pgtext_str(res[0], r, 1);
		if (!uuid_parse(PQgetvalue(res[0], r, 0), &id))
			continue;
		topic_ids_put(&id, name);
		for (int i = 0; i < c->n; i++)
			if (c->names[i].len < 0 && memcmp(c->ids[i].b, id.b, 16) == 0) {
				c->names[i] = kstr_c(arena_cstr(c->req->arena, name));
				c->errors[i] = KERR_NONE;
			}
	}
	c->done(c->arg);
}

void topic_ids_resolve(request *req, const kuuid *ids, int n, kstr *names, int16_t *errors,
		       topic_ids_done_fn done, void *arg)
{
	char *list = NULL;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		kstr name;
		names[i] = KSTR_NULL;
		errors[i] = KERR_UNKNOWN_TOPIC_ID;
		if (uuid_is_zero(&ids[i]))
			continue;
		/* A copy: the cache may change while the request waits. */
		if (topic_ids_get(&ids[i], &name)) {
			names[i] = kstr_c(arena_cstr(req->arena, name));
			errors[i] = KERR_NONE;
			continue;
		}
		if (!list) {
			list = arena_alloc(req->arena, (size_t)n * 37 + 2);
			list[len++] = '{';
		} else {
			list[len++] = ',';
		}
		memcpy(list + len, uuid_format(req->arena, &ids[i]), 36);
		len += 36;
	}
	if (!list) {
		done(arg);
		return;
	}
	list[len++] = '}';
	resolve_ctx *c = arena_alloc(req->arena, sizeof(*c));
	*c = (resolve_ctx){req, ids, n, names, errors, done, arg};
	params *p = arena_alloc(req->arena, sizeof(*p));
	params_str(p, req->arena, (kstr){list, (int32_t)len});
	db_stmt st = params_stmt(Q_TOPIC_NAMES_BY_ID, p, 0);
	db_submit(req->db, &st, 1, resolve_rows, c);
}
