/*
 * A request in flight: the decoded header and body, the arena that owns every
 * allocation made for it, and the response the handler builds.
 *
 * Flow: whoever creates a request (server.c for a client connection, a unit
 * test for a request it built) decodes it, sets on_complete and calls the
 * API's handler. The handler (possibly after asynchronous SQL work) fills
 * req->resp and calls request_complete(), which calls on_complete; the
 * server encodes the response and writes the responses of one connection in
 * request order. Handlers never touch sockets and know nothing of who
 * created the request.
 *
 * State that a handler keeps for a connection between its requests (the
 * fetch read-ahead) lives in the connection's slots: the handler stores a
 * pointer and the function that frees it, and the connection's owner calls
 * that function when the connection is freed.
 */
#ifndef PGK_REQUEST_H
#define PGK_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"

struct api_def;
struct listener_cfg;
struct pool_lane;
struct request;

/* Per-connection state slots, one per handler that keeps any. */
typedef enum conn_slot_id {
	CONN_SLOT_FETCH_READAHEAD, /* fetch_readahead.c */
	CONN_SLOT_SASL,            /* h_sasl.c: the connection's SASL session */
	CONN_SLOTS
} conn_slot_id;

typedef struct conn_slot {
	void *data;                  /* NULL: empty */
	void (*release)(void *data); /* frees data; called when the connection is freed */
} conn_slot;

/* Called once per request when its response is ready (or no_response is
 * set). The request may be freed by it. */
typedef void (*request_done_fn)(struct request *req);

typedef struct request {
	request_done_fn on_complete; /* set by the creator */
	void *owner;                 /* the creator's, opaque to handlers */
	conn_slot *slots;            /* the connection's CONN_SLOTS slots, or NULL */
	kstr client_host;            /* "/host", as Kafka shows clients */
	/* The listener the client connected on (its advertised endpoint is the
	 * one Metadata gives), or NULL (a request built by a test). */
	const struct listener_cfg *listener;
	kstr principal;       /* "User:ANONYMOUS", "User:<CN>"; for the authorizer */
	struct pool_lane *db; /* this client's lane of the pool (pool.h) */
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
	/* A raw SASL token (after SaslHandshake v0) carried as a SaslAuthenticate
	 * v0 request: the answer is the bare token, and a failure only closes. */
	bool raw_sasl;
	struct request *next;  /* server's in-order queue */
	bool done;
	size_t frame_len;   /* request frame size (server back-pressure) */
	int64_t started_us; /* monotonic, when handed to the handler (metrics) */
	int32_t throttle_ms; /* quota throttle: read nothing more for this long (server) */
	uint8_t *out;       /* encoded response frame (server) */
	size_t out_len;
} request;

/* Called by handlers when req->resp is ready (or no_response is set). */
static inline void request_complete(request *req) { req->on_complete(req); }

/* The slot of the request's connection, or NULL if it has none. */
static inline conn_slot *request_slot(request *req, conn_slot_id id)
{
	return req->slots ? &req->slots[id] : NULL;
}

typedef void (*handler_fn)(request *req);

#endif
