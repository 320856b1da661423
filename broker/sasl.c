/*
 * SASL mechanisms, server side: SCRAM message parsing and proof checking,
 * PLAIN parsing, and the key derivation both share (see sasl.h).
 *
 * Every parser works on a byte range with explicit lengths: nothing here
 * relies on a NUL terminator in client input, and every copy into the
 * fixed buffers of scram_server is bounded.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sasl.h"

static const EVP_MD *mech_md(sasl_mech m);
static int hmac(sasl_mech m, const uint8_t *key, size_t klen, const void *data, size_t dlen,
		uint8_t *out);
static bool nonce_valid(const char *p, size_t n);
static int unescape_saslname(const char *p, size_t n, char *out, size_t outlen);
static const char *memfind(const char *p, size_t n, char c);
static void set_err(char *err, size_t errlen, const char *msg);

static const char *const mech_names[SASL_MECH_COUNT] = {
	[SASL_PLAIN] = "PLAIN",
	[SASL_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[SASL_SCRAM_SHA_512] = "SCRAM-SHA-512",
};

const char *sasl_mech_name(sasl_mech m)
{
	return (unsigned)m < SASL_MECH_COUNT ? mech_names[m] : "?";
}

int sasl_mech_parse(const char *name, size_t len)
{
	for (int i = 0; i < SASL_MECH_COUNT; i++)
		if (strlen(mech_names[i]) == len && memcmp(mech_names[i], name, len) == 0)
			return i;
	return -1;
}

size_t scram_hash_len(sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256 ? 32 : m == SASL_SCRAM_SHA_512 ? 64 : 0;
}

int scram_mech_type(sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256 ? 1 : m == SASL_SCRAM_SHA_512 ? 2 : 0;
}

int scram_mech_from_type(int type)
{
	return type == 1 ? SASL_SCRAM_SHA_256 : type == 2 ? SASL_SCRAM_SHA_512 : -1;
}

static const EVP_MD *mech_md(sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256 ? EVP_sha256() : m == SASL_SCRAM_SHA_512 ? EVP_sha512() : NULL;
}

static int hmac(sasl_mech m, const uint8_t *key, size_t klen, const void *data, size_t dlen,
		uint8_t *out)
{
	unsigned int olen = 0;

	if (!HMAC(mech_md(m), key, (int)klen, data, dlen, out, &olen) ||
	    olen != scram_hash_len(m))
		return -1;
	return 0;
}

int scram_keys(sasl_mech m, const uint8_t *password, size_t plen, const uint8_t *salt,
	       size_t salt_len, int iterations, uint8_t *stored_key, uint8_t *server_key)
{
	uint8_t salted[SCRAM_MAX_HASH];
	size_t hl = scram_hash_len(m);
	int rc = -1;

	if (hl == 0 || iterations < 1 || plen > SASL_MSG_MAX || salt_len > SCRAM_MAX_SALT)
		return -1;
	if (PKCS5_PBKDF2_HMAC((const char *)password, (int)plen, salt, (int)salt_len, iterations,
			      mech_md(m), (int)hl, salted))
		rc = scram_keys_from_salted(m, salted, hl, stored_key, server_key);
	OPENSSL_cleanse(salted, sizeof(salted));
	return rc;
}

int scram_keys_from_salted(sasl_mech m, const uint8_t *salted, size_t len, uint8_t *stored_key,
			   uint8_t *server_key)
{
	uint8_t client_key[SCRAM_MAX_HASH];
	size_t hl = scram_hash_len(m);
	unsigned int dlen = 0;
	int rc = -1;

	if (hl == 0 || len != hl)
		return -1;
	if (hmac(m, salted, hl, "Client Key", 10, client_key) == 0 &&
	    EVP_Digest(client_key, hl, stored_key, &dlen, mech_md(m), NULL) && dlen == hl &&
	    hmac(m, salted, hl, "Server Key", 10, server_key) == 0)
		rc = 0;
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

/* ---- SCRAM ---- */

/*
 * gs2-header: "n," or "y," (the client supports channel binding but believes
 * we do not: true, we offer no -PLUS mechanism), then an optional
 * "a=authzid", then ",". "p=..." asks for channel binding: refused.
 * client-first-message-bare: ["m=..." ,] "n=" saslname "," "r=" nonce
 * ["," extensions].
 */
