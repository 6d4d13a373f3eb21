/* --evasive-devices: a /dev/null node made outside /dev and unlinked is
 * dumped by /dev/null's path, and comes back as that device. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TEST("--evasive-devices: an fd of a deleted device node (1:3) comes back as /dev/null",
     .flags = TEST_NEEDS_ROOT, .criu_opts = "--evasive-devices");

int main(int argc, char **argv)
{
	struct stat st;

	test_init(argc, argv);
	unlink("mynull");
	if (mknod("mynull", S_IFCHR | 0666, makedev(1, 3)))
		setup_fail("mknod: %s", strerror(errno));
	int fd = open("mynull", O_RDWR);
	if (fd < 0 || unlink("mynull"))
		setup_fail("mynull: %s", strerror(errno));

	test_ready();
	test_wait();

	char link[64], path[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = 0;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail("fd %d (%s) is not the null device", fd, path);
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("fd %d: flags %#o, want O_RDWR", fd, fcntl(fd, F_GETFL));
	if (write(fd, "x", 1) != 1)
		fail("writing to the null device fails: %s", strerror(errno));
	test_done();
}
