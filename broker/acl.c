/*
 * Kafka ACLs: the rule set and StandardAuthorizer's decision (see acl.h).
 *
 * The rules are few (an operator writes them by hand), so the matcher scans
 * them all; Kafka's sorted index is a speed-up of the same decision.
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"

static bool pattern_matches(const acl_binding *b, kstr name);
static int8_t binding_result(const acl_binding *b, kstr principal, kstr host, int8_t operation);
static bool binding_entry_matches(const acl_binding *b, kstr principal, kstr host,
				  int8_t operation);
static char *xstrdup(const char *s);

static const char *const resource_type_names[] = {
	"UNKNOWN",          "ANY",  "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID",
	"DELEGATION_TOKEN", "USER",
};
static const char *const pattern_type_names[] = {
	"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED",
};
static const char *const operation_names[] = {
	"UNKNOWN",
	"ANY",
	"ALL",
	"READ",
	"WRITE",
	"CREATE",
	"DELETE",
	"ALTER",
	"DESCRIBE",
	"CLUSTER_ACTION",
	"DESCRIBE_CONFIGS",
	"ALTER_CONFIGS",
	"IDEMPOTENT_WRITE",
	"CREATE_TOKENS",
	"DESCRIBE_TOKENS",
};
static const char *const permission_names[] = {
	"UNKNOWN",
	"ANY",
	"DENY",
	"ALLOW",
};

#define NAMES_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define BIT(op) (1 << (op))

static char *xstrdup(const char *s)
{
	size_t n = strlen(s ? s : "");
	char *d = malloc(n + 1);

	if (!d)
		abort();
	memcpy(d, s ? s : "", n + 1);
	return d;
}

void acl_rules_init(acl_rules *rs) { memset(rs, 0, sizeof(*rs)); }

void acl_rules_free(acl_rules *rs)
{
	for (int i = 0; i < rs->n; i++) {
		free(rs->bindings[i].resource_name);
		free(rs->bindings[i].principal);
		free(rs->bindings[i].host);
	}
	free(rs->bindings);
	for (int i = 0; i < rs->nsuper; i++)
		free(rs->super_users[i]);
	free(rs->super_users);
	memset(rs, 0, sizeof(*rs));
}

void acl_rules_add(acl_rules *rs, int8_t resource_type, int8_t pattern_type, const char *name,
		   const char *principal, const char *host, int8_t operation, int8_t permission)
{
	if (rs->n == rs->cap) {
		int cap = rs->cap ? rs->cap * 2 : 16;
		acl_binding *nb = realloc(rs->bindings, (size_t)cap * sizeof(*nb));
		if (!nb)
			abort();
		rs->bindings = nb;
		rs->cap = cap;
	}
	acl_binding *b = &rs->bindings[rs->n++];
	b->resource_type = resource_type;
	b->pattern_type = pattern_type;
	b->resource_name = xstrdup(name);
	b->principal = xstrdup(principal);
	b->host = xstrdup(host);
	b->operation = operation;
	b->permission = permission;
}

/* Kafka's super.users: "User:a;User:b", spaces around entries ignored. */
void acl_rules_set_super_users(acl_rules *rs, const char *list)
{
	for (int i = 0; i < rs->nsuper; i++)
		free(rs->super_users[i]);
	free(rs->super_users);
	rs->super_users = NULL;
	rs->nsuper = 0;
	if (!list)
		return;
	int max = 1;
	for (const char *p = list; *p; p++)
		max += *p == ';';
	rs->super_users = calloc((size_t)max, sizeof(char *));
	if (!rs->super_users)
		abort();
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		const char *a = p, *z = end;
		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
			z--;
		if (z > a) {
			char *s = malloc((size_t)(z - a) + 1);
			if (!s)
				abort();
			memcpy(s, a, (size_t)(z - a));
			s[z - a] = '\0';
			rs->super_users[rs->nsuper++] = s;
		}
		p = *end ? end + 1 : end;
	}
}

bool acl_is_super_user(const acl_rules *rs, kstr principal)
{
	for (int i = 0; i < rs->nsuper; i++)
		if (kstr_eq(principal, rs->super_users[i]))
			return true;
	return false;
}

