/*
 * An unprivileged client of `criu service` (tests/e2e/t-fsafe.sh runs it as
 * uid 65534): it forks a child of its own and asks the service to dump it
 * with leave_running, images into DIR, the log named LOG.
 *
 *   fsafe-client SOCK DIR LOG [PLANT TARGET]
 *
 * PLANT, if given, is a name in DIR with "%d" standing for the child's pid:
 * the client plants a symlink DIR/PLANT -> TARGET before asking (a core or
 * pages image name, whose pid only the client knows).  DIR is opened with
 * O_PATH when it can't be read (a 0711 directory).
 *
 * Prints "dumped" (exit 0) or "refused: <criu's message>" (exit 1); exit 2
 * when the client itself could not run.  The child is killed at the end and
 * must still be alive after a refused dump (exit 3 if it is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"

int main(int argc, char **argv)
{
	char name[256];
	int dirfd, ret, st;
	pid_t child;

	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: %s SOCK DIR LOG [PLANT TARGET]\n", argv[0]);
		return 2;
	}
	dirfd = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)
		dirfd = open(argv[2], O_PATH | O_DIRECTORY);
	if (dirfd < 0) {
		perror(argv[2]);
		return 2;
	}
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		setsid(); /* a tree of its own, not a job of the caller's shell */
		close(dirfd);
		for (;;)
			pause();
	}
	if (argc == 6) {
		snprintf(name, sizeof(name), argv[4], child);
		if (symlinkat(argv[5], dirfd, name)) {
			perror("symlink");
			kill(child, SIGKILL);
			return 2;
		}
	}
	criu_init_opts();
	criu_set_service_comm(CRIU_COMM_SK);
	criu_set_service_address(argv[1]);
	criu_set_images_dir_fd(dirfd);
	criu_set_pid(child);
	criu_set_leave_running(true);
	criu_set_log_file(argv[3]);
	criu_set_log_level(4);
	ret = criu_dump();
	if (ret == 0)
		printf("dumped\n");
	else
		printf("refused: %d (errno %d)\n", ret, errno);
	if (ret && kill(child, 0)) {
		printf("the child %d is gone after a refused dump\n", child);
		return 3;
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	return ret ? 1 : 0;
}
