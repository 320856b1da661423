/*
 * Cluster membership (see cluster.h): PostgreSQL is the cluster's source of
 * truth, as KRaft is Kafka's. Every broker.heartbeat.interval.ms this broker
 * renews its lease with kafka.broker_heartbeat(), which also rebalances
 * partition leadership when the live brokers or the partitions changed, and
 * answers the live brokers and a leadership version; when the version moved,
 * the leaders are read again (kafka.partition_leaders).
 *
 *   STARTING --lease held--> SERVING --no renewal for the session timeout--> FENCED
 *       |                       ^                                               |
 *       +--node id held: fatal  +---------------- renewed again ---------------+
 *
 * Invariants:
 * - The lease PostgreSQL records ends no earlier than the local deadline
 *   (sent time of the last renewal that succeeded, plus the session timeout),
 *   so a broker fences itself before the others take its partitions over.
 * - While fenced, the broker serves nothing (handlers.c closes connections).
 * - Standalone (no node.id given) nothing is registered: this broker is the
 *   only broker, leads every partition and coordinates every key. Its
 *   leader epochs are those of kafka.partition_epochs (0 for a partition
 *   without history): at start, and after the pool lost a connection (a
 *   PostgreSQL failover among others), it asks kafka.cluster_check_timeline()
 *   to bump them on a new WAL timeline, and reads them again.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "kerr.h"
#include "log.h"
#include "pool.h"
#include "queries.h"

typedef enum cluster_state { CL_STANDALONE, CL_STARTING, CL_SERVING, CL_FENCED } cluster_state;

typedef struct leader_entry {
	char *topic;
	int32_t partition;
	int32_t leader;
	int32_t epoch;
} leader_entry;

static struct {
	cluster_state state;
	struct event *timer;
	void (*ready)(void);
	void (*fatal)(void);
	char incarnation[37];
	char listeners[1024];
	bool hb_in_flight;
	bool leaders_in_flight;
	bool leave_in_flight;
	bool leaving;
	bool refresh_wanted;
	bool epochs_in_flight;       /* standalone: the timeline check */
	bool epochs_wanted;          /* standalone: check (again) at the next tick */
	unsigned long failures_seen; /* standalone: pool connection failures */
	int64_t hb_sent_ms;          /* monotonic: when the running heartbeat was sent */
	int64_t lease_end_ms;        /* monotonic: local end of the lease held */
	int64_t leadership_version;  /* of the leaders read; -1: none yet */
	int64_t version_seen;        /* the newest the heartbeat answered */
	cluster_broker *live;
	int nlive;
	leader_entry *leaders;
	int nleaders;
} C = {.leadership_version = -1, .version_seen = -1};

static void make_incarnation(char *out);
static void arm(int ms);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void heartbeat(void);
static void heartbeat_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			   bool retriable);
static void leaders_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void leave_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable);
static void check_lease(void);
static void standalone_tick(void);
static void standalone_check(void);
static void epochs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable);
static void parse_live(const PGresult *r);
static int leader_cmp(kstr topic, int32_t partition, const leader_entry *e);
static void live_free(cluster_broker *b, int n);
static void leaders_free(leader_entry *l, int n);
static const leader_entry *leader_find(kstr topic, int32_t partition);

static void make_incarnation(char *out)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = (uint64_t)clock_mono_us();
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)((t >> (8 * (i % 8))) ^ (i * 37u) ^ (uintptr_t)out);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void cluster_start(struct event_base *base, void (*ready)(void), void (*fatal)(void))
{
	C.ready = ready;
	C.fatal = fatal;
	if (!g_config.cluster_member) {
		C.state = CL_STANDALONE;
		/* Without an event loop (unit tests) there is nothing to poll. */
		if (base) {
			C.timer = evtimer_new(base, on_timer, NULL);
			if (!C.timer) {
				log_error("cannot create the timeline check timer");
				abort();
			}
			standalone_check();
			arm(g_config.broker_heartbeat_interval_ms);
		}
		ready();
		return;
	}
	C.timer = evtimer_new(base, on_timer, NULL);
	if (!C.timer) {
		log_error("cannot create the cluster membership timer");
		abort();
	}
	C.state = CL_STARTING;
	make_incarnation(C.incarnation);
	listeners_format(g_config.listeners, g_config.nlisteners, true, C.listeners,
			 sizeof(C.listeners));
	log_info("registering as node %d (rack %s, listeners %s, session timeout %d ms)",
		 g_config.node_id, g_config.broker_rack ? g_config.broker_rack : "none",
		 C.listeners, g_config.broker_session_timeout_ms);
	heartbeat();
	arm(g_config.broker_heartbeat_interval_ms);
}

