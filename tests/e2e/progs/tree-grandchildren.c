/* A tree three levels deep: every process keeps its pid, parent and children. */
#include "lib.h"

TEST("a three-level tree keeps every pid, parent and child");

/* children per level: the root has 2, they have 2, the grandchildren 1 */
static const int fanout[] = { 2, 2, 1, 0 };
static int level;
static pid_t parent;

static int node(void *arg)
{
	pid_t kids[4];
	int n = fanout[level];

	for (int i = 0; i < n; i++) {
		parent = getpid();
		level++;
		kids[i] = test_fork(node, NULL);
		level--;
	}
	parent = getppid();
	child_wait();
	if (getppid() != parent)
		fail("level %d: getppid() is %d, want %d", level, (int)getppid(), (int)parent);
	check_children(kids, n);
	for (int i = 0; i < n; i++)
		check_child(kids[i], "descendant");
	return 0;
}

int main(int argc, char **argv)
{
	pid_t kids[4];

	test_init(argc, argv);
	level = 1;
	for (int i = 0; i < fanout[0]; i++)
		kids[i] = test_fork(node, NULL);
	level = 0;
	test_ready();
	test_wait();
	check_children(kids, fanout[0]);
	for (int i = 0; i < fanout[0]; i++)
		check_child(kids[i], "child");
	test_done();
}
