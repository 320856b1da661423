/*
 * libFuzzer target: request frames (header and body of every implemented API
 * and version). Whatever decodes must re-encode and decode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apis.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = arena_new();
	request req;

	memset(&req, 0, sizeof(req));
	req.arena = a;
	if (proto_parse_request(data, size, &req) == PROTO_OK) {
		bool flex = api_flexible(req.api, req.api_version);
		kwriter w1, w2;
		kreader r;

		kw_init(&w1, 64);
		proto_encode(req.api->req, req.api_version, flex, req.body, &w1);
		void *copy = arena_alloc(a, req.api->req->size);
		kr_init(&r, w1.buf, w1.len);
		if (proto_decode(req.api->req, req.api_version, flex, &r, a, copy) != 0)
			abort();
		kw_init(&w2, 64);
		proto_encode(req.api->req, req.api_version, flex, copy, &w2);
		if (w1.len != w2.len || memcmp(w1.buf, w2.buf, w1.len) != 0)
			abort();
		kw_free(&w1);
		kw_free(&w2);
	}
	arena_free(a);
	return 0;
}