static void arm(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (C.timer)
		evtimer_add(C.timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (C.state == CL_STANDALONE) {
		standalone_tick();
		arm(g_config.broker_heartbeat_interval_ms);
		return;
	}
	check_lease();
	if (!C.leaving)
		heartbeat();
	arm(C.refresh_wanted ? 20 : g_config.broker_heartbeat_interval_ms);
	C.refresh_wanted = false;
}

/* Fence this broker once the lease it holds has run out locally. */
static void check_lease(void)
{
	if (C.state != CL_SERVING || clock_mono_ms() < C.lease_end_ms)
		return;
	C.state = CL_FENCED;
	log_error("node %d could not renew its lease within broker.session.timeout.ms (%d ms): "
		  "no longer serving until it can",
		  g_config.node_id, g_config.broker_session_timeout_ms);
}

/* Standalone: check the timeline again once the pool lost a connection
 * (it may have come back to a promoted standby), or the last check failed. */
static void standalone_tick(void)
{
	pool_stats st;

	pool_get_stats(&st);
	if (st.failures != C.failures_seen) {
		C.failures_seen = st.failures;
		C.epochs_wanted = true;
	}
	if (C.epochs_wanted && !C.epochs_in_flight)
		standalone_check();
}

static void standalone_check(void)
{
	db_stmt st[2] = {{Q_CHECK_TIMELINE, 0, NULL, NULL, NULL, 0},
			 {Q_PARTITION_EPOCHS, 0, NULL, NULL, NULL, 0}};

	C.epochs_wanted = false;
	C.epochs_in_flight = true;
	db_submit(NULL, st, 2, epochs_done, NULL);
}

static void epochs_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			bool retriable)
{
	(void)arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	C.epochs_in_flight = false;
	if (!C.timer)
		return;
	if (err) {
		log_debug("cannot check the WAL timeline: %s", err);
		C.epochs_wanted = true;
		return;
	}
	int rows = PQntuples(res[1]);
	leader_entry *l = calloc((size_t)(rows > 0 ? rows : 1), sizeof(*l));
	if (!l)
		abort();
	for (int i = 0; i < rows; i++) {
		l[i].topic = strdup(PQgetvalue(res[1], i, 0));
		if (!l[i].topic)
			abort();
		l[i].partition = (int32_t)atoi(PQgetvalue(res[1], i, 1));
		l[i].leader = g_config.node_id;
		l[i].epoch = (int32_t)atoi(PQgetvalue(res[1], i, 2));
	}
	leaders_free(C.leaders, C.nleaders);
	C.leaders = l;
	C.nleaders = rows;
}

static void heartbeat(void)
{
	char node[16], lease[16];
	const char *values[5];

	if (C.hb_in_flight)
		return;
	snprintf(node, sizeof(node), "%d", g_config.node_id);
	snprintf(lease, sizeof(lease), "%d", g_config.broker_session_timeout_ms);
	values[0] = node;
	values[1] = C.incarnation;
	values[2] = C.listeners;
	values[3] = g_config.broker_rack;
	values[4] = lease;
	db_stmt st = {Q_BROKER_HEARTBEAT, 5, values, NULL, NULL, 0};
	C.hb_in_flight = true;
	C.hb_sent_ms = clock_mono_ms();
	db_submit(NULL, &st, 1, heartbeat_done, NULL);
}

static void parse_live(const PGresult *r)
{
	int n = PQntuples(r);
	cluster_broker *live = calloc((size_t)(n > 0 ? n : 1), sizeof(*live));
	int k = 0;

	if (!live)
		abort();
	for (int i = 0; i < n; i++) {
		char why[128];
		cluster_broker *b = &live[k];
		b->node_id = (int32_t)atoi(PQgetvalue(r, i, 0));
		if (listeners_parse(PQgetvalue(r, i, 1), &b->listeners, &b->nlisteners, why,
				    sizeof(why)) < 0) {
			log_warn("broker %d: unreadable listeners \"%s\": %s", b->node_id,
				 PQgetvalue(r, i, 1), why);
			b->listeners = NULL;
			b->nlisteners = 0;
		}
		b->rack = PQgetisnull(r, i, 2) ? NULL : strdup(PQgetvalue(r, i, 2));
		k++;
	}
	if (n > 0)
		C.version_seen = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	live_free(C.live, C.nlive);
	C.live = live;
	C.nlive = k;
}

