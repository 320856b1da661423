/*
 * The broker's authorizer (see authorizer.h): loads kafka.acls into an
 * acl_rules and answers the handlers' checks from it.
 *
 *   poll timer ──▶ Q_ACL_LOAD(loaded version) ──▶ same version: nothing
 *                                              └─▶ new version: swap the rules
 *
 * One load at a time. authorizer_reload() during a load marks another one
 * to follow, and its callback waits for that one: a load already in flight
 * may have read its snapshot before the caller's write committed.
 */
#include <stdlib.h>
#include <string.h>

#include "authorizer.h"
#include "config.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "queries.h"

typedef struct waiter {
	struct waiter *next;
	authorizer_done_fn done;
	void *arg;
} waiter;

static struct {
	bool on;
	bool loaded;     /* the rules have been loaded once */
	int64_t version; /* kafka.authorizer.acl_version loaded; -1: none */
	acl_rules rules;
	struct event *poll; /* NULL: not started or shut down */
	bool loading;       /* a Q_ACL_LOAD is in flight */
	bool again;         /* load again when it answers */
	waiter *current;    /* called when the load in flight answers */
	waiter *next;       /* called when the load after it answers */
} A = {.version = -1};

static void on_poll(evutil_socket_t fd, short what, void *arg);
static void load_start(void);
static void load_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static void set_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);
static void call_waiters(waiter *w);
static void submit_set_authorizer(void);

bool authorizer_on(void) { return A.on; }
const acl_rules *authorizer_rules(void) { return &A.rules; }

void authorizer_init(struct event_base *base)
{
	A.on = g_config.authorizer_enabled;
	acl_rules_init(&A.rules);
	acl_rules_set_super_users(&A.rules, g_config.super_users);
	A.rules.allow_if_no_acl = g_config.allow_everyone_if_no_acl_found;
	A.version = -1;
	A.loaded = false;
	if (!A.on)
		return;
	log_info("authorizer on: %d super users, allow.everyone.if.no.acl.found %s", A.rules.nsuper,
		 A.rules.allow_if_no_acl ? "true" : "false");
	A.poll = event_new(base, -1, EV_PERSIST, on_poll, NULL);
	if (!A.poll) {
		log_error("cannot create the authorizer's timer");
		abort();
	}
	struct timeval tv = {AUTHORIZER_POLL_MS / 1000, (AUTHORIZER_POLL_MS % 1000) * 1000};
	evtimer_add(A.poll, &tv);
	submit_set_authorizer();
	load_start();
}

/* Jobs still in the pool see A.poll gone and change nothing. */
void authorizer_shutdown(void)
{
	if (A.poll)
		event_free(A.poll);
	A.poll = NULL;
	for (waiter *lists[2] = {A.current, A.next}, **l = lists; l < lists + 2; l++)
		while (*l) {
			waiter *w = *l;
			*l = w->next;
			free(w);
		}
	A.current = A.next = NULL;
	acl_rules_free(&A.rules);
	A.on = false;
	A.loading = A.again = false;
}

/* kafka.set_authorizer(): SQL sessions enforce what this broker does. */
static void submit_set_authorizer(void)
{
	pgarray su;
	params p = {0};

	pgarray_begin(&su, OID_TEXT, 64);
	for (int i = 0; i < A.rules.nsuper; i++)
		pgarray_add(&su, kstr_c(A.rules.super_users[i]));
	pgarray_end(&su);
	p.values[0] = "true";
	p.lengths[0] = 0;
	p.formats[0] = 0;
	p.n = 1;
	params_bin(&p, su.w.buf, (int)su.w.len);
	p.values[2] = A.rules.allow_if_no_acl ? "true" : "false";
	p.lengths[2] = 0;
	p.formats[2] = 0;
	p.n = 3;
	db_stmt st = params_stmt(Q_ACL_SET_AUTHORIZER, &p, 0);
	db_submit(NULL, &st, 1, set_done, NULL);
	pgarray_free(&su);
}

static void set_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	(void)arg;
	(void)res;
	(void)n;
	(void)sqlstate;
	if (!err)
		return;
	log_error("authorizer: kafka.set_authorizer() failed: %s", err);
	/* Connection trouble: try again once the pool is back. */
	if (retriable && A.poll)
		submit_set_authorizer();
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!A.loading && pool_available())
		load_start();
}

void authorizer_reload(authorizer_done_fn done, void *arg)
{
	if (!A.on || !A.poll) {
		if (done)
			done(arg);
		return;
	}
	if (done) {
		waiter *w = malloc(sizeof(*w));
		if (!w)
			abort();
		w->done = done;
		w->arg = arg;
		w->next = A.next;
		A.next = w;
	}
	if (A.loading)
		A.again = true;
	else
		load_start();
}

static void load_start(void)
{
	char version[24];
	const char *values[1] = {version};
	db_stmt st = {Q_ACL_LOAD, 1, values, NULL, NULL, 0};

	snprintf(version, sizeof(version), "%lld", (long long)A.version);
	A.loading = true;
	A.again = false;
	A.current = A.next;
	A.next = NULL;
	db_submit(NULL, &st, 1, load_done, NULL);
}

