/*
 * A process that refuses writable and executable mappings (PR_SET_MDWE)
 * takes no parasite: criu reads its state through injected syscalls and its
 * pages through /proc/PID/mem.  Signal actions, rlimits, an itimer, the
 * alternate stacks of two threads and memory must survive all the same.
 * (The MDWE flag itself is not in the images: the restored process runs
 * without it, and this program does not check it.)
 */
#include "lib.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>

#define PR_SET_MDWE_ 65
#define PR_GET_MDWE_ 66
#define PR_MDWE_REFUSE_EXEC_GAIN_ 1

static const char *no_mdwe(void);
TEST("state and memory of a process that takes no parasite (PR_SET_MDWE)", .skip = no_mdwe);

#define ALT_MAIN (40 << 10)
#define ALT_THREAD (24 << 10)
#define HEAP_WORDS (1 << 16)

static const char *no_mdwe(void)
{
	if (prctl(PR_GET_MDWE_, 0, 0, 0, 0) < 0)
		return "the kernel has no PR_SET_MDWE (Linux 6.3)";
	return NULL;
}

static __thread stack_t mine;
static int ready;

static void on_usr1(int sig)
{
}

static void set_altstack(size_t size)
{
	mine.ss_sp = malloc(size);
	mine.ss_size = size;
	if (!mine.ss_sp || sigaltstack(&mine, NULL) < 0)
		setup_fail("sigaltstack: %s", strerror(errno));
}

static void check_altstack(const char *who)
{
	stack_t ss;

	if (sigaltstack(NULL, &ss) || ss.ss_sp != mine.ss_sp || ss.ss_size != mine.ss_size)
		fail("%s: altstack %p+%zu, want %p+%zu", who, ss.ss_sp, ss.ss_size, mine.ss_sp,
		     mine.ss_size);
}

static void *thread(void *arg)
{
	set_altstack(ALT_THREAD);
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	check_altstack("thread");
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK | SA_RESTART }, now;
	struct itimerval it = { { 3000, 0 }, { 3000, 0 } }, itn;
	struct rlimit rl = { 123, 456 }, rln;
	uint64_t *heap = malloc(HEAP_WORDS * sizeof(*heap));
	pthread_t th;

	test_init(argc, argv);
	if (!heap)
		setup_fail("malloc");
	for (size_t i = 0; i < HEAP_WORDS; i++)
		heap[i] = i * 0x9e3779b97f4a7c15ULL;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) || setrlimit(RLIMIT_NOFILE, &rl) ||
	    setitimer(ITIMER_REAL, &it, NULL))
		setup_fail("sigaction, setrlimit or setitimer: %s", strerror(errno));
	set_altstack(ALT_MAIN);
	if (pthread_create(&th, NULL, thread, NULL))
		setup_fail("pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	if (prctl(PR_SET_MDWE_, PR_MDWE_REFUSE_EXEC_GAIN_, 0, 0, 0))
		setup_fail("PR_SET_MDWE: %s", strerror(errno));
	test_ready();
	test_wait();

	check_altstack("main thread");
	wake_threads();
	pthread_join(th, NULL);
	if (sigaction(SIGUSR1, NULL, &now) || now.sa_handler != on_usr1 ||
	    !(now.sa_flags & SA_ONSTACK) || !sigismember(&now.sa_mask, SIGUSR2))
		fail("the action of SIGUSR1 changed");
	if (getrlimit(RLIMIT_NOFILE, &rln) || rln.rlim_cur != 123 || rln.rlim_max != 456)
		fail("RLIMIT_NOFILE is %llu/%llu, want 123/456", (unsigned long long)rln.rlim_cur,
		     (unsigned long long)rln.rlim_max);
	if (getitimer(ITIMER_REAL, &itn) || itn.it_interval.tv_sec != 3000 ||
	    itn.it_value.tv_sec == 0)
		fail("ITIMER_REAL changed");
	for (size_t i = 0; i < HEAP_WORDS; i++)
		if (heap[i] != i * 0x9e3779b97f4a7c15ULL) {
			fail("heap word %zu changed", i);
			break;
		}
	test_done();
}
