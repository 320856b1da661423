/*
 * Produce: decode each partition's RecordBatch, then append all partitions of
 * the request in one PostgreSQL transaction (one statement per partition,
 * pipelined) and answer only after it committed. acks=0 gets no response.
 *
 * Partitions are written in (topic, partition) order so that concurrent
 * requests touching several partitions lock partition rows in one order.
 *
 * A batch with a producer id (an idempotent producer) goes through
 * kafka.produce_idempotent() instead, which checks its sequence numbers under
 * the same partition row lock and answers a retried batch with its first
 * offset (docs/IDEMPOTENCE.md). A transactional batch goes through
 * kafka.produce_transactional(), which also checks that the partition is in
 * the producer's ongoing transaction and records the batch's offset range
 * (docs/TRANSACTIONS.md); from v12, with transactions v2 in force, through
 * kafka.produce_transactional_v2(), which adds the partition to the
 * transaction first.
 *
 * From v13 topics are named by id (KIP-516): topic_ids.c gives their names
 * first, an id no topic has is UNKNOWN_TOPIC_ID, and each write checks the
 * id in its statement, so that a topic deleted and created again under the
 * same name is not written to by its old id.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "clock.h"
#include "compress.h"
#include "cluster.h"
#include "config.h"
#include "feature_levels.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "leader_hint.h"
#include "log.h"
#include "offset_rows.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "records.h"
#include "topic_ids.h"
#include "uuid.h"
#include "validate.h"
#include "wake.h"

/* One partition of the request that is to be written. */
typedef struct pp_write {
	kstr topic;
	const kuuid *topic_id; /* v13+: the id the request named it by */
	int32_t batch_size;
	produce_resp_partition *out;
	record_batch *batch;
} pp_write;

typedef struct pp_ctx {
	request *req;
	pp_write *writes;
	int nwrites;
	/* Partitions answered before any statement (bad acks, an internal
	 * topic, a batch refused): Kafka looks for the partition first, so
	 * these are looked up, and a missing one is UNKNOWN_TOPIC_OR_PARTITION. */
	part_ref *early; /* .out: the produce_resp_partition */
	int nearly;
	kstr *names;          /* v13+: each request topic's name */
	int16_t *name_errors; /* v13+: why a request topic has none */
} pp_ctx;

static int16_t pp_decode(request *req, const produce_req_partition *in, pp_write *w);
static bool pp_raw_transactional(kstr records);
static int16_t pp_validate_records(const request *req, kstr records);
static void pp_fail_all(request *req, int16_t error_code);
static void pp_finish(request *req);
static void pp_continue(pp_ctx *c);
static void pp_start(void *arg);
static void pp_early_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void pp_timestamp_lookup(pp_ctx *c, int nts);
static void pp_timestamp_rows(void *arg, PGresult **res, int n, const char *err,
			      const char *sqlstate, bool retriable);
static int pp_cmp(const void *a, const void *b);
static void pp_submit(pp_ctx *c);
static void pp_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

/* Byte order of two names, shorter first on a common prefix. */
static int kstr_cmp(kstr a, kstr b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	if (c)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}

/* One partition of the request, where it was in the request. */
typedef struct pp_entry {
	kstr topic;
	int32_t index;
	int32_t t;       /* its topic's position in the request */
	int32_t seq;     /* its position among all partitions of the request */
	const produce_req_partition *in;
} pp_entry;

