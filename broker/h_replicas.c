/*
 * Replicas, leaders and log directories: ElectLeaders,
 * AlterPartitionReassignments, ListPartitionReassignments,
 * AlterReplicaLogDirs, DescribeLogDirs, OffsetForLeaderEpoch and
 * DescribeProducers.
 *
 * What they describe is what pg_kafka has: one broker leads each
 * partition with replication factor 1 (cluster.h), at the leader epoch
 * kafka.partition_epochs records (0 for a broker alone), so its
 * preferred leader is always in place and no reassignment is ever in
 * progress; the one log directory is the PostgreSQL database, named as
 * current_database() names it. Answers follow what Kafka's controller and
 * replica manager give for such a partition.
 *
 * With the authorizer on, each API needs what KafkaApis (or, for the ones
 * a broker forwards, ControllerApis) needs: ALTER on the cluster to elect,
 * reassign or move a replica; DESCRIBE on the cluster to list
 * reassignments or describe log directories; DESCRIBE on a topic (or
 * CLUSTER_ACTION, a replica's right) for its leader epochs; READ on a
 * topic for its producers. A refusal is answered as the request's
 * getErrorResponse answers it.
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
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
#include "validate.h"

/* ClusterAuthorizationException's message, as Kafka's ApiError carries it. */
#define CLUSTER_REFUSED "Request is not authorized."

/* Kafka's election types. */
enum { ELECTION_PREFERRED = 0, ELECTION_UNCLEAN = 1 };

/* The partitions of a request, flattened in request order. */
typedef struct tp_list {
	int n;
	kstr *topics;
	int32_t *parts;
} tp_list;

typedef struct rp_ctx {
	request *req;
	tp_list tps;
	int16_t *topic_error; /* per request topic; only topics without one are queried */
} rp_ctx;

static void tps_init(arena *a, tp_list *l, int cap);
static void tps_add(tp_list *l, kstr topic, int32_t partition);
static void tps_submit(rp_ctx *c, db_done_fn cb, int extra_q);
static int32_t count_parts(const karray *topics, size_t size, size_t parts_off);
static int kstr_cmp(kstr a, kstr b);
static bool part_exists(const PGresult *rows, int i);
static int16_t db_error(const char *what, const char *err, const char *sqlstate, bool retriable,
			int16_t retry_error);
static void elect_answer(request *req, int16_t fail, kstr fail_message, const PGresult *rows);
static void reassign_answer(request *req, int16_t fail, kstr fail_message, const PGresult *rows);
static void list_reassignments_refuse(request *req);
static void alter_dirs_refuse(request *req);
static bool epochs_may_describe(const request *req, bool replica, kstr topic);
static int16_t producers_topic_error(const request *req, kstr topic);
static void elect_all(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable);
static void elect_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void reassign_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void alter_dirs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			    bool retriable);
static void log_dirs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable);
static void epochs_submit(rp_ctx *c, const pgarray *epochs);
static void epochs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable);
static void producers_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			   bool retriable);

/* ---- shared ---- */

static void tps_init(arena *a, tp_list *l, int cap)
{
	l->n = 0;
	l->topics = ARENA_NEW_ARRAY(a, kstr, cap + 1);
	l->parts = ARENA_NEW_ARRAY(a, int32_t, cap + 1);
}

static void tps_add(tp_list *l, kstr topic, int32_t partition)
{
	l->topics[l->n] = topic;
	l->parts[l->n] = partition;
	l->n++;
}

/* Partition count of an array of topic structs whose partition list (an
 * array of int32 or of structs) sits at parts_off. */
static int32_t count_parts(const karray *topics, size_t size, size_t parts_off)
{
	int32_t n = 0;
	for (int32_t i = 0; i < topics->count; i++) {
		const karray *p = (const karray *)((const char *)topics->items + size * (size_t)i +
						   parts_off);
		if (p->count > 0)
			n += p->count;
	}
	return n;
}

/* Q_PARTITION_ENDS for the listed partitions; extra_q >= 0 adds a second
 * statement over the same arrays. */
static void tps_submit(rp_ctx *c, db_done_fn cb, int extra_q)
{
	request *req = c->req;
	pgarray topics, parts;

	pgarray_begin(&topics, OID_TEXT, 256);
	pgarray_begin(&parts, OID_INT4, 64);
	for (int i = 0; i < c->tps.n; i++) {
		pgarray_add(&topics, c->tps.topics[i]);
		pgarray_add_i32(&parts, c->tps.parts[i]);
	}
	pgarray_end(&topics);
	pgarray_end(&parts);
	params p = {0};
	params_bin(&p, topics.w.buf, (int)topics.w.len);
	params_bin(&p, parts.w.buf, (int)parts.w.len);
	db_stmt st[2];
	st[0] = params_stmt(Q_PARTITION_ENDS, &p, 0);
	if (extra_q >= 0)
		st[1] = params_stmt((query_id)extra_q, &p, 0);
	db_submit(req->db, st, extra_q >= 0 ? 2 : 1, cb, c);
	pgarray_free(&topics);
	pgarray_free(&parts);
}

