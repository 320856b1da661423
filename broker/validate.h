/*
 * Validation of names and strings from requests before they reach
 * PostgreSQL: Kafka's topic name rule, and the one rule for every string
 * stored as PostgreSQL text (group ids, transactional ids, metadata).
 */
#ifndef PGK_VALIDATE_H
#define PGK_VALIDATE_H

#include <stdbool.h>

#include "kbuf.h"

/* offset.metadata.max.bytes, Kafka's default: the longest metadata an
 * OffsetCommit or TxnOffsetCommit may store. */
#define OFFSET_METADATA_MAX_BYTES 4096

/* Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
bool topic_name_valid(kstr name);

/* True if s (not null) can be PostgreSQL text in a UTF-8 database:
 * well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without NUL bytes. */
bool pgtext_valid(kstr s);

#endif
