/*
 * Unit tests for the ACL matcher (broker/acl.c): a table of rule sets and
 * questions with the answer Kafka's StandardAuthorizer gives, then the
 * authorized-operations bit fields, the DescribeAcls/DeleteAcls filters, the
 * CreateAcls validation, super.users parsing and the name tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"
#include "authorizer.h"

/* A binding written as text, as in kafka.acls. */
typedef struct rule {
	const char *type, *pattern, *name, *principal, *host, *op, *perm;
} rule;

/* One question and its answer, against the rules before it. */
typedef struct question {
	const char *principal, *host, *op, *type, *name;
	bool allowed;
} question;

typedef struct rule_case {
	const char *what;
	rule rules[6];
	const char *super_users;
	bool allow_if_no_acl;
	question q[8];
} rule_case;

#define END                                                                                        \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL                                           \
	}
#define QEND                                                                                       \
	{                                                                                          \
		NULL, NULL, NULL, NULL, NULL, false                                                \
	}

static const rule_case cases[] = {
	{"no rules: refused unless allow.everyone.if.no.acl.found",
	 {END},
	 NULL,
	 false,
	 {{"User:alice", "10.0.0.1", "READ", "TOPIC", "t", false},
	  {"User:alice", "10.0.0.1", "CREATE", "CLUSTER", "kafka-cluster", false},
	  QEND}},
	{"no rules, allow.everyone.if.no.acl.found",
	 {END},
	 NULL,
	 true,
	 {{"User:alice", "10.0.0.1", "READ", "TOPIC", "t", true},
	  {"User:ANONYMOUS", "10.0.0.1", "WRITE", "GROUP", "g", true},
	  QEND}},
	{"allow.everyone applies only where no binding exists on the resource",
	 {{"TOPIC", "LITERAL", "t", "User:bob", "*", "READ", "ALLOW"}, END},
	 NULL,
	 true,
	 {{"User:alice", "10.0.0.1", "READ", "TOPIC", "t", false},
	  {"User:bob", "10.0.0.1", "READ", "TOPIC", "t", true},
	  {"User:bob", "10.0.0.1", "WRITE", "TOPIC", "t", false},
	  {"User:alice", "10.0.0.1", "READ", "TOPIC", "u", true},
	  {"User:alice", "10.0.0.1", "READ", "GROUP", "t", true},
	  QEND}},
	{"a prefixed or wildcard binding counts as a binding on the resource",
	 {{"TOPIC", "PREFIXED", "pay", "User:bob", "*", "READ", "ALLOW"},
	  {"GROUP", "LITERAL", "*", "User:bob", "*", "READ", "ALLOW"},
	  END},
	 NULL,
	 true,
	 {{"User:alice", "h", "READ", "TOPIC", "payments", false},
	  {"User:alice", "h", "READ", "TOPIC", "other", true},
	  {"User:alice", "h", "READ", "GROUP", "any", false},
	  QEND}},
	{"literal names match exactly; the wildcard '*' matches every name",
	 {{"TOPIC", "LITERAL", "orders", "User:alice", "*", "WRITE", "ALLOW"},
	  {"TOPIC", "LITERAL", "*", "User:alice", "*", "READ", "ALLOW"},
	  END},
	 NULL,
	 false,
	 {{"User:alice", "h", "WRITE", "TOPIC", "orders", true},
	  {"User:alice", "h", "WRITE", "TOPIC", "orders2", false},
	  {"User:alice", "h", "WRITE", "TOPIC", "order", false},
	  {"User:alice", "h", "READ", "TOPIC", "anything", true},
	  {"User:alice", "h", "READ", "GROUP", "orders", false},
	  QEND}},
	{"prefixed names match every name starting with them; '*' prefixed is no wildcard",
	 {{"TOPIC", "PREFIXED", "pay.", "User:alice", "*", "READ", "ALLOW"},
	  {"GROUP", "PREFIXED", "*", "User:alice", "*", "READ", "ALLOW"},
	  END},
	 NULL,
	 false,
	 {{"User:alice", "h", "READ", "TOPIC", "pay.eu", true},
	  {"User:alice", "h", "READ", "TOPIC", "pay.", true},
	  {"User:alice", "h", "READ", "TOPIC", "pay", false},
	  {"User:alice", "h", "READ", "TOPIC", "xpay.eu", false},
	  {"User:alice", "h", "READ", "GROUP", "g", false},
	  {"User:alice", "h", "READ", "GROUP", "*g", true},
	  QEND}},
	{"DENY wins over ALLOW, from any pattern",
	 {{"TOPIC", "PREFIXED", "pay", "User:alice", "*", "ALL", "ALLOW"},
	  {"TOPIC", "LITERAL", "pay.secret", "User:alice", "*", "READ", "DENY"},
	  {"TOPIC", "LITERAL", "*", "User:*", "*", "WRITE", "DENY"},
	  END},
	 NULL,
	 true,
	 {{"User:alice", "h", "READ", "TOPIC", "pay.eu", true},
	  {"User:alice", "h", "READ", "TOPIC", "pay.secret", false},
	  {"User:alice", "h", "DESCRIBE", "TOPIC", "pay.secret", true},
	  {"User:alice", "h", "WRITE", "TOPIC", "pay.eu", false},
	  {"User:alice", "h", "DELETE", "TOPIC", "pay.eu", true},
	  QEND}},
	{"DENY ALL refuses every operation",
	 {{"TOPIC", "LITERAL", "t", "User:alice", "*", "ALL", "ALLOW"},
	  {"TOPIC", "PREFIXED", "t", "User:alice", "10.0.0.9", "ALL", "DENY"},
	  END},
	 NULL,
	 false,
	 {{"User:alice", "10.0.0.1", "READ", "TOPIC", "t", true},
	  {"User:alice", "10.0.0.9", "READ", "TOPIC", "t", false},
	  {"User:alice", "10.0.0.9", "DESCRIBE", "TOPIC", "t", false},
	  QEND}},
	{"READ, WRITE, DELETE, ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS",
	 {{"TOPIC", "LITERAL", "r", "User:a", "*", "READ", "ALLOW"},
	  {"TOPIC", "LITERAL", "w", "User:a", "*", "WRITE", "ALLOW"},
	  {"TOPIC", "LITERAL", "d", "User:a", "*", "DELETE", "ALLOW"},
	  {"TOPIC", "LITERAL", "al", "User:a", "*", "ALTER", "ALLOW"},
	  {"TOPIC", "LITERAL", "c", "User:a", "*", "CREATE", "ALLOW"},
	  {"TOPIC", "LITERAL", "ac", "User:a", "*", "ALTER_CONFIGS", "ALLOW"}},
	 NULL,
	 false,
	 {{"User:a", "h", "DESCRIBE", "TOPIC", "r", true},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "w", true},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "d", true},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "al", true},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "c", false},
	  {"User:a", "h", "DESCRIBE_CONFIGS", "TOPIC", "ac", true},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "ac", false},
	  {"User:a", "h", "READ", "TOPIC", "w", false}}},
	{"DESCRIBE does not imply READ; DESCRIBE_CONFIGS does not imply ALTER_CONFIGS",
	 {{"TOPIC", "LITERAL", "t", "User:a", "*", "DESCRIBE", "ALLOW"},
	  {"TOPIC", "LITERAL", "t", "User:a", "*", "DESCRIBE_CONFIGS", "ALLOW"},
	  END},
	 NULL,
	 false,
	 {{"User:a", "h", "READ", "TOPIC", "t", false},
	  {"User:a", "h", "ALTER_CONFIGS", "TOPIC", "t", false},
	  {"User:a", "h", "DESCRIBE", "TOPIC", "t", true},
	  QEND}},
	{"ALL allows every operation of the resource",
	 {{"CLUSTER", "LITERAL", "kafka-cluster", "User:a", "*", "ALL", "ALLOW"}, END},
	 NULL,
	 false,
	 {{"User:a", "h", "IDEMPOTENT_WRITE", "CLUSTER", "kafka-cluster", true},
	  {"User:a", "h", "CLUSTER_ACTION", "CLUSTER", "kafka-cluster", true},
	  {"User:a", "h", "DESCRIBE", "CLUSTER", "kafka-cluster", true},
	  {"User:b", "h", "DESCRIBE", "CLUSTER", "kafka-cluster", false},
	  QEND}},
	{"principal User:* matches everyone; other principals only themselves",
	 {{"GROUP", "LITERAL", "g", "User:*", "*", "READ", "ALLOW"},
	  {"GROUP", "LITERAL", "h", "User:alice", "*", "READ", "ALLOW"},
	  END},
	 NULL,
	 false,
	 {{"User:ANONYMOUS", "h", "READ", "GROUP", "g", true},
	  {"User:bob", "h", "READ", "GROUP", "g", true},
	  {"User:bob", "h", "READ", "GROUP", "h", false},
	  {"User:alicex", "h", "READ", "GROUP", "h", false},
	  {"User:alic", "h", "READ", "GROUP", "h", false},
	  {"User:alice", "h", "READ", "GROUP", "h", true},
	  QEND}},
	{"host '*' or the exact address",
	 {{"TRANSACTIONAL_ID", "LITERAL", "tx", "User:a", "127.0.0.1", "WRITE", "ALLOW"}, END},
	 NULL,
	 false,
	 {{"User:a", "127.0.0.1", "WRITE", "TRANSACTIONAL_ID", "tx", true},
	  {"User:a", "127.0.0.2", "WRITE", "TRANSACTIONAL_ID", "tx", false},
	  {"User:a", "127.0.0.1", "DESCRIBE", "TRANSACTIONAL_ID", "tx", true},
	  QEND}},
	{"super users may do anything, even against a DENY",
	 {{"TOPIC", "LITERAL", "*", "User:*", "*", "ALL", "DENY"}, END},
	 "User:admin; User:ops",
	 false,
	 {{"User:admin", "h", "WRITE", "TOPIC", "t", true},
	  {"User:ops", "h", "ALTER", "CLUSTER", "kafka-cluster", true},
	  {"User:alice", "h", "WRITE", "TOPIC", "t", false},
	  {"User:Admin", "h", "WRITE", "TOPIC", "t", false},
	  QEND}},
	{"resource types are separate",
	 {{"GROUP", "LITERAL", "x", "User:a", "*", "READ", "ALLOW"}, END},
	 NULL,
	 false,
	 {{"User:a", "h", "READ", "TOPIC", "x", false},
	  {"User:a", "h", "READ", "GROUP", "x", true},
	  QEND}},
};

