/*
 * Client quotas: see quotas.h.
 *
 * Invariants:
 *  - A sensor measures one quota kind for one quota entity: the user
 *    (when the entry that applies has a user component) and the client id
 *    (when it has a client-id component) of the clients it counts, as
 *    Kafka's quota metric tags are.
 *  - A sensor keeps `samples` windows; the current one is the newest. A
 *    window older than samples * window_ms counts for nothing and is reused.
 *  - The rate is the sum of the live windows over the time since the oldest
 *    began, but never over less than samples - 1 full windows (Kafka's
 *    Rate.windowSize), so one burst does not read as an enormous rate.
 *  - Sensors idle for SENSOR_IDLE_MS are dropped (Kafka expires them after
 *    an hour too).
 */
#include "quotas.h"

#include <stdlib.h>
#include <string.h>

#define SENSOR_BUCKETS 256
#define SENSOR_IDLE_MS (3600 * 1000)

typedef struct sample {
	int64_t start_ms;
	double value;
} sample;

typedef struct sensor {
	struct sensor *next;
	char *key;
	int64_t last_ms;
	int current; /* index of the newest window */
	sample *s;   /* Q.samples windows */
} sensor;

static struct {
	quota_entry *entries;
	int n;
	int samples;
	int64_t window_ms;
	sensor *buckets[SENSOR_BUCKETS];
	int64_t last_sweep_ms;
} Q = {.samples = 11, .window_ms = 1000};

static const char *const kind_keys[QUOTA_KINDS] = {"producer_byte_rate", "consumer_byte_rate"};

static void entry_free(quota_entry *e);
static bool component_is(const char *stored, const char *name);
static const quota_entry *find(quota_kind k, uint8_t types, const char *user, const char *client);
static char *sensor_key(quota_kind k, const quota_entry *e, const char *user, const char *client);
static unsigned hash(const char *s);
static sensor *sensor_get(const char *key, int64_t now_ms, bool create);
static void sensor_purge(sensor *s, int64_t now_ms);
static double sensor_window(const sensor *s, int64_t now_ms);
static double sensor_rate(sensor *s, int64_t now_ms);
static void sweep(int64_t now_ms);
static void sensors_free(void);

void quotas_configure(int samples, int64_t window_ms)
{
	sensors_free();
	Q.samples = samples >= 2 ? samples : 2;
	Q.window_ms = window_ms >= 1 ? window_ms : 1;
}

static void entry_free(quota_entry *e)
{
	free(e->user);
	free(e->client_id);
	free(e->ip);
	free(e->key);
}

void quotas_replace(quota_entry *entries, int n)
{
	for (int i = 0; i < Q.n; i++)
		entry_free(&Q.entries[i]);
	free(Q.entries);
	Q.entries = entries;
	Q.n = n;
}

void quotas_free(void)
{
	quotas_replace(NULL, 0);
	sensors_free();
}

/* A stored component (NULL: the default) matches a name, or the default
 * when name is NULL. */
static bool component_is(const char *stored, const char *name)
{
	if (!stored || !name)
		return !stored && !name;
	return strcmp(stored, name) == 0;
}

static const quota_entry *find(quota_kind k, uint8_t types, const char *user, const char *client)
{
	for (int i = 0; i < Q.n; i++) {
		const quota_entry *e = &Q.entries[i];
		if (e->types != types || strcmp(e->key, kind_keys[k]) != 0)
			continue;
		if ((types & QUOTA_T_USER) && !component_is(e->user, user))
			continue;
		if ((types & QUOTA_T_CLIENT_ID) && !component_is(e->client_id, client))
			continue;
		return e;
	}
	return NULL;
}

