/*
 * The fetch read-ahead cache (see fetch_readahead.h).
 *
 * A consumer that is behind sends Fetch after Fetch, each starting where the
 * previous answer ended, and librdkafka keeps one Fetch in flight per broker.
 * Read one at a time, PostgreSQL idles while the broker encodes an answer and
 * the client parses it. So when an answer stopped at a row limit or byte
 * budget (there is more to read), h_fetch.c starts the same statement at
 * once from the offsets the client will ask for next, on the client's own
 * PostgreSQL connection, and the results are kept with the client. A Fetch
 * that asks for exactly those partitions and offsets, at the same isolation
 * level, is answered from them, or waits for them while they are being
 * read. Anything else -- another offset, results older than
 * READAHEAD_MAX_AGE_MS, a read that failed, results that fall short of
 * min_bytes (the consumer caught up; h_fetch.c's rule) -- throws them away
 * and reads afresh, so a consumer never sees data older than that age, and
 * long polls start from a fresh read. Deleting a topic through this broker
 * also throws away everything read before, so that no deleted record is
 * served. The results of all clients together stay under
 * fetch.readahead.max.bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fetch_readahead.h"

/* Read-ahead results older than this are not served: read again. */
#define READAHEAD_MAX_AGE_MS 250

typedef struct ra_part {
	char *topic;
	int32_t topic_len;
	int32_t partition;
	int64_t offset;
	int32_t limit;
} ra_part;

typedef struct readahead {
	conn_slot *slot; /* where it is kept; NULL once taken out or orphaned */
	int isolation;
	int nparts;
	ra_part *parts;
	int32_t *limits;
	PGresult **res;    /* once read: one per part, owned here */
	size_t bytes;      /* charged to ra_bytes */
	bool inflight;
	bool failed;
	bool orphan;       /* nobody will use it: the callback frees it */
	int64_t ready_ms;
	uint64_t generation; /* ra_generation when the read started */
	readahead_use_fn use; /* a fetch waiting for the read to end */
	void *waiter;
} readahead;

static size_t ra_bytes;
static uint64_t ra_generation;

static int64_t mono_ms(void);
static void ra_free(readahead *ra);
static void ra_drop(readahead *ra);
static void ra_release(void *data);
static bool ra_matches(const readahead *ra, int isolation, const readahead_part *want, int n);
static void ra_use(readahead *ra, readahead_use_fn use, void *fetch);
static void ra_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

void fetch_readahead_forget(void) { ra_generation++; }

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ra_free(readahead *ra)
{
	for (int i = 0; ra->res && i < ra->nparts; i++)
		PQclear(ra->res[i]);
	for (int i = 0; ra->parts && i < ra->nparts; i++)
		free(ra->parts[i].topic);
	ra_bytes -= ra->bytes;
	free(ra->res);
	free(ra->parts);
	free(ra->limits);
	free(ra);
}

/* Let go of a read-ahead: now, or when its read ends. */
static void ra_drop(readahead *ra)
{
	ra->slot = NULL;
	if (ra->inflight)
		ra->orphan = true;
	else
		ra_free(ra);
}

/* The slot's destructor: the connection is freed. */
static void ra_release(void *data)
{
	if (data)
		ra_drop(data);
}

void readahead_clear(conn_slot *slot)
{
	readahead *ra = slot ? slot->data : NULL;

	if (!ra)
		return;
	slot->data = NULL;
	ra_drop(ra);
}

bool readahead_room(size_t estimate)
{
	return ra_bytes + estimate <= (size_t)g_config.fetch_readahead_max_bytes;
}

static bool ra_matches(const readahead *ra, int isolation, const readahead_part *want, int n)
{
	if (ra->isolation != isolation || ra->nparts != n)
		return false;
	for (int i = 0; i < n; i++) {
		const ra_part *rp = &ra->parts[i];
		if (rp->partition != want[i].partition || rp->offset != want[i].offset ||
		    rp->topic_len != want[i].topic.len ||
		    memcmp(rp->topic, want[i].topic.ptr, (size_t)rp->topic_len))
			return false;
	}
	return true;
}

