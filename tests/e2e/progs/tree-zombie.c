/* Zombie children keep their exit status until the parent reaps them. */
#include "lib.h"

#include <sys/wait.h>

TEST("zombie children: one exited with 42, one killed by SIGUSR1");

static int exits(void *arg)
{
	_exit(42);
}

static int dies(void *arg)
{
	signal(SIGUSR1, SIG_DFL);
	raise(SIGUSR1);
	return 0;
}

static void check_zombie(pid_t pid, int code, int status)
{
	char path[64], stat[512];
	siginfo_t si = { 0 };

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text(path, stat, sizeof(stat)) < 0) {
		fail("zombie %d is gone", (int)pid);
		return;
	}
	char *state = strrchr(stat, ')');
	if (!state || state[2] != 'Z')
		fail("pid %d is in state %c, not a zombie", (int)pid, state ? state[2] : '?');
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		fail("waitid(%d): %s", (int)pid, strerror(errno));
		return;
	}
	if (si.si_pid != pid || si.si_code != code || si.si_status != status)
		fail("zombie %d: code %d status %d, want code %d status %d", (int)pid, si.si_code,
		     si.si_status, code, status);
	waitpid(pid, NULL, 0);
}

/* bounded wait until pid is a zombie (it exits right after forking) */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;

	for (int i = 0; i < 2000; i++) {
		si.si_pid = 0;
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return;
		sleep_ms(5);
	}
	setup_fail("child %d did not exit", (int)pid);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pid_t z1 = test_fork(exits, NULL);
	pid_t z2 = test_fork(dies, NULL);

	wait_zombie(z1);
	wait_zombie(z2);
	test_ready();
	test_wait();
	check_zombie(z1, CLD_EXITED, 42);
	check_zombie(z2, CLD_KILLED, SIGUSR1);
	test_done();
}
