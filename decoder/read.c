/*
 * kafka.read_records(): a partition's records in offset order, for the
 * broker's Fetch (sql/pg_kafka--0.9.sql, "Reading a partition's records");
 * the read-side analogue of append.c.
 *
 * A query over the partitioned kafka.records has to be planned with its
 * topic and partition known, or it would lock every table under
 * kafka.records; planning it costs more than the rest of a Fetch. Here
 * nothing is planned: the partition's tables are found from PostgreSQL's
 * own partition descriptors (kafka.records -> the topic's table -> the
 * partition's table -> its chunks and DEFAULT leaf), and each leaf is read
 * with a scan of its primary key index (topic, partition, offset) under
 * the active snapshot. Only the tables read are locked (AccessShareLock),
 * as the executor locks a pruned plan's. An unpartitioned kafka.records is
 * one such leaf.
 *
 * The DEFAULT leaf holds rows in the gaps between chunks (and before the
 * first, after the last), so the offset ranges of a partition's table are
 * walked in order, each read from the chunk or the DEFAULT leaf that owns
 * it: the output is in offset order across them.
 *
 * Anything a direct read would bypass or not understand -- row security
 * that applies to the caller, a leaf that is not a heap table (a foreign
 * table), a table partitioned another way, a missing or different primary
 * key index -- sends the read through the SQL query it stands for, so the
 * function never bypasses what a DBA set up.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "kbytes.h"
#include "record_columns.h"

PG_FUNCTION_INFO_V1(pgk_read_records);

/* Result columns. */
enum { OUT_OFFSET, OUT_TS, OUT_KEY, OUT_VALUE, OUT_HEADERS, NOUT };

typedef struct reader {
	Datum topic;
	int32 partition;
	int64 left; /* rows still wanted; -1: no limit */
	Tuplestorestate *store;
	TupleDesc desc;
} reader;

static bool may_select(Oid relid);
static bool read_rel(reader *r, Oid relid, int64 lo, int64 hi);
static bool read_partitioned(reader *r, Relation rel, int64 lo, int64 hi);
static bool read_ranges(reader *r, PartitionKey key, PartitionDesc pd, int64 lo, int64 hi);
static int64 range_bound(PartitionBoundInfo b, int i);
static bool read_leaf(reader *r, Relation rel, int64 lo, int64 hi);
static int column_of(Relation rel, AttrNumber attnum);
static bool leaf_columns(Relation rel, AttrNumber *attnums);
static bool key_index_ok(Relation index, const AttrNumber *attnums);
static int64 record_ts(TupleTableSlot *slot, const AttrNumber *attnums);
static void read_sql(FunctionCallInfo fcinfo, reader *r);
static void init_store(FunctionCallInfo fcinfo);

/*
 * The result's tuplestore, as InitMaterializedSRF() makes it, but kept in
 * memory up to READ_MEMORY_KB rather than work_mem: a Fetch reads up to
 * its partition's byte budget (4 MB by default in the Java client, 1 MB in
 * librdkafka, more when one partition is asked for), which at the default
 * work_mem of 4 MB went to a temporary file and back on every Fetch. The
 * rows are bounded by p_limit, which the broker sizes from that budget.
 * The descriptor is the caller's: working out the function's own would
 * leave its argument arrays in the query's memory at every call.
 */
#define READ_MEMORY_KB (64 * 1024)

static void init_store(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize) || rsinfo->expectedDesc == NULL)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("materialize mode required, but it is not allowed in this context")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->setDesc = CreateTupleDescCopy(rsinfo->expectedDesc);
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
						  false, Max(work_mem, READ_MEMORY_KB));
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextSwitchTo(old);
}

/*
 * kafka.read_records(p_topic text, p_partition int, p_from bigint,
 *     p_upto bigint, p_limit int)
 *   -> TABLE ("offset" bigint, ts bigint, key bytea, value bytea, headers bytea)
 * Up to p_limit records (NULL: all) of offsets p_from .. p_upto - 1, in
 * offset order; ts is timestamp_ms, or the timestamp in milliseconds where
 * that is NULL. As the SQL query: a NULL topic, partition or bound matches
 * nothing, a negative limit is an error.
 */