static void heartbeat_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			   bool retriable)
{
	(void)arg;
	(void)n;
	(void)retriable;
	C.hb_in_flight = false;
	if (!C.timer)
		return;
	if (err) {
		if (sqlstate && strcmp(sqlstate, "23505") == 0) {
			if (C.state == CL_STARTING) {
				log_error(
					"cannot start: %s; give every broker of this database its "
					"own node.id",
					err);
				C.fatal();
				return;
			}
			log_error("node %d: %s", g_config.node_id, err);
		} else {
			log_warn("cannot renew the lease of node %d: %s", g_config.node_id, err);
		}
		check_lease();
		return;
	}
	C.lease_end_ms = C.hb_sent_ms + (int64_t)g_config.broker_session_timeout_ms;
	parse_live(res[0]);
	if (C.version_seen != C.leadership_version && !C.leaders_in_flight) {
		db_stmt st = {Q_PARTITION_LEADERS, 0, NULL, NULL, NULL, 0};
		C.leaders_in_flight = true;
		db_submit(NULL, &st, 1, leaders_done, (void *)(intptr_t)C.version_seen);
		return;
	}
	if (C.state == CL_FENCED && C.leadership_version >= 0 && clock_mono_ms() < C.lease_end_ms) {
		log_info("node %d holds its lease again: serving", g_config.node_id);
		C.state = CL_SERVING;
	}
}

static void leaders_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	int64_t version = (int64_t)(intptr_t)arg;
	(void)n;
	(void)sqlstate;
	(void)retriable;

	C.leaders_in_flight = false;
	if (!C.timer)
		return;
	if (err) {
		log_warn("cannot read partition leaders: %s", err);
		return;
	}
	int rows = PQntuples(res[0]);
	leader_entry *l = calloc((size_t)(rows > 0 ? rows : 1), sizeof(*l));
	if (!l)
		abort();
	for (int i = 0; i < rows; i++) {
		l[i].topic = strdup(PQgetvalue(res[0], i, 0));
		if (!l[i].topic)
			abort();
		l[i].partition = (int32_t)atoi(PQgetvalue(res[0], i, 1));
		l[i].leader = (int32_t)atoi(PQgetvalue(res[0], i, 2));
		l[i].epoch = (int32_t)atoi(PQgetvalue(res[0], i, 3));
	}
	leaders_free(C.leaders, C.nleaders);
	C.leaders = l;
	C.nleaders = rows;
	C.leadership_version = version;
	log_debug("partition leadership version %lld: %d partitions over %d brokers",
		  (long long)version, rows, C.nlive);
	if (C.state == CL_STARTING) {
		C.state = CL_SERVING;
		log_info("node %d registered: %d live brokers, controller %d", g_config.node_id,
			 C.nlive, cluster_controller_id());
		C.ready();
	} else if (C.state == CL_FENCED && clock_mono_ms() < C.lease_end_ms) {
		log_info("node %d holds its lease again: serving", g_config.node_id);
		C.state = CL_SERVING;
	}
}

void cluster_leave(void)
{
	char node[16];
	const char *values[2];

	if (C.state == CL_STANDALONE || C.leaving)
		return;
	C.leaving = true;
	if (C.state == CL_STARTING)
		return;
	snprintf(node, sizeof(node), "%d", g_config.node_id);
	values[0] = node;
	values[1] = C.incarnation;
	db_stmt st = {Q_BROKER_LEAVE, 2, values, NULL, NULL, 0};
	C.leave_in_flight = true;
	db_submit(NULL, &st, 1, leave_done, NULL);
}

static void leave_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		       bool retriable)
{
	(void)arg;
	(void)res;
	(void)n;
	(void)sqlstate;
	(void)retriable;
	C.leave_in_flight = false;
	if (err)
		log_warn("cannot give the lease of node %d back: %s", g_config.node_id, err);
	else
		log_info("node %d left the cluster", g_config.node_id);
}

bool cluster_busy(void) { return C.leave_in_flight; }

void cluster_stop(void)
{
	if (C.timer)
		event_free(C.timer);
	C.timer = NULL;
	live_free(C.live, C.nlive);
	C.live = NULL;
	C.nlive = 0;
	leaders_free(C.leaders, C.nleaders);
	C.leaders = NULL;
	C.nleaders = 0;
}

static void live_free(cluster_broker *b, int n)
{
	for (int i = 0; i < n; i++) {
		free(b[i].rack);
		listeners_free(b[i].listeners, b[i].nlisteners);
	}
	free(b);
}

static void leaders_free(leader_entry *l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i].topic);
	free(l);
}

bool cluster_enabled(void) { return C.state != CL_STANDALONE; }

