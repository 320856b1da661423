/*
 * Listeners as Kafka writes them: "listeners" and "advertised.listeners",
 * comma-separated NAME://HOST:PORT entries. Without a security protocol
 * map, a listener's name is its security protocol, as in Kafka's default.
 * A pure parser (no sockets), shared by the config and its unit tests.
 */
#ifndef PGK_LISTENERS_H
#define PGK_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sec_protocol {
	SEC_PLAINTEXT,
	SEC_SSL,
	SEC_SASL_PLAINTEXT,
	SEC_SASL_SSL,
} sec_protocol;

#define LISTENERS_MAX 16

typedef struct listener_cfg {
	sec_protocol protocol; /* also the listener's name */
	char *host;            /* malloc'd, no brackets; "" binds every address */
	int port;
	char *adv_host; /* advertised.listeners, else the host (localhost if a wildcard) */
	int adv_port;
} listener_cfg;

/* "PLAINTEXT", "SSL", ... */
const char *sec_protocol_name(sec_protocol p);
/* Whether the protocol runs TLS on the socket. */
bool sec_protocol_tls(sec_protocol p);
/* Whether the protocol authenticates with SASL before other requests. */
bool sec_protocol_sasl(sec_protocol p);

/*
 * Parse "NAME://HOST:PORT[,...]" into a malloc'd array (adv_* left empty).
 * Names and ports must differ between entries. 0, or -1 with the reason in
 * why. An empty string gives no listeners.
 */
int listeners_parse(const char *v, listener_cfg **out, int *n, char *why, size_t whylen);
void listeners_free(listener_cfg *l, int n);

/* "NAME://HOST:PORT,..." of the listeners (advertised: their advertised
 * endpoints), IPv6 hosts in brackets, into buf (truncated to len). */
void listeners_format(const listener_cfg *l, int n, bool advertised, char *buf, size_t len);

/* "host:port", "[ipv6]:port", ":port" (host left empty) or "host" (no port).
 * The host is returned malloc'd, without brackets. 0, or -1 with why. */
int parse_hostport(const char *v, char **host, int *port, bool *port_given, char *why,
		   size_t whylen);

/* 0.0.0.0, :: or empty: every address. */
bool is_wildcard_host(const char *h);

#endif
