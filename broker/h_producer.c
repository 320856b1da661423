/*
 * InitProducerId: producer ids for idempotent producers (docs/IDEMPOTENCE.md).
 *
 * Without a transactional id the producer gets a new id at epoch 0 from
 * kafka.init_producer_id(); from v3 a producer that already has an id and
 * epoch (KIP-360) gets the next epoch of that id instead. Transactions are
 * not implemented: a transactional id is answered COORDINATOR_NOT_AVAILABLE,
 * what a Java broker answers while no transaction coordinator can serve it.
 */
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "pgbin.h"
#include "pool.h"

static void ip_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

void handle_init_producer_id(request *req)
{
	const init_producer_id_req *body = req->body;
	init_producer_id_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->producer_id = -1;
	resp->producer_epoch = -1;
	if (body->transactional_id.len >= 0) {
		resp->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
		request_complete(req);
		return;
	}
	if ((body->producer_id < 0) != (body->producer_epoch < 0)) {
		resp->error_code = KERR_INVALID_REQUEST;
		request_complete(req);
		return;
	}
	params *p = arena_alloc(req->arena, sizeof(*p));
	params_int(p, req->arena, body->producer_id < 0 ? -1 : body->producer_id);
	params_int(p, req->arena, body->producer_epoch < 0 ? -1 : body->producer_epoch);
	db_stmt *st = arena_alloc(req->arena, sizeof(*st));
	*st = params_stmt(Q_INIT_PRODUCER_ID, p, 0);
	db_submit(req->db, st, 1, ip_done, req);
}

static void ip_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	request *req = arg;
	init_producer_id_resp *resp = req->resp;
	(void)n;

	if (err) {
		bool again = db_error_retriable(sqlstate, retriable);
		if (!again)
			log_error("InitProducerId failed: %s", err);
		resp->error_code =
			again ? KERR_COORDINATOR_NOT_AVAILABLE : KERR_UNKNOWN_SERVER_ERROR;
		request_complete(req);
		return;
	}
	const PGresult *r = res[0];
	if (PQntuples(r) != 1) {
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		request_complete(req);
		return;
	}
	resp->error_code = (int16_t)pgtext_i64(r, 0, 2, KERR_UNKNOWN_SERVER_ERROR);
	/* Before v4 a fenced producer is told INVALID_PRODUCER_EPOCH. */
	if (resp->error_code == KERR_PRODUCER_FENCED && req->api_version < 4)
		resp->error_code = KERR_INVALID_PRODUCER_EPOCH;
	if (resp->error_code == KERR_NONE) {
		resp->producer_id = pgtext_i64(r, 0, 0, -1);
		resp->producer_epoch = (int16_t)pgtext_i64(r, 0, 1, -1);
	}
	request_complete(req);
}
