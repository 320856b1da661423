/*
 * Fetch: read records from PostgreSQL and return them as RecordBatches,
 * honouring max_bytes, partition_max_bytes, min_bytes and max_wait_ms.
 *
 * A fetch runs in rounds. Each round reads every requested partition in one
 * pipelined job. If the round found fewer than min_bytes, the fetch waits
 * (wake.h) until one of its partitions advances or max_wait_ms passes, then
 * runs another round. The response is built from the last round.
 *
 * Read-ahead: after answering a Fetch whose partitions had more to read, the
 * same statement is started at once from the offsets the client will ask for
 * next, and its results are kept for the client's next Fetch
 * (fetch_readahead.c holds them and says when they are served).
 *
 * Topic ids (KIP-516): from v13 topics are named by id. Ids are turned into
 * names by topic_ids.c (a cache, and one statement for the ids it lacks)
 * before the first round; each read checks the id, so a topic deleted (or
 * deleted and created again under a new id) answers UNKNOWN_TOPIC_ID.
 *
 * Transactions (docs/TRANSACTIONS.md): the same statement returns the last
 * stable offset, the transactional ranges and markers of kafka.txn_batches
 * and, for read_committed, the aborted transactions; txnbatch.c cuts the
 * records into plain, transactional and control batches.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "compress.h"
#include "config.h"
#include "fetch_readahead.h"
#include "h_fetch.h"
#include "handlers.h"
#include "h_quotas.h"
#include "hutil.h"
#include "kerr.h"
#include "leader_hint.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "tp_dup.h"
#include "pool.h"
#include "records.h"
#include "topic_ids.h"
#include "txnbatch.h"
#include "validate.h"
#include "wake.h"

/* Rows read per partition and round never exceed this. */
#define FETCH_ROW_CAP 20000
/* Until a partition's record size is known, assume large records so that
 * the first read of a partition with 1 MB records stays small. */
#define FETCH_SIZE_GUESS 65536
/* Packed records may exceed a partition's byte budget by this much. */
#define FETCH_PACK_SLACK 65536
#define EST_SLOTS 1024
#define ISOLATION_READ_COMMITTED 1

/* Q_FETCH columns */
enum {
	COL_HIGH_WATERMARK,
	COL_LOG_START_OFFSET,
	COL_RECORDS,
	COL_COMPRESSION_TYPE,
	COL_TIMESTAMP_TYPE,
	COL_LAST_STABLE_OFFSET,
	COL_TXN_RANGES,
	COL_ABORTED_TXNS,
	COL_LEADER_EPOCHS,
};

typedef struct fetch_part {
	kstr topic;
	const kuuid *topic_id; /* v13+: the id the request named it by */
	const fetch_req_partition *in;
	fetch_resp_partition *out;
	waiter *waiter;
	struct fetch_ctx *ctx;
	bool queried; /* part of the current round's job */
	int32_t limit; /* rows the current round asked for */
	int64_t next_offset; /* where the client will fetch next */
	bool more;     /* the round stopped at its row limit or byte budget */
} fetch_part;

typedef struct fetch_ctx {
	request *req;
	kstr *names;          /* v13+: each request topic's name, null if unknown */
	int16_t *name_errors; /* v13+: why a request topic has no name */
	fetch_part *parts;
	int nparts;
	struct event *timer;
	bool expired;   /* max_wait_ms passed: the next round is the last */
	bool waiting;
	bool woken;     /* a waiter fired while a round was in flight */
	bool started;   /* the first round ran (or read-ahead answered it) */
	bool from_readahead; /* the results being handled are read-ahead's */
	struct fetch_ctx *prev, *next; /* fetches waiting, for shutdown */
} fetch_ctx;

/* Average stored record size per partition, to size the next read. */
static struct {
	uint32_t hash;
	uint32_t avg;
} size_est[EST_SLOTS];

static fetch_ctx *waiting_fetches;

static void fetch_names(fetch_ctx *c);
static void fetch_start(void *arg);
static void fetch_round(fetch_ctx *c);
static void fetch_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static size_t fetch_partition(fetch_ctx *c, fetch_part *fp, const PGresult *r, size_t budget,
			      bool must_return_one);
static bool fetch_ranges(request *req, const PGresult *r, txn_range **ranges, int *n);
static bool fetch_aborted(fetch_ctx *c, fetch_part *fp, const PGresult *r, int64_t upto);
static bool fetch_epochs(request *req, const PGresult *r, epoch_start **epochs, int *n);
static void fetch_arm(fetch_ctx *c);
static void fetch_wait(fetch_ctx *c);
static void fetch_unwait(fetch_ctx *c);
static void fetch_woken(void *arg);
static void fetch_timeout(evutil_socket_t fd, short what, void *arg);
static void fetch_finish(fetch_ctx *c);
static int32_t fetch_replica_id(const request *req);
static void fetch_leader_hints(fetch_ctx *c);
static uint32_t part_hash(kstr topic, int32_t partition);
static readahead_part *fetch_wanted(fetch_ctx *c, int *n);
static bool readahead_try(fetch_ctx *c);
static void readahead_use(void *arg, PGresult **res, const int32_t *limits, int n);
static void readahead_next(fetch_ctx *c);