static int16_t db_error(const char *what, const char *err, const char *sqlstate, bool retriable,
			int16_t retry_error)
{
	log_warn("%s: %s", what, err);
	return db_error_retriable(sqlstate, retriable) ? retry_error : KERR_UNKNOWN_SERVER_ERROR;
}

/* Byte order, PostgreSQL's COLLATE "C" order of the rows. */
static int kstr_cmp(kstr a, kstr b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

/* Whether row i of a Q_PARTITION_ENDS result is an existing partition. */
static bool part_exists(const PGresult *rows, int i)
{
	return i < PQntuples(rows) && !PQgetisnull(rows, i, 0);
}

/* ---- ElectLeaders ---- */

void handle_elect_leaders(request *req)
{
	const elect_leaders_req *body = req->body;
	rp_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	/* ControllerApis.handleElectLeaders: ALTER on the cluster. */
	if (!authz_cluster(req, ACL_OP_ALTER)) {
		elect_answer(req, KERR_CLUSTER_AUTHORIZATION_FAILED, kstr_c(CLUSTER_REFUSED), NULL);
		return;
	}
	if (body->topic_partitions.count < 0) {
		/* Null: every partition; Kafka lists each topic and leaves
		 * out the partitions whose leader needs no election. */
		db_stmt st = {Q_TOPICS_ALL, 0, NULL, NULL, NULL, 0};
		db_submit(req->db, &st, 1, elect_all, c);
		return;
	}
	const topic_partitions_req *t = body->topic_partitions.items;
	tps_init(req->arena, &c->tps,
		 count_parts(&body->topic_partitions, sizeof(*t),
			     offsetof(topic_partitions_req, partitions)));
	for (int32_t i = 0; i < body->topic_partitions.count; i++) {
		const int32_t *p = t[i].partitions.items;
		for (int32_t j = 0; j < t[i].partitions.count; j++)
			tps_add(&c->tps, t[i].topic, p[j]);
	}
	tps_submit(c, elect_done, -1);
}

static void elect_all(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		      bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	elect_leaders_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	(void)n;

	req->resp = resp;
	if (err) {
		resp->error_code =
			db_error("elect leaders", err, sqlstate, retriable, KERR_REQUEST_TIMED_OUT);
		request_complete(req);
		return;
	}
	int rows = PQntuples(res[0]);
	elect_leaders_resp_result *out =
		ARENA_NEW_ARRAY(req->arena, elect_leaders_resp_result, rows + 1);
	for (int r = 0; r < rows; r++) {
		out[r].topic = kstr_c(arena_cstr(req->arena, pgtext_str(res[0], r, 0)));
		out[r].partition_result = karray_of(NULL, 0);
	}
	resp->replica_election_results = karray_of(out, rows);
	request_complete(req);
}

static void elect_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	const elect_leaders_req *body = req->body;
	int16_t fail = KERR_NONE;
	(void)n;

	if (err)
		fail = db_error("elect leaders", err, sqlstate, retriable, KERR_REQUEST_TIMED_OUT);
	else if (body->election_type != ELECTION_PREFERRED &&
		 body->election_type != ELECTION_UNCLEAN)
		fail = KERR_INVALID_REQUEST;
	elect_answer(req, fail, KSTR_NULL, err ? NULL : res[0]);
}

/* ReplicationControlManager.electLeader for a partition that has its
 * preferred leader (and a leader at all, for an unclean election); with
 * fail, ElectLeadersRequest.getErrorResponse: the error at the top (v1+)
 * and for every partition named. */
static void elect_answer(request *req, int16_t fail, kstr fail_message, const PGresult *rows)
{
	const elect_leaders_req *body = req->body;
	elect_leaders_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->error_code = fail;
	int32_t ntopics = body->topic_partitions.count > 0 ? body->topic_partitions.count : 0;
	const topic_partitions_req *t = body->topic_partitions.items;
	elect_leaders_resp_result *out =
		ARENA_NEW_ARRAY(req->arena, elect_leaders_resp_result, ntopics + 1);
	int at = 0;
	for (int32_t i = 0; i < ntopics; i++) {
		int32_t np = t[i].partitions.count > 0 ? t[i].partitions.count : 0;
		const int32_t *p = t[i].partitions.items;
		partition_result *pr = ARENA_NEW_ARRAY(req->arena, partition_result, np + 1);
		out[i].topic = t[i].topic;
		for (int32_t j = 0; j < np; j++, at++) {
			pr[j].partition_index = p[j];
			if (fail != KERR_NONE) {
				pr[j].error_code = fail;
				pr[j].error_message = fail_message;
			} else if (part_exists(rows, at)) {
				pr[j].error_code = KERR_ELECTION_NOT_NEEDED;
				pr[j].error_message =
					kstr_c("Leader election not needed for topic partition.");
			} else {
				pr[j].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				pr[j].error_message = kstr_c(
					arena_printf(req->arena, "No such partition as %.*s-%d",
						     t[i].topic.len, t[i].topic.ptr, p[j]));
			}
		}
		out[i].partition_result = karray_of(pr, np);
	}
	resp->replica_election_results = karray_of(out, ntopics);
	request_complete(req);
}

