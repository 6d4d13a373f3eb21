/* ITIMER_PROF: remaining CPU time close to what was set, interval exact */
#include "lib.h"

#include <sys/time.h>
#include <time.h>

TEST("ITIMER_PROF: remaining CPU time close to what was set, interval exact");

static double secs(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct itimerval set = { .it_value = { 600, 0 }, .it_interval = { 300, 0 } }, now;

	test_init(argc, argv);
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	if (setitimer(ITIMER_PROF, &set, NULL) < 0)
		setup_fail("setitimer: %s", strerror(errno));
	test_ready();
	test_wait();

	double elapsed = (now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	(void)elapsed;
	getitimer(ITIMER_PROF, &now);
	double left = secs(now.it_value), slack = 10.0;
	if (left > 600 + 0.01 || left < 600 - slack)
		fail("%.3f s left, want between %.3f and 600", left, 600 - slack);
	if (secs(now.it_interval) < 300 - 0.001 || secs(now.it_interval) > 300 + 0.001)
		fail("interval is %.6f s, want 300", secs(now.it_interval));
	test_done();
}