/* KafkaApis: a follower (replica_id >= 0) needs CLUSTER_ACTION on the
 * cluster, a consumer READ on each topic. */
static bool fetch_authorized(const request *req, kstr topic)
{
	const fetch_req *body = req->body;

	if (body->replica_id >= 0)
		return authz_cluster(req, ACL_OP_CLUSTER_ACTION);
	return authz_topic(req, ACL_OP_READ, topic);
}

void handle_fetch(request *req)
{
	const fetch_req *body = req->body;
	fetch_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	fetch_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	req->resp = resp;
	/* No fetch sessions: answering session_id 0 tells clients to keep
	 * sending full fetch requests, which is always allowed (KIP-227). A
	 * full request (epoch 0 or -1) is served whatever its session id, as
	 * Kafka closes that session and serves it; any other epoch names a
	 * session this broker does not have. */
	resp->session_id = 0;
	resp->responses = karray_of(NULL, 0);
	if (req->api_version >= 7 && body->session_epoch != 0 && body->session_epoch != -1) {
		resp->error_code = KERR_FETCH_SESSION_ID_NOT_FOUND;
		request_complete(req);
		return;
	}
	/* Kafka's IsolationLevel.forId throws on anything else, which it
	 * answers as an unexpected error. */
	if (body->isolation_level != 0 && body->isolation_level != 1) {
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		request_complete(req);
		return;
	}
	if (req->api_version >= 13) {
		fetch_names(c);
		return;
	}
	fetch_start(c);
}

/* v13+: the name of every topic id the request holds. */
static void fetch_names(fetch_ctx *c)
{
	request *req = c->req;
	const fetch_req *body = req->body;
	const fetch_req_topic *topics = body->topics.items;
	int32_t n = body->topics.count;
	kuuid *ids = ARENA_NEW_ARRAY(req->arena, kuuid, n);

	for (int32_t t = 0; t < n; t++)
		ids[t] = topics[t].topic_id;
	c->names = ARENA_NEW_ARRAY(req->arena, kstr, n);
	c->name_errors = ARENA_NEW_ARRAY(req->arena, int16_t, n);
	topic_ids_resolve(req, ids, n, c->names, c->name_errors, fetch_start, c);
}

/* Lay out the partitions to read and the response, then read. */
static void fetch_start(void *arg)
{
	fetch_ctx *c = arg;
	request *req = c->req;
	const fetch_req *body = req->body;
	fetch_resp *resp = req->resp;
	int total = 0;

	const fetch_req_topic *topics = body->topics.items;
	for (int32_t t = 0; t < body->topics.count; t++)
		total += topics[t].partitions.count;
	c->parts = ARENA_NEW_ARRAY(req->arena, fetch_part, total + 1);

	/* Kafka keys the partitions of a fetch: one named twice is read once,
	 * at its first place, with what its last mention asks. */
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, total + 1);
	int32_t *indexes = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	const fetch_req_partition **ins = ARENA_NEW_ARRAY(req->arena, const fetch_req_partition *,
							  total + 1);
	int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	int32_t *last = ARENA_NEW_ARRAY(req->arena, int32_t, total + 1);
	int32_t k = 0;
	for (int32_t t = 0; t < body->topics.count; t++) {
		const fetch_req_partition *parts = topics[t].partitions.items;
		/* By id from v13: one id, one topic. */
		kstr key =
			c->names ? (kstr){(const char *)topics[t].topic_id.b, 16} : topics[t].topic;
		for (int32_t p = 0; p < topics[t].partitions.count; p++, k++) {
			names[k] = key;
			indexes[k] = parts[p].partition;
			ins[k] = &parts[p];
		}
	}
	tp_dup_find(req->arena, names, indexes, total, first, last);
	k = 0;

	/* The answer groups the partitions by topic the way Kafka's does: an
	 * entry per run of consecutive partitions of one topic, so a topic
	 * whose partitions come in two consecutive request entries is
	 * answered as one. One array holds every answered partition, in
	 * order, and a topic entry is a slice of it. */
	fetch_resp_topic *rt = ARENA_NEW_ARRAY(req->arena, fetch_resp_topic, body->topics.count);
	fetch_resp_partition *rp = ARENA_NEW_ARRAY(req->arena, fetch_resp_partition, total + 1);
	int32_t nt = 0, np = 0;
	for (int32_t t = 0; t < body->topics.count; t++) {
		const fetch_req_topic *in = &topics[t];
		const fetch_req_partition *parts = in->partitions.items;
		kstr name = c->names ? c->names[t] : in->topic;
		int32_t from = np;

		for (int32_t p = 0; p < in->partitions.count; p++, k++) {
			if (first[k] != k)
				continue;
			fetch_part *fp = &c->parts[c->nparts++];
			fp->ctx = c;
			fp->topic = name;
			fp->topic_id = c->names ? &in->topic_id : NULL;
			fp->in = ins[last[k]];
			fp->out = &rp[np++];
			fp->out->partition_index = parts[p].partition;
			fp->out->high_watermark = -1;
			fp->out->last_stable_offset = -1;
			fp->out->log_start_offset = -1;
			fp->out->preferred_read_replica = -1;
			fp->out->aborted_transactions =
				karray_of(NULL, body->isolation_level == 1 ? 0 : -1);
			fp->out->records = (kstr){"", 0};
			if (c->names && name.len < 0)
				fp->out->error_code = c->name_errors[t];
			else if (!fetch_authorized(req, name))
				fp->out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			else if (!topic_name_valid(name) || parts[p].partition < 0)
				fp->out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		/* A topic left without partitions is not answered (Kafka
		 * answers partitions, grouped by topic). */
		if (np == from)
			continue;
		if (nt > 0 && kstr_eqk(rt[nt - 1].topic, in->topic) &&
		    memcmp(rt[nt - 1].topic_id.b, in->topic_id.b, sizeof(in->topic_id.b)) == 0) {
			rt[nt - 1].partitions.count += np - from;
			continue;
		}
		rt[nt].topic = in->topic;
		rt[nt].topic_id = in->topic_id;
		rt[nt].partitions = karray_of(&rp[from], np - from);
		nt++;
	}
	resp->responses = karray_of(rt, nt);
	fetch_round(c);
}

