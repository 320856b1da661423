/*
 * kafka.append_records(): insert one produced batch into kafka.records the
 * way COPY does, for the broker's produce path (docs/BENCHMARKS.md).
 *
 * The broker used to insert with INSERT ... SELECT FROM unnest(...): every
 * row went through the executor, a tuplestore, and heap_insert with a WAL
 * record of its own. Here the rows are built straight from the array
 * parameters and written with table_multi_insert (one WAL record per heap
 * page), then their index entries are added, as COPY FROM does. The offsets
 * are the caller's: it has reserved them under the partition row lock.
 *
 * Anything that COPY's fast path would also have to take care of -- insert
 * triggers, rules, row-level security, a partitioned or otherwise altered
 * kafka.records -- sends the batch through a plain INSERT instead, so the
 * function never bypasses what a DBA added to the table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pgk_append_records);

/* Rows handed to table_multi_insert at once, and the bytes that flush
 * earlier (COPY's limits). */
#define APPEND_BATCH_ROWS 1000
#define APPEND_BATCH_BYTES 65535

enum { COL_TOPIC, COL_PARTITION, COL_OFFSET, COL_TIMESTAMP, COL_KEY, COL_VALUE, COL_HEADERS,
       NCOLS };

static const struct {
	const char *name;
	Oid type;
} columns[NCOLS] = {
	[COL_TOPIC] = {"topic", TEXTOID},
	[COL_PARTITION] = {"partition", INT4OID},
	[COL_OFFSET] = {"offset", INT8OID},
	[COL_TIMESTAMP] = {"timestamp", TIMESTAMPTZOID},
	[COL_KEY] = {"key", BYTEAOID},
	[COL_VALUE] = {"value", BYTEAOID},
	[COL_HEADERS] = {"headers", BYTEAOID},
};

typedef struct batch_input {
	text *topic;
	int32 partition;
	int64 base;
	bool log_append;
	int n;
	Datum *ts, *keys, *values, *headers;
	bool *ts_null, *key_null, *value_null, *header_null;
} batch_input;

static int deconstruct(ArrayType *a, Oid type, Datum **d, bool **nulls);
static bool fast_path_ok(Relation rel, AttrNumber *attnums);
static void insert_fast(Relation rel, const AttrNumber *attnums, const batch_input *in);
static void flush(Relation rel, ResultRelInfo *rri, EState *estate, MemoryContext tmp,
		  TupleTableSlot **slots, int nslots, CommandId cid);
static void insert_plain(FunctionCallInfo fcinfo);

/*
 * kafka.append_records(topic text, partition int, base bigint,
 *     log_append_time boolean, timestamps timestamptz[], keys bytea[],
 *     "values" bytea[], headers bytea[]) -> bigint
 * Row i gets offset base + i - 1; with log_append_time every row gets the
 * transaction's timestamp, now(). Returns base, so that the broker's
 * statement can read the offset it reserved from the call that used it.
 */
Datum pgk_append_records(PG_FUNCTION_ARGS)
{
	batch_input in;
	Oid relid;
	Relation rel;
	AttrNumber attnums[NCOLS];
	AclResult acl;

	in.topic = PG_GETARG_TEXT_PP(0);
	in.partition = PG_GETARG_INT32(1);
	in.base = PG_GETARG_INT64(2);
	in.log_append = PG_GETARG_BOOL(3);
	in.n = deconstruct(PG_GETARG_ARRAYTYPE_P(4), TIMESTAMPTZOID, &in.ts, &in.ts_null);
	if (deconstruct(PG_GETARG_ARRAYTYPE_P(5), BYTEAOID, &in.keys, &in.key_null) != in.n ||
	    deconstruct(PG_GETARG_ARRAYTYPE_P(6), BYTEAOID, &in.values, &in.value_null) != in.n ||
	    deconstruct(PG_GETARG_ARRAYTYPE_P(7), BYTEAOID, &in.headers, &in.header_null) != in.n)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("timestamps, keys, values and headers must have the same length")));
	for (int i = 0; i < in.n; i++)
		if (in.ts_null[i] && !in.log_append)
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("record timestamp must not be null")));
	if (in.n == 0)
		PG_RETURN_INT64(in.base);

	relid = get_relname_relid("records", get_namespace_oid("kafka", false));
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"kafka.records\" does not exist")));
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, "records");

	rel = table_open(relid, RowExclusiveLock);
	if (fast_path_ok(rel, attnums)) {
		insert_fast(rel, attnums, &in);
		table_close(rel, NoLock);
	} else {
		table_close(rel, NoLock);
		insert_plain(fcinfo);
	}
	PG_RETURN_INT64(in.base);
}

static int deconstruct(ArrayType *a, Oid type, Datum **d, bool **nulls)
{
	int16 len;
	bool byval;
	char align;
	int n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("arrays must be one-dimensional")));
	get_typlenbyvalalign(type, &len, &byval, &align);
	deconstruct_array(a, type, len, byval, align, d, nulls, &n);
	return n;
}

/*
 * The fast path writes the seven columns of sql/pg_kafka--0.1.sql and
 * nothing else: the table must be a plain table with exactly those columns
 * (by name and type, any order), no insert triggers, no rules and no
 * row-level security.
 */
