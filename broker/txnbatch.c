/*
 * Fetched records into RecordBatches, transactions included.
 *
 * The records of a partition are stored one row each, without the batches
 * they were produced in; kafka.txn_batches remembers which offset ranges
 * were transactional (and whose) and where the markers are. A fetch walks
 * the records and the ranges together in offset order: consecutive records
 * of one range become one transactional batch, records outside every range
 * plain batches, and each marker a control batch of one control record.
 * With LogAppendTime a batch also ends where the append time changes,
 * because the batch header carries that time for all its records, and
 * where a leader epoch begins, because it carries the epoch too.
 */
#include "txnbatch.h"

#include <string.h>

#include "compress.h"

/* What the fetch budget charges for a record beyond its key, value and
 * headers (the length, attributes, deltas and varints of the record). */
#define RECORD_OVERHEAD 24
#define CONTROL_KEY_SIZE 4   /* version, type */
#define CONTROL_VALUE_SIZE 6 /* version, coordinator epoch */

/* The batch being collected: records [start, end) of in->recs. */
typedef struct cutter {
	kwriter *w;
	const txnbatch_in *in;
	txnbatch_out *out;
	int start;
	int end;
	int range; /* index of its transactional range, -1: plain */
} cutter;

static int64_t known_upto(const txnbatch_in *in);
static size_t record_cost(const record *rec);
static bool fits(const cutter *c, size_t cost);
static int flush(cutter *c);
static int write_marker(cutter *c, const txn_range *g);

int32_t txnbatch_epoch_at(const txnbatch_in *in, int64_t offset)
{
	for (int i = in->nepochs - 1; i >= 0; i--)
		if (in->epochs[i].start_offset <= offset)
			return in->epochs[i].epoch;
	return in->nepochs > 0 ? in->epochs[0].epoch : 0;
}

bool txn_range_from_row(const int64_t *row, txn_range *out)
{
	int64_t control = row[TXN_RANGE_CONTROL];
	int64_t epoch = row[TXN_RANGE_PRODUCER_EPOCH];
	int64_t coord = row[TXN_RANGE_COORDINATOR_EPOCH];

	if (row[TXN_RANGE_BASE_OFFSET] < 0 || row[TXN_RANGE_LAST_OFFSET] < row[TXN_RANGE_BASE_OFFSET])
		return false;
	if (control < TXN_CONTROL_NONE || control > TXN_CONTROL_COMMIT)
		return false;
	/* A marker takes exactly one offset. */
	if (control != TXN_CONTROL_NONE && row[TXN_RANGE_LAST_OFFSET] != row[TXN_RANGE_BASE_OFFSET])
		return false;
	if (epoch < INT16_MIN || epoch > INT16_MAX || coord < INT32_MIN || coord > INT32_MAX)
		return false;
	out->base_offset = row[TXN_RANGE_BASE_OFFSET];
	out->last_offset = row[TXN_RANGE_LAST_OFFSET];
	out->producer_id = row[TXN_RANGE_PRODUCER_ID];
	out->producer_epoch = (int16_t)epoch;
	out->control = (int8_t)control;
	out->coordinator_epoch = (int32_t)coord;
	out->timestamp = row[TXN_RANGE_TIMESTAMP];
	return true;
}

/*
 * The last offset about which everything is known. When the read stopped
 * at its row limit, a marker after the last record might come after a
 * record that was not read; when the range list was cut, a record after
 * its last range might belong to a range that was not read. Nothing past
 * that point is returned, so every record and marker is placed right.
 */
static int64_t known_upto(const txnbatch_in *in)
{
	int64_t upto = INT64_MAX;

	if (!in->recs_complete)
		upto = in->nrecs > 0 ? in->offsets[in->nrecs - 1] : -1;
	if (!in->ranges_complete && in->nranges > 0 &&
	    in->ranges[in->nranges - 1].last_offset < upto)
		upto = in->ranges[in->nranges - 1].last_offset;
	return upto;
}

static size_t record_cost(const record *rec)
{
	return RECORD_OVERHEAD + (size_t)(rec->key.len > 0 ? rec->key.len : 0) +
	       (size_t)(rec->value.len > 0 ? rec->value.len : 0) +
	       (size_t)(rec->headers.len > 0 ? rec->headers.len : 0);
}

static bool fits(const cutter *c, size_t cost)
{
	const txnbatch_out *o = c->out;

	if (o->used + cost <= c->in->budget)
		return true;
	return c->in->must_return_one && o->nrecs == 0 && o->nmarkers == 0;
}

