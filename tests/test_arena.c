/*
 * Unit tests for the per-request arena: zeroing, alignment, large blocks,
 * string helpers and adopted blocks (ASan's leak check does the freeing
 * assertions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static int all_zero(const uint8_t *p, size_t n);

static int all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Many sizes, small and chunk-sized: aligned, zeroed, not overlapping. */
static void test_alloc_aligned_zeroed(void **state)
{
	static const size_t sizes[] = {0,    1,    3,    15,   16,   17,   100,
				       2047, 2048, 2049, 5000, 8192, 9000, 100000};
	arena *a = arena_new();
	uint8_t *ptrs[200];
	size_t lens[200];
	int i, j;

	(void)state;
	for (i = 0; i < 200; i++) {
		size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];

		ptrs[i] = arena_alloc(a, n);
		lens[i] = n;
		assert_non_null(ptrs[i]);
		assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
		assert_true(all_zero(ptrs[i], n));
		memset(ptrs[i], i + 1, n);
	}
	/* Nothing written later overwrote anything written earlier. */
	for (i = 0; i < 200; i++)
		for (j = 0; j < (int)lens[i]; j++)
			assert_int_equal(ptrs[i][j], (uint8_t)(i + 1));
	arena_free(a);
}

/* A large block must not strand the chunk small allocations come from. */
static void test_large_then_small(void **state)
{
	arena *a = arena_new();
	uint8_t *s1, *big, *s2;

	(void)state;
	s1 = arena_alloc(a, 32);
	big = arena_alloc(a, 1 << 20);
	s2 = arena_alloc(a, 32);
	assert_true(all_zero(big, 1 << 20));
	/* s2 comes from the same chunk as s1, right after it. */
	assert_ptr_equal(s2, s1 + 32);
	arena_free(a);

	/* Large first, into an empty arena. */
	a = arena_new();
	big = arena_alloc(a, 50000);
	s1 = arena_alloc(a, 8);
	assert_non_null(big);
	assert_non_null(s1);
	arena_free(a);
}

static void test_memdup_strndup(void **state)
{
	arena *a = arena_new();
	char *s;
	uint8_t *d;

	(void)state;
	d = arena_memdup(a, "ab\0cd", 5);
	assert_memory_equal(d, "ab\0cd", 5);
	d = arena_memdup(a, NULL, 0);
	assert_non_null(d);

	s = arena_strndup(a, "topic-name-and-more", 10);
	assert_string_equal(s, "topic-name");
	s = arena_strndup(a, "ab\0cd", 5);
	assert_string_equal(s, "ab");
	s = arena_strndup(a, "", 0);
	assert_string_equal(s, "");
	arena_free(a);
}

static void test_adopt(void **state)
{
	arena *a = arena_new();
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		char *p = malloc(64);

		assert_non_null(p);
		memset(p, 'x', 64);
		arena_adopt(a, p);
	}
	arena_adopt(a, NULL);
	arena_free(a); /* LeakSanitizer fails the run if any block survives */
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_aligned_zeroed),
		cmocka_unit_test(test_large_then_small),
		cmocka_unit_test(test_memdup_strndup),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
