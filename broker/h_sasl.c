/*
 * SaslHandshake and SaslAuthenticate: a connection's SASL session on the
 * SASL_PLAINTEXT and SASL_SSL listeners (docs/SECURITY.md).
 *
 * States of a session (one per connection, in its CONN_SLOT_SASL slot):
 *
 *   START --SaslHandshake(mech)--> MECH --PLAIN token ok-------------> DONE
 *                                   |                                  ^
 *                                   +--SCRAM client-first--> SCRAM_FIRST
 *                                                 client-final ok -----+
 *   DONE --SaslHandshake (KIP-368 re-authentication)--> MECH ...
 *
 * Any failure answers SASL_AUTHENTICATION_FAILED (or the error Kafka gives
 * for the step: UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE), logs one
 * line with the client's host and the user name, and closes the connection
 * once the answer is written. A lookup in flight (BUSY) makes any other
 * SASL request illegal.
 *
 * Credentials come from kafka.scram_credential(user, mechanism): a
 * kafka_users role's own SCRAM-SHA-256 verifier, or a row of
 * kafka.scram_credentials. For a user without one the SCRAM exchange goes
 * on with a made-up salt and fails at the proof, so the answers do not tell
 * who exists. PLAIN checks the password against the user's SCRAM-SHA-256
 * credential, else its SCRAM-SHA-512 one.
 *
 * A re-authentication must be as the same user (Kafka refuses a change of
 * principal); each success starts a new session lifetime.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "arena_str.h"
#include "clock.h"
#include "config.h"
#include "h_sasl.h"
#include "handlers.h"
#include "kerr.h"
#include "listeners.h"
#include "log.h"
#include "params.h"
#include "pool.h"
#include "sasl.h"
#include "validate.h"

#define KERR_UNSUPPORTED_SASL_MECHANISM 33
#define KERR_ILLEGAL_SASL_STATE 34
#define KERR_SASL_AUTHENTICATION_FAILED 58

typedef enum sasl_state {
	SS_START,       /* nothing yet, or a session done and not renewed */
	SS_MECH,        /* handshake done: the first token is due */
	SS_SCRAM_FIRST, /* server-first sent: client-final is due */
	SS_BUSY,        /* a credential lookup is in flight */
} sasl_state;

typedef struct sasl_session {
	sasl_state state;
	sasl_mech mech;
	bool raw;           /* SaslHandshake v0: tokens come unframed by Kafka headers */
	bool authenticated; /* once: the principal below is the connection's */
	char principal[SASL_USER_MAX + 8];
	int64_t expires_mono_ms; /* 0: never */
	bool unknown_user;       /* the SCRAM exchange runs on a made-up credential */
	scram_credential cred;
	scram_server scram;
} sasl_session;

/* A random key for the made-up salts of unknown users, per process. */
static uint8_t fake_secret[32];
static bool fake_secret_set;

static sasl_session *session_of(request *req, bool create);
static void session_release(void *data);
static unsigned listener_mechanisms(const request *req);
static bool listener_is_sasl(const request *req);
static void auth_fail(request *req, sasl_session *s, int16_t code, const char *user,
		      const char *why);
static void auth_succeed(request *req, sasl_session *s, const char *user, kstr auth_bytes);
static void scram_first(request *req, sasl_session *s, kstr token);
static void scram_first_done(void *arg, PGresult **res, int n, const char *err,
			     const char *sqlstate, bool retriable);
static void scram_final(request *req, sasl_session *s, kstr token);
static void plain_start(request *req, sasl_session *s, kstr token);
static void plain_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static bool credential_from_row(const PGresult *r, sasl_mech m, scram_credential *out);
static const char *loggable(arena *a, const char *p, int32_t n);
static int hex_decode(const char *hex, uint8_t *out, size_t cap);

/* ---- what the server asks ---- */

const char *sasl_conn_principal(conn_slot *slots)
{
	sasl_session *s = slots ? slots[CONN_SLOT_SASL].data : NULL;
	return s && s->authenticated ? s->principal : NULL;
}

