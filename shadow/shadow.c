/*
 * pg_kafka_shadow: mirror every record of a pg_kafka database to an external
 * Kafka cluster, and confirm a slot position only once the external cluster
 * has everything up to it.
 *
 *   slot (pg_kafka plugin, binary, payload, markers)
 *     │  B R R R C  B R C ...       one transaction = begin, records, commit
 *     ▼
 *   produce each record (same partition, key, value, headers, timestamp)
 *     │  delivery reports, in order per partition (idempotent producer)
 *     ▼
 *   txn queue: the head's records all delivered and its commit seen
 *     → "deliverable" LSN = its end LSN
 *     ▼
 *   checkpoint: per partition (last local offset, its external offset),
 *   produced to the checkpoint topic; once delivered → confirm the
 *   deliverable LSN to PostgreSQL (standby status update, flush LSN)
 *
 * A crash anywhere replays from the confirmed LSN. On start, per partition,
 * the checkpoint and the external high watermark tell how many replayed
 * records the external cluster already has; those are skipped
 * (docs/SHADOW.md explains why this is exact).
 *
 * One thread: poll() on the replication socket with a short timeout, then
 * rd_kafka_poll() for delivery reports, then timers.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "decmsg.h"
#include "kbuf.h"
#include "log.h"
#include "replproto.h"
#include "shadow.h"

#define STANDBY_STATUS_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* Commit-to-external-ack lag histogram: 1 ms buckets, the last one open. */
#define LAG_BUCKETS 60000

/* One transaction of the stream, in commit order. */
typedef struct txn {
	uint64_t end_lsn;
	int64_t commit_ms; /* commit time, ms since 1970 (for the lag numbers) */
	long pending;      /* records produced, not yet delivered */
	bool committed;
	struct txn *next;
} txn;

/* One mirrored partition. */
typedef struct part {
	char *topic; /* local name */
	char *ext;   /* external name */
	int32_t partition;
	int64_t received;        /* last local offset read from the stream */
	int64_t delivered_local; /* last local offset the external cluster has */
	int64_t delivered_ext;   /* its external offset */
	int64_t cp_local;        /* what the checkpoint topic says */
	long inflight;
	int64_t inflight_bytes;
	int64_t forwarded;  /* records delivered this run */
	int64_t skip_upto;  /* dedup: local offsets <= this are already there */
	int64_t skip_count; /* dedup: then this many more are */
	bool dirty;         /* delivered since the last checkpoint */
	char last_error[256];
} part;

/* Per-message state, the opaque of each produced message. */
typedef struct msgref {
	txn *t; /* NULL for a checkpoint message */
	part *p;
	int64_t local;
	int64_t bytes;
} msgref;

static struct {
	PGconn *pg;
	PGconn *status_pg;
	rd_kafka_t *rk;
	txn *head, *tail, *open;
	part **parts;
	int nparts;
	cpent *cps;
	int ncps;
	uint64_t received_lsn;
	uint64_t deliverable_lsn;
	uint64_t confirmed_lsn;
	uint64_t cp_lsn; /* the LSN the in-flight checkpoint will confirm */
	long cp_inflight;
	bool cp_failed;
	int64_t last_confirm_ms, last_standby_ms, last_status_ms;
	uint32_t *lag_hist; /* per transaction, over the process lifetime */
	int64_t lag_count;
	int64_t started_ms, first_forward_ms, last_forward_ms;
	bool fatal;
	bool closing; /* purging: delivery reports only free their state */
	int64_t total_forwarded, total_skipped;
} S;

static volatile sig_atomic_t stopping;

static void on_signal(int sig);
static int run_once(void);
static int pg_connect(void);
static void read_topic_rules(void);
static int kafka_start(void);
static int stream_loop(void);
static int handle_message(const uint8_t *buf, int len);
static int handle_record(const decmsg *m);
static part *find_part(const char *topic, int32_t partition, bool create);
static int dedup_init(part *p);
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
static void advance(void);
static void maybe_checkpoint(bool force);
static int send_standby(bool reply);
static void status_report(void);
static void drain(int timeout_ms);
static int64_t lag_quantile(double q);
static void cleanup(void);

