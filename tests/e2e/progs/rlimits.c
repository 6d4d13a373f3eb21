/* Resource limits, lowered soft and hard, stay as set. */
#include "lib.h"

#include <sys/resource.h>

TEST("lowered soft and hard resource limits");

static const struct {
	int res;
	const char *name;
	rlim_t soft, hard; /* RLIM_INFINITY: leave it */
} limits[] = {
	{ RLIMIT_NOFILE, "NOFILE", 777, RLIM_INFINITY },
	{ RLIMIT_CORE, "CORE", 4096, 1 << 20 },
	{ RLIMIT_CPU, "CPU", 100000, 200000 },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 65536, RLIM_INFINITY },
	{ RLIMIT_SIGPENDING, "SIGPENDING", 1000, RLIM_INFINITY },
	{ RLIMIT_LOCKS, "LOCKS", 500, 1000 },
	{ RLIMIT_FSIZE, "FSIZE", 1ul << 30, 2ul << 30 },
};

static struct rlimit want[ARRAY_SIZE(limits)];

int main(int argc, char **argv)
{
	test_init(argc, argv);
	for (unsigned i = 0; i < ARRAY_SIZE(limits); i++) {
		struct rlimit rl;
		getrlimit(limits[i].res, &rl);
		if (limits[i].hard != RLIM_INFINITY && limits[i].hard < rl.rlim_max)
			rl.rlim_max = limits[i].hard;
		rl.rlim_cur = limits[i].soft < rl.rlim_max ? limits[i].soft : rl.rlim_max;
		if (setrlimit(limits[i].res, &rl) < 0)
			setup_fail("setrlimit %s: %s", limits[i].name, strerror(errno));
		want[i] = rl;
	}
	test_ready();
	test_wait();
	for (unsigned i = 0; i < ARRAY_SIZE(limits); i++) {
		struct rlimit rl;
		getrlimit(limits[i].res, &rl);
		if (rl.rlim_cur != want[i].rlim_cur || rl.rlim_max != want[i].rlim_max)
			fail("RLIMIT_%s is %llu/%llu, want %llu/%llu", limits[i].name,
			     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
			     (unsigned long long)want[i].rlim_cur, (unsigned long long)want[i].rlim_max);
	}
	test_done();
}
