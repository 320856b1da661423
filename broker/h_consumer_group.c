/*
 * The KIP-848 consumer group protocol: ConsumerGroupHeartbeat and
 * ConsumerGroupDescribe, on the broker's consumer groups
 * (consumer_groups.c, the state machine of cgroup.c).
 *
 * A heartbeat is answered once what it changed is stored. Authorization is
 * Kafka's: READ on the group for a heartbeat and DESCRIBE on every topic it
 * subscribes to by name; DESCRIBE on the group for a description, and on
 * every topic its members are assigned, or the group is answered
 * TOPIC_AUTHORIZATION_FAILED and nothing else (KAFKA-18813). A group is
 * coordinated by one broker of the cluster (cluster.h); the others answer
 * NOT_COORDINATOR. A group id held by a classic group with members is not a
 * consumer group (GROUP_ID_NOT_FOUND, as Kafka with its migration policy
 * disabled); an empty classic group is converted (docs/GROUPS.md).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "arena_str.h"
#include "authorizer.h"
#include "cluster.h"
#include "consumer_groups.h"
#include "coordinator.h"
#include "handlers.h"
#include "kerr.h"
#include "log.h"

static void hb_answer_error(request *req, int16_t err, const char *message);
static void hb_ready(void *arg, int16_t err);
static void hb_stored(void *arg, int16_t err);
static kstr new_member_id(arena *a);
static karray tps_out(arena *a, const cg_tps *t, int n);
static void describe_ready(void *arg, int16_t err);
static bool topics_visible(const request *req, const cg_group_desc *d);
static consumer_group_describe_assignment *describe_assignment(request *req, const cg_tps *t,
							       int n);

/* ---- ConsumerGroupHeartbeat ---- */

static void hb_answer_error(request *req, int16_t err, const char *message)
{
	consumer_group_heartbeat_resp *resp = req->resp;

	resp->error_code = err;
	resp->error_message = message ? kstr_c(arena_cstr(req->arena, kstr_c(message))) : KSTR_NULL;
	resp->member_id = KSTR_NULL;
	resp->member_epoch = 0;
	resp->heartbeat_interval_ms = 0;
	resp->assignment = NULL;
	request_complete(req);
}

/* Kafka's Uuid.randomUuid().toString(): 16 random bytes, base64url without
 * padding. */
static kstr new_member_id(arena *a)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[18] = {0};
	char *s = arena_alloc(a, 25);
	int n = 0;

	if (getrandom(r, 16, 0) != 16) {
		log_error("getrandom failed");
		abort();
	}
	for (int i = 0; i < 18; i += 3) {
		uint32_t v = ((uint32_t)r[i] << 16) | ((uint32_t)r[i + 1] << 8) | r[i + 2];
		s[n++] = b64[(v >> 18) & 63];
		s[n++] = b64[(v >> 12) & 63];
		s[n++] = b64[(v >> 6) & 63];
		s[n++] = b64[v & 63];
	}
	s[22] = '\0';
	return (kstr){s, 22};
}

void handle_consumer_group_heartbeat(request *req)
{
	const consumer_group_heartbeat_req *b = req->body;
	consumer_group_heartbeat_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	coord_group_info classic;

	req->resp = resp;
	if (!authz_group(req, ACL_OP_READ, b->group_id)) {
		hb_answer_error(req, KERR_GROUP_AUTHORIZATION_FAILED, NULL);
		return;
	}
	/* KafkaApis: DESCRIBE on every topic subscribed by name. */
	const kstr *names = b->subscribed_topic_names.items;
	for (int32_t i = 0; i < b->subscribed_topic_names.count; i++) {
		if (!authz_topic(req, ACL_OP_DESCRIBE, names[i])) {
			hb_answer_error(
				req, KERR_TOPIC_AUTHORIZATION_FAILED,
				"The consumer is not authorized to describe a subscribed topic.");
			return;
		}
	}
	if (!cluster_is_coordinator(b->group_id)) {
		hb_answer_error(req, KERR_NOT_COORDINATOR, NULL);
		return;
	}
	/* A classic group of that id: converted when empty, else the id is
	 * not a consumer group's (GroupMetadataManager with online upgrade
	 * disabled). */
	if (coord_describe(b->group_id, req->arena, &classic)) {
		bool known;
		/* Only a join converts it (getOrMaybeCreateConsumerGroup). */
		if (classic.nmembers > 0 || b->member_epoch != CG_JOIN_EPOCH ||
		    coord_delete(b->group_id, &known) != KERR_NONE) {
			hb_answer_error(req, KERR_GROUP_ID_NOT_FOUND,
					arena_printf(req->arena,
						     "Group %.*s is not a consumer group.",
						     b->group_id.len, b->group_id.ptr));
			return;
		}
		log_info("empty classic group %.*s becomes a consumer group", b->group_id.len,
			 b->group_id.ptr);
	}
	if (b->subscribed_topic_names.count > 0)
		cgroups_want_topics(b->subscribed_topic_names.items,
				    b->subscribed_topic_names.count);
	cgroups_prepare(req, &b->group_id, 1, true, hb_ready, req);
}

