/*
 * The transaction coordinator: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * TxnOffsetCommit, DescribeTransactions and ListTransactions
 * (docs/TRANSACTIONS.md; the timer that aborts transactions past their
 * timeout is txn_reaper.c).
 *
 * The coordinator's state is PostgreSQL's: each API is one call of a
 * kafka.* function that checks the producer id and epoch and changes the
 * state under the transaction's row lock, so every broker of a database
 * coordinates every transactional id, as FindCoordinator tells clients.
 * What is left here: refuse what PostgreSQL text cannot hold, answer older
 * clients with the error codes they know, and wake the fetches waiting on
 * the partitions where markers were written (read_committed fetches see
 * the last stable offset move).
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "consumer_groups.h"
#include "coordinator.h"
#include "handlers.h"
#include "cluster.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "offset_rows.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "txn_markers.h"
#include "validate.h"
#include "wake.h"

/* The coordinator states of the Java broker, by the names ListTransactions
 * filters on. pg_kafka's transactions are only ever in the first four; the
 * others are known names that match nothing. */
static const char *const txn_state_names[] = {
	"Empty",         "Ongoing",      "CompleteCommit",    "CompleteAbort",
	"PrepareCommit", "PrepareAbort", "PrepareEpochFence", "Dead",
};

/*
 * AddPartitionsToTxn and TxnOffsetCommit. KafkaApis checks that the
 * partitions exist before the coordinator sees the request, so
 * Q_PARTITIONS_EXIST goes first, then the coordinator's statement unless
 * the answer is already known (all_error, failed).
 */
typedef struct parts_ctx {
	request *req;
	part_ref *parts; /* sent to PostgreSQL, in this order */
	int nparts;
	int16_t all_error; /* the answer of every partition that exists */
	/* TxnOffsetCommit: the group's refusal of the generation or member,
	 * the answer unless Q_TXN_VERIFY finds the transaction at fault. */
	int16_t group_error;
	bool failed; /* AddPartitionsToTxn: a partition failed before PostgreSQL */
	bool held;   /* TxnOffsetCommit: coord_commit_hold() until written */
} parts_ctx;

static int16_t fenced_for(const request *req, int16_t error_code);
static int16_t txn_id_error(kstr transactional_id);
static int16_t txn_coordinator_error(kstr transactional_id);
static void parts_submit(parts_ctx *c, int query, const params *p);
static void parts_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void parts_complete(request *req);
static bool ap_prepare(request *req, parts_ctx *c);
static void ap_batch(request *req);
static int ap_batch_txn(request *req, const add_partitions_to_txn_transaction *in,
			add_partitions_to_txn_result *out, part_ref **parts);
static void ap_batch_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void aot_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static void end_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static int16_t toc_group_check(const request *req);
static void toc_prepared(void *arg, int16_t load_error);
static void dt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void dt_fill(request *req, describe_transactions_resp_state *out, const PGresult *r,
		    int row);
static void lt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

/* ---- shared helpers ---- */


/* Clients before v2 of these APIs do not know PRODUCER_FENCED; the Java
 * broker's KafkaApis tells them INVALID_PRODUCER_EPOCH, which they treat
 * the same way. */
static int16_t fenced_for(const request *req, int16_t error_code)
{
	if (error_code == KERR_PRODUCER_FENCED && req->api_version < 2)
		return KERR_INVALID_PRODUCER_EPOCH;
	return error_code;
}

/*
 * The coordinator's answer for a transactional id the request cannot have
 * a transaction under: "" is refused by the Java coordinator. NONE for
 * any other.
 */
static int16_t txn_id_error(kstr transactional_id)
{
	if (transactional_id.len <= 0)
		return KERR_INVALID_REQUEST;
	return KERR_NONE;
}

/* txn_id_error, then NOT_COORDINATOR if another broker owns the id. */
static int16_t txn_coordinator_error(kstr transactional_id)
{
	int16_t e = txn_id_error(transactional_id);

	if (e == KERR_NONE && !cluster_is_coordinator(transactional_id))
		e = KERR_NOT_COORDINATOR;
	return e;
}

/* Q_PARTITIONS_EXIST over c->parts, then the statement query with
 * parameters p, when given. */
static void parts_submit(parts_ctx *c, int query, const params *p)
{
	request *req = c->req;
	pgarray topics, partitions;
	part_ref_arrays(c->parts, c->nparts, OID_INT4, &topics, &partitions);
	params exist = {0};
	params_bin(&exist, topics.w.buf, (int)topics.w.len);
	params_bin(&exist, partitions.w.buf, (int)partitions.w.len);
	db_stmt st[2];
	st[0] = params_stmt(Q_PARTITIONS_EXIST, &exist, 0);
	if (p)
		st[1] = params_stmt((query_id)query, p, 0);
	db_submit(req->db, st, p ? 2 : 1, parts_done, c);
	pgarray_free(&topics);
	pgarray_free(&partitions);
}

