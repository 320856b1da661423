/*
 * The dispatch table from API key to handler, and the handlers' shared
 * start-up and shutdown.
 */
#include "apis.h"
#include "handlers.h"
#include "hutil.h"

struct event_base *handler_base;

handler_fn handler_lookup(int16_t api_key)
{
	switch (api_key) {
	case API_PRODUCE:
		return handle_produce;
	case API_FETCH:
		return handle_fetch;
	case API_LIST_OFFSETS:
		return handle_list_offsets;
	case API_METADATA:
		return handle_metadata;
	case API_API_VERSIONS:
		return handle_api_versions;
	case API_CREATE_TOPICS:
		return handle_create_topics;
	case API_DELETE_TOPICS:
		return handle_delete_topics;
	case API_DESCRIBE_CONFIGS:
		return handle_describe_configs;
	case API_CREATE_PARTITIONS:
		return handle_create_partitions;
	default:
		return NULL;
	}
}

void handlers_init(struct event_base *base)
{
	handler_base = base;
}

void handlers_shutdown(void)
{
	fetch_shutdown();
}
