/*
 * The transaction coordinator's timer that aborts transactions past their
 * timeout (docs/TRANSACTIONS.md). Started with the handlers, stopped
 * before the pool.
 */
#ifndef PGK_TXN_REAPER_H
#define PGK_TXN_REAPER_H

struct event_base;

void txn_reaper_init(struct event_base *base);
void txn_reaper_shutdown(void);

#endif
