/*
 * POSIX timers keep their ids, clocks, notification (signal, value, thread)
 * and remaining time; /proc/self/timers reads the same.
 */
#include "lib.h"

#include <time.h>

TEST("POSIX timers: ids, clocks, signals, values, target thread and remaining time");

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

struct timer {
	clockid_t clock;
	int notify, sig, value;
	time_t value_s, interval_s;
	timer_t id;
};

static struct timer timers[] = {
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 36, 0xabc, 1000, 500 },
	{ CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR2, 0x123, 0, 0 }, /* disarmed */
	{ CLOCK_BOOTTIME, SIGEV_THREAD_ID, 37, 0x456, 700, 0 },
	{ CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, 0, 0, 300, 0 },
};

static char proc_timers[4096];

int main(int argc, char **argv)
{
	test_init(argc, argv);
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < ARRAY_SIZE(timers); i++) {
		struct timer *t = &timers[i];
		struct sigevent sev = { .sigev_notify = t->notify, .sigev_signo = t->sig,
					.sigev_value.sival_int = t->value };
		if (t->notify == SIGEV_THREAD_ID)
			sev.sigev_notify_thread_id = test_gettid();
		struct itimerspec its = { .it_value = { t->value_s, 0 }, .it_interval = { t->interval_s, 0 } };
		if (timer_create(t->clock, &sev, &t->id) < 0 || timer_settime(t->id, 0, &its, NULL) < 0)
			setup_fail("timer %u: %s", i, strerror(errno));
	}
	read_text("/proc/self/timers", proc_timers, sizeof(proc_timers));
	test_ready();
	test_wait();

	double elapsed = (now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	for (unsigned i = 0; i < ARRAY_SIZE(timers); i++) {
		struct timer *t = &timers[i];
		struct itimerspec its;
		if (timer_gettime(t->id, &its) < 0) {
			fail("timer %u (id %p) is gone: %s", i, t->id, strerror(errno));
			continue;
		}
		double left = its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
		double slack = t->clock == CLOCK_PROCESS_CPUTIME_ID ? 10 : elapsed + 1;
		if (t->value_s ? left > t->value_s + 0.01 || left < t->value_s - slack : left != 0)
			fail("timer %u: %.3f s left, want %ld (less at most %.3f)", i, left,
			     (long)t->value_s, slack);
		if (its.it_interval.tv_sec != t->interval_s || its.it_interval.tv_nsec)
			fail("timer %u: interval %ld.%09ld, want %ld", i, (long)its.it_interval.tv_sec,
			     its.it_interval.tv_nsec, (long)t->interval_s);
	}
	char now[4096] = "";
	read_text("/proc/self/timers", now, sizeof(now));
	if (strcmp(now, proc_timers))
		fail("/proc/self/timers differs: now '%s', was '%s'", now, proc_timers);
	test_done();
}
