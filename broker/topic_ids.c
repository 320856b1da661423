/*
 * Topic id cache (see topic_ids.h): an open-addressing table keyed by the
 * 16 id bytes. It holds at most TOPIC_IDS_MAX topics and starts afresh
 * when full, which costs one lookup statement per id afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "topic_ids.h"

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
