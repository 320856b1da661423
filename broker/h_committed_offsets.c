/*
 * Committed offsets of consumer groups: OffsetCommit, OffsetFetch and
 * OffsetDelete, on the rows of kafka.consumer_offsets. A commit is checked
 * against the group's generation and member by the coordinator
 * (coordinator.c) first, as Kafka does.
 */
#include <stdlib.h>
#include <string.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "consumer_groups.h"
#include "coordinator.h"
#include "group_coord.h"
#include "handlers.h"
#include "hutil.h"
#include "kerr.h"
#include "log.h"
#include "offset_rows.h"
#include "params.h"
#include "pgbin.h"
#include "pool.h"
#include "topic_ids.h"
#include "uuid.h"
#include "validate.h"

typedef struct oc_ctx {
	request *req;
	part_ref *parts; /* sent to PostgreSQL */
	int nparts;
	part_ref *refused; /* refused, unless the partition does not exist */
	int nrefused;
	bool held;          /* coord_commit_hold() until the write is over */
	kstr *names;        /* v10: the name of each topic id, null if none */
	int16_t *id_errors; /* v10: per topic, UNKNOWN_TOPIC_ID or the lookup's error */
} oc_ctx;

typedef struct of_group {
	kstr group_id;
	bool all;         /* null topics: every committed offset */
	karray in_topics; /* offset_fetch_req_topic */
	part_ref *parts;  /* listed partitions, in request order */
	int nparts;
	int stmt;       /* index of its statement in the job, -1 if none */
	karray *topics; /* response topics (filled for "all") */
	int16_t *error_code;
	kstr member_id;       /* v9: the consumer group member asking, or null */
	int32_t member_epoch; /* v9 */
	int16_t *id_errors;   /* v10: per request topic, as oc_ctx's */
} of_group;

typedef struct of_ctx {
	request *req;
	of_group *groups;
	int ngroups;
	kstr *names; /* v10: every group's topics, in request order */
	int16_t *id_errors;
} of_ctx;

typedef struct od_ctx {
	request *req;
	bool known;
	part_ref *parts; /* to delete */
	int nparts;
	part_ref *subscribed; /* GROUP_SUBSCRIBED_TO_TOPIC if they exist */
	int nsubscribed;
} od_ctx;

static kstr metadata_at(request *req, const PGresult *r, int row, int col);
static void oc_named(void *arg);
static void oc_prepared(void *arg, int16_t err);
static void of_named(void *arg);
static void of_prepared(void *arg, int16_t err);
static void oc_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void oc_refuse(oc_ctx *c);
static void oc_refused_stmt(oc_ctx *c, db_stmt *st, params *p, pgarray *tnames,
			    pgarray *tparts);
static void oc_refused_answer(oc_ctx *c, const PGresult *exists);
static void oc_refuse_done(void *arg, PGresult **res, int n, const char *err,
			   const char *sqlstate, bool retriable);
static void of_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);
static void of_fill_all(request *req, of_group *g, const PGresult *rows);
static void od_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable);

/*
 * Offset metadata is stored as bytes (any Kafka string, NUL included) and
 * read as hex; NULL, written with SQL, reads as Kafka's "no metadata", "".
 */
static kstr metadata_at(request *req, const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return KSTR_LIT("");
	const char *hex = PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col) / 2;
	char *out = arena_alloc(req->arena, (size_t)n + 1);
	for (int i = 0; i < n; i++) {
		int v = 0;
		/* encode(..., 'hex') writes lowercase digits */
		for (int j = 0; j < 2; j++) {
			char ch = hex[2 * i + j];
			v = v * 16 + (ch >= 'a' ? ch - 'a' + 10 : ch - '0');
		}
		out[i] = (char)v;
	}
	return (kstr){out, n};
}

/* ---- OffsetCommit ---- */

/*
 * v10 names topics by id: each id's name is looked up first (topic_ids.h)
 * and written into the decoded request, whose name field v10 leaves
 * empty, so that the rest reads as v9. Then a consumer group (KIP-848) of
 * that id must be loaded before its member and epoch are checked
 * (consumer_groups.h).
 */
