/*
 * Changing what is stored: DeleteRecords, AlterConfigs and
 * IncrementalAlterConfigs.
 *
 * DeleteRecords moves a partition's log start offset with
 * kafka.delete_records(), which deletes what lies below it; Fetch and
 * ListOffsets follow the log start offset already.
 *
 * The config APIs change topic configs (kafka.topic_configs) and the level
 * of the root logger, as Kafka's broker does; the checks are those of its
 * ConfigAdminManager (one resource at most once, no config twice, no null
 * value but to delete) and of the controller (the topic exists, every name
 * is a topic config, every value legal). A topic's configs are read, the
 * operations applied in order, the result checked as CreateTopics checks
 * configs, and written in one statement that locks the topic row. The
 * broker's own settings are static (docs/OPERATIONS.md): changing one is
 * refused as Kafka refuses a config that cannot be updated dynamically, and
 * so are group and client-metrics configs, which pg_kafka does not keep.
 */
#include <stdio.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "config.h"
#include "fetch_readahead.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "topic_config.h"
#include "validate.h"

#define RES_TOPIC 2
#define RES_BROKER 4
#define RES_BROKER_LOGGER 8
#define RES_CLIENT_METRICS 16
#define RES_GROUP 32

#define OP_SET 0
#define OP_DELETE 1
#define OP_APPEND 2
#define OP_SUBTRACT 3

/* One config change, the same for both APIs (the legacy one sets). */
typedef struct alter_op {
	kstr name;
	int8_t op;
	kstr value;
} alter_op;

/* One resource of a request and where its answer goes. */
typedef struct alter_res {
	struct alter_ctx *ctx;
	alter_configs_resp_result *out;
	alter_op *ops;
	int32_t nops;
	bool incremental; /* ops apply to the current configs; else they replace them */
} alter_res;

typedef struct alter_ctx {
	request *req;
	int pending;
	bool validate_only;
} alter_ctx;

static void ac_read_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void ac_write_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);

static void ac_finish_one(alter_ctx *c)
{
	if (--c->pending == 0)
		request_complete(c->req);
}

static void ac_fail(alter_res *r, int16_t code, const char *msg)
{
	r->out->error_code = code;
	r->out->error_message = msg ? kstr_c(msg) : KSTR_NULL;
}

static int16_t ac_db_error(alter_res *r, const char *what, const char *err, const char *sqlstate,
			   bool retriable)
{
	request *req = r->ctx->req;
	if (db_error_retriable(sqlstate, retriable)) {
		log_warn("%s: %s", what, err);
		ac_fail(r, KERR_REQUEST_TIMED_OUT, "PostgreSQL unavailable, try again");
		return KERR_REQUEST_TIMED_OUT;
	}
	log_error("%s: %s", what, err);
	ac_fail(r, KERR_UNKNOWN_SERVER_ERROR, arena_printf(req->arena, "%s", err));
	return KERR_UNKNOWN_SERVER_ERROR;
}

/* The resource name of a broker or broker logger: this broker's id, as
 * Java's Integer.parseInt reads it (an optional sign, then digits). NULL if
 * it is, else ConfigAdminManager's message. */
static const char *node_id_problem(request *req, kstr name)
{
	int32_t len = name.len > 0 ? name.len : 0;
	int32_t i = len > 0 && (name.ptr[0] == '+' || name.ptr[0] == '-') ? 1 : 0;
	int64_t v = 0;
	bool ok = i < len && len - i <= 10;

	for (; ok && i < len; i++) {
		ok = name.ptr[i] >= '0' && name.ptr[i] <= '9';
		v = v * 10 + (name.ptr[i] - '0');
	}
	if (ok && name.ptr[0] == '-')
		v = -v;
	if (!ok || v < INT32_MIN || v > INT32_MAX)
		return arena_printf(req->arena, "Node id must be an integer, but it is: %.*s", len,
				    len ? name.ptr : "");
	if (v != g_config.node_id)
		return arena_printf(req->arena,
				    "Unexpected broker id, expected %d, but received %.*s",
				    g_config.node_id, len, name.ptr);
	return NULL;
}

