/* sigaltstack: each thread keeps its alternate signal stack and handlers run on it. */
#include "lib.h"

#include <pthread.h>
#include <sys/mman.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

TEST("alternate signal stacks of two threads, handlers still run on them");

#define MAIN_SIZE (64 << 10)
#define THREAD_SIZE (48 << 10)

static __thread stack_t mine;
static __thread volatile unsigned long handler_sp;
static __thread volatile int handler_flags;
static int ready;

static void on_usr1(int sig)
{
	stack_t ss;
	volatile char here;

	handler_sp = (unsigned long)&here;
	sigaltstack(NULL, &ss);
	handler_flags = ss.ss_flags;
}

static void setup(size_t size, int flags)
{
	mine.ss_sp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mine.ss_size = size;
	mine.ss_flags = flags;
	if (mine.ss_sp == MAP_FAILED || sigaltstack(&mine, NULL) < 0)
		setup_fail("sigaltstack: %s", strerror(errno));
}

static void check(const char *who, int flags)
{
	stack_t ss;

	sigaltstack(NULL, &ss);
	if (ss.ss_sp != mine.ss_sp || ss.ss_size != mine.ss_size || ss.ss_flags != flags)
		fail("%s: altstack %p+%zu flags %#x, want %p+%zu flags %#x", who, ss.ss_sp, ss.ss_size,
		     ss.ss_flags, mine.ss_sp, mine.ss_size, flags);
	handler_sp = 0;
	raise(SIGUSR1);
	unsigned long lo = (unsigned long)mine.ss_sp;
	if (handler_sp < lo || handler_sp >= lo + mine.ss_size)
		fail("%s: the handler ran at %#lx, off the altstack", who, handler_sp);
	else if (!(flags & SS_AUTODISARM) && !(handler_flags & SS_ONSTACK))
		fail("%s: the handler's sigaltstack flags are %#x", who, handler_flags);
}

static void *thread(void *arg)
{
	setup(THREAD_SIZE, SS_AUTODISARM);
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	check("thread", SS_AUTODISARM);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	pthread_t th;

	test_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	setup(MAIN_SIZE, 0);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	test_ready();
	test_wait();
	check("main thread", 0);
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