/* Whether the binding's resource pattern covers this resource name. */
static bool pattern_matches(const acl_binding *b, kstr name)
{
	size_t len = strlen(b->resource_name);

	if (name.len < 0)
		return false;
	if (b->pattern_type == ACL_PAT_LITERAL)
		return strcmp(b->resource_name, ACL_WILDCARD) == 0 ||
		       kstr_eq(name, b->resource_name);
	if (b->pattern_type == ACL_PAT_PREFIXED)
		return (size_t)name.len >= len && memcmp(name.ptr, b->resource_name, len) == 0;
	return false;
}

/* StandardAuthorizerData.findResult: ALLOW, DENY, or 0 when the binding
 * says nothing about this principal, host and operation. */
static int8_t binding_result(const acl_binding *b, kstr principal, kstr host, int8_t operation)
{
	if (!kstr_eq(principal, b->principal) && strcmp(b->principal, ACL_WILDCARD_PRINCIPAL) != 0)
		return 0;
	if (strcmp(b->host, ACL_WILDCARD) != 0 && !kstr_eq(host, b->host))
		return 0;
	if (b->operation != ACL_OP_ALL) {
		if (b->permission == ACL_PERM_ALLOW) {
			switch (operation) {
			case ACL_OP_DESCRIBE:
				if (b->operation != ACL_OP_DESCRIBE &&
				    b->operation != ACL_OP_READ && b->operation != ACL_OP_WRITE &&
				    b->operation != ACL_OP_DELETE && b->operation != ACL_OP_ALTER)
					return 0;
				break;
			case ACL_OP_DESCRIBE_CONFIGS:
				if (b->operation != ACL_OP_DESCRIBE_CONFIGS &&
				    b->operation != ACL_OP_ALTER_CONFIGS)
					return 0;
				break;
			default:
				if (b->operation != operation)
					return 0;
			}
		} else if (b->operation != operation) {
			return 0;
		}
	}
	return b->permission == ACL_PERM_ALLOW  ? ACL_PERM_ALLOW
	       : b->permission == ACL_PERM_DENY ? ACL_PERM_DENY
						: 0;
}

/* authorizeByResourceType's test of one binding: principal (or User:*),
 * host (or '*'), and the operation itself or ALL; no implied operations. */
static bool binding_entry_matches(const acl_binding *b, kstr principal, kstr host, int8_t operation)
{
	return (kstr_eq(principal, b->principal) ||
		strcmp(b->principal, ACL_WILDCARD_PRINCIPAL) == 0) &&
	       (strcmp(b->host, ACL_WILDCARD) == 0 || kstr_eq(host, b->host)) &&
	       (b->operation == operation || b->operation == ACL_OP_ALL);
}

bool acl_allowed(const acl_rules *rs, kstr principal, kstr host, int8_t operation,
		 int8_t resource_type, kstr name)
{
	bool any_on_resource = false, allowed = false;

	if (acl_is_super_user(rs, principal))
		return true;
	for (int i = 0; i < rs->n; i++) {
		const acl_binding *b = &rs->bindings[i];
		if (b->resource_type != resource_type || !pattern_matches(b, name))
			continue;
		any_on_resource = true;
		int8_t r = binding_result(b, principal, host, operation);
		if (r == ACL_PERM_DENY)
			return false;
		if (r == ACL_PERM_ALLOW)
			allowed = true;
	}
	if (allowed)
		return true;
	return !any_on_resource && rs->allow_if_no_acl;
}

/* Whether some DENY of the same principal and host covers an allow
 * pattern: a PREFIXED deny that is a prefix of its name, or (for a
 * LITERAL allow) a LITERAL deny of the same name. */
static bool allow_dominated(const acl_rules *rs, const acl_binding *allow, kstr principal,
			    kstr host, int8_t operation)
{
	size_t len = strlen(allow->resource_name);

	for (int i = 0; i < rs->n; i++) {
		const acl_binding *d = &rs->bindings[i];
		if (d->resource_type != allow->resource_type || d->permission != ACL_PERM_DENY ||
		    !binding_entry_matches(d, principal, host, operation))
			continue;
		size_t dlen = strlen(d->resource_name);
		if (d->pattern_type == ACL_PAT_PREFIXED && dlen <= len &&
		    memcmp(d->resource_name, allow->resource_name, dlen) == 0)
			return true;
		if (d->pattern_type == ACL_PAT_LITERAL && allow->pattern_type == ACL_PAT_LITERAL &&
		    strcmp(d->resource_name, allow->resource_name) == 0)
			return true;
	}
	return false;
}

