/*
 * The broker's metrics: counters and latency histograms fed by the server
 * at the points every request passes (decoded, completed, written), and
 * gauges read from the modules that own the state (pool, stream, fetches,
 * groups, memory) when the text is rendered. metrics_http.c serves the
 * text; docs/OPERATIONS.md lists every metric.
 *
 * Counting never allocates on the request path beyond a small table of
 * (API, version, error code) triples that grows when a triple is first
 * seen; everything is single-threaded, like the broker.
 */
#ifndef PGK_METRICS_H
#define PGK_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct evbuffer;

/* Latency histogram bucket upper bounds in seconds (+Inf is implicit). */
#define METRICS_LATENCY_BUCKETS 16
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];

/* Which bucket a latency of us microseconds falls in:
 * 0..METRICS_LATENCY_BUCKETS-1, or METRICS_LATENCY_BUCKETS for +Inf. */
int metrics_latency_bucket(int64_t us);

/* Why a frame never reached a handler. */
typedef enum metrics_reject {
	REJECT_MALFORMED,   /* the frame does not parse */
	REJECT_UNSUPPORTED, /* API or version not implemented */
	REJECT_TOO_LARGE,   /* over socket.request.max.bytes */
	REJECT_REASONS
} metrics_reject;

/* A request was decoded and is about to be handed to its handler: stamps
 * its start time. */
void metrics_request_start(request *req);
/* Its response is ready (once per request): counts it, its latency and
 * every non-zero error_code in the response (top level and per entry).
 * Requests with no_response (acks=0) are counted without errors. */
void metrics_request_done(const request *req);
void metrics_request_rejected(metrics_reject why);
void metrics_bytes_in(size_t n);
void metrics_bytes_out(size_t n);
void metrics_connection_opened(void);
void metrics_connection_closed(void);

/* Open transactions as last counted in PostgreSQL; < 0: not known. */
void metrics_set_transactions_open(int64_t n);

/* Whether the broker can serve: a PostgreSQL pool connection is up and
 * the wake-up stream is streaming (or stream.enabled is off). When not,
 * *why (if why is not NULL) says which is missing. */
bool metrics_ready(const char **why);

/* Append every metric in Prometheus text format (version 0.0.4). */
void metrics_render(struct evbuffer *out);

/* Forget every counter (unit tests) and free the error table. */
void metrics_reset(void);

#endif
