/*
 * Unit tests for broker/sasl.c: the SCRAM-SHA-256 exchange of RFC 7677
 * section 3 byte for byte, a SCRAM-SHA-512 round trip against a client
 * computed here, wrong proofs and nonces, malformed and refused messages,
 * PLAIN parsing and password checks, and base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sasl.h"

#define S(lit) (const uint8_t *)(lit), strlen(lit)
#define N(lit) (lit), strlen(lit)

/* RFC 7677 section 3. */
static const char rfc_client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc_server_nonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
static const char rfc_server_first[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				       "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char rfc_client_final[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char rfc_server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

static void rfc_credential(scram_credential *c)
{
	memset(c, 0, sizeof(*c));
	c->iterations = 4096;
	c->salt_len = (size_t)b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, c->salt, sizeof(c->salt));
	assert_int_equal(c->salt_len, 16);
	assert_int_equal(scram_keys(SASL_SCRAM_SHA_256, S("pencil"), c->salt, c->salt_len, 4096,
				    c->stored_key, c->server_key),
			 0);
}

static void test_rfc7677_exchange(void **state)
{
	scram_server s;
	scram_credential c;
	char out[256], err[128];
	(void)state;

	rfc_credential(&c);
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err,
					    sizeof(err)),
			 SCRAM_OK);
	assert_string_equal(s.user, "user");
	assert_int_equal(scram_server_first(&s, &c, rfc_server_nonce),
			 (int)strlen(rfc_server_first));
	assert_string_equal(s.server_first, rfc_server_first);
	assert_int_equal(scram_client_final(&s, &c, S(rfc_client_final), out, sizeof(out), err,
					    sizeof(err)),
			 SCRAM_OK);
	assert_string_equal(out, rfc_server_final);
}

/* One byte of the proof changed: refused, with the SCRAM error. */
static void test_rfc7677_wrong_proof(void **state)
{
	scram_server s;
	scram_credential c;
	char out[256], err[128], bad[sizeof(rfc_client_final)];
	(void)state;

	rfc_credential(&c);
	memcpy(bad, rfc_client_final, sizeof(bad));
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err, sizeof(err));
	scram_server_first(&s, &c, rfc_server_nonce);
	assert_int_equal(scram_client_final(&s, &c, S(bad), out, sizeof(out), err, sizeof(err)),
			 SCRAM_BAD_PROOF);
	assert_string_equal(out, "e=invalid-proof");
}

/* The right proof for another password's keys fails too. */
static void test_rfc7677_wrong_password(void **state)
{
	scram_server s;
	scram_credential c;
	char out[256], err[128];
	(void)state;

	rfc_credential(&c);
	scram_keys(SASL_SCRAM_SHA_256, S("pencil2"), c.salt, c.salt_len, 4096, c.stored_key,
		   c.server_key);
	scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err, sizeof(err));
	scram_server_first(&s, &c, rfc_server_nonce);
	assert_int_equal(scram_client_final(&s, &c, S(rfc_client_final), out, sizeof(out), err,
					    sizeof(err)),
			 SCRAM_BAD_PROOF);
}

/* A different server nonce: the client-final's r= no longer matches. */
static void test_nonce_mismatch(void **state)
{
	scram_server s;
	scram_credential c;
	char out[256], err[128];
	(void)state;

	rfc_credential(&c);
	scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err, sizeof(err));
	scram_server_first(&s, &c, "otherservernonce");
	assert_int_equal(scram_client_final(&s, &c, S(rfc_client_final), out, sizeof(out), err,
					    sizeof(err)),
			 SCRAM_BAD_PROOF);
}

static void client_final_nonce(sasl_mech m, const char *password, const scram_server *s,
			       const scram_credential *c, const char *nonce, char *out,
			       size_t outlen);

/* A client, computed here with OpenSSL: the client-final for a password. */
static void client_final_for(sasl_mech m, const char *password, const scram_server *s,
			     const scram_credential *c, char *out, size_t outlen)
{
	client_final_nonce(m, password, s, c, s->nonce, out, outlen);
}

static void client_final_nonce(sasl_mech m, const char *password, const scram_server *s,
			       const scram_credential *c, const char *nonce, char *out,
			       size_t outlen)
{
	const EVP_MD *md = m == SASL_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512();
	size_t hl = scram_hash_len(m);
	uint8_t salted[64], ckey[64], skey[64], sig[64], proof[64];
	unsigned int l;
	char auth[4096], without[1024], proof64[100], cb[100];

	PKCS5_PBKDF2_HMAC(password, (int)strlen(password), c->salt, (int)c->salt_len,
			  c->iterations, md, (int)hl, salted);
	HMAC(md, salted, (int)hl, (const uint8_t *)"Client Key", 10, ckey, &l);
	EVP_Digest(ckey, hl, skey, &l, md, NULL);
	b64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), cb);
	snprintf(without, sizeof(without), "c=%s,r=%s", cb, nonce);
	snprintf(auth, sizeof(auth), "%s,%s,%s", s->client_first_bare, s->server_first, without);
	HMAC(md, skey, (int)hl, (const uint8_t *)auth, strlen(auth), sig, &l);
	for (size_t i = 0; i < hl; i++)
		proof[i] = ckey[i] ^ sig[i];
	b64_encode(proof, hl, proof64);
	snprintf(out, outlen, "%s,p=%s", without, proof64);
}

