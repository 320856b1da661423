/*
 * Name and text validation (see validate.h).
 */
#include <stdint.h>
#include <string.h>

#include "validate.h"

bool topic_name_valid(kstr name)
{
	if (name.len <= 0 || name.len > 249)
		return false;
	if ((name.len == 1 && name.ptr[0] == '.') ||
	    (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
		return false;
	for (int32_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool topic_is_internal(kstr name)
{
	return kstr_eq(name, "__consumer_offsets") || kstr_eq(name, "__transaction_state") ||
	       kstr_eq(name, "__share_group_state");
}

bool pgtext_valid(kstr s)
{
	const uint8_t *p = (const uint8_t *)s.ptr;
	int32_t i = 0;

	if (s.len < 0)
		return false;
	while (i < s.len) {
		uint8_t c = p[i];
		int need;
		uint32_t cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + need >= s.len)
			return false;
		for (int k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

bool pgid_valid(kstr s) { return s.len >= 0 && s.len <= ID_MAX_BYTES; }

bool sqlstate_bad_input(const char *sqlstate)
{
	return sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "54", 2) == 0);
}
