/*
 * The SASL handlers driven without sockets (handler_harness.h) against a
 * real PostgreSQL: a SCRAM-SHA-256 login of a kafka_users role through
 * SaslHandshake and SaslAuthenticate, the connection's principal after it,
 * PLAIN, the session's state machine (authenticate before handshake, an
 * unknown mechanism, a listener without SASL), and the admin APIs over
 * kafka.scram_credentials.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "clock.h"
#include "h_sasl.h"
#include "handler_harness.h"
#include "listeners.h"
#include "sasl.h"

#define KERR_UNSUPPORTED_SASL_MECHANISM 33
#define KERR_ILLEGAL_SASL_STATE 34
#define KERR_SASL_AUTHENTICATION_FAILED 58
#define KERR_UNACCEPTABLE_CREDENTIAL 93

static listener_cfg sasl_ssl = {.protocol = SEC_SASL_SSL};
static listener_cfg plaintext = {.protocol = SEC_PLAINTEXT};
static char role[64];

static int setup(void **state)
{
	char sql[200];

	if (hx_setup(state) != 0)
		return -1;
	if (!HX.base)
		return 0;
	snprintf(role, sizeof(role), "pgk_unit_sasl_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
	hx_sql(HX.conninfo, sql);
	snprintf(sql, sizeof(sql),
		 "CREATE ROLE %s LOGIN PASSWORD 'unit-secret' IN ROLE kafka_users", role);
	return hx_sql(HX.conninfo, sql) ? 0 : -1;
}

static int teardown(void **state)
{
	char sql[200];

	if (HX.base) {
		snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
		hx_sql(HX.conninfo, sql);
	}
	return hx_teardown(state);
}

/* A new connection: the SASL session of the last one is gone. */
static void new_connection(void)
{
	conn_slot *s = &HX.slots[CONN_SLOT_SASL];
	if (s->data)
		s->release(s->data);
	s->data = NULL;
}

static request *call_on(const listener_cfg *l, int16_t key, int16_t ver, const void *body,
			size_t size)
{
	request *req = hx_new(key, ver, body, size);
	req->listener = l;
	hx_run(req);
	return req;
}

static int16_t handshake(const listener_cfg *l, const char *mech)
{
	sasl_handshake_req b = {.mechanism = KS(mech)};
	request *req = call_on(l, API_SASL_HANDSHAKE, 1, &b, sizeof(b));
	int16_t e = ((sasl_handshake_resp *)req->resp)->error_code;
	hx_free(req);
	return e;
}

/* SaslAuthenticate with token: its error; the server's bytes into out. */
static int16_t authenticate(const char *token, size_t len, char *out, size_t outlen)
{
	sasl_authenticate_req b = {.auth_bytes = {token, (int32_t)len}};
	request *req = call_on(&sasl_ssl, API_SASL_AUTHENTICATE, 1, &b, sizeof(b));
	sasl_authenticate_resp *r = req->resp;
	int16_t e = r->error_code;
	if (out) {
		snprintf(out, outlen, "%.*s", r->auth_bytes.len, r->auth_bytes.ptr);
	}
	if (e != KERR_NONE)
		assert_true(req->close_connection);
	hx_free(req);
	return e;
}