/* ---- AlterPartitionReassignments, ListPartitionReassignments ---- */

void handle_alter_partition_reassignments(request *req)
{
	const alter_reassignments_req *body = req->body;
	rp_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const alter_reassignments_req_topic *t = body->topics.items;

	c->req = req;
	/* ControllerApis.handleAlterPartitionReassignments: ALTER on the
	 * cluster. */
	if (!authz_cluster(req, ACL_OP_ALTER)) {
		reassign_answer(req, KERR_CLUSTER_AUTHORIZATION_FAILED, kstr_c(CLUSTER_REFUSED),
				NULL);
		return;
	}
	tps_init(req->arena, &c->tps,
		 count_parts(&body->topics, sizeof(*t),
			     offsetof(alter_reassignments_req_topic, partitions)));
	for (int32_t i = 0; i < body->topics.count; i++) {
		const alter_reassignments_req_partition *p = t[i].partitions.items;
		for (int32_t j = 0; j < t[i].partitions.count; j++)
			tps_add(&c->tps, t[i].name, p[j].partition_index);
	}
	tps_submit(c, reassign_done, -1);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x < y ? -1 : x > y;
}

/* ReplicationControlManager.validateManualPartitionAssignment: the one
 * registered broker is this one. Returns the error, with its message. */
static int16_t check_assignment(request *req, const karray *replicas, kstr *msg)
{
	if (replicas->count <= 0) {
		*msg = kstr_c("The manual partition assignment includes an empty replica list.");
		return KERR_INVALID_REPLICA_ASSIGNMENT;
	}
	int32_t *ids = ARENA_NEW_ARRAY(req->arena, int32_t, replicas->count);
	memcpy(ids, replicas->items, sizeof(int32_t) * (size_t)replicas->count);
	qsort(ids, (size_t)replicas->count, sizeof(int32_t), cmp_i32);
	for (int32_t i = 0; i < replicas->count; i++) {
		if (ids[i] != g_config.node_id) {
			*msg = kstr_c(
				arena_printf(req->arena,
					     "The manual partition assignment includes broker "
					     "%d, but no such broker is registered.",
					     ids[i]));
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
		if (i > 0 && ids[i] == ids[i - 1]) {
			*msg = kstr_c(arena_printf(req->arena,
						   "The manual partition assignment includes the "
						   "broker %d more than once.",
						   ids[i]));
			return KERR_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	*msg = KSTR_NULL;
	return KERR_NONE;
}

static void reassign_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	(void)n;

	if (err)
		reassign_answer(req,
				db_error("alter partition reassignments", err, sqlstate, retriable,
					 KERR_REQUEST_TIMED_OUT),
				KSTR_NULL, NULL);
	else
		reassign_answer(req, KERR_NONE, KSTR_NULL, res[0]);
}

/* Each partition's outcome; with fail,
 * AlterPartitionReassignmentsRequest.getErrorResponse: the error at the
 * top and for every partition. */
static void reassign_answer(request *req, int16_t fail, kstr fail_message, const PGresult *rows)
{
	const alter_reassignments_req *body = req->body;
	alter_reassignments_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	req->resp = resp;
	resp->error_code = fail;
	resp->error_message = fail_message;
	int32_t ntopics = body->topics.count > 0 ? body->topics.count : 0;
	const alter_reassignments_req_topic *t = body->topics.items;
	alter_reassignments_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, alter_reassignments_resp_topic, ntopics + 1);
	int at = 0;
	for (int32_t i = 0; i < ntopics; i++) {
		int32_t np = t[i].partitions.count > 0 ? t[i].partitions.count : 0;
		const alter_reassignments_req_partition *p = t[i].partitions.items;
		partition_result *pr = ARENA_NEW_ARRAY(req->arena, partition_result, np + 1);
		out[i].name = t[i].name;
		for (int32_t j = 0; j < np; j++, at++) {
			pr[j].partition_index = p[j].partition_index;
			pr[j].error_message = KSTR_NULL;
			if (fail != KERR_NONE) {
				pr[j].error_code = fail;
				pr[j].error_message = fail_message;
			} else if (!part_exists(rows, at)) {
				pr[j].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				pr[j].error_message = kstr_c(arena_printf(
					req->arena, "Unable to find partition %.*s:%d.",
					t[i].name.len, t[i].name.ptr, p[j].partition_index));
			} else if (p[j].replicas.count < 0) {
				/* A cancellation, with nothing to cancel. */
				pr[j].error_code = KERR_NO_REASSIGNMENT_IN_PROGRESS;
				pr[j].error_message =
					kstr_c("No partition reassignment is in progress for this "
					       "topic or partition.");
			} else {
				/* Valid means [node.id]: the current assignment,
				 * so the reassignment is complete at once. */
				pr[j].error_code =
					check_assignment(req, &p[j].replicas, &pr[j].error_message);
			}
		}
		out[i].partitions = karray_of(pr, np);
	}
	resp->responses = karray_of(out, ntopics);
	request_complete(req);
}

/* Nothing is ever being reassigned: whatever is asked, the list is empty
 * (Kafka lists only partitions with a reassignment in progress). */
void handle_list_partition_reassignments(request *req)
{
	list_reassignments_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	/* ControllerApis.handleListPartitionReassignments: DESCRIBE on the
	 * cluster. */
	if (!authz_cluster(req, ACL_OP_DESCRIBE)) {
		list_reassignments_refuse(req);
		return;
	}
	resp->error_code = KERR_NONE;
	resp->error_message = KSTR_NULL;
	resp->topics = karray_of(NULL, 0);
	req->resp = resp;
	request_complete(req);
}

/* ListPartitionReassignmentsRequest.getErrorResponse: the error at the
 * top, and each partition named, with no replicas. */
static void list_reassignments_refuse(request *req)
{
	const list_reassignments_req *body = req->body;
	list_reassignments_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t ntopics = body->topics.count > 0 ? body->topics.count : 0;
	const list_reassignments_req_topic *t = body->topics.items;
	list_reassignments_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, list_reassignments_resp_topic, ntopics + 1);

	for (int32_t i = 0; i < ntopics; i++) {
		int32_t np = t[i].partition_indexes.count > 0 ? t[i].partition_indexes.count : 0;
		const int32_t *p = t[i].partition_indexes.items;
		list_reassignments_resp_partition *pr =
			ARENA_NEW_ARRAY(req->arena, list_reassignments_resp_partition, np + 1);
		for (int32_t j = 0; j < np; j++) {
			pr[j].partition_index = p[j];
			pr[j].replicas = karray_of(NULL, 0);
			pr[j].adding_replicas = karray_of(NULL, 0);
			pr[j].removing_replicas = karray_of(NULL, 0);
		}
		out[i].name = t[i].name;
		out[i].partitions = karray_of(pr, np);
	}
	resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
	resp->error_message = kstr_c(CLUSTER_REFUSED);
	resp->topics = karray_of(out, ntopics);
	req->resp = resp;
	request_complete(req);
}

