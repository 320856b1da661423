/*
 * Strings in a request's arena (see arena_str.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "arena_str.h"

char *arena_cstr(arena *a, kstr s)
{
	if (s.len <= 0)
		return arena_strndup(a, "", 0);
	return arena_strndup(a, s.ptr, (size_t)s.len);
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strndup(a, "", 0);
	if ((size_t)n < sizeof(small))
		return arena_strndup(a, small, (size_t)n);
	char *buf = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf;
}
