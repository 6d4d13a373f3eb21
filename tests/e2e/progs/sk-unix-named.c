/* Unix sockets with names: a listener, accepted connections, datagram servers and clients. */
#include "lib.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

TEST("named unix sockets: a stream listener with an accepted connection, an abstract "
     "seqpacket listener, a datagram server with queued messages from a connected client, "
     "an unlinked bound socket");

static socklen_t addr(struct sockaddr_un *sa, const char *name, int abstract)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (abstract) {
		snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s", name);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	}
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
}

static int bound(int type, const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t l = addr(&sa, name, abstract);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, l))
		setup_fail("bind %s: %s", name, strerror(errno));
	return fd;
}

static int connected(int type, const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t l = addr(&sa, name, abstract);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, l))
		setup_fail("connect %s: %s", name, strerror(errno));
	return fd;
}

static void check_name(int fd, int peer, const struct sockaddr_un *want, socklen_t wl,
		       const char *what)
{
	struct sockaddr_un sa;
	socklen_t l = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	if ((peer ? getpeername(fd, (struct sockaddr *)&sa, &l) : getsockname(fd, (struct sockaddr *)&sa, &l)) ||
	    l != wl || memcmp(&sa, want, l))
		fail("%s: %s name differs (length %u, want %u)", what, peer ? "peer" : "own",
		     (unsigned)l, (unsigned)wl);
}

int main(int argc, char **argv)
{
	char dir[4096], path[4200], dpath[4200], gone[4200], abs_name[64];
	struct sockaddr_un sa_l, sa_a, sa_d;
	socklen_t ll, la, ld;
	struct stat st0;
	int l, c, a, sl, sc, sa2, ds, dc, g;

	test_init(argc, argv);
	if (!getcwd(dir, sizeof(dir)))
		setup_fail("getcwd: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/listen.sock", dir);
	snprintf(dpath, sizeof(dpath), "%s/dgram.sock", dir);
	snprintf(gone, sizeof(gone), "%s/gone.sock", dir);
	snprintf(abs_name, sizeof(abs_name), "criu-e2e-%d", (int)getpid());
	unlink(path);
	unlink(dpath);
	unlink(gone);

	l = bound(SOCK_STREAM, path, 0);
	chmod(path, 0640);
	if (listen(l, 7))
		setup_fail("listen: %s", strerror(errno));
	c = connected(SOCK_STREAM, path, 0);
	a = accept(l, NULL, NULL);
	if (a < 0)
		setup_fail("accept: %s", strerror(errno));
	if (write(c, "ping", 4) != 4 || write(a, "pong!", 5) != 5)
		setup_fail("write: %s", strerror(errno));

	sl = bound(SOCK_SEQPACKET, abs_name, 1);
	listen(sl, 3);
	sc = connected(SOCK_SEQPACKET, abs_name, 1);
	sa2 = accept(sl, NULL, NULL);
	if (sa2 < 0 || write(sc, "rec1", 4) != 4 || write(sc, "rec22", 5) != 5)
		setup_fail("seqpacket: %s", strerror(errno));

	ds = bound(SOCK_DGRAM, dpath, 0);
	dc = connected(SOCK_DGRAM, dpath, 0);
	if (write(dc, "d-one", 5) != 5 || write(dc, "d-two!", 6) != 6)
		setup_fail("dgram: %s", strerror(errno));

	g = bound(SOCK_DGRAM, gone, 0);
	unlink(gone);

	ll = addr(&sa_l, path, 0);
	la = addr(&sa_a, abs_name, 1);
	ld = addr(&sa_d, dpath, 0);
	stat(path, &st0);
	test_ready();
	test_wait();

	char b[16] = "";
	struct stat st;
	int v;
	socklen_t len = sizeof(v);

	check_name(l, 0, &sa_l, ll, "listener");
	check_name(a, 0, &sa_l, ll, "accepted");
	check_name(c, 1, &sa_l, ll, "client");
	check_name(sa2, 0, &sa_a, la, "abstract accepted");
	check_name(sc, 1, &sa_a, la, "abstract client");
	check_name(ds, 0, &sa_d, ld, "datagram server");
	check_name(dc, 1, &sa_d, ld, "datagram client");
	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != (st0.st_mode & 07777))
		fail("%s: mode %o, want %o", path, st.st_mode & 07777, st0.st_mode & 07777);
	if (!access(gone, F_OK))
		fail("%s was unlinked but is back", gone);
	if (getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) || !v)
		fail("the listener does not listen");
	if (recv(a, b, sizeof(b), MSG_DONTWAIT) != 4 || memcmp(b, "ping", 4))
		fail("accepted end: got '%.4s', want ping", b);
	if (recv(c, b, sizeof(b), MSG_DONTWAIT) != 5 || memcmp(b, "pong!", 5))
		fail("client end: got '%.5s', want pong!", b);
	if (recv(sa2, b, sizeof(b), MSG_DONTWAIT) != 4 || memcmp(b, "rec1", 4) ||
	    recv(sa2, b, sizeof(b), MSG_DONTWAIT) != 5 || memcmp(b, "rec22", 5))
		fail("seqpacket records lost");
	if (recv(ds, b, sizeof(b), MSG_DONTWAIT) != 5 || memcmp(b, "d-one", 5) ||
	    recv(ds, b, sizeof(b), MSG_DONTWAIT) != 6 || memcmp(b, "d-two!", 6))
		fail("datagrams lost");
	/* the listener still takes connections, the datagram server still receives */
	{
		int c2 = connected(SOCK_STREAM, path, 0), a2 = accept(l, NULL, NULL);

		if (a2 < 0 || write(c2, "z", 1) != 1 || recv(a2, b, 1, 0) != 1)
			fail("a new connection after restore: %s", strerror(errno));
	}
	if (write(dc, "after", 5) != 5 || recv(ds, b, sizeof(b), MSG_DONTWAIT) != 5)
		fail("a datagram after restore: %s", strerror(errno));
	(void)g;
	unlink(path);
	unlink(dpath);
	test_done();
}