/* ConfigAdminManager.preprocess: no config named twice, no null value but
 * to delete. NULL if fine, else the message (INVALID_REQUEST). */
static const char *ops_problem(request *req, const alter_op *ops, int32_t n)
{
	kwriter w;
	bool any_null = false;

	for (int32_t i = 0; i < n; i++)
		for (int32_t j = 0; j < i; j++)
			if (kstr_eqk(ops[i].name, ops[j].name))
				return "Error due to duplicate config keys";
	kw_init(&w, 64);
	for (int32_t i = 0; i < n; i++) {
		if (ops[i].op == OP_DELETE || ops[i].value.len >= 0)
			continue;
		if (any_null)
			kw_raw(&w, ", ", 2);
		kw_raw(&w, ops[i].name.ptr, ops[i].name.len > 0 ? (size_t)ops[i].name.len : 0);
		any_null = true;
	}
	const char *msg = any_null ? arena_printf(req->arena, "Null value not supported for : %.*s",
						  (int)w.len, (const char *)w.buf)
				   : NULL;
	kw_free(&w);
	return msg;
}

/* The root logger is the only one (DescribeConfigs lists it). */
static void alter_logger(alter_res *r)
{
	request *req = r->ctx->req;
	static const char *const levels[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	int level = -1;

	for (int32_t i = 0; i < r->nops; i++) {
		const alter_op *o = &r->ops[i];
		if (!kstr_eq(o->name, "root")) {
			ac_fail(r, KERR_INVALID_CONFIG,
				arena_printf(req->arena, "Logger %.*s does not exist!", o->name.len,
					     o->name.ptr));
			return;
		}
		if (o->op == OP_DELETE) {
			ac_fail(r, KERR_INVALID_REQUEST,
				"Removing the log level of the root logger is not allowed");
			return;
		}
		if (o->op != OP_SET) {
			ac_fail(r, KERR_INVALID_REQUEST,
				arena_printf(req->arena, "Operation %d is not allowed for the root "
							 "logger", o->op));
			return;
		}
		level = -1;
		for (int l = 0; l < 4; l++)
			if (kstr_eq(o->value, levels[l]))
				level = l;
		if (level < 0) {
			ac_fail(r, KERR_INVALID_CONFIG,
				arena_printf(req->arena,
					     "Cannot set the log level of root to %.*s as it is not a "
					     "supported log level. Valid levels are ERROR, WARN, INFO, "
					     "DEBUG",
					     o->value.len, o->value.ptr));
			return;
		}
	}
	if (level >= 0 && !r->ctx->validate_only) {
		g_config.log_level = level;
		log_setup(level, NULL);
		log_info("log level set to %s by IncrementalAlterConfigs", levels[level]);
	}
}

/* A config name and value as the topic's configs keep them. */
typedef struct cfg_kv {
	kstr name;
	kstr value;
} cfg_kv;

static int kv_find(const cfg_kv *kv, int n, kstr name)
{
	for (int i = 0; i < n; i++)
		if (kstr_eqk(kv[i].name, name))
			return i;
	return -1;
}

/* APPEND (subtract false) or SUBTRACT the elements of v to or from the list
 * cur, as Kafka's ConfigAdminManager does: appended elements not yet there
 * go at the end, in order; subtracted ones are removed. */
static kstr list_edit(arena *a, kstr cur, kstr v, bool subtract)
{
	kwriter w;
	bool first = true;

	kw_init(&w, 64);
	for (int pass = 0; pass < (subtract ? 1 : 2); pass++) {
		config_list_iter it;
		kstr el;
		for (config_list_init(&it, pass == 0 ? cur : v); config_list_next(&it, &el);) {
			bool keep = el.len > 0;
			if (keep && pass == 0 && subtract && config_list_has(v, el))
				keep = false;
			if (keep && pass == 1 && config_list_has(cur, el))
				keep = false;
			if (keep) {
				if (!first)
					kw_raw(&w, ",", 1);
				kw_raw(&w, el.ptr, (size_t)el.len);
				first = false;
			}
		}
	}
	kstr out = kstr_c(arena_strndup(a, (const char *)w.buf, w.len));
	kw_free(&w);
	return out;
}

/* Checks a topic resource before anything is read. False if answered. */
static bool topic_precheck(alter_res *r, kstr name)
{
	request *req = r->ctx->req;

	if (name.len <= 0) {
		ac_fail(r, KERR_INVALID_REQUEST, "Default topic resources are not allowed.");
		return false;
	}
	if (!topic_name_valid(name)) {
		ac_fail(r, KERR_INVALID_TOPIC_EXCEPTION,
			arena_printf(req->arena, "Topic name is invalid: '%.*s'", name.len,
				     name.ptr));
		return false;
	}
	for (int32_t i = 0; i < r->nops; i++) {
		const alter_op *o = &r->ops[i];
		const topic_config_def *d = topic_config_lookup(o->name);
		if (!d) {
			ac_fail(r, KERR_INVALID_CONFIG,
				arena_printf(req->arena, "Unknown topic config name: %.*s",
					     o->name.len, o->name.ptr));
			return false;
		}
		if ((o->op == OP_APPEND || o->op == OP_SUBTRACT) && d->kind != CK_LIST) {
			ac_fail(r, KERR_INVALID_CONFIG,
				arena_printf(req->arena,
					     "Config value %s is not allowed for config key: %.*s",
					     o->op == OP_APPEND ? "append" : "subtract", o->name.len,
					     o->name.ptr));
			return false;
		}
		if (o->op < OP_SET || o->op > OP_SUBTRACT) {
			ac_fail(r, KERR_INVALID_REQUEST,
				arena_printf(req->arena, "Unknown operations type %d", o->op));
			return false;
		}
	}
	return true;
}

/* Start one resource: checks, then a read of a topic's configs. */
/* KafkaApis: ALTER_CONFIGS on the topic, the group, or the cluster
 * (brokers, loggers, client metrics), before anything else is checked. */
static bool alter_authorized(alter_res *r, int8_t type, kstr name)
{
	const request *req = r->ctx->req;

	if (type == RES_TOPIC ? authz_topic(req, ACL_OP_ALTER_CONFIGS, name)
	    : type == RES_GROUP ? authz_group(req, ACL_OP_ALTER_CONFIGS, name)
				: authz_cluster(req, ACL_OP_ALTER_CONFIGS))
		return true;
	ac_fail(r,
		type == RES_TOPIC   ? KERR_TOPIC_AUTHORIZATION_FAILED
		: type == RES_GROUP ? KERR_GROUP_AUTHORIZATION_FAILED
				    : KERR_CLUSTER_AUTHORIZATION_FAILED,
		NULL);
	return false;
}

static void alter_resource(alter_res *r, int8_t type, kstr name)
{
	request *req = r->ctx->req;
	const char *why = ops_problem(req, r->ops, r->nops);

	r->out->resource_type = type;
	r->out->resource_name = name;
	r->out->error_code = KERR_NONE;
	r->out->error_message = KSTR_NULL;
	if (!alter_authorized(r, type, name))
		return;
	if (why) {
		ac_fail(r, KERR_INVALID_REQUEST, why);
		return;
	}
	switch (type) {
	case RES_TOPIC:
		break;
	case RES_BROKER_LOGGER:
		if (!r->incremental) {
			ac_fail(r, KERR_INVALID_REQUEST, "Unknown resource type 8");
			return;
		}
		if ((why = node_id_problem(req, name))) {
			ac_fail(r, KERR_INVALID_REQUEST, why);
			return;
		}
		alter_logger(r);
		return;
	case RES_BROKER: {
		if (name.len > 0 && (why = node_id_problem(req, name))) {
			ac_fail(r, KERR_INVALID_REQUEST, why);
			return;
		}
		if (r->nops == 0)
			return;
		kwriter w;
		kw_init(&w, 64);
		for (int32_t i = 0; i < r->nops; i++) {
			if (i)
				kw_raw(&w, ",", 1);
			kw_raw(&w, r->ops[i].name.ptr, (size_t)r->ops[i].name.len);
		}
		ac_fail(r, KERR_INVALID_REQUEST,
			arena_printf(req->arena, "Cannot update these configs dynamically: Set(%.*s)",
				     (int)w.len, (const char *)w.buf));
		kw_free(&w);
		return;
	}
	case RES_GROUP:
		ac_fail(r, KERR_INVALID_CONFIG,
			"Group configs cannot be changed: pg_kafka serves classic groups with the "
			"broker's settings");
		return;
	case RES_CLIENT_METRICS:
		ac_fail(r, KERR_INVALID_CONFIG, "Client metrics subscriptions are not supported");
		return;
	default:
		ac_fail(r, KERR_INVALID_REQUEST,
			arena_printf(req->arena, "Unknown resource type %d", type));
		return;
	}
	if (!topic_precheck(r, name))
		return;
	params *p = arena_alloc(req->arena, sizeof(*p));
	params_str(p, req->arena, name);
	db_stmt st = params_stmt(Q_TOPIC_CONFIGS, p, 0);
	r->ctx->pending++;
	db_submit(req->db, &st, 1, ac_read_done, r);
}

static void ac_read_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	alter_res *r = arg;
	alter_ctx *c = r->ctx;
	request *req = c->req;
	(void)n;

	if (err) {
		ac_db_error(r, "alter configs", err, sqlstate, retriable);
		ac_finish_one(c);
		return;
	}
	int rows = PQntuples(res[0]);
	if (rows == 0) {
		ac_fail(r, KERR_UNKNOWN_TOPIC_OR_PARTITION,
			"This server does not host this topic-partition.");
		ac_finish_one(c);
		return;
	}
	/* The configs after the change: the current ones for an incremental
	 * change, none for the legacy one, which replaces them all. */
	cfg_kv *kv = ARENA_NEW_ARRAY(req->arena, cfg_kv, rows + r->nops);
	int nkv = 0;
	for (int i = 0; r->incremental && i < rows; i++) {
		if (PQgetisnull(res[0], i, 0))
			continue;
		kv[nkv].name = kstr_c(arena_cstr(req->arena, pgtext_str(res[0], i, 0)));
		kv[nkv].value = PQgetisnull(res[0], i, 1)
					? KSTR_NULL
					: kstr_c(arena_cstr(req->arena, pgtext_str(res[0], i, 1)));
		nkv++;
	}
	for (int32_t i = 0; i < r->nops; i++) {
		const alter_op *o = &r->ops[i];
		int k = kv_find(kv, nkv, o->name);
		if (o->op == OP_DELETE) {
			if (k >= 0)
				kv[k] = kv[--nkv];
			continue;
		}
		kstr v = o->value;
		if (o->op == OP_APPEND || o->op == OP_SUBTRACT) {
			const topic_config_def *d = topic_config_lookup(o->name);
			kstr cur = k >= 0 ? kv[k].value : kstr_c(topic_config_default(req->arena, d));
			v = list_edit(req->arena, cur, o->value, o->op == OP_SUBTRACT);
		}
		if (k < 0)
			k = nkv++;
		kv[k].name = o->name;
		kv[k].value = v;
	}
	for (int i = 0; i < nkv; i++) {
		const topic_config_def *d = topic_config_lookup(kv[i].name);
		const char *why = d ? topic_config_check(d, kv[i].value) : NULL;
		if (why) {
			ac_fail(r, KERR_INVALID_CONFIG,
				arena_printf(req->arena, "Invalid value %.*s for configuration %.*s: %s",
					     kv[i].value.len > 0 ? kv[i].value.len : 0,
					     kv[i].value.ptr ? kv[i].value.ptr : "", kv[i].name.len,
					     kv[i].name.ptr, why));
			ac_finish_one(c);
			return;
		}
	}
	if (c->validate_only) {
		ac_finish_one(c);
		return;
	}
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, nkv + 1);
	kstr *values = ARENA_NEW_ARRAY(req->arena, kstr, nkv + 1);
	for (int i = 0; i < nkv; i++) {
		names[i] = kv[i].name;
		values[i] = kv[i].value;
	}
	pgarray an, av;
	pgarray_begin(&an, OID_TEXT, (size_t)nkv);
	pgarray_begin(&av, OID_TEXT, (size_t)nkv);
	for (int i = 0; i < nkv; i++) {
		pgarray_add(&an, names[i]);
		pgarray_add(&av, values[i]);
	}
	pgarray_end(&an);
	pgarray_end(&av);
	params p = {0};
	params_str(&p, req->arena, r->out->resource_name);
	params_bin(&p, an.w.buf, (int)an.w.len);
	params_bin(&p, av.w.buf, (int)av.w.len);
	db_stmt st = params_stmt(Q_TOPIC_SET_CONFIGS, &p, 0);
	db_submit(req->db, &st, 1, ac_write_done, r);
	pgarray_free(&an);
	pgarray_free(&av);
}

