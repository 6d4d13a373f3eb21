/*
 * Helpers of the unit tests that trace children of their own (compel, the
 * parasite, the register images): spawning and reaping them, telling
 * whether ptrace works here (it does not under qemu-user), their state.
 * Include after unit.h, with LOG_NAME defined: compel's log goes there.
 */
#ifndef CRIU_TESTS_TRACEE_H
#define CRIU_TESTS_TRACEE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static int ptrace_state = -1; /* -1 unknown, 0 unusable, 1 usable */
static char skip_why[160];

static inline void log_to_file(void)
{
	static bool done;

	if (!done)
		log_init(AT_FDCWD, LOG_NAME, LOG_WARN, 0);
	done = true;
}

/* Kills and reaps a child of ours, bounded. */
static inline void reap(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	for (int i = 0; i < 5000; i++) {
		pid_t r = waitpid(pid, &status, __WALL | WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return;
		usleep(1000);
	}
	printf("  warning: child %d not reaped\n", pid);
}

/* ptrace is refused (ENOSYS, EPERM or EIO) under qemu-user. */
static inline bool have_ptrace(void)
{
	pid_t child;

	if (ptrace_state >= 0)
		return ptrace_state;
	log_to_file();
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	if (ptrace(PTRACE_SEIZE, child, NULL, NULL)) {
		snprintf(skip_why, sizeof(skip_why),
			 "ptrace(PTRACE_SEIZE) fails: %s (qemu-user has no ptrace)", strerror(errno));
		ptrace_state = 0;
	} else {
		ptrace_state = 1;
	}
	reap(child);
	return ptrace_state;
}

#define NEED_PTRACE()                                                 \
	do {                                                          \
		if (!have_ptrace()) {                                 \
			printf("  skip %s: %s\n", __func__, skip_why); \
			return;                                       \
		}                                                     \
	} while (0)

/* A child running fn(arg), killed with us. */
static inline pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(arg);
		_exit(0);
	}
	return pid;
}

/* The State: letter of /proc/PID/status, 0 when it is gone. */
static inline char proc_state(pid_t pid)
{
	char path[64], line[128];
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6)) {
			state = line[7];
			break;
		}
	fclose(f);
	return state;
}

#endif
