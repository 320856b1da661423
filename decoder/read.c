/*
 * kafka.read_records() and kafka.read_records_packed(): a partition's
 * records in offset order, as rows, and packed into pieces for the
 * broker's Fetch (sql/pg_kafka--0.11.sql, "Reading a partition's
 * records"); the read-side analogue of append.c.
 *
 * A query over the partitioned kafka.records has to be planned with its
 * topic and partition known, or it would lock every table under
 * kafka.records; planning it costs more than the rest of a Fetch. Here
 * nothing is planned: the partition's tables are found from PostgreSQL's
 * own partition descriptors (kafka.records -> the topic's table -> the
 * partition's table -> its chunks and DEFAULT leaf), and each leaf is read
 * with a scan of its primary key index (topic, partition, offset) under
 * the active snapshot. Only the tables read are locked (AccessShareLock),
 * as the executor locks a pruned plan's, each when the read reaches it. An
 * unpartitioned kafka.records is one such leaf.
 *
 * The DEFAULT leaf holds rows in the gaps between chunks (and before the
 * first, after the last), so the offset ranges of a partition's table are
 * walked in order, each read from the chunk or the DEFAULT leaf that owns
 * it: the output is in offset order across them.
 *
 * Anything a direct read would bypass or not understand -- row security
 * that applies to the caller, a leaf that is not a heap table (a foreign
 * table), a table partitioned another way, a missing or different primary
 * key index -- sends the read, or its rest from there, through the SQL
 * query it stands for, so the function never bypasses what a DBA set up.
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
PG_FUNCTION_INFO_V1(pgk_read_records_packed);

/* Result columns of kafka.read_records(). */
enum { OUT_OFFSET, OUT_TS, OUT_KEY, OUT_VALUE, OUT_HEADERS, NOUT };

/* A table under kafka.records to read, for offsets lo .. hi - 1. */
typedef struct leaf_read {
	Oid relid;
	int64 lo;
	int64 hi;
} leaf_read;

typedef struct reader reader;
typedef void (*row_sink)(reader *r, Datum *values, bool *nulls);

/*
 * A read of one partition's offsets, row by row (next_row). The tables to
 * read are listed first, in offset order, from the partition descriptors;
 * each is opened and locked only when the read reaches it. Once a table
 * turns out not to be one a direct read handles, the rest of the read
 * goes through the SQL query (read_sql), from the offset after the last
 * row read.
 */
struct reader {
	Datum topic;
	int32 partition;
	int64 next; /* where the rest of the read starts */
	int64 upto;
	int64 left; /* rows still wanted; -1: no limit */
	bool sql;   /* the rest is read through the query */
	leaf_read *leaves;
	int nleaves;
	int maxleaves;
	int cur; /* the next of leaves to open */
	/* the table being read, if any */
	Relation rel;
	Relation index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	AttrNumber attnums[NCOLS];
	AttrNumber last;
	/* where read_sql sends its rows */
	row_sink sink;
	void *sink_arg;
};

/*
 * kafka.read_records_packed() returns its records in pieces: each a
 * format byte (PACK_FORMAT), a flags byte, then records, the piece ending
 * after the record that brings it to PIECE_BYTES. A piece lives in the
 * memory of one call, so a Fetch of any size reads with the same few
 * pieces of memory, which the allocator hands back each time: one value
 * of a whole Fetch took a fresh mapping, faulted in page by page, at
 * each step of its way out (the value, its send copy, the message).
 */
#define PACK_FORMAT 1
#define PACK_TRUNCATED 1
#define PACK_MAX ((int64)256 * 1024 * 1024)
#define PIECE_BYTES (64 * 1024)
#define PIECE_ALLOC (PIECE_BYTES + 16 * 1024)
#define PIECE_START (VARHDRSZ + 2) /* where a piece's records start */

typedef struct packer {
	reader r;
	int64 max_bytes;   /* the cap on the records' bytes */
	int64 bytes;       /* the records' bytes so far */
	bool truncated;    /* the cap stopped the read */
	bool done;         /* nothing more to read */
	StringInfo piece;  /* being filled, in the call's memory */
	List *pending;     /* pieces read through SQL, to return next */
	MemoryContext cxt; /* lives as long as the call series */
	ExprContext *econtext;
} packer;