static void ac_write_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	alter_res *r = arg;
	(void)n;

	if (err)
		ac_db_error(r, "alter configs", err, sqlstate, retriable);
	else if (PQntuples(res[0]) == 0)
		ac_fail(r, KERR_UNKNOWN_TOPIC_OR_PARTITION,
			"This server does not host this topic-partition.");
	else
		log_info("configs of topic %.*s changed", r->out->resource_name.len,
			 r->out->resource_name.ptr);
	/* Fetches read-ahead under the old configs are not answered. */
	fetch_readahead_forget();
	ac_finish_one(r->ctx);
}

/*
 * Both APIs: each resource at most once ("Each resource must appear at
 * most once.", for every mention), then each on its own.
 */
static void alter_start(request *req, int32_t n, int8_t (*type_of)(request *, int32_t),
			kstr (*name_of)(request *, int32_t),
			void (*ops_of)(request *, int32_t, alter_res *), bool validate_only,
			bool incremental)
{
	alter_configs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	alter_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int32_t cnt = n > 0 ? n : 0;
	alter_configs_resp_result *out =
		ARENA_NEW_ARRAY(req->arena, alter_configs_resp_result, cnt + 1);

	c->req = req;
	c->pending = 1;
	c->validate_only = validate_only;
	req->resp = resp;
	resp->responses = karray_of(out, cnt);
	for (int32_t i = 0; i < cnt; i++) {
		alter_res *r = arena_alloc(req->arena, sizeof(*r));
		r->ctx = c;
		r->out = &out[i];
		r->incremental = incremental;
		ops_of(req, i, r);
		bool dup = false;
		for (int32_t j = 0; j < cnt && !dup; j++)
			dup = j != i && type_of(req, j) == type_of(req, i) &&
			      kstr_eqk(name_of(req, j), name_of(req, i));
		if (dup) {
			out[i].resource_type = type_of(req, i);
			out[i].resource_name = name_of(req, i);
			ac_fail(r, KERR_INVALID_REQUEST, "Each resource must appear at most once.");
			continue;
		}
		alter_resource(r, type_of(req, i), name_of(req, i));
	}
	ac_finish_one(c);
}

