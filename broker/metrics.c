/*
 * The broker's metrics (metrics.h): what the server counts as requests pass
 * through it, and the Prometheus text that shows it together with gauges
 * read from their owners at render time.
 *
 * Requests and latencies are kept in fixed tables indexed by API key (and
 * version); Kafka's API keys and versions are small numbers, and anything
 * outside the tables (no handler exists for it) is not counted. Error codes
 * are collected by walking the response with the API's schema (apis.h), so
 * every handler's top-level and per-topic, per-partition or per-member
 * error_code is seen without any handler knowing about metrics.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "apis.h"
#include "arena.h"
#include "cfg.h"
#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "coordinator.h"
#include "fetch_readahead.h"
#include "h_fetch.h"
#include "metrics.h"
#include "pool.h"
#include "proto.h"
#include "server.h"
#include "stream.h"

#define MAX_API_KEY 128
#define MAX_API_VERSION 32
#define NB METRICS_LATENCY_BUCKETS

const double metrics_latency_bounds[NB] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* One (API, version, error code) triple seen in a response. */
typedef struct err_count {
	int16_t api_key;
	int16_t api_version;
	int16_t error_code;
	uint64_t n;
} err_count;

typedef struct latency {
	uint64_t buckets[NB + 1]; /* not cumulative; the last is +Inf */
	uint64_t count;
	int64_t sum_us;
} latency;

static struct {
	uint64_t requests[MAX_API_KEY][MAX_API_VERSION];
	int64_t in_flight[MAX_API_KEY];
	latency lat[MAX_API_KEY];
	err_count *errors;
	size_t nerrors, cap_errors;
	uint64_t rejected[REJECT_REASONS];
	uint64_t bytes_in, bytes_out;
	uint64_t connections_opened, connections_closed;
	int64_t txn_open; /* < 0: not known */
} M = {.txn_open = -1};

static bool api_counted(int16_t key, int16_t ver);
static void count_errors(const schema_def *s, int16_t ver, const void *msg, int16_t key);
static void count_error(int16_t key, int16_t ver, int16_t code);
static void render_requests(struct evbuffer *out);
static void render_connections(struct evbuffer *out);
static void render_pool(struct evbuffer *out);
static void render_stream(struct evbuffer *out);
static void render_fetch_and_groups(struct evbuffer *out);
static void render_process(struct evbuffer *out);
static void head(struct evbuffer *out, const char *name, const char *type, const char *help);
static const char *api_label(int16_t key);

int metrics_latency_bucket(int64_t us)
{
	double s = (double)us / 1e6;

	for (int i = 0; i < NB; i++)
		if (s <= metrics_latency_bounds[i])
			return i;
	return NB;
}

static bool api_counted(int16_t key, int16_t ver)
{
	return key >= 0 && key < MAX_API_KEY && ver >= 0 && ver < MAX_API_VERSION;
}

void metrics_request_start(request *req)
{
	req->started_us = clock_mono_us();
	if (api_counted(req->api_key, req->api_version))
		M.in_flight[req->api_key]++;
}

void metrics_request_done(const request *req)
{
	int16_t key = req->api_key, ver = req->api_version;

	if (!api_counted(key, ver))
		return;
	int64_t us = req->started_us ? clock_mono_us() - req->started_us : 0;
	latency *l = &M.lat[key];

	if (us < 0)
		us = 0;
	M.requests[key][ver]++;
	if (req->started_us && M.in_flight[key] > 0)
		M.in_flight[key]--;
	l->buckets[metrics_latency_bucket(us)]++;
	l->count++;
	l->sum_us += us;
	if (req->resp && !req->no_response && req->api)
		count_errors(req->api->resp, ver, req->resp, key);
}

/* Every error_code field present in this version, at any depth. */
static void count_errors(const schema_def *s, int16_t ver, const void *msg, int16_t key)
{
	for (int i = 0; i < s->nfields; i++) {
		const field_def *f = &s->fields[i];
		const char *p = (const char *)msg + f->offset;

		if (ver < f->min_ver || ver > f->max_ver)
			continue;
		if (f->type == FT_I16 && strcmp(f->name, "error_code") == 0) {
			int16_t code;
			memcpy(&code, p, sizeof(code));
			if (code != 0)
				count_error(key, ver, code);
		} else if (f->type == FT_ARRS) {
			const karray *arr = (const karray *)p;
			for (int32_t j = 0; arr->items && j < arr->count; j++)
				count_errors(f->sub, ver,
					     (const char *)arr->items + f->sub->size * (size_t)j,
					     key);
		}
	}
}

