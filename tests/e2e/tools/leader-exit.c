/*
 * leader-exit [--child]: a process whose main thread has exited
 * (pthread_exit) while another thread runs on, which dump must refuse,
 * naming it, rather than take it for a zombie.  With --child that process
 * is a child of one that just waits.  Both end when killed.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static void *wait_forever(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && !strcmp(argv[1], "--child") && fork() > 0)
		for (;;)
			pause();
	if (pthread_create(&t, NULL, wait_forever, NULL))
		return 1;
	pthread_exit(NULL);
}
