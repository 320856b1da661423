/*
 * Unit tests for cutting fetched records into batches (broker/txnbatch.c):
 * plain records, transactional ranges, markers as control batches, and the
 * limits (row limit, range list limit, budget) that decide where a fetch
 * stops. Every output is decoded back with records_decode().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "compress.h"
#include "pgbin.h"
#include "records.h"
#include "txnbatch.h"

#define MAXRECS 64
#define TS0 1700000000000LL

/* Input records at given offsets, value "v<offset>", timestamp TS0 + offset
 * unless set otherwise. */
typedef struct rows {
	record recs[MAXRECS];
	int64_t offsets[MAXRECS];
	char values[MAXRECS][24];
	int n;
} rows;

/* The decoded output, one entry per record. */
typedef struct got_rec {
	int batch;
	int16_t attributes;
	int64_t producer_id;
	int16_t producer_epoch;
	int64_t offset;
	int64_t timestamp;
	kstr key;
	kstr value;
} got_rec;

typedef struct got {
	arena *a;
	record_batch *batches;
	int nbatches;
	got_rec recs[MAXRECS * 2];
	int n;
} got;

static void rows_add(rows *r, int64_t offset);
static void rows_span(rows *r, int64_t from, int64_t to);
static txn_range data_range(int64_t base, int64_t last, int64_t pid, int16_t epoch);
static txn_range marker(int64_t offset, int64_t pid, int16_t epoch, int8_t type, int32_t coord);
static txnbatch_in input(rows *r, const txn_range *ranges, int nranges);
static void build(const txnbatch_in *in, txnbatch_out *out, got *g);
static void got_free(got *g);
static void assert_plain(const got_rec *r, int64_t offset);
static void assert_txn(const got_rec *r, int64_t offset, int64_t pid, int16_t epoch);
static void assert_marker(const got_rec *r, int64_t offset, int64_t pid, int16_t epoch, int type,
			  int32_t coord);

static void rows_add(rows *r, int64_t offset)
{
	int i = r->n++;

	assert_true(i < MAXRECS);
	snprintf(r->values[i], sizeof(r->values[i]), "v%lld", (long long)offset);
	r->offsets[i] = offset;
	r->recs[i] = (record){0};
	r->recs[i].timestamp = TS0 + offset;
	r->recs[i].key = KSTR_NULL;
	r->recs[i].value = (kstr){r->values[i], (int32_t)strlen(r->values[i])};
	r->recs[i].headers = (kstr){NULL, 0};
}

static void rows_span(rows *r, int64_t from, int64_t to)
{
	for (int64_t o = from; o <= to; o++)
		rows_add(r, o);
}

static txn_range data_range(int64_t base, int64_t last, int64_t pid, int16_t epoch)
{
	return (txn_range){base, last, pid, epoch, TXN_CONTROL_NONE, 0, 0};
}

static txn_range marker(int64_t offset, int64_t pid, int16_t epoch, int8_t type, int32_t coord)
{
	return (txn_range){offset, offset, pid, epoch, type, coord, TS0 + 1000 + offset};
}

static txnbatch_in input(rows *r, const txn_range *ranges, int nranges)
{
	txnbatch_in in = {0};

	in.recs = r->recs;
	in.offsets = r->offsets;
	in.nrecs = r->n;
	in.recs_complete = true;
	in.ranges = ranges;
	in.nranges = nranges;
	in.ranges_complete = true;
	in.codec = CODEC_NONE;
	in.budget = 1 << 20;
	in.must_return_one = true;
	return in;
}

