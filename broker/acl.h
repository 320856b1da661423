/*
 * Kafka ACLs: the rule set and the decision Kafka's StandardAuthorizer makes
 * (pure logic: no libevent, no SQL; authorizer.c loads the rules and asks).
 *
 * A decision for (principal, host, operation, resource type, resource name):
 *   1. a super user may do anything;
 *   2. the bindings that apply are those on the resource type whose pattern
 *      matches the name (LITERAL: equal, or the wildcard '*'; PREFIXED: the
 *      name starts with it);
 *   3. among them, those whose principal is the caller's or 'User:*' and
 *      whose host is the caller's address or '*': a DENY for the operation
 *      (or ALL) refuses; else an ALLOW for it (or ALL, or one that implies
 *      it: READ, WRITE, DELETE, ALTER imply DESCRIBE; ALTER_CONFIGS implies
 *      DESCRIBE_CONFIGS) grants;
 *   4. with no binding at all on the resource (any principal, operation or
 *      host), allow.everyone.if.no.acl.found decides; else refused.
 * A DENY never implies: a DENY READ does not refuse DESCRIBE.
 *
 * Codes are the protocol's (ResourceType, PatternType, AclOperation,
 * AclPermissionType); the table kafka.acls holds their names.
 */
#ifndef PGK_ACL_H
#define PGK_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "kbuf.h"

enum acl_resource_type {
	ACL_RES_UNKNOWN = 0,
	ACL_RES_ANY = 1,
	ACL_RES_TOPIC = 2,
	ACL_RES_GROUP = 3,
	ACL_RES_CLUSTER = 4,
	ACL_RES_TRANSACTIONAL_ID = 5,
	ACL_RES_DELEGATION_TOKEN = 6,
	ACL_RES_USER = 7,
};

enum acl_pattern_type {
	ACL_PAT_UNKNOWN = 0,
	ACL_PAT_ANY = 1,
	ACL_PAT_MATCH = 2,
	ACL_PAT_LITERAL = 3,
	ACL_PAT_PREFIXED = 4,
};

enum acl_operation {
	ACL_OP_UNKNOWN = 0,
	ACL_OP_ANY = 1,
	ACL_OP_ALL = 2,
	ACL_OP_READ = 3,
	ACL_OP_WRITE = 4,
	ACL_OP_CREATE = 5,
	ACL_OP_DELETE = 6,
	ACL_OP_ALTER = 7,
	ACL_OP_DESCRIBE = 8,
	ACL_OP_CLUSTER_ACTION = 9,
	ACL_OP_DESCRIBE_CONFIGS = 10,
	ACL_OP_ALTER_CONFIGS = 11,
	ACL_OP_IDEMPOTENT_WRITE = 12,
	ACL_OP_CREATE_TOKENS = 13,
	ACL_OP_DESCRIBE_TOKENS = 14,
};

enum acl_permission {
	ACL_PERM_UNKNOWN = 0,
	ACL_PERM_ANY = 1,
	ACL_PERM_DENY = 2,
	ACL_PERM_ALLOW = 3,
};

/* The name of the one CLUSTER resource. */
#define ACL_CLUSTER_NAME "kafka-cluster"
#define ACL_WILDCARD "*"
#define ACL_WILDCARD_PRINCIPAL "User:*"

/* One binding (a row of kafka.acls). Strings are owned by the rule set. */
typedef struct acl_binding {
	int8_t resource_type;
	int8_t pattern_type; /* LITERAL or PREFIXED */
	char *resource_name;
	char *principal;
	char *host;
	int8_t operation;
	int8_t permission; /* ALLOW or DENY */
} acl_binding;

typedef struct acl_rules {
	acl_binding *bindings;
	int n, cap;
	char **super_users; /* "User:admin" */
	int nsuper;
	bool allow_if_no_acl; /* allow.everyone.if.no.acl.found */
} acl_rules;

/* A DescribeAcls / DeleteAcls filter; null strings match anything. */
typedef struct acl_filter {
	int8_t resource_type; /* ANY or a type */
	kstr resource_name;
	int8_t pattern_type; /* ANY, MATCH, LITERAL, PREFIXED */
	kstr principal;
	kstr host;
	int8_t operation;  /* ANY or one */
	int8_t permission; /* ANY or one */
} acl_filter;

void acl_rules_init(acl_rules *rs);
void acl_rules_free(acl_rules *rs);
/* Add a binding (copied). */
void acl_rules_add(acl_rules *rs, int8_t resource_type, int8_t pattern_type, const char *name,
		   const char *principal, const char *host, int8_t operation, int8_t permission);
/* Set super.users from Kafka's form: principals separated by ';'. */
void acl_rules_set_super_users(acl_rules *rs, const char *list);

bool acl_is_super_user(const acl_rules *rs, kstr principal);
/* The decision described at the top. host is the client's address. */
bool acl_allowed(const acl_rules *rs, kstr principal, kstr host, int8_t operation,
		 int8_t resource_type, kstr name);
/* Kafka's authorizeByResourceType: may the principal do op on at least
 * one resource of the type (InitProducerId without a transactional id:
 * WRITE on any topic)? Allowed when a name no rule names would be, or when
 * some ALLOW (without implied operations) is not covered by a DENY. */
bool acl_allowed_by_type(const acl_rules *rs, kstr principal, kstr host, int8_t operation,
			 int8_t resource_type);
/* The operations the resource type supports that are allowed, as Kafka's
 * authorized-operations bit field (1 << operation code). */
int32_t acl_allowed_operations(const acl_rules *rs, kstr principal, kstr host, int8_t resource_type,
			       kstr name);
/* Every operation the resource type supports (1 << code each). */
int32_t acl_supported_operations(int8_t resource_type);

/* Kafka's ResourcePatternFilter and AccessControlEntryFilter matches(). */
bool acl_filter_matches(const acl_filter *f, const acl_binding *b);
/* Why a binding cannot be created (Kafka's INVALID_REQUEST messages), or
 * NULL. Names are the request's. */
const char *acl_binding_invalid(int8_t resource_type, int8_t pattern_type, kstr name,
				kstr principal, kstr host, int8_t operation, int8_t permission);
/* Why a filter is refused (it holds an UNKNOWN), or NULL. */
const char *acl_filter_invalid(const acl_filter *f);

/* Names as kafka.acls stores them ("TOPIC", "PREFIXED", "READ", "ALLOW"),
 * and back: 0 (UNKNOWN) for a name that is not one. */
const char *acl_resource_type_name(int8_t code);
const char *acl_pattern_type_name(int8_t code);
const char *acl_operation_name(int8_t code);
const char *acl_permission_name(int8_t code);
int8_t acl_resource_type_code(const char *name);
int8_t acl_pattern_type_code(const char *name);
int8_t acl_operation_code(const char *name);
int8_t acl_permission_code(const char *name);

#endif
