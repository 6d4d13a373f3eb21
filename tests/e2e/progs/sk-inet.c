/*
 * IPv4 and IPv6 sockets that are not TCP connections: TCP listeners on
 * 127.0.0.1 and ::1 (backlog, options, O_NONBLOCK), a TCP socket bound and
 * not listening, one never bound, UDP sockets bound and connected to each
 * other, an IPv6 UDP socket with IPV6_V6ONLY.  After restore each has its
 * family, type, protocol, addresses and options, the listeners take new
 * connections, and datagrams go both ways.  Ports are the kernel's
 * ephemeral ones, on loopback only.
 */
#include "lib.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

TEST("TCP listeners (IPv4, IPv6), bound and unbound TCP sockets, UDP bound and connected, IPv6 only");

struct sk_want {
	int fd;
	const char *what;
	int domain, type, proto;
	struct sockaddr_storage name, peer;
	socklen_t namelen, peerlen;
	int flags, reuseaddr, keepalive, nodelay, tos, ttl, v6only, rcvbuf, listening;
	unsigned int backlog;
};

static int get_opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len))
		return -1;
	return v;
}

static unsigned int backlog_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_sacked;
}

static void record(struct sk_want *w, int fd, const char *what)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->what = what;
	if (fd < 0)
		setup_fail("%s: %s", what, strerror(errno));
	w->domain = get_opt(fd, SOL_SOCKET, SO_DOMAIN);
	w->type = get_opt(fd, SOL_SOCKET, SO_TYPE);
	w->proto = get_opt(fd, SOL_SOCKET, SO_PROTOCOL);
	w->namelen = sizeof(w->name);
	getsockname(fd, (struct sockaddr *)&w->name, &w->namelen);
	w->peerlen = sizeof(w->peer);
	if (getpeername(fd, (struct sockaddr *)&w->peer, &w->peerlen))
		w->peerlen = 0;
	w->flags = fcntl(fd, F_GETFL);
	w->reuseaddr = get_opt(fd, SOL_SOCKET, SO_REUSEADDR);
	w->keepalive = get_opt(fd, SOL_SOCKET, SO_KEEPALIVE);
	w->rcvbuf = get_opt(fd, SOL_SOCKET, SO_RCVBUF);
	w->listening = get_opt(fd, SOL_SOCKET, SO_ACCEPTCONN);
	if (w->proto == IPPROTO_TCP) {
		w->nodelay = get_opt(fd, IPPROTO_TCP, TCP_NODELAY);
		w->backlog = w->listening ? backlog_of(fd) : 0;
	}
	if (w->domain == AF_INET) {
		w->tos = get_opt(fd, IPPROTO_IP, IP_TOS);
		w->ttl = get_opt(fd, IPPROTO_IP, IP_TTL);
	} else {
		w->tos = get_opt(fd, IPPROTO_IPV6, IPV6_TCLASS);
		w->ttl = get_opt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
		w->v6only = get_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	}
}

static void check(const struct sk_want *w)
{
	struct sk_want now;

	record(&now, w->fd, w->what);
#define SAME(field)                                                                      \
	if (now.field != w->field)                                                       \
		fail("%s: " #field " is %ld, want %ld", w->what, (long)now.field, (long)w->field);
	SAME(domain);
	SAME(type);
	SAME(proto);
	SAME(flags);
	SAME(reuseaddr);
	SAME(keepalive);
	SAME(rcvbuf);
	SAME(listening);
	SAME(nodelay);
	SAME(backlog);
	SAME(tos);
	SAME(ttl);
	SAME(v6only);
#undef SAME
	if (now.namelen != w->namelen || memcmp(&now.name, &w->name, w->namelen))
		fail("%s: its address is another", w->what);
	if (now.peerlen != w->peerlen || memcmp(&now.peer, &w->peer, w->peerlen))
		fail("%s: its peer is another", w->what);
}

static int bound(int domain, int type, const char *addr)
{
	struct sockaddr_storage a;
	socklen_t len;
	int fd = socket(domain, type, 0);

	memset(&a, 0, sizeof(a));
	if (domain == AF_INET6) {
		struct sockaddr_in6 *s = (void *)&a;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (void *)&a;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len))
		setup_fail("bind to %s: %s", addr, strerror(errno));
	return fd;
}

static void set_opt(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		setup_fail("setsockopt %d/%d: %s", level, name, strerror(errno));
}

