/*
 * Helpers for the benchmark: clocks, process accounting from /proc,
 * percentiles, raw Kafka frames over plain sockets, and PostgreSQL binary
 * COPY rows for kafka.records.
 */
#ifndef PGK_BENCH_UTIL_H
#define PGK_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* ---- clocks and /proc ---- */

double now_s(void);   /* CLOCK_MONOTONIC, seconds */
int64_t now_ns(void); /* CLOCK_MONOTONIC, nanoseconds */
/* utime + stime of one process, seconds; -1 if it is gone. */
double proc_cpu_s(int pid);
/* CPU of a PostgreSQL server: the postmaster, its live children and the
 * children it has reaped (cutime + cstime), seconds. */
double pg_cpu_s(int postmaster_pid);
/* Busy CPU of the whole machine (every state of /proc/stat's cpu line but
 * idle and iowait), seconds. */
double machine_busy_s(void);
/* VmRSS in kB; -1 if unknown. */
long proc_rss_kb(int pid);

/* ---- statistics ---- */

/* The q-quantile (0 < q <= 1) of v[0..n), nearest rank; sorts v. */
double quantile(double *v, size_t n, double q);

/* ---- failing loudly ---- */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- raw Kafka protocol (plain sockets) ---- */

int tcp_connect(const char *host, int port); /* blocking, TCP_NODELAY; -1 on failure */
/* Send an ApiVersions v0 request and read its response; 0 on success. */
int kafka_api_versions(int fd, int32_t correlation_id);
/* Fetch v4 of one partition with max_wait_ms 0. Returns the size of the
 * record set, or -1 on a transport or protocol error; *error_code gets the
 * partition's error code. */
long kafka_fetch_v4(int fd, int32_t correlation_id, const char *topic, int32_t partition,
		    int64_t offset, int32_t partition_max_bytes, int16_t *error_code);

/* ---- PostgreSQL ---- */

PGconn *pg_connect(const char *conninfo);
void pg_exec(PGconn *c, const char *sql);
long long pg_i64(PGconn *c, const char *sql); /* first column of the first row */
char *pg_text(PGconn *c, const char *sql);    /* malloc'ed copy */

/*
 * COPY n rows into kafka.records in binary format: row i goes to
 * partition i % partitions at offset first_offset + i / partitions, with a
 * null key, no headers, and a value of value_size bytes. Returns the
 * seconds from the COPY statement to its result (one transaction).
 */
double copy_records_in(PGconn *c, const char *topic, int partitions, int64_t first_offset,
		       long n, int value_size);
/* COPY (SELECT the columns a fetch reads ... ORDER BY offset) TO STDOUT
 * (FORMAT binary) of one partition. Returns the seconds; *rows and *bytes
 * get what came back. */
double copy_records_out(PGconn *c, const char *topic, int partition, long *rows, long *bytes);

#endif
