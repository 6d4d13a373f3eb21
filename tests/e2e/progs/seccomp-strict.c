/* A child in seccomp strict mode stays in it: a forbidden syscall still kills it. */
#include "lib.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

TEST("seccomp strict mode of a child still kills it on a forbidden syscall");

static int pipefd[2];

static void on_usr1(int sig)
{
	syscall(SYS_getppid); /* forbidden: SIGKILL */
	syscall(SYS_exit, 7); /* allowed: reached only when strict mode is lost */
}

static int child(void *arg)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char c;

	sigaction(SIGUSR1, &sa, NULL);
	close(pipefd[1]);
	child_ready();
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) < 0)
		syscall(SYS_exit, 2);
	while (read(pipefd[0], &c, 1) != 0)
		;
	syscall(SYS_exit, 3); /* the parent is gone */
	return 3;
}

static int seccomp_mode(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nSeccomp:")))
		return -1;
	return atoi(p + 9);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (pipe(pipefd) < 0)
		setup_fail("pipe: %s", strerror(errno));
	pid_t kid = test_fork(child, NULL);
	close(pipefd[0]);
	for (int i = 0; seccomp_mode(kid) != SECCOMP_MODE_STRICT; i++) {
		if (i == 1000)
			setup_fail("the child did not enter strict mode");
		sleep_ms(5);
	}
	test_ready();
	test_wait();

	int mode = seccomp_mode(kid), status;
	if (mode != SECCOMP_MODE_STRICT)
		fail("the child's seccomp mode is %d, want strict", mode);
	kill(kid, SIGUSR1);
	if (wait_child(kid, &status, 10000) < 0)
		fail("the child did not die");
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("the child was not killed by strict mode (status %#x)", status);
	test_done();
}
