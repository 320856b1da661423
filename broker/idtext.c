/*
 * Kafka ids as PostgreSQL text (see idtext.h).
 */
#include <stdint.h>
#include <string.h>

#include "idtext.h"
#include "validate.h"

#define REPL 0xfffd /* what Java's decoder puts for an ill-formed sequence */
#define ESC 0xe000  /* the escape prefix of the internal form */

static const char esc_utf8[3] = {'\xee', '\x80', '\x80'};

static bool cont(uint8_t b);
static size_t put_utf8(uint32_t cp, char *out);
static size_t put_internal(uint32_t cp, char *out);
static int malformed4_len(uint8_t b1, uint8_t b2, uint8_t b3);
static bool malformed4_2(uint8_t b1, uint8_t b2);
static size_t decode(const uint8_t *p, size_t n, char *out);

static bool cont(uint8_t b) { return (b & 0xc0) == 0x80; }

static size_t put_utf8(uint32_t cp, char *out)
{
	uint8_t *o = (uint8_t *)out;

	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | (cp >> 18));
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* One decoded code point in the internal form: at most 6 bytes. */
static size_t put_internal(uint32_t cp, char *out)
{
	if (cp != 0 && cp != ESC)
		return put_utf8(cp, out);
	memcpy(out, esc_utf8, 3);
	return 3 + put_utf8(cp == 0 ? ESC + 1 : ESC, out + 3);
}

/* How many bytes of an ill-formed four-byte sequence Java's decoder
 * replaces by one U+FFFD: the longest prefix that could still have begun a
 * valid sequence. */
static int malformed4_len(uint8_t b1, uint8_t b2, uint8_t b3)
{
	if (b1 > 0xf4 || (b1 == 0xf0 && (b2 < 0x90 || b2 > 0xbf)) ||
	    (b1 == 0xf4 && (b2 & 0xf0) != 0x80) || !cont(b2))
		return 1;
	return cont(b3) ? 3 : 2;
}

/* A four-byte lead and its second byte that cannot begin a valid sequence. */
static bool malformed4_2(uint8_t b1, uint8_t b2)
{
	return (b1 == 0xf0 && (b2 < 0x90 || b2 > 0xbf)) || (b1 == 0xf4 && (b2 & 0xf0) != 0x80) ||
	       !cont(b2);
}

bool idtext_plain(kstr s)
{
	return s.len >= 0 && pgtext_valid(s) && !memmem(s.ptr, (size_t)s.len, esc_utf8, 3);
}

/*
 * The decoding loop follows, case by case, the replacement rules of the
 * JDK's String(byte[], UTF_8): how many bytes one U+FFFD stands for, and a
 * truncated sequence at the end that yields a single U+FFFD.
 */
#define EMIT(cp)                                                                                   \
	do {                                                                                       \
		char one_[6];                                                                      \
		size_t k_ = put_internal((cp), one_);                                              \
		if (out)                                                                           \
			memcpy(out + o, one_, k_);                                                 \
		o += k_;                                                                           \
	} while (0)

/* Writes the internal form of p[0..n) to out, or only counts its bytes if
 * out is NULL. */
static size_t decode(const uint8_t *p, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t start = i;
		uint8_t b1 = p[i++];

		if (b1 < 0x80) {
			EMIT(b1);
		} else if (b1 >= 0xc2 && b1 <= 0xdf) {
			if (i >= n) {
				EMIT(REPL);
				break;
			}
			if (!cont(p[i])) {
				EMIT(REPL);
				continue;
			}
			EMIT(((uint32_t)(b1 & 0x1f) << 6) | (p[i] & 0x3f));
			i++;
		} else if ((b1 & 0xf0) == 0xe0) {
			if (i + 1 < n) {
				uint8_t b2 = p[i], b3 = p[i + 1];
				bool short2 = (b1 == 0xe0 && (b2 & 0xe0) == 0x80) || !cont(b2);
				if (short2 || !cont(b3)) {
					EMIT(REPL);
					i = start + (short2 ? 1 : 2);
					continue;
				}
				uint32_t cp = ((uint32_t)(b1 & 0x0f) << 12) |
					      ((uint32_t)(b2 & 0x3f) << 6) | (b3 & 0x3f);
				EMIT(cp >= 0xd800 && cp <= 0xdfff ? REPL : cp);
				i += 2;
				continue;
			}
			EMIT(REPL);
			if (i < n && ((b1 == 0xe0 && (p[i] & 0xe0) == 0x80) || !cont(p[i])))
				continue;
			break;
		} else if ((b1 & 0xf8) == 0xf0) {
			if (i + 2 < n) {
				uint8_t b2 = p[i], b3 = p[i + 1], b4 = p[i + 2];
				uint32_t cp = ((uint32_t)(b1 & 0x07) << 18) |
					      ((uint32_t)(b2 & 0x3f) << 12) |
					      ((uint32_t)(b3 & 0x3f) << 6) | (b4 & 0x3f);
				if (!cont(b2) || !cont(b3) || !cont(b4) || cp < 0x10000 ||
				    cp > 0x10ffff) {
					EMIT(REPL);
					i = start + (size_t)malformed4_len(b1, b2, b3);
				} else {
					EMIT(cp);
					i += 3;
				}
				continue;
			}
			EMIT(REPL);
			if (b1 > 0xf4 || (i < n && malformed4_2(b1, p[i])))
				continue;
			/* A valid start cut short by the end: one U+FFFD for it. */
			i++;
			if (i < n && !cont(p[i]))
				continue;
			break;
		} else {
			EMIT(REPL);
		}
	}
	return o;
}

kstr idtext_from_wire(kstr wire, arena *a)
{
	if (wire.len <= 0 || idtext_plain(wire))
		return wire;

	const uint8_t *p = (const uint8_t *)wire.ptr;
	size_t len = decode(p, (size_t)wire.len, NULL);
	if (len > INT32_MAX)
		return (kstr){NULL, -2};
	char *out = arena_alloc(a, len);
	decode(p, (size_t)wire.len, out);
	return (kstr){out, (int32_t)len};
}

size_t idtext_to_wire(kstr internal, char *out)
{
	const char *p = internal.ptr;
	size_t n = internal.len > 0 ? (size_t)internal.len : 0, i = 0, o = 0;

	while (i < n) {
		const char *e = memmem(p + i, n - i, esc_utf8, 3);
		size_t run = e ? (size_t)(e - (p + i)) : n - i;
		memcpy(out + o, p + i, run);
		o += run;
		i += run;
		if (!e)
			break;
		if (i + 6 <= n && memcmp(p + i + 3, esc_utf8, 2) == 0 &&
		    ((uint8_t)p[i + 5] == 0x81 || (uint8_t)p[i + 5] == 0x80)) {
			if ((uint8_t)p[i + 5] == 0x81) {
				out[o++] = '\0';
			} else {
				memcpy(out + o, esc_utf8, 3);
				o += 3;
			}
			i += 6;
		} else {
			memcpy(out + o, esc_utf8, 3);
			o += 3;
			i += 3;
		}
	}
	return o;
}