int main(int argc, char **argv)
{
	log_setup(LOG_INFO, "shadow");
	int rc = shadow_config_load(argc, argv);
	if (rc != 0) {
		shadow_config_free();
		return rc > 0 ? 0 : 2;
	}
	if (*g_shadow.replay_topic) {
		signal(SIGPIPE, SIG_IGN);
		rc = replay_run(g_shadow.replay_topic, g_shadow.replay_from);
		shadow_config_free();
		return rc;
	}
	if (*g_shadow.cutover_group || *g_shadow.cutover_status) {
		bool commit = *g_shadow.cutover_group != '\0';
		rc = cutover_run(commit ? g_shadow.cutover_group : g_shadow.cutover_status, commit);
		shadow_config_free();
		return rc;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	S.lag_hist = calloc(LAG_BUCKETS, sizeof(*S.lag_hist));
	if (*g_shadow.metrics_listen && metrics_start(g_shadow.metrics_listen) < 0) {
		shadow_config_free();
		free(S.lag_hist);
		return 2;
	}

	int backoff = BACKOFF_MIN_MS;
	rc = 0;
	while (!stopping) {
		int64_t began = clock_mono_ms();
		rc = run_once();
		if (stopping || S.fatal)
			break;
		if (clock_mono_ms() - began > 30000)
			backoff = BACKOFF_MIN_MS; /* it worked for a while: start over */
		log_warn("reconnecting in %d ms", backoff);
		for (int slept = 0; slept < backoff && !stopping; slept += 50) {
			metrics_poll();
			usleep(50 * 1000);
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	metrics_stop();
	shadow_config_free();
	free(S.lag_hist);
	log_info("stopped");
	return S.fatal ? 1 : (rc < 0 && !stopping ? 1 : 0);
}

/*
 * One session: connect, read checkpoints, stream until failure or SIGTERM.
 * Everything not confirmed is dropped at the end: the next session replays
 * it from the slot.
 */
static int run_once(void)
{
	int rc = -1;
	if (kafka_start() < 0 || pg_connect() < 0)
		goto out;
	if (g_shadow.dedup) {
		if (checkpoint_load(S.rk, &S.cps, &S.ncps, &stopping) < 0)
			goto out;
		log_info("read %d checkpoint entries", S.ncps);
	}
	rc = stream_loop();
	if (stopping && !S.fatal) {
		/* graceful: wait for what is in flight, checkpoint, confirm */
		drain(10000);
		advance();
		maybe_checkpoint(true);
		drain(10000);
		status_report();
		if (S.pg)
			send_standby(false);
		log_info("stopped at %X/%X, %" PRId64 " records forwarded",
			   (unsigned)(S.confirmed_lsn >> 32), (unsigned)S.confirmed_lsn,
			   S.total_forwarded);
	}
out:
	cleanup();
	return rc;
}

static int kafka_start(void)
{
	char errstr[512];
	rd_kafka_conf_t *conf = shadow_kafka_conf(true);
	if (!conf) {
		S.fatal = true;
		return -1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	S.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!S.rk) {
		log_error("librdkafka: %s", errstr);
		S.fatal = true;
		return -1;
	}
	return 0;
}

static int pg_connect(void)
{
	const char *keys[] = {"dbname", "replication", "fallback_application_name", NULL};
	const char *vals[] = {g_shadow.pg_conninfo, "database", "pg_kafka_shadow", NULL};
	char sql[1024];

	S.pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(S.pg) != CONNECTION_OK) {
		log_error("PostgreSQL: %s", PQerrorMessage(S.pg));
		return -1;
	}
	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pg_kafka", g_shadow.slot);
	PGresult *res = PQexec(S.pg, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		log_info("created slot %s at %s", g_shadow.slot, PQgetvalue(res, 0, 1));
	} else {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (!state || strcmp(state, "42710") != 0) { /* duplicate_object */
			log_error("creating slot %s: %s", g_shadow.slot,
				   PQerrorMessage(S.pg));
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);

	if (g_shadow.sql_status) {
		const char *k2[] = {"dbname", "fallback_application_name", NULL};
		const char *v2[] = {g_shadow.pg_conninfo, "pg_kafka_shadow status", NULL};
		S.status_pg = PQconnectdbParams(k2, v2, 1);
		if (PQstatus(S.status_pg) != CONNECTION_OK) {
			PQfinish(S.status_pg);
			S.status_pg = NULL;
		}
	}

	read_topic_rules();

	/* the decoder filters topics when the include list is given */
	char topics[600] = "";
	if (*g_shadow.topics_include && strlen(g_shadow.topics_include) < 500 &&
	    !strchr(g_shadow.topics_include, '\''))
		snprintf(topics, sizeof(topics), ", \"topics\" '%s'", g_shadow.topics_include);
	snprintf(sql, sizeof(sql),
		 "START_REPLICATION SLOT %s LOGICAL 0/0 (\"format\" 'binary', \"payload\" 'true', "
		 "\"markers\" 'true'%s)",
		 g_shadow.slot, topics);
	res = PQexec(S.pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		log_error("START_REPLICATION: %s", PQerrorMessage(S.pg));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	log_info("streaming slot %s", g_shadow.slot);
	return 0;
}

/* kafka.shadow_topics rows of this slot (pg_kafka 0.4), if the table exists. */
static void read_topic_rules(void)
{
	const char *k[] = {"dbname", "fallback_application_name", NULL};
	const char *v[] = {g_shadow.pg_conninfo, "pg_kafka_shadow", NULL};
	const char *params[1] = {g_shadow.slot};
	PGconn *c = PQconnectdbParams(k, v, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return;
	}
	PGresult *res =
		PQexecParams(c,
			     "SELECT topic, external_topic, mirrored FROM kafka.shadow_topics "
			     "WHERE slot = $1 ORDER BY topic",
			     1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		shadow_config_free_rules();
		for (int i = 0; i < PQntuples(res); i++) {
			shadow_topic_rule(PQgetvalue(res, i, 0),
					  PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
					  PQgetvalue(res, i, 2)[0] == 't');
			log_info("kafka.shadow_topics: %s %s%s", PQgetvalue(res, i, 0),
				   PQgetvalue(res, i, 2)[0] == 't' ? "mirrored as "
								   : "not mirrored",
				   PQgetvalue(res, i, 2)[0] == 't'
					   ? shadow_topic_external(PQgetvalue(res, i, 0))
					   : "");
		}
	}
	PQclear(res);
	PQfinish(c);
}

static int stream_loop(void)
{
	S.last_confirm_ms = S.last_standby_ms = S.last_status_ms = clock_mono_ms();
	while (!stopping && !S.fatal) {
		struct pollfd pfd = {.fd = PQsocket(S.pg), .events = POLLIN};
		if (poll(&pfd, 1, 20) < 0 && errno != EINTR)
			return -1;
		if (!PQconsumeInput(S.pg)) {
			log_error("PostgreSQL: %s", PQerrorMessage(S.pg));
			return -1;
		}
		/* bound the records in flight so memory stays flat */
		for (int n = 0; n < 10000 && rd_kafka_outq_len(S.rk) < 200000; n++) {
			char *buf = NULL;
			int len = PQgetCopyData(S.pg, &buf, 1);
			if (len == 0)
				break;
			if (len < 0) {
				PGresult *res = PQgetResult(S.pg);
				log_error("replication stream ended: %s",
					   PQerrorMessage(S.pg));
				PQclear(res);
				return -1;
			}
			int rc = 0;
			repl_msg rm;
			if (repl_parse((const uint8_t *)buf, (size_t)len, &rm) < 0) {
				/* neither XLogData nor keepalive: nothing to act on */
			} else if (rm.type == REPL_XLOGDATA) {
				rc = handle_message(rm.data, (int)rm.len);
				if (rm.wal_start > S.received_lsn)
					S.received_lsn = rm.wal_start;
			} else {
				if (rm.wal_end > S.received_lsn && !S.head && !S.open)
					S.received_lsn = rm.wal_end;
				if (rm.reply_requested)
					rc = send_standby(false);
			}
			PQfreemem(buf);
			if (rc < 0)
				return -1;
			rd_kafka_poll(S.rk, 0);
		}
		rd_kafka_poll(S.rk, 0);
		advance();
		metrics_poll();
		int64_t now = clock_mono_ms();
		if (now - S.last_confirm_ms >= g_shadow.confirm_interval_ms) {
			maybe_checkpoint(false);
			S.last_confirm_ms = now;
		}
		if (now - S.last_standby_ms >= STANDBY_STATUS_MS && send_standby(false) < 0)
			return -1;
		if (now - S.last_status_ms >= g_shadow.status_interval_ms) {
			status_report();
			S.last_status_ms = now;
		}
	}
	return 0;
}

static int handle_message(const uint8_t *buf, int len)
{
	decmsg m;
	int rc = decmsg_parse(buf, (size_t)len, &m);

	if (rc == DECMSG_BAD_VERSION) {
		log_error("decoder message of unknown version");
		S.fatal = true;
		return -1;
	}
	if (rc != DECMSG_OK)
		goto bad;
	switch (m.type) {
	case DECMSG_BEGIN: {
		txn *t = calloc(1, sizeof(*t));
		if (!t)
			return -1;
		if (S.tail)
			S.tail->next = t;
		else
			S.head = t;
		S.tail = t;
		S.open = t;
		return 0;
	}
	case DECMSG_COMMIT:
		if (!S.open) {
			log_error("commit marker without a begin");
			S.fatal = true;
			return -1;
		}
		S.open->end_lsn = m.end_lsn;
		S.open->commit_ms = m.timestamp;
		S.open->committed = true;
		S.open = NULL;
		return 0;
	case DECMSG_RECORD:
		if (!(m.flags & DECMSG_FLAG_PAYLOAD) || !S.open || m.topic.len > 255)
			goto bad;
		return handle_record(&m);
	default:
		return 0; /* unknown types are skipped */
	}
bad:
	log_error("malformed record message in the stream");
	S.fatal = true;
	return -1;
}

static int handle_record(const decmsg *m)
{
	const unsigned char *key = (const unsigned char *)m->key.ptr;
	const unsigned char *value = (const unsigned char *)m->value.ptr;
	const unsigned char *hdrs = (const unsigned char *)m->headers.ptr;
	int32_t klen = m->key.len, vlen = m->value.len, hlen = m->headers.len;
	int32_t partition = m->partition;
	int64_t offset = m->offset;
	int64_t ts = m->timestamp;
	char tname[256];

	memcpy(tname, m->topic.ptr, (size_t)m->topic.len);
	tname[m->topic.len] = '\0';
	if (!shadow_topic_selected(tname))
		return 0;
	part *pt = find_part(tname, partition, true);
	if (!pt)
		return -1;
	pt->received = offset;

	/* dedup: the external cluster already has this one */
	if (offset <= pt->skip_upto) {
		S.total_skipped++;
		return 0;
	}
	if (pt->skip_count > 0) {
		pt->skip_count--;
		pt->delivered_local = offset;
		pt->delivered_ext++;
		pt->dirty = true;
		S.total_skipped++;
		return 0;
	}

	msgref *ref = malloc(sizeof(*ref));
	if (!ref)
		return -1;
	ref->t = S.open;
	ref->p = pt;
	ref->local = offset;
	ref->bytes = (klen > 0 ? klen : 0) + (vlen > 0 ? vlen : 0) + (hlen > 0 ? hlen : 0);
	rd_kafka_headers_t *h = hdrs ? shadow_headers(hdrs, hlen) : NULL;

	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
			S.rk, RD_KAFKA_V_TOPIC(pt->ext), RD_KAFKA_V_PARTITION(partition),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(key, key ? (size_t)klen : 0),
			RD_KAFKA_V_VALUE((void *)value, value ? (size_t)vlen : 0),
			RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(ref),
			RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping) {
			rd_kafka_poll(S.rk, 100);
			continue;
		}
		snprintf(pt->last_error, sizeof(pt->last_error), "%s", rd_kafka_err2str(err));
		log_error("producing %s[%d]: %s", pt->ext, partition,
			   rd_kafka_err2str(err));
		if (h)
			rd_kafka_headers_destroy(h);
		free(ref);
		S.fatal = err != RD_KAFKA_RESP_ERR__QUEUE_FULL;
		return -1;
	}
	S.open->pending++;
	pt->inflight++;
	pt->inflight_bytes += ref->bytes;
	return 0;
}

static part *find_part(const char *topic, int32_t partition, bool create)
{
	for (int i = 0; i < S.nparts; i++)
		if (S.parts[i]->partition == partition && strcmp(S.parts[i]->topic, topic) == 0)
			return S.parts[i];
	if (!create)
		return NULL;
	part **n = realloc(S.parts, sizeof(*n) * (size_t)(S.nparts + 1));
	if (!n)
		return NULL;
	S.parts = n;
	part *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->topic = strdup(topic);
	p->ext = strdup(shadow_topic_external(topic));
	p->partition = partition;
	p->received = p->delivered_local = p->delivered_ext = p->cp_local = -1;
	p->skip_upto = -1;
	S.parts[S.nparts++] = p;
	if (g_shadow.dedup && dedup_init(p) < 0)
		return NULL;
	return p;
}

/*
 * First sight of a partition in this session: what does the external
 * cluster have already? Everything up to the checkpoint's local offset, and
 * then (high watermark - 1 - checkpoint's external offset) more records, in
 * stream order, delivered after the checkpoint was written.
 */
static int dedup_init(part *p)
{
	int64_t lo, hi;
	rd_kafka_resp_err_t err;
	const cpent *cp = checkpoint_find(S.cps, S.ncps, p->topic, p->partition);
	int64_t cl = cp ? cp->local : -1, ce = cp ? cp->ext : -1;
	while ((err = rd_kafka_query_watermark_offsets(S.rk, p->ext, p->partition, &lo, &hi,
						       5000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(p->last_error, sizeof(p->last_error), "%s", rd_kafka_err2str(err));
		log_warn("watermarks of %s[%d]: %s (retrying)", p->ext, p->partition,
			   rd_kafka_err2str(err));
		if (stopping)
			return -1;
		send_standby(false);
		sleep(1);
	}
	p->skip_upto = cl;
	p->cp_local = cl;
	p->delivered_local = cl;
	p->delivered_ext = ce >= 0 ? ce : hi - 1 - (hi - lo);
	p->skip_count = hi - 1 - (ce >= 0 ? ce : lo - 1);
	if (p->skip_count < 0) {
		log_warn(
			   "%s[%d]: external high watermark %" PRId64
			   " is below the checkpoint; forwarding everything after it",
			   p->ext, p->partition, hi);
		p->skip_count = 0;
	}
	if (cl >= 0 || p->skip_count > 0)
		log_info(
			   "%s[%d]: external has up to local offset %" PRId64 " plus %" PRId64
			   " more records (high watermark %" PRId64 ")",
			   p->ext, p->partition, cl, p->skip_count, hi);
	return 0;
}

/* Kafka record headers: varint count, then (varint key length, key, varint
 * value length, value) each, zigzag varints, -1 for a null value. A
 * malformed tail ends the list where it went wrong. */
rd_kafka_headers_t *shadow_headers(const unsigned char *h, int32_t len)
{
	kreader r;
	kr_init(&r, h, (size_t)len);
	int32_t n = kr_varint(&r);
	if (!kr_ok(&r) || n <= 0 || n > len)
		return NULL;
	rd_kafka_headers_t *hs = rd_kafka_headers_new((size_t)n);
	for (int32_t i = 0; i < n; i++) {
		int32_t klen = kr_varint(&r);
		if (!kr_ok(&r) || klen < 0)
			break;
		const uint8_t *k = kr_bytes(&r, (size_t)klen);
		int32_t vlen = kr_varint(&r);
		if (!kr_ok(&r) || vlen < -1)
			break;
		const uint8_t *v = kr_bytes(&r, vlen < 0 ? 0 : (size_t)vlen);
		if (!kr_ok(&r))
			break;
		rd_kafka_header_add(hs, (const char *)k, (ssize_t)klen, vlen < 0 ? NULL : v,
				    vlen < 0 ? 0 : (ssize_t)vlen);
	}
	return hs;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	msgref *ref = m->_private;
	if (!ref)
		return;
	if (S.closing) {
		free(ref);
		return;
	}
	if (!ref->t) { /* checkpoint */
		S.cp_inflight--;
		if (m->err)
			S.cp_failed = true;
		free(ref);
		return;
	}
	part *p = ref->p;
	p->inflight--;
	p->inflight_bytes -= ref->bytes;
	if (m->err) {
		/* message.timeout.ms = 0: only a permanent error gets here. The
		 * record is not confirmed; stop, and a restart replays it. */
		snprintf(p->last_error, sizeof(p->last_error), "%s", rd_kafka_err2str(m->err));
		log_error("delivery to %s[%d] failed: %s; stopping without confirming",
			   p->ext, p->partition, rd_kafka_err2str(m->err));
		S.fatal = true;
	} else {
		p->delivered_local = ref->local;
		p->delivered_ext = m->offset;
		p->last_error[0] = '\0';
		p->forwarded++;
		p->dirty = true;
		S.total_forwarded++;
		S.last_forward_ms = clock_mono_ms();
		if (!S.first_forward_ms)
			S.first_forward_ms = S.last_forward_ms;
		ref->t->pending--;
	}
	free(ref);
}

/* Pop transactions whose records are all delivered, in commit order. */
static void advance(void)
{
	while (S.head && S.head->committed && S.head->pending == 0 && !S.fatal) {
		txn *t = S.head;
		S.deliverable_lsn = t->end_lsn;
		if (S.lag_hist && t->commit_ms > 0) {
			int64_t lag = clock_wall_ms() - t->commit_ms;
			S.lag_hist[lag < 0 ? 0 : lag >= LAG_BUCKETS ? LAG_BUCKETS - 1 : lag]++;
			S.lag_count++;
		}
		S.head = t->next;
		if (!S.head)
			S.tail = NULL;
		free(t);
	}
	if (!S.head && !S.open && S.received_lsn > S.deliverable_lsn && !S.fatal)
		S.deliverable_lsn = S.received_lsn; /* keepalive-only progress */
	if (S.cp_inflight == 0 && S.cp_lsn && !S.cp_failed && !S.fatal) {
		if (S.cp_lsn > S.confirmed_lsn)
			S.confirmed_lsn = S.cp_lsn;
		S.cp_lsn = 0;
	}
	if (S.cp_failed && S.cp_inflight == 0) {
		S.cp_failed = false; /* try again at the next interval */
		S.cp_lsn = 0;
	}
}

/*
 * Write the per-partition positions to the checkpoint topic; once they are
 * delivered, advance() confirms the LSN that was deliverable when they were
 * taken. Without dedup, confirm directly.
 */
static void maybe_checkpoint(bool force)
{
	advance();
	if (S.cp_inflight > 0 || S.fatal)
		return;
	if (S.deliverable_lsn <= S.confirmed_lsn && !force)
		return;
	uint64_t lsn = S.deliverable_lsn;
	if (!g_shadow.dedup) {
		S.confirmed_lsn = lsn;
		return;
	}
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		if (!p->dirty || p->delivered_local < 0)
			continue;
		char key[300], val[64];
		int kl = snprintf(key, sizeof(key), "%s/%s/%d", g_shadow.slot, p->topic,
				  p->partition);
		int vl = snprintf(val, sizeof(val), "%" PRId64 " %" PRId64, p->delivered_local,
				  p->delivered_ext);
		msgref *ref = calloc(1, sizeof(*ref));
		if (!ref)
			return;
		rd_kafka_resp_err_t err = rd_kafka_producev(
			S.rk, RD_KAFKA_V_TOPIC(g_shadow.checkpoint_topic), RD_KAFKA_V_PARTITION(0),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, (size_t)kl),
			RD_KAFKA_V_VALUE(val, (size_t)vl), RD_KAFKA_V_OPAQUE(ref), RD_KAFKA_V_END);
		if (err) {
			free(ref);
			S.cp_failed = true;
			continue;
		}
		p->dirty = false;
		p->cp_local = p->delivered_local;
		S.cp_inflight++;
	}
	if (S.cp_inflight == 0) {
		if (!S.cp_failed && lsn > S.confirmed_lsn)
			S.confirmed_lsn = lsn;
		S.cp_failed = false;
	} else {
		S.cp_lsn = lsn;
	}
}

static int send_standby(bool reply)
{
	unsigned char msg[REPL_STATUS_LEN];
	repl_status(msg, S.received_lsn, S.confirmed_lsn, S.confirmed_lsn, reply);
	S.last_standby_ms = clock_mono_ms();
	if (PQputCopyData(S.pg, (char *)msg, sizeof(msg)) != 1 || PQflush(S.pg) < 0) {
		log_error("standby status update: %s", PQerrorMessage(S.pg));
		return -1;
	}
	return 0;
}

/* One log line per partition, and the same numbers in kafka.shadow_partitions. */
static void status_report(void)
{
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		log_info(
			   "status %s[%d] -> %s: local_offset=%" PRId64 " external_offset=%" PRId64
			   " lag_records=%" PRId64 " lag_bytes=%" PRId64 " forwarded=%" PRId64
			   "%s%s",
			   p->topic, p->partition, p->ext, p->delivered_local, p->delivered_ext,
			   p->received - p->delivered_local, p->inflight_bytes, p->forwarded,
			   p->last_error[0] ? " error=" : "", p->last_error);
	}
	int64_t span = S.last_forward_ms - S.first_forward_ms;
	log_info(
		   "status confirmed_lsn=%X/%X received_lsn=%X/%X forwarded=%" PRId64
		   " skipped=%" PRId64 " rate=%" PRId64 "/s txn_lag_ms_p50=%" PRId64
		   " txn_lag_ms_p99=%" PRId64 " txns=%" PRId64,
		   (unsigned)(S.confirmed_lsn >> 32), (unsigned)S.confirmed_lsn,
		   (unsigned)(S.received_lsn >> 32), (unsigned)S.received_lsn, S.total_forwarded,
		   S.total_skipped, span > 0 ? S.total_forwarded * 1000 / span : 0,
		   lag_quantile(0.50), lag_quantile(0.99), S.lag_count);
	if (!S.status_pg || S.nparts == 0)
		return;
	for (int i = 0; i < S.nparts; i++) {
		part *p = S.parts[i];
		char num[6][32];
		snprintf(num[0], 32, "%d", p->partition);
		snprintf(num[1], 32, "%" PRId64, p->delivered_local);
		snprintf(num[2], 32, "%" PRId64, p->delivered_ext);
		snprintf(num[3], 32, "%" PRId64, p->received - p->delivered_local);
		snprintf(num[4], 32, "%" PRId64, p->inflight_bytes);
		snprintf(num[5], 32, "%" PRId64, p->received);
		const char *params[9] = {
			g_shadow.slot, p->topic, num[0],
			p->ext,        num[1],   num[2],
			num[3],        num[4],   p->last_error[0] ? p->last_error : NULL};
		(void)num[5];
		PGresult *res = PQexecParams(
			S.status_pg,
			"INSERT INTO kafka.shadow_partitions AS s (slot, topic, partition, "
			"external_topic, "
			"local_offset, external_offset, lag_records, lag_bytes, last_error, "
			"updated_at) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) "
			"ON CONFLICT (slot, topic, partition) DO UPDATE SET "
			"external_topic = EXCLUDED.external_topic, local_offset = "
			"EXCLUDED.local_offset, "
			"external_offset = EXCLUDED.external_offset, lag_records = "
			"EXCLUDED.lag_records, "
			"lag_bytes = EXCLUDED.lag_bytes, last_error = EXCLUDED.last_error, "
			"updated_at = now()",
			9, NULL, params, NULL, NULL, 0);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			/* the extension may predate 0.4: no SQL status, say so once */
			log_warn("no SQL status: %s", PQerrorMessage(S.status_pg));
			PQfinish(S.status_pg);
			S.status_pg = NULL;
			return;
		}
	}
}