/* Build, then decode what was built into g (CRCs and framing checked). */
static void build(const txnbatch_in *in, txnbatch_out *out, got *g)
{
	kwriter w;

	memset(g, 0, sizeof(*g));
	g->a = arena_new();
	kw_init(&w, 256);
	assert_int_equal(txnbatch_build(&w, in, out), 0);
	if (w.len == 0) {
		assert_int_equal(out->nrecs + out->nmarkers, 0);
		kw_free(&w);
		return;
	}
	uint8_t *buf = arena_alloc(g->a, w.len);
	memcpy(buf, w.buf, w.len);
	assert_int_equal(records_decode(g->a, buf, w.len, 1 << 24, &g->batches, &g->nbatches), 0);
	kw_free(&w);
	for (int b = 0; b < g->nbatches; b++) {
		const record_batch *rb = &g->batches[b];
		assert_int_equal(rb->base_sequence, -1);
		assert_int_equal(rb->last_offset_delta,
				 rb->records[rb->record_count - 1].offset_delta);
		for (int i = 0; i < rb->record_count; i++) {
			got_rec *r = &g->recs[g->n++];
			r->batch = b;
			r->attributes = rb->attributes;
			r->producer_id = rb->producer_id;
			r->producer_epoch = rb->producer_epoch;
			r->offset = rb->base_offset + rb->records[i].offset_delta;
			r->timestamp = rb->records[i].timestamp;
			r->key = rb->records[i].key;
			r->value = rb->records[i].value;
		}
	}
	assert_int_equal(g->n, out->nrecs + out->nmarkers);
	if (g->n > 0)
		assert_int_equal(out->last_offset, g->recs[g->n - 1].offset);
}

static void got_free(got *g)
{
	arena_free(g->a);
}

static void assert_plain(const got_rec *r, int64_t offset)
{
	char want[24];

	snprintf(want, sizeof(want), "v%lld", (long long)offset);
	assert_int_equal(r->offset, offset);
	assert_int_equal(r->attributes & (ATTR_TRANSACTIONAL | ATTR_CONTROL), 0);
	assert_int_equal(r->producer_id, -1);
	assert_int_equal(r->producer_epoch, -1);
	assert_int_equal(r->value.len, (int32_t)strlen(want));
	assert_memory_equal(r->value.ptr, want, strlen(want));
	assert_int_equal(r->key.len, -1);
}

static void assert_txn(const got_rec *r, int64_t offset, int64_t pid, int16_t epoch)
{
	char want[24];

	snprintf(want, sizeof(want), "v%lld", (long long)offset);
	assert_int_equal(r->offset, offset);
	assert_int_equal(r->attributes & (ATTR_TRANSACTIONAL | ATTR_CONTROL), ATTR_TRANSACTIONAL);
	assert_int_equal(r->producer_id, pid);
	assert_int_equal(r->producer_epoch, epoch);
	assert_int_equal(r->value.len, (int32_t)strlen(want));
	assert_memory_equal(r->value.ptr, want, strlen(want));
}

static void assert_marker(const got_rec *r, int64_t offset, int64_t pid, int16_t epoch, int type,
			  int32_t coord)
{
	const uint8_t key[4] = {0, 0, 0, (uint8_t)type};
	const uint8_t value[6] = {0,
				  0,
				  (uint8_t)((uint32_t)coord >> 24),
				  (uint8_t)((uint32_t)coord >> 16),
				  (uint8_t)((uint32_t)coord >> 8),
				  (uint8_t)coord};

	assert_int_equal(r->offset, offset);
	assert_int_equal(r->attributes & (ATTR_TRANSACTIONAL | ATTR_CONTROL | ATTR_CODEC_MASK),
			 ATTR_TRANSACTIONAL | ATTR_CONTROL);
	assert_int_equal(r->producer_id, pid);
	assert_int_equal(r->producer_epoch, epoch);
	assert_int_equal(r->timestamp, TS0 + 1000 + offset);
	assert_int_equal(r->key.len, 4);
	assert_memory_equal(r->key.ptr, key, 4);
	assert_int_equal(r->value.len, 6);
	assert_memory_equal(r->value.ptr, value, 6);
}

/* No transactions: one plain batch, as before transactions existed. */
static void test_plain_rows_only(void **state)
{
	rows r = {0};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 5, 9);
	txnbatch_in in = input(&r, NULL, 0);
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 1);
	assert_int_equal(g.n, 5);
	for (int i = 0; i < 5; i++)
		assert_plain(&g.recs[i], 5 + i);
	assert_int_equal(g.recs[4].timestamp, TS0 + 9);
	assert_int_equal(out.nmarkers, 0);
	got_free(&g);
}

