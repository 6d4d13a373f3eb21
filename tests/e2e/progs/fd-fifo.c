/*
 * FIFOs (named pipes) opened read-write, read-only and write-only, with
 * data in flight (more than the default 64 KiB, in a FIFO made bigger),
 * a dup and a description shared with a child, close-on-exec, O_NONBLOCK,
 * and F_SETOWN/F_SETSIG.  After restore each fd is the FIFO at its path
 * again, with the same data, flags, size, owner and sharing.
 */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("FIFOs read-write, read-only and write-only with data in flight, shared, cloexec, owner");

#define BIG 100000
#define BIG_SIZE (256 << 10)

static unsigned char big[BIG];
static int rw, rw_dup, rd, wr, shared_fd, cx;
static const char small[] = "in flight through a write-only end";

static void make_fifo(const char *name)
{
	unlink(name);
	if (mkfifo(name, 0600))
		setup_fail("mkfifo %s: %s", name, strerror(errno));
}

static void check_is(int fd, const char *name, int accmode, int more)
{
	char link[64], path[4096], want[4096];
	struct stat a, b;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	if (!realpath(name, want) || strcmp(path, want))
		fail("fd %d is %s, want %s", fd, path, name);
	if (fstat(fd, &a) || stat(name, &b) || !S_ISFIFO(a.st_mode) || a.st_ino != b.st_ino)
		fail("fd %d is not the FIFO %s", fd, name);
	if (fl < 0 || (fl & O_ACCMODE) != accmode || (fl & O_NONBLOCK) != (more & O_NONBLOCK))
		fail("fd %d of %s: flags %#o, want access %#o and %#o", fd, name, fl, accmode, more);
}

/* Reads exactly len bytes that must be want, then nothing more. */
static void check_data(int fd, const char *name, const void *want, size_t len)
{
	static unsigned char buf[BIG + 1];
	size_t got = 0;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (got <= len && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	fcntl(fd, F_SETFL, fl);
	if (got != len || memcmp(buf, want, len))
		fail("%s holds %zu bytes%s, want %zu", name, got,
		     got == len ? " that differ" : "", len);
}

static int child_shares(void *arg)
{
	child_wait();
	/* the parent set O_NONBLOCK on its fd after restore: one description */
	if (!(fcntl(shared_fd, F_GETFL) & O_NONBLOCK)) {
		fprintf(stderr, "child: the FIFO description is not shared with the parent\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct f_owner_ex ex;
	pid_t child;

	test_init(argc, argv);
	make_fifo("rw.fifo");
	make_fifo("one-way.fifo");
	make_fifo("shared.fifo");
	make_fifo("cloexec.fifo");
	fill_pattern(big, BIG, 0xf1f0);

	rw = open("rw.fifo", O_RDWR);
	if (rw < 0 || fcntl(rw, F_SETPIPE_SZ, BIG_SIZE) < BIG_SIZE)
		setup_fail("rw.fifo: %s", strerror(errno));
	if (write(rw, big, BIG) != BIG)
		setup_fail("write rw.fifo: %s", strerror(errno));
	rw_dup = dup(rw);
	if (fcntl(rw, F_SETOWN, getpid()) || fcntl(rw, F_SETSIG, SIGRTMIN + 3))
		setup_fail("owner of rw.fifo: %s", strerror(errno));

	rd = open("one-way.fifo", O_RDONLY | O_NONBLOCK);
	wr = open("one-way.fifo", O_WRONLY);
	if (rd < 0 || wr < 0 || write(wr, small, sizeof(small)) != sizeof(small))
		setup_fail("one-way.fifo: %s", strerror(errno));

	shared_fd = open("shared.fifo", O_RDWR);
	cx = open("cloexec.fifo", O_RDWR | O_CLOEXEC);
	if (shared_fd < 0 || cx < 0)
		setup_fail("open: %s", strerror(errno));
	child = test_fork(child_shares, NULL);
	test_ready();
	test_wait();

	check_is(rw, "rw.fifo", O_RDWR, 0);
	check_is(rw_dup, "rw.fifo", O_RDWR, 0);
	check_is(rd, "one-way.fifo", O_RDONLY, O_NONBLOCK);
	check_is(wr, "one-way.fifo", O_WRONLY, 0);
	check_is(shared_fd, "shared.fifo", O_RDWR, 0);
	check_is(cx, "cloexec.fifo", O_RDWR, 0);
	if (fcntl(rw, F_GETPIPE_SZ) < BIG_SIZE)
		fail("rw.fifo holds %d bytes, want %d", fcntl(rw, F_GETPIPE_SZ), BIG_SIZE);
	if (!(fcntl(cx, F_GETFD) & FD_CLOEXEC) || (fcntl(rw, F_GETFD) & FD_CLOEXEC))
		fail("close-on-exec: cloexec.fifo %d, rw.fifo %d", fcntl(cx, F_GETFD),
		     fcntl(rw, F_GETFD));
	if (fcntl(rw, F_GETOWN_EX, &ex) || ex.type != F_OWNER_PID || ex.pid != getpid() ||
	    fcntl(rw, F_GETSIG) != SIGRTMIN + 3)
		fail("rw.fifo: owner %d type %d signal %d", ex.pid, ex.type, fcntl(rw, F_GETSIG));
	/* the dup shares the description: a flag set on one shows on the other */
	fcntl(rw, F_SETFL, O_NONBLOCK);
	if (!(fcntl(rw_dup, F_GETFL) & O_NONBLOCK))
		fail("the dup of rw.fifo has a description of its own");
	fcntl(rw, F_SETFL, 0);
	check_data(rw, "rw.fifo", big, BIG);
	check_data(rd, "one-way.fifo", small, sizeof(small));
	/* both ends still make a FIFO */
	if (write(wr, "x", 1) != 1 || read(rd, big, 1) != 1 || big[0] != 'x')
		fail("one-way.fifo: its ends are not one FIFO");
	fcntl(shared_fd, F_SETFL, O_NONBLOCK);
	check_child(child, "the child sharing shared.fifo");
	test_done();
}
