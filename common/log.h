/*
 * One-line logging to stderr, the same for every program:
 *   2026-11-23T10:00:00.123Z INFO [tag: ]message
 * The program passes its settings in (log_setup); the logger reads no
 * program's configuration.
 */
#ifndef PGK_LOG_H
#define PGK_LOG_H

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Least severe level written (default LOG_INFO), and a tag put before every
 * message (NULL or "": none). The tag string must outlive the logging. */
void log_setup(int level, const char *tag);

/* "error", "warn"/"warning", "info", "debug" or 0..3 as a level; -1 if none. */
int log_level_parse(const char *name);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
