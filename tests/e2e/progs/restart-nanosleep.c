/*
 * Sleeps that the dump interrupts go on through their restart block: a
 * nanosleep in a second thread (a visit of the parasite), a
 * clock_nanosleep in the main thread (the parasite's own), and a timed
 * futex wait in a third.  After dump -R the original must not see EINTR
 * at all, and each sleep lasts at least as long as asked.  A restored
 * process may see EINTR once (upstream's behaviour: the restart block is
 * kernel state that no image holds); it then sleeps the rest, and the
 * whole still lasts as long as asked.
 */
#include "lib.h"

#include <linux/futex.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

TEST("nanosleep, clock_nanosleep and a timed futex wait, interrupted by the dump, go on "
     "without EINTR in the original after dump -R, and last as long as asked everywhere");

#define SLEEP_NS 2500000000LL

static long long mono_ns(void)
{
	return (long long)now_ns(CLOCK_MONOTONIC);
}

/* The process start time (field 22 of /proc/self/stat): new after a restore. */
static unsigned long long start_time(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		for (int field = 3; p && field <= 22; field++) {
			p = strchr(p + 1, ' ');
			if (p && field == 22)
				v = strtoull(p + 1, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

struct sleeper {
	int eintr;     /* EINTRs seen */
	long long took; /* ns */
	int err;       /* another error */
};

static struct sleeper s_nano, s_clock, s_futex;
static int futex_word;

static void *nano_thread(void *arg)
{
	struct timespec req = { SLEEP_NS / 1000000000LL, SLEEP_NS % 1000000000LL }, rem;
	long long t0 = mono_ns();

	while (nanosleep(&req, &rem)) {
		if (errno != EINTR) {
			s_nano.err = errno;
			break;
		}
		s_nano.eintr++;
		req = rem;
	}
	s_nano.took = mono_ns() - t0;
	return NULL;
}

static void *futex_thread(void *arg)
{
	long long t0 = mono_ns(), left;
	struct timespec ts;

	for (;;) {
		left = SLEEP_NS - (mono_ns() - t0);
		if (left <= 0)
			break;
		ts.tv_sec = left / 1000000000LL;
		ts.tv_nsec = left % 1000000000LL;
		if (!syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0))
			continue; /* a spurious wake: wait the rest */
		if (errno == ETIMEDOUT)
			break;
		if (errno == EINTR)
			s_futex.eintr++;
		else if (errno != EAGAIN) {
			s_futex.err = errno;
			break;
		}
	}
	s_futex.took = mono_ns() - t0;
	return NULL;
}

/*
 * compel keeps the restart block of the threads the parasite ran in on
 * x86_64 only (compel_arch_rest_by_ptrace(); docs/dump-restore.md): the
 * other arches' originals still see the one EINTR.
 */
#if defined(__x86_64__)
#define ORIGINAL_EINTR 0
#else
#define ORIGINAL_EINTR 1
#endif

static void check(const char *what, const struct sleeper *s, bool restored)
{
	if (s->err)
		fail("%s: %s", what, strerror(s->err));
	if (s->took < SLEEP_NS)
		fail("%s lasted %lld ms, asked %lld", what, s->took / 1000000, SLEEP_NS / 1000000);
	if (s->eintr > (restored ? 1 : ORIGINAL_EINTR))
		fail("%s saw EINTR %d times %s", what, s->eintr,
		     restored ? "after a restore" : "in the original after the dump");
}

int main(int argc, char **argv)
{
	struct timespec req = { SLEEP_NS / 1000000000LL, SLEEP_NS % 1000000000LL }, rem;
	unsigned long long started;
	pthread_t a, b;
	long long t0;
	int r;

	test_init(argc, argv);
	started = start_time();
	if (pthread_create(&a, NULL, nano_thread, NULL) ||
	    pthread_create(&b, NULL, futex_thread, NULL))
		setup_fail("pthread_create");
	test_ready();
	t0 = mono_ns();
	while ((r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem))) {
		if (r != EINTR) {
			s_clock.err = r;
			break;
		}
		s_clock.eintr++;
		req = rem;
	}
	s_clock.took = mono_ns() - t0;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	test_wait();
	bool restored = start_time() != started;
	check("clock_nanosleep in the main thread", &s_clock, restored);
	check("nanosleep in a thread", &s_nano, restored);
	check("a timed futex wait in a thread", &s_futex, restored);
	test_done();
}
