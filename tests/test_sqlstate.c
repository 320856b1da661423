/*
 * Unit tests for the one "try again later" rule of PostgreSQL errors
 * (common/sqlstate.c), which the broker's handlers and the forwarder share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sqlstate.h"

static void test_retriable(void **state)
{
	(void)state;
	static const char *const yes[] = {
		"08006", /* connection_failure */
		"08001", /* sqlclient_unable_to_establish_sqlconnection */
		"40001", /* serialization_failure */
		"40P01", /* deadlock_detected */
		"53300", /* too_many_connections */
		"53100", /* disk_full */
		"57P01", /* admin_shutdown */
		"57P03", /* cannot_connect_now */
		"57014", /* query_canceled */
		"55006", /* object_in_use: slot still active */
		"55P03", /* lock_not_available */
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(sqlstate_retriable(yes[i]));
	assert_true(sqlstate_retriable(NULL));
	assert_true(sqlstate_retriable(""));
}

static void test_permanent(void **state)
{
	(void)state;
	static const char *const no[] = {
		"42601", /* syntax_error */
		"42P01", /* undefined_table */
		"42883", /* undefined_function: extension too old */
		"42501", /* insufficient_privilege */
		"23505", /* unique_violation */
		"22P02", /* invalid_text_representation */
		"55000", /* object_not_in_prerequisite_state: wal_level */
		"58P01", /* undefined_file: plugin not installed */
		"XX000", /* internal_error */
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(sqlstate_retriable(no[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retriable),
		cmocka_unit_test(test_permanent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
