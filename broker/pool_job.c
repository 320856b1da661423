/*
 * The pool's jobs: one allocation per submitted job, the job FIFO, and
 * libpq messages on one line (see pool_job.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool_job.h"

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/*
 * Copy a job into one allocation: the job, its result slots, its statements,
 * their parameter arrays and the parameter bytes. A statement that does not
 * match the statement table makes the job invalid (it fails without being sent).
 */
job *job_new(const pool_statement *table, int ntable, const db_stmt *stmts, int n, db_done_fn cb,
	     void *arg)
{
	const char *invalid = NULL;
	size_t size, params_size = 0, bytes = 0;
	char *p, *data;
	job *j;

	if (n < 0) {
		invalid = "negative statement count";
		n = 0;
	}
	for (int i = 0; i < n && !invalid; i++) {
		const db_stmt *s = &stmts[i];
		if (s->q < 0 || s->q >= ntable || !table[s->q].sql) {
			invalid = "unknown statement";
			break;
		}
		if (s->nparams != table[s->q].nparams || (s->nparams > 0 && !s->values)) {
			invalid = "wrong number of parameters";
			break;
		}
		params_size += align8((size_t)s->nparams * sizeof(char *)) +
			       2 * align8((size_t)s->nparams * sizeof(int));
		for (int k = 0; k < s->nparams; k++) {
			bool binary = s->formats && s->formats[k] == 1;
			if (!s->values[k])
				continue;
			if (binary && (!s->lengths || s->lengths[k] < 0)) {
				invalid = "binary parameter without a length";
				break;
			}
			bytes += (binary ? (size_t)s->lengths[k] : strlen(s->values[k])) + 1;
		}
	}
	if (invalid) {
		n = 0;
		params_size = 0;
		bytes = 0;
	}

	size = align8(sizeof(job)) + align8((size_t)n * sizeof(PGresult *)) +
	       align8((size_t)n * sizeof(db_stmt)) + params_size + bytes;
	p = calloc(1, size);
	if (!p) {
		log_error("pool: out of memory");
		abort();
	}
	j = (job *)p;
	p += align8(sizeof(job));
	j->res = (PGresult **)p;
	p += align8((size_t)n * sizeof(PGresult *));
	j->stmts = (db_stmt *)p;
	p += align8((size_t)n * sizeof(db_stmt));
	data = p + params_size;

	j->cb = cb;
	j->arg = arg;
	j->n = n;
	j->bytes = bytes;
	for (int i = 0; i < n; i++) {
		const db_stmt *s = &stmts[i];
		db_stmt *d = &j->stmts[i];
		const char **values = (const char **)p;
		int *lengths, *formats;

		p += align8((size_t)s->nparams * sizeof(char *));
		lengths = (int *)p;
		p += align8((size_t)s->nparams * sizeof(int));
		formats = (int *)p;
		p += align8((size_t)s->nparams * sizeof(int));

		*d = *s;
		for (int k = 0; k < s->nparams; k++) {
			bool binary = s->formats && s->formats[k] == 1;
			size_t len;

			formats[k] = binary ? 1 : 0;
			if (!s->values[k]) {
				values[k] = NULL;
				lengths[k] = 0;
				continue;
			}
			len = binary ? (size_t)s->lengths[k] : strlen(s->values[k]);
			memcpy(data, s->values[k], len);
			data[len] = '\0';
			values[k] = data;
			lengths[k] = (int)len;
			data += len + 1;
		}
		d->values = values;
		d->lengths = lengths;
		d->formats = s->formats ? formats : NULL;
	}
	if (invalid) {
		char msg[128];
		snprintf(msg, sizeof(msg), "internal error: %s in a database job", invalid);
		log_error("pool: %s", msg);
		job_set_error(j, msg, NULL, false);
		j->invalid = true;
	}
	return j;
}

void job_set_error(job *j, const char *msg, const char *sqlstate, bool retriable)
{
	free(j->err);
	j->err = pool_clean_message(msg);
	j->sqlstate[0] = '\0';
	if (sqlstate)
		snprintf(j->sqlstate, sizeof(j->sqlstate), "%s", sqlstate);
	j->retriable = retriable;
}

void job_free(job *j)
{
	for (int i = 0; i < j->n; i++)
		PQclear(j->res[i]);
	free(j->err);
	free(j);
}

void jobq_push(jobq *q, job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
}

job *jobq_pop(jobq *q)
{
	job *j = q->head;
	if (!j)
		return NULL;
	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	j->next = NULL;
	return j;
}

/* Append all of src to dst, leaving src empty. */
void jobq_take(jobq *dst, jobq *src)
{
	if (!src->head)
		return;
	if (dst->tail)
		dst->tail->next = src->head;
	else
		dst->head = src->head;
	dst->tail = src->tail;
	dst->n += src->n;
	src->head = src->tail = NULL;
	src->n = 0;
}

/* A copy of a libpq message on one line: whitespace runs (libpq messages
 * span lines) become one space, with none at either end. */
char *pool_clean_message(const char *msg)
{
	char *s, *out;
	bool space = false;

	if (!msg)
		msg = "";
	s = malloc(strlen(msg) + 1);
	if (!s) {
		log_error("pool: out of memory");
		abort();
	}
	out = s;
	for (const char *p = msg; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
			space = out != s;
			continue;
		}
		if (space)
			*out++ = ' ';
		space = false;
		*out++ = *p;
	}
	*out = '\0';
	return s;
}
