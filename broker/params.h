/*
 * The parameters of one prepared statement, built in a request's arena and
 * turned into a db_stmt for the pool.
 */
#ifndef PGK_PARAMS_H
#define PGK_PARAMS_H

#include <stdint.h>

#include "arena.h"
#include "pool.h"
#include "queries.h"

/* Values are NUL-terminated text unless added with params_bin. */
#define PARAMS_MAX 16
typedef struct params {
	const char *values[PARAMS_MAX];
	int lengths[PARAMS_MAX];
	int formats[PARAMS_MAX];
	int n;
} params;

void params_str(params *p, arena *a, kstr s); /* null kstr -> SQL NULL */
void params_int(params *p, arena *a, int64_t v);
void params_bin(params *p, const void *data, int len);
db_stmt params_stmt(query_id q, const params *p, int result_format);

#endif
