/*
 * Topic administration: CreateTopics, DeleteTopics, CreatePartitions and
 * DescribeConfigs (topics and this broker).
 *
 * Each topic of a request is its own job (its own transaction), so one
 * failing topic does not undo the others, as in Kafka. A request finishes
 * when its last job has answered.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "config_doc.h"
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
#include "tp_dup.h"
#include "uuid.h"
#include "validate.h"

/* Config sources and types of DescribeConfigs v1+/v3+. */
#define SOURCE_DYNAMIC_TOPIC 1
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT 5
#define SOURCE_DYNAMIC_BROKER_LOGGER 6
#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define RESOURCE_BROKER_LOGGER 8
#define RESOURCE_CLIENT_METRICS 16
#define RESOURCE_GROUP 32
#define CONFIG_TYPE_INT 3
/* Errors.INVALID_REQUEST's message, which Kafka sends when a request fails
 * as a whole. */
#define INVALID_REQUEST_MESSAGE                                                                    \
	"This most likely occurs because of a request being malformed by the client library or "   \
	"the message was sent to an incompatible broker. See the broker logs for more details."
/* Kafka's controller refuses to create more partitions than this in one
 * request (ReplicationControlManager), so one request cannot make the
 * database insert millions of partition rows. */
#define MAX_PARTITIONS_PER_REQUEST 10000
/* CreatePartitions checks a topic again when a concurrent one changed its
 * count between the check and the add; this many times at most. */
#define CP_MAX_CHECKS 8
#define TOO_MANY_PARTITIONS "Excessively large number of partitions per request."

typedef struct admin_ctx {
	request *req;
	int pending;
} admin_ctx;

/* One topic of an admin request: where its answer goes. */
typedef struct admin_item {
	admin_ctx *ctx;
	int32_t requested;        /* CreatePartitions: requested count */
	int32_t assignments;      /* CreatePartitions: assignments given, -1 for none */
	int32_t current;          /* CreatePartitions: the count it was checked against */
	int checks;               /* CreatePartitions: times checked (a concurrent one moved it) */
	void *out;                /* the API's per-topic result */
} admin_item;

static admin_item *admin_item_new(admin_ctx *c, void *out);
static void admin_submit(admin_item *it, const db_stmt *stmts, int n, db_done_fn cb);
static void admin_item_done(admin_item *it);
static int16_t admin_db_error(request *req, const char *what, const char *err,
			      const char *sqlstate, bool retriable, kstr *msg);
static bool duplicate_name(const kstr *names, int n, int i);
static bool replicas_are_this_broker(karray broker_ids);
static const char *assignments_check(request *req, karray assignments);
static void name_collides(request *req, create_topics_resp_topic *o, const char *existing);
static char *configs_json(request *req, const create_topics_req_topic *t, int16_t *ec, kstr *msg);
static karray effective_configs(request *req, const create_topics_req_topic *t);

