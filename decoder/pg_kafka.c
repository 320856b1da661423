/*
 * pg_kafka logical decoding output plugin.
 *
 * Turns committed transactions into the stream of Kafka records they wrote:
 * every INSERT into kafka.records becomes one message, in commit order. Every
 * other table, updates and deletes are skipped, and a transaction has no
 * begin or commit message of its own, so a transaction that wrote no record
 * emits nothing at all.
 *
 * Output (textual), one JSON object per record:
 *
 *     {"topic":"orders","partition":0,"offset":5}
 *
 * Options are parsed once, in the startup callback; none are accepted yet.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_MODULE_MAGIC;

/* The table whose inserted rows are Kafka records (sql/pg_kafka--0.1.sql). */
#define RECORDS_SCHEMA "kafka"
#define RECORDS_TABLE "records"

typedef struct decoder_state {
	MemoryContext change_cxt; /* everything one change allocates; reset after it */
} decoder_state;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void pgk_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init);
static void pgk_shutdown(LogicalDecodingContext *ctx);
static void pgk_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void pgk_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn);
static void pgk_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation rel,
		       ReorderBufferChange *change);
static void parse_options(List *options);
static bool is_records_table(Relation rel);
static AttrNumber column_number(TupleDesc desc, const char *name);
static void write_record_json(LogicalDecodingContext *ctx, TupleDesc desc, HeapTuple tuple);

/* The inserted tuple of a change; its representation changed in PostgreSQL 17. */
#if PG_VERSION_NUM >= 170000
#define CHANGE_NEW_TUPLE(change) ((change)->data.tp.newtuple)
#else
#define CHANGE_NEW_TUPLE(change)                                                                   \
	((change)->data.tp.newtuple ? &(change)->data.tp.newtuple->tuple : NULL)
#endif

void _PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = pgk_startup;
	cb->begin_cb = pgk_begin;
	cb->change_cb = pgk_change;
	cb->commit_cb = pgk_commit;
	cb->shutdown_cb = pgk_shutdown;
}

static void pgk_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	decoder_state *state = palloc0(sizeof(decoder_state));

	state->change_cxt =
		AllocSetContextCreate(ctx->context, "pg_kafka change", ALLOCSET_DEFAULT_SIZES);
	ctx->output_plugin_private = state;

	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;

	parse_options(ctx->output_plugin_options);
}

/* Options come as a list of DefElem (name, optional string value). */
static void parse_options(List *options)
{
	ListCell *lc;

	foreach (lc, options) {
		DefElem *elem = lfirst(lc);

		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unrecognized option \"%s\" for pg_kafka output plugin",
				       elem->defname)));
	}
}

static void pgk_shutdown(LogicalDecodingContext *ctx)
{
	decoder_state *state = ctx->output_plugin_private;

	if (state != NULL)
		MemoryContextDelete(state->change_cxt);
	ctx->output_plugin_private = NULL;
}

/* A transaction is only the records it wrote: nothing marks its start or end. */
static void pgk_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn) {}

static void pgk_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn) {}

static void pgk_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation rel,
		       ReorderBufferChange *change)
{
	decoder_state *state = ctx->output_plugin_private;
	MemoryContext old;
	HeapTuple tuple;

	if (change->action != REORDER_BUFFER_CHANGE_INSERT)
		return;
	tuple = CHANGE_NEW_TUPLE(change);
	if (tuple == NULL)
		return;

	old = MemoryContextSwitchTo(state->change_cxt);
	if (is_records_table(rel))
		write_record_json(ctx, RelationGetDescr(rel), tuple);
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->change_cxt);
}

/* Cheap test first: the relation name is in the relcache entry. */
static bool is_records_table(Relation rel)
{
	char *nspname;

	if (strcmp(RelationGetRelationName(rel), RECORDS_TABLE) != 0)
		return false;
	nspname = get_namespace_name(RelationGetNamespace(rel));
	return nspname != NULL && strcmp(nspname, RECORDS_SCHEMA) == 0;
}

/*
 * Columns are found by name, not position, so that a kafka.records altered by
 * a later extension version keeps decoding. A missing column is an error: the
 * stream must not silently lose records.
 */
static AttrNumber column_number(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	ereport(ERROR,
		(errcode(ERRCODE_UNDEFINED_COLUMN),
		 errmsg("table %s.%s has no column \"%s\"", RECORDS_SCHEMA, RECORDS_TABLE, name)));
	return InvalidAttrNumber; /* not reached */
}

static void write_record_json(LogicalDecodingContext *ctx, TupleDesc desc, HeapTuple tuple)
{
	StringInfo out = ctx->out;
	Datum topic, partition, offset;
	bool topic_null, partition_null, offset_null;

	topic = heap_getattr(tuple, column_number(desc, "topic"), desc, &topic_null);
	partition = heap_getattr(tuple, column_number(desc, "partition"), desc, &partition_null);
	offset = heap_getattr(tuple, column_number(desc, "offset"), desc, &offset_null);

	OutputPluginPrepareWrite(ctx, true);
	appendStringInfoString(out, "{\"topic\":");
	if (topic_null)
		appendStringInfoString(out, "null");
	else
		escape_json(out, TextDatumGetCString(topic));
	appendStringInfoString(out, ",\"partition\":");
	if (partition_null)
		appendStringInfoString(out, "null");
	else
		appendStringInfo(out, "%d", DatumGetInt32(partition));
	appendStringInfoString(out, ",\"offset\":");
	if (offset_null)
		appendStringInfoString(out, "null");
	else
		appendStringInfo(out, INT64_FORMAT, DatumGetInt64(offset));
	appendStringInfoChar(out, '}');
	OutputPluginWrite(ctx, true);
}