void handle_offset_commit(request *req)
{
	const offset_commit_req *b = req->body;
	oc_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int32_t n = b->topics.count > 0 ? b->topics.count : 0;

	c->req = req;
	if (req->api_version < 10) {
		oc_named(c);
		return;
	}
	const offset_commit_req_topic *topics = b->topics.items;
	kuuid *ids = ARENA_NEW_ARRAY(req->arena, kuuid, n > 0 ? n : 1);
	c->names = ARENA_NEW_ARRAY(req->arena, kstr, n > 0 ? n : 1);
	c->id_errors = ARENA_NEW_ARRAY(req->arena, int16_t, n > 0 ? n : 1);
	/* The statements below name topics, not ids, so unlike Fetch's they
	 * cannot notice a cached id whose topic was deleted and created again
	 * under the same name: PostgreSQL is asked for every id. */
	for (int32_t t = 0; t < n; t++) {
		ids[t] = topics[t].topic_id;
		topic_ids_forget(&ids[t]);
	}
	topic_ids_resolve(req, ids, n, c->names, c->id_errors, oc_named, c);
}

static void oc_named(void *arg)
{
	oc_ctx *c = arg;
	request *req = c->req;
	offset_commit_req *b = req->body;

	if (c->names) {
		offset_commit_req_topic *topics = b->topics.items;
		for (int32_t t = 0; t < b->topics.count; t++)
			topics[t].name = c->names[t];
	}
	cgroups_prepare(req, &b->group_id, 1, false, oc_prepared, c);
}

