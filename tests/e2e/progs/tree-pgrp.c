/* Process groups: a child leads one, a sibling and a grandchild join it. */
#include "lib.h"

TEST("process groups shared across branches of the tree");

static pid_t leader;

static int member(void *arg)
{
	pid_t want = (pid_t)(long)arg;

	if (want && setpgid(0, want) < 0)
		setup_fail("setpgid(0, %d): %s", (int)want, strerror(errno));
	want = getpgid(0);
	child_wait();
	if (getpgid(0) != want)
		fail("pid %d: process group %d, want %d", (int)getpid(), (int)getpgid(0), (int)want);
	return 0;
}

static int group_leader(void *arg)
{
	if (setpgid(0, 0) < 0)
		setup_fail("setpgid: %s", strerror(errno));
	pid_t kid = test_fork(member, NULL);

	child_wait();
	if (getpgid(0) != getpid())
		fail("leader: process group %d, want %d", (int)getpgid(0), (int)getpid());
	check_child(kid, "grandchild in the leader's group");
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	leader = test_fork(group_leader, NULL);
	pid_t joiner = test_fork(member, (void *)(long)leader);
	pid_t stayer = test_fork(member, NULL);
	pid_t mine = getpgid(0);

	test_ready();
	test_wait();
	if (getpgid(0) != mine)
		fail("root: process group %d, want %d", (int)getpgid(0), (int)mine);
	if (getpgid(joiner) != leader)
		fail("joiner %d: process group %d, want %d", (int)joiner, (int)getpgid(joiner),
		     (int)leader);
	if (getpgid(stayer) != mine)
		fail("stayer %d: process group %d, want %d", (int)stayer, (int)getpgid(stayer),
		     (int)mine);
	check_child(joiner, "child that joined the group");
	check_child(stayer, "child in my group");
	check_child(leader, "group leader");
	test_done();
}
