/*
 * Job control: one child stopped by SIGSTOP, another (leading its own
 * process group, so the group is not orphaned) by SIGTSTP, both already
 * reported to the parent.  They come back stopped and stay so until
 * SIGCONT, then finish normally.
 */
#include "lib.h"

#include <sys/wait.h>

TEST("children stopped by SIGSTOP and SIGTSTP come back stopped and go on after SIGCONT");

static int stopper(void *arg)
{
	int sig = (int)(long)arg;

	if (sig == SIGTSTP && setpgid(0, 0) < 0)
		setup_fail("setpgid: %s", strerror(errno));
	child_ready();
	raise(sig);
	/* continued */
	test_wait();
	return 0;
}

static char state_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return '?';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

static int wait_state(pid_t pid, char want, int ms)
{
	for (int t = 0; t < ms; t += 5) {
		if (state_of(pid) == want)
			return 1;
		sleep_ms(5);
	}
	return state_of(pid) == want;
}

int main(int argc, char **argv)
{
	int sigs[2] = { SIGSTOP, SIGTSTP };
	pid_t kids[2];

	test_init(argc, argv);
	for (int i = 0; i < 2; i++) {
		int st;
		kids[i] = test_fork(stopper, (void *)(long)sigs[i]);
		if (waitpid(kids[i], &st, WUNTRACED) != kids[i] || !WIFSTOPPED(st) ||
		    WSTOPSIG(st) != sigs[i])
			setup_fail("child %d did not stop with signal %d", (int)kids[i], sigs[i]);
	}
	test_ready();
	test_wait();

	for (int i = 0; i < 2; i++) {
		if (state_of(kids[i]) != 'T')
			fail("child stopped by %d is in state %c, want T", sigs[i], state_of(kids[i]));
		sleep_ms(100);
		if (state_of(kids[i]) != 'T')
			fail("child stopped by %d does not stay stopped", sigs[i]);
		/* a stop report, if the parent gets one again, names the signal */
		int st;
		pid_t r = waitpid(kids[i], &st, WUNTRACED | WNOHANG);
		if (r == kids[i] && (!WIFSTOPPED(st) || WSTOPSIG(st) != sigs[i]))
			fail("child stopped by %d: reported as status %#x", sigs[i], st);
	}
	for (int i = 0; i < 2; i++) {
		kill(kids[i], SIGCONT);
		if (!wait_state(kids[i], 'S', 2000))
			fail("child stopped by %d does not run after SIGCONT (state %c)", sigs[i],
			     state_of(kids[i]));
		check_child(kids[i], "child");
	}
	test_done();
}