static void count_error(int16_t key, int16_t ver, int16_t code)
{
	for (size_t i = 0; i < M.nerrors; i++) {
		err_count *e = &M.errors[i];
		if (e->api_key == key && e->api_version == ver && e->error_code == code) {
			e->n++;
			return;
		}
	}
	if (M.nerrors == M.cap_errors) {
		size_t cap = M.cap_errors ? M.cap_errors * 2 : 32;
		err_count *grown = realloc(M.errors, cap * sizeof(*grown));
		if (!grown)
			return; /* a metric lost, not a request */
		M.errors = grown;
		M.cap_errors = cap;
	}
	M.errors[M.nerrors++] = (err_count){key, ver, code, 1};
}

void metrics_request_rejected(metrics_reject why)
{
	if (why >= 0 && why < REJECT_REASONS)
		M.rejected[why]++;
}

void metrics_bytes_in(size_t n) { M.bytes_in += n; }
void metrics_bytes_out(size_t n) { M.bytes_out += n; }
void metrics_connection_opened(void) { M.connections_opened++; }
void metrics_connection_closed(void) { M.connections_closed++; }
void metrics_set_transactions_open(int64_t n) { M.txn_open = n; }

bool metrics_ready(const char **why)
{
	const char *missing = NULL;

	if (!pool_available())
		missing = "no PostgreSQL connection is up";
	else if (g_config.stream_enabled && !stream_up())
		missing = "the wake-up stream is not connected";
	else if (!cluster_serving())
		missing = "this broker does not hold its cluster lease";
	if (why)
		*why = missing;
	return missing == NULL;
}

void metrics_reset(void)
{
	free(M.errors);
	memset(&M, 0, sizeof(M));
	M.txn_open = -1;
}

/* ---- rendering ---- */

void metrics_render(struct evbuffer *out)
{
	render_requests(out);
	render_connections(out);
	render_pool(out);
	render_stream(out);
	render_fetch_and_groups(out);
	render_process(out);
}

static void head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The API's name as Kafka spells it; label values need no escaping. */
static const char *api_label(int16_t key)
{
	const api_def *a = api_lookup(key);
	return a && a->name ? a->name : "unknown";
}

static void render_requests(struct evbuffer *out)
{
	static const char *const reasons[REJECT_REASONS] = {"malformed", "unsupported",
							    "too_large"};

	head(out, "pg_kafka_requests_total", "counter",
	     "Requests answered (or completed without a response), by API and version.");
	for (int k = 0; k < MAX_API_KEY; k++)
		for (int v = 0; v < MAX_API_VERSION; v++)
			if (M.requests[k][v])
				evbuffer_add_printf(out,
						    "pg_kafka_requests_total{api=\"%s\",version=\"%"
						    "d\"} %" PRIu64 "\n",
						    api_label((int16_t)k), v, M.requests[k][v]);

	head(out, "pg_kafka_request_errors_total", "counter",
	     "Non-zero error codes in responses, top level and per topic, partition or member, "
	     "by API, version and Kafka error code.");
	for (size_t i = 0; i < M.nerrors; i++) {
		const err_count *e = &M.errors[i];
		evbuffer_add_printf(out,
				    "pg_kafka_request_errors_total{api=\"%s\",version=\"%d\","
				    "error_code=\"%d\"} %" PRIu64 "\n",
				    api_label(e->api_key), e->api_version, e->error_code, e->n);
	}

	head(out, "pg_kafka_requests_rejected_total", "counter",
	     "Request frames that closed the connection instead of reaching a handler.");
	for (int r = 0; r < REJECT_REASONS; r++)
		evbuffer_add_printf(out,
				    "pg_kafka_requests_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
				    reasons[r], M.rejected[r]);

	head(out, "pg_kafka_requests_in_flight", "gauge",
	     "Requests handed to their handler and not yet answered, by API (long-polling fetches "
	     "included).");
	for (int k = 0; k < MAX_API_KEY; k++)
		if (M.in_flight[k] || M.lat[k].count)
			evbuffer_add_printf(out,
					    "pg_kafka_requests_in_flight{api=\"%s\"} %" PRId64 "\n",
					    api_label((int16_t)k), M.in_flight[k]);

	head(out, "pg_kafka_request_duration_seconds", "histogram",
	     "Time from a request's decoding to its response being ready, by API.");
	for (int k = 0; k < MAX_API_KEY; k++) {
		const latency *l = &M.lat[k];
		uint64_t cum = 0;
		if (!l->count)
			continue;
		for (int b = 0; b < NB; b++) {
			cum += l->buckets[b];
			evbuffer_add_printf(out,
					    "pg_kafka_request_duration_seconds_bucket{api=\"%s\","
					    "le=\"%g\"} %" PRIu64 "\n",
					    api_label((int16_t)k), metrics_latency_bounds[b], cum);
		}
		cum += l->buckets[NB];
		evbuffer_add_printf(
			out,
			"pg_kafka_request_duration_seconds_bucket{api=\"%s\",le=\"+Inf\"} "
			"%" PRIu64 "\n"
			"pg_kafka_request_duration_seconds_sum{api=\"%s\"} %.6f\n"
			"pg_kafka_request_duration_seconds_count{api=\"%s\"} %" PRIu64 "\n",
			api_label((int16_t)k), cum, api_label((int16_t)k), (double)l->sum_us / 1e6,
			api_label((int16_t)k), l->count);
	}
}

