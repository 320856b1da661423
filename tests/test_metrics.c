/*
 * Unit tests for the broker's metrics: latency bucketing, counting
 * requests and the error codes found anywhere in a response, the
 * Prometheus text (every family with HELP and TYPE, cumulative buckets),
 * and which endpoint a request target names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "apis.h"
#include "arena.h"
#include "clock.h"
#include "kerr.h"
#include "metrics.h"
#include "metrics_http.h"

static char *render(void);
static double sample(const char *text, const char *line_prefix);
static void done_request(arena *a, int16_t key, int16_t ver, void *resp, int64_t took_us);

static void test_latency_buckets(void **state)
{
	(void)state;
	assert_int_equal(metrics_latency_bucket(0), 0);
	assert_int_equal(metrics_latency_bucket(500), 0); /* le 0.0005, inclusive */
	assert_int_equal(metrics_latency_bucket(501), 1); /* le 0.001 */
	assert_int_equal(metrics_latency_bucket(1000), 1);
	assert_int_equal(metrics_latency_bucket(99999), 7); /* le 0.1 */
	assert_int_equal(metrics_latency_bucket(100000), 7);
	assert_int_equal(metrics_latency_bucket(60000000), 15);                      /* le 60 */
	assert_int_equal(metrics_latency_bucket(60000001), METRICS_LATENCY_BUCKETS); /* +Inf */
	assert_int_equal(metrics_latency_bucket(INT64_MAX), METRICS_LATENCY_BUCKETS);
	for (int i = 1; i < METRICS_LATENCY_BUCKETS; i++)
		assert_true(metrics_latency_bounds[i] > metrics_latency_bounds[i - 1]);
}

/* Per-partition errors of a ListOffsets response, a top-level error of a
 * Fetch response: each non-zero error_code counts once, zeros do not. */
static void test_errors_counted_at_every_depth(void **state)
{
	arena *a = arena_new();
	(void)state;

	metrics_reset();
	list_offsets_resp *lo = arena_alloc(a, sizeof(*lo));
	list_offsets_resp_topic *t = arena_alloc(a, sizeof(*t) * 2);
	list_offsets_resp_partition *p = arena_alloc(a, sizeof(*p) * 3);
	p[0].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	p[1].error_code = KERR_NONE;
	p[2].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	t[0].partitions = (karray){2, p};
	t[1].partitions = (karray){1, p + 2};
	lo->topics = (karray){2, t};
	done_request(a, 2, 7, lo, 700);

	fetch_resp *f = arena_alloc(a, sizeof(*f));
	f->error_code = KERR_UNKNOWN_SERVER_ERROR;
	f->responses = (karray){-1, NULL}; /* a null array is walked as empty */
	done_request(a, 1, 12, f, 2000000);
	/* Fetch v4 has no top-level error_code: nothing to count. */
	done_request(a, 1, 4, f, 10);

	char *text = render();
	assert_int_equal(sample(text,
				"pg_kafka_request_errors_total{api=\"ListOffsets\",version=\"7\","
				"error_code=\"3\"}"),
			 2);
	assert_int_equal(sample(text, "pg_kafka_request_errors_total{api=\"Fetch\",version=\"12\","
				      "error_code=\"-1\"}"),
			 1);
	assert_null(strstr(text, "api=\"Fetch\",version=\"4\",error_code"));
	assert_int_equal(sample(text, "pg_kafka_requests_total{api=\"ListOffsets\",version=\"7\"}"),
			 1);
	assert_int_equal(sample(text, "pg_kafka_requests_total{api=\"Fetch\",version=\"12\"}"), 1);
	assert_int_equal(sample(text, "pg_kafka_requests_total{api=\"Fetch\",version=\"4\"}"), 1);
	free(text);
	arena_free(a);
	metrics_reset();
}

/* Buckets are cumulative, end at +Inf with the count, and the sum is in
 * seconds. */
