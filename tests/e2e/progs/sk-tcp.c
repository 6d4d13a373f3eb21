/*
 * Established TCP connections (--tcp-established), both ends in this
 * process, over 127.0.0.1 and ::1: each direction holds data not read yet,
 * and one direction is full (a small receive buffer at one end, and more
 * written at the other than fits, so its send queue holds data sent and not
 * acknowledged, and data not sent at all).  After restore every byte
 * arrives, exactly once and in order, both ways; the connections keep
 * their addresses, TCP_NODELAY, and carry new data; the listener that
 * accepted them still takes new connections.
 */
#include "lib.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

TEST("established TCP connections with data in flight both ways, IPv4 and IPv6",
     .criu_opts = "--tcp-established");

#define FULL (8 << 20) /* more than the small ends can take in */

struct conn {
	const char *what;
	int listener, client, server;
	struct sockaddr_storage cname, cpeer;
	socklen_t clen, plen;
	long to_server, to_client; /* bytes written each way */
};

static unsigned char byte_at(long i, int salt)
{
	return (unsigned char)((i * 131 + salt) % 251);
}

static void set_int(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		setup_fail("setsockopt %d: %s", name, strerror(errno));
}

/* writes the pattern from *done on until the socket takes no more (or max) */
static void write_pattern(int fd, long *done, long max, int salt)
{
	unsigned char buf[4096];

	while (*done < max) {
		long n = max - *done < (long)sizeof(buf) ? max - *done : (long)sizeof(buf);
		ssize_t w;

		for (long i = 0; i < n; i++)
			buf[i] = byte_at(*done + i, salt);
		w = send(fd, buf, (size_t)n, MSG_DONTWAIT);
		if (w <= 0)
			break;
		*done += w;
	}
}

static void setup(struct conn *c, int family, const char *what)
{
	struct sockaddr_storage a;
	socklen_t len;

	memset(c, 0, sizeof(*c));
	c->what = what;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET6) {
		((struct sockaddr_in6 *)&a)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&a)->sin_family = AF_INET;
		((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(struct sockaddr_in);
	}
	c->listener = socket(family, SOCK_STREAM, 0);
	/* the accepted end takes little (its window comes from the listener's
	 * buffer), and the client's send buffer is small: its queue fills */
	set_int(c->listener, SOL_SOCKET, SO_RCVBUF, 4096);
	/* as servers have it: after dump -R the original's connections close
	 * into TIME_WAIT on this port, and the restore binds it again */
	set_int(c->listener, SOL_SOCKET, SO_REUSEADDR, 1);
	if (c->listener < 0 || bind(c->listener, (struct sockaddr *)&a, len) ||
	    listen(c->listener, 4) || getsockname(c->listener, (struct sockaddr *)&a, &len))
		setup_fail("%s: listener: %s", what, strerror(errno));
	c->client = socket(family, SOCK_STREAM, 0);
	set_int(c->client, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int(c->client, SOL_SOCKET, SO_SNDBUF, 32768);
	if (c->client < 0 || connect(c->client, (struct sockaddr *)&a, len))
		setup_fail("%s: connect: %s", what, strerror(errno));
	c->server = accept(c->listener, NULL, NULL);
	if (c->server < 0)
		setup_fail("%s: accept: %s", what, strerror(errno));
	c->clen = sizeof(c->cname);
	c->plen = sizeof(c->cpeer);
	getsockname(c->client, (struct sockaddr *)&c->cname, &c->clen);
	getpeername(c->client, (struct sockaddr *)&c->cpeer, &c->plen);
	/* server -> client: a little, unread; client -> server: until full */
	write_pattern(c->server, &c->to_client, 3000, 7);
	for (int i = 0; i < 50; i++) {
		write_pattern(c->client, &c->to_server, FULL, 3);
		usleep(2000);
	}
	if (c->to_server >= FULL || c->to_client != 3000)
		setup_fail("%s: the queues did not fill (%ld, %ld)", what, c->to_server,
			   c->to_client);
}

/* reads n bytes of the pattern from fd; the number that were right */
static long read_pattern(int fd, long n, int salt, const char *what, const char *dir)
{
	unsigned char buf[4096];
	long got = 0;

	while (got < n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&pf, 1, 5000) != 1) {
			fail("%s: %s: %ld of %ld bytes arrived", what, dir, got, n);
			return got;
		}
		r = recv(fd, buf, sizeof(buf) < (size_t)(n - got) ? sizeof(buf) : (size_t)(n - got),
			 MSG_DONTWAIT);
		if (r <= 0) {
			fail("%s: %s: recv after %ld bytes: %s", what, dir, got,
			     r ? strerror(errno) : "end of stream");
			return got;
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != byte_at(got + i, salt)) {
				fail("%s: %s: byte %ld is wrong", what, dir, got + i);
				return got;
			}
		got += r;
	}
	return got;
}

static void check(struct conn *c)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	struct tcp_info ti;
	long extra = 0;

	if (getsockname(c->client, (struct sockaddr *)&a, &len) || len != c->clen ||
	    memcmp(&a, &c->cname, len))
		fail("%s: the client's address changed", c->what);
	len = sizeof(a);
	if (getpeername(c->client, (struct sockaddr *)&a, &len) || len != c->plen ||
	    memcmp(&a, &c->cpeer, len))
		fail("%s: the client's peer changed", c->what);
	len = sizeof(ti);
	if (getsockopt(c->server, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    ti.tcpi_state != TCP_ESTABLISHED)
		fail("%s: the server end is not established (state %d)", c->what, ti.tcpi_state);
	{
		int v = 0;

		len = sizeof(v);
		if (getsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &v, &len) || !v)
			fail("%s: TCP_NODELAY is off", c->what);
	}
	/* everything written, both ways, exactly once and in order */
	read_pattern(c->client, c->to_client, 7, c->what, "server to client");
	read_pattern(c->server, c->to_server, 3, c->what, "client to server");
	/* and more, both ways */
	write_pattern(c->server, &extra, 100, 9);
	read_pattern(c->client, 100, 9, c->what, "new data to the client");
	extra = 0;
	write_pattern(c->client, &extra, 100, 11);
	read_pattern(c->server, 100, 11, c->what, "new data to the server");
	/* the listener takes a new connection */
	{
		struct sockaddr_storage l;
		socklen_t ll = sizeof(l);
		int n = -1, s = -1;

		if (getsockname(c->listener, (struct sockaddr *)&l, &ll) ||
		    (n = socket(l.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    connect(n, (struct sockaddr *)&l, ll) || (s = accept(c->listener, NULL, NULL)) < 0)
			fail("%s: the listener takes no new connection: %s", c->what, strerror(errno));
		if (n >= 0)
			close(n);
		if (s >= 0)
			close(s);
	}
}

int main(int argc, char **argv)
{
	struct conn c4, c6;

	test_init(argc, argv);
	setup(&c4, AF_INET, "the IPv4 connection");
	setup(&c6, AF_INET6, "the IPv6 connection");
	test_ready();
	test_wait();
	check(&c4);
	check(&c6);
	test_done();
}
