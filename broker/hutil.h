/*
 * Small helpers shared by the request handlers: arena-backed arrays and
 * strings, statement parameters, topic name and config validation, UUIDs,
 * and the mapping of PostgreSQL failures to Kafka error codes.
 */
#ifndef PGK_HUTIL_H
#define PGK_HUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "apis.h"
#include "arena.h"
#include "pool.h"

struct event_base;

#define ARENA_NEW_ARRAY(a, type, n)                                                                \
	((type *)arena_alloc((a), sizeof(type) * (size_t)((n) > 0 ? (n) : 1)))

static inline karray karray_of(void *items, int32_t n) { return (karray){n, items}; }

/* A NUL-terminated copy of s in the arena ("" for null). */
char *arena_cstr(arena *a, kstr s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline kstr kstr_a(const char *s) { return kstr_c(s); }

/* Parameters of one statement; values are NUL-terminated text unless
 * added with params_bin. */
#define PARAMS_MAX 16
typedef struct params {
	const char *values[PARAMS_MAX];
	int lengths[PARAMS_MAX];
	int formats[PARAMS_MAX];
	int n;
} params;

void params_str(params *p, arena *a, kstr s); /* null kstr -> SQL NULL */
void params_int(params *p, arena *a, int64_t v);
void params_bin(params *p, const void *data, int len);
db_stmt params_stmt(query_id q, const params *p, int result_format);

/* Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
bool topic_name_valid(kstr name);

/* Topic configurations the broker knows, with their defaults. */
typedef enum config_kind { CK_STRING, CK_INT, CK_LONG, CK_BOOL, CK_LIST } config_kind;
typedef struct topic_config_def {
	const char *name;
	const char *dflt; /* NULL: taken from the broker config (see hutil.c) */
	config_kind kind;
	const char *const *allowed; /* NULL-terminated list of legal values, or NULL */
} topic_config_def;

extern const topic_config_def topic_config_defs[];
extern const int topic_config_count;
const topic_config_def *topic_config_lookup(kstr name);
/* The default value of a topic config, as text (arena-owned if computed). */
const char *topic_config_default(arena *a, const topic_config_def *d);
/* NULL if value is legal for d, else a message (static). */
const char *topic_config_check(const topic_config_def *d, kstr value);

bool uuid_parse(const char *s, kuuid *out);
char *uuid_format(arena *a, const kuuid *u);
bool uuid_is_zero(const kuuid *u);

/* Retriable (the pool said so, or sqlstate_retriable()): try again later. */
bool db_error_retriable(const char *sqlstate, bool retriable);

/* Wall clock in milliseconds since the Unix epoch. */
int64_t now_ms(void);

/* The broker's event loop, for handler timers (set by handlers_init). */
extern struct event_base *handler_base;

#endif
