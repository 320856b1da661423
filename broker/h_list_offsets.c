/*
 * ListOffsets: earliest (-2), latest (-1), max timestamp (-3) and first
 * offset at or after a timestamp, per partition, in one pipelined job.
 *
 * read_committed (isolation_level 1, v2+) sees the log up to the last
 * stable offset, as in Kafka: LATEST is the LSO, and a record found by
 * timestamp at or after it is not found.
 *
 * A search compares Kafka's int64 timestamps (kafka.records.timestamp_ms),
 * so any timestamp works, Long.MAX_VALUE (what Java's offsetsForTimes
 * callers send) included. Negative timestamps other than Kafka's special
 * values, and a special value asked before the version that brought it
 * (-3 MAX_TIMESTAMP v7, -4 EARLIEST_LOCAL v8, -5 LATEST_TIERED v9), are
 * UNSUPPORTED_VERSION, as ReplicaManager.isListOffsetsTimestampUnsupported
 * answers them. Nothing is tiered here: the local log is the whole log, so
 * EARLIEST_LOCAL is EARLIEST, and LATEST_TIERED is offset -1 with epoch -1,
 * as UnifiedLog answers for a topic without remote storage.
 */
#include "arena_str.h"
#include "authorizer.h"
#include "handlers.h"
#include "cluster.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "tp_dup.h"
#include "pool.h"
#include "validate.h"

#define TS_LATEST -1
#define TS_EARLIEST -2
#define TS_MAX_TIMESTAMP -3
#define TS_EARLIEST_LOCAL -4
#define TS_LATEST_TIERED -5
#define ISOLATION_READ_COMMITTED 1

typedef struct lo_part {
	kstr topic;
	const list_offsets_req_partition *in;
	list_offsets_resp_partition *out;
} lo_part;

typedef struct lo_ctx {
	request *req;
	lo_part *parts;
	int nparts;
} lo_ctx;

static int16_t ts_min_version(int64_t ts);
static void lo_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