static bool reader_init(FunctionCallInfo fcinfo, reader *r);
static bool may_select(Oid relid);
static bool plan_rel(reader *r, Oid relid, int64 lo, int64 hi);
static bool plan_partitioned(reader *r, Relation rel, int64 lo, int64 hi);
static bool plan_ranges(reader *r, PartitionKey key, PartitionDesc pd, int64 lo, int64 hi);
static int64 range_bound(PartitionBoundInfo b, int i);
static bool open_leaf(reader *r, const leaf_read *l);
static void close_leaf(reader *r);
static bool next_row(reader *r, Datum *values, bool *nulls);
static int column_of(Relation rel, AttrNumber attnum);
static bool leaf_columns(Relation rel, AttrNumber *attnums);
static bool key_index_ok(Relation index, const AttrNumber *attnums);
static int64 record_ts(TupleTableSlot *slot, const AttrNumber *attnums);
static void read_sql(reader *r);
static void init_store(FunctionCallInfo fcinfo);
static void store_row(reader *r, Datum *values, bool *nulls);
static StringInfo new_piece(void);
static void pack_record(packer *p, Datum *values, bool *nulls);
static void pack_sql_row(reader *r, Datum *values, bool *nulls);
static bytea *end_piece(packer *p, StringInfo piece);
static void pack_bytes(StringInfo buf, Datum d, bool isnull);
static void pack_int(StringInfo buf, uint64 v, int bytes);
static void packer_shutdown(Datum arg);

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
	Datum values[NOUT];
	bool nulls[NOUT];

	init_store(fcinfo);
	if (!reader_init(fcinfo, &r))
		return (Datum)0;
	r.sink = store_row;
	r.sink_arg = rsinfo;
	while (next_row(&r, values, nulls))
		store_row(&r, values, nulls);
	close_leaf(&r);
	if (r.sql)
		read_sql(&r);
	return (Datum)0;
}

