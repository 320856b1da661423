/*
 * pg_kafka logical decoding output plugin.
 *
 * Turns committed transactions into the stream of Kafka records they wrote:
 * every INSERT into kafka.records becomes one message, in commit order.
 * kafka.records is partitioned (sql/pg_kafka--0.11.sql, "Records in
 * chunks"), and logical decoding reports each row as a change of the leaf
 * table that holds it: a relation is a records table when it is
 * kafka.records or its partition root is, which is looked up once per
 * relation and remembered until the relcache says the relation changed.
 * Every other table, updates, deletes and truncates are skipped, so a
 * transaction that wrote no record emits nothing at all (not even markers).
 * With the summary option, a transaction instead gets one message per
 * partition it wrote, with the highest offset: all a wake-up needs, at a
 * fraction of the messages.
 *
 * Two encodings, chosen by the "format" option (docs/DECODER.md has both):
 *
 *   json    one JSON object per record, for people and tools:
 *           {"topic":"orders","partition":0,"offset":5,"timestamp":1700000000000,
 *            "key":"azE=","value":"aGVsbG8=","headers":[],"lsn":"0/1A2B3C8"}
 *   binary  version byte, type byte, fixed big-endian fields, for the broker's
 *           wake-up stream and the shadow forwarder.
 *
 * Positions. Each message is written with the LSN of the change that made
 * it, except the last one of a transaction, which is held back until the
 * commit callback and so carries the transaction's end LSN. A client that
 * confirms the position of the last message it processed (pg_recvlogical
 * does) therefore confirms whole transactions and never sees one twice,
 * while a client that stops inside a transaction gets all of it again.
 *
 * Large transactions need nothing special here: PostgreSQL spills them to
 * disk and replays them at commit, one change at a time. Memory per change
 * lives in a context that is reset after the change.
 *
 * Options are parsed once, in the startup callback, into decoder_options; an
 * unknown option or a bad value is an ERROR that names the option.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "decwire.h" /* common/: the binary format shared with its readers */
#include "kbytes.h"

PG_MODULE_MAGIC;

/* The table whose inserted rows are Kafka records (sql/pg_kafka--0.1.sql),
 * or whose partitions' rows are (0.9). */
#define RECORDS_SCHEMA "kafka"
#define RECORDS_TABLE "records"
/* Transaction markers: rows of kafka.txn_batches with a control type. */
#define MARKERS_TABLE "txn_batches"

/* A held-back message larger than this has its buffer freed once written. */
#define PENDING_KEEP_BYTES (8 * 1024 * 1024)

typedef enum out_format { FORMAT_JSON, FORMAT_BINARY } out_format;

typedef struct decoder_options {
	out_format format;
	bool payload;           /* key, value and headers */
	bool markers;           /* begin and commit messages */
	bool summary;           /* one message per partition and transaction */
	kjson_bytes_mode bytes; /* JSON: how key, value and header values look */
	List *topics;           /* names to emit (char *); NIL: every topic */
} decoder_options;

/* Column numbers of kafka.records, looked up by name. */
typedef struct record_columns {
	AttrNumber topic, partition, offset, timestamp, key, value, headers;
	AttrNumber timestamp_ms; /* 0.7 on; InvalidAttrNumber before */
} record_columns;

/* summary: what one transaction wrote to one partition. */
typedef struct summary_entry {
	char *topic;
	int32 partition;
	int64 offset; /* the highest written */
	int64 timestamp;
} summary_entry;

typedef struct decoder_state {
	decoder_options opt;
	MemoryContext txn_cxt;  /* summary entries; reset at each begin */
	summary_entry *summary;
	int nsummary, summary_cap, summary_hit;
	MemoryContext change_cxt; /* everything one change allocates; reset after it */
	StringInfoData pending;   /* the last message rendered, not yet written */
	bool has_pending;
	bool txn_started;  /* the begin marker of this transaction is out */
	Oid markers_relid; /* kafka.txn_batches as last seen */
} decoder_state;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

static void pgk_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init);
static void pgk_shutdown(LogicalDecodingContext *ctx);
static void pgk_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void pgk_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn);
static void pgk_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation rel,
		       ReorderBufferChange *change);
