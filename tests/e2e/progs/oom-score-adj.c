/* oom_score_adj stays what the process set. */
#include "lib.h"

#include <fcntl.h>

TEST("oom_score_adj 400 stays 400");

static int read_adj(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : -10000;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "400", 3) != 3)
		setup_fail("can't write oom_score_adj: %s", strerror(errno));
	close(fd);
	if (read_adj() != 400)
		setup_fail("oom_score_adj is %d after writing 400", read_adj());
	test_ready();
	test_wait();
	if (read_adj() != 400)
		fail("oom_score_adj is %d, want 400", read_adj());
	test_done();
}