static uint32_t part_hash(kstr topic, int32_t partition)
{
	uint32_t h = 2166136261u;
	for (int32_t i = 0; i < topic.len; i++)
		h = (h ^ (uint8_t)topic.ptr[i]) * 16777619u;
	h = (h ^ (uint32_t)partition) * 16777619u;
	return h | 1; /* 0 marks an empty slot */
}

/* The byte budget of partition fp within the request's budget. */
static size_t fetch_part_budget(const fetch_part *fp, size_t budget)
{
	size_t pbudget = fp->in->partition_max_bytes > 0 ? (size_t)fp->in->partition_max_bytes : 1;
	return pbudget < budget ? pbudget : budget;
}

/* Rows to ask for in partition fp, within the request's byte budget. */
static int32_t fetch_limit(const fetch_part *fp, size_t budget)
{
	uint32_t h = part_hash(fp->topic, fp->in->partition);
	uint32_t avg = size_est[h % EST_SLOTS].hash == h ? size_est[h % EST_SLOTS].avg
							 : FETCH_SIZE_GUESS;
	size_t rows = fetch_part_budget(fp, budget) / (avg ? avg : 1) + 1;
	return rows > FETCH_ROW_CAP ? FETCH_ROW_CAP : (int32_t)rows;
}

/* Q_FETCH for one partition, parameters in the request's arena. The
 * packed records stop a little past the partition's budget: a record
 * takes fewer bytes in a batch than packed, so the batches can still
 * reach the budget, and a partition of large records is not read whole
 * into memory when the row estimate is off. */
static db_stmt fetch_stmt(request *req, const fetch_part *fp, int64_t offset, int32_t limit,
			  size_t budget)
{
	const fetch_req *body = req->body;
	params *p = arena_alloc(req->arena, sizeof(*p));
	size_t pbudget = fetch_part_budget(fp, budget);
	size_t pack_max = pbudget + pbudget / 4 + FETCH_PACK_SLACK;
	params_str(p, req->arena, fp->topic);
	params_int(p, req->arena, fp->in->partition);
	params_int(p, req->arena, offset);
	params_int(p, req->arena, limit);
	params_int(p, req->arena, body->isolation_level);
	if (fp->topic_id)
		params_bin(p, fp->topic_id->b, 16);
	else
		params_str(p, req->arena, KSTR_NULL);
	params_int(p, req->arena, pack_max < INT32_MAX ? (int64_t)pack_max : INT32_MAX);
	return params_stmt(Q_FETCH, p, 1);
}

static size_t fetch_budget(const request *req)
{
	const fetch_req *body = req->body;
	size_t cap = (size_t)g_config.fetch_max_bytes_cap;
	/* 0 or less: the first batch only (KIP-74 returns one regardless). */
	if (body->max_bytes <= 0)
		return 0;
	if ((size_t)body->max_bytes < cap)
		cap = (size_t)body->max_bytes;
	/* A consumer with a consumer_byte_rate gets no more than the quota
	 * window allows (h_quotas.h). */
	size_t quota = quota_fetch_max_bytes(req);
	return quota < cap ? quota : cap;
}