static void parse_options(List *options, decoder_options *opt);
static bool option_bool(DefElem *elem);
static List *option_topics(DefElem *elem);
static bool is_records_table(Relation rel);
static bool records_root(Oid relid);
static void records_rels_invalidate(Datum arg, Oid relid);
static bool summary_marker(decoder_state *state, Relation rel, HeapTuple tuple);
static int64 record_timestamp(HeapTuple tuple, TupleDesc desc, const record_columns *cols);
static void find_columns(TupleDesc desc, record_columns *cols);
static AttrNumber column_number(TupleDesc desc, const char *name);
static bool topic_wanted(const decoder_options *opt, const char *topic);
static void flush_pending(LogicalDecodingContext *ctx, bool last_write);
static void render_begin(decoder_state *state, ReorderBufferTXN *txn, StringInfo out);
static void render_commit(decoder_state *state, ReorderBufferTXN *txn, StringInfo out);
static void render_record(decoder_state *state, ReorderBufferTXN *txn, TupleDesc desc,
			  HeapTuple tuple, const record_columns *cols, const char *topic,
			  StringInfo out);
static void render_message(decoder_state *state, ReorderBufferTXN *txn, const char *topic,
			   int32 partition, int64 offset, int64 ts, const char *const bytes[3],
			   const int lens[3], bool summary, StringInfo out);
static void summary_add(decoder_state *state, const char *topic, int32 partition, int64 offset,
			int64 ts);
static void summary_emit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void get_bytes(HeapTuple tuple, TupleDesc desc, AttrNumber att, const char **data, int *len);
static void send_bytes(StringInfo out, const char *data, int len);
static void append_lsn(StringInfo out, const char *name, XLogRecPtr lsn);

/* The inserted tuple of a change; its representation changed in PostgreSQL 17. */
#if PG_VERSION_NUM >= 170000
#define CHANGE_NEW_TUPLE(change) ((change)->data.tp.newtuple)
#else
#define CHANGE_NEW_TUPLE(change)                                                                   \
	((change)->data.tp.newtuple ? &(change)->data.tp.newtuple->tuple : NULL)
#endif

void _PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	/* No truncate callback: a TRUNCATE of kafka.records (or of anything)
	 * is skipped by PostgreSQL itself and leaves the stream intact. */
	cb->startup_cb = pgk_startup;
	cb->begin_cb = pgk_begin;
	cb->change_cb = pgk_change;
	cb->commit_cb = pgk_commit;
	cb->shutdown_cb = pgk_shutdown;
}

static void pgk_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	decoder_state *state;
	MemoryContext old = MemoryContextSwitchTo(ctx->context);

	state = palloc0(sizeof(decoder_state));
	parse_options(ctx->output_plugin_options, &state->opt);
	state->change_cxt =
		AllocSetContextCreate(ctx->context, "pg_kafka change", ALLOCSET_DEFAULT_SIZES);
	state->txn_cxt =
		AllocSetContextCreate(ctx->context, "pg_kafka transaction", ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&state->pending);
	state->markers_relid = InvalidOid;
	ctx->output_plugin_private = state;
	MemoryContextSwitchTo(old);

	opt->output_type = state->opt.format == FORMAT_BINARY ? OUTPUT_PLUGIN_BINARY_OUTPUT
							      : OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
}

/* ---- options ---- */

