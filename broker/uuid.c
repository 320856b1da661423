/*
 * Kafka UUIDs (see uuid.h).
 */
#include "arena_str.h"
#include "uuid.h"

bool uuid_parse(const char *s, kuuid *out)
{
	int n = 0;
	for (const char *p = s; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		int v;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return false;
		if (n % 2 == 0)
			out->b[n / 2] = (uint8_t)(v << 4);
		else
			out->b[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32;
}

char *uuid_format(arena *a, const kuuid *u)
{
	const uint8_t *b = u->b;
	return arena_printf(a,
			    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			    b[12], b[13], b[14], b[15]);
}

bool uuid_is_zero(const kuuid *u)
{
	for (int i = 0; i < 16; i++)
		if (u->b[i])
			return false;
	return true;
}
