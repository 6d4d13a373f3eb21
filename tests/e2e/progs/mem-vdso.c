/* The vDSO still works: clock_gettime and friends agree with the syscalls. */
#include "lib.h"

#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

TEST("vDSO time functions still work and agree with the real syscalls");

static const struct {
	clockid_t id;
	const char *name;
} clocks[] = {
	{ CLOCK_REALTIME, "REALTIME" },
	{ CLOCK_MONOTONIC, "MONOTONIC" },
	{ CLOCK_BOOTTIME, "BOOTTIME" },
	{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
};

static int64_t ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void check_clocks(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(clocks); i++) {
		struct timespec lib, sys;
		if (clock_gettime(clocks[i].id, &lib) < 0 ||
		    syscall(SYS_clock_gettime, clocks[i].id, &sys) < 0) {
			fail("clock_gettime(%s) failed", clocks[i].name);
			continue;
		}
		int64_t d = ns(sys) - ns(lib);
		if (d < -100000000 || d > 1000000000)
			fail("clock_gettime(%s) is %lld ns off the syscall", clocks[i].name, (long long)d);
	}
	struct timeval tv;
	struct timespec sys;
	gettimeofday(&tv, NULL);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys);
	if (sys.tv_sec - tv.tv_sec > 1 || sys.tv_sec < tv.tv_sec)
		fail("gettimeofday is %lld s off", (long long)(sys.tv_sec - tv.tv_sec));
	time_t t = time(NULL);
	if (sys.tv_sec - t > 1 || sys.tv_sec < t - 1)
		fail("time() is %lld s off", (long long)(sys.tv_sec - t));
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	char line[1024];
	if (!vdso || maps_line((void *)vdso, line, sizeof(line)) < 0 || !strstr(line, "[vdso]"))
		setup_fail("no vDSO at AT_SYSINFO_EHDR %#lx", vdso);
	check_clocks();
	struct timespec before;
	clock_gettime(CLOCK_MONOTONIC, &before);
	test_ready();
	test_wait();

	/* the vDSO glibc found at start-up is still mapped and executable */
	char perms[5];
	if (maps_perms((void *)vdso, perms) < 0 || perms[2] != 'x')
		fail("the vDSO at %#lx is gone (%s)", vdso, perms);
	check_clocks();
	struct timespec after;
	clock_gettime(CLOCK_MONOTONIC, &after);
	if (ns(after) < ns(before))
		fail("CLOCK_MONOTONIC went back by %lld ns", (long long)(ns(before) - ns(after)));
	test_done();
}