static void load(acl_rules *rs, const rule_case *c)
{
	acl_rules_init(rs);
	for (size_t i = 0; i < sizeof(c->rules) / sizeof(c->rules[0]) && c->rules[i].type; i++) {
		const rule *r = &c->rules[i];
		acl_rules_add(rs, acl_resource_type_code(r->type),
			      acl_pattern_type_code(r->pattern), r->name, r->principal, r->host,
			      acl_operation_code(r->op), acl_permission_code(r->perm));
	}
	acl_rules_set_super_users(rs, c->super_users);
	rs->allow_if_no_acl = c->allow_if_no_acl;
}

static void test_rule_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const rule_case *c = &cases[i];
		acl_rules rs;
		load(&rs, c);
		for (size_t j = 0; j < sizeof(c->q) / sizeof(c->q[0]) && c->q[j].principal; j++) {
			const question *q = &c->q[j];
			bool got = acl_allowed(&rs, kstr_c(q->principal), kstr_c(q->host),
					       acl_operation_code(q->op),
					       acl_resource_type_code(q->type), kstr_c(q->name));
			if (got != q->allowed)
				fail_msg("%s: %s %s %s %s:%s from %s: got %s", c->what,
					 q->principal, q->allowed ? "allowed" : "refused", q->op,
					 q->type, q->name, q->host, got ? "allowed" : "refused");
		}
		acl_rules_free(&rs);
	}
}