/* Plain, a committed transaction (records, then its marker), plain. */
static void test_txn_range_in_the_middle(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(3, 5, 42, 7), marker(6, 42, 7, TXN_CONTROL_COMMIT, 3)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 5);
	rows_span(&r, 7, 8);
	txnbatch_in in = input(&r, ranges, 2);
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 4);
	assert_int_equal(g.n, 9);
	for (int i = 0; i < 3; i++) {
		assert_plain(&g.recs[i], i);
		assert_int_equal(g.recs[i].batch, 0);
	}
	for (int i = 3; i < 6; i++) {
		assert_txn(&g.recs[i], i, 42, 7);
		assert_int_equal(g.recs[i].batch, 1);
	}
	assert_marker(&g.recs[6], 6, 42, 7, TXN_CONTROL_COMMIT, 3);
	assert_int_equal(g.recs[6].batch, 2);
	assert_plain(&g.recs[7], 7);
	assert_plain(&g.recs[8], 8);
	assert_int_equal(g.recs[8].batch, 3);
	assert_int_equal(out.nmarkers, 1);
	assert_int_equal(out.last_offset, 8);
	got_free(&g);
}

/* Two producers' batches next to each other are two batches, even when
 * both are of the same producer id with another epoch. A fetch starting
 * inside a range starts a batch there. */
static void test_adjacent_ranges_of_two_producers(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(8, 11, 1, 0), data_range(12, 13, 2, 0),
			      data_range(14, 14, 2, 1), marker(15, 1, 0, TXN_CONTROL_ABORT, 0),
			      marker(16, 2, 1, TXN_CONTROL_COMMIT, 0)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 10, 14);
	txnbatch_in in = input(&r, ranges, 5);
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 5);
	assert_int_equal(g.n, 7);
	assert_txn(&g.recs[0], 10, 1, 0);
	assert_txn(&g.recs[1], 11, 1, 0);
	assert_int_equal(g.batches[0].base_offset, 10);
	assert_txn(&g.recs[2], 12, 2, 0);
	assert_txn(&g.recs[3], 13, 2, 0);
	assert_int_equal(g.recs[3].batch, 1);
	assert_txn(&g.recs[4], 14, 2, 1);
	assert_int_equal(g.recs[4].batch, 2);
	assert_marker(&g.recs[5], 15, 1, 0, TXN_CONTROL_ABORT, 0);
	assert_marker(&g.recs[6], 16, 2, 1, TXN_CONTROL_COMMIT, 0);
	got_free(&g);
}

/* Markers after the last record come when the read reached the end of what
 * is readable, not when it stopped at its row limit; a consumer positioned
 * on a marker gets it even though no record is left. */
static void test_marker_after_the_last_row(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(0, 1, 9, 2), marker(2, 9, 2, TXN_CONTROL_COMMIT, 5)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 1);
	txnbatch_in in = input(&r, ranges, 2);
	build(&in, &out, &g);
	assert_int_equal(g.n, 3);
	assert_marker(&g.recs[2], 2, 9, 2, TXN_CONTROL_COMMIT, 5);
	assert_int_equal(out.last_offset, 2);
	got_free(&g);

	in.recs_complete = false; /* more records might precede the marker */
	build(&in, &out, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(out.nmarkers, 0);
	assert_int_equal(out.last_offset, 1);
	got_free(&g);

	/* Only the marker is left at the fetch offset. */
	rows none = {0};
	in = input(&none, &ranges[1], 1);
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 1);
	assert_int_equal(g.n, 1);
	assert_marker(&g.recs[0], 2, 9, 2, TXN_CONTROL_COMMIT, 5);
	got_free(&g);
}

/* Markers between records, also several in a row and one right at the
 * start; the aborted transaction's records keep their producer. */
