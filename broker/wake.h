/*
 * Wake-ups for long-polling fetches: a fetch waiting for data registers a
 * waiter per partition; whoever learns that a partition advanced (a local
 * produce commit today, the decoding stream later) calls wake_notify().
 */
#ifndef PGK_WAKE_H
#define PGK_WAKE_H

#include <stdint.h>

#include "kbuf.h"

struct event_base;

typedef struct waiter waiter;
typedef void (*wake_fn)(void *arg);

/* Once at start-up, before any other wake_* call. */
void wake_init(struct event_base *base);
/* Register interest in topic/partition. cb runs at most once per
 * registration, from the event loop; the waiter is removed before it runs.
 * The topic bytes are copied. */
waiter *wake_register(kstr topic, int32_t partition, wake_fn cb, void *arg);
/* Forget a waiter whose callback has not run yet (it will not run). The
 * handle is invalid once the callback has started. */
void wake_cancel(waiter *w);
/* Wake every waiter of topic/partition: their callbacks run soon from the
 * event loop, never inside this call. */
void wake_notify(kstr topic, int32_t partition);
/* Free every waiter without running its callback. */
void wake_shutdown(void);

#endif
