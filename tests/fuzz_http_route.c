/*
 * libFuzzer target: the request target of the metrics listener
 * (broker/metrics_http.c). evhttp hands metrics_http_route() whatever a
 * client sent as the target; any bytes must give one of the routes, and
 * only the exact paths may give an endpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1);

	if (!uri)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	metrics_route r = metrics_http_route(uri);
	if (r != ROUTE_NOT_FOUND && r != ROUTE_METRICS && r != ROUTE_HEALTHZ && r != ROUTE_READYZ)
		abort();
	/* An endpoint's path is in the target. */
	if ((r == ROUTE_METRICS && !strstr(uri, "/metrics")) ||
	    (r == ROUTE_HEALTHZ && !strstr(uri, "/healthz")) ||
	    (r == ROUTE_READYZ && !strstr(uri, "/readyz")))
		abort();
	free(uri);
	return 0;
}
