/*
 * Per-request arena: a bump allocator over a list of zeroed chunks.
 *
 * Small allocations are carved from 8 KiB chunks; anything larger than a
 * quarter chunk gets a chunk of its own so that it does not waste the rest
 * of the current one. Blocks malloc'd elsewhere (decompressed batches,
 * libpq results copied out) are adopted and freed together with the arena.
 * Nothing is freed individually: everything goes at arena_free().
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_BIG (ARENA_CHUNK / 4)
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	uintptr_t pos; /* next free byte, always ARENA_ALIGN aligned */
	uintptr_t end;
	/* the usable bytes follow */
};

struct adopted {
	struct adopted *next;
	void *block;
};

struct arena {
	struct chunk *head; /* the chunk small allocations come from */
	struct adopted *adopted;
};

static void arena_oom(size_t n) __attribute__((noreturn));
static inline uintptr_t align_up(uintptr_t v);
static struct chunk *chunk_new(size_t usable);
static void *chunk_take(struct chunk *c, size_t n);

static void arena_oom(size_t n)
{
	fprintf(stderr, "pg_kafka: out of memory allocating %zu bytes from arena\n", n);
	abort();
}

static inline uintptr_t align_up(uintptr_t v)
{
	return (v + (ARENA_ALIGN - 1)) & ~(uintptr_t)(ARENA_ALIGN - 1);
}

/* calloc gives the zeroing for free: bump allocation never reuses memory. */
static struct chunk *chunk_new(size_t usable)
{
	size_t total;
	struct chunk *c;

	if (usable > SIZE_MAX - sizeof(struct chunk) - ARENA_ALIGN)
		arena_oom(usable);
	total = sizeof(struct chunk) + ARENA_ALIGN + usable;
	c = calloc(1, total);
	if (c == NULL)
		arena_oom(total);
	c->pos = align_up((uintptr_t)(c + 1));
	c->end = (uintptr_t)c + total;
	return c;
}

static void *chunk_take(struct chunk *c, size_t n)
{
	uintptr_t p;

	if (c == NULL || c->end - c->pos < n)
		return NULL;
	p = c->pos;
	c->pos = align_up(p + n);
	if (c->pos > c->end)
		c->pos = c->end;
	return (void *)p;
}

arena *arena_new(void)
{
	arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		arena_oom(sizeof(*a));
	return a;
}

void arena_free(arena *a)
{
	struct adopted *ad;
	struct chunk *c, *next;

	if (a == NULL)
		return;
	/* The adoption records live in the chunks: walk them before freeing. */
	for (ad = a->adopted; ad != NULL; ad = ad->next)
		free(ad->block);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *arena_alloc(arena *a, size_t n)
{
	struct chunk *c;
	void *p;

	/* Zero-byte requests still get a distinct, valid pointer. */
	if (n == 0)
		n = 1;
	p = chunk_take(a->head, n);
	if (p != NULL)
		return p;
	if (n > ARENA_BIG) {
		/* A private chunk, linked behind the current one so that the
		 * current chunk keeps serving small requests. */
		c = chunk_new(n);
		if (a->head == NULL) {
			a->head = c;
		} else {
			c->next = a->head->next;
			a->head->next = c;
		}
		return chunk_take(c, n);
	}
	c = chunk_new(ARENA_CHUNK);
	c->next = a->head;
	a->head = c;
	return chunk_take(c, n);
}

void *arena_memdup(arena *a, const void *p, size_t n)
{
	void *d = arena_alloc(a, n);

	if (n > 0)
		memcpy(d, p, n);
	return d;
}

/* Like strndup: stops at a NUL within n, and always terminates. */
char *arena_strndup(arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d;

	if (len == SIZE_MAX)
		arena_oom(len);
	d = arena_alloc(a, len + 1);
	memcpy(d, s, len);
	return d;
}

void arena_adopt(arena *a, void *p)
{
	struct adopted *ad;

	if (p == NULL)
		return;
	ad = arena_alloc(a, sizeof(*ad));
	ad->block = p;
	ad->next = a->adopted;
	a->adopted = ad;
}

kstr arena_kstrdup(arena *a, kstr s)
{
	if (s.len < 0)
		return KSTR_NULL;
	char *p = arena_alloc(a, (size_t)s.len + 1);
	if (s.len > 0)
		memcpy(p, s.ptr, (size_t)s.len);
	return (kstr){p, s.len};
}
