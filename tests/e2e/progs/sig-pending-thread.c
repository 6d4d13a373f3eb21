/* Signals pending on one thread only (tgkill, pthread_sigqueue) stay with that thread. */
#include "lib.h"

#include <pthread.h>
#include <time.h>

TEST("signals pending on a second thread stay pending on that thread");

static pid_t tid;
static int ready;
static char sigpnd[32];

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
	sigset_t block;
	siginfo_t si;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 3);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	tid = test_gettid();
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();

	if (take(SIGRTMIN + 3, &si) != SIGRTMIN + 3)
		fail("thread: SIGRTMIN+3 is not pending");
	else if (si.si_code != SI_QUEUE || si.si_value.sival_int != 333)
		fail("thread: SIGRTMIN+3 si_code %d value %d, want SI_QUEUE 333", si.si_code,
		     si.si_value.sival_int);
	if (take(SIGUSR2, &si) != SIGUSR2)
		fail("thread: SIGUSR2 is not pending");
	else if ((si.si_code != SI_TKILL && si.si_code != SI_USER) || si.si_pid != getpid())
		fail("thread: SIGUSR2 si_code %d pid %d, want a tgkill from %d", si.si_code, si.si_pid,
		     getpid());
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	char now[32] = "";

	test_init(argc, argv);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	pthread_sigqueue(th, SIGRTMIN + 3, (union sigval){ .sival_int = 333 });
	pthread_kill(th, SIGUSR2);
	status_field(tid, "SigPnd", sigpnd, sizeof(sigpnd));
	test_ready();
	test_wait();

	status_field(tid, "SigPnd", now, sizeof(now));
	if (strcmp(now, sigpnd))
		fail("thread SigPnd is %s, want %s", now, sigpnd);
	status_field(0, "SigPnd", now, sizeof(now));
	if (strcmp(now, "0000000000000000"))
		fail("main thread SigPnd is %s, want none", now);
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
