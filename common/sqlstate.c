/*
 * Retriable SQLSTATEs, shared by the broker (a retriable error becomes a
 * retriable Kafka error code, so the client tries again) and the forwarder
 * (a retriable error reconnects at the short backoff; any other one waits
 * the longest backoff, since only someone fixing it will make it pass).
 *
 * Whole classes:
 *   08  connection exception: the server went away or refused us
 *   40  transaction rollback: serialization failure, deadlock; the same
 *       transaction run again normally succeeds
 *   53  insufficient resources: too many connections, disk or memory full;
 *       these pass when load drops or space is freed
 *   57  operator intervention: shutdown, crash recovery, "cannot connect
 *       now" while the server starts, a cancelled statement
 * and two codes of class 55 (object not in prerequisite state):
 *   55006  object in use: a replication slot still held by a walsender of
 *          the previous connection, which the server is ending
 *   55P03  lock not available: lock_timeout or NOWAIT hit a lock another
 *          session holds for now
 * Everything else (syntax, undefined objects, privileges, constraint
 * violations, ...) fails again the same way and is reported as it is.
 */
#include <string.h>

#include "sqlstate.h"

bool sqlstate_retriable(const char *sqlstate)
{
	static const char *const classes[] = {"08", "40", "53", "57"};
	static const char *const codes[] = {"55006", "55P03"};

	if (!sqlstate || !*sqlstate)
		return true;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(sqlstate, codes[i]) == 0)
			return true;
	return false;
}
