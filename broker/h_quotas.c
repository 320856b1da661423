/*
 * Client quotas: DescribeClientQuotas and AlterClientQuotas over
 * kafka.client_quotas, the broker's copy of that table (quotas.c: polled
 * every QUOTA_POLL_MS and loaded again at once after this broker alters
 * it), and the byte-rate throttle of Produce and Fetch (KIP-219): the
 * server asks quota_throttle_produce() before it encodes a Produce answer
 * and quota_throttle_fetch() after it encoded a Fetch answer (which, over
 * the quota, it replaces with an empty one, as Kafka does), sends the
 * answer with throttle_time_ms, and reads nothing more from the connection
 * for that long.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "apis.h"
#include "arena_str.h"
#include "clock.h"
#include "config.h"
#include "h_quotas.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "proto.h"
#include "queries.h"
#include "quotas.h"
#include "validate.h"

/* Kafka's quota entity types (ClientQuotaEntity). */
#define QUOTA_USER "user"
#define QUOTA_CLIENT_ID "client-id"
#define QUOTA_IP "ip"

/* DescribeClientQuotas match types. */
enum { MATCH_EXACT = 0, MATCH_DEFAULT = 1, MATCH_SPECIFIED = 2 };

static struct {
	struct event *poll; /* NULL: not started or stopped */
	bool loading;
	bool again; /* load again when the load in flight answers */
} L;

static void on_poll(evutil_socket_t fd, short what, void *arg);
static void load_start(void);
static void load_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static uint8_t types_of(const char *s);
static const char *types_name(uint8_t types);
static char *dup_or_null(const PGresult *r, int row, int col);
static bool quota_type_known(kstr type);
static int16_t describe_quotas_check(request *req, kstr *msg);
static void describe_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static bool quota_key_valid(kstr key, bool ip);
static bool ip_valid(request *req, kstr name);
static int16_t alter_quota_check(request *req, const alter_quotas_req_entry *e, kstr *msg);
static void alter_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void alter_loaded(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void apply_rows(const PGresult *res);
static const char *user_of(const request *req);
static kstr kstr_arena(arena *a, const char *s);
static int32_t throttle(request *req, quota_kind k, double bytes);

/* ---- the broker's copy ---- */

void quotas_start(struct event_base *base)
{
	quotas_configure(g_config.quota_window_num,
			 (int64_t)g_config.quota_window_size_seconds * 1000);
	L.poll = event_new(base, -1, EV_PERSIST, on_poll, NULL);
	if (!L.poll) {
		log_error("cannot create the client quotas' timer");
		abort();
	}
	struct timeval tv = {QUOTA_POLL_MS / 1000, (QUOTA_POLL_MS % 1000) * 1000};
	evtimer_add(L.poll, &tv);
	load_start();
}

/* Jobs still in the pool see L.poll gone and change nothing. */
void quotas_stop(void)
{
	if (L.poll)
		event_free(L.poll);
	L.poll = NULL;
	L.loading = L.again = false;
	quotas_free();
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!L.loading && pool_available())
		load_start();
}

static void load_start(void)
{
	db_stmt st = {Q_QUOTA_LOAD, 0, NULL, NULL, NULL, 0};
	L.loading = true;
	L.again = false;
	db_submit(NULL, &st, 1, load_done, NULL);
}

static uint8_t types_of(const char *s)
{
	if (strcmp(s, "user") == 0)
		return QUOTA_T_USER;
	if (strcmp(s, "client-id") == 0)
		return QUOTA_T_CLIENT_ID;
	if (strcmp(s, "user,client-id") == 0)
		return QUOTA_T_USER | QUOTA_T_CLIENT_ID;
	if (strcmp(s, "ip") == 0)
		return QUOTA_T_IP;
	return 0;
}

static const char *types_name(uint8_t types)
{
	switch (types) {
	case QUOTA_T_USER:
		return "user";
	case QUOTA_T_CLIENT_ID:
		return "client-id";
	case QUOTA_T_USER | QUOTA_T_CLIENT_ID:
		return "user,client-id";
	case QUOTA_T_IP:
		return "ip";
	default:
		return NULL;
	}
}

