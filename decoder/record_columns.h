/*
 * The columns of kafka.records as the extension's C functions know them
 * (append.c writes them, read.c reads them): names and types, matched by
 * name in any table of kafka.records' tree, whatever its column order.
 * timestamp_ms exists from extension 0.7 on; the others always.
 */
#ifndef PGK_RECORD_COLUMNS_H
#define PGK_RECORD_COLUMNS_H

#include "postgres.h"

#include "catalog/pg_type.h"

enum { COL_TOPIC, COL_PARTITION, COL_OFFSET, COL_TIMESTAMP, COL_KEY, COL_VALUE, COL_HEADERS,
       COL_TIMESTAMP_MS, NCOLS };

static const struct {
	const char *name;
	Oid type;
} record_columns[NCOLS] = {
	[COL_TOPIC] = {"topic", TEXTOID},
	[COL_PARTITION] = {"partition", INT4OID},
	[COL_OFFSET] = {"offset", INT8OID},
	[COL_TIMESTAMP] = {"timestamp", TIMESTAMPTZOID},
	[COL_KEY] = {"key", BYTEAOID},
	[COL_VALUE] = {"value", BYTEAOID},
	[COL_HEADERS] = {"headers", BYTEAOID},
	[COL_TIMESTAMP_MS] = {"timestamp_ms", INT8OID},
};

/* Which of record_columns a column named name is, or -1. */
static inline int record_column(const char *name)
{
	for (int c = 0; c < NCOLS; c++)
		if (strcmp(name, record_columns[c].name) == 0)
			return c;
	return -1;
}

#endif
