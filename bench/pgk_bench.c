/*
 * pgk_bench: throughput, latency and footprint of a pg_kafka broker, each
 * scenario next to its floor measured in the same run (binary COPY of the
 * same rows into and out of kafka.records), plus the same produce and
 * consume runs against librdkafka's in-memory mock cluster as a reference
 * for a broker without storage.
 *
 * Results go to stdout as a Markdown table and, with --json, to a file.
 * Progress goes to stderr. bench/run.sh starts a fresh cluster and broker
 * and runs this program; see docs/BENCHMARKS.md.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "util.h"

/* ---- options ---- */

static struct {
	char bootstrap[256];
	char host[200];
	int port;
	const char *conninfo;
	int broker_pid;
	int pg_pid;
	double scale;
	const char *json;
	const char *only;
	char secure_bootstrap[256]; /* a TLS (or SASL_SSL) listener of the same broker */
	const char *secure_name;    /* its security protocol, for the results */
	const char *secure_conf;    /* librdkafka settings for it: "k=v;k=v" */
} opt = {.conninfo = "host=127.0.0.1 port=55434 dbname=pg_kafka user=postgres", .scale = 1.0};

/* ---- results ---- */

/* One line of the table. floor and ratio are NAN when there is none;
 * met is -1 without a target, else 0 or 1. */
typedef struct result {
	char scenario[80];
	char metric[40];
	double value;
	double floor;
	double ratio;
	char target[40];
	int met;
} result;

static result results[128];
static int nresults;

static void add_result(const char *scenario, const char *metric, double value, double floor,
		       const char *target, int met)
{
	if (nresults == (int)(sizeof(results) / sizeof(results[0])))
		die("too many results");
	result *r = &results[nresults++];
	snprintf(r->scenario, sizeof(r->scenario), "%s", scenario);
	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	r->value = value;
	r->floor = floor;
	r->ratio = isnan(floor) || floor == 0 ? NAN : value / floor;
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->met = met;
}

/* A throughput line with the "≥ 0.7 × floor" target. */
static void add_vs_floor(const char *scenario, const char *metric, double value, double floor)
{
	add_result(scenario, metric, value, floor, ">= 0.7 x floor", value >= 0.7 * floor);
}

static bool want(const char *name)
{
	if (!opt.only || !*opt.only)
		return true;
	size_t n = strlen(name);
	for (const char *p = opt.only; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static long scaled(long n, long minimum)
{
	long v = (long)((double)n * opt.scale);
	return v < minimum ? minimum : v;
}

/* CPU of the broker and of PostgreSQL between two points. */
typedef struct cpu_mark {
	double broker, pg;
	double self, machine, wall; /* to tell how much else ran meanwhile */
} cpu_mark;

static cpu_mark cpu_now(void)
{
	cpu_mark m = {NAN, NAN, proc_cpu_s(getpid()), machine_busy_s(), now_s()};
	if (opt.broker_pid > 0)
		m.broker = proc_cpu_s(opt.broker_pid);
	if (opt.pg_pid > 0)
		m.pg = pg_cpu_s(opt.pg_pid);
	return m;
}

/* The broker's peak RSS during a scenario, sampled every 20 ms. */
static struct {
	pthread_t thread;
	volatile bool running;
	volatile long peak_kb;
} rss_watch;

static void *rss_sampler(void *arg)
{
	(void)arg;
	while (rss_watch.running) {
		long kb = proc_rss_kb(opt.broker_pid);
		if (kb > rss_watch.peak_kb)
			rss_watch.peak_kb = kb;
		usleep(20000);
	}
	return NULL;
}

static void rss_watch_start(void)
{
	rss_watch.peak_kb = opt.broker_pid > 0 ? proc_rss_kb(opt.broker_pid) : -1;
	rss_watch.running = opt.broker_pid > 0;
	if (rss_watch.running)
		pthread_create(&rss_watch.thread, NULL, rss_sampler, NULL);
}

static void rss_watch_stop(const char *scenario)
{
	if (!rss_watch.running)
		return;
	rss_watch.running = false;
	pthread_join(rss_watch.thread, NULL);
	add_result(scenario, "broker peak RSS, MB", (double)rss_watch.peak_kb / 1024, NAN, NULL,
		   -1);
}

/* The broker's RSS once it has been idle for a while after a scenario:
 * what it keeps, as opposed to its peak. Memory the broker holds on to
 * after a burst counts against every other process on the machine. The
 * target is 64 MB plus the default read-ahead budget (64 MiB), which only
 * consumers fill. */
#define IDLE_RSS_WAIT_S 3
#define IDLE_RSS_TARGET_MB 128

static void add_idle_rss(const char *scenario)
{
	if (opt.broker_pid <= 0)
		return;
	sleep(IDLE_RSS_WAIT_S);
	long kb = proc_rss_kb(opt.broker_pid);
	if (kb < 0)
		return;
	add_result(scenario, "broker RSS once idle, MB", (double)kb / 1024, NAN, "<= 128 MB",
		   kb <= IDLE_RSS_TARGET_MB * 1024);
}

/* Report CPU seconds per million records since mark. */
static void add_cpu(const char *scenario, cpu_mark mark, long records)
{
	cpu_mark end = cpu_now();
	char s[96];
	if (!isnan(end.broker)) {
		snprintf(s, sizeof(s), "%s: broker CPU", scenario);
		add_result(s, "s / M records", (end.broker - mark.broker) * 1e6 / (double)records,
			   NAN, NULL, -1);
	}
	if (!isnan(end.pg)) {
		snprintf(s, sizeof(s), "%s: PostgreSQL CPU", scenario);
		add_result(s, "s / M records", (end.pg - mark.pg) * 1e6 / (double)records, NAN,
			   NULL, -1);
	}
	/* The machine may be shared: what neither the broker, PostgreSQL nor
	 * this program used, as a share of all cores. Near 0 means a clean run. */
	if (!isnan(end.broker) && !isnan(end.pg) && end.machine >= 0) {
		double ours = (end.broker - mark.broker) + (end.pg - mark.pg) + (end.self - mark.self);
		double other = (end.machine - mark.machine) - ours;
		double cap = (end.wall - mark.wall) * (double)sysconf(_SC_NPROCESSORS_ONLN);
		snprintf(s, sizeof(s), "%s: other processes", scenario);
		add_result(s, "% of machine CPU", other > 0 && cap > 0 ? 100 * other / cap : 0, NAN,
			   NULL, -1);
	}
}

/* ---- librdkafka ---- */

typedef struct dr_count {
	long delivered;
	long failed;
	rd_kafka_resp_err_t first_error;
} dr_count;

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char err[512];
	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		die("librdkafka %s=%s: %s", name, value, err);
}

/* A client of the secure listener gets its settings (--secure-conf). */
static void conf_secure(rd_kafka_conf_t *conf, const char *bootstrap)
{
	char buf[1024];
	if (!opt.secure_conf || strcmp(bootstrap, opt.secure_bootstrap) != 0)
		return;
	snprintf(buf, sizeof(buf), "%s", opt.secure_conf);
	for (char *save = NULL, *kv = strtok_r(buf, ";", &save); kv;
	     kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			die("--secure-conf: %s is not name=value", kv);
		*eq = '\0';
		conf_set(conf, kv, eq + 1);
	}
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	dr_count *dc = opaque;
	(void)rk;
	if (m->err) {
		if (!dc->failed)
			dc->first_error = m->err;
		dc->failed++;
	} else {
		dc->delivered++;
	}
}

/* Throughput settings: big batches, a short linger, every replica acks. */
static rd_kafka_t *new_producer(const char *bootstrap, dr_count *dc, int linger_ms)
{
	char err[512], linger[16];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	snprintf(linger, sizeof(linger), "%d", linger_ms);
	conf_set(conf, "bootstrap.servers", bootstrap);
	conf_set(conf, "acks", "all");
	conf_set(conf, "linger.ms", linger);
	conf_set(conf, "batch.size", "1000000");
	conf_set(conf, "batch.num.messages", "100000");
	conf_set(conf, "compression.type", "none");
	conf_set(conf, "enable.idempotence", "false");
	conf_set(conf, "queue.buffering.max.messages", "2000000");
	conf_set(conf, "queue.buffering.max.kbytes", "1048576");
	conf_set(conf, "message.timeout.ms", "300000");
	conf_set(conf, "log_level", "3");
	conf_secure(conf, bootstrap);
	rd_kafka_conf_set_opaque(conf, dc);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk)
		die("producer: %s", err);
	return rk;
}

