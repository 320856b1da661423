/*
 * The forwarder's log line: UTC time, level, "shadow:", the message, on
 * stderr (librdkafka writes its own lines there too).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "shadow.h"

void shadow_log(const char *level, const char *fmt, ...)
{
	char buf[2048], when[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	fprintf(stderr, "%s.%03dZ %s shadow: %s\n", when, (int)(tv.tv_usec / 1000), level, buf);
}
