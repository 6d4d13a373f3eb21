/* Many unix socketpairs, each with its own data queued both ways. */
#include "lib.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

TEST("1000 unix socketpairs of the three types (fewer if RLIMIT_NOFILE is lower), each with "
     "different data queued both ways");

#define MAX 1000

static int sv[MAX][2];
static int N = MAX;
static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };

int main(int argc, char **argv)
{
	char buf[64], want[64];

	test_init(argc, argv);
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			/* restore holds each socket up to three times for a moment
			 * (made, dup'ed for the task, moved to its number) */
			if (rl.rlim_cur < 8 * MAX)
				N = (int)(rl.rlim_cur / 8);
		}
	}
	for (int i = 0; i < N; i++) {
		if (socketpair(AF_UNIX, types[i % 3], 0, sv[i]))
			setup_fail("socketpair %d: %s", i, strerror(errno));
		for (int end = 0; end < 2; end++) {
			int n = snprintf(buf, sizeof(buf), "pair %d from end %d", i, end);

			if (write(sv[i][end], buf, (size_t)n) != n)
				setup_fail("write: %s", strerror(errno));
		}
	}
	test_ready();
	test_wait();
	for (int i = 0; i < N; i++)
		for (int end = 0; end < 2; end++) {
			int n = snprintf(want, sizeof(want), "pair %d from end %d", i, end);
			ssize_t got = recv(sv[i][!end], buf, sizeof(buf), MSG_DONTWAIT);

			if (got != n || memcmp(buf, want, (size_t)n))
				fail("pair %d, end %d: got %zd bytes '%.*s', want '%s'", i, !end, got,
				     (int)(got > 0 ? got : 0), buf, want);
		}
	test_done();
}