static void test_allowed_operations(void **state)
{
	acl_rules rs;
	(void)state;

	acl_rules_init(&rs);
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "User:a", "*", ACL_OP_READ,
		      ACL_PERM_ALLOW);
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "User:a", "*", ACL_OP_WRITE,
		      ACL_PERM_ALLOW);
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "User:a", "*", ACL_OP_WRITE,
		      ACL_PERM_DENY);
	acl_rules_add(&rs, ACL_RES_CLUSTER, ACL_PAT_LITERAL, "kafka-cluster", "User:a", "*",
		      ACL_OP_ALL, ACL_PERM_ALLOW);
	/* READ and the DESCRIBE it implies; WRITE is denied */
	assert_int_equal(acl_allowed_operations(&rs, kstr_c("User:a"), kstr_c("h"), ACL_RES_TOPIC,
						kstr_c("t")),
			 (1 << ACL_OP_READ) | (1 << ACL_OP_DESCRIBE));
	assert_int_equal(acl_allowed_operations(&rs, kstr_c("User:b"), kstr_c("h"), ACL_RES_TOPIC,
						kstr_c("t")),
			 0);
	assert_int_equal(acl_allowed_operations(&rs, kstr_c("User:a"), kstr_c("h"), ACL_RES_CLUSTER,
						kstr_c("kafka-cluster")),
			 acl_supported_operations(ACL_RES_CLUSTER));
	/* the value Metadata reported before the authorizer existed */
	assert_int_equal(acl_supported_operations(ACL_RES_CLUSTER), (1 << 5) | (1 << 7) | (1 << 8) |
									    (1 << 9) | (1 << 10) |
									    (1 << 11) | (1 << 12));
	assert_int_equal(acl_supported_operations(ACL_RES_TOPIC),
			 (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) |
				 (1 << 10) | (1 << 11));
	acl_rules_free(&rs);
}