/* Authorizer.authorizeByResourceType's default implementation. */
bool acl_allowed_by_type(const acl_rules *rs, kstr principal, kstr host, int8_t operation,
			 int8_t resource_type)
{
	if (acl_allowed(rs, principal, host, operation, resource_type, KSTR_LIT("hardcode")))
		return true;
	for (int i = 0; i < rs->n; i++) {
		const acl_binding *b = &rs->bindings[i];
		if (b->resource_type == resource_type && b->permission == ACL_PERM_DENY &&
		    b->pattern_type == ACL_PAT_LITERAL &&
		    strcmp(b->resource_name, ACL_WILDCARD) == 0 &&
		    binding_entry_matches(b, principal, host, operation))
			return false;
	}
	for (int i = 0; i < rs->n; i++) {
		const acl_binding *b = &rs->bindings[i];
		if (b->resource_type != resource_type || b->permission != ACL_PERM_ALLOW ||
		    !binding_entry_matches(b, principal, host, operation))
			continue;
		if (b->pattern_type == ACL_PAT_LITERAL &&
		    strcmp(b->resource_name, ACL_WILDCARD) == 0)
			return true;
		if (!allow_dominated(rs, b, principal, host, operation))
			return true;
	}
	return false;
}

/* AclEntry.supportedOperations. */
int32_t acl_supported_operations(int8_t resource_type)
{
	switch (resource_type) {
	case ACL_RES_TOPIC:
		return BIT(ACL_OP_READ) | BIT(ACL_OP_WRITE) | BIT(ACL_OP_CREATE) |
		       BIT(ACL_OP_DESCRIBE) | BIT(ACL_OP_DELETE) | BIT(ACL_OP_ALTER) |
		       BIT(ACL_OP_DESCRIBE_CONFIGS) | BIT(ACL_OP_ALTER_CONFIGS);
	case ACL_RES_GROUP:
		return BIT(ACL_OP_READ) | BIT(ACL_OP_DESCRIBE) | BIT(ACL_OP_DELETE) |
		       BIT(ACL_OP_DESCRIBE_CONFIGS) | BIT(ACL_OP_ALTER_CONFIGS);
	case ACL_RES_CLUSTER:
		return BIT(ACL_OP_CREATE) | BIT(ACL_OP_CLUSTER_ACTION) |
		       BIT(ACL_OP_DESCRIBE_CONFIGS) | BIT(ACL_OP_ALTER_CONFIGS) |
		       BIT(ACL_OP_IDEMPOTENT_WRITE) | BIT(ACL_OP_ALTER) | BIT(ACL_OP_DESCRIBE);
	case ACL_RES_TRANSACTIONAL_ID:
		return BIT(ACL_OP_DESCRIBE) | BIT(ACL_OP_WRITE);
	case ACL_RES_DELEGATION_TOKEN:
		return BIT(ACL_OP_DESCRIBE);
	case ACL_RES_USER:
		return BIT(ACL_OP_CREATE_TOKENS) | BIT(ACL_OP_DESCRIBE_TOKENS);
	default:
		return 0;
	}
}

int32_t acl_allowed_operations(const acl_rules *rs, kstr principal, kstr host, int8_t resource_type,
			       kstr name)
{
	int32_t supported = acl_supported_operations(resource_type), out = 0;

	for (int8_t op = ACL_OP_READ; op <= ACL_OP_DESCRIBE_TOKENS; op++)
		if ((supported & BIT(op)) &&
		    acl_allowed(rs, principal, host, op, resource_type, name))
			out |= BIT(op);
	return out;
}

static bool filter_str_eq(kstr filter, const char *value)
{
	return filter.len < 0 || kstr_eq(filter, value);
}