static void store_row(reader *r, Datum *values, bool *nulls)
{
	ReturnSetInfo *rsinfo = r->sink_arg;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * kafka.read_records_packed(p_topic text, p_partition int, p_from bigint,
 *     p_upto bigint, p_limit int, p_max_bytes int) -> SETOF bytea
 * The rows kafka.read_records() returns for its first five arguments,
 * packed into pieces: each a format byte (1), a flags byte, then for each
 * record its offset and ts as 8-byte integers and its key, value and
 * headers each as a 4-byte length (-1: NULL) and that many bytes, integers
 * big-endian as in PostgreSQL's binary formats; a piece ends after the
 * record that brings it to 64 KiB, and holds at least one. A Fetch reads
 * thousands of records; sent as rows, each costs a tuplestore copy, a
 * projection, a send function per column and a protocol message, which
 * together cost the broker's Fetch twice what the same rows cost through
 * COPY. The read stops after the record that brings the records' bytes
 * (without the pieces' two leading ones) to p_max_bytes (NULL: PACK_MAX),
 * and then, unless that record was the last the limit allows, sets flag 1
 * in the last piece: more records may follow. Called in a select list, the
 * pieces go out as they are read: no read holds more than a piece.
 */
Datum pgk_read_records_packed(PG_FUNCTION_ARGS)
{
	FuncCallContext *fc;
	packer *p;
	MemoryContext old;
	Datum values[NOUT];
	bool nulls[NOUT];

	if (SRF_IS_FIRSTCALL()) {
		ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;

		fc = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fc->multi_call_memory_ctx);
		p = palloc0(sizeof(packer));
		p->cxt = fc->multi_call_memory_ctx;
		p->max_bytes = PG_ARGISNULL(5) ? PACK_MAX : Min(Max(PG_GETARG_INT32(5), 0), PACK_MAX);
		p->done = !reader_init(fcinfo, &p->r);
		p->r.sink = pack_sql_row;
		p->r.sink_arg = p;
		if (!p->done && rsinfo != NULL && IsA(rsinfo, ReturnSetInfo)) {
			/* A caller that stops early leaves a table open. */
			p->econtext = rsinfo->econtext;
			RegisterExprContextCallback(p->econtext, packer_shutdown, PointerGetDatum(p));
		}
		MemoryContextSwitchTo(old);
		fc->user_fctx = p;
	}
	fc = SRF_PERCALL_SETUP();
	p = fc->user_fctx;

	if (p->pending == NIL && !p->done) {
		/* The piece is the call's; the read's state is the series'. */
		p->piece = new_piece();
		old = MemoryContextSwitchTo(p->cxt);
		while (p->piece->len < PIECE_START + PIECE_BYTES && next_row(&p->r, values, nulls))
			pack_record(p, values, nulls);
		if (p->r.sql) {
			/* The rest through the query: into pieces kept for the
			 * calls to come, this one's first. */
			close_leaf(&p->r);
			read_sql(&p->r);
			if (p->piece->len > PIECE_START)
				p->pending = lappend(p->pending, end_piece(p, p->piece));
			p->done = true;
		} else if (p->piece->len < PIECE_START + PIECE_BYTES) {
			close_leaf(&p->r);
			p->done = true;
		}
		MemoryContextSwitchTo(old);
		if (!p->r.sql && p->piece->len > PIECE_START)
			SRF_RETURN_NEXT(fc, PointerGetDatum(end_piece(p, p->piece)));
	}
	if (p->pending != NIL) {
		bytea *b = linitial(p->pending);
		p->pending = list_delete_first(p->pending);
		SRF_RETURN_NEXT(fc, PointerGetDatum(b));
	}
	close_leaf(&p->r);
	if (p->econtext)
		UnregisterExprContextCallback(p->econtext, packer_shutdown, PointerGetDatum(p));
	SRF_RETURN_DONE(fc);
}

static void packer_shutdown(Datum arg)
{
	packer *p = (packer *)DatumGetPointer(arg);

	close_leaf(&p->r);
}

/* An empty piece, in the current memory context. */
static StringInfo new_piece(void)
{
	StringInfo piece = palloc(sizeof(StringInfoData));

	piece->maxlen = PIECE_ALLOC;
	piece->data = palloc(piece->maxlen);
	piece->len = 0;
	piece->cursor = 0;
	appendStringInfoSpaces(piece, VARHDRSZ);
	appendStringInfoChar(piece, PACK_FORMAT);
	appendStringInfoChar(piece, 0);
	return piece;
}

/* Append a record to the piece being filled; the cap ends the read,
 * unless the limit ends it anyway. */
static void pack_record(packer *p, Datum *values, bool *nulls)
{
	StringInfo buf = p->piece;
	int before = buf->len;

	pack_int(buf, (uint64)DatumGetInt64(values[OUT_OFFSET]), 8);
	pack_int(buf, (uint64)DatumGetInt64(values[OUT_TS]), 8);
	pack_bytes(buf, values[OUT_KEY], nulls[OUT_KEY]);
	pack_bytes(buf, values[OUT_VALUE], nulls[OUT_VALUE]);
	pack_bytes(buf, values[OUT_HEADERS], nulls[OUT_HEADERS]);
	p->bytes += buf->len - before;
	if (p->r.left != 0 && p->bytes >= p->max_bytes) {
		p->truncated = true;
		p->r.left = 0;
	}
}

/* A row of read_sql: into the piece, which once full is kept (in the
 * series' memory) and replaced. */
static void pack_sql_row(reader *r, Datum *values, bool *nulls)
{
	packer *p = r->sink_arg;

	pack_record(p, values, nulls);
	if (p->piece->len >= PIECE_START + PIECE_BYTES) {
		MemoryContext old = MemoryContextSwitchTo(p->cxt);
		p->pending = lappend(p->pending, end_piece(p, p->piece));
		MemoryContextSwitchTo(old);
		p->piece->len = PIECE_START;
	}
}

/* The piece as a bytea: in place when it is the call's piece and not kept
 * for later, else copied into the current memory context. */
static bytea *end_piece(packer *p, StringInfo piece)
{
	bytea *b;

	if (p->truncated)
		piece->data[VARHDRSZ + 1] |= PACK_TRUNCATED;
	if (p->r.sql) {
		b = palloc(piece->len);
		memcpy(b, piece->data, piece->len);
	} else
		b = (bytea *)piece->data;
	SET_VARSIZE(b, piece->len);
	return b;
}

static void pack_int(StringInfo buf, uint64 v, int bytes)
{
	char b[8];

	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		b[i] = (char)(v & 0xff);
	appendBinaryStringInfoNT(buf, b, bytes);
}

/* A bytea as its length and bytes, -1 for NULL; detoasted as needed. */
static void pack_bytes(StringInfo buf, Datum d, bool isnull)
{
	struct varlena *orig, *v;

	if (isnull) {
		pack_int(buf, (uint64)(int64)-1, 4);
		return;
	}
	orig = (struct varlena *)DatumGetPointer(d);
	v = pg_detoast_datum_packed(orig);
	pack_int(buf, (uint64)VARSIZE_ANY_EXHDR(v), 4);
	appendBinaryStringInfoNT(buf, VARDATA_ANY(v), (int)VARSIZE_ANY_EXHDR(v));
	if (v != orig)
		pfree(v);
}

/*
 * The arguments of either function into r, and the tables to read listed.
 * False when there is nothing to read. Without SELECT on kafka.records
 * (only on the columns read), or with row security that applies to the
 * caller, everything goes through the query, whose policies apply.
 */
static bool reader_init(FunctionCallInfo fcinfo, reader *r)
{
	Oid relid;

	memset(r, 0, sizeof(*r));
	r->left = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);
	relid = get_relname_relid("records", get_namespace_oid("kafka", false));
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"kafka.records\" does not exist")));
	r->sql = !may_select(relid) || check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED;
	if (r->left < 0 && !PG_ARGISNULL(4))
		ereport(ERROR, (errcode(ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE),
				errmsg("LIMIT must not be negative")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
	    r->left == 0)
		return false;
	r->topic = PG_GETARG_DATUM(0);
	r->partition = PG_GETARG_INT32(1);
	r->next = PG_GETARG_INT64(2);
	r->upto = PG_GETARG_INT64(3);
	if (r->next >= r->upto)
		return false;
	if (!r->sql && !plan_rel(r, relid, r->next, r->upto))
		r->sql = true;
	return true;
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
 * List the tables of kafka.records' tree that hold offsets lo .. hi - 1
 * (lo < hi) of the partition, from relid down, in offset order. False if
 * the tree is partitioned in a way a direct read does not follow. Only
 * partitioned tables are opened (and locked) here; a table dropped since
 * its parent's descriptor was read holds nothing any more.
 */
static bool plan_rel(reader *r, Oid relid, int64 lo, int64 hi)
{
	char kind = get_rel_relkind(relid);
	Relation rel;
	bool ok;

	if (kind == '\0')
		return true;
	if (kind != RELKIND_PARTITIONED_TABLE) {
		if (r->nleaves == r->maxleaves) {
			r->maxleaves = Max(8, 2 * r->maxleaves);
			r->leaves = r->leaves ? repalloc(r->leaves, sizeof(leaf_read) * r->maxleaves)
					      : palloc(sizeof(leaf_read) * r->maxleaves);
		}
		r->leaves[r->nleaves++] = (leaf_read){relid, lo, hi};
		return true;
	}
	rel = try_table_open(relid, AccessShareLock);
	if (rel == NULL)
		return true;
	ok = plan_partitioned(r, rel, lo, hi);
	table_close(rel, NoLock);
	return ok;
}

/*
 * A table partitioned on one column: LIST on topic or partition leads to
 * the one table holding the caller's (or the DEFAULT one), RANGE on offset
 * to a walk of its offset ranges. Partitions being detached are left out,
 * as the planner leaves them out.
 */
static bool plan_partitioned(reader *r, Relation rel, int64 lo, int64 hi)
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
		return pd->nparts == 0 || plan_ranges(r, key, pd, lo, hi);
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
	return idx < 0 || plan_rel(r, pd->oids[idx], lo, hi);
}

