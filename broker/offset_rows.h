/*
 * The partitions of an offset commit (OffsetCommit, TxnOffsetCommit),
 * checked as Kafka checks them and laid out as the statement's arrays:
 * topics, partitions, offsets, leader epochs, metadata. Also the reference
 * from a partition sent to PostgreSQL to where its answer goes, which
 * every statement over a list of partitions keeps.
 *
 * The two commit statements differ in one type: OffsetCommit's takes its
 * partitions and leader epochs as int8[], TxnOffsetCommit's (and
 * AddPartitionsToTxn's) as int[]. The caller names it (OID_INT8, OID_INT4).
 */
#ifndef PGK_OFFSET_ROWS_H
#define PGK_OFFSET_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "kbuf.h"
#include "params.h"
#include "pgbin.h"

/* One partition sent to PostgreSQL, and where its answer goes. */
typedef struct part_ref {
	kstr topic;
	int32_t partition;
	int16_t *error_code; /* where its answer goes */
	void *out;           /* the API's per-partition result, when it has more */
} part_ref;

/* The topics and partitions of parts as two arrays, partitions of type
 * int_oid. The caller frees both. */
void part_ref_arrays(const part_ref *parts, int n, uint32_t int_oid, pgarray *topics,
		     pgarray *partitions);

/* The rows of one commit statement, in request order. */
typedef struct offset_rows {
	part_ref *parts; /* in the request's arena */
	int nparts;
	uint32_t int_oid; /* partitions and leader epochs */
	pgarray topics, partitions, offsets, epochs, metadata;
} offset_rows;

/* Room for max partitions. offset_rows_free() whatever follows. */
void offset_rows_begin(offset_rows *r, arena *a, int max, uint32_t int_oid);

/*
 * One partition of the request, checked as Kafka checks it: a topic name
 * that cannot exist or a negative partition is UNKNOWN_TOPIC_OR_PARTITION,
 * metadata past offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE,
 * metadata that PostgreSQL text cannot hold INVALID_REQUEST. Returns that
 * error, or NONE when the partition became a row whose answer goes to
 * *error_code (null metadata is stored as "", as Kafka does).
 */
int16_t offset_rows_add(offset_rows *r, kstr topic, int32_t partition, int64_t offset,
			int32_t leader_epoch, kstr metadata, int16_t *error_code);

/*
 * Ends the arrays. When there are rows, the group now waits for their
 * write (coord_commit_hold(group_id, transactional, held), coordinator.h);
 * its refusal becomes the answer of every row. Returns true when the
 * statement is to be sent; the caller then releases the hold when the
 * write is over, if *held.
 */
bool offset_rows_end(offset_rows *r, kstr group_id, bool transactional, bool *held);

/* Adds the five arrays to p in the statements' order. They must stay
 * until the statement is submitted. */
void offset_rows_params(const offset_rows *r, params *p);

void offset_rows_free(offset_rows *r);

#endif
