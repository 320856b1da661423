/*
 * The Prometheus text endpoint: GET /metrics on metrics.listen (HOST:PORT)
 * answers with the same numbers as the status line. libevent's evhttp on
 * its own event base, run without blocking from the forwarder's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "shadow.h"

static struct event_base *base;
static struct evhttp *http;

static void on_request(struct evhttp_request *req, void *arg);

/* metrics.listen is HOST:PORT, or PORT (or :PORT) alone for loopback: the
 * endpoint is reachable from elsewhere only when a host says so. */
int metrics_start(const char *listen)
{
	char host[256] = "127.0.0.1";
	const char *colon = strrchr(listen, ':');
	const char *portstr = colon ? colon + 1 : listen;
	char *end;
	long port = strtol(portstr, &end, 10);
	if (!*portstr || *end || port < 1 || port > 65535 ||
	    (colon && (size_t)(colon - listen) >= sizeof(host))) {
		log_error("metrics.listen wants HOST:PORT or PORT, not \"%s\"", listen);
		return -1;
	}
	if (colon && colon > listen) {
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
	}
	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http || evhttp_bind_socket(http, host, (ev_uint16_t)port) < 0) {
		log_error("metrics: cannot listen on %s", listen);
		metrics_stop();
		return -1;
	}
	evhttp_set_gencb(http, on_request, NULL);
	log_info("metrics on http://%s:%ld/metrics", host, port);
	return 0;
}

void metrics_poll(void)
{
	if (base)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

void metrics_stop(void)
{
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	http = NULL;
	base = NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *uri = evhttp_request_get_uri(req);
	if (!uri || strncmp(uri, "/metrics", 8) != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	shadow_metrics_text(out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}
