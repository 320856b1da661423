/*
 * DescribeUserScramCredentials and AlterUserScramCredentials: the SCRAM
 * users Kafka's admin tools manage, over kafka.scram_credential_list() and
 * the kafka.scram_credentials table (docs/SECURITY.md).
 *
 * Describe lists, per user, the mechanisms and iteration counts: those of
 * kafka_users roles (their own SCRAM-SHA-256 verifier) and those of the
 * table. Alter writes the table, computing StoredKey and ServerKey from the
 * SaltedPassword the client sends; a role's SCRAM-SHA-256 password stays
 * the role's (ALTER ROLE). As Kafka does, every alteration of a user is
 * checked first, and a user with any error has none of its alterations
 * applied; the others are applied in one transaction. The existence checks
 * read the credentials in one statement before the writes: an alteration
 * made by another client in between may go unnoticed, as with two Kafka
 * controllers' clients racing.
 *
 * With the authorizer on, as Kafka: Describe needs DESCRIBE on the cluster
 * (else CLUSTER_AUTHORIZATION_FAILED for the request), Alter needs ALTER on
 * the cluster (else that error for every user).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "arena_str.h"
#include "authorizer.h"
#include "handlers.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pool.h"
#include "sasl.h"
#include "validate.h"

#define KERR_UNSUPPORTED_SASL_MECHANISM 33
#define KERR_DUPLICATE_RESOURCE 92
#define KERR_UNACCEPTABLE_CREDENTIAL 93

/* One alteration: a deletion (upsertion NULL) or an upsertion. */
typedef struct alteration {
	kstr user;
	int mech; /* sasl_mech, or -1 */
	int8_t mech_type;
	const alter_scram_req_upsertion *upsertion;
	int result; /* index into resp->results */
} alteration;

typedef struct alter_ctx {
	request *req;
	alteration *alts;
	int nalts;
} alter_ctx;

static void describe_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void alter_checked(void *arg, PGresult **res, int n, const char *err,
			  const char *sqlstate, bool retriable);
static void alter_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void set_result_error(request *req, alter_scram_resp_result *r, int16_t code,
			     const char *msg);
static const char *list_source(const PGresult *r, kstr user, int mech);
static char *hex_of(arena *a, const uint8_t *p, size_t n);

/* ---- DescribeUserScramCredentials ---- */

void handle_describe_user_scram_credentials(request *req)
{
	describe_scram_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	db_stmt st = {.q = Q_SCRAM_LIST};

	req->resp = resp;
	resp->error_message = KSTR_NULL;
	if (!authz_cluster(req, ACL_OP_DESCRIBE)) {
		resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
		resp->error_message = KSTR_LIT("Cluster authorization failed.");
		resp->results = karray_of(NULL, 0);
		request_complete(req);
		return;
	}
	db_submit(req->db, &st, 1, describe_done, req);
}

