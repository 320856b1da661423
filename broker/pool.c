/*
 * The libpq pool: a fixed set of asynchronous PostgreSQL connections in
 * pipeline mode, driven by libevent. (Jobs themselves, their one-allocation
 * copies and queues, are pool_job.c. What stays here, about 1,100 lines, is
 * one state machine: the connection states, the pipeline's result reader and
 * dispatch all move jobs between the same per-connection queues, and each
 * reads the others' invariants.)
 *
 * Each connection walks an explicit state machine:
 *
 *   WAITING ──timer──▶ CONNECTING ──PQconnectPoll OK──▶ PREPARING ──▶ UP
 *      ▲                   │                               │           │
 *      └──── failure (backoff 100 ms doubling to 5 s) ◀────┴───────────┘
 *
 * A job is a list of prepared statements followed by one Sync; it is sent as
 * soon as it is submitted and its results are collected, in order, by the
 * read callback. Preparing every statement of the table given to pool_init
 * is itself a job,
 * the first one of each connection, so one result reader serves both. The
 * statements named by pool_at_connect() run in that job too, after the prepares: a
 * connection takes no other job before they succeeded (the broker checks
 * for a new WAL timeline so, before anything it writes on a promoted
 * standby).
 *
 * Callbacks never run inside db_submit(): a job that cannot be sent (the
 * connection is not up, or the send failed) goes to the connection's fail
 * queue, which a zero-timeout event empties from the event loop.
 *
 * Dispatch. PostgreSQL runs the jobs of one connection one after another,
 * so a job waiting for a lock holds up every job sent behind it on that
 * connection. Jobs therefore are not pinned to a connection per client:
 *
 *   - a lane (a client connection) with jobs on a connection sends its next
 *     job to the same connection, behind them: a lane's jobs run in order;
 *   - a lane with nothing in flight goes back to the connection that ran
 *     its last job when that one is idle: the backend's caches are warm
 *     for it (spreading a one-request-at-a-time client over the pool cost
 *     PostgreSQL a sixth more CPU per request and doubled its latency);
 *   - otherwise, and for a job without a lane, the connection with the
 *     fewest jobs among those that are moving: fewer than PIPELINE_MAX
 *     jobs, and the one running (the head) started less than STALL_MS ago;
 *     an idle connection always qualifies; on a tie between busy ones, the
 *     one whose head started last, between idle ones the first;
 *   - when none qualifies the job waits in the pool's pending queue (lane
 *     order kept) and is sent as soon as one does: when a job finishes or a
 *     connection comes up. Jobs fail at once only when no connection is up
 *     or coming up.
 *
 * So a job stuck on a lock delays its own lane, and at most the
 * PIPELINE_MAX - 1 jobs of other lanes sent behind it in its first STALL_MS;
 * everything else goes to the other connections. A single client still
 * pipelines all its jobs on one connection, and under load each connection
 * keeps up to PIPELINE_MAX jobs queued, so PostgreSQL never idles between
 * them.
 *
 * Buffers. libpq grows a connection's input and output buffers to the
 * largest message received and the most bytes queued for sending, and only
 * frees them with the connection. A job goes into libpq only once libpq has
 * handed everything before it to the socket; until then it waits in the
 * connection's waitq, in order. So libpq's output holds one job at most,
 * and each partial send moves only that job's rest to the front of the
 * buffer (with a lane's whole pipeline in it, up to 16 MiB of produce
 * requests, every partial send moved all of it: two fifths of the broker's
 * CPU went to that on 1 KB records). A connection that sent a job of more
 * than BUF_BOUND bytes of parameters, or that received a row larger than
 * BUF_BOUND, is marked; pool_shed_buffers, called when the broker is idle,
 * closes and reopens every marked connection that has nothing in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "log.h"
#include "pool.h"
#include "pool_job.h"
#include "sqlstate.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* PQconnectPoll has no timeout of its own in non-blocking use. */
#define CONNECT_TIMEOUT_MS 10000
/* Bounds the rounds of resubmission by callbacks during pool_shutdown. */
#define SHUTDOWN_ROUNDS 100
/* Dispatch (see the top of the file): a connection takes jobs of new lanes
 * while it has fewer than PIPELINE_MAX and its head has run < STALL_MS. */
#define PIPELINE_MAX 4
#define STALL_MS 20
/* See "Buffers" at the top of the file. */
#define BUF_BOUND (4u << 20)

typedef enum conn_state {
	PC_WAITING,    /* down; the reconnect timer is armed */
	PC_CONNECTING, /* PQconnectPoll in progress */
	PC_PREPARING,  /* connected; the prepare job is in flight */
	PC_UP,
	PC_CLOSED, /* pool_shutdown */
} conn_state;