static void test_histogram_text(void **state)
{
	arena *a = arena_new();
	(void)state;

	metrics_reset();
	done_request(a, 3, 12, NULL, 400);      /* <= 0.0005 */
	done_request(a, 3, 12, NULL, 3000);     /* <= 0.005 */
	done_request(a, 3, 12, NULL, 90000000); /* +Inf */
	char *text = render();
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_bucket{api=\"Metadata\","
				      "le=\"0.0005\"}"),
			 1);
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_bucket{api=\"Metadata\","
				      "le=\"0.0025\"}"),
			 1);
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_bucket{api=\"Metadata\","
				      "le=\"0.005\"}"),
			 2);
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_bucket{api=\"Metadata\","
				      "le=\"60\"}"),
			 2);
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_bucket{api=\"Metadata\","
				      "le=\"+Inf\"}"),
			 3);
	assert_int_equal(sample(text, "pg_kafka_request_duration_seconds_count{api=\"Metadata\"}"),
			 3);
	double sum = sample(text, "pg_kafka_request_duration_seconds_sum{api=\"Metadata\"}");
	assert_true(sum > 90.003 && sum < 90.0035);
	/* An API never asked shows no series. */
	assert_null(strstr(text, "api=\"Produce\""));
	free(text);
	arena_free(a);
	metrics_reset();
}

/* Every sample line belongs to a family announced by HELP then TYPE, and
 * no family is announced twice. */
static void test_every_family_has_help_and_type(void **state)
{
	char family[128] = "";
	char seen[64][128];
	int nseen = 0;
	(void)state;

	metrics_reset();
	metrics_bytes_in(10);
	metrics_set_transactions_open(2);
	char *text = render();
	assert_int_equal(sample(text, "pg_kafka_received_bytes_total"), 10);
	assert_int_equal(sample(text, "pg_kafka_transactions_open"), 2);
	assert_int_equal(sample(text, "pg_kafka_ready"), 0); /* no pool in this test */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128], type[32];
		if (sscanf(line, "# HELP %127s", name) == 1) {
			for (int i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], name);
			strcpy(family, name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			assert_string_equal(name, family);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
				    strcmp(type, "histogram") == 0);
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(strncmp(line, family, strlen(family)), 0);
		assert_true(strncmp(line, "pg_kafka_", 9) == 0);
	}
	assert_true(nseen > 20);
	free(text);
	metrics_reset();
}

static void test_routes(void **state)
{
	(void)state;
	assert_int_equal(metrics_http_route("/metrics"), ROUTE_METRICS);
	assert_int_equal(metrics_http_route("/metrics?name[]=x"), ROUTE_METRICS);
	assert_int_equal(metrics_http_route("/healthz"), ROUTE_HEALTHZ);
	assert_int_equal(metrics_http_route("/readyz"), ROUTE_READYZ);
	assert_int_equal(metrics_http_route("/readyz/"), ROUTE_NOT_FOUND);
	assert_int_equal(metrics_http_route("/metricsx"), ROUTE_NOT_FOUND);
	assert_int_equal(metrics_http_route("/"), ROUTE_NOT_FOUND);
	assert_int_equal(metrics_http_route(""), ROUTE_NOT_FOUND);
	assert_int_equal(metrics_http_route(NULL), ROUTE_NOT_FOUND);
	assert_int_equal(metrics_http_route("/%6detrics"), ROUTE_NOT_FOUND); /* no decoding */
	assert_int_equal(metrics_http_route("http://host:1/healthz"), ROUTE_HEALTHZ);
	assert_int_equal(metrics_http_route("/metrics\x01"), ROUTE_NOT_FOUND);
}

/* ---- helpers ---- */

static char *render(void)
{
	struct evbuffer *b = evbuffer_new();
	metrics_render(b);
	size_t n = evbuffer_get_length(b);
	char *text = malloc(n + 1);
	assert_non_null(text);
	evbuffer_remove(b, text, n);
	text[n] = 0;
	evbuffer_free(b);
	return text;
}

/* The value of the sample line that starts with line_prefix and a space;
 * fails if there is none. */
static double sample(const char *text, const char *line_prefix)
{
	size_t n = strlen(line_prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, line_prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	fail_msg("no sample %s", line_prefix);
	return 0;
}

/* A request of api key/version that took took_us, answered with resp. */
static void done_request(arena *a, int16_t key, int16_t ver, void *resp, int64_t took_us)
{
	request *req = arena_alloc(a, sizeof(*req));
	req->api_key = key;
	req->api_version = ver;
	req->api = api_lookup(key);
	req->resp = resp;
	metrics_request_start(req);
	req->started_us -= took_us; /* as if it began took_us ago */
	metrics_request_done(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_buckets),
		cmocka_unit_test(test_errors_counted_at_every_depth),
		cmocka_unit_test(test_histogram_text),
		cmocka_unit_test(test_every_family_has_help_and_type),
		cmocka_unit_test(test_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
