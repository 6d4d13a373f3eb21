/* A read() blocked at dump restarts after restore on the same fd. */
#include "lib.h"
#include <pthread.h>

TEST("a read() interrupted by the dump restarts with its arguments");

static int p[2];

static void *writer(void *arg)
{
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
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
	/* SIGTERM is blocked here (test_init) and unblocked in the writer */
	test_ready();
	pthread_create(&t, NULL, writer, NULL);
	ssize_t n = read(p[0], &c, 1);
	if (n != 1 || c != 'x')
		fail("read gave %zd (%s), byte %#x", n, n < 0 ? strerror(errno) : "", c);
	pthread_join(t, NULL);
	test_done();
}
