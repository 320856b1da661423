/*
 * How handlers read a PostgreSQL failure, and the wall clock (see hutil.h).
 */
#include "clock.h"
#include "hutil.h"
#include "sqlstate.h"

bool db_error_retriable(const char *sqlstate, bool retriable)
{
	return retriable || sqlstate_retriable(sqlstate); /* common/sqlstate.c */
}

int64_t now_ms(void) { return clock_wall_ms(); }
