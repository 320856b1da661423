/*
 * The listener strings of the config: "listeners" and
 * "advertised.listeners" (NAME://HOST:PORT, comma-separated), and the
 * HOST:PORT form the older "listen" and "advertised" settings use.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "listeners.h"

static const char *const protocol_names[] = {
	[SEC_PLAINTEXT] = "PLAINTEXT",
	[SEC_SSL] = "SSL",
	[SEC_SASL_PLAINTEXT] = "SASL_PLAINTEXT",
	[SEC_SASL_SSL] = "SASL_SSL",
};
#define NPROTOCOLS ((int)(sizeof(protocol_names) / sizeof(protocol_names[0])))

static int parse_entry(const char *s, size_t len, listener_cfg *l, char *why, size_t whylen);

const char *sec_protocol_name(sec_protocol p)
{
	return (int)p >= 0 && (int)p < NPROTOCOLS ? protocol_names[p] : "?";
}

bool sec_protocol_tls(sec_protocol p) { return p == SEC_SSL || p == SEC_SASL_SSL; }

bool sec_protocol_sasl(sec_protocol p) { return p == SEC_SASL_PLAINTEXT || p == SEC_SASL_SSL; }

int listeners_parse(const char *v, listener_cfg **out, int *n, char *why, size_t whylen)
{
	listener_cfg *ls = NULL;
	int count = 0;
	const char *p = v;

	*out = NULL;
	*n = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	ls = calloc(LISTENERS_MAX, sizeof(*ls));
	if (!ls) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (count == LISTENERS_MAX) {
			snprintf(why, whylen, "more than %d listeners", LISTENERS_MAX);
			goto fail;
		}
		if (parse_entry(p, len, &ls[count], why, whylen) < 0)
			goto fail;
		count++;
		for (int i = 0; i < count - 1; i++) {
			if (ls[i].protocol == ls[count - 1].protocol) {
				snprintf(why, whylen,
					 "listener %s is given twice; each needs its own name",
					 sec_protocol_name(ls[i].protocol));
				goto fail;
			}
			if (ls[i].port == ls[count - 1].port) {
				snprintf(why, whylen, "listeners %s and %s both use port %d",
					 sec_protocol_name(ls[i].protocol),
					 sec_protocol_name(ls[count - 1].protocol), ls[i].port);
				goto fail;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	*out = ls;
	*n = count;
	return 0;
fail:
	listeners_free(ls, count);
	return -1;
}

void listeners_free(listener_cfg *l, int n)
{
	if (!l)
		return;
	for (int i = 0; i < n; i++) {
		free(l[i].host);
		free(l[i].adv_host);
	}
	free(l);
}

void listeners_format(const listener_cfg *l, int n, bool advertised, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		const char *host = advertised ? l[i].adv_host : l[i].host;
		bool v6 = host && strchr(host, ':');
		int w = snprintf(buf + used, len - used, "%s%s://%s%s%s:%d", i ? "," : "",
				 sec_protocol_name(l[i].protocol), v6 ? "[" : "", host ? host : "",
				 v6 ? "]" : "", advertised ? l[i].adv_port : l[i].port);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* One NAME://HOST:PORT, surrounding blanks allowed. */
static int parse_entry(const char *s, size_t len, listener_cfg *l, char *why, size_t whylen)
{
	char buf[300];
	const char *sep;
	char *start, *stop;
	bool port_given;
	int i;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		snprintf(why, whylen, "empty listener; expected NAME://HOST:PORT[,...]");
		return -1;
	}
	if (len >= sizeof(buf)) {
		snprintf(why, whylen, "listener longer than %zu characters", sizeof(buf) - 1);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	sep = strstr(buf, "://");
	if (!sep) {
		snprintf(why, whylen,
			 "expected NAME://HOST:PORT, such as PLAINTEXT://0.0.0.0:9092");
		return -1;
	}
	start = buf;
	stop = buf + (sep - buf);
	*stop = '\0';
	for (i = 0; i < NPROTOCOLS; i++)
		if (strcasecmp(start, protocol_names[i]) == 0)
			break;
	if (i == NPROTOCOLS) {
		snprintf(why, whylen,
			 "unknown listener '%.40s'; expected PLAINTEXT, SSL, SASL_PLAINTEXT or "
			 "SASL_SSL",
			 start);
		return -1;
	}
	l->protocol = (sec_protocol)i;
	if (parse_hostport(stop + 3, &l->host, &l->port, &port_given, why, whylen) < 0)
		return -1;
	if (!port_given) {
		free(l->host);
		l->host = NULL;
		snprintf(why, whylen, "listener %s has no port; expected %s://HOST:PORT",
			 protocol_names[i], protocol_names[i]);
		return -1;
	}
	return 0;
}

int parse_hostport(const char *v, char **host, int *port, bool *port_given, char *why,
		   size_t whylen)
{
	const char *host_start, *host_end, *port_str = NULL;
	long n;

	*port_given = false;
	if (v[0] == '[') {
		host_start = v + 1;
		host_end = strchr(host_start, ']');
		if (!host_end) {
			snprintf(why, whylen, "missing ']' after IPv6 address");
			return -1;
		}
		if (host_end[1] == ':')
			port_str = host_end + 2;
		else if (host_end[1] != '\0') {
			snprintf(why, whylen, "expected [ADDRESS]:PORT");
			return -1;
		}
	} else {
		const char *colon = strrchr(v, ':');
		host_start = v;
		if (colon && strchr(v, ':') != colon) {
			snprintf(why, whylen, "write IPv6 addresses in brackets: [ADDRESS]:PORT");
			return -1;
		}
		host_end = colon ? colon : v + strlen(v);
		if (colon)
			port_str = colon + 1;
	}
	for (const char *p = host_start; p < host_end; p++) {
		if (isspace((unsigned char)*p) || *p == '/' || !isprint((unsigned char)*p)) {
			snprintf(why, whylen, "invalid character in host name");
			return -1;
		}
	}
	if (port_str) {
		if (cfg_parse_long(port_str, 1, 65535, &n, why, whylen) < 0) {
			snprintf(why, whylen, "expected HOST:PORT with a port from 1 to 65535");
			return -1;
		}
		*port = (int)n;
		*port_given = true;
	}
	*host = strndup(host_start, (size_t)(host_end - host_start));
	if (!*host) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

bool is_wildcard_host(const char *h)
{
	return !h || !*h || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}