static bool fast_path_ok(Relation rel, AttrNumber *attnums)
{
	TupleDesc desc = RelationGetDescr(rel);
	TriggerDesc *t = rel->trigdesc;
	int live = 0;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rules != NULL ||
	    rel->rd_rel->relrowsecurity ||
	    (t && (t->trig_insert_before_row || t->trig_insert_after_row ||
		   t->trig_insert_instead_row || t->trig_insert_before_statement ||
		   t->trig_insert_after_statement || t->trig_insert_new_table)))
		return false;
	for (int c = 0; c < NCOLS; c++)
		attnums[c] = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int c;
		if (att->attisdropped)
			continue;
		live++;
		for (c = 0; c < NCOLS; c++)
			if (strcmp(NameStr(att->attname), columns[c].name) == 0)
				break;
		if (c == NCOLS || att->atttypid != columns[c].type || att->attgenerated)
			return false;
		attnums[c] = att->attnum;
	}
	return live == NCOLS;
}

static void insert_fast(Relation rel, const AttrNumber *attnums, const batch_input *in)
{
	EState *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	CommandId cid = GetCurrentCommandId(true);
	TupleDesc desc = RelationGetDescr(rel);
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * APPEND_BATCH_ROWS);
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "pg_kafka append",
						  ALLOCSET_DEFAULT_SIZES);
	Datum topic = PointerGetDatum(in->topic);
	Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	int nslots = 0, used = 0;
	size_t bytes = 0;

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);

	for (int i = 0; i < in->n; i++) {
		TupleTableSlot *slot;
		Datum *v;
		bool *isnull;

		if (nslots == APPEND_BATCH_ROWS || bytes >= APPEND_BATCH_BYTES) {
			flush(rel, rri, estate, tmp, slots, nslots, cid);
			nslots = 0;
			bytes = 0;
		}
		if (nslots == used)
			slots[used++] = table_slot_create(rel, NULL);
		slot = slots[nslots++];
		v = slot->tts_values;
		isnull = slot->tts_isnull;

		ExecClearTuple(slot);
		/* Dropped columns stay NULL. */
		for (int a = 0; a < desc->natts; a++)
			isnull[a] = true;
		v[attnums[COL_TOPIC] - 1] = topic;
		v[attnums[COL_PARTITION] - 1] = Int32GetDatum(in->partition);
		v[attnums[COL_OFFSET] - 1] = Int64GetDatum(in->base + i);
		v[attnums[COL_TIMESTAMP] - 1] = in->log_append ? now : in->ts[i];
		v[attnums[COL_KEY] - 1] = in->keys[i];
		v[attnums[COL_VALUE] - 1] = in->values[i];
		v[attnums[COL_HEADERS] - 1] = in->headers[i];
		isnull[attnums[COL_TOPIC] - 1] = false;
		isnull[attnums[COL_PARTITION] - 1] = false;
		isnull[attnums[COL_OFFSET] - 1] = false;
		isnull[attnums[COL_TIMESTAMP] - 1] = false;
		isnull[attnums[COL_KEY] - 1] = in->key_null[i];
		isnull[attnums[COL_VALUE] - 1] = in->value_null[i];
		isnull[attnums[COL_HEADERS] - 1] = in->header_null[i];
		ExecStoreVirtualTuple(slot);

		bytes += 64;
		if (!in->key_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->keys[i]));
		if (!in->value_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->values[i]));
		if (!in->header_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->headers[i]));
	}
	if (nslots > 0)
		flush(rel, rri, estate, tmp, slots, nslots, cid);

	for (int s = 0; s < used; s++)
		ExecDropSingleTupleTableSlot(slots[s]);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	MemoryContextDelete(tmp);
	pfree(slots);
}

/* Write the buffered rows, then their index entries (which also checks the
 * primary key), as COPY FROM does. */
static void flush(Relation rel, ResultRelInfo *rri, EState *estate, MemoryContext tmp,
		  TupleTableSlot **slots, int nslots, CommandId cid)
{
	MemoryContext old = MemoryContextSwitchTo(tmp);

	table_multi_insert(rel, slots, nslots, cid, 0, NULL);
	for (int s = 0; s < nslots; s++) {
		ResetPerTupleExprContext(estate);
		list_free(ExecInsertIndexTuples(rri, slots[s], estate, false, false, NULL, NIL));
		ExecClearTuple(slots[s]);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(tmp);
}

/* The same rows through the executor: what the fast path stands in for. */
static void insert_plain(FunctionCallInfo fcinfo)
{
	static const char *sql =
		"INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", key, value, "
		"headers) SELECT $1, $2, $3 + r.n - 1, CASE WHEN $4 THEN now() ELSE r.ts END, "
		"r.k, r.v, r.h FROM unnest($5, $6, $7, $8) WITH ORDINALITY AS r(ts, k, v, h, n)";
	Oid types[8] = {TEXTOID, INT4OID, INT8OID, BOOLOID,
			TIMESTAMPTZARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID};
	Datum values[8];
	int rc;

	for (int i = 0; i < 8; i++)
		values[i] = PG_GETARG_DATUM(i);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(sql, 8, types, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "inserting records failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}
