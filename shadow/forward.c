/*
 * Forwarding: each decoder message of the slot becomes a produced record on
 * the external cluster (same partition, key, value, headers, timestamp),
 * skipped when the external cluster already has it (dedup after a
 * restart). Delivery reports arrive in order per partition; a transaction
 * whose records are all delivered and whose commit was seen makes its end
 * LSN deliverable (forward_advance), for checkpoint.c to confirm.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "decmsg.h"
#include "kbuf.h"
#include "log.h"
#include "session.h"

static int handle_record(const decmsg *m);
static part *find_part(const char *topic, int32_t partition, bool create);
static int dedup_init(part *p);
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

int forward_start(void)
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

int forward_message(const uint8_t *buf, int len)
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
	char tname[256];

	memcpy(tname, m->topic.ptr, (size_t)m->topic.len);
	tname[m->topic.len] = '\0';
	if (!shadow_topic_selected(tname))
		return 0;
	part *pt = find_part(tname, m->partition, true);
	if (!pt)
		return -1;
	int64_t offset = m->offset;
	if (offset > pt->received)
		pt->received = offset;

	/* history.c sent everything below stream_from from kafka.records */
	if (offset < pt->stream_from) {
		S.total_skipped++;
		return 0;
	}
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
	return forward_produce(pt, S.open, offset, m->key.ptr, m->key.len, m->value.ptr,
			       m->value.len, (const unsigned char *)m->headers.ptr, m->headers.len,
			       m->timestamp);
}

/* Produce one record to pt's external partition; t counts it as pending
 * (a stream transaction, or history.c's copy). Waits while librdkafka's
 * queue is full. */
int forward_produce(part *pt, txn *t, int64_t offset, const void *key, int32_t klen,
		    const void *value, int32_t vlen, const unsigned char *hdrs, int32_t hlen,
		    int64_t ts)
{
	msgref *ref = malloc(sizeof(*ref));
	if (!ref)
		return -1;
	ref->t = t;
	ref->p = pt;
	ref->local = offset;
	ref->bytes = (klen > 0 ? klen : 0) + (vlen > 0 ? vlen : 0) + (hlen > 0 ? hlen : 0);
	rd_kafka_headers_t *h = hdrs && hlen > 0 ? shadow_headers(hdrs, hlen) : NULL;

	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
			S.rk, RD_KAFKA_V_TOPIC(pt->ext), RD_KAFKA_V_PARTITION(pt->partition),
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
		log_error("producing %s[%d]: %s", pt->ext, pt->partition, rd_kafka_err2str(err));
		if (h)
			rd_kafka_headers_destroy(h);
		free(ref);
		S.fatal = err != RD_KAFKA_RESP_ERR__QUEUE_FULL;
		return -1;
	}
	t->pending++;
	pt->inflight++;
	pt->inflight_bytes += ref->bytes;
	return 0;
}

part *forward_part(const char *topic, int32_t partition)
{
	return find_part(topic, partition, true);
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
	p->stream_from = -1;
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
		bool missing = err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
			       err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
			       err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		log_warn("watermarks of %s[%d]: %s (retrying%s)", p->ext, p->partition,
			 rd_kafka_err2str(err),
			 missing ? "; create the topic on the external cluster with at least as "
				   "many partitions as locally"
				 : "");
		if (stopping)
			return -1;
		slot_send_status(false);
		sleep(1);
	}
	p->has_checkpoint = cp != NULL;
	p->ext_low = lo;
	p->ext_high = hi;
	p->skip_upto = cl;
	p->cp_local = cl;
	p->delivered_local = cl;
	p->delivered_ext = ce >= 0 ? ce : hi - 1 - (hi - lo);
	p->skip_count = hi - 1 - (ce >= 0 ? ce : lo - 1);
	if (p->skip_count < 0) {
		log_warn("%s[%d]: external high watermark %" PRId64
			 " is below the checkpoint; forwarding everything after it",
			 p->ext, p->partition, hi);
		p->skip_count = 0;
	}
	if (cl >= 0 || p->skip_count > 0)
		log_info("%s[%d]: external has up to local offset %" PRId64 " plus %" PRId64
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
		log_error("delivery to %s[%d] failed: %s; stopping without confirming", p->ext,
			  p->partition, rd_kafka_err2str(m->err));
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
void forward_advance(void)
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

/* Serve delivery reports until nothing is in flight or the time is up. */
void forward_drain(int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	while (S.rk && rd_kafka_outq_len(S.rk) > 0 && clock_mono_ms() < deadline && !S.fatal)
		rd_kafka_poll(S.rk, 50);
	forward_advance();
}
