/* pidfds of tasks of the tree: a child's, the task's own, the parent's (held by the child). */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

TEST("pidfds of a child (one PIDFD_NONBLOCK), of the task itself and, in the child, of its "
     "parent: after restore each names its process, signals it and waits for it");

#define PIDFD_NONBLOCK_FLAG O_NONBLOCK

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* the Pid: of a pidfd's fdinfo, or -100 */
static int pidfd_pid(int fd)
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_text(path, text, sizeof(text)) < 0 || !(p = strstr(text, "\nPid:")))
		return -100;
	return atoi(p + 5);
}

static int parent_fd;

static int child(void *arg)
{
	parent_fd = pidfd_open(getppid(), 0);
	if (parent_fd < 0)
		setup_fail("child: pidfd_open(parent): %s", strerror(errno));
	child_wait();
	if (pidfd_pid(parent_fd) != getppid())
		fail("child: the parent's pidfd names pid %d, want %d", pidfd_pid(parent_fd),
		     getppid());
	if (syscall(SYS_pidfd_send_signal, parent_fd, 0, NULL, 0))
		fail("child: pidfd_send_signal(parent, 0): %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	int kid_fd, kid_nb, self_fd, fl_nb;
	siginfo_t si;

	test_init(argc, argv);
	pid_t kid = test_fork(child, NULL);
	kid_fd = pidfd_open(kid, 0);
	kid_nb = pidfd_open(kid, PIDFD_NONBLOCK_FLAG);
	self_fd = pidfd_open(getpid(), 0);
	if (kid_fd < 0 || kid_nb < 0 || self_fd < 0)
		setup_fail("pidfd_open: %s", strerror(errno));
	fl_nb = fcntl(kid_nb, F_GETFL);
	test_ready();
	test_wait();

	if (pidfd_pid(kid_fd) != kid || pidfd_pid(kid_nb) != kid)
		fail("the child's pidfds name pids %d and %d, want %d", pidfd_pid(kid_fd),
		     pidfd_pid(kid_nb), kid);
	if (pidfd_pid(self_fd) != getpid())
		fail("the own pidfd names pid %d, want %d", pidfd_pid(self_fd), getpid());
	if (fcntl(kid_nb, F_GETFL) != fl_nb)
		fail("the PIDFD_NONBLOCK pidfd has flags %#o, want %#o", fcntl(kid_nb, F_GETFL), fl_nb);
	struct pollfd p = { .fd = kid_fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 0)
		fail("the child's pidfd is ready while the child lives");
	/* what check_child does, through the pidfd */
	if (syscall(SYS_pidfd_send_signal, kid_fd, SIGTERM, NULL, 0))
		fail("pidfd_send_signal(child, SIGTERM): %s", strerror(errno));
	if (poll(&p, 1, 10000) != 1)
		fail("the child's pidfd did not get ready when the child ended");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)kid_fd, &si, WEXITED))
		fail("waitid(P_PIDFD): %s", strerror(errno));
	else if (si.si_pid != kid || si.si_code != CLD_EXITED || si.si_status != 0)
		fail("the child (pid %d) ended with code %d status %d, want pid %d exit 0", si.si_pid,
		     si.si_code, si.si_status, kid);
	if (pidfd_pid(kid_nb) != -1)
		fail("the reaped child's pidfd names pid %d, want -1", pidfd_pid(kid_nb));
	test_done();
}
