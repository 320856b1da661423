/*
 * Tests of pool.c against a real PostgreSQL, named by the PGK_TEST_PG
 * conninfo (skipped when it is unset). Needs pool.c, log.c and config.c;
 * the pool prepares the test's own statement table (stmts below).
 *
 * Checked: many jobs complete in submission order with the right results;
 * an SQL error reports its SQLSTATE, aborts the rest of its job only, and is
 * not retriable; parameters are copied; callbacks never run inside
 * db_submit; a backend terminated by the server fails its jobs as
 * retriable, the other connection takes the work and the pool reconnects;
 * a job that waits holds up its own lane only; jobs wait in the pool when
 * every connection is stalled; pool_shutdown fails pending jobs;
 * pool_shed_buffers reopens exactly the idle connections that carried more
 * than its bound, and jobs keep running meanwhile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "pool.h"

/* The statements this test has the pool prepare. */
enum { STUB_ADD, STUB_DIVIDE, STUB_SLEEP, STUB_PID, STUB_REPEAT, STUB_COUNT };
static const pool_statement stmts[STUB_COUNT] = {
	[STUB_ADD] = {"pgk_test_add", "SELECT $1::int + 1", 1},
	/* '' raises 22012 */
	[STUB_DIVIDE] = {"pgk_test_divide", "SELECT 100 / length($1::text)", 1},
	[STUB_SLEEP] = {"pgk_test_sleep", "SELECT pg_sleep($1::float8)", 1},
	[STUB_PID] = {"pgk_test_pid", "SELECT pg_backend_pid()", 0},
	[STUB_REPEAT] = {"pgk_test_repeat", "SELECT repeat('x', $1::int)", 1},
};

#define NJOBS 2000

static const char *conninfo;
static struct event_base *base;
static bool in_submit; /* callbacks must never run inside db_submit */
static bool callback_in_submit;
static bool timed_out;

/* One job's outcome, recorded by the callback. */
typedef struct outcome {
	bool done;
	int seq; /* completion order */
	int n;
	int status[4];
	char value[4][32]; /* first field of each result, "" if none/NULL */
	bool is_null[4];
	char err[256];
	char sqlstate[6];
	bool has_err;
	bool retriable;
} outcome;

static int completions;
static pool_lane *lanes[64]; /* freed by teardown */
static int nlanes;

/* A lane that teardown frees. */
static pool_lane *lane(void)
{
	assert_true(nlanes < (int)(sizeof(lanes) / sizeof(lanes[0])));
	return lanes[nlanes++] = pool_lane_new();
}

static void record(void *arg, PGresult **res, int n, const char *err, const char *sqlstate,
		   bool retriable)
{
	outcome *o = arg;

	if (in_submit)
		callback_in_submit = true;
	o->done = true;
	o->seq = completions++;
	o->n = n;
	for (int i = 0; i < n && i < 4; i++) {
		o->status[i] = res[i] ? (int)PQresultStatus(res[i]) : -1;
		o->value[i][0] = '\0';
		o->is_null[i] = true;
		if (res[i] && PQresultStatus(res[i]) == PGRES_TUPLES_OK && PQntuples(res[i]) > 0 &&
		    !PQgetisnull(res[i], 0, 0)) {
			snprintf(o->value[i], sizeof(o->value[i]), "%s", PQgetvalue(res[i], 0, 0));
			o->is_null[i] = false;
		}
	}
	o->has_err = err != NULL;
	snprintf(o->err, sizeof(o->err), "%s", err ? err : "");
	snprintf(o->sqlstate, sizeof(o->sqlstate), "%s", sqlstate ? sqlstate : "");
	o->retriable = retriable;
}

static void submit(pool_lane *c, const db_stmt *stmts, int n, outcome *o)
{
	memset(o, 0, sizeof(*o));
	in_submit = true;
	db_submit(c, stmts, n, record, o);
	in_submit = false;
	assert_false(o->done);
}

/* A one-statement job with at most one text parameter. */
static void submit1(pool_lane *c, int q, const char *param, outcome *o)
{
	const char *values[1] = {param};
	db_stmt s = {.q = q, .nparams = q == STUB_PID ? 0 : 1, .values = values};
	submit(c, &s, 1, o);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timed_out = true;
}

typedef bool (*cond_fn)(void *arg);

