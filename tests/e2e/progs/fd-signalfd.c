/*
 * signalfds keep their mask and flags: a signal pending at dump is read
 * from the signalfd after restore with its sender's value, one sent after
 * restore (a real-time one) too, and one outside the mask is not seen.
 */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>

TEST("signalfds: the mask (SIGUSR1 and a real-time signal), O_NONBLOCK, a signal pending at dump");

static int sfd, other;

static int read_sig(int fd, struct signalfd_siginfo *si)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 2000) != 1)
		return -1;
	return read(fd, si, sizeof(*si)) == sizeof(*si) ? 0 : -1;
}

int main(int argc, char **argv)
{
	int rt = SIGRTMIN + 3;
	struct signalfd_siginfo si;
	sigset_t set, two;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, rt);
	sigemptyset(&two);
	sigaddset(&two, SIGUSR2);
	sigset_t all = set;
	sigaddset(&all, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &all, NULL))
		setup_fail("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &set, SFD_NONBLOCK);
	other = signalfd(-1, &two, 0);
	if (sfd < 0 || other < 0)
		setup_fail("signalfd: %s", strerror(errno));
	if (sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 4242 }))
		setup_fail("sigqueue: %s", strerror(errno));
	test_ready();
	test_wait();

	if (!(fcntl(sfd, F_GETFL) & O_NONBLOCK) || (fcntl(other, F_GETFL) & O_NONBLOCK))
		fail("the status flags changed");
	if (read_sig(sfd, &si))
		fail("the signal pending at dump is not readable");
	else if (si.ssi_signo != SIGUSR1 || si.ssi_int != 4242)
		fail("read signal %u value %d, want %d value 4242", si.ssi_signo, si.ssi_int,
		     SIGUSR1);
	if (sigqueue(getpid(), rt, (union sigval){ .sival_int = 77 }))
		fail("sigqueue: %s", strerror(errno));
	if (read_sig(sfd, &si))
		fail("the real-time signal sent after restore is not readable");
	else if ((int)si.ssi_signo != rt || si.ssi_int != 77)
		fail("read signal %u value %d, want %d value 77", si.ssi_signo, si.ssi_int, rt);
	struct pollfd p = { .fd = other, .events = POLLIN };
	if (poll(&p, 1, 0) != 0)
		fail("the SIGUSR2 signalfd is readable with no SIGUSR2 pending");
	kill(getpid(), SIGUSR2);
	if (read_sig(other, &si) || si.ssi_signo != SIGUSR2)
		fail("the SIGUSR2 signalfd did not read SIGUSR2");
	p.fd = sfd;
	if (poll(&p, 1, 0) != 0)
		fail("the first signalfd is readable with nothing of its mask pending");
	test_done();
}
