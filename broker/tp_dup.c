/*
 * Repeated topic partitions in a request (see tp_dup.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tp_dup.h"

typedef struct tp_key {
	kstr topic;
	int32_t partition;
	int32_t pos;
} tp_key;

static int tp_key_cmp(const void *a, const void *b)
{
	const tp_key *x = a, *y = b;
	int32_t n = x->topic.len < y->topic.len ? x->topic.len : y->topic.len;
	int c = n > 0 ? memcmp(x->topic.ptr, y->topic.ptr, (size_t)n) : 0;
	if (c)
		return c;
	if (x->topic.len != y->topic.len)
		return x->topic.len < y->topic.len ? -1 : 1;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

void tp_dup_find(arena *a, const kstr *topics, const int32_t *partitions, int32_t n, int32_t *first,
		 int32_t *last)
{
	if (n <= 0)
		return;
	tp_key *k = arena_alloc(a, sizeof(tp_key) * (size_t)n);
	for (int32_t i = 0; i < n; i++)
		k[i] = (tp_key){topics[i], partitions[i], i};
	qsort(k, (size_t)n, sizeof(tp_key), tp_key_cmp);
	for (int32_t i = 0; i < n;) {
		int32_t j = i;
		while (j + 1 < n && k[j + 1].partition == k[i].partition &&
		       kstr_eqk(k[j + 1].topic, k[i].topic))
			j++;
		/* k[i..j] name one partition, in request order */
		for (int32_t m = i; m <= j; m++) {
			first[k[m].pos] = k[i].pos;
			last[k[m].pos] = k[j].pos;
		}
		i = j + 1;
	}
}