static void fetch_round(fetch_ctx *c)
{
	request *req = c->req;
	const fetch_req *body = req->body;
	db_stmt *stmts;
	int n = 0;
	size_t budget = fetch_budget(req);

	if (!c->started) {
		c->started = true;
		if (readahead_try(c))
			return;
	}
	stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, c->nparts);

	for (int i = 0; i < c->nparts; i++) {
		fetch_part *fp = &c->parts[i];
		fp->queried = fp->out->error_code == KERR_NONE;
		if (!fp->queried)
			continue;
		fp->limit = fetch_limit(fp, budget);
		stmts[n++] = fetch_stmt(req, fp, fp->in->fetch_offset, fp->limit, budget);
	}
	if (n == 0) {
		fetch_finish(c);
		return;
	}
	/* Register interest before reading, so that a partition advancing
	 * while this round runs is not missed: its wake-up sets c->woken and
	 * the fetch reads again instead of sleeping until max_wait_ms. */
	c->woken = false;
	if (body->max_wait_ms > 0 && !c->expired)
		fetch_arm(c);
	db_submit(req->db, stmts, n, fetch_rows, c);
}

static void fetch_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	fetch_ctx *c = arg;
	request *req = c->req;
	const fetch_req *body = req->body;
	size_t budget = fetch_budget(req);
	size_t total = 0;
	bool any_error = false;
	int k = 0;
	(void)n;

	for (int i = 0; i < c->nparts; i++) {
		fetch_part *fp = &c->parts[i];
		if (!fp->queried) {
			any_error = true;
			continue;
		}
		if (err) {
			fp->out->error_code = KERR_KAFKA_STORAGE_ERROR;
			any_error = true;
			continue;
		}
		size_t got = fetch_partition(c, fp, res[k++], budget > total ? budget - total : 0,
					     total == 0);
		total += got;
		if (fp->out->error_code != KERR_NONE)
			any_error = true;
	}
	if (err) {
		if (db_error_retriable(sqlstate, retriable))
			log_warn("fetch failed: %s", err);
		else
			log_error("fetch failed: %s", err);
	}

	size_t min_bytes = (size_t)(body->min_bytes > 0 ? body->min_bytes : 1);
	size_t quota = quota_fetch_max_bytes(req);
	bool enough = total >= (min_bytes < quota ? min_bytes : quota);
	if (c->from_readahead) {
		/* Read-ahead results answer a fetch only when they are enough
		 * and clean; otherwise read afresh (and wait as usual). */
		c->from_readahead = false;
		if (any_error || !enough) {
			for (int i = 0; i < c->nparts; i++)
				if (c->parts[i].queried)
					c->parts[i].out->error_code = KERR_NONE;
			fetch_round(c);
			return;
		}
	}
	if (any_error || c->expired || body->max_wait_ms <= 0 || enough || req->client_gone) {
		if (!any_error && !err && enough)
			readahead_next(c);
		fetch_finish(c);
		return;
	}
	if (c->woken) {
		fetch_round(c);
		return;
	}
	fetch_wait(c);
}

/*
 * Turn one partition's rows into RecordBatches within budget bytes.
 * must_return_one: the response is still empty, so return the first record
 * (or marker) even if it is larger than the budget (KIP-74), or consumers
 * would stall. Returns the bytes added.
 */
