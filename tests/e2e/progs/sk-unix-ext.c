/* A datagram socket connected to a named socket outside the tree, dumped with -x. */
#include "lib.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

TEST("a datagram unix socket connected to a server outside the tree (-x): after restore "
     "it is connected to the same name and the server gets what it sends",
     .criu_opts = "--ext-unix-sk");

static struct sockaddr_un srv;
static socklen_t srvlen;

/* The server: a grandchild in a session of its own, so not in the dumped tree.
 * It writes each datagram to got.txt and ends after 30 s (a restore of a
 * dump taken with -R still needs it once the first process is done). */
static void server(int ready)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[128];

	if (fd < 0 || bind(fd, (struct sockaddr *)&srv, srvlen))
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	alarm(30);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		int out;

		if (n < 0)
			_exit(1);
		buf[n] = 0;
		out = open("got.txt", O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (out >= 0) {
			if (write(out, buf, (size_t)n) < 0 || write(out, "\n", 1) < 0)
				_exit(1);
			close(out);
		}
	}
}

int main(int argc, char **argv)
{
	char dir[4000], got[256] = "";
	int n;
	int p[2], c;
	pid_t mid;

	test_init(argc, argv);
	if (!getcwd(dir, sizeof(dir)))
		setup_fail("getcwd");
	memset(&srv, 0, sizeof(srv));
	srv.sun_family = AF_UNIX;
	n = snprintf(srv.sun_path, sizeof(srv.sun_path), "%.*s/ext.sock", 96, dir);
	if (n >= (int)sizeof(srv.sun_path) || strlen(dir) > 96)
		setup_fail("the test's directory is too long for a socket name");
	srvlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(srv.sun_path) + 1);
	unlink(srv.sun_path);
	unlink("got.txt");
	if (pipe(p))
		setup_fail("pipe");
	mid = fork();
	if (mid == 0) {
		setsid();
		if (fork() == 0)
			server(p[1]);
		_exit(0);
	}
	close(p[1]);
	waitpid(mid, NULL, 0);
	if (read(p[0], got, 1) != 1)
		setup_fail("the server did not start");
	close(p[0]);
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&srv, srvlen) || write(c, "before", 6) != 6)
		setup_fail("connect: %s", strerror(errno));
	test_ready();
	test_wait();

	if (write(c, "after", 5) != 5)
		fail("send after restore: %s", strerror(errno));
	for (int i = 0; i < 100; i++) {
		if (read_text("got.txt", got, sizeof(got)) == 0 && strstr(got, "after"))
			break;
		sleep_ms(20);
	}
	if (strncmp(got, "before\n", 7) || strlen(got) < 13 || strcmp(got + strlen(got) - 6, "after\n"))
		fail("the server got '%s', want 'before\\n...after\\n'", got);
	test_done();
}