static void ct_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void ct_validated(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void dt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void cp_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void cp_validated(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void dc_topic_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void dc_broker(request *req, describe_configs_resp_result *out,
		      const describe_configs_req_resource *in);
static void dc_group(request *req, describe_configs_resp_result *out,
		     const describe_configs_req_resource *in);

static admin_item *admin_item_new(admin_ctx *c, void *out)
{
	admin_item *it = arena_alloc(c->req->arena, sizeof(*it));
	it->ctx = c;
	it->out = out;
	return it;
}

static void admin_submit(admin_item *it, const db_stmt *stmts, int n, db_done_fn cb)
{
	it->ctx->pending++;
	db_submit(it->ctx->req->db, stmts, n, cb, it);
}

static void admin_item_done(admin_item *it)
{
	if (--it->ctx->pending == 0)
		request_complete(it->ctx->req);
}

/* Start the request's jobs; a request with none answers at once. */
static void admin_start(admin_ctx *c)
{
	/* pending was raised by one extra to keep early jobs from completing
	 * the request while later ones are still being submitted. */
	if (--c->pending == 0)
		request_complete(c->req);
}

static int16_t admin_db_error(request *req, const char *what, const char *err,
			      const char *sqlstate, bool retriable, kstr *msg)
{
	if (db_error_retriable(sqlstate, retriable)) {
		log_warn("%s: %s", what, err);
		*msg = kstr_c("PostgreSQL unavailable, try again");
		return KERR_REQUEST_TIMED_OUT;
	}
	*msg = kstr_c(arena_printf(req->arena, "%s", err));
	if (sqlstate && strcmp(sqlstate, "23505") == 0)
		return KERR_TOPIC_ALREADY_EXISTS;
	if (sqlstate && strcmp(sqlstate, "42602") == 0)
		return KERR_INVALID_TOPIC_EXCEPTION;
	if (sqlstate && strcmp(sqlstate, "22023") == 0)
		return KERR_INVALID_PARTITIONS;
	if (sqlstate && strcmp(sqlstate, "42704") == 0)
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	log_error("%s: %s", what, err);
	return KERR_UNKNOWN_SERVER_ERROR;
}

/* A replica list may only name this broker: it serves every partition. */
static bool replicas_are_this_broker(karray broker_ids)
{
	const int32_t *ids = broker_ids.items;
	if (broker_ids.count < 1)
		return false;
	for (int32_t b = 0; b < broker_ids.count; b++)
		if (ids[b] != g_config.node_id)
			return false;
	return true;
}

static bool duplicate_name(const kstr *names, int n, int i)
{
	for (int j = 0; j < n; j++)
		if (j != i && names[j].len >= 0 && kstr_eqk(names[j], names[i]))
			return true;
	return false;
}

static void json_string(kwriter *w, kstr s)
{
	kw_raw(w, "\"", 1);
	for (int32_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		char esc[8];
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			kw_raw(w, esc, 2);
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			kw_raw(w, esc, 6);
		} else {
			kw_raw(w, &ch, 1);
		}
	}
	kw_raw(w, "\"", 1);
}

/* The topic's configs as a JSON object for kafka.create_topic(), after
 * checking every name and value. NULL with *ec set on a bad config. */
static char *configs_json(request *req, const create_topics_req_topic *t, int16_t *ec, kstr *msg)
{
	const create_topics_req_config *cfg = t->configs.items;
	kwriter w;

	kw_init(&w, 64);
	kw_raw(&w, "{", 1);
	for (int32_t i = 0; i < t->configs.count; i++) {
		const topic_config_def *d = topic_config_lookup(cfg[i].name);
		const char *why = d ? topic_config_check(d, cfg[i].value) : "unknown topic config";
		if (why) {
			*ec = KERR_INVALID_CONFIG;
			*msg = kstr_c(arena_printf(req->arena, "%s: %.*s=%.*s", why, cfg[i].name.len,
						   cfg[i].name.ptr,
						   cfg[i].value.len > 0 ? cfg[i].value.len : 0,
						   cfg[i].value.ptr ? cfg[i].value.ptr : ""));
			kw_free(&w);
			return NULL;
		}
		if (i)
			kw_raw(&w, ",", 1);
		json_string(&w, cfg[i].name);
		kw_raw(&w, ":", 1);
		if (cfg[i].value.len < 0)
			kw_raw(&w, "null", 4);
		else
			json_string(&w, cfg[i].value);
	}
	kw_raw(&w, "}", 1);
	char *s = arena_strndup(req->arena, (const char *)w.buf, w.len);
	kw_free(&w);
	return s;
}

/*
 * The configs a topic created with t's configs has, as CreateTopics v5+
 * answers them: every topic config the broker knows, by name, with the value
 * given or the default, and the source DescribeConfigs would report. Topic
 * configs are neither read-only nor sensitive.
 */
static karray effective_configs(request *req, const create_topics_req_topic *t)
{
	const create_topics_req_config *cfg = t->configs.items;
	create_topics_resp_config *out =
		ARENA_NEW_ARRAY(req->arena, create_topics_resp_config, topic_config_count);

	for (int i = 0; i < topic_config_count; i++) {
		const topic_config_def *d = &topic_config_defs[i];
		create_topics_resp_config *o = &out[i];
		int given = -1;
		for (int32_t k = 0; k < t->configs.count; k++)
			if (kstr_eq(cfg[k].name, d->name))
				given = k; /* the last one wins, as in Kafka's map */
		o->name = kstr_c(d->name);
		if (given >= 0) {
			o->value = cfg[given].value;
			o->config_source = SOURCE_DYNAMIC_TOPIC;
		} else {
			o->value = kstr_c(topic_config_default(req->arena, d));
			o->config_source = SOURCE_DEFAULT;
		}
		o->read_only = false;
		o->is_sensitive = false;
	}
	return karray_of(out, topic_config_count);
}

/* ---- CreateTopics ---- */

/*
 * A manual assignment as Kafka's controller checks it, for a cluster of
 * one broker: partitions 0 .. n-1 once each, every replica list this
 * broker alone. NULL if it is good, else Kafka's message.
 */
static const char *assignments_check(request *req, karray assignments)
{
	const create_topics_req_assignment *a = assignments.items;
	bool *seen = ARENA_NEW_ARRAY(req->arena, bool, assignments.count + 1);

	for (int32_t k = 0; k < assignments.count; k++) {
		const int32_t *ids = a[k].broker_ids.items;
		int32_t p = a[k].partition_index;
		if (p >= 0 && p < assignments.count && seen[p])
			return arena_printf(req->arena, "Found multiple manual partition assignments "
					    "for partition %d", p);
		if (p >= 0 && p < assignments.count)
			seen[p] = true;
		if (a[k].broker_ids.count <= 0)
			return "The manual partition assignment includes an empty replica list.";
		for (int32_t b = 0; b < a[k].broker_ids.count; b++) {
			if (ids[b] != g_config.node_id)
				return arena_printf(req->arena, "The manual partition assignment "
						    "includes broker %d, but no such broker is "
						    "registered.", ids[b]);
			if (b > 0)
				return arena_printf(req->arena, "The manual partition assignment "
						    "includes the broker %d more than once.", ids[b]);
		}
	}
	for (int32_t p = 0; p < assignments.count; p++)
		if (!seen[p])
			return "partitions should be a consecutive 0-based integer sequence";
	return NULL;
}

/* Kafka refuses a name that differs from an existing one only in '.' vs
 * '_' (both become '_' in metric names). */
static void name_collides(request *req, create_topics_resp_topic *o, const char *existing)
{
	o->error_code = KERR_INVALID_TOPIC_EXCEPTION;
	o->error_message = kstr_c(arena_printf(req->arena, "Topic '%.*s' collides with existing "
					       "topic: %s", o->name.len, o->name.ptr, existing));
}

void handle_create_topics(request *req)
{
	const create_topics_req *body = req->body;
	create_topics_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	admin_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const create_topics_req_topic *in = body->topics.items;
	int32_t n = body->topics.count;
	create_topics_resp_topic *out = ARENA_NEW_ARRAY(req->arena, create_topics_resp_topic, n + 1);
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, n + 1);
	int32_t *zero = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t *last = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t nout = 0;

	c->req = req;
	c->pending = 1;
	req->resp = resp;
	for (int32_t i = 0; i < n; i++)
		names[i] = in[i].name;
	tp_dup_find(req->arena, names, zero, n, first, last);

	/* ControllerApis answers in two parts: what its controller created or
	 * refused, in request order, then the names given twice and
	 * __cluster_metadata, which it keeps from the controller. Slots are
	 * given out in that order, as items keep pointers to them. */
	int32_t nunique = 0, ndup = 0, nheld = 0;
	for (int32_t i = 0; i < n; i++) {
		if (first[i] != i)
			continue;
		nunique++;
		if (last[i] != i)
			ndup++;
		else if (kstr_eq(in[i].name, "__cluster_metadata"))
			nheld++;
	}
	int32_t next_dup = nunique - ndup - nheld, next_held = nunique - nheld;

	int64_t partitions_in_request = 0;
	for (int32_t i = 0; i < n; i++) {
		const create_topics_req_topic *t = &in[i];
		create_topics_resp_topic *o;
		int32_t partitions = t->num_partitions;
		int16_t rf = t->replication_factor;

		/* A name given twice is answered once (ControllerApis). */
		if (first[i] != i)
			continue;
		if (last[i] != i)
			o = &out[next_dup++];
		else if (kstr_eq(t->name, "__cluster_metadata"))
			o = &out[next_held++];
		else
			o = &out[nout++];
		memset(o, 0, sizeof(*o));
		o->name = t->name;
		o->error_message = KSTR_NULL;
		o->num_partitions = -1;
		o->replication_factor = -1;
		o->configs = karray_of(NULL, 0); /* Kafka's default: an empty list */
		if (last[i] != i) {
			o->error_code = KERR_INVALID_REQUEST;
			o->error_message = kstr_c("Duplicate topic name.");
			continue;
		}
		if (kstr_eq(t->name, "__cluster_metadata")) {
			o->error_code = KERR_INVALID_REQUEST;
			o->error_message =
				kstr_c("Creation of internal topic __cluster_metadata is prohibited.");
			continue;
		}
		/* CREATE on the cluster, or on the topic. */
		if (!authz_cluster(req, ACL_OP_CREATE) &&
		    !authz_topic(req, ACL_OP_CREATE, t->name)) {
			o->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			o->error_message = kstr_c("Authorization failed.");
			continue;
		}
		if (!topic_name_valid(t->name)) {
			o->error_code = KERR_INVALID_TOPIC_EXCEPTION;
			o->error_message = kstr_c("topic names are 1 to 249 characters of "
						  "[a-zA-Z0-9._-], and not '.' or '..'");
			continue;
		}
		/* Kafka checks the configs before the partitions. */
		char *json = configs_json(req, t, &o->error_code, &o->error_message);
		if (!json)
			continue;
		if (t->assignments.count > 0) {
			if (rf != -1 || partitions != -1) {
				o->error_code = KERR_INVALID_REQUEST;
				o->error_message = kstr_c(rf != -1 ? "A manual partition assignment was "
								     "specified, but replication factor "
								     "was not set to -1."
								   : "A manual partition assignment was "
								     "specified, but numPartitions was not "
								     "set to -1.");
				continue;
			}
			const char *why = assignments_check(req, t->assignments);
			if (why) {
				o->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
				o->error_message = kstr_c(why);
				continue;
			}
			partitions = t->assignments.count;
			rf = 1;
		}
		/* -1 asks for the broker default (KIP-464). The Java broker
		 * takes it in every version, and KafkaJS sends it at v3. */
		if (rf < -1 || rf == 0) {
			o->error_code = KERR_INVALID_REPLICATION_FACTOR;
			o->error_message = kstr_c("Replication factor must be larger than 0, or -1 to "
						  "use the default value.");
			continue;
		}
		if (partitions < -1 || partitions == 0) {
			o->error_code = KERR_INVALID_PARTITIONS;
			o->error_message = kstr_c("Number of partitions was set to an invalid "
						  "non-positive value.");
			continue;
		}
		if (partitions == -1)
			partitions = g_config.num_partitions;
		if (rf == -1)
			rf = 1;
		partitions_in_request += partitions;
		if (partitions_in_request > MAX_PARTITIONS_PER_REQUEST) {
			o->error_code = KERR_POLICY_VIOLATION;
			o->error_message = kstr_c(TOO_MANY_PARTITIONS);
			continue;
		}
		/* Every broker of the database serves every partition, and each
		 * one tells clients it is the only broker: one replica. */
		if (rf > 1) {
			o->error_code = KERR_INVALID_REPLICATION_FACTOR;
			o->error_message = kstr_c(arena_printf(
				req->arena, "Unable to replicate the partition %d time(s): The target "
				"replication factor of %d cannot be reached because only 1 broker(s) "
				"are registered.", rf, rf));
			continue;
		}
		o->num_partitions = partitions;
		o->replication_factor = rf;
		o->configs = effective_configs(req, t);

		admin_item *it = admin_item_new(c, o);
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, t->name);
		if (body->validate_only) {
			db_stmt st = params_stmt(Q_TOPIC_NAME_TAKEN, p, 0);
			admin_submit(it, &st, 1, ct_validated);
			continue;
		}
		params_int(p, req->arena, partitions);
		params_str(p, req->arena, kstr_c(json));
		params *p2 = arena_alloc(req->arena, sizeof(*p2));
		params_str(p2, req->arena, t->name);
		params_int(p2, req->arena, rf);
		db_stmt st[2] = {params_stmt(Q_TOPIC_CREATE, p, 0), params_stmt(Q_TOPIC_SET_RF, p2, 0)};
		admin_submit(it, st, 2, ct_done);
	}
	resp->topics = karray_of(out, nunique);
	admin_start(c);
}

