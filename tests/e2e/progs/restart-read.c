/* A read() blocked at dump restarts after restore on the same fd. */
#include "lib.h"
#include <pthread.h>

TEST("a read() interrupted by the dump restarts with its arguments");

static int p[2];

/*
 * SIGTERM stays blocked here outside test_wait()'s sigsuspend, as in every
 * program: with it unblocked, a SIGTERM arriving between the kernel's
 * restart of the sigsuspend (after a ptrace stop: dump, or restore's last
 * step) and the syscall instruction runs the handler first, and the
 * restarted sigsuspend then sleeps for good, in any process, dumped or not.
 */
static void *writer(void *arg)
{
	test_wait();
	if (write(p[1], "x", 1) != 1)
		fail("write: %s", strerror(errno));
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c = 0;

	test_init(argc, argv);
	if (pipe(p))
		setup_fail("pipe");
	/* SIGTERM is blocked (test_init): it reaches the writer's sigsuspend */
	test_ready();
	pthread_create(&t, NULL, writer, NULL);
	ssize_t n = read(p[0], &c, 1);
	if (n != 1 || c != 'x')
		fail("read gave %zd (%s), byte %#x", n, n < 0 ? strerror(errno) : "", c);
	pthread_join(t, NULL);
	test_done();
}
