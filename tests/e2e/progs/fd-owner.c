/*
 * A file's owner for signal-driven I/O: F_SETOWN to the process,
 * F_SETOWN_EX to a thread and to the process group, F_SETSIG; with
 * O_ASYNC the signal still comes, with si_fd, when data arrives.  Pipes,
 * and a FIFO (whose flags and owner restore takes from its REG entry).
 */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

TEST("F_SETOWN / F_SETOWN_EX owners and F_SETSIG of pipes and a FIFO; O_ASYNC signals still arrive");

static int pid_pipe[2], tid_pipe[2], pgrp_pipe[2], fifo[2];

struct want {
	int *fd;
	int type;
	int sig;
} wants[] = {
	{ &pid_pipe[0], F_OWNER_PID, 0 },
	{ &tid_pipe[0], F_OWNER_TID, 0 },
	{ &pgrp_pipe[0], F_OWNER_PGRP, 0 },
	{ &fifo[0], F_OWNER_PID, 0 },
};
#define NR_WANTS 4

/* where to write for data to arrive at want i's fd */
static int writer_of(int i)
{
	int *ends[] = { pid_pipe, tid_pipe, pgrp_pipe, fifo };

	return ends[i][1];
}

static int sig_of(int i)
{
	return i == 2 ? 0 : SIGRTMIN + 4 + i; /* 0: SIGIO */
}

static int owner_of(int i)
{
	return i == 2 ? getpgrp() : getpid();
}

int main(int argc, char **argv)
{
	sigset_t block;

	test_init(argc, argv);
	if (setpgid(0, 0) < 0 && getpgrp() != getpid())
		setup_fail("setpgid: %s", strerror(errno));
	sigemptyset(&block);
	sigaddset(&block, SIGIO);
	for (int i = 0; i < NR_WANTS; i++)
		if (sig_of(i))
			sigaddset(&block, sig_of(i));
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (pipe(pid_pipe) || pipe(tid_pipe) || pipe(pgrp_pipe))
		setup_fail("pipe: %s", strerror(errno));
	unlink("owner.fifo");
	if (mkfifo("owner.fifo", 0600) || (fifo[0] = open("owner.fifo", O_RDONLY | O_NONBLOCK)) < 0 ||
	    (fifo[1] = open("owner.fifo", O_WRONLY | O_NONBLOCK)) < 0)
		setup_fail("owner.fifo: %s", strerror(errno));
	for (int i = 0; i < NR_WANTS; i++) {
		struct f_owner_ex ex = { (enum __pid_type)wants[i].type, owner_of(i) };
		int fd = *wants[i].fd;
		if (i == 0 ? fcntl(fd, F_SETOWN, getpid()) : fcntl(fd, F_SETOWN_EX, &ex))
			setup_fail("set owner %d: %s", i, strerror(errno));
		if (fcntl(fd, F_SETSIG, sig_of(i)) || fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK))
			setup_fail("F_SETSIG/F_SETFL %d: %s", i, strerror(errno));
	}
	test_ready();
	test_wait();

	for (int i = 0; i < NR_WANTS; i++) {
		int fd = *wants[i].fd;
		struct f_owner_ex ex = { 0, 0 };
		if (fcntl(fd, F_GETOWN_EX, &ex) || (int)ex.type != wants[i].type || ex.pid != owner_of(i))
			fail("fd %d: owner type %d pid %d, want type %d pid %d", fd, ex.type, ex.pid,
			     wants[i].type, owner_of(i));
		if (fcntl(fd, F_GETSIG) != sig_of(i))
			fail("fd %d: F_GETSIG %d, want %d", fd, fcntl(fd, F_GETSIG), sig_of(i));
		if (!(fcntl(fd, F_GETFL) & O_ASYNC))
			fail("fd %d: O_ASYNC is gone", fd);
	}
	for (int i = 0; i < NR_WANTS; i++) {
		int fd = *wants[i].fd, sig = sig_of(i) ? sig_of(i) : SIGIO;
		sigset_t one;
		siginfo_t si;
		struct timespec ts = { 2, 0 };
		if (write(writer_of(i), "x", 1) != 1)
			fail("write: %s", strerror(errno));
		sigemptyset(&one);
		sigaddset(&one, sig);
		if (sigtimedwait(&one, &si, &ts) != sig)
			fail("fd %d: no signal %d within 2 s of data arriving", fd, sig);
		else if (sig_of(i) && si.si_fd != fd)
			fail("fd %d: signal %d with si_fd %d", fd, sig, si.si_fd);
	}
	test_done();
}
