/*
 * share-vm HEARTBEAT: a process and a child made with
 * clone(CLONE_VM | CLONE_FILES | CLONE_FS) without CLONE_THREAD, so two
 * processes with one memory, one fd table and one fs info, for
 * tests/e2e/refuse.py: dump must refuse them, since restore would give each
 * its own.  The parent rewrites HEARTBEAT with a growing counter every
 * 50 ms; the child only sleeps.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (256 << 10)

static int child_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	char tmp[4096];
	void *stack;
	long n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: share-vm HEARTBEAT\n");
		return 1;
	}
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (clone(child_main, (char *)stack + STACK_SIZE, CLONE_VM | CLONE_FILES | CLONE_FS | SIGCHLD,
		  NULL) < 0) {
		perror("clone");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		FILE *f = fopen(tmp, "w");

		if (!f || fprintf(f, "%ld", ++n) < 0 || fclose(f) || rename(tmp, argv[1])) {
			perror(tmp);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
}
