/*
 * Pending signals, raised while blocked: shared by the process (kill,
 * sigqueue twice for an RT signal) and private to the main thread (tgkill).
 */
#include "lib.h"

#include <time.h>

TEST("pending signals of the process and of the main thread, with their siginfo");

static int take(int sig, siginfo_t *si)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &zero);
}

int main(int argc, char **argv)
{
	sigset_t block;
	char shdpnd[32], sigpnd[32];

	test_init(argc, argv);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 111 });
	sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 222 });
	raise(SIGUSR2); /* tgkill: pending on this thread only */
	status_field(0, "ShdPnd", shdpnd, sizeof(shdpnd));
	status_field(0, "SigPnd", sigpnd, sizeof(sigpnd));
	test_ready();
	test_wait();

	char now[32] = "";
	status_field(0, "ShdPnd", now, sizeof(now));
	if (strcmp(now, shdpnd))
		fail("ShdPnd is %s, want %s", now, shdpnd);
	status_field(0, "SigPnd", now, sizeof(now));
	if (strcmp(now, sigpnd))
		fail("SigPnd is %s, want %s", now, sigpnd);

	siginfo_t si;
	if (take(SIGUSR1, &si) != SIGUSR1)
		fail("SIGUSR1 is not pending");
	else if (si.si_code != SI_USER || si.si_pid != getpid())
		fail("SIGUSR1: si_code %d si_pid %d, want SI_USER from %d", si.si_code, si.si_pid, getpid());
	for (int want = 111; want <= 222; want += 111) {
		if (take(SIGRTMIN + 2, &si) != SIGRTMIN + 2)
			fail("SIGRTMIN+2 with value %d is not pending", want);
		else if (si.si_code != SI_QUEUE || si.si_value.sival_int != want || si.si_pid != getpid())
			fail("SIGRTMIN+2: si_code %d value %d pid %d, want SI_QUEUE %d", si.si_code,
			     si.si_value.sival_int, si.si_pid, want);
	}
	if (take(SIGRTMIN + 2, &si) >= 0)
		fail("SIGRTMIN+2 is queued more than twice");
	if (take(SIGUSR2, &si) != SIGUSR2)
		fail("SIGUSR2 is not pending on the main thread");
	else if ((si.si_code != SI_TKILL && si.si_code != SI_USER) || si.si_pid != getpid())
		fail("SIGUSR2: si_code %d pid %d, want a tgkill from %d", si.si_code, si.si_pid, getpid());
	test_done();
}