double quota_bound(quota_kind k, const char *user, const char *client_id, const quota_entry **who)
{
	/* ClientQuotaManager's DefaultQuotaCallback, most specific first. */
	const uint8_t UC = QUOTA_T_USER | QUOTA_T_CLIENT_ID;
	const struct {
		uint8_t types;
		const char *user, *client;
	} order[] = {
		{UC, user, client_id},
		{UC, user, NULL},
		{QUOTA_T_USER, user, NULL},
		{UC, NULL, client_id},
		{UC, NULL, NULL},
		{QUOTA_T_USER, NULL, NULL},
		{QUOTA_T_CLIENT_ID, NULL, client_id},
		{QUOTA_T_CLIENT_ID, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		/* Only the default may match a name the client does not have. */
		if ((order[i].types & QUOTA_T_USER) && i < 3 && !user)
			continue;
		if ((order[i].types & QUOTA_T_CLIENT_ID) && order[i].client && !client_id)
			continue;
		const quota_entry *e = find(k, order[i].types, order[i].user, order[i].client);
		if (e) {
			if (who)
				*who = e;
			return e->value;
		}
	}
	if (who)
		*who = NULL;
	return -1;
}

static char *sensor_key(quota_kind k, const quota_entry *e, const char *user, const char *client)
{
	const char *u = (e->types & QUOTA_T_USER) && user ? user : "";
	const char *c = (e->types & QUOTA_T_CLIENT_ID) && client ? client : "";
	size_t n = strlen(u) + strlen(c) + 4;
	char *key = malloc(n);
	if (key) {
		key[0] = (char)('0' + k);
		key[1] = '\x1f';
		strcpy(key + 2, u);
		size_t ul = strlen(u);
		key[2 + ul] = '\x1f';
		strcpy(key + 3 + ul, c);
	}
	return key;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % SENSOR_BUCKETS;
}

static sensor *sensor_get(const char *key, int64_t now_ms, bool create)
{
	unsigned b = hash(key);
	for (sensor *s = Q.buckets[b]; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	if (!create)
		return NULL;
	sensor *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = strdup(key);
	s->s = calloc((size_t)Q.samples, sizeof(sample));
	if (!s->key || !s->s) {
		free(s->key);
		free(s->s);
		free(s);
		return NULL;
	}
	for (int i = 0; i < Q.samples; i++)
		s->s[i].start_ms = now_ms;
	s->last_ms = now_ms;
	s->next = Q.buckets[b];
	Q.buckets[b] = s;
	return s;
}

/* Windows that ended more than samples windows ago count for nothing. */
static void sensor_purge(sensor *s, int64_t now_ms)
{
	int64_t expire = (int64_t)Q.samples * Q.window_ms;
	for (int i = 0; i < Q.samples; i++) {
		if (now_ms - s->s[i].start_ms >= expire) {
			s->s[i].start_ms = now_ms;
			s->s[i].value = 0;
		}
	}
}

/* Kafka's Rate.windowSize: the time since the oldest window began, at
 * least samples - 1 full windows. */
static double sensor_window(const sensor *s, int64_t now_ms)
{
	int64_t oldest = now_ms;
	for (int i = 0; i < Q.samples; i++)
		if (s->s[i].start_ms < oldest)
			oldest = s->s[i].start_ms;
	int64_t elapsed = now_ms - oldest;
	int64_t full = elapsed / Q.window_ms;
	if (full < Q.samples - 1)
		elapsed += (Q.samples - 1 - full) * Q.window_ms;
	return (double)elapsed;
}

static double sensor_rate(sensor *s, int64_t now_ms)
{
	double total = 0;
	sensor_purge(s, now_ms);
	for (int i = 0; i < Q.samples; i++)
		total += s->s[i].value;
	return total * 1000.0 / sensor_window(s, now_ms);
}

static void sweep(int64_t now_ms)
{
	if (now_ms - Q.last_sweep_ms < 60000)
		return;
	Q.last_sweep_ms = now_ms;
	for (int b = 0; b < SENSOR_BUCKETS; b++) {
		for (sensor **p = &Q.buckets[b]; *p;) {
			sensor *s = *p;
			if (now_ms - s->last_ms > SENSOR_IDLE_MS) {
				*p = s->next;
				free(s->key);
				free(s->s);
				free(s);
			} else {
				p = &s->next;
			}
		}
	}
}

int32_t quota_record(quota_kind k, const char *user, const char *client_id, double bytes,
		     int64_t now_ms)
{
	const quota_entry *e;
	double bound = quota_bound(k, user, client_id, &e);

	sweep(now_ms);
	if (bound < 0 || !e)
		return 0;
	char *key = sensor_key(k, e, user, client_id);
	sensor *s = key ? sensor_get(key, now_ms, true) : NULL;
	free(key);
	if (!s)
		return 0;
	sensor_purge(s, now_ms);
	sample *cur = &s->s[s->current];
	if (now_ms - cur->start_ms >= Q.window_ms) {
		/* A new window, in place of the oldest. */
		s->current = (s->current + 1) % Q.samples;
		cur = &s->s[s->current];
		cur->start_ms = now_ms;
		cur->value = 0;
	}
	cur->value += bytes;
	s->last_ms = now_ms;
	double rate = sensor_rate(s, now_ms);
	if (rate <= bound)
		return 0;
	/* QuotaUtils.throttleTime; a bound of 0 throttles as long as a
	 * rate can be measured, the longest window. */
	double ms = bound > 0 ? (rate - bound) / bound * sensor_window(s, now_ms)
			      : (double)Q.samples * (double)Q.window_ms;
	if (ms > INT32_MAX)
		return INT32_MAX;
	return (int32_t)(ms + 0.5);
}

void quota_unrecord(quota_kind k, const char *user, const char *client_id, double bytes,
		    int64_t now_ms)
{
	const quota_entry *e;
	if (quota_bound(k, user, client_id, &e) < 0 || !e)
		return;
	char *key = sensor_key(k, e, user, client_id);
	sensor *s = key ? sensor_get(key, now_ms, false) : NULL;
	free(key);
	if (s)
		s->s[s->current].value -= bytes;
}

double quota_rate(quota_kind k, const char *user, const char *client_id, int64_t now_ms)
{
	const quota_entry *e;
	if (quota_bound(k, user, client_id, &e) < 0 || !e)
		return -1;
	char *key = sensor_key(k, e, user, client_id);
	sensor *s = key ? sensor_get(key, now_ms, false) : NULL;
	free(key);
	return s ? sensor_rate(s, now_ms) : 0;
}

static void sensors_free(void)
{
	for (int b = 0; b < SENSOR_BUCKETS; b++) {
		while (Q.buckets[b]) {
			sensor *s = Q.buckets[b];
			Q.buckets[b] = s->next;
			free(s->key);
			free(s->s);
			free(s);
		}
	}
}
