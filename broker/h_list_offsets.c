/*
 * ListOffsets: earliest (-2), latest (-1), max timestamp (-3) and first
 * offset at or after a timestamp, per partition, in one pipelined job.
 *
 * read_committed (isolation_level 1, v2+) sees the log up to the last
 * stable offset, as in Kafka: LATEST is the LSO, and a record found by
 * timestamp at or after it is not found.
 *
 * Timestamps are range-checked before they reach SQL, which cannot turn
 * every int64 into a time. Past TS_STORED_MAX, the last time a record can
 * have (a timestamptz, year 294276; Java's offsetsForTimes callers send
 * Long.MAX_VALUE), no record matches: offset -1, timestamp -1, no error,
 * as Kafka answers when nothing does. Between TS_SEARCH_MAX, the largest
 * time the statement can express, and TS_STORED_MAX the statement searches
 * from TS_SEARCH_MAX and a record found before the time asked for counts
 * as none (so with several records past year 292 million in a partition,
 * a search between their times can miss; the statement, not this check,
 * would have to change). Kafka's other special values are answered
 * as Kafka does without tiered storage: EARLIEST_LOCAL (-4) is EARLIEST,
 * LATEST_TIERED (-5) is offset -1. Any other negative timestamp is a
 * search that every record matches (the broker stores no negative
 * timestamps), so it searches from 0.
 */
#include "arena_str.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "validate.h"

#define TS_LATEST -1
#define TS_EARLIEST -2
#define TS_MAX_TIMESTAMP -3
#define TS_EARLIEST_LOCAL -4
#define TS_LATEST_TIERED -5
/* The largest timestamp Q_LIST_OFFSETS's millisecond interval can hold,
 * with a margin for PostgreSQL's float arithmetic on it (the limit is
 * INT64_MAX microseconds). */
#define TS_SEARCH_MAX 9223372036854000LL
/* The last millisecond of PostgreSQL's timestamptz range, in Unix time. */
#define TS_STORED_MAX 9224318015999999LL
#define ISOLATION_READ_COMMITTED 1

/* What the answer for a partition is made of. */
typedef enum lo_mode {
	LO_LATEST,
	LO_EARLIEST,
	LO_SEARCH,   /* the first record at or after a time, or the max timestamp */
	LO_NO_MATCH, /* offset -1: only whether the partition exists is asked */
} lo_mode;

typedef struct lo_part {
	kstr topic;
	const list_offsets_req_partition *in;
	list_offsets_resp_partition *out;
	lo_mode mode;
	int64_t at_least; /* LO_SEARCH: a record found earlier than this is none */
} lo_part;

typedef struct lo_ctx {
	request *req;
	lo_part *parts;
	int nparts;
} lo_ctx;

static void lo_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static int64_t lo_query_timestamp(int64_t ts, lo_mode *mode, int64_t *at_least);