bool sasl_conn_expired(conn_slot *slots, int64_t mono_ms)
{
	sasl_session *s = slots ? slots[CONN_SLOT_SASL].data : NULL;
	return s && s->authenticated && s->expires_mono_ms > 0 && mono_ms >= s->expires_mono_ms;
}

bool sasl_conn_raw_expected(conn_slot *slots)
{
	sasl_session *s = slots ? slots[CONN_SLOT_SASL].data : NULL;
	return s && s->raw && (s->state == SS_MECH || s->state == SS_SCRAM_FIRST);
}

/* ---- SaslHandshake ---- */

void handle_sasl_handshake(request *req)
{
	const sasl_handshake_req *body = req->body;
	sasl_handshake_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	unsigned mechs = listener_mechanisms(req);
	sasl_session *s;
	kstr *names;
	int n = 0, m;

	req->resp = resp;
	names = arena_alloc(req->arena, SASL_MECH_COUNT * sizeof(kstr));
	for (int i = 0; i < SASL_MECH_COUNT; i++)
		if (mechs & (1u << i))
			names[n++] = kstr_c(sasl_mech_name((sasl_mech)i));
	resp->mechanisms.count = n;
	resp->mechanisms.items = names;
	if (!listener_is_sasl(req)) {
		resp->error_code = KERR_ILLEGAL_SASL_STATE;
		request_complete(req);
		return;
	}
	s = session_of(req, true);
	if (!s || s->state == SS_BUSY || s->state == SS_SCRAM_FIRST) {
		log_warn("closing connection from %.*s: SaslHandshake in the middle of an "
			 "authentication",
			 req->client_host.len, req->client_host.ptr);
		resp->error_code = KERR_ILLEGAL_SASL_STATE;
		req->close_connection = true;
		request_complete(req);
		return;
	}
	m = body->mechanism.len > 0 ? sasl_mech_parse(body->mechanism.ptr,
						       (size_t)body->mechanism.len)
				    : -1;
	if (m < 0 || !(mechs & (1u << m))) {
		log_warn("closing connection from %.*s: SASL mechanism '%s' is not enabled on the "
			 "%s listener",
			 req->client_host.len, req->client_host.ptr,
			 loggable(req->arena, body->mechanism.ptr, body->mechanism.len),
			 sec_protocol_name(req->listener->protocol));
		resp->error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
		req->close_connection = true;
		request_complete(req);
		return;
	}
	s->mech = (sasl_mech)m;
	s->state = SS_MECH;
	/* Version 0 means raw tokens follow (no SaslAuthenticate); a client
	 * that re-authenticates uses SaslAuthenticate v1+. */
	s->raw = req->api_version == 0 && !s->authenticated;
	request_complete(req);
}

/* ---- SaslAuthenticate ---- */

void handle_sasl_authenticate(request *req)
{
	const sasl_authenticate_req *body = req->body;
	sasl_authenticate_resp *resp = arena_alloc(req->arena, sizeof(*resp));
	sasl_session *s;
	kstr token = body->auth_bytes;

	req->resp = resp;
	resp->error_message = KSTR_NULL;
	resp->auth_bytes = KSTR_LIT("");
	if (token.len < 0)
		token = KSTR_LIT("");
	if (!listener_is_sasl(req)) {
		resp->error_code = KERR_ILLEGAL_SASL_STATE;
		resp->error_message = KSTR_LIT("SaslAuthenticate on a listener without SASL");
		request_complete(req);
		return;
	}
	s = session_of(req, true);
	if (!s || (s->state != SS_MECH && s->state != SS_SCRAM_FIRST)) {
		log_warn("closing connection from %.*s: SaslAuthenticate without a SaslHandshake "
			 "before it",
			 req->client_host.len, req->client_host.ptr);
		resp->error_code = KERR_ILLEGAL_SASL_STATE;
		resp->error_message = KSTR_LIT("Unexpected SaslAuthenticate: send SaslHandshake first");
		req->close_connection = true;
		if (s && s->state != SS_BUSY)
			s->state = SS_START;
		request_complete(req);
		return;
	}
	if (s->state == SS_SCRAM_FIRST)
		scram_final(req, s, token);
	else if (s->mech == SASL_PLAIN)
		plain_start(req, s, token);
	else
		scram_first(req, s, token);
}

