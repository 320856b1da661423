/*
 * libFuzzer target: the SASL parsers of broker/sasl.c. The first byte picks
 * the mechanism and splits the rest into a client-first and a client-final
 * message; both go through a SCRAM exchange against a fixed credential, and
 * the whole input through the PLAIN parser. Nothing may read out of bounds,
 * an accepted client-first must give a non-empty user that escapes back to
 * the n= of the message (",": "=2C", "=": "=3D"), and no proof made without
 * the password may pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scram_credential cred[2];
static int ready;

static void setup(void)
{
	for (int i = 0; i < 2; i++) {
		sasl_mech m = i ? SASL_SCRAM_SHA_512 : SASL_SCRAM_SHA_256;
		cred[i].iterations = 1; /* cheap: the parsers are the target */
		cred[i].salt_len = 16;
		memset(cred[i].salt, 0x11 * (i + 1), 16);
		scram_keys(m, (const uint8_t *)"fuzz-secret", 11, cred[i].salt, 16, 1,
			   cred[i].stored_key, cred[i].server_key);
	}
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static scram_server s;
	char out[256], err[128];
	sasl_plain pl;
	size_t split;
	int i;

	if (!ready)
		setup();
	if (size < 2)
		return 0;
	i = data[0] & 1;
	split = data[1] % (size - 1);
	data += 2;
	size -= 2;
	if (sasl_plain_parse(data, size, &pl, err, sizeof(err)) == 0) {
		if (pl.authcid_len == 0 || pl.passwd_len == 0 ||
		    pl.authcid + pl.authcid_len > (const char *)data + size ||
		    pl.passwd + pl.passwd_len != (const char *)data + size)
			abort();
	}
	if (split > size)
		split = size;
	if (scram_client_first(&s, i ? SASL_SCRAM_SHA_512 : SASL_SCRAM_SHA_256, data, split, err,
			       sizeof(err)) != SCRAM_OK)
		return 0;
	{
		char esc[3 * SASL_USER_MAX + 4], *e = esc;
		e += sprintf(e, "n=");
		for (const char *u = s.user; *u; u++)
			e += *u == ',' ? sprintf(e, "=2C") : *u == '=' ? sprintf(e, "=3D")
								  : sprintf(e, "%c", *u);
		*e++ = ',';
		*e = 0;
		if (!s.user[0] || strncmp(s.client_first_bare, esc, strlen(esc)) != 0)
			abort();
	}
	if (scram_server_first(&s, &cred[i], "fuzzservernonce0123456789") < 0)
		return 0;
	if (scram_client_final(&s, &cred[i], data + split, size - split, out, sizeof(out), err,
			       sizeof(err)) == SCRAM_OK)
		abort(); /* a proof found by chance: the fuzzer broke HMAC */
	return 0;
}