static void hb_ready(void *arg, int16_t err)
{
	request *req = arg;
	const consumer_group_heartbeat_req *b = req->body;
	consumer_group_heartbeat_resp *resp = req->resp;
	cg_heartbeat_resp out;
	int ntp = b->topic_partitions.count;
	const consumer_group_topic_partitions *tp = b->topic_partitions.items;
	cg_tps *owned = ARENA_NEW_ARRAY(req->arena, cg_tps, ntp > 0 ? ntp : 1);

	if (err) {
		hb_answer_error(req, err, NULL);
		return;
	}
	for (int32_t i = 0; i < ntp; i++) {
		memcpy(owned[i].topic_id, tp[i].topic_id.b, 16);
		owned[i].topic_name = KSTR_NULL;
		owned[i].partitions = tp[i].partitions.items;
		owned[i].npartitions = tp[i].partitions.count > 0 ? tp[i].partitions.count : 0;
	}
	cg_heartbeat_req r = {
		.api_version = req->api_version,
		.group_id = b->group_id,
		.member_id = b->member_id,
		.generated_member_id = req->api_version == 0 && b->member_id.len <= 0
					       ? new_member_id(req->arena)
					       : KSTR_NULL,
		.member_epoch = b->member_epoch,
		.instance_id = b->instance_id,
		.rack_id = b->rack_id,
		.rebalance_timeout_ms = b->rebalance_timeout_ms,
		.subscribed_topic_names = b->subscribed_topic_names.items,
		.nsubscribed_topic_names = b->subscribed_topic_names.count,
		.subscribed_topic_regex =
			req->api_version >= 1 ? b->subscribed_topic_regex : KSTR_NULL,
		.server_assignor = b->server_assignor,
		.topic_partitions = owned,
		.ntopic_partitions = ntp,
		.client_id = req->client_id,
		.client_host = req->client_host,
		.principal = req->principal,
	};
	if (r.nsubscribed_topic_names < 0)
		r.nsubscribed_topic_names = -1;
	if (r.ntopic_partitions < 0)
		r.ntopic_partitions = -1;
	memset(&out, 0, sizeof(out));
	cg_heartbeat(cgroups(), &r, cgroups_now(), req->arena, &out);
	resp->error_code = out.error_code;
	resp->error_message = out.error_message
				      ? kstr_c(arena_cstr(req->arena, kstr_c(out.error_message)))
				      : KSTR_NULL;
	resp->member_id = out.member_id;
	resp->member_epoch = out.member_epoch;
	resp->heartbeat_interval_ms = out.heartbeat_interval_ms;
	resp->assignment = NULL;
	if (out.has_assignment) {
		consumer_group_heartbeat_resp_assignment *as = arena_alloc(req->arena, sizeof(*as));
		as->topic_partitions = tps_out(req->arena, out.assignment, out.nassignment);
		resp->assignment = as;
	}
	cgroups_persist(hb_stored, req);
}

/* The answer goes out once the change is stored; a failed write fails the
 * heartbeat with the coordinator error (the member retries). */
static void hb_stored(void *arg, int16_t err)
{
	request *req = arg;

	if (err) {
		hb_answer_error(req, err, NULL);
		return;
	}
	request_complete(req);
}

static karray tps_out(arena *a, const cg_tps *t, int n)
{
	consumer_group_topic_partitions *o =
		ARENA_NEW_ARRAY(a, consumer_group_topic_partitions, n > 0 ? n : 1);

	for (int i = 0; i < n; i++) {
		memcpy(o[i].topic_id.b, t[i].topic_id, 16);
		o[i].partitions = karray_of((void *)t[i].partitions, t[i].npartitions);
	}
	return karray_of(o, n);
}

/* ---- ConsumerGroupDescribe ---- */

/* An assignment as ConsumerGroupDescribe shows it. */
static consumer_group_describe_assignment *describe_assignment(request *req, const cg_tps *t, int n)
{
	consumer_group_describe_assignment *as = arena_alloc(req->arena, sizeof(*as));
	consumer_group_describe_topic_partitions *o = ARENA_NEW_ARRAY(
		req->arena, consumer_group_describe_topic_partitions, n > 0 ? n : 1);
	int k = 0;

	for (int i = 0; i < n; i++) {
		memcpy(o[k].topic_id.b, t[i].topic_id, 16);
		o[k].topic_name = t[i].topic_name.len >= 0 ? t[i].topic_name : KSTR_LIT("");
		o[k].partitions = karray_of((void *)t[i].partitions, t[i].npartitions);
		k++;
	}
	as->topic_partitions = karray_of(o, k);
	return as;
}

