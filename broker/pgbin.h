/*
 * PostgreSQL binary formats the broker sends and reads: one-dimensional
 * arrays for bulk parameters, and int8 / timestamptz / text results.
 */
#ifndef PGK_PGBIN_H
#define PGK_PGBIN_H

#include <stdint.h>

#include <libpq-fe.h>

#include "arena.h"
#include "kbuf.h"

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT4 23
#define OID_TEXT 25
#define OID_TIMESTAMPTZ 1184

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_MS 946684800000LL

/* Build a binary one-dimensional array: begin, add n elements, end. */
typedef struct pgarray {
	kwriter w;
	int32_t n;
	size_t n_at;
	size_t hasnull_at;
	int32_t hasnull;
} pgarray;

void pgarray_begin(pgarray *a, uint32_t elem_oid, size_t cap);
void pgarray_add(pgarray *a, kstr v); /* len -1: NULL */
void pgarray_add_i32(pgarray *a, int32_t v);
void pgarray_add_i64(pgarray *a, int64_t v);
void pgarray_add_timestamp_ms(pgarray *a, int64_t ms);
void pgarray_end(pgarray *a);
void pgarray_free(pgarray *a);

/* Binary result readers; a NULL column gives dflt. */
int64_t pgbin_i64(const PGresult *res, int row, int col, int64_t dflt);
int64_t pgbin_timestamp_ms(const PGresult *res, int row, int col, int64_t dflt);
kstr pgbin_bytes(const PGresult *res, int row, int col); /* NULL -> len -1 */

/*
 * A binary int8 array of rows of ncols values (a two-dimensional array
 * [n][ncols], as array_agg(ARRAY[...]) returns it). A NULL or empty array
 * has no rows. Returns the number of rows and copies at most max_rows of
 * them to out (row after row); -1 if v is not such an array (other element
 * type or shape, a NULL element, a short buffer).
 */
int pgbin_i64_rows(kstr v, int ncols, int64_t *out, int max_rows);

/* Text result helpers. */
int64_t pgtext_i64(const PGresult *res, int row, int col, int64_t dflt);
kstr pgtext_str(const PGresult *res, int row, int col); /* NULL -> len -1 */

/*
 * The elements of a one-dimensional array in PostgreSQL's text output
 * ({a,"b c",NULL}, possibly after a [lo:hi]= decoration), unquoted and
 * copied into the arena, each NUL-terminated; a NULL element becomes a
 * null kstr. Returns the count, or -1 if s is not such an array.
 */
int pgtext_array(arena *a, const char *s, kstr **out);

#endif
