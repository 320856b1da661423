/*
 * Kafka's compression codecs (gzip, snappy, lz4, zstd) behind one interface.
 *
 * Decompression treats its input as hostile: output is written into a buffer
 * that grows by doubling but never past max_out + 1 bytes, so producing that
 * extra byte is the proof that the output is too large (-2). Sizes claimed
 * by a frame header are only used as a hint, capped by the same limit.
 *
 * Compressed output follows what the Java client reads back: a gzip wrapper,
 * raw snappy blocks, LZ4 frames with independent 64 KiB blocks, and plain
 * zstd frames carrying their content size.
 */
#include "compress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#define OBUF_MIN 256
#define XERIAL_HEADER 16

/* Decompression output, bounded by limit (= max_out + 1). */
struct obuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t limit;
	size_t max_out;
};

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static int obuf_init(struct obuf *o, size_t max_out, size_t hint);
static int obuf_grow(struct obuf *o);
static void obuf_hint(struct obuf *o, unsigned long long size);
/* A size stated by a frame header: trusted only up to the limit. */
static void obuf_hint(struct obuf *o, unsigned long long size)
{
	size_t cap;
	uint8_t *np;

	cap = size < o->limit ? (size_t)size : o->limit;
	if (cap <= o->cap)
		return;
	np = realloc(o->p, cap);
	if (np == NULL)
		return; /* growing later will fail properly */
	o->p = np;
	o->cap = cap;
}

static int obuf_finish(struct obuf *o, int rc, uint8_t **out, size_t *out_len);

static int gzip_compress(const uint8_t *in, size_t len, kwriter *out);
static int gzip_decompress(const uint8_t *in, size_t len, struct obuf *o);
static int snappy_compress_raw(const uint8_t *in, size_t len, kwriter *out);
static int snappy_decompress_any(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
				 size_t *out_len);
static int snappy_decompress_xerial(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
				    size_t *out_len);
static int lz4_compress(const uint8_t *in, size_t len, kwriter *out);
static int lz4_decompress(const uint8_t *in, size_t len, struct obuf *o);
static int zstd_compress(const uint8_t *in, size_t len, kwriter *out);
static int zstd_decompress(const uint8_t *in, size_t len, struct obuf *o);

int codec_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "producer") == 0 || strcmp(name, "uncompressed") == 0 ||
	    strcmp(name, "none") == 0)
		return CODEC_NONE;
	if (strcmp(name, "gzip") == 0)
		return CODEC_GZIP;
	if (strcmp(name, "snappy") == 0)
		return CODEC_SNAPPY;
	if (strcmp(name, "lz4") == 0)
		return CODEC_LZ4;
	if (strcmp(name, "zstd") == 0)
		return CODEC_ZSTD;
	return -1;
}

const char *codec_name(int codec)
{
	switch (codec) {
	case CODEC_NONE:
		return "none";
	case CODEC_GZIP:
		return "gzip";
	case CODEC_SNAPPY:
		return "snappy";
	case CODEC_LZ4:
		return "lz4";
	case CODEC_ZSTD:
		return "zstd";
	default:
		return "unknown";
	}
}

/* ---- bounded output buffer ---- */

static int obuf_init(struct obuf *o, size_t max_out, size_t hint)
{
	o->max_out = max_out;
	o->limit = max_out < SIZE_MAX ? max_out + 1 : SIZE_MAX;
	if (hint < OBUF_MIN)
		hint = OBUF_MIN;
	o->cap = hint < o->limit ? hint : o->limit;
	o->len = 0;
	o->p = malloc(o->cap);
	return o->p ? 0 : -1;
}

/* -2 once the buffer already holds limit bytes: the output is too big. */
static int obuf_grow(struct obuf *o)
{
	size_t cap;
	uint8_t *np;

	if (o->cap >= o->limit)
		return -2;
	cap = o->cap <= o->limit / 2 ? o->cap * 2 : o->limit;
	np = realloc(o->p, cap);
	if (np == NULL)
		return -1;
	o->p = np;
	o->cap = cap;
	return 0;
}