static acl_binding binding(int8_t type, int8_t pattern, const char *name, const char *principal,
			   const char *host, int8_t op, int8_t perm)
{
	acl_binding b = {type, pattern, (char *)name, (char *)principal, (char *)host, op, perm};
	return b;
}

static acl_filter any_filter(void)
{
	acl_filter f = {ACL_RES_ANY, KSTR_NULL,  ACL_PAT_ANY, KSTR_NULL,
			KSTR_NULL,   ACL_OP_ANY, ACL_PERM_ANY};
	return f;
}

static void test_filters(void **state)
{
	(void)state;
	acl_binding lit = binding(ACL_RES_TOPIC, ACL_PAT_LITERAL, "pay.eu", "User:a", "*",
				  ACL_OP_READ, ACL_PERM_ALLOW);
	acl_binding pre = binding(ACL_RES_TOPIC, ACL_PAT_PREFIXED, "pay.", "User:a", "*",
				  ACL_OP_READ, ACL_PERM_ALLOW);
	acl_binding wild = binding(ACL_RES_TOPIC, ACL_PAT_LITERAL, "*", "User:*", "10.0.0.1",
				   ACL_OP_WRITE, ACL_PERM_DENY);
	acl_filter f = any_filter();

	assert_true(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &pre));
	assert_true(acl_filter_matches(&f, &wild));

	/* ANY with a name: the exact name, of either pattern type */
	f.resource_name = kstr_c("pay.");
	assert_false(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &pre));
	assert_false(acl_filter_matches(&f, &wild));

	/* MATCH: every binding that applies to that resource */
	f.pattern_type = ACL_PAT_MATCH;
	f.resource_name = kstr_c("pay.eu");
	assert_true(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &pre));
	assert_true(acl_filter_matches(&f, &wild));
	f.resource_name = kstr_c("other");
	assert_false(acl_filter_matches(&f, &lit));
	assert_false(acl_filter_matches(&f, &pre));
	assert_true(acl_filter_matches(&f, &wild));

	/* LITERAL / PREFIXED: that pattern type only, exact name */
	f.pattern_type = ACL_PAT_LITERAL;
	f.resource_name = KSTR_NULL;
	assert_true(acl_filter_matches(&f, &lit));
	assert_false(acl_filter_matches(&f, &pre));
	f.resource_name = kstr_c("*");
	assert_false(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &wild));
	f.pattern_type = ACL_PAT_PREFIXED;
	f.resource_name = kstr_c("pay.eu");
	assert_false(acl_filter_matches(&f, &pre));

	/* entry filters compare exactly: User:* is a value, not a wildcard */
	f = any_filter();
	f.principal = kstr_c("User:a");
	assert_true(acl_filter_matches(&f, &lit));
	assert_false(acl_filter_matches(&f, &wild));
	f = any_filter();
	f.host = kstr_c("10.0.0.1");
	assert_false(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &wild));
	f = any_filter();
	f.operation = ACL_OP_WRITE;
	assert_false(acl_filter_matches(&f, &lit));
	assert_true(acl_filter_matches(&f, &wild));
	f = any_filter();
	f.permission = ACL_PERM_ALLOW;
	assert_true(acl_filter_matches(&f, &lit));
	assert_false(acl_filter_matches(&f, &wild));
	f = any_filter();
	f.resource_type = ACL_RES_GROUP;
	assert_false(acl_filter_matches(&f, &lit));

	f = any_filter();
	assert_null(acl_filter_invalid(&f));
	f.pattern_type = ACL_PAT_UNKNOWN;
	assert_string_equal(acl_filter_invalid(&f), "Unknown patternFilter.");
	f = any_filter();
	f.resource_type = 99;
	assert_non_null(acl_filter_invalid(&f));
	f = any_filter();
	f.operation = ACL_OP_UNKNOWN;
	assert_string_equal(acl_filter_invalid(&f), "Unknown entryFilter.");
	f = any_filter();
	f.permission = -3;
	assert_non_null(acl_filter_invalid(&f));
}

