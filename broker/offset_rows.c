/*
 * The partitions of an offset commit, checked and laid out as the
 * statement's arrays (see offset_rows.h).
 */
#include "offset_rows.h"
#include "arena_str.h"
#include "coordinator.h"
#include "kerr.h"
#include "validate.h"

static size_t int_size(uint32_t int_oid);
static void add_int(pgarray *a, uint32_t int_oid, int64_t v);
static bool metadata_too_large(kstr m);

/* Room for one element in a binary array: its length word and value. */
static size_t int_size(uint32_t int_oid) { return int_oid == OID_INT4 ? 8 : 12; }

/*
 * Kafka measures offset.metadata.max.bytes on the Java string: in UTF-16
 * code units, not bytes. Every UTF-8 sequence is one unit, a 4-byte one
 * (outside the BMP) two; no string has more units than bytes.
 */
static bool metadata_too_large(kstr m)
{
	int64_t units = 0;

	if (m.len <= OFFSET_METADATA_MAX_BYTES)
		return false;
	for (int32_t i = 0; i < m.len; i++) {
		uint8_t c = (uint8_t)m.ptr[i];
		if ((c & 0xC0) != 0x80)
			units += c >= 0xF0 ? 2 : 1;
	}
	return units > OFFSET_METADATA_MAX_BYTES;
}

static void add_int(pgarray *a, uint32_t int_oid, int64_t v)
{
	if (int_oid == OID_INT4)
		pgarray_add_i32(a, (int32_t)v);
	else
		pgarray_add_i64(a, v);
}

void part_ref_arrays(const part_ref *parts, int n, uint32_t int_oid, pgarray *topics,
		     pgarray *partitions)
{
	pgarray_begin(topics, OID_TEXT, 32 * (size_t)n + 16);
	pgarray_begin(partitions, int_oid, int_size(int_oid) * (size_t)n + 16);
	for (int i = 0; i < n; i++) {
		pgarray_add(topics, parts[i].topic);
		add_int(partitions, int_oid, parts[i].partition);
	}
	pgarray_end(topics);
	pgarray_end(partitions);
}

void offset_rows_begin(offset_rows *r, arena *a, int max, uint32_t int_oid)
{
	r->parts = ARENA_NEW_ARRAY(a, part_ref, max);
	r->nparts = 0;
	r->int_oid = int_oid;
	pgarray_begin(&r->topics, OID_TEXT, 32 * (size_t)max + 16);
	pgarray_begin(&r->partitions, int_oid, int_size(int_oid) * (size_t)max + 16);
	pgarray_begin(&r->offsets, OID_INT8, 12 * (size_t)max + 16);
	pgarray_begin(&r->epochs, int_oid, int_size(int_oid) * (size_t)max + 16);
	pgarray_begin(&r->metadata, OID_BYTEA, 16 * (size_t)max + 16);
}

int16_t offset_rows_add(offset_rows *r, kstr topic, int32_t partition, int64_t offset,
			int32_t leader_epoch, kstr metadata, int16_t *error_code)
{
	if (!topic_name_valid(topic) || partition < 0)
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (metadata_too_large(metadata))
		return KERR_OFFSET_METADATA_TOO_LARGE;
	part_ref *ref = &r->parts[r->nparts++];
	ref->topic = topic;
	ref->partition = partition;
	ref->error_code = error_code;
	pgarray_add(&r->topics, topic);
	add_int(&r->partitions, r->int_oid, partition);
	pgarray_add_i64(&r->offsets, offset);
	add_int(&r->epochs, r->int_oid, leader_epoch);
	pgarray_add(&r->metadata, metadata.len < 0 ? KSTR_LIT("") : metadata);
	return KERR_NONE;
}

bool offset_rows_end(offset_rows *r, kstr group_id, bool transactional, bool *held)
{
	int16_t e = KERR_NONE;

	pgarray_end(&r->topics);
	pgarray_end(&r->partitions);
	pgarray_end(&r->offsets);
	pgarray_end(&r->epochs);
	pgarray_end(&r->metadata);
	if (r->nparts > 0 && (e = coord_commit_hold(group_id, transactional, held)))
		for (int i = 0; i < r->nparts; i++)
			*r->parts[i].error_code = e;
	return r->nparts > 0 && !e;
}

void offset_rows_params(const offset_rows *r, params *p)
{
	params_bin(p, r->topics.w.buf, (int)r->topics.w.len);
	params_bin(p, r->partitions.w.buf, (int)r->partitions.w.len);
	params_bin(p, r->offsets.w.buf, (int)r->offsets.w.len);
	params_bin(p, r->epochs.w.buf, (int)r->epochs.w.len);
	params_bin(p, r->metadata.w.buf, (int)r->metadata.w.len);
}

void offset_rows_free(offset_rows *r)
{
	pgarray_free(&r->topics);
	pgarray_free(&r->partitions);
	pgarray_free(&r->offsets);
	pgarray_free(&r->epochs);
	pgarray_free(&r->metadata);
}