static int obuf_finish(struct obuf *o, int rc, uint8_t **out, size_t *out_len)
{
	if (rc == 0 && o->len > o->max_out)
		rc = -2;
	if (rc != 0) {
		free(o->p);
		o->p = NULL;
		return rc;
	}
	*out = o->p;
	*out_len = o->len;
	return 0;
}

/* ---- public entry points ---- */

int codec_compress(int codec, const uint8_t *in, size_t len, kwriter *out)
{
	size_t start = out->len;
	int rc;

	switch (codec) {
	case CODEC_NONE:
		kw_raw(out, in, len);
		return 0;
	case CODEC_GZIP:
		rc = gzip_compress(in, len, out);
		break;
	case CODEC_SNAPPY:
		rc = snappy_compress_raw(in, len, out);
		break;
	case CODEC_LZ4:
		rc = lz4_compress(in, len, out);
		break;
	case CODEC_ZSTD:
		rc = zstd_compress(in, len, out);
		break;
	default:
		rc = -1;
		break;
	}
	/* Leave the writer as it was if anything failed half way. */
	if (rc != 0)
		out->len = start;
	return rc;
}

int codec_decompress(int codec, const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
		     size_t *out_len)
{
	struct obuf o;
	int rc;

	*out = NULL;
	*out_len = 0;
	switch (codec) {
	case CODEC_NONE:
		if (len > max_out)
			return -2;
		if (obuf_init(&o, max_out, len) != 0)
			return -1;
		if (len > 0)
			memcpy(o.p, in, len);
		o.len = len;
		return obuf_finish(&o, 0, out, out_len);
	case CODEC_SNAPPY:
		return snappy_decompress_any(in, len, max_out, out, out_len);
	case CODEC_GZIP:
		/* Batches compress roughly 4:1; start there and double. */
		if (obuf_init(&o, max_out, len < SIZE_MAX / 4 ? len * 4 : len) != 0)
			return -1;
		rc = gzip_decompress(in, len, &o);
		return obuf_finish(&o, rc, out, out_len);
	case CODEC_LZ4:
		if (obuf_init(&o, max_out, len < SIZE_MAX / 4 ? len * 4 : len) != 0)
			return -1;
		rc = lz4_decompress(in, len, &o);
		return obuf_finish(&o, rc, out, out_len);
	case CODEC_ZSTD:
		if (obuf_init(&o, max_out, len < SIZE_MAX / 4 ? len * 4 : len) != 0)
			return -1;
		rc = zstd_decompress(in, len, &o);
		return obuf_finish(&o, rc, out, out_len);
	default:
		return -1;
	}
}

/* ---- gzip ---- */

static int gzip_compress(const uint8_t *in, size_t len, kwriter *out)
{
	z_stream zs;
	size_t left = len;
	int zr;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16 asks zlib for the gzip wrapper. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	kw_reserve(out, deflateBound(&zs, (uLong)len));
	zs.next_in = (Bytef *)(uintptr_t)in;
	do {
		size_t room;
		uInt before;

		if (zs.avail_in == 0 && left > 0) {
			zs.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
			left -= zs.avail_in;
		}
		if (out->cap == out->len)
			kw_reserve(out, 65536);
		room = out->cap - out->len;
		zs.next_out = out->buf + out->len;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		before = zs.avail_out;
		zr = deflate(&zs, left == 0 ? Z_FINISH : Z_NO_FLUSH);
		out->len += before - zs.avail_out;
		if (zr == Z_STREAM_ERROR) {
			deflateEnd(&zs);
			return -1;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&zs);
	return 0;
}

/*
 * Accepts gzip (and zlib) streams; several gzip members one after another
 * decode as their concatenation, as GZIPInputStream does.
 */
static int gzip_decompress(const uint8_t *in, size_t len, struct obuf *o)
{
	z_stream zs;
	size_t left = len;
	int rc = -1, zr;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)in;
	for (;;) {
		size_t room;
		uInt before;

		if (zs.avail_in == 0 && left > 0) {
			zs.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
			left -= zs.avail_in;
		}
		if (o->len == o->cap) {
			rc = obuf_grow(o);
			if (rc != 0)
				break;
			rc = -1;
		}
		room = o->cap - o->len;
		zs.next_out = o->p + o->len;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		before = zs.avail_out;
		zr = inflate(&zs, Z_NO_FLUSH);
		o->len += before - zs.avail_out;
		if (o->len > o->max_out) {
			rc = -2;
			break;
		}
		if (zr == Z_STREAM_END) {
			if (zs.avail_in == 0 && left == 0) {
				rc = 0;
				break;
			}
			if (inflateReset(&zs) != Z_OK)
				break;
		} else if (zr == Z_BUF_ERROR) {
			/* No progress: fine if only output room ran out,
			 * truncated input otherwise. */
			if (zs.avail_out != 0)
				break;
		} else if (zr != Z_OK) {
			break;
		}
	}
	inflateEnd(&zs);
	return rc;
}

