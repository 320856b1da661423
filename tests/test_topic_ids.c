/*
 * Unit tests for the topic id cache (broker/topic_ids.c): names found by
 * id, forgotten ids, reused slots, and a cache that starts afresh when full
 * (ASan's leak check covers the freeing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "topic_ids.h"

static kuuid id_of(uint32_t n);

static kuuid id_of(uint32_t n)
{
	kuuid u;
	memset(u.b, 0xab, sizeof(u.b));
	memcpy(u.b, &n, sizeof(n));
	return u;
}

static void test_put_get_forget(void **state)
{
	(void)state;
	kuuid a = id_of(1), b = id_of(2);
	kstr name;

	assert_false(topic_ids_get(&a, &name));
	topic_ids_put(&a, KSTR_LIT("orders"));
	topic_ids_put(&b, KSTR_LIT("payments"));
	assert_true(topic_ids_get(&a, &name));
	assert_true(kstr_eq(name, "orders"));
	/* An id names one topic for ever: a second put changes nothing. */
	topic_ids_put(&a, KSTR_LIT("other"));
	assert_true(topic_ids_get(&a, &name));
	assert_true(kstr_eq(name, "orders"));

	topic_ids_forget(&a);
	assert_false(topic_ids_get(&a, &name));
	/* b is still found past a's emptied slot. */
	assert_true(topic_ids_get(&b, &name));
	assert_true(kstr_eq(name, "payments"));
	topic_ids_put(&a, KSTR_LIT("orders"));
	assert_true(topic_ids_get(&a, &name));
	/* Empty and null names are not cached. */
	kuuid c = id_of(3);
	topic_ids_put(&c, KSTR_LIT(""));
	topic_ids_put(&c, KSTR_NULL);
	assert_false(topic_ids_get(&c, &name));
	topic_ids_clear();
	assert_false(topic_ids_get(&b, &name));
}

static void test_full_cache_starts_afresh(void **state)
{
	(void)state;
	char buf[32];
	kstr name;

	/* Many more topics than the cache holds: the latest are always
	 * found, each with its own name. */
	for (uint32_t n = 0; n < 50000; n++) {
		kuuid u = id_of(n);
		snprintf(buf, sizeof(buf), "t%u", n);
		topic_ids_put(&u, kstr_c(buf));
		assert_true(topic_ids_get(&u, &name));
		assert_true(kstr_eq(name, buf));
		if (n % 3 == 0)
			topic_ids_forget(&u);
	}
	kuuid last = id_of(49999);
	assert_true(topic_ids_get(&last, &name));
	assert_true(kstr_eq(name, "t49999"));
	topic_ids_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_forget),
		cmocka_unit_test(test_full_cache_starts_afresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
