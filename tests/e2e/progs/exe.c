/* /proc/self/exe still names and opens this program's binary. */
#include "lib.h"

#include <sys/stat.h>

TEST("the exe link names the same binary");

int main(int argc, char **argv)
{
	char want[4096], now[4096];
	struct stat st_want, st_now;

	test_init(argc, argv);
	ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	if (n < 0 || stat("/proc/self/exe", &st_want) < 0)
		setup_fail("/proc/self/exe: %s", strerror(errno));
	want[n] = 0;
	test_ready();
	test_wait();
	n = readlink("/proc/self/exe", now, sizeof(now) - 1);
	now[n < 0 ? 0 : n] = 0;
	if (strcmp(now, want))
		fail("exe is '%s', want '%s'", now, want);
	if (stat("/proc/self/exe", &st_now) < 0 || st_now.st_ino != st_want.st_ino ||
	    st_now.st_dev != st_want.st_dev)
		fail("exe is another file than %s", want);
	test_done();
}
