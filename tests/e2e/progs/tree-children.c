/* Three children keep their pids and their parent. */
#include "lib.h"

TEST("three children keep their pids and their parent");

static pid_t parent;

static int child(void *arg)
{
	child_wait();
	if (getppid() != parent)
		fail("getppid() is %d, want %d", (int)getppid(), (int)parent);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t kids[3];

	test_init(argc, argv);
	parent = getpid();
	for (int i = 0; i < 3; i++)
		kids[i] = test_fork(child, NULL);
	test_ready();
	test_wait();
	check_children(kids, 3);
	for (int i = 0; i < 3; i++)
		check_child(kids[i], "child");
	test_done();
}