/*
 * res[0]: whether each partition sent exists; res[1], when sent: the
 * coordinator's rows, one per partition in the order sent, whose third
 * column is its error code, or (group_error) Q_TXN_VERIFY's one row. A
 * partition that does not exist is
 * UNKNOWN_TOPIC_OR_PARTITION; in AddPartitionsToTxn it fails the whole
 * request, and the others are OPERATION_NOT_ATTEMPTED.
 */
static void parts_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	parts_ctx *c = arg;
	request *req = c->req;
	bool txn_offsets = req->api_key == API_TXN_OFFSET_COMMIT;
	int16_t e = KERR_NONE;
	bool missing = false;

	if (c->held)
		coord_commit_release(((const txn_offset_commit_req *)req->body)->group_id);
	if (err)
		e = coordinator_db_error(txn_offsets ? "TxnOffsetCommit" : "AddPartitionsToTxn",
					 err, sqlstate, retriable);
	else if (PQntuples(res[0]) != c->nparts ||
		 (n > 1 && PQntuples(res[1]) != (c->group_error ? 1 : c->nparts)))
		e = KERR_UNKNOWN_SERVER_ERROR;
	for (int i = 0; i < c->nparts && !e; i++)
		missing = missing || strcmp(PQgetvalue(res[0], i, 0), "t") != 0;
	int16_t verify = KERR_NONE;
	if (!e && c->group_error && n > 1)
		verify = fenced_for(req,
				    (int16_t)pgtext_i64(res[1], 0, 0, KERR_UNKNOWN_SERVER_ERROR));
	for (int i = 0; i < c->nparts; i++) {
		int16_t *out = c->parts[i].error_code;
		if (e)
			*out = e;
		else if (strcmp(PQgetvalue(res[0], i, 0), "t") != 0)
			*out = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		else if (!txn_offsets && (missing || c->failed))
			*out = KERR_OPERATION_NOT_ATTEMPTED;
		else if (n < 2)
			*out = c->all_error ? c->all_error : KERR_UNKNOWN_SERVER_ERROR;
		else if (c->group_error)
			*out = verify ? verify : c->group_error;
		else
			*out = fenced_for(
				req, (int16_t)pgtext_i64(res[1], i, 2, KERR_UNKNOWN_SERVER_ERROR));
	}
	parts_complete(req);
}

/*
 * TxnOffsetCommit before v2: clients from before Kafka 2.0 may fail on
 * COORDINATOR_LOAD_IN_PROGRESS (KAFKA-7296), so KafkaApis tells them
 * COORDINATOR_NOT_AVAILABLE instead; pg_kafka answers it while a group's
 * next generation waits for earlier commits (coordinator.h).
 */
static void parts_complete(request *req)
{
	if (req->api_key == API_TXN_OFFSET_COMMIT && req->api_version < 2) {
		txn_offset_commit_resp *resp = req->resp;
		txn_offset_commit_resp_topic *rt = resp->topics.items;
		for (int32_t t = 0; t < resp->topics.count; t++) {
			txn_offset_commit_resp_partition *rp = rt[t].partitions.items;
			for (int32_t p = 0; p < rt[t].partitions.count; p++)
				if (rp[p].error_code == KERR_COORDINATOR_LOAD_IN_PROGRESS)
					rp[p].error_code = KERR_COORDINATOR_NOT_AVAILABLE;
		}
	}
	request_complete(req);
}

/* ---- AddPartitionsToTxn ---- */

/*
 * Builds the response (every partition of the request, in order) and
 * c->parts, the partitions PostgreSQL is asked about. As in KafkaApis, a
 * partition is checked before the transaction: an internal topic gets
 * TOPIC_AUTHORIZATION_FAILED and a partition that cannot exist
 * UNKNOWN_TOPIC_OR_PARTITION, which fails the whole request (the others
 * get OPERATION_NOT_ATTEMPTED). Returns false when nothing is to be asked.
 */