static void ct_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	admin_item *it = arg;
	create_topics_resp_topic *o = it->out;
	(void)n;

	if (err) {
		o->error_code = admin_db_error(it->ctx->req, "create topic", err, sqlstate,
					       retriable, &o->error_message);
		o->num_partitions = -1;
		o->replication_factor = -1;
		o->configs = karray_of(NULL, 0);
	} else if (PQntuples(res[0]) == 1 && PQgetisnull(res[0], 0, 0)) {
		name_collides(it->ctx->req, o, PQgetvalue(res[0], 0, 1));
	} else {
		uuid_parse(PQgetvalue(res[0], 0, 0), &o->topic_id);
		log_info("created topic %.*s (%d partitions)", o->name.len, o->name.ptr,
			 o->num_partitions);
	}
	admin_item_done(it);
}

static void ct_validated(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	admin_item *it = arg;
	create_topics_resp_topic *o = it->out;
	(void)n;

	if (err)
		o->error_code = admin_db_error(it->ctx->req, "create topic (validate only)", err,
					       sqlstate, retriable, &o->error_message);
	else if (PQntuples(res[0]) > 0 && kstr_eqk(pgtext_str(res[0], 0, 0), o->name)) {
		o->error_code = KERR_TOPIC_ALREADY_EXISTS;
		o->error_message = kstr_c("topic already exists");
	} else if (PQntuples(res[0]) > 0) {
		name_collides(it->ctx->req, o, PQgetvalue(res[0], 0, 0));
	}
	if (o->error_code) {
		o->num_partitions = -1;
		o->replication_factor = -1;
		o->configs = karray_of(NULL, 0);
	}
	admin_item_done(it);
}