static int pp_entry_cmp(const void *a, const void *b)
{
	const pp_entry *x = a, *y = b;
	int c = kstr_cmp(x->topic, y->topic);
	if (c)
		return c;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The partitions Kafka's broker answers: it keys a request's partitions by
 * topic and partition, so a partition named twice is written once, with its
 * last batch, and answered once, and a topic named twice is answered as one
 * topic. Returns the entries in request order with superseded ones removed,
 * and for each topic of the request the topic it is answered under (the
 * first of that name).
 */
static pp_entry *pp_unique(request *req, int32_t *n_out, int32_t **first_topic)
{
	const produce_req *body = req->body;
	const produce_req_topic *topics = body->topic_data.items;
	int32_t n = 0;
	for (int32_t t = 0; t < body->topic_data.count; t++)
		n += topics[t].partition_data.count;
	pp_entry *e = ARENA_NEW_ARRAY(req->arena, pp_entry, n > 0 ? n : 1);
	int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, body->topic_data.count + 1);
	bool *dropped = ARENA_NEW_ARRAY(req->arena, bool, n > 0 ? n : 1);
	int32_t k = 0;

	for (int32_t t = 0; t < body->topic_data.count; t++) {
		const produce_req_partition *parts = topics[t].partition_data.items;
		first[t] = t;
		for (int32_t p = 0; p < topics[t].partition_data.count; p++, k++)
			e[k] = (pp_entry){topics[t].name, parts[p].index, t, k, &parts[p]};
	}
	pp_entry *sorted = ARENA_NEW_ARRAY(req->arena, pp_entry, n > 0 ? n : 1);
	memcpy(sorted, e, sizeof(pp_entry) * (size_t)n);
	qsort(sorted, (size_t)n, sizeof(pp_entry), pp_entry_cmp);
	for (int32_t i = 0; i < n; i++) {
		/* sorted by name then position: the run's first entry has the
		 * first topic of that name among topics with partitions */
		if (i > 0 && kstr_cmp(sorted[i].topic, sorted[i - 1].topic) == 0) {
			first[sorted[i].t] = first[sorted[i - 1].t];
			if (sorted[i].index == sorted[i - 1].index)
				dropped[sorted[i - 1].seq] = true;
		} else {
			int32_t lowest = sorted[i].t;
			for (int32_t j = i; j < n && kstr_cmp(sorted[j].topic, sorted[i].topic) == 0; j++)
				if (sorted[j].t < lowest)
					lowest = sorted[j].t;
			first[sorted[i].t] = lowest;
		}
	}
	int32_t m = 0;
	for (int32_t i = 0; i < n; i++)
		if (!dropped[i])
			e[m++] = e[i];
	*n_out = m;
	*first_topic = first;
	return e;
}

void handle_produce(request *req)
{
	const produce_req *body = req->body;
	pp_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	req->resp = arena_alloc(req->arena, sizeof(produce_resp));
	req->no_response = body->acks == 0;
	if (req->api_version < 13) {
		pp_start(c);
		return;
	}
	int32_t n = body->topic_data.count;
	kuuid *ids = ARENA_NEW_ARRAY(req->arena, kuuid, n);
	const produce_req_topic *topics = body->topic_data.items;
	for (int32_t t = 0; t < n; t++)
		ids[t] = topics[t].topic_id;
	c->names = ARENA_NEW_ARRAY(req->arena, kstr, n);
	c->name_errors = ARENA_NEW_ARRAY(req->arena, int16_t, n);
	topic_ids_resolve(req, ids, n, c->names, c->name_errors, pp_start, c);
}

/* With every topic named (v13+: its name found from its id): check, look
 * up what is answered early, then write. */