static bool ap_prepare(request *req, parts_ctx *c)
{
	const add_partitions_to_txn_req *b = req->body;
	add_partitions_to_txn_resp *resp = req->resp;
	const add_partitions_to_txn_topic *in = b->v3_and_below_topics.items;
	int32_t nt = b->v3_and_below_topics.count > 0 ? b->v3_and_below_topics.count : 0;
	int total = 0;

	for (int32_t t = 0; t < nt; t++)
		total += in[t].partitions.count > 0 ? in[t].partitions.count : 0;
	c->parts = ARENA_NEW_ARRAY(req->arena, part_ref, total);
	add_partitions_to_txn_topic_result *rt =
		ARENA_NEW_ARRAY(req->arena, add_partitions_to_txn_topic_result, nt);
	resp->results_by_topic_v3_and_below = karray_of(rt, nt);
	for (int32_t t = 0; t < nt; t++) {
		const int32_t *idx = in[t].partitions.items;
		int32_t np = in[t].partitions.count > 0 ? in[t].partitions.count : 0;
		add_partitions_to_txn_partition_result *rp =
			ARENA_NEW_ARRAY(req->arena, add_partitions_to_txn_partition_result, np);
		rt[t].name = in[t].name;
		rt[t].results_by_partition = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = idx[p];
			rp[p].partition_error_code = KERR_NONE;
			if (topic_is_internal(in[t].name) ||
			    !authz_topic(req, ACL_OP_WRITE, in[t].name)) {
				rp[p].partition_error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				c->failed = true;
				continue;
			}
			if (!topic_name_valid(in[t].name) || idx[p] < 0) {
				rp[p].partition_error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				c->failed = true;
				continue;
			}
			part_ref *ref = &c->parts[c->nparts++];
			ref->topic = in[t].name;
			ref->partition = idx[p];
			ref->error_code = &rp[p].partition_error_code;
		}
	}
	c->all_error = txn_coordinator_error(b->v3_and_below_transactional_id);
	/* No partitions at all still reaches the coordinator, which makes the
	 * transaction Ongoing (an empty answer either way). */
	return c->nparts > 0 || (total == 0 && !c->all_error);
}

void handle_add_partitions_to_txn(request *req)
{
	if (req->api_version >= 4) {
		ap_batch(req);
		return;
	}
	const add_partitions_to_txn_req *b = req->body;
	add_partitions_to_txn_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	parts_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	req->resp = resp;
	bool prepared = ap_prepare(req, c);
	/* KafkaApis: WRITE on the transactional id, or every partition is
	 * refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED. */
	if (!authz_txn(req, ACL_OP_WRITE, b->v3_and_below_transactional_id)) {
		add_partitions_to_txn_topic_result *rt = resp->results_by_topic_v3_and_below.items;
		for (int32_t t = 0; t < resp->results_by_topic_v3_and_below.count; t++) {
			add_partitions_to_txn_partition_result *rp =
				rt[t].results_by_partition.items;
			for (int32_t p = 0; p < rt[t].results_by_partition.count; p++)
				rp[p].partition_error_code =
					KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
		}
		request_complete(req);
		return;
	}
	if (!prepared) {
		request_complete(req);
		return;
	}
	if (c->failed || c->all_error) {
		parts_submit(c, 0, NULL);
		return;
	}
	pgarray topics, partitions;
	part_ref_arrays(c->parts, c->nparts, OID_INT4, &topics, &partitions);
	params p = {0};
	params_str(&p, req->arena, b->v3_and_below_transactional_id);
	params_int(&p, req->arena, b->v3_and_below_producer_id);
	params_int(&p, req->arena, b->v3_and_below_producer_epoch);
	params_bin(&p, topics.w.buf, (int)topics.w.len);
	params_bin(&p, partitions.w.buf, (int)partitions.w.len);
	parts_submit(c, Q_ADD_PARTITIONS_TO_TXN, &p);
	pgarray_free(&topics);
	pgarray_free(&partitions);
}

/*
 * AddPartitionsToTxn v4+ (KIP-890): a broker about to write transactional
 * batches asks the coordinator, for a batch of transactions, to add
 * partitions or (verify_only) whether they are in. KafkaApis requires
 * CLUSTER_ACTION (a top-level CLUSTER_AUTHORIZATION_FAILED otherwise) and
 * no WRITE checks, since the sending broker made them. One statement per
 * transaction, all in one job; each answers its partitions as v3 does.
 */
typedef struct ap_batch_ctx {
	request *req;
	int nstmts;
	part_ref **parts; /* per statement: its partitions, in the order sent */
	int *nparts;
} ap_batch_ctx;

