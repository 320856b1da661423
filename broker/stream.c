/*
 * The wake-up stream: a replication connection that turns committed records
 * into wake_notify() calls.
 *
 *   WAITING ──timer──▶ CONNECTING ──▶ CREATING ──▶ STARTING ──▶ STREAMING
 *      ▲                   │              │            │            │
 *      └───── failure: one log line, backoff 100 ms doubling to 5 s ┘
 *
 * CONNECTING    PQconnectPoll on conninfo + replication=database
 * CREATING      CREATE_REPLICATION_SLOT <unique> TEMPORARY LOGICAL pg_kafka
 * STARTING      START_REPLICATION SLOT <unique> LOGICAL 0/0 (binary, summary)
 * STREAMING     CopyData: XLogData ('w') carries one decoder message
 *               (docs/DECODER.md), keepalives ('k') may ask for a reply
 *
 * The slot is temporary: the server drops it when the connection ends, so a
 * broker that dies leaves nothing behind, and each connection starts at the
 * current end of WAL (a fetch that missed a wake-up while the stream was down
 * still ends at its max_wait_ms). Standby status updates confirm everything
 * received, every STATUS_INTERVAL_MS and whenever the server asks, so the
 * slot never holds back WAL.
 *
 * Every wake-up is sent twice: at once, and again RENOTIFY_MS later. The
 * walsender may decode a commit a moment before the committing backend has
 * made it visible to new snapshots; a fetch woken in that moment reads
 * nothing and waits again, and the second wake-up reads it. A repeated
 * wake-up finds no waiter when the first one worked, so it costs a lookup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "decmsg.h"
#include "kbuf.h"
#include "log.h"
#include "replproto.h"
#include "stream.h"
#include "wake.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 10000
#define STATUS_INTERVAL_MS 10000
#define RENOTIFY_MS 10
/* Wake-ups remembered for the second round; more are dropped (best effort). */
#define RENOTIFY_MAX 4096

/* A partition woken recently, to wake again (the topic is copied). */
typedef struct renotify {
	char *topic;
	int32_t topic_len;
	int32_t partition;
} renotify;

typedef enum stream_state {
	ST_STOPPED,    /* not started, or stopped */
	ST_WAITING,    /* down; the reconnect timer is armed */
	ST_CONNECTING, /* PQconnectPoll in progress */
	ST_CREATING,   /* CREATE_REPLICATION_SLOT sent */
	ST_STARTING,   /* START_REPLICATION sent, waiting for CopyBoth */
	ST_STREAMING,
} stream_state;

static struct {
	struct event_base *base;
	stream_state state;
	PGconn *pg;
	struct event *ev_io;       /* CONNECTING: one-shot wait for PQconnectPoll */
	struct event *ev_read;     /* after connecting: persistent */
	struct event *ev_write;    /* while PQflush has data left */
	struct event *ev_timer;    /* reconnect backoff, or connect timeout */
	struct event *ev_status;   /* periodic standby status update */
	struct event *ev_renotify; /* the second round of wake-ups */
	renotify *again;           /* partitions to wake again */
	int nagain;
	int backoff_ms;
	unsigned attempts;
	char slot[64];
	uint64_t received;       /* highest WAL position received, confirmed back */
	uint64_t wal_end;        /* the server's end of WAL in its last message */
	int64_t last_message_ms; /* monotonic; for stream_get_stats */
	unsigned long failures;  /* conn_fail calls */
	char *last_error;        /* the last failure logged, to log repeats quietly */
} S;

static void conn_start(void);
static void conn_watch(short what);
static void on_connect_io(evutil_socket_t fd, short what, void *arg);
static void conn_connected(void);
static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_status(evutil_socket_t fd, short what, void *arg);
static void on_renotify(evutil_socket_t fd, short what, void *arg);
static void remember(const char *topic, int32_t topic_len, int32_t partition);
static void forget_all(void);
static int read_results(void);
static int read_copy_data(void);
static int handle_message(const unsigned char *buf, int len);
static void handle_record(const unsigned char *p, int len);
static int send_command(const char *sql);
static int send_status(void);
static int conn_flush(void);
static void conn_fail(const char *why);
static void conn_teardown(void);
static void arm_timer(int ms);
static char *one_line(const char *msg);