/* The status numbers as Prometheus text. Between sessions the partition
 * list is empty; the lifetime counters remain. */
void shadow_metrics_text(struct evbuffer *out)
{
	static const struct {
		const char *name, *help;
		int which;
	} gauges[] = {
		{"local_offset", "last local offset the external cluster acknowledged", 0},
		{"external_offset", "its external offset", 1},
		{"lag_records", "records read from the slot, not yet acknowledged", 2},
		{"lag_bytes", "their key, value and header bytes", 3},
		{"forwarded_records", "records forwarded by this session", 4},
	};
	evbuffer_add_printf(
		out,
		"# HELP pg_kafka_shadow_forwarded_total records acknowledged by the "
		"external cluster\n# TYPE pg_kafka_shadow_forwarded_total counter\n"
		"pg_kafka_shadow_forwarded_total %" PRId64 "\n"
		"# TYPE pg_kafka_shadow_skipped_total counter\n"
		"pg_kafka_shadow_skipped_total %" PRId64 "\n"
		"# HELP pg_kafka_shadow_confirmed_lsn slot position confirmed to PostgreSQL\n"
		"# TYPE pg_kafka_shadow_confirmed_lsn gauge\n"
		"pg_kafka_shadow_confirmed_lsn %" PRIu64 "\n"
		"# TYPE pg_kafka_shadow_received_lsn gauge\n"
		"pg_kafka_shadow_received_lsn %" PRIu64 "\n"
		"# HELP pg_kafka_shadow_txn_lag_ms commit to external acknowledgement\n"
		"# TYPE pg_kafka_shadow_txn_lag_ms summary\n"
		"pg_kafka_shadow_txn_lag_ms{quantile=\"0.5\"} %" PRId64 "\n"
		"pg_kafka_shadow_txn_lag_ms{quantile=\"0.99\"} %" PRId64 "\n"
		"pg_kafka_shadow_txn_lag_ms_count %" PRId64 "\n",
		S.total_forwarded, S.total_skipped, S.confirmed_lsn, S.received_lsn,
		lag_quantile(0.5), lag_quantile(0.99), S.lag_count);
	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		evbuffer_add_printf(
			out, "# HELP pg_kafka_shadow_%s %s\n# TYPE pg_kafka_shadow_%s gauge\n",
			gauges[g].name, gauges[g].help, gauges[g].name);
		for (int i = 0; i < S.nparts; i++) {
			part *p = S.parts[i];
			int64_t v = gauges[g].which == 0   ? p->delivered_local
				    : gauges[g].which == 1 ? p->delivered_ext
				    : gauges[g].which == 2 ? p->received - p->delivered_local
				    : gauges[g].which == 3 ? p->inflight_bytes
							   : p->forwarded;
			evbuffer_add_printf(out,
					    "pg_kafka_shadow_%s{topic=\"%s\",partition=\"%d\","
					    "external_topic=\"%s\"} %" PRId64 "\n",
					    gauges[g].name, p->topic, p->partition, p->ext, v);
		}
	}
}