static void pp_start(void *arg)
{
	pp_ctx *c = arg;
	request *req = c->req;
	const produce_req *body = req->body;
	produce_resp *resp = req->resp;
	bool acks_ok = body->acks == 0 || body->acks == 1 || body->acks == -1;
	int32_t total, *first;
	bool has_transactional = false;
	pp_entry *e;

	if (c->names) {
		/* The rest reads names. A topic without one gets a name no
		 * topic can have, its id's, so that each such id is answered
		 * apart, with its own error. */
		produce_req_topic *topics = body->topic_data.items;
		for (int32_t t = 0; t < body->topic_data.count; t++) {
			const kuuid *id = &topics[t].topic_id;
			topics[t].name = c->names[t];
			if (c->names[t].len < 0)
				topics[t].name = kstr_c(arena_printf(req->arena, "?%s",
								     uuid_format(req->arena, id)));
		}
	}
	e = pp_unique(req, &total, &first);
	for (int32_t i = 0; i < total; i++)
		has_transactional = has_transactional || pp_raw_transactional(e[i].in->records);
	c->writes = ARENA_NEW_ARRAY(req->arena, pp_write, total > 0 ? total : 1);
	c->early = ARENA_NEW_ARRAY(req->arena, part_ref, total > 0 ? total : 1);
	produce_resp_partition **outs =
		ARENA_NEW_ARRAY(req->arena, produce_resp_partition *, total > 0 ? total : 1);

	/* One answer per topic (the first of its name), its partitions in
	 * request order. */
	const produce_req_topic *topics = body->topic_data.items;
	int32_t ntopics = 0;
	int32_t *slot = ARENA_NEW_ARRAY(req->arena, int32_t, body->topic_data.count + 1);
	int32_t *count = ARENA_NEW_ARRAY(req->arena, int32_t, body->topic_data.count + 1);
	for (int32_t i = 0; i < total; i++)
		count[first[e[i].t]]++;
	for (int32_t t = 0; t < body->topic_data.count; t++)
		slot[t] = first[t] == t && count[t] > 0 ? ntopics++ : -1;
	produce_resp_topic *rt = ARENA_NEW_ARRAY(req->arena, produce_resp_topic, ntopics + 1);
	resp->responses = karray_of(rt, ntopics);
	for (int32_t t = 0; t < body->topic_data.count; t++) {
		if (slot[t] < 0)
			continue;
		rt[slot[t]].name = topics[t].name;
		rt[slot[t]].topic_id = topics[t].topic_id;
		rt[slot[t]].partition_responses =
			karray_of(ARENA_NEW_ARRAY(req->arena, produce_resp_partition, count[t]), 0);
	}
	for (int32_t i = 0; i < total; i++) {
		produce_resp_topic *to = &rt[slot[first[e[i].t]]];
		produce_resp_partition *out =
			&((produce_resp_partition *)to->partition_responses.items)[to->partition_responses.count++];
		outs[i] = out;
		out->index = e[i].index;
		out->base_offset = -1;
		out->log_append_time_ms = -1;
		out->log_start_offset = -1;
		out->error_message = KSTR_NULL;
		/* KafkaApis: a topic not in the metadata (no valid name is),
		 * then ProduceRequest.validateRecords; ReplicaManager checks
		 * acks only for the partitions that passed both. */
		if (c->names && c->names[e[i].t].len < 0) {
			out->error_code = c->name_errors[e[i].t];
			continue;
		}
		if (!authz_topic(req, ACL_OP_WRITE, e[i].topic)) {
			out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			continue;
		}
		if (!topic_name_valid(e[i].topic)) {
			out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		/* Another broker leads it (cluster.h): the producer refreshes
		 * its metadata and moves. */
		out->error_code = cluster_check_leader(e[i].topic, e[i].index, -1);
		if (out->error_code)
			continue;
		if (!acks_ok) {
			out->error_code = pp_validate_records(req, e[i].in->records);
			if (out->error_code == KERR_NONE)
				out->error_code = KERR_INVALID_REQUIRED_ACKS;
			continue;
		}
		/* ReplicaManager.appendToLocalLog: only the admin client may
		 * append to Kafka's internal topics. Kafka looks for the topic
		 * first (UNKNOWN_TOPIC_OR_PARTITION when it does not exist);
		 * here the name alone decides (docs/PROTOCOL.md). */
		if (topic_is_internal(e[i].topic) && !kstr_eq(req->client_id, "__admin_client")) {
			out->error_code = pp_validate_records(req, e[i].in->records);
			if (out->error_code == KERR_NONE)
				out->error_code = KERR_INVALID_TOPIC_EXCEPTION;
			continue;
		}
		pp_write *w = &c->writes[c->nwrites];
		w->topic = e[i].topic;
		w->topic_id = c->names ? &topics[e[i].t].topic_id : NULL;
		w->out = out;
		out->error_code = pp_decode(req, e[i].in, w);
		if (out->error_code == KERR_NONE)
			c->nwrites++;
	}
	for (int32_t i = 0; i < total; i++) {
		if (outs[i]->error_code == KERR_NONE ||
		    outs[i]->error_code == KERR_UNKNOWN_TOPIC_OR_PARTITION ||
		    outs[i]->error_code == KERR_TOPIC_AUTHORIZATION_FAILED ||
		    (c->names && c->names[e[i].t].len < 0))
			continue;
		c->early[c->nearly++] = (part_ref){.topic = e[i].topic,
						   .partition = outs[i]->index,
						   .error_code = &outs[i]->error_code,
						   .out = outs[i]};
	}
	/* Transactional batches without a transactional id: the Java broker
	 * fails the whole request, as authorization of the missing id, before
	 * it looks at any partition (RequestUtils.hasTransactionalRecords
	 * reads every partition's batches, whatever their topic); so does
	 * one the principal may not WRITE. */
	if (has_transactional && (body->transactional_id.len < 0 ||
				  !authz_txn(req, ACL_OP_WRITE, body->transactional_id))) {
		pp_fail_all(req, KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
		pp_finish(req);
		return;
	}
	if (c->nearly > 0) {
		pgarray topics, partitions;
		part_ref_arrays(c->early, c->nearly, OID_INT4, &topics, &partitions);
		params p = {0};
		params_bin(&p, topics.w.buf, (int)topics.w.len);
		params_bin(&p, partitions.w.buf, (int)partitions.w.len);
		db_stmt st = params_stmt(Q_PARTITIONS_EXIST, &p, 0);
		db_submit(req->db, &st, 1, pp_early_rows, c);
		pgarray_free(&topics);
		pgarray_free(&partitions);
		return;
	}
	pp_continue(c);
}

/* The early answers of partitions that do not exist become
 * UNKNOWN_TOPIC_OR_PARTITION; a failed lookup leaves them as they are. */
static void pp_early_rows(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	pp_ctx *c = arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	if (!err && PQntuples(res[0]) == c->nearly)
		for (int i = 0; i < c->nearly; i++)
			if (PQgetvalue(res[0], i, 0)[0] != 't') {
				produce_resp_partition *out = c->early[i].out;
				out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				out->error_message = KSTR_NULL;
				out->record_errors = karray_of(NULL, 0);
			}
	pp_continue(c);
}

/* After the early answers: write what is to be written. */
static void pp_continue(pp_ctx *c)
{
	request *req = c->req;

	if (c->nwrites == 0) {
		pp_finish(req);
		return;
	}
	qsort(c->writes, (size_t)c->nwrites, sizeof(pp_write), pp_cmp);
	pp_submit(c);
}

static bool pp_raw_transactional(kstr records)
{
	records_outline o;
	records_outline_of((const uint8_t *)records.ptr, records.len > 0 ? (size_t)records.len : 0,
			   &o);
	return o.any_transactional;
}

/* ProduceRequest.validateRecords (v3+): one batch, magic 2, no zstd
 * before v7. The other checks of a batch come later, with the append. */
static int16_t pp_validate_records(const request *req, kstr records)
{
	records_outline o;
	records_outline_of((const uint8_t *)records.ptr, records.len > 0 ? (size_t)records.len : 0,
			   &o);
	/* In Kafka's order: a corrupt length stops its iterator where it is
	 * met, before or after the first batch's checks. */
	if (o.nbatches == 0)
		return o.corrupt ? KERR_CORRUPT_MESSAGE : KERR_INVALID_RECORD;
	if (o.first_magic != 2)
		return KERR_INVALID_RECORD;
	if ((o.first_attributes & ATTR_CODEC_MASK) == CODEC_ZSTD && req->api_version < 7)
		return KERR_UNSUPPORTED_COMPRESSION_TYPE;
	if (o.corrupt)
		return KERR_CORRUPT_MESSAGE;
	if (o.nbatches > 1)
		return KERR_INVALID_RECORD;
	return KERR_NONE;
}

/* Validate one partition's records the way the Java broker does for v3+. */
static int16_t pp_decode(request *req, const produce_req_partition *in, pp_write *w)
{
	record_batch *batches;
	int nbatches;

	if (in->records.len <= 0)
		return KERR_INVALID_RECORD;
	int rc = records_decode(req->arena, (const uint8_t *)in->records.ptr, (size_t)in->records.len,
				(size_t)g_config.max_request_bytes, &batches, &nbatches);
	if (rc != 0)
		return (int16_t)rc;
	if (nbatches != 1 || batches[0].record_count <= 0)
		return KERR_INVALID_RECORD;
	/* ProduceRequest.validateRecords: zstd needs v7 (KIP-110). */
	if ((batches[0].attributes & ATTR_CODEC_MASK) == CODEC_ZSTD && req->api_version < 7)
		return KERR_UNSUPPORTED_COMPRESSION_TYPE;
	/* LogValidator: the offset range must match the count. */
	if ((int64_t)batches[0].last_offset_delta + 1 != batches[0].record_count)
		return KERR_INVALID_RECORD;
	if (batches[0].attributes & ATTR_CONTROL)
		return KERR_INVALID_RECORD;
	if (batches[0].producer_id >= 0 &&
	    (batches[0].producer_epoch < 0 || batches[0].base_sequence < 0))
		return KERR_INVALID_RECORD;
	/* A transaction without a producer id could never be ended. */
	if ((batches[0].attributes & ATTR_TRANSACTIONAL) && batches[0].producer_id < 0)
		return KERR_INVALID_RECORD;
	w->batch = &batches[0];
	w->batch_size = in->records.len;
	return KERR_NONE;
}

/* The whole request fails, as the Java broker fails it before looking at
 * any partition. */
static void pp_fail_all(request *req, int16_t error_code)
{
	produce_resp *resp = req->resp;
	produce_resp_topic *rt = resp->responses.items;

	for (int32_t t = 0; t < resp->responses.count; t++) {
		produce_resp_partition *rp = rt[t].partition_responses.items;
		for (int32_t p = 0; p < rt[t].partition_responses.count; p++)
			rp[p].error_code = error_code;
	}
}

static int pp_cmp(const void *a, const void *b)
{
	const pp_write *x = a, *y = b;
	int c = kstr_cmp(x->topic, y->topic);
	if (c)
		return c;
	return (x->out->index > y->out->index) - (x->out->index < y->out->index);
}

static void pp_submit(pp_ctx *c)
{
	request *req = c->req;
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, c->nwrites);
	pgarray *arrays = ARENA_NEW_ARRAY(req->arena, pgarray, 4 * c->nwrites);
	for (int i = 0; i < c->nwrites; i++) {
		pp_write *w = &c->writes[i];
		const record_batch *b = w->batch;
		pgarray *ts = &arrays[4 * i], *keys = ts + 1, *vals = ts + 2, *hdrs = ts + 3;

		pgarray_begin(ts, OID_INT8, 12 * (size_t)b->record_count);
		pgarray_begin(keys, OID_BYTEA, (size_t)w->batch_size);
		pgarray_begin(vals, OID_BYTEA, (size_t)w->batch_size);
		pgarray_begin(hdrs, OID_BYTEA, 4 * (size_t)b->record_count);
		for (int32_t r = 0; r < b->record_count; r++) {
			const record *rec = &b->records[r];
			/* Stored as sent, -1 (none) included, as Kafka stores CreateTime. */
			pgarray_add_i64(ts, rec->timestamp);
			pgarray_add(keys, rec->key);
			pgarray_add(vals, rec->value);
			pgarray_add(hdrs, rec->header_count > 0 ? rec->headers : KSTR_NULL);
		}
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, w->topic);
		params_int(p, req->arena, w->out->index);
		params_int(p, req->arena, b->record_count);
		for (int k = 0; k < 4; k++) {
			pgarray_end(&ts[k]);
			params_bin(p, ts[k].w.buf, (int)ts[k].w.len);
		}
		params_int(p, req->arena, w->batch_size);
		params_int(p, req->arena, g_config.message_max_bytes);
		/* Last parameter of each statement: whether the batch claims
		 * LogAppendTime, which Kafka refuses on a LogAppendTime topic
		 * and without timestamps (kafka.batch_error()). */
		kstr lat = kstr_c(b->attributes & ATTR_TIMESTAMP_LOG_APPEND ? "true" : "false");
		query_id q = Q_PRODUCE;
		if (b->producer_id >= 0) {
			params_int(p, req->arena, b->producer_id);
			params_int(p, req->arena, b->producer_epoch);
			params_int(p, req->arena, b->base_sequence);
			q = Q_PRODUCE_IDEMPOTENT;
		}
		if (b->producer_id >= 0 && (b->attributes & ATTR_TRANSACTIONAL)) {
			const produce_req *body = req->body;
			params_str(p, req->arena, body->transactional_id);
			/* Transactions v2: from v12 the partition joins the
			 * transaction as it is written (no AddPartitionsToTxn). */
			q = req->api_version >= 12 && feature_txn_v2() ? Q_PRODUCE_TRANSACTIONAL_V2
								      : Q_PRODUCE_TRANSACTIONAL;
		}
		params_str(p, req->arena, lat);
		/* Last of each statement: the topic's id (v13+) or NULL. */
		if (w->topic_id)
			params_bin(p, w->topic_id->b, 16);
		else
			params_str(p, req->arena, KSTR_NULL);
		stmts[i] = params_stmt(q, p, 0);
	}
	db_submit(req->db, stmts, c->nwrites, pp_done, c);
	for (int i = 0; i < 4 * c->nwrites; i++)
		pgarray_free(&arrays[i]);
}

