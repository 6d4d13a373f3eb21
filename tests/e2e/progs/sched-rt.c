/* Real-time policies keep their priorities, and reset-on-fork its flag. */
#include "lib.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

TEST("the main thread SCHED_FIFO priority 3 at nice -4, a thread SCHED_RR priority 7 "
     "with SCHED_RESET_ON_FORK",
     .flags = TEST_NEEDS_ROOT);

static pid_t tid;
static int ready;

static void check(const char *who, pid_t t, int policy, int prio, int nice)
{
	struct sched_param sp;
	int p = sched_getscheduler(t);

	errno = 0;
	int n = getpriority(PRIO_PROCESS, (id_t)t);
	if (p != policy)
		fail("%s: policy %#x, want %#x", who, p, policy);
	if (sched_getparam(t, &sp) || sp.sched_priority != prio)
		fail("%s: priority %d, want %d", who, sp.sched_priority, prio);
	if (errno || n != nice)
		fail("%s: nice %d, want %d", who, n, nice);
}

static void *thread(void *arg)
{
	struct sched_param sp = { .sched_priority = 7 };

	tid = test_gettid();
	if (sched_setscheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, &sp))
		setup_fail("thread: can't set SCHED_RR: %s", strerror(errno));
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	check("the thread", test_gettid(), SCHED_RR | SCHED_RESET_ON_FORK, 7, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	struct sched_param sp = { .sched_priority = 3 };

	test_init(argc, argv);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	if (setpriority(PRIO_PROCESS, 0, -4) || sched_setscheduler(0, SCHED_FIFO, &sp))
		setup_fail("can't set SCHED_FIFO: %s", strerror(errno));
	test_ready();
	test_wait();
	check("the main thread", 0, SCHED_FIFO, 3, -4);
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