static void ap_batch(request *req)
{
	const add_partitions_to_txn_req *b = req->body;
	add_partitions_to_txn_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const add_partitions_to_txn_transaction *in = b->transactions.items;
	int32_t nt = b->transactions.count > 0 ? b->transactions.count : 0;

	req->resp = resp;
	if (!authz_cluster(req, ACL_OP_CLUSTER_ACTION)) {
		resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
		request_complete(req);
		return;
	}
	add_partitions_to_txn_result *out =
		ARENA_NEW_ARRAY(req->arena, add_partitions_to_txn_result, nt);
	resp->results_by_transaction = karray_of(out, nt);
	ap_batch_ctx *c = arena_alloc(req->arena, sizeof(*c));
	c->req = req;
	c->parts = ARENA_NEW_ARRAY(req->arena, part_ref *, nt);
	c->nparts = ARENA_NEW_ARRAY(req->arena, int, nt);
	db_stmt *st = ARENA_NEW_ARRAY(req->arena, db_stmt, nt);
	/* Copied by db_submit, freed after it. */
	pgarray *arrays = ARENA_NEW_ARRAY(req->arena, pgarray, 2 * (size_t)nt);

	for (int32_t t = 0; t < nt; t++) {
		part_ref *parts = NULL;
		int np = ap_batch_txn(req, &in[t], &out[t], &parts);
		if (np <= 0)
			continue;
		pgarray *topics = &arrays[2 * c->nstmts], *partitions = &arrays[2 * c->nstmts + 1];
		part_ref_arrays(parts, np, OID_INT4, topics, partitions);
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, in[t].transactional_id);
		params_int(p, req->arena, in[t].producer_id);
		params_int(p, req->arena, in[t].producer_epoch);
		params_bin(p, topics->w.buf, (int)topics->w.len);
		params_bin(p, partitions->w.buf, (int)partitions->w.len);
		st[c->nstmts] = params_stmt(in[t].verify_only ? Q_ADD_PARTITIONS_TO_TXN_VERIFY
							      : Q_ADD_PARTITIONS_TO_TXN,
					    p, 0);
		c->parts[c->nstmts] = parts;
		c->nparts[c->nstmts] = np;
		c->nstmts++;
	}
	if (c->nstmts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, st, c->nstmts, ap_batch_done, c);
	for (int i = 0; i < 2 * c->nstmts; i++)
		pgarray_free(&arrays[i]);
}

/*
 * One transaction of a v4+ request: its result mirrors the request. A
 * transactional id that is empty (INVALID_REQUEST) or that PostgreSQL text
 * cannot hold (no transaction has it: INVALID_PRODUCER_ID_MAPPING) answers
 * every partition; a partition that cannot exist is
 * UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as
 * KafkaApis answers. Returns how many partitions go to PostgreSQL (*parts),
 * 0 when the answer is already known.
 */
static int ap_batch_txn(request *req, const add_partitions_to_txn_transaction *in,
			add_partitions_to_txn_result *out, part_ref **parts)
{
	const add_partitions_to_txn_topic *tin = in->topics.items;
	int32_t nt = in->topics.count > 0 ? in->topics.count : 0;
	int total = 0;
	bool bad = false;
	int16_t all = txn_id_error(in->transactional_id);

	for (int32_t t = 0; t < nt; t++)
		total += tin[t].partitions.count > 0 ? tin[t].partitions.count : 0;
	*parts = ARENA_NEW_ARRAY(req->arena, part_ref, total);
	add_partitions_to_txn_topic_result *rt =
		ARENA_NEW_ARRAY(req->arena, add_partitions_to_txn_topic_result, nt);
	out->transactional_id = in->transactional_id;
	out->topic_results = karray_of(rt, nt);
	int np = 0;
	for (int32_t t = 0; t < nt; t++) {
		const int32_t *idx = tin[t].partitions.items;
		int32_t n = tin[t].partitions.count > 0 ? tin[t].partitions.count : 0;
		add_partitions_to_txn_partition_result *rp =
			ARENA_NEW_ARRAY(req->arena, add_partitions_to_txn_partition_result, n);
		rt[t].name = tin[t].name;
		rt[t].results_by_partition = karray_of(rp, n);
		for (int32_t p = 0; p < n; p++) {
			rp[p].partition_index = idx[p];
			if (!topic_name_valid(tin[t].name) || idx[p] < 0) {
				rp[p].partition_error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				bad = true;
				continue;
			}
			part_ref *ref = &(*parts)[np++];
			ref->topic = tin[t].name;
			ref->partition = idx[p];
			ref->error_code = &rp[p].partition_error_code;
		}
	}
	if (!bad && !all)
		return np;
	for (int i = 0; i < np; i++)
		*(*parts)[i].error_code = bad ? KERR_OPERATION_NOT_ATTEMPTED : all;
	return 0;
}

/* res[k]: the rows of statement k, one per partition sent, in order, the
 * error code in the third column. */
static void ap_batch_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	ap_batch_ctx *c = arg;
	int16_t e = KERR_NONE;

	if (err)
		e = coordinator_db_error("AddPartitionsToTxn", err, sqlstate, retriable);
	for (int k = 0; k < c->nstmts; k++) {
		bool ok = !e && k < n && PQntuples(res[k]) == c->nparts[k];
		for (int i = 0; i < c->nparts[k]; i++)
			*c->parts[k][i].error_code =
				e    ? e
				: ok ? (int16_t)pgtext_i64(res[k], i, 2, KERR_UNKNOWN_SERVER_ERROR)
				     : KERR_UNKNOWN_SERVER_ERROR;
	}
	request_complete(c->req);
}

/* ---- AddOffsetsToTxn ---- */