void handle_list_offsets(request *req)
{
	const list_offsets_req *body = req->body;
	list_offsets_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	lo_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int total = 0;

	c->req = req;
	req->resp = resp;
	const list_offsets_req_topic *topics = body->topics.items;
	for (int32_t t = 0; t < body->topics.count; t++)
		total += topics[t].partitions.count;
	c->parts = ARENA_NEW_ARRAY(req->arena, lo_part, total);
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, total);

	list_offsets_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, list_offsets_resp_topic, body->topics.count);
	resp->topics = karray_of(rt, body->topics.count);
	for (int32_t t = 0; t < body->topics.count; t++) {
		const list_offsets_req_topic *in = &topics[t];
		const list_offsets_req_partition *parts = in->partitions.items;
		list_offsets_resp_partition *rp = ARENA_NEW_ARRAY(req->arena, list_offsets_resp_partition,
								 in->partitions.count);
		rt[t].name = in->name;
		rt[t].partitions = karray_of(rp, in->partitions.count);
		for (int32_t p = 0; p < in->partitions.count; p++) {
			rp[p].partition_index = parts[p].partition_index;
			rp[p].timestamp = -1;
			rp[p].offset = -1;
			rp[p].leader_epoch = 0;
			rp[p].old_style_offsets = karray_of(NULL, 0);
			if (!topic_name_valid(in->name) || parts[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (parts[p].timestamp == TS_MAX_TIMESTAMP && req->api_version < 7) {
				rp[p].error_code = KERR_UNSUPPORTED_VERSION;
				continue;
			}
			lo_part *lp = &c->parts[c->nparts];
			lp->topic = in->name;
			lp->in = &parts[p];
			lp->out = &rp[p];
			int64_t ts =
				lo_query_timestamp(parts[p].timestamp, &lp->mode, &lp->at_least);
			params *pr = arena_alloc(req->arena, sizeof(*pr));
			params_str(pr, req->arena, in->name);
			params_int(pr, req->arena, parts[p].partition_index);
			params_int(pr, req->arena, ts);
			stmts[c->nparts++] = params_stmt(Q_LIST_OFFSETS, pr, 0);
		}
	}
	if (c->nparts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, c->nparts, lo_done, c);
}

/* The timestamp Q_LIST_OFFSETS is asked with (always one it can turn into
 * a time, or a special value it knows), and what the answer is. */
static int64_t lo_query_timestamp(int64_t ts, lo_mode *mode, int64_t *at_least)
{
	*at_least = INT64_MIN;
	switch (ts) {
	case TS_LATEST:
		*mode = LO_LATEST;
		return TS_LATEST;
	case TS_EARLIEST:
	case TS_EARLIEST_LOCAL:
		*mode = LO_EARLIEST;
		return TS_EARLIEST;
	case TS_MAX_TIMESTAMP:
		*mode = LO_SEARCH;
		return TS_MAX_TIMESTAMP;
	case TS_LATEST_TIERED:
		*mode = LO_NO_MATCH;
		return TS_LATEST;
	}
	if (ts > TS_STORED_MAX) {
		*mode = LO_NO_MATCH;
		return TS_LATEST;
	}
	*mode = LO_SEARCH;
	*at_least = ts;
	return ts < 0 ? 0 : ts > TS_SEARCH_MAX ? TS_SEARCH_MAX : ts;
}

static void lo_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	lo_ctx *c = arg;
	/* A failure that a retry cannot fix must not be answered with a
	 * retriable error: a client would retry forever. */
	bool retry = err && db_error_retriable(sqlstate, retriable);
	(void)n;

	if (err && !retry)
		log_error("list offsets failed: %s", err);
	for (int i = 0; i < c->nparts; i++) {
		lo_part *lp = &c->parts[i];
		if (err) {
			lp->out->error_code =
				retry ? KERR_KAFKA_STORAGE_ERROR : KERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		const PGresult *r = res[i];
		if (PQntuples(r) == 0) {
			lp->out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		int64_t hw = pgtext_i64(r, 0, 0, 0), lso = pgtext_i64(r, 0, 1, 0);
		const list_offsets_req *body = c->req->body;
		/* The last offset a consumer of this isolation level may read up to. */
		int64_t fetchable = body->isolation_level == ISOLATION_READ_COMMITTED
					    ? pgtext_i64(r, 0, 4, hw)
					    : hw;
		switch (lp->mode) {
		case LO_LATEST:
			lp->out->offset = fetchable;
			break;
		case LO_EARLIEST:
			lp->out->offset = lso;
			break;
		case LO_NO_MATCH:
			break;
		case LO_SEARCH:
			/* No record at or after the time: offset -1, as Kafka. */
			if (pgtext_i64(r, 0, 2, -1) >= fetchable ||
			    pgtext_i64(r, 0, 3, -1) < lp->at_least)
				break;
			lp->out->offset = pgtext_i64(r, 0, 2, -1);
			lp->out->timestamp = pgtext_i64(r, 0, 3, -1);
			break;
		}
	}
	if (retry)
		log_warn("list offsets failed: %s", err);
	request_complete(c->req);
}