/*
 * The offset ranges of a table partitioned by RANGE (offset), in order
 * from the one holding lo: range i lies between bounds i - 1 and i (the
 * first and last are open), owned by partition indexes[i], or by the
 * DEFAULT partition where that is -1 (a gap between chunks).
 */
static bool plan_ranges(reader *r, PartitionKey key, PartitionDesc pd, int64 lo, int64 hi)
{
	PartitionBoundInfo b = pd->boundinfo;
	Datum lo_datum = Int64GetDatum(lo);
	bool equal;
	int i = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, b, 1,
					      &lo_datum, &equal) + 1;

	for (; i <= b->ndatums; i++) {
		int64 from = i == 0 ? lo : Max(lo, range_bound(b, i - 1));
		int64 to = i == b->ndatums ? hi : Min(hi, range_bound(b, i));
		int idx = b->indexes[i] >= 0 ? b->indexes[i] : b->default_index;

		if (from >= hi)
			break;
		if (from < to && idx >= 0 && !plan_rel(r, pd->oids[idx], from, to))
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
 * Start reading a listed table: a heap table read through its primary
 * key index on (topic, partition, offset), with scan keys for the topic,
 * the partition and the offsets left to read in it, so the rows come in
 * offset order. False if it is not a table a direct read handles; true
 * with nothing open if it was dropped.
 */
static bool open_leaf(reader *r, const leaf_read *l)
{
	Relation rel = try_table_open(l->relid, AccessShareLock);
	Oid index_oid;
	Relation index;
	ScanKeyData keys[4];
	int64 lo = Max(l->lo, r->next);

	if (rel == NULL)
		return true;
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
	    !leaf_columns(rel, r->attnums) ||
	    !OidIsValid(index_oid = RelationGetPrimaryKeyIndex(rel))) {
		table_close(rel, NoLock);
		return false;
	}
	index = index_open(index_oid, AccessShareLock);
	if (!key_index_ok(index, r->attnums)) {
		index_close(index, NoLock);
		table_close(rel, NoLock);
		return false;
	}
	r->last = 0;
	for (int c = 0; c < NCOLS; c++)
		r->last = Max(r->last, r->attnums[c]);

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
			       index->rd_indcollation[0], F_TEXTEQ, r->topic);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, InvalidOid,
			       F_INT4EQ, Int32GetDatum(r->partition));
	ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid,
			       InvalidOid, F_INT8GE, Int64GetDatum(lo));
	ScanKeyEntryInitialize(&keys[3], 0, 3, BTLessStrategyNumber, InvalidOid, InvalidOid,
			       F_INT8LT, Int64GetDatum(l->hi));
	r->scan = index_beginscan(rel, index, GetActiveSnapshot(), 4, 0);
	index_rescan(r->scan, keys, 4, NULL, 0);
	r->slot = table_slot_create(rel, NULL);
	r->rel = rel;
	r->index = index;
	return true;
}

