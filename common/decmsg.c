/*
 * Parsing of the output plugin's binary messages (see decmsg.h): every read
 * is bounds-checked by kbuf, and a message must be consumed exactly.
 */
#include <string.h>

#include "decmsg.h"

int decmsg_parse(const uint8_t *buf, size_t len, decmsg *out)
{
	kreader r;

	memset(out, 0, sizeof(*out));
	out->key = out->value = out->headers = KSTR_NULL;
	kr_init(&r, buf, len);
	if ((uint8_t)kr_i8(&r) != DECMSG_VERSION || !kr_ok(&r))
		return len == 0 ? DECMSG_MALFORMED : DECMSG_BAD_VERSION;
	out->type = (uint8_t)kr_i8(&r);
	switch (out->type) {
	case DECMSG_RECORD:
		out->flags = (uint8_t)kr_i8(&r);
		out->commit_lsn = (uint64_t)kr_i64(&r);
		out->partition = kr_i32(&r);
		out->offset = kr_i64(&r);
		out->timestamp = kr_i64(&r);
		out->topic = kr_bytes32(&r);
		if (out->topic.len < 0)
			return DECMSG_MALFORMED;
		if (out->flags & DECMSG_FLAG_PAYLOAD) {
			out->key = kr_bytes32(&r);
			out->value = kr_bytes32(&r);
			out->headers = kr_bytes32(&r);
		}
		break;
	case DECMSG_BEGIN:
		out->xid = kr_u32(&r);
		out->commit_lsn = (uint64_t)kr_i64(&r);
		out->timestamp = kr_i64(&r);
		break;
	case DECMSG_COMMIT:
		out->xid = kr_u32(&r);
		out->commit_lsn = (uint64_t)kr_i64(&r);
		out->end_lsn = (uint64_t)kr_i64(&r);
		out->timestamp = kr_i64(&r);
		break;
	default:
		return kr_ok(&r) ? DECMSG_OK : DECMSG_MALFORMED; /* skipped by readers */
	}
	if (!kr_ok(&r) || kr_remaining(&r) != 0)
		return DECMSG_MALFORMED;
	return DECMSG_OK;
}