typedef struct pgconn pgconn;

struct pool_lane {
	struct pgconn *conn; /* where its jobs are, while on_conn > 0 */
	struct pgconn *last; /* where its last job went */
	int on_conn;         /* jobs sent to conn, not finished */
	int npending;        /* jobs in P.pending */
	int queued;          /* jobs submitted, not finished */
	unsigned blocked;    /* dispatch_pending pass that kept one of its jobs */
	bool freed;          /* its owner is done: free when queued == 0 */
};

struct pgconn {
	int id;
	conn_state state;
	PGconn *pg;
	unsigned gen;           /* bumped when pg is torn down */
	struct event *ev_io;    /* CONNECTING: one-shot wait for PQconnectPoll */
	struct event *ev_read;  /* PREPARING/UP: persistent */
	struct event *ev_write; /* PREPARING/UP: while PQflush has data left */
	struct event *ev_timer; /* reconnect backoff, or connect timeout */
	struct event *ev_fail;  /* empties failq from the loop */
	jobq sent;              /* in the pipeline, in submission order */
	jobq failq;             /* to be failed from the loop */
	jobq waitq;             /* not yet in the pipeline: sent once up and flushed */
	bool broken;            /* a send failed: tear down from the loop */
	bool flush_pending;     /* PQflush returned 1 */
	bool buffers_grown;     /* libpq's buffers may exceed BUF_BOUND */
	bool reopening;         /* closed by pool_shed_buffers, not by a failure */
	int backoff_ms;
	char *last_error; /* why the connection is down */
	bool ever_up;
	bool outage_logged; /* one line per outage, not per attempt */
	struct timespec down_since;
	struct timespec head_since; /* when sent.head started running */
};

static struct {
	struct event_base *base;
	char *conninfo;
	pgconn *conns;
	int size;
	const pool_statement *stmts; /* prepared on every connection */
	int nstmts;
	char *prepare_error_logged; /* the last prepare failure logged */
	jobq pending;               /* no connection could take them yet */
	jobq failq;                 /* jobs failed before reaching a connection */
	struct event *ev_fail;      /* empties failq from the loop */
	unsigned pass;              /* dispatch_pending passes */
	unsigned long failures;     /* conn_fail calls, for pool_get_stats */
} P;

static void conn_start(pgconn *c);
static void conn_watch(pgconn *c, short what);
static void on_connect_io(evutil_socket_t fd, short what, void *arg);
static void conn_connected(pgconn *c);
static void prepare_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable);
static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_fail_queue(evutil_socket_t fd, short what, void *arg);
static void on_pool_fail_queue(evutil_socket_t fd, short what, void *arg);
static void route(job *j);
static void conn_submit(pgconn *c, job *j);
static pgconn *pick_conn(const pool_lane *l);
static bool pool_may_come_up(void);
static void dispatch_pending(void);
static void fail_pending_if_down(void);
static void fail_down(job *j);
static void sent_push(pgconn *c, job *j);
static void lane_maybe_free(pool_lane *l);
static void conn_drain(pgconn *c);
static int conn_flush(pgconn *c);
static void conn_fail(pgconn *c, const char *why, bool quiet);
static void conn_send_waiting(pgconn *c);
static void conn_teardown(pgconn *c);
static void arm_timer(pgconn *c, int ms);
static job *job_new_prepare(int n, pgconn *c);
static bool job_send(pgconn *c, job *j);
static void job_finish(job *j);
static void job_fail(job *j, const char *msg, bool retriable);
static double seconds_since(const struct timespec *t);
static void note_result_size(pgconn *c, const PGresult *res);

/* pool_at_connect(): outside P, which pool_init clears. */
static int at_connect[POOL_AT_CONNECT_MAX];
static int nat_connect;

void pool_at_connect(int q)
{
	for (int i = 0; i < nat_connect; i++)
		if (at_connect[i] == q)
			return;
	if (nat_connect < POOL_AT_CONNECT_MAX)
		at_connect[nat_connect++] = q;
}

/* Whether statement q runs when a connection comes up. */
static bool runs_at_connect(int q)
{
	for (int i = 0; i < nat_connect; i++)
		if (at_connect[i] == q)
			return true;
	return false;
}