static void describe_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	request *req = arg;
	const describe_scram_req *body = req->body;
	describe_scram_resp *resp = req->resp;
	const PGresult *r = n > 0 ? res[0] : NULL;
	int rows, nres = 0;
	describe_scram_resp_result *results;

	(void)sqlstate;
	(void)retriable;
	if (err || !r) {
		log_error("DescribeUserScramCredentials failed: %s", err ? err : "no result");
		resp->error_code = KERR_UNKNOWN_SERVER_ERROR;
		resp->error_message = KSTR_LIT("the credentials could not be read");
		request_complete(req);
		return;
	}
	rows = PQntuples(r);
	bool all = body->users.count <= 0;
	int cap = all ? rows : body->users.count;
	results = ARENA_NEW_ARRAY(req->arena, describe_scram_resp_result, cap);
	if (all) {
		/* Rows come ordered by user: one result per user. */
		for (int i = 0; i < rows; i++) {
			const char *u = PQgetvalue(r, i, 0);
			if (nres == 0 || !kstr_eq(results[nres - 1].user, u)) {
				results[nres].user = kstr_c(arena_strndup(req->arena, u, strlen(u)));
				results[nres].error_message = KSTR_NULL;
				results[nres].credential_infos.items =
					ARENA_NEW_ARRAY(req->arena, describe_scram_resp_info, 2);
				nres++;
			}
		}
	} else {
		const describe_scram_req_user *users = body->users.items;
		for (int i = 0; i < body->users.count; i++) {
			results[nres].user = users[i].name.len < 0 ? KSTR_LIT("") : users[i].name;
			results[nres].error_message = KSTR_NULL;
			results[nres].credential_infos.items =
				ARENA_NEW_ARRAY(req->arena, describe_scram_resp_info, 2);
			for (int j = 0; j < i; j++)
				if (kstr_eqk(users[j].name, users[i].name)) {
					results[nres].error_code = KERR_DUPLICATE_RESOURCE;
					results[nres].error_message = kstr_c(arena_printf(
						req->arena,
						"Cannot describe SCRAM credentials for the same user "
						"twice in a single request: %.*s",
						users[i].name.len, users[i].name.ptr));
				}
			nres++;
		}
	}
	for (int k = 0; k < nres; k++) {
		describe_scram_resp_result *res_k = &results[k];
		describe_scram_resp_info *infos = res_k->credential_infos.items;
		if (res_k->error_code)
			continue;
		for (int i = 0; i < rows; i++) {
			int m = sasl_mech_parse(PQgetvalue(r, i, 1), strlen(PQgetvalue(r, i, 1)));
			if (!kstr_eq(res_k->user, PQgetvalue(r, i, 0)) || m < 0 ||
			    res_k->credential_infos.count >= 2)
				continue;
			/* A role's verifier and a table row of SCRAM-SHA-256 for the
			 * same name: the role's is the one used. */
			bool dup = false;
			for (int j = 0; j < res_k->credential_infos.count; j++)
				dup |= infos[j].mechanism == scram_mech_type((sasl_mech)m);
			if (dup)
				continue;
			infos[res_k->credential_infos.count].mechanism =
				(int8_t)scram_mech_type((sasl_mech)m);
			infos[res_k->credential_infos.count].iterations =
				(int32_t)atoi(PQgetvalue(r, i, 2));
			res_k->credential_infos.count++;
		}
		if (res_k->credential_infos.count == 0) {
			res_k->error_code = KERR_RESOURCE_NOT_FOUND;
			res_k->error_message = kstr_c(arena_printf(
				req->arena,
				"Attempt to describe a user credential that does not exist: %.*s",
				res_k->user.len, res_k->user.ptr));
		}
	}
	resp->results = karray_of(results, nres);
	request_complete(req);
}

/* ---- AlterUserScramCredentials ---- */