/*
 * INVALID_RECORD from the produce statement is a keyless record on a
 * compacted topic: list every such record of the batch as Kafka's
 * LogValidator does, with its messages (only at v8+, where the answer has
 * room for them).
 */
static void pp_keyless_errors(request *req, pp_write *w)
{
	const record_batch *b = w->batch;
	produce_resp_record_error *errs;
	int32_t n = 0;
	char tp[300];
	const char *shown = "";

	if (req->api_version < 8 || !b)
		return;
	errs = ARENA_NEW_ARRAY(req->arena, produce_resp_record_error, b->record_count + 1);
	snprintf(tp, sizeof(tp), "%.*s-%d", w->topic.len, w->topic.ptr, w->out->index);
	const char *one = arena_printf(req->arena,
				       "Compacted topic cannot accept message without key in "
				       "topic partition %s.",
				       tp);
	for (int32_t i = 0; i < b->record_count; i++) {
		if (b->records[i].key.len >= 0)
			continue;
		errs[n].batch_index = i;
		errs[n].batch_index_error_message = kstr_c(one);
		if (n < 3)
			shown = arena_printf(req->arena, "%s%sRecordError(batchIndex=%d, message='%s')",
					     shown, n ? ", " : "", i, one);
		n++;
	}
	if (n == 0)
		return;
	w->out->record_errors = karray_of(errs, n);
	w->out->error_message = kstr_c(arena_printf(
		req->arena,
		"One or more records have been rejected due to %d record errors in total, and "
		"only showing the first three errors at most: [%s]",
		n, shown));
}

