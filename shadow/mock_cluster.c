/*
 * A stand-in external Kafka cluster for tests and for trying shadow mode
 * locally: librdkafka's mock cluster (a Kafka-protocol server inside
 * librdkafka) with N brokers, in memory: its topics are gone when it stops.
 *
 *   mock_cluster [--port PORT] [--topic NAME:PARTITIONS]... [BROKERS]
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
 *
 * The mock's brokers listen on ports it picks. --port gives a fixed
 * bootstrap address, 127.0.0.1:PORT, relayed byte for byte to broker 1;
 * clients learn the brokers' own addresses from its metadata, as from any
 * cluster. A topic a client asks for that does not exist yet is created
 * by the mock on first use, with the mock's default partition count (4 in
 * librdkafka 2.0); --topic creates one with more beforehand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;
static struct sockaddr_in upstream; /* broker 1, for --port */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line);
static int relay_listen(int port);
static void relay_accept(int lfd);
static void usage(FILE *out);

int main(int argc, char **argv)
{
	int nbrokers = 3, port = 0, ntopics = 0;
	const char *topics[64];
	char errstr[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = atoi(argv[++i]);
			if (port < 1 || port > 65535) {
				fprintf(stderr, "mock_cluster: --port wants 1..65535\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc && ntopics < 64) {
			topics[ntopics++] = argv[++i];
		} else if (argv[i][0] != '-') {
			nbrokers = atoi(argv[i]);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (nbrokers < 1 || nbrokers > 32) {
		usage(stderr);
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
	for (int i = 0; i < ntopics; i++) {
		char name[256];
		int n = 0;
		const char *colon = strrchr(topics[i], ':');
		if (!colon || colon == topics[i] || (size_t)(colon - topics[i]) >= sizeof(name) ||
		    (n = atoi(colon + 1)) < 1) {
			fprintf(stderr, "mock_cluster: --topic wants NAME:PARTITIONS, not %s\n",
				topics[i]);
			return 2;
		}
		memcpy(name, topics[i], (size_t)(colon - topics[i]));
		name[colon - topics[i]] = '\0';
		if (rd_kafka_mock_topic_create(mc, name, n, 1)) {
			fprintf(stderr, "mock_cluster: cannot create %s\n", name);
			return 1;
		}
	}
	int lfd = -1;
	if (port) {
		/* broker 1 is the first of "host:port,host:port,..." */
		const char *b = rd_kafka_mock_cluster_bootstraps(mc);
		const char *colon = strchr(b, ':');
		memset(&upstream, 0, sizeof(upstream));
		upstream.sin_family = AF_INET;
		upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		upstream.sin_port = htons((uint16_t)(colon ? atoi(colon + 1) : 0));
		lfd = relay_listen(port);
		if (lfd < 0) {
			fprintf(stderr, "mock_cluster: cannot listen on 127.0.0.1:%d\n", port);
			rd_kafka_mock_cluster_destroy(mc);
			rd_kafka_destroy(rk);
			return 1;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (port)
		printf("127.0.0.1:%d\n", port);
	else
		printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	char line[512];
	size_t used = 0;
	bool stdin_open = true;
	while (!stop) {
		struct pollfd pfd[2] = {{.fd = stdin_open ? 0 : -1, .events = POLLIN},
					{.fd = lfd, .events = POLLIN}};
		int n = poll(pfd, 2, 200);
		if (n <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			relay_accept(lfd);
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
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
	if (lfd >= 0)
		close(lfd);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mock_cluster [--port PORT] [--topic NAME:PARTITIONS]... [BROKERS]\n"
		"\n"
		"A stand-in Kafka cluster (librdkafka's mock cluster, BROKERS brokers, 3 by\n"
		"default), in memory: its topics are gone when it stops. Prints the bootstrap\n"
		"address, then takes commands on stdin: topic NAME PARTITIONS, down ID, up ID,\n"
		"downall, upall, quit.\n"
		"\n"
		"  --port PORT               bootstrap on 127.0.0.1:PORT (relayed to broker 1;\n"
		"                            the brokers keep ports of their own)\n"
		"  --topic NAME:PARTITIONS   create a topic at start (repeatable)\n"
		"\n"
		"Topics are created on first use: a client asking for one that does not exist\n"
		"gets it with 4 partitions (librdkafka's default). Create topics that need more\n"
		"with --topic or the topic command.\n");
}

/* ---- --port: a byte relay to broker 1, two threads per connection ---- */

/* One relayed connection: client and upstream sockets, closed by the
 * second of its two copying threads to finish. */
typedef struct relay {
	int client, up;
	int running;
	pthread_mutex_t lock;
} relay;

typedef struct direction {
	relay *r;
	int from, to;
} direction;

static int relay_listen(int port)
{
	struct sockaddr_in a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copy one direction until either side closes, then close that way. */
static void *copy_bytes(void *arg)
{
	direction d = *(direction *)arg;
	char buf[65536];
	free(arg);
	for (;;) {
		ssize_t n = read(d.from, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(d.to, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto done;
			off += w;
		}
	}
done:
	shutdown(d.from, SHUT_RD);
	shutdown(d.to, SHUT_WR);
	pthread_mutex_lock(&d.r->lock);
	bool last = --d.r->running == 0;
	pthread_mutex_unlock(&d.r->lock);
	if (last) {
		close(d.r->client);
		close(d.r->up);
		pthread_mutex_destroy(&d.r->lock);
		free(d.r);
	}
	return NULL;
}

static void start_copy(relay *r, int from, int to)
{
	pthread_t t;
	direction *d = malloc(sizeof(*d));
	if (d) {
		d->r = r;
		d->from = from;
		d->to = to;
		if (pthread_create(&t, NULL, copy_bytes, d) == 0) {
			pthread_detach(t);
			return;
		}
		free(d);
	}
	/* this direction never runs: stop the other one, count this one done */
	shutdown(from, SHUT_RDWR);
	shutdown(to, SHUT_RDWR);
	pthread_mutex_lock(&r->lock);
	bool last = --r->running == 0;
	pthread_mutex_unlock(&r->lock);
	if (last) {
		close(r->client);
		close(r->up);
		pthread_mutex_destroy(&r->lock);
		free(r);
	}
}

static void relay_accept(int lfd)
{
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		return;
	int u = socket(AF_INET, SOCK_STREAM, 0);
	relay *r = u >= 0 ? calloc(1, sizeof(*r)) : NULL;
	if (!r || connect(u, (struct sockaddr *)&upstream, sizeof(upstream)) < 0) {
		close(c);
		if (u >= 0)
			close(u);
		free(r);
		return;
	}
	r->client = c;
	r->up = u;
	r->running = 2;
	pthread_mutex_init(&r->lock, NULL);
	start_copy(r, c, u);
	start_copy(r, u, c);
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