void handle_add_offsets_to_txn(request *req)
{
	const add_offsets_to_txn_req *b = req->body;
	add_offsets_to_txn_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	/* KafkaApis: WRITE on the transactional id, READ on the group. */
	if (!authz_txn(req, ACL_OP_WRITE, b->transactional_id))
		resp->error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	else if (!authz_group(req, ACL_OP_READ, b->group_id))
		resp->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
	else
		resp->error_code = txn_coordinator_error(b->transactional_id);
	if (resp->error_code) {
		request_complete(req);
		return;
	}
	/* The Java coordinator does not look at the group id; one too long
	 * to store is refused as OffsetCommit refuses it. */
	if (!pgid_valid(b->group_id)) {
		resp->error_code = KERR_INVALID_GROUP_ID;
		request_complete(req);
		return;
	}
	params p = {0};
	params_str(&p, req->arena, b->transactional_id);
	params_int(&p, req->arena, b->producer_id);
	params_int(&p, req->arena, b->producer_epoch);
	params_str(&p, req->arena, b->group_id);
	db_stmt st = params_stmt(Q_ADD_OFFSETS_TO_TXN, &p, 0);
	db_submit(req->db, &st, 1, aot_done, req);
}

static void aot_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	request *req = arg;
	add_offsets_to_txn_resp *resp = req->resp;
	(void)n;

	if (err)
		resp->error_code = coordinator_db_error("AddOffsetsToTxn", err, sqlstate, retriable);
	else if (PQntuples(res[0]) != 1)
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
	else
		resp->error_code = fenced_for(
			req, (int16_t)pgtext_i64(res[0], 0, 0, KERR_UNKNOWN_SERVER_ERROR));
	request_complete(req);
}

/* ---- EndTxn ---- */

void handle_end_txn(request *req)
{
	const end_txn_req *b = req->body;
	end_txn_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->producer_id = -1;
	resp->producer_epoch = -1;
	resp->error_code = !authz_txn(req, ACL_OP_WRITE, b->transactional_id)
				   ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
				   : txn_coordinator_error(b->transactional_id);
	if (resp->error_code) {
		request_complete(req);
		return;
	}
	params p = {0};
	params_str(&p, req->arena, b->transactional_id);
	params_int(&p, req->arena, b->producer_id);
	params_int(&p, req->arena, b->producer_epoch);
	params_str(&p, req->arena, kstr_c(b->committed ? "true" : "false"));
	/* v5 is transactions v2: a new epoch with every EndTxn. */
	db_stmt st = params_stmt(req->api_version >= 5 ? Q_END_TXN_V2 : Q_END_TXN, &p, 0);
	db_submit(req->db, &st, 1, end_done, req);
}

static void end_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	request *req = arg;
	end_txn_resp *resp = req->resp;
	(void)n;

	if (err) {
		resp->error_code = coordinator_db_error("EndTxn", err, sqlstate, retriable);
		request_complete(req);
		return;
	}
	if (PQntuples(res[0]) != 1) {
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		request_complete(req);
		return;
	}
	resp->error_code =
		fenced_for(req, (int16_t)pgtext_i64(res[0], 0, 0, KERR_UNKNOWN_SERVER_ERROR));
	if (resp->error_code == KERR_NONE && !PQgetisnull(res[0], 0, 1) &&
	    !PQgetisnull(res[0], 0, 2))
		txn_wake_markers(PQgetvalue(res[0], 0, 1), PQgetvalue(res[0], 0, 2));
	if (req->api_version >= 5 && resp->error_code == KERR_NONE && PQnfields(res[0]) >= 5) {
		resp->producer_id = pgtext_i64(res[0], 0, 3, -1);
		resp->producer_epoch = (int16_t)pgtext_i64(res[0], 0, 4, -1);
	}
	request_complete(req);
}

/* ---- TxnOffsetCommit ---- */

/*
 * v3 names the consumer's generation and member. A group this broker's
 * coordinator has in memory must agree, as for OffsetCommit
 * (coord_commit_check). A commit without generation and member is not
 * checked, and a rebalance in progress does not stop a transactional
 * commit: both as in the Java coordinator. A group this broker does not
 * have (a simple group, or one that has not joined since a restart) takes
 * a commit without a generation and refuses one with a generation >= 0
 * (ILLEGAL_GENERATION), as OffsetMetadataManager does for a group it does
 * not know: such a commit comes from a member of a group that no longer
 * exists here, a zombie whose transaction must not commit its offsets.
 */
