/*
 * Wake-ups for transaction markers (see txn_markers.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "log.h"
#include "pgbin.h"
#include "txn_markers.h"
#include "wake.h"

void txn_wake_markers(const char *topics, const char *partitions)
{
	arena *a = arena_new();
	kstr *t, *p;
	int nt = pgtext_array(a, topics, &t);
	int np = pgtext_array(a, partitions, &p);

	if (nt < 0 || nt != np) {
		log_warn("transaction markers: cannot read topics %s and partitions %s", topics,
			 partitions);
		arena_free(a);
		return;
	}
	for (int i = 0; i < nt; i++) {
		char *end;
		long partition;
		if (t[i].len < 0 || p[i].len <= 0)
			continue;
		partition = strtol(p[i].ptr, &end, 10);
		if (end != p[i].ptr + p[i].len || partition < 0 || partition > INT32_MAX)
			continue;
		wake_notify(t[i], (int32_t)partition);
	}
	arena_free(a);
}
