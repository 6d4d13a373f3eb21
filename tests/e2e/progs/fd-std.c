/* stdin, stdout and stderr keep their files, flags and shared file description. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("stdin, stdout and stderr: the same files, flags and sharing");

struct fd_state {
	char path[512];
	dev_t dev, rdev;
	ino_t ino;
	int fl, fd_flags;
};

static void record(int fd, struct fd_state *s)
{
	char link[64];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, s->path, sizeof(s->path) - 1);
	s->path[n < 0 ? 0 : n] = 0;
	fstat(fd, &st);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->rdev = st.st_rdev;
	s->fl = fcntl(fd, F_GETFL);
	s->fd_flags = fcntl(fd, F_GETFD);
}

/* do stdout and stderr share one file description (offset)? */
static int out_err_shared(void)
{
	struct stat st;

	if (fstat(1, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	off_t pos = lseek(1, 0, SEEK_CUR);
	lseek(1, pos + 1, SEEK_SET);
	int shared = lseek(2, 0, SEEK_CUR) == pos + 1;
	lseek(1, pos, SEEK_SET);
	return shared;
}

int main(int argc, char **argv)
{
	struct fd_state want[3], now[3];

	test_init(argc, argv);
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			setup_fail("fd %d is not open", fd);
		record(fd, &want[fd]);
	}
	int shared = out_err_shared();
	test_ready();
	test_wait();

	for (int fd = 0; fd < 3; fd++) {
		record(fd, &now[fd]);
		if (strcmp(now[fd].path, want[fd].path))
			fail("fd %d is '%s', want '%s'", fd, now[fd].path, want[fd].path);
		else if (now[fd].dev != want[fd].dev || now[fd].ino != want[fd].ino ||
			 now[fd].rdev != want[fd].rdev)
			fail("fd %d is another file", fd);
		if (now[fd].fl != want[fd].fl || now[fd].fd_flags != want[fd].fd_flags)
			fail("fd %d: flags %#o/%d, want %#o/%d", fd, now[fd].fl, now[fd].fd_flags,
			     want[fd].fl, want[fd].fd_flags);
	}
	if (out_err_shared() != shared)
		fail("stdout and stderr %s one file description", shared ? "no longer share" : "now share");
	const char line[] = "fd-std: stdout still works\n";
	if (write(1, line, sizeof(line) - 1) != sizeof(line) - 1)
		fail("cannot write to stdout: %s", strerror(errno));
	test_done();
}