static void scram_first(request *req, sasl_session *s, kstr token)
{
	char err[128];
	int rc = scram_client_first(&s->scram, s->mech, (const uint8_t *)token.ptr,
				    (size_t)token.len, err, sizeof(err));
	params p = {0};
	db_stmt st;

	if (rc != SCRAM_OK) {
		/* Refused or malformed, Kafka answers both the same way. */
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED,
			  s->scram.user[0] ? s->scram.user : NULL, err);
		return;
	}
	if (!pgtext_valid(kstr_c(s->scram.user))) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, NULL,
			  "a user name that is not valid UTF-8");
		return;
	}
	s->state = SS_BUSY;
	params_str(&p, req->arena, kstr_c(s->scram.user));
	params_str(&p, req->arena, kstr_c(sasl_mech_name(s->mech)));
	st = params_stmt(Q_SCRAM_CREDENTIAL, &p, 0);
	db_submit(req->db, &st, 1, scram_first_done, req);
}

static void scram_first_done(void *arg, PGresult **res, int n, const char *err,
			     const char *sqlstate, bool retriable)
{
	request *req = arg;
	sasl_authenticate_resp *resp = req->resp;
	sasl_session *s = session_of(req, false);
	char nonce[33];
	int len;

	(void)n;
	(void)sqlstate;
	(void)retriable;
	if (err) {
		log_error("SASL: looking up the credential of '%s' failed: %s",
			  loggable(req->arena, s->scram.user, (int32_t)strlen(s->scram.user)), err);
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, s->scram.user,
			  "the credential could not be looked up");
		return;
	}
	s->unknown_user = !credential_from_row(res[0], s->mech, &s->cred);
	if (s->unknown_user) {
		if (!fake_secret_set) {
			if (RAND_bytes(fake_secret, sizeof(fake_secret)) != 1)
				memset(fake_secret, 0x5a, sizeof(fake_secret));
			fake_secret_set = true;
		}
		scram_fake_credential(s->mech, s->scram.user, fake_secret, sizeof(fake_secret),
				      &s->cred);
	}
	scram_server_nonce(nonce);
	len = scram_server_first(&s->scram, &s->cred, nonce);
	if (len < 0) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, s->scram.user,
			  "the stored credential is not usable");
		return;
	}
	s->state = SS_SCRAM_FIRST;
	resp->auth_bytes = arena_kstrdup(req->arena, (kstr){s->scram.server_first, len});
	request_complete(req);
}

static void scram_final(request *req, sasl_session *s, kstr token)
{
	char out[256], err[128];
	int rc = scram_client_final(&s->scram, &s->cred, (const uint8_t *)token.ptr,
				    (size_t)token.len, out, sizeof(out), err, sizeof(err));

	if (rc == SCRAM_OK && s->unknown_user)
		rc = SCRAM_BAD_PROOF; /* cannot happen with random keys; be sure */
	if (rc != SCRAM_OK) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, s->scram.user,
			  rc == SCRAM_BAD_PROOF
				  ? (s->unknown_user ? "unknown user" : "invalid credentials")
				  : err);
		return;
	}
	auth_succeed(req, s, s->scram.user, kstr_c(arena_strndup(req->arena, out, strlen(out))));
}