/* ---- DeleteTopics ---- */

/*
 * DeleteTopics as Kafka's controller takes it (ControllerApis.deleteTopics):
 * a topic given by both name and id, or by neither, is INVALID_REQUEST; a
 * name or an id given twice is INVALID_REQUEST, answered once, and that
 * topic is not deleted.
 */
void handle_delete_topics(request *req)
{
	const delete_topics_req *body = req->body;
	delete_topics_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	admin_ctx *c = arena_alloc(req->arena, sizeof(*c));
	bool v6 = req->api_version >= 6;
	int32_t n = v6 ? body->topics.count : body->topic_names.count;
	delete_topics_resp_topic *out = ARENA_NEW_ARRAY(req->arena, delete_topics_resp_topic, n + 1);
	kstr *keys = ARENA_NEW_ARRAY(req->arena, kstr, n + 1);
	int32_t *kinds = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t *first = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t *last = ARENA_NEW_ARRAY(req->arena, int32_t, n + 1);
	int32_t nout = 0;

	c->req = req;
	c->pending = 1;
	req->resp = resp;
	/* Names and ids (as text) in one list, told apart by kind: 0 a name,
	 * 1 an id, 2 both, 3 neither. */
	for (int32_t i = 0; i < n; i++) {
		if (!v6) {
			keys[i] = ((kstr *)body->topic_names.items)[i];
			kinds[i] = 0;
			continue;
		}
		const delete_topics_req_topic *t = &((delete_topics_req_topic *)body->topics.items)[i];
		bool has_id = !uuid_is_zero(&t->topic_id);
		keys[i] = t->name.len >= 0 ? t->name
			  : has_id         ? kstr_c(uuid_format(req->arena, &t->topic_id))
					   : KSTR_NULL;
		kinds[i] = t->name.len >= 0 ? (has_id ? 2 : 0) : (has_id ? 1 : 3);
	}
	tp_dup_find(req->arena, keys, kinds, n, first, last);

	for (int32_t i = 0; i < n; i++) {
		delete_topics_resp_topic *o = &out[nout];
		o->error_message = KSTR_NULL;
		o->error_code = KERR_NONE;
		memset(&o->topic_id, 0, sizeof(o->topic_id));
		if (v6) {
			const delete_topics_req_topic *t = &((delete_topics_req_topic *)body->topics.items)[i];
			o->name = t->name;
			o->topic_id = t->topic_id;
		} else {
			o->name = keys[i];
		}
		if (kinds[i] == 3 || kinds[i] == 2) {
			o->error_code = KERR_INVALID_REQUEST;
			o->error_message =
				kstr_c(kinds[i] == 3 ? "Neither topic name nor id were specified."
						     : "You may not specify both topic name and topic id.");
			nout++;
			continue;
		}
		if (first[i] != last[i]) {
			if (first[i] != i)
				continue; /* answered at its first mention */
			o->error_code = KERR_INVALID_REQUEST;
			o->error_message =
				kstr_c(kinds[i] == 0 ? "Duplicate topic name." : "Duplicate topic id.");
			nout++;
			continue;
		}
		nout++;
		/* DELETE on the topic. A topic named by id would need its
		 * name first: with the authorizer on, only super users (for
		 * whom every check passes) delete by id. */
		if (kinds[i] == 0 ? !authz_topic(req, ACL_OP_DELETE, o->name)
				  : !authz_super_user(req)) {
			o->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			continue;
		}
		if (kinds[i] == 0 && !topic_name_valid(o->name)) {
			o->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, kinds[i] == 0 ? o->name : KSTR_NULL);
		params_str(p, req->arena, kinds[i] == 1 ? keys[i] : KSTR_NULL);
		admin_item *it = admin_item_new(c, o);
		db_stmt st = params_stmt(Q_TOPIC_DELETE, p, 0);
		admin_submit(it, &st, 1, dt_done);
	}
	resp->responses = karray_of(out, nout);
	admin_start(c);
}

static void dt_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	admin_item *it = arg;
	delete_topics_resp_topic *o = it->out;
	request *req = it->ctx->req;
	(void)n;

	if (err) {
		o->error_code = admin_db_error(req, "delete topic", err, sqlstate, retriable,
					       &o->error_message);
	} else if (PQntuples(res[0]) == 0) {
		o->error_code = o->name.len >= 0 ? KERR_UNKNOWN_TOPIC_OR_PARTITION
						 : KERR_UNKNOWN_TOPIC_ID;
	} else {
		o->name = kstr_c(arena_cstr(req->arena, pgtext_str(res[0], 0, 0)));
		uuid_parse(PQgetvalue(res[0], 0, 1), &o->topic_id);
		log_info("deleted topic %.*s", o->name.len, o->name.ptr);
	}
	/* Even on error: the delete may have committed before it failed. */
	fetch_readahead_forget();
	admin_item_done(it);
}

