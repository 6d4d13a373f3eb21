/* A pidfd of a child that has exited and been reaped. */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

TEST("a pidfd of a child that exited and was reaped: after restore it still names a dead "
     "process (Pid -1, ready to poll, ESRCH to signal, ECHILD to wait, its exit status)");

static int pidfd_pid(int fd)
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_text(path, text, sizeof(text)) < 0 || !(p = strstr(text, "\nPid:")))
		return -100;
	return atoi(p + 5);
}

/* PIDFD_GET_INFO's first 64 bytes (Linux 6.13; the exit status from 6.15) */
struct info {
	uint64_t mask, cgroupid;
	uint32_t ids[11];
	int32_t exit_code;
};
#define GET_INFO _IOWR(0xFF, 11, struct info)
#define INFO_EXIT (1ULL << 3)

/* the wait status the kernel keeps for the pidfd, or -1 when it tells none */
static int exit_status(int fd)
{
	struct info i = { .mask = INFO_EXIT };

	return ioctl(fd, GET_INFO, &i) || !(i.mask & INFO_EXIT) ? -1 : i.exit_code;
}

int main(int argc, char **argv)
{
	int status, fd, fl;

	test_init(argc, argv);
	pid_t kid = fork();
	if (kid < 0)
		setup_fail("fork: %s", strerror(errno));
	if (kid == 0)
		_exit(7);
	fd = (int)syscall(SYS_pidfd_open, kid, O_NONBLOCK);
	if (fd < 0)
		setup_fail("pidfd_open: %s", strerror(errno));
	if (wait_child(kid, &status, 5000) || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		setup_fail("the child did not exit 7");
	if (pidfd_pid(fd) != -1)
		setup_fail("the reaped child's pidfd names pid %d", pidfd_pid(fd));
	fl = fcntl(fd, F_GETFL);
	int status_before = exit_status(fd);
	test_ready();
	test_wait();

	char link[64], what[256] = "";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, what, sizeof(what) - 1);
	what[n > 0 ? n : 0] = '\0';
	if (strcmp(what, "anon_inode:[pidfd]"))
		fail("fd %d is '%s', want a pidfd", fd, what);
	if (pidfd_pid(fd) != -1)
		fail("the pidfd names pid %d, want -1", pidfd_pid(fd));
	if (fcntl(fd, F_GETFL) != fl)
		fail("flags %#o, want %#o", fcntl(fd, F_GETFL), fl);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		fail("the pidfd of a dead process is not ready (revents %#x)", p.revents);
	if (!syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) || errno != ESRCH)
		fail("pidfd_send_signal: %s, want ESRCH", strerror(errno));
	siginfo_t si;
	if (!waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) || errno != ECHILD)
		fail("waitid(P_PIDFD): %s, want ECHILD", strerror(errno));
	/* where the kernel kept how it ended, so does the restored pidfd */
	if (status_before != -1 && exit_status(fd) != status_before)
		fail("PIDFD_GET_INFO gives exit status %#x, want %#x", exit_status(fd), status_before);
	test_done();
}
