/*
 * Fetch's life cycle beyond one request: fetches waiting for data (h_fetch.c)
 * are answered at shutdown.
 */
#ifndef PGK_H_FETCH_H
#define PGK_H_FETCH_H

#include <stddef.h>

/* Answer every fetch still waiting for data with what it has. */
void fetch_shutdown(void);
/* Fetches waiting for data (long polling), for the metrics. */
size_t fetch_waiting_count(void);

#endif