int scram_client_first(scram_server *s, sasl_mech m, const uint8_t *msg, size_t len, char *err,
		       size_t errlen)
{
	const char *p = (const char *)msg, *end = p + len, *c, *bare;
	char authzid[SASL_USER_MAX + 1];
	int ulen;

	memset(s, 0, sizeof(*s));
	s->mech = m;
	authzid[0] = 0;
	if (scram_hash_len(m) == 0 || len > SASL_MSG_MAX) {
		set_err(err, errlen, "SCRAM client-first message too long");
		return SCRAM_MALFORMED;
	}
	if (memfind(p, len, '\0')) {
		set_err(err, errlen, "NUL byte in the SCRAM client-first message");
		return SCRAM_MALFORMED;
	}
	if (len < 2 || p[1] != ',' || (p[0] != 'n' && p[0] != 'y')) {
		if (len >= 2 && p[0] == 'p' && p[1] == '=') {
			set_err(err, errlen, "channel binding is not supported");
			return SCRAM_REFUSED;
		}
		set_err(err, errlen, "SCRAM client-first message without a valid gs2 header");
		return SCRAM_MALFORMED;
	}
	p += 2;
	c = memfind(p, (size_t)(end - p), ',');
	if (!c) {
		set_err(err, errlen, "SCRAM gs2 header not terminated");
		return SCRAM_MALFORMED;
	}
	if (c > p) {
		if (c - p < 2 || p[0] != 'a' || p[1] != '=' ||
		    unescape_saslname(p + 2, (size_t)(c - p - 2), authzid, sizeof(authzid)) < 0) {
			set_err(err, errlen, "SCRAM gs2 header with a malformed authzid");
			return SCRAM_MALFORMED;
		}
	}
	bare = c + 1;
	memcpy(s->gs2_header, msg, (size_t)(bare - (const char *)msg));
	if ((size_t)(end - bare) > SASL_MSG_MAX) {
		set_err(err, errlen, "SCRAM client-first message too long");
		return SCRAM_MALFORMED;
	}
	memcpy(s->client_first_bare, bare, (size_t)(end - bare));
	p = bare;
	if (end - p >= 2 && p[0] == 'm' && p[1] == '=') {
		set_err(err, errlen, "SCRAM mandatory extensions are not supported");
		return SCRAM_REFUSED;
	}
	if (end - p < 2 || p[0] != 'n' || p[1] != '=') {
		set_err(err, errlen, "SCRAM client-first message without n=");
		return SCRAM_MALFORMED;
	}
	p += 2;
	c = memfind(p, (size_t)(end - p), ',');
	if (!c || (ulen = unescape_saslname(p, (size_t)(c - p), s->user, sizeof(s->user))) <= 0) {
		set_err(err, errlen, "SCRAM client-first message with a malformed user name");
		return SCRAM_MALFORMED;
	}
	p = c + 1;
	if (end - p < 2 || p[0] != 'r' || p[1] != '=') {
		set_err(err, errlen, "SCRAM client-first message without r=");
		return SCRAM_MALFORMED;
	}
	p += 2;
	c = memfind(p, (size_t)(end - p), ',');
	if (!c)
		c = end;
	if (c == p || (size_t)(c - p) > SCRAM_NONCE_MAX || !nonce_valid(p, (size_t)(c - p))) {
		set_err(err, errlen, "SCRAM client-first message with a malformed nonce");
		return SCRAM_MALFORMED;
	}
	memcpy(s->nonce, p, (size_t)(c - p));
	s->client_nonce_len = (size_t)(c - p);
	/* Extensions: Kafka knows one, tokenauth (delegation tokens). */
	for (p = c; p < end;) {
		const char *e;
		p++; /* the comma */
		e = memfind(p, (size_t)(end - p), ',');
		if (!e)
			e = end;
		const char *eq = memfind(p, (size_t)(e - p), '=');
		if (!eq || eq == p) {
			set_err(err, errlen, "SCRAM client-first message with a malformed extension");
			return SCRAM_MALFORMED;
		}
		if (e - p >= 10 && memcmp(p, "tokenauth=", 10) == 0) {
			set_err(err, errlen, "delegation tokens are not supported");
			return SCRAM_REFUSED;
		}
		p = e;
	}
	if (authzid[0] && strcmp(authzid, s->user) != 0) {
		set_err(err, errlen, "an authorization id different from the user name");
		return SCRAM_REFUSED;
	}
	return SCRAM_OK;
}

int scram_server_first(scram_server *s, const scram_credential *cred, const char *server_nonce)
{
	size_t snl = strlen(server_nonce);
	char salt64[4 * ((SCRAM_MAX_SALT + 2) / 3) + 1];
	int n;

	if (snl == 0 || snl > SCRAM_NONCE_MAX || !nonce_valid(server_nonce, snl) ||
	    cred->salt_len > SCRAM_MAX_SALT || cred->iterations < 1)
		return -1;
	memcpy(s->nonce + s->client_nonce_len, server_nonce, snl);
	s->nonce[s->client_nonce_len + snl] = 0;
	b64_encode(cred->salt, cred->salt_len, salt64);
	n = snprintf(s->server_first, sizeof(s->server_first), "r=%s,s=%s,i=%d", s->nonce, salt64,
		     cred->iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first))
		return -1;
	return n;
}