static char *dup_or_null(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	char *s = strdup(PQgetvalue(r, row, col));
	if (!s)
		abort();
	return s;
}

static void load_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	(void)arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (!L.poll)
		return;
	L.loading = false;
	if (err) {
		log_warn("client quotas: cannot load kafka.client_quotas: %s", err);
	} else {
		apply_rows(res[0]);
	}
	if (L.again)
		load_start();
}

/* Rows of Q_QUOTA_LOAD become the quotas enforced. */
static void apply_rows(const PGresult *res)
{
	int rows = PQntuples(res);
	quota_entry *e = calloc((size_t)rows + 1, sizeof(*e));
	int k = 0;
	if (!e)
		abort();
	for (int r = 0; r < rows; r++) {
		uint8_t types = types_of(PQgetvalue(res, r, 0));
		if (!types || PQgetisnull(res, r, 4))
			continue;
		e[k].types = types;
		e[k].user = dup_or_null(res, r, 1);
		e[k].client_id = dup_or_null(res, r, 2);
		e[k].ip = dup_or_null(res, r, 3);
		e[k].key = dup_or_null(res, r, 4);
		e[k].value = strtod(PQgetvalue(res, r, 5), NULL);
		k++;
	}
	quotas_replace(e, k);
}

void quotas_reload(void)
{
	if (!L.poll)
		return;
	if (L.loading)
		L.again = true;
	else
		load_start();
}

/* A copy in the request's arena: answers are encoded after the query
 * results are freed. */
static kstr kstr_arena(arena *a, const char *s) { return kstr_c(arena_printf(a, "%s", s)); }

/* ---- throttling (KIP-219) ---- */

/* The quota user: the principal's name ("User:alice" -> "alice"). */
static const char *user_of(const request *req)
{
	kstr p = req->principal;
	int i = 0;
	while (i < p.len && p.ptr[i] != ':')
		i++;
	if (p.len <= 0)
		return "ANONYMOUS";
	if (i >= p.len)
		return arena_cstr(req->arena, p);
	return arena_cstr(req->arena, (kstr){p.ptr + i + 1, p.len - i - 1});
}

static int32_t throttle(request *req, quota_kind k, double bytes)
{
	const char *client = req->client_id.len >= 0 ? arena_cstr(req->arena, req->client_id) : "";
	return quota_record(k, user_of(req), client, bytes, clock_mono_ms());
}

int32_t quota_throttle_produce(request *req)
{
	if (req->api_key != API_PRODUCE || !L.poll)
		return 0;
	int32_t ms = throttle(req, QUOTA_PRODUCE, (double)req->frame_len);
	produce_resp *resp = req->resp;
	if (resp && !req->no_response)
		resp->throttle_time_ms = ms;
	return ms;
}

/* A follower's fetch is replication, which client quotas leave alone
 * (KafkaApis). */
static bool fetch_from_follower(const request *req)
{
	const fetch_req *body = req->body;
	int32_t replica =
		req->api_version < 15 ? body->replica_id
		: body->replica_state
			? ((const fetch_req_replica_state *)body->replica_state)->replica_id
			: -1;
	return replica >= 0;
}

size_t quota_fetch_max_bytes(const request *req)
{
	if (req->api_key != API_FETCH || !L.poll || fetch_from_follower(req))
		return SIZE_MAX;
	const char *client = req->client_id.len >= 0 ? arena_cstr(req->arena, req->client_id) : "";
	double bound = quota_bound(QUOTA_FETCH, user_of(req), client, NULL);
	if (bound < 0)
		return SIZE_MAX;
	/* ClientQuotaManager.getMaxValueInQuotaWindow */
	double most = bound * (g_config.quota_window_num - 1) * g_config.quota_window_size_seconds;
	return most >= (double)INT32_MAX ? (size_t)INT32_MAX : (size_t)most;
}

