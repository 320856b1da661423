/*
 * Statement parameters (see params.h).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "arena_str.h"
#include "log.h"
#include "params.h"

/* More parameters than a statement holds is a programming error. */
static int params_next(params *p)
{
	if (p->n >= PARAMS_MAX) {
		log_error("statement with more than %d parameters", PARAMS_MAX);
		abort();
	}
	return p->n++;
}

void params_str(params *p, arena *a, kstr s)
{
	int i = params_next(p);
	p->values[i] = s.len < 0 ? NULL : arena_cstr(a, s);
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void params_int(params *p, arena *a, int64_t v)
{
	int i = params_next(p);
	p->values[i] = arena_printf(a, "%" PRId64, v);
	p->lengths[i] = 0;
	p->formats[i] = 0;
}

void params_bin(params *p, const void *data, int len)
{
	int i = params_next(p);
	p->values[i] = data;
	p->lengths[i] = len;
	p->formats[i] = 1;
}

db_stmt params_stmt(query_id q, const params *p, int result_format)
{
	return (db_stmt){(int)q, p->n, p->values, p->lengths, p->formats, result_format};
}