static void pp_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	pp_ctx *c = arg;
	int nts = 0; /* writes refused for their timestamps */
	(void)n;

	if (err) {
		bool again = db_error_retriable(sqlstate, retriable);
		if (!again)
			log_error("produce failed: %s", err);
		else
			log_warn("produce failed, client will retry: %s", err);
		for (int i = 0; i < c->nwrites; i++) {
			c->writes[i].out->error_code =
				again ? KERR_KAFKA_STORAGE_ERROR : KERR_UNKNOWN_SERVER_ERROR;
			c->writes[i].out->error_message = kstr_c(
				again ? "PostgreSQL unavailable" : "storage error, see broker log");
		}
		pp_finish(c->req);
		return;
	}
	for (int i = 0; i < c->nwrites; i++) {
		pp_write *w = &c->writes[i];
		const PGresult *r = res[i];
		/* The last column: whether the topic still has the id it was
		 * named by (always, without an id). */
		if (w->topic_id && PQntuples(r) == 1 &&
		    PQgetvalue(r, 0, PQnfields(r) - 1)[0] == 'f') {
			topic_ids_forget(w->topic_id);
			w->out->error_code = KERR_UNKNOWN_TOPIC_ID;
			continue;
		}
		/* kafka.produce_idempotent() and kafka.produce_transactional()
		 * add a Kafka error code column. */
		if (PQntuples(r) == 1 && PQnfields(r) > 5 && pgtext_i64(r, 0, 5, 0) != KERR_NONE) {
			w->out->error_code =
				(int16_t)pgtext_i64(r, 0, 5, KERR_UNKNOWN_SERVER_ERROR);
			if (w->out->error_code == KERR_INVALID_TIMESTAMP) {
				w->out->error_message = kstr_c("One or more records have been rejected "
							       "due to invalid timestamp");
				nts++;
			} else if (w->out->error_code == KERR_INVALID_RECORD)
				pp_keyless_errors(c->req, w);
			continue;
		}
		if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
			int64_t maxb = PQntuples(r) == 1 ? pgtext_i64(r, 0, 4, INT32_MAX) : INT32_MAX;
			w->out->error_code = w->batch_size > maxb ? KERR_MESSAGE_TOO_LARGE
								  : KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		w->out->base_offset = pgtext_i64(r, 0, 0, -1);
		w->out->log_start_offset = pgtext_i64(r, 0, 1, 0);
		if (PQgetvalue(r, 0, 2)[0] == 't')
			w->out->log_append_time_ms = pgtext_i64(r, 0, 3, -1);
		wake_notify(w->topic, w->out->index);
	}
	if (nts > 0 && c->req->api_version >= 8) {
		pp_timestamp_lookup(c, nts);
		return;
	}
	pp_finish(c->req);
}

