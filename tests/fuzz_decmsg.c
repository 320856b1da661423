/*
 * libFuzzer target: decoder stream messages (decmsg.c). Whatever parses must
 * have its strings inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "decmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(kstr s, const uint8_t *data, size_t size)
{
	if (s.len < 0)
		return;
	const uint8_t *p = (const uint8_t *)s.ptr;
	if (p < data || p + s.len > data + size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decmsg m;

	if (decmsg_parse(data, size, &m) == DECMSG_OK && m.type == DECMSG_RECORD) {
		inside(m.topic, data, size);
		inside(m.key, data, size);
		inside(m.value, data, size);
		inside(m.headers, data, size);
	}
	return 0;
}
