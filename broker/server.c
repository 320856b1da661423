/*
 * The Kafka listener and client connections.
 *
 * A client connection is a bufferevent plus a FIFO of its requests. Frames
 * (a 4-byte big-endian size, then the request) are cut from the input, each
 * becomes a request with its own arena, and the API's handler runs. Handlers
 * finish in any order (their SQL runs on the pool); on_request_done(), the
 * completion callback of every request made here, encodes the response and the FIFO releases responses strictly in request
 * order, as Kafka clients require.
 *
 * Back-pressure: a connection with too many requests in flight or too much
 * unsent output stops being read until it drains, so one greedy client
 * costs bounded memory and TCP pushes back on it.
 *
 * A client that goes away while requests are in flight leaves a "gone"
 * client struct behind: its requests are marked client_gone, run to
 * completion and are freed; the struct is freed with the last of them.
 *
 * Listeners: one or more (config "listeners"), each with its security
 * protocol. How a connection's bytes are carried (plain TCP, or TLS through
 * libevent's OpenSSL bufferevent) is the transports[] table; everything
 * above the bufferevent is the same. Each request carries its connection's
 * listener (Metadata answers with that listener's advertised endpoint) and
 * principal. A connection is "authenticated" from the start on PLAINTEXT
 * and SSL listeners; on a SASL listener client_admits() holds back every
 * request but ApiVersions and the SASL APIs until the SASL session
 * (h_sasl.h) says the client has authenticated, and a session past its
 * lifetime (connections.max.reauth.ms) closes the connection at the next
 * request that is not a re-authentication. After SaslHandshake v0 the
 * client sends raw SASL tokens in size-prefixed frames without a Kafka
 * header (old clients, kafka-python 2.0): such a frame becomes a
 * SaslAuthenticate v0 request marked raw_sasl, answered with the bare token.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "apis.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "h_quotas.h"
#include "h_sasl.h"
#include "handlers.h"
#include "kbuf.h"
#include "listeners.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "proto.h"
#include "request.h"
#include "server.h"
#include "tls.h"

/* Stop reading a connection at this many requests in flight, or this many
 * bytes of request frames in flight (each produce holds its frame and
 * copies of its records until it commits)... */
#define MAX_INFLIGHT_REQUESTS 32
#define MAX_INFLIGHT_BYTES (16u << 20)
/* ...or this much output not yet taken by the socket. */
#define MAX_PENDING_OUTPUT (16u << 20)
/* The write callback runs once output is at or below this. */
#define OUTPUT_LOW_WATERMARK (4u << 20)
/* The most one socket read or write of a client moves (see client_accepted). */
#define SOCKET_IO_MAX (1 << 20)
#define LISTEN_BACKLOG 511
/* After accept() fails (out of descriptors), pause accepting this long. */
#define ACCEPT_RETRY_MS 1000

typedef struct client {
	struct client *prev, *next; /* S.clients */
	struct bufferevent *bev;    /* NULL once gone */
	pool_lane *db;
	conn_slot slots[CONN_SLOTS]; /* handlers' per-connection state (request.h) */
	request *head, *tail; /* in arrival order; the head answers first */
	int nreq;
	size_t inflight_bytes;            /* frame bytes of the requests in the FIFO */
	int busy;                         /* > 0 while the read callback runs */
	bool gone;                        /* socket closed */
	bool closing;                     /* write nothing more; close once drained */
	bool read_eof;                    /* peer finished sending; close once answered */
	bool paused;                      /* reading stopped by back-pressure */
	bool throttled;                   /* reading stopped by a quota (KIP-219) */
	struct event *throttle_timer;     /* ends the throttle; NULL until needed */
	bool tls_ready;                   /* TLS handshake done (TLS listeners) */
	bool authenticated;               /* may send any request (client_admits) */
	bool frames_seen;                 /* a request frame has been read */
	const listener_cfg *listener;     /* the listener it connected on */
	char principal[528]; /* "User:ANONYMOUS", from its certificate, or its SASL user */
	char peer[INET6_ADDRSTRLEN + 16]; /* "[host]:port" */
	char host[INET6_ADDRSTRLEN + 2];  /* "/host", as Kafka shows clients */
} client;