static void test_markers_between_rows(void **state)
{
	rows r = {0};
	txn_range ranges[] = {marker(4, 3, 0, TXN_CONTROL_ABORT, 1), data_range(5, 5, 3, 1),
			      marker(6, 3, 1, TXN_CONTROL_ABORT, 1),
			      marker(7, 4, 0, TXN_CONTROL_COMMIT, 1), data_range(9, 10, 4, 0),
			      marker(11, 4, 0, TXN_CONTROL_COMMIT, 2)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_add(&r, 5);
	rows_add(&r, 8);
	rows_add(&r, 9);
	rows_add(&r, 10);
	rows_add(&r, 12);
	txnbatch_in in = input(&r, ranges, 6);
	build(&in, &out, &g);
	assert_int_equal(g.n, 9);
	assert_int_equal(g.nbatches, 8);
	assert_marker(&g.recs[0], 4, 3, 0, TXN_CONTROL_ABORT, 1);
	assert_txn(&g.recs[1], 5, 3, 1);
	assert_marker(&g.recs[2], 6, 3, 1, TXN_CONTROL_ABORT, 1);
	assert_marker(&g.recs[3], 7, 4, 0, TXN_CONTROL_COMMIT, 1);
	assert_plain(&g.recs[4], 8);
	assert_txn(&g.recs[5], 9, 4, 0);
	assert_txn(&g.recs[6], 10, 4, 0);
	assert_int_equal(g.recs[5].batch, g.recs[6].batch);
	assert_marker(&g.recs[7], 11, 4, 0, TXN_CONTROL_COMMIT, 2);
	assert_plain(&g.recs[8], 12);
	assert_int_equal(out.nmarkers, 4);
	assert_int_equal(out.nrecs, 5);
	got_free(&g);
}

/* The range list stopped at its LIMIT: records after its last range
 * might be in a range that was not read, so they are left out. */
static void test_range_list_cut_by_limit(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(0, 1, 5, 0), marker(2, 5, 0, TXN_CONTROL_COMMIT, 0),
			      data_range(3, 4, 5, 0)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 1);
	rows_span(&r, 3, 8);
	txnbatch_in in = input(&r, ranges, 3);
	in.ranges_complete = false;
	build(&in, &out, &g);
	assert_int_equal(g.n, 5);
	assert_txn(&g.recs[0], 0, 5, 0);
	assert_marker(&g.recs[2], 2, 5, 0, TXN_CONTROL_COMMIT, 0);
	assert_txn(&g.recs[4], 4, 5, 0);
	assert_int_equal(out.last_offset, 4);
	got_free(&g);

	/* Cut at a marker: the records after it wait for the next fetch. */
	in.nranges = 2;
	build(&in, &out, &g);
	assert_int_equal(g.n, 3);
	assert_marker(&g.recs[2], 2, 5, 0, TXN_CONTROL_COMMIT, 0);
	got_free(&g);
}

/* The budget ends the fetch after whole records (batch headers count), but
 * the first record or marker always comes (KIP-74). */
static void test_budget_cut(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(2, 3, 6, 0), marker(4, 6, 0, TXN_CONTROL_COMMIT, 0)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 3);
	rows_add(&r, 5);
	txnbatch_in in = input(&r, ranges, 2);
	/* Each record costs 24 + 2 ("vN"); a batch header 61. */
	in.budget = BATCH_HEADER_SIZE + 2 * 26;
	build(&in, &out, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(out.used, BATCH_HEADER_SIZE + 2 * 26);
	got_free(&g);

	/* A third record would need a new (transactional) batch header. */
	in.budget = 2 * BATCH_HEADER_SIZE + 3 * 26 - 1;
	build(&in, &out, &g);
	assert_int_equal(g.n, 2);
	got_free(&g);
	in.budget = 2 * BATCH_HEADER_SIZE + 3 * 26;
	build(&in, &out, &g);
	assert_int_equal(g.n, 3);
	assert_txn(&g.recs[2], 2, 6, 0);
	got_free(&g);

	/* Budget 1: still the first record, and nothing else. */
	in.budget = 1;
	build(&in, &out, &g);
	assert_int_equal(g.n, 1);
	assert_plain(&g.recs[0], 0);
	got_free(&g);
	in.must_return_one = false;
	build(&in, &out, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(out.last_offset, -1);
	got_free(&g);

	/* A marker first in line counts like a record. */
	rows none = {0};
	in = input(&none, &ranges[1], 1);
	in.budget = 1;
	build(&in, &out, &g);
	assert_int_equal(g.n, 1);
	assert_marker(&g.recs[0], 4, 6, 0, TXN_CONTROL_COMMIT, 0);
	got_free(&g);
}

/* LogAppendTime: a batch per append time, also inside a transaction. */
static void test_log_append_time_split(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(2, 5, 8, 3), marker(6, 8, 3, TXN_CONTROL_COMMIT, 0)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 5);
	int64_t ts[] = {100, 100, 100, 100, 200, 200};
	for (int i = 0; i < 6; i++)
		r.recs[i].timestamp = TS0 + ts[i];
	txnbatch_in in = input(&r, ranges, 2);
	in.log_append = true;
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 4);
	assert_int_equal(g.n, 7);
	assert_plain(&g.recs[1], 1);
	assert_txn(&g.recs[2], 2, 8, 3);
	assert_txn(&g.recs[3], 3, 8, 3);
	assert_int_equal(g.recs[3].batch, 1);
	assert_txn(&g.recs[4], 4, 8, 3);
	assert_int_equal(g.recs[4].batch, 2);
	assert_int_equal(g.batches[2].max_timestamp, TS0 + 200);
	for (int b = 0; b < 4; b++)
		assert_true(g.batches[b].attributes & ATTR_TIMESTAMP_LOG_APPEND);
	assert_marker(&g.recs[6], 6, 8, 3, TXN_CONTROL_COMMIT, 0);
	got_free(&g);
}