void stream_start(struct event_base *base)
{
	memset(&S, 0, sizeof(S));
	S.base = base;
	if (!g_config.stream_enabled) {
		log_info("stream: disabled (stream.enabled = false); fetches wake on local "
			 "produces and at max_wait_ms");
		return;
	}
	S.ev_timer = evtimer_new(base, on_timer, NULL);
	S.ev_status = event_new(base, -1, EV_PERSIST, on_status, NULL);
	S.ev_renotify = evtimer_new(base, on_renotify, NULL);
	S.again = calloc(RENOTIFY_MAX, sizeof(*S.again));
	if (!S.ev_timer || !S.ev_status || !S.ev_renotify || !S.again) {
		log_error("stream: cannot create events; running without the wake-up stream");
		stream_stop();
		return;
	}
	struct timeval tv = {STATUS_INTERVAL_MS / 1000, (STATUS_INTERVAL_MS % 1000) * 1000};
	event_add(S.ev_status, &tv);
	S.backoff_ms = BACKOFF_MIN_MS;
	conn_start();
}

void stream_stop(void)
{
	conn_teardown();
	if (S.ev_timer)
		event_free(S.ev_timer);
	if (S.ev_status)
		event_free(S.ev_status);
	if (S.ev_renotify)
		event_free(S.ev_renotify);
	forget_all();
	free(S.again);
	free(S.last_error);
	memset(&S, 0, sizeof(S));
}

bool stream_up(void) { return S.state == ST_STREAMING; }

void stream_get_stats(stream_stats *out)
{
	static const char *const names[] = {
		[ST_STOPPED] = "stopped",       [ST_WAITING] = "waiting",
		[ST_CONNECTING] = "connecting", [ST_CREATING] = "creating",
		[ST_STARTING] = "starting",     [ST_STREAMING] = "streaming",
	};

	out->state = names[S.state];
	out->enabled = g_config.stream_enabled;
	out->reconnects = S.failures;
	out->received_lsn = S.received;
	out->server_wal_end = S.wal_end;
	out->last_message_ms = S.last_message_ms;
}

/* ---- connecting ---- */

static void conn_start(void)
{
	/* Keywords are processed in order and later ones win: the user's
	 * conninfo (expanded from dbname) cannot turn replication off. */
	const char *keywords[] = {"dbname", "replication", "fallback_application_name", NULL};
	const char *values[] = {g_config.pg_conninfo, "database", "pg_kafka stream", NULL};

	S.attempts++;
	S.received = 0;
	S.wal_end = 0;
	S.pg = PQconnectStartParams(keywords, values, 1);
	if (!S.pg) {
		conn_fail("out of memory");
		return;
	}
	if (PQstatus(S.pg) == CONNECTION_BAD || PQsocket(S.pg) < 0) {
		conn_fail(PQerrorMessage(S.pg));
		return;
	}
	S.state = ST_CONNECTING;
	arm_timer(CONNECT_TIMEOUT_MS);
	/* PQconnectStart behaves as if PQconnectPoll had said WRITING */
	conn_watch(EV_WRITE);
}

/* Wait for the socket PQconnectPoll uses now (it may change between calls). */
static void conn_watch(short what)
{
	if (S.ev_io) {
		event_free(S.ev_io);
		S.ev_io = NULL;
	}
	S.ev_io = event_new(S.base, PQsocket(S.pg), what, on_connect_io, NULL);
	if (!S.ev_io || event_add(S.ev_io, NULL) < 0)
		conn_fail("cannot watch the connection socket");
}

static void on_connect_io(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	switch (PQconnectPoll(S.pg)) {
	case PGRES_POLLING_READING:
		conn_watch(EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		conn_watch(EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		conn_connected();
		break;
	default:
		conn_fail(PQerrorMessage(S.pg));
		break;
	}
}

/*
 * Connected: create the temporary slot. Creating a logical slot waits for
 * transactions running at that moment to end, so there is no timeout here.
 */
static void conn_connected(void)
{
	int sock = PQsocket(S.pg);
	char sql[160];

	event_free(S.ev_io);
	S.ev_io = NULL;
	event_del(S.ev_timer);
	if (PQsetnonblocking(S.pg, 1) != 0) {
		conn_fail(PQerrorMessage(S.pg));
		return;
	}
	S.ev_read = event_new(S.base, sock, EV_READ | EV_PERSIST, on_read, NULL);
	S.ev_write = event_new(S.base, sock, EV_WRITE, on_write, NULL);
	if (!S.ev_read || !S.ev_write || event_add(S.ev_read, NULL) < 0) {
		conn_fail("cannot watch the connection socket");
		return;
	}
	/* Unique among brokers of one database: node id, pid and attempt. */
	snprintf(S.slot, sizeof(S.slot), "pg_kafka_wake_%d_%ld_%u", (int)g_config.node_id,
		 (long)getpid(), S.attempts);
	snprintf(sql, sizeof(sql),
		 "CREATE_REPLICATION_SLOT %s TEMPORARY LOGICAL pg_kafka (SNAPSHOT 'nothing')",
		 S.slot);
	S.state = ST_CREATING;
	send_command(sql);
}

/* ---- reading ---- */

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!PQconsumeInput(S.pg)) {
		conn_fail(PQerrorMessage(S.pg));
		return;
	}
	if (S.state == ST_CREATING || S.state == ST_STARTING) {
		if (read_results() < 0)
			return;
	}
	if (S.state == ST_STREAMING)
		read_copy_data();
}

