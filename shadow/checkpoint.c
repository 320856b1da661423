/*
 * The checkpoint topic on the external cluster: partition 0 of
 * checkpoint.topic holds, per forwarder slot and local partition, the last
 * local offset the external cluster acknowledged and its external offset
 * (key "slot/topic/partition", value "local external"). It is how a
 * restarted forwarder avoids duplicates and how cutover translates
 * committed offsets (docs/SHADOW.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "session.h"

static int remember(cpent **out, int *n, const char *key, size_t klen, int64_t l, int64_t e);

rd_kafka_conf_t *shadow_kafka_conf(bool producer)
{
	static const struct {
		const char *k, *v;
	} producer_defaults[] = {
		{"enable.idempotence", "true"},
		{"acks", "all"},
		{"message.timeout.ms", "0"}, /* retry forever: never drop a record */
		{"linger.ms", "5"},
		{"retry.backoff.ms", "200"},
		{"reconnect.backoff.max.ms", "5000"},
	};
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (size_t i = 0; producer && i < sizeof(producer_defaults) / sizeof(producer_defaults[0]);
	     i++)
		rd_kafka_conf_set(conf, producer_defaults[i].k, producer_defaults[i].v, errstr,
				  sizeof(errstr));
	for (int i = 0; i < g_shadow.nkafka; i++)
		if (rd_kafka_conf_set(conf, g_shadow.kafka[i].key, g_shadow.kafka[i].value, errstr,
				      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
			log_error("librdkafka property %s: %s", g_shadow.kafka[i].key, errstr);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	if (*g_shadow.bootstrap && rd_kafka_conf_set(conf, "bootstrap.servers", g_shadow.bootstrap,
						     errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		log_error("bootstrap.servers: %s", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

int checkpoint_load(rd_kafka_t *rk, cpent **out, int *n, volatile sig_atomic_t *stop)
{
	char errstr[512];
	int64_t lo = 0, hi = 0;
	rd_kafka_resp_err_t err;
	int tries = 0;

	*out = NULL;
	*n = 0;
	while ((err = rd_kafka_query_watermark_offsets(rk, g_shadow.checkpoint_topic, 0, &lo, &hi,
						       5000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warn("checkpoint topic %s: %s (retrying)", g_shadow.checkpoint_topic,
			 rd_kafka_err2str(err));
		if ((stop && *stop) || ++tries > 60)
			return -1;
		sleep(1);
	}
	if (hi <= lo)
		return 0;

	rd_kafka_conf_t *conf = shadow_kafka_conf(false);
	if (!conf)
		return -1;
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "group.id", "pg_kafka_shadow_checkpoint_reader", errstr,
			  sizeof(errstr));
	rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!c) {
		log_error("checkpoint reader: %s", errstr);
		return -1;
	}
	rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(tp, g_shadow.checkpoint_topic, 0)->offset = lo;
	rd_kafka_assign(c, tp);
	rd_kafka_topic_partition_list_destroy(tp);

	size_t slen = strlen(g_shadow.slot);
	int64_t next = lo;
	int rc = 0;
	int64_t deadline = clock_mono_ms() + 120000;
	while (next < hi && !(stop && *stop)) {
		if (clock_mono_ms() > deadline) {
			log_error("timed out reading the checkpoint topic");
			rc = -1;
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				log_warn("checkpoint reader: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		next = m->offset + 1;
		const char *key = m->key;
		if (m->key_len > slen + 1 && memcmp(key, g_shadow.slot, slen) == 0 &&
		    key[slen] == '/' && m->payload && m->len < 64) {
			char val[64];
			int64_t l, e;
			memcpy(val, m->payload, m->len);
			val[m->len] = '\0';
			if (sscanf(val, "%" SCNd64 " %" SCNd64, &l, &e) == 2 &&
			    remember(out, n, key + slen + 1, m->key_len - slen - 1, l, e) < 0)
				rc = -1;
		}
		rd_kafka_message_destroy(m);
		if (rc < 0)
			break;
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	return (stop && *stop) ? -1 : rc;
}

void checkpoint_free(cpent *cps, int n)
{
	for (int i = 0; i < n; i++)
		free(cps[i].key);
	free(cps);
}

const cpent *checkpoint_find(const cpent *cps, int n, const char *topic, int32_t partition)
{
	char key[300];
	snprintf(key, sizeof(key), "%s/%d", topic, partition);
	for (int i = 0; i < n; i++)
		if (strcmp(cps[i].key, key) == 0)
			return &cps[i];
	return NULL;
}

static int remember(cpent **out, int *n, const char *key, size_t klen, int64_t l, int64_t e)
{
	int i;
	for (i = 0; i < *n; i++)
		if (strlen((*out)[i].key) == klen && memcmp((*out)[i].key, key, klen) == 0)
			break;
	if (i == *n) {
		cpent *grown = realloc(*out, sizeof(*grown) * (size_t)(*n + 1));
		if (!grown)
			return -1;
		*out = grown;
		grown[i].key = strndup(key, klen);
		if (!grown[i].key)
			return -1;
		(*n)++;
	}
	(*out)[i].local = l;
	(*out)[i].ext = e;
	return 0;
}

/*
 * Write the per-partition positions to the checkpoint topic; once they are
 * delivered, forward_advance() confirms the LSN that was deliverable when they were
 * taken. Without dedup, confirm directly.
 */
void checkpoint_write(bool force)
{
	forward_advance();
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
		if (!p->dirty)
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
