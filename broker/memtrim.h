/*
 * Giving memory back after a burst: malloc_trim(0), and a hook for what
 * malloc_trim cannot reach, when the broker is idle. See memtrim.c.
 */
#ifndef PGK_MEMTRIM_H
#define PGK_MEMTRIM_H

#include <stddef.h>

struct event_base;

/* Start the idle check (every second); in_flight tells
 * whether requests are running (the broker is idle when it returns 0);
 * on_idle (may be NULL) runs at every check that finds the broker idle,
 * before the heap is trimmed. */
void memtrim_start(struct event_base *base, size_t (*in_flight)(void), void (*on_idle)(void));
void memtrim_stop(void);
/* How many idle trims have run. */
unsigned long memtrim_count(void);

#endif
