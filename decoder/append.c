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
 * kafka.records is partitioned (topic, then partition, then offset ranges
 * called chunks, plus a DEFAULT leaf per partition; sql/pg_kafka--0.11.sql,
 * "Records in chunks"). Its rows go through PostgreSQL's own tuple routing,
 * set up as COPY FROM sets it up (ExecSetupPartitionTupleRouting,
 * ExecFindPartition): the rows of a batch share topic and partition and
 * have consecutive offsets, so they land in one chunk, or run from one
 * chunk into the next or into the DEFAULT leaf. Every row is routed first;
 * only then are the rows written, each run of rows bound for one leaf with
 * table_multi_insert into that leaf and its own indexes (which check the
 * primary key). Each leaf is built in its own column order, which may
 * differ from kafka.records' after a dropped column. Routing opens only the
 * tables the rows reach, under RowExclusiveLock, as an INSERT would. A
 * plain kafka.records (a 0.8 database being upgraded, or one a DBA changed)
 * is written the same way, as its own single leaf.
 *
 * Anything that COPY's fast path would also have to take care of sends the
 * batch through a plain INSERT instead, so the function never bypasses what
 * a DBA added: insert triggers, rules or row-level security on
 * kafka.records, columns other than its own; and on any leaf a row routes
 * to, insert triggers, rules, or a table that is not a heap table (a
 * foreign table, another access method). That is decided for the whole
 * batch before its first row is written, so a batch never goes half one
 * way and half the other. NOT NULL and CHECK constraints are checked per
 * row, as COPY checks them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/pg_am.h"
#include "executor/execPartition.h"
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
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "kbytes.h"
#include "record_columns.h"

PG_FUNCTION_INFO_V1(pgk_append_records);

/* Rows handed to table_multi_insert at once, and the bytes that flush
 * earlier (COPY's limits). */
#define APPEND_BATCH_ROWS 1000
#define APPEND_BATCH_BYTES 65535

typedef struct batch_input {
	text *topic;
	int32 partition;
	int64 base;
	bool log_append;
	int n;
	Datum *keys, *values, *headers;
	bool *key_null, *value_null, *header_null;
	Datum *ts;    /* timestamptz, -infinity/infinity beyond its range */
	Datum *ts_ms; /* int8: the Kafka timestamp itself */
} batch_input;

static int deconstruct(ArrayType *a, Oid type, Datum **d, bool **nulls);
static bool root_ok(Relation rel, AttrNumber *attnums);
static bool fast_path_ok(Relation rel, AttrNumber *attnums);
static bool insert_fast(Relation rel, const AttrNumber *attnums, const batch_input *in);
static void flush(ResultRelInfo *rri, EState *estate, MemoryContext tmp, TupleTableSlot **slots,
		  int nslots, CommandId cid);
static void timestamps(ArrayType *a, bool log_append, batch_input *in);
static void insert_plain(const batch_input *in, bool with_ms);

/*
 * kafka.append_records(topic text, partition int, base bigint,
 *     log_append_time boolean, timestamps int8[] or timestamptz[],
 *     keys bytea[], "values" bytea[], headers bytea[]) -> bigint
 * Row i gets offset base + i - 1; with log_append_time every row gets the
 * transaction's timestamp, now(). Returns base, so that the broker's
 * statement can read the offset it reserved from the call that used it.
 * Timestamps are Kafka's milliseconds (int8, any value, from 0.7 on) or
 * timestamptz (brokers before 0.7); both columns get each.
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
	in.n = ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(4)),
			      ARR_DIMS(PG_GETARG_ARRAYTYPE_P(4)));
	if (deconstruct(PG_GETARG_ARRAYTYPE_P(5), BYTEAOID, &in.keys, &in.key_null) != in.n ||
	    deconstruct(PG_GETARG_ARRAYTYPE_P(6), BYTEAOID, &in.values, &in.value_null) != in.n ||
	    deconstruct(PG_GETARG_ARRAYTYPE_P(7), BYTEAOID, &in.headers, &in.header_null) != in.n)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("timestamps, keys, values and headers must have the same length")));
	timestamps(PG_GETARG_ARRAYTYPE_P(4), in.log_append, &in);
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
	if (root_ok(rel, attnums) && insert_fast(rel, attnums, &in)) {
		table_close(rel, NoLock);
	} else {
		bool with_ms = get_attnum(relid, "timestamp_ms") != InvalidAttrNumber;
		table_close(rel, NoLock);
		insert_plain(&in, with_ms);
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
 * Both timestamp columns of every row: from Kafka's milliseconds (int8[])
 * or from timestamptz[]; with log_append_time, the transaction's start.
 */