int32_t quota_throttle_fetch(request *req)
{
	if (req->api_key != API_FETCH || !L.poll || !req->out || req->out_len < 12 ||
	    fetch_from_follower(req))
		return 0;
	double bytes = (double)req->out_len;
	int32_t ms = throttle(req, QUOTA_FETCH, bytes);
	if (ms <= 0)
		return ms;
	/* Over the quota: as KafkaApis.handleFetchRequest does, the bytes are
	 * not counted after all and the answer goes out empty (no topics,
	 * FetchContext.getThrottledResponse) with the throttle time; the
	 * client fetches the same offsets again once it has waited. */
	const char *client = req->client_id.len >= 0 ? arena_cstr(req->arena, req->client_id) : "";
	quota_unrecord(QUOTA_FETCH, user_of(req), client, bytes, clock_mono_ms());
	fetch_resp *resp = req->resp;
	resp->throttle_time_ms = ms;
	resp->error_code = KERR_NONE;
	resp->responses = karray_of(NULL, 0);
	resp->node_endpoints = karray_of(NULL, 0);
	free(req->out);
	kwriter w;
	kw_init(&w, 64);
	proto_encode_response(req, &w);
	req->out = kw_steal(&w, &req->out_len);
	return ms;
}

/* ---- DescribeClientQuotas ---- */

static bool quota_type_known(kstr type)
{
	return kstr_eq(type, QUOTA_USER) || kstr_eq(type, QUOTA_CLIENT_ID) ||
	       kstr_eq(type, QUOTA_IP);
}

/*
 * ClientQuotasImage.describe's validation of the filter: known entity
 * types, each at most once, a match string exactly when the match type
 * wants one, and no ip with user or client-id. Returns the error and its
 * message.
 */
static int16_t describe_quotas_check(request *req, kstr *msg)
{
	const describe_quotas_req *body = req->body;
	const describe_quotas_req_component *c = body->components.items;
	bool ip = false, user_or_client = false;

	for (int32_t i = 0; i < body->components.count; i++) {
		kstr type = c[i].entity_type;
		if (type.len <= 0) {
			*msg = kstr_c("Invalid empty entity type.");
			return KERR_INVALID_REQUEST;
		}
		for (int32_t j = 0; j < i; j++) {
			if (kstr_eqk(c[j].entity_type, type)) {
				*msg = kstr_c(arena_printf(req->arena,
							   "Entity type %.*s cannot appear more "
							   "than once in the filter.",
							   type.len, type.ptr));
				return KERR_INVALID_REQUEST;
			}
		}
		if (!quota_type_known(type)) {
			*msg = kstr_c(arena_printf(req->arena, "Unsupported entity type %.*s",
						   type.len, type.ptr));
			return KERR_UNSUPPORTED_VERSION;
		}
		switch (c[i].match_type) {
		case MATCH_EXACT:
			if (c[i].match.len < 0) {
				*msg = kstr_c("Request specified MATCH_TYPE_EXACT, but set match "
					      "string to null.");
				return KERR_INVALID_REQUEST;
			}
			break;
		case MATCH_DEFAULT:
		case MATCH_SPECIFIED:
			if (c[i].match.len >= 0) {
				*msg = kstr_c(arena_printf(req->arena,
							   "Request specified %s, but also "
							   "specified a match string.",
							   c[i].match_type == MATCH_DEFAULT
								   ? "MATCH_TYPE_DEFAULT"
								   : "MATCH_TYPE_SPECIFIED"));
				return KERR_INVALID_REQUEST;
			}
			break;
		default:
			*msg = kstr_c(
				arena_printf(req->arena, "Unknown match type %d", c[i].match_type));
			return KERR_INVALID_REQUEST;
		}
		if (kstr_eq(type, QUOTA_IP))
			ip = true;
		else
			user_or_client = true;
	}
	if (ip && user_or_client) {
		*msg = kstr_c("Invalid entity filter component combination. IP filter component "
			      "should not be used with user or clientId filter component.");
		return KERR_INVALID_REQUEST;
	}
	*msg = KSTR_NULL;
	return KERR_NONE;
}