int pool_init(struct event_base *base, const char *conninfo, int size,
	      const pool_statement *stmts, int nstmts)
{
	char *errmsg = NULL;
	PQconninfoOption *opts;

	opts = PQconninfoParse(conninfo, &errmsg);
	if (!opts) {
		char *why = pool_clean_message(errmsg ? errmsg : "out of memory");
		log_error("invalid pg.conninfo: %s", why);
		free(why);
		PQfreemem(errmsg);
		return -1;
	}
	PQconninfoFree(opts);
	if (size < 1)
		size = 1;

	memset(&P, 0, sizeof(P));
	P.base = base;
	P.size = size;
	P.stmts = stmts;
	P.nstmts = nstmts > 0 ? nstmts : 0;
	P.conninfo = strdup(conninfo);
	P.conns = calloc((size_t)size, sizeof(*P.conns));
	P.ev_fail = event_new(base, -1, 0, on_pool_fail_queue, NULL);
	if (!P.conninfo || !P.conns || !P.ev_fail) {
		log_error("pool: out of memory");
		free(P.conninfo);
		free(P.conns);
		if (P.ev_fail)
			event_free(P.ev_fail);
		memset(&P, 0, sizeof(P));
		return -1;
	}
	for (int i = 0; i < size; i++) {
		pgconn *c = &P.conns[i];
		c->id = i;
		c->state = PC_WAITING;
		c->backoff_ms = BACKOFF_MIN_MS;
		c->ev_timer = evtimer_new(base, on_timer, c);
		c->ev_fail = event_new(base, -1, 0, on_fail_queue, c);
		if (!c->ev_timer || !c->ev_fail) {
			log_error("pool: cannot create events");
			P.size = i + 1;
			pool_shutdown();
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &c->down_since);
	}
	for (int i = 0; i < size; i++)
		conn_start(&P.conns[i]);
	return 0;
}

void pool_shutdown(void)
{
	if (!P.conns)
		return;
	for (int i = 0; i < P.size; i++)
		P.conns[i].state = PC_CLOSED;

	/*
	 * Fail what is still pending. A callback may submit again (to a closed
	 * connection, so into its fail queue): repeat until nothing is left.
	 */
	for (int round = 0; round < SHUTDOWN_ROUNDS; round++) {
		bool any = false;
		jobq early = {0};
		job *e;

		while ((e = jobq_pop(&P.pending))) {
			if (e->lane)
				e->lane->npending--;
			jobq_push(&early, e);
		}
		jobq_take(&early, &P.failq);
		while ((e = jobq_pop(&early))) {
			any = true;
			job_fail(e, "broker shutting down", true);
		}
		for (int i = 0; i < P.size; i++) {
			pgconn *c = &P.conns[i];
			jobq dead = {0};
			job *j;

			jobq_take(&dead, &c->sent);
			jobq_take(&dead, &c->waitq);
			jobq_take(&dead, &c->failq);
			while ((j = jobq_pop(&dead))) {
				any = true;
				job_fail(j, "broker shutting down", true);
			}
		}
		if (!any)
			break;
	}

	for (int i = 0; i < P.size; i++) {
		pgconn *c = &P.conns[i];
		job *j;

		conn_teardown(c);
		/* Left only if callbacks kept resubmitting for SHUTDOWN_ROUNDS:
		 * drop those jobs rather than loop forever. */
		if (c->failq.n > 0)
			log_error("pool[%d]: dropping %d jobs resubmitted during shutdown", c->id,
				  c->failq.n);
		while ((j = jobq_pop(&c->failq)))
			job_free(j);
		if (c->ev_timer)
			event_free(c->ev_timer);
		if (c->ev_fail)
			event_free(c->ev_fail);
		free(c->last_error);
	}
	{
		job *j;
		if (P.pending.n + P.failq.n > 0)
			log_error("pool: dropping %d jobs resubmitted during shutdown",
				  P.pending.n + P.failq.n);
		jobq_take(&P.failq, &P.pending);
		while ((j = jobq_pop(&P.failq))) {
			pool_lane *l = j->lane;
			job_free(j);
			if (l) {
				l->queued--;
				lane_maybe_free(l);
			}
		}
	}
	if (P.ev_fail)
		event_free(P.ev_fail);
	free(P.conns);
	free(P.conninfo);
	free(P.prepare_error_logged);
	memset(&P, 0, sizeof(P));
}

pool_lane *pool_lane_new(void)
{
	pool_lane *l = calloc(1, sizeof(*l));

	if (!l) {
		log_error("pool: out of memory");
		abort();
	}
	return l;
}

void pool_lane_free(pool_lane *l)
{
	if (!l)
		return;
	l->freed = true;
	lane_maybe_free(l);
}

static void lane_maybe_free(pool_lane *l)
{
	if (l->freed && l->queued == 0)
		free(l);
}

bool pool_available(void)
{
	for (int i = 0; i < P.size; i++) {
		if (P.conns[i].state == PC_UP && !P.conns[i].broken)
			return true;
	}
	return false;
}

