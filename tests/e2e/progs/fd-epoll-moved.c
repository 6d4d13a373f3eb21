/*
 * epoll targets whose fd number is no longer theirs: one was dup'ed and
 * its number closed, another dup'ed and its number given to a new file.
 * The kernel keeps knowing them by (file, number when added); after
 * restore fdinfo shows the same targets, EPOLL_CTL_DEL by the numbers that
 * now hold them still says ENOENT, both still report readiness, and once
 * a target's file is put back at its old number, EPOLL_CTL_DEL by that
 * number removes it.
 */
#include "lib.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

TEST("epoll targets whose fd was dup'ed and closed, or whose number now holds another file");

#define A 40   /* added as 40, now only at 41 */
#define A_NOW 41
#define C 42   /* added as 42, now at 43; 42 holds another eventfd */
#define C_NOW 43

static int ep;
static char targets[2048];

static void read_targets(char *out, size_t size)
{
	epoll_targets(ep, out, size);
}

static unsigned ready(void)
{
	struct epoll_event ev[4];
	unsigned got = 0;
	int n = epoll_wait(ep, ev, 4, 0);

	for (int i = 0; i < n; i++)
		got |= (unsigned)ev[i].data.u64;
	return got;
}

static int at(int fd, int num, int flags)
{
	if (dup3(fd, num, flags) != num)
		setup_fail("dup2 %d: %s", num, strerror(errno));
	close(fd);
	return num;
}

int main(int argc, char **argv)
{
	char now[2048];

	test_init(argc, argv);
	ep = epoll_create1(0);
	if (ep < 0)
		setup_fail("epoll_create1: %s", strerror(errno));
	at(eventfd(1, 0), A, 0);
	at(eventfd(1, 0), C, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, A, &ev))
		setup_fail("EPOLL_CTL_ADD: %s", strerror(errno));
	ev.data.u64 = 2;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, C, &ev))
		setup_fail("EPOLL_CTL_ADD: %s", strerror(errno));
	if (dup2(A, A_NOW) != A_NOW || dup2(C, C_NOW) != C_NOW)
		setup_fail("dup2: %s", strerror(errno));
	close(A);
	close(C);
	at(eventfd(0, 0), C, O_CLOEXEC);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, A_NOW, NULL) == 0 || errno != ENOENT ||
	    epoll_ctl(ep, EPOLL_CTL_DEL, C, NULL) == 0 || errno != ENOENT)
		setup_fail("EPOLL_CTL_DEL of the moved targets did not say ENOENT");
	read_targets(targets, sizeof(targets));
	test_ready();
	test_wait();

	read_targets(now, sizeof(now));
	if (strcmp(now, targets))
		fail("the targets changed:\n%swant\n%s", now, targets);
	if (ready() != 3)
		fail("ready set %#x, want 3 (both moved targets)", ready());
	if (fcntl(A, F_GETFD) >= 0)
		fail("fd %d, closed at dump, is open", A);
	if (!(fcntl(C, F_GETFD) & FD_CLOEXEC))
		fail("fd %d lost its close-on-exec", C);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, A_NOW, NULL) == 0 || errno != ENOENT)
		fail("EPOLL_CTL_DEL %d: not ENOENT: the target was added back under that number",
		     A_NOW);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, C, NULL) == 0 || errno != ENOENT)
		fail("EPOLL_CTL_DEL %d (another file now): not ENOENT", C);
	if (dup2(A_NOW, A) != A || epoll_ctl(ep, EPOLL_CTL_DEL, A, NULL))
		fail("EPOLL_CTL_DEL of the first target under its old number: %s", strerror(errno));
	if (ready() != 2)
		fail("after removing the first: ready set %#x, want 2", ready());
	test_done();
}
