/*
 * Topic ids to topic names, for the requests that name topics by id
 * (KIP-516: Fetch v13+, Produce v13).
 *
 * A topic id names one topic for ever: kafka.topics gives every topic a
 * fresh id, and a topic is never renamed. So an entry can never become
 * wrong, only stale (the topic was deleted); the statements that read by
 * a cached name check the id too, and their callers forget an id those
 * statements no longer find. The cache belongs to the broker process.
 */
#ifndef PGK_TOPIC_IDS_H
#define PGK_TOPIC_IDS_H

#include <stdbool.h>

#include "proto.h"
#include "request.h"

/* The name of topic id, pointing into the cache (valid until the next
 * topic_ids_put or topic_ids_forget), or false if the id is not cached. */
bool topic_ids_get(const kuuid *id, kstr *name);
void topic_ids_put(const kuuid *id, kstr name);
void topic_ids_forget(const kuuid *id);
/* Drop every entry (shutdown, tests). */
void topic_ids_clear(void);

/*
 * The names of ids[0..n-1], then done(arg): names[i] a copy in the
 * request's arena, or null with errors[i] UNKNOWN_TOPIC_ID (no topic has
 * the id; the zero id included) or KAFKA_STORAGE_ERROR (the lookup
 * failed). Ids the cache holds cost nothing; the others one statement on
 * req->db. done may run before this returns.
 */
typedef void (*topic_ids_done_fn)(void *arg);
void topic_ids_resolve(request *req, const kuuid *ids, int n, kstr *names, int16_t *errors,
		       topic_ids_done_fn done, void *arg);

#endif
