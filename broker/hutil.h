/*
 * What every handler needs beside its own API: whether a PostgreSQL failure
 * is worth retrying, and the wall clock Kafka timestamps use. (Arena
 * strings, statement parameters, validation, topic configs and UUIDs have
 * modules of their own: arena_str.h, params.h, validate.h, topic_config.h,
 * uuid.h.)
 */
#ifndef PGK_HUTIL_H
#define PGK_HUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Retriable (the pool said so, or sqlstate_retriable()): try again later. */
bool db_error_retriable(const char *sqlstate, bool retriable);

/* Wall clock in milliseconds since the Unix epoch. */
int64_t now_ms(void);

#endif