/*
 * Results of the command in flight. CREATE_REPLICATION_SLOT ends with a
 * NULL result, then START_REPLICATION is sent; START_REPLICATION ends with
 * PGRES_COPY_BOTH, after which everything is CopyData. Returns -1 once the
 * connection has failed.
 */
static int read_results(void)
{
	char sql[160];

	while (!PQisBusy(S.pg)) {
		PGresult *res = PQgetResult(S.pg);

		if (res == NULL) {
			if (S.state != ST_CREATING)
				return 0; /* nothing more for STARTING yet */
			snprintf(sql, sizeof(sql),
				 "START_REPLICATION SLOT %s LOGICAL 0/0 (\"format\" 'binary', "
				 "\"payload\" 'false', \"summary\" 'true')",
				 S.slot);
			S.state = ST_STARTING;
			return send_command(sql);
		}
		switch (PQresultStatus(res)) {
		case PGRES_COPY_BOTH:
			PQclear(res);
			S.state = ST_STREAMING;
			S.backoff_ms = BACKOFF_MIN_MS;
			if (S.last_error)
				log_info("stream: streaming again on slot %s", S.slot);
			else
				log_info("stream: streaming on temporary slot %s", S.slot);
			free(S.last_error);
			S.last_error = NULL;
			return 0;
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			break;
		default: {
			char *why = one_line(PQresultErrorMessage(res));

			PQclear(res);
			conn_fail(why);
			free(why);
			return -1;
		}
		}
		PQclear(res);
	}
	return 0;
}

/* Every CopyData message available now. Returns -1 once the connection has failed. */
static int read_copy_data(void)
{
	for (;;) {
		char *buf = NULL;
		int n = PQgetCopyData(S.pg, &buf, 1);

		if (n == 0)
			return 0;
		if (n == -1) {
			PGresult *res = PQgetResult(S.pg);
			char *why = one_line(res && PQresultStatus(res) == PGRES_FATAL_ERROR
						     ? PQresultErrorMessage(res)
						     : "the server ended the replication stream");
			PQclear(res);
			conn_fail(why);
			free(why);
			return -1;
		}
		if (n < 0) {
			conn_fail(PQerrorMessage(S.pg));
			return -1;
		}
		int rc = handle_message((const unsigned char *)buf, n);
		PQfreemem(buf);
		if (rc < 0)
			return -1;
	}
}

/* One CopyData message of the replication protocol (common/replproto.h). */
static int handle_message(const unsigned char *buf, int len)
{
	repl_msg m;

	if (repl_parse(buf, (size_t)len, &m) < 0) {
		conn_fail("malformed message in the replication stream");
		return -1;
	}
	S.last_message_ms = clock_mono_ms();
	if (m.wal_end > S.wal_end)
		S.wal_end = m.wal_end;
	if (m.type == REPL_XLOGDATA) {
		if (m.wal_start > S.received)
			S.received = m.wal_start;
		handle_record(m.data, (int)m.len);
		return 0;
	}
	/* Keepalive: everything up to its end has been decoded and sent:
	 * confirm it, so that this slot holds back no WAL while nothing is
	 * written. */
	if (m.wal_end > S.received)
		S.received = m.wal_end;
	return m.reply_requested ? send_status() : 0;
}

/* A decoder message: records wake their partition; markers are ignored. */
static void handle_record(const unsigned char *p, int len)
{
	decmsg m;

	switch (decmsg_parse(p, (size_t)len, &m)) {
	case DECMSG_BAD_VERSION:
		log_warn("stream: ignoring a message of unknown format version %d", p[0]);
		return;
	case DECMSG_MALFORMED:
		log_warn("stream: ignoring a malformed decoder message (%d bytes)", len);
		return;
	}
	if (m.type != DECMSG_RECORD)
		return;
	wake_notify(m.topic, m.partition);
	remember(m.topic.ptr, m.topic.len, m.partition);
}