static void oc_prepared(void *arg, int16_t load_error)
{
	oc_ctx *c = arg;
	request *req = c->req;
	const offset_commit_req *b = req->body;
	offset_commit_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	const offset_commit_req_topic *topics = b->topics.items;
	int32_t ntopics = b->topics.count > 0 ? b->topics.count : 0;
	int total = 0;

	req->resp = resp;
	for (int32_t t = 0; t < ntopics; t++)
		total += topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
	offset_commit_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, offset_commit_resp_topic, ntopics);
	resp->topics = karray_of(rt, ntopics);

	/* v0 has neither generation nor member: a "simple" commit. Kafka
	 * does not consult the coordinator for a commit of nothing. A group
	 * id too long to store (validate.h) cannot have offsets. */
	int16_t group_error = KERR_NONE;
	bool known = true;
	/* KafkaApis: READ on the group, then READ on each topic. */
	bool group_denied = !authz_group(req, ACL_OP_READ, b->group_id);
	if (group_denied)
		group_error = KERR_GROUP_AUTHORIZATION_FAILED;
	else if (total > 0 && !pgid_valid(b->group_id))
		group_error = KERR_INVALID_GROUP_ID;
	else if (total > 0 && !cluster_is_coordinator(b->group_id))
		group_error = KERR_NOT_COORDINATOR;
	else if (total > 0 && load_error)
		group_error = load_error;
	/* A consumer group checks the member and its epoch
	 * (ConsumerGroup.validateOffsetCommit). */
	else if (total > 0 &&
		 (group_error = cg_commit_check(
			  cgroups(), b->group_id, req->api_version >= 1 ? b->member_id : KSTR_LIT(""),
			  req->api_version >= 1 ? b->generation_id_or_member_epoch : -1, false,
			  req->api_version, &known),
		  known))
		; /* group_error says it */
	/* From v9 a generation for a group that does not exist is
	 * GROUP_ID_NOT_FOUND (OffsetMetadataManager.validateOffsetCommit),
	 * before it ILLEGAL_GENERATION (coord_commit_check). */
	else if (total > 0 && req->api_version >= 9 && b->generation_id_or_member_epoch >= 0 &&
		 (coord_offsets_in_use(b->group_id, &known), !known))
		group_error = KERR_GROUP_ID_NOT_FOUND;
	else if (total > 0)
		group_error = coord_commit_check(
			b->group_id, req->api_version >= 1 ? b->member_id : KSTR_LIT(""),
			b->group_instance_id,
			req->api_version >= 1 ? b->generation_id_or_member_epoch : -1);

	offset_rows rows;
	offset_rows_begin(&rows, req->arena, total, OID_INT8);
	c->refused = ARENA_NEW_ARRAY(req->arena, part_ref, total);
	for (int32_t t = 0; t < ntopics; t++) {
		const offset_commit_req_partition *in = topics[t].partitions.items;
		int32_t np = topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
		offset_commit_resp_partition *rp =
			ARENA_NEW_ARRAY(req->arena, offset_commit_resp_partition, np);
		rt[t].name = topics[t].name;
		rt[t].topic_id = topics[t].topic_id;
		rt[t].partitions = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = in[p].partition_index;
			/* KafkaApis: an id no topic has, before the topic's ACLs. */
			if (!group_denied && c->id_errors && c->id_errors[t]) {
				rp[p].error_code = c->id_errors[t];
				continue;
			}
			if (group_denied || !authz_topic(req, ACL_OP_READ, topics[t].name)) {
				rp[p].error_code = group_denied ? KERR_GROUP_AUTHORIZATION_FAILED
								: KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (!topic_name_valid(topics[t].name) || in[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			rp[p].error_code =
				group_error ? group_error
					    : offset_rows_add(&rows, topics[t].name,
							      in[p].partition_index,
							      in[p].committed_offset,
							      req->api_version >= 6
								      ? in[p].committed_leader_epoch
								      : -1,
							      in[p].committed_metadata,
							      &rp[p].error_code);
			if (rp[p].error_code) {
				/* Kafka checks that the partition exists first. */
				part_ref *ref = &c->refused[c->nrefused++];
				ref->topic = topics[t].name;
				ref->partition = in[p].partition_index;
				ref->error_code = &rp[p].error_code;
			}
		}
	}
	/* Checked above; the group now waits for this write (coordinator.h). */
	if (group_error || !offset_rows_end(&rows, b->group_id, false, &c->held)) {
		offset_rows_free(&rows);
		oc_refuse(c);
		return;
	}
	c->parts = rows.parts;
	c->nparts = rows.nparts;
	db_stmt st[2];
	params p = {0};
	params_str(&p, req->arena, b->group_id);
	offset_rows_params(&rows, &p);
	/* v2 to v4: a retention other than -1 sets the offsets' expiry time,
	 * as Kafka 4 still does; v1's per-partition commit timestamp is not
	 * used (Kafka 4 no longer serves v1); later versions: the broker's
	 * offsets.retention.minutes. */
	if (req->api_version >= 2 && req->api_version <= 4 && b->retention_time_ms != -1) {
		/* Within a century either way, so that the time stays one
		 * PostgreSQL can store. */
		int64_t r = b->retention_time_ms;
		int64_t century = INT64_C(3155760000000);
		params_int(&p, req->arena, r > century ? century : r < -century ? -century : r);
	} else
		params_str(&p, req->arena, KSTR_NULL);
	st[0] = params_stmt(Q_OFFSET_COMMIT, &p, 0);
	pgarray tnames, tparts;
	params p2 = {0};
	oc_refused_stmt(c, &st[1], &p2, &tnames, &tparts);
	db_submit(req->db, st, c->nrefused > 0 ? 2 : 1, oc_done, c);
	offset_rows_free(&rows);
	pgarray_free(&tnames);
	pgarray_free(&tparts);
}

/* The statement that tells which refused partitions exist: Q_OFFSET_FETCH,
 * read only, whose fourth column says so. Free both arrays after submit. */
static void oc_refused_stmt(oc_ctx *c, db_stmt *st, params *p, pgarray *tnames, pgarray *tparts)
{
	part_ref_arrays(c->refused, c->nrefused, OID_INT8, tnames, tparts);
	params_str(p, c->req->arena, KSTR_LIT(""));
	params_bin(p, tnames->w.buf, (int)tnames->w.len);
	params_bin(p, tparts->w.buf, (int)tparts->w.len);
	*st = params_stmt(Q_OFFSET_FETCH, p, 0);
}

/* An unknown partition is UNKNOWN_TOPIC_OR_PARTITION, whatever else was
 * wrong with it; if PostgreSQL cannot tell, the refusal stands. */
static void oc_refused_answer(oc_ctx *c, const PGresult *exists)
{
	for (int i = 0; i < c->nrefused && i < PQntuples(exists); i++)
		if (strcmp(PQgetvalue(exists, i, 3), "t") != 0)
			*c->refused[i].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
}

/*
 * Nothing to write: the group refused the commit, or every partition was
 * refused. Kafka looks for the partitions before anything else: one that
 * does not exist is UNKNOWN_TOPIC_OR_PARTITION.
 */
static void oc_refuse(oc_ctx *c)
{
	if (c->nrefused == 0) {
		request_complete(c->req);
		return;
	}
	db_stmt st;
	params p = {0};
	pgarray tnames, tparts;
	oc_refused_stmt(c, &st, &p, &tnames, &tparts);
	db_submit(c->req->db, &st, 1, oc_refuse_done, c);
	pgarray_free(&tnames);
	pgarray_free(&tparts);
}

static void oc_refuse_done(void *arg, PGresult **res, int n, const char *err,
			   const char *sqlstate, bool retriable)
{
	oc_ctx *c = arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	if (!err)
		oc_refused_answer(c, res[0]);
	request_complete(c->req);
}

static void oc_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	oc_ctx *c = arg;

	if (c->held)
		coord_commit_release(((const offset_commit_req *)c->req->body)->group_id);
	if (err) {
		/* A topic deleted while we committed to it. */
		int16_t e = sqlstate && strcmp(sqlstate, "23503") == 0
				    ? KERR_UNKNOWN_TOPIC_OR_PARTITION
				    : coordinator_db_error("offset commit", err, sqlstate, retriable);
		for (int i = 0; i < c->nparts; i++)
			*c->parts[i].error_code = e;
		request_complete(c->req);
		return;
	}
	if (c->nrefused > 0 && n > 1)
		oc_refused_answer(c, res[1]);
	/* What came back was stored; the rest does not exist. */
	for (int i = 0; i < c->nparts; i++)
		*c->parts[i].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	for (int r = 0; r < PQntuples(res[0]); r++) {
		kstr topic = pgtext_str(res[0], r, 0);
		int64_t partition = pgtext_i64(res[0], r, 1, -1);
		for (int i = 0; i < c->nparts; i++)
			if (c->parts[i].partition == partition &&
			    kstr_eqk(c->parts[i].topic, topic))
				*c->parts[i].error_code = KERR_NONE;
	}
	request_complete(c->req);
}