static void test_sha512_round_trip(void **state)
{
	scram_server s;
	scram_credential c = {.iterations = 4096, .salt_len = 20};
	char nonce[33], final[1024], out[256], err[128];
	(void)state;

	for (size_t i = 0; i < c.salt_len; i++)
		c.salt[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(scram_keys(SASL_SCRAM_SHA_512, S("s3cret-512"), c.salt, c.salt_len,
				    c.iterations, c.stored_key, c.server_key),
			 0);
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_512,
					    S("n,a=bob,n=bob,r=abcdefghijklmnop"), err,
					    sizeof(err)),
			 SCRAM_OK);
	assert_string_equal(s.user, "bob");
	scram_server_nonce(nonce);
	assert_int_equal(strlen(nonce), 32);
	assert_true(scram_server_first(&s, &c, nonce) > 0);
	client_final_for(SASL_SCRAM_SHA_512, "s3cret-512", &s, &c, final, sizeof(final));
	assert_int_equal(scram_client_final(&s, &c, S(final), out, sizeof(out), err, sizeof(err)),
			 SCRAM_OK);
	assert_int_equal(strlen(out), 2 + 88); /* v= and base64 of 64 bytes */

	/* The wrong password, same exchange. */
	scram_client_first(&s, SASL_SCRAM_SHA_512, S("n,,n=bob,r=abcdefghijklmnop"), err,
			   sizeof(err));
	scram_server_first(&s, &c, nonce);
	client_final_for(SASL_SCRAM_SHA_512, "s3cret-51", &s, &c, final, sizeof(final));
	assert_int_equal(scram_client_final(&s, &c, S(final), out, sizeof(out), err, sizeof(err)),
			 SCRAM_BAD_PROOF);
}

/* librdkafka's client-final repeats the client nonce before the whole
 * nonce; Kafka accepts an r= that ends with the nonce, and so do we. A
 * nonce that only starts with it is refused. */
static void test_librdkafka_nonce(void **state)
{
	scram_server s;
	scram_credential c;
	char nonce[600], final[1024], out[256], err[128];
	(void)state;

	rfc_credential(&c);
	scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err, sizeof(err));
	scram_server_first(&s, &c, rfc_server_nonce);
	snprintf(nonce, sizeof(nonce), "rOprNGfwEbeRWgbNEkqO%s", s.nonce);
	client_final_nonce(SASL_SCRAM_SHA_256, "pencil", &s, &c, nonce, final, sizeof(final));
	assert_int_equal(scram_client_final(&s, &c, S(final), out, sizeof(out), err, sizeof(err)),
			 SCRAM_OK);
	snprintf(nonce, sizeof(nonce), "%sX", s.nonce);
	client_final_nonce(SASL_SCRAM_SHA_256, "pencil", &s, &c, nonce, final, sizeof(final));
	assert_int_equal(scram_client_final(&s, &c, S(final), out, sizeof(out), err, sizeof(err)),
			 SCRAM_BAD_PROOF);
}

/* 'y' is accepted (we offer no channel binding) and c= must then be "eSws". */
static void test_gs2_y_flag(void **state)
{
	scram_server s;
	scram_credential c;
	char final[1024], out[256], err[128];
	(void)state;

	rfc_credential(&c);
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_256,
					    S("y,,n=user,r=rOprNGfwEbeRWgbNEkqO"), err,
					    sizeof(err)),
			 SCRAM_OK);
	scram_server_first(&s, &c, rfc_server_nonce);
	client_final_for(SASL_SCRAM_SHA_256, "pencil", &s, &c, final, sizeof(final));
	assert_non_null(strstr(final, "c=eSws,"));
	assert_int_equal(scram_client_final(&s, &c, S(final), out, sizeof(out), err, sizeof(err)),
			 SCRAM_OK);
	/* The RFC's final (c=biws) does not match a 'y' header. */
	scram_client_first(&s, SASL_SCRAM_SHA_256, S("y,,n=user,r=rOprNGfwEbeRWgbNEkqO"), err,
			   sizeof(err));
	scram_server_first(&s, &c, rfc_server_nonce);
	assert_int_equal(scram_client_final(&s, &c, S(rfc_client_final), out, sizeof(out), err,
					    sizeof(err)),
			 SCRAM_MALFORMED);
	assert_string_equal(out, "e=channel-bindings-dont-match");
}