static rd_kafka_t *new_consumer(const char *bootstrap, const char *max_wait_ms)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	conf_set(conf, "bootstrap.servers", bootstrap);
	conf_secure(conf, bootstrap);
	conf_set(conf, "fetch.wait.max.ms", max_wait_ms);
	conf_set(conf, "fetch.min.bytes", "1");
	conf_set(conf, "fetch.max.bytes", "52428800");
	conf_set(conf, "max.partition.fetch.bytes", "4194304");
	conf_set(conf, "queued.max.messages.kbytes", "262144");
	conf_set(conf, "enable.partition.eof", "false");
	conf_set(conf, "log_level", "3");
	/* PGK_BENCH_DEBUG=fetch,... turns on librdkafka's debug log for consumers. */
	const char *debug = getenv("PGK_BENCH_DEBUG");
	if (debug && *debug) {
		conf_set(conf, "debug", debug);
		conf_set(conf, "log_level", "7");
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		die("consumer: %s", err);
	return rk;
}

/* Produce n records of size bytes (null key, random partition) and wait for
 * every acknowledgement. Returns the seconds; *failed gets the failures. */
static double produce_n(const char *bootstrap, const char *topic, long n, int size, long *failed)
{
	dr_count dc = {0};
	rd_kafka_t *rk = new_producer(bootstrap, &dc, 5);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	char *payload = malloc((size_t)size);
	if (!payload)
		die("out of memory");
	for (int i = 0; i < size; i++)
		payload[i] = (char)('A' + i % 26);

	double t0 = now_s();
	for (long i = 0; i < n;) {
		if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
				     (size_t)size, NULL, 0, NULL) != 0) {
			rd_kafka_resp_err_t err = rd_kafka_last_error();
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				die("produce: %s", rd_kafka_err2str(err));
			rd_kafka_poll(rk, 1);
			continue;
		}
		if ((++i & 4095) == 0)
			rd_kafka_poll(rk, 0);
	}
	if (rd_kafka_flush(rk, 600000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		die("produce to %s: flush timed out", topic);
	double secs = now_s() - t0;
	if (dc.failed)
		note("produce to %s: %ld of %ld failed, first: %s", topic, dc.failed, n,
		     rd_kafka_err2str(dc.first_error));
	*failed = dc.failed;
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	free(payload);
	return secs;
}

/* Consume n records from offset start of partitions 0..partitions-1 (no
 * consumer group). Returns the seconds; *bytes gets the value bytes. */
static double consume_n(const char *bootstrap, const char *topic, int partitions, int64_t start,
			long n, long *bytes)
{
	rd_kafka_t *rk = new_consumer(bootstrap, "500");
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_message_t *msgs[4096];
	long got = 0;

	*bytes = 0;
	/* Connected and with metadata before the clock starts, as the COPY
	 * floor's connection is. */
	const struct rd_kafka_metadata *md;
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
	double t0 = now_s(), last = t0;
	for (int p = 0; p < partitions; p++)
		if (rd_kafka_consume_start_queue(rkt, p, start, q) != 0)
			die("consume_start: %s", rd_kafka_err2str(rd_kafka_last_error()));
	while (got < n) {
		/* A batch call returns when its batch is full or its timeout
		 * passed: never ask for more than what is left. */
		long want_n = n - got < 4096 ? n - got : 4096;
		ssize_t k = rd_kafka_consume_batch_queue(q, 200, msgs, (size_t)want_n);
		if (k < 0)
			die("consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
		for (ssize_t i = 0; i < k; i++) {
			if (msgs[i]->err)
				note("consume %s: %s", topic, rd_kafka_message_errstr(msgs[i]));
			else {
				got++;
				*bytes += (long)msgs[i]->len;
			}
			rd_kafka_message_destroy(msgs[i]);
		}
		if (k > 0)
			last = now_s();
		else if (now_s() - last > 30)
			die("consume %s: stalled at %ld of %ld records", topic, got, n);
	}
	double secs = now_s() - t0;
	for (int p = 0; p < partitions; p++)
		rd_kafka_consume_stop(rkt, p);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return secs;
}

static void create_topic(PGconn *c, const char *topic, int partitions)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT kafka.delete_topic('%s'), kafka.create_topic('%s', %d)", topic, topic,
		 partitions);
	pg_exec(c, sql);
}


/*
 * Wait until every walsender (the broker's wake-up stream) has read the WAL
 * written so far. Logical decoding handles a transaction when it commits, so
 * a big COPY is decoded after the COPY returned: without this wait that work
 * would land in the next scenario's time. Returns the seconds waited.
 */
static double wait_stream(PGconn *c, const char *scenario, const char *after)
{
	char *target = pg_text(c, "SELECT pg_current_wal_flush_lsn()::text");
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_replication WHERE sent_lsn < '%s'::pg_lsn", target);
	double t0 = now_s();
	while (pg_i64(c, sql) > 0 && now_s() - t0 < 600)
		usleep(50000);
	double secs = now_s() - t0;
	free(target);
	if (scenario) {
		char metric[64];
		snprintf(metric, sizeof(metric), "stream catch-up after %s, s", after);
		add_result(scenario, metric, secs, NAN, NULL, -1);
	}
	return secs;
}

/* ---- produce and consume next to COPY ---- */

typedef struct tput_case {
	const char *name;
	const char *topic;       /* through the broker */
	const char *floor_topic; /* through COPY */
	int partitions;
	long n;
	int size;
	bool consume; /* also consume it back */
} tput_case;

/* A produce of 1 KB records takes two or three seconds and swings by a
 * fifth from run to run: each case runs this many times, broker and COPY
 * alternating, each round into topics of its own, and the medians count. */
#define PRODUCE_ROUNDS 3

