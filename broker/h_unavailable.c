/*
 * APIs whose feature pg_kafka does not have, answered as Kafka answers
 * when the feature is unavailable, never with a success it cannot back:
 *
 * - delegation tokens (Create, Renew, Expire, DescribeDelegationToken):
 *   token authentication is not enabled;
 * - client quotas: none are stored, so DescribeClientQuotas (after
 *   Kafka's validation of the filter) finds none, and AlterClientQuotas
 *   refuses to set one (removing one that does not exist succeeds);
 * - WriteTxnMarkers: an inter-broker request; pg_kafka's transaction
 *   coordinator writes its markers itself, and no client holds
 *   CLUSTER_ACTION.
 *
 * docs/PROTOCOL.md lists each with what a client gets.
 */
#include <arpa/inet.h>
#include <string.h>

#include "arena_str.h"
#include "handlers.h"
#include "kerr.h"
#include "listeners.h"

#define KERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED 64
#define KERR_INVALID_PRINCIPAL_TYPE 67

/* Kafka's quota entity types (ClientQuotaEntity). */
#define QUOTA_USER "user"
#define QUOTA_CLIENT_ID "client-id"
#define QUOTA_IP "ip"

/* DescribeClientQuotas match types. */
enum { MATCH_EXACT = 0, MATCH_DEFAULT = 1, MATCH_SPECIFIED = 2 };

static int16_t token_refusal(const request *req);
static void principal_split(arena *a, kstr principal, kstr *type, kstr *name);

/* ---- Delegation tokens ---- */

/*
 * KafkaApis.allowTokenRequests: no token requests over PLAINTEXT, from an
 * anonymous SSL client, or (not possible here) over a token-authenticated
 * session: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED. Elsewhere the broker
 * (or its controller) has no token authentication:
 * DELEGATION_TOKEN_AUTH_DISABLED.
 */
static int16_t token_refusal(const request *req)
{
	sec_protocol proto = req->listener ? req->listener->protocol : SEC_PLAINTEXT;

	if (proto == SEC_PLAINTEXT ||
	    (proto == SEC_SSL && kstr_eq(req->principal, "User:ANONYMOUS")))
		return KERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;
	return KERR_DELEGATION_TOKEN_AUTH_DISABLED;
}

/* "User:alice" -> "User", "alice". */
static void principal_split(arena *a, kstr principal, kstr *type, kstr *name)
{
	const char *colon =
		principal.len > 0 ? memchr(principal.ptr, ':', (size_t)principal.len) : NULL;

	if (!colon) {
		*type = kstr_c("User");
		*name = kstr_c("ANONYMOUS");
		return;
	}
	int32_t tl = (int32_t)(colon - principal.ptr);
	*type = kstr_c(arena_cstr(a, (kstr){principal.ptr, tl}));
	*name = kstr_c(arena_cstr(a, (kstr){colon + 1, principal.len - tl - 1}));
}

void handle_create_delegation_token(request *req)
{
	const create_token_req *body = req->body;
	create_token_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	kstr rtype, rname;

	principal_split(req->arena, req->principal, &rtype, &rname);
	/* CreateDelegationTokenResponse.prepareResponse: the owner (the
	 * requester unless one is named), the requester, no token. */
	if (body->owner_principal_name.len > 0) {
		resp->principal_type = body->owner_principal_type;
		resp->principal_name = body->owner_principal_name;
	} else {
		resp->principal_type = rtype;
		resp->principal_name = rname;
	}
	resp->token_requester_principal_type = rtype;
	resp->token_requester_principal_name = rname;
	resp->issue_timestamp_ms = -1;
	resp->expiry_timestamp_ms = -1;
	resp->max_timestamp_ms = -1;
	resp->token_id = kstr_c("");
	resp->hmac = kstr_c("");
	resp->error_code = token_refusal(req);
	if (resp->error_code == KERR_DELEGATION_TOKEN_AUTH_DISABLED) {
		const token_principal *r = body->renewers.items;
		for (int32_t i = 0; i < body->renewers.count; i++)
			if (!kstr_eq(r[i].principal_type, "User"))
				resp->error_code = KERR_INVALID_PRINCIPAL_TYPE;
	}
	req->resp = resp;
	request_complete(req);
}

/* Renew and Expire share their answer. */
static void token_expiry_refuse(request *req)
{
	token_expiry_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code = token_refusal(req);
	resp->expiry_timestamp_ms = -1;
	req->resp = resp;
	request_complete(req);
}

