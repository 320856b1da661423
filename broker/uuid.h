/*
 * Kafka UUIDs (topic ids) as PostgreSQL's text form.
 */
#ifndef PGK_UUID_H
#define PGK_UUID_H

#include <stdbool.h>

#include "arena.h"
#include "proto.h"

bool uuid_parse(const char *s, kuuid *out);
char *uuid_format(arena *a, const kuuid *u);
bool uuid_is_zero(const kuuid *u);

#endif