static int8_t legacy_type(request *req, int32_t i)
{
	return ((const alter_configs_req_resource *)((const alter_configs_req *)req->body)
			->resources.items)[i]
		.resource_type;
}

static kstr legacy_name(request *req, int32_t i)
{
	return ((const alter_configs_req_resource *)((const alter_configs_req *)req->body)
			->resources.items)[i]
		.resource_name;
}

static void legacy_ops(request *req, int32_t i, alter_res *r)
{
	const alter_configs_req_resource *in =
		&((const alter_configs_req_resource *)((const alter_configs_req *)req->body)
			  ->resources.items)[i];
	const alter_configs_req_config *cfg = in->configs.items;
	int32_t n = in->configs.count > 0 ? in->configs.count : 0;

	r->ops = ARENA_NEW_ARRAY(req->arena, alter_op, n + 1);
	r->nops = n;
	for (int32_t k = 0; k < n; k++)
		r->ops[k] = (alter_op){cfg[k].name, OP_SET, cfg[k].value};
}

void handle_alter_configs(request *req)
{
	const alter_configs_req *b = req->body;
	alter_start(req, b->resources.count, legacy_type, legacy_name, legacy_ops, b->validate_only,
		    false);
}

static int8_t incr_type(request *req, int32_t i)
{
	return ((const incremental_alter_configs_req_resource *)((
			const incremental_alter_configs_req *)req->body)
			->resources.items)[i]
		.resource_type;
}