/*
 * client-final-message: "c=" base64(gs2 header) "," "r=" nonce
 * ["," extensions] "," "p=" base64(ClientProof). AuthMessage is
 * client-first-bare "," server-first "," client-final-without-proof.
 */
int scram_client_final(scram_server *s, const scram_credential *cred, const uint8_t *msg,
		       size_t len, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *p = (const char *)msg, *end = p + len, *c, *proof64;
	char cbind[4 * ((sizeof(s->gs2_header) + 2) / 3) + 1];
	uint8_t proof[SCRAM_MAX_HASH + 3], sig[SCRAM_MAX_HASH], key[SCRAM_MAX_HASH],
		check[SCRAM_MAX_HASH], server_sig[SCRAM_MAX_HASH];
	char auth[3 * SASL_MSG_MAX + sizeof(s->server_first)];
	size_t hl = scram_hash_len(s->mech), wp, nl = strlen(s->nonce);
	unsigned int dlen = 0;
	int plen, an;

	snprintf(out, outlen, "e=other-error");
	if (hl == 0 || len > SASL_MSG_MAX || memfind(p, len, '\0')) {
		set_err(err, errlen, "SCRAM client-final message malformed");
		return SCRAM_MALFORMED;
	}
	/* The proof is the last attribute. */
	for (c = end; c > p && c[-1] != ','; c--)
		;
	if (c == p || end - c < 2 || c[0] != 'p' || c[1] != '=') {
		set_err(err, errlen, "SCRAM client-final message without a proof");
		return SCRAM_MALFORMED;
	}
	proof64 = c + 2;
	wp = (size_t)(c - 1 - p); /* client-final-without-proof */
	plen = b64_decode(proof64, (size_t)(end - proof64), proof, sizeof(proof));
	if (plen != (int)hl) {
		set_err(err, errlen, "SCRAM client proof of the wrong size");
		return SCRAM_MALFORMED;
	}
	b64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), cbind);
	c = memfind(p, wp, ',');
	if (wp < 2 || p[0] != 'c' || p[1] != '=' || !c) {
		set_err(err, errlen, "SCRAM client-final message without c=");
		return SCRAM_MALFORMED;
	}
	if ((size_t)(c - p - 2) != strlen(cbind) || memcmp(p + 2, cbind, strlen(cbind)) != 0) {
		snprintf(out, outlen, "e=channel-bindings-dont-match");
		set_err(err, errlen, "SCRAM channel binding does not match the gs2 header");
		return SCRAM_MALFORMED;
	}
	p = c + 1;
	c = memfind(p, (size_t)((const char *)msg + wp - p), ',');
	if (!c)
		c = (const char *)msg + wp;
	if (c - p < 2 || p[0] != 'r' || p[1] != '=') {
		set_err(err, errlen, "SCRAM client-final message without r=");
		return SCRAM_MALFORMED;
	}
	/* Kafka's broker accepts an r= that ends with the nonce, and
	 * librdkafka sends the client nonce, then the whole nonce: so do we.
	 * The proof covers the message as sent, so nothing is weakened. */
	if ((size_t)(c - p - 2) < nl || memcmp(c - nl, s->nonce, nl) != 0) {
		set_err(err, errlen, "SCRAM nonce does not match");
		return SCRAM_BAD_PROOF;
	}
	an = snprintf(auth, sizeof(auth), "%s,%s,", s->client_first_bare, s->server_first);
	if (an < 0 || (size_t)an + wp >= sizeof(auth)) {
		set_err(err, errlen, "SCRAM messages too long");
		return SCRAM_MALFORMED;
	}
	memcpy(auth + an, msg, wp);
	an += (int)wp;
	/* ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage);
	 * the proof holds when H(ClientKey) = StoredKey. */
	if (hmac(s->mech, cred->stored_key, hl, auth, (size_t)an, sig) < 0) {
		set_err(err, errlen, "SCRAM computation failed");
		return SCRAM_MALFORMED;
	}
	for (size_t i = 0; i < hl; i++)
		key[i] = proof[i] ^ sig[i];
	if (!EVP_Digest(key, hl, check, &dlen, mech_md(s->mech), NULL) || dlen != hl ||
	    CRYPTO_memcmp(check, cred->stored_key, hl) != 0) {
		snprintf(out, outlen, "e=invalid-proof");
		set_err(err, errlen, "invalid credentials");
		OPENSSL_cleanse(key, sizeof(key));
		return SCRAM_BAD_PROOF;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (hmac(s->mech, cred->server_key, hl, auth, (size_t)an, server_sig) < 0 ||
	    outlen < 3 + 4 * ((hl + 2) / 3) + 1) {
		set_err(err, errlen, "SCRAM computation failed");
		return SCRAM_MALFORMED;
	}
	memcpy(out, "v=", 2);
	b64_encode(server_sig, hl, out + 2);
	return SCRAM_OK;
}