/*
 * Kafka's ClientQuotasImage.describe over the stored quotas: an entity
 * matches when it has every filtered type, with the name given (EXACT),
 * the default (DEFAULT) or any (SPECIFIED); strict also wants no other
 * type. One entry per matching entity with all its values.
 */
void handle_describe_client_quotas(request *req)
{
	describe_quotas_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->error_code = describe_quotas_check(req, &resp->error_message);
	if (resp->error_code) {
		/* An error answers null entries, as Kafka does. */
		resp->entries = (karray){-1, NULL};
		request_complete(req);
		return;
	}
	db_stmt st = {Q_QUOTA_LOAD, 0, NULL, NULL, NULL, 0};
	db_submit(req->db, &st, 1, describe_done, req);
}

/* Whether row r of the quota table matches the filter. */
static bool describe_matches(const describe_quotas_req *b, const PGresult *res, int r)
{
	uint8_t types = types_of(PQgetvalue(res, r, 0));
	const describe_quotas_req_component *c = b->components.items;
	int ntypes = __builtin_popcount(types);

	if (b->strict && ntypes != b->components.count)
		return false;
	for (int32_t i = 0; i < b->components.count; i++) {
		uint8_t t = kstr_eq(c[i].entity_type, QUOTA_USER)        ? QUOTA_T_USER
			    : kstr_eq(c[i].entity_type, QUOTA_CLIENT_ID) ? QUOTA_T_CLIENT_ID
									 : QUOTA_T_IP;
		int col = t == QUOTA_T_USER ? 1 : t == QUOTA_T_CLIENT_ID ? 2 : 3;
		if (!(types & t))
			return false;
		bool is_default = PQgetisnull(res, r, col);
		if (c[i].match_type == MATCH_DEFAULT && !is_default)
			return false;
		if (c[i].match_type == MATCH_EXACT &&
		    (is_default || !kstr_eq(c[i].match, PQgetvalue(res, r, col))))
			return false;
	}
	return true;
}

static void describe_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	request *req = arg;
	const describe_quotas_req *b = req->body;
	describe_quotas_resp *resp = req->resp;
	(void)n;

	if (err) {
		resp->error_code =
			coordinator_db_error("DescribeClientQuotas", err, sqlstate, retriable);
		resp->error_message = kstr_c("the quotas could not be read");
		resp->entries = (karray){-1, NULL};
		request_complete(req);
		return;
	}
	int rows = PQntuples(res[0]);
	describe_quotas_resp_entry *out =
		ARENA_NEW_ARRAY(req->arena, describe_quotas_resp_entry, rows + 1);
	int ne = 0;
	/* Rows come sorted by entity, so an entity's values are adjacent. */
	for (int r = 0; r < rows; r++) {
		if (!describe_matches(b, res[0], r))
			continue;
		bool same = ne > 0 && r > 0 && describe_matches(b, res[0], r - 1);
		for (int col = 0; same && col < 4; col++)
			same = PQgetisnull(res[0], r, col) == PQgetisnull(res[0], r - 1, col) &&
			       strcmp(PQgetvalue(res[0], r, col), PQgetvalue(res[0], r - 1, col)) ==
				       0;
		if (!same) {
			uint8_t types = types_of(PQgetvalue(res[0], r, 0));
			quota_entity *ent = ARENA_NEW_ARRAY(req->arena, quota_entity, 3);
			int k = 0;
			static const struct {
				uint8_t t;
				const char *name;
				int col;
			} comps[] = {{QUOTA_T_USER, QUOTA_USER, 1},
				     {QUOTA_T_CLIENT_ID, QUOTA_CLIENT_ID, 2},
				     {QUOTA_T_IP, QUOTA_IP, 3}};
			for (int i = 0; i < 3; i++) {
				if (!(types & comps[i].t))
					continue;
				ent[k].entity_type = kstr_c(comps[i].name);
				ent[k].entity_name =
					PQgetisnull(res[0], r, comps[i].col)
						? KSTR_NULL
						: kstr_arena(req->arena,
							     PQgetvalue(res[0], r, comps[i].col));
				k++;
			}
			out[ne].entity = karray_of(ent, k);
			out[ne].values = karray_of(
				ARENA_NEW_ARRAY(req->arena, describe_quotas_resp_value, rows), 0);
			ne++;
		}
		describe_quotas_resp_value *v = out[ne - 1].values.items;
		int32_t i = out[ne - 1].values.count++;
		v[i].key = kstr_arena(req->arena, PQgetvalue(res[0], r, 4));
		v[i].value = strtod(PQgetvalue(res[0], r, 5), NULL);
	}
	resp->entries = karray_of(out, ne);
	request_complete(req);
}

