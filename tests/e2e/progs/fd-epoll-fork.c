/*
 * One epoll shared by a parent and its child (inherited at fork): the
 * parent added the targets; after restore both see them, and a target the
 * child removes is gone for the parent too (one epoll, not two).
 */
#include "lib.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

TEST("an epoll shared by parent and child, its targets added by the parent");

static int ep, efd, efd2;

static int count(int timeout)
{
	struct epoll_event ev[4];

	return epoll_wait(ep, ev, 4, timeout);
}

static int child(void *arg)
{
	child_wait();
	if (count(1000) != 2)
		fail("child: %d targets ready, want 2", count(0));
	if (epoll_ctl(ep, EPOLL_CTL_DEL, efd2, NULL))
		fail("child: EPOLL_CTL_DEL: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	ep = epoll_create1(0);
	efd = eventfd(1, 0);
	efd2 = eventfd(1, 0);
	if (ep < 0 || efd < 0 || efd2 < 0)
		setup_fail("epoll/eventfd: %s", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) || epoll_ctl(ep, EPOLL_CTL_ADD, efd2, &ev))
		setup_fail("EPOLL_CTL_ADD: %s", strerror(errno));
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();

	if (count(1000) != 2)
		fail("parent: %d targets ready, want 2", count(0));
	check_child(kid, "child");
	if (count(0) != 1)
		fail("parent: %d targets ready after the child removed one, want 1", count(0));
	test_done();
}
