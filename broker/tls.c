/*
 * TLS for the SSL listeners.
 *
 * One OpenSSL server context, built from ssl.certificate.location,
 * ssl.key.location and ssl.ca.location: TLS 1.2 at least, the server's
 * certificate chain and key, and with ssl.client.auth requested or
 * required a request for a client certificate that must chain to the CA.
 * Each connection's SSL holds a reference to the context it was made
 * from, so tls_reload() can swap in a new context for the connections
 * that follow while established ones keep theirs.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "log.h"
#include "tls.h"

#define SESSION_ID_CONTEXT "pg_kafka"

static SSL_CTX *ctx;

static SSL_CTX *build_ctx(char *why, size_t whylen);
static void error_text(const char *what, const char *file, char *why, size_t whylen);

int tls_init(void)
{
	char why[512];

	ctx = build_ctx(why, sizeof(why));
	if (!ctx) {
		log_error("TLS: %s", why);
		return -1;
	}
	log_info("TLS: certificate %s, client certificates %s", g_config.ssl_certificate_location,
		 g_config.ssl_client_auth == SSL_CLIENT_AUTH_REQUIRED    ? "required"
		 : g_config.ssl_client_auth == SSL_CLIENT_AUTH_REQUESTED ? "requested"
									 : "not asked for");
	return 0;
}

int tls_reload(void)
{
	char why[512];
	SSL_CTX *fresh;

	if (!ctx) {
		log_info("TLS: no SSL listener; nothing to reload");
		return 0;
	}
	fresh = build_ctx(why, sizeof(why));
	if (!fresh) {
		log_error("TLS: reload failed, keeping the previous certificates: %s", why);
		return -1;
	}
	SSL_CTX_free(ctx); /* established connections hold their own reference */
	ctx = fresh;
	log_info("TLS: reloaded certificate %s and key %s", g_config.ssl_certificate_location,
		 g_config.ssl_key_location);
	return 0;
}

SSL *tls_new_ssl(void)
{
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;

	if (!ssl) {
		char why[256];
		error_text("SSL_new", NULL, why, sizeof(why));
		log_error("TLS: cannot start a connection: %s", why);
	}
	return ssl;
}

void tls_shutdown(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

void tls_peer_principal(SSL *ssl, char *buf, size_t len)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	X509_NAME *subject;
	char cn[256];

	snprintf(buf, len, "User:ANONYMOUS");
	if (!cert)
		return;
	subject = X509_get_subject_name(cert);
	if (SSL_get_verify_result(ssl) != X509_V_OK || !subject) {
		X509_free(cert);
		return;
	}
	if (X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof(cn)) > 0) {
		snprintf(buf, len, "User:%s", cn);
	} else {
		BIO *b = BIO_new(BIO_s_mem());
		char dn[256];
		int n;

		if (b && X509_NAME_print_ex(b, subject, 0, XN_FLAG_RFC2253) >= 0 &&
		    (n = BIO_read(b, dn, (int)sizeof(dn) - 1)) > 0) {
			dn[n] = '\0';
			snprintf(buf, len, "User:%s", dn);
		}
		BIO_free(b);
	}
	X509_free(cert);
}

void tls_last_error(unsigned long err, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (err)
		ERR_error_string_n(err, buf, len);
	ERR_clear_error();
}

bool tls_error_is_eof(unsigned long err)
{
	return ERR_GET_LIB(err) == ERR_LIB_SSL &&
	       ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* ---- the context ---- */

static SSL_CTX *build_ctx(char *why, size_t whylen)
{
	const char *cert = g_config.ssl_certificate_location;
	const char *key = g_config.ssl_key_location;
	const char *ca = g_config.ssl_ca_location;
	SSL_CTX *c;

	ERR_clear_error();
	c = SSL_CTX_new(TLS_server_method());
	if (!c) {
		error_text("SSL_CTX_new", NULL, why, whylen);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) {
		error_text("setting TLS 1.2 as the minimum", NULL, why, whylen);
		goto fail;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				       SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		error_text("ssl.certificate.location", cert, why, whylen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
		error_text("ssl.key.location", key, why, whylen);
		goto fail;
	}
	if (SSL_CTX_check_private_key(c) != 1) {
		error_text("ssl.key.location does not match ssl.certificate.location", key, why,
			   whylen);
		goto fail;
	}
	if (ca && *ca) {
		STACK_OF(X509_NAME) * names;

		if (SSL_CTX_load_verify_locations(c, ca, NULL) != 1) {
			error_text("ssl.ca.location", ca, why, whylen);
			goto fail;
		}
		names = SSL_load_client_CA_file(ca);
		if (names)
			SSL_CTX_set_client_CA_list(c, names);
	}
	/* Sessions resumed with client verification need an id context. */
	SSL_CTX_set_session_id_context(c, (const unsigned char *)SESSION_ID_CONTEXT,
				       sizeof(SESSION_ID_CONTEXT) - 1);
	if (g_config.ssl_client_auth == SSL_CLIENT_AUTH_REQUIRED)
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else if (g_config.ssl_client_auth == SSL_CLIENT_AUTH_REQUESTED)
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	else
		SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	ERR_clear_error();
	return c;
fail:
	SSL_CTX_free(c);
	return NULL;
}

/* "what (file): first OpenSSL error", clearing OpenSSL's error queue. */
static void error_text(const char *what, const char *file, char *why, size_t whylen)
{
	char err[256];

	tls_last_error(ERR_get_error(), err, sizeof(err));
	snprintf(why, whylen, "%s%s%s%s: %s", what, file ? " (" : "", file ? file : "",
		 file ? ")" : "", *err ? err : "failed");
}
