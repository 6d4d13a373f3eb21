/* CRIU_FAULT: fail or die at the Nth step (see include/fault.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compel.h"
#include "fault.h"
#include "log.h"

enum fault_mode { FAULT_OFF, FAULT_FAIL, FAULT_KILL, FAULT_PAUSE, FAULT_LIST };

static enum fault_mode mode = FAULT_OFF;
static unsigned long target;
static pid_t owner; /* the criu process a kill is aimed at */
static pid_t worker; /* fault_set_worker(): the process doing the work for it */
/* shared with every process criu forks, so points count across them */
static unsigned int *counter;

int fault_init(void)
{
	const char *v = getenv("CRIU_FAULT");
	char *end;

	if (!v || !*v)
		return 0;
	owner = getpid();
	if (!strcmp(v, "list")) {
		mode = FAULT_LIST;
	} else {
		errno = 0;
		target = strtoul(v, &end, 10);
		if (errno || end == v || !target ||
		    (*end && strcmp(end, ":kill") && strcmp(end, ":fail") && strcmp(end, ":pause"))) {
			pr_err("CRIU_FAULT=%s: expected N, N:kill, N:fail, N:pause or list (N from 1)\n",
			       v);
			return -1;
		}
		mode = !strcmp(end, ":kill")  ? FAULT_KILL :
		       !strcmp(end, ":pause") ? FAULT_PAUSE :
						FAULT_FAIL;
	}
	counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (counter == MAP_FAILED) {
		pr_perror("CRIU_FAULT: can't map the counter");
		counter = NULL;
		mode = FAULT_OFF;
		return -1;
	}
	*counter = 0;
	compel_set_fault_hook(fault_point); /* the steps inside compel count too */
	return 0;
}

bool fault_enabled(void)
{
	return mode != FAULT_OFF;
}

bool fault_hit(void)
{
	return mode == FAULT_FAIL && fault_points_reached() >= target;
}

unsigned int fault_points_reached(void)
{
	return counter ? __atomic_load_n(counter, __ATOMIC_RELAXED) : 0;
}

static void say(const char *line)
{
	for (size_t off = 0, n = strlen(line); off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

int fault_point(const char *name)
{
	unsigned int n;
	char line[160];

	if (mode == FAULT_OFF)
		return 0;
	n = __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
	snprintf(line, sizeof(line), "fault point %u: %s (pid %d)\n", n, name, getpid());
	pr_info("%s", line);
	if (mode == FAULT_LIST) {
		say(line);
		return 0;
	}
	if (n != target)
		return 0;
	if (mode == FAULT_KILL) {
		/* the worker first: its tasks must see the one that traces them die */
		pr_info("CRIU_FAULT: killing criu (pid %d) here (%u)\n", worker ? worker : owner, n);
		if (worker)
			kill(worker, SIGKILL);
		kill(owner, SIGKILL);
		/* a child of criu goes on: it must notice that criu is gone */
		if (getpid() == owner || getpid() == worker)
			for (;;)
				pause();
		return 0;
	}
	if (mode == FAULT_PAUSE) {
		/* the test does what it wants done in this window, then SIGCONT */
		pr_info("CRIU_FAULT: stopping (pid %d) at point %u\n", getpid(), n);
		kill(getpid(), SIGSTOP);
		return 0;
	}
	pr_err("CRIU_FAULT: injected failure at point %u: %s\n", n, name);
	errno = EIO;
	return -EIO;
}

void fault_report(void)
{
	char line[64];

	if (mode == FAULT_OFF || getpid() != owner)
		return;
	snprintf(line, sizeof(line), "fault points: %u\n", fault_points_reached());
	pr_info("%s", line);
	if (mode == FAULT_LIST)
		say(line);
}

void fault_set_worker(pid_t pid)
{
	worker = pid;
}