static void close_leaf(reader *r)
{
	if (r->scan == NULL)
		return;
	ExecDropSingleTupleTableSlot(r->slot);
	index_endscan(r->scan);
	index_close(r->index, NoLock);
	table_close(r->rel, NoLock);
	r->slot = NULL;
	r->scan = NULL;
	r->index = NULL;
	r->rel = NULL;
}

/*
 * The next row of the direct read, into values/nulls (pointing into the
 * table's buffers until the next call). False at the end of the read, or
 * once r->sql says the rest goes through the query.
 */
static bool next_row(reader *r, Datum *values, bool *nulls)
{
	TupleTableSlot *slot;

	while (!r->sql && r->left != 0) {
		if (r->scan == NULL) {
			if (r->cur >= r->nleaves)
				return false;
			if (!open_leaf(r, &r->leaves[r->cur])) {
				r->sql = true;
				return false;
			}
			r->cur++;
			continue;
		}
		CHECK_FOR_INTERRUPTS();
		slot = r->slot;
		if (!index_getnext_slot(r->scan, ForwardScanDirection, slot)) {
			close_leaf(r);
			continue;
		}
		slot_getsomeattrs(slot, r->last);
		values[OUT_OFFSET] = slot->tts_values[r->attnums[COL_OFFSET] - 1];
		nulls[OUT_OFFSET] = false;
		values[OUT_TS] = Int64GetDatum(record_ts(slot, r->attnums));
		nulls[OUT_TS] = false;
		values[OUT_KEY] = slot->tts_values[r->attnums[COL_KEY] - 1];
		nulls[OUT_KEY] = slot->tts_isnull[r->attnums[COL_KEY] - 1];
		values[OUT_VALUE] = slot->tts_values[r->attnums[COL_VALUE] - 1];
		nulls[OUT_VALUE] = slot->tts_isnull[r->attnums[COL_VALUE] - 1];
		values[OUT_HEADERS] = slot->tts_values[r->attnums[COL_HEADERS] - 1];
		nulls[OUT_HEADERS] = slot->tts_isnull[r->attnums[COL_HEADERS] - 1];
		r->next = DatumGetInt64(values[OUT_OFFSET]) + 1;
		if (r->left > 0)
			r->left--;
		return true;
	}
	return false;
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
 * The rest of the read (offsets r->next .. r->upto - 1, r->left rows)
 * through the query it stands for, rows to r->sink, through SPI: the
 * caller's privileges and row security apply, and the planner reads
 * whatever kafka.records has become. No sorts where an index gives the
 * order (a chunk filled since it was last analyzed looks empty to the
 * planner).
 */
static void read_sql(reader *r)
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
	Datum args[5] = {r->topic, Int32GetDatum(r->partition), Int64GetDatum(r->next),
			 Int64GetDatum(r->upto), Int64GetDatum(r->left)};
	char nulls[5] = {' ', ' ', ' ', ' ', r->left < 0 ? 'n' : ' '};
	int nest, rc;

	if (r->left == 0 || r->next >= r->upto)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nest = NewGUCNestLevel();
	(void)set_config_option("enable_sort", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
				true, 0, false);
	rc = SPI_execute_with_args(sql, 5, types, args, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading records failed: %s", SPI_result_code_string(rc));
	for (uint64 n = 0; n < SPI_processed && r->left != 0; n++) {
		Datum values[NOUT];
		bool isnull[NOUT];
		for (int c = 0; c < NOUT; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[n], SPI_tuptable->tupdesc, c + 1,
						  &isnull[c]);
		r->next = DatumGetInt64(values[OUT_OFFSET]) + 1;
		if (r->left > 0)
			r->left--;
		r->sink(r, values, isnull);
	}
	AtEOXact_GUC(true, nest);
	SPI_finish();
}