static void timestamps(ArrayType *a, bool log_append, batch_input *in)
{
	Oid type = ARR_ELEMTYPE(a);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum *d;
	bool *nulls;

	if (type != INT8OID && type != TIMESTAMPTZOID)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
				errmsg("timestamps must be int8[] or timestamptz[]")));
	if (deconstruct(a, type, &d, &nulls) != in->n)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("timestamps, keys, values and headers must have the same length")));
	in->ts = palloc(sizeof(Datum) * (in->n + 1));
	in->ts_ms = palloc(sizeof(Datum) * (in->n + 1));
	for (int i = 0; i < in->n; i++) {
		int64 ms;
		if (log_append)
			ms = kafka_timestamp_ms(now);
		else if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("record timestamp must not be null")));
		else if (type == INT8OID)
			ms = DatumGetInt64(d[i]);
		else
			ms = kafka_timestamp_ms(DatumGetTimestampTz(d[i]));
		in->ts_ms[i] = Int64GetDatum(ms);
		in->ts[i] = TimestampTzGetDatum(log_append ? now
					       : type == TIMESTAMPTZOID ? DatumGetTimestampTz(d[i])
								       : kafka_ms_to_timestamp(ms));
	}
}

/*
 * kafka.records itself: a plain or a partitioned table (the leaves are
 * checked as rows route to them), without insert triggers, rules, or
 * row-level security that applies to the caller.
 */
static bool root_ok(Relation rel, AttrNumber *attnums)
{
	/* Row security only matters where it applies to the caller: the
	 * broker's role bypasses it (docs/OPERATIONS.md), a SQL user's rows
	 * go through INSERT and its policies. */
	return (rel->rd_rel->relkind == RELKIND_RELATION ||
		rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) &&
	       check_enable_rls(RelationGetRelid(rel), InvalidOid, false) != RLS_ENABLED &&
	       fast_path_ok(rel, attnums);
}

/*
 * The fast path writes the seven columns of sql/pg_kafka--0.1.sql, plus
 * timestamp_ms from 0.7 on, and nothing else: the table must have exactly
 * those columns (by name and type, any order), and no insert triggers and
 * no rules. Fills attnums with where they are in rel.
 */
static bool fast_path_ok(Relation rel, AttrNumber *attnums)
{
	TupleDesc desc = RelationGetDescr(rel);
	TriggerDesc *t = rel->trigdesc;
	int live = 0;

	if (rel->rd_rules != NULL ||
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
		c = record_column(NameStr(att->attname));
		if (c < 0 || att->atttypid != record_columns[c].type || att->attgenerated)
			return false;
		attnums[c] = att->attnum;
	}
	return live == NCOLS || (live == NCOLS - 1 && attnums[COL_TIMESTAMP_MS] == InvalidAttrNumber);
}

/* One table the batch is written to: kafka.records itself when it is a plain
 * table, else a leaf it routes rows to. */
typedef struct leaf {
	ResultRelInfo *rri;
	AttrNumber attnums[NCOLS]; /* in the leaf's own column order */
	TupleTableSlot **slots;	   /* its buffer, created as needed */
	int used;
} leaf;

/*
 * A table the fast path may write rows to directly: a heap table with
 * kafka.records' columns and no insert triggers or rules. A leaf's
 * triggers would fire on a routed INSERT; its rules would not, but a DBA
 * who added one meant something by it, so it gets the plain INSERT too.
 */
static bool leaf_ok(Relation rel, AttrNumber *attnums)
{
	return rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->relam == HEAP_TABLE_AM_OID &&
	       fast_path_ok(rel, attnums);
}

/* Row i of the batch into slot, whose columns are at attnums. */
static void fill_row(TupleTableSlot *slot, const AttrNumber *attnums, const batch_input *in, int i)
{
	Datum *v = slot->tts_values;
	bool *isnull = slot->tts_isnull;

	ExecClearTuple(slot);
	/* Dropped columns stay NULL. */
	for (int a = 0; a < slot->tts_tupleDescriptor->natts; a++)
		isnull[a] = true;
	v[attnums[COL_TOPIC] - 1] = PointerGetDatum(in->topic);
	v[attnums[COL_PARTITION] - 1] = Int32GetDatum(in->partition);
	v[attnums[COL_OFFSET] - 1] = Int64GetDatum(in->base + i);
	v[attnums[COL_TIMESTAMP] - 1] = in->ts[i];
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
	if (attnums[COL_TIMESTAMP_MS] != InvalidAttrNumber) {
		v[attnums[COL_TIMESTAMP_MS] - 1] = in->ts_ms[i];
		isnull[attnums[COL_TIMESTAMP_MS] - 1] = false;
	}
	ExecStoreVirtualTuple(slot);
}

