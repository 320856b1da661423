/*
 * Kafka ids as PostgreSQL text.
 *
 * Kafka reads a group id, a transactional id or a client id as a Java
 * string: any bytes, with each ill-formed UTF-8 sequence turned into
 * U+FFFD, and U+0000 kept. PostgreSQL text holds neither NUL nor invalid
 * UTF-8. The codec therefore turns the wire bytes of these ids into an
 * internal form that is always valid, NUL-free UTF-8, and turns it back on
 * the way out; handlers, the coordinators' maps and every table only ever
 * see the internal form.
 *
 * The internal form of wire bytes:
 *   1. decode the bytes as Java's UTF-8 decoder does with replacement
 *      (String(byte[], UTF_8)): an ill-formed sequence becomes U+FFFD,
 *      exactly as many as Kafka's broker produces;
 *   2. escape with the private-use code point U+E000 as prefix:
 *        U+0000 -> U+E000 U+E001
 *        U+E000 -> U+E000 U+E000
 *      every other code point stands for itself.
 * The escape is injective and reversed exactly by idtext_to_wire. An id
 * that is valid UTF-8 without NUL and without U+E000 is its own internal
 * form, byte for byte.
 */
#ifndef PGK_IDTEXT_H
#define PGK_IDTEXT_H

#include <stddef.h>

#include "arena.h"
#include "kbuf.h"

/* The internal form of wire bytes (null stays null). When the wire bytes
 * are already their own internal form, the result points at them; otherwise
 * it is allocated from a. Its len is -2 if the internal form would be
 * longer than an int32 can say (hundreds of megabytes of NULs). */
kstr idtext_from_wire(kstr wire, arena *a);

/* True if s (not null) is its own wire form and internal form: valid
 * UTF-8 without NUL and without U+E000. */
bool idtext_plain(kstr s);

/* The wire bytes of an internal form, written to out, which has room for
 * internal.len bytes (the wire form is never longer). Returns the number
 * of bytes written. An U+E000 not followed by U+E000 or U+E001 (not made by
 * idtext_from_wire, e.g. typed in SQL) is copied as it is. */
size_t idtext_to_wire(kstr internal, char *out);

#endif