bool cluster_serving(void)
{
	if (C.state == CL_SERVING)
		check_lease();
	return C.state == CL_STANDALONE || C.state == CL_SERVING;
}

int cluster_live_brokers(const cluster_broker **out)
{
	*out = C.live;
	return C.state == CL_STANDALONE ? 0 : C.nlive;
}

int32_t cluster_controller_id(void)
{
	int32_t id = g_config.node_id;

	if (C.state == CL_STANDALONE)
		return id;
	for (int i = 0; i < C.nlive; i++)
		if (i == 0 || C.live[i].node_id < id)
			id = C.live[i].node_id;
	return id;
}

bool cluster_runs_background_jobs(void)
{
	return C.state == CL_STANDALONE ||
	       (cluster_serving() && cluster_controller_id() == g_config.node_id);
}

const cluster_broker *cluster_broker_by_id(int32_t node_id)
{
	for (int i = 0; i < C.nlive; i++)
		if (C.live[i].node_id == node_id)
			return &C.live[i];
	return NULL;
}

bool cluster_broker_endpoint(const cluster_broker *b, const listener_cfg *l, const char **host,
			     int *port)
{
	sec_protocol want = l ? l->protocol : SEC_PLAINTEXT;

	for (int i = 0; i < b->nlisteners; i++) {
		if (b->listeners[i].protocol == want) {
			*host = b->listeners[i].host;
			*port = b->listeners[i].port;
			return true;
		}
	}
	return false;
}

static int leader_cmp(kstr topic, int32_t partition, const leader_entry *e)
{
	size_t elen = strlen(e->topic);
	size_t n = (size_t)topic.len < elen ? (size_t)topic.len : elen;
	int c = memcmp(topic.ptr, e->topic, n);

	if (c)
		return c;
	if ((size_t)topic.len != elen)
		return (size_t)topic.len < elen ? -1 : 1;
	return partition < e->partition ? -1 : partition > e->partition;
}

static const leader_entry *leader_find(kstr topic, int32_t partition)
{
	int lo = 0, hi = C.nleaders - 1;

	if (topic.len < 0)
		return NULL;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = leader_cmp(topic, partition, &C.leaders[mid]);
		if (c == 0)
			return &C.leaders[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool cluster_partition_leader(kstr topic, int32_t partition, int32_t *leader, int32_t *epoch)
{
	if (C.state == CL_STANDALONE) {
		const leader_entry *e = leader_find(topic, partition);
		*leader = g_config.node_id;
		*epoch = e ? e->epoch : 0;
		return true;
	}
	const leader_entry *e = leader_find(topic, partition);
	if (!e) {
		/* A partition created since the last look: look again soon. */
		C.refresh_wanted = true;
		if (C.timer && !C.hb_in_flight) {
			struct timeval tv = {0, 20000};
			evtimer_add(C.timer, &tv);
		}
		return false;
	}
	*leader = e->leader;
	*epoch = e->epoch;
	return true;
}

int16_t cluster_check_leader(kstr topic, int32_t partition, int32_t current_leader_epoch)
{
	int32_t epoch = 0;
	const leader_entry *e = leader_find(topic, partition);

	if (C.state == CL_STANDALONE) {
		epoch = e ? e->epoch : 0;
	} else {
		if (!e)
			return KERR_NONE;
		if (e->leader != g_config.node_id)
			return KERR_NOT_LEADER_OR_FOLLOWER;
		epoch = e->epoch;
	}
	/* Partition.checkCurrentLeaderEpoch: -1 is "none". */
	if (current_leader_epoch == -1 || current_leader_epoch == epoch)
		return KERR_NONE;
	return current_leader_epoch < epoch ? KERR_FENCED_LEADER_EPOCH : KERR_UNKNOWN_LEADER_EPOCH;
}

/* Java's String.hashCode over the key's bytes (ASCII keys hash alike). */
int cluster_coordinator_index(kstr key, int n)
{
	int32_t h = 0;

	if (n <= 0)
		return 0;
	for (int32_t i = 0; i < key.len; i++)
		h = (int32_t)((uint32_t)h * 31u + (uint32_t)(signed char)key.ptr[i]);
	/* Utils.abs: MIN_VALUE maps to 0 */
	int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	int partition = a % 50;
	return partition % n;
}

int32_t cluster_coordinator_for(kstr key)
{
	if (C.state == CL_STANDALONE || C.nlive == 0)
		return g_config.node_id;
	return C.live[cluster_coordinator_index(key, C.nlive)].node_id;
}

bool cluster_is_coordinator(kstr key) { return cluster_coordinator_for(key) == g_config.node_id; }
