/*
 * Committed offset expiry (docs/GROUPS.md, "When committed offsets
 * expire"): every offsets.retention.check.interval.ms each broker expires
 * the offsets of the groups it coordinates, as Kafka's group coordinator
 * does with offsets.retention.minutes. What the groups' members keep comes
 * from group_coord.h (group_liveness_hold); the rule itself is
 * kafka.expire_offsets() in SQL. Started with the handlers, stopped before
 * the pool.
 */
#ifndef PGK_OFFSET_EXPIRY_H
#define PGK_OFFSET_EXPIRY_H

struct event_base;

void offset_expiry_init(struct event_base *base);
void offset_expiry_shutdown(void);

#endif