static kstr incr_name(request *req, int32_t i)
{
	return ((const incremental_alter_configs_req_resource *)((
			const incremental_alter_configs_req *)req->body)
			->resources.items)[i]
		.resource_name;
}

static void incr_ops(request *req, int32_t i, alter_res *r)
{
	const incremental_alter_configs_req_resource *in =
		&((const incremental_alter_configs_req_resource *)((
			  const incremental_alter_configs_req *)req->body)
			  ->resources.items)[i];
	const incremental_alter_configs_req_config *cfg = in->configs.items;
	int32_t n = in->configs.count > 0 ? in->configs.count : 0;

	r->ops = ARENA_NEW_ARRAY(req->arena, alter_op, n + 1);
	r->nops = n;
	for (int32_t k = 0; k < n; k++)
		r->ops[k] = (alter_op){cfg[k].name, cfg[k].config_operation, cfg[k].value};
}

void handle_incremental_alter_configs(request *req)
{
	const incremental_alter_configs_req *b = req->body;
	alter_start(req, b->resources.count, incr_type, incr_name, incr_ops, b->validate_only,
		    true);
}

/* ---- DeleteRecords ---- */

typedef struct dr_item {
	alter_ctx *ctx;
	delete_records_resp_partition *out;
} dr_item;

static void dr_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	dr_item *it = arg;
	(void)n;

	if (err) {
		if (db_error_retriable(sqlstate, retriable)) {
			log_warn("delete records: %s", err);
			it->out->error_code = KERR_REQUEST_TIMED_OUT;
		} else {
			log_error("delete records: %s", err);
			it->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
		}
	} else if (PQntuples(res[0]) == 1) {
		it->out->error_code = (int16_t)pgtext_i64(res[0], 0, 1, KERR_UNKNOWN_SERVER_ERROR);
		it->out->low_watermark = pgtext_i64(res[0], 0, 0, -1);
	} else {
		it->out->error_code = KERR_UNKNOWN_SERVER_ERROR;
	}
	/* Read-ahead may hold records that are gone now. */
	fetch_readahead_forget();
	ac_finish_one(it->ctx);
}