/* ---- CreatePartitions ---- */

void handle_create_partitions(request *req)
{
	const create_partitions_req *body = req->body;
	create_partitions_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	admin_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const create_partitions_req_topic *in = body->topics.items;
	int32_t n = body->topics.count;
	create_partitions_resp_result *out = ARENA_NEW_ARRAY(req->arena, create_partitions_resp_result, n);
	kstr *names = ARENA_NEW_ARRAY(req->arena, kstr, n);

	c->req = req;
	c->pending = 1;
	req->resp = resp;
	resp->results = karray_of(out, n);
	for (int32_t i = 0; i < n; i++)
		names[i] = in[i].name;
	for (int32_t i = 0; i < n; i++) {
		create_partitions_resp_result *o = &out[i];
		o->name = in[i].name;
		o->error_message = KSTR_NULL;
		if (duplicate_name(names, n, i)) {
			o->error_code = KERR_INVALID_REQUEST;
			o->error_message = kstr_c("duplicate topic in request");
			continue;
		}
		if (!authz_topic(req, ACL_OP_ALTER, in[i].name)) {
			o->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			o->error_message = kstr_c("Authorization failed.");
			continue;
		}
		if (!topic_name_valid(in[i].name)) {
			o->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		if (in[i].assignments.count > 0) {
			const create_partitions_req_assignment *a = in[i].assignments.items;
			for (int32_t k = 0; k < in[i].assignments.count; k++)
				if (a[k].broker_ids.count != 1 || !replicas_are_this_broker(a[k].broker_ids))
					o->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
			if (o->error_code) {
				o->error_message = kstr_c("replicas must name this broker only");
				continue;
			}
		}
		admin_item *it = admin_item_new(c, o);
		it->requested = in[i].count;
		it->assignments = in[i].assignments.count;
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, in[i].name);
		/* The partitions added (and the assignments, if any) are
		 * checked against the current count first, as Kafka does;
		 * cp_validated then adds them. */
		db_stmt st = params_stmt(Q_TOPIC_EXISTS, p, 0);
		admin_submit(it, &st, 1, cp_validated);
	}
	admin_start(c);
}

static void cp_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	admin_item *it = arg;
	create_partitions_resp_result *o = it->out;
	(void)n;

	if (err) {
		o->error_code = admin_db_error(it->ctx->req, "create partitions", err, sqlstate,
					       retriable, &o->error_message);
	} else if (PQntuples(res[0]) == 0) {
		/* The topic changed (or went) between the check and the add:
		 * check again against what it is now, as Kafka's controller,
		 * which runs one at a time, would have. */
		if (++it->checks < CP_MAX_CHECKS) {
			params *p = arena_alloc(it->ctx->req->arena, sizeof(*p));
			params_str(p, it->ctx->req->arena, o->name);
			db_stmt st = params_stmt(Q_TOPIC_EXISTS, p, 0);
			db_submit(it->ctx->req->db, &st, 1, cp_validated, it);
			return;
		}
		o->error_code = KERR_REQUEST_TIMED_OUT;
		o->error_message = kstr_c("the topic kept changing while partitions were added");
	} else {
		log_info("topic %.*s now has %d partitions", o->name.len, o->name.ptr, it->requested);
	}
	admin_item_done(it);
}

static void cp_validated(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	admin_item *it = arg;
	create_partitions_resp_result *o = it->out;
	request *req = it->ctx->req;
	(void)n;

	if (err) {
		o->error_code = admin_db_error(req, "create partitions (validate only)", err,
					       sqlstate, retriable, &o->error_message);
	} else if (PQntuples(res[0]) == 0) {
		o->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	} else {
		int64_t current = pgtext_i64(res[0], 0, 0, 0);
		it->current = (int32_t)current;
		if (it->requested <= current) {
			o->error_code = KERR_INVALID_PARTITIONS;
			o->error_message = kstr_c(arena_printf(
				req->arena, "topic has %" PRId64 " partitions, which is not fewer than "
				"the requested %d", current, it->requested));
		} else if (it->requested - current > MAX_PARTITIONS_PER_REQUEST) {
			o->error_code = KERR_POLICY_VIOLATION;
			o->error_message = kstr_c(TOO_MANY_PARTITIONS);
		} else if (it->assignments >= 0 && it->assignments != it->requested - current) {
			o->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
			o->error_message = kstr_c(arena_printf(
				req->arena, "Attempted to add %" PRId64 " additional partition(s), but "
				"only %d assignment(s) were specified.", it->requested - current,
				it->assignments));
		}
	}
	const create_partitions_req *body = req->body;
	if (!err && o->error_code == KERR_NONE && !body->validate_only) {
		/* Checked: now add them (the same job, still pending). */
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, o->name);
		params_int(p, req->arena, it->requested);
		params_int(p, req->arena, it->current);
		db_stmt st = params_stmt(Q_TOPIC_ADD_PARTITIONS, p, 0);
		db_submit(req->db, &st, 1, cp_done, it);
		return;
	}
	admin_item_done(it);
}

/* ---- DescribeConfigs ----
 *
 * As ConfigHelper.describeConfigs answers: a resource type Kafka does not
 * know fails the whole request; each resource is then answered on its own,
 * in request order (the same resource twice is answered twice). Null or
 * empty configuration_keys list every config; unknown keys are left out. */

static bool key_wanted(const describe_configs_req_resource *in, const char *name)
{
	const kstr *keys = in->configuration_keys.items;
	if (in->configuration_keys.count <= 0)
		return true;
	for (int32_t i = 0; i < in->configuration_keys.count; i++)
		if (kstr_eq(keys[i], name))
			return true;
	return false;
}

static bool resource_type_known(int8_t t)
{
	return t == RESOURCE_TOPIC || t == RESOURCE_BROKER || t == RESOURCE_BROKER_LOGGER ||
	       t == RESOURCE_CLIENT_METRICS || t == RESOURCE_GROUP;
}

