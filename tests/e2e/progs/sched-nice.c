/* Nice values, per thread, and the batch and idle policies stay set. */
#include "lib.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

TEST("the main thread SCHED_BATCH at nice 5, a thread SCHED_IDLE at nice 12, one "
     "SCHED_OTHER at nice 9");

#define NR_THREADS 2

static const int want_policy[NR_THREADS] = { SCHED_IDLE, SCHED_OTHER };
static const int want_nice[NR_THREADS] = { 12, 9 };
static pid_t tids[NR_THREADS];
static int ready;

static void check(const char *who, pid_t tid, int policy, int nice)
{
	struct sched_param sp;
	int p = sched_getscheduler(tid);

	errno = 0;
	int n = getpriority(PRIO_PROCESS, (id_t)tid);
	if (p != policy)
		fail("%s: policy %d, want %d", who, p, policy);
	if (errno || n != nice)
		fail("%s: nice %d, want %d", who, n, nice);
	if (sched_getparam(tid, &sp) || sp.sched_priority)
		fail("%s: priority %d, want 0", who, sp.sched_priority);
}

static void *thread(void *arg)
{
	long i = (long)arg;
	struct sched_param sp = { 0 };

	tids[i] = test_gettid();
	if (setpriority(PRIO_PROCESS, (id_t)tids[i], want_nice[i]) ||
	    sched_setscheduler(tids[i], want_policy[i], &sp))
		setup_fail("thread %ld: can't set its scheduling: %s", i, strerror(errno));
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	char who[32];
	snprintf(who, sizeof(who), "thread %ld", i);
	check(who, test_gettid(), want_policy[i], want_nice[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];
	struct sched_param sp = { 0 };

	test_init(argc, argv);
	for (long i = 0; i < NR_THREADS; i++)
		if (pthread_create(&th[i], NULL, thread, (void *)i))
			setup_fail("pthread_create");
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NR_THREADS)
		sleep_ms(1);
	if (setpriority(PRIO_PROCESS, 0, 5) || sched_setscheduler(0, SCHED_BATCH, &sp))
		setup_fail("can't set the main thread's scheduling: %s", strerror(errno));
	test_ready();
	test_wait();
	check("the main thread", 0, SCHED_BATCH, 5);
	wake_threads();
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	test_done();
}
