/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum that
 * guards every Kafka RecordBatch v2.
 *
 * Two implementations with the same result: a portable slicing-by-8 table
 * walk, and the SSE4.2 crc32 instruction on x86-64 CPUs that have it. The
 * choice is made once, at the first call.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_HAVE_SSE42 1
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82F63B78u

typedef uint32_t (*crc_fn)(uint32_t crc, const uint8_t *p, size_t len);

static uint32_t crc_table[8][256];
static crc_fn crc_impl;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void);
static uint32_t crc_slice8(uint32_t crc, const uint8_t *p, size_t len);
#ifdef CRC32C_HAVE_SSE42
static uint32_t crc_sse42(uint32_t crc, const uint8_t *p, size_t len);
#endif

static void crc_init(void)
{
	uint32_t i, c;
	int k, b;

	for (i = 0; i < 256; i++) {
		c = i;
		for (b = 0; b < 8; b++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	/* table[k][i]: the CRC of byte i followed by k zero bytes. */
	for (i = 0; i < 256; i++) {
		c = crc_table[0][i];
		for (k = 1; k < 8; k++) {
			c = (c >> 8) ^ crc_table[0][c & 0xff];
			crc_table[k][i] = c;
		}
	}
	crc_impl = crc_slice8;
#ifdef CRC32C_HAVE_SSE42
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc_impl = crc_sse42;
#endif
}

/* Works on the inverted register; callers do the pre/post inversion. */
static uint32_t crc_slice8(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		/* Assembled byte by byte, so it is right on any endianness. */
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#ifdef CRC32C_HAVE_SSE42
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *p,
							    size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8); /* unaligned-safe load */
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	if (len == 0)
		return crc;
	return ~crc_impl(~crc, buf, len);
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	if (len == 0)
		return crc;
	return ~crc_slice8(~crc, buf, len);
}