void handle_alter_user_scram_credentials(request *req)
{
	const alter_scram_req *body = req->body;
	alter_scram_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int nd = body->deletions.count > 0 ? body->deletions.count : 0;
	int nu = body->upsertions.count > 0 ? body->upsertions.count : 0;
	alter_ctx *ctx = arena_alloc(req->arena, sizeof(*ctx));
	alter_scram_resp_result *results;
	int nres = 0;
	db_stmt st = {.q = Q_SCRAM_LIST};

	req->resp = resp;
	ctx->req = req;
	ctx->alts = ARENA_NEW_ARRAY(req->arena, alteration, nd + nu);
	results = ARENA_NEW_ARRAY(req->arena, alter_scram_resp_result, nd + nu);
	for (int i = 0; i < nd + nu; i++) {
		alteration *a = &ctx->alts[ctx->nalts++];
		if (i < nd) {
			const alter_scram_req_deletion *d =
				&((const alter_scram_req_deletion *)body->deletions.items)[i];
			a->user = d->name;
			a->mech_type = d->mechanism;
		} else {
			const alter_scram_req_upsertion *u =
				&((const alter_scram_req_upsertion *)body->upsertions.items)[i - nd];
			a->user = u->name;
			a->mech_type = u->mechanism;
			a->upsertion = u;
		}
		if (a->user.len < 0)
			a->user = KSTR_LIT("");
		a->mech = scram_mech_from_type(a->mech_type);
		a->result = -1;
		for (int k = 0; k < nres; k++)
			if (kstr_eqk(results[k].user, a->user))
				a->result = k;
		if (a->result < 0) {
			a->result = nres++;
			results[a->result].user = a->user;
			results[a->result].error_message = KSTR_NULL;
		}
	}
	resp->results = karray_of(results, nres);
	if (!authz_cluster(req, ACL_OP_ALTER)) {
		for (int k = 0; k < nres; k++)
			set_result_error(req, &results[k], KERR_CLUSTER_AUTHORIZATION_FAILED,
					 "Cluster authorization failed.");
		request_complete(req);
		return;
	}
	/* The checks that need no lookup, in Kafka's order. */
	for (int i = 0; i < ctx->nalts; i++) {
		alteration *a = &ctx->alts[i];
		alter_scram_resp_result *r = &results[a->result];
		if (r->error_code)
			continue;
		if (a->user.len == 0) {
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "Username must not be empty");
		} else if (!pgtext_valid(a->user) || a->user.len > SASL_USER_MAX) {
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "Username is not valid UTF-8 text of at most 512 bytes");
		} else if (a->mech < 0) {
			set_result_error(req, r, KERR_UNSUPPORTED_SASL_MECHANISM,
					 "Unknown SCRAM mechanism");
		}
		for (int j = 0; j < i && !r->error_code; j++)
			if (ctx->alts[j].mech_type == a->mech_type &&
			    kstr_eqk(ctx->alts[j].user, a->user))
				set_result_error(req, r, KERR_DUPLICATE_RESOURCE,
						 "A user credential cannot be altered twice in the "
						 "same request");
		if (r->error_code || !a->upsertion)
			continue;
		if (a->upsertion->iterations < SCRAM_MIN_ITERATIONS)
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "Too few iterations (at least 4096)");
		else if (a->upsertion->iterations > SCRAM_MAX_ITERATIONS)
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "Too many iterations (at most 16384)");
		else if (a->upsertion->salt.len <= 0 || a->upsertion->salt.len > SCRAM_MAX_SALT)
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "The salt must be 1 to 64 bytes");
		else if (a->upsertion->salted_password.len !=
			 (int32_t)scram_hash_len((sasl_mech)a->mech))
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 "The salted password has the wrong length for the "
					 "mechanism");
	}
	db_submit(req->db, &st, 1, alter_checked, ctx);
}

