/*
 * Cutting one partition's fetched records into RecordBatches: plain batches,
 * transactional batches (the offset ranges of kafka.txn_batches) and the
 * control batches of transaction markers, within a byte budget
 * (docs/TRANSACTIONS.md, "Fetch"). Pure: no SQL, no sockets, so that it can
 * be unit tested (tests/test_txnbatch.c).
 */
#ifndef PGK_TXNBATCH_H
#define PGK_TXNBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbuf.h"
#include "records.h"

/* Columns of a kafka.txn_batches row as Q_FETCH returns them. */
enum {
	TXN_RANGE_BASE_OFFSET,
	TXN_RANGE_LAST_OFFSET,
	TXN_RANGE_PRODUCER_ID,
	TXN_RANGE_PRODUCER_EPOCH,
	TXN_RANGE_CONTROL,
	TXN_RANGE_COORDINATOR_EPOCH,
	TXN_RANGE_TIMESTAMP,
	TXN_RANGE_NCOLS
};

#define TXN_CONTROL_NONE -1 /* a range of data records */
#define TXN_CONTROL_ABORT 0
#define TXN_CONTROL_COMMIT 1

/* A transactional batch (control -1) or a marker (base = last offset). */
typedef struct txn_range {
	int64_t base_offset;
	int64_t last_offset;
	int64_t producer_id;
	int16_t producer_epoch;
	int8_t control;
	int32_t coordinator_epoch;
	int64_t timestamp; /* ms; markers only */
} txn_range;

/* A leader epoch and the first offset written under it (sql: "Leader
 * epoch history"); Q_FETCH sends them as (start_offset, epoch) rows. */
typedef struct epoch_start {
	int64_t start_offset;
	int32_t epoch;
} epoch_start;

typedef struct txnbatch_in {
	/* Records in offset order: key, value, headers, header_count and
	 * timestamp are read; offset_delta is overwritten. */
	record *recs;
	const int64_t *offsets;
	int nrecs;
	/* The read was not cut by its row limit: no readable record after
	 * the last one exists, so markers after it may be returned. */
	bool recs_complete;
	/* Ranges that end at or after the fetch offset, by last_offset,
	 * disjoint. ranges_complete false: the list was cut by its LIMIT,
	 * so nothing after the last range's last_offset can be classified. */
	const txn_range *ranges;
	int nranges;
	bool ranges_complete;
	bool log_append; /* one batch per distinct timestamp */
	int codec;       /* for data batches; control batches are never compressed */
	size_t budget;
	bool must_return_one; /* KIP-74: the first record or marker even over budget */
	/* The partition's leader epochs by epoch (start offsets never
	 * decrease); every batch carries the epoch of its offsets, and a
	 * batch ends where an epoch begins. None: epoch 0 throughout. */
	const epoch_start *epochs;
	int nepochs;
} txnbatch_in;

typedef struct txnbatch_out {
	size_t used;         /* budget spent: record sizes and batch headers */
	int nrecs;           /* records written */
	int nmarkers;        /* control batches written */
	int64_t last_offset; /* of the last record or marker written; -1: none */
} txnbatch_out;

/* Fill a range from one row of TXN_RANGE_NCOLS values; false if it is
 * not a sane range (then the caller treats the fetch as failed). */
bool txn_range_from_row(const int64_t *row, txn_range *out);

/* The epoch an offset was written under: the newest epoch starting at or
 * before it (the first one for an offset before every start; 0 if none). */
int32_t txnbatch_epoch_at(const txnbatch_in *in, int64_t offset);

/*
 * Append the batches for in to w, in offset order. Returns 0, or -1 if
 * compression failed (w is then partly written: the caller truncates it and
 * retries with CODEC_NONE).
 */
int txnbatch_build(kwriter *w, const txnbatch_in *in, txnbatch_out *out);

#endif