/*
 * The records a batch refused with INVALID_TIMESTAMP is refused for, for
 * record_errors (v8+). The produce statement checked the batch and
 * returned only the code; the topic's timestamp configs are read here and
 * LogValidator's rule applied again with the broker's clock: on a
 * LogAppendTime topic, or to a record without a timestamp, a LogAppendTime
 * batch is refused record by record; a CreateTime record is refused when
 * it is more than message.timestamp.before.max.ms before now or
 * after.max.ms after it. (A record at the very edge may be judged apart
 * from the statement's by the clocks' difference; the error code is the
 * statement's either way.)
 */
static void pp_timestamp_lookup(pp_ctx *c, int nts)
{
	request *req = c->req;
	db_stmt *st = ARENA_NEW_ARRAY(req->arena, db_stmt, nts);
	int k = 0;

	for (int i = 0; i < c->nwrites; i++) {
		if (c->writes[i].out->error_code != KERR_INVALID_TIMESTAMP)
			continue;
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, c->writes[i].topic);
		st[k++] = params_stmt(Q_TOPIC_CONFIGS, p, 0);
	}
	db_submit(req->db, st, k, pp_timestamp_rows, c);
}

/* Java's long arithmetic, which wraps (LogValidator's comparisons and the
 * bounds in its message). */
