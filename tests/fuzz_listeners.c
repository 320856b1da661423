/*
 * libFuzzer target: the listener strings of the config ("listeners",
 * "advertised.listeners": NAME://HOST:PORT,...) and the HOST:PORT form of
 * "listen" (broker/listeners.c). Whatever is accepted must be a list of
 * known protocols, each once, on distinct ports from 1 to 65535, with hosts
 * free of blanks and slashes.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listeners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_host(const char *h)
{
	for (const char *p = h; *p; p++)
		if (isspace((unsigned char)*p) || *p == '/' || !isprint((unsigned char)*p))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = malloc(size + 1);
	listener_cfg *ls;
	char why[256], *host;
	int n, port = 0;
	bool port_given;

	if (!v)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	if (listeners_parse(v, &ls, &n, why, sizeof(why)) == 0) {
		if (n < 0 || n > LISTENERS_MAX || (n == 0) != (ls == NULL))
			abort();
		for (int i = 0; i < n; i++) {
			if (ls[i].port < 1 || ls[i].port > 65535 || !ls[i].host)
				abort();
			if (!strcmp(sec_protocol_name(ls[i].protocol), "?"))
				abort();
			check_host(ls[i].host);
			for (int j = 0; j < i; j++)
				if (ls[j].protocol == ls[i].protocol || ls[j].port == ls[i].port)
					abort();
		}
		listeners_free(ls, n);
	} else if (!why[0]) {
		abort(); /* a refusal says why */
	}
	if (parse_hostport(v, &host, &port, &port_given, why, sizeof(why)) == 0) {
		check_host(host);
		if (port_given && (port < 1 || port > 65535))
			abort();
		free(host);
	}
	free(v);
	return 0;
}
