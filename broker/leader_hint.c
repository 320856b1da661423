/*
 * Leader hints for Produce and Fetch (leader_hint.h), from the cluster's
 * view of partition leaders and broker endpoints (cluster.h).
 */
#include "leader_hint.h"

#include "cluster.h"
#include "config.h"

bool leader_hint(const request *req, kstr topic, int32_t partition, int32_t *leader,
		 int32_t *epoch, leader_endpoint *e)
{
	if (!cluster_partition_leader(topic, partition, leader, epoch))
		return false;
	e->node_id = *leader;
	if (*leader == g_config.node_id) {
		e->host = kstr_c(req->listener ? req->listener->adv_host : g_config.advertised_host);
		e->port = req->listener ? req->listener->adv_port : g_config.advertised_port;
		e->rack = kstr_c(g_config.broker_rack);
		return true;
	}
	const cluster_broker *b = cluster_broker_by_id(*leader);
	const char *host;
	int port;
	if (!b || !cluster_broker_endpoint(b, req->listener, &host, &port))
		return false;
	e->host = kstr_c(host);
	e->port = port;
	e->rack = kstr_c(b->rack);
	return true;
}

void leader_endpoint_add(leader_endpoint *list, int32_t *n, const leader_endpoint *e)
{
	for (int32_t k = 0; k < *n; k++)
		if (list[k].node_id == e->node_id)
			return;
	list[(*n)++] = *e;
}