static void test_client_first_refused_and_malformed(void **state)
{
	static const struct {
		const char *msg;
		int rc;
	} cases[] = {
		{"p=tls-unique,,n=user,r=abc", SCRAM_REFUSED},
		{"n,a=other,n=user,r=abc", SCRAM_REFUSED},
		{"n,,m=ext,n=user,r=abc", SCRAM_REFUSED},
		{"n,,n=user,r=abc,tokenauth=true", SCRAM_REFUSED},
		{"", SCRAM_MALFORMED},
		{"n", SCRAM_MALFORMED},
		{"x,,n=user,r=abc", SCRAM_MALFORMED},
		{"n,,", SCRAM_MALFORMED},
		{"n,,n=,r=abc", SCRAM_MALFORMED},
		{"n,,n=user", SCRAM_MALFORMED},
		{"n,,n=user,r=", SCRAM_MALFORMED},
		{"n,,n=us=er,r=abc", SCRAM_MALFORMED},
		{"n,,n=user=2,r=abc", SCRAM_MALFORMED},
		{"n,,n=user,x=abc", SCRAM_MALFORMED},
		{"n,,n=user,r=ab c", SCRAM_MALFORMED},
		{"n,,n=user,r=abc,", SCRAM_MALFORMED},
		{"n,b=x,n=user,r=abc", SCRAM_MALFORMED},
	};
	scram_server s;
	char err[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = scram_client_first(&s, SASL_SCRAM_SHA_256, S(cases[i].msg), err,
					    sizeof(err));
		if (rc != cases[i].rc)
			fail_msg("'%s': %d, expected %d (%s)", cases[i].msg, rc, cases[i].rc, err);
	}
	/* A NUL inside is malformed too. */
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_256,
					    (const uint8_t *)"n,,n=us\0r,r=abc", 15, err,
					    sizeof(err)),
			 SCRAM_MALFORMED);
	/* Escaped names. */
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_256, S("n,,n=a=2Cb=3Dc,r=abc"), err,
					    sizeof(err)),
			 SCRAM_OK);
	assert_string_equal(s.user, "a,b=c");
	/* Unknown extensions are skipped. */
	assert_int_equal(scram_client_first(&s, SASL_SCRAM_SHA_256, S("n,,n=u,r=abc,x=1"), err,
					    sizeof(err)),
			 SCRAM_OK);
}

