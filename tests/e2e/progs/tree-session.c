/* A child starts its own session; inside it, a new process group. */
#include "lib.h"

TEST("a child's own session and a process group inside it");

struct ids {
	pid_t sid, pgid;
};

static struct ids record(void)
{
	return (struct ids){ getsid(0), getpgid(0) };
}

static void check_ids(const char *who, struct ids want)
{
	struct ids now = record();

	if (now.sid != want.sid)
		fail("%s: session %d, want %d", who, (int)now.sid, (int)want.sid);
	if (now.pgid != want.pgid)
		fail("%s: process group %d, want %d", who, (int)now.pgid, (int)want.pgid);
}

static int member(void *arg) /* stays in its parent's group */
{
	struct ids want = record();

	child_wait();
	check_ids("member", want);
	return 0;
}

static int group_leader(void *arg)
{
	if (setpgid(0, 0) < 0)
		setup_fail("setpgid: %s", strerror(errno));
	pid_t kid = test_fork(member, NULL);
	struct ids want = record();

	child_wait();
	check_ids("group leader", want);
	check_child(kid, "group member");
	return 0;
}

static int session_leader(void *arg)
{
	if (setsid() < 0)
		setup_fail("setsid: %s", strerror(errno));
	pid_t kid = test_fork(group_leader, NULL);
	struct ids want = record();

	child_wait();
	check_ids("session leader", want);
	if (want.sid != getpid())
		fail("session leader: session is %d, not my pid", (int)want.sid);
	check_child(kid, "group leader");
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pid_t leader = test_fork(session_leader, NULL);
	pid_t plain = test_fork(member, NULL);
	struct ids want = record();

	test_ready();
	test_wait();
	check_ids("root", want);
	check_child(leader, "session leader");
	check_child(plain, "child in my session");
	test_done();
}
