/*
 * How handlers read a PostgreSQL failure, what a coordinator answers for
 * one, and the wall clock (see hutil.h).
 */
#include "hutil.h"
#include "clock.h"
#include "kerr.h"
#include "log.h"
#include "sqlstate.h"
#include "validate.h"

bool db_error_retriable(const char *sqlstate, bool retriable)
{
	return retriable || sqlstate_retriable(sqlstate); /* common/sqlstate.c */
}

int16_t coordinator_db_error(const char *what, const char *err, const char *sqlstate,
			     bool retriable)
{
	if (db_error_retriable(sqlstate, retriable)) {
		log_warn("%s: %s", what, err);
		return KERR_COORDINATOR_NOT_AVAILABLE;
	}
	if (sqlstate_bad_input(sqlstate)) {
		log_warn("%s: refused a value of the request: %s", what, err);
		return KERR_INVALID_REQUEST;
	}
	log_error("%s: %s", what, err);
	return KERR_UNKNOWN_SERVER_ERROR;
}

int64_t now_ms(void) { return clock_wall_ms(); }
