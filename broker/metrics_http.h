/*
 * The metrics and health HTTP listener (metrics.listen): /metrics,
 * /healthz and /readyz on the broker's event loop (metrics_http.c).
 */
#ifndef PGK_METRICS_HTTP_H
#define PGK_METRICS_HTTP_H

struct event_base;

typedef enum metrics_route {
	ROUTE_NOT_FOUND,
	ROUTE_METRICS,
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
} metrics_route;

/* Listen on host:port. Returns 0, or -1 (logged). */
int metrics_http_start(struct event_base *base, const char *host, int port);
/* Close the listener and its connections; safe when never started. */
void metrics_http_stop(void);
/* Which endpoint a request target names (its path; the query is ignored).
 * Any string, including NULL, is safe. */
metrics_route metrics_http_route(const char *uri);

#endif