/* The current credentials are known: check existence, then write. */
static void alter_checked(void *arg, PGresult **res, int n, const char *err,
			  const char *sqlstate, bool retriable)
{
	alter_ctx *ctx = arg;
	request *req = ctx->req;
	alter_scram_resp *resp = req->resp;
	alter_scram_resp_result *results = resp->results.items;
	db_stmt *st = ARENA_NEW_ARRAY(req->arena, db_stmt, ctx->nalts);
	int nst = 0;

	(void)sqlstate;
	(void)retriable;
	if (err || n < 1) {
		log_error("AlterUserScramCredentials failed: %s", err ? err : "no result");
		for (int k = 0; k < resp->results.count; k++)
			if (!results[k].error_code)
				set_result_error(req, &results[k], KERR_UNKNOWN_SERVER_ERROR,
						 "the credentials could not be read");
		request_complete(req);
		return;
	}
	for (int i = 0; i < ctx->nalts; i++) {
		alteration *a = &ctx->alts[i];
		alter_scram_resp_result *r = &results[a->result];
		const char *source = r->error_code ? NULL : list_source(res[0], a->user, a->mech);
		if (r->error_code)
			continue;
		if (a->upsertion && source && strcmp(source, "role") == 0)
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 arena_printf(req->arena,
						      "The SCRAM-SHA-256 password of %.*s is that of "
						      "the PostgreSQL role: change it with ALTER ROLE",
						      a->user.len, a->user.ptr));
		else if (!a->upsertion && source && strcmp(source, "role") == 0)
			set_result_error(req, r, KERR_UNACCEPTABLE_CREDENTIAL,
					 arena_printf(req->arena,
						      "The SCRAM-SHA-256 password of %.*s is that of "
						      "the PostgreSQL role: remove it with ALTER ROLE",
						      a->user.len, a->user.ptr));
		else if (!a->upsertion && !source)
			set_result_error(req, r, KERR_RESOURCE_NOT_FOUND,
					 "Attempt to delete a user credential that does not exist");
	}
	for (int i = 0; i < ctx->nalts; i++) {
		alteration *a = &ctx->alts[i];
		params *p = arena_alloc(req->arena, sizeof(*p));
		if (results[a->result].error_code)
			continue;
		params_str(p, req->arena, a->user);
		params_str(p, req->arena, kstr_c(sasl_mech_name((sasl_mech)a->mech)));
		if (a->upsertion) {
			uint8_t stored[SCRAM_MAX_HASH], server[SCRAM_MAX_HASH];
			size_t hl = scram_hash_len((sasl_mech)a->mech);
			scram_keys_from_salted((sasl_mech)a->mech,
					       (const uint8_t *)a->upsertion->salted_password.ptr,
					       (size_t)a->upsertion->salted_password.len, stored,
					       server);
			params_int(p, req->arena, a->upsertion->iterations);
			params_str(p, req->arena,
				   kstr_c(hex_of(req->arena, (const uint8_t *)a->upsertion->salt.ptr,
						 (size_t)a->upsertion->salt.len)));
			params_str(p, req->arena, kstr_c(hex_of(req->arena, stored, hl)));
			params_str(p, req->arena, kstr_c(hex_of(req->arena, server, hl)));
			OPENSSL_cleanse(stored, sizeof(stored));
			OPENSSL_cleanse(server, sizeof(server));
			st[nst++] = params_stmt(Q_SCRAM_UPSERT, p, 0);
		} else {
			st[nst++] = params_stmt(Q_SCRAM_DELETE, p, 0);
		}
	}
	if (nst == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, st, nst, alter_done, ctx);
}

static void alter_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	alter_ctx *ctx = arg;
	request *req = ctx->req;
	alter_scram_resp *resp = req->resp;
	alter_scram_resp_result *results = resp->results.items;

	(void)res;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (err) {
		log_error("AlterUserScramCredentials failed: %s", err);
		for (int k = 0; k < resp->results.count; k++)
			if (!results[k].error_code)
				set_result_error(req, &results[k], KERR_UNKNOWN_SERVER_ERROR,
						 "the credentials could not be written");
	} else {
		for (int k = 0; k < resp->results.count; k++)
			if (!results[k].error_code)
				log_info("SCRAM credentials of user '%.*s' altered by %.*s",
					 results[k].user.len, results[k].user.ptr,
					 req->principal.len > 0 ? req->principal.len : 9,
					 req->principal.len > 0 ? req->principal.ptr : "(unknown)");
	}
	request_complete(req);
}

/* ---- helpers ---- */

static void set_result_error(request *req, alter_scram_resp_result *r, int16_t code,
			     const char *msg)
{
	r->error_code = code;
	r->error_message = kstr_c(arena_strndup(req->arena, msg, strlen(msg)));
}

/* The source ('role', 'table') of user's credential of mech in the list,
 * or NULL. */
static const char *list_source(const PGresult *r, kstr user, int mech)
{
	const char *found = NULL;

	if (mech < 0)
		return NULL;
	for (int i = 0; i < PQntuples(r); i++) {
		if (!kstr_eq(user, PQgetvalue(r, i, 0)) ||
		    strcmp(PQgetvalue(r, i, 1), sasl_mech_name((sasl_mech)mech)) != 0)
			continue;
		if (strcmp(PQgetvalue(r, i, 3), "role") == 0)
			return "role";
		found = "table";
	}
	return found;
}

static char *hex_of(arena *a, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = arena_alloc(a, 2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = 0;
	return s;
}
