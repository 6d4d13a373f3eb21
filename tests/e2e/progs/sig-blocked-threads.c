/* Every thread keeps its own blocked signal mask. */
#include "lib.h"

#include <pthread.h>

TEST("blocked signal masks, different in each of three threads");

#define NR_THREADS 2

struct mask_state {
	pid_t tid;
	sigset_t mask;
	char sigblk[32]; /* SigBlk: from /proc */
};

static struct mask_state main_state, states[NR_THREADS];
static int ready;

static void block(const int *sigs)
{
	sigset_t set;

	sigemptyset(&set);
	for (; *sigs; sigs++)
		sigaddset(&set, *sigs);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void record(struct mask_state *s)
{
	s->tid = test_gettid();
	pthread_sigmask(SIG_BLOCK, NULL, &s->mask);
}

static void check(const struct mask_state *s, const char *who)
{
	sigset_t now;

	pthread_sigmask(SIG_BLOCK, NULL, &now);
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&now, sig) != sigismember(&s->mask, sig))
			fail("%s: signal %d is %sblocked, want %s", who, sig,
			     sigismember(&now, sig) ? "" : "not ", sigismember(&s->mask, sig) ? "blocked" : "not");
}

static void *thread(void *arg)
{
	long i = (long)arg;
	const int sigs0[] = { SIGUSR2, SIGHUP, SIGRTMIN + 3, 0 };
	const int sigs1[] = { SIGINT, SIGQUIT, SIGALRM, SIGCHLD, SIGRTMAX, 0 };
	char who[32];

	block(i ? sigs1 : sigs0);
	record(&states[i]);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	thread_wait();
	snprintf(who, sizeof(who), "thread %ld", i);
	check(&states[i], who);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];
	const int sigs[] = { SIGUSR1, SIGRTMIN + 1, SIGWINCH, 0 };

	test_init(argc, argv);
	block(sigs);
	record(&main_state);
	for (long i = 0; i < NR_THREADS; i++)
		if (pthread_create(&th[i], NULL, thread, (void *)i))
			setup_fail("pthread_create");
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NR_THREADS)
		sleep_ms(1);
	for (int i = 0; i < NR_THREADS; i++)
		status_field(states[i].tid, "SigBlk", states[i].sigblk, sizeof(states[i].sigblk));
	test_ready();
	test_wait();

	check(&main_state, "main thread");
	for (int i = 0; i < NR_THREADS; i++) {
		char now[32] = "";
		status_field(states[i].tid, "SigBlk", now, sizeof(now));
		if (strcmp(now, states[i].sigblk))
			fail("thread %d: SigBlk is %s, want %s", i, now, states[i].sigblk);
	}
	wake_threads();
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	test_done();
}