static void run_produce(PGconn *c, const tput_case *tc, int rounds)
{
	char label[96];
	long failed = 0;
	double secs[PRODUCE_ROUNDS], fsecs[PRODUCE_ROUNDS];

	snprintf(label, sizeof(label), "produce %s", tc->name);
	for (int round = 0; round < rounds; round++) {
		char topic[96], floor_topic[96];
		long round_failed;

		/* Round 0 keeps the case's own topics: the consume scenario
		 * reads them back. */
		if (round == 0) {
			snprintf(topic, sizeof(topic), "%s", tc->topic);
			snprintf(floor_topic, sizeof(floor_topic), "%s", tc->floor_topic);
		} else {
			snprintf(topic, sizeof(topic), "%s-r%d", tc->topic, round);
			snprintf(floor_topic, sizeof(floor_topic), "%s-r%d", tc->floor_topic, round);
		}
		create_topic(c, topic, tc->partitions);
		/* The floor's rows need a topic of their own: kafka.records is
		 * partitioned by topic (0.9). */
		create_topic(c, floor_topic, tc->partitions);
		wait_stream(c, NULL, NULL);
		pg_exec(c, "CHECKPOINT");

		note("%s: round %d of %d: producing %ld x %d B through the broker", tc->name,
		     round + 1, rounds, tc->n, tc->size);
		cpu_mark mark = cpu_now();
		if (round == 0)
			rss_watch_start();
		secs[round] = produce_n(opt.bootstrap, topic, tc->n, tc->size, &round_failed);
		failed += round_failed;
		if (round == 0) {
			add_cpu(label, mark, tc->n);
			rss_watch_stop(label);
		}
		wait_stream(c, round == 0 ? label : NULL, "the broker");
		if (round == 0)
			add_idle_rss(label);
		pg_exec(c, "CHECKPOINT");

		note("%s: COPY FROM STDIN of the same rows", tc->name);
		fsecs[round] = copy_records_in(c, floor_topic, tc->partitions, 0, tc->n, tc->size);
		wait_stream(c, round == 0 ? label : NULL, "COPY");
		pg_exec(c, "CHECKPOINT");
		note("%s: broker %.1f s, COPY %.1f s", tc->name, secs[round], fsecs[round]);
	}

	double s_med = quantile(secs, rounds, 0.5), f_med = quantile(fsecs, rounds, 0.5);
	double mb = (double)tc->n * tc->size / 1e6;
	char msgs[64], mbs[64];
	snprintf(msgs, sizeof(msgs), rounds > 1 ? "msgs/s (median of %d)" : "msgs/s", rounds);
	snprintf(mbs, sizeof(mbs), rounds > 1 ? "MB/s (median of %d)" : "MB/s", rounds);
	add_vs_floor(label, msgs, (double)tc->n / s_med, (double)tc->n / f_med);
	add_vs_floor(label, mbs, mb / s_med, mb / f_med);
	if (failed)
		add_result(label, "delivery errors", (double)failed, NAN, "0", 0);
}

/* Consume and COPY-out are cheap and noisy: run each this many times,
 * alternating, and keep the medians. */
#define CONSUME_ROUNDS 3

static void run_consume(PGconn *c, const tput_case *tc)
{
	char label[96];
	long bytes, rows = 0, copy_bytes;
	double secs[CONSUME_ROUNDS], fsecs[CONSUME_ROUNDS];

	/* Both runs read a table that has settled: no hint-bit writes in the
	 * measurement. */
	pg_exec(c, "VACUUM kafka.records");
	wait_stream(c, NULL, NULL);
	snprintf(label, sizeof(label), "consume %s", tc->name);
	note("%s: %d rounds of consuming %ld records from offset 0 through the broker, then"
	     " COPY TO STDOUT of the same rows",
	     tc->name, CONSUME_ROUNDS, tc->n);
	for (int round = 0; round < CONSUME_ROUNDS; round++) {
		cpu_mark mark = cpu_now();
		if (round == 0)
			rss_watch_start();
		secs[round] = consume_n(opt.bootstrap, tc->topic, 1, 0, tc->n, &bytes);
		if (round == 0) {
			add_cpu(label, mark, tc->n);
			rss_watch_stop(label);
			add_idle_rss(label);
		}
		fsecs[round] = copy_records_out(c, tc->floor_topic, 0, &rows, &copy_bytes);
		if (rows != tc->n)
			note("%s: COPY returned %ld rows, expected %ld", tc->name, rows, tc->n);
		note("%s: broker %.2f s, COPY %.2f s", tc->name, secs[round], fsecs[round]);
	}
	double s_med = quantile(secs, CONSUME_ROUNDS, 0.5), f_med = quantile(fsecs, CONSUME_ROUNDS, 0.5);
	double mb = (double)tc->n * tc->size / 1e6;
	add_vs_floor(label, "msgs/s (median of 3)", (double)tc->n / s_med, (double)rows / f_med);
	add_vs_floor(label, "MB/s (median of 3)", mb / s_med, mb / f_med);
}

/*
 * The cost of TLS (and SASL): the same 1 KB records produced and consumed
 * through the PLAINTEXT listener and the secure one of the same broker, in
 * turns, each with its own topic. Msgs/s and broker CPU per million
 * records, for each and as the secure run's share of the plaintext one.
 */
static void run_secure(PGconn *c)
{
	long n = scaled(200000, 1000), failed, bytes;
	const char *bootstrap[2] = {opt.bootstrap, opt.secure_bootstrap};
	const char *proto[2] = {"PLAINTEXT", opt.secure_name ? opt.secure_name : "SSL"};
	double produce_rate[2], consume_rate[2];
	char topic[64], label[96];

	/* A tenth first, unmeasured, so that neither run pays for a new
	 * topic's first pages or a cold connection. */
	for (int i = 0; i < 2; i++) {
		snprintf(topic, sizeof(topic), "bench-secure-%d", i);
		create_topic(c, topic, 1);
		(void)produce_n(bootstrap[i], topic, n / 10, 1000, &failed);
	}
	wait_stream(c, NULL, NULL);
	for (int i = 0; i < 2; i++) {
		snprintf(topic, sizeof(topic), "bench-secure-%d", i);
		snprintf(label, sizeof(label), "produce %ld x 1 KB over %s", n, proto[i]);
		note("%s", label);
		cpu_mark mark = cpu_now();
		double secs = produce_n(bootstrap[i], topic, n, 1000, &failed);
		add_cpu(label, mark, n);
		produce_rate[i] = (double)n / secs;
		add_result(label, "msgs/s", produce_rate[i], NAN, NULL, -1);
		if (failed)
			add_result(label, "delivery errors", (double)failed, NAN, "0", 0);
		wait_stream(c, NULL, NULL);
	}
	pg_exec(c, "VACUUM kafka.records");
	for (int i = 0; i < 2; i++) {
		double secs[CONSUME_ROUNDS];
		snprintf(topic, sizeof(topic), "bench-secure-%d", i);
		snprintf(label, sizeof(label), "consume %ld x 1 KB over %s", n, proto[i]);
		note("%s: %d rounds", label, CONSUME_ROUNDS);
		cpu_mark mark = cpu_now();
		for (int round = 0; round < CONSUME_ROUNDS; round++)
			secs[round] = consume_n(bootstrap[i], topic, 1, n / 10, n, &bytes);
		add_cpu(label, mark, n * CONSUME_ROUNDS);
		consume_rate[i] = (double)n / quantile(secs, CONSUME_ROUNDS, 0.5);
		add_result(label, "msgs/s (median of 3)", consume_rate[i], NAN, NULL, -1);
	}
	snprintf(label, sizeof(label), "%s / PLAINTEXT", proto[1]);
	add_result(label, "produce msgs/s", produce_rate[1] / produce_rate[0], NAN, NULL, -1);
	add_result(label, "consume msgs/s", consume_rate[1] / consume_rate[0], NAN, NULL, -1);
}

/* ---- end-to-end latency ---- */

typedef struct lat_state {
	const char *topic;
	int64_t start_offset;
	long n;
	int64_t *sent_ns;     /* per sequence number, written by the producer */
	double *e2e_ms;       /* per sequence number, NAN until received */
	double *ack_ms;       /* per sequence number, NAN until acknowledged */
	volatile bool stop;   /* consumer and poller threads stop */
	volatile long received;
	rd_kafka_t *producer;
} lat_state;