void handle_list_offsets(request *req)
{
	const list_offsets_req *body = req->body;
	list_offsets_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	lo_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int32_t total = 0, k = 0;

	c->req = req;
	req->resp = resp;
	const list_offsets_req_topic *topics = body->topics.items;
	for (int32_t t = 0; t < body->topics.count; t++)
		total += topics[t].partitions.count;
	c->parts = ARENA_NEW_ARRAY(req->arena, lo_part, total + 1);
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, total + 1);

	/* A partition named twice: Kafka answers it once, INVALID_REQUEST. */
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, total + 1);
	int32_t *indexes = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	int32_t *last = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	for (int32_t t = 0; t < body->topics.count; t++) {
		const list_offsets_req_partition *parts = topics[t].partitions.items;
		for (int32_t p = 0; p < topics[t].partitions.count; p++, k++) {
			names[k] = topics[t].name;
			indexes[k] = parts[p].partition_index;
		}
	}
	tp_dup_find(req->arena, names, indexes, total, first, last);

	list_offsets_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, list_offsets_resp_topic, body->topics.count);
	resp->topics = karray_of(rt, body->topics.count);
	k = 0;
	for (int32_t t = 0; t < body->topics.count; t++) {
		const list_offsets_req_topic *in = &topics[t];
		const list_offsets_req_partition *parts = in->partitions.items;
		list_offsets_resp_partition *rp = ARENA_NEW_ARRAY(req->arena, list_offsets_resp_partition,
								 in->partitions.count);
		int32_t np = 0;
		rt[t].name = in->name;
		for (int32_t p = 0; p < in->partitions.count; p++, k++) {
			if (first[k] != k)
				continue;
			list_offsets_resp_partition *o = &rp[np++];
			o->partition_index = parts[p].partition_index;
			o->timestamp = -1;
			o->offset = -1;
			o->leader_epoch = -1;
			o->old_style_offsets = karray_of(NULL, 0);
			if (!authz_topic(req, ACL_OP_DESCRIBE, in->name)) {
				o->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (last[k] != k) {
				o->error_code = KERR_INVALID_REQUEST;
				continue;
			}
			/* Kafka's IsolationLevel.forId throws on anything else:
			 * an unexpected error for every partition. */
			if (req->api_version >= 2 && body->isolation_level != 0 &&
			    body->isolation_level != 1) {
				o->error_code = KERR_UNKNOWN_SERVER_ERROR;
				continue;
			}
			if (!topic_name_valid(in->name) || parts[p].partition_index < 0) {
				o->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (parts[p].timestamp < 0 &&
			    (ts_min_version(parts[p].timestamp) < 0 ||
			     req->api_version < ts_min_version(parts[p].timestamp))) {
				o->error_code = KERR_UNSUPPORTED_VERSION;
				continue;
			}
			lo_part *lp = &c->parts[c->nparts];
			lp->topic = in->name;
			lp->in = &parts[p];
			lp->out = o;
			params *pr = arena_alloc(req->arena, sizeof(*pr));
			params_str(pr, req->arena, in->name);
			params_int(pr, req->arena, parts[p].partition_index);
			params_int(pr, req->arena, parts[p].timestamp);
			stmts[c->nparts++] = params_stmt(Q_LIST_OFFSETS, pr, 0);
		}
		rt[t].partitions = karray_of(rp, np);
	}
	if (c->nparts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, c->nparts, lo_done, c);
}

/* The first version that knows special timestamp ts (< 0), or -1 if none. */
static int16_t ts_min_version(int64_t ts)
{
	switch (ts) {
	case TS_LATEST:
	case TS_EARLIEST:
		return 1;
	case TS_MAX_TIMESTAMP:
		return 7;
	case TS_EARLIEST_LOCAL:
		return 8;
	case TS_LATEST_TIERED:
		return 9;
	default:
		return -1;
	}
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
		/* The leader and its epoch (cluster.h): another broker's
		 * partition is NOT_LEADER_OR_FOLLOWER, an older epoch fenced,
		 * a newer one unknown, as Partition checks them in Kafka. */
		lp->out->error_code = cluster_check_leader(
			lp->topic, lp->in->partition_index,
			c->req->api_version >= 4 ? lp->in->current_leader_epoch : -1);
		if (lp->out->error_code)
			continue;
		int64_t hw = pgtext_i64(r, 0, 0, 0), lso = pgtext_i64(r, 0, 1, 0);
		const list_offsets_req *body = c->req->body;
		/* The last offset a consumer of this isolation level may read up to. */
		int64_t fetchable = body->isolation_level == ISOLATION_READ_COMMITTED
					    ? pgtext_i64(r, 0, 4, hw)
					    : hw;
		/* Leader epochs (sql: "Leader epoch history"): LATEST answers
		 * the current epoch, EARLIEST the epoch of the log start
		 * offset, a search the epoch of the offset found, as
		 * UnifiedLog does. Without history a partition has had epoch
		 * 0 only, which Kafka's epoch cache holds once a record was
		 * written: -1 before. */
		int32_t none = hw > 0 ? 0 : -1;
		switch (lp->in->timestamp) {
		case TS_LATEST:
			lp->out->offset = fetchable;
			lp->out->leader_epoch = (int32_t)pgtext_i64(r, 0, 5, none);
			break;
		case TS_EARLIEST:
		case TS_EARLIEST_LOCAL:
			lp->out->offset = lso;
			lp->out->leader_epoch =
				PQgetisnull(r, 0, 5) ? none : (int32_t)pgtext_i64(r, 0, 6, none);
			break;
		case TS_LATEST_TIERED:
			break;
		default:
			/* No record at or after the time: offset -1, as Kafka. */
			if (pgtext_i64(r, 0, 2, -1) < 0 || pgtext_i64(r, 0, 2, -1) >= fetchable)
				break;
			lp->out->offset = pgtext_i64(r, 0, 2, -1);
			lp->out->timestamp = pgtext_i64(r, 0, 3, -1);
			lp->out->leader_epoch = (int32_t)pgtext_i64(r, 0, 7, 0);
			break;
		}
	}
	if (retry)
		log_warn("list offsets failed: %s", err);
	request_complete(c->req);
}
