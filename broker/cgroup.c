/*
 * Consumer groups of the consumer protocol (KIP-848): see cgroup.h.
 *
 * This first version only answers: every heartbeat is refused with
 * UNKNOWN_SERVER_ERROR and no group exists. The state machine follows.
 */
#include "cgroup.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cg_coord {
	cg_options opt;
};

const char *cg_group_state_name(cg_group_state s)
{
	switch (s) {
	case CG_EMPTY:
		return "Empty";
	case CG_ASSIGNING:
		return "Assigning";
	case CG_RECONCILING:
		return "Reconciling";
	case CG_STABLE:
		return "Stable";
	case CG_DEAD:
		break;
	}
	return "Dead";
}

bool cg_group_state_parse(kstr name, cg_group_state *out)
{
	static const cg_group_state all[] = {CG_EMPTY, CG_ASSIGNING, CG_RECONCILING, CG_STABLE,
					     CG_DEAD};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = cg_group_state_name(all[i]);
		if (name.len == (int32_t)strlen(n) &&
		    strncasecmp(name.ptr, n, (size_t)name.len) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

const char *cg_member_state_name(cg_member_state s)
{
	switch (s) {
	case CG_MEMBER_STABLE:
		return "stable";
	case CG_MEMBER_UNREVOKED_PARTITIONS:
		return "unrevoked_partitions";
	case CG_MEMBER_UNRELEASED_PARTITIONS:
		return "unreleased_partitions";
	}
	return "unknown";
}

bool cg_assignor_known(kstr name) { return kstr_eq(name, "uniform") || kstr_eq(name, "range"); }

cg_coord *cg_new(const cg_options *options)
{
	cg_options def = CG_DEFAULT_OPTIONS;
	if (!options)
		options = &def;
	if (options->default_assignor && !cg_assignor_known(kstr_c(options->default_assignor)))
		return NULL;
	cg_coord *c = calloc(1, sizeof(*c));
	if (c)
		c->opt = *options;
	return c;
}

void cg_free(cg_coord *c) { free(c); }

void cg_set_topics(cg_coord *c, const cg_topic *topics, int ntopics, int64_t now_ms)
{
	(void)c, (void)topics, (void)ntopics, (void)now_ms;
}

int16_t cg_heartbeat(cg_coord *c, const cg_heartbeat_req *r, int64_t now_ms, arena *a,
		     cg_heartbeat_resp *out)
{
	(void)r, (void)now_ms, (void)a;
	memset(out, 0, sizeof(*out));
	out->member_id = KSTR_NULL;
	out->heartbeat_interval_ms = c->opt.heartbeat_interval_ms;
	out->error_code = KERR_UNKNOWN_SERVER_ERROR;
	return out->error_code;
}

int64_t cg_next_deadline(const cg_coord *c)
{
	(void)c;
	return INT64_MAX;
}

void cg_fire_due(cg_coord *c, int64_t now_ms) { (void)c, (void)now_ms; }

bool cg_describe(cg_coord *c, kstr group_id, arena *a, cg_group_desc *out)
{
	(void)c, (void)group_id, (void)a, (void)out;
	return false;
}

int cg_list(cg_coord *c, arena *a, cg_group_brief **out)
{
	(void)c, (void)a;
	*out = NULL;
	return 0;
}

bool cg_exists(const cg_coord *c, kstr group_id)
{
	(void)c, (void)group_id;
	return false;
}

bool cg_is_empty(const cg_coord *c, kstr group_id)
{
	(void)c, (void)group_id;
	return true;
}

cg_group_state cg_state(const cg_coord *c, kstr group_id)
{
	(void)c, (void)group_id;
	return CG_DEAD;
}

bool cg_subscribed(const cg_coord *c, kstr group_id, kstr topic)
{
	(void)c, (void)group_id, (void)topic;
	return false;
}

int16_t cg_delete(cg_coord *c, kstr group_id)
{
	(void)c, (void)group_id;
	return KERR_GROUP_ID_NOT_FOUND;
}

int16_t cg_commit_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
			bool transactional, int16_t api_version, bool *known)
{
	(void)c, (void)group_id, (void)member_id, (void)member_epoch, (void)transactional,
		(void)api_version;
	*known = false;
	return KERR_NONE;
}

int16_t cg_fetch_check(const cg_coord *c, kstr group_id, kstr member_id, int32_t member_epoch,
		       bool *known)
{
	(void)c, (void)group_id, (void)member_id, (void)member_epoch;
	*known = false;
	return KERR_NONE;
}

bool cg_export(cg_coord *c, kstr group_id, arena *a, cg_group_record *out)
{
	(void)c, (void)group_id, (void)a, (void)out;
	return false;
}

int16_t cg_restore(cg_coord *c, const cg_group_record *g, int64_t now_ms)
{
	(void)c, (void)g, (void)now_ms;
	return KERR_INVALID_REQUEST;
}

int cg_take_changed(cg_coord *c, arena *a, kstr **group_ids)
{
	(void)c, (void)a;
	*group_ids = NULL;
	return 0;
}
