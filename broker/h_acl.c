/*
 * DescribeAcls, CreateAcls and DeleteAcls: the rules of kafka.acls as
 * Kafka's admin clients manage them (docs/SECURITY.md).
 *
 * As Kafka (AclApis): changing ACLs needs ALTER on the cluster and
 * describing them DESCRIBE; without an authorizer every answer is
 * SECURITY_DISABLED. DescribeAcls answers from the rules in memory;
 * CreateAcls and DeleteAcls write the table (whose trigger moves
 * acl_version, so every broker reloads) and answer once this broker has
 * reloaded, so the client's next request here sees its change.
 */
#include <string.h>

#include "acl.h"
#include "arena_str.h"
#include "authorizer.h"
#include "handlers.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"

#define MSG_CLUSTER_AUTH "Cluster authorization failed."
#define MSG_NO_AUTHORIZER "No Authorizer is configured."

typedef struct acl_ctx {
	request *req;
	int *stmt_of; /* per creation or filter: its statement, or -1 */
	int nstmts;
} acl_ctx;

static void create_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable);
static void delete_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable);
static void respond_after_reload(void *arg);
static acl_filter describe_filter(const describe_acls_req *b);
static acl_filter delete_filter(const delete_acls_req_filter *f);
static kstr cdup(request *req, const char *s);

static kstr cdup(request *req, const char *s) { return arena_kstrdup(req->arena, kstr_c(s)); }

static acl_filter describe_filter(const describe_acls_req *b)
{
	acl_filter f = {b->resource_type_filter, b->resource_name_filter, b->pattern_type_filter,
			b->principal_filter,     b->host_filter,          b->operation,
			b->permission_type};
	return f;
}

static acl_filter delete_filter(const delete_acls_req_filter *d)
{
	acl_filter f = {d->resource_type_filter, d->resource_name_filter, d->pattern_type_filter,
			d->principal_filter,     d->host_filter,          d->operation,
			d->permission_type};
	return f;
}

/* ---- DescribeAcls ---- */

void handle_describe_acls(request *req)
{
	const describe_acls_req *body = req->body;
	describe_acls_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	acl_filter f = describe_filter(body);
	const char *invalid;

	resp->error_message = KSTR_NULL;
	resp->resources = karray_of(NULL, 0);
	req->resp = resp;
	if (!authz_cluster(req, ACL_OP_DESCRIBE)) {
		resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
		resp->error_message = kstr_c(MSG_CLUSTER_AUTH);
	} else if (!authorizer_on()) {
		resp->error_code = KERR_SECURITY_DISABLED;
		resp->error_message = kstr_c("No Authorizer is configured on the broker");
	} else if ((invalid = acl_filter_invalid(&f)) != NULL) {
		resp->error_code = KERR_INVALID_REQUEST;
		resp->error_message = kstr_c(invalid);
	} else {
		/* DescribeAclsResponse.aclsResources: one entry per resource
		 * pattern, its bindings in the order they were loaded. */
		const acl_rules *rs = authorizer_rules();
		describe_acls_resp_resource *res =
			ARENA_NEW_ARRAY(req->arena, describe_acls_resp_resource, rs->n);
		describe_acls_resp_acl *acls =
			ARENA_NEW_ARRAY(req->arena, describe_acls_resp_acl, rs->n);
		int *group = ARENA_NEW_ARRAY(req->arena, int, rs->n);
		int nres = 0;
		for (int i = 0; i < rs->n; i++) {
			const acl_binding *b = &rs->bindings[i];
			group[i] = -1;
			if (!acl_filter_matches(&f, b))
				continue;
			for (int j = 0; j < i && group[i] < 0; j++)
				if (group[j] >= 0 &&
				    rs->bindings[j].resource_type == b->resource_type &&
				    rs->bindings[j].pattern_type == b->pattern_type &&
				    strcmp(rs->bindings[j].resource_name, b->resource_name) == 0)
					group[i] = group[j];
			if (group[i] < 0) {
				group[i] = nres++;
				res[group[i]].resource_type = b->resource_type;
				res[group[i]].resource_name = cdup(req, b->resource_name);
				res[group[i]].pattern_type = b->pattern_type;
				res[group[i]].acls = karray_of(NULL, 0);
			}
		}
		/* Each resource's bindings, contiguous in acls. */
		int at = 0;
		for (int g = 0; g < nres; g++) {
			res[g].acls = karray_of(&acls[at], 0);
			for (int i = 0; i < rs->n; i++) {
				if (group[i] != g)
					continue;
				const acl_binding *b = &rs->bindings[i];
				acls[at].principal = cdup(req, b->principal);
				acls[at].host = cdup(req, b->host);
				acls[at].operation = b->operation;
				acls[at].permission_type = b->permission;
				at++;
				res[g].acls.count++;
			}
		}
		resp->error_code = KERR_NONE;
		resp->resources = karray_of(res, nres);
	}
	request_complete(req);
}