/* Data batches are compressed with the topic's codec; control batches
 * never are. */
static void test_codec_applies_to_data_batches(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(0, 2, 1, 0), marker(3, 1, 0, TXN_CONTROL_COMMIT, 0)};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 0, 2);
	txnbatch_in in = input(&r, ranges, 2);
	in.codec = CODEC_LZ4;
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 2);
	assert_int_equal(g.batches[0].attributes & ATTR_CODEC_MASK, CODEC_LZ4);
	assert_txn(&g.recs[2], 2, 1, 0);
	assert_marker(&g.recs[3], 3, 1, 0, TXN_CONTROL_COMMIT, 0);
	got_free(&g);
}

/* Rows that are not ranges are refused before they reach the walk. */
static void test_range_rows_checked(void **state)
{
	txn_range g;
	int64_t ok[] = {5, 9, 42, 3, -1, 0, 0};
	int64_t marker_row[] = {10, 10, 42, 3, 1, 7, TS0};
	int64_t wide_marker[] = {10, 11, 42, 3, 1, 7, TS0};
	int64_t backwards[] = {9, 5, 42, 3, -1, 0, 0};
	int64_t bad_control[] = {5, 9, 42, 3, 2, 0, 0};
	int64_t bad_epoch[] = {5, 9, 42, 40000, -1, 0, 0};

	(void)state;
	assert_true(txn_range_from_row(ok, &g));
	assert_int_equal(g.base_offset, 5);
	assert_int_equal(g.last_offset, 9);
	assert_int_equal(g.control, TXN_CONTROL_NONE);
	assert_true(txn_range_from_row(marker_row, &g));
	assert_int_equal(g.coordinator_epoch, 7);
	assert_int_equal(g.timestamp, TS0);
	assert_false(txn_range_from_row(wide_marker, &g));
	assert_false(txn_range_from_row(backwards, &g));
	assert_false(txn_range_from_row(bad_control, &g));
	assert_false(txn_range_from_row(bad_epoch, &g));
}

/* The binary int8[][] arrays Q_FETCH returns, and what is refused. */
/* Leader epochs: each batch carries the epoch its records were written
 * under, a batch ends where an epoch begins, a marker carries the epoch
 * of its offset; a fetch inside an epoch starts with it; no history is
 * epoch 0 throughout. */