int txnbatch_build(kwriter *w, const txnbatch_in *in, txnbatch_out *out)
{
	cutter c = {w, in, out, 0, 0, -1};
	int64_t upto = known_upto(in);
	int ri = 0, gi = 0;

	memset(out, 0, sizeof(*out));
	out->last_offset = -1;
	for (;;) {
		bool have_rec = ri < in->nrecs && in->offsets[ri] <= upto;
		int64_t ro = have_rec ? in->offsets[ri] : INT64_MAX;

		/* Ranges that end before the next record: their markers come
		 * first. After the last record: every marker that is known. */
		while (gi < in->nranges && in->ranges[gi].last_offset < ro) {
			const txn_range *g = &in->ranges[gi++];
			if (g->control == TXN_CONTROL_NONE)
				continue;
			if (g->last_offset > upto)
				break;
			size_t cost = BATCH_HEADER_SIZE + RECORD_OVERHEAD + CONTROL_KEY_SIZE +
				      CONTROL_VALUE_SIZE;
			if (!fits(&c, cost))
				return flush(&c);
			if (flush(&c) != 0 || write_marker(&c, g) != 0)
				return -1;
			out->used += cost;
		}
		if (!have_rec)
			break;

		/* The range at gi, if any, ends at or after this record. */
		const txn_range *g = gi < in->nranges ? &in->ranges[gi] : NULL;
		int range = g && g->base_offset <= ro && g->control == TXN_CONTROL_NONE ? gi : -1;
		bool new_batch =
			c.end == c.start || range != c.range ||
			(in->log_append && in->recs[ri].timestamp != in->recs[c.start].timestamp) ||
			(in->nepochs > 1 &&
			 txnbatch_epoch_at(in, ro) != txnbatch_epoch_at(in, in->offsets[c.start]));
		size_t cost = record_cost(&in->recs[ri]) + (new_batch ? BATCH_HEADER_SIZE : 0);
		if (!fits(&c, cost))
			break;
		if (new_batch) {
			if (flush(&c) != 0)
				return -1;
			c.start = c.end = ri;
			c.range = range;
		}
		c.end = ++ri;
		out->used += cost;
		out->nrecs++;
		out->last_offset = ro;
	}
	return flush(&c);
}

/* Write the collected records as one batch, if there are any. */
static int flush(cutter *c)
{
	const txnbatch_in *in = c->in;
	record_batch hdr = {0};

	if (c->end == c->start)
		return 0;
	hdr.base_offset = in->offsets[c->start];
	hdr.partition_leader_epoch = txnbatch_epoch_at(in, hdr.base_offset);
	hdr.magic = 2;
	hdr.attributes = in->log_append ? ATTR_TIMESTAMP_LOG_APPEND : 0;
	hdr.base_timestamp = -1;
	hdr.producer_id = -1;
	hdr.producer_epoch = -1;
	hdr.base_sequence = -1;
	if (c->range >= 0) {
		const txn_range *g = &in->ranges[c->range];
		hdr.attributes |= ATTR_TRANSACTIONAL;
		hdr.producer_id = g->producer_id;
		hdr.producer_epoch = g->producer_epoch;
	}
	for (int i = c->start; i < c->end; i++)
		in->recs[i].offset_delta = in->offsets[i] - in->offsets[c->start];
	int rc = records_encode_batch(c->w, &hdr, &in->recs[c->start], c->end - c->start, in->codec);
	c->start = c->end;
	return rc;
}

/* A control batch: one record whose key says abort or commit and whose
 * value carries the coordinator epoch, as the Java broker writes them. */
static int write_marker(cutter *c, const txn_range *g)
{
	uint8_t key[CONTROL_KEY_SIZE] = {0, 0, 0, (uint8_t)g->control};
	uint8_t value[CONTROL_VALUE_SIZE] = {0,
					     0,
					     (uint8_t)((uint32_t)g->coordinator_epoch >> 24),
					     (uint8_t)((uint32_t)g->coordinator_epoch >> 16),
					     (uint8_t)((uint32_t)g->coordinator_epoch >> 8),
					     (uint8_t)g->coordinator_epoch};
	record rec = {0};
	record_batch hdr = {0};

	rec.timestamp = g->timestamp;
	rec.key = (kstr){(const char *)key, CONTROL_KEY_SIZE};
	rec.value = (kstr){(const char *)value, CONTROL_VALUE_SIZE};
	rec.headers = (kstr){NULL, 0};
	hdr.base_offset = g->last_offset;
	hdr.partition_leader_epoch = txnbatch_epoch_at(c->in, g->last_offset);
	hdr.magic = 2;
	hdr.attributes = ATTR_TRANSACTIONAL | ATTR_CONTROL |
			 (c->in->log_append ? ATTR_TIMESTAMP_LOG_APPEND : 0);
	hdr.base_timestamp = -1;
	hdr.producer_id = g->producer_id;
	hdr.producer_epoch = g->producer_epoch;
	hdr.base_sequence = -1;
	if (records_encode_batch(c->w, &hdr, &rec, 1, CODEC_NONE) != 0)
		return -1;
	c->out->nmarkers++;
	c->out->last_offset = g->last_offset;
	return 0;
}
