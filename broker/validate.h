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
 * OffsetCommit or TxnOffsetCommit may store, in UTF-16 code units as Kafka
 * counts it (offset_rows.c). */
#define OFFSET_METADATA_MAX_BYTES 4096

/* Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
bool topic_name_valid(kstr name);

/* Topic.isInternal: the names Kafka keeps for its own topics. */
bool topic_is_internal(kstr name);

/* True if s (not null) can be PostgreSQL text in a UTF-8 database:
 * well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without NUL bytes. */
bool pgtext_valid(kstr s);

/* The longest group id or transactional id stored, in bytes of its
 * internal form (idtext.h). They are primary key
 * columns, and a btree entry holds at most 2704 bytes: the widest key,
 * kafka.txn_offsets' (transactional id, group id, topic, partition), fits
 * with both ids at this bound and a 249-byte topic name, however poorly
 * the ids compress. Kafka sets no bound; longer ids are refused. */
#define ID_MAX_BYTES 1024

/* True if s (not null) can be stored as a group id or transactional id:
 * at most ID_MAX_BYTES bytes. Ids reach handlers in their internal form
 * (idtext.h), which is always PostgreSQL text, whatever bytes the client
 * sent; the length is all that is left to check. An id that is only looked
 * up needs no check: a longer one is simply not found. */
bool pgid_valid(kstr s);

/* True if a statement failed on a value it was given rather than on the
 * database: a data exception (class 22: a number or time out of range, a
 * byte sequence that is not UTF-8) or a program limit (class 54: an index
 * entry too large). The values are checked before they reach a statement;
 * a failure that still gets through is the request's fault, answered with
 * a non-retriable Kafka error, not the server's. */
bool sqlstate_bad_input(const char *sqlstate);

#endif