/* a client of a listener: connects, is accepted, and sends a byte through */
static void check_listener(const struct sk_want *w)
{
	int c = socket(w->domain, SOCK_STREAM | SOCK_CLOEXEC, 0), a = -1;
	struct pollfd pf = { w->fd, POLLIN, 0 };
	char b = 0;

	if (c < 0 || connect(c, (const struct sockaddr *)&w->name, w->namelen)) {
		fail("%s: a new client can't connect: %s", w->what, strerror(errno));
		goto out;
	}
	if (poll(&pf, 1, 5000) != 1 || (a = accept(w->fd, NULL, NULL)) < 0) {
		fail("%s: no connection to accept: %s", w->what, strerror(errno));
		goto out;
	}
	if (write(c, "k", 1) != 1 || read(a, &b, 1) != 1 || b != 'k')
		fail("%s: the accepted connection does not carry data", w->what);
out:
	/* the client closes first, so that the TIME_WAIT is on its port, not
	 * on the listener's (the IPv6 listener has no SO_REUSEADDR: after
	 * dump -R, the restore binds its port again) */
	if (c >= 0)
		close(c);
	if (a >= 0) {
		char b2;

		read(a, &b2, 1);
		close(a);
	}
}

static void check_datagram(int from, int to, const char *what)
{
	struct pollfd pf = { to, POLLIN, 0 };
	char b[8] = "";

	if (send(from, "dgram", 5, 0) != 5)
		fail("%s: send: %s", what, strerror(errno));
	else if (poll(&pf, 1, 5000) != 1 || recv(to, b, sizeof(b), MSG_DONTWAIT) != 5 ||
		 memcmp(b, "dgram", 5))
		fail("%s: the datagram did not arrive", what);
}

int main(int argc, char **argv)
{
	struct sk_want w[8];
	int l4, l6, tb, tu, ua, ub, u6, n = 0;
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);

	test_init(argc, argv);
	l4 = bound(AF_INET, SOCK_STREAM, "127.0.0.1");
	set_opt(l4, SOL_SOCKET, SO_REUSEADDR, 1);
	set_opt(l4, IPPROTO_TCP, TCP_NODELAY, 1);
	set_opt(l4, IPPROTO_IP, IP_TOS, 0x10);
	if (listen(l4, 7) || fcntl(l4, F_SETFL, O_NONBLOCK))
		setup_fail("listen: %s", strerror(errno));
	l6 = bound(AF_INET6, SOCK_STREAM, "::1");
	set_opt(l6, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (listen(l6, 3))
		setup_fail("listen v6: %s", strerror(errno));
	tb = bound(AF_INET, SOCK_STREAM, "127.0.0.1");
	set_opt(tb, SOL_SOCKET, SO_RCVBUF, 32768);
	tu = socket(AF_INET6, SOCK_STREAM, 0);
	ua = bound(AF_INET, SOCK_DGRAM, "127.0.0.1");
	ub = bound(AF_INET, SOCK_DGRAM, "127.0.0.1");
	set_opt(ua, IPPROTO_IP, IP_TTL, 17);
	if (getsockname(ub, (struct sockaddr *)&a, &len) || connect(ua, (struct sockaddr *)&a, len))
		setup_fail("connect udp: %s", strerror(errno));
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	set_opt(u6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	{
		struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		if (bind(u6, (struct sockaddr *)&s, sizeof(s)))
			setup_fail("bind u6: %s", strerror(errno));
	}
	record(&w[n++], l4, "the IPv4 TCP listener");
	record(&w[n++], l6, "the IPv6 TCP listener");
	record(&w[n++], tb, "the bound TCP socket");
	record(&w[n++], tu, "the unbound IPv6 TCP socket");
	record(&w[n++], ua, "the connected UDP socket");
	record(&w[n++], ub, "the bound UDP socket");
	record(&w[n++], u6, "the IPv6-only UDP socket");
	if (w[0].backlog != 7 || !w[0].listening)
		setup_fail("the listener's backlog reads %u", w[0].backlog);

	test_ready();
	test_wait();

	for (int i = 0; i < n; i++)
		check(&w[i]);
	check_listener(&w[0]);
	check_listener(&w[1]);
	check_datagram(ua, ub, "connected UDP to bound UDP");
	/* and back, to the connected one's address */
	{
		struct pollfd pf = { ua, POLLIN, 0 };
		char b[8] = "";

		if (sendto(ub, "back", 4, 0, (struct sockaddr *)&w[4].name, w[4].namelen) != 4 ||
		    poll(&pf, 1, 5000) != 1 || recv(ua, b, sizeof(b), MSG_DONTWAIT) != 4)
			fail("a datagram to the connected UDP socket did not arrive");
	}
	{
		int c = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&w[6].name, w[6].namelen))
			fail("can't connect to the IPv6-only UDP socket: %s", strerror(errno));
		else
			check_datagram(c, u6, "UDP to the IPv6-only socket");
		if (c >= 0)
			close(c);
	}
	test_done();
}
