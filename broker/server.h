/*
 * The Kafka listener and its client connections: framing, dispatch to the
 * handlers, in-order responses and back-pressure.
 */
#ifndef PGK_SERVER_H
#define PGK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"

struct request;

struct event_base;

/* Listen on every listener of g_config (and set up TLS if one needs it).
 * Returns 0, or -1 (logged). */
int server_start(struct event_base *base);
/* SIGHUP: re-read the TLS certificates for the connections to come.
 * 0, or -1 (logged; the previous ones stay). */
int server_reload(void);
/* Stop accepting and close every client connection. Requests in flight
 * keep running (with client_gone set) and are freed when they complete. */
void server_stop(void);
/* Open client connections. */
size_t server_connections(void);
/* Requests decoded but not yet freed, over all connections. */
size_t server_requests_in_flight(void);
/* Bytes of requests received and responses sent, since start. */
uint64_t server_bytes_moved(void);
/* Free what is left; after the handlers and the pool have shut down. */
void server_free(void);

#endif
