/*
 * libFuzzer target: what a slot reader parses (common/decmsg.c and
 * common/replproto.c). The input is read both as a decoder message and as
 * a replication CopyData message whose XLogData carries one; whatever
 * parses must have its strings inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "decmsg.h"
#include "replproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(kstr s, const uint8_t *data, size_t size)
{
	if (s.len < 0)
		return;
	const uint8_t *p = (const uint8_t *)s.ptr;
	if (p < data || p + s.len > data + size)
		abort();
}

static void parse_decmsg(const uint8_t *msg, size_t len, const uint8_t *data, size_t size)
{
	decmsg m;

	if (decmsg_parse(msg, len, &m) == DECMSG_OK && m.type == DECMSG_RECORD) {
		inside(m.topic, data, size);
		inside(m.key, data, size);
		inside(m.value, data, size);
		inside(m.headers, data, size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	repl_msg rm;

	parse_decmsg(data, size, data, size);
	if (repl_parse(data, size, &rm) == 0 && rm.type == REPL_XLOGDATA) {
		if (rm.data < data || rm.data + rm.len != data + size)
			abort();
		parse_decmsg(rm.data, rm.len, data, size);
	}
	return 0;
}