/* Options come as a list of DefElem: a name and an optional string value. */
static void parse_options(List *options, decoder_options *opt)
{
	ListCell *lc;

	opt->format = FORMAT_JSON;
	opt->payload = true;
	opt->markers = false;
	opt->summary = false;
	opt->bytes = KJSON_BASE64;
	opt->topics = NIL;

	foreach (lc, options) {
		DefElem *elem = lfirst(lc);
		const char *value = elem->arg ? strVal(elem->arg) : NULL;

		if (strcmp(elem->defname, "format") == 0) {
			if (value && strcmp(value, "json") == 0)
				opt->format = FORMAT_JSON;
			else if (value && strcmp(value, "binary") == 0)
				opt->format = FORMAT_BINARY;
			else
				ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value \"%s\" for pg_kafka option "
						"\"format\"",
						value ? value : ""),
					 errhint("Valid values are \"json\" and \"binary\".")));
		} else if (strcmp(elem->defname, "payload") == 0) {
			opt->payload = option_bool(elem);
		} else if (strcmp(elem->defname, "markers") == 0) {
			opt->markers = option_bool(elem);
		} else if (strcmp(elem->defname, "summary") == 0) {
			opt->summary = option_bool(elem);
		} else if (strcmp(elem->defname, "bytes") == 0) {
			if (value && strcmp(value, "base64") == 0)
				opt->bytes = KJSON_BASE64;
			else if (value && strcmp(value, "text") == 0)
				opt->bytes = KJSON_TEXT;
			else
				ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value \"%s\" for pg_kafka option "
						"\"bytes\"",
						value ? value : ""),
					 errhint("Valid values are \"base64\" and \"text\".")));
		} else if (strcmp(elem->defname, "topics") == 0) {
			opt->topics = option_topics(elem);
		} else if (strcmp(elem->defname, "version") == 0) {
			/* The binary format's version; only one exists so far. */
			if (!value || strcmp(value, "1") != 0)
				ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("invalid value \"%s\" for pg_kafka option "
						"\"version\"",
						value ? value : ""),
					 errhint("This pg_kafka speaks binary format version 1.")));
		} else {
			ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized option \"%s\" for pg_kafka output plugin",
					elem->defname),
				 errhint("Valid options are format, payload, markers, summary, "
					 "bytes, topics and version.")));
		}
	}
}

/* A boolean option; given without a value (pg_recvlogical -o name), true. */
static bool option_bool(DefElem *elem)
{
	bool result;

	if (elem->arg == NULL)
		return true;
	if (!parse_bool(strVal(elem->arg), &result))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid value \"%s\" for pg_kafka option \"%s\"",
				       strVal(elem->arg), elem->defname),
				errhint("The option takes a boolean: true or false.")));
	return result;
}

/* "topics": a comma-separated list of topic names, spaces around names ignored. */
static List *option_topics(DefElem *elem)
{
	List *topics = NIL;
	char *copy, *tok, *save = NULL;

	if (elem->arg == NULL || strVal(elem->arg)[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("pg_kafka option \"topics\" needs a comma-separated list of "
				       "topic names")));
	copy = pstrdup(strVal(elem->arg));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		size_t len;

		while (*tok == ' ')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		len = strlen(tok);
		if (len == 0 || len > 249 ||
		    strspn(tok, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
			ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid topic name \"%s\" in pg_kafka option \"topics\"",
					tok),
				 errhint("A topic name is 1 to 249 characters of "
					 "[A-Za-z0-9._-].")));
		topics = lappend(topics, tok);
	}
	if (topics == NIL)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("pg_kafka option \"topics\" needs a comma-separated list of "
				       "topic names")));
	return topics;
}

static void pgk_shutdown(LogicalDecodingContext *ctx)
{
	decoder_state *state = ctx->output_plugin_private;

	if (state != NULL)
		MemoryContextDelete(state->change_cxt);
	ctx->output_plugin_private = NULL;
}

/* ---- transactions ---- */

/* Nothing is known to be written yet: the begin marker waits for a record. */
static void pgk_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	decoder_state *state = ctx->output_plugin_private;

	state->txn_started = false;
	state->has_pending = false;
	state->nsummary = 0;
	state->summary_hit = 0;
	state->summary = NULL;
	state->summary_cap = 0;
	MemoryContextReset(state->txn_cxt);
}

static void pgk_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
	decoder_state *state = ctx->output_plugin_private;

	if (!state->txn_started)
		return;
	if (state->opt.summary)
		summary_emit(ctx, txn);
	if (state->opt.markers) {
		flush_pending(ctx, false);
		render_commit(state, txn, &state->pending);
		state->has_pending = true;
	}
	/* Written from the commit callback, so it carries the end LSN. */
	flush_pending(ctx, true);
	state->txn_started = false;
}