static void test_client_final_malformed(void **state)
{
	static const char *const cases[] = {
		"",
		"c=biws",
		"c=biws,r=x",
		"p=abc",
		"c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"r=x,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=short",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=",
		"c=bm,,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	};
	scram_server s;
	scram_credential c;
	char out[256], err[128];
	(void)state;

	rfc_credential(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		scram_client_first(&s, SASL_SCRAM_SHA_256, S(rfc_client_first), err, sizeof(err));
		scram_server_first(&s, &c, rfc_server_nonce);
		int rc = scram_client_final(&s, &c, S(cases[i]), out, sizeof(out), err, sizeof(err));
		if (rc == SCRAM_OK)
			fail_msg("'%s' accepted", cases[i]);
		assert_int_equal(strncmp(out, "e=", 2), 0);
	}
}

static void test_plain_parse(void **state)
{
	sasl_plain p;
	char err[128];
	(void)state;

	assert_int_equal(sasl_plain_parse((const uint8_t *)"\0alice\0secret", 13, &p, err,
					  sizeof(err)),
			 0);
	assert_int_equal(p.authcid_len, 5);
	assert_memory_equal(p.authcid, "alice", 5);
	assert_int_equal(p.passwd_len, 6);
	assert_memory_equal(p.passwd, "secret", 6);
	assert_int_equal(sasl_plain_parse((const uint8_t *)"alice\0alice\0secret", 18, &p, err,
					  sizeof(err)),
			 0);
	/* authzid other than the user */
	assert_int_equal(sasl_plain_parse((const uint8_t *)"bob\0alice\0secret", 16, &p, err,
					  sizeof(err)),
			 -1);
	/* empty user, empty password, missing or extra NULs */
	assert_int_equal(sasl_plain_parse((const uint8_t *)"\0\0secret", 8, &p, err, sizeof(err)),
			 -1);
	assert_int_equal(sasl_plain_parse((const uint8_t *)"\0alice\0", 7, &p, err, sizeof(err)),
			 -1);
	assert_int_equal(sasl_plain_parse((const uint8_t *)"alice\0secret", 12, &p, err,
					  sizeof(err)),
			 -1);
	assert_int_equal(sasl_plain_parse((const uint8_t *)"\0alice\0sec\0ret", 14, &p, err,
					  sizeof(err)),
			 -1);
	assert_int_equal(sasl_plain_parse((const uint8_t *)"", 0, &p, err, sizeof(err)), -1);
}

static void test_password_matches(void **state)
{
	scram_credential c;
	(void)state;

	rfc_credential(&c);
	assert_true(sasl_password_matches(SASL_SCRAM_SHA_256, &c, S("pencil")));
	assert_false(sasl_password_matches(SASL_SCRAM_SHA_256, &c, S("pencil ")));
	assert_false(sasl_password_matches(SASL_SCRAM_SHA_256, &c, S("")));
	assert_false(sasl_password_matches(SASL_PLAIN, &c, S("pencil")));
}

/* An unknown user's made-up credential: stable salt, never a match. */
static void test_fake_credential(void **state)
{
	scram_credential a, b;
	uint8_t secret[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	(void)state;

	scram_fake_credential(SASL_SCRAM_SHA_256, "nobody", secret, sizeof(secret), &a);
	scram_fake_credential(SASL_SCRAM_SHA_256, "nobody", secret, sizeof(secret), &b);
	assert_int_equal(a.salt_len, 16);
	assert_memory_equal(a.salt, b.salt, a.salt_len);
	assert_int_equal(a.iterations, SCRAM_MIN_ITERATIONS);
	assert_false(sasl_password_matches(SASL_SCRAM_SHA_256, &a, S("")));
}

static void test_mech_names(void **state)
{
	(void)state;
	assert_int_equal(sasl_mech_parse(N("SCRAM-SHA-256")), SASL_SCRAM_SHA_256);
	assert_int_equal(sasl_mech_parse(N("SCRAM-SHA-512")), SASL_SCRAM_SHA_512);
	assert_int_equal(sasl_mech_parse(N("PLAIN")), SASL_PLAIN);
	assert_int_equal(sasl_mech_parse(N("plain")), -1);
	assert_int_equal(sasl_mech_parse(N("GSSAPI")), -1);
	assert_int_equal(scram_mech_from_type(1), SASL_SCRAM_SHA_256);
	assert_int_equal(scram_mech_from_type(2), SASL_SCRAM_SHA_512);
	assert_int_equal(scram_mech_from_type(0), -1);
	assert_int_equal(scram_mech_type(SASL_SCRAM_SHA_512), 2);
}

static void test_keys_from_salted(void **state)
{
	scram_credential c;
	uint8_t salted[32], st[32], sv[32];
	(void)state;

	rfc_credential(&c);
	PKCS5_PBKDF2_HMAC("pencil", 6, c.salt, (int)c.salt_len, 4096, EVP_sha256(), 32, salted);
	assert_int_equal(scram_keys_from_salted(SASL_SCRAM_SHA_256, salted, 32, st, sv), 0);
	assert_memory_equal(st, c.stored_key, 32);
	assert_memory_equal(sv, c.server_key, 32);
	assert_int_equal(scram_keys_from_salted(SASL_SCRAM_SHA_512, salted, 32, st, sv), -1);
}

static void test_base64(void **state)
{
	uint8_t out[16];
	char enc[16];
	(void)state;

	assert_int_equal(b64_decode("biws", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "n,,", 3);
	assert_int_equal(b64_decode("YQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(b64_decode("YWI=", 4, out, sizeof(out)), 2);
	assert_int_equal(b64_decode("", 0, out, sizeof(out)), 0);
	assert_int_equal(b64_decode("YQ=", 3, out, sizeof(out)), -1);
	assert_int_equal(b64_decode("Y===", 4, out, sizeof(out)), -1);
	assert_int_equal(b64_decode("YQ==YQ==", 8, out, sizeof(out)), -1);
	assert_int_equal(b64_decode("Y!Q=", 4, out, sizeof(out)), -1);
	assert_int_equal(b64_decode("YWJj", 4, out, 2), -1);
	assert_int_equal(b64_encode((const uint8_t *)"ab", 2, enc), 4);
	assert_string_equal(enc, "YWI=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_exchange),
		cmocka_unit_test(test_rfc7677_wrong_proof),
		cmocka_unit_test(test_rfc7677_wrong_password),
		cmocka_unit_test(test_nonce_mismatch),
		cmocka_unit_test(test_sha512_round_trip),
		cmocka_unit_test(test_gs2_y_flag),
		cmocka_unit_test(test_librdkafka_nonce),
		cmocka_unit_test(test_client_first_refused_and_malformed),
		cmocka_unit_test(test_client_final_malformed),
		cmocka_unit_test(test_plain_parse),
		cmocka_unit_test(test_password_matches),
		cmocka_unit_test(test_fake_credential),
		cmocka_unit_test(test_mech_names),
		cmocka_unit_test(test_keys_from_salted),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