static int16_t toc_group_check(const request *req)
{
	const txn_offset_commit_req *b = req->body;
	bool known = false;

	if (req->api_version < 3 ||
	    (b->generation_id < 0 && b->member_id.len <= 0 && b->group_instance_id.len < 0))
		return KERR_NONE;
	/* A consumer group (KIP-848) checks the member and its epoch
	 * (loaded first: handle_txn_offset_commit). */
	int16_t ce = cg_commit_check(cgroups(), b->group_id,
				     b->member_id.len < 0 ? KSTR_LIT("") : b->member_id,
				     b->generation_id, true, req->api_version, &known);
	if (known)
		return ce;
	(void)coord_offsets_in_use(b->group_id, &known);
	if (!known)
		return b->generation_id >= 0 ? KERR_ILLEGAL_GENERATION : KERR_NONE;
	int16_t e =
		coord_commit_check(b->group_id, b->member_id.len < 0 ? KSTR_LIT("") : b->member_id,
				   b->group_instance_id, b->generation_id);
	return e == KERR_REBALANCE_IN_PROGRESS ? KERR_NONE : e;
}

/*
 * The order of the Java broker's checks: KafkaApis answers the partitions
 * that do not exist, the group coordinator refuses an empty group id, the
 * transaction is verified (the transactional id, producer id and epoch,
 * and that the group was added: INVALID_TXN_STATE), then the group's
 * generation and the metadata of each offset are checked. Here the
 * generation is checked before the transaction, and a group id PostgreSQL
 * cannot store is refused with INVALID_GROUP_ID as OffsetCommit refuses it.
 */
void handle_txn_offset_commit(request *req)
{
	const txn_offset_commit_req *b = req->body;

	/* A consumer group (KIP-848) of that id is loaded first. */
	cgroups_prepare(req, &b->group_id, 1, false, toc_prepared, req);
}

static void toc_prepared(void *arg, int16_t load_error)
{
	request *req = arg;
	const txn_offset_commit_req *b = req->body;
	txn_offset_commit_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	parts_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const txn_offset_commit_req_topic *topics = b->topics.items;
	int32_t ntopics = b->topics.count > 0 ? b->topics.count : 0;
	int total = 0;

	c->req = req;
	req->resp = resp;
	for (int32_t t = 0; t < ntopics; t++)
		total += topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
	txn_offset_commit_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, txn_offset_commit_resp_topic, ntopics);
	resp->topics = karray_of(rt, ntopics);

	/* KafkaApis: WRITE on the transactional id, then READ on the group
	 * (either refuses every partition), then READ on each topic. */
	int16_t denied = !authz_txn(req, ACL_OP_WRITE, b->transactional_id)
				 ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
			 : !authz_group(req, ACL_OP_READ, b->group_id)
				 ? KERR_GROUP_AUTHORIZATION_FAILED
				 : KERR_NONE;
	if (b->group_id.len <= 0 || !pgid_valid(b->group_id))
		c->all_error = KERR_INVALID_GROUP_ID;
	/* TxnOffsetCommit goes to the group's coordinator, as in Kafka. */
	else if (!cluster_is_coordinator(b->group_id))
		c->all_error = KERR_NOT_COORDINATOR;
	else if ((c->all_error = txn_id_error(b->transactional_id)) == KERR_NONE && total > 0)
		c->group_error = load_error ? load_error : toc_group_check(req);

	offset_rows rows;
	offset_rows_begin(&rows, req->arena, total, OID_INT4);
	for (int32_t t = 0; t < ntopics; t++) {
		const txn_offset_commit_req_partition *in = topics[t].partitions.items;
		int32_t np = topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
		txn_offset_commit_resp_partition *rp =
			ARENA_NEW_ARRAY(req->arena, txn_offset_commit_resp_partition, np);
		rt[t].name = topics[t].name;
		rt[t].partitions = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = in[p].partition_index;
			if (denied || !authz_topic(req, ACL_OP_READ, topics[t].name)) {
				rp[p].error_code =
					denied ? denied : KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (!c->all_error) {
				rp[p].error_code = offset_rows_add(
					&rows, topics[t].name, in[p].partition_index,
					in[p].committed_offset, in[p].committed_leader_epoch,
					in[p].committed_metadata, &rp[p].error_code);
			} else if (!topic_name_valid(topics[t].name) || in[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			} else {
				/* Only asked whether it exists. */
				part_ref *ref = &rows.parts[rows.nparts++];
				ref->topic = topics[t].name;
				ref->partition = in[p].partition_index;
				ref->error_code = &rp[p].error_code;
			}
		}
	}
	c->parts = rows.parts;
	c->nparts = rows.nparts;
	if (denied) {
		offset_rows_free(&rows);
		parts_complete(req);
		return;
	}
	if (c->all_error) {
		offset_rows_free(&rows);
		if (c->nparts > 0)
			parts_submit(c, 0, NULL);
		else
			parts_complete(req);
		return;
	}
	if (c->group_error) {
		/* Nothing is written: the transaction is only checked. */
		offset_rows_free(&rows);
		params v = {0};
		params_str(&v, req->arena, b->transactional_id);
		params_int(&v, req->arena, b->producer_id);
		params_int(&v, req->arena, b->producer_epoch);
		/* v5 (transactions v2) adds the group itself: only the
		 * transaction is verified, as Kafka 4.x does before it checks
		 * the group. */
		params_str(&v, req->arena, req->api_version >= 5 ? KSTR_NULL : b->group_id);
		parts_submit(c, Q_TXN_VERIFY, &v);
		return;
	}
	/* The pending offset must be written before the group's next
	 * generation can read offsets (coordinator.h). */
	if (!offset_rows_end(&rows, b->group_id, true, &c->held)) {
		offset_rows_free(&rows);
		parts_complete(req);
		return;
	}
	params p = {0};
	params_str(&p, req->arena, b->transactional_id);
	params_str(&p, req->arena, b->group_id);
	params_int(&p, req->arena, b->producer_id);
	params_int(&p, req->arena, b->producer_epoch);
	offset_rows_params(&rows, &p);
	/* v5 is transactions v2: the group joins the transaction as its
	 * offsets are stored, without AddOffsetsToTxn. */
	parts_submit(c, req->api_version >= 5 ? Q_TXN_OFFSET_COMMIT_V2 : Q_TXN_OFFSET_COMMIT, &p);
	offset_rows_free(&rows);
}

