/*
 * Benchmark helpers (see util.h). Nothing here knows about scenarios.
 */
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* PostgreSQL timestamps count microseconds from 2000-01-01 UTC. */
#define PG_EPOCH_UNIX_S 946684800LL

static int read_proc_stat(int pid, long *ppid, double *self_s, double *children_s);
static int send_all(int fd, const void *buf, size_t len);
static int recv_all(int fd, void *buf, size_t len);
static uint8_t *read_frame(int fd, int32_t *len);

/* ---- clocks and /proc ---- */

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Fields 4 (ppid), 14-17 (utime, stime, cutime, cstime) of /proc/PID/stat.
 * The command name may hold spaces and parentheses: parse after the last ')'. */
static int read_proc_stat(int pid, long *ppid, double *self_s, double *children_s)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	char state;
	long pp, ignore;
	unsigned long utime, stime;
	long cutime, cstime;
	/* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime */
	if (sscanf(p + 1, " %c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %lu %lu %ld %ld", &state, &pp,
		   &ignore, &ignore, &ignore, &ignore, &ignore, &ignore, &ignore, &ignore, &ignore,
		   &utime, &stime, &cutime, &cstime) != 15)
		return -1;
	double tick = (double)sysconf(_SC_CLK_TCK);
	if (ppid)
		*ppid = pp;
	if (self_s)
		*self_s = (double)(utime + stime) / tick;
	if (children_s)
		*children_s = (double)(cutime + cstime) / tick;
	return 0;
}

double proc_cpu_s(int pid)
{
	double s;
	return read_proc_stat(pid, NULL, &s, NULL) == 0 ? s : -1;
}

double pg_cpu_s(int postmaster_pid)
{
	double self, reaped, total = 0;
	if (read_proc_stat(postmaster_pid, NULL, &self, &reaped) != 0)
		return -1;
	total = self + reaped;
	DIR *d = opendir("/proc");
	if (!d)
		return total;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		long ppid;
		double s;
		if (read_proc_stat(atoi(e->d_name), &ppid, &s, NULL) == 0 && ppid == postmaster_pid)
			total += s;
	}
	closedir(d);
	return total;
}

