/* Replication protocol messages (replproto.h has the layout). */
#include "replproto.h"

#include "clock.h"
#include "kbuf.h"

int repl_parse(const uint8_t *buf, size_t len, repl_msg *out)
{
	kreader r;

	*out = (repl_msg){0};
	kr_init(&r, buf, len);
	out->type = (char)kr_i8(&r);
	switch (out->type) {
	case REPL_XLOGDATA:
		out->wal_start = (uint64_t)kr_i64(&r);
		out->wal_end = (uint64_t)kr_i64(&r);
		out->send_time_us = kr_i64(&r);
		out->data = r.p;
		out->len = kr_remaining(&r);
		break;
	case REPL_KEEPALIVE:
		out->wal_end = (uint64_t)kr_i64(&r);
		out->send_time_us = kr_i64(&r);
		out->reply_requested = kr_i8(&r) != 0;
		break;
	default:
		return -1;
	}
	return kr_ok(&r) ? 0 : -1;
}

void repl_status(uint8_t out[REPL_STATUS_LEN], uint64_t written, uint64_t flushed, uint64_t applied,
		 bool reply)
{
	out[0] = 'r';
	put_be64(out + 1, written);
	put_be64(out + 9, flushed);
	put_be64(out + 17, applied);
	put_be64(out + 25, (uint64_t)repl_pg_now_us());
	out[33] = reply ? 1 : 0;
}

int64_t repl_pg_now_us(void) { return clock_wall_us() - PG_EPOCH_OFFSET_US; }