/* ---- DescribeTransactions ---- */

void handle_describe_transactions(request *req)
{
	const describe_transactions_req *b = req->body;
	describe_transactions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const kstr *ids = b->transactional_ids.items;
	int32_t n = b->transactional_ids.count > 0 ? b->transactional_ids.count : 0;
	describe_transactions_resp_state *out =
		ARENA_NEW_ARRAY(req->arena, describe_transactions_resp_state, n);
	int asked = 0;

	req->resp = resp;
	resp->transaction_states = karray_of(out, n);
	pgarray arr;
	pgarray_begin(&arr, OID_TEXT, 32 * (size_t)n + 16);
	for (int32_t i = 0; i < n; i++) {
		out[i].transactional_id = ids[i];
		out[i].transaction_state = KSTR_LIT("");
		out[i].transaction_start_time_ms = -1;
		out[i].producer_id = -1;
		out[i].producer_epoch = -1;
		out[i].topics = karray_of(NULL, 0);
		/* "" is refused as the Java coordinator does. */
		if (!authz_txn(req, ACL_OP_DESCRIBE, ids[i]))
			out[i].error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
		else if (ids[i].len == 0)
			out[i].error_code = KERR_INVALID_REQUEST;
		else
			asked++;
		pgarray_add(&arr, out[i].error_code ? KSTR_NULL : ids[i]);
	}
	pgarray_end(&arr);
	if (asked == 0) {
		pgarray_free(&arr);
		request_complete(req);
		return;
	}
	params p = {0};
	params_bin(&p, arr.w.buf, (int)arr.w.len);
	db_stmt st = params_stmt(Q_DESCRIBE_TXNS, &p, 0);
	db_submit(req->db, &st, 1, dt_done, req);
	pgarray_free(&arr);
}

static void dt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	request *req = arg;
	describe_transactions_resp *resp = req->resp;
	describe_transactions_resp_state *out = resp->transaction_states.items;
	int count = resp->transaction_states.count;
	int16_t e = KERR_NONE;
	(void)n;

	if (err)
		e = coordinator_db_error("DescribeTransactions", err, sqlstate, retriable);
	else if (PQntuples(res[0]) != count)
		e = KERR_UNKNOWN_SERVER_ERROR;
	for (int i = 0; i < count; i++) {
		if (out[i].error_code)
			continue;
		if (e)
			out[i].error_code = e;
		else
			dt_fill(req, &out[i], res[0], i);
	}
	request_complete(req);
}

/* Q_DESCRIBE_TXNS columns: state (NULL: no such id), producer id, epoch,
 * timeout, start ms (NULL unless Ongoing), topics[], partitions[] sorted by
 * topic and partition. */
