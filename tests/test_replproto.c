/*
 * Unit tests for the replication protocol messages both slot readers use
 * (common/replproto.c): XLogData and keepalive parse to their fields, short
 * or unknown messages are refused, and a standby status update has the
 * layout PostgreSQL reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "kbuf.h"
#include "replproto.h"

static size_t build_xlogdata(uint8_t *buf, const char *data)
{
	buf[0] = 'w';
	put_be64(buf + 1, 0x10000028);
	put_be64(buf + 9, 0x10000100);
	put_be64(buf + 17, 777);
	memcpy(buf + 25, data, strlen(data));
	return 25 + strlen(data);
}

static void test_xlogdata(void **state)
{
	(void)state;
	uint8_t buf[64];
	repl_msg m;
	size_t len = build_xlogdata(buf, "hello");

	assert_int_equal(repl_parse(buf, len, &m), 0);
	assert_int_equal(m.type, REPL_XLOGDATA);
	assert_true(m.wal_start == 0x10000028);
	assert_true(m.wal_end == 0x10000100);
	assert_true(m.send_time_us == 777);
	assert_int_equal(m.len, 5);
	assert_ptr_equal(m.data, buf + 25);
	assert_memory_equal(m.data, "hello", 5);

	/* empty data is a message too; one byte short of the header is not */
	assert_int_equal(repl_parse(buf, 25, &m), 0);
	assert_int_equal(m.len, 0);
	assert_int_equal(repl_parse(buf, 24, &m), -1);
}

static void test_keepalive(void **state)
{
	(void)state;
	uint8_t buf[18];
	repl_msg m;

	buf[0] = 'k';
	put_be64(buf + 1, 0xABCDEF);
	put_be64(buf + 9, 5);
	buf[17] = 1;
	assert_int_equal(repl_parse(buf, sizeof(buf), &m), 0);
	assert_int_equal(m.type, REPL_KEEPALIVE);
	assert_true(m.wal_end == 0xABCDEF);
	assert_true(m.reply_requested);
	buf[17] = 0;
	assert_int_equal(repl_parse(buf, sizeof(buf), &m), 0);
	assert_false(m.reply_requested);
	assert_int_equal(repl_parse(buf, 17, &m), -1);
}

static void test_unknown_and_empty(void **state)
{
	(void)state;
	uint8_t buf[40] = {'x'};
	repl_msg m;

	assert_int_equal(repl_parse(buf, sizeof(buf), &m), -1);
	assert_int_equal(repl_parse(buf, 0, &m), -1);
}

static void test_status_update(void **state)
{
	(void)state;
	uint8_t msg[REPL_STATUS_LEN];
	int64_t before = clock_wall_us() - PG_EPOCH_OFFSET_US;

	repl_status(msg, 30, 20, 10, true);
	int64_t after = clock_wall_us() - PG_EPOCH_OFFSET_US;
	assert_int_equal(msg[0], 'r');
	assert_true(be64(msg + 1) == 30);
	assert_true(be64(msg + 9) == 20);
	assert_true(be64(msg + 17) == 10);
	int64_t sent = (int64_t)be64(msg + 25);
	assert_true(sent >= before && sent <= after);
	assert_int_equal(msg[33], 1);
	repl_status(msg, 0, 0, 0, false);
	assert_int_equal(msg[33], 0);
}

static void test_pg_epoch(void **state)
{
	(void)state;
	/* 2000-01-01 is 946684800 s after 1970-01-01 */
	assert_true(PG_EPOCH_OFFSET_US == 946684800LL * 1000000);
	int64_t now = repl_pg_now_us();
	/* later than 2020-01-01 (631152000 s after 2000-01-01) */
	assert_true(now > 631152000LL * 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xlogdata),          cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_unknown_and_empty), cmocka_unit_test(test_status_update),
		cmocka_unit_test(test_pg_epoch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
