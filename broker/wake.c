/*
 * Wake-ups for long-polling fetches.
 *
 * A chained hash table maps (topic, partition) to a key node holding a doubly
 * linked list of waiters. wake_notify() moves every waiter of the key onto
 * one ready list and activates a single event; that event's callback runs
 * the callbacks from the event loop, so a notifier (a produce completion, the
 * decoding stream) never runs fetch code on its own stack. A waiter stays
 * cancellable until its callback starts: wake_cancel() is O(1) wherever the
 * waiter is (in the table or on the ready list).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "wake.h"

#define INITIAL_BUCKETS 64

typedef struct wkey {
	struct wkey *prev, *next; /* bucket chain */
	uint32_t hash;
	int32_t partition;
	waiter *head, *tail;
	int32_t topic_len;
	char topic[]; /* not NUL-terminated */
} wkey;

struct waiter {
	waiter *prev, *next; /* in key->head list, or in the ready list */
	wkey *key;           /* NULL while on the ready list */
	wake_fn cb;
	void *arg;
};

static struct {
	struct event_base *base;
	struct event *ready_ev;
	wkey **buckets;
	size_t nbuckets; /* a power of two */
	size_t nkeys;
	waiter *ready_head, *ready_tail;
	size_t nready;
} W;

static uint32_t key_hash(kstr topic, int32_t partition);
static wkey *key_find(kstr topic, int32_t partition, uint32_t hash);
static wkey *key_create(kstr topic, int32_t partition, uint32_t hash);
static void key_remove(wkey *k);
static bool table_grow(void);
static void list_append(waiter **head, waiter **tail, waiter *w);
static void list_remove(waiter **head, waiter **tail, waiter *w);
static void run_ready(evutil_socket_t fd, short what, void *arg);

void wake_init(struct event_base *base)
{
	W.base = base;
	W.ready_ev = event_new(base, -1, 0, run_ready, NULL);
	if (!W.ready_ev) {
		log_error("wake: cannot create event");
		abort();
	}
}

waiter *wake_register(kstr topic, int32_t partition, wake_fn cb, void *arg)
{
	uint32_t hash;
	waiter *w;
	wkey *k;

	if (topic.len < 0)
		topic.len = 0;
	if (!W.buckets && !table_grow())
		return NULL;
	hash = key_hash(topic, partition);
	k = key_find(topic, partition, hash);
	if (!k) {
		if (W.nkeys >= W.nbuckets)
			table_grow(); /* failing to grow only makes chains longer */
		k = key_create(topic, partition, hash);
		if (!k)
			return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		if (!k->head)
			key_remove(k);
		return NULL;
	}
	w->key = k;
	w->cb = cb;
	w->arg = arg;
	list_append(&k->head, &k->tail, w);
	return w;
}

void wake_cancel(waiter *w)
{
	if (!w)
		return;
	if (w->key) {
		wkey *k = w->key;
		list_remove(&k->head, &k->tail, w);
		if (!k->head)
			key_remove(k);
	} else {
		list_remove(&W.ready_head, &W.ready_tail, w);
		W.nready--;
	}
	free(w);
}

void wake_notify(kstr topic, int32_t partition)
{
	uint32_t hash;
	wkey *k;

	if (!W.buckets)
		return;
	if (topic.len < 0)
		topic.len = 0;
	hash = key_hash(topic, partition);
	k = key_find(topic, partition, hash);
	if (!k)
		return;
	while (k->head) {
		waiter *w = k->head;
		list_remove(&k->head, &k->tail, w);
		w->key = NULL;
		list_append(&W.ready_head, &W.ready_tail, w);
		W.nready++;
	}
	key_remove(k);
	if (W.ready_ev)
		event_active(W.ready_ev, EV_TIMEOUT, 0);
}

