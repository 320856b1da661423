/*
 * Giving memory back after a burst.
 *
 * The broker is one thread, so glibc serves it from its main arena (the brk
 * heap) and from mmap for large blocks. Two of glibc's defaults kept a few
 * hundred MB resident after a busy producer had gone:
 *
 *   - The mmap threshold is dynamic: the first time a block served by mmap
 *     is freed (a 1 MB produce frame, say), glibc raises the threshold to
 *     that block's size, up to 32 MiB, and the trim threshold to twice it.
 *     From then on frames, decoded batches and copied results all come from
 *     the heap.
 *   - The heap is given back only from its top: one small block still in
 *     use near the top (a connection's buffers, a cached statement) pins
 *     every freed byte below it.
 *
 * Memory held by libraries is out of malloc_trim's reach: libpq keeps each
 * connection's buffers at their largest size. The caller's on_idle hook,
 * run at every idle check before the trim, lets the pool reopen those
 * connections (pool_shed_buffers).
 *
 * memtrim_start fixes both thresholds, which turns the dynamic adjustment
 * off: blocks of MMAP_THRESHOLD bytes or more are mmap'd and unmapped as
 * soon as they are freed. What the heap still holds free after a burst is
 * given back by malloc_trim(0), which also releases the whole free pages
 * inside the heap, once the broker is idle: no request in flight at a check
 * (every CHECK_MS), more than TRIM_SLACK bytes free in the heap, and more
 * than TRIM_SLACK bytes of pages faulted in since the last trim (without
 * that, a heap whose free pages are already given back would be walked
 * again at every check). The trim costs a walk of the heap's free lists,
 * which is why it waits for idleness rather than running during a burst,
 * whose memory would be faulted straight back in.
 *
 * Without glibc, memtrim_start does nothing.
 */
#include "memtrim.h"

#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log.h"

#define MMAP_THRESHOLD (128 * 1024)
#define TRIM_THRESHOLD (1024 * 1024)
#define TRIM_SLACK (4 * 1024 * 1024)
#define CHECK_MS 1000

static struct {
	struct event *ev_check;
	size_t (*in_flight)(void);
	void (*on_idle)(void);
	unsigned long trims;
	long minflt_at_trim; /* minor page faults when the last trim ran */
} T;

static void on_check(evutil_socket_t fd, short what, void *arg);

void memtrim_start(struct event_base *base, size_t (*in_flight)(void), void (*on_idle)(void))
{
#ifdef __GLIBC__
	struct timeval tv = {CHECK_MS / 1000, (CHECK_MS % 1000) * 1000};

	if (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1)
		/* A sanitizer's allocator takes no options: expected there. */
		log_debug("mallopt refused the mmap and trim thresholds (not glibc's "
			  "allocator?); memory freed after a burst may stay resident");
	T.in_flight = in_flight;
	T.on_idle = on_idle;
	T.ev_check = event_new(base, -1, EV_PERSIST, on_check, NULL);
	if (!T.ev_check || event_add(T.ev_check, &tv) < 0)
		log_warn("cannot start the idle memory trim");
#else
	(void)base;
	(void)in_flight;
	(void)on_idle;
#endif
}

void memtrim_stop(void)
{
	if (T.ev_check)
		event_free(T.ev_check);
	T.ev_check = NULL;
}

unsigned long memtrim_count(void) { return T.trims; }

static void on_check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
#ifdef __GLIBC__
	if (T.in_flight && T.in_flight() > 0)
		return;
	if (T.on_idle)
		T.on_idle();
	struct rusage ru;
	long page = sysconf(_SC_PAGESIZE);
	if (getrusage(RUSAGE_SELF, &ru) != 0 || page <= 0 ||
	    ru.ru_minflt - T.minflt_at_trim <= TRIM_SLACK / page)
		return;
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks <= TRIM_SLACK)
		return;
	malloc_trim(0);
	T.trims++;
	T.minflt_at_trim = ru.ru_minflt;
	log_debug("idle: gave back the heap's free memory (%zu bytes free in %zu)", mi.fordblks,
		  mi.arena);
#endif
}
