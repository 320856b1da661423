/*
 * The fetch read-ahead cache: Q_FETCH results read for a client's next
 * Fetch before it asks, kept in the client connection's
 * CONN_SLOT_FETCH_READAHEAD slot (request.h). h_fetch.c decides what to
 * read ahead and how to use the results; this module owns them, matches
 * them to the next Fetch, ages them out and keeps the memory of all clients
 * under fetch.readahead.max.bytes. See fetch_readahead.c for the policy.
 */
#ifndef PGK_FETCH_READAHEAD_H
#define PGK_FETCH_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "kbuf.h"
#include "pool.h"
#include "request.h"

/* One partition read ahead: where the read starts and how many rows. */
typedef struct readahead_part {
	kstr topic;
	int32_t partition;
	int64_t offset;
	int32_t limit;
} readahead_part;

/*
 * Hands read-ahead results to the fetch they answer: res[i] and limits[i]
 * for the i-th partition asked for (valid during the call only; the module
 * frees them after), or res == NULL if the results are no longer usable
 * (failed, too old, or records were deleted): then the fetch reads afresh.
 */
typedef void (*readahead_use_fn)(void *fetch, PGresult **res, const int32_t *limits, int n);

/*
 * A fetch's first round: if the slot's read-ahead was read for exactly
 * these partitions and offsets at this isolation level, it is taken out of
 * the slot, use(fetch, ...) is called now or when its read ends, and true
 * is returned. Otherwise the slot is emptied and false says read afresh.
 */
bool readahead_take(conn_slot *slot, int isolation, const readahead_part *want, int n,
		    readahead_use_fn use, void *fetch);

/* Empty the slot (results not asked for are stale by the next Fetch). */
void readahead_clear(conn_slot *slot);

/* True if estimate more bytes of read-ahead fit under the broker's cap. */
bool readahead_room(size_t estimate);

/* Run stmts[i] (reading parts[i]) on db and keep the results in the slot,
 * which must be empty. */
void readahead_start(conn_slot *slot, struct pool_lane *db, int isolation,
		     const readahead_part *parts, const db_stmt *stmts, int n, size_t estimate);

/* Bytes of read-ahead results held over all clients, for the metrics. */
size_t readahead_bytes(void);

/* Records were deleted: results read before now are never served. */
void fetch_readahead_forget(void);

#endif
