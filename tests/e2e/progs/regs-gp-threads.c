/* Every thread's general registers survive, each thread with its own values. */
#include "regs.h"

#include <pthread.h>

TEST("general registers of two running threads, each with its own values");

#define NR_THREADS 2

static struct gp_ctx ctx[NR_THREADS];
static pid_t tids[NR_THREADS];
static int started;

static void *thread(void *arg)
{
	long i = (long)arg;
	char who[32];

	tids[i] = test_gettid();
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	if (gp_loop(&ctx[i])) {
		snprintf(who, sizeof(who), "thread %ld", i);
		gp_report(&ctx[i], who);
	}
	if (test_gettid() != tids[i])
		fail("thread %ld: gettid() is %d, recorded %d", i, (int)test_gettid(), (int)tids[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];

	test_init(argc, argv);
	for (long i = 0; i < NR_THREADS; i++) {
		gp_prepare(&ctx[i], 0x7700 + i);
		if (pthread_create(&th[i], NULL, thread, (void *)i))
			setup_fail("pthread_create");
	}
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NR_THREADS)
		sleep_ms(1);
	test_ready();
	test_wait();
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	test_done();
}
