/*
 * The pool's jobs (private to pool.c): a job is a copy of the statements a
 * caller submitted, their parameters and their result slots, in one
 * allocation, so the caller's buffers may go away as soon as db_submit()
 * returns. Also the FIFO the pool keeps jobs in, and the one-line form of a
 * libpq message the pool logs and hands to callbacks.
 */
#ifndef PGK_POOL_JOB_H
#define PGK_POOL_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pool.h"

struct pgconn;

typedef struct job {
	struct job *next;
	pool_lane *lane;     /* NULL: unordered */
	struct pgconn *conn; /* where it was sent; NULL while pending */
	db_done_fn cb;
	void *arg;
	int n;
	size_t bytes;   /* parameter bytes (pool.c's bound on libpq buffers) */
	db_stmt *stmts; /* copies, in the same allocation */
	PGresult **res; /* res[i]: first result of stmts[i] */
	int cur;        /* statement whose results are arriving */
	char *err;      /* first error, malloc'd; NULL on success */
	char sqlstate[6];
	bool retriable;
	bool invalid; /* rejected by db_submit; err says why */
} job;

typedef struct jobq {
	job *head, *tail;
	int n;
} jobq;

/* Bytes before a job's result slots: the job itself, 8-byte aligned. */
#define JOB_HEADER_SIZE ((sizeof(job) + 7) & ~(size_t)7)

/* A job of n statements checked against the statement table: one that does
 * not match it is returned marked invalid, with err set, and is never sent. */
job *job_new(const pool_statement *table, int ntable, const db_stmt *stmts, int n, db_done_fn cb,
	     void *arg);
void job_set_error(job *j, const char *msg, const char *sqlstate, bool retriable);
/* Frees the results, the error and the job (not its callback's argument). */
void job_free(job *j);

void jobq_push(jobq *q, job *j);
job *jobq_pop(jobq *q);
/* Append all of src to dst, leaving src empty. */
void jobq_take(jobq *dst, jobq *src);

/* A malloc'd copy of a libpq message on one line. */
char *pool_clean_message(const char *msg);

#endif
