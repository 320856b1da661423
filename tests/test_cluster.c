/*
 * Unit tests for cluster membership (broker/cluster.c) without a database:
 * where coordinators are placed, and what a standalone broker answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster.h"
#include "config.h"
#include "kerr.h"

static int ready_calls, fatal_calls;

static void on_ready(void) { ready_calls++; }
static void on_fatal(void) { fatal_calls++; }

/* Kafka: Utils.abs(key.hashCode()) % 50, then over the brokers. Values
 * from Java's String.hashCode. */
static void test_coordinator_index(void **state)
{
	(void)state;
	/* "my-group".hashCode() = -1906497762: partition 12 */
	assert_int_equal(cluster_coordinator_index(kstr_c("my-group"), 5), 12 % 5);
	assert_int_equal(cluster_coordinator_index(kstr_c("my-group"), 7), 12 % 7);
	/* "cl-eos-1".hashCode() = -809312759: partition 9 */
	assert_int_equal(cluster_coordinator_index(kstr_c("cl-eos-1"), 2), 1);
	assert_int_equal(cluster_coordinator_index(kstr_c("cl-eos-1"), 4), 1);
	/* Integer.MIN_VALUE: Utils.abs gives 0 */
	assert_int_equal(cluster_coordinator_index(kstr_c("polygenelubricants"), 3), 0);
	/* "" hashes to 0; no brokers: index 0 */
	assert_int_equal(cluster_coordinator_index(kstr_c(""), 3), 0);
	assert_int_equal(cluster_coordinator_index(kstr_c("my-group"), 0), 0);
	/* one broker owns everything */
	assert_int_equal(cluster_coordinator_index(kstr_c("console-consumer-1"), 1), 0);
}

/* Without node.id: ready at once, this broker is everything, epoch 0. */
static void test_standalone(void **state)
{
	const cluster_broker *live;
	int32_t leader = -1, epoch = -1;
	kstr t = kstr_c("orders");

	(void)state;
	g_config.cluster_member = false;
	g_config.node_id = 7;
	cluster_start(NULL, on_ready, on_fatal);
	assert_int_equal(ready_calls, 1);
	assert_int_equal(fatal_calls, 0);
	assert_false(cluster_enabled());
	assert_true(cluster_serving());
	assert_true(cluster_runs_background_jobs());
	assert_int_equal(cluster_live_brokers(&live), 0);
	assert_int_equal(cluster_controller_id(), 7);
	assert_int_equal(cluster_coordinator_for(kstr_c("any-group")), 7);
	assert_true(cluster_is_coordinator(kstr_c("any-group")));
	assert_true(cluster_partition_leader(t, 3, &leader, &epoch));
	assert_int_equal(leader, 7);
	assert_int_equal(epoch, 0);
	/* Partition.checkCurrentLeaderEpoch against epoch 0 */
	assert_int_equal(cluster_check_leader(t, 0, -1), KERR_NONE);
	assert_int_equal(cluster_check_leader(t, 0, 0), KERR_NONE);
	assert_int_equal(cluster_check_leader(t, 0, 1), KERR_UNKNOWN_LEADER_EPOCH);
	assert_int_equal(cluster_check_leader(t, 0, -2), KERR_FENCED_LEADER_EPOCH);
	assert_false(cluster_busy());
	cluster_leave(); /* nothing to give back */
	assert_false(cluster_busy());
	cluster_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coordinator_index),
		cmocka_unit_test(test_standalone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
