/*
 * The metrics and health listener (metrics.listen): libevent's evhttp on the
 * broker's own event loop, so every answer reads the state without locks.
 *
 *   GET /metrics   Prometheus text (metrics.c)
 *   GET /healthz   200 while the process serves its loop
 *   GET /readyz    200 when PostgreSQL is reachable, the wake-up stream is
 *                  connected and the broker holds its cluster lease (if it
 *                  has one), else 503 with the reason
 *
 * evhttp parses the request; metrics_http_route() only compares the path
 * it extracted (tests/fuzz_http_route.c). The open transactions are
 * counted in PostgreSQL every TXN_SAMPLE_MS, and when /metrics is asked
 * (at most every TXN_MIN_GAP_MS), one statement at a time; a scrape shows
 * the last count that answered.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "pool.h"
#include "queries.h"

#define TXN_SAMPLE_MS 10000
#define TXN_FIRST_SAMPLE_MS 1000
#define TXN_MIN_GAP_MS 1000
/* An HTTP request of more than this is refused by evhttp. */
#define MAX_HEADERS_BYTES 8192
#define MAX_BODY_BYTES 1024
#define HTTP_TIMEOUT_S 10

static struct {
	struct evhttp *http;
	struct event *txn_timer;
	bool txn_pending;       /* a sample's statement is in the pool */
	int64_t txn_started_ms; /* monotonic, when the last sample was sent */
} H;

static void on_request(struct evhttp_request *req, void *arg);
static void reply_text(struct evhttp_request *req, int code, const char *reason,
		       struct evbuffer *body);
static void on_txn_timer(evutil_socket_t fd, short what, void *arg);
static void txn_arm(int ms);
static void txn_sample(void);
static void txn_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable);

int metrics_http_start(struct event_base *base, const char *host, int port)
{
	struct evhttp_bound_socket *sock;

	H.http = evhttp_new(base);
	H.txn_timer = evtimer_new(base, on_txn_timer, NULL);
	if (!H.http || !H.txn_timer) {
		log_error("metrics: out of memory");
		metrics_http_stop();
		return -1;
	}
	evhttp_set_max_headers_size(H.http, MAX_HEADERS_BYTES);
	evhttp_set_max_body_size(H.http, MAX_BODY_BYTES);
	evhttp_set_timeout(H.http, HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(H.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(H.http, on_request, NULL);
	sock = evhttp_bind_socket_with_handle(H.http, host, (ev_uint16_t)port);
	if (!sock) {
		log_error("metrics: cannot listen on %s:%d (metrics.listen)", host, port);
		metrics_http_stop();
		return -1;
	}
	log_info("metrics and health on http://%s%s%s:%d/metrics, /healthz, /readyz",
		 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
	txn_arm(TXN_FIRST_SAMPLE_MS);
	return 0;
}

void metrics_http_stop(void)
{
	if (H.http)
		evhttp_free(H.http);
	if (H.txn_timer)
		event_free(H.txn_timer);
	H.http = NULL;
	H.txn_timer = NULL;
}

metrics_route metrics_http_route(const char *uri)
{
	struct evhttp_uri *u;
	const char *path;
	metrics_route r = ROUTE_NOT_FOUND;

	if (!uri)
		return ROUTE_NOT_FOUND;
	u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
	if (!u)
		return ROUTE_NOT_FOUND;
	path = evhttp_uri_get_path(u);
	if (path && strcmp(path, "/metrics") == 0)
		r = ROUTE_METRICS;
	else if (path && strcmp(path, "/healthz") == 0)
		r = ROUTE_HEALTHZ;
	else if (path && strcmp(path, "/readyz") == 0)
		r = ROUTE_READYZ;
	evhttp_uri_free(u);
	return r;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body = evbuffer_new();
	const char *why;

	(void)arg;
	if (!body) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	switch (metrics_http_route(evhttp_request_get_uri(req))) {
	case ROUTE_METRICS:
		if (clock_mono_ms() - H.txn_started_ms >= TXN_MIN_GAP_MS)
			txn_sample();
		metrics_render(body);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", body);
		break;
	case ROUTE_HEALTHZ:
		evbuffer_add_printf(body, "ok\n");
		reply_text(req, HTTP_OK, "OK", body);
		break;
	case ROUTE_READYZ:
		if (metrics_ready(&why)) {
			evbuffer_add_printf(body, "ready\n");
			reply_text(req, HTTP_OK, "OK", body);
		} else {
			evbuffer_add_printf(body, "not ready: %s\n", why);
			reply_text(req, 503, "Service Unavailable", body);
		}
		break;
	default:
		evbuffer_add_printf(body, "not found; try /metrics, /healthz or /readyz\n");
		reply_text(req, HTTP_NOTFOUND, "Not Found", body);
		break;
	}
	evbuffer_free(body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason,
		       struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
}

/* ---- open transactions, sampled ---- */

static void txn_arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (H.txn_timer)
		evtimer_add(H.txn_timer, &tv);
}

static void on_txn_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	txn_sample();
	txn_arm(TXN_SAMPLE_MS);
}

static void txn_sample(void)
{
	static const char *const values[3] = {"{Ongoing}", NULL, "-1"};
	db_stmt st = {Q_LIST_TXNS, 3, values, NULL, NULL, 0};

	if (H.txn_pending || !pool_available())
		return;
	H.txn_pending = true;
	H.txn_started_ms = clock_mono_ms();
	db_submit(NULL, &st, 1, txn_done, NULL);
}

/* Failures leave the last sample in place: the pool's own metrics say
 * whether PostgreSQL is reachable. */
static void txn_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		     bool retriable)
{
	(void)arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	H.txn_pending = false;
	if (!err && res[0])
		metrics_set_transactions_open(PQntuples(res[0]));
}
