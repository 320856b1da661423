/*
 * C functions of the SQL API (sql/pg_kafka--0.2--0.3.sql), in the same
 * library as the output plugin: Kafka's key partitioner, and encoding and
 * decoding of the header section that kafka.records.headers stores.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "kbytes.h"

PG_FUNCTION_INFO_V1(pgk_murmur2);
PG_FUNCTION_INFO_V1(pgk_key_partition);
PG_FUNCTION_INFO_V1(pgk_encode_headers);
PG_FUNCTION_INFO_V1(pgk_decode_headers);
PG_FUNCTION_INFO_V1(pgk_headers_jsonb);
PG_FUNCTION_INFO_V1(pgk_bytes_text);

static text *utf8_to_text(const char *data, int len);

/* kafka.murmur2(bytea) -> int: the Java client's Utils.murmur2. */
Datum pgk_murmur2(PG_FUNCTION_ARGS)
{
	bytea *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_INT32(kafka_murmur2(VARDATA_ANY(b), (int)VARSIZE_ANY_EXHDR(b)));
}

/* kafka.key_partition(key bytea, partitions int) -> int */
Datum pgk_key_partition(PG_FUNCTION_ARGS)
{
	bytea *key = PG_GETARG_BYTEA_PP(0);
	int32 partitions = PG_GETARG_INT32(1);

	if (partitions <= 0)
		ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("number of partitions must be positive, not %d", partitions)));
	PG_RETURN_INT32(
		kafka_key_partition(VARDATA_ANY(key), (int)VARSIZE_ANY_EXHDR(key), partitions));
}

/*
 * kafka.encode_headers(keys text[], values bytea[]) -> bytea: the header
 * section for these headers, in order; NULL when there are none (the broker
 * stores a record without headers as NULL too).
 */
Datum pgk_encode_headers(PG_FUNCTION_ARGS)
{
	ArrayType *keys = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType *values = PG_GETARG_ARRAYTYPE_P(1);
	Datum *kd, *vd;
	bool *kn, *vn;
	int nk, nv;
	const char **kp, **vp;
	int *kl, *vl;
	StringInfoData out;
	bytea *result;

	if (ARR_NDIM(keys) > 1 || ARR_NDIM(values) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("header keys and values must be one-dimensional arrays")));
	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &kd, &kn, &nk);
	deconstruct_array(values, BYTEAOID, -1, false, TYPALIGN_INT, &vd, &vn, &nv);
	if (nk != nv)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("%d header keys but %d header values", nk, nv)));
	if (nk == 0)
		PG_RETURN_NULL();

	kp = palloc(sizeof(char *) * nk);
	vp = palloc(sizeof(char *) * nk);
	kl = palloc(sizeof(int) * nk);
	vl = palloc(sizeof(int) * nk);
	for (int i = 0; i < nk; i++) {
		text *k;

		if (kn[i])
			ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("header key %d is null; Kafka header keys are strings",
					i + 1)));
		k = DatumGetTextPP(kd[i]);
		kp[i] = VARDATA_ANY(k);
		kl[i] = (int)VARSIZE_ANY_EXHDR(k);
		if (vn[i]) {
			vp[i] = NULL;
			vl[i] = -1;
		} else {
			bytea *v = DatumGetByteaPP(vd[i]);
			vp[i] = VARDATA_ANY(v);
			vl[i] = (int)VARSIZE_ANY_EXHDR(v);
		}
	}
	initStringInfo(&out);
	kheaders_encode(&out, nk, kp, kl, vp, vl);
	result = palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	PG_RETURN_BYTEA_P(result);
}

/*
 * kafka.decode_headers(headers bytea) -> TABLE(key text, value bytea):
 * one row per header, in order. Malformed bytes are an error; keys that are
 * not valid UTF-8 are an error too (Kafka header keys are strings).
 */
Datum pgk_decode_headers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	bytea *raw = PG_GETARG_BYTEA_PP(0);
	kheader *h;
	int n;

	InitMaterializedSRF(fcinfo, 0);
	if (!kheaders_decode(VARDATA_ANY(raw), (int)VARSIZE_ANY_EXHDR(raw), &h, &n))
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid Kafka header section (%d bytes)",
				       (int)VARSIZE_ANY_EXHDR(raw))));
	for (int i = 0; i < n; i++) {
		Datum values[2];
		bool nulls[2] = {false, false};

		if (!kbytes_is_text(h[i].key, h[i].key_len))
			ereport(ERROR, (errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					errmsg("header key %d is not valid UTF-8", i + 1)));
		values[0] = PointerGetDatum(utf8_to_text(h[i].key, h[i].key_len));
		if (h[i].value == NULL) {
			nulls[1] = true;
			values[1] = (Datum)0;
		} else {
			bytea *v = palloc(VARHDRSZ + h[i].value_len);
			SET_VARSIZE(v, VARHDRSZ + h[i].value_len);
			memcpy(VARDATA(v), h[i].value, h[i].value_len);
			values[1] = PointerGetDatum(v);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum)0;
}

/*
 * kafka.headers_jsonb(headers bytea) -> jsonb: the headers as an array of
 * {"key": ..., "value": ...}, values as text when they are valid UTF-8 and
 * {"base64": ...} otherwise; NULL for NULL; the raw bytes in base64 when
 * they do not decode (a view must not fail on one bad row).
 */
Datum pgk_headers_jsonb(PG_FUNCTION_ARGS)
{
	bytea *raw = PG_GETARG_BYTEA_PP(0);
	StringInfoData json;

	initStringInfo(&json);
	kjson_headers(&json, VARDATA_ANY(raw), (int)VARSIZE_ANY_EXHDR(raw), KJSON_TEXT);
	if (GetDatabaseEncoding() != PG_UTF8) {
		char *conv = pg_any_to_server(json.data, json.len, PG_UTF8);
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(conv));
	}
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
}

/* kafka.bytes_text(bytea) -> text: the bytes as text if they are valid
 * UTF-8 without NUL, else NULL. */
Datum pgk_bytes_text(PG_FUNCTION_ARGS)
{
	bytea *b = PG_GETARG_BYTEA_PP(0);
	const char *data = VARDATA_ANY(b);
	int len = (int)VARSIZE_ANY_EXHDR(b);

	if (!kbytes_is_text(data, len))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(utf8_to_text(data, len));
}

/* UTF-8 bytes (already checked) as text in the database encoding. */
static text *utf8_to_text(const char *data, int len)
{
	char *conv = pg_any_to_server(data, len, PG_UTF8);

	if (conv == data)
		return cstring_to_text_with_len(data, len);
	return cstring_to_text(conv);
}