/* Java's Integer.parseInt, which Kafka applies to a broker resource's name:
 * an optional sign and decimal digits, within int32. */
static bool java_parse_int(kstr s, int32_t *out)
{
	int32_t i = 0;
	bool neg = false;
	int64_t v = 0;
	if (s.len <= 0)
		return false;
	if (s.ptr[0] == '-' || s.ptr[0] == '+') {
		neg = s.ptr[0] == '-';
		i = 1;
		if (s.len == 1)
			return false;
	}
	for (; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		v = v * 10 + (s.ptr[i] - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return false;
	}
	if (neg)
		v = -v;
	if (v > INT32_MAX || v < INT32_MIN)
		return false;
	*out = (int32_t)v;
	return true;
}

/* Topic.validate's message for an illegal name (topic_name_valid() false).
 * Lengths count UTF-16 units, as Java's String.length() does. */
static const char *topic_name_problem(request *req, kstr name)
{
	char *shown = arena_printf(req->arena, "%.*s", (int)name.len, name.ptr);
	int32_t units = 0;
	for (int32_t i = 0; i < name.len; i++) {
		unsigned char ch = (unsigned char)name.ptr[i];
		if ((ch & 0xC0) != 0x80)
			units += ch >= 0xF0 ? 2 : 1;
	}
	if (name.len == 0)
		return "Topic name is invalid: the empty string is not allowed";
	if (kstr_eq(name, "."))
		return "Topic name is invalid: '.' is not allowed";
	if (kstr_eq(name, ".."))
		return "Topic name is invalid: '..' is not allowed";
	if (units > 249)
		return arena_printf(
			req->arena,
			"Topic name is invalid: the length of '%s' is longer than the max "
			"allowed length 249",
			shown);
	return arena_printf(
		req->arena,
		"Topic name is invalid: '%s' contains one or more characters other than "
		"ASCII alphanumerics, '.', '_' and '-'",
		shown);
}

static int8_t config_type_of(config_kind k)
{
	switch (k) {
	case CK_BOOL:
		return 1;
	case CK_INT:
		return 3;
	case CK_LONG:
		return 5;
	case CK_LIST:
		return 7;
	default:
		return 2;
	}
}

static void dc_add(request *req, describe_configs_resp_config *c, int *n, const char *name,
		   const char *value, bool is_default, int8_t source, int8_t type, bool read_only)
{
	describe_configs_resp_config *o = &c[(*n)++];
	o->name = kstr_c(arena_printf(req->arena, "%s", name));
	o->value = value ? kstr_c(arena_printf(req->arena, "%s", value)) : KSTR_NULL;
	o->read_only = read_only;
	o->is_default = is_default;
	o->config_source = source;
	o->is_sensitive = false;
	o->synonyms = karray_of(NULL, 0);
	o->config_type = type;
	const describe_configs_req *body = req->body;
	const char *doc = body->include_documentation ? config_documentation(name) : NULL;
	o->documentation = doc ? kstr_c(doc) : KSTR_NULL;
}

/* Append a synonym to a config answered by dc_add. */
static void dc_synonym(request *req, describe_configs_resp_config *o, const char *name,
		       const char *value, int8_t source)
{
	int32_t n = o->synonyms.count;
	describe_configs_resp_synonym *s =
		ARENA_NEW_ARRAY(req->arena, describe_configs_resp_synonym, n + 1);
	if (n > 0)
		memcpy(s, o->synonyms.items, (size_t)n * sizeof(*s));
	s[n].name = kstr_c(arena_printf(req->arena, "%s", name));
	s[n].value = value ? kstr_c(arena_printf(req->arena, "%s", value)) : KSTR_NULL;
	s[n].source = source;
	o->synonyms = karray_of(s, n + 1);
}

/*
 * The broker config Kafka lists as a topic config's synonym when it is
 * not set on the topic (ServerTopicConfigSynonyms, then the broker's
 * defaults): NULL for retention.ms and segment.ms, whose first broker
 * names (log.retention.ms, log.roll.ms) have no default, so Kafka lists
 * none.
 */
static const char *broker_synonym(const char *topic_config)
{
	static const struct {
		const char *topic, *broker;
	} map[] = {
		{"cleanup.policy", "log.cleanup.policy"},
		{"compression.type", "compression.type"},
		{"delete.retention.ms", "log.cleaner.delete.retention.ms"},
		{"max.message.bytes", "message.max.bytes"},
		{"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms"},
		{"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms"},
		{"message.timestamp.type", "log.message.timestamp.type"},
		{"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"},
		{"min.insync.replicas", "min.insync.replicas"},
		{"retention.bytes", "log.retention.bytes"},
		{"segment.bytes", "log.segment.bytes"},
		{"unclean.leader.election.enable", "unclean.leader.election.enable"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].topic, topic_config) == 0)
			return map[i].broker;
	return NULL;
}

static void dc_fail(describe_configs_resp_result *o, int16_t error, const char *message)
{
	o->error_code = error;
	o->error_message = kstr_c(message);
	o->configs = karray_of(NULL, 0);
}

/* KafkaApis: DESCRIBE_CONFIGS on the topic, the group, or the cluster
 * (brokers, loggers, client metrics). */
