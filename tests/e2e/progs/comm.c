/* Process and thread names (comm) set with prctl and pthread_setname_np. */
#include "lib.h"

#include <pthread.h>
#include <sys/prctl.h>

TEST("the names (comm) of the main thread and of a second thread");

#define MAIN_NAME "cr-comm-main"
#define THREAD_NAME "cr-comm-thread"

static pid_t tid;
static int ready;

static void *thread(void *arg)
{
	tid = test_gettid();
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	return NULL;
}

static void check(pid_t t, const char *want)
{
	char path[64], name[32] = "";

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)t);
	read_text(path, name, sizeof(name));
	name[strcspn(name, "\n")] = 0;
	if (strcmp(name, want))
		fail("thread %d is named '%s', want '%s'", (int)t, name, want);
}

int main(int argc, char **argv)
{
	pthread_t th;
	char name[16] = "";

	test_init(argc, argv);
	if (prctl(PR_SET_NAME, MAIN_NAME) < 0)
		setup_fail("PR_SET_NAME: %s", strerror(errno));
	if (pthread_create(&th, NULL, thread, NULL) || pthread_setname_np(th, THREAD_NAME))
		setup_fail("thread");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	test_ready();
	test_wait();
	prctl(PR_GET_NAME, name);
	if (strcmp(name, MAIN_NAME))
		fail("PR_GET_NAME is '%s', want '%s'", name, MAIN_NAME);
	check(getpid(), MAIN_NAME);
	check(tid, THREAD_NAME);
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