void pool_get_stats(pool_stats *out)
{
	*out = (pool_stats){.total = P.size, .queued = P.pending.n, .failures = P.failures};
	for (int i = 0; i < P.size; i++) {
		out->up += P.conns[i].state == PC_UP && !P.conns[i].broken;
		out->queued += P.conns[i].sent.n + P.conns[i].waitq.n;
	}
}

void db_submit(pool_lane *l, const db_stmt *stmts, int n, db_done_fn cb, void *arg)
{
	job *j = job_new(P.stmts, P.nstmts, stmts, n, cb, arg);

	j->lane = l;
	if (l)
		l->queued++;
	if (j->invalid || !P.conns) {
		if (!j->invalid)
			job_set_error(j, "no connection to PostgreSQL: pool not started", NULL,
				      true);
		j->invalid = true; /* keep that error */
		if (!P.ev_fail) {
			job_finish(j); /* no pool, no loop: nothing else can run it */
			return;
		}
		jobq_push(&P.failq, j);
		event_active(P.ev_fail, EV_TIMEOUT, 0);
		return;
	}
	route(j);
}

/* Send j where the dispatch rules (top of file) say, or keep it pending. */
static void route(job *j)
{
	pool_lane *l = j->lane;
	pgconn *c;

	if (l && l->npending == 0 && l->on_conn > 0) {
		conn_submit(l->conn, j);
		return;
	}
	if ((!l || l->npending == 0) && (c = pick_conn(l))) {
		conn_submit(c, j);
		return;
	}
	if (!pool_may_come_up()) {
		fail_down(j);
		event_active(P.ev_fail, EV_TIMEOUT, 0);
		return;
	}
	jobq_push(&P.pending, j);
	if (l)
		l->npending++;
}

/* The least loaded connection that is moving (top of file), or NULL. */
static pgconn *pick_conn(const pool_lane *l)
{
	pgconn *best = NULL;
	struct timespec now;

	/* The backend that ran the lane's last job has its caches warm for
	 * the next one: when it is idle, nothing beats it. */
	if (l && l->last && l->last->state == PC_UP && !l->last->broken && l->last->sent.n == 0 &&
	    l->last->waitq.n == 0)
		return l->last;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < P.size; i++) {
		pgconn *c = &P.conns[i];
		if (c->state != PC_UP || c->broken)
			continue;
		int n = c->sent.n + c->waitq.n, best_n = best ? best->sent.n + best->waitq.n : 0;
		if (n > 0) {
			double ran_ms = (double)(now.tv_sec - c->head_since.tv_sec) * 1e3 +
					(double)(now.tv_nsec - c->head_since.tv_nsec) / 1e6;
			if (n >= PIPELINE_MAX || ran_ms >= STALL_MS)
				continue;
		}
		/* Fewest jobs; on a tie between busy ones, the head that started
		 * last: an older one is likelier to be waiting for something; on
		 * a tie between idle ones, the first: a few busy backends keep
		 * their caches warm where a rotation would cool all of them. */
		if (!best || n < best_n ||
		    (n == best_n && n > 0 &&
		     (c->head_since.tv_sec > best->head_since.tv_sec ||
		      (c->head_since.tv_sec == best->head_since.tv_sec &&
		       c->head_since.tv_nsec > best->head_since.tv_nsec))))
			best = c;
	}
	return best;
}

/* Whether a pending job can still be sent: some connection is up or on
 * its way up. */
static bool pool_may_come_up(void)
{
	for (int i = 0; i < P.size; i++) {
		conn_state st = P.conns[i].state;
		if (st == PC_UP || st == PC_CONNECTING || st == PC_PREPARING)
			return true;
	}
	return false;
}

/*
 * Send the pending jobs that a connection can take now, in order. A job
 * kept back keeps every later job of its lane back with it (P.pass marks
 * the lane), so lane order holds.
 */
static void dispatch_pending(void)
{
	jobq kept = {0};
	bool none_free = false;
	unsigned pass = ++P.pass;
	job *j;

	if (!P.pending.head)
		return;
	jobq_take(&kept, &P.pending);
	{
		jobq todo = kept;
		kept = (jobq){0};
		while ((j = jobq_pop(&todo))) {
			pool_lane *l = j->lane;
			pgconn *c = NULL;

			if (l && l->blocked == pass)
				c = NULL;
			else if (l && l->on_conn > 0)
				c = l->conn;
			else if (!none_free && !(c = pick_conn(l)))
				none_free = true;
			if (!c) {
				if (l)
					l->blocked = pass;
				jobq_push(&kept, j);
				continue;
			}
			if (l)
				l->npending--;
			conn_submit(c, j);
		}
	}
	jobq_take(&P.pending, &kept);
}

