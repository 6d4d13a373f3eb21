/* Four threads keep their tids. */
#include "lib.h"

#include <dirent.h>
#include <pthread.h>

TEST("a process with four threads keeps every tid");

#define NR_THREADS 4

static pid_t tids[NR_THREADS];
static int ready;

static void *thread(void *arg)
{
	long i = (long)arg;

	tids[i] = test_gettid();
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	if (test_gettid() != tids[i])
		fail("thread %ld: gettid() is %d, recorded %d", i, (int)test_gettid(), (int)tids[i]);
	if (getpid() == test_gettid())
		fail("thread %ld: its tid is the pid", i);
	return NULL;
}

static void check_tasks(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");

	if (!d) {
		fail("opendir /proc/self/task: %s", strerror(errno));
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		pid_t tid = atoi(e->d_name);
		int known = tid == getpid();
		for (int i = 0; i < NR_THREADS; i++)
			known |= tid == tids[i];
		if (!known)
			fail("unknown thread %d", (int)tid);
		n++;
	}
	closedir(d);
	if (n != NR_THREADS + 1)
		fail("%d threads, want %d", n, NR_THREADS + 1);
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];

	test_init(argc, argv);
	for (long i = 0; i < NR_THREADS; i++)
		if (pthread_create(&th[i], NULL, thread, (void *)i))
			setup_fail("pthread_create");
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NR_THREADS)
		sleep_ms(1);
	test_ready();
	test_wait();
	check_tasks();
	wake_threads();
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	test_done();
}
