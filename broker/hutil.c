/*
 * How handlers read a PostgreSQL failure, and the wall clock (see hutil.h).
 */
#include <string.h>
#include <time.h>

#include "hutil.h"

bool db_error_retriable(const char *sqlstate, bool retriable)
{
	if (retriable || !sqlstate)
		return true;
	/* 08: connection exception, 57: operator intervention (shutdown,
	 * cancel), 53: insufficient resources, 40: serialization/deadlock. */
	return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57", 2) == 0 ||
	       strncmp(sqlstate, "53", 2) == 0 || strncmp(sqlstate, "40", 2) == 0;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