bool acl_filter_matches(const acl_filter *f, const acl_binding *b)
{
	/* ResourcePatternFilter.matches */
	if (f->resource_type != ACL_RES_ANY && f->resource_type != b->resource_type)
		return false;
	if (f->pattern_type != ACL_PAT_ANY && f->pattern_type != ACL_PAT_MATCH &&
	    f->pattern_type != b->pattern_type)
		return false;
	if (f->resource_name.len >= 0) {
		if (f->pattern_type == ACL_PAT_ANY || f->pattern_type == b->pattern_type) {
			if (!kstr_eq(f->resource_name, b->resource_name))
				return false;
		} else if (!pattern_matches(b, f->resource_name)) { /* MATCH */
			return false;
		}
	}
	/* AccessControlEntryFilter.matches */
	return filter_str_eq(f->principal, b->principal) && filter_str_eq(f->host, b->host) &&
	       (f->operation == ACL_OP_ANY || f->operation == b->operation) &&
	       (f->permission == ACL_PERM_ANY || f->permission == b->permission);
}

static bool code_known(int8_t code, int count) { return code > 0 && code < count; }

/* AclControlManager.validateNewAcl and AclApis.handleCreateAcls. */
const char *acl_binding_invalid(int8_t resource_type, int8_t pattern_type, kstr name,
				kstr principal, kstr host, int8_t operation, int8_t permission)
{
	if (!code_known(resource_type, NAMES_COUNT(resource_type_names)) ||
	    resource_type == ACL_RES_ANY)
		return "Invalid resourceType";
	if (pattern_type != ACL_PAT_LITERAL && pattern_type != ACL_PAT_PREFIXED)
		return "Invalid patternType";
	if (!code_known(operation, NAMES_COUNT(operation_names)) || operation == ACL_OP_ANY)
		return "Invalid operation";
	if (permission != ACL_PERM_ALLOW && permission != ACL_PERM_DENY)
		return "Invalid permissionType";
	if (resource_type == ACL_RES_CLUSTER && !kstr_eq(name, ACL_CLUSTER_NAME))
		return "The only valid name for the CLUSTER resource is " ACL_CLUSTER_NAME;
	if (name.len <= 0)
		return "Invalid empty resource name";
	if (principal.len < 0 || !memchr(principal.ptr, ':', (size_t)principal.len))
		return "Could not parse principal (no colon is present separating the principal "
		       "type from the principal name)";
	if (host.len < 0)
		return "Invalid null host";
	/* The table holds text: NUL bytes cannot be stored. */
	if (memchr(name.ptr, 0, (size_t)name.len) ||
	    memchr(principal.ptr, 0, (size_t)principal.len) ||
	    (host.len > 0 && memchr(host.ptr, 0, (size_t)host.len)))
		return "Invalid NUL character";
	return NULL;
}

const char *acl_filter_invalid(const acl_filter *f)
{
	if (!code_known(f->resource_type, NAMES_COUNT(resource_type_names)) ||
	    !code_known(f->pattern_type, NAMES_COUNT(pattern_type_names)))
		return "Unknown patternFilter.";
	if (!code_known(f->operation, NAMES_COUNT(operation_names)) ||
	    !code_known(f->permission, NAMES_COUNT(permission_names)))
		return "Unknown entryFilter.";
	return NULL;
}

#define NAME_OF(table, code)                                                                       \
	((code) >= 0 && (code) < NAMES_COUNT(table) ? (table)[(code)] : "UNKNOWN")

const char *acl_resource_type_name(int8_t code) { return NAME_OF(resource_type_names, code); }
const char *acl_pattern_type_name(int8_t code) { return NAME_OF(pattern_type_names, code); }
const char *acl_operation_name(int8_t code) { return NAME_OF(operation_names, code); }
const char *acl_permission_name(int8_t code) { return NAME_OF(permission_names, code); }

static int8_t code_of(const char *const *table, int count, const char *name)
{
	for (int i = 2; i < count; i++)
		if (name && strcmp(table[i], name) == 0)
			return (int8_t)i;
	return 0;
}

int8_t acl_resource_type_code(const char *name)
{
	return code_of(resource_type_names, NAMES_COUNT(resource_type_names), name);
}
int8_t acl_pattern_type_code(const char *name)
{
	return code_of(pattern_type_names, NAMES_COUNT(pattern_type_names), name);
}
int8_t acl_operation_code(const char *name)
{
	return code_of(operation_names, NAMES_COUNT(operation_names), name);
}
int8_t acl_permission_code(const char *name)
{
	return code_of(permission_names, NAMES_COUNT(permission_names), name);
}
