/* The child subreaper flag stays set, and orphaned grandchildren still come to us. */
#include "lib.h"

#include <sys/prctl.h>
#include <sys/wait.h>

TEST("the child subreaper flag, and orphans still reparent to us");

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	char *p = strrchr(buf, ')');
	return p ? (pid_t)atoi(p + 4) : -1;
}

int main(int argc, char **argv)
{
	int flag = 0, p[2];

	test_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		setup_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	test_ready();
	test_wait();
	prctl(PR_GET_CHILD_SUBREAPER, &flag);
	if (flag != 1)
		fail("the subreaper flag is %d", flag);

	/* a child forks a grandchild and exits: the grandchild must become ours */
	if (pipe(p) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t kid = fork();
	if (kid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pause();
			_exit(0);
		}
		write(p[1], &g, sizeof(g));
		_exit(0);
	}
	pid_t grandchild = -1;
	int status;
	read(p[0], &grandchild, sizeof(grandchild));
	waitpid(kid, &status, 0);
	pid_t ppid = parent_of(grandchild);
	if (ppid != getpid())
		fail("the orphan's parent is %d, want me (%d)", (int)ppid, (int)getpid());
	kill(grandchild, SIGKILL);
	if (wait_child(grandchild, &status, 5000) < 0)
		fail("cannot reap the orphan %d", (int)grandchild);
	test_done();
}
