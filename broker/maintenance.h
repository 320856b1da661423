/*
 * The storage job (docs/OPERATIONS.md, "Storage and retention"): every
 * log.retention.check.interval.ms, kafka.run_maintenance() extends and rolls
 * segments, applies retention and compaction, deletes the records of deleted
 * topics and expires idle producer state. The function takes an advisory
 * lock, so when several brokers share a database one of them does the work
 * and the others' calls return at once. Started with the handlers, stopped
 * before the pool.
 */
#ifndef PGK_MAINTENANCE_H
#define PGK_MAINTENANCE_H

struct event_base;

void maintenance_init(struct event_base *base);
void maintenance_shutdown(void);

#endif
