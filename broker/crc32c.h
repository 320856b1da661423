/* CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2. */
#ifndef PGK_CRC32C_H
#define PGK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table implementation, whatever the CPU offers (for tests). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
