/*
 * The four Kafka compression codecs, behind one interface.
 * Codec numbers are the RecordBatch attribute values.
 */
#ifndef PGK_COMPRESS_H
#define PGK_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"

enum {
	CODEC_NONE = 0,
	CODEC_GZIP = 1,
	CODEC_SNAPPY = 2,
	CODEC_LZ4 = 3,
	CODEC_ZSTD = 4,
};

/* Codec from a topic's compression.type ("producer", "uncompressed", "gzip",
 * ...); -1 if the name is unknown. "producer" and "uncompressed" give NONE. */
int codec_from_name(const char *name);
const char *codec_name(int codec);

/* Append the compressed form of in[0..len) to out. 0 on success, -1 on error. */
int codec_compress(int codec, const uint8_t *in, size_t len, kwriter *out);

/*
 * Decompress in[0..len) into a malloc'd buffer (*out, *out_len).
 * Returns 0 on success, -1 if the input is corrupt or the codec unknown,
 * -2 if the output would exceed max_out bytes (decompression bombs).
 * Snappy accepts both raw blocks and the xerial framing Java clients use;
 * LZ4 is the LZ4 frame format; zstd frames may omit the content size.
 */
int codec_decompress(int codec, const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
		     size_t *out_len);

#endif