Datum pgk_read_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	reader r;
	Oid relid;
	int64 from, upto;

	init_store(fcinfo);
	r.store = rsinfo->setResult;
	r.desc = rsinfo->setDesc;
	r.left = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);

	relid = get_relname_relid("records", get_namespace_oid("kafka", false));
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"kafka.records\" does not exist")));
	/* Row security that applies to the caller: its policies, through SQL. */
	if (!may_select(relid) || check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED) {
		read_sql(fcinfo, &r);
		return (Datum)0;
	}
	if (r.left < 0 && !PG_ARGISNULL(4))
		ereport(ERROR, (errcode(ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE),
				errmsg("LIMIT must not be negative")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
	    r.left == 0)
		return (Datum)0;

	r.topic = PG_GETARG_DATUM(0);
	r.partition = PG_GETARG_INT32(1);
	from = PG_GETARG_INT64(2);
	upto = PG_GETARG_INT64(3);
	if (from < upto && !read_rel(&r, relid, from, upto)) {
		/* Something a direct read does not handle: start again in SQL. */
		tuplestore_clear(r.store);
		r.left = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);
		read_sql(fcinfo, &r);
	}
	return (Datum)0;
}

/*
 * SELECT on kafka.records, or on every column the query reads. False when
 * only the query can tell (it raises the permission error); an error when
 * the caller has neither.
 */