void scram_server_nonce(char out[33])
{
	uint8_t r[24];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		/* No entropy: a nonce that cannot match any proof computed
		 * before it is still unpredictable enough to fail closed. */
		memset(r, 0, sizeof(r));
	}
	b64_encode(r, sizeof(r), out);
	/* '+' and '/' are fine in a nonce; ',' never appears in base64. */
}

void scram_fake_credential(sasl_mech m, const char *user, const uint8_t *secret, size_t slen,
			   scram_credential *out)
{
	uint8_t mac[SCRAM_MAX_HASH];
	unsigned int olen = 0;

	memset(out, 0, sizeof(*out));
	out->iterations = SCRAM_MIN_ITERATIONS;
	out->salt_len = 16;
	HMAC(EVP_sha256(), secret, (int)slen, (const uint8_t *)user, strlen(user), mac, &olen);
	memcpy(out->salt, mac, out->salt_len);
	if (RAND_bytes(out->stored_key, SCRAM_MAX_HASH) != 1)
		memset(out->stored_key, 0xA5, SCRAM_MAX_HASH);
	memcpy(out->server_key, out->stored_key, SCRAM_MAX_HASH);
	(void)m;
}

/* ---- PLAIN ---- */

int sasl_plain_parse(const uint8_t *msg, size_t len, sasl_plain *out, char *err, size_t errlen)
{
	const char *p = (const char *)msg, *end = p + len, *z1, *z2;

	memset(out, 0, sizeof(*out));
	if (len > SASL_MSG_MAX) {
		set_err(err, errlen, "PLAIN message too long");
		return -1;
	}
	z1 = memfind(p, len, '\0');
	z2 = z1 ? memfind(z1 + 1, (size_t)(end - z1 - 1), '\0') : NULL;
	if (!z1 || !z2 || memfind(z2 + 1, (size_t)(end - z2 - 1), '\0')) {
		set_err(err, errlen, "PLAIN message is not authzid NUL user NUL password");
		return -1;
	}
	out->authzid = p;
	out->authzid_len = (size_t)(z1 - p);
	out->authcid = z1 + 1;
	out->authcid_len = (size_t)(z2 - z1 - 1);
	out->passwd = z2 + 1;
	out->passwd_len = (size_t)(end - z2 - 1);
	if (out->authcid_len == 0 || out->authcid_len > SASL_USER_MAX) {
		set_err(err, errlen, "PLAIN message with an empty or too long user name");
		return -1;
	}
	if (out->passwd_len == 0) {
		set_err(err, errlen, "PLAIN message with an empty password");
		return -1;
	}
	if (out->authzid_len != 0 &&
	    (out->authzid_len != out->authcid_len ||
	     memcmp(out->authzid, out->authcid, out->authcid_len) != 0)) {
		set_err(err, errlen, "an authorization id different from the user name");
		return -1;
	}
	return 0;
}

bool sasl_password_matches(sasl_mech m, const scram_credential *cred, const uint8_t *password,
			   size_t plen)
{
	uint8_t stored[SCRAM_MAX_HASH], server[SCRAM_MAX_HASH];
	size_t hl = scram_hash_len(m);
	bool ok;

	if (hl == 0 || cred->iterations < 1 || cred->iterations > SASL_PLAIN_MAX_ITERATIONS ||
	    scram_keys(m, password, plen, cred->salt, cred->salt_len, cred->iterations, stored,
		       server) < 0)
		return false;
	ok = CRYPTO_memcmp(stored, cred->stored_key, hl) == 0;
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(server, sizeof(server));
	return ok;
}

/* ---- base64 ---- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
	}
	out[o] = 0;
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(const char *in, size_t n, uint8_t *out, size_t outlen)
{
	size_t o = 0;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(in[i + k])) < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		if (o + (size_t)(3 - pad) > outlen)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (int)o;
}

/* ---- helpers ---- */

/* printable ASCII except ',' (RFC 5802 "printable"). */
static bool nonce_valid(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/* saslname: "=2C" is ',', "=3D" is '='; any other '=' is an error. Its
 * length, or -1 (malformed or longer than outlen - 1). */
static int unescape_saslname(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (ch == '=') {
			if (i + 3 > n)
				return -1;
			if (p[i + 1] == '2' && p[i + 2] == 'C')
				ch = ',';
			else if (p[i + 1] == '3' && p[i + 2] == 'D')
				ch = '=';
			else
				return -1;
			i += 2;
		} else if (ch == ',' || ch == '\0') {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = ch;
	}
	out[o] = 0;
	return (int)o;
}

static const char *memfind(const char *p, size_t n, char c) { return memchr(p, c, n); }

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}