/* ---- snappy ---- */

static int snappy_compress_raw(const uint8_t *in, size_t len, kwriter *out)
{
	size_t n = snappy_max_compressed_length(len);

	kw_reserve(out, n);
	if (snappy_compress((const char *)in, len, (char *)out->buf + out->len, &n) != SNAPPY_OK)
		return -1;
	out->len += n;
	return 0;
}

/*
 * A raw block states its uncompressed length up front, so the check against
 * max_out happens before anything is allocated.
 */
static int snappy_decompress_any(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
				 size_t *out_len)
{
	size_t ulen, got;
	uint8_t *buf;

	if (len >= sizeof(xerial_magic) && memcmp(in, xerial_magic, sizeof(xerial_magic)) == 0)
		return snappy_decompress_xerial(in, len, max_out, out, out_len);
	if (snappy_uncompressed_length((const char *)in, len, &ulen) != SNAPPY_OK)
		return -1;
	if (ulen > max_out)
		return -2;
	buf = malloc(ulen ? ulen : 1);
	if (buf == NULL)
		return -1;
	got = ulen;
	if (snappy_uncompress((const char *)in, len, (char *)buf, &got) != SNAPPY_OK ||
	    got != ulen) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = ulen;
	return 0;
}

/*
 * xerial snappy-java framing: magic, two int32 versions, then blocks of
 * int32 big-endian length + raw snappy. The first pass validates the framing
 * and sums the stated sizes; the second decompresses into one buffer.
 */
static int snappy_decompress_xerial(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
				    size_t *out_len)
{
	size_t pos, total = 0, ulen, got;
	uint8_t *buf;
	int pass;

	if (len < XERIAL_HEADER)
		return -1;
	buf = NULL;
	for (pass = 0; pass < 2; pass++) {
		size_t at = 0;

		if (pass == 1) {
			buf = malloc(total ? total : 1);
			if (buf == NULL)
				return -1;
		}
		for (pos = XERIAL_HEADER; pos < len;) {
			size_t blen;

			if (len - pos < 4)
				goto bad;
			blen = be32(in + pos);
			pos += 4;
			if (blen > len - pos)
				goto bad;
			if (snappy_uncompressed_length((const char *)in + pos, blen, &ulen) !=
			    SNAPPY_OK)
				goto bad;
			if (pass == 0) {
				if (ulen > max_out - total)
					return -2;
				total += ulen;
			} else {
				got = ulen;
				if (ulen > total - at ||
				    snappy_uncompress((const char *)in + pos, blen,
						      (char *)buf + at, &got) != SNAPPY_OK ||
				    got != ulen)
					goto bad;
				at += ulen;
			}
			pos += blen;
		}
	}
	*out = buf;
	*out_len = total;
	return 0;
bad:
	free(buf);
	return -1;
}

/* ---- lz4 ---- */

