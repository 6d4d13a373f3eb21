/* Unix socket pairs of the three types with data in flight both ways, options, shutdowns. */
#include "lib.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

TEST("unix socketpairs (stream, dgram, seqpacket) with queued data both ways, options, "
     "shutdown, a closed peer, and a pair split between parent and child");

static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
#define NT ((int)ARRAY_SIZE(types))

/* what sits in each direction: a few messages of different sizes */
static const char *msgs[] = { "first", "second message", "3" };

static void put(int fd, const char *tag)
{
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		int n = snprintf(buf, sizeof(buf), "%s:%s", tag, msgs[i]);

		if (write(fd, buf, (size_t)n) != n)
			setup_fail("write %s: %s", tag, strerror(errno));
	}
}

/* reads back what put() wrote: per message for dgram/seqpacket, as a stream otherwise */
static void get(int fd, int type, const char *tag)
{
	char want[256] = "", got[256];
	size_t wl = 0, gl = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		char one[64];
		int n = snprintf(one, sizeof(one), "%s:%s", tag, msgs[i]);

		if (type != SOCK_STREAM) {
			ssize_t r = recv(fd, got, sizeof(got), 0);

			if (r != n || memcmp(got, one, (size_t)n))
				fail("%s message %zu: got %zd bytes '%.*s', want '%s'", tag, i, r,
				     (int)(r > 0 ? r : 0), got, one);
		}
		memcpy(want + wl, one, (size_t)n);
		wl += (size_t)n;
	}
	if (type == SOCK_STREAM) {
		for (int tries = 0; gl < wl && tries < 100; tries++) {
			ssize_t r = recv(fd, got + gl, sizeof(got) - gl, 0);

			if (r <= 0)
				break;
			gl += (size_t)r;
		}
		if (gl != wl || memcmp(got, want, wl))
			fail("%s stream: got %zu bytes '%.*s', want '%.*s'", tag, gl, (int)gl, got,
			     (int)wl, want);
	}
	if (recv(fd, got, sizeof(got), 0) > 0)
		fail("%s: more data than was queued", tag);
}

static int child_end;

static int child(void *arg)
{
	(void)arg;
	child_wait();
	get(child_end, SOCK_STREAM, "to-child");
	if (write(child_end, "bye", 3) != 3)
		fail("child: write: %s", strerror(errno));
	return test_failed();
}

int main(int argc, char **argv)
{
	int sv[NT][2], half[2], lone[2], split[2], bufsz = 65536, one = 1;
	struct timeval tmo = { 7, 500000 }, t;
	socklen_t len;
	pid_t kid;

	test_init(argc, argv);
	for (int i = 0; i < NT; i++) {
		if (socketpair(AF_UNIX, types[i], 0, sv[i]))
			setup_fail("socketpair %d: %s", types[i], strerror(errno));
		put(sv[i][0], "a2b");
		put(sv[i][1], "b2a");
	}
	if (setsockopt(sv[0][0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)) ||
	    setsockopt(sv[0][1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)) ||
	    setsockopt(sv[1][0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(sv[2][1], SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		setup_fail("setsockopt: %s", strerror(errno));
	fcntl(sv[2][0], F_SETFL, O_NONBLOCK);
	/* half closed: the writer said it is done */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, half))
		setup_fail("socketpair: %s", strerror(errno));
	put(half[1], "half");
	shutdown(half[1], SHUT_WR);
	/* the peer is gone, its data stays */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, lone))
		setup_fail("socketpair: %s", strerror(errno));
	put(lone[1], "lone");
	close(lone[1]);
	/* one end in a child */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, split))
		setup_fail("socketpair: %s", strerror(errno));
	child_end = split[1];
	kid = test_fork(child, NULL);
	close(split[1]);
	put(split[0], "to-child");

	int snd0, rcv0;
	len = sizeof(int);
	getsockopt(sv[0][0], SOL_SOCKET, SO_SNDBUF, &snd0, &len);
	getsockopt(sv[0][1], SOL_SOCKET, SO_RCVBUF, &rcv0, &len);
	test_ready();
	test_wait();

	int v;
	len = sizeof(v);
	if (getsockopt(sv[0][0], SOL_SOCKET, SO_SNDBUF, &v, &len) || v != snd0)
		fail("SO_SNDBUF %d, want %d", v, snd0);
	if (getsockopt(sv[0][1], SOL_SOCKET, SO_RCVBUF, &v, &len) || v != rcv0)
		fail("SO_RCVBUF %d, want %d", v, rcv0);
	if (getsockopt(sv[1][0], SOL_SOCKET, SO_PASSCRED, &v, &len) || v != 1)
		fail("SO_PASSCRED %d, want 1", v);
	len = sizeof(t);
	if (getsockopt(sv[2][1], SOL_SOCKET, SO_RCVTIMEO, &t, &len) || t.tv_sec != 7 ||
	    t.tv_usec != 500000)
		fail("SO_RCVTIMEO %ld.%06ld, want 7.500000", (long)t.tv_sec, (long)t.tv_usec);
	if (!(fcntl(sv[2][0], F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK lost");
	for (int i = 0; i < NT; i++) {
		int type = 0;
		len = sizeof(type);
		if (getsockopt(sv[i][0], SOL_SOCKET, SO_TYPE, &type, &len) || type != types[i])
			fail("pair %d: type %d, want %d", i, type, types[i]);
		get(sv[i][1], types[i], "a2b");
		get(sv[i][0], types[i], "b2a");
		/* still connected: more goes through */
		if (write(sv[i][0], "x", 1) != 1 || recv(sv[i][1], &v, 1, MSG_DONTWAIT) != 1)
			fail("pair %d: not connected after restore", i);
	}
	get(half[0], SOCK_STREAM, "half");
	fcntl(half[0], F_SETFL, 0);
	if (recv(half[0], &v, 1, 0) != 0)
		fail("half closed: want end of file after the data");
	if (send(half[1], "x", 1, MSG_NOSIGNAL) >= 0 || errno != EPIPE)
		fail("half closed: writing on the shut end: %s, want EPIPE", strerror(errno));
	if (write(half[0], "y", 1) != 1 || recv(half[1], &v, 1, MSG_DONTWAIT) != 1)
		fail("half closed: the other way is open");
	get(lone[0], SOCK_STREAM, "lone");
	fcntl(lone[0], F_SETFL, 0);
	if (recv(lone[0], &v, 1, 0) != 0)
		fail("closed peer: want end of file after the data");
	check_child(kid, "child holding one end");
	{
		char b[4] = "";
		fcntl(split[0], F_SETFL, 0);
		if (recv(split[0], b, 3, MSG_WAITALL) != 3 || memcmp(b, "bye", 3))
			fail("the child's answer: '%.3s'", b);
	}
	test_done();
}
