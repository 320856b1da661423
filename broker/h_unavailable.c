/*
 * APIs whose feature pg_kafka does not have, answered as Kafka answers
 * when the feature is unavailable, never with a success it cannot back:
 *
 * - delegation tokens (Create, Renew, Expire, DescribeDelegationToken):
 *   token authentication is not enabled;
 * - WriteTxnMarkers: an inter-broker request; pg_kafka's transaction
 *   coordinator writes its markers itself, and no client holds
 *   CLUSTER_ACTION.
 *
 * docs/PROTOCOL.md lists each with what a client gets.
 */
#include <string.h>

#include "arena_str.h"
#include "handlers.h"
#include "kerr.h"
#include "listeners.h"

#define KERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED 64
#define KERR_INVALID_PRINCIPAL_TYPE 67

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
