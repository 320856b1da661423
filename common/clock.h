/*
 * The two clocks, named for what they are for:
 *   clock_mono_ms   intervals, timeouts, backoffs, rates (CLOCK_MONOTONIC:
 *                   never jumps when the wall clock is set)
 *   clock_wall_ms   timestamps others read: record timestamps, log lines,
 *   clock_wall_us   commit-to-ack lag against a commit time from PostgreSQL
 *                   (CLOCK_REALTIME, since the Unix epoch)
 * A difference between two wall readings is not an interval to wait on.
 */
#ifndef PGK_CLOCK_H
#define PGK_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
int64_t clock_wall_ms(void);
int64_t clock_wall_us(void);

#endif
