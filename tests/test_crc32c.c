/*
 * Unit tests for CRC-32C: the published check values (RFC 3720 appendix
 * B.4 and the usual "123456789"), incremental use, and agreement between the
 * hardware and table implementations on every length and alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"

static void fill_pattern(uint8_t *p, size_t n);

static void fill_pattern(uint8_t *p, size_t n)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(crc32c(0, "", 0), 0);
	assert_int_equal(crc32c(0x12345678u, "", 0), 0x12345678u);
}

static void test_rfc3720_vectors(void **state)
{
	uint8_t buf[32];
	int i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x8A9136AAu);
	assert_int_equal(crc32c_sw(0, buf, sizeof(buf)), 0x8A9136AAu);

	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x62A8AB43u);
	assert_int_equal(crc32c_sw(0, buf, sizeof(buf)), 0x62A8AB43u);

	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x46DD794Eu);
	assert_int_equal(crc32c_sw(0, buf, sizeof(buf)), 0x46DD794Eu);

	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x113FDB5Cu);
	assert_int_equal(crc32c_sw(0, buf, sizeof(buf)), 0x113FDB5Cu);
}

/* Split at every point: crc(crc(a), b) must equal crc(a || b). */
static void test_incremental(void **state)
{
	uint8_t buf[300];
	uint32_t whole, part;
	size_t cut;

	(void)state;
	fill_pattern(buf, sizeof(buf));
	whole = crc32c(0, buf, sizeof(buf));
	for (cut = 0; cut <= sizeof(buf); cut++) {
		part = crc32c(0, buf, cut);
		assert_int_equal(crc32c(part, buf + cut, sizeof(buf) - cut), whole);
		part = crc32c_sw(0, buf, cut);
		assert_int_equal(crc32c_sw(part, buf + cut, sizeof(buf) - cut), whole);
	}
}

/* Byte-at-a-time feeding exercises the tail loop of both paths. */
static void test_bytewise(void **state)
{
	uint8_t buf[97];
	uint32_t crc = 0;
	size_t i;

	(void)state;
	fill_pattern(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		crc = crc32c(crc, buf + i, 1);
	assert_int_equal(crc, crc32c(0, buf, sizeof(buf)));
}

/* Every length and start offset up to a few words: both paths agree. */
static void test_hw_matches_table(void **state)
{
	size_t n = 4096 + 64, off, len;
	uint8_t *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	fill_pattern(buf, n);
	for (off = 0; off < 16; off++)
		for (len = 0; len <= 80; len++)
			assert_int_equal(crc32c(0, buf + off, len), crc32c_sw(0, buf + off, len));
	assert_int_equal(crc32c(0, buf, 4096), crc32c_sw(0, buf, 4096));
	assert_int_equal(crc32c(0, buf + 3, n - 3), crc32c_sw(0, buf + 3, n - 3));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),     cmocka_unit_test(test_empty),
		cmocka_unit_test(test_rfc3720_vectors), cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_bytewise),        cmocka_unit_test(test_hw_matches_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