/* PLAIN: one token; look both SCRAM credentials up and try the password. */
static void plain_start(request *req, sasl_session *s, kstr token)
{
	sasl_plain pl;
	char err[128];
	params p1 = {0}, p2 = {0};
	db_stmt st[2];
	kstr user;

	if (sasl_plain_parse((const uint8_t *)token.ptr, (size_t)token.len, &pl, err,
			     sizeof(err)) < 0) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, NULL, err);
		return;
	}
	user = (kstr){pl.authcid, (int32_t)pl.authcid_len};
	memcpy(s->scram.user, pl.authcid, pl.authcid_len);
	s->scram.user[pl.authcid_len] = 0;
	if (!pgtext_valid(user)) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, NULL,
			  "a user name that is not valid UTF-8");
		return;
	}
	/* The password outlives the token only in the request's arena. */
	s->state = SS_BUSY;
	params_str(&p1, req->arena, user);
	params_str(&p1, req->arena, KSTR_LIT("SCRAM-SHA-256"));
	params_str(&p2, req->arena, user);
	params_str(&p2, req->arena, KSTR_LIT("SCRAM-SHA-512"));
	st[0] = params_stmt(Q_SCRAM_CREDENTIAL, &p1, 0);
	st[1] = params_stmt(Q_SCRAM_CREDENTIAL, &p2, 0);
	db_submit(req->db, st, 2, plain_done, req);
}

static void plain_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	request *req = arg;
	const sasl_authenticate_req *body = req->body;
	sasl_session *s = session_of(req, false);
	sasl_plain pl;
	scram_credential cred;
	bool found = false, ok = false;
	char why[128];

	(void)sqlstate;
	(void)retriable;
	if (err) {
		log_error("SASL: looking up the credential of '%s' failed: %s",
			  loggable(req->arena, s->scram.user, (int32_t)strlen(s->scram.user)), err);
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, s->scram.user,
			  "the credential could not be looked up");
		return;
	}
	sasl_plain_parse((const uint8_t *)body->auth_bytes.ptr, (size_t)body->auth_bytes.len, &pl,
			 why, sizeof(why));
	for (int i = 0; i < n && i < 2 && !ok; i++) {
		sasl_mech m = i == 0 ? SASL_SCRAM_SHA_256 : SASL_SCRAM_SHA_512;
		if (!credential_from_row(res[i], m, &cred))
			continue;
		found = true;
		ok = sasl_password_matches(m, &cred, (const uint8_t *)pl.passwd, pl.passwd_len);
	}
	OPENSSL_cleanse(&cred, sizeof(cred));
	if (!ok) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, s->scram.user,
			  found ? "invalid credentials" : "unknown user");
		return;
	}
	auth_succeed(req, s, s->scram.user, KSTR_LIT(""));
}

/* ---- outcomes ---- */

static void auth_succeed(request *req, sasl_session *s, const char *user, kstr auth_bytes)
{
	sasl_authenticate_resp *resp = req->resp;
	char principal[sizeof(s->principal)];
	int64_t life = g_config.connections_max_reauth_ms;

	snprintf(principal, sizeof(principal), "User:%s", user);
	if (s->authenticated && strcmp(principal, s->principal) != 0) {
		auth_fail(req, s, KERR_SASL_AUTHENTICATION_FAILED, user,
			  "re-authentication as a different user");
		return;
	}
	log_debug("client %.*s authenticated as %s (%s)%s", req->client_host.len,
		  req->client_host.ptr, principal, sasl_mech_name(s->mech),
		  s->authenticated ? ", re-authentication" : "");
	memcpy(s->principal, principal, sizeof(principal));
	s->authenticated = true;
	s->state = SS_START;
	s->raw = false;
	s->expires_mono_ms = life > 0 ? clock_mono_ms() + life : 0;
	OPENSSL_cleanse(&s->cred, sizeof(s->cred));
	resp->error_code = KERR_NONE;
	resp->auth_bytes = auth_bytes;
	resp->session_lifetime_ms = life;
	request_complete(req);
}

/* One log line (host, user, why; never the password), the error answered,
 * the connection closed once it is written. */