static void test_binding_validation(void **state)
{
	kstr n = kstr_c("t"), p = kstr_c("User:a"), h = kstr_c("*");
	(void)state;

	assert_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, p, h, ACL_OP_READ,
					ACL_PERM_ALLOW));
	assert_null(acl_binding_invalid(ACL_RES_CLUSTER, ACL_PAT_LITERAL, kstr_c("kafka-cluster"),
					p, h, ACL_OP_ALTER, ACL_PERM_DENY));
	assert_non_null(acl_binding_invalid(ACL_RES_ANY, ACL_PAT_LITERAL, n, p, h, ACL_OP_READ,
					    ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_UNKNOWN, ACL_PAT_LITERAL, n, p, h, ACL_OP_READ,
					    ACL_PERM_ALLOW));
	assert_non_null(
		acl_binding_invalid(9, ACL_PAT_LITERAL, n, p, h, ACL_OP_READ, ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_MATCH, n, p, h, ACL_OP_READ,
					    ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_ANY, n, p, h, ACL_OP_READ,
					    ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, p, h, ACL_OP_ANY,
					    ACL_PERM_ALLOW));
	assert_non_null(
		acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, p, h, 15, ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, p, h, ACL_OP_READ,
					    ACL_PERM_ANY));
	assert_string_equal(acl_binding_invalid(ACL_RES_CLUSTER, ACL_PAT_LITERAL, n, p, h,
						ACL_OP_ALTER, ACL_PERM_ALLOW),
			    "The only valid name for the CLUSTER resource is kafka-cluster");
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, kstr_c(""), p, h,
					    ACL_OP_READ, ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, kstr_c("alice"), h,
					    ACL_OP_READ, ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, n, KSTR_NULL, h,
					    ACL_OP_READ, ACL_PERM_ALLOW));
	assert_non_null(acl_binding_invalid(ACL_RES_TOPIC, ACL_PAT_LITERAL, (kstr){"a\0b", 3}, p, h,
					    ACL_OP_READ, ACL_PERM_ALLOW));
}