static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }

static void pp_timestamp_rows(void *arg, PGresult **res, int n, const char *err,
			      const char *sqlstate, bool retriable)
{
	pp_ctx *c = arg;
	request *req = c->req;
	int64_t now = clock_wall_ms();
	int k = 0;
	(void)sqlstate;
	(void)retriable;

	for (int i = 0; !err && i < c->nwrites && k < n; i++) {
		pp_write *w = &c->writes[i];
		const PGresult *r = res[k];
		if (w->out->error_code != KERR_INVALID_TIMESTAMP)
			continue;
		k++;
		bool topic_lat = false;
		int64_t before = INT64_MAX, after = INT64_MAX;
		for (int row = 0; row < PQntuples(r); row++) {
			if (PQgetisnull(r, row, 0) || PQgetisnull(r, row, 1))
				continue;
			const char *name = PQgetvalue(r, row, 0), *value = PQgetvalue(r, row, 1);
			if (strcmp(name, "message.timestamp.type") == 0)
				topic_lat = strcmp(value, "LogAppendTime") == 0;
			else if (strcmp(name, "message.timestamp.before.max.ms") == 0)
				before = strtoll(value, NULL, 10);
			else if (strcmp(name, "message.timestamp.after.max.ms") == 0)
				after = strtoll(value, NULL, 10);
		}
		const record_batch *b = w->batch;
		bool batch_lat = b && (b->attributes & 0x08);
		produce_resp_record_error *errs =
			ARENA_NEW_ARRAY(req->arena, produce_resp_record_error, b ? b->record_count + 1 : 1);
		int32_t ne = 0;
		for (int32_t j = 0; b && j < b->record_count; j++) {
			const record *rec = &b->records[j];
			const char *msg = NULL;
			if (!topic_lat && rec->timestamp != -1) {
				int64_t diff = wrap_sub(now, rec->timestamp);
				if (diff > before || wrap_sub(0, diff) > after)
					msg = arena_printf(
						req->arena,
						"Timestamp %" PRId64 " of message with offset %" PRId64
						" is out of range. The timestamp should be within [%" PRId64
						", %" PRId64 "]",
						rec->timestamp, rec->offset_delta, wrap_sub(now, before),
						wrap_add(now, after));
			} else if (batch_lat) {
				msg = arena_printf(req->arena,
						   "Invalid timestamp type in message with offset %" PRId64
						   ". Producer should not set timestamp type to "
						   "LogAppendTime.",
						   rec->offset_delta);
			}
			if (!msg)
				continue;
			errs[ne].batch_index = j;
			errs[ne].batch_index_error_message = kstr_c(msg);
			ne++;
		}
		w->out->record_errors = karray_of(errs, ne);
	}
	pp_finish(req);
}