/* ---- AlterReplicaLogDirs ---- */

typedef struct dirs_ctx {
	rp_ctx base; /* first: the callbacks get an rp_ctx */
	kstr *paths; /* per flattened partition */
} dirs_ctx;

void handle_alter_replica_log_dirs(request *req)
{
	const alter_replica_log_dirs_req *body = req->body;
	dirs_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const alter_replica_log_dirs_req_dir *d = body->dirs.items;
	int32_t total = 0;

	c->base.req = req;
	/* KafkaApis.handleAlterReplicaLogDirsRequest: ALTER on the cluster. */
	if (!authz_cluster(req, ACL_OP_ALTER)) {
		alter_dirs_refuse(req);
		return;
	}
	for (int32_t i = 0; i < body->dirs.count; i++) {
		const alter_replica_log_dirs_req_topic *t = d[i].topics.items;
		total += count_parts(&d[i].topics, sizeof(*t),
				     offsetof(alter_replica_log_dirs_req_topic, partitions));
	}
	tps_init(req->arena, &c->base.tps, total);
	c->paths = ARENA_NEW_ARRAY(req->arena, kstr, total + 1);
	for (int32_t i = 0; i < body->dirs.count; i++) {
		const alter_replica_log_dirs_req_topic *t = d[i].topics.items;
		for (int32_t j = 0; j < d[i].topics.count; j++) {
			const int32_t *p = t[j].partitions.items;
			for (int32_t k = 0; k < t[j].partitions.count; k++) {
				c->paths[c->base.tps.n] = d[i].path;
				tps_add(&c->base.tps, t[j].name, p[k]);
			}
		}
	}
	if (total == 0) {
		alter_dirs_done(c, NULL, 0, NULL, NULL, false);
		return;
	}
	tps_submit(&c->base, alter_dirs_done, -1);
}