void wake_shutdown(void)
{
	size_t freed = 0;

	for (size_t i = 0; i < W.nbuckets; i++) {
		wkey *k = W.buckets[i];
		while (k) {
			wkey *next = k->next;
			for (waiter *w = k->head, *wn; w; w = wn) {
				wn = w->next;
				free(w);
				freed++;
			}
			free(k);
			k = next;
		}
	}
	for (waiter *w = W.ready_head, *wn; w; w = wn) {
		wn = w->next;
		free(w);
		freed++;
	}
	if (freed)
		log_debug("wake: dropped %zu waiters at shutdown", freed);
	if (W.ready_ev)
		event_free(W.ready_ev);
	free(W.buckets);
	memset(&W, 0, sizeof(W));
}

/*
 * Run the callbacks that were ready when this started. Callbacks may
 * register, cancel and notify; waiters made ready meanwhile run on the next
 * loop iteration, so a callback that re-arms and notifies itself cannot
 * starve the loop.
 */
static void run_ready(evutil_socket_t fd, short what, void *arg)
{
	size_t n = W.nready;

	(void)fd;
	(void)what;
	(void)arg;
	while (n-- > 0 && W.ready_head) {
		waiter *w = W.ready_head;
		wake_fn cb = w->cb;
		void *cb_arg = w->arg;

		list_remove(&W.ready_head, &W.ready_tail, w);
		W.nready--;
		free(w);
		cb(cb_arg);
	}
	if (W.ready_head)
		event_active(W.ready_ev, EV_TIMEOUT, 0);
}

/* FNV-1a over the topic bytes and the partition. */
static uint32_t key_hash(kstr topic, int32_t partition)
{
	uint32_t h = 2166136261u;
	uint32_t p = (uint32_t)partition;

	for (int32_t i = 0; i < topic.len; i++) {
		h ^= (uint8_t)topic.ptr[i];
		h *= 16777619u;
	}
	for (int i = 0; i < 4; i++) {
		h ^= (p >> (i * 8)) & 0xff;
		h *= 16777619u;
	}
	return h;
}

static wkey *key_find(kstr topic, int32_t partition, uint32_t hash)
{
	for (wkey *k = W.buckets[hash & (W.nbuckets - 1)]; k; k = k->next) {
		if (k->hash == hash && k->partition == partition && k->topic_len == topic.len &&
		    (topic.len == 0 || memcmp(k->topic, topic.ptr, (size_t)topic.len) == 0))
			return k;
	}
	return NULL;
}

static wkey *key_create(kstr topic, int32_t partition, uint32_t hash)
{
	wkey *k = calloc(1, sizeof(*k) + (size_t)topic.len);
	wkey **bucket;

	if (!k)
		return NULL;
	k->hash = hash;
	k->partition = partition;
	k->topic_len = topic.len;
	if (topic.len > 0)
		memcpy(k->topic, topic.ptr, (size_t)topic.len);
	bucket = &W.buckets[hash & (W.nbuckets - 1)];
	k->next = *bucket;
	if (*bucket)
		(*bucket)->prev = k;
	*bucket = k;
	W.nkeys++;
	return k;
}

static void key_remove(wkey *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		W.buckets[k->hash & (W.nbuckets - 1)] = k->next;
	if (k->next)
		k->next->prev = k->prev;
	W.nkeys--;
	free(k);
}

/* Double the bucket array (or create it) and rehash every key. */
static bool table_grow(void)
{
	size_t n = W.nbuckets ? W.nbuckets * 2 : INITIAL_BUCKETS;
	wkey **b = calloc(n, sizeof(*b));

	if (!b)
		return false;
	for (size_t i = 0; i < W.nbuckets; i++) {
		wkey *k = W.buckets[i];
		while (k) {
			wkey *next = k->next;
			wkey **bucket = &b[k->hash & (n - 1)];
			k->prev = NULL;
			k->next = *bucket;
			if (*bucket)
				(*bucket)->prev = k;
			*bucket = k;
			k = next;
		}
	}
	free(W.buckets);
	W.buckets = b;
	W.nbuckets = n;
	return true;
}

static void list_append(waiter **head, waiter **tail, waiter *w)
{
	w->next = NULL;
	w->prev = *tail;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static void list_remove(waiter **head, waiter **tail, waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		*tail = w->prev;
	w->prev = w->next = NULL;
}