double machine_busy_s(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	/* user nice system idle iowait irq softirq steal */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

long proc_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- failing loudly ---- */

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pgk_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pgk_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- raw Kafka protocol ---- */

int tcp_connect(const char *host, int port)
{
	struct addrinfo hints = {0}, *res;
	char portstr[16];
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -1;
	int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A size-prefixed response frame, malloc'ed; NULL on error. */
static uint8_t *read_frame(int fd, int32_t *len)
{
	uint8_t hdr[4];
	if (recv_all(fd, hdr, 4) != 0)
		return NULL;
	int32_t n = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
			      (uint32_t)hdr[2] << 8 | hdr[3]);
	if (n < 4 || n > (1 << 30))
		return NULL;
	uint8_t *buf = malloc((size_t)n);
	if (!buf || recv_all(fd, buf, (size_t)n) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* A tiny big-endian writer for request frames. */
typedef struct wbuf {
	uint8_t b[512];
	size_t len;
} wbuf;

static void w_bytes(wbuf *w, const void *p, size_t n)
{
	if (w->len + n <= sizeof(w->b))
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void w_u8(wbuf *w, uint8_t v) { w_bytes(w, &v, 1); }
static void w_u16(wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	w_bytes(w, b, 2);
}
static void w_u32(wbuf *w, uint32_t v)
{
	w_u16(w, (uint16_t)(v >> 16));
	w_u16(w, (uint16_t)v);
}
static void w_u64(wbuf *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}
static void w_str(wbuf *w, const char *s)
{
	w_u16(w, (uint16_t)strlen(s));
	w_bytes(w, s, strlen(s));
}

/* Request header v1, after a 4-byte size placeholder. */
static void w_header(wbuf *w, int16_t api_key, int16_t version, int32_t correlation_id)
{
	w->len = 0;
	w_u32(w, 0);
	w_u16(w, (uint16_t)api_key);
	w_u16(w, (uint16_t)version);
	w_u32(w, (uint32_t)correlation_id);
	w_str(w, "pgk_bench");
}

static int w_send(int fd, wbuf *w)
{
	if (w->len > sizeof(w->b))
		return -1;
	uint32_t size = (uint32_t)(w->len - 4);
	w->b[0] = (uint8_t)(size >> 24);
	w->b[1] = (uint8_t)(size >> 16);
	w->b[2] = (uint8_t)(size >> 8);
	w->b[3] = (uint8_t)size;
	return send_all(fd, w->b, w->len);
}

static int32_t r_i32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

int kafka_api_versions(int fd, int32_t correlation_id)
{
	wbuf w;
	int32_t len;
	w_header(&w, 18, 0, correlation_id);
	if (w_send(fd, &w) != 0)
		return -1;
	uint8_t *resp = read_frame(fd, &len);
	if (!resp)
		return -1;
	int ok = len >= 6 && r_i32(resp) == correlation_id && resp[4] == 0 && resp[5] == 0;
	free(resp);
	return ok ? 0 : -1;
}

long kafka_fetch_v4(int fd, int32_t correlation_id, const char *topic, int32_t partition,
		    int64_t offset, int32_t partition_max_bytes, int16_t *error_code)
{
	wbuf w;
	int32_t len;
	w_header(&w, 1, 4, correlation_id);
	w_u32(&w, (uint32_t)-1);     /* replica_id */
	w_u32(&w, 0);                /* max_wait_ms */
	w_u32(&w, 0);                /* min_bytes */
	w_u32(&w, 64 * 1024 * 1024); /* max_bytes */
	w_u8(&w, 0);                 /* isolation_level */
	w_u32(&w, 1);
	w_str(&w, topic);
	w_u32(&w, 1);
	w_u32(&w, (uint32_t)partition);
	w_u64(&w, (uint64_t)offset);
	w_u32(&w, (uint32_t)partition_max_bytes);
	if (w_send(fd, &w) != 0)
		return -1;
	uint8_t *resp = read_frame(fd, &len);
	if (!resp)
		return -1;
	/* correlation_id, throttle_time_ms, [topic [partition error hw lso
	 * aborted_transactions records]] */
	long result = -1;
	size_t tlen, pos;
	if (len < 14 || r_i32(resp) != correlation_id || r_i32(resp + 8) != 1)
		goto out;
	tlen = (size_t)(resp[12] << 8 | resp[13]);
	pos = 14 + tlen;
	if ((size_t)len < pos + 4 + 4 + 2 + 8 + 8 + 4 || r_i32(resp + pos) != 1)
		goto out;
	pos += 8;
	*error_code = (int16_t)(resp[pos] << 8 | resp[pos + 1]);
	pos += 2 + 16;
	int32_t naborted = r_i32(resp + pos);
	pos += 4 + (naborted > 0 ? 16 * (size_t)naborted : 0);
	if ((size_t)len < pos + 4)
		goto out;
	result = r_i32(resp + pos);
	if (result < 0)
		result = 0;
out:
	free(resp);
	return result;
}

/* ---- PostgreSQL ---- */

PGconn *pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect to PostgreSQL (%s): %s", conninfo, PQerrorMessage(c));
	return c;
}

void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		die("SQL failed: %s\n  %s", PQerrorMessage(c), sql);
	PQclear(r);
}

long long pg_i64(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		die("SQL failed: %s\n  %s", PQerrorMessage(c), sql);
	long long v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

char *pg_text(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		die("SQL failed: %s\n  %s", PQerrorMessage(c), sql);
	char *s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

/* A growable buffer of binary COPY data. */
typedef struct cbuf {
	char *p;
	size_t len, cap;
} cbuf;

static void cb_put(cbuf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("out of memory");
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void cb_u16(cbuf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	cb_put(b, x, 2);
}

static void cb_u32(cbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	cb_put(b, x, 4);
}

static void cb_u64(cbuf *b, uint64_t v)
{
	cb_u32(b, (uint32_t)(v >> 32));
	cb_u32(b, (uint32_t)v);
}

static void copy_flush(PGconn *c, cbuf *b)
{
	if (b->len && PQputCopyData(c, b->p, (int)b->len) != 1)
		die("COPY data failed: %s", PQerrorMessage(c));
	b->len = 0;
}

double copy_records_in(PGconn *c, const char *topic, int partitions, int64_t first_offset,
		       long n, int value_size)
{
	static const char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', 0};
	cbuf b = {0};
	char *value = malloc((size_t)value_size);
	size_t tlen = strlen(topic);
	struct timespec wall;

	if (!value)
		die("out of memory");
	for (int i = 0; i < value_size; i++)
		value[i] = (char)('a' + i % 26);
	clock_gettime(CLOCK_REALTIME, &wall);
	int64_t ts_us = ((int64_t)wall.tv_sec - PG_EPOCH_UNIX_S) * 1000000 + wall.tv_nsec / 1000;

	double t0 = now_s();
	PGresult *r = PQexec(c, "COPY kafka.records (topic, partition, \"offset\", \"timestamp\","
				" key, value, headers) FROM STDIN (FORMAT binary)");
	if (PQresultStatus(r) != PGRES_COPY_IN)
		die("COPY FROM STDIN failed: %s", PQerrorMessage(c));
	PQclear(r);
	cb_put(&b, signature, sizeof(signature));
	cb_u32(&b, 0); /* flags */
	cb_u32(&b, 0); /* header extension length */
	for (long i = 0; i < n; i++) {
		cb_u16(&b, 7);
		cb_u32(&b, (uint32_t)tlen);
		cb_put(&b, topic, tlen);
		cb_u32(&b, 4);
		cb_u32(&b, (uint32_t)(i % partitions));
		cb_u32(&b, 8);
		cb_u64(&b, (uint64_t)(first_offset + i / partitions));
		cb_u32(&b, 8);
		cb_u64(&b, (uint64_t)ts_us);
		cb_u32(&b, (uint32_t)-1); /* key */
		cb_u32(&b, (uint32_t)value_size);
		cb_put(&b, value, (size_t)value_size);
		cb_u32(&b, (uint32_t)-1); /* headers */
		if (b.len >= 1 << 20)
			copy_flush(c, &b);
	}
	cb_u16(&b, 0xffff); /* trailer */
	copy_flush(c, &b);
	if (PQputCopyEnd(c, NULL) != 1)
		die("COPY end failed: %s", PQerrorMessage(c));
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("COPY failed: %s", PQerrorMessage(c));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	double secs = now_s() - t0;
	free(b.p);
	free(value);
	return secs;
}

double copy_records_out(PGconn *c, const char *topic, int partition, long *rows, long *bytes)
{
	char *lit = PQescapeLiteral(c, topic, strlen(topic));
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "COPY (SELECT \"offset\", \"timestamp\", key, value, headers FROM kafka.records"
		 " WHERE topic = %s AND partition = %d ORDER BY \"offset\") TO STDOUT (FORMAT binary)",
		 lit, partition);
	PQfreemem(lit);

	double t0 = now_s();
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT)
		die("COPY TO STDOUT failed: %s", PQerrorMessage(c));
	PQclear(r);
	*rows = 0;
	*bytes = 0;
	char *buf;
	int n;
	/* The server sends one CopyData message per row; the first also carries
	 * the file header and the last one the trailer. */
	while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
		*bytes += n;
		(*rows)++;
		PQfreemem(buf);
	}
	if (n == -2)
		die("COPY TO STDOUT failed: %s", PQerrorMessage(c));
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("COPY TO STDOUT failed: %s", PQerrorMessage(c));
	*rows = atol(PQcmdTuples(r));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return now_s() - t0;
}
