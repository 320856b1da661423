/*
 * One-line logging: "2026-11-23T10:00:00.123Z INFO message" on stderr, or
 * "... INFO shadow: message" for a program that set a tag.
 *
 * Every message becomes exactly one line, written with a single write(2) so
 * that lines never interleave: embedded newlines (PostgreSQL error messages
 * often carry some) are folded into spaces, and trailing ones are dropped.
 * Messages above the level given to log_setup() are discarded before
 * formatting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* Long lines are cut here; nothing the broker logs should come close. */
#define LOG_LINE_MAX 8192

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

static int log_level = LOG_INFO;
static const char *log_tag;

static size_t format_timestamp(char *buf, size_t size);
static void write_all(int fd, const char *p, size_t n);

void log_setup(int level, const char *tag)
{
	log_level = level;
	log_tag = tag && *tag ? tag : NULL;
}

int log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{"error", LOG_ERROR}, {"warn", LOG_WARN},   {"warning", LOG_WARN},
		{"info", LOG_INFO},   {"debug", LOG_DEBUG}, {"0", LOG_ERROR},
		{"1", LOG_WARN},      {"2", LOG_INFO},      {"3", LOG_DEBUG},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	}
	return -1;
}

void log_msg(int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t len, head;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	if (level < LOG_ERROR)
		level = LOG_ERROR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;

	len = format_timestamp(line, sizeof(line));
	n = snprintf(line + len, sizeof(line) - len, " %s %s%s", level_names[level],
		     log_tag ? log_tag : "", log_tag ? ": " : "");
	len += (size_t)n;
	head = len;

	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line) - len) {
		/* Truncated: mark it, leaving room for the newline. */
		len = sizeof(line) - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	} else {
		len += (size_t)n;
	}

	while (len > head && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (size_t i = head; i < len; i++) {
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	}
	line[len++] = '\n';
	write_all(STDERR_FILENO, line, len);
}

static size_t format_timestamp(char *buf, size_t size)
{
	int64_t ms = clock_wall_ms();
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t len;

	gmtime_r(&sec, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	len += (size_t)snprintf(buf + len, size - len, ".%03dZ", (int)(ms % 1000));
	return len;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to complain */
		p += w;
		n -= (size_t)w;
	}
}