static void auth_fail(request *req, sasl_session *s, int16_t code, const char *user,
		      const char *why)
{
	sasl_authenticate_resp *resp = req->resp;

	log_warn("closing connection from %.*s: SASL %s authentication failed on the %s "
		 "listener%s%s%s: %s",
		 req->client_host.len, req->client_host.ptr, sasl_mech_name(s->mech),
		 req->listener ? sec_protocol_name(req->listener->protocol) : "?",
		 user ? " for user '" : "",
		 user ? loggable(req->arena, user, (int32_t)strlen(user)) : "", user ? "'" : "", why);
	resp->error_code = code;
	resp->error_message = kstr_c(arena_printf(
		req->arena, "Authentication failed during authentication due to invalid "
			    "credentials with SASL mechanism %s",
		sasl_mech_name(s->mech)));
	if (s->state == SS_SCRAM_FIRST || s->mech != SASL_PLAIN) {
		/* The SCRAM error, for clients that read it. */
		resp->auth_bytes = KSTR_LIT("e=invalid-proof");
		if (strcmp(why, "invalid credentials") != 0 && strcmp(why, "unknown user") != 0)
			resp->auth_bytes = KSTR_LIT("e=other-error");
	}
	s->state = SS_START;
	OPENSSL_cleanse(&s->cred, sizeof(s->cred));
	req->close_connection = true;
	request_complete(req);
}

/* ---- helpers ---- */

static sasl_session *session_of(request *req, bool create)
{
	conn_slot *slot = request_slot(req, CONN_SLOT_SASL);
	static sasl_session orphan; /* for a request without a connection (tests) */

	if (!slot) {
		if (create)
			memset(&orphan, 0, sizeof(orphan));
		return &orphan;
	}
	if (!slot->data && create) {
		slot->data = calloc(1, sizeof(sasl_session));
		slot->release = session_release;
	}
	return slot->data;
}

static void session_release(void *data)
{
	OPENSSL_cleanse(data, sizeof(sasl_session));
	free(data);
}

static bool listener_is_sasl(const request *req)
{
	return req->listener && sec_protocol_sasl(req->listener->protocol);
}

/* The enabled mechanisms, without PLAIN on SASL_PLAINTEXT unless allowed. */
static unsigned listener_mechanisms(const request *req)
{
	unsigned m = g_config.sasl_mechanisms;

	if (!listener_is_sasl(req))
		return 0;
	if (!sec_protocol_tls(req->listener->protocol) && !g_config.sasl_plain_allow_plaintext)
		m &= ~(1u << SASL_PLAIN);
	return m;
}

/* iterations, salt, stored_key, server_key (hex), source. */
static bool credential_from_row(const PGresult *r, sasl_mech m, scram_credential *out)
{
	size_t hl = scram_hash_len(m);
	int salt_len;

	memset(out, 0, sizeof(*out));
	if (!r || PQntuples(r) < 1 || PQnfields(r) < 4)
		return false;
	for (int c = 0; c < 4; c++)
		if (PQgetisnull(r, 0, c))
			return false;
	out->iterations = atoi(PQgetvalue(r, 0, 0));
	salt_len = hex_decode(PQgetvalue(r, 0, 1), out->salt, sizeof(out->salt));
	if (out->iterations < 1 || salt_len <= 0 ||
	    hex_decode(PQgetvalue(r, 0, 2), out->stored_key, sizeof(out->stored_key)) != (int)hl ||
	    hex_decode(PQgetvalue(r, 0, 3), out->server_key, sizeof(out->server_key)) != (int)hl) {
		log_warn("SASL: the stored %s credential is malformed; ignoring it",
			 sasl_mech_name(m));
		return false;
	}
	out->salt_len = (size_t)salt_len;
	return true;
}

/* Client text for a log line: at most 128 bytes, anything but printable
 * ASCII as '?', so that a name cannot break the line or forge another. */
static const char *loggable(arena *a, const char *p, int32_t n)
{
	int32_t len = n < 0 || !p ? 0 : n > 128 ? 128 : n;
	char *out = arena_alloc(a, (size_t)len + 4);

	for (int32_t i = 0; i < len; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (n > 128)
		memcpy(out + len, "...", 3);
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}
