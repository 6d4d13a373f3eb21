/* PR_SET_THP_DISABLE is a property of the address space; it comes back set. */
#include "lib.h"

#include <sys/prctl.h>
#include <sys/wait.h>

TEST("PR_SET_THP_DISABLE stays set, in the process and in a child");

static int child(void *arg)
{
	child_wait();
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 0)
		fail("child: PR_GET_THP_DISABLE is %d, want 0", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	/* the child keeps THP allowed: the flag is per address space */
	pid_t kid = test_fork(child, NULL);
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		setup_fail("PR_SET_THP_DISABLE: %s", strerror(errno));
	test_ready();
	test_wait();

	int now = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (now != 1)
		fail("PR_GET_THP_DISABLE is %d, want 1", now);
	char v[32] = "";
	if (status_field(0, "THP_enabled", v, sizeof(v)) == 0 && strcmp(v, "0"))
		fail("THP_enabled in status is %s, want 0", v);
	check_child(kid, "child");
	test_done();
}
