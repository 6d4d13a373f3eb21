/* A periodic POSIX timer keeps firing after restore, with its signal and value. */
#include "lib.h"

#include <time.h>

TEST("a 20 ms periodic POSIX timer keeps firing with its value");

static volatile int fired, bad_value;
static timer_t id;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 0x7e57)
		bad_value = 1;
	fired++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 3,
				.sigev_value.sival_int = 0x7e57 };
	struct itimerspec its = { .it_value = { 0, 20000000 }, .it_interval = { 0, 20000000 } };

	test_init(argc, argv);
	sigaction(SIGRTMIN + 3, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &id) < 0 || timer_settime(id, 0, &its, NULL) < 0)
		setup_fail("timer: %s", strerror(errno));
	while (fired < 3)
		sleep_ms(10);
	test_ready();
	test_wait();

	int before = fired;
	for (int i = 0; i < 100 && fired < before + 5; i++)
		sleep_ms(10);
	if (fired < before + 5)
		fail("the timer fired %d times in 1 s, want 5 or more", fired - before);
	if (bad_value)
		fail("the timer's siginfo lost its code or value");
	struct itimerspec now;
	if (timer_gettime(id, &now) < 0 || now.it_interval.tv_nsec != 20000000)
		fail("the timer's interval changed");
	test_done();
}