static size_t fetch_partition(fetch_ctx *c, fetch_part *fp, const PGresult *r, size_t budget,
			      bool must_return_one)
{
	request *req = c->req;
	const fetch_req *body = req->body;
	int nrows = PQntuples(r);
	txn_range *ranges;
	int nranges;

	if (nrows == 0) {
		/* No topic of that name, or none with the id any more. */
		if (fp->topic_id)
			topic_ids_forget(fp->topic_id);
		fp->out->error_code =
			fp->topic_id ? KERR_UNKNOWN_TOPIC_ID : KERR_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	if (!PQgetisnull(r, 0, COL_RECORDS)) {
		log_error("fetch: no partition state first from SQL for %.*s-%d", fp->topic.len,
			  fp->topic.ptr, fp->in->partition);
		fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return 0;
	}
	if (PQgetisnull(r, 0, COL_HIGH_WATERMARK)) {
		fp->out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	/* The leader and its epoch (cluster.h); Kafka ignores a negative
	 * current epoch in Fetch. */
	int16_t lerr =
		cluster_check_leader(fp->topic, fp->out->partition_index,
				     req->api_version >= 9 && fp->in->current_leader_epoch >= 0
					     ? fp->in->current_leader_epoch
					     : -1);
	if (lerr) {
		fp->out->error_code = lerr;
		return 0;
	}
	/* A follower: this broker's partitions have no replica but itself,
	 * so Kafka's leader does not know it (Partition.followerReplicaOrThrow). */
	if (fetch_replica_id(req) >= 0) {
		fp->out->error_code = req->api_version >= 9 && fp->in->current_leader_epoch >= 0
					      ? KERR_UNKNOWN_LEADER_EPOCH
					      : KERR_NOT_LEADER_OR_FOLLOWER;
		return 0;
	}
	int64_t hw = pgbin_i64(r, 0, COL_HIGH_WATERMARK, 0);
	int64_t lso = pgbin_i64(r, 0, COL_LOG_START_OFFSET, 0);
	fp->out->high_watermark = hw;
	fp->out->last_stable_offset = pgbin_i64(r, 0, COL_LAST_STABLE_OFFSET, hw);
	fp->out->log_start_offset = lso;
	fp->out->error_code = KERR_NONE;
	fp->out->records = (kstr){"", 0};
	fp->next_offset = fp->in->fetch_offset;
	fp->more = false;
	if (body->isolation_level == ISOLATION_READ_COMMITTED)
		fp->out->aborted_transactions = karray_of(NULL, 0);
	if (fp->in->fetch_offset < lso || fp->in->fetch_offset > hw) {
		fp->out->error_code = KERR_OFFSET_OUT_OF_RANGE;
		return 0;
	}
	if (!fetch_ranges(req, r, &ranges, &nranges)) {
		log_error("fetch: bad transactional ranges from SQL for %.*s-%d", fp->topic.len,
			  fp->topic.ptr, fp->in->partition);
		fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return 0;
	}
	epoch_start *epochs;
	int nepochs;
	if (!fetch_epochs(req, r, &epochs, &nepochs)) {
		log_error("fetch: bad leader epochs from SQL for %.*s-%d", fp->topic.len,
			  fp->topic.ptr, fp->in->partition);
		fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return 0;
	}
	/* The records: the rows after the first, each a piece of
	 * kafka.read_records_packed(). */
	bool truncated = false;
	int nrecs = 0;
	for (int row = 1; row < nrows; row++) {
		kstr piece = pgbin_bytes(r, row, COL_RECORDS);
		bool cut = false;
		int n = piece.len > 0 ? records_unpack((const uint8_t *)piece.ptr, (size_t)piece.len,
						       NULL, NULL, &cut)
				      : -1;
		if (n < 0 || n > INT32_MAX - nrecs) {
			log_error("fetch: bad packed records from SQL for %.*s-%d", fp->topic.len,
				  fp->topic.ptr, fp->in->partition);
			fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
			return 0;
		}
		nrecs += n;
		truncated |= cut;
	}
	if (nrecs == 0 && nranges == 0)
		return 0;

	char *ctype = PQgetisnull(r, 0, COL_COMPRESSION_TYPE)
			      ? NULL
			      : arena_cstr(req->arena, pgbin_bytes(r, 0, COL_COMPRESSION_TYPE));
	int codec = ctype ? codec_from_name(ctype) : CODEC_NONE;
	if (codec < 0)
		codec = CODEC_NONE;
	bool log_append = !PQgetisnull(r, 0, COL_TIMESTAMP_TYPE) &&
			  kstr_eq(pgbin_bytes(r, 0, COL_TIMESTAMP_TYPE), "LogAppendTime");

	size_t pbudget = (size_t)(fp->in->partition_max_bytes > 0 ? fp->in->partition_max_bytes : 0);
	if (pbudget > budget)
		pbudget = budget;

	record *recs = ARENA_NEW_ARRAY(req->arena, record, nrecs > 0 ? nrecs : 1);
	int64_t *offsets = ARENA_NEW_ARRAY(req->arena, int64_t, nrecs > 0 ? nrecs : 1);
	int at = 0;
	for (int row = 1; row < nrows; row++) {
		kstr piece = pgbin_bytes(r, row, COL_RECORDS);
		at += records_unpack((const uint8_t *)piece.ptr, (size_t)piece.len, recs + at,
				     offsets + at, NULL);
	}
	size_t stored = 0;
	for (int i = 0; i < nrecs; i++)
		stored += 24 + (size_t)(recs[i].key.len > 0 ? recs[i].key.len : 0) +
			  (size_t)(recs[i].value.len > 0 ? recs[i].value.len : 0) +
			  (size_t)recs[i].headers.len;
	if (nrecs > 0) {
		uint32_t h = part_hash(fp->topic, fp->in->partition);
		size_est[h % EST_SLOTS].hash = h;
		size_est[h % EST_SLOTS].avg = (uint32_t)(stored / (size_t)nrecs) + 1;
	}

	txnbatch_in in = {
		.recs = recs,
		.offsets = offsets,
		.nrecs = nrecs,
		.recs_complete = nrecs < fp->limit && !truncated,
		.ranges = ranges,
		.nranges = nranges,
		/* Q_FETCH reads at most 2 * limit + 1 ranges. */
		.ranges_complete = (int64_t)nranges < 2 * (int64_t)fp->limit + 1,
		.log_append = log_append,
		.codec = codec,
		.budget = pbudget,
		.must_return_one = must_return_one,
		.epochs = epochs,
		.nepochs = nepochs,
	};
	txnbatch_out out;
	kwriter w;
	kw_init(&w, (stored < pbudget ? stored : pbudget) + 128);
	int rc = txnbatch_build(&w, &in, &out);
	if (rc != 0 && codec != CODEC_NONE) {
		log_warn("fetch: %s compression failed, sending uncompressed", codec_name(codec));
		w.len = 0;
		in.codec = CODEC_NONE;
		rc = txnbatch_build(&w, &in, &out);
	}
	if (rc != 0) {
		log_error("fetch: could not encode %.*s-%d", fp->topic.len, fp->topic.ptr,
			  fp->in->partition);
		kw_free(&w);
		fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return 0;
	}
	/* Records without their aborted transactions would show a
	 * read_committed consumer what was rolled back: fail instead. */
	if (body->isolation_level == ISOLATION_READ_COMMITTED &&
	    !fetch_aborted(c, fp, r, out.last_offset)) {
		kw_free(&w);
		fp->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return 0;
	}
	if (w.len == 0) {
		kw_free(&w);
		return 0;
	}
	fp->next_offset = out.last_offset + 1;
	fp->more = nrecs >= fp->limit || truncated ||
		   (nrecs > 0 && out.last_offset < offsets[nrecs - 1]);
	size_t len;
	uint8_t *buf = kw_steal(&w, &len);
	arena_adopt(req->arena, buf);
	fp->out->records = (kstr){(const char *)buf, (int32_t)len};
	return len;
}

/*
 * The kafka.txn_batches rows of the result, checked: a range the walk in
 * txnbatch.c cannot trust (out of order, overlapping) fails the fetch
 * rather than misplacing records.
 */
static bool fetch_ranges(request *req, const PGresult *r, txn_range **ranges, int *n)
{
	kstr v = pgbin_bytes(r, 0, COL_TXN_RANGES);
	int rows = pgbin_i64_rows(v, TXN_RANGE_NCOLS, NULL, 0);

	*ranges = NULL;
	*n = 0;
	if (rows <= 0)
		return rows == 0;
	int64_t *cells = ARENA_NEW_ARRAY(req->arena, int64_t, (size_t)rows * TXN_RANGE_NCOLS);
	txn_range *out = ARENA_NEW_ARRAY(req->arena, txn_range, rows);
	pgbin_i64_rows(v, TXN_RANGE_NCOLS, cells, rows);
	for (int i = 0; i < rows; i++) {
		if (!txn_range_from_row(&cells[(size_t)i * TXN_RANGE_NCOLS], &out[i]))
			return false;
		if (i > 0 && out[i].base_offset <= out[i - 1].last_offset)
			return false;
	}
	*ranges = out;
	*n = rows;
	return true;
}

/*
 * The leader epoch history from the fetch offset's epoch on, checked: epochs
 * in order, start offsets that never decrease, as txnbatch.c expects.
 */
static bool fetch_epochs(request *req, const PGresult *r, epoch_start **epochs, int *n)
{
	kstr v = pgbin_bytes(r, 0, COL_LEADER_EPOCHS);
	int rows = pgbin_i64_rows(v, 2, NULL, 0);

	*epochs = NULL;
	*n = 0;
	if (rows <= 0)
		return rows == 0;
	int64_t *cells = ARENA_NEW_ARRAY(req->arena, int64_t, (size_t)rows * 2);
	epoch_start *out = ARENA_NEW_ARRAY(req->arena, epoch_start, rows);
	pgbin_i64_rows(v, 2, cells, rows);
	for (int i = 0; i < rows; i++) {
		out[i].start_offset = cells[2 * i];
		if (cells[2 * i + 1] < 0 || cells[2 * i + 1] > INT32_MAX)
			return false;
		out[i].epoch = (int32_t)cells[2 * i + 1];
		if (i > 0 && (out[i].epoch <= out[i - 1].epoch ||
			      out[i].start_offset < out[i - 1].start_offset))
			return false;
	}
	*epochs = out;
	*n = rows;
	return true;
}

/*
 * read_committed: the aborted transactions the client needs to drop the
 * records it got, those that started at or before the last offset returned
 * (SQL already left out those whose marker is before the fetch offset).
 */
static bool fetch_aborted(fetch_ctx *c, fetch_part *fp, const PGresult *r, int64_t upto)
{
	request *req = c->req;
	kstr v = pgbin_bytes(r, 0, COL_ABORTED_TXNS);
	int rows = pgbin_i64_rows(v, 2, NULL, 0);

	if (rows < 0) {
		log_error("fetch: bad aborted transactions from SQL for %.*s-%d", fp->topic.len,
			  fp->topic.ptr, fp->in->partition);
		return false;
	}
	if (rows == 0 || upto < 0)
		return true;
	int64_t *cells = ARENA_NEW_ARRAY(req->arena, int64_t, (size_t)rows * 2);
	fetch_resp_aborted *list = ARENA_NEW_ARRAY(req->arena, fetch_resp_aborted, rows);
	int n = 0;
	pgbin_i64_rows(v, 2, cells, rows);
	for (int i = 0; i < rows; i++) {
		if (cells[2 * i + 1] > upto)
			continue;
		list[n].producer_id = cells[2 * i];
		list[n].first_offset = cells[2 * i + 1];
		n++;
	}
	fp->out->aborted_transactions = karray_of(list, n);
	return true;
}

/* A waiter on every partition this round reads (one-shot; re-armed per round). */
static void fetch_arm(fetch_ctx *c)
{
	for (int i = 0; i < c->nparts; i++) {
		fetch_part *fp = &c->parts[i];
		if (fp->queried && !fp->waiter)
			fp->waiter = wake_register(fp->topic, fp->in->partition, fetch_woken, fp);
	}
}

static void fetch_wait(fetch_ctx *c)
{
	const fetch_req *body = c->req->body;

	fetch_arm(c);
	if (!c->timer) {
		struct timeval tv = {body->max_wait_ms / 1000, (body->max_wait_ms % 1000) * 1000};
		kstr cid = c->req->client_id;
		/* The e2e tests wait for this line to know a consumer is parked. */
		log_debug("fetch: client %.*s waits up to %d ms on %d partitions, first %.*s-%d",
			  cid.len > 0 ? cid.len : 0, cid.len > 0 ? cid.ptr : "", body->max_wait_ms,
			  c->nparts, c->nparts ? c->parts[0].topic.len : 0,
			  c->nparts ? c->parts[0].topic.ptr : "",
			  c->nparts ? c->parts[0].in->partition : -1);
		c->timer = evtimer_new(handler_base, fetch_timeout, c);
		evtimer_add(c->timer, &tv);
		c->prev = NULL;
		c->next = waiting_fetches;
		if (waiting_fetches)
			waiting_fetches->prev = c;
		waiting_fetches = c;
	}
	c->waiting = true;
}

static void fetch_unwait(fetch_ctx *c)
{
	for (int i = 0; i < c->nparts; i++) {
		if (c->parts[i].waiter) {
			wake_cancel(c->parts[i].waiter);
			c->parts[i].waiter = NULL;
		}
	}
	c->waiting = false;
}

/* A partition of a waiting fetch advanced: read again. */
static void fetch_woken(void *arg)
{
	fetch_part *fp = arg;
	fetch_ctx *c = fp->ctx;

	fp->waiter = NULL; /* already unregistered by wake.c */
	if (!c->waiting) {
		c->woken = true; /* a round is running: it reads again */
		return;
	}
	fetch_unwait(c);
	fetch_round(c);
}

static void fetch_timeout(evutil_socket_t fd, short what, void *arg)
{
	fetch_ctx *c = arg;
	(void)fd;
	(void)what;

	c->expired = true;
	kstr cid = c->req->client_id;
	log_debug("fetch: client %.*s: max_wait_ms passed", cid.len > 0 ? cid.len : 0,
		  cid.len > 0 ? cid.ptr : "");
	if (!c->waiting)
		return; /* a round is running; it sees expired and finishes */
	fetch_unwait(c);
	fetch_round(c);
}

/* The follower asking, or -1 for a consumer: from v15 in ReplicaState. */
static int32_t fetch_replica_id(const request *req)
{
	const fetch_req *body = req->body;
	if (req->api_version < 15)
		return body->replica_id;
	if (!body->replica_state)
		return -1;
	return ((const fetch_req_replica_state *)body->replica_state)->replica_id;
}

/* From v16 a partition answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH names its leader, and the answer the leaders'
 * addresses (KafkaApis.handleFetchRequest), as the cluster knows them. */
static void fetch_leader_hints(fetch_ctx *c)
{
	request *req = c->req;
	fetch_resp *resp = req->resp;
	leader_endpoint *found = ARENA_NEW_ARRAY(req->arena, leader_endpoint, c->nparts + 1);
	int32_t nn = 0;

	for (int i = 0; i < c->nparts; i++) {
		fetch_resp_partition *out = c->parts[i].out;
		int32_t leader, epoch;
		leader_endpoint ep;
		if (out->error_code != KERR_NOT_LEADER_OR_FOLLOWER &&
		    out->error_code != KERR_FENCED_LEADER_EPOCH)
			continue;
		if (!leader_hint(req, c->parts[i].topic, out->partition_index, &leader, &epoch, &ep))
			continue;
		fetch_resp_leader *l = arena_alloc(req->arena, sizeof(*l));
		l->leader_id = leader;
		l->leader_epoch = epoch;
		out->current_leader = l;
		leader_endpoint_add(found, &nn, &ep);
	}
	if (nn == 0)
		return;
	fetch_resp_node_endpoint *nodes = ARENA_NEW_ARRAY(req->arena, fetch_resp_node_endpoint, nn);
	for (int32_t k = 0; k < nn; k++)
		nodes[k] = (fetch_resp_node_endpoint){.node_id = found[k].node_id,
						      .host = found[k].host,
						      .port = found[k].port,
						      .rack = found[k].rack};
	resp->node_endpoints = karray_of(nodes, nn);
}

static void fetch_finish(fetch_ctx *c)
{
	if (c->req->api_version >= 16)
		fetch_leader_hints(c);
	fetch_unwait(c);
	if (c->timer) {
		event_free(c->timer);
		c->timer = NULL;
		if (c->prev)
			c->prev->next = c->next;
		else
			waiting_fetches = c->next;
		if (c->next)
			c->next->prev = c->prev;
	}
	request_complete(c->req);
}

/* Answer every waiting fetch with what it has, so shutdown leaks nothing. */
void fetch_shutdown(void)
{
	while (waiting_fetches) {
		fetch_ctx *c = waiting_fetches;
		if (!c->waiting) {
			/* a round is in flight; the pool fails it on shutdown */
			event_free(c->timer);
			c->timer = NULL;
			waiting_fetches = c->next;
			if (waiting_fetches)
				waiting_fetches->prev = NULL;
			continue;
		}
		fetch_finish(c);
	}
}

size_t fetch_waiting_count(void)
{
	size_t n = 0;
	for (const fetch_ctx *c = waiting_fetches; c; c = c->next)
		n += c->waiting;
	return n;
}

/* ---- read-ahead (fetch_readahead.c keeps the results) ---- */

/* The partitions a round would read, as read-ahead names them. */
static readahead_part *fetch_wanted(fetch_ctx *c, int *n)
{
	readahead_part *want = ARENA_NEW_ARRAY(c->req->arena, readahead_part, c->nparts);

	*n = 0;
	for (int i = 0; i < c->nparts; i++) {
		const fetch_part *fp = &c->parts[i];
		if (fp->out->error_code != KERR_NONE)
			continue;
		want[*n].topic = fp->topic;
		want[*n].partition = fp->in->partition;
		want[*n].offset = fp->in->fetch_offset;
		(*n)++;
	}
	return want;
}

/* First round of a fetch: true if read-ahead answers it (now or later). */
static bool readahead_try(fetch_ctx *c)
{
	const fetch_req *body = c->req->body;
	conn_slot *slot = request_slot(c->req, CONN_SLOT_FETCH_READAHEAD);
	int n;

	if (!slot || !slot->data)
		return false;
	readahead_part *want = fetch_wanted(c, &n);
	return readahead_take(slot, body->isolation_level, want, n, readahead_use, c);
}

/* Read-ahead results for fetch c, or NULL: read afresh. */
static void readahead_use(void *arg, PGresult **res, const int32_t *limits, int n)
{
	fetch_ctx *c = arg;

	if (!res) {
		fetch_round(c);
		return;
	}
	for (int i = 0, k = 0; i < c->nparts; i++) {
		fetch_part *fp = &c->parts[i];
		fp->queried = fp->out->error_code == KERR_NONE;
		if (fp->queried)
			fp->limit = limits[k++];
	}
	c->woken = false;
	c->from_readahead = true;
	fetch_rows(c, res, n, NULL, NULL, false);
}

/* After answering c: read its next range ahead if it is likely wanted. */
static void readahead_next(fetch_ctx *c)
{
	request *req = c->req;
	const fetch_req *body = req->body;
	conn_slot *slot = request_slot(req, CONN_SLOT_FETCH_READAHEAD);
	size_t budget = fetch_budget(req), estimate = 0;
	int n = 0;
	bool more = false;

	if (g_config.fetch_readahead_max_bytes <= 0 || !slot || req->client_gone)
		return;
	readahead_clear(slot); /* not asked for: stale by now */
	for (int i = 0; i < c->nparts; i++) {
		if (!c->parts[i].queried)
			continue;
		n++;
		more |= c->parts[i].more;
		estimate += (size_t)(c->parts[i].out->records.len > 0 ? c->parts[i].out->records.len : 0);
	}
	if (!more || n == 0 || !readahead_room(estimate))
		return;

	readahead_part *parts = ARENA_NEW_ARRAY(req->arena, readahead_part, n);
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, n);
	int k = 0;
	for (int i = 0; i < c->nparts; i++) {
		fetch_part *fp = &c->parts[i];
		if (!fp->queried)
			continue;
		parts[k].topic = fp->topic;
		parts[k].partition = fp->in->partition;
		parts[k].offset = fp->next_offset;
		parts[k].limit = fetch_limit(fp, budget);
		stmts[k] = fetch_stmt(req, fp, parts[k].offset, parts[k].limit, budget);
		k++;
	}
	readahead_start(slot, req->db, body->isolation_level, parts, stmts, n, estimate);
}