void handle_delete_records(request *req)
{
	const delete_records_req *b = req->body;
	delete_records_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	alter_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const delete_records_req_topic *in = b->topics.items;
	int32_t nt = b->topics.count > 0 ? b->topics.count : 0;
	delete_records_resp_topic *ot = ARENA_NEW_ARRAY(req->arena, delete_records_resp_topic, nt + 1);

	c->req = req;
	c->pending = 1;
	req->resp = resp;
	resp->topics = karray_of(ot, nt);
	for (int32_t t = 0; t < nt; t++) {
		const delete_records_req_partition *ip = in[t].partitions.items;
		int32_t np = in[t].partitions.count > 0 ? in[t].partitions.count : 0;
		delete_records_resp_partition *op =
			ARENA_NEW_ARRAY(req->arena, delete_records_resp_partition, np + 1);
		ot[t].name = in[t].name;
		ot[t].partitions = karray_of(op, np);
		for (int32_t p = 0; p < np; p++) {
			op[p].partition_index = ip[p].partition_index;
			op[p].low_watermark = -1;
			op[p].error_code = KERR_NONE;
			if (!authz_topic(req, ACL_OP_DELETE, in[t].name)) {
				op[p].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (!topic_name_valid(in[t].name) || ip[p].partition_index < 0) {
				op[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if (topic_is_internal(in[t].name)) {
				op[p].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			dr_item *it = arena_alloc(req->arena, sizeof(*it));
			it->ctx = c;
			it->out = &op[p];
			params *pp = arena_alloc(req->arena, sizeof(*pp));
			params_str(pp, req->arena, in[t].name);
			params_int(pp, req->arena, ip[p].partition_index);
			params_int(pp, req->arena, ip[p].offset);
			db_stmt st = params_stmt(Q_DELETE_RECORDS, pp, 0);
			c->pending++;
			db_submit(req->db, &st, 1, dr_done, it);
		}
	}
	ac_finish_one(c);
}