static void pgk_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation rel,
		       ReorderBufferChange *change)
{
	decoder_state *state = ctx->output_plugin_private;
	TupleDesc desc = RelationGetDescr(rel);
	record_columns cols;
	MemoryContext old;
	HeapTuple tuple;
	Datum topic_datum;
	bool isnull;
	char *topic;

	if (change->action != REORDER_BUFFER_CHANGE_INSERT)
		return;
	tuple = CHANGE_NEW_TUPLE(change);
	if (tuple == NULL)
		return;
	/* A transaction marker moves the high watermark without a record:
	 * summary streams carry it too, so that read_committed fetches
	 * waiting on any broker wake at EndTxn. */
	if (state->opt.summary && summary_marker(state, rel, tuple))
		return;
	if (!is_records_table(rel))
		return;

	old = MemoryContextSwitchTo(state->change_cxt);
	find_columns(desc, &cols);
	topic_datum = heap_getattr(tuple, cols.topic, desc, &isnull);
	topic = isnull ? "" : TextDatumGetCString(topic_datum);
	if (topic_wanted(&state->opt, topic) && state->opt.summary) {
		bool null_p, null_o;
		Datum p = heap_getattr(tuple, cols.partition, desc, &null_p);
		Datum o = heap_getattr(tuple, cols.offset, desc, &null_o);

		state->txn_started = true;
		summary_add(state, topic, null_p ? -1 : DatumGetInt32(p),
			    null_o ? -1 : DatumGetInt64(o), record_timestamp(tuple, desc, &cols));
	} else if (topic_wanted(&state->opt, topic)) {
		/* The previous message is not the transaction's last: out with it. */
		flush_pending(ctx, false);
		if (!state->txn_started) {
			state->txn_started = true;
			if (state->opt.markers) {
				render_begin(state, txn, &state->pending);
				state->has_pending = true;
				flush_pending(ctx, false);
			}
		}
		/* pending's buffer lives in ctx->context; this change's other
		 * allocations go with change_cxt. */
		render_record(state, txn, desc, tuple, &cols, topic, &state->pending);
		state->has_pending = true;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->change_cxt);
}

/* Write the held-back message, if any. */
static void flush_pending(LogicalDecodingContext *ctx, bool last_write)
{
	decoder_state *state = ctx->output_plugin_private;

	if (!state->has_pending)
		return;
	OutputPluginPrepareWrite(ctx, last_write);
	appendBinaryStringInfo(ctx->out, state->pending.data, state->pending.len);
	OutputPluginWrite(ctx, last_write);
	state->has_pending = false;
	if (state->pending.maxlen > PENDING_KEEP_BYTES) {
		MemoryContext old = MemoryContextSwitchTo(ctx->context);

		pfree(state->pending.data);
		initStringInfo(&state->pending);
		MemoryContextSwitchTo(old);
	} else {
		resetStringInfo(&state->pending);
	}
}

/* ---- which rows ---- */

/*
 * Relations already classified, by OID: true for kafka.records and the
 * tables under it. Entries go when the relcache invalidates the relation
 * (an ATTACH, a DETACH, a DROP, a rename), so an OID that comes back for
 * another table is looked up again.
 */
typedef struct records_rel {
	Oid relid; /* hash key */
	bool is_records;
} records_rel;

static HTAB *records_rels;