/* AlterReplicaLogDirsRequest.getErrorResponse: one result per topic of
 * each directory, every partition refused. */
static void alter_dirs_refuse(request *req)
{
	const alter_replica_log_dirs_req *body = req->body;
	alter_replica_log_dirs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const alter_replica_log_dirs_req_dir *d = body->dirs.items;
	int32_t ntopics = 0;

	for (int32_t i = 0; i < body->dirs.count; i++)
		ntopics += d[i].topics.count > 0 ? d[i].topics.count : 0;
	alter_replica_log_dirs_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, alter_replica_log_dirs_resp_topic, ntopics + 1);
	int at = 0;
	for (int32_t i = 0; i < body->dirs.count; i++) {
		const alter_replica_log_dirs_req_topic *t = d[i].topics.items;
		for (int32_t j = 0; j < d[i].topics.count; j++, at++) {
			int32_t np = t[j].partitions.count > 0 ? t[j].partitions.count : 0;
			const int32_t *p = t[j].partitions.items;
			partition_error *e = ARENA_NEW_ARRAY(req->arena, partition_error, np + 1);
			for (int32_t k = 0; k < np; k++) {
				e[k].partition_index = p[k];
				e[k].error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
			}
			out[at].topic_name = t[j].name;
			out[at].partitions = karray_of(e, np);
		}
	}
	resp->results = karray_of(out, at);
	req->resp = resp;
	request_complete(req);
}

/* Order of the flattened partitions (indexes into the tp_list arg) by
 * topic, then request order. */
static int by_topic(const void *a, const void *b, void *arg)
{
	const tp_list *l = arg;
	int x = *(const int *)a, y = *(const int *)b;
	int c = kstr_cmp(l->topics[x], l->topics[y]);
	return c != 0 ? c : (x > y) - (x < y);
}

/* ReplicaManager.alterReplicaLogDirs: a directory that is not a log
 * directory of the broker is LOG_DIR_NOT_FOUND; a partition it does not
 * host, REPLICA_NOT_AVAILABLE; a partition already in that directory
 * stays there, with success. Results are grouped by topic (Kafka groups
 * them in a map; here in topic order). */
static void alter_dirs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			    bool retriable)
{
	dirs_ctx *c = arg;
	request *req = c->base.req;
	const tp_list *l = &c->base.tps;
	alter_replica_log_dirs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	alter_replica_log_dirs_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, alter_replica_log_dirs_resp_topic, l->n + 1);
	partition_error *errs = ARENA_NEW_ARRAY(req->arena, partition_error, l->n + 1);
	int *order = ARENA_NEW_ARRAY(req->arena, int, l->n + 1);
	int ntopics = 0;
	int16_t fail = KERR_NONE;
	(void)n;

	if (err)
		fail = db_error("alter replica log dirs", err, sqlstate, retriable,
				KERR_KAFKA_STORAGE_ERROR);
	for (int i = 0; i < l->n; i++)
		order[i] = i;
	qsort_r(order, (size_t)l->n, sizeof(int), by_topic, (void *)l);
	for (int k = 0; k < l->n; k++) {
		int i = order[k];
		if (ntopics == 0 || kstr_cmp(out[ntopics - 1].topic_name, l->topics[i]) != 0) {
			out[ntopics].topic_name = l->topics[i];
			out[ntopics].partitions = karray_of(&errs[k], 0);
			ntopics++;
		}
		partition_error *e = &errs[k];
		out[ntopics - 1].partitions.count++;
		e->partition_index = l->parts[i];
		if (fail != KERR_NONE)
			e->error_code = fail;
		else if (!kstr_eqk(c->paths[i], pgtext_str(res[0], i, 2)))
			e->error_code = KERR_LOG_DIR_NOT_FOUND;
		else if (!part_exists(res[0], i))
			e->error_code = KERR_REPLICA_NOT_AVAILABLE;
		else
			e->error_code = KERR_NONE;
	}
	resp->results = karray_of(out, ntopics);
	req->resp = resp;
	request_complete(req);
}

/* ---- DescribeLogDirs ---- */

/* The partitions asked for go to the statement as (topic, partition)
 * pairs; null topics, every partition. */
