/*
 * pg_kafka: the broker daemon. Loads the configuration, starts the libpq
 * pool, the wake-ups and their decoding stream, the handlers and the
 * listener on one event loop, and shuts all of it down in order on SIGINT
 * or SIGTERM.
 *
 * Shutdown: stop accepting and close every client; give requests already
 * running a short grace period to finish (their database work completes,
 * their responses are dropped); then stop the handlers, the pool and the
 * wake-ups, and free everything. A second signal skips the grace period.
 */
#include <signal.h>
#include <stdlib.h>

#include <event2/event.h>

#include "cluster.h"
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "memtrim.h"
#include "metrics_http.h"
#include "pool.h"
#include "queries.h"
#include "server.h"
#include "stream.h"
#include "wake.h"

#ifndef PGK_VERSION
#define PGK_VERSION "0.1.0"
#endif

/* How long requests in flight may take to finish at shutdown. */
#define DRAIN_MS 3000
#define DRAIN_POLL_MS 20

static struct {
	struct event_base *base;
	struct event *ev_sigint;
	struct event *ev_sigterm;
	struct event *ev_sighup;
	struct event *ev_drain;
	bool stopping;
	int drain_left_ms;
	int rc;
} M;

static void on_signal(evutil_socket_t sig, short what, void *arg);
static void on_sighup(evutil_socket_t sig, short what, void *arg);
static void on_drain(evutil_socket_t fd, short what, void *arg);
static void arm_drain(void);
static void on_idle(void);
static void on_cluster_ready(void);
static void on_cluster_fatal(void);

int main(int argc, char **argv)
{
	int rc = config_load(argc, argv);

	if (rc != 0) {
		config_free();
		return rc > 0 ? 0 : 2;
	}
	log_setup(g_config.log_level, NULL);
	signal(SIGPIPE, SIG_IGN);

	M.base = event_base_new();
	if (!M.base) {
		log_error("cannot create the event loop");
		config_free();
		return 1;
	}
	log_info("pg_kafka %s starting: node.id %d, cluster.id %s, listen %s:%d, advertised %s:%d, "
		 "%d PostgreSQL connections",
		 PGK_VERSION, g_config.node_id, g_config.cluster_id, g_config.listen_host,
		 g_config.listen_port, g_config.advertised_host, g_config.advertised_port,
		 g_config.pool_size);

	/* A promoted standby's new timeline bumps the leader epochs before
	 * this broker writes anything there (queries.c). */
	pool_at_connect(Q_CHECK_TIMELINE);
	if (pool_init(M.base, g_config.pg_conninfo, g_config.pool_size, queries, Q_QUERY_COUNT) < 0) {
		event_base_free(M.base);
		config_free();
		return 1;
	}
	wake_init(M.base);
	stream_start(M.base);
	handlers_init(M.base);
	/* Clients are served once the broker holds its lease (at once when
	 * standalone). */
	cluster_start(M.base, on_cluster_ready, on_cluster_fatal);
	if (M.rc) {
		rc = M.rc;
		goto shutdown;
	}

	M.ev_sigint = evsignal_new(M.base, SIGINT, on_signal, NULL);
	M.ev_sigterm = evsignal_new(M.base, SIGTERM, on_signal, NULL);
	M.ev_sighup = evsignal_new(M.base, SIGHUP, on_sighup, NULL);
	M.ev_drain = evtimer_new(M.base, on_drain, NULL);
	if (!M.ev_sigint || !M.ev_sigterm || !M.ev_sighup || !M.ev_drain ||
	    evsignal_add(M.ev_sigint, NULL) < 0 || evsignal_add(M.ev_sigterm, NULL) < 0 ||
	    evsignal_add(M.ev_sighup, NULL) < 0) {
		log_error("cannot install signal handlers");
		rc = 1;
		goto shutdown;
	}

	event_base_dispatch(M.base);
	if (M.rc)
		rc = M.rc;

shutdown:
	metrics_http_stop();
	server_stop();
	stream_stop();
	cluster_stop();
	handlers_shutdown();
	pool_shutdown();
	wake_shutdown();
	memtrim_stop();
	server_free();
	if (M.ev_sigint)
		event_free(M.ev_sigint);
	if (M.ev_sigterm)
		event_free(M.ev_sigterm);
	if (M.ev_sighup)
		event_free(M.ev_sighup);
	if (M.ev_drain)
		event_free(M.ev_drain);
	event_base_free(M.base);
	libevent_global_shutdown();
	if (rc == 0)
		log_info("shutdown complete");
	config_free();
	return rc;
}

/* SIGHUP: re-read the TLS certificate, key and CA files. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("received SIGHUP");
	server_reload();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";

	(void)what;
	(void)arg;
	if (M.stopping) {
		log_info("received %s again; stopping now", name);
		event_base_loopbreak(M.base);
		return;
	}
	M.stopping = true;
	log_info("received %s; shutting down (%zu requests in flight)", name,
		 server_requests_in_flight());
	/* Probes see the broker go at once, not after the drain. */
	metrics_http_stop();
	server_stop();
	cluster_leave();
	M.drain_left_ms = DRAIN_MS;
	arm_drain();
}

/* Wait for requests in flight, up to DRAIN_MS, then leave the loop. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	M.drain_left_ms -= DRAIN_POLL_MS;
	if ((server_requests_in_flight() == 0 && !cluster_busy()) || M.drain_left_ms <= 0) {
		if (server_requests_in_flight())
			log_info("%zu requests still in flight after %d ms; cancelling them",
				 server_requests_in_flight(), DRAIN_MS);
		event_base_loopbreak(M.base);
		return;
	}
	arm_drain();
}

static void arm_drain(void)
{
	struct timeval tv = {0, DRAIN_POLL_MS * 1000};

	if (server_requests_in_flight() == 0 && !cluster_busy()) {
		event_base_loopbreak(M.base);
		return;
	}
	evtimer_add(M.ev_drain, &tv);
}

/* The lease is held (or the broker is standalone): open the listeners. */
static void on_cluster_ready(void)
{
	if (server_start(M.base) < 0 ||
	    (g_config.metrics_host &&
	     metrics_http_start(M.base, g_config.metrics_host, g_config.metrics_port) < 0)) {
		M.rc = 1;
		event_base_loopbreak(M.base);
		return;
	}
	memtrim_start(M.base, server_bytes_moved, on_idle);
}

/* Another live broker holds this node id (logged): exit 1. */
static void on_cluster_fatal(void)
{
	M.rc = 1;
	event_base_loopbreak(M.base);
}

/* A quiet second: let the pool reopen connections whose libpq buffers
 * grew during the last burst (it leaves those with jobs in flight). */
static void on_idle(void)
{
	int n = pool_shed_buffers();

	if (n > 0)
		log_debug("idle: reopened %d PostgreSQL connections to free their buffers", n);
}