/* ---- OffsetFetch ---- */

/*
 * v10 names topics by id: the names of every group's topic ids are looked
 * up first and written into the decoded request, as OffsetCommit does.
 * v9 checks the member and epoch of a consumer group (KIP-848), which must
 * be loaded first (consumer_groups.h).
 */
void handle_offset_fetch(request *req)
{
	const offset_fetch_req *b = req->body;
	const offset_fetch_req_group *in = b->groups.items;
	int ngroups = req->api_version >= 8 && b->groups.count > 0 ? b->groups.count : 0;
	of_ctx *c = arena_alloc(req->arena, sizeof(*c));
	int n = 0;

	c->req = req;
	if (req->api_version < 10) {
		of_named(c);
		return;
	}
	for (int i = 0; i < ngroups; i++)
		n += in[i].topics.count > 0 ? in[i].topics.count : 0;
	kuuid *ids = ARENA_NEW_ARRAY(req->arena, kuuid, n > 0 ? n : 1);
	c->names = ARENA_NEW_ARRAY(req->arena, kstr, n > 0 ? n : 1);
	c->id_errors = ARENA_NEW_ARRAY(req->arena, int16_t, n > 0 ? n : 1);
	n = 0;
	for (int i = 0; i < ngroups; i++) {
		const offset_fetch_req_topic *t = in[i].topics.items;
		for (int32_t k = 0; k < in[i].topics.count; k++) {
			ids[n] = t[k].topic_id;
			topic_ids_forget(&ids[n++]); /* as handle_offset_commit */
		}
	}
	topic_ids_resolve(req, ids, n, c->names, c->id_errors, of_named, c);
}

