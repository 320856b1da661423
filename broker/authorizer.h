/*
 * The broker's authorizer: the ACL rules of kafka.acls held in memory
 * (acl.c decides), reloaded whenever kafka.authorizer.acl_version moves
 * (polled every AUTHORIZER_POLL_MS, and at once after this broker's own
 * CreateAcls/DeleteAcls), and the checks handlers make with a request's
 * principal and client address.
 *
 * With authorizer.enabled off every check passes and nothing is loaded.
 * With it on, until the rules have first been loaded only super users pass
 * (Kafka's authorizer is not ready before its first load either).
 */
#ifndef PGK_AUTHORIZER_H
#define PGK_AUTHORIZER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "acl.h"
#include "request.h"

#define AUTHORIZER_POLL_MS 500

void authorizer_init(struct event_base *base);
void authorizer_shutdown(void);
bool authorizer_on(void);

/* Load the rules again now; done(arg), if given, runs once a load that
 * started after this call has finished (or failed). */
typedef void (*authorizer_done_fn)(void *arg);
void authorizer_reload(authorizer_done_fn done, void *arg);
/* The rules as last loaded (DescribeAcls). */
const acl_rules *authorizer_rules(void);

/* May the request's principal, from its address, do op on the resource?
 * Always true with the authorizer off. */
bool authz(const request *req, int8_t op, int8_t resource_type, kstr name);
static inline bool authz_topic(const request *req, int8_t op, kstr topic)
{
	return authz(req, op, ACL_RES_TOPIC, topic);
}
static inline bool authz_group(const request *req, int8_t op, kstr group)
{
	return authz(req, op, ACL_RES_GROUP, group);
}
static inline bool authz_txn(const request *req, int8_t op, kstr transactional_id)
{
	return authz(req, op, ACL_RES_TRANSACTIONAL_ID, transactional_id);
}
bool authz_cluster(const request *req, int8_t op);
/* The same check for a principal and client host ("/1.2.3.4" or
 * "1.2.3.4") remembered from an earlier request. */
bool authz_as(kstr principal, kstr client_host, int8_t op, int8_t resource_type, kstr name);
/* May it do op on at least one resource of the type (acl.h)? */
bool authz_any(const request *req, int8_t op, int8_t resource_type);
/* Whether the request's principal is a super user (true with the
 * authorizer off). */
bool authz_super_user(const request *req);
/* Kafka's authorized-operations bit field for the resource; with the
 * authorizer off, every operation the resource type supports. */
int32_t authz_operations(const request *req, int8_t resource_type, kstr name);

/* For tests: replace the rules and the switch (the rules are taken). */
void authorizer_set_for_test(bool on, acl_rules *rules);

#endif