/* ---- CreateAcls ---- */

void handle_create_acls(request *req)
{
	const create_acls_req *body = req->body;
	const create_acls_req_creation *c = body->creations.items;
	int32_t n = body->creations.count > 0 ? body->creations.count : 0;
	create_acls_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	create_acls_resp_result *results = ARENA_NEW_ARRAY(req->arena, create_acls_resp_result, n);
	acl_ctx *ctx = arena_alloc(req->arena, sizeof(*ctx));
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, n);

	resp->results = karray_of(results, n);
	req->resp = resp;
	ctx->req = req;
	ctx->stmt_of = ARENA_NEW_ARRAY(req->arena, int, n);
	for (int32_t i = 0; i < n; i++) {
		const char *invalid = NULL;
		results[i].error_message = KSTR_NULL;
		ctx->stmt_of[i] = -1;
		if (!authz_cluster(req, ACL_OP_ALTER)) {
			results[i].error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
			results[i].error_message = kstr_c(MSG_CLUSTER_AUTH);
		} else if (!authorizer_on()) {
			results[i].error_code = KERR_SECURITY_DISABLED;
			results[i].error_message = kstr_c(MSG_NO_AUTHORIZER);
		} else if ((invalid = acl_binding_invalid(
				    c[i].resource_type, c[i].resource_pattern_type,
				    c[i].resource_name, c[i].principal, c[i].host, c[i].operation,
				    c[i].permission_type)) != NULL) {
			results[i].error_code = KERR_INVALID_REQUEST;
			results[i].error_message = kstr_c(invalid);
		} else {
			params p = {0};
			params_str(&p, req->arena,
				   kstr_c(acl_resource_type_name(c[i].resource_type)));
			params_str(&p, req->arena,
				   kstr_c(acl_pattern_type_name(c[i].resource_pattern_type)));
			params_str(&p, req->arena, c[i].resource_name);
			params_str(&p, req->arena, c[i].principal);
			params_str(&p, req->arena, c[i].host);
			params_str(&p, req->arena, kstr_c(acl_operation_name(c[i].operation)));
			params_str(&p, req->arena,
				   kstr_c(acl_permission_name(c[i].permission_type)));
			/* params_stmt points into p: keep a copy per statement */
			params *keep = arena_alloc(req->arena, sizeof(*keep));
			*keep = p;
			stmts[ctx->nstmts] = params_stmt(Q_ACL_CREATE, keep, 0);
			ctx->stmt_of[i] = ctx->nstmts++;
			results[i].error_code = KERR_NONE;
		}
	}
	if (ctx->nstmts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, ctx->nstmts, create_done, ctx);
}

static void create_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable)
{
	acl_ctx *ctx = arg;
	request *req = ctx->req;
	create_acls_resp *resp = req->resp;
	create_acls_resp_result *results = resp->results.items;
	(void)res;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	if (err) {
		/* One transaction: none of them was created. */
		log_warn("CreateAcls: %s", err);
		for (int32_t i = 0; i < resp->results.count; i++)
			if (ctx->stmt_of[i] >= 0) {
				results[i].error_code = KERR_UNKNOWN_SERVER_ERROR;
				results[i].error_message = cdup(req, err);
			}
		request_complete(req);
		return;
	}
	authorizer_reload(respond_after_reload, req);
}

static void respond_after_reload(void *arg) { request_complete(arg); }

/* ---- DeleteAcls ---- */

