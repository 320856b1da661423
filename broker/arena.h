/*
 * Per-request arena: every allocation made while serving one request comes
 * from here and is released at one place, when the response has been queued.
 */
#ifndef PGK_ARENA_H
#define PGK_ARENA_H

#include <stddef.h>

#include "kbuf.h"

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
/* Zeroed, 16-byte aligned memory that lives until arena_free(). */
void *arena_alloc(arena *a, size_t n);
void *arena_memdup(arena *a, const void *p, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
/* Hand a malloc'd block to the arena: it is free()d by arena_free(). */
void arena_adopt(arena *a, void *p);
/* A copy of a Kafka string or bytes value (null stays null); the copy is
 * NUL-terminated for convenience, but NULs inside are data. */
kstr arena_kstrdup(arena *a, kstr s);

#endif
