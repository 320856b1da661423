/*
 * Giving memory back after a burst: malloc_trim(0), and a hook for what
 * malloc_trim cannot reach, when the broker is idle. See memtrim.c.
 */
#ifndef PGK_MEMTRIM_H
#define PGK_MEMTRIM_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Start the idle check (every second); traffic counts the bytes the
 * broker has received and sent (it is idle when fewer than 256 KiB moved
 * since the last check); on_idle (may be NULL) runs at every check that
 * finds it idle, before the heap is trimmed. */
void memtrim_start(struct event_base *base, uint64_t (*traffic)(void), void (*on_idle)(void));
void memtrim_stop(void);
/* How many idle trims have run. */
unsigned long memtrim_count(void);

#endif