static bool may_select(Oid relid)
{
	Oid user = GetUserId();
	AclResult acl = pg_class_aclcheck(relid, user, ACL_SELECT);

	if (acl == ACLCHECK_OK)
		return true;
	for (int c = 0; c < NCOLS; c++) {
		AttrNumber a = get_attnum(relid, record_columns[c].name);
		if (a == InvalidAttrNumber)
			return false;
		if (pg_attribute_aclcheck(relid, a, user, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
	}
	return true;
}

/*
 * Append the rows of offsets lo .. hi - 1 (lo < hi) of relid, a table of
 * kafka.records' tree, to the result. False if the table is not one a
 * direct read handles (rows may have been appended: the caller discards
 * them). A table dropped since its parent's descriptor was read holds
 * nothing any more.
 */
static bool read_rel(reader *r, Oid relid, int64 lo, int64 hi)
{
	Relation rel = try_table_open(relid, AccessShareLock);
	bool ok;

	if (rel == NULL)
		return true;
	if (rel->rd_rel->relkind == RELKIND_RELATION)
		ok = read_leaf(r, rel, lo, hi);
	else if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		ok = read_partitioned(r, rel, lo, hi);
	else
		ok = false;
	table_close(rel, NoLock);
	return ok;
}

/*
 * A table partitioned on one column: LIST on topic or partition leads to
 * the one table holding the caller's (or the DEFAULT one), RANGE on offset
 * to a walk of its offset ranges. Partitions being detached are left out,
 * as the planner leaves them out.
 */
static bool read_partitioned(reader *r, Relation rel, int64 lo, int64 hi)
{
	PartitionKey key = RelationGetPartitionKey(rel);
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	PartitionBoundInfo b = pd->boundinfo;
	int c, idx = -1;

	if (key->partnatts != 1 || key->partattrs[0] == 0)
		return false;
	c = column_of(rel, key->partattrs[0]);
	if (c < 0 || key->parttypid[0] != record_columns[c].type)
		return false;
	if (key->strategy == PARTITION_STRATEGY_RANGE && c == COL_OFFSET)
		return pd->nparts == 0 || read_ranges(r, key, pd, lo, hi);
	if (key->strategy != PARTITION_STRATEGY_LIST || (c != COL_TOPIC && c != COL_PARTITION))
		return false;
	if (pd->nparts == 0)
		return true;
	if (b->ndatums > 0) {
		bool equal = false;
		Datum v = c == COL_TOPIC ? r->topic : Int32GetDatum(r->partition);
		int off = partition_list_bsearch(key->partsupfunc, key->partcollation, b, v, &equal);
		if (off >= 0 && equal)
			idx = b->indexes[off];
	}
	if (idx < 0)
		idx = b->default_index;
	return idx < 0 || read_rel(r, pd->oids[idx], lo, hi);
}

/*
 * The offset ranges of a table partitioned by RANGE (offset), in order
 * from the one holding lo: range i lies between bounds i - 1 and i (the
 * first and last are open), owned by partition indexes[i], or by the
 * DEFAULT partition where that is -1 (a gap between chunks).
 */
static bool read_ranges(reader *r, PartitionKey key, PartitionDesc pd, int64 lo, int64 hi)
{
	PartitionBoundInfo b = pd->boundinfo;
	Datum lo_datum = Int64GetDatum(lo);
	bool equal;
	int i = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, b, 1,
					      &lo_datum, &equal) + 1;

	for (; i <= b->ndatums && r->left != 0; i++) {
		int64 from = i == 0 ? lo : Max(lo, range_bound(b, i - 1));
		int64 to = i == b->ndatums ? hi : Min(hi, range_bound(b, i));
		int idx = b->indexes[i] >= 0 ? b->indexes[i] : b->default_index;

		if (from >= hi)
			break;
		if (from < to && idx >= 0 && !read_rel(r, pd->oids[idx], from, to))
			return false;
	}
	return true;
}

/* Bound i of a single-column int8 range partitioning, MINVALUE and
 * MAXVALUE as the int8 extremes (no offset reaches either). */
static int64 range_bound(PartitionBoundInfo b, int i)
{
	if (b->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE)
		return PG_INT64_MIN;
	if (b->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE)
		return PG_INT64_MAX;
	return DatumGetInt64(b->datums[i][0]);
}

/*
 * One leaf: a heap table read through its primary key index on (topic,
 * partition, offset), with scan keys for the topic, the partition and
 * lo <= offset < hi, so the rows come in offset order.
 */
static bool read_leaf(reader *r, Relation rel, int64 lo, int64 hi)
{
	AttrNumber attnums[NCOLS];
	Oid index_oid;
	Relation index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData keys[4];
	AttrNumber last = 0;

	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID || !leaf_columns(rel, attnums))
		return false;
	index_oid = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(index_oid))
		return false;
	index = index_open(index_oid, AccessShareLock);
	if (!key_index_ok(index, attnums)) {
		index_close(index, NoLock);
		return false;
	}
	for (int c = 0; c < NCOLS; c++)
		last = Max(last, attnums[c]);

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
			       index->rd_indcollation[0], F_TEXTEQ, r->topic);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, InvalidOid,
			       F_INT4EQ, Int32GetDatum(r->partition));
	ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid,
			       InvalidOid, F_INT8GE, Int64GetDatum(lo));
	ScanKeyEntryInitialize(&keys[3], 0, 3, BTLessStrategyNumber, InvalidOid, InvalidOid,
			       F_INT8LT, Int64GetDatum(hi));
	scan = index_beginscan(rel, index, GetActiveSnapshot(), 4, 0);
	index_rescan(scan, keys, 4, NULL, 0);
	slot = table_slot_create(rel, NULL);

	while (r->left != 0 && index_getnext_slot(scan, ForwardScanDirection, slot)) {
		Datum values[NOUT];
		bool nulls[NOUT] = {false};

		CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, last);
		values[OUT_OFFSET] = slot->tts_values[attnums[COL_OFFSET] - 1];
		values[OUT_TS] = Int64GetDatum(record_ts(slot, attnums));
		values[OUT_KEY] = slot->tts_values[attnums[COL_KEY] - 1];
		nulls[OUT_KEY] = slot->tts_isnull[attnums[COL_KEY] - 1];
		values[OUT_VALUE] = slot->tts_values[attnums[COL_VALUE] - 1];
		nulls[OUT_VALUE] = slot->tts_isnull[attnums[COL_VALUE] - 1];
		values[OUT_HEADERS] = slot->tts_values[attnums[COL_HEADERS] - 1];
		nulls[OUT_HEADERS] = slot->tts_isnull[attnums[COL_HEADERS] - 1];
		tuplestore_putvalues(r->store, r->desc, values, nulls);
		if (r->left > 0)
			r->left--;
	}

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
	return true;
}

/* Which of record_columns attribute attnum of rel is, or -1. */
static int column_of(Relation rel, AttrNumber attnum)
{
	return record_column(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname));
}

