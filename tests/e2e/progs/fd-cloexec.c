/* The close-on-exec flag of each descriptor. */
#include "lib.h"

#include <fcntl.h>

TEST("close-on-exec flags of descriptors opened and dup'ed in different ways");

int main(int argc, char **argv)
{
	int fds[5], want[5];

	test_init(argc, argv);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/dev/null", O_RDONLY);
	fds[2] = dup3(fds[1], 20, O_CLOEXEC);
	fds[3] = fcntl(fds[0], F_DUPFD, 30);       /* dup drops the flag */
	fds[4] = fcntl(fds[1], F_DUPFD_CLOEXEC, 40);
	for (int i = 0; i < 5; i++)
		if (fds[i] < 0 || (want[i] = fcntl(fds[i], F_GETFD)) < 0)
			setup_fail("fd %d: %s", i, strerror(errno));
	if (want[0] != FD_CLOEXEC || want[1] != 0 || want[3] != 0)
		setup_fail("unexpected flags");
	test_ready();
	test_wait();
	for (int i = 0; i < 5; i++)
		if (fcntl(fds[i], F_GETFD) != want[i])
			fail("fd %d: close-on-exec is %d, want %d", fds[i], fcntl(fds[i], F_GETFD), want[i]);
	test_done();
}