/* Serve delivery reports until nothing is in flight or the time is up. */
static void drain(int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	while (S.rk && rd_kafka_outq_len(S.rk) > 0 && clock_mono_ms() < deadline && !S.fatal)
		rd_kafka_poll(S.rk, 50);
	advance();
}

static void cleanup(void)
{
	if (S.rk) {
		/* Let what is in flight land first (a request still on its way
		 * could otherwise be appended after the next session read the
		 * high watermark), then purge the rest: it is not confirmed, so
		 * the next session replays it. */
		if (!S.fatal)
			rd_kafka_flush(S.rk, 5000);
		S.closing = true;
		rd_kafka_purge(S.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(S.rk, 0);
		rd_kafka_flush(S.rk, 1000);
		rd_kafka_destroy(S.rk);
	}
	if (S.pg)
		PQfinish(S.pg);
	if (S.status_pg)
		PQfinish(S.status_pg);
	while (S.head) {
		txn *t = S.head;
		S.head = t->next;
		free(t);
	}
	for (int i = 0; i < S.nparts; i++) {
		free(S.parts[i]->topic);
		free(S.parts[i]->ext);
		free(S.parts[i]);
	}
	free(S.parts);
	checkpoint_free(S.cps, S.ncps);
	/* what outlives a session: the lifetime numbers */
	bool fatal = S.fatal;
	int64_t fwd = S.total_forwarded, skipped = S.total_skipped, lag_count = S.lag_count;
	int64_t first = S.first_forward_ms, last = S.last_forward_ms;
	uint32_t *hist = S.lag_hist;
	memset(&S, 0, sizeof(S));
	S.fatal = fatal;
	S.total_forwarded = fwd;
	S.total_skipped = skipped;
	S.lag_hist = hist;
	S.lag_count = lag_count;
	S.first_forward_ms = first;
	S.last_forward_ms = last;
}

/* The commit-to-ack lag below which a fraction q of transactions fell. */
static int64_t lag_quantile(double q)
{
	if (!S.lag_hist || S.lag_count == 0)
		return -1;
	int64_t want = (int64_t)(q * (double)S.lag_count + 0.5), seen = 0;
	if (want < 1)
		want = 1;
	for (int i = 0; i < LAG_BUCKETS; i++) {
		seen += S.lag_hist[i];
		if (seen >= want)
			return i;
	}
	return LAG_BUCKETS - 1;
}

/* ---- small helpers ---- */

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}


