/*
 * Kafka RecordBatch (magic v2): decoding produced batches into records, and
 * encoding stored records back into batches for fetch.
 */
#ifndef PGK_RECORDS_H
#define PGK_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"

#define BATCH_HEADER_SIZE 61 /* base_offset .. records count */
#define ATTR_CODEC_MASK 0x07
#define ATTR_TIMESTAMP_LOG_APPEND 0x08
#define ATTR_TRANSACTIONAL 0x10
#define ATTR_CONTROL 0x20

typedef struct record {
	int64_t offset_delta;
	int64_t timestamp; /* absolute, ms since epoch */
	kstr key;          /* len -1: null */
	kstr value;        /* len -1: null */
	/* The header section exactly as on the wire: varint count followed by
	 * the headers. Empty (len 0, ptr NULL) when the record has no header;
	 * this is also the form stored in kafka.records.headers (NULL there). */
	kstr headers;
	int32_t header_count;
} record;

typedef struct record_batch {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
	record *records; /* arena-owned; key/value/headers point into arena memory
			  * or into the input buffer */
} record_batch;

/*
 * Parse the records field of a produce partition: one or more batches.
 * Checks sizes, magic (must be 2), CRC-32C, and that the records decode to
 * exactly record_count entries with consistent lengths. Compressed batches are
 * decompressed (output bounded by max_bytes).
 * Returns 0 or a Kafka error code:
 *   CORRUPT_MESSAGE (2) for bad CRC, truncation, inconsistent lengths,
 *   INVALID_RECORD (87) for magic v0/v1 or zero batches,
 *   UNSUPPORTED_COMPRESSION_TYPE (76) for an unknown codec,
 *   MESSAGE_TOO_LARGE (10) when decompressed data exceeds max_bytes.
 */
int records_decode(arena *a, const uint8_t *buf, size_t len, size_t max_bytes,
		   record_batch **batches, int *nbatches);

/*
 * What Kafka's broker sees of a produce partition's records before it
 * decodes them (ProduceRequest.validateRecords,
 * RequestUtils.hasTransactionalRecords): the batch headers as its batch
 * iterator walks them -- 12 bytes of offset and length, then the batch; a
 * batch that does not fit ends the walk, and a length below a v0 record's
 * overhead (14) is corrupt.
 */
typedef struct records_outline {
	int nbatches;             /* complete batches before the walk ended */
	bool corrupt;             /* the walk met a length below 14 */
	int8_t first_magic;       /* -1 without a batch */
	int16_t first_attributes; /* -1 without a batch or when it ends before them */
	bool any_transactional;   /* a magic 2 batch with the transactional bit */
} records_outline;

void records_outline_of(const uint8_t *buf, size_t len, records_outline *out);

/*
 * Append one complete RecordBatch (header, CRC, records, compressed with codec)
 * to w. hdr supplies base_offset, timestamps, attributes (timestamp type and
 * flags; the codec bits are set from codec), producer fields. Record
 * offset_delta and timestamp are taken from recs; base_timestamp and
 * max_timestamp are computed when hdr->base_timestamp is -1.
 * Returns 0, or -1 if compression failed.
 */
int records_encode_batch(kwriter *w, const record_batch *hdr, const record *recs, int n,
			 int codec);

/*
 * The records of one kafka.read_records_packed() value (decoder/read.c): a
 * format byte (1), a flags byte (bit 0: it stopped at its byte cap), then
 * per record its offset and timestamp as 8-byte integers and its key, value
 * and headers as a 4-byte length (-1: NULL) and the bytes, big-endian.
 * With recs NULL only counts; otherwise fills recs (offset_delta 0, the
 * fields pointing into buf) and offsets, which have room for the count.
 * Returns the number of records, or -1 if buf is not such a value.
 */
int records_unpack(const uint8_t *buf, size_t len, record *recs, int64_t *offsets,
		   bool *truncated);

#endif