/* Answer a fetch from read-ahead results (taken out of the slot). */
static void ra_use(readahead *ra, readahead_use_fn use, void *fetch)
{
	if (ra->slot) {
		ra->slot->data = NULL;
		ra->slot = NULL;
	}
	if (ra->failed || ra->generation != ra_generation ||
	    mono_ms() - ra->ready_ms > READAHEAD_MAX_AGE_MS) {
		ra_free(ra);
		use(fetch, NULL, NULL, 0);
		return;
	}
	/* the fetch may be freed by this call; ra is no longer reachable from it */
	use(fetch, ra->res, ra->limits, ra->nparts);
	ra_free(ra);
}

bool readahead_take(conn_slot *slot, int isolation, const readahead_part *want, int n,
		    readahead_use_fn use, void *fetch)
{
	readahead *ra = slot ? slot->data : NULL;

	if (!ra)
		return false;
	if (!ra_matches(ra, isolation, want, n)) {
		readahead_clear(slot);
		return false;
	}
	if (ra->inflight) {
		if (ra->waiter) /* a second identical fetch in flight: read it afresh */
			return false;
		ra->use = use;
		ra->waiter = fetch;
		return true;
	}
	ra_use(ra, use, fetch);
	return true;
}

static void ra_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	readahead *ra = arg;
	(void)sqlstate;
	(void)retriable;

	ra->inflight = false;
	if (ra->orphan) {
		/* Dropped while read (a later Fetch of the connection moved
		 * on): a fetch waiting for it reads afresh. */
		void *fetch = ra->waiter;
		readahead_use_fn use = ra->use;
		ra_free(ra);
		if (fetch)
			use(fetch, NULL, NULL, 0);
		return;
	}
	if (err || n != ra->nparts) {
		ra->failed = true;
	} else {
		size_t bytes = 0;
		ra->res = calloc((size_t)n, sizeof(*ra->res));
		if (!ra->res) {
			ra->failed = true;
		} else {
			for (int i = 0; i < n; i++) {
				ra->res[i] = res[i]; /* kept: the pool must not free it */
				res[i] = NULL;
				bytes += PQresultMemorySize(ra->res[i]);
			}
			ra_bytes += bytes - ra->bytes;
			ra->bytes = bytes;
		}
	}
	ra->ready_ms = mono_ms();
	if (ra->waiter) {
		void *fetch = ra->waiter;
		ra->waiter = NULL;
		ra_use(ra, ra->use, fetch);
	}
}

void readahead_start(conn_slot *slot, struct pool_lane *db, int isolation,
		     const readahead_part *parts, const db_stmt *stmts, int n, size_t estimate)
{
	readahead *ra = calloc(1, sizeof(*ra));

	if (!ra || !(ra->parts = calloc((size_t)n, sizeof(*ra->parts))) ||
	    !(ra->limits = calloc((size_t)n, sizeof(*ra->limits)))) {
		if (ra)
			free(ra->parts);
		free(ra);
		return;
	}
	ra->isolation = isolation;
	ra->generation = ra_generation;
	for (int i = 0; i < n; i++) {
		ra_part *rp = &ra->parts[i];
		/* valid topic names hold no NUL */
		rp->topic = strndup(parts[i].topic.ptr, (size_t)parts[i].topic.len);
		if (!rp->topic) {
			ra_free(ra);
			return;
		}
		ra->nparts++;
		rp->topic_len = parts[i].topic.len;
		rp->partition = parts[i].partition;
		rp->offset = parts[i].offset;
		rp->limit = parts[i].limit;
		ra->limits[i] = parts[i].limit;
	}
	ra->inflight = true;
	ra->bytes = estimate;
	ra_bytes += estimate;
	ra->slot = slot;
	slot->data = ra;
	slot->release = ra_release;
	db_submit(db, stmts, n, ra_done, ra);
}

size_t readahead_bytes(void) { return ra_bytes; }