static void test_allowed_by_type(void **state)
{
	acl_rules rs;
	kstr a = kstr_c("User:a"), h = kstr_c("h");
	(void)state;

	acl_rules_init(&rs);
	assert_false(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	rs.allow_if_no_acl = true;
	assert_true(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	rs.allow_if_no_acl = false;
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t1", "User:a", "*", ACL_OP_WRITE,
		      ACL_PERM_ALLOW);
	assert_true(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	assert_false(acl_allowed_by_type(&rs, kstr_c("User:b"), h, ACL_OP_WRITE, ACL_RES_TOPIC));
	assert_false(acl_allowed_by_type(&rs, a, h, ACL_OP_READ, ACL_RES_TOPIC));
	assert_false(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_GROUP));
	/* a prefixed DENY covering the only ALLOW */
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "t", "User:*", "*", ACL_OP_ALL,
		      ACL_PERM_DENY);
	assert_false(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	/* an ALLOW the DENY does not cover */
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "u", "User:a", "*", ACL_OP_ALL,
		      ACL_PERM_ALLOW);
	assert_true(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	/* a wildcard DENY refuses whatever is allowed */
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "*", "User:a", "*", ACL_OP_WRITE,
		      ACL_PERM_DENY);
	assert_false(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	/* super users always */
	acl_rules_set_super_users(&rs, "User:a");
	assert_true(acl_allowed_by_type(&rs, a, h, ACL_OP_WRITE, ACL_RES_TOPIC));
	acl_rules_free(&rs);
}

/* The checks handlers make: the request's principal and its client address
 * without the "/" Kafka prints before it; everything passes when off. */
static void test_request_checks(void **state)
{
	request req;
	acl_rules rs;
	(void)state;

	memset(&req, 0, sizeof(req));
	req.principal = kstr_c("User:alice");
	req.client_host = kstr_c("/10.1.2.3");
	authorizer_set_for_test(false, NULL);
	assert_true(authz_topic(&req, ACL_OP_WRITE, kstr_c("t")));
	assert_true(authz_super_user(&req));
	assert_int_equal(authz_operations(&req, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME)),
			 acl_supported_operations(ACL_RES_CLUSTER));

	acl_rules_init(&rs);
	acl_rules_add(&rs, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "User:alice", "10.1.2.3",
		      ACL_OP_WRITE, ACL_PERM_ALLOW);
	acl_rules_add(&rs, ACL_RES_GROUP, ACL_PAT_LITERAL, "g", "User:alice", "10.9.9.9",
		      ACL_OP_READ, ACL_PERM_ALLOW);
	acl_rules_set_super_users(&rs, "User:admin");
	authorizer_set_for_test(true, &rs);
	assert_true(authz_topic(&req, ACL_OP_WRITE, kstr_c("t")));
	assert_true(authz_topic(&req, ACL_OP_DESCRIBE, kstr_c("t")));
	assert_false(authz_topic(&req, ACL_OP_READ, kstr_c("t")));
	assert_false(authz_group(&req, ACL_OP_READ, kstr_c("g")));
	assert_false(authz_cluster(&req, ACL_OP_CREATE));
	assert_false(authz_super_user(&req));
	assert_true(authz_any(&req, ACL_OP_WRITE, ACL_RES_TOPIC));
	assert_false(authz_any(&req, ACL_OP_WRITE, ACL_RES_GROUP));
	assert_int_equal(authz_operations(&req, ACL_RES_TOPIC, kstr_c("t")),
			 (1 << ACL_OP_WRITE) | (1 << ACL_OP_DESCRIBE));
	req.principal = kstr_c("User:admin");
	assert_true(authz_cluster(&req, ACL_OP_ALTER));
	assert_true(authz_super_user(&req));
	authorizer_set_for_test(false, NULL);
	authorizer_shutdown();
}

static void test_super_users(void **state)
{
	acl_rules rs;
	(void)state;

	acl_rules_init(&rs);
	acl_rules_set_super_users(&rs, " User:admin ;;User:CN=x,O=y;");
	assert_int_equal(rs.nsuper, 2);
	assert_string_equal(rs.super_users[0], "User:admin");
	assert_string_equal(rs.super_users[1], "User:CN=x,O=y");
	assert_true(acl_is_super_user(&rs, kstr_c("User:admin")));
	assert_false(acl_is_super_user(&rs, kstr_c("User:admi")));
	acl_rules_set_super_users(&rs, "");
	assert_int_equal(rs.nsuper, 0);
	assert_false(acl_is_super_user(&rs, kstr_c("User:admin")));
	acl_rules_free(&rs);
}

static void test_names(void **state)
{
	(void)state;
	for (int8_t c = ACL_RES_TOPIC; c <= ACL_RES_USER; c++)
		assert_int_equal(acl_resource_type_code(acl_resource_type_name(c)), c);
	for (int8_t c = ACL_OP_ALL; c <= ACL_OP_DESCRIBE_TOKENS; c++)
		assert_int_equal(acl_operation_code(acl_operation_name(c)), c);
	assert_int_equal(acl_pattern_type_code("PREFIXED"), ACL_PAT_PREFIXED);
	assert_int_equal(acl_permission_code("DENY"), ACL_PERM_DENY);
	assert_int_equal(acl_operation_code("read"), ACL_OP_UNKNOWN);
	assert_int_equal(acl_operation_code(NULL), ACL_OP_UNKNOWN);
	assert_string_equal(acl_operation_name(42), "UNKNOWN");
	assert_string_equal(acl_resource_type_name(-1), "UNKNOWN");
	assert_string_equal(acl_operation_name(ACL_OP_IDEMPOTENT_WRITE), "IDEMPOTENT_WRITE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),      cmocka_unit_test(test_allowed_operations),
		cmocka_unit_test(test_filters),         cmocka_unit_test(test_binding_validation),
		cmocka_unit_test(test_allowed_by_type), cmocka_unit_test(test_super_users),
		cmocka_unit_test(test_request_checks),  cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
