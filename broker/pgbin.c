/*
 * PostgreSQL binary array building and binary/text result parsing.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena_str.h"
#include "pgbin.h"

void pgarray_begin(pgarray *a, uint32_t elem_oid, size_t cap)
{
	kw_init(&a->w, cap + 20);
	a->n = 0;
	a->hasnull = 0;
	kw_i32(&a->w, 1); /* dimensions */
	a->hasnull_at = kw_skip(&a->w, 4);
	kw_u32(&a->w, elem_oid);
	a->n_at = kw_skip(&a->w, 4);
	kw_i32(&a->w, 1); /* lower bound */
}

void pgarray_add(pgarray *a, kstr v)
{
	a->n++;
	if (v.len < 0) {
		a->hasnull = 1;
		kw_i32(&a->w, -1);
		return;
	}
	kw_i32(&a->w, v.len);
	kw_raw(&a->w, v.ptr, (size_t)v.len);
}

void pgarray_add_i32(pgarray *a, int32_t v)
{
	a->n++;
	kw_i32(&a->w, 4);
	kw_i32(&a->w, v);
}

void pgarray_add_i64(pgarray *a, int64_t v)
{
	a->n++;
	kw_i32(&a->w, 8);
	kw_i64(&a->w, v);
}

void pgarray_add_timestamp_ms(pgarray *a, int64_t ms)
{
	pgarray_add_i64(a, (ms - PG_EPOCH_OFFSET_MS) * 1000);
}

void pgarray_end(pgarray *a)
{
	kw_put_i32_at(&a->w, a->hasnull_at, a->hasnull);
	kw_put_i32_at(&a->w, a->n_at, a->n);
}

void pgarray_free(pgarray *a)
{
	kw_free(&a->w);
}

int64_t pgbin_i64(const PGresult *res, int row, int col, int64_t dflt)
{
	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return dflt;
	return (int64_t)be64((const uint8_t *)PQgetvalue(res, row, col));
}

int64_t pgbin_timestamp_ms(const PGresult *res, int row, int col, int64_t dflt)
{
	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return dflt;
	int64_t us = (int64_t)be64((const uint8_t *)PQgetvalue(res, row, col));
	/* floor division, so times before 2000 stay exact */
	int64_t ms = us / 1000;
	if (us % 1000 < 0)
		ms--;
	return ms + PG_EPOCH_OFFSET_MS;
}

kstr pgbin_bytes(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return KSTR_NULL;
	return (kstr){PQgetvalue(res, row, col), PQgetlength(res, row, col)};
}

int pgbin_i64_rows(kstr v, int ncols, int64_t *out, int max_rows)
{
	kreader r;

	if (v.len < 0)
		return 0;
	kr_init(&r, v.ptr, (size_t)v.len);
	int32_t ndim = kr_i32(&r);
	(void)kr_i32(&r); /* has-nulls flag: each element is checked instead */
	uint32_t oid = kr_u32(&r);
	if (!kr_ok(&r) || ndim < 0)
		return -1;
	if (ndim == 0)
		return kr_remaining(&r) == 0 ? 0 : -1;
	int32_t nrows = kr_i32(&r);
	(void)kr_i32(&r); /* lower bound */
	int32_t width = kr_i32(&r);
	(void)kr_i32(&r);
	if (!kr_ok(&r) || ndim != 2 || oid != OID_INT8 || width != ncols || nrows < 0 ||
	    ncols <= 0)
		return -1;
	/* Every element takes 12 bytes: refuse a count the data cannot hold
	 * before looping over it. */
	if ((uint64_t)nrows * (uint64_t)ncols * 12 != kr_remaining(&r))
		return -1;
	for (int32_t i = 0; i < nrows; i++) {
		for (int c = 0; c < ncols; c++) {
			int32_t len = kr_i32(&r);
			int64_t x = kr_i64(&r);
			if (!kr_ok(&r) || len != 8)
				return -1;
			if (out && i < max_rows)
				out[(size_t)i * (size_t)ncols + (size_t)c] = x;
		}
	}
	return nrows;
}

int64_t pgtext_i64(const PGresult *res, int row, int col, int64_t dflt)
{
	if (PQgetisnull(res, row, col))
		return dflt;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

kstr pgtext_str(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return KSTR_NULL;
	return (kstr){PQgetvalue(res, row, col), PQgetlength(res, row, col)};
}

/*
 * The elements of a one-dimensional array in PostgreSQL's text output
 * ({a,"b c",NULL}, possibly after a [lo:hi]= decoration), unquoted and
 * copied into the arena, each NUL-terminated; a NULL element becomes a
 * null kstr. Returns the count, or -1 if s is not such an array.
 */
int pgtext_array(arena *a, const char *s, kstr **out)
{
	size_t len = strlen(s);
	int max = 1;
	char *buf = arena_alloc(a, len + 1);
	int n = 0;

	for (size_t i = 0; i < len; i++)
		max += s[i] == ',';
	*out = ARENA_NEW_ARRAY(a, kstr, max);
	if (*s == '[') {
		s = strchr(s, '=');
		if (!s)
			return -1;
		s++;
	}
	if (*s++ != '{')
		return -1;
	if (*s == '}')
		return s[1] == '\0' ? 0 : -1;
	for (;;) {
		char *start = buf;
		bool quoted = *s == '"';
		if (quoted) {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && !*++s)
					return -1;
				*buf++ = *s++;
			}
			if (*s++ != '"')
				return -1;
		} else {
			while (*s && *s != ',' && *s != '}')
				*buf++ = *s++;
		}
		if (n >= max)
			return -1;
		(*out)[n] = (kstr){start, (int32_t)(buf - start)};
		*buf++ = '\0'; /* fits: each element lost a separator or quotes */
		if (!quoted && buf - start == 4 && strncasecmp(start, "NULL", 4) == 0)
			(*out)[n] = KSTR_NULL;
		n++;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '}' && s[1] == '\0')
			return n;
		return -1;
	}
}
