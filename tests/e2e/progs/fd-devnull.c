/* /dev/null opened read-write and write-only with O_APPEND. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TEST("/dev/null opened twice, with its flags");

int main(int argc, char **argv)
{
	test_init(argc, argv);
	int rw = open("/dev/null", O_RDWR);
	int wo = open("/dev/null", O_WRONLY | O_APPEND);
	if (rw < 0 || wo < 0)
		setup_fail("/dev/null: %s", strerror(errno));
	int fl_rw = fcntl(rw, F_GETFL), fl_wo = fcntl(wo, F_GETFL);
	test_ready();
	test_wait();

	int fds[] = { rw, wo }, fls[] = { fl_rw, fl_wo };
	for (int i = 0; i < 2; i++) {
		struct stat st;
		char link[64], path[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		path[n < 0 ? 0 : n] = 0;
		if (strcmp(path, "/dev/null"))
			fail("fd %d is '%s'", fds[i], path);
		if (fstat(fds[i], &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
			fail("fd %d is not the null device", fds[i]);
		if (fcntl(fds[i], F_GETFL) != fls[i])
			fail("fd %d: flags %#o, want %#o", fds[i], fcntl(fds[i], F_GETFL), fls[i]);
		if (write(fds[i], "x", 1) != 1)
			fail("fd %d: write: %s", fds[i], strerror(errno));
	}
	char c;
	if (read(rw, &c, 1) != 0)
		fail("reading /dev/null does not give EOF");
	test_done();
}
