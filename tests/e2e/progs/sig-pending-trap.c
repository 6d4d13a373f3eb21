/*
 * SIGTRAP pending while blocked, on the process (kill) and on a second
 * thread (tgkill), next to a pending SIGCHLD and SIGCONT: criu's own
 * traps must not eat or add any of them.
 */
#include "lib.h"

#include <pthread.h>
#include <time.h>

TEST("a pending SIGTRAP (shared and per thread) and SIGCHLD/SIGCONT stay pending as they were");

static pid_t tid;
static int ready;
static char thread_pnd[32];

static int take(int sig, siginfo_t *si)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &zero);
}

static void *thread(void *arg)
{
	tid = test_gettid();
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();

	siginfo_t si;
	if (take(SIGTRAP, &si) != SIGTRAP)
		fail("thread: its SIGTRAP is not pending");
	else if ((si.si_code != SI_TKILL && si.si_code != SI_USER) || si.si_pid != getpid())
		fail("thread: SIGTRAP si_code %d pid %d, want SI_TKILL from %d", si.si_code, si.si_pid,
		     getpid());
	if (take(SIGTRAP, &si) > 0)
		fail("thread: a second SIGTRAP is pending");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	sigset_t block;
	char shd[32], pnd[32], now[32] = "";

	test_init(argc, argv);
	sigemptyset(&block);
	sigaddset(&block, SIGTRAP);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGCONT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	sigqueue(getpid(), SIGTRAP, (union sigval){ .sival_int = 77 });
	pthread_kill(th, SIGTRAP);
	kill(getpid(), SIGCHLD);
	sleep_ms(10);
	status_field(0, "ShdPnd", shd, sizeof(shd));
	status_field(0, "SigPnd", pnd, sizeof(pnd));
	status_field(tid, "SigPnd", thread_pnd, sizeof(thread_pnd));
	test_ready();
	test_wait();

	status_field(0, "ShdPnd", now, sizeof(now));
	if (strcmp(now, shd))
		fail("ShdPnd is %s, want %s", now, shd);
	status_field(0, "SigPnd", now, sizeof(now));
	if (strcmp(now, pnd))
		fail("main SigPnd is %s, want %s", now, pnd);
	status_field(tid, "SigPnd", now, sizeof(now));
	if (strcmp(now, thread_pnd))
		fail("thread SigPnd is %s, want %s", now, thread_pnd);
	siginfo_t si;
	if (take(SIGTRAP, &si) != SIGTRAP)
		fail("the process's SIGTRAP is not pending");
	else if (si.si_code != SI_QUEUE || si.si_value.sival_int != 77 || si.si_pid != getpid())
		fail("SIGTRAP si_code %d value %d pid %d, want SI_QUEUE 77 from %d", si.si_code,
		     si.si_value.sival_int, si.si_pid, getpid());
	if (take(SIGCHLD, &si) != SIGCHLD)
		fail("SIGCHLD is not pending");
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