void handle_describe_log_dirs(request *req)
{
	const describe_log_dirs_req *body = req->body;
	rp_ctx *c = arena_alloc(req->arena, sizeof(*c));

	c->req = req;
	/* KafkaApis.handleDescribeLogDirsRequest: DESCRIBE on the cluster,
	 * else no results and the error at the top (v3+). */
	if (!authz_cluster(req, ACL_OP_DESCRIBE)) {
		describe_log_dirs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
		resp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
		resp->results = karray_of(NULL, 0);
		req->resp = resp;
		request_complete(req);
		return;
	}
	if (body->topics.count < 0) {
		params p = {0};
		params_str(&p, req->arena, KSTR_NULL);
		params_str(&p, req->arena, KSTR_NULL);
		db_stmt st = params_stmt(Q_LOG_DIR_SIZES, &p, 0);
		db_submit(req->db, &st, 1, log_dirs_done, c);
		return;
	}
	const topic_partitions_req *t = body->topics.items;
	pgarray topics, parts;
	pgarray_begin(&topics, OID_TEXT, 256);
	pgarray_begin(&parts, OID_INT4, 64);
	for (int32_t i = 0; i < body->topics.count; i++) {
		const int32_t *p = t[i].partitions.items;
		for (int32_t j = 0; j < t[i].partitions.count; j++) {
			pgarray_add(&topics, t[i].topic);
			pgarray_add_i32(&parts, p[j]);
		}
	}
	pgarray_end(&topics);
	pgarray_end(&parts);
	params p = {0};
	params_bin(&p, topics.w.buf, (int)topics.w.len);
	params_bin(&p, parts.w.buf, (int)parts.w.len);
	db_stmt st = params_stmt(Q_LOG_DIR_SIZES, &p, 0);
	db_submit(req->db, &st, 1, log_dirs_done, c);
	pgarray_free(&topics);
	pgarray_free(&parts);
}

static void log_dirs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			  bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	describe_log_dirs_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	(void)n;

	req->resp = resp;
	if (err) {
		/* No directory to describe: the top-level error (v3+), and
		 * no results. */
		resp->error_code = db_error("describe log dirs", err, sqlstate, retriable,
					    KERR_KAFKA_STORAGE_ERROR);
		resp->results = karray_of(NULL, 0);
		request_complete(req);
		return;
	}
	const PGresult *rows = res[0];
	int nrows = PQntuples(rows);
	describe_log_dirs_resp_result *dir = arena_alloc(req->arena, sizeof(*dir));
	describe_log_dirs_resp_topic *topics =
		ARENA_NEW_ARRAY(req->arena, describe_log_dirs_resp_topic, nrows + 1);
	int ntopics = 0;

	dir->error_code = KERR_NONE;
	dir->log_dir =
		nrows > 0 ? kstr_c(arena_cstr(req->arena, pgtext_str(rows, 0, 0))) : kstr_c("");
	/* The volume under PostgreSQL's data directory is not visible
	 * through SQL: unknown, as Kafka allows. */
	dir->total_bytes = -1;
	dir->usable_bytes = -1;
	for (int r = 0; r < nrows; r++) {
		if (PQgetisnull(rows, r, 1))
			continue;
		kstr topic = pgtext_str(rows, r, 1);
		int32_t partition = (int32_t)pgtext_i64(rows, r, 2, 0);
		/* Rows come sorted by topic. */
		if (ntopics == 0 || !kstr_eqk(topics[ntopics - 1].name, topic)) {
			topics[ntopics].name = kstr_c(arena_cstr(req->arena, topic));
			topics[ntopics].partitions =
				karray_of(ARENA_NEW_ARRAY(req->arena,
							  describe_log_dirs_resp_partition, nrows),
					  0);
			ntopics++;
		}
		describe_log_dirs_resp_topic *t = &topics[ntopics - 1];
		describe_log_dirs_resp_partition *p =
			&((describe_log_dirs_resp_partition *)
				  t->partitions.items)[t->partitions.count++];
		p->partition_index = partition;
		p->partition_size = pgtext_i64(rows, r, 3, 0);
		p->offset_lag = 0;
		p->is_future_key = false;
	}
	dir->topics = karray_of(topics, ntopics);
	resp->results = karray_of(dir, 1);
	request_complete(req);
}

/* ---- OffsetForLeaderEpoch ---- */

void handle_offset_for_leader_epoch(request *req)
{
	const offset_for_leader_epoch_req *body = req->body;
	rp_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const offset_for_leader_epoch_req_topic *t = body->topics.items;

	c->req = req;
	tps_init(req->arena, &c->tps,
		 count_parts(&body->topics, sizeof(*t),
			     offsetof(offset_for_leader_epoch_req_topic, partitions)));
	bool replica = authz_cluster(req, ACL_OP_CLUSTER_ACTION);
	c->topic_error = ARENA_NEW_ARRAY(req->arena, int16_t, body->topics.count + 1);
	pgarray epochs;
	pgarray_begin(&epochs, OID_INT4, 64);
	for (int32_t i = 0; i < body->topics.count; i++) {
		const offset_for_leader_epoch_req_partition *p = t[i].partitions.items;
		if (!epochs_may_describe(req, replica, t[i].topic)) {
			c->topic_error[i] = KERR_TOPIC_AUTHORIZATION_FAILED; /* not queried */
			continue;
		}
		for (int32_t j = 0; j < t[i].partitions.count; j++) {
			tps_add(&c->tps, t[i].topic, p[j].partition);
			pgarray_add_i32(&epochs, p[j].leader_epoch);
		}
	}
	pgarray_end(&epochs);
	if (c->tps.n == 0)
		epochs_done(c, NULL, 0, NULL, NULL, false);
	else
		epochs_submit(c, &epochs);
	pgarray_free(&epochs);
}