static void test_leader_epochs(void **state)
{
	rows r = {0};
	txn_range ranges[] = {data_range(6, 7, 5, 0), marker(8, 5, 0, TXN_CONTROL_COMMIT, 0)};
	epoch_start epochs[] = {{0, 0}, {4, 2}, {4, 3}, {8, 5}};
	txnbatch_out out;
	got g;

	(void)state;
	rows_span(&r, 2, 7);
	rows_span(&r, 9, 10);
	txnbatch_in in = input(&r, ranges, 2);
	in.epochs = epochs;
	in.nepochs = 4;
	assert_int_equal(txnbatch_epoch_at(&in, 3), 0);
	assert_int_equal(txnbatch_epoch_at(&in, 4), 3);
	assert_int_equal(txnbatch_epoch_at(&in, 9), 5);
	build(&in, &out, &g);
	/* [2,3] epoch 0, [4,5] epoch 3, [6,7] transactional epoch 3, the
	 * marker at 8 and [9,10] epoch 5 */
	assert_int_equal(g.nbatches, 5);
	int32_t want_epoch[] = {0, 3, 3, 5, 5};
	int64_t want_base[] = {2, 4, 6, 8, 9};
	for (int b = 0; b < 5; b++) {
		assert_int_equal(g.batches[b].partition_leader_epoch, want_epoch[b]);
		assert_int_equal(g.batches[b].base_offset, want_base[b]);
	}
	assert_marker(&g.recs[6], 8, 5, 0, TXN_CONTROL_COMMIT, 0);
	got_free(&g);

	/* A fetch from offset 9 was sent the history from epoch 5 on. */
	rows r2 = {0};
	rows_span(&r2, 9, 10);
	in = input(&r2, NULL, 0);
	in.epochs = &epochs[3];
	in.nepochs = 1;
	build(&in, &out, &g);
	assert_int_equal(g.nbatches, 1);
	assert_int_equal(g.batches[0].partition_leader_epoch, 5);
	got_free(&g);

	in.epochs = NULL;
	in.nepochs = 0;
	build(&in, &out, &g);
	assert_int_equal(g.batches[0].partition_leader_epoch, 0);
	got_free(&g);
}

static void test_pgbin_i64_rows(void **state)
{
	kwriter w;
	int64_t out[6];

	(void)state;
	kw_init(&w, 128);
	kw_i32(&w, 2); /* dimensions */
	kw_i32(&w, 0); /* no NULLs */
	kw_u32(&w, OID_INT8);
	kw_i32(&w, 3); /* rows */
	kw_i32(&w, 1);
	kw_i32(&w, 2); /* columns */
	kw_i32(&w, 1);
	for (int i = 0; i < 6; i++) {
		kw_i32(&w, 8);
		kw_i64(&w, i == 5 ? -7 : 10 * i);
	}
	kstr v = {(const char *)w.buf, (int32_t)w.len};
	assert_int_equal(pgbin_i64_rows(v, 2, NULL, 0), 3);
	assert_int_equal(pgbin_i64_rows(v, 2, out, 3), 3);
	assert_int_equal(out[1], 10);
	assert_int_equal(out[4], 40);
	assert_int_equal(out[5], -7);
	assert_int_equal(pgbin_i64_rows(v, 3, out, 2), -1); /* other width */
	for (int32_t cut = 0; cut < v.len; cut++)
		assert_int_equal(pgbin_i64_rows((kstr){v.ptr, cut}, 2, out, 3), -1);
	assert_int_equal(pgbin_i64_rows(KSTR_NULL, 2, out, 3), 0);
	kw_free(&w);

	/* An empty array has no dimensions. */
	kw_init(&w, 16);
	kw_i32(&w, 0);
	kw_i32(&w, 0);
	kw_u32(&w, OID_INT8);
	assert_int_equal(pgbin_i64_rows((kstr){(const char *)w.buf, (int32_t)w.len}, 2, out, 3), 0);
	kw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_rows_only),
		cmocka_unit_test(test_txn_range_in_the_middle),
		cmocka_unit_test(test_adjacent_ranges_of_two_producers),
		cmocka_unit_test(test_marker_after_the_last_row),
		cmocka_unit_test(test_markers_between_rows),
		cmocka_unit_test(test_range_list_cut_by_limit),
		cmocka_unit_test(test_budget_cut),
		cmocka_unit_test(test_log_append_time_split),
		cmocka_unit_test(test_codec_applies_to_data_batches),
		cmocka_unit_test(test_range_rows_checked),
		cmocka_unit_test(test_leader_epochs),
		cmocka_unit_test(test_pgbin_i64_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
