/*
 * Giving memory back after a burst.
 *
 * The broker is one thread, so glibc serves it from its main arena (the brk
 * heap) and from mmap for large blocks. Two of glibc's behaviours kept a few
 * hundred MB resident after a busy producer had gone:
 *
 *   - The mmap threshold is dynamic: the first time a block served by mmap
 *     is freed (a 1 MB produce frame, say), glibc raises the threshold to
 *     that block's size, up to 32 MiB, and the trim threshold to twice it.
 *     From then on frames, decoded batches and fetch responses all come
 *     from the heap.
 *   - The heap is given back only from its top, and only above the trim
 *     threshold: one small block still in use near the top (a connection's
 *     buffers, a cached statement) pins every freed byte below it.
 *
 * Fixing the thresholds low (mallopt) would hand large blocks back at once,
 * but each one is then mapped, faulted in page by page and unmapped again:
 * with a 128 KiB threshold the broker spent about 1.5 times the CPU per
 * consumed record and 1.3 times per produced 1 KB record. Left dynamic, the
 * threshold made the broker's speed depend on its history: it rises only to
 * the largest block freed so far, and a block of exactly that size is still
 * mapped, so 4 MiB fetch responses after nothing larger than 1 MB produce
 * frames were each faulted in (1 KB consume, 2.8 against 1.8 s of broker CPU
 * per million records). memtrim_start therefore fixes it where the dynamic
 * one ends, 32 MiB, and the trim threshold at twice that, as glibc would
 * after freeing a block of 32 MiB. The heap's reuse of large blocks during a
 * burst is worth keeping; what it holds afterwards is given back instead by
 * malloc_trim(0), which also releases the whole free pages inside the heap,
 * once the broker is idle: fewer than QUIET_BYTES received and sent since
 * the last check (every CHECK_MS), more than TRIM_SLACK bytes free in the
 * heap, and more than TRIM_SLACK bytes of pages faulted in or of heap freed
 * since the last trim (without that, a heap whose free pages are already
 * given back would be walked again at every check, as the free byte count
 * does not change; the second condition catches memory freed without new
 * faults, such as the buffers of a hundred clients that were in use at the
 * last trim and are freed when they disconnect). The trim walks the heap's
 * free lists, which is why it waits for idleness rather than running during
 * a burst, whose memory would be faulted straight back in. Idle is measured
 * by traffic, not by requests in flight: consumers long-polling an empty
 * topic always have a fetch waiting, and a broker serving only them is idle;
 * and a pause between two fetches of a burst is not.
 *
 * Memory held by libraries is out of malloc_trim's reach: libpq keeps each
 * connection's buffers at their largest size. The caller's on_idle hook,
 * run at every idle check before the trim, lets the pool reopen those
 * connections (pool_shed_buffers).
 *
 * Without glibc, memtrim_start only runs the hook.
 */
#include "memtrim.h"

#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log.h"

#define TRIM_SLACK (4 * 1024 * 1024)
/* glibc's largest dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX). */
#define MMAP_THRESHOLD (32 * 1024 * 1024)
#define CHECK_MS 1000
#define QUIET_BYTES (256 * 1024)

static struct {
	struct event *ev_check;
	uint64_t (*traffic)(void);
	uint64_t traffic_at_check; /* what traffic returned at the last check */
	void (*on_idle)(void);
	unsigned long trims;
	long minflt_at_trim; /* minor page faults when the last trim ran */
	size_t free_at_trim;  /* bytes free in the heap just after it */
} T;

static void on_check(evutil_socket_t fd, short what, void *arg);

void memtrim_start(struct event_base *base, uint64_t (*traffic)(void), void (*on_idle)(void))
{
	struct timeval tv = {CHECK_MS / 1000, (CHECK_MS % 1000) * 1000};

#ifdef __GLIBC__
	if (!mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) ||
	    !mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD))
		log_warn("cannot set malloc's mmap and trim thresholds");
#endif
	T.traffic = traffic;
	T.traffic_at_check = traffic ? traffic() : 0;
	T.on_idle = on_idle;
	T.ev_check = event_new(base, -1, EV_PERSIST, on_check, NULL);
	if (!T.ev_check || event_add(T.ev_check, &tv) < 0)
		log_warn("cannot start the idle memory check");
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
	if (T.traffic) {
		uint64_t now = T.traffic(), moved = now - T.traffic_at_check;
		T.traffic_at_check = now;
		if (moved >= QUIET_BYTES)
			return;
	}
	if (T.on_idle)
		T.on_idle();
#ifdef __GLIBC__
	struct rusage ru;
	long page = sysconf(_SC_PAGESIZE);
	if (getrusage(RUSAGE_SELF, &ru) != 0 || page <= 0)
		return;
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks <= TRIM_SLACK)
		return;
	if (ru.ru_minflt - T.minflt_at_trim <= TRIM_SLACK / page &&
	    mi.fordblks <= T.free_at_trim + TRIM_SLACK)
		return;
	malloc_trim(0);
	T.trims++;
	T.minflt_at_trim = ru.ru_minflt;
	T.free_at_trim = mallinfo2().fordblks;
	log_debug("idle: gave back the heap's free memory (%zu bytes free in %zu)", mi.fordblks,
		  mi.arena);
#endif
}
