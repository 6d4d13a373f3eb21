/* ITIMER_VIRTUAL: remaining user CPU time close to what was set, interval exact */
#include "lib.h"

#include <sys/time.h>
#include <time.h>

TEST("ITIMER_VIRTUAL: remaining user CPU time close to what was set, interval exact");

static double secs(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct itimerval set = { .it_value = { 500, 0 }, .it_interval = { 250, 0 } }, now;

	test_init(argc, argv);
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	if (setitimer(ITIMER_VIRTUAL, &set, NULL) < 0)
		setup_fail("setitimer: %s", strerror(errno));
	test_ready();
	test_wait();

	double elapsed = (now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	(void)elapsed;
	getitimer(ITIMER_VIRTUAL, &now);
	double left = secs(now.it_value), slack = 10.0;
	if (left > 500 + 0.01 || left < 500 - slack)
		fail("%.3f s left, want between %.3f and 500", left, 500 - slack);
	if (secs(now.it_interval) < 250 - 0.001 || secs(now.it_interval) > 250 + 0.001)
		fail("interval is %.6f s, want 250", secs(now.it_interval));
	test_done();
}