static void render_connections(struct evbuffer *out)
{
	head(out, "pg_kafka_received_bytes_total", "counter",
	     "Bytes of request frames read from Kafka clients, size prefixes included.");
	evbuffer_add_printf(out, "pg_kafka_received_bytes_total %" PRIu64 "\n", M.bytes_in);
	head(out, "pg_kafka_sent_bytes_total", "counter",
	     "Bytes of response frames handed to client sockets, size prefixes included.");
	evbuffer_add_printf(out, "pg_kafka_sent_bytes_total %" PRIu64 "\n", M.bytes_out);
	head(out, "pg_kafka_connections", "gauge", "Open Kafka client connections.");
	evbuffer_add_printf(out, "pg_kafka_connections %zu\n", server_connections());
	head(out, "pg_kafka_connections_opened_total", "counter",
	     "Kafka client connections accepted.");
	evbuffer_add_printf(out, "pg_kafka_connections_opened_total %" PRIu64 "\n",
			    M.connections_opened);
	head(out, "pg_kafka_connections_closed_total", "counter",
	     "Kafka client connections closed.");
	evbuffer_add_printf(out, "pg_kafka_connections_closed_total %" PRIu64 "\n",
			    M.connections_closed);
}

static void render_pool(struct evbuffer *out)
{
	pool_stats ps;

	pool_get_stats(&ps);
	head(out, "pg_kafka_pg_pool_connections", "gauge",
	     "PostgreSQL connections of the pool, by state (up: ready for statements).");
	evbuffer_add_printf(out,
			    "pg_kafka_pg_pool_connections{state=\"up\"} %d\n"
			    "pg_kafka_pg_pool_connections{state=\"down\"} %d\n",
			    ps.up, ps.total - ps.up);
	head(out, "pg_kafka_pg_pool_size", "gauge",
	     "PostgreSQL connections configured (pg.pool.size).");
	evbuffer_add_printf(out, "pg_kafka_pg_pool_size %d\n", ps.total);
	head(out, "pg_kafka_pg_pool_queued_jobs", "gauge",
	     "Statement jobs sent and not yet answered, or waiting for a connection.");
	evbuffer_add_printf(out, "pg_kafka_pg_pool_queued_jobs %ld\n", ps.queued);
	head(out, "pg_kafka_pg_pool_connection_failures_total", "counter",
	     "PostgreSQL connections lost or failed to connect (each is retried with backoff).");
	evbuffer_add_printf(out, "pg_kafka_pg_pool_connection_failures_total %lu\n", ps.failures);
	head(out, "pg_kafka_transactions_open", "gauge",
	     "Ongoing Kafka transactions in PostgreSQL (all brokers of the database), as last "
	     "counted (every 10 s, and at most every second when scraped); absent until counted.");
	if (M.txn_open >= 0)
		evbuffer_add_printf(out, "pg_kafka_transactions_open %" PRId64 "\n", M.txn_open);
}

static void render_stream(struct evbuffer *out)
{
	static const char *const states[] = {"stopped",  "waiting",  "connecting",
					     "creating", "starting", "streaming"};
	stream_stats ss;

	stream_get_stats(&ss);
	head(out, "pg_kafka_stream_up", "gauge",
	     "1 while the wake-up stream (logical decoding) is streaming, else 0.");
	evbuffer_add_printf(out, "pg_kafka_stream_up %d\n", strcmp(ss.state, "streaming") == 0);
	head(out, "pg_kafka_stream_enabled", "gauge", "1 if stream.enabled is on.");
	evbuffer_add_printf(out, "pg_kafka_stream_enabled %d\n", ss.enabled);
	head(out, "pg_kafka_stream_state", "gauge",
	     "The wake-up stream's state (1 for the current one).");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		evbuffer_add_printf(out, "pg_kafka_stream_state{state=\"%s\"} %d\n", states[i],
				    strcmp(ss.state, states[i]) == 0);
	head(out, "pg_kafka_stream_reconnects_total", "counter",
	     "Wake-up stream connections lost or failed (each is retried with backoff).");
	evbuffer_add_printf(out, "pg_kafka_stream_reconnects_total %lu\n", ss.reconnects);
	head(out, "pg_kafka_stream_lag_bytes", "gauge",
	     "WAL the server had and the stream had not yet delivered, as of its last message.");
	evbuffer_add_printf(
		out, "pg_kafka_stream_lag_bytes %" PRIu64 "\n",
		ss.server_wal_end > ss.received_lsn ? ss.server_wal_end - ss.received_lsn : 0);
	head(out, "pg_kafka_stream_received_lsn", "gauge",
	     "Highest WAL position received on the wake-up stream (and confirmed back).");
	evbuffer_add_printf(out, "pg_kafka_stream_received_lsn %" PRIu64 "\n", ss.received_lsn);
	head(out, "pg_kafka_stream_last_message_age_seconds", "gauge",
	     "Seconds since the last message (data or keepalive) on the wake-up stream; absent "
	     "before the first.");
	if (ss.last_message_ms)
		evbuffer_add_printf(out, "pg_kafka_stream_last_message_age_seconds %.3f\n",
				    (double)(clock_mono_ms() - ss.last_message_ms) / 1e3);
}