static void dt_fill(request *req, describe_transactions_resp_state *out, const PGresult *r, int row)
{
	if (PQgetisnull(r, row, 0)) {
		out->error_code = KERR_TRANSACTIONAL_ID_NOT_FOUND;
		return;
	}
	out->transaction_state = arena_kstrdup(req->arena, pgtext_str(r, row, 0));
	out->producer_id = pgtext_i64(r, row, 1, -1);
	out->producer_epoch = (int16_t)pgtext_i64(r, row, 2, -1);
	out->transaction_timeout_ms = (int32_t)pgtext_i64(r, row, 3, 0);
	out->transaction_start_time_ms = pgtext_i64(r, row, 4, -1);

	kstr *topics, *parts;
	int nt =
		PQgetisnull(r, row, 5) ? 0 : pgtext_array(req->arena, PQgetvalue(r, row, 5), &topics);
	int np = PQgetisnull(r, row, 6) ? 0 : pgtext_array(req->arena, PQgetvalue(r, row, 6), &parts);
	if (nt < 0 || nt != np) {
		out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	describe_transactions_resp_topic *td =
		ARENA_NEW_ARRAY(req->arena, describe_transactions_resp_topic, nt);
	int ntd = 0;
	for (int i = 0; i < nt;) {
		int end = i;
		while (end < nt && kstr_eqk(topics[end], topics[i]))
			end++;
		int32_t *pi = ARENA_NEW_ARRAY(req->arena, int32_t, end - i);
		for (int k = i; k < end; k++)
			pi[k - i] = parts[k].len > 0 ? (int32_t)strtol(parts[k].ptr, NULL, 10) : -1;
		td[ntd].topic = topics[i].len < 0 ? KSTR_LIT("") : topics[i];
		td[ntd].partitions = karray_of(pi, end - i);
		ntd++;
		i = end;
	}
	out->topics = karray_of(td, ntd);
}

/* ---- ListTransactions ---- */

void handle_list_transactions(request *req)
{
	const list_transactions_req *b = req->body;
	list_transactions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const kstr *states = b->state_filters.items;
	int32_t ns = b->state_filters.count > 0 ? b->state_filters.count : 0;
	const int64_t *pids = b->producer_id_filters.items;
	int32_t npids = b->producer_id_filters.count > 0 ? b->producer_id_filters.count : 0;
	kstr *unknown = ARENA_NEW_ARRAY(req->arena, kstr, ns);
	int nunknown = 0;
	pgarray known, ids;
	/* v1: transactions ongoing for longer than this, and Empty ones
	 * (whose start time is -1 in Kafka). A duration past now_ms() keeps
	 * nothing at all, as in Java; PostgreSQL's intervals and times could
	 * not take every int64 of milliseconds anyway. */
	int64_t duration = req->api_version >= 1 ? b->duration_filter : -1;
	bool nothing = duration > now_ms();

	req->resp = resp;
	/* Filters by state name: unknown names are reported, and match
	 * nothing (an all-unknown filter lists nothing, as in Java). */
	pgarray_begin(&known, OID_TEXT, 16 * (size_t)ns + 16);
	for (int32_t i = 0; i < ns; i++) {
		bool found = false;
		for (size_t k = 0; k < sizeof(txn_state_names) / sizeof(txn_state_names[0]); k++)
			found = found || kstr_eq(states[i], txn_state_names[k]);
		/* The filters are a set in Java: an unknown name is reported
		 * once. */
		bool reported = false;
		for (int k = 0; k < nunknown && !found; k++)
			reported = reported || kstr_eqk(unknown[k], states[i]);
		if (found)
			pgarray_add(&known, states[i]);
		else if (!reported)
			unknown[nunknown++] = states[i];
	}
	pgarray_end(&known);
	resp->unknown_state_filters = karray_of(unknown, nunknown);
	resp->transaction_states = karray_of(NULL, 0);
	pgarray_begin(&ids, OID_INT8, 12 * (size_t)npids + 16);
	for (int32_t i = 0; i < npids; i++)
		pgarray_add_i64(&ids, pids[i]);
	pgarray_end(&ids);
	if (nothing) {
		pgarray_free(&known);
		pgarray_free(&ids);
		request_complete(req);
		return;
	}

	params p = {0};
	if (ns > 0)
		params_bin(&p, known.w.buf, (int)known.w.len);
	else
		params_str(&p, req->arena, KSTR_NULL);
	if (npids > 0)
		params_bin(&p, ids.w.buf, (int)ids.w.len);
	else
		params_str(&p, req->arena, KSTR_NULL);
	params_int(&p, req->arena, duration);
	db_stmt st = params_stmt(Q_LIST_TXNS, &p, 0);
	db_submit(req->db, &st, 1, lt_done, req);
	pgarray_free(&known);
	pgarray_free(&ids);
}

static void lt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	request *req = arg;
	list_transactions_resp *resp = req->resp;
	(void)n;

	if (err) {
		resp->error_code = coordinator_db_error("ListTransactions", err, sqlstate, retriable);
		request_complete(req);
		return;
	}
	int rows = PQntuples(res[0]);
	list_transactions_resp_state *out =
		ARENA_NEW_ARRAY(req->arena, list_transactions_resp_state, rows);
	int nout = 0;
	for (int i = 0; i < rows; i++) {
		/* Those the principal may not DESCRIBE are left out. */
		if (!authz_txn(req, ACL_OP_DESCRIBE, pgtext_str(res[0], i, 0)))
			continue;
		out[nout].transactional_id = arena_kstrdup(req->arena, pgtext_str(res[0], i, 0));
		out[nout].producer_id = pgtext_i64(res[0], i, 1, -1);
		out[nout].transaction_state = arena_kstrdup(req->arena, pgtext_str(res[0], i, 2));
		nout++;
	}
	resp->transaction_states = karray_of(out, nout);
	request_complete(req);
}

