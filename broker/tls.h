/*
 * TLS for the SSL listeners: the OpenSSL server context, made from the PEM
 * files of the config, and what a connection learns from its handshake.
 */
#ifndef PGK_TLS_H
#define PGK_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct ssl_st;

/* Build the context from g_config (ssl.*). 0, or -1 (logged). */
int tls_init(void);
/* Re-read the certificate, key and CA files: new connections use the new
 * context, established ones keep theirs. On failure the old context stays
 * and one line is logged. 0 or -1. */
int tls_reload(void);
/* A new server-side SSL for an accepted connection, or NULL (logged). */
struct ssl_st *tls_new_ssl(void);
/* The Kafka principal of an established connection: "User:<CN>" of a
 * verified client certificate (its whole subject if it has no CN), else
 * "User:ANONYMOUS". */
void tls_peer_principal(struct ssl_st *ssl, char *buf, size_t len);
/* The first queued OpenSSL error as text ("" if none), clearing the queue. */
void tls_last_error(unsigned long err, char *buf, size_t len);
/* Whether err says only that the peer closed the connection. */
bool tls_error_is_eof(unsigned long err);
void tls_shutdown(void);

#endif