static void render_fetch_and_groups(struct evbuffer *out)
{
	static const group_state states[] = {GROUP_EMPTY, GROUP_PREPARING_REBALANCE,
					     GROUP_COMPLETING_REBALANCE, GROUP_STABLE, GROUP_DEAD};
	int64_t by_state[sizeof(states) / sizeof(states[0])] = {0};
	coord_group_info *groups;
	arena *a = arena_new();
	int n = coord_list(a, &groups);

	head(out, "pg_kafka_fetches_waiting", "gauge",
	     "Fetches parked until data arrives or max_wait_ms passes (long polling).");
	evbuffer_add_printf(out, "pg_kafka_fetches_waiting %zu\n", fetch_waiting_count());
	head(out, "pg_kafka_fetch_readahead_bytes", "gauge",
	     "Memory held by fetch read-ahead results over all clients.");
	evbuffer_add_printf(out, "pg_kafka_fetch_readahead_bytes %zu\n", readahead_bytes());
	head(out, "pg_kafka_fetch_readahead_max_bytes", "gauge",
	     "The read-ahead budget (fetch.readahead.max.bytes).");
	evbuffer_add_printf(out, "pg_kafka_fetch_readahead_max_bytes %d\n",
			    g_config.fetch_readahead_max_bytes);

	for (int i = 0; i < n; i++)
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			if (groups[i].state == states[s])
				by_state[s]++;
	head(out, "pg_kafka_groups", "gauge",
	     "Consumer groups this broker coordinates (in memory), by Kafka state.");
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
		evbuffer_add_printf(out, "pg_kafka_groups{state=\"%s\"} %" PRId64 "\n",
				    group_state_name(states[s]), by_state[s]);
	arena_free(a);
}

static void render_process(struct evbuffer *out)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long vsize = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	struct mallinfo2 mi = mallinfo2();

	if (f) {
		if (fscanf(f, "%lu %lu", &vsize, &rss) != 2)
			vsize = rss = 0;
		fclose(f);
	}
	head(out, "pg_kafka_process_resident_memory_bytes", "gauge",
	     "Resident set size (/proc/self/statm).");
	evbuffer_add_printf(out, "pg_kafka_process_resident_memory_bytes %lu\n",
			    rss * (unsigned long)page);
	head(out, "pg_kafka_process_virtual_memory_bytes", "gauge",
	     "Virtual memory size (/proc/self/statm).");
	evbuffer_add_printf(out, "pg_kafka_process_virtual_memory_bytes %lu\n",
			    vsize * (unsigned long)page);
	head(out, "pg_kafka_malloc_bytes", "gauge",
	     "glibc malloc statistics (mallinfo2): in_use (allocated), free (held but free), "
	     "mmap (in mmapped chunks), arena (obtained with brk).");
	evbuffer_add_printf(out,
			    "pg_kafka_malloc_bytes{kind=\"in_use\"} %zu\n"
			    "pg_kafka_malloc_bytes{kind=\"free\"} %zu\n"
			    "pg_kafka_malloc_bytes{kind=\"mmap\"} %zu\n"
			    "pg_kafka_malloc_bytes{kind=\"arena\"} %zu\n",
			    mi.uordblks + mi.hblkhd, mi.fordblks, mi.hblkhd, mi.arena);
	head(out, "pg_kafka_ready", "gauge",
	     "1 when /readyz answers 200: a PostgreSQL pool connection is up and the wake-up "
	     "stream streams (or is disabled).");
	evbuffer_add_printf(out, "pg_kafka_ready %d\n", metrics_ready(NULL));
	head(out, "pg_kafka_build_info", "gauge", "The broker's version.");
	evbuffer_add_printf(out, "pg_kafka_build_info{version=\"%s\"} 1\n", PGK_VERSION);
}
