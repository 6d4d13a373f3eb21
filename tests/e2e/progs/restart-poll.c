/* A poll() without a timeout, blocked at dump, sleeps on after restore. */
#include "lib.h"

#include <poll.h>
#include <pthread.h>

TEST("a poll() with no timeout, blocked at dump, goes on waiting after restore (no EINTR) "
     "and returns when its pipe gets data");

static int p[2];

/* SIGTERM stays blocked outside test_wait() (see restart-read.c) */
static void *writer(void *arg)
{
	test_wait();
	if (write(p[1], "x", 1) != 1)
		fail("write: %s", strerror(errno));
	return NULL;
}

int main(int argc, char **argv)
{
	struct pollfd pfd;
	pthread_t t;
	int n;

	test_init(argc, argv);
	if (pipe(p))
		setup_fail("pipe: %s", strerror(errno));
	if (pthread_create(&t, NULL, writer, NULL))
		setup_fail("pthread_create");
	test_ready();
	pfd.fd = p[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, -1); /* the main thread sleeps here through dump and restore */
	if (n != 1)
		fail("poll returned %d (%s), want 1", n, n < 0 ? strerror(errno) : "no error");
	else if (!(pfd.revents & POLLIN))
		fail("poll: revents %#x, want POLLIN", pfd.revents);
	pthread_join(t, NULL);
	test_done();
}
