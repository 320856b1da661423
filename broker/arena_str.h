/*
 * Strings and arrays allocated in a request's arena: the small helpers every
 * handler uses to build a response.
 */
#ifndef PGK_ARENA_STR_H
#define PGK_ARENA_STR_H

#include <stdint.h>

#include "arena.h"
#include "proto.h"

#define ARENA_NEW_ARRAY(a, type, n)                                                                \
	((type *)arena_alloc((a), sizeof(type) * (size_t)((n) > 0 ? (n) : 1)))

static inline karray karray_of(void *items, int32_t n) { return (karray){n, items}; }

/* A NUL-terminated copy of s in the arena ("" for null). */
char *arena_cstr(arena *a, kstr s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