void handle_renew_delegation_token(request *req) { token_expiry_refuse(req); }

void handle_expire_delegation_token(request *req) { token_expiry_refuse(req); }

void handle_describe_delegation_token(request *req)
{
	describe_token_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code = token_refusal(req);
	resp->tokens = karray_of(NULL, 0);
	req->resp = resp;
	request_complete(req);
}

/* ---- Client quotas ---- */

static bool quota_type_known(kstr type)
{
	return kstr_eq(type, QUOTA_USER) || kstr_eq(type, QUOTA_CLIENT_ID) ||
	       kstr_eq(type, QUOTA_IP);
}

/*
 * ClientQuotasImage.describe's validation of the filter: known entity
 * types, each at most once, a match string exactly when the match type
 * wants one, and no ip with user or client-id. Returns the error and its
 * message; a valid filter matches nothing, since no quota is stored.
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

void handle_describe_client_quotas(request *req)
{
	describe_quotas_resp *resp = arena_alloc(req->arena, sizeof(*resp));

	resp->error_code = describe_quotas_check(req, &resp->error_message);
	/* An error answers null entries, as DescribeClientQuotasResponse
	 * does; a valid filter matches no stored quota. */
	resp->entries = resp->error_code ? (karray){-1, NULL} : karray_of(NULL, 0);
	req->resp = resp;
	request_complete(req);
}

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

void handle_alter_client_quotas(request *req)
{
	const alter_quotas_req *body = req->body;
	alter_quotas_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = body->entries.count > 0 ? body->entries.count : 0;
	const alter_quotas_req_entry *e = body->entries.items;
	alter_quotas_resp_entry *out = ARENA_NEW_ARRAY(req->arena, alter_quotas_resp_entry, n + 1);

	for (int32_t i = 0; i < n; i++) {
		out[i].entity = e[i].entity;
		out[i].error_code = alter_quota_check(req, &e[i], &out[i].error_message);
		if (out[i].error_code != KERR_NONE)
			continue;
		bool sets = false;
		const alter_quotas_req_op *op = e[i].ops.items;
		for (int32_t j = 0; j < e[i].ops.count; j++)
			sets |= !op[j].remove;
		/* Removing a quota that is not there leaves what is asked
		 * for: no quota. Setting one would be a promise pg_kafka
		 * cannot keep, validate_only included. */
		if (sets) {
			out[i].error_code = KERR_POLICY_VIOLATION;
			out[i].error_message = kstr_c("pg_kafka does not store or enforce client "
						      "quotas; see docs/PROTOCOL.md");
		}
	}
	resp->entries = karray_of(out, n);
	req->resp = resp;
	request_complete(req);
}

/* ---- WriteTxnMarkers ---- */

/* WriteTxnMarkersRequest.getErrorResponse for a client without
 * CLUSTER_ACTION: every partition refused. */
void handle_write_txn_markers(request *req)
{
	const write_txn_markers_req *body = req->body;
	write_txn_markers_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	int32_t n = body->markers.count > 0 ? body->markers.count : 0;
	const write_txn_markers_req_marker *m = body->markers.items;
	write_txn_markers_resp_marker *out =
		ARENA_NEW_ARRAY(req->arena, write_txn_markers_resp_marker, n + 1);

	for (int32_t i = 0; i < n; i++) {
		int32_t nt = m[i].topics.count > 0 ? m[i].topics.count : 0;
		const write_txn_markers_req_topic *t = m[i].topics.items;
		write_txn_markers_resp_topic *ot =
			ARENA_NEW_ARRAY(req->arena, write_txn_markers_resp_topic, nt + 1);
		out[i].producer_id = m[i].producer_id;
		for (int32_t j = 0; j < nt; j++) {
			int32_t np =
				t[j].partition_indexes.count > 0 ? t[j].partition_indexes.count : 0;
			const int32_t *p = t[j].partition_indexes.items;
			partition_error *pe = ARENA_NEW_ARRAY(req->arena, partition_error, np + 1);
			for (int32_t k = 0; k < np; k++) {
				pe[k].partition_index = p[k];
				pe[k].error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
			}
			ot[j].name = t[j].name;
			ot[j].partitions = karray_of(pe, np);
		}
		out[i].topics = karray_of(ot, nt);
	}
	resp->markers = karray_of(out, n);
	req->resp = resp;
	request_complete(req);
}