/*
 * Write the batch into rel (kafka.records, a plain or a partitioned table
 * that passed fast_path_ok). Returns false, having written nothing, when a
 * leaf the rows route to is not for the fast path: the caller then inserts
 * the batch with insert_plain.
 */
static bool insert_fast(Relation rel, const AttrNumber *attnums, const batch_input *in)
{
	EState *estate = CreateExecutorState();
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	ResultRelInfo *root = makeNode(ResultRelInfo);
	ModifyTableState *mtstate = NULL;
	PartitionTupleRouting *proute = NULL;
	CommandId cid = GetCurrentCommandId(true);
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "pg_kafka append",
						  ALLOCSET_DEFAULT_SIZES);
	int *route = NULL; /* each row's leaf, when partitioned */
	leaf *leaves;
	int nleaves = 0, maxleaves = 2, cur = -1, nslots = 0;
	size_t bytes = 0;
	bool ok = true;

	/* A range table of kafka.records alone, as an INSERT's: error reports
	 * of the executor (ExecConstraints) read the inserted columns there. */
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(rel);
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	for (int c = 0; c < NCOLS; c++)
		if (attnums[c] != InvalidAttrNumber)
			rte->insertedCols =
				bms_add_member(rte->insertedCols,
					       attnums[c] - FirstLowInvalidHeapAttributeNumber);
	ExecInitRangeTable(estate, list_make1(rte));
	InitResultRelInfo(root, rel, 1, NULL, 0);
	leaves = palloc0(sizeof(leaf) * maxleaves);

	if (rel->rd_rel->relkind == RELKIND_RELATION) {
		if (!leaf_ok(rel, leaves[0].attnums))
			ok = false;
		else {
			leaves[0].rri = root;
			nleaves = 1;
			ExecOpenIndices(root, false);
		}
	} else {
		/*
		 * PostgreSQL's tuple routing, set up as COPY FROM does. Every row
		 * is routed before any is written, so that the whole batch goes
		 * one way: each leaf is opened (RowExclusiveLock, with its
		 * indexes) when the first row reaches it, and checked.
		 */
		TupleTableSlot *probe = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
		ResultRelInfo *last = NULL;
		int l = -1;

		mtstate = makeNode(ModifyTableState);
		mtstate->ps.plan = NULL;
		mtstate->ps.state = estate;
		mtstate->operation = CMD_INSERT;
		mtstate->mt_nrels = 1;
		mtstate->resultRelInfo = root;
		mtstate->rootResultRelInfo = root;
		proute = ExecSetupPartitionTupleRouting(estate, rel);
		route = palloc(sizeof(int) * in->n);
		for (int i = 0; i < in->n && ok; i++) {
			ResultRelInfo *rri;

			fill_row(probe, attnums, in, i);
			rri = ExecFindPartition(mtstate, root, proute, probe, estate);
			ResetPerTupleExprContext(estate);
			if (rri != last) {
				for (l = 0; l < nleaves && leaves[l].rri != rri; l++)
					;
				if (l == nleaves) {
					if (nleaves == maxleaves) {
						maxleaves *= 2;
						leaves = repalloc(leaves, sizeof(leaf) * maxleaves);
					}
					memset(&leaves[l], 0, sizeof(leaf));
					leaves[l].rri = rri;
					nleaves++;
					ok = leaf_ok(rri->ri_RelationDesc, leaves[l].attnums);
				}
				last = rri;
			}
			route[i] = l;
		}
		ExecDropSingleTupleTableSlot(probe);
	}

	for (int i = 0; i < in->n && ok; i++) {
		int l = route ? route[i] : 0;
		leaf *lf = &leaves[l];
		TupleTableSlot *slot;

		if (nslots > 0 &&
		    (l != cur || nslots == APPEND_BATCH_ROWS || bytes >= APPEND_BATCH_BYTES)) {
			flush(leaves[cur].rri, estate, tmp, leaves[cur].slots, nslots, cid);
			nslots = 0;
			bytes = 0;
		}
		cur = l;
		if (lf->slots == NULL)
			lf->slots = palloc(sizeof(TupleTableSlot *) * APPEND_BATCH_ROWS);
		if (nslots == lf->used)
			lf->slots[lf->used++] = table_slot_create(lf->rri->ri_RelationDesc, NULL);
		slot = lf->slots[nslots++];
		fill_row(slot, lf->attnums, in, i);
		/* NOT NULL and CHECK constraints, as COPY checks them. */
		if (lf->rri->ri_RelationDesc->rd_att->constr)
			ExecConstraints(lf->rri, slot, estate);

		bytes += 64;
		if (!in->key_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->keys[i]));
		if (!in->value_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->values[i]));
		if (!in->header_null[i])
			bytes += VARSIZE_ANY(DatumGetPointer(in->headers[i]));
	}
	if (nslots > 0)
		flush(leaves[cur].rri, estate, tmp, leaves[cur].slots, nslots, cid);

	for (int l = 0; l < nleaves; l++) {
		for (int s = 0; s < leaves[l].used; s++)
			ExecDropSingleTupleTableSlot(leaves[l].slots[s]);
		if (leaves[l].slots)
			pfree(leaves[l].slots);
	}
	if (proute)
		ExecCleanupTupleRouting(mtstate, proute);
	else if (nleaves > 0)
		ExecCloseIndices(root);
	/* Routing's own slots (ri_PartitionTupleSlot of a leaf laid out
	 * differently) are in the executor's tuple table. */
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	MemoryContextDelete(tmp);
	pfree(leaves);
	if (route)
		pfree(route);
	return ok;
}

