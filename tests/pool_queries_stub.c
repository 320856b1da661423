/*
 * Stand-in for broker/queries.c, linked only into test_pool (never into the
 * broker): a few statements that exercise results, errors and long-running
 * work. test_pool.c names them by index (enum stub_query). Entries that
 * queries.h declares beyond these stay empty, and the pool skips them.
 */
#include "queries.h"

_Static_assert(Q_QUERY_COUNT >= 4, "queries.h has too few entries for the test stub");

const query_def queries[Q_QUERY_COUNT] = {
	[0] = {"pgk_test_add", "SELECT $1::int + 1", 1},
	[1] = {"pgk_test_divide", "SELECT 100 / length($1::text)", 1},
	[2] = {"pgk_test_sleep", "SELECT pg_sleep($1::float8)", 1},
	[3] = {"pgk_test_pid", "SELECT pg_backend_pid()", 0},
};
