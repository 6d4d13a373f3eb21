/* A child chrooted into a directory the test made keeps that root. */
#include "lib.h"

#include <sys/stat.h>

TEST("the root directory of a chrooted child", .flags = TEST_NEEDS_ROOT);

static int child(void *arg)
{
	struct stat root, marker, st;

	if (chroot("newroot") < 0 || chdir("/") < 0)
		setup_fail("chroot: %s", strerror(errno));
	if (stat("/", &root) < 0 || stat("/marker", &marker) < 0)
		setup_fail("stat: %s", strerror(errno));
	child_wait();
	if (stat("/", &st) < 0 || st.st_ino != root.st_ino || st.st_dev != root.st_dev)
		fail("'/' is another directory");
	if (stat("/marker", &st) < 0 || st.st_ino != marker.st_ino)
		fail("/marker is missing or another file");
	if (stat("/proc", &st) == 0)
		fail("/proc is visible: not chrooted any more");
	return 0;
}

int main(int argc, char **argv)
{
	char want[4096], path[64], now[4096];

	test_init(argc, argv);
	if ((mkdir("newroot", 0755) < 0 && errno != EEXIST) || write_file("newroot/marker", "m", 1) < 0)
		setup_fail("newroot: %s", strerror(errno));
	if (!realpath("newroot", want))
		setup_fail("realpath: %s", strerror(errno));
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();
	snprintf(path, sizeof(path), "/proc/%d/root", (int)kid);
	ssize_t n = readlink(path, now, sizeof(now) - 1);
	now[n < 0 ? 0 : n] = 0;
	if (strcmp(now, want))
		fail("the child's root is '%s', want '%s'", now, want);
	check_child(kid, "chrooted child");
	test_done();
}