/* No connection is up or coming up: fail what is pending (retriable). */
/* No connection is up or coming up: the job fails (retriable) with why the
 * first of them is down, from the pool's fail queue. */
static void fail_down(job *j)
{
	char msg[512];
	const char *why = NULL;

	for (int i = 0; i < P.size && !why; i++)
		why = P.conns[i].last_error;
	snprintf(msg, sizeof(msg), "no connection to PostgreSQL: %s", why ? why : "connecting");
	job_set_error(j, msg, NULL, true);
	j->invalid = true; /* keep that error */
	jobq_push(&P.failq, j);
}

static void fail_pending_if_down(void)
{
	job *j;

	if (!P.pending.head || pool_may_come_up())
		return;
	while ((j = jobq_pop(&P.pending))) {
		if (j->lane)
			j->lane->npending--;
		fail_down(j);
	}
	event_active(P.ev_fail, EV_TIMEOUT, 0);
}

static void on_pool_fail_queue(evutil_socket_t fd, short what, void *arg)
{
	jobq dead = {0};
	job *j;

	(void)fd;
	(void)what;
	(void)arg;
	/* Jobs submitted by these callbacks wait for the next round. */
	jobq_take(&dead, &P.failq);
	while ((j = jobq_pop(&dead)))
		job_fail(j, "no connection to PostgreSQL", true);
}

/* Append j to c's pipeline (or its wait or fail queue): one connection. */
static void conn_submit(pgconn *c, job *j)
{
	pool_lane *l = j->lane;

	j->conn = c;
	if (l) {
		l->conn = c;
		l->last = c;
		l->on_conn++;
	}
	/* libpq still holds output: the job waits its turn (Buffers, top). */
	if (c->state == PC_UP && !c->broken && (c->flush_pending || c->waitq.head)) {
		jobq_push(&c->waitq, j);
		return;
	}
	if (c->state == PC_UP && !c->broken) {
		if (job_send(c, j)) {
			sent_push(c, j);
			if (conn_flush(c) < 0) {
				c->broken = true;
				event_active(c->ev_fail, EV_TIMEOUT, 0);
			}
			return;
		}
		/* The pipeline now holds part of this job: the connection is
		 * unusable. Tear it down from the loop. */
		c->broken = true;
	}
	/* A connection still being set up holds the job until it knows. One
	 * that is down and waiting to retry fails it at once (retriable). */
	if (!c->broken && (c->state == PC_CONNECTING || c->state == PC_PREPARING)) {
		jobq_push(&c->waitq, j);
		return;
	}
	jobq_push(&c->failq, j);
	event_active(c->ev_fail, EV_TIMEOUT, 0);
}

/* The job that starts running when it becomes the head of the pipeline. */
static void sent_push(pgconn *c, job *j)
{
	if (!c->sent.head)
		clock_gettime(CLOCK_MONOTONIC, &c->head_since);
	jobq_push(&c->sent, j);
	/* libpq's output held this job alone (Buffers, top of file). */
	if (j->bytes > BUF_BOUND)
		c->buffers_grown = true;
}

/* Send the jobs that waited for the connection to come up (conn_flush
 * sends them one after another as the output drains). */
static void conn_send_waiting(pgconn *c)
{
	if (conn_flush(c) < 0) {
		c->broken = true;
		event_active(c->ev_fail, EV_TIMEOUT, 0);
	}
}

/* ---- connecting ---- */

static void conn_start(pgconn *c)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {P.conninfo, "pg_kafka", NULL};

	c->pg = PQconnectStartParams(keywords, values, 1);
	if (!c->pg) {
		conn_fail(c, "out of memory", false);
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD || PQsocket(c->pg) < 0) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	c->state = PC_CONNECTING;
	arm_timer(c, CONNECT_TIMEOUT_MS);
	/* PQconnectStart behaves as if PQconnectPoll had said WRITING */
	conn_watch(c, EV_WRITE);
}

/* Wait for the socket PQconnectPoll uses now (it may change between calls). */
static void conn_watch(pgconn *c, short what)
{
	if (c->ev_io) {
		event_free(c->ev_io);
		c->ev_io = NULL;
	}
	c->ev_io = event_new(P.base, PQsocket(c->pg), what, on_connect_io, c);
	if (!c->ev_io || event_add(c->ev_io, NULL) < 0) {
		conn_fail(c, "cannot watch the connection socket", false);
		return;
	}
}