/* Q_OFFSET_FOR_LEADER_EPOCH for the listed partitions and epochs. */
static void epochs_submit(rp_ctx *c, const pgarray *epochs)
{
	request *req = c->req;
	pgarray topics, parts;

	pgarray_begin(&topics, OID_TEXT, 256);
	pgarray_begin(&parts, OID_INT4, 64);
	for (int i = 0; i < c->tps.n; i++) {
		pgarray_add(&topics, c->tps.topics[i]);
		pgarray_add_i32(&parts, c->tps.parts[i]);
	}
	pgarray_end(&topics);
	pgarray_end(&parts);
	params p = {0};
	params_bin(&p, topics.w.buf, (int)topics.w.len);
	params_bin(&p, parts.w.buf, (int)parts.w.len);
	params_bin(&p, epochs->w.buf, (int)epochs->w.len);
	db_stmt st = params_stmt(Q_OFFSET_FOR_LEADER_EPOCH, &p, 0);
	db_submit(req->db, &st, 1, epochs_done, c);
	pgarray_free(&topics);
	pgarray_free(&parts);
}

/* KafkaApis.handleOffsetForLeaderEpochRequest: a replica (CLUSTER_ACTION
 * on the cluster) may ask about every topic; a consumer (KIP-320), about
 * the topics it may DESCRIBE. */
static bool epochs_may_describe(const request *req, bool replica, kstr topic)
{
	return replica || authz_topic(req, ACL_OP_DESCRIBE, topic);
}

static void epochs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	const offset_for_leader_epoch_req *body = req->body;
	offset_for_leader_epoch_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int16_t fail = KERR_NONE;
	(void)n;

	if (err)
		fail = db_error("offset for leader epoch", err, sqlstate, retriable,
				KERR_KAFKA_STORAGE_ERROR);
	int32_t ntopics = body->topics.count > 0 ? body->topics.count : 0;
	const offset_for_leader_epoch_req_topic *t = body->topics.items;
	offset_for_leader_epoch_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, offset_for_leader_epoch_resp_topic, ntopics + 1);
	int at = 0;
	for (int32_t i = 0; i < ntopics; i++) {
		int32_t np = t[i].partitions.count > 0 ? t[i].partitions.count : 0;
		const offset_for_leader_epoch_req_partition *p = t[i].partitions.items;
		offset_for_leader_epoch_resp_partition *pr =
			ARENA_NEW_ARRAY(req->arena, offset_for_leader_epoch_resp_partition, np + 1);
		bool allowed = c->topic_error[i] == KERR_NONE; /* res has its rows */
		out[i].topic = t[i].topic;
		for (int32_t j = 0; j < np; j++, at += allowed) {
			pr[j].partition = p[j].partition;
			pr[j].leader_epoch = -1;
			pr[j].end_offset = -1;
			if (!allowed)
				pr[j].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			else if (fail != KERR_NONE)
				pr[j].error_code = fail;
			else if (!part_exists(res[0], at))
				pr[j].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			/* The leader, and Partition.checkCurrentLeaderEpoch. */
			else if ((pr[j].error_code = cluster_check_leader(
					  t[i].topic, p[j].partition, p[j].current_leader_epoch)))
				continue;
			else {
				/* kafka.offset_for_leader_epoch(): the epoch
				 * history as LeaderEpochFileCache.endOffsetFor
				 * reads it. */
				pr[j].leader_epoch = (int32_t)pgtext_i64(res[0], at, 0, -1);
				pr[j].end_offset = pgtext_i64(res[0], at, 1, -1);
			}
		}
		out[i].partitions = karray_of(pr, np);
	}
	resp->topics = karray_of(out, ntopics);
	req->resp = resp;
	request_complete(req);
}

/* ---- DescribeProducers ---- */

