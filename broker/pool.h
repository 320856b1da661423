/*
 * The libpq pool: a fixed number of asynchronous PostgreSQL connections driven
 * by libevent, each in pipeline mode. A job is a list of prepared statements
 * sent back to back and ended by one Sync, so the statements of one job run in
 * one (implicit) transaction that has committed when the callback runs.
 * Jobs on one connection complete in submission order, so all work of one
 * client connection (which is pinned to one pool connection) stays in order.
 *
 * A connection that breaks fails its pending jobs with retriable = true and
 * reconnects by itself with backoff.
 */
#ifndef PGK_POOL_H
#define PGK_POOL_H

#include <stdbool.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "queries.h"

typedef struct pgconn pgconn;

typedef struct db_stmt {
	query_id q;            /* which prepared statement */
	int nparams;           /* must match queries[q].nparams */
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

int pool_init(struct event_base *base, const char *conninfo, int size);
void pool_shutdown(void);
/* The connection a new client connection should use (least loaded). */
pgconn *pool_pick(void);
/* True if at least one pool connection is up. */
bool pool_available(void);
/*
 * Queue a job. The parameter arrays are copied, so the caller may free them
 * after this returns. The callback never runs inside db_submit.
 */
void db_submit(pgconn *c, const db_stmt *stmts, int n, db_done_fn cb, void *arg);

#endif
