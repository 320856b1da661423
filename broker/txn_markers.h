/*
 * Transaction markers were written (EndTxn, a fencing InitProducerId, the
 * timeout reaper): wake the fetches waiting on their partitions, since
 * read_committed fetches see the last stable offset move.
 */
#ifndef PGK_TXN_MARKERS_H
#define PGK_TXN_MARKERS_H

/* Wake the fetches waiting on every (topic, partition) of two parallel
 * arrays in PostgreSQL's text output; a malformed pair is logged and
 * skipped. */
void txn_wake_markers(const char *topics, const char *partitions);

#endif
