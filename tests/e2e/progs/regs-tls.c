/*
 * Thread pointers: the TLS base of every thread (fs base on x86, tpidr_el0 on
 * aarch64, r13 on ppc64le, a0:a1 on s390x), plus a gs base on x86.
 */
#include "lib.h"

#include <pthread.h>
#if defined(__x86_64__)
#include <asm/prctl.h>
#include <sys/syscall.h>
#endif

TEST("thread pointer (TLS base) of two threads, and the gs base on x86");

static __thread unsigned long tls_value;

static unsigned long thread_pointer(void)
{
	unsigned long tp;
#if defined(__x86_64__)
	syscall(SYS_arch_prctl, ARCH_GET_FS, &tp);
#elif defined(__aarch64__)
	asm volatile("mrs %0, tpidr_el0" : "=r"(tp));
#elif defined(__powerpc64__)
	asm volatile("mr %0, 13" : "=r"(tp));
#elif defined(__s390x__)
	unsigned int hi, lo;
	asm volatile("ear %0, %%a0" : "=d"(hi));
	asm volatile("ear %0, %%a1" : "=d"(lo));
	tp = (unsigned long)hi << 32 | lo;
#else
#error "no thread pointer for this architecture"
#endif
	return tp;
}

struct thread_state {
	unsigned long tp, value;
#if defined(__x86_64__)
	unsigned long gs_area[4];
#endif
};

static void record(struct thread_state *s, unsigned long value)
{
	tls_value = value;
	s->value = value;
	s->tp = thread_pointer();
#if defined(__x86_64__)
	s->gs_area[0] = value ^ 0x6565;
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)s->gs_area) < 0)
		setup_fail("ARCH_SET_GS: %s", strerror(errno));
#endif
}

static void check(const struct thread_state *s, const char *who)
{
	if (thread_pointer() != s->tp)
		fail("%s: thread pointer is %#lx, want %#lx", who, thread_pointer(), s->tp);
	if (tls_value != s->value)
		fail("%s: TLS variable is %#lx, want %#lx", who, tls_value, s->value);
#if defined(__x86_64__)
	unsigned long gs = 0, at_gs;
	syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	if (gs != (unsigned long)s->gs_area)
		fail("%s: gs base is %#lx, want %p", who, gs, (void *)s->gs_area);
	asm volatile("mov %%gs:0, %0" : "=r"(at_gs));
	if (at_gs != s->gs_area[0])
		fail("%s: %%gs:0 reads %#lx, want %#lx", who, at_gs, s->gs_area[0]);
#endif
}

static struct thread_state main_state, thread_state;
static int thread_ready;

static void *thread(void *arg)
{
	record(&thread_state, 0x7e7e7e7e);
	__atomic_store_n(&thread_ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	check(&thread_state, "thread");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	test_init(argc, argv);
	record(&main_state, 0x3a3a3a3a);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&thread_ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	if (thread_state.tp == main_state.tp)
		setup_fail("both threads have the same thread pointer");
	test_ready();
	test_wait();
	check(&main_state, "main thread");
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