/* From v10 a partition answered NOT_LEADER_OR_FOLLOWER names its leader,
 * and the answer the leaders' addresses (KIP-951, as Kafka's
 * ReplicaManager fills them), so the producer moves at once. */
static void pp_leader_hints(request *req)
{
	produce_resp *resp = req->resp;
	produce_resp_topic *rt = resp->responses.items;
	int32_t total = 0, nn = 0;

	for (int32_t t = 0; t < resp->responses.count; t++)
		total += rt[t].partition_responses.count;
	leader_endpoint *found = ARENA_NEW_ARRAY(req->arena, leader_endpoint, total + 1);
	for (int32_t t = 0; t < resp->responses.count; t++) {
		produce_resp_partition *rp = rt[t].partition_responses.items;
		for (int32_t p = 0; p < rt[t].partition_responses.count; p++) {
			int32_t leader, epoch;
			leader_endpoint ep;
			if (rp[p].error_code != KERR_NOT_LEADER_OR_FOLLOWER ||
			    !leader_hint(req, rt[t].name, rp[p].index, &leader, &epoch, &ep))
				continue;
			produce_resp_leader *l = arena_alloc(req->arena, sizeof(*l));
			l->leader_id = leader;
			l->leader_epoch = epoch;
			rp[p].current_leader = l;
			leader_endpoint_add(found, &nn, &ep);
		}
	}
	if (nn == 0)
		return;
	produce_resp_node_endpoint *nodes =
		ARENA_NEW_ARRAY(req->arena, produce_resp_node_endpoint, nn);
	for (int32_t k = 0; k < nn; k++)
		nodes[k] = (produce_resp_node_endpoint){.node_id = found[k].node_id,
							.host = found[k].host,
							.port = found[k].port,
							.rack = found[k].rack};
	resp->node_endpoints = karray_of(nodes, nn);
}

/*
 * Answer the request. With acks=0 there is no answer, so a partition that
 * failed closes the connection instead, as Kafka's broker does: the
 * producer sees the connection drop and refreshes its metadata.
 */
static void pp_finish(request *req)
{
	produce_resp *resp = req->resp;
	const produce_resp_topic *rt = resp->responses.items;

	if (req->api_version >= 10)
		pp_leader_hints(req);
	for (int32_t t = 0; req->no_response && t < resp->responses.count; t++) {
		const produce_resp_partition *rp = rt[t].partition_responses.items;
		for (int32_t p = 0; p < rt[t].partition_responses.count; p++) {
			if (rp[p].error_code == KERR_NONE)
				continue;
			log_info("closing connection of client %.*s: acks=0 produce to %.*s-%d failed "
				 "with error %d",
				 req->client_id.len > 0 ? req->client_id.len : 0,
				 req->client_id.ptr ? req->client_id.ptr : "", rt[t].name.len,
				 rt[t].name.ptr, rp[p].index, rp[p].error_code);
			req->close_connection = true;
			request_complete(req);
			return;
		}
	}
	request_complete(req);
}