/* A SCRAM-SHA-256 client: the whole login; the final error. */
static int16_t scram_login(const char *user, const char *password)
{
	char first[256], server_first[512], final[1024], server_final[256], auth[2048];
	char nonce[256], salt64[128], cb[16] = "biws", proof64[64];
	uint8_t salt[64], salted[32], ckey[32], skey[32], sig[32], proof[32];
	unsigned int l;
	int iters = 0, slen;

	assert_int_equal(handshake(&sasl_ssl, "SCRAM-SHA-256"), KERR_NONE);
	snprintf(first, sizeof(first), "n,,n=%s,r=unitclientnonce", user);
	assert_int_equal(authenticate(first, strlen(first), server_first, sizeof(server_first)),
			 KERR_NONE);
	assert_int_equal(sscanf(server_first, "r=%255[^,],s=%127[^,],i=%d", nonce, salt64, &iters),
			 3);
	assert_int_equal(strncmp(nonce, "unitclientnonce", 15), 0);
	slen = b64_decode(salt64, strlen(salt64), salt, sizeof(salt));
	assert_true(slen > 0);
	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, slen, iters, EVP_sha256(), 32,
			  salted);
	HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Client Key", 10, ckey, &l);
	EVP_Digest(ckey, 32, skey, &l, EVP_sha256(), NULL);
	snprintf(auth, sizeof(auth), "%s,%s,c=%s,r=%s", first + 3, server_first, cb, nonce);
	HMAC(EVP_sha256(), skey, 32, (const uint8_t *)auth, strlen(auth), sig, &l);
	for (int i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ sig[i];
	b64_encode(proof, 32, proof64);
	snprintf(final, sizeof(final), "c=%s,r=%s,p=%s", cb, nonce, proof64);
	int16_t e = authenticate(final, strlen(final), server_final, sizeof(server_final));
	if (e == KERR_NONE)
		assert_int_equal(strncmp(server_final, "v=", 2), 0);
	else
		assert_int_equal(strncmp(server_final, "e=", 2), 0);
	return e;
}

static void test_scram_login_of_a_role(void **state)
{
	char principal[128];
	(void)state;
	HX_NEED_PG();

	new_connection();
	assert_null(sasl_conn_principal(HX.slots));
	assert_int_equal(scram_login(role, "unit-secret"), KERR_NONE);
	snprintf(principal, sizeof(principal), "User:%s", role);
	assert_string_equal(sasl_conn_principal(HX.slots), principal);
	assert_false(sasl_conn_expired(HX.slots, INT64_MAX)); /* no lifetime by default */

	/* Re-authentication as the same user keeps the principal. */
	assert_int_equal(scram_login(role, "unit-secret"), KERR_NONE);
	assert_string_equal(sasl_conn_principal(HX.slots), principal);

	new_connection();
	assert_int_equal(scram_login(role, "not-the-password"), KERR_SASL_AUTHENTICATION_FAILED);
	assert_null(sasl_conn_principal(HX.slots));
	new_connection();
	assert_int_equal(scram_login("pgk_unit_nobody", "x"), KERR_SASL_AUTHENTICATION_FAILED);
	new_connection();
}

static void test_session_lifetime(void **state)
{
	(void)state;
	HX_NEED_PG();

	new_connection();
	g_config.connections_max_reauth_ms = 60000;
	assert_int_equal(scram_login(role, "unit-secret"), KERR_NONE);
	g_config.connections_max_reauth_ms = 0;
	assert_false(sasl_conn_expired(HX.slots, clock_mono_ms()));
	assert_true(sasl_conn_expired(HX.slots, clock_mono_ms() + 61000));
	new_connection();
}

static void test_plain(void **state)
{
	char tok[128];
	int n;
	(void)state;
	HX_NEED_PG();

	g_config.sasl_mechanisms |= 1u << SASL_PLAIN;
	new_connection();
	assert_int_equal(handshake(&sasl_ssl, "PLAIN"), KERR_NONE);
	n = snprintf(tok, sizeof(tok), "%c%s%cunit-secret", 0, role, 0);
	assert_int_equal(authenticate(tok, (size_t)n, NULL, 0), KERR_NONE);
	assert_non_null(sasl_conn_principal(HX.slots));
	new_connection();
	assert_int_equal(handshake(&sasl_ssl, "PLAIN"), KERR_NONE);
	n = snprintf(tok, sizeof(tok), "%c%s%cwrong", 0, role, 0);
	assert_int_equal(authenticate(tok, (size_t)n, NULL, 0), KERR_SASL_AUTHENTICATION_FAILED);
	new_connection();
	g_config.sasl_mechanisms &= ~(1u << SASL_PLAIN);
	/* Not enabled any more. */
	assert_int_equal(handshake(&sasl_ssl, "PLAIN"), KERR_UNSUPPORTED_SASL_MECHANISM);
	new_connection();
}