static void on_connect_io(evutil_socket_t fd, short what, void *arg)
{
	pgconn *c = arg;

	(void)fd;
	(void)what;
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		conn_watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		conn_watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		conn_connected(c);
		break;
	default:
		conn_fail(c, PQerrorMessage(c->pg), false);
		break;
	}
}

/* Connected: switch to pipeline mode and prepare every statement. */
static void conn_connected(pgconn *c)
{
	int sock = PQsocket(c->pg);
	job *prep;
	int n = 0;

	event_free(c->ev_io);
	c->ev_io = NULL;
	if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	c->ev_read = event_new(P.base, sock, EV_READ | EV_PERSIST, on_read, c);
	c->ev_write = event_new(P.base, sock, EV_WRITE, on_write, c);
	if (!c->ev_read || !c->ev_write || event_add(c->ev_read, NULL) < 0) {
		conn_fail(c, "cannot watch the connection socket", false);
		return;
	}

	for (int q = 0; q < P.nstmts; q++) {
		if (!P.stmts[q].name || !P.stmts[q].sql || !P.stmts[q].sql[0])
			continue;
		if (!PQsendPrepare(c->pg, P.stmts[q].name, P.stmts[q].sql, 0, NULL)) {
			conn_fail(c, PQerrorMessage(c->pg), false);
			return;
		}
		n++;
	}
	for (int q = 0; q < P.nstmts; q++) {
		if (!P.stmts[q].name || !P.stmts[q].sql || !runs_at_connect(q))
			continue;
		if (!PQsendQueryPrepared(c->pg, P.stmts[q].name, 0, NULL, NULL, NULL, 0)) {
			conn_fail(c, PQerrorMessage(c->pg), false);
			return;
		}
		n++;
	}
	if (!PQpipelineSync(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	prep = job_new_prepare(n, c);
	sent_push(c, prep);
	c->state = PC_PREPARING;
	if (conn_flush(c) < 0)
		conn_fail(c, PQerrorMessage(c->pg), false);
}

static void prepare_done(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
			 bool retriable)
{
	pgconn *c = arg;
	const char *failed = "?";

	(void)sqlstate;
	(void)retriable;
	if (c->state != PC_PREPARING) {
		/* failed with the connection, or at shutdown */
		return;
	}
	if (err) {
		/* Name the statement that failed: the n-th defined one, then
		 * the pool_at_connect() ones run after them. */
		int k = 0;
		for (int pass = 0; pass < 2 && !strcmp(failed, "?"); pass++) {
			for (int q = 0; q < P.nstmts; q++) {
				if (!P.stmts[q].name || !P.stmts[q].sql ||
				    (pass == 1 && !runs_at_connect(q)))
					continue;
				if (k < n && res[k] &&
				    PQresultStatus(res[k]) == PGRES_FATAL_ERROR) {
					failed = P.stmts[q].name;
					break;
				}
				k++;
			}
		}
		/* An SQL error here is a deployment problem (schema missing or
		 * too old): say so once, not on every retry. */
		if (!P.prepare_error_logged || strcmp(P.prepare_error_logged, err) != 0) {
			log_error("pool[%d]: cannot prepare statement %s: %s (is the pg_kafka "
				  "extension installed and up to date?); retrying",
				  c->id, failed, err);
			free(P.prepare_error_logged);
			P.prepare_error_logged = strdup(err);
		}
		conn_fail(c, err, true);
		return;
	}

	c->state = PC_UP;
	event_del(c->ev_timer);
	c->backoff_ms = BACKOFF_MIN_MS;
	if (c->reopening)
		log_debug("pool[%d]: reopened to free its buffers (backend pid %d)", c->id,
			  PQbackendPID(c->pg));
	else if (c->ever_up)
		log_info("pool[%d]: connection to PostgreSQL back after %.1f s", c->id,
			 seconds_since(&c->down_since));
	else
		log_info("pool[%d]: connected to PostgreSQL (server version %d, backend pid %d)",
			 c->id, PQserverVersion(c->pg), PQbackendPID(c->pg));
	c->ever_up = true;
	c->reopening = false;
	c->outage_logged = false;
	free(c->last_error);
	c->last_error = NULL;
	free(P.prepare_error_logged);
	P.prepare_error_logged = NULL;
	conn_send_waiting(c);
	dispatch_pending();
}

/* ---- I/O on a connected connection ---- */

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	pgconn *c = arg;

	(void)fd;
	(void)what;
	if (!PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	/* libpq may have been waiting for the socket to drain its output */
	if (c->flush_pending && conn_flush(c) < 0) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	conn_drain(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	pgconn *c = arg;

	(void)fd;
	(void)what;
	if (conn_flush(c) < 0)
		conn_fail(c, PQerrorMessage(c->pg), false);
}

/*
 * PQflush; re-arm the write event while data is left. Once libpq's output
 * is all in the socket, an up connection's waiting jobs go into the
 * pipeline, one at a time, each as the one before it has gone out.
 * Returns -1 on error.
 */
static int conn_flush(pgconn *c)
{
	for (;;) {
		int r = PQflush(c->pg);
		job *j;

		if (r < 0)
			return -1;
		c->flush_pending = r == 1;
		if (r == 1) {
			event_add(c->ev_write, NULL);
			return 0;
		}
		if (c->state != PC_UP || c->broken || !(j = jobq_pop(&c->waitq)))
			return 0;
		if (!job_send(c, j)) {
			/* Part of it may be in the pipeline: tear down from
			 * the loop, where it fails with the others. */
			jobq_push(&c->failq, j);
			c->broken = true;
			event_active(c->ev_fail, EV_TIMEOUT, 0);
			return 0;
		}
		sent_push(c, j);
	}
}

/*
 * Collect the results that have fully arrived. Per statement libpq returns
 * its result(s), then NULL; the Sync returns PGRES_PIPELINE_SYNC, which ends
 * the job at the head of the queue. After an error the remaining statements
 * of the job return PGRES_PIPELINE_ABORTED.
 */
static void conn_drain(pgconn *c)
{
	unsigned gen = c->gen;

	while (c->sent.head) {
		job *j = c->sent.head;
		PGresult *res;

		if (PQstatus(c->pg) == CONNECTION_BAD) {
			conn_fail(c, PQerrorMessage(c->pg), false);
			return;
		}
		if (PQisBusy(c->pg))
			break;
		res = PQgetResult(c->pg);
		if (!res) {
			if (j->cur < j->n) {
				j->cur++;
				continue;
			}
			break; /* nothing more yet */
		}
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(res);
			jobq_pop(&c->sent);
			clock_gettime(CLOCK_MONOTONIC, &c->head_since); /* the next one starts */
			job_finish(j);
			if (c->gen != gen)
				return; /* a callback's failure tore the connection down */
			dispatch_pending();
			if (c->gen != gen)
				return;
			continue;
		case PGRES_FATAL_ERROR:
			if (!j->err) {
				const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
				const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
				job_set_error(j, msg ? msg : PQresultErrorMessage(res), state,
					      state && sqlstate_retriable(state));
			}
			break;
		default:
			break;
		}
		note_result_size(c, res);
		if (j->cur < j->n && !j->res[j->cur])
			j->res[j->cur] = res;
		else
			PQclear(res);
	}
	if (c->pg && PQstatus(c->pg) == CONNECTION_BAD)
		conn_fail(c, PQerrorMessage(c->pg), false);
}

/* ---- giving libpq's buffers back ---- */

/* Mark c if res holds a row larger than BUF_BOUND: libpq's input buffer
 * had to hold that row's whole message. */
static void note_result_size(pgconn *c, const PGresult *res)
{
	int rows, cols;

	if (c->buffers_grown || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQresultMemorySize(res) <= BUF_BOUND)
		return;
	rows = PQntuples(res);
	cols = PQnfields(res);
	for (int r = 0; r < rows; r++) {
		size_t row = 0;
		for (int f = 0; f < cols; f++)
			row += (size_t)PQgetlength(res, r, f);
		if (row > BUF_BOUND) {
			c->buffers_grown = true;
			return;
		}
	}
}

int pool_shed_buffers(void)
{
	int reopened = 0;

	for (int i = 0; i < P.size; i++) {
		pgconn *c = &P.conns[i];

		if (c->state != PC_UP || c->broken || !c->buffers_grown || c->sent.head ||
		    c->waitq.head || c->failq.head)
			continue;
		/* No lane points here: a lane keeps a connection only while it
		 * has jobs on it. */
		conn_teardown(c);
		c->state = PC_WAITING;
		c->reopening = true;
		clock_gettime(CLOCK_MONOTONIC, &c->down_since);
		conn_start(c);
		reopened++;
	}
	return reopened;
}

/* ---- failure and reconnection ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	pgconn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == PC_WAITING)
		conn_start(c);
	else if (c->state == PC_CONNECTING || c->state == PC_PREPARING)
		conn_fail(c, "timed out connecting to PostgreSQL", false);
}

static void on_fail_queue(evutil_socket_t fd, short what, void *arg)
{
	pgconn *c = arg;
	jobq dead = {0};
	char msg[512];
	job *j;

	(void)fd;
	(void)what;
	if (c->broken && c->pg) {
		conn_fail(c, PQerrorMessage(c->pg), false);
		return;
	}
	snprintf(msg, sizeof(msg), "no connection to PostgreSQL: %s",
		 c->last_error ? c->last_error : "connecting");
	/* Jobs submitted by these callbacks wait for the next round. */
	jobq_take(&dead, &c->failq);
	while ((j = jobq_pop(&dead)))
		job_fail(j, msg, true);
}

/*
 * The connection is gone or unusable: fail every job it holds (each may or
 * may not have committed if its Sync result did not arrive), close it and
 * retry after the backoff. quiet: the caller already logged why.
 */
static void conn_fail(pgconn *c, const char *why, bool quiet)
{
	char *reason = pool_clean_message(why && *why ? why : "unknown error");
	char msg[600];
	jobq dead = {0};
	job *j;

	P.failures++;
	if (c->state == PC_UP) {
		if (!quiet)
			log_warn("pool[%d]: connection to PostgreSQL lost: %s; reconnecting", c->id,
				 reason);
		clock_gettime(CLOCK_MONOTONIC, &c->down_since);
		c->outage_logged = true;
	} else if (!quiet) {
		if (!c->outage_logged || !c->last_error || strcmp(c->last_error, reason) != 0)
			log_warn("pool[%d]: cannot connect to PostgreSQL: %s; retrying", c->id,
				 reason);
		else
			log_debug("pool[%d]: cannot connect to PostgreSQL: %s", c->id, reason);
		c->outage_logged = true;
	}
	free(c->last_error);
	c->last_error = reason;
	c->reopening = false;

	jobq_take(&dead, &c->sent);
	jobq_take(&dead, &c->waitq);
	jobq_take(&dead, &c->failq);
	conn_teardown(c);
	c->state = PC_WAITING;
	arm_timer(c, c->backoff_ms);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;

	snprintf(msg, sizeof(msg), "connection to PostgreSQL lost: %s", reason);
	while ((j = jobq_pop(&dead)))
		job_fail(j, msg, true);
	fail_pending_if_down();
	dispatch_pending(); /* what waited for room may go to the others */
}

static void conn_teardown(pgconn *c)
{
	if (c->ev_io) {
		event_free(c->ev_io);
		c->ev_io = NULL;
	}
	if (c->ev_read) {
		event_free(c->ev_read);
		c->ev_read = NULL;
	}
	if (c->ev_write) {
		event_free(c->ev_write);
		c->ev_write = NULL;
	}
	if (c->ev_timer)
		event_del(c->ev_timer);
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->gen++;
	c->broken = false;
	c->flush_pending = false;
	c->buffers_grown = false;
}

static void arm_timer(pgconn *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_add(c->ev_timer, &tv);
}

/* ---- jobs ---- */

/* The prepare job of a connection: n result slots, nothing to send. */
static job *job_new_prepare(int n, pgconn *c)
{
	job *j = calloc(1, JOB_HEADER_SIZE + (size_t)n * sizeof(PGresult *));

	if (!j) {
		log_error("pool: out of memory");
		abort();
	}
	j->res = (PGresult **)((char *)j + JOB_HEADER_SIZE);
	j->n = n;
	j->cb = prepare_done;
	j->arg = c;
	return j;
}

/* Queue the job's statements and its Sync in the pipeline. */
static bool job_send(pgconn *c, job *j)
{
	for (int i = 0; i < j->n; i++) {
		const db_stmt *s = &j->stmts[i];
		/* An entry without SQL runs its one parameter as the statement. */
		if (!P.stmts[s->q].sql[0]) {
			if (!PQsendQueryParams(c->pg, s->values[0], 0, NULL, NULL, NULL, NULL,
					       s->result_format))
				return false;
			continue;
		}
		if (!PQsendQueryPrepared(c->pg, P.stmts[s->q].name, s->nparams, s->values,
					 s->lengths, s->formats, s->result_format))
			return false;
	}
	return PQpipelineSync(c->pg) == 1;
}

/*
 * Run the callback, then free the results and the job. The lane lets go of
 * the connection first, so that a job the callback submits on the lane can
 * go to any connection when nothing else of the lane is left on this one.
 */
static void job_finish(job *j)
{
	pool_lane *l = j->lane;

	if (l && j->conn && --l->on_conn == 0)
		l->conn = NULL;
	if (j->cb)
		j->cb(j->arg, j->res, j->n, j->err, j->sqlstate[0] ? j->sqlstate : NULL,
		      j->err ? j->retriable : false);
	job_free(j);
	if (l) {
		l->queued--;
		lane_maybe_free(l);
	}
}

static void job_fail(job *j, const char *msg, bool retriable)
{
	if (!j->invalid)
		job_set_error(j, msg, NULL, retriable);
	job_finish(j);
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}
