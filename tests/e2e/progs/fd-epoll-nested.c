/*
 * An epoll inside an epoll: the outer one watches the inner one, which
 * watches an eventfd.  After restore the outer reports the inner as ready
 * (with its data) while the eventfd has a count, and no longer once the
 * count is read; the inner reports the eventfd.
 */
#include "lib.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

TEST("an epoll watched by another epoll, readiness passed through");

#define D_INNER 0xabcdef0011223344ull
#define D_EFD 0x5566778899aabbccull

static int wait_one(int ep, uint64_t *data, int timeout)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, timeout);

	if (n == 1)
		*data = ev[0].data.u64;
	return n;
}

int main(int argc, char **argv)
{
	int inner, outer, efd;
	uint64_t d, v;

	test_init(argc, argv);
	inner = epoll_create1(EPOLL_CLOEXEC);
	outer = epoll_create1(0);
	efd = eventfd(5, 0);
	if (inner < 0 || outer < 0 || efd < 0)
		setup_fail("epoll/eventfd: %s", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = D_EFD };
	if (epoll_ctl(inner, EPOLL_CTL_ADD, efd, &ev))
		setup_fail("EPOLL_CTL_ADD eventfd: %s", strerror(errno));
	ev.data.u64 = D_INNER;
	if (epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev))
		setup_fail("EPOLL_CTL_ADD epoll: %s", strerror(errno));
	test_ready();
	test_wait();

	if (wait_one(outer, &d, 1000) != 1 || d != D_INNER)
		fail("the outer epoll does not report the inner one");
	if (wait_one(inner, &d, 0) != 1 || d != D_EFD)
		fail("the inner epoll does not report the eventfd");
	if (read(efd, &v, sizeof(v)) != sizeof(v) || v != 5)
		fail("the eventfd's counter is not 5");
	if (wait_one(outer, &d, 0) != 0)
		fail("the outer epoll reports the inner one with nothing ready");
	v = 1;
	if (write(efd, &v, sizeof(v)) != sizeof(v))
		fail("write: %s", strerror(errno));
	if (wait_one(outer, &d, 1000) != 1 || d != D_INNER)
		fail("the outer epoll does not report a new count");
	/* the kernel still knows one is inside the other: no loop allowed */
	ev.data.u64 = 0;
	if (epoll_ctl(inner, EPOLL_CTL_ADD, outer, &ev) == 0 || errno != ELOOP)
		fail("adding the outer epoll to the inner one did not say ELOOP");
	test_done();
}
