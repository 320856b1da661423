/*
 * Byte helpers shared by the output plugin and the SQL functions: Kafka's
 * header encoding, murmur2 partitioning, UTF-8 checks and JSON writing of
 * byte strings. Everything here is pure (no catalog access).
 */
#ifndef PGK_KBYTES_H
#define PGK_KBYTES_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* One decoded header. key and value point into the encoded buffer;
 * value_len is -1 for a null value. */
typedef struct kheader {
	const char *key;
	int key_len;
	const char *value;
	int value_len;
} kheader;

/*
 * Decode a header section in Kafka wire encoding (zigzag varint count, then
 * per header a varint key length, the key, a varint value length or -1, the
 * value). Returns false, with *headers and *count untouched, if the bytes
 * are not exactly one well-formed header section. The array is palloc'd.
 */
extern bool kheaders_decode(const char *data, int len, kheader **headers, int *count);

/* Append a header section for count headers; values may be NULL (null). */
extern void kheaders_encode(StringInfo out, int count, const char *const *keys, const int *key_lens,
			    const char *const *values, const int *value_lens);

/* Kafka's murmur2 (the Java client's Utils.murmur2), as a signed 32-bit value. */
extern int32 kafka_murmur2(const char *data, int len);

/* The partition the Java client's default partitioner picks for a key. */
extern int32 kafka_key_partition(const char *key, int len, int32 partitions);

/* True if data is well-formed UTF-8 without NUL characters: text. */
extern bool kbytes_is_text(const char *data, int len);

/* Append data as the body of a JSON string (no quotes), escaping what JSON
 * requires; the bytes are copied as they are otherwise. */
extern void kjson_escape(StringInfo out, const char *data, int len);

/* Append data as a quoted JSON string of its base64 encoding. */
extern void kjson_base64(StringInfo out, const char *data, int len);

/* How kjson_bytes writes a byte string. */
typedef enum kjson_bytes_mode {
	KJSON_BASE64, /* always a base64 JSON string */
	KJSON_TEXT,   /* a JSON string if valid UTF-8 without NUL, else {"base64":"..."} */
} kjson_bytes_mode;

/* Append a byte string as a JSON value (null for NULL data). */
extern void kjson_bytes(StringInfo out, const char *data, int len, kjson_bytes_mode mode);

/* Append headers as a JSON array of {"key":..,"value":..} objects (values
 * as kjson_bytes writes them), or, if they do not decode, their raw bytes
 * as a base64 JSON string. Keys are always text (invalid UTF-8 replaced by
 * their base64 object form). */
extern void kjson_headers(StringInfo out, const char *data, int len, kjson_bytes_mode mode);

/* Milliseconds since the Unix epoch of a PostgreSQL timestamp; -infinity
 * and infinity are INT64_MIN and INT64_MAX. */
extern int64 kafka_timestamp_ms(int64 pg_timestamp);

/* The PostgreSQL timestamp of a Kafka timestamp (milliseconds since the
 * Unix epoch, any int64): exact where timestamptz can hold it, -infinity
 * or infinity beyond its range. */
extern int64 kafka_ms_to_timestamp(int64 ms);

#endif
