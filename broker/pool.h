/*
 * The libpq pool: a fixed number of asynchronous PostgreSQL connections driven
 * by libevent, each in pipeline mode. A job is a list of prepared statements
 * sent back to back and ended by one Sync, so the statements of one job run in
 * one (implicit) transaction that has committed when the callback runs.
 *
 * Jobs are submitted on a lane: one per client connection. The jobs of one
 * lane run one after another in submission order; jobs of different lanes
 * are independent, and a job that waits (a lock, I/O) holds up only the jobs
 * of its own lane and at most a few others that were sent behind it before
 * it was seen to stall (pool.c says how). A job without a lane is ordered
 * with nothing.
 *
 * A connection that breaks fails its pending jobs with retriable = true and
 * reconnects by itself with backoff.
 */
#ifndef PGK_POOL_H
#define PGK_POOL_H

#include <stdbool.h>

#include <event2/event.h>
#include <libpq-fe.h>

typedef struct pool_lane pool_lane;

/* One statement of the table the pool prepares on every connection. */
typedef struct pool_statement {
	const char *name; /* prepared statement name; NULL: an unused entry */
	const char *sql;  /* "": not prepared; its one parameter is the statement,
			   * sent as it is (utility commands that take no
			   * parameters, such as DETACH PARTITION ... CONCURRENTLY) */
	int nparams;
} pool_statement;

typedef struct db_stmt {
	int q;                 /* index of the statement in the pool's table */
	int nparams;           /* must match its nparams */
	const char *const *values;
	const int *lengths;
	const int *formats;    /* NULL: all text */
	int result_format;     /* 0 text, 1 binary */
} db_stmt;

/*
 * Called once per job. On success err is NULL and res[i] is the result of
 * stmts[i]. On failure err says why (a PostgreSQL error message or
 * "connection lost"), res entries may be NULL, sqlstate is the SQLSTATE if
 * the server reported one, and retriable tells whether the job may succeed if
 * retried (connection trouble) or not (a constraint, a bad value).
 * The results are freed when the callback returns, except those the
 * callback takes by setting res[i] to NULL (it must PQclear them).
 */
typedef void (*db_done_fn)(void *arg, PGresult **res, int n, const char *err,
			   const char *sqlstate, bool retriable);

/* Start size connections to conninfo, each preparing the nstmts statements
 * of stmts (which must outlive the pool). Returns 0, or -1 (logged) if
 * conninfo cannot be parsed. */
int pool_init(struct event_base *base, const char *conninfo, int size,
	      const pool_statement *stmts, int nstmts);
/* Also run statement q of the table (it takes no parameters) on every
 * connection when it comes up, after preparing and before the connection
 * takes any job; at most POOL_AT_CONNECT_MAX of them, kept across
 * pool_init calls. */
#define POOL_AT_CONNECT_MAX 4
void pool_at_connect(int q);
void pool_shutdown(void);
/* A new lane (never NULL). */
pool_lane *pool_lane_new(void);
/* The lane's owner is done with it; jobs already submitted still run. */
void pool_lane_free(pool_lane *l);
/* True if at least one pool connection is up. */
bool pool_available(void);
/* For the metrics: connections up and in total, jobs queued (sent and not
 * yet answered, waiting for their connection to come up, or pending until
 * a connection can take them), and connection failures (lost or failed
 * attempts, each followed by a reconnect). */
typedef struct pool_stats {
	int up, total;
	long queued;
	unsigned long failures;
} pool_stats;
void pool_get_stats(pool_stats *out);
/*
 * Queue a job on lane l (NULL: no ordering). The parameter arrays are
 * copied, so the caller may free them after this returns. The callback
 * never runs inside db_submit.
 */
void db_submit(pool_lane *l, const db_stmt *stmts, int n, db_done_fn cb, void *arg);
/*
 * Close and reopen, at once, every connection with nothing in flight whose
 * libpq buffers may have grown past a bound (see pool.c): libpq never
 * shrinks them. Meant for when the broker is idle. Returns how many.
 */
int pool_shed_buffers(void);

#endif
