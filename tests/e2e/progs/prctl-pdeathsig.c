/* A child's parent-death signal stays set. */
#include "lib.h"

#include <sys/prctl.h>

TEST("the parent-death signal of a child");

static int child(void *arg)
{
	int sig = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0)
		setup_fail("PR_SET_PDEATHSIG: %s", strerror(errno));
	child_wait();
	prctl(PR_GET_PDEATHSIG, &sig);
	if (sig != SIGUSR2)
		fail("the parent-death signal is %d, want %d", sig, SIGUSR2);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pid_t kid = test_fork(child, NULL);
	test_ready();
	test_wait();
	check_child(kid, "child");
	test_done();
}
