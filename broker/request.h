/*
 * A request in flight: the decoded header and body, the arena that owns every
 * allocation made for it, and the response the handler builds.
 *
 * Flow: server.c reads a frame, proto decodes it into a request, dispatch
 * calls the API's handler. The handler (possibly after asynchronous SQL work)
 * fills req->resp and calls request_complete(); the server encodes the
 * response and writes responses of one connection in request order.
 * Handlers never touch sockets.
 */
#ifndef PGK_REQUEST_H
#define PGK_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"

struct api_def;
struct pgconn;
struct client;

typedef struct request {
	struct client *client; /* opaque to handlers */
	struct pgconn *db;     /* the pool connection of this client */
	void **readahead;      /* the client's fetch read-ahead (h_fetch.c) */
	arena *arena;
	const struct api_def *api;
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	kstr client_id;
	void *body;            /* decoded request, type per API */
	void *resp;            /* response, type per API; set by the handler */
	bool no_response;      /* produce acks=0: send nothing */
	bool close_connection; /* close after sending (or instead of) a response */
	bool client_gone;      /* the connection closed while we worked */
	struct request *next;  /* server's in-order queue */
	bool done;
	size_t frame_len; /* request frame size (server back-pressure) */
	uint8_t *out;     /* encoded response frame (server) */
	size_t out_len;
} request;

/* Called by handlers when req->resp is ready (or no_response is set). */
void request_complete(request *req);

typedef void (*handler_fn)(request *req);

#endif