static void test_state_machine(void **state)
{
	(void)state;
	HX_NEED_PG();

	new_connection();
	assert_int_equal(authenticate("n,,n=x,r=y", 10, NULL, 0), KERR_ILLEGAL_SASL_STATE);
	new_connection();
	assert_int_equal(handshake(&sasl_ssl, "GSSAPI"), KERR_UNSUPPORTED_SASL_MECHANISM);
	new_connection();
	assert_int_equal(handshake(&plaintext, "SCRAM-SHA-256"), KERR_ILLEGAL_SASL_STATE);
	new_connection();
	/* A malformed client-first. */
	assert_int_equal(handshake(&sasl_ssl, "SCRAM-SHA-256"), KERR_NONE);
	assert_int_equal(authenticate("p=tls-unique,,n=x,r=y", 21, NULL, 0),
			 KERR_SASL_AUTHENTICATION_FAILED);
	new_connection();
}

static void test_alter_and_describe(void **state)
{
	uint8_t salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, salted[64];
	(void)state;
	HX_NEED_PG();

	PKCS5_PBKDF2_HMAC("k-pw", 4, salt, 16, 4096, EVP_sha512(), 64, salted);
	alter_scram_req_upsertion ups[2] = {
		{.name = KS("unit-managed"), .mechanism = 2, .iterations = 4096,
		 .salt = {(const char *)salt, 16}, .salted_password = {(const char *)salted, 64}},
		{.name = KS(role), .mechanism = 1, .iterations = 4096,
		 .salt = {(const char *)salt, 16}, .salted_password = {(const char *)salted, 32}},
	};
	alter_scram_req ab = {.deletions = ARR(NULL, 0), .upsertions = ARR(ups, 2)};
	request *req = hx_call(API_ALTER_USER_SCRAM_CREDENTIALS, 0, ab);
	alter_scram_resp *ar = req->resp;
	alter_scram_resp_result *res = ar->results.items;
	assert_int_equal(ar->results.count, 2);
	assert_true(kstr_eq(res[0].user, "unit-managed"));
	assert_int_equal(res[0].error_code, KERR_NONE);
	assert_int_equal(res[1].error_code, KERR_UNACCEPTABLE_CREDENTIAL);
	hx_free(req);

	describe_scram_req_user users[2] = {{.name = KS("unit-managed")}, {.name = KS("nobody")}};
	describe_scram_req db = {.users = ARR(users, 2)};
	req = hx_call(API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, db);
	describe_scram_resp *dr = req->resp;
	describe_scram_resp_result *d = dr->results.items;
	assert_int_equal(dr->results.count, 2);
	assert_int_equal(d[0].error_code, KERR_NONE);
	assert_int_equal(d[0].credential_infos.count, 1);
	assert_int_equal(((describe_scram_resp_info *)d[0].credential_infos.items)[0].mechanism, 2);
	assert_int_equal(d[1].error_code, KERR_RESOURCE_NOT_FOUND);
	hx_free(req);

	alter_scram_req_deletion dels[1] = {{.name = KS("unit-managed"), .mechanism = 2}};
	alter_scram_req del = {.deletions = ARR(dels, 1), .upsertions = ARR(NULL, 0)};
	req = hx_call(API_ALTER_USER_SCRAM_CREDENTIALS, 0, del);
	assert_int_equal(((alter_scram_resp_result *)((alter_scram_resp *)req->resp)->results.items)[0]
				 .error_code,
			 KERR_NONE);
	hx_free(req);
	req = hx_call(API_ALTER_USER_SCRAM_CREDENTIALS, 0, del);
	assert_int_equal(((alter_scram_resp_result *)((alter_scram_resp *)req->resp)->results.items)[0]
				 .error_code,
			 KERR_RESOURCE_NOT_FOUND);
	hx_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scram_login_of_a_role),
		cmocka_unit_test(test_session_lifetime),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_alter_and_describe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