/* How a listener's connections carry bytes, by security protocol. */
typedef struct transport {
	/* A bufferevent that owns fd, or NULL (logged; fd is taken care of). */
	struct bufferevent *(*bev_new)(evutil_socket_t fd);
	bool tls;
} transport;

static struct bufferevent *plain_bev_new(evutil_socket_t fd);
static struct bufferevent *tls_bev_new(evutil_socket_t fd);

static const transport transports[] = {
	[SEC_PLAINTEXT] = {plain_bev_new, false},
	[SEC_SSL] = {tls_bev_new, true},
	[SEC_SASL_PLAINTEXT] = {plain_bev_new, false},
	[SEC_SASL_SSL] = {tls_bev_new, true},
};

static struct {
	struct event_base *base;
	struct evconnlistener **listeners;
	int nlisteners;
	struct event *accept_retry;
	client *clients;
	size_t nclients;
	size_t requests; /* decoded and not yet freed */
	uint64_t bytes_moved; /* requests received and responses sent */
} S;

static int start_listener(const listener_cfg *lc);
static int listen_on(const struct addrinfo *ai, bool v6only, const listener_cfg *lc);
static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg);
static void on_accept_error(struct evconnlistener *l, void *arg);
static void on_accept_retry(evutil_socket_t fd, short what, void *arg);
static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void on_tls_event(client *c, short what);
static void read_frames(client *c);
static bool client_admits(const client *c, const request *req);
static void client_sync_auth(client *c);
static bool is_sasl_api(int16_t api_key);
static void handle_raw_sasl(client *c, request *req, uint8_t *frame, int32_t size);
static void encode_raw_sasl(request *req);
static void handle_frame(client *c, struct evbuffer *in, int32_t size);
static void client_push(client *c, request *req);
static void client_flush(client *c);
static bool client_over_limits(client *c);
static void client_pause(client *c);
static void client_maybe_resume(client *c);
static void client_throttle(client *c, int32_t ms);
static void on_throttle_end(evutil_socket_t fd, short what, void *arg);
static void client_start_closing(client *c);
static void client_close(client *c);
static void client_maybe_free(client *c);
static void client_free(client *c);
static void on_request_done(request *req);
static void request_free(request *req);
static void free_output(const void *data, size_t len, void *extra);
static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);
static const char *api_name(const request *req);

int server_start(struct event_base *base)
{
	bool any_tls = false;

	memset(&S, 0, sizeof(S));
	S.base = base;
	S.accept_retry = evtimer_new(base, on_accept_retry, NULL);
	if (!S.accept_retry) {
		log_error("cannot create the accept retry timer");
		return -1;
	}
	for (int i = 0; i < g_config.nlisteners; i++)
		any_tls |= transports[g_config.listeners[i].protocol].tls;
	if (any_tls && tls_init() < 0)
		return -1;
	for (int i = 0; i < g_config.nlisteners; i++)
		if (start_listener(&g_config.listeners[i]) < 0)
			return -1;
	return 0;
}

int server_reload(void) { return tls_reload(); }

void server_stop(void)
{
	for (int i = 0; i < S.nlisteners; i++)
		evconnlistener_free(S.listeners[i]);
	free(S.listeners);
	S.listeners = NULL;
	S.nlisteners = 0;
	if (S.accept_retry) {
		event_free(S.accept_retry);
		S.accept_retry = NULL;
	}
	for (client *c = S.clients, *next; c; c = next) {
		next = c->next;
		client_close(c);
		client_maybe_free(c);
	}
}

size_t server_requests_in_flight(void) { return S.requests; }

uint64_t server_bytes_moved(void) { return S.bytes_moved; }

size_t server_connections(void) { return S.nclients; }

void server_free(void)
{
	server_stop();
	if (S.requests)
		log_warn("%zu requests never completed; freeing them at shutdown", S.requests);
	while (S.clients) {
		client *c = S.clients;
		while (c->head) {
			request *r = c->head;
			c->head = r->next;
			request_free(r);
		}
		c->tail = NULL;
		c->nreq = 0;
		client_free(c);
	}
	tls_shutdown();
}

/* ---- the listeners ---- */

/* Bind every address the listener's host resolves to ("" or a wildcard:
 * every address). 0, or -1 (logged) if none could be bound. */