/* Note a partition for the second round, unless it is noted already. */
static void remember(const char *topic, int32_t topic_len, int32_t partition)
{
	renotify *r;

	/* Records come in runs of one partition: the last entry is the likely match. */
	if (S.nagain > 0) {
		r = &S.again[S.nagain - 1];
		if (r->partition == partition && r->topic_len == topic_len &&
		    memcmp(r->topic, topic, (size_t)topic_len) == 0)
			return;
	}
	if (S.nagain >= RENOTIFY_MAX)
		return;
	r = &S.again[S.nagain];
	r->topic = malloc(topic_len > 0 ? (size_t)topic_len : 1);
	if (!r->topic)
		return;
	memcpy(r->topic, topic, (size_t)topic_len);
	r->topic_len = topic_len;
	r->partition = partition;
	if (S.nagain++ == 0) {
		struct timeval tv = {0, RENOTIFY_MS * 1000};
		evtimer_add(S.ev_renotify, &tv);
	}
}

static void on_renotify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < S.nagain; i++)
		wake_notify((kstr){S.again[i].topic, S.again[i].topic_len}, S.again[i].partition);
	forget_all();
}

static void forget_all(void)
{
	for (int i = 0; i < S.nagain; i++)
		free(S.again[i].topic);
	S.nagain = 0;
}

/* ---- writing ---- */

static int send_command(const char *sql)
{
	if (!PQsendQuery(S.pg, sql)) {
		conn_fail(PQerrorMessage(S.pg));
		return -1;
	}
	return conn_flush();
}

/* Standby status update: written, flushed and applied up to what arrived. */
static int send_status(void)
{
	unsigned char msg[REPL_STATUS_LEN];

	repl_status(msg, S.received, S.received, S.received, false);
	if (PQputCopyData(S.pg, (const char *)msg, (int)sizeof(msg)) != 1) {
		conn_fail(PQerrorMessage(S.pg));
		return -1;
	}
	return conn_flush();
}

static int conn_flush(void)
{
	int rc = PQflush(S.pg);

	if (rc < 0) {
		conn_fail(PQerrorMessage(S.pg));
		return -1;
	}
	if (rc > 0)
		event_add(S.ev_write, NULL);
	return 0;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	conn_flush();
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (S.state == ST_STREAMING)
		send_status();
}

/* ---- failure and backoff ---- */

/*
 * One log line per failure, at warn level the first time a given reason
 * appears and at debug level while it repeats, then retry after the
 * backoff. why == NULL: use the connection's error message.
 */
static void conn_fail(const char *why)
{
	char *line = one_line(why ? why : (S.pg ? PQerrorMessage(S.pg) : "unknown error"));

	S.failures++;
	if (!S.last_error || strcmp(S.last_error, line) != 0) {
		log_warn("stream: %s%s; retrying in %d ms (fetches meanwhile end at max_wait_ms)",
			 S.state == ST_STREAMING ? "lost: " : "", line, S.backoff_ms);
		free(S.last_error);
		S.last_error = line;
	} else {
		log_debug("stream: %s; retrying in %d ms", line, S.backoff_ms);
		free(line);
	}
	conn_teardown();
	S.state = ST_WAITING;
	arm_timer(S.backoff_ms);
	S.backoff_ms = S.backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : S.backoff_ms * 2;
}

/* Close the connection (the server drops the temporary slot with it). */
static void conn_teardown(void)
{
	if (S.ev_io) {
		event_free(S.ev_io);
		S.ev_io = NULL;
	}
	if (S.ev_read) {
		event_free(S.ev_read);
		S.ev_read = NULL;
	}
	if (S.ev_write) {
		event_free(S.ev_write);
		S.ev_write = NULL;
	}
	if (S.ev_timer)
		event_del(S.ev_timer);
	if (S.pg) {
		PQfinish(S.pg);
		S.pg = NULL;
	}
	S.state = ST_STOPPED;
}

static void arm_timer(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(S.ev_timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (S.state == ST_CONNECTING)
		conn_fail("timed out connecting to PostgreSQL");
	else if (S.state == ST_WAITING)
		conn_start();
}

/* ---- helpers ---- */

/* A server message on one line: newlines become spaces, trailing ones go. */
static char *one_line(const char *msg)
{
	char *s = strdup(msg ? msg : "");
	size_t n;

	if (!s) {
		log_error("stream: out of memory");
		abort();
	}
	for (char *p = s; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}