static bool dc_authorized(const request *req, describe_configs_resp_result *o,
			  const describe_configs_req_resource *in)
{
	if (in->resource_type == RESOURCE_TOPIC) {
		if (authz_topic(req, ACL_OP_DESCRIBE_CONFIGS, in->resource_name))
			return true;
		dc_fail(o, KERR_TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed.");
	} else if (in->resource_type == RESOURCE_GROUP) {
		if (authz_group(req, ACL_OP_DESCRIBE_CONFIGS, in->resource_name))
			return true;
		dc_fail(o, KERR_GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
	} else {
		if (authz_cluster(req, ACL_OP_DESCRIBE_CONFIGS))
			return true;
		dc_fail(o, KERR_CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
	}
	return false;
}

void handle_describe_configs(request *req)
{
	const describe_configs_req *body = req->body;
	describe_configs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	admin_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const describe_configs_req_resource *in = body->resources.items;
	int32_t n = body->resources.count;
	describe_configs_resp_result *out = ARENA_NEW_ARRAY(req->arena, describe_configs_resp_result, n);
	bool types_known = true;

	c->req = req;
	c->pending = 1;
	req->resp = resp;
	resp->results = karray_of(out, n);
	for (int32_t i = 0; i < n; i++)
		types_known = types_known && resource_type_known(in[i].resource_type);
	for (int32_t i = 0; i < n; i++) {
		describe_configs_resp_result *o = &out[i];
		o->resource_type = in[i].resource_type;
		o->resource_name = in[i].resource_name;
		o->error_message = KSTR_NULL;
		o->configs = karray_of(NULL, 0);
		/* Kafka throws while sorting resources for authorization: the
		 * request's error answer, every resource INVALID_REQUEST. */
		if (!types_known) {
			dc_fail(o, KERR_INVALID_REQUEST, INVALID_REQUEST_MESSAGE);
			continue;
		}
		if (!dc_authorized(req, o, &in[i]))
			continue;
		if (in[i].resource_type == RESOURCE_BROKER ||
		    in[i].resource_type == RESOURCE_BROKER_LOGGER) {
			dc_broker(req, o, &in[i]);
			continue;
		}
		if (in[i].resource_type == RESOURCE_CLIENT_METRICS) {
			/* No subscriptions exist: an empty list, as Kafka answers
			 * for a name it has no configs for. */
			if (in[i].resource_name.len <= 0)
				dc_fail(o, KERR_INVALID_REQUEST,
					"Client metrics subscription name must not be empty");
			continue;
		}
		if (in[i].resource_type == RESOURCE_GROUP) {
			dc_group(req, o, &in[i]);
			continue;
		}
		if (!topic_name_valid(in[i].resource_name)) {
			dc_fail(o, KERR_INVALID_TOPIC_EXCEPTION,
				topic_name_problem(req, in[i].resource_name));
			continue;
		}
		admin_item *it = admin_item_new(c, o);
		it->requested = i;
		params *p = arena_alloc(req->arena, sizeof(*p));
		params_str(p, req->arena, in[i].resource_name);
		db_stmt st = params_stmt(Q_TOPIC_CONFIGS, p, 0);
		admin_submit(it, &st, 1, dc_topic_done);
	}
	admin_start(c);
}

static void dc_topic_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	admin_item *it = arg;
	request *req = it->ctx->req;
	const describe_configs_req *body = req->body;
	const describe_configs_req_resource *in =
		&((const describe_configs_req_resource *)body->resources.items)[it->requested];
	describe_configs_resp_result *o = it->out;
	(void)n;

	if (err) {
		o->error_code = admin_db_error(req, "describe configs", err, sqlstate, retriable,
					       &o->error_message);
		admin_item_done(it);
		return;
	}
	const PGresult *r = res[0];
	int rows = PQntuples(r);
	if (rows == 0) {
		o->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		admin_item_done(it);
		return;
	}
	describe_configs_resp_config *cfg =
		ARENA_NEW_ARRAY(req->arena, describe_configs_resp_config, topic_config_count + rows);
	int nc = 0;
	for (int i = 0; i < topic_config_count; i++) {
		const topic_config_def *d = &topic_config_defs[i];
		if (!key_wanted(in, d->name))
			continue;
		int found = -1;
		for (int k = 0; k < rows && found < 0; k++)
			if (!PQgetisnull(r, k, 0) && strcmp(PQgetvalue(r, k, 0), d->name) == 0)
				found = k;
		const char *value =
			found >= 0 ? (PQgetisnull(r, found, 1) ? NULL : PQgetvalue(r, found, 1))
				   : topic_config_default(req->arena, d);
		dc_add(req, cfg, &nc, d->name, value, found < 0,
		       found >= 0 ? SOURCE_DYNAMIC_TOPIC : SOURCE_DEFAULT, config_type_of(d->kind),
		       false);
		/* The topic's own setting first, then the broker default it
		 * would otherwise take. */
		if (!body->include_synonyms)
			continue;
		if (found >= 0)
			dc_synonym(req, &cfg[nc - 1], d->name, value, SOURCE_DYNAMIC_TOPIC);
		if (broker_synonym(d->name))
			dc_synonym(req, &cfg[nc - 1], broker_synonym(d->name),
				   topic_config_default(req->arena, d), SOURCE_DEFAULT);
	}
	/* Settings stored by hand that the broker does not know about. */
	for (int k = 0; k < rows; k++) {
		if (PQgetisnull(r, k, 0) || topic_config_lookup(pgtext_str(r, k, 0)) ||
		    !key_wanted(in, PQgetvalue(r, k, 0)))
			continue;
		const char *value = PQgetisnull(r, k, 1) ? NULL : PQgetvalue(r, k, 1);
		dc_add(req, cfg, &nc, PQgetvalue(r, k, 0), value, false, SOURCE_DYNAMIC_TOPIC, 0,
		       false);
		if (body->include_synonyms)
			dc_synonym(req, &cfg[nc - 1], PQgetvalue(r, k, 0), value,
				   SOURCE_DYNAMIC_TOPIC);
	}
	o->configs = karray_of(cfg, nc);
	admin_item_done(it);
}

/*
 * A broker or broker-logger resource. An empty broker name asks for the
 * cluster-wide dynamic defaults, which pg_kafka has none of; any other
 * name must be this broker's id as Java parses an int.
 */
static void dc_broker(request *req, describe_configs_resp_result *o,
		      const describe_configs_req_resource *in)
{
	const describe_configs_req *body = req->body;
	char *id = arena_printf(req->arena, "%" PRId32, g_config.node_id);
	bool logger = in->resource_type == RESOURCE_BROKER_LOGGER;
	int32_t asked;
	if (in->resource_name.len <= 0) {
		if (logger)
			dc_fail(o, KERR_INVALID_REQUEST, "Broker id must not be empty");
		return;
	}
	if (!java_parse_int(in->resource_name, &asked)) {
		dc_fail(o, KERR_INVALID_REQUEST,
			arena_printf(req->arena, "Broker id must be an integer, but it is: %.*s",
				     (int)in->resource_name.len, in->resource_name.ptr));
		return;
	}
	if (asked != g_config.node_id) {
		dc_fail(o, KERR_INVALID_REQUEST,
			arena_printf(req->arena,
				     "Unexpected broker id, expected %s%s but received %.*s", id,
				     logger ? "" : " or empty string,", (int)in->resource_name.len,
				     in->resource_name.ptr));
		return;
	}
	if (logger) {
		/* One logger, the root one, at log4j's name of the level. */
		static const char *const levels[] = {"ERROR", "WARN", "INFO", "DEBUG"};
		int lv = g_config.log_level < 0   ? 0
			 : g_config.log_level > 3 ? 3
						  : g_config.log_level;
		describe_configs_resp_config *cfg =
			ARENA_NEW_ARRAY(req->arena, describe_configs_resp_config, 1);
		int nc = 0;
		if (key_wanted(in, "root"))
			dc_add(req, cfg, &nc, "root", levels[lv], false,
			       SOURCE_DYNAMIC_BROKER_LOGGER, 0, false);
		o->configs = karray_of(cfg, nc);
		return;
	}
	/* Set by config_load; a test that builds requests without it gets the
	 * one PLAINTEXT listener of listen/advertised. */
	char *listener, *advertised;
	if (g_config.nlisteners > 0) {
		size_t cap = (size_t)g_config.nlisteners * 300;
		listener = arena_alloc(req->arena, cap);
		advertised = arena_alloc(req->arena, cap);
		listeners_format(g_config.listeners, g_config.nlisteners, false, listener, cap);
		listeners_format(g_config.listeners, g_config.nlisteners, true, advertised, cap);
	} else {
		listener = arena_printf(req->arena, "PLAINTEXT://%s:%d", g_config.listen_host,
					g_config.listen_port);
		advertised = arena_printf(req->arena, "PLAINTEXT://%s:%d",
					  g_config.advertised_host, g_config.advertised_port);
	}
	struct {
		const char *name;
		const char *value;
		int8_t type;
	} items[] = {
		{"broker.id", id, 3},
		{"node.id", id, 3},
		{"listeners", listener, 7},
		{"advertised.listeners", advertised, 7},
		{"num.partitions", arena_printf(req->arena, "%d", g_config.num_partitions), 3},
		{"auto.create.topics.enable", g_config.auto_create_topics ? "true" : "false", 1},
		{"message.max.bytes", arena_printf(req->arena, "%d", g_config.message_max_bytes), 3},
		{"socket.request.max.bytes", arena_printf(req->arena, "%d", g_config.max_request_bytes),
		 3},
		{"fetch.max.bytes", arena_printf(req->arena, "%d", g_config.fetch_max_bytes_cap), 3},
		{"default.replication.factor", "1", 3},
		{"log.message.timestamp.type", "CreateTime", 2},
		{"compression.type", "producer", 2},
	};
	int count = (int)(sizeof(items) / sizeof(items[0]));
	describe_configs_resp_config *cfg = ARENA_NEW_ARRAY(req->arena, describe_configs_resp_config, count);
	int nc = 0;
	for (int i = 0; i < count; i++) {
		if (!key_wanted(in, items[i].name))
			continue;
		dc_add(req, cfg, &nc, items[i].name, items[i].value, false, SOURCE_STATIC_BROKER,
		       items[i].type, true);
		if (body->include_synonyms)
			dc_synonym(req, &cfg[nc - 1], items[i].name, items[i].value,
				   SOURCE_STATIC_BROKER);
	}
	o->configs = karray_of(cfg, nc);
}

/*
 * A group resource: GroupConfig's configs at the broker's defaults (no
 * group has its own), listed for any group name as Kafka does. pg_kafka
 * serves classic groups only; these govern the consumer and share
 * protocols.
 */
static void dc_group(request *req, describe_configs_resp_result *o,
		     const describe_configs_req_resource *in)
{
	static const struct {
		const char *name, *value;
	} items[] = {
		{"consumer.heartbeat.interval.ms", "5000"},
		{"consumer.session.timeout.ms", "45000"},
		{"share.heartbeat.interval.ms", "5000"},
		{"share.record.lock.duration.ms", "30000"},
		{"share.session.timeout.ms", "45000"},
	};
	const describe_configs_req *body = req->body;
	int count = (int)(sizeof(items) / sizeof(items[0]));
	if (in->resource_name.len <= 0) {
		dc_fail(o, KERR_INVALID_REQUEST, "Group name must not be empty");
		return;
	}
	describe_configs_resp_config *cfg =
		ARENA_NEW_ARRAY(req->arena, describe_configs_resp_config, count);
	int nc = 0;
	for (int i = 0; i < count; i++) {
		if (!key_wanted(in, items[i].name))
			continue;
		dc_add(req, cfg, &nc, items[i].name, items[i].value, true, SOURCE_DEFAULT,
		       CONFIG_TYPE_INT, false);
		if (body->include_synonyms)
			dc_synonym(req, &cfg[nc - 1], items[i].name, items[i].value,
				   SOURCE_DEFAULT);
	}
	o->configs = karray_of(cfg, nc);
}