/* NULL for ANY (a code) or a null string, else the value. */
static void param_code(params *p, request *req, int8_t code, int8_t any,
		       const char *(*name)(int8_t))
{
	params_str(p, req->arena, code == any ? KSTR_NULL : kstr_c(name(code)));
}

void handle_delete_acls(request *req)
{
	const delete_acls_req *body = req->body;
	const delete_acls_req_filter *d = body->filters.items;
	int32_t n = body->filters.count > 0 ? body->filters.count : 0;
	delete_acls_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	delete_acls_resp_result *results = ARENA_NEW_ARRAY(req->arena, delete_acls_resp_result, n);
	acl_ctx *ctx = arena_alloc(req->arena, sizeof(*ctx));
	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, n);

	resp->filter_results = karray_of(results, n);
	req->resp = resp;
	ctx->req = req;
	ctx->stmt_of = ARENA_NEW_ARRAY(req->arena, int, n);
	for (int32_t i = 0; i < n; i++) {
		acl_filter f = delete_filter(&d[i]);
		const char *invalid = NULL;
		results[i].error_code = KERR_NONE;
		results[i].error_message = KSTR_NULL;
		results[i].matching_acls = karray_of(NULL, 0);
		ctx->stmt_of[i] = -1;
		if (!authz_cluster(req, ACL_OP_ALTER)) {
			results[i].error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
			results[i].error_message = kstr_c(MSG_CLUSTER_AUTH);
		} else if (!authorizer_on()) {
			results[i].error_code = KERR_SECURITY_DISABLED;
			results[i].error_message = kstr_c(MSG_NO_AUTHORIZER);
		} else if ((invalid = acl_filter_invalid(&f)) != NULL) {
			results[i].error_code = KERR_INVALID_REQUEST;
			results[i].error_message = kstr_c(invalid);
		} else {
			params *p = arena_alloc(req->arena, sizeof(*p));
			param_code(p, req, f.resource_type, ACL_RES_ANY, acl_resource_type_name);
			params_str(p, req->arena, f.resource_name);
			params_str(p, req->arena, kstr_c(acl_pattern_type_name(f.pattern_type)));
			params_str(p, req->arena, f.principal);
			params_str(p, req->arena, f.host);
			param_code(p, req, f.operation, ACL_OP_ANY, acl_operation_name);
			param_code(p, req, f.permission, ACL_PERM_ANY, acl_permission_name);
			stmts[ctx->nstmts] = params_stmt(Q_ACL_DELETE, p, 0);
			ctx->stmt_of[i] = ctx->nstmts++;
		}
	}
	if (ctx->nstmts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, ctx->nstmts, delete_done, ctx);
}

static void delete_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable)
{
	acl_ctx *ctx = arg;
	request *req = ctx->req;
	delete_acls_resp *resp = req->resp;
	delete_acls_resp_result *results = resp->filter_results.items;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	for (int32_t i = 0; i < resp->filter_results.count; i++) {
		int s = ctx->stmt_of[i];
		if (s < 0)
			continue;
		if (err) {
			results[i].error_code = KERR_UNKNOWN_SERVER_ERROR;
			results[i].error_message = cdup(req, err);
			continue;
		}
		int rows = PQntuples(res[s]);
		delete_acls_resp_match *m =
			ARENA_NEW_ARRAY(req->arena, delete_acls_resp_match, rows);
		for (int r = 0; r < rows; r++) {
			m[r].error_code = KERR_NONE;
			m[r].error_message = KSTR_NULL;
			m[r].resource_type = acl_resource_type_code(PQgetvalue(res[s], r, 0));
			m[r].pattern_type = acl_pattern_type_code(PQgetvalue(res[s], r, 1));
			m[r].resource_name = cdup(req, PQgetvalue(res[s], r, 2));
			m[r].principal = cdup(req, PQgetvalue(res[s], r, 3));
			m[r].host = cdup(req, PQgetvalue(res[s], r, 4));
			m[r].operation = acl_operation_code(PQgetvalue(res[s], r, 5));
			m[r].permission_type = acl_permission_code(PQgetvalue(res[s], r, 6));
		}
		results[i].matching_acls = karray_of(m, rows);
	}
	if (err) {
		log_warn("DeleteAcls: %s", err);
		request_complete(req);
		return;
	}
	authorizer_reload(respond_after_reload, req);
}