static void call_waiters(waiter *w)
{
	while (w) {
		waiter *next = w->next;
		w->done(w->arg);
		free(w);
		w = next;
	}
}

static void load_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	(void)arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (!A.poll)
		return;
	A.loading = false;
	if (err) {
		log_warn("authorizer: cannot load the ACLs: %s", err);
	} else if (PQntuples(res[0]) < 1) {
		log_error("authorizer: kafka.authorizer has no row");
	} else {
		int64_t version = pgtext_i64(res[0], 0, 0, -1);
		if (version != A.version) {
			acl_rules next;
			int bad = 0;
			acl_rules_init(&next);
			for (int r = 0; r < PQntuples(res[0]); r++) {
				if (PQgetisnull(res[0], r, 1))
					continue;
				int8_t type = acl_resource_type_code(PQgetvalue(res[0], r, 1));
				int8_t pattern = acl_pattern_type_code(PQgetvalue(res[0], r, 2));
				int8_t op = acl_operation_code(PQgetvalue(res[0], r, 6));
				int8_t perm = acl_permission_code(PQgetvalue(res[0], r, 7));
				if (!type || !pattern || !op || !perm) {
					bad++;
					continue;
				}
				acl_rules_add(&next, type, pattern, PQgetvalue(res[0], r, 3),
					      PQgetvalue(res[0], r, 4), PQgetvalue(res[0], r, 5),
					      op, perm);
			}
			if (bad)
				log_warn("authorizer: %d rows of kafka.acls not understood", bad);
			/* super.users and the default stay the configuration's */
			next.super_users = A.rules.super_users;
			next.nsuper = A.rules.nsuper;
			next.allow_if_no_acl = A.rules.allow_if_no_acl;
			A.rules.super_users = NULL;
			A.rules.nsuper = 0;
			acl_rules_free(&A.rules);
			A.rules = next;
			log_info("authorizer: %d ACLs loaded (acl_version %lld)", A.rules.n,
				 (long long)version);
			A.version = version;
			A.loaded = true;
		}
	}
	waiter *done = A.current;
	A.current = NULL;
	if (A.again)
		load_start();
	call_waiters(done);
}

/* The client's address as Kafka compares it with an ACL's host: without
 * the "/" Kafka prints before it. */
static kstr host_address(kstr h)
{
	if (h.len > 0 && h.ptr[0] == '/')
		return (kstr){h.ptr + 1, h.len - 1};
	return h.len < 0 ? kstr_c("") : h;
}

static kstr client_address(const request *req) { return host_address(req->client_host); }

bool authz_as(kstr principal, kstr client_host, int8_t op, int8_t resource_type, kstr name)
{
	if (!A.on)
		return true;
	if (!A.loaded)
		return acl_is_super_user(&A.rules, principal);
	return acl_allowed(&A.rules, principal, host_address(client_host), op, resource_type, name);
}

bool authz(const request *req, int8_t op, int8_t resource_type, kstr name)
{
	bool ok = authz_as(req->principal, req->client_host, op, resource_type, name);

	/* Kafka's authorizer logs its refusals; at debug here, since a
	 * Metadata request for every topic asks once per topic. */
	if (!ok)
		log_debug("authorizer: %.*s from %.*s may not %s %s %.*s",
			  req->principal.len > 0 ? req->principal.len : 0,
			  req->principal.ptr ? req->principal.ptr : "",
			  req->client_host.len > 0 ? req->client_host.len : 0,
			  req->client_host.ptr ? req->client_host.ptr : "", acl_operation_name(op),
			  acl_resource_type_name(resource_type), name.len > 0 ? name.len : 0,
			  name.ptr ? name.ptr : "");
	return ok;
}

bool authz_cluster(const request *req, int8_t op)
{
	return authz(req, op, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME));
}

bool authz_any(const request *req, int8_t op, int8_t resource_type)
{
	if (!A.on)
		return true;
	if (!A.loaded)
		return acl_is_super_user(&A.rules, req->principal);
	return acl_allowed_by_type(&A.rules, req->principal, client_address(req), op,
				   resource_type);
}

bool authz_super_user(const request *req)
{
	return !A.on || acl_is_super_user(&A.rules, req->principal);
}

int32_t authz_operations(const request *req, int8_t resource_type, kstr name)
{
	if (!A.on)
		return acl_supported_operations(resource_type);
	if (!A.loaded && !acl_is_super_user(&A.rules, req->principal))
		return 0;
	return acl_allowed_operations(&A.rules, req->principal, client_address(req), resource_type,
				      name);
}

void authorizer_set_for_test(bool on, acl_rules *rules)
{
	acl_rules_free(&A.rules);
	A.on = on;
	A.loaded = rules != NULL;
	if (rules)
		A.rules = *rules;
	else
		acl_rules_init(&A.rules);
}