static int lz4_compress(const uint8_t *in, size_t len, kwriter *out)
{
	LZ4F_preferences_t prefs;
	size_t bound, n;

	memset(&prefs, 0, sizeof(prefs));
	/* Kafka's Java reader only handles independent blocks. */
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.frameInfo.contentSize = len;
	bound = LZ4F_compressFrameBound(len, &prefs);
	kw_reserve(out, bound);
	n = LZ4F_compressFrame(out->buf + out->len, bound, in, len, &prefs);
	if (LZ4F_isError(n))
		return -1;
	out->len += n;
	return 0;
}

static int lz4_decompress(const uint8_t *in, size_t len, struct obuf *o)
{
	LZ4F_dctx *dctx;
	LZ4F_frameInfo_t fi;
	size_t pos, r, src;
	int rc = -1;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return -1;
	src = len;
	r = LZ4F_getFrameInfo(dctx, &fi, in, &src);
	if (LZ4F_isError(r))
		goto out;
	if (fi.contentSize > o->max_out) {
		rc = -2;
		goto out;
	}
	if (fi.contentSize > 0)
		obuf_hint(o, fi.contentSize);
	pos = src;
	for (;;) {
		size_t dst;

		/* r == 0: a frame just ended; more input is another frame. */
		if (r == 0 && pos == len) {
			rc = 0;
			break;
		}
		if (o->len == o->cap) {
			rc = obuf_grow(o);
			if (rc != 0)
				break;
			rc = -1;
		}
		dst = o->cap - o->len;
		src = len - pos;
		r = LZ4F_decompress(dctx, o->p + o->len, &dst, in + pos, &src, NULL);
		if (LZ4F_isError(r))
			break;
		pos += src;
		o->len += dst;
		if (o->len > o->max_out) {
			rc = -2;
			break;
		}
		/* Room to write and nothing happened: the input ended early. */
		if (src == 0 && dst == 0 && r != 0)
			break;
	}
out:
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

/* ---- zstd ---- */

static int zstd_compress(const uint8_t *in, size_t len, kwriter *out)
{
	size_t bound = ZSTD_compressBound(len), n;

	kw_reserve(out, bound);
	n = ZSTD_compress(out->buf + out->len, bound, in, len, ZSTD_CLEVEL_DEFAULT);
	if (ZSTD_isError(n))
		return -1;
	out->len += n;
	return 0;
}

/*
 * Streaming, so frames that do not state their content size still decode.
 * zstd's own window buffer is bounded by its default window limit (128 MiB);
 * our output buffer by max_out as everywhere else.
 */
static int zstd_decompress(const uint8_t *in, size_t len, struct obuf *o)
{
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer ib = {in, len, 0};
	unsigned long long fcs;
	size_t r = 1;
	int rc = -1;

	if (len == 0)
		return -1;
	fcs = ZSTD_getFrameContentSize(in, len);
	if (fcs == ZSTD_CONTENTSIZE_ERROR)
		return -1;
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > o->max_out)
		return -2;
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN)
		obuf_hint(o, fcs);
	dctx = ZSTD_createDCtx();
	if (dctx == NULL)
		return -1;
	for (;;) {
		ZSTD_outBuffer ob;
		size_t in_before = ib.pos;

		/* r == 0: a frame just ended; more input is another frame. */
		if (r == 0 && ib.pos == ib.size) {
			rc = 0;
			break;
		}
		if (o->len == o->cap) {
			rc = obuf_grow(o);
			if (rc != 0)
				break;
			rc = -1;
		}
		ob.dst = o->p + o->len;
		ob.size = o->cap - o->len;
		ob.pos = 0;
		r = ZSTD_decompressStream(dctx, &ob, &ib);
		if (ZSTD_isError(r))
			break;
		o->len += ob.pos;
		if (o->len > o->max_out) {
			rc = -2;
			break;
		}
		if (ob.pos == 0 && ib.pos == in_before && r != 0)
			break;
	}
	ZSTD_freeDCtx(dctx);
	return rc;
}
