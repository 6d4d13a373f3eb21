/*
 * eventfds keep their counter (one above 32 bits), EFD_SEMAPHORE (a
 * semaphore reads 1 at a time) and O_NONBLOCK, and still work: a write
 * after restore adds to the counter, an empty blocking one is still
 * blocking (poll says not readable).
 */
#include "lib.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

TEST("eventfds: a counter above 32 bits, EFD_SEMAPHORE (counting 3, 1, 0), EFD_NONBLOCK, an empty "
     "blocking one");

#define BIG 0x123456789abcull

static int big, sem, sem1, sem0, empty;

static uint64_t rd(int fd, const char *what)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v)) {
		fail("%s: read: %s", what, strerror(errno));
		return 0;
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t one = 1, v;

	test_init(argc, argv);
	big = eventfd(0, EFD_NONBLOCK);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	sem1 = eventfd(1, EFD_SEMAPHORE);
	sem0 = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	empty = eventfd(0, 0);
	if (big < 0 || sem < 0 || sem1 < 0 || sem0 < 0 || empty < 0)
		setup_fail("eventfd: %s", strerror(errno));
	v = BIG;
	if (write(big, &v, sizeof(v)) != sizeof(v))
		setup_fail("write: %s", strerror(errno));
	test_ready();
	test_wait();

	if (!(fcntl(big, F_GETFL) & O_NONBLOCK) || !(fcntl(sem, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK was lost");
	if (fcntl(empty, F_GETFL) & O_NONBLOCK)
		fail("the blocking eventfd became non-blocking");
	if (write(big, &one, sizeof(one)) != sizeof(one))
		fail("write after restore: %s", strerror(errno));
	if ((v = rd(big, "big")) != BIG + 1)
		fail("big: counter %#llx, want %#llx", (unsigned long long)v,
		     (unsigned long long)BIG + 1);
	if (read(big, &v, sizeof(v)) >= 0 || errno != EAGAIN)
		fail("big: a read of the emptied counter did not say EAGAIN");
	for (int i = 0; i < 3; i++)
		if ((v = rd(sem, "semaphore")) != 1)
			fail("semaphore: read %d gave %llu, want 1", i, (unsigned long long)v);
	if (read(sem, &v, sizeof(v)) >= 0 || errno != EAGAIN)
		fail("semaphore: a 4th read did not say EAGAIN");
	/* a semaphore of 1, and one of 0 (told apart from counters with a
	 * count of 2: each read takes 1) */
	v = 2;
	if (write(sem1, &v, sizeof(v)) != sizeof(v) || rd(sem1, "semaphore of 1") != 1 ||
	    rd(sem1, "semaphore of 1") != 1 || rd(sem1, "semaphore of 1") != 1)
		fail("the semaphore of 1 does not count 3 reads of 1 after 2 more");
	if (read(sem0, &v, sizeof(v)) >= 0 || errno != EAGAIN)
		fail("the semaphore of 0 is not empty");
	v = 2;
	if (write(sem0, &v, sizeof(v)) != sizeof(v) || rd(sem0, "semaphore of 0") != 1)
		fail("the semaphore of 0 is not a semaphore");
	struct pollfd p = { .fd = empty, .events = POLLIN };
	if (poll(&p, 1, 0) != 0)
		fail("the empty eventfd is readable");
	if (write(empty, &one, sizeof(one)) != sizeof(one) || rd(empty, "empty") != 1)
		fail("the empty eventfd does not count");
	test_done();
}