static void *lat_consumer(void *arg)
{
	lat_state *st = arg;
	rd_kafka_t *rk = new_consumer(opt.bootstrap, "500");
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, st->topic, NULL);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);

	if (rd_kafka_consume_start_queue(rkt, 0, st->start_offset, q) != 0)
		die("latency consumer: %s", rd_kafka_err2str(rd_kafka_last_error()));
	/* One message at a time: a batch call would hold messages back until
	 * its batch is full or its timeout passes. */
	while (!st->stop) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
		if (!m)
			continue;
		int64_t now = now_ns();
		if (!m->err && m->len >= 16) {
			int64_t seq, sent;
			memcpy(&seq, m->payload, 8);
			memcpy(&sent, (char *)m->payload + 8, 8);
			if (seq >= 0 && seq < st->n && isnan(st->e2e_ms[seq])) {
				st->e2e_ms[seq] = (double)(now - sent) / 1e6;
				st->received++;
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consume_stop(rkt, 0);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return NULL;
}

static void lat_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	lat_state *st = opaque;
	(void)rk;
	long seq = (long)(intptr_t)m->_private;
	if (!m->err && seq >= 0 && seq < st->n)
		st->ack_ms[seq] = (double)(now_ns() - st->sent_ns[seq]) / 1e6;
}

/* Serves delivery reports as they arrive, so acknowledgement times are not
 * delayed by the producer's pacing sleeps. */
static void *lat_poller(void *arg)
{
	lat_state *st = arg;
	while (!st->stop)
		rd_kafka_poll(st->producer, 50);
	return NULL;
}

