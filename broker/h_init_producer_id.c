/*
 * InitProducerId: producer ids for idempotent and transactional producers
 * (docs/IDEMPOTENCE.md, docs/TRANSACTIONS.md).
 *
 * Without a transactional id the producer gets a new id at epoch 0 from
 * kafka.init_producer_id(), whatever id and epoch it sends (v3+), as the
 * Java coordinator answers: an idempotent producer recovering from an
 * error (KIP-360) bumps its epoch itself, and asks for a new id only when
 * it needs one.
 *
 * With a transactional id, kafka.init_producer_id_txn() is the transaction
 * coordinator's InitProducerId: it checks the timeout against
 * transaction.max.timeout.ms, aborts a transaction the id left open and
 * bumps the epoch, which fences the id's previous producer. The partitions
 * where that abort wrote markers are woken, so read_committed fetches
 * waiting on them see the last stable offset move.
 *
 * The Java coordinator answers CONCURRENT_TRANSACTIONS when it had to
 * abort an Ongoing transaction (after fencing its epoch), and the client's
 * retry bumps the epoch once more. The abort and the first bump are one
 * statement here, so the same answer is given when the transaction was
 * Ongoing just before it (Q_TXN_ONGOING): the retry then finds it ended
 * and bumps again, which leaves the producer where Java leaves it. If the
 * transaction ended between the two statements, the retry costs one more
 * epoch and nothing else.
 */

#include <string.h>

#include "authorizer.h"
#include "cluster.h"
#include "config.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "txn_markers.h"
#include "validate.h"

static void ip_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

void handle_init_producer_id(request *req)
{
	const init_producer_id_req *body = req->body;
	init_producer_id_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	kstr txn_id = body->transactional_id;

	req->resp = resp;
	resp->producer_id = -1;
	resp->producer_epoch = -1;
	/* "" is refused as the Java coordinator does (the Java client never
	 * sends it), and so is an id too long to store (validate.h). */
	if (txn_id.len == 0 || (txn_id.len > 0 && !pgid_valid(txn_id))) {
		resp->error_code = KERR_INVALID_REQUEST;
		request_complete(req);
		return;
	}
	/* KafkaApis: WRITE on the transactional id; an idempotent producer
	 * needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic. */
	if (txn_id.len > 0 ? !authz_txn(req, ACL_OP_WRITE, txn_id)
			   : !authz_cluster(req, ACL_OP_IDEMPOTENT_WRITE) &&
				     !authz_any(req, ACL_OP_WRITE, ACL_RES_TOPIC)) {
		resp->error_code = txn_id.len > 0 ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
						  : KERR_CLUSTER_AUTHORIZATION_FAILED;
		request_complete(req);
		return;
	}
	if ((body->producer_id < 0) != (body->producer_epoch < 0)) {
		resp->error_code = KERR_INVALID_REQUEST;
		request_complete(req);
		return;
	}
	if (txn_id.len > 0 && !cluster_is_coordinator(txn_id)) {
		resp->error_code = KERR_NOT_COORDINATOR;
		request_complete(req);
		return;
	}
	params p = {0}, ongoing = {0};
	db_stmt st[2];
	if (txn_id.len > 0) {
		params_str(&ongoing, req->arena, txn_id);
		st[0] = params_stmt(Q_TXN_ONGOING, &ongoing, 0);
		params_str(&p, req->arena, txn_id);
		params_int(&p, req->arena, body->transaction_timeout_ms);
		params_int(&p, req->arena, body->producer_id < 0 ? -1 : body->producer_id);
		params_int(&p, req->arena, body->producer_epoch < 0 ? -1 : body->producer_epoch);
		params_int(&p, req->arena, g_config.transaction_max_timeout_ms);
		st[1] = params_stmt(Q_INIT_PRODUCER_ID_TXN, &p, 0);
		db_submit(req->db, st, 2, ip_done, req);
	} else {
		params_int(&p, req->arena, -1);
		params_int(&p, req->arena, -1);
		st[0] = params_stmt(Q_INIT_PRODUCER_ID, &p, 0);
		db_submit(req->db, st, 1, ip_done, req);
	}
}

/* Both functions answer producer_id, producer_epoch, error_code; the
 * transactional one (after Q_TXN_ONGOING) then the topics and partitions
 * where it wrote abort markers. */
static void ip_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	request *req = arg;
	init_producer_id_resp *resp = req->resp;

	if (err) {
		bool again = db_error_retriable(sqlstate, retriable);
		if (again)
			resp->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
		else if (sqlstate_bad_input(sqlstate))
			resp->error_code = KERR_INVALID_REQUEST; /* validate.h */
		else
			resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		if (resp->error_code == KERR_UNKNOWN_SERVER_ERROR)
			log_error("InitProducerId failed: %s", err);
		else if (resp->error_code == KERR_INVALID_REQUEST)
			log_warn("InitProducerId: refused a value of the request: %s", err);
		request_complete(req);
		return;
	}
	const PGresult *r = res[n - 1];
	bool was_ongoing =
		n == 2 && PQntuples(res[0]) == 1 && strcmp(PQgetvalue(res[0], 0, 0), "t") == 0;
	if (PQntuples(r) != 1) {
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		request_complete(req);
		return;
	}
	resp->error_code = (int16_t)pgtext_i64(r, 0, 2, KERR_UNKNOWN_SERVER_ERROR);
	/* Before v4 a fenced producer is told INVALID_PRODUCER_EPOCH. */
	if (resp->error_code == KERR_PRODUCER_FENCED && req->api_version < 4)
		resp->error_code = KERR_INVALID_PRODUCER_EPOCH;
	/* An error changes nothing, so only a success can have written
	 * markers. */
	if (resp->error_code == KERR_NONE && PQnfields(r) >= 5 && !PQgetisnull(r, 0, 3) &&
	    !PQgetisnull(r, 0, 4))
		txn_wake_markers(PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4));
	if (resp->error_code == KERR_NONE && was_ongoing)
		resp->error_code = KERR_CONCURRENT_TRANSACTIONS;
	if (resp->error_code == KERR_NONE) {
		resp->producer_id = pgtext_i64(r, 0, 0, -1);
		resp->producer_epoch = (int16_t)pgtext_i64(r, 0, 1, -1);
	}
	request_complete(req);
}