void handle_describe_producers(request *req)
{
	const describe_producers_req *body = req->body;
	rp_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const describe_producers_req_topic *t = body->topics.items;

	c->req = req;
	tps_init(req->arena, &c->tps,
		 count_parts(&body->topics, sizeof(*t),
			     offsetof(describe_producers_req_topic, partition_indexes)));
	c->topic_error = ARENA_NEW_ARRAY(req->arena, int16_t, body->topics.count + 1);
	for (int32_t i = 0; i < body->topics.count; i++) {
		const int32_t *p = t[i].partition_indexes.items;
		if ((c->topic_error[i] = producers_topic_error(req, t[i].name)) != KERR_NONE)
			continue; /* not queried */
		for (int32_t j = 0; j < t[i].partition_indexes.count; j++)
			tps_add(&c->tps, t[i].name, p[j]);
	}
	if (c->tps.n == 0)
		producers_done(c, NULL, 0, NULL, NULL, false);
	else
		tps_submit(c, producers_done, Q_DESCRIBE_PRODUCERS);
}

/* The producer rows of one partition: res is sorted by topic (byte
 * order, COLLATE "C"), partition and producer id. */
static karray producers_of(request *req, const PGresult *rows, kstr topic, int32_t partition)
{
	int lo = 0, hi = PQntuples(rows);

	/* The first row at or after (topic, partition). */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		int c = kstr_cmp(pgtext_str(rows, mid, 0), topic);
		if (c == 0) {
			int64_t p = pgtext_i64(rows, mid, 1, -1);
			c = p < partition ? -1 : p > partition;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int first = lo, count = 0;
	while (first + count < PQntuples(rows) &&
	       kstr_eqk(pgtext_str(rows, first + count, 0), topic) &&
	       pgtext_i64(rows, first + count, 1, -1) == partition)
		count++;
	describe_producers_resp_producer *out =
		ARENA_NEW_ARRAY(req->arena, describe_producers_resp_producer, count + 1);
	for (int k = 0; k < count; k++) {
		int r = first + k;
		out[k].producer_id = pgtext_i64(rows, r, 2, -1);
		out[k].producer_epoch = (int32_t)pgtext_i64(rows, r, 3, -1);
		out[k].last_sequence = (int32_t)pgtext_i64(rows, r, 4, -1);
		out[k].last_timestamp = pgtext_i64(rows, r, 5, -1);
		/* Coordinator epochs do not exist here (one coordinator,
		 * PostgreSQL's rows): -1, Kafka's "none". */
		out[k].coordinator_epoch = -1;
		out[k].current_txn_start_offset = pgtext_i64(rows, r, 6, -1);
	}
	return karray_of(out, count);
}

/* KafkaApis.handleDescribeProducersRequest: an invalid topic name, then
 * one the principal may not READ, fails every partition asked of it. */
static int16_t producers_topic_error(const request *req, kstr topic)
{
	if (!topic_name_valid(topic))
		return KERR_INVALID_TOPIC_EXCEPTION;
	if (!authz_topic(req, ACL_OP_READ, topic))
		return KERR_TOPIC_AUTHORIZATION_FAILED;
	return KERR_NONE;
}

/* Then a partition that does not exist gets its error; an existing
 * partition, its active producers. */
static void producers_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			   bool retriable)
{
	rp_ctx *c = arg;
	request *req = c->req;
	const describe_producers_req *body = req->body;
	describe_producers_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int16_t fail = KERR_NONE;

	if (c->tps.n > 0 && (err || n < 2))
		fail = db_error("describe producers", err ? err : "no result", sqlstate, retriable,
				KERR_KAFKA_STORAGE_ERROR);
	int32_t ntopics = body->topics.count > 0 ? body->topics.count : 0;
	const describe_producers_req_topic *t = body->topics.items;
	describe_producers_resp_topic *out =
		ARENA_NEW_ARRAY(req->arena, describe_producers_resp_topic, ntopics + 1);
	int at = 0;
	for (int32_t i = 0; i < ntopics; i++) {
		int32_t np = t[i].partition_indexes.count > 0 ? t[i].partition_indexes.count : 0;
		const int32_t *p = t[i].partition_indexes.items;
		describe_producers_resp_partition *pr =
			ARENA_NEW_ARRAY(req->arena, describe_producers_resp_partition, np + 1);
		int16_t topic_error = c->topic_error[i]; /* none: res has its rows */
		out[i].name = t[i].name;
		for (int32_t j = 0; j < np; j++, at += topic_error == KERR_NONE) {
			pr[j].partition_index = p[j];
			pr[j].error_message = KSTR_NULL;
			pr[j].active_producers = karray_of(NULL, 0);
			if (topic_error != KERR_NONE)
				pr[j].error_code = topic_error;
			else if (fail != KERR_NONE)
				pr[j].error_code = fail;
			else if (!part_exists(res[0], at))
				pr[j].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
			else
				pr[j].active_producers = producers_of(req, res[1], t[i].name, p[j]);
		}
		out[i].partitions = karray_of(pr, np);
	}
	resp->topics = karray_of(out, ntopics);
	req->resp = resp;
	request_complete(req);
}