static bool is_records_table(Relation rel)
{
	Oid relid = RelationGetRelid(rel);
	records_rel *e;
	bool found;

	if (records_rels == NULL) {
		HASHCTL ctl = {.keysize = sizeof(Oid), .entrysize = sizeof(records_rel),
			       .hcxt = TopMemoryContext};

		records_rels = hash_create("pg_kafka records relations", 64, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(records_rels_invalidate, (Datum)0);
	}
	e = hash_search(records_rels, &relid, HASH_ENTER, &found);
	if (!found) {
		/* If the lookup fails, the entry must not stay half made. */
		e->is_records = false;
		PG_TRY();
		{
			e->is_records = rel->rd_rel->relispartition
						? records_root(llast_oid(get_partition_ancestors(relid)))
						: records_root(relid);
		}
		PG_CATCH();
		{
			hash_search(records_rels, &relid, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return e->is_records;
}

/* Whether relid is kafka.records. */
static bool records_root(Oid relid)
{
	char *relname = get_rel_name(relid);
	char *nspname;

	if (relname == NULL || strcmp(relname, RECORDS_TABLE) != 0)
		return false;
	nspname = get_namespace_name(get_rel_namespace(relid));
	return nspname != NULL && strcmp(nspname, RECORDS_SCHEMA) == 0;
}

static void records_rels_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	records_rel *e;

	(void)arg;
	if (records_rels == NULL)
		return;
	if (OidIsValid(relid)) {
		hash_search(records_rels, &relid, HASH_REMOVE, NULL);
		return;
	}
	hash_seq_init(&seq, records_rels);
	while ((e = hash_seq_search(&seq)) != NULL)
		hash_search(records_rels, &e->relid, HASH_REMOVE, NULL);
}

/*
 * An insert into kafka.txn_batches with a control type is a transaction
 * marker: a summary entry for its partition and offset. True if the row
 * was of that table (handled), whatever it held.
 */
static bool summary_marker(decoder_state *state, Relation rel, HeapTuple tuple)
{
	TupleDesc desc = RelationGetDescr(rel);
	AttrNumber a_topic = InvalidAttrNumber, a_part = InvalidAttrNumber,
		   a_last = InvalidAttrNumber, a_control = InvalidAttrNumber;
	bool null_t, null_p, null_o, null_c;
	Datum t, p, o;
	MemoryContext old;
	char *topic;

	if (strcmp(RelationGetRelationName(rel), MARKERS_TABLE) != 0)
		return false;
	if (RelationGetRelid(rel) != state->markers_relid) {
		char *nspname = get_namespace_name(RelationGetNamespace(rel));
		if (nspname == NULL || strcmp(nspname, RECORDS_SCHEMA) != 0)
			return false;
		state->markers_relid = RelationGetRelid(rel);
	}
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		if (att->attisdropped)
			continue;
		if (strcmp(name, "topic") == 0)
			a_topic = att->attnum;
		else if (strcmp(name, "partition") == 0)
			a_part = att->attnum;
		else if (strcmp(name, "last_offset") == 0)
			a_last = att->attnum;
		else if (strcmp(name, "control") == 0)
			a_control = att->attnum;
	}
	if (a_topic == InvalidAttrNumber || a_part == InvalidAttrNumber ||
	    a_last == InvalidAttrNumber || a_control == InvalidAttrNumber)
		return true;
	(void)heap_getattr(tuple, a_control, desc, &null_c);
	if (null_c)
		return true; /* a batch of records: those come as records */
	t = heap_getattr(tuple, a_topic, desc, &null_t);
	p = heap_getattr(tuple, a_part, desc, &null_p);
	o = heap_getattr(tuple, a_last, desc, &null_o);
	if (null_t || null_p || null_o)
		return true;
	old = MemoryContextSwitchTo(state->change_cxt);
	topic = TextDatumGetCString(t);
	if (topic_wanted(&state->opt, topic)) {
		state->txn_started = true;
		summary_add(state, topic, DatumGetInt32(p), DatumGetInt64(o), -1);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->change_cxt);
	return true;
}

static bool topic_wanted(const decoder_options *opt, const char *topic)
{
	ListCell *lc;

	if (opt->topics == NIL)
		return true;
	foreach (lc, opt->topics) {
		if (strcmp((const char *)lfirst(lc), topic) == 0)
			return true;
	}
	return false;
}

/*
 * A row's Kafka timestamp: timestamp_ms (0.7 on: exact for any int64),
 * else the timestamptz column (rows written before 0.7), -1 if neither.
 */
static int64 record_timestamp(HeapTuple tuple, TupleDesc desc, const record_columns *cols)
{
	bool isnull = true;
	Datum d;

	if (cols->timestamp_ms != InvalidAttrNumber) {
		d = heap_getattr(tuple, cols->timestamp_ms, desc, &isnull);
		if (!isnull)
			return DatumGetInt64(d);
	}
	d = heap_getattr(tuple, cols->timestamp, desc, &isnull);
	return isnull ? -1 : kafka_timestamp_ms(DatumGetTimestampTz(d));
}

static void find_columns(TupleDesc desc, record_columns *cols)
{
	cols->topic = column_number(desc, "topic");
	cols->partition = column_number(desc, "partition");
	cols->offset = column_number(desc, "offset");
	cols->timestamp = column_number(desc, "timestamp");
	cols->key = column_number(desc, "key");
	cols->value = column_number(desc, "value");
	cols->headers = column_number(desc, "headers");
	cols->timestamp_ms = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (!att->attisdropped && strcmp(NameStr(att->attname), "timestamp_ms") == 0)
			cols->timestamp_ms = att->attnum;
	}
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

/* ---- rendering ---- */

static void render_begin(decoder_state *state, ReorderBufferTXN *txn, StringInfo out)
{
	int64 ts = kafka_timestamp_ms(txn->xact_time.commit_time);

	if (state->opt.format == FORMAT_BINARY) {
		pq_sendbyte(out, DECMSG_VERSION);
		pq_sendbyte(out, DECMSG_BEGIN);
		pq_sendint32(out, txn->xid);
		pq_sendint64(out, txn->final_lsn);
		pq_sendint64(out, (uint64)ts);
		return;
	}
	appendStringInfo(out, "{\"type\":\"begin\",\"xid\":%u", txn->xid);
	append_lsn(out, "lsn", txn->final_lsn);
	appendStringInfo(out, ",\"timestamp\":" INT64_FORMAT "}", ts);
}

static void render_commit(decoder_state *state, ReorderBufferTXN *txn, StringInfo out)
{
	int64 ts = kafka_timestamp_ms(txn->xact_time.commit_time);

	if (state->opt.format == FORMAT_BINARY) {
		pq_sendbyte(out, DECMSG_VERSION);
		pq_sendbyte(out, DECMSG_COMMIT);
		pq_sendint32(out, txn->xid);
		pq_sendint64(out, txn->final_lsn);
		pq_sendint64(out, txn->end_lsn);
		pq_sendint64(out, (uint64)ts);
		return;
	}
	appendStringInfo(out, "{\"type\":\"commit\",\"xid\":%u", txn->xid);
	append_lsn(out, "lsn", txn->final_lsn);
	append_lsn(out, "end_lsn", txn->end_lsn);
	appendStringInfo(out, ",\"timestamp\":" INT64_FORMAT "}", ts);
}

/*
 * One record. The lsn written with it is its transaction's commit LSN, the
 * same for every record of the transaction.
 */
static void render_record(decoder_state *state, ReorderBufferTXN *txn, TupleDesc desc,
			  HeapTuple tuple, const record_columns *cols, const char *topic,
			  StringInfo out)
{
	bool isnull;
	Datum d;
	int32 partition;
	int64 offset, ts;
	const char *bytes[3] = {NULL, NULL, NULL}; /* key, value, headers */
	int lens[3] = {-1, -1, -1};

	d = heap_getattr(tuple, cols->partition, desc, &isnull);
	partition = isnull ? -1 : DatumGetInt32(d);
	d = heap_getattr(tuple, cols->offset, desc, &isnull);
	offset = isnull ? -1 : DatumGetInt64(d);
	ts = record_timestamp(tuple, desc, cols);
	if (state->opt.payload) {
		get_bytes(tuple, desc, cols->key, &bytes[0], &lens[0]);
		get_bytes(tuple, desc, cols->value, &bytes[1], &lens[1]);
		get_bytes(tuple, desc, cols->headers, &bytes[2], &lens[2]);
	}
	render_message(state, txn, topic, partition, offset, ts, bytes, lens, false, out);
}

/*
 * A record message. With summary, it stands for every record the
 * transaction wrote to the partition and carries the highest offset; it
 * never has a payload.
 */
static void render_message(decoder_state *state, ReorderBufferTXN *txn, const char *topic,
			   int32 partition, int64 offset, int64 ts, const char *const bytes[3],
			   const int lens[3], bool summary, StringInfo out)
{
	bool payload = state->opt.payload && !summary;
	int topic_len = (int)strlen(topic);

	if (state->opt.format == FORMAT_BINARY) {
		pq_sendbyte(out, DECMSG_VERSION);
		pq_sendbyte(out, DECMSG_RECORD);
		pq_sendbyte(out, (payload ? DECMSG_FLAG_PAYLOAD : 0) | (summary ? DECMSG_FLAG_SUMMARY : 0));
		pq_sendint64(out, txn->final_lsn);
		pq_sendint32(out, (uint32)partition);
		pq_sendint64(out, (uint64)offset);
		pq_sendint64(out, (uint64)ts);
		send_bytes(out, topic, topic_len);
		if (payload)
			for (int i = 0; i < 3; i++)
				send_bytes(out, bytes[i], lens[i]);
		return;
	}

	appendStringInfoString(out, "{\"topic\":\"");
	kjson_escape(out, topic, topic_len);
	appendStringInfo(out, "\",\"partition\":%d,\"offset\":" INT64_FORMAT, partition, offset);
	appendStringInfo(out, ",\"timestamp\":" INT64_FORMAT, ts);
	if (summary)
		appendStringInfoString(out, ",\"summary\":true");
	if (payload) {
		appendStringInfoString(out, ",\"key\":");
		kjson_bytes(out, bytes[0], lens[0], state->opt.bytes);
		appendStringInfoString(out, ",\"value\":");
		kjson_bytes(out, bytes[1], lens[1], state->opt.bytes);
		appendStringInfoString(out, ",\"headers\":");
		kjson_headers(out, bytes[2], lens[2], state->opt.bytes);
	}
	append_lsn(out, "lsn", txn->final_lsn);
	appendStringInfoChar(out, '}');
}

/* ---- summary ---- */

/* Remember that the transaction wrote offset to topic/partition. Rows of
 * one partition usually come in a run, so the last entry is tried first. */
static void summary_add(decoder_state *state, const char *topic, int32 partition, int64 offset,
			int64 ts)
{
	summary_entry *e = NULL;

	if (state->nsummary > 0) {
		summary_entry *hit = &state->summary[state->summary_hit];
		if (hit->partition == partition && strcmp(hit->topic, topic) == 0)
			e = hit;
	}
	for (int i = 0; !e && i < state->nsummary; i++)
		if (state->summary[i].partition == partition &&
		    strcmp(state->summary[i].topic, topic) == 0) {
			e = &state->summary[i];
			state->summary_hit = i;
		}
	if (!e) {
		MemoryContext old = MemoryContextSwitchTo(state->txn_cxt);
		if (state->nsummary == state->summary_cap) {
			state->summary_cap = state->summary_cap ? state->summary_cap * 2 : 8;
			state->summary = state->summary
						 ? repalloc(state->summary, sizeof(summary_entry) *
										    state->summary_cap)
						 : palloc(sizeof(summary_entry) * state->summary_cap);
		}
		state->summary_hit = state->nsummary++;
		e = &state->summary[state->summary_hit];
		e->topic = pstrdup(topic);
		e->partition = partition;
		e->offset = offset;
		e->timestamp = ts;
		MemoryContextSwitchTo(old);
	}
	if (offset > e->offset)
		e->offset = offset;
	/* A marker (-1) keeps the time of the partition's records. */
	if (ts != -1)
		e->timestamp = ts;
}

/* At commit: one message per partition the transaction wrote. */
static void summary_emit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	decoder_state *state = ctx->output_plugin_private;

	if (state->opt.markers) {
		render_begin(state, txn, &state->pending);
		state->has_pending = true;
	}
	for (int i = 0; i < state->nsummary; i++) {
		summary_entry *e = &state->summary[i];
		flush_pending(ctx, false);
		render_message(state, txn, e->topic, e->partition, e->offset, e->timestamp, NULL,
			       NULL, true, &state->pending);
		state->has_pending = true;
	}
}

/*
 * A bytea column, detoasted: values compressed in the row are expanded, and
 * values stored out of line were already reassembled by the reorder buffer.
 */
static void get_bytes(HeapTuple tuple, TupleDesc desc, AttrNumber att, const char **data, int *len)
{
	bool isnull;
	Datum d = heap_getattr(tuple, att, desc, &isnull);
	struct varlena *v;

	if (isnull) {
		*data = NULL;
		*len = -1;
		return;
	}
	v = (struct varlena *)DatumGetPointer(d);
	if (VARATT_IS_EXTERNAL_ONDISK(v))
		ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("column %d of a %s.%s row was not reassembled by logical decoding",
				att, RECORDS_SCHEMA, RECORDS_TABLE)));
	v = pg_detoast_datum_packed(v);
	*data = VARDATA_ANY(v);
	*len = (int)VARSIZE_ANY_EXHDR(v);
}

/* An int32 length (-1 for null), then the bytes. */
static void send_bytes(StringInfo out, const char *data, int len)
{
	if (data == NULL) {
		pq_sendint32(out, (uint32)-1);
		return;
	}
	pq_sendint32(out, (uint32)len);
	pq_sendbytes(out, data, len);
}

static void append_lsn(StringInfo out, const char *name, XLogRecPtr lsn)
{
	appendStringInfo(out, ",\"%s\":\"%X/%X\"", name, LSN_FORMAT_ARGS(lsn));
}