static bool topics_visible(const request *req, const cg_group_desc *d)
{
	for (int k = 0; k < d->nmembers; k++) {
		const cg_member_desc *m = &d->members[k];
		for (int i = 0; i < m->nassignment; i++)
			if (!authz_topic(req, ACL_OP_DESCRIBE, m->assignment[i].topic_name))
				return false;
		for (int i = 0; i < m->ntarget_assignment; i++)
			if (!authz_topic(req, ACL_OP_DESCRIBE, m->target_assignment[i].topic_name))
				return false;
	}
	return true;
}

void handle_consumer_group_describe(request *req)
{
	const consumer_group_describe_req *b = req->body;
	consumer_group_describe_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = b->group_ids.count > 0 ? b->group_ids.count : 0;

	req->resp = resp;
	cgroups_prepare(req, b->group_ids.items, n, false, describe_ready, req);
}

static void describe_ready(void *arg, int16_t err)
{
	request *req = arg;
	const consumer_group_describe_req *b = req->body;
	consumer_group_describe_resp *resp = req->resp;
	int32_t n = b->group_ids.count > 0 ? b->group_ids.count : 0;
	const kstr *ids = b->group_ids.items;
	consumer_group_describe_resp_group *out =
		ARENA_NEW_ARRAY(req->arena, consumer_group_describe_resp_group, n > 0 ? n : 1);

	for (int32_t i = 0; i < n; i++) {
		consumer_group_describe_resp_group *g = &out[i];
		cg_group_desc d;

		g->group_id = ids[i];
		g->error_message = KSTR_NULL;
		g->group_state = KSTR_LIT("");
		g->assignor_name = KSTR_LIT("");
		g->members = karray_of(NULL, 0);
		g->authorized_operations = INT32_MIN;
		if (!authz_group(req, ACL_OP_DESCRIBE, ids[i])) {
			g->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
			continue;
		}
		if (!cluster_is_coordinator(ids[i])) {
			g->error_code = KERR_NOT_COORDINATOR;
			continue;
		}
		if (err) {
			g->error_code = err;
			continue;
		}
		if (!cg_describe(cgroups(), ids[i], req->arena, &d)) {
			g->error_code = KERR_GROUP_ID_NOT_FOUND;
			g->error_message = kstr_c(arena_printf(req->arena, "Group %.*s not found.",
							       ids[i].len, ids[i].ptr));
			continue;
		}
		/* KafkaApis (KAFKA-18813): a client that may not DESCRIBE
		 * every topic the members are assigned sees nothing of the
		 * group but TOPIC_AUTHORIZATION_FAILED. */
		if (!topics_visible(req, &d)) {
			g->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
			continue;
		}
		g->error_code = KERR_NONE;
		g->group_state = kstr_c(d.state_name);
		g->group_epoch = d.group_epoch;
		g->assignment_epoch = d.assignment_epoch;
		g->assignor_name = kstr_c(d.assignor_name ? d.assignor_name : "");
		if (b->include_authorized_operations)
			g->authorized_operations = authz_operations(req, ACL_RES_GROUP, ids[i]);
		consumer_group_describe_resp_member *m =
			ARENA_NEW_ARRAY(req->arena, consumer_group_describe_resp_member,
					d.nmembers > 0 ? d.nmembers : 1);
		for (int k = 0; k < d.nmembers; k++) {
			const cg_member_desc *md = &d.members[k];
			m[k].member_id = md->member_id;
			m[k].instance_id = md->instance_id;
			m[k].rack_id = md->rack_id;
			m[k].member_epoch = md->member_epoch;
			m[k].client_id = md->client_id;
			m[k].client_host = md->client_host;
			m[k].subscribed_topic_names =
				karray_of(md->subscribed_topic_names, md->nsubscribed_topic_names);
			m[k].subscribed_topic_regex = md->subscribed_topic_regex;
			/* v1: every member speaks the consumer protocol (1);
			 * classic members never join a consumer group here. */
			m[k].member_type = 1;
			m[k].assignment = describe_assignment(req, md->assignment, md->nassignment);
			m[k].target_assignment = describe_assignment(req, md->target_assignment,
								     md->ntarget_assignment);
		}
		g->members = karray_of(m, d.nmembers);
	}
	resp->groups = karray_of(out, n);
	request_complete(req);
}