/* Run the event loop until cond holds; fail the test after seconds. */
static void run_until(cond_fn cond, void *arg, double seconds)
{
	struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
	struct event *t = evtimer_new(base, on_timeout, NULL);

	timed_out = false;
	evtimer_add(t, &tv);
	while (!cond(arg) && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	assert_false(timed_out);
}

static bool cond_done(void *arg) { return ((outcome *)arg)->done; }
static bool cond_available(void *arg)
{
	(void)arg;
	return pool_available();
}
static bool cond_count(void *arg) { return completions >= *(int *)arg; }

/* Let the loop run for a while (timing out is the point here). */
static void run_for(double seconds)
{
	struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
	struct event *t = evtimer_new(base, on_timeout, NULL);

	timed_out = false;
	evtimer_add(t, &tv);
	while (!timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
}

static int setup(void **state)
{
	(void)state;
	if (!conninfo)
		return 0;
	base = event_base_new();
	assert_non_null(base);
	completions = 0;
	callback_in_submit = false;
	assert_int_equal(pool_init(base, conninfo, 2, stmts, STUB_COUNT), 0);
	run_until(cond_available, NULL, 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!conninfo)
		return 0;
	pool_shutdown();
	event_base_free(base);
	base = NULL;
	while (nlanes > 0)
		pool_lane_free(lanes[--nlanes]);
	assert_false(callback_in_submit);
	return 0;
}

#define REQUIRE_PG()                                                                               \
	do {                                                                                       \
		if (!conninfo)                                                                     \
			skip();                                                                    \
	} while (0)

static void test_results_in_order(void **state)
{
	(void)state;
	REQUIRE_PG();
	static outcome out[NJOBS];
	pool_lane *c[2] = {lane(), lane()};
	int target = NJOBS;

	for (int i = 0; i < NJOBS; i++) {
		char a[16], b[16];
		const char *va[1] = {a}, *vb[1] = {b};
		db_stmt s[2] = {
			{.q = STUB_ADD, .nparams = 1, .values = va},
			{.q = STUB_ADD, .nparams = 1, .values = vb},
		};
		snprintf(a, sizeof(a), "%d", i);
		snprintf(b, sizeof(b), "%d", -i);
		submit(c[i % 2], s, 1 + i % 2, &out[i]);
		/* the parameters were copied: clobber them */
		memset(a, 'x', sizeof(a) - 1);
		memset(b, 'x', sizeof(b) - 1);
	}
	run_until(cond_count, &target, 60);

	int last_seq[2] = {-1, -1};
	for (int i = 0; i < NJOBS; i++) {
		char want[16];
		assert_true(out[i].done);
		assert_false(out[i].has_err);
		assert_int_equal(out[i].n, 1 + i % 2);
		snprintf(want, sizeof(want), "%d", i + 1);
		assert_string_equal(out[i].value[0], want);
		if (i % 2) {
			snprintf(want, sizeof(want), "%d", -i + 1);
			assert_string_equal(out[i].value[1], want);
		}
		/* in submission order on each lane */
		assert_true(out[i].seq > last_seq[i % 2]);
		last_seq[i % 2] = out[i].seq;
	}
}

static void test_sql_error(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *c = lane();
	const char *one[1] = {"1"}, *empty[1] = {""}, *two[1] = {"2"};
	db_stmt s[3] = {
		{.q = STUB_ADD, .nparams = 1, .values = one},
		{.q = STUB_DIVIDE, .nparams = 1, .values = empty},
		{.q = STUB_ADD, .nparams = 1, .values = two},
	};
	outcome bad, after, divided;

	submit(c, s, 3, &bad);
	submit1(c, STUB_ADD, "41", &after);
	submit1(c, STUB_DIVIDE, "abcd", &divided);
	run_until(cond_done, &divided, 10);

	assert_true(bad.done);
	assert_true(bad.has_err);
	assert_string_equal(bad.sqlstate, "22012");
	assert_non_null(strstr(bad.err, "division by zero"));
	assert_false(bad.retriable);
	assert_int_equal(bad.status[0], PGRES_TUPLES_OK);
	assert_string_equal(bad.value[0], "2");
	assert_int_equal(bad.status[1], PGRES_FATAL_ERROR);
	assert_int_equal(bad.status[2], PGRES_PIPELINE_ABORTED);

	/* the error ended with its job: the next ones run normally */
	assert_true(after.done);
	assert_false(after.has_err);
	assert_string_equal(after.value[0], "42");
	assert_false(divided.has_err);
	assert_string_equal(divided.value[0], "25");
	assert_true(bad.seq < after.seq && after.seq < divided.seq);
}

static void test_null_and_binary_params(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *c = lane();
	outcome null_out, bin_out, empty_out;
	const char *nullv[1] = {NULL};
	/* int4 7 in binary */
	static const char bin7[4] = {0, 0, 0, 7};
	const char *binv[1] = {bin7};
	int len[1] = {4}, fmt[1] = {1};
	db_stmt sn = {.q = STUB_ADD, .nparams = 1, .values = nullv};
	db_stmt sb = {.q = STUB_ADD, .nparams = 1, .values = binv, .lengths = len, .formats = fmt};

	submit(c, &sn, 1, &null_out);
	submit(c, &sb, 1, &bin_out);
	submit(c, NULL, 0, &empty_out);
	run_until(cond_done, &empty_out, 10);
	assert_false(null_out.has_err);
	assert_true(null_out.is_null[0]);
	assert_false(bin_out.has_err);
	assert_string_equal(bin_out.value[0], "8");
	assert_false(empty_out.has_err);
	assert_int_equal(empty_out.n, 0);
}

/* Parameters far larger than the socket buffers: libpq's output is flushed
 * in pieces on EV_WRITE while results keep arriving. The jobs go into libpq
 * one at a time as it drains, so its buffers never held more than one of
 * them: nothing is left to shed, though 20 MiB were pipelined at once. */
static void test_large_params(void **state)
{
	(void)state;
	REQUIRE_PG();
	enum { N = 40, SIZE = 1 << 20 };
	static outcome out[N];
	pool_lane *c = lane();
	char *big = malloc(SIZE + 1);
	int target;

	assert_non_null(big);
	for (int i = 0; i < N; i++) {
		/* 100 / length: length 20 + i for odd jobs, about 1 MiB for even ones */
		size_t len = i % 2 ? (size_t)(20 + i) : SIZE - (size_t)i;
		memset(big, 'a' + i % 26, len);
		big[len] = '\0';
		submit1(c, STUB_DIVIDE, big, &out[i]);
	}
	free(big);
	target = completions + N;
	run_until(cond_count, &target, 60);
	for (int i = 0; i < N; i++) {
		char want[16];
		assert_false(out[i].has_err);
		snprintf(want, sizeof(want), "%d", i % 2 ? 100 / (20 + i) : 0);
		assert_string_equal(out[i].value[0], want);
		if (i > 0)
			assert_true(out[i].seq > out[i - 1].seq);
	}
	assert_int_equal(pool_shed_buffers(), 0);
}

static void test_bad_statement(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *c = lane();
	outcome o;
	db_stmt s = {.q = STUB_ADD, .nparams = 2, .values = NULL};

	submit(c, &s, 1, &o);
	run_until(cond_done, &o, 5);
	assert_true(o.has_err);
	assert_false(o.retriable);
	assert_non_null(strstr(o.err, "internal error"));
}

/*
 * Wait until two distinct backends (neither of them `gone`) serve the pool:
 * one holds a lane's short sleep while another lane asks for its pid.
 */
static void both_up(int gone)
{
	pool_lane *x = lane(), *y = lane();
	outcome px, sx, py;

	for (int attempt = 0;; attempt++) {
		assert_true(attempt < 100);
		submit1(x, STUB_PID, NULL, &px);
		submit1(x, STUB_SLEEP, "0.3", &sx);
		run_until(cond_done, &px, 10);
		run_for(0.05); /* past STALL_MS: the sleeping connection takes no new lane */
		submit1(y, STUB_PID, NULL, &py);
		run_until(cond_done, &sx, 10);
		run_until(cond_done, &py, 10);
		if (!px.has_err && !py.has_err && atoi(px.value[0]) != atoi(py.value[0]) &&
		    atoi(px.value[0]) != gone && atoi(py.value[0]) != gone)
			return;
		run_for(0.1);
	}
}

static void test_backend_terminated(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *c = lane();
	outcome pidq, sleeping, queued, elsewhere;
	int pid;
	PGconn *admin;
	PGresult *r;
	char sql[64];

	both_up(-1);
	/* One lane: all three on one connection, in order. */
	submit1(c, STUB_PID, NULL, &pidq);
	submit1(c, STUB_SLEEP, "30", &sleeping);
	submit1(c, STUB_ADD, "1", &queued);
	run_until(cond_done, &pidq, 10);
	assert_false(pidq.has_err);
	pid = atoi(pidq.value[0]);
	assert_false(sleeping.done);

	admin = PQconnectdb(conninfo);
	assert_int_equal(PQstatus(admin), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	r = PQexec(admin, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	PQfinish(admin);

	run_until(cond_done, &queued, 10);
	assert_true(sleeping.done);
	assert_true(sleeping.has_err);
	assert_true(sleeping.retriable);
	assert_non_null(strstr(sleeping.err, "connection to PostgreSQL lost"));
	assert_true(queued.has_err);
	assert_true(queued.retriable);
	assert_true(sleeping.seq < queued.seq);

	/* While that one is down the lane's next job goes to the other one. */
	submit1(c, STUB_PID, NULL, &elsewhere);
	run_until(cond_done, &elsewhere, 5);
	assert_false(elsewhere.has_err);
	assert_int_not_equal(atoi(elsewhere.value[0]), pid);

	/* And the connection comes back by itself. */
	both_up(pid);
}

/*
 * A connection that carried a large parameter, and one that received a
 * large row, are reopened by pool_shed_buffers (new backends); one that
 * carried only small jobs is not.
 */
static void test_shed_buffers(void **state)
{
	(void)state;
	REQUIRE_PG();
	enum { BIG = 5 << 20 }; /* above the pool's 4 MiB bound */
	pool_lane *c = lane();
	outcome before, big, after, again;
	char *param = malloc(BIG + 1);
	int pid;

	assert_non_null(param);
	submit1(c, STUB_PID, NULL, &before);
	run_until(cond_done, &before, 10);
	assert_false(before.has_err);
	assert_int_equal(pool_shed_buffers(), 0);

	/* One lane, submitted together: all three on one connection. */
	memset(param, 'a', BIG);
	param[BIG] = '\0';
	submit1(c, STUB_PID, NULL, &before);
	submit1(c, STUB_DIVIDE, param, &big);
	submit1(c, STUB_PID, NULL, &after);
	free(param);
	run_until(cond_done, &after, 30);
	assert_false(big.has_err);
	assert_string_equal(big.value[0], "0");
	pid = atoi(before.value[0]);
	assert_int_equal(atoi(after.value[0]), pid);

	assert_int_equal(pool_shed_buffers(), 1);
	assert_int_equal(pool_shed_buffers(), 0);
	/* A job right away goes to the other connection or waits. */
	submit1(c, STUB_PID, NULL, &again);
	run_until(cond_done, &again, 10);
	assert_false(again.has_err);
	both_up(pid);

	/* A large row received: the same. */
	submit1(c, STUB_PID, NULL, &before);
	submit1(c, STUB_REPEAT, "5242880", &big);
	run_until(cond_done, &big, 30);
	assert_false(big.has_err);
	assert_int_equal(strspn(big.value[0], "x"), strlen(big.value[0]));
	assert_true(strlen(big.value[0]) > 0);
	pid = atoi(before.value[0]);
	assert_int_equal(pool_shed_buffers(), 1);
	both_up(pid);
}

/* Completion count of outcomes[0..n). */
typedef struct batch {
	outcome *o;
	int n;
} batch;

static bool cond_batch(void *arg)
{
	batch *b = arg;
	for (int i = 0; i < b->n; i++)
		if (!b->o[i].done)
			return false;
	return true;
}

/*
 * One lane's job waits (a 3 s sleep stands in for a lock): the jobs of
 * other lanes, more lanes than connections, finish meanwhile, and the
 * waiting lane's own next job waits behind it.
 */
static void test_no_head_of_line_blocking(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *slow = lane();
	outcome sleeping, behind, others[12];
	batch b = {others, 12};

	both_up(-1);
	submit1(slow, STUB_SLEEP, "3", &sleeping);
	submit1(slow, STUB_ADD, "7", &behind);
	run_for(0.1); /* the sleep has run past STALL_MS */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 12; i++) {
			pool_lane *l = pool_lane_new();
			submit1(l, STUB_ADD, "1", &others[i]);
			pool_lane_free(l); /* its job still runs */
		}
		run_until(cond_batch, &b, 2.5);
		for (int i = 0; i < 12; i++)
			assert_false(others[i].has_err);
		assert_false(sleeping.done);
		assert_false(behind.done);
	}
	run_until(cond_done, &behind, 10);
	assert_false(sleeping.has_err);
	assert_false(behind.has_err);
	assert_string_equal(behind.value[0], "8");
	assert_true(sleeping.seq < behind.seq);
}

/*
 * A lane whose jobs come one at a time goes back to the backend that ran
 * its last job while that one is idle, though another idle connection
 * comes first in the pool: its caches are warm there (without this, a
 * client sending one request per millisecond cost PostgreSQL a sixth more
 * CPU, and its acknowledgements took twice as long).
 */
static void test_lane_keeps_its_backend(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *a = lane(), *s = lane();
	outcome sleeping, first, next;

	both_up(-1);
	/* The sleep takes one connection, so a's job goes to the other. */
	submit1(s, STUB_SLEEP, "0.3", &sleeping);
	submit1(a, STUB_PID, NULL, &first);
	run_until(cond_done, &first, 10);
	assert_false(first.has_err);
	run_until(cond_done, &sleeping, 10);
	/* Both idle now: a stays where it was, every time. */
	for (int i = 0; i < 6; i++) {
		submit1(a, STUB_PID, NULL, &next);
		run_until(cond_done, &next, 10);
		assert_false(next.has_err);
		assert_string_equal(next.value[0], first.value[0]);
	}
}

/*
 * One connection, stalled: jobs of other lanes wait in the pool (not on
 * the connection) and run afterwards, each lane's in order; a lane freed
 * with jobs pending still gets its callbacks.
 */
static void test_pending_when_all_stalled(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *slow, *a, *b;
	outcome sleeping, fa[3], fb[3];
	batch all = {fb, 3};

	pool_shutdown();
	assert_int_equal(pool_init(base, conninfo, 1, stmts, STUB_COUNT), 0);
	run_until(cond_available, NULL, 20);
	slow = lane();
	a = pool_lane_new(); /* freed below, jobs still pending */
	b = lane();
	submit1(slow, STUB_SLEEP, "0.5", &sleeping);
	run_for(0.1);
	for (int i = 0; i < 3; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", i);
		submit1(a, STUB_ADD, v, &fa[i]);
		submit1(b, STUB_ADD, v, &fb[i]);
	}
	pool_lane_free(a);
	run_until(cond_batch, &all, 10);
	assert_true(sleeping.done);
	for (int i = 0; i < 3; i++) {
		assert_true(fa[i].done);
		assert_false(fa[i].has_err);
		assert_false(fb[i].has_err);
		assert_true(fa[i].seq > sleeping.seq);
		if (i > 0) {
			assert_true(fa[i].seq > fa[i - 1].seq);
			assert_true(fb[i].seq > fb[i - 1].seq);
		}
	}
}

static void test_shutdown_fails_pending(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_lane *c = lane();
	outcome sleeping;

	submit1(c, STUB_SLEEP, "30", &sleeping);
	run_for(0.2);
	pool_shutdown();
	assert_true(sleeping.done);
	assert_true(sleeping.has_err);
	assert_true(sleeping.retriable);
	/* teardown's pool_shutdown is a no-op now; start a fresh pool for it */
	assert_int_equal(pool_init(base, conninfo, 1, stmts, STUB_COUNT), 0);
}

static void test_unreachable_server(void **state)
{
	(void)state;
	REQUIRE_PG();
	outcome o;

	/* replace the fixture's pool with one that cannot connect */
	pool_shutdown();
	assert_int_equal(
		pool_init(base, "host=127.0.0.1 port=1 connect_timeout=2", 1, stmts, STUB_COUNT), 0);
	submit1(lane(), STUB_ADD, "1", &o);
	run_until(cond_done, &o, 5);
	assert_true(o.has_err);
	assert_true(o.retriable);
	assert_false(pool_available());
}

static void test_bad_conninfo(void **state)
{
	(void)state;
	REQUIRE_PG();
	pool_shutdown();
	assert_int_equal(pool_init(base, "this is not a conninfo", 1, stmts, STUB_COUNT), -1);
	assert_int_equal(pool_init(base, conninfo, 1, stmts, STUB_COUNT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_results_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sql_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_and_binary_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_statement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shed_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_head_of_line_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lane_keeps_its_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_when_all_stalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_fails_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_conninfo, setup, teardown),
	};

	conninfo = getenv("PGK_TEST_PG");
	if (conninfo && !*conninfo)
		conninfo = NULL;
	if (!conninfo)
		fprintf(stderr, "test_pool: PGK_TEST_PG is not set (a libpq conninfo of a scratch "
				"database); skipping the PostgreSQL pool tests\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
