/*
 * quotas.c on a fake clock: Kafka's precedence of quota entities, and the
 * rate and throttle time of ClientQuotaManager (11 windows of one second:
 * QuotaUtils.throttleTime over Rate.windowSize).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quotas.h"

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

static quota_entry entry(uint8_t types, const char *user, const char *client, const char *key,
			 double value)
{
	quota_entry e = {.types = types,
			 .user = dup(user),
			 .client_id = dup(client),
			 .key = dup(key),
			 .value = value};
	return e;
}

static int teardown(void **state)
{
	(void)state;
	quotas_free();
	return 0;
}

static void test_precedence(void **state)
{
	(void)state;
	const uint8_t U = QUOTA_T_USER, C = QUOTA_T_CLIENT_ID, UC = U | C;
	const char *P = "producer_byte_rate";
	quota_entry *e = calloc(8, sizeof(*e));
	e[0] = entry(C, NULL, NULL, P, 1);     /* default client id */
	e[1] = entry(C, NULL, "app", P, 2);    /* client id app */
	e[2] = entry(U, NULL, NULL, P, 3);     /* default user */
	e[3] = entry(UC, NULL, NULL, P, 4);    /* default user, default client */
	e[4] = entry(UC, NULL, "app", P, 5);   /* default user, client app */
	e[5] = entry(U, "alice", NULL, P, 6);  /* alice */
	e[6] = entry(UC, "alice", NULL, P, 7); /* alice, default client */
	e[7] = entry(UC, "alice", "app", P, 8);
	quotas_configure(11, 1000);
	quotas_replace(e, 8);
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 8);
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "other", NULL) == 7);
	assert_true(quota_bound(QUOTA_PRODUCE, "bob", "app", NULL) == 5);
	assert_true(quota_bound(QUOTA_PRODUCE, "bob", "other", NULL) == 4);
	assert_true(quota_bound(QUOTA_FETCH, "alice", "app", NULL) < 0);
	/* Remove the more specific ones one by one. */
	free(e[7].key);
	e[7].key = strdup("consumer_byte_rate");
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 7);
	assert_true(quota_bound(QUOTA_FETCH, "alice", "app", NULL) == 8);
	e[6].types = 0;
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 6);
	e[5].types = 0;
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 5);
	e[4].types = e[3].types = 0;
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 3);
	e[2].types = 0;
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "app", NULL) == 2);
	assert_true(quota_bound(QUOTA_PRODUCE, "alice", "x", NULL) == 1);
}

static void test_rate_and_throttle(void **state)
{
	(void)state;
	quota_entry *e = calloc(1, sizeof(*e));
	e[0] = entry(QUOTA_T_CLIENT_ID, NULL, "app", "producer_byte_rate", 1000);
	quotas_configure(11, 1000);
	quotas_replace(e, 1);
	int64_t t = 1000000;
	/* Within the quota over the minimum window (10 s): no throttle. */
	assert_int_equal(quota_record(QUOTA_PRODUCE, "u", "app", 10000, t), 0);
	assert_true(quota_rate(QUOTA_PRODUCE, "u", "app", t) == 1000);
	/* 10 KB more: 2000 B/s over 10 s, the excess equal to the bound:
	 * throttled for the whole window. */
	assert_int_equal(quota_record(QUOTA_PRODUCE, "u", "app", 10000, t), 10000);
	/* Another client id has no quota. */
	assert_int_equal(quota_record(QUOTA_PRODUCE, "u", "other", 1e9, t), 0);
	/* 20 s later the windows have expired: a steady 900 B/s stays
	 * within the quota, 1200 B/s does not once the windows fill. */
	t += 20000;
	for (int i = 0; i < 30; i++)
		assert_int_equal(quota_record(QUOTA_PRODUCE, "u", "app", 900, t + i * 1000), 0);
	t += 60000;
	int throttled = 0;
	for (int i = 0; i < 30; i++)
		throttled += quota_record(QUOTA_PRODUCE, "u", "app", 1200, t + i * 1000) > 0;
	assert_true(throttled >= 20);
	/* A user's quota is shared by its client ids. */
	quota_entry *u = calloc(1, sizeof(*u));
	u[0] = entry(QUOTA_T_USER, "alice", NULL, "consumer_byte_rate", 100);
	quotas_replace(u, 1);
	assert_int_equal(quota_record(QUOTA_FETCH, "alice", "a", 1000, t), 0);
	assert_true(quota_record(QUOTA_FETCH, "alice", "b", 1000, t) > 0);
	assert_int_equal(quota_record(QUOTA_FETCH, "bob", "b", 1000, t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_precedence, teardown),
		cmocka_unit_test_teardown(test_rate_and_throttle, teardown),
	};
	return cmocka_run_group_tests_name("quotas", tests, NULL, NULL);
}