static void of_named(void *arg)
{
	of_ctx *c = arg;
	request *req = c->req;
	const offset_fetch_req *b = req->body;
	int n = req->api_version >= 9 && b->groups.count > 0 ? b->groups.count : 0;
	kstr *ids = ARENA_NEW_ARRAY(req->arena, kstr, n > 0 ? n : 1);
	const offset_fetch_req_group *in = b->groups.items;

	if (c->names) {
		int next = 0;
		for (int i = 0; i < b->groups.count; i++) {
			offset_fetch_req_topic *t = in[i].topics.items;
			for (int32_t k = 0; k < in[i].topics.count; k++)
				t[k].name = c->names[next++];
		}
	}
	for (int i = 0; i < n; i++)
		ids[i] = in[i].group_id;
	cgroups_prepare(req, ids, n, false, of_prepared, c);
}

static void of_prepared(void *arg, int16_t load_error)
{
	of_ctx *c = arg;
	request *req = c->req;
	const offset_fetch_req *b = req->body;
	offset_fetch_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	bool multi = req->api_version >= 8;

	req->resp = resp;
	/* Up to v7 one group; the v8 list of groups is the general form. */
	if (multi) {
		const offset_fetch_req_group *in = b->groups.items;
		c->ngroups = b->groups.count > 0 ? b->groups.count : 0;
		c->groups = ARENA_NEW_ARRAY(req->arena, of_group, c->ngroups);
		offset_fetch_resp_group *out =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_group, c->ngroups);
		resp->groups = karray_of(out, c->ngroups);
		int first_topic = 0;
		for (int i = 0; i < c->ngroups; i++) {
			if (c->id_errors) {
				c->groups[i].id_errors = c->id_errors + first_topic;
				first_topic += in[i].topics.count > 0 ? in[i].topics.count : 0;
			}
			out[i].group_id = in[i].group_id;
			c->groups[i].group_id = in[i].group_id;
			c->groups[i].all = in[i].topics.count < 0;
			c->groups[i].topics = &out[i].topics;
			c->groups[i].error_code = &out[i].error_code;
			c->groups[i].in_topics = in[i].topics;
			c->groups[i].member_id = in[i].member_id;
			c->groups[i].member_epoch = in[i].member_epoch;
		}
	} else {
		c->ngroups = 1;
		c->groups = ARENA_NEW_ARRAY(req->arena, of_group, 1);
		c->groups[0].group_id = b->group_id;
		c->groups[0].all = b->topics.count < 0;
		c->groups[0].topics = &resp->topics;
		c->groups[0].error_code = &resp->error_code;
		c->groups[0].in_topics = b->topics;
	}

	db_stmt *stmts = ARENA_NEW_ARRAY(req->arena, db_stmt, c->ngroups);
	pgarray *arrays = ARENA_NEW_ARRAY(req->arena, pgarray, 2 * c->ngroups);
	int nstmts = 0, narrays = 0;
	for (int i = 0; i < c->ngroups; i++) {
		of_group *g = &c->groups[i];
		params *p = arena_alloc(req->arena, sizeof(*p));
		g->stmt = -1;
		params_str(p, req->arena, g->group_id);
		bool denied = !authz_group(req, ACL_OP_DESCRIBE, g->group_id);
		/* v9, a consumer group: the member and its epoch
		 * (ConsumerGroup.validateOffsetFetch) or the group's error. */
		if (!denied && req->api_version >= 9) {
			bool known = false;
			int16_t e = load_error;
			if (!e && cluster_is_coordinator(g->group_id))
				e = cg_fetch_check(cgroups(), g->group_id, g->member_id,
						   g->member_epoch, &known);
			if (load_error || (known && e)) {
				*g->error_code = e;
				*g->topics = karray_of(NULL, 0);
				continue;
			}
		}
		if (g->all) {
			*g->topics = karray_of(NULL, 0);
			if (denied) {
				*g->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
				continue;
			}
			if (!pgtext_valid(g->group_id))
				continue; /* cannot have offsets */
			g->stmt = nstmts;
			stmts[nstmts++] = params_stmt(Q_OFFSET_FETCH_ALL, p, 0);
			continue;
		}
		/* Turn the request's topics into response topics, one entry
		 * per partition asked for. */
		const offset_fetch_req_topic *in = g->in_topics.items;
		int32_t nt = g->in_topics.count > 0 ? g->in_topics.count : 0;
		offset_fetch_resp_topic *out =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_topic, nt);
		int total = 0;
		for (int32_t t = 0; t < nt; t++)
			total += in[t].partition_indexes.count > 0 ? in[t].partition_indexes.count
								   : 0;
		g->parts = ARENA_NEW_ARRAY(req->arena, part_ref, total);
		for (int32_t t = 0; t < nt; t++) {
			const int32_t *idx = in[t].partition_indexes.items;
			int32_t np = in[t].partition_indexes.count > 0
					     ? in[t].partition_indexes.count
					     : 0;
			offset_fetch_resp_partition *rp =
				ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_partition, np);
			out[t].name = in[t].name;
			out[t].topic_id = in[t].topic_id;
			out[t].partitions = karray_of(rp, np);
			for (int32_t k = 0; k < np; k++) {
				rp[k].partition_index = idx[k];
				rp[k].committed_offset = -1;
				rp[k].committed_leader_epoch = -1;
				rp[k].metadata = KSTR_LIT("");
				/* KafkaApis: an id no topic has, before the topic's ACLs. */
				if (!denied && g->id_errors && g->id_errors[t]) {
					rp[k].error_code = g->id_errors[t];
					continue;
				}
				/* KafkaApis: DESCRIBE on the group (all of its
				 * partitions refused), then on each topic. */
				if (denied || !authz_topic(req, ACL_OP_DESCRIBE, in[t].name)) {
					rp[k].error_code = denied ? KERR_GROUP_AUTHORIZATION_FAILED
								  : KERR_TOPIC_AUTHORIZATION_FAILED;
					continue;
				}
				g->parts[g->nparts].topic = in[t].name;
				g->parts[g->nparts].partition = idx[k];
				g->parts[g->nparts].error_code = &rp[k].error_code;
				g->parts[g->nparts].out = &rp[k];
				g->nparts++;
			}
		}
		*g->topics = karray_of(out, nt);
		if (denied && req->api_version >= 2) {
			/* the group-level error alone (v0-1 have none) */
			*g->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
			*g->topics = karray_of(NULL, 0);
		}
		if (g->nparts == 0 || !pgtext_valid(g->group_id))
			continue;
		/* Names PostgreSQL cannot hold cannot have offsets either. */
		for (int k = 0; k < g->nparts; k++)
			if (!pgtext_valid(g->parts[k].topic))
				g->parts[k].topic = KSTR_LIT("");
		part_ref_arrays(g->parts, g->nparts, OID_INT8, &arrays[narrays],
				&arrays[narrays + 1]);
		params_bin(p, arrays[narrays].w.buf, (int)arrays[narrays].w.len);
		params_bin(p, arrays[narrays + 1].w.buf, (int)arrays[narrays + 1].w.len);
		narrays += 2;
		g->stmt = nstmts;
		stmts[nstmts++] = params_stmt(Q_OFFSET_FETCH, p, 0);
	}
	if (nstmts == 0) {
		request_complete(req);
		return;
	}
	db_submit(req->db, stmts, nstmts, of_done, c);
	for (int i = 0; i < narrays; i++)
		pgarray_free(&arrays[i]);
}

