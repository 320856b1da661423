/*
 * Client quotas (KIP-13, KIP-55, KIP-219): the quotas stored in
 * kafka.client_quotas as the broker last loaded them, which one applies to a
 * (user, client-id) pair by Kafka's precedence, and the byte rates measured
 * per quota entity as Kafka's ClientQuotaManager measures them (a rate over
 * quota.window.num samples of quota.window.size.seconds each). Pure logic:
 * no libevent, no PostgreSQL; the caller passes the time (h_quotas.c loads
 * the quotas and applies the throttle).
 */
#ifndef PGK_QUOTAS_H
#define PGK_QUOTAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entity components (ClientQuotaEntity types), as a bit set. */
enum { QUOTA_T_USER = 1, QUOTA_T_CLIENT_ID = 2, QUOTA_T_IP = 4 };

typedef struct quota_entry {
	uint8_t types;   /* which components the entity has */
	char *user;      /* NULL with QUOTA_T_USER: the default user */
	char *client_id; /* NULL with QUOTA_T_CLIENT_ID: the default client id */
	char *ip;        /* NULL with QUOTA_T_IP: the default ip */
	char *key;       /* producer_byte_rate, consumer_byte_rate, ... */
	double value;
} quota_entry;

typedef enum { QUOTA_PRODUCE = 0, QUOTA_FETCH = 1, QUOTA_KINDS } quota_kind;

/* The sampling of every rate: samples windows of window_ms each. Resets
 * every measured rate. */
void quotas_configure(int samples, int64_t window_ms);

/* Replace the stored quotas (the entries and their strings are taken over
 * and freed by the next call or quotas_free). */
void quotas_replace(quota_entry *entries, int n);
void quotas_free(void);

/*
 * The quota of kind k for a client (user: the principal's name without
 * "User:"), by Kafka's precedence: user and client-id, user and default
 * client-id, user, default user and client-id, default user and default
 * client-id, default user, client-id, default client-id. Returns the bound
 * in bytes per second, or a negative number for none; *who (when given)
 * gets the entry that applies.
 */
double quota_bound(quota_kind k, const char *user, const char *client_id, const quota_entry **who);

/*
 * Record bytes for the client at now_ms and return the throttle time in
 * milliseconds Kafka gives (0 within the quota): the rate's excess over
 * the bound, as a fraction of the bound, times the window the rate was
 * measured over. The rate is kept per quota entity: clients that share
 * the entry that applies (a user's quota for all its client ids) share it.
 */
int32_t quota_record(quota_kind k, const char *user, const char *client_id, double bytes,
		     int64_t now_ms);

/* Take back bytes quota_record() counted, in the current window: what
 * Kafka does for a Fetch it throttles, whose answer goes out empty. */
void quota_unrecord(quota_kind k, const char *user, const char *client_id, double bytes,
		    int64_t now_ms);

/* The measured rate (bytes per second) of the client's quota entity, or -1
 * without a quota (tests and metrics). */
double quota_rate(quota_kind k, const char *user, const char *client_id, int64_t now_ms);

#endif
