/* Which PostgreSQL errors are worth trying again (sqlstate.c says why). */
#ifndef PGK_SQLSTATE_H
#define PGK_SQLSTATE_H

#include <stdbool.h>

/* True when the error says "not now" rather than "not ever": the same
 * statement, retried later, can succeed. NULL (libpq reported no SQLSTATE:
 * the connection failed or was lost) counts as retriable. */
bool sqlstate_retriable(const char *sqlstate);

#endif