static void of_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	of_ctx *c = arg;
	request *req = c->req;
	const offset_fetch_req *b = req->body;
	/* v7+: a consumer that reads committed data asks not to be given an
	 * offset that an ongoing transaction is about to replace; it retries. */
	bool require_stable = req->api_version >= 7 && b->require_stable;
	(void)n;

	int16_t e = err ? coordinator_db_error("offset fetch", err, sqlstate, retriable) : KERR_NONE;
	for (int i = 0; i < c->ngroups; i++) {
		of_group *g = &c->groups[i];
		if (g->stmt < 0)
			continue;
		if (e) {
			/* v0-1 have no group-level error: every partition says it. */
			if (req->api_version < 2) {
				for (int k = 0; k < g->nparts; k++)
					*g->parts[k].error_code = e;
			} else {
				*g->error_code = e;
				*g->topics = karray_of(NULL, 0);
			}
			continue;
		}
		const PGresult *rows = res[g->stmt];
		if (g->all) {
			of_fill_all(req, g, rows);
			continue;
		}
		for (int k = 0; k < g->nparts && k < PQntuples(rows); k++) {
			offset_fetch_resp_partition *out = g->parts[k].out;
			if (require_stable && PQnfields(rows) > 4 &&
			    strcmp(PQgetvalue(rows, k, 4), "t") == 0) {
				out->error_code = KERR_UNSTABLE_OFFSET_COMMIT;
				continue;
			}
			if (!PQgetisnull(rows, k, 0)) {
				out->committed_offset = pgtext_i64(rows, k, 0, -1);
				out->committed_leader_epoch = (int32_t)pgtext_i64(rows, k, 1, -1);
				out->metadata = metadata_at(req, rows, k, 2);
			}
			/* v0 read ZooKeeper in Kafka, and told unknown partitions apart. */
			if (req->api_version == 0 && strcmp(PQgetvalue(rows, k, 3), "t") != 0)
				out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	request_complete(req);
}

/* Every committed offset of the group, grouped by topic (rows come sorted),
 * each topic with its id for v10. */
static void of_fill_all(request *req, of_group *g, const PGresult *rows)
{
	int nrows = PQntuples(rows);
	int ntopics = 0;
	offset_fetch_resp_topic *topics =
		ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_topic, nrows);

	for (int r = 0; r < nrows;) {
		kstr name = pgtext_str(rows, r, 0);
		int end = r;
		while (end < nrows && kstr_eqk(pgtext_str(rows, end, 0), name))
			end++;
		if (!authz_topic(req, ACL_OP_DESCRIBE, name)) {
			r = end; /* left out, as Kafka does */
			continue;
		}
		offset_fetch_resp_partition *parts =
			ARENA_NEW_ARRAY(req->arena, offset_fetch_resp_partition, end - r);
		for (int k = r; k < end; k++) {
			offset_fetch_resp_partition *p = &parts[k - r];
			p->partition_index = (int32_t)pgtext_i64(rows, k, 1, 0);
			p->committed_offset = pgtext_i64(rows, k, 2, -1);
			p->committed_leader_epoch = (int32_t)pgtext_i64(rows, k, 3, -1);
			p->metadata = metadata_at(req, rows, k, 4);
		}
		topics[ntopics].name = arena_kstrdup(req->arena, name);
		/* A committed offset keeps its partition, hence its topic, in
		 * place (a foreign key): the id is there. */
		if (PQgetisnull(rows, r, 5) ||
		    !uuid_parse(PQgetvalue(rows, r, 5), &topics[ntopics].topic_id))
			memset(&topics[ntopics].topic_id, 0, sizeof(topics[ntopics].topic_id));
		topics[ntopics].partitions = karray_of(parts, end - r);
		ntopics++;
		r = end;
	}
	*g->topics = karray_of(topics, ntopics);
}