/* Write the buffered rows, then their index entries (which also checks the
 * primary key), as COPY FROM does. */
static void flush(ResultRelInfo *rri, EState *estate, MemoryContext tmp, TupleTableSlot **slots,
		  int nslots, CommandId cid)
{
	MemoryContext old = MemoryContextSwitchTo(tmp);

	table_multi_insert(rri->ri_RelationDesc, slots, nslots, cid, 0, NULL);
	for (int s = 0; s < nslots; s++) {
		ResetPerTupleExprContext(estate);
		list_free(ExecInsertIndexTuples(rri, slots[s], estate, false, false, NULL, NIL));
		ExecClearTuple(slots[s]);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(tmp);
}

/* The same rows through the executor: what the fast path stands in for. */
static void insert_plain(const batch_input *in, bool with_ms)
{
	static const char *sql_ms =
		"INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", timestamp_ms, "
		"key, value, headers) SELECT $1, $2, $3 + r.n - 1, r.ts, r.ms, r.k, r.v, r.h "
		"FROM unnest($4, $5, $6, $7, $8) WITH ORDINALITY AS r(ts, ms, k, v, h, n)";
	static const char *sql =
		"INSERT INTO kafka.records (topic, partition, \"offset\", \"timestamp\", "
		"key, value, headers) SELECT $1, $2, $3 + r.n - 1, r.ts, r.k, r.v, r.h "
		"FROM unnest($4, $5, $6, $7, $8) WITH ORDINALITY AS r(ts, ms, k, v, h, n)";
	Oid types[8] = {TEXTOID, INT4OID, INT8OID, TIMESTAMPTZARRAYOID,
			INT8ARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID};
	int dims[1] = {in->n}, lbs[1] = {1};
	Datum values[8];
	int rc;

	values[0] = PointerGetDatum(in->topic);
	values[1] = Int32GetDatum(in->partition);
	values[2] = Int64GetDatum(in->base);
	values[3] = PointerGetDatum(construct_array(in->ts, in->n, TIMESTAMPTZOID, 8,
						    FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(in->ts_ms, in->n, INT8OID, 8,
						    FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[5] = PointerGetDatum(construct_md_array(in->keys, in->key_null, 1, dims, lbs,
						       BYTEAOID, -1, false, TYPALIGN_INT));
	values[6] = PointerGetDatum(construct_md_array(in->values, in->value_null, 1, dims, lbs,
						       BYTEAOID, -1, false, TYPALIGN_INT));
	values[7] = PointerGetDatum(construct_md_array(in->headers, in->header_null, 1, dims, lbs,
						       BYTEAOID, -1, false, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(with_ms ? sql_ms : sql, 8, types, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "inserting records failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}
