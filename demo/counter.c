/*
 * The demo's process: counts, keeps a checksum of its own memory and of
 * its FPU registers, and prints one line a second.  After a restore it
 * carries on from where it was dumped, with the same PID.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	size_t size = 64 << 20;
	unsigned char *mem = malloc(size);
	pid_t me = getpid();
	uint64_t sum = 0;
	double x = 1.0;

	signal(SIGTERM, on_term);
	for (size_t i = 0; i < size; i += 4096)
		mem[i] = (unsigned char)(i >> 12), sum += mem[i];
	for (long n = 0; !stop; n++) {
		uint64_t check = 0;

		for (size_t i = 0; i < size; i += 4096)
			check += mem[i];
		x = x * 1.5 - 0.5 * x; /* stays 1.0: checks the FPU */
		printf("counter %ld  pid %d (same as at start: %s)  memory %s  fpu %s\n", n,
		       getpid(), getpid() == me ? "yes" : "NO", check == sum ? "intact" : "CHANGED",
		       x == 1.0 ? "intact" : "CHANGED");
		fflush(stdout);
		sleep(1);
	}
	return 0;
}
