/*
 * timerfds keep their clock, the time left, the interval, the settime
 * flags and the expirations not yet read:
 *   soon      CLOCK_MONOTONIC, 4 s one-shot: fires after restore within its time
 *             left (or, when dump and restore took longer, has fired once)
 *   abs       CLOCK_REALTIME, TFD_TIMER_ABSTIME, 100 s ahead, every 7 s
 *   boot      CLOCK_BOOTTIME, 300 s, every 1.5 s, O_NONBLOCK
 *   fired     a one-shot that expired unread: 1 tick, disarmed
 *   missed    an hourly timer whose first expiry passed unread: 1 tick,
 *             next one in less than an hour
 *   many      every 10 ms, unread since setup: at least as many ticks as
 *             had passed at dump
 *   off       never armed
 */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <time.h>

TEST("timerfds: clocks, time left, intervals, TFD_TIMER_ABSTIME, unread expirations");

static int soon, abs_t, boot, fired, missed, many, off;

static int mk(int clock, int flags)
{
	int fd = timerfd_create(clock, flags);

	if (fd < 0)
		setup_fail("timerfd_create(%d): %s", clock, strerror(errno));
	return fd;
}

static void set(int fd, int flags, time_t vs, long vns, time_t is, long ins)
{
	struct itimerspec its = { .it_value = { vs, vns }, .it_interval = { is, ins } };

	if (timerfd_settime(fd, flags, &its, NULL))
		setup_fail("timerfd_settime: %s", strerror(errno));
}

static double left(int fd, double *interval)
{
	struct itimerspec its;

	if (timerfd_gettime(fd, &its)) {
		fail("timerfd_gettime: %s", strerror(errno));
		return -1;
	}
	if (interval)
		*interval = its.it_interval.tv_sec + its.it_interval.tv_nsec / 1e9;
	return its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
}

/* the expirations not yet read (0 when none, the fd being non-blocking or polled) */
static uint64_t ticks(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, wait_ms) != 1)
		return 0;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		fail("read: %s", strerror(errno));
	return n;
}

static int clock_of(int fd)
{
	char path[64], text[512], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_text(path, text, sizeof(text)) < 0 || !(p = strstr(text, "clockid:")))
		return -1;
	return atoi(p + 8);
}

static unsigned settime_flags(int fd)
{
	char path[64], text[512], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_text(path, text, sizeof(text)) < 0 || !(p = strstr(text, "settime flags:")))
		return ~0u;
	return (unsigned)strtoul(p + 14, NULL, 8);
}

int main(int argc, char **argv)
{
	struct timespec now;
	uint64_t many_at_dump;
	double l, iv;

	test_init(argc, argv);
	soon = mk(CLOCK_MONOTONIC, 0);
	abs_t = mk(CLOCK_REALTIME, 0);
	boot = mk(CLOCK_BOOTTIME, TFD_NONBLOCK);
	fired = mk(CLOCK_MONOTONIC, 0);
	missed = mk(CLOCK_MONOTONIC, 0);
	many = mk(CLOCK_MONOTONIC, 0);
	off = mk(CLOCK_MONOTONIC, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	set(soon, 0, 4, 0, 0, 0);
	set(abs_t, TFD_TIMER_ABSTIME, now.tv_sec + 100, now.tv_nsec, 7, 0);
	set(boot, 0, 300, 0, 1, 500000000);
	set(fired, 0, 0, 5000000, 0, 0);
	set(missed, 0, 0, 5000000, 3600, 0);
	set(many, 0, 0, 10000000, 0, 10000000);
	sleep_ms(150);
	test_ready();
	test_wait();
	/* at least this many had passed when the dump was taken */
	many_at_dump = 12;

	l = left(soon, &iv);
	if (l < 0 || l > 4.0 || iv != 0)
		fail("soon: %.3f s left every %.3f s, want [0, 4] once", l, iv);
	else if (l == 0) {
		if (ticks(soon, 0) != 1)
			fail("soon: no time left, and not fired");
	} else {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t n = ticks(soon, (int)(l * 1000) + 1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (n != 1)
			fail("soon: %llu expirations, want 1", (unsigned long long)n);
		else if (took > l + 0.5)
			fail("soon: fired after %.3f s, with %.3f s left", took, l);
	}
	l = left(abs_t, &iv);
	if (l <= 0 || l > 100.0 || iv != 7.0)
		fail("abs: %.3f s left every %.3f s, want (0, 100] every 7", l, iv);
	if (settime_flags(abs_t) != TFD_TIMER_ABSTIME)
		fail("abs: settime flags %#o, want TFD_TIMER_ABSTIME", settime_flags(abs_t));
	if (clock_of(abs_t) != CLOCK_REALTIME || clock_of(boot) != CLOCK_BOOTTIME ||
	    clock_of(soon) != CLOCK_MONOTONIC)
		fail("a clock changed: %d %d %d", clock_of(abs_t), clock_of(boot), clock_of(soon));
	l = left(boot, &iv);
	if (l <= 0 || l > 300.0 || iv != 1.5)
		fail("boot: %.3f s left every %.3f s, want (0, 300] every 1.5", l, iv);
	if (!(fcntl(boot, F_GETFL) & O_NONBLOCK) || (fcntl(soon, F_GETFL) & O_NONBLOCK))
		fail("the status flags changed");
	uint64_t n = ticks(fired, 0);
	if (n != 1)
		fail("fired: %llu unread expirations, want 1", (unsigned long long)n);
	if (left(fired, &iv) != 0 || iv != 0)
		fail("fired: armed again");
	n = ticks(missed, 0);
	if (n != 1)
		fail("missed: %llu unread expirations, want 1", (unsigned long long)n);
	l = left(missed, &iv);
	if (l <= 0 || l > 3600 || iv != 3600)
		fail("missed: %.3f s left every %.3f s, want (0, 3600] every 3600", l, iv);
	n = ticks(many, 0);
	if (n < many_at_dump)
		fail("many: %llu unread expirations, want at least %llu", (unsigned long long)n,
		     (unsigned long long)many_at_dump);
	if (ticks(many, 1000) < 1)
		fail("many: no expiration in the second after restore");
	if (left(off, &iv) != 0 || iv != 0 || ticks(off, 0))
		fail("off: armed");
	test_done();
}
