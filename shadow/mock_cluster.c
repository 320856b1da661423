/*
 * A stand-in external Kafka cluster for tests: librdkafka's mock cluster
 * (a Kafka-protocol server inside librdkafka) with N brokers.
 *
 *   mock_cluster [BROKERS]
 *
 * Prints the bootstrap address on the first line of stdout, then reads
 * commands on stdin, one per line, and answers each with "ok" or "error ...":
 *
 *   topic NAME PARTITIONS   create a topic (replication factor 1)
 *   down ID                 take broker ID (1..N) down: connections close
 *   up ID                   bring it back
 *   downall / upall         every broker at once
 *
 * Runs until SIGTERM, SIGINT or "quit"; the end of stdin does not stop it.
 */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line);

int main(int argc, char **argv)
{
	int nbrokers = argc > 1 ? atoi(argv[1]) : 3;
	char errstr[256];

	if (nbrokers < 1 || nbrokers > 32) {
		fprintf(stderr, "usage: mock_cluster [BROKERS 1..32]\n");
		return 2;
	}
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "mock_cluster: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (!mc) {
		fprintf(stderr, "mock_cluster: cannot start the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	char line[512];
	size_t used = 0;
	bool stdin_open = true;
	while (!stop) {
		struct pollfd pfd = {.fd = 0, .events = POLLIN};
		int n = poll(&pfd, stdin_open ? 1 : 0, 200);
		if (n <= 0)
			continue;
		ssize_t r = read(0, line + used, sizeof(line) - 1 - used);
		if (r <= 0) {
			stdin_open = false; /* keep serving until a signal */
			continue;
		}
		used += (size_t)r;
		line[used] = '\0';
		char *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			command(mc, nbrokers, line);
			size_t rest = used - (size_t)(nl + 1 - line);
			memmove(line, nl + 1, rest);
			used = rest;
			line[used] = '\0';
		}
		if (used == sizeof(line) - 1)
			used = 0; /* an overlong line: drop it */
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}

static void command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line)
{
	char name[256];
	int a = 0;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (sscanf(line, "topic %255s %d", name, &a) == 2) {
		err = rd_kafka_mock_topic_create(mc, name, a, 1);
	} else if (sscanf(line, "down %d", &a) == 1 && a >= 1 && a <= nbrokers) {
		err = rd_kafka_mock_broker_set_down(mc, a);
	} else if (sscanf(line, "up %d", &a) == 1 && a >= 1 && a <= nbrokers) {
		err = rd_kafka_mock_broker_set_up(mc, a);
	} else if (strcmp(line, "downall") == 0 || strcmp(line, "upall") == 0) {
		for (int id = 1; id <= nbrokers && !err; id++)
			err = line[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id)
					     : rd_kafka_mock_broker_set_up(mc, id);
	} else if (strcmp(line, "quit") == 0) {
		stop = 1;
	} else if (line[0] != '\0') {
		printf("error unknown command\n");
		fflush(stdout);
		return;
	} else {
		return;
	}
	if (err)
		printf("error %s\n", rd_kafka_err2str(err));
	else
		printf("ok\n");
	fflush(stdout);
}
