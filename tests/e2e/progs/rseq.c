/*
 * rseq registration (glibc registers every thread; if it did not, we do)
 * stays in place: registering the same area again must fail with EBUSY.
 */
#include "lib.h"

#include <pthread.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

static const char *no_rseq(void)
{
	if (syscall(__NR_rseq, NULL, 0, 0, 0) < 0 && errno == ENOSYS)
		return "the kernel has no rseq";
	return NULL;
}

TEST("rseq registration of two threads: same area, length and signature", .skip = no_rseq);

struct reg {
	void *area;
	uint32_t len, sig;
};

static __thread struct rseq own_area __attribute__((aligned(32)));

/* 1: registered with exactly this; 0: was not (it is now); <0: -errno */
static int try_register(const struct reg *r)
{
	if (syscall(__NR_rseq, r->area, r->len, 0, r->sig) == 0)
		return 0;
	return errno == EBUSY ? 1 : -errno;
}

static void find_registration(struct reg *r)
{
	const uint32_t lens[] = { __rseq_size, 32, 20, 64, 128, 256 };

	r->sig = RSEQ_SIG;
	if (__rseq_size) {
		r->area = (char *)test_thread_pointer() + __rseq_offset;
		for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
			r->len = lens[i];
			if (lens[i] && try_register(r) == 1)
				return;
		}
		setup_fail("cannot find glibc's rseq registration");
	}
	r->area = &own_area;
	r->len = sizeof(own_area);
	if (try_register(r) != 0)
		setup_fail("rseq: %s", strerror(errno));
}

static void check(const struct reg *r, const char *who)
{
	int res = try_register(r);

	if (res == 0)
		fail("%s: rseq was not registered", who);
	else if (res == -EINVAL)
		fail("%s: rseq is registered with another area or length", who);
	else if (res == -EPERM)
		fail("%s: rseq is registered with another signature", who);
	else if (res < 0)
		fail("%s: rseq: %s", who, strerror(-res));
	sched_yield();
	int cpu = (int)((volatile struct rseq *)r->area)->cpu_id;
	if (cpu < 0)
		fail("%s: the kernel does not update rseq cpu_id (%d)", who, cpu);
}

static struct reg main_reg, thread_reg;
static int ready;

static void *thread(void *arg)
{
	find_registration(&thread_reg);
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	check(&thread_reg, "thread");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	test_init(argc, argv);
	if (no_rseq())
		setup_fail("%s", no_rseq());
	find_registration(&main_reg);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	test_ready();
	test_wait();
	check(&main_reg, "main thread");
	wake_threads();
	pthread_join(th, NULL);
	test_done();
}
