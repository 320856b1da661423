/*
 * A topic partition named more than once in one request. Kafka's broker
 * keys a request's partitions by topic and partition, so what it answers
 * depends on the repeats: Produce writes the last batch, ListOffsets
 * refuses a repeated partition, Fetch reads it once.
 */
#ifndef PGK_TP_DUP_H
#define PGK_TP_DUP_H

#include <stdint.h>

#include "arena.h"
#include "kbuf.h"

/*
 * For n (topic, partition) pairs, first[i] and last[i] are the positions of
 * the first and the last pair equal to pair i (both i when it is named
 * once). O(n log n); the arrays are the caller's.
 */
void tp_dup_find(arena *a, const kstr *topics, const int32_t *partitions, int32_t n, int32_t *first,
		 int32_t *last);

#endif
