/*
 * The topic configurations the broker knows (CreateTopics, DescribeConfigs),
 * with their defaults and the check of a value a client sets.
 */
#ifndef PGK_TOPIC_CONFIG_H
#define PGK_TOPIC_CONFIG_H

#include <stdbool.h>

#include "arena.h"
#include "kbuf.h"

typedef enum config_kind { CK_STRING, CK_INT, CK_LONG, CK_BOOL, CK_LIST } config_kind;
typedef struct topic_config_def {
	const char *name;
	const char *dflt; /* NULL: taken from the broker config (see topic_config.c) */
	config_kind kind;
	const char *const *allowed; /* NULL-terminated list of legal values (for CK_LIST:
				     * of each comma-separated element), or NULL */
	int64_t min;                /* CK_INT, CK_LONG: smallest legal value */
} topic_config_def;

/*
 * Kafka's list type: elements split at commas, blanks (space, tab) around
 * each ignored. Every element is visited, empty ones included ("" is one
 * empty element, as Kafka's split reads it); a null list has none:
 *
 *   config_list_iter it;
 *   kstr el;
 *   for (config_list_init(&it, value); config_list_next(&it, &el);)
 *           ...
 */
typedef struct config_list_iter {
	const char *p, *end;
	bool done;
} config_list_iter;

void config_list_init(config_list_iter *it, kstr list);
bool config_list_next(config_list_iter *it, kstr *el);
/* Whether the list has the element e. */
bool config_list_has(kstr list, kstr e);

extern const topic_config_def topic_config_defs[];
extern const int topic_config_count;
const topic_config_def *topic_config_lookup(kstr name);
/* The default value of a topic config, as text (arena-owned if computed). */
const char *topic_config_default(arena *a, const topic_config_def *d);
/* NULL if value is legal for d, else a message (static). A null value is
 * not legal: Kafka refuses it when a topic is created. */
const char *topic_config_check(const topic_config_def *d, kstr value);

#endif