/* ---- AlterClientQuotas ---- */

/* The quota keys Kafka accepts per entity kind (QuotaConfig). */
static bool quota_key_valid(kstr key, bool ip)
{
	static const char *const client_keys[] = {"producer_byte_rate", "consumer_byte_rate",
						  "request_percentage", "controller_mutation_rate"};
	if (ip)
		return kstr_eq(key, "connection_creation_rate");
	for (size_t i = 0; i < sizeof(client_keys) / sizeof(client_keys[0]); i++)
		if (kstr_eq(key, client_keys[i]))
			return true;
	return false;
}

/* An IP entity names an address (or is null, the default). */
static bool ip_valid(request *req, kstr name)
{
	unsigned char buf[16];
	const char *s;

	if (name.len < 0)
		return true;
	s = arena_cstr(req->arena, name);
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ClientQuotaControlManager's validation of one entry. */
static int16_t alter_quota_check(request *req, const alter_quotas_req_entry *e, kstr *msg)
{
	const quota_entity *ent = e->entity.items;
	const alter_quotas_req_op *op = e->ops.items;
	bool ip = false, user_or_client = false;

	if (e->entity.count <= 0) {
		*msg = kstr_c("Invalid empty client quota entity");
		return KERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < e->entity.count; i++) {
		if (!quota_type_known(ent[i].entity_type)) {
			*msg = kstr_c(arena_printf(req->arena,
						   "Unhandled client quota entity type: %.*s",
						   ent[i].entity_type.len, ent[i].entity_type.ptr));
			return KERR_INVALID_REQUEST;
		}
		for (int32_t j = 0; j < i; j++) {
			if (kstr_eqk(ent[j].entity_type, ent[i].entity_type)) {
				*msg = kstr_c("Invalid quota entity: an entity type appears twice");
				return KERR_INVALID_REQUEST;
			}
		}
		if (kstr_eq(ent[i].entity_type, QUOTA_IP)) {
			ip = true;
			if (!ip_valid(req, ent[i].entity_name)) {
				*msg = kstr_c("Invalid IP address");
				return KERR_INVALID_REQUEST;
			}
		} else {
			user_or_client = true;
		}
	}
	if (ip && user_or_client) {
		*msg = kstr_c("Invalid quota entity combination, IP entity should not be "
			      "combined with User or ClientId");
		return KERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < e->ops.count; i++) {
		if (!quota_key_valid(op[i].key, ip)) {
			*msg = kstr_c(arena_printf(req->arena, "Invalid configuration key %.*s",
						   op[i].key.len, op[i].key.ptr));
			return KERR_INVALID_REQUEST;
		}
		/* Byte and connection rates are whole numbers (Long and Int
		 * in Kafka's QuotaConfig); a removal carries no value. */
		bool whole = !kstr_eq(op[i].key, "request_percentage") &&
			     !kstr_eq(op[i].key, "controller_mutation_rate");
		double v = op[i].value;
		/* In range before the cast (NaN fails the range test). */
		bool is_whole = v > -9e18 && v < 9e18 && v == (double)(int64_t)v;
		if (!op[i].remove && whole && !is_whole) {
			*msg = kstr_c(arena_printf(req->arena,
						   "Configuration %.*s must be a whole number",
						   op[i].key.len, op[i].key.ptr));
			return KERR_INVALID_REQUEST;
		}
	}
	*msg = KSTR_NULL;
	return KERR_NONE;
}

/*
 * Each valid entry's operations are stored (kafka.set_client_quota()), all
 * in one PostgreSQL transaction; validate_only stores nothing. The
 * broker's copy is loaded again once they are written.
 */
void handle_alter_client_quotas(request *req)
{
	const alter_quotas_req *body = req->body;
	alter_quotas_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = body->entries.count > 0 ? body->entries.count : 0;
	const alter_quotas_req_entry *e = body->entries.items;
	alter_quotas_resp_entry *out = ARENA_NEW_ARRAY(req->arena, alter_quotas_resp_entry, n + 1);
	int total = 0;

	req->resp = resp;
	resp->entries = karray_of(out, n);
	for (int32_t i = 0; i < n; i++)
		total += e[i].ops.count > 0 ? e[i].ops.count : 0;
	db_stmt *st = ARENA_NEW_ARRAY(req->arena, db_stmt, total + 1);
	int nst = 0;
	for (int32_t i = 0; i < n; i++) {
		out[i].entity = e[i].entity;
		out[i].error_code = alter_quota_check(req, &e[i], &out[i].error_message);
		if (out[i].error_code != KERR_NONE || body->validate_only)
			continue;
		const quota_entity *ent = e[i].entity.items;
		kstr user = KSTR_NULL, client = KSTR_NULL, ip = KSTR_NULL;
		uint8_t types = 0;
		for (int32_t j = 0; j < e[i].entity.count; j++) {
			if (kstr_eq(ent[j].entity_type, QUOTA_USER)) {
				types |= QUOTA_T_USER;
				user = ent[j].entity_name;
			} else if (kstr_eq(ent[j].entity_type, QUOTA_CLIENT_ID)) {
				types |= QUOTA_T_CLIENT_ID;
				client = ent[j].entity_name;
			} else {
				types |= QUOTA_T_IP;
				ip = ent[j].entity_name;
			}
		}
		const alter_quotas_req_op *op = e[i].ops.items;
		for (int32_t j = 0; j < e[i].ops.count; j++) {
			params *p = arena_alloc(req->arena, sizeof(*p));
			params_str(p, req->arena, kstr_c(types_name(types)));
			params_str(p, req->arena, user);
			params_str(p, req->arena, client);
			params_str(p, req->arena, ip);
			params_str(p, req->arena, op[j].key);
			params_str(p, req->arena,
				   op[j].remove ? KSTR_NULL
						: kstr_c(arena_printf(req->arena, "%.17g",
								      op[j].value)));
			st[nst++] = params_stmt(Q_QUOTA_SET, p, 0);
		}
	}
	if (nst == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, st, nst, alter_done, req);
}

static void alter_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	request *req = arg;
	alter_quotas_resp *resp = req->resp;
	alter_quotas_resp_entry *out = resp->entries.items;
	(void)res;
	(void)n;

	if (err) {
		int16_t e = coordinator_db_error("AlterClientQuotas", err, sqlstate, retriable);
		for (int32_t i = 0; i < resp->entries.count; i++) {
			if (out[i].error_code == KERR_NONE) {
				out[i].error_code = e;
				out[i].error_message = kstr_c("the quotas could not be stored");
			}
		}
		request_complete(req);
		return;
	}
	/* Answer once this broker enforces what was stored. */
	db_stmt st = {Q_QUOTA_LOAD, 0, NULL, NULL, NULL, 0};
	db_submit(req->db, &st, 1, alter_loaded, req);
}

static void alter_loaded(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	request *req = arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (err)
		quotas_reload();
	else if (L.poll)
		apply_rows(res[0]);
	request_complete(req);
}
