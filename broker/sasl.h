/*
 * SASL mechanisms, server side, as pure functions over bytes: SCRAM-SHA-256
 * and SCRAM-SHA-512 (RFC 5802, RFC 7677) and PLAIN (RFC 4616). No sockets,
 * no SQL: h_sasl.c looks credentials up and carries the messages; the unit
 * tests and the fuzz target drive these directly.
 *
 * A SCRAM exchange on the server:
 *
 *   client-first  "n,,n=user,r=cnonce"        scram_client_first()
 *   server-first  "r=cnonce+snonce,s=salt,i=n" scram_server_first()
 *   client-final  "c=biws,r=...,p=proof"      scram_client_final()
 *   server-final  "v=signature"               (written by scram_client_final)
 *
 * A credential is what PostgreSQL keeps in pg_authid for a SCRAM-SHA-256
 * role, and what kafka.scram_credentials keeps: the salt, the iteration
 * count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey =
 * HMAC(SaltedPassword, "Server Key"). The password is never stored.
 * PLAIN checks a password by deriving StoredKey from it with the stored salt
 * and iterations and comparing in constant time.
 *
 * Passwords are used as given, without SASLprep, as Kafka's clients and
 * brokers do; PostgreSQL applies SASLprep when it stores a verifier, which
 * changes nothing for ASCII passwords.
 */
#ifndef PGK_SASL_H
#define PGK_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sasl_mech {
	SASL_PLAIN,
	SASL_SCRAM_SHA_256,
	SASL_SCRAM_SHA_512,
	SASL_MECH_COUNT
} sasl_mech;

/* Kafka's limits on SCRAM iterations (ScramMechanism). */
#define SCRAM_MIN_ITERATIONS 4096
#define SCRAM_MAX_ITERATIONS 16384
#define SCRAM_MAX_HASH 64
#define SCRAM_MAX_SALT 64
/* PLAIN derives the keys on the broker's event loop, a few milliseconds at
 * Kafka's iteration counts; a stored credential with more iterations than
 * this is not tried (PostgreSQL 15 writes 4096). */
#define SASL_PLAIN_MAX_ITERATIONS 100000
/* Longest user name, client message and nonce accepted. */
#define SASL_USER_MAX 512
#define SASL_MSG_MAX 2048
#define SCRAM_NONCE_MAX 256

/* "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512". */
const char *sasl_mech_name(sasl_mech m);
/* The mechanism of that name (exact, as Kafka compares), or -1. */
int sasl_mech_parse(const char *name, size_t len);
/* Digest length of a SCRAM mechanism (32 or 64); 0 for PLAIN. */
size_t scram_hash_len(sasl_mech m);
/* Kafka's ScramMechanism type byte (1: SHA-256, 2: SHA-512), and back (-1). */
int scram_mech_type(sasl_mech m);
int scram_mech_from_type(int type);

typedef struct scram_credential {
	int iterations;
	size_t salt_len;
	uint8_t salt[SCRAM_MAX_SALT];
	uint8_t stored_key[SCRAM_MAX_HASH]; /* scram_hash_len() bytes */
	uint8_t server_key[SCRAM_MAX_HASH];
} scram_credential;

/* StoredKey and ServerKey of a password. 0, or -1 (bad arguments). */
int scram_keys(sasl_mech m, const uint8_t *password, size_t plen, const uint8_t *salt,
	       size_t salt_len, int iterations, uint8_t *stored_key, uint8_t *server_key);

/* StoredKey and ServerKey from a SaltedPassword of scram_hash_len(m) bytes
 * (what AlterUserScramCredentials sends). 0, or -1. */
int scram_keys_from_salted(sasl_mech m, const uint8_t *salted, size_t len, uint8_t *stored_key,
			   uint8_t *server_key);

/* The state of one SCRAM exchange. */
typedef struct scram_server {
	sasl_mech mech;
	char user[SASL_USER_MAX + 1]; /* unescaped saslname */
	char gs2_header[SASL_USER_MAX + 8];
	char client_first_bare[SASL_MSG_MAX + 1];
	char nonce[2 * SCRAM_NONCE_MAX + 1]; /* client nonce, then (server-first) the server's */
	size_t client_nonce_len;
	char server_first[2 * SCRAM_NONCE_MAX + 2 * SCRAM_MAX_SALT + 64];
} scram_server;

enum {
	SCRAM_OK = 0,
	SCRAM_MALFORMED = -1,  /* not a SCRAM message of the expected kind */
	SCRAM_REFUSED = -2,    /* well-formed, but asks for what is not supported */
	SCRAM_BAD_PROOF = -3,  /* wrong password (or nonce) */
};

/*
 * Parse a client-first message into s (mech set from m). SCRAM_OK,
 * SCRAM_MALFORMED or SCRAM_REFUSED (channel binding required, an authzid
 * other than the user, a mandatory extension, delegation tokens), with a
 * reason in err.
 */
int scram_client_first(scram_server *s, sasl_mech m, const uint8_t *msg, size_t len, char *err,
		       size_t errlen);
/* Build the server-first message from the credential and server_nonce
 * (printable ASCII, no commas). Its length, or -1. */
int scram_server_first(scram_server *s, const scram_credential *cred, const char *server_nonce);
/*
 * Check a client-final message against the exchange and the credential.
 * On SCRAM_OK the server-final message ("v=...") is written NUL-terminated
 * to out (size outlen >= 128). Otherwise SCRAM_MALFORMED or SCRAM_BAD_PROOF
 * with a reason in err, and out holds the SCRAM error ("e=...").
 */
int scram_client_final(scram_server *s, const scram_credential *cred, const uint8_t *msg,
		       size_t len, char *out, size_t outlen, char *err, size_t errlen);

/* A fresh server nonce: 32 printable characters (base64 of random bytes). */
void scram_server_nonce(char out[33]);

/*
 * A credential for a user that does not exist, so that the exchange goes on
 * as for a real one and fails at the proof (RFC 5802 section 5.1): the
 * salt is derived from the user name and secret, so it stays the same
 * between attempts; the keys are random.
 */
void scram_fake_credential(sasl_mech m, const char *user, const uint8_t *secret, size_t slen,
			   scram_credential *out);

/* A PLAIN message: authzid NUL authcid NUL passwd. Pointers into msg. */
typedef struct sasl_plain {
	const char *authzid, *authcid, *passwd;
	size_t authzid_len, authcid_len, passwd_len;
} sasl_plain;

/* Parse and check its shape: a non-empty user and password, and an
 * authzid that is empty or the user. 0, or -1 with a reason in err. */
int sasl_plain_parse(const uint8_t *msg, size_t len, sasl_plain *out, char *err, size_t errlen);
/* Whether password matches a SCRAM credential of mechanism m. */
bool sasl_password_matches(sasl_mech m, const scram_credential *cred, const uint8_t *password,
			   size_t plen);

/* Base64 (RFC 4648, padded). Encode: output length, NUL-terminated (out
 * must hold 4 * ceil(n / 3) + 1). Decode, strictly: length, or -1. */
size_t b64_encode(const uint8_t *in, size_t n, char *out);
int b64_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

#endif