static int start_listener(const listener_cfg *lc)
{
	struct addrinfo hints, *res = NULL;
	struct evconnlistener **grown;
	char port[16];
	int families = 0, n = 0, bound = S.nlisteners, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", lc->port);
	rc = getaddrinfo(*lc->host ? lc->host : NULL, port, &hints, &res);
	if (rc != 0) {
		log_error("cannot resolve the address of listener %s://%s:%d: %s",
			  sec_protocol_name(lc->protocol), lc->host, lc->port, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		families |= ai->ai_family == AF_INET6 ? 2 : 1;
		n++;
	}
	grown = realloc(S.listeners, (size_t)(S.nlisteners + n) * sizeof(*S.listeners));
	if (!grown) {
		freeaddrinfo(res);
		log_error("out of memory");
		return -1;
	}
	S.listeners = grown;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		/* With both families bound, keep IPv6 sockets to IPv6 so the
		 * binds do not collide. */
		listen_on(ai, families == 3, lc);
	}
	freeaddrinfo(res);
	if (S.nlisteners == bound) {
		log_error("cannot listen on %s://%s:%d", sec_protocol_name(lc->protocol), lc->host,
			  lc->port);
		return -1;
	}
	return 0;
}

static int listen_on(const struct addrinfo *ai, bool v6only, const listener_cfg *lc)
{
	char addr[INET6_ADDRSTRLEN + 16];
	struct evconnlistener *l;
	evutil_socket_t fd;
	int one = 1;

	format_addr(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		log_warn("cannot listen on %s: socket: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && v6only)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		log_warn("cannot listen on %s: bind: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	l = evconnlistener_new(S.base, on_accept, (void *)lc,
			       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, LISTEN_BACKLOG, fd);
	if (!l) {
		log_warn("cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	S.listeners[S.nlisteners++] = l;
	log_info("listening for Kafka clients on %s (%s, advertised as %s:%d)", addr,
		 sec_protocol_name(lc->protocol), lc->adv_host, lc->adv_port);
	return 0;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	const listener_cfg *lc = arg;
	const transport *t = &transports[lc->protocol];
	struct bufferevent *bev;
	client *c;
	int one = 1;

	(void)l;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("out of memory accepting a connection");
		close(fd);
		return;
	}
	bev = t->bev_new(fd);
	if (!bev) {
		free(c);
		return;
	}
	c->bev = bev;
	c->listener = lc;
	c->authenticated = !sec_protocol_sasl(lc->protocol);
	snprintf(c->principal, sizeof(c->principal), "User:ANONYMOUS");
	c->db = pool_lane_new();
	format_addr(sa, (socklen_t)salen, c->peer, sizeof(c->peer));
	{
		/* "/host" from "host:port" or "[v6]:port" */
		const char *p = c->peer + (c->peer[0] == '[');
		size_t n = strcspn(p, c->peer[0] == '[' ? "]" : ":");
		if (n >= sizeof(c->host) - 1)
			n = sizeof(c->host) - 2;
		c->host[0] = '/';
		memcpy(c->host + 1, p, n);
		c->host[n + 1] = 0;
	}
	c->next = S.clients;
	if (S.clients)
		S.clients->prev = c;
	S.clients = c;
	S.nclients++;
	metrics_connection_opened();

	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, OUTPUT_LOW_WATERMARK, 0);
	/* libevent moves at most 16 KiB per read or write call by default: a
	 * 1 MB Fetch response took 64 writev calls, each a turn of the event
	 * loop. The kernel's socket buffer bounds what one call moves. */
	bufferevent_set_max_single_read(bev, SOCKET_IO_MAX);
	bufferevent_set_max_single_write(bev, SOCKET_IO_MAX);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	log_debug("client %s connected on the %s listener (%zu connections)", c->peer,
		  sec_protocol_name(lc->protocol), S.nclients);
}

static struct bufferevent *plain_bev_new(evutil_socket_t fd)
{
	struct bufferevent *bev = bufferevent_socket_new(S.base, fd, BEV_OPT_CLOSE_ON_FREE);

	if (!bev) {
		log_error("out of memory accepting a connection");
		close(fd);
	}
	return bev;
}

/* The handshake runs inside the bufferevent; on_event learns its outcome
 * (BEV_EVENT_CONNECTED, or an error). */
static struct bufferevent *tls_bev_new(evutil_socket_t fd)
{
	struct bufferevent *bev;
	SSL *ssl = tls_new_ssl();

	if (!ssl) {
		close(fd);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(S.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		/* Out of memory. Depending on where libevent failed, it has
		 * already freed the SSL and closed fd, or not: leaking them is
		 * the lesser harm than closing someone else's descriptor. */
		log_error("out of memory accepting a TLS connection");
		return NULL;
	}
	/* Clients often close without a TLS close_notify: that is an end of
	 * stream, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* accept() failed, typically out of file descriptors: libevent would retry at
 * once and spin, so pause the listeners for a while. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval tv = {ACCEPT_RETRY_MS / 1000, (ACCEPT_RETRY_MS % 1000) * 1000};
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	(void)arg;
	log_error("accepting a connection failed: %s; pausing for %d ms",
		  evutil_socket_error_to_string(err), ACCEPT_RETRY_MS);
	for (int i = 0; i < S.nlisteners; i++)
		evconnlistener_disable(S.listeners[i]);
	evtimer_add(S.accept_retry, &tv);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < S.nlisteners; i++)
		evconnlistener_enable(S.listeners[i]);
}

/* ---- reading requests ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
	client *c = arg;

	(void)bev;
	c->busy++;
	read_frames(c);
	c->busy--;
	client_maybe_free(c);
}

/* Cut and dispatch every complete frame, unless back-pressure says stop. */
static void read_frames(client *c)
{
	while (!c->gone && !c->closing && !c->read_eof) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		size_t avail = evbuffer_get_length(in);
		uint8_t hdr[4];
		int32_t size;

		if (avail < 4)
			return;
		if (client_over_limits(c)) {
			client_pause(c);
			return;
		}
		evbuffer_copyout(in, hdr, 4);
		/* A TLS ClientHello record (0x16 0x03 ...) where a size is due:
		 * a client set up for SSL on a PLAINTEXT listener. */
		if (!c->frames_seen && !transports[c->listener->protocol].tls && hdr[0] == 0x16 &&
		    hdr[1] == 0x03) {
			log_warn("closing connection from %s: it started a TLS handshake on the %s "
				 "listener (port %d)",
				 c->peer, sec_protocol_name(c->listener->protocol),
				 c->listener->port);
			metrics_request_rejected(REJECT_MALFORMED);
			client_close(c);
			return;
		}
		size = (int32_t)be32(hdr);
		if (size < 0 || size > g_config.max_request_bytes) {
			log_warn("closing connection from %s: request size %d is outside 0..%d "
				 "(socket.request.max.bytes)",
				 c->peer, size, g_config.max_request_bytes);
			metrics_request_rejected(REJECT_TOO_LARGE);
			client_close(c);
			return;
		}
		if (avail - 4 < (size_t)size)
			return; /* wait for the rest */
		handle_frame(c, in, size);
	}
}

static void handle_frame(client *c, struct evbuffer *in, int32_t size)
{
	arena *a = arena_new();
	request *req = arena_alloc(a, sizeof(*req));
	uint8_t *frame = malloc(size > 0 ? (size_t)size : 1);
	handler_fn handler;
	int rc;

	if (!frame) {
		log_error("out of memory reading a %d-byte request from %s", size, c->peer);
		arena_free(a);
		client_close(c);
		return;
	}
	/* The frame lives as long as the request: decoded strings point into it. */
	arena_adopt(a, frame);
	evbuffer_drain(in, 4);
	evbuffer_remove(in, frame, (size_t)size);
	c->frames_seen = true;
	metrics_bytes_in((size_t)size + 4);
	S.bytes_moved += (uint64_t)size + 4;
	req->arena = a;
	req->on_complete = on_request_done;
	req->owner = c;
	req->slots = c->slots;
	req->client_host = kstr_c(c->host);
	req->listener = c->listener;
	client_sync_auth(c);
	req->principal = kstr_c(c->principal);
	req->db = c->db;
	req->frame_len = (size_t)size;
	S.requests++;

	if (sec_protocol_sasl(c->listener->protocol) && sasl_conn_raw_expected(c->slots)) {
		handle_raw_sasl(c, req, frame, size);
		return;
	}
	rc = proto_parse_request(frame, (size_t)size, req);
	if (rc == PROTO_MALFORMED) {
		if (size < 8)
			log_warn("closing connection from %s: malformed request header (%d bytes)",
				 c->peer, size);
		else
			log_warn("closing connection from %s: malformed %s request (api key %d, "
				 "version %d, %d bytes)",
				 c->peer, api_name(req), req->api_key, req->api_version, size);
		metrics_request_rejected(REJECT_MALFORMED);
		request_free(req);
		client_close(c);
		return;
	}
	if (rc == PROTO_UNSUPPORTED) {
		if (req->api_key == API_VERSIONS_KEY) {
			metrics_request_rejected(REJECT_UNSUPPORTED);
			/* Tell the client which versions exist so it can retry. */
			kwriter w;
			kw_init(&w, 256);
			proto_encode_apiversions_fallback(req->correlation_id, &w);
			req->out = kw_steal(&w, &req->out_len);
			req->done = true;
			client_push(c, req);
			client_flush(c);
			return;
		}
		log_warn("closing connection from %s: unsupported %s request (api key %d, "
			 "version %d)",
			 c->peer, api_name(req), req->api_key, req->api_version);
		metrics_request_rejected(REJECT_UNSUPPORTED);
		request_free(req);
		client_close(c);
		return;
	}
	if (!client_admits(c, req)) {
		log_warn("closing connection from %s: %s before authentication on the %s listener",
			 c->peer, api_name(req), sec_protocol_name(c->listener->protocol));
		request_free(req);
		client_close(c);
		return;
	}
	if (c->authenticated && !is_sasl_api(req->api_key) &&
	    sasl_conn_expired(c->slots, clock_mono_ms())) {
		log_warn("closing connection from %s: its SASL session (%s) expired without "
			 "re-authentication (connections.max.reauth.ms %d)",
			 c->peer, c->principal, g_config.connections_max_reauth_ms);
		request_free(req);
		client_close(c);
		return;
	}
	handler = handler_lookup(req->api_key);
	if (!handler) {
		log_warn("closing connection from %s: no handler for %s (api key %d, version %d)",
			 c->peer, api_name(req), req->api_key, req->api_version);
		request_free(req);
		client_close(c);
		return;
	}
	log_debug("%s: %s v%d correlation id %d, %d bytes", c->peer, api_name(req),
		  req->api_version, req->correlation_id, size);
	client_push(c, req);
	metrics_request_start(req);
	/* The handler may complete (and so free) req before it returns. */
	handler(req);
}

/*
 * Whether this connection may run req now. PLAINTEXT and SSL connections
 * are authenticated from the start (as whom: c->principal). A SASL listener
 * admits ApiVersions and the SASL APIs only, until the client has
 * authenticated.
 */
static bool client_admits(const client *c, const request *req)
{
	return c->authenticated || req->api_key == API_VERSIONS_KEY || is_sasl_api(req->api_key);
}

static bool is_sasl_api(int16_t api_key)
{
	return api_key == API_SASL_HANDSHAKE || api_key == API_SASL_AUTHENTICATE;
}

/* Take the principal of a SASL session that has (re-)authenticated. */
static void client_sync_auth(client *c)
{
	const char *p;

	if (!sec_protocol_sasl(c->listener->protocol))
		return;
	p = sasl_conn_principal(c->slots);
	if (!p)
		return;
	c->authenticated = true;
	snprintf(c->principal, sizeof(c->principal), "%s", p);
}

/* A raw SASL token: a SaslAuthenticate v0 request without a header. */
static void handle_raw_sasl(client *c, request *req, uint8_t *frame, int32_t size)
{
	sasl_authenticate_req *body = arena_alloc(req->arena, sizeof(*body));

	body->auth_bytes = (kstr){(const char *)frame, size};
	req->api = api_lookup(API_SASL_AUTHENTICATE);
	req->api_key = API_SASL_AUTHENTICATE;
	req->api_version = 0;
	req->body = body;
	req->raw_sasl = true;
	log_debug("%s: raw SASL token, %d bytes", c->peer, size);
	client_push(c, req);
	metrics_request_start(req);
	handle_sasl_authenticate(req);
}

/* The answer to a raw token: the server's token, size-prefixed; nothing on
 * failure (the connection closes, as Kafka does for these clients). */
static void encode_raw_sasl(request *req)
{
	const sasl_authenticate_resp *r = req->resp;
	kwriter w;

	if (!r || r->error_code != 0)
		return;
	kw_init(&w, 64);
	kw_bytes32(&w, r->auth_bytes);
	req->out = kw_steal(&w, &req->out_len);
}

/* ---- responses ---- */

static void on_request_done(request *req)
{
	client *c = req->owner;

	if (req->done) {
		log_error("%s request (correlation id %d) completed twice; ignored", api_name(req),
			  req->correlation_id);
		return;
	}
	if (req->raw_sasl && !req->client_gone && !c->closing && !req->out) {
		encode_raw_sasl(req);
	} else if (!req->client_gone && !c->closing && !req->out) {
		/* Client quotas (h_quotas.c): a Produce is measured by its
		 * request, a Fetch by its encoded answer. */
		req->throttle_ms = quota_throttle_produce(req);
		if (!req->no_response) {
			kwriter w;
			kw_init(&w, 256);
			proto_encode_response(req, &w);
			req->out = kw_steal(&w, &req->out_len);
			if (!req->throttle_ms)
				req->throttle_ms = quota_throttle_fetch(req);
		}
	}
	metrics_request_done(req);
	req->done = true;
	client_flush(c);
	client_maybe_free(c);
}

static void client_push(client *c, request *req)
{
	req->next = NULL;
	if (c->tail)
		c->tail->next = req;
	else
		c->head = req;
	c->tail = req;
	c->nreq++;
	c->inflight_bytes += req->frame_len;
}

/* Write the responses of the finished requests at the head of the FIFO, in
 * order, and free those requests. */
static void client_flush(client *c)
{
	while (c->head && c->head->done) {
		request *r = c->head;
		bool close_after = r->close_connection;

		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->nreq--;
		c->inflight_bytes -= r->frame_len;
		if (!c->gone && !c->closing && r->out && r->out_len > 0) {
			struct evbuffer *out = bufferevent_get_output(c->bev);
			metrics_bytes_out(r->out_len);
			S.bytes_moved += r->out_len;
			/* Hand the buffer over instead of copying it: fetch
			 * responses can be large. */
			if (evbuffer_add_reference(out, r->out, r->out_len, free_output, NULL) == 0)
				r->out = NULL;
			else
				evbuffer_add(out, r->out, r->out_len);
		}
		if (r->throttle_ms > 0 && !c->gone && !c->closing)
			client_throttle(c, r->throttle_ms);
		request_free(r);
		if (close_after && !c->gone)
			client_start_closing(c);
	}
	if (c->gone || c->closing)
		return;
	if (c->read_eof && !c->head)
		client_start_closing(c);
	else
		client_maybe_resume(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	client *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			client_close(c);
			client_maybe_free(c);
		}
		return;
	}
	client_maybe_resume(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	client *c = arg;

	(void)bev;
	if (transports[c->listener->protocol].tls) {
		on_tls_event(c, what);
		if (c->gone) {
			client_maybe_free(c);
			return;
		}
	}
	if (what & BEV_EVENT_EOF) {
		if (c->nreq > 0 && !c->closing) {
			/* The peer may have only shut down its sending side:
			 * answer what it asked, then close. */
			log_debug("client %s finished sending; answering %d requests", c->peer,
				  c->nreq);
			c->read_eof = true;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		log_debug("client %s disconnected", c->peer);
	} else if (what & BEV_EVENT_ERROR) {
		log_debug("client %s: connection error: %s", c->peer,
			  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else {
		return;
	}
	client_close(c);
	client_maybe_free(c);
}

/*
 * The TLS side of a connection's events: a finished handshake (the
 * principal from the client's certificate), or a failed one (one line, and
 * the connection closes). Errors after the handshake go on to on_event.
 */
static void on_tls_event(client *c, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	unsigned long err, first = 0;
	char text[256];

	if (what & BEV_EVENT_CONNECTED) {
		c->tls_ready = true;
		tls_peer_principal(ssl, c->principal, sizeof(c->principal));
		log_debug("client %s: TLS established on the %s listener (%s, %s), principal %s",
			  c->peer, sec_protocol_name(c->listener->protocol), SSL_get_version(ssl),
			  SSL_get_cipher_name(ssl), c->principal);
		return;
	}
	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;
	/* Take every error the bufferevent queued, so none is left for
	 * another connection. */
	while ((err = bufferevent_get_openssl_error(c->bev)) != 0)
		if (!first)
			first = err;
	tls_last_error(first, text, sizeof(text));
	if (c->tls_ready) {
		if (first)
			log_debug("client %s: TLS error: %s", c->peer, text);
		return;
	}
	if ((!first && (what & BEV_EVENT_EOF)) || tls_error_is_eof(first)) {
		/* Connected and left without a word: a port probe, not a
		 * client speaking the wrong protocol. */
		log_debug("client %s closed the connection before the TLS handshake", c->peer);
	} else {
		log_warn("closing connection from %s: TLS handshake failed on the %s listener "
			 "(port %d): %s",
			 c->peer, sec_protocol_name(c->listener->protocol), c->listener->port,
			 first ? text : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	client_close(c);
}

/* ---- back-pressure and closing ---- */

static bool client_over_limits(client *c)
{
	return c->nreq >= MAX_INFLIGHT_REQUESTS || c->inflight_bytes >= MAX_INFLIGHT_BYTES ||
	       evbuffer_get_length(bufferevent_get_output(c->bev)) > MAX_PENDING_OUTPUT;
}

static void client_pause(client *c)
{
	if (c->paused)
		return;
	c->paused = true;
	bufferevent_disable(c->bev, EV_READ);
	log_debug("client %s: pausing reads (%d requests, %zu request bytes in flight, %zu bytes "
		  "unsent)",
		  c->peer, c->nreq, c->inflight_bytes,
		  evbuffer_get_length(bufferevent_get_output(c->bev)));
}

static void client_maybe_resume(client *c)
{
	if (!c->paused || c->throttled || c->gone || c->closing || c->read_eof ||
	    client_over_limits(c))
		return;
	c->paused = false;
	bufferevent_enable(c->bev, EV_READ);
	/* Frames may be waiting in the input buffer already, and no new data
	 * need arrive: run the read callback, from the loop rather than
	 * from inside whatever completed a request. */
	bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/*
 * KIP-219: the answer went out with throttle_time_ms, and the connection
 * is muted for that long, as Kafka mutes the channel; a later throttle
 * while muted moves the end.
 */
static void client_throttle(client *c, int32_t ms)
{
	if (!c->throttle_timer)
		c->throttle_timer = evtimer_new(S.base, on_throttle_end, c);
	if (!c->throttle_timer) {
		log_warn("client %s: cannot create its throttle timer; not throttled", c->peer);
		return;
	}
	c->throttled = true;
	client_pause(c);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(c->throttle_timer, &tv);
}

static void on_throttle_end(evutil_socket_t fd, short what, void *arg)
{
	client *c = arg;
	(void)fd;
	(void)what;
	c->throttled = false;
	client_maybe_resume(c);
}

/* close_connection: send what is queued, then close. */
static void client_start_closing(client *c)
{
	if (c->closing || c->gone)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		client_close(c);
		return;
	}
	/* on_write closes once everything is written */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* Close the socket now. Requests in flight learn it through client_gone. */
static void client_close(client *c)
{
	if (c->gone)
		return;
	c->gone = true;
	bufferevent_free(c->bev);
	c->bev = NULL;
	for (request *r = c->head; r; r = r->next)
		r->client_gone = true;
}

static void client_maybe_free(client *c)
{
	if (c->gone && !c->head && c->busy == 0)
		client_free(c);
}

static void client_free(client *c)
{
	for (int i = 0; i < CONN_SLOTS; i++)
		if (c->slots[i].data && c->slots[i].release)
			c->slots[i].release(c->slots[i].data);
	pool_lane_free(c->db);
	if (c->throttle_timer)
		event_free(c->throttle_timer);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->prev)
		c->prev->next = c->next;
	else
		S.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	S.nclients--;
	metrics_connection_closed();
	free(c);
}

static void request_free(request *req)
{
	free(req->out);
	S.requests--;
	arena_free(req->arena); /* req itself lives in its arena */
}

static void free_output(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	free((void *)data);
}

/* ---- helpers ---- */

static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], port[8];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

static const char *api_name(const request *req)
{
	if (req->api && req->api->name)
		return req->api->name;
	return "unknown API";
}
