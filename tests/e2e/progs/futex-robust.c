/*
 * The robust futex list of each thread (set_robust_list): glibc's list of
 * the main thread, and one of our own on a second thread that holds a
 * robust mutex.  After restore the kernel still knows both: the second
 * thread ending with the mutex held hands it over as EOWNERDEAD.
 */
#include "lib.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>

TEST("robust futex lists per thread: a dead owner's robust mutex gives EOWNERDEAD");

static pthread_mutex_t robust;
static pid_t tid;
static int ready;
static struct robust_list_head *want_head[2];
static size_t want_len[2];

static int get_list(pid_t t, struct robust_list_head **head, size_t *len)
{
	return (int)syscall(SYS_get_robust_list, t, head, len);
}

static void *holder(void *arg)
{
	tid = test_gettid();
	if (pthread_mutex_lock(&robust))
		setup_fail("lock the robust mutex");
	get_list(0, &want_head[1], &want_len[1]);
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();

	struct robust_list_head *head;
	size_t len;
	if (get_list(0, &head, &len) || head != want_head[1] || len != want_len[1])
		fail("thread: robust list %p/%zu, want %p/%zu", (void *)head, len, (void *)want_head[1],
		     want_len[1]);
	return NULL; /* ends holding the mutex */
}

int main(int argc, char **argv)
{
	pthread_mutexattr_t attr;
	pthread_t th;

	test_init(argc, argv);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &attr);
	if (get_list(0, &want_head[0], &want_len[0]) || !want_head[0])
		setup_fail("get_robust_list: %s", strerror(errno));
	if (pthread_create(&th, NULL, holder, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	test_ready();
	test_wait();

	struct robust_list_head *head;
	size_t len;
	if (get_list(0, &head, &len) || head != want_head[0] || len != want_len[0])
		fail("main: robust list %p/%zu, want %p/%zu", (void *)head, len, (void *)want_head[0],
		     want_len[0]);
	if (get_list(tid, &head, &len) || head != want_head[1])
		fail("thread %d seen from main: robust list %p, want %p", (int)tid, (void *)head,
		     (void *)want_head[1]);
	wake_threads();
	pthread_join(th, NULL);
	int r = pthread_mutex_trylock(&robust);
	if (r != EOWNERDEAD)
		fail("the dead thread's robust mutex: %s, want EOWNERDEAD", strerror(r));
	test_done();
}