/* Drop the NANs of v[0..n) (records that never arrived); returns the count. */
static size_t compact(double *v, long n)
{
	size_t k = 0;
	for (long i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	return k;
}

/* p50, p99, p99.9 of v, next to those of floor (may be NULL). */
static void add_percentiles(const char *scenario, double *v, long n, double *floor, long nfloor,
			    bool targets)
{
	static const double qs[] = {0.50, 0.99, 0.999};
	static const char *names[] = {"p50 ms", "p99 ms", "p99.9 ms"};
	static const char *goals[] = {"<= 3 ms", "<= 15 ms", NULL};
	static const double limits[] = {3, 15, 0};
	size_t k = compact(v, n), kf = floor ? compact(floor, nfloor) : 0;
	for (int i = 0; i < 3; i++) {
		double x = quantile(v, k, qs[i]);
		double f = floor ? quantile(floor, kf, qs[i]) : NAN;
		bool has_goal = targets && goals[i];
		add_result(scenario, names[i], x, f, has_goal ? goals[i] : NULL,
			   has_goal ? x <= limits[i] : -1);
	}
}

/* Sleep until *next plus one millisecond, and move *next on. */
static void pace_1ms(struct timespec *next)
{
	next->tv_nsec += 1000000;
	if (next->tv_nsec >= 1000000000) {
		next->tv_nsec -= 1000000000;
		next->tv_sec++;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

/* The floor under the acknowledgement latency: one row INSERTed and
 * committed through libpq every millisecond, on a connection of its own,
 * timed from when it was due. Records ms[first .. first + count). */
static void commit_latency_floor(PGconn *c, double *ms, long first, long count,
				 struct timespec *next)
{
	char value[100];
	char offset[24];
	const char *params[2] = {offset, value};
	int lengths[2] = {0, sizeof(value)};
	int formats[2] = {0, 1};

	memset(value, 'f', sizeof(value));
	for (long i = first; i < first + count; i++) {
		pace_1ms(next);
		snprintf(offset, sizeof(offset), "%ld", i);
		lengths[0] = (int)strlen(offset);
		/* From the scheduled time, as the broker's samples are: a
		 * commit that runs late delays the ones behind it. */
		double t0 = (double)next->tv_sec + (double)next->tv_nsec / 1e9;
		PGresult *r = PQexecParams(
			c,
			"INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
			" VALUES ('bench-floor-latency', 0, $1::int8, now(), $2::bytea)",
			2, NULL, params, lengths, formats, 0);
		ms[i] = (now_s() - t0) * 1000;
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("latency floor: %s", PQerrorMessage(c));
		PQclear(r);
	}
}

static void run_latency(PGconn *c)
{
	lat_state st = {.topic = "bench-latency", .n = scaled(10000, 2000)};
	pthread_t consumer, poller;
	char err[512];

	create_topic(c, st.topic, 1);
	wait_stream(c, NULL, NULL);
	/* Every sample waits for an fsync: start with nothing for the disk to
	 * write back from the throughput runs (dirty table and WAL pages) that
	 * those fsyncs would queue behind. */
	pg_exec(c, "CHECKPOINT");
	sync();
	st.sent_ns = calloc((size_t)st.n, sizeof(int64_t));
	st.e2e_ms = malloc((size_t)st.n * sizeof(double));
	st.ack_ms = malloc((size_t)st.n * sizeof(double));
	if (!st.sent_ns || !st.e2e_ms || !st.ack_ms)
		die("out of memory");
	for (long i = 0; i < st.n; i++)
		st.e2e_ms[i] = st.ack_ms[i] = NAN;
	st.start_offset = 0;

	/* The consumer starts at offset 0 of the empty topic and long-polls
	 * before the first record is sent. */
	pthread_create(&consumer, NULL, lat_consumer, &st);

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	conf_set(conf, "bootstrap.servers", opt.bootstrap);
	conf_set(conf, "acks", "all");
	conf_set(conf, "linger.ms", "0");
	conf_set(conf, "compression.type", "none");
	conf_set(conf, "enable.idempotence", "false");
	conf_set(conf, "log_level", "3");
	rd_kafka_conf_set_opaque(conf, &st);
	rd_kafka_conf_set_dr_msg_cb(conf, lat_on_delivery);
	st.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!st.producer)
		die("latency producer: %s", err);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(st.producer, st.topic, NULL);
	pthread_create(&poller, NULL, lat_poller, &st);
	/* Let both clients connect and learn the metadata. */
	const struct rd_kafka_metadata *md;
	if (rd_kafka_metadata(st.producer, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
	sleep(2);

	/* Blocks of the broker and of the floor alternate, so that both see
	 * the same machine (other work, disk, checkpoints). */
	enum { BLOCK = 500 };
	double *floor = malloc(sizeof(double) * (size_t)st.n);
	if (!floor)
		die("out of memory");
	create_topic(c, "bench-floor-latency", 1);
	note("latency: %ld records, one every ms, alternating with single-row INSERTs", st.n);
	struct timespec next;
	cpu_mark mark = cpu_now();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < st.n; i++) {
		if (i % BLOCK == 0) {
			/* Each block starts on its own schedule, so that a floor
			 * block that ran late is not charged to the broker. */
			long count = st.n - i < BLOCK ? st.n - i : BLOCK;
			clock_gettime(CLOCK_MONOTONIC, &next);
			commit_latency_floor(c, floor, i, count, &next);
			clock_gettime(CLOCK_MONOTONIC, &next);
		}
		pace_1ms(&next);
		char payload[100] = {0};
		/* Timed from when it was due, like the floor. */
		int64_t seq = i, sent = (int64_t)next.tv_sec * 1000000000LL + next.tv_nsec;
		st.sent_ns[i] = sent;
		memcpy(payload, &seq, 8);
		memcpy(payload + 8, &sent, 8);
		if (rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, payload, sizeof(payload), NULL, 0,
				     (void *)(intptr_t)i) != 0)
			note("latency produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
	}
	rd_kafka_flush(st.producer, 30000);
	add_cpu("latency", mark, 2 * st.n);
	for (int w = 0; w < 100 && st.received < st.n; w++)
		usleep(50000);
	st.stop = true;
	pthread_join(consumer, NULL);
	pthread_join(poller, NULL);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(st.producer);

	/* PGK_BENCH_LATENCY_CSV=FILE keeps every sample, to look for patterns. */
	const char *csv = getenv("PGK_BENCH_LATENCY_CSV");
	FILE *f = csv && *csv ? fopen(csv, "w") : NULL;
	if (f) {
		fprintf(f, "seq,sent_ms,ack_ms,e2e_ms\n");
		for (long i = 0; i < st.n; i++)
			fprintf(f, "%ld,%.3f,%.3f,%.3f\n", i, (double)(st.sent_ns[i] - st.sent_ns[0]) / 1e6,
				st.ack_ms[i], st.e2e_ms[i]);
		fclose(f);
	}
	long lost = st.n - st.received;
	add_percentiles("end-to-end latency, 1 record/ms", st.e2e_ms, st.n, NULL, 0, true);
	add_percentiles("produce ack latency (acks=all), 1 record/ms; floor: 1-row INSERT commit",
			st.ack_ms, st.n, floor, st.n, false);
	free(floor);
	add_result("end-to-end latency, 1 record/ms", "records not received", (double)lost, NAN,
		   "0", lost == 0);
	free(st.sent_ns);
	free(st.e2e_ms);
	free(st.ack_ms);
}

/* ---- fetch at the start and the end of a deep partition ---- */

/*
 * Retention: the same steady produce rate (1,000 records/s, one per
 * request) into two topics in turn, one
 * keeping everything, one whose records expire continuously (segment.ms
 * 1000, retention.ms 10000), long enough for the storage job (run every
 * second here: run.sh) to roll and drop many segments. Compared: produce
 * acknowledgement p50/p99 with expiry against without; records removed
 * per second; and kafka.records' table plus index size, sampled every
 * second, against what the retained rows take (rows retained times the
 * bytes a row took in the run without expiry).
 */
typedef struct ret_state {
	rd_kafka_t *producer;
	int64_t *sent_ns;
	double *ack_ms;
	long n;
	volatile bool stop;
} ret_state;

static void ret_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	ret_state *st = opaque;
	(void)rk;
	long seq = (long)(intptr_t)m->_private;
	if (!m->err && seq >= 0 && seq < st->n)
		st->ack_ms[seq] = (double)(now_ns() - st->sent_ns[seq]) / 1e6;
}

static void *ret_poller(void *arg)
{
	ret_state *st = arg;
	while (!st->stop)
		rd_kafka_poll(st->producer, 50);
	return NULL;
}

/* The sizes sampled every second while a phase runs, on a connection of
 * the sampler's own. */
typedef struct ret_sampler {
	void (*fn)(PGconn *, void *);
	void *arg;
	volatile bool stop;
} ret_sampler;

static void *ret_sampler_main(void *p)
{
	ret_sampler *s = p;
	PGconn *c = PQconnectdb(opt.conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		die("sampler: %s", PQerrorMessage(c));
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!s->stop) {
		next.tv_sec++;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (!s->stop)
			s->fn(c, s->arg);
	}
	PQfinish(c);
	return NULL;
}

/* Produce n records of 100 B at rate per second into topic, one every
 * 1/rate s; fills ack_ms, from when each record was due. Every second,
 * sample(conn, arg) runs in a thread of its own, so that the sampling
 * queries delay no record; both phases sample, so that both carry their
 * load. */
static void ret_produce(const char *topic, long n, int rate, double *ack_ms,
			void (*sample)(PGconn *, void *), void *arg)
{
	ret_state st = {.n = n, .ack_ms = ack_ms};
	char err[512], value[100];
	pthread_t poller, sampler_thread;
	ret_sampler sampler = {.fn = sample, .arg = arg};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	memset(value, 'r', sizeof(value));
	st.sent_ns = calloc((size_t)n, sizeof(int64_t));
	for (long i = 0; i < n; i++)
		ack_ms[i] = NAN;
	conf_set(conf, "bootstrap.servers", opt.bootstrap);
	conf_set(conf, "acks", "all");
	conf_set(conf, "linger.ms", "0");
	conf_set(conf, "enable.idempotence", "false");
	conf_set(conf, "log_level", "3");
	rd_kafka_conf_set_opaque(conf, &st);
	rd_kafka_conf_set_dr_msg_cb(conf, ret_on_delivery);
	st.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!st.producer)
		die("producer: %s", err);
	/* Connected and with the topic's metadata before the first record is
	 * due: otherwise the records due while the client starts (half a
	 * second of them) wait for it, and they alone made the p99. */
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(st.producer, topic, NULL);
	const struct rd_kafka_metadata *md;
	if (rd_kafka_metadata(st.producer, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	pthread_create(&poller, NULL, ret_poller, &st);
	pthread_create(&sampler_thread, NULL, ret_sampler_main, &sampler);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	long step_ns = 1000000000L / rate;
	for (long i = 0; i < n; i++) {
		next.tv_nsec += step_ns;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		st.sent_ns[i] = (int64_t)next.tv_sec * 1000000000 + next.tv_nsec;
		rd_kafka_resp_err_t e = rd_kafka_producev(
			st.producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
			RD_KAFKA_V_VALUE(value, sizeof(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
		if (e)
			die("produce: %s", rd_kafka_err2str(e));
	}
	rd_kafka_flush(st.producer, 60000);
	sampler.stop = true;
	pthread_join(sampler_thread, NULL);
	st.stop = true;
	pthread_join(poller, NULL);
	rd_kafka_destroy(st.producer);
	free(st.sent_ns);
}

typedef struct ret_sizes {
	double base_mb; /* kafka.records + indexes before the first expiring phase */
	double peak_mb, last_mb;
	double peak_retained;
	int samples;
	bool record; /* false: the same queries, results unused */
	bool one_table; /* kafka.records is not partitioned */
} ret_sizes;

static double records_mb(PGconn *c)
{
	/* Every table under kafka.records when it is partitioned (0.9); the
	 * table itself when it is one (0.8: pg_partition_tree() lists
	 * nothing for a table that is not partitioned). */
	return (double)pg_i64(c, "SELECT CASE WHEN c.relkind = 'p' THEN"
				 " (SELECT coalesce(sum(pg_total_relation_size(relid)), 0)"
				 "  FROM pg_partition_tree('kafka.records'))"
				 " ELSE pg_total_relation_size(c.oid) END"
				 " FROM pg_class c WHERE c.oid = 'kafka.records'::regclass") /
	       1048576.0;
}

/* A topic's tables and indexes, MB, where kafka.records is partitioned
 * (each topic has tables of its own); else all of kafka.records. */
static double topic_mb(PGconn *c, const char *topic)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT coalesce((SELECT sum(pg_total_relation_size(x.relid))"
		 " FROM kafka.chunks t, pg_partition_tree(format('kafka_chunks.%%I',"
		 " t.table_name)::regclass) x WHERE t.kind = 'topic' AND t.topic = '%s'), -1)",
		 topic);
	long long bytes = pg_i64(c, sql);
	return bytes >= 0 ? (double)bytes / 1048576.0 : records_mb(c);
}

/* The expiring topic's tables; on one kafka.records, its growth since
 * base_mb. */
static double expiring_mb(PGconn *c, const ret_sizes *s)
{
	double mb = topic_mb(c, "bench-retention-expiring");
	return s->one_table ? mb - s->base_mb : mb;
}

static void ret_sample(PGconn *c, void *arg)
{
	ret_sizes *s = arg;
	double mb = expiring_mb(c, s);
	long long kept = pg_i64(c, "SELECT next_offset - log_start_offset FROM kafka.partitions"
				   " WHERE topic = 'bench-retention-expiring'");
	if (!s->record)
		return;
	note("retention: t=%ds expiring topic's tables + indexes %.1f MB, %lld records retained",
	     s->samples, mb, kept);
	if (mb > s->peak_mb)
		s->peak_mb = mb;
	if ((double)kept > s->peak_retained)
		s->peak_retained = (double)kept;
	s->last_mb = mb;
	s->samples++;
}

#define RET_ROUNDS 3

static void run_retention(PGconn *c)
{
	/* 1,000/s: at 10 s of retention that is 10,000 rows, some 3 MB; at
	 * the 200/s this ran at first, the 0.6 MB retained were less than
	 * what a partition's tables take whatever their rows (BENCHMARKS.md,
	 * "Retention"), and the ratio measured that, not the expiry. */
	int rate = 1000;
	long n = scaled(150000, 45000);
	double *plain = calloc((size_t)n, sizeof(double)), *expiring = calloc((size_t)n, sizeof(double));
	ret_sizes sz = {.record = true}, unused = {0};

	pg_exec(c, "SELECT kafka.delete_topic('bench-retention-kept'),"
		   " kafka.delete_topic('bench-retention-expiring')");
	pg_exec(c, "SELECT kafka.create_topic('bench-retention-kept', 1, '{\"retention.ms\": \"-1\"}')");
	pg_exec(c, "SELECT kafka.create_topic('bench-retention-expiring', 1,"
		   " '{\"retention.ms\": \"10000\", \"segment.ms\": \"1000\"}')");
	wait_stream(c, NULL, NULL);
	pg_exec(c, "CHECKPOINT");

	/* Records live 10 s here, against autovacuum's default minute between
	 * rounds and a fifth of the table: vacuum is tuned to follow, as
	 * OPERATIONS.md advises for short retention. */
	if (!getenv("BENCH_NO_VACUUM_TUNING"))
		pg_exec(c, "ALTER SYSTEM SET autovacuum_naptime = '1s'");
	pg_exec(c, "SELECT pg_reload_conf()");
	/* A partitioned kafka.records (0.9) takes no storage parameters: its
	 * chunks are dropped whole, and only the one holding the log start
	 * has rows deleted. */
	bool one_table = pg_i64(c, "SELECT (relkind = 'r')::int FROM pg_class"
				   " WHERE oid = 'kafka.records'::regclass") == 1;
	sz.one_table = unused.one_table = one_table;
	if (!getenv("BENCH_NO_VACUUM_TUNING") && one_table)
		pg_exec(c, "ALTER TABLE kafka.records SET (autovacuum_vacuum_scale_factor = 0,"
			   " autovacuum_vacuum_threshold = 1000)");

	/* The phases alternate, RET_ROUNDS of each, so that both meet what
	 * this shared machine does meanwhile (a p99 is 1% of the samples: a
	 * slow minute of the host's disk in one phase decided the ratio).
	 * Expiry runs from 10 s into a round with it (nothing is older before)
	 * until 10 s into the next round without it (what the round wrote
	 * goes): those first 10 s of a round are left out of both. */
	long per = n / RET_ROUNDS, skip = 10L * rate;
	double row_bytes = 0, secs = 0;
	long long removed = 0;
	note("retention: %d rounds of %ld x 100 B at %d/s into a topic that keeps them, then"
	     " into one whose records expire after 10 s (autovacuum every 1 s, at 1000 dead rows"
	     " of kafka.records)",
	     RET_ROUNDS, per, rate);
	for (int round = 0; round < RET_ROUNDS; round++) {
		double before = topic_mb(c, "bench-retention-kept");
		ret_produce("bench-retention-kept", per, rate, plain + round * per, ret_sample,
			    &unused);
		for (long i = 0; round > 0 && i < skip && i < per; i++)
			plain[round * per + i] = NAN;
		row_bytes += (topic_mb(c, "bench-retention-kept") - before) * 1048576.0 / (double)per /
			     RET_ROUNDS;
		wait_stream(c, NULL, NULL);
		if (round == 0)
			sz.base_mb = records_mb(c);
		double t0 = now_s();
		long long start0 = pg_i64(c, "SELECT log_start_offset FROM kafka.partitions"
					     " WHERE topic = 'bench-retention-expiring'");
		ret_produce("bench-retention-expiring", per, rate, expiring + round * per, ret_sample,
			    &sz);
		for (long i = 0; i < skip && i < per; i++)
			expiring[round * per + i] = NAN;
		secs += now_s() - t0;
		removed += pg_i64(c, "SELECT log_start_offset FROM kafka.partitions"
				     " WHERE topic = 'bench-retention-expiring'") -
			   start0;
		wait_stream(c, NULL, NULL);
	}
	n = per * RET_ROUNDS;
	if (one_table)
		pg_exec(c, "ALTER TABLE kafka.records RESET (autovacuum_vacuum_scale_factor,"
			   " autovacuum_vacuum_threshold)");
	pg_exec(c, "ALTER SYSTEM RESET autovacuum_naptime");
	pg_exec(c, "SELECT pg_reload_conf()");
	long long segs = pg_i64(c, "SELECT count(*) FROM kafka.segments"
				   " WHERE topic = 'bench-retention-expiring'");

	/* PGK_BENCH_RETENTION_CSV=FILE keeps every sample, to look for patterns. */
	const char *csv = getenv("PGK_BENCH_RETENTION_CSV");
	FILE *f = csv && *csv ? fopen(csv, "w") : NULL;
	if (f) {
		fprintf(f, "round,seq,kept_ms,expiring_ms\n");
		for (long i = 0; i < n; i++)
			fprintf(f, "%ld,%ld,%.3f,%.3f\n", i / per, i % per, plain[i], expiring[i]);
		fclose(f);
	}
	size_t kp = compact(plain, n), ke = compact(expiring, n);
	double p50 = quantile(plain, kp, 0.5), p99 = quantile(plain, kp, 0.99);
	double e50 = quantile(expiring, ke, 0.5), e99 = quantile(expiring, ke, 0.99);
	add_result("retention: produce at 1,000/s, expiring vs kept", "p50 ms", e50, p50, NULL, -1);
	add_result("retention: produce at 1,000/s, expiring vs kept", "p99 ms", e99, p99,
		   "<= 1.5 x floor", e99 <= 1.5 * p99);
	add_result("retention: produce at 1,000/s, expiring vs kept", "records removed per s",
		   (double)removed / secs, NAN, NULL, -1);
	add_result("retention: produce at 1,000/s, expiring vs kept", "segments left at the end",
		   (double)segs, NAN, NULL, -1);
	double retained_mb = sz.peak_retained * row_bytes / 1048576.0;
	add_result("retention: the expiring topic's tables + indexes, MB",
		   "peak vs retained rows' size", sz.peak_mb, retained_mb, "<= 1.5 x floor",
		   sz.peak_mb <= 1.5 * retained_mb);
	add_result("retention: the expiring topic's tables + indexes, MB", "at the end", sz.last_mb,
		   NAN, NULL, -1);
	free(plain);
	free(expiring);
}

static double median_of(double *v, int n) { return quantile(v, (size_t)n, 0.5); }

static void run_deep(PGconn *c)
{
	const char *topic = "bench-deep";
	long n = scaled(10000000, 100000);
	int reps = 200;
	char sql[256];

	create_topic(c, topic, 1);
	note("deep: COPY %ld records into one partition", n);
	long chunk = 2000000;
	for (long done = 0; done < n; done += chunk)
		copy_records_in(c, topic, 1, done, n - done < chunk ? n - done : chunk, 100);
	snprintf(sql, sizeof(sql),
		 "UPDATE kafka.partitions SET next_offset = %ld WHERE topic = '%s'", n, topic);
	pg_exec(c, sql);
	wait_stream(c, "deep partition", "COPY");
	note("deep: VACUUM ANALYZE kafka.records");
	pg_exec(c, "VACUUM ANALYZE kafka.records");
	pg_exec(c, "CHECKPOINT");

	int fd = tcp_connect(opt.host, opt.port);
	if (fd < 0 || kafka_api_versions(fd, 1) != 0)
		die("deep: cannot talk to the broker at %s", opt.bootstrap);

	/* Two read sizes: one record (partition_max_bytes 1; KIP-74 returns
	 * the first record anyway) and a typical 1 MiB fetch. Start and end
	 * alternate so that drift hits both alike. */
	static const struct {
		const char *name;
		int32_t max_bytes;
		long from_end; /* the end read starts this many records before the end */
	} sizes[] = {{"1 record", 1, 1000}, {"1 MiB", 1 << 20, 20000}};
	double *start = malloc(sizeof(double) * (size_t)reps),
	       *end = malloc(sizeof(double) * (size_t)reps);
	int32_t corr = 2;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int i = -10; i < reps; i++) { /* 10 warm-up rounds */
			for (int which = 0; which < 2; which++) {
				int64_t off = which == 0 ? 0 : n - sizes[s].from_end;
				int16_t ec = -1;
				double t0 = now_s();
				long len = kafka_fetch_v4(fd, corr++, topic, 0, off, sizes[s].max_bytes,
							  &ec);
				double ms = (now_s() - t0) * 1000;
				if (len <= 0 || ec != 0)
					die("deep: fetch at %lld failed (size %ld, error %d)",
					    (long long)off, len, ec);
				if (i >= 0)
					(which == 0 ? start : end)[i] = ms;
			}
		}
		double ms0 = median_of(start, reps), ms1 = median_of(end, reps);
		char label[96];
		snprintf(label, sizeof(label), "fetch %s, offset 0 vs %ld of %ld", sizes[s].name,
			 n - sizes[s].from_end, n);
		add_result(label, "median ms at start", ms0, NAN, NULL, -1);
		add_result(label, "median ms at end", ms1, NAN, NULL, -1);
		add_result(label, "end / start", ms1 / ms0, NAN, "<= 1.3", ms1 / ms0 <= 1.3);
	}
	free(start);
	free(end);
	close(fd);
}

/* ---- idle connections, then concurrent producers ---- */

typedef struct conc_state {
	pthread_barrier_t go;
	long per_producer;
	long failed;
	long delivered;
	pthread_mutex_t lock;
} conc_state;

static void *conc_producer(void *arg)
{
	conc_state *st = arg;
	dr_count dc = {0};
	rd_kafka_t *rk = new_producer(opt.bootstrap, &dc, 5);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "bench-concurrent", NULL);
	char payload[100];
	long local_failed = 0;

	memset(payload, 'c', sizeof(payload));
	const struct rd_kafka_metadata *md;
	if (rd_kafka_metadata(rk, 0, rkt, &md, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
	pthread_barrier_wait(&st->go);
	for (long i = 0; i < st->per_producer;) {
		if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
				     sizeof(payload), NULL, 0, NULL) != 0) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				local_failed++;
				i++;
				continue;
			}
			rd_kafka_poll(rk, 1);
			continue;
		}
		if ((++i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	if (rd_kafka_flush(rk, 300000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		local_failed += st->per_producer - dc.delivered - dc.failed;
	pthread_barrier_wait(&st->go);
	pthread_mutex_lock(&st->lock);
	st->failed += local_failed + dc.failed;
	st->delivered += dc.delivered;
	pthread_mutex_unlock(&st->lock);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return NULL;
}

static void run_idle(PGconn *c)
{
	enum { IDLE = 1000, PRODUCERS = 100 };
	int *fds = malloc(sizeof(int) * IDLE);
	int conn_errors = 0;

	create_topic(c, "bench-concurrent", 16);
	long rss0 = opt.broker_pid > 0 ? proc_rss_kb(opt.broker_pid) : -1;
	note("idle: opening %d connections (ApiVersions on each)", IDLE);
	for (int i = 0; i < IDLE; i++) {
		fds[i] = tcp_connect(opt.host, opt.port);
		if (fds[i] < 0 || kafka_api_versions(fds[i], i) != 0)
			conn_errors++;
	}
	sleep(1);
	long rss1 = opt.broker_pid > 0 ? proc_rss_kb(opt.broker_pid) : -1;

	conc_state st = {.per_producer = scaled(10000, 1000)};
	pthread_t th[PRODUCERS];
	pthread_barrier_init(&st.go, NULL, PRODUCERS + 1);
	pthread_mutex_init(&st.lock, NULL);
	note("idle: %d producers x %ld records of 100 B, 16 partitions", PRODUCERS,
	     st.per_producer);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&th[i], NULL, conc_producer, &st);
	pthread_barrier_wait(&st.go);
	cpu_mark mark = cpu_now();
	double t0 = now_s();
	pthread_barrier_wait(&st.go); /* every producer has flushed */
	double secs = now_s() - t0;
	long rss2 = opt.broker_pid > 0 ? proc_rss_kb(opt.broker_pid) : -1;
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	long total = st.per_producer * PRODUCERS;
	add_cpu("100 concurrent producers", mark, total);

	/* The idle connections must still be served. */
	int still = 0;
	for (int i = 0; i < IDLE; i++) {
		if (fds[i] >= 0 && kafka_api_versions(fds[i], IDLE + i) == 0)
			still++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(fds);

	add_result("1,000 idle connections", "broker RSS before, MB", (double)rss0 / 1024, NAN, NULL,
		   -1);
	add_result("1,000 idle connections", "broker RSS, MB", (double)rss1 / 1024, NAN, "< 64 MB",
		   rss1 >= 0 ? rss1 < 64 * 1024 : -1);
	add_result("1,000 idle connections", "connection errors", conn_errors, NAN, "0",
		   conn_errors == 0);
	add_result("1,000 idle connections", "still answering after", still, NAN, "1000",
		   still == IDLE);
	add_result("then 100 concurrent producers", "msgs/s", (double)total / secs, NAN, NULL, -1);
	add_result("then 100 concurrent producers", "errors", (double)st.failed, NAN, "0",
		   st.failed == 0);
	add_result("then 100 concurrent producers", "broker RSS after, MB", (double)rss2 / 1024,
		   NAN, NULL, -1);
	add_idle_rss("then 100 concurrent producers");
	pthread_barrier_destroy(&st.go);
	pthread_mutex_destroy(&st.lock);
}

/* ---- librdkafka's mock cluster ---- */

static void run_mock(long n)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	conf_set(conf, "log_level", "3");
	rd_kafka_t *holder = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!holder)
		die("mock: %s", err);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(holder, 1);
	if (!mc)
		die("mock: cannot create the mock cluster");
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
	rd_kafka_mock_topic_create(mc, "mock-100", 1, 1);
	rd_kafka_mock_topic_create(mc, "mock-1k", 1, 1);

	static const struct {
		const char *topic;
		const char *label;
		int size;
	} runs[] = {{"mock-100", "100 B", 100}, {"mock-1k", "1 KB", 1000}};
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		long count = runs[i].size == 100 ? n : n / 10;
		long failed, bytes;
		char label[96];
		note("mock: %s x %ld", runs[i].label, count);
		double ps = produce_n(bootstrap, runs[i].topic, count, runs[i].size, &failed);
		/* The mock keeps only the newest few MB of a partition: consume
		 * what it kept. */
		int64_t lo = 0, hi = 0;
		rd_kafka_t *q = new_consumer(bootstrap, "500");
		if (rd_kafka_query_watermark_offsets(q, runs[i].topic, 0, &lo, &hi, 10000) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			die("mock: no watermarks for %s", runs[i].topic);
		rd_kafka_destroy(q);
		long kept = (long)(hi - lo);
		double cs = consume_n(bootstrap, runs[i].topic, 1, lo, kept, &bytes);
		snprintf(label, sizeof(label), "mock cluster: produce %ld x %s, 1 partition", count,
			 runs[i].label);
		add_result(label, "msgs/s", (double)count / ps, NAN, NULL, -1);
		add_result(label, "MB/s", (double)count * runs[i].size / 1e6 / ps, NAN, NULL, -1);
		snprintf(label, sizeof(label), "mock cluster: consume the %ld x %s it keeps", kept,
			 runs[i].label);
		add_result(label, "msgs/s", (double)kept / cs, NAN, NULL, -1);
		add_result(label, "MB/s", (double)bytes / 1e6 / cs, NAN, NULL, -1);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(holder);
}

/* ---- output ---- */

static void fmt_num(char *out, size_t cap, double v)
{
	if (isnan(v))
		snprintf(out, cap, "-");
	else if (fabs(v) >= 1000)
		snprintf(out, cap, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(out, cap, "%.1f", v);
	else
		snprintf(out, cap, "%.2f", v);
}

static void print_table(void)
{
	printf("| scenario | metric | pg_kafka | floor | ratio | target | met |\n");
	printf("|---|---|---:|---:|---:|---|---|\n");
	for (int i = 0; i < nresults; i++) {
		const result *r = &results[i];
		char v[32], f[32], q[32];
		fmt_num(v, sizeof(v), r->value);
		fmt_num(f, sizeof(f), r->floor);
		fmt_num(q, sizeof(q), r->ratio);
		printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->scenario, r->metric, v, f, q,
		       r->target[0] ? r->target : "-",
		       r->met < 0 ? "-" : r->met ? "met" : "NOT met");
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

static void write_json(const char *path, PGconn *c)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s", path);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	fprintf(f, "{\n  \"scale\": %g,\n  \"nproc\": %ld,\n  \"host\": ", opt.scale,
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, host);
	fprintf(f, ",\n  \"postgresql\": {");
	static const char *settings[] = {"server_version", "shared_buffers", "wal_level",
					 "synchronous_commit", "fsync", "max_wal_size",
					 "wal_buffers", "checkpoint_timeout"};
	for (size_t i = 0; c && i < sizeof(settings) / sizeof(settings[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT current_setting('%s')", settings[i]);
		char *v = pg_text(c, sql);
		fprintf(f, "%s\n    ", i ? "," : "");
		json_str(f, settings[i]);
		fputs(": ", f);
		json_str(f, v);
		free(v);
	}
	fprintf(f, "\n  },\n  \"results\": [");
	for (int i = 0; i < nresults; i++) {
		const result *r = &results[i];
		fprintf(f, "%s\n    {\"scenario\": ", i ? "," : "");
		json_str(f, r->scenario);
		fputs(", \"metric\": ", f);
		json_str(f, r->metric);
		fputs(", \"pg_kafka\": ", f);
		json_num(f, r->value);
		fputs(", \"floor\": ", f);
		json_num(f, r->floor);
		fputs(", \"ratio\": ", f);
		json_num(f, r->ratio);
		fputs(", \"target\": ", f);
		if (r->target[0])
			json_str(f, r->target);
		else
			fputs("null", f);
		fprintf(f, ", \"met\": %s}", r->met < 0 ? "null" : r->met ? "true" : "false");
	}
	fprintf(f, "\n  ]\n}\n");
	fclose(f);
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: pgk_bench --broker HOST:PORT [--pg CONNINFO] [--broker-pid PID]\n"
		"                 [--pg-pid POSTMASTER_PID] [--scale F] [--json FILE]\n"
		"                 [--only produce,consume,latency,deep,idle,mock,secure]\n"
		"                 [--secure-broker HOST:PORT --secure-name PROTOCOL\n"
		"                  --secure-conf 'name=value;...']\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"broker", required_argument, NULL, 'b'}, {"pg", required_argument, NULL, 'p'},
		{"broker-pid", required_argument, NULL, 'B'},
		{"pg-pid", required_argument, NULL, 'P'}, {"scale", required_argument, NULL, 's'},
		{"json", required_argument, NULL, 'j'},   {"only", required_argument, NULL, 'o'},
		{"secure-broker", required_argument, NULL, 'S'},
		{"secure-name", required_argument, NULL, 'N'},
		{"secure-conf", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			snprintf(opt.bootstrap, sizeof(opt.bootstrap), "%s", optarg);
			break;
		case 'p':
			opt.conninfo = optarg;
			break;
		case 'B':
			opt.broker_pid = atoi(optarg);
			break;
		case 'P':
			opt.pg_pid = atoi(optarg);
			break;
		case 's':
			opt.scale = atof(optarg);
			break;
		case 'j':
			opt.json = optarg;
			break;
		case 'o':
			opt.only = optarg;
			break;
		case 'S':
			snprintf(opt.secure_bootstrap, sizeof(opt.secure_bootstrap), "%s", optarg);
			break;
		case 'N':
			opt.secure_name = optarg;
			break;
		case 'C':
			opt.secure_conf = optarg;
			break;
		default:
			usage();
		}
	}
	if (!opt.bootstrap[0] || opt.scale <= 0)
		usage();
	const char *colon = strrchr(opt.bootstrap, ':');
	if (!colon)
		usage();
	snprintf(opt.host, sizeof(opt.host), "%.*s", (int)(colon - opt.bootstrap), opt.bootstrap);
	opt.port = atoi(colon + 1);

	PGconn *c = pg_connect(opt.conninfo);
	tput_case cases[] = {
		{"2M x 100 B, 1 partition", "bench-100", "bench-floor-100", 1, scaled(2000000, 1000),
		 100, true},
		{"2M x 100 B, 16 partitions", "bench-100x16", "bench-floor-100x16", 16,
		 scaled(2000000, 1000), 100, false},
		{"200k x 1 KB, 1 partition", "bench-1k", "bench-floor-1k", 1, scaled(200000, 1000),
		 1000, true},
	};
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	if (opt.scale != 1.0) { /* say the real counts */
		static char names[3][64];
		for (size_t i = 0; i < ncases; i++) {
			snprintf(names[i], sizeof(names[i]), "%ld x %s, %d partition%s", cases[i].n,
				 cases[i].size == 100 ? "100 B" : "1 KB", cases[i].partitions,
				 cases[i].partitions > 1 ? "s" : "");
			cases[i].name = names[i];
		}
	}

	/*
	 * kafka.records' primary key starts with the topic name, so a partition
	 * appends in the middle of the index unless its key range is the last
	 * one. How the index grows there depends on what follows: with a few
	 * entries to the right, splits leave pages ~90% full; with a full key
	 * range to the right (the usual case in a broker with several topics),
	 * pages are split in half, and the same inserts cost about 1.8 times as
	 * much (docs/BENCHMARKS.md). Without care the broker and its floor get
	 * different cases depending on how their names sort against the topics
	 * created so far. 10,000 rows in a topic that sorts after every other
	 * give every writer of the benchmark the usual case.
	 */
	create_topic(c, "zzzz-bench-tail", 1);
	pg_exec(c, "INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", value)"
		   " SELECT 'zzzz-bench-tail', 0, g, now(), '\\x00'::bytea"
		   " FROM generate_series(0, 9999) g");
	pg_exec(c, "UPDATE kafka.partitions SET next_offset = 10000"
		   " WHERE topic = 'zzzz-bench-tail'");

	/* First, while the broker's heap is as small as it will ever be. */
	if (want("idle"))
		run_idle(c);
	/* consume alone needs the records, not the rounds. */
	if (want("produce") || want("consume"))
		for (size_t i = 0; i < ncases; i++)
			run_produce(c, &cases[i], want("produce") ? PRODUCE_ROUNDS : 1);
	if (want("consume"))
		for (size_t i = 0; i < ncases; i++)
			if (cases[i].consume)
				run_consume(c, &cases[i]);
	if (want("latency"))
		run_latency(c);
	if (want("deep"))
		run_deep(c);
	if (want("secure") && opt.secure_bootstrap[0])
		run_secure(c);
	if (want("retention"))
		run_retention(c);
	if (want("mock"))
		run_mock(scaled(2000000, 1000));

	print_table();
	if (opt.json)
		write_json(opt.json, c);
	PQfinish(c);
	return 0;
}