/* The attribute numbers of record_columns in rel (by name); false if one is
 * missing or of another type. */
static bool leaf_columns(Relation rel, AttrNumber *attnums)
{
	TupleDesc desc = RelationGetDescr(rel);

	for (int c = 0; c < NCOLS; c++)
		attnums[c] = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int c;
		if (att->attisdropped)
			continue;
		c = column_of(rel, att->attnum);
		if (c < 0)
			continue;
		if (att->atttypid != record_columns[c].type)
			return false;
		attnums[c] = att->attnum;
	}
	for (int c = 0; c < NCOLS; c++)
		if (attnums[c] == InvalidAttrNumber)
			return false;
	return true;
}

/*
 * A valid btree index whose first key columns are topic, partition and
 * offset, ascending, with the default operator families of their types:
 * a forward scan gives one partition's rows in offset order.
 */
static bool key_index_ok(Relation index, const AttrNumber *attnums)
{
	static const int cols[3] = {COL_TOPIC, COL_PARTITION, COL_OFFSET};
	Form_pg_index ix = index->rd_index;

	if (index->rd_rel->relam != BTREE_AM_OID || !ix->indisvalid || !ix->indisready ||
	    ix->indnkeyatts < 3 || !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL))
		return false;
	for (int k = 0; k < 3; k++)
		if (ix->indkey.values[k] != attnums[cols[k]] || index->rd_indoption[k] != 0 ||
		    index->rd_opfamily[k] != (k == 0 ? TEXT_BTREE_FAM_OID : INTEGER_BTREE_FAM_OID) ||
		    index->rd_opcintype[k] != record_columns[cols[k]].type)
			return false;
	return true;
}

/*
 * A record's Kafka timestamp: timestamp_ms, or where that is NULL (rows
 * written before 0.7) the timestamp in milliseconds, rounded down as
 * floor(extract(epoch FROM "timestamp") * 1000)::int8 rounds it, and the
 * same error for an infinite one.
 */
static int64 record_ts(TupleTableSlot *slot, const AttrNumber *attnums)
{
	TimestampTz t;

	if (!slot->tts_isnull[attnums[COL_TIMESTAMP_MS] - 1])
		return DatumGetInt64(slot->tts_values[attnums[COL_TIMESTAMP_MS] - 1]);
	t = DatumGetTimestampTz(slot->tts_values[attnums[COL_TIMESTAMP] - 1]);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot convert infinity to %s", "bigint")));
	return kafka_timestamp_ms(t);
}

/*
 * The query the function stands for, through SPI: the caller's privileges
 * and row security apply, and the planner reads whatever kafka.records
 * has become. No sorts where an index gives the order (a chunk filled
 * since it was last analyzed looks empty to the planner).
 */
static void read_sql(FunctionCallInfo fcinfo, reader *r)
{
	static const char *sql =
		"SELECT r.\"offset\","
		" coalesce(r.timestamp_ms, floor(extract(epoch FROM r.\"timestamp\") * 1000)::int8),"
		" r.key, r.value, r.headers"
		" FROM kafka.records r"
		" WHERE r.topic = $1 AND r.partition = $2"
		" AND r.\"offset\" >= $3 AND r.\"offset\" < $4"
		" ORDER BY r.\"offset\" LIMIT $5";
	Oid types[5] = {TEXTOID, INT4OID, INT8OID, INT8OID, INT8OID};
	Datum args[5];
	char nulls[5];
	int nest, rc;

	for (int i = 0; i < 5; i++) {
		args[i] = i == 4 ? Int64GetDatum(PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4))
				 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nest = NewGUCNestLevel();
	(void)set_config_option("enable_sort", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
				true, 0, false);
	rc = SPI_execute_with_args(sql, 5, types, args, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading records failed: %s", SPI_result_code_string(rc));
	for (uint64 n = 0; n < SPI_processed; n++) {
		Datum values[NOUT];
		bool isnull[NOUT];
		for (int c = 0; c < NOUT; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[n], SPI_tuptable->tupdesc, c + 1,
						  &isnull[c]);
		tuplestore_putvalues(r->store, r->desc, values, isnull);
	}
	AtEOXact_GUC(true, nest);
	SPI_finish();
}