/* ---- OffsetDelete ---- */

void handle_offset_delete(request *req)
{
	const offset_delete_req *b = req->body;
	offset_delete_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	od_ctx *c = arena_alloc(req->arena, sizeof(*c));
	const offset_delete_req_topic *topics = b->topics.items;
	int32_t ntopics = b->topics.count > 0 ? b->topics.count : 0;
	int total = 0;

	c->req = req;
	req->resp = resp;
	resp->topics = karray_of(NULL, 0);
	/* KafkaApis: DELETE on the group, then READ on each topic. */
	if (!authz_group(req, ACL_OP_DELETE, b->group_id)) {
		resp->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
		request_complete(req);
		return;
	}
	if (b->group_id.len <= 0) {
		resp->error_code = KERR_INVALID_GROUP_ID;
		request_complete(req);
		return;
	}
	coord_offsets_use use = coord_offsets_in_use(b->group_id, &c->known);
	if (use == COORD_OFFSETS_NON_EMPTY) {
		resp->error_code = KERR_NON_EMPTY_GROUP;
		request_complete(req);
		return;
	}
	for (int32_t t = 0; t < ntopics; t++)
		total += topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
	c->parts = ARENA_NEW_ARRAY(req->arena, part_ref, total);
	c->subscribed = ARENA_NEW_ARRAY(req->arena, part_ref, total);
	offset_delete_resp_topic *rt =
		ARENA_NEW_ARRAY(req->arena, offset_delete_resp_topic, ntopics);
	resp->topics = karray_of(rt, ntopics);
	for (int32_t t = 0; t < ntopics; t++) {
		const offset_delete_req_partition *in = topics[t].partitions.items;
		int32_t np = topics[t].partitions.count > 0 ? topics[t].partitions.count : 0;
		offset_delete_resp_partition *rp =
			ARENA_NEW_ARRAY(req->arena, offset_delete_resp_partition, np);
		bool subscribed = use == COORD_OFFSETS_CONSUMER &&
				  coord_subscribed(b->group_id, topics[t].name);
		rt[t].name = topics[t].name;
		rt[t].partitions = karray_of(rp, np);
		for (int32_t p = 0; p < np; p++) {
			rp[p].partition_index = in[p].partition_index;
			if (!authz_topic(req, ACL_OP_READ, topics[t].name)) {
				rp[p].error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			if (!topic_name_valid(topics[t].name) || in[p].partition_index < 0) {
				rp[p].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			/* Kafka drops unknown partitions before it asks the
			 * group: a subscribed one must exist (od_done). */
			part_ref *ref = subscribed ? &c->subscribed[c->nsubscribed++]
						   : &c->parts[c->nparts++];
			ref->topic = topics[t].name;
			ref->partition = in[p].partition_index;
			ref->error_code = &rp[p].error_code;
		}
	}
	params *p1 = arena_alloc(req->arena, sizeof(*p1));
	params_str(p1, req->arena, b->group_id);
	db_stmt stmts[3] = {params_stmt(Q_GROUP_HAS_OFFSETS, p1, 0)};
	int nstmts = 1;
	pgarray tnames, tparts, snames, sparts;
	part_ref_arrays(c->parts, c->nparts, OID_INT8, &tnames, &tparts);
	part_ref_arrays(c->subscribed, c->nsubscribed, OID_INT8, &snames, &sparts);
	if (c->nparts > 0) {
		params *p2 = arena_alloc(req->arena, sizeof(*p2));
		params_str(p2, req->arena, b->group_id);
		params_bin(p2, tnames.w.buf, (int)tnames.w.len);
		params_bin(p2, tparts.w.buf, (int)tparts.w.len);
		stmts[nstmts++] = params_stmt(Q_OFFSET_DELETE, p2, 0);
	}
	if (c->nsubscribed > 0) {
		/* Read only: its fourth column says whether the partition exists. */
		params *p3 = arena_alloc(req->arena, sizeof(*p3));
		params_str(p3, req->arena, b->group_id);
		params_bin(p3, snames.w.buf, (int)snames.w.len);
		params_bin(p3, sparts.w.buf, (int)sparts.w.len);
		stmts[nstmts++] = params_stmt(Q_OFFSET_FETCH, p3, 0);
	}
	db_submit(req->db, stmts, nstmts, od_done, c);
	pgarray_free(&tnames);
	pgarray_free(&tparts);
	pgarray_free(&snames);
	pgarray_free(&sparts);
}

static void od_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		    bool retriable)
{
	od_ctx *c = arg;
	offset_delete_resp *resp = c->req->resp;
	(void)n;

	if (err) {
		resp->error_code = coordinator_db_error("offset delete", err, sqlstate, retriable);
		resp->topics = karray_of(NULL, 0);
		request_complete(c->req);
		return;
	}
	bool has_offsets = strcmp(PQgetvalue(res[0], 0, 0), "t") == 0;
	if (!c->known && !has_offsets) {
		resp->error_code = KERR_GROUP_ID_NOT_FOUND;
		resp->topics = karray_of(NULL, 0);
		request_complete(c->req);
		return;
	}
	int next = 1;
	if (c->nparts > 0) {
		const PGresult *del = res[next++];
		for (int i = 0; i < c->nparts && i < PQntuples(del); i++)
			*c->parts[i].error_code = strcmp(PQgetvalue(del, i, 0), "t") == 0
							  ? KERR_NONE
							  : KERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (c->nsubscribed > 0) {
		const PGresult *ex = res[next];
		for (int i = 0; i < c->nsubscribed && i < PQntuples(ex); i++)
			*c->subscribed[i].error_code = strcmp(PQgetvalue(ex, i, 3), "t") == 0
							       ? KERR_GROUP_SUBSCRIBED_TO_TOPIC
							       : KERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	request_complete(c->req);
}
