/*
 * Packet sockets (needs root: CAP_NET_RAW): a SOCK_RAW one bound to lo for
 * every protocol, with PACKET_AUXDATA, PACKET_ORIGDEV, a reserve and a
 * fanout group of its own; a SOCK_DGRAM one for IPv4, not bound.  After
 * restore each has its type, protocol, interface and options, and the
 * bound one sees a UDP datagram this program sends over 127.0.0.1.
 */
#include "lib.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

TEST("packet sockets: bound to lo with options and a fanout group, and unbound", .flags = TEST_NEEDS_ROOT);

struct pk_want {
	int fd;
	const char *what;
	int type, proto;
	struct sockaddr_ll name;
	int auxdata, origdev, reserve, fanout, flags;
};

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

static void record(struct pk_want *w, int fd, const char *what)
{
	socklen_t len = sizeof(w->name);

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->what = what;
	w->type = get_int(fd, SOL_SOCKET, SO_TYPE);
	w->proto = get_int(fd, SOL_SOCKET, SO_PROTOCOL);
	getsockname(fd, (struct sockaddr *)&w->name, &len);
	w->auxdata = get_int(fd, SOL_PACKET, PACKET_AUXDATA);
	w->origdev = get_int(fd, SOL_PACKET, PACKET_ORIGDEV);
	w->reserve = get_int(fd, SOL_PACKET, PACKET_RESERVE);
	w->fanout = get_int(fd, SOL_PACKET, PACKET_FANOUT);
	w->flags = fcntl(fd, F_GETFL);
}

static void check(const struct pk_want *w)
{
	struct pk_want now;

	record(&now, w->fd, w->what);
#define SAME(f)                                                                       \
	if (now.f != w->f)                                                             \
		fail("%s: " #f " is %ld, want %ld", w->what, (long)now.f, (long)w->f);
	SAME(type);
	SAME(proto);
	SAME(name.sll_ifindex);
	SAME(name.sll_protocol);
	SAME(auxdata);
	SAME(origdev);
	SAME(reserve);
	SAME(fanout);
	SAME(flags);
#undef SAME
}

int main(int argc, char **argv)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct pk_want w[2];
	int raw, dg, on = 1, reserve = 64, fanout;
	char payload[64];

	test_init(argc, argv);
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	dg = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (raw < 0 || dg < 0)
		setup_fail("socket: %s", strerror(errno));
	a.sll_ifindex = (int)if_nametoindex("lo");
	/* a fanout group id of this process's own */
	fanout = (getpid() & 0xffff) | (PACKET_FANOUT_HASH << 16);
	if (setsockopt(raw, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) ||
	    setsockopt(raw, SOL_PACKET, PACKET_ORIGDEV, &on, sizeof(on)) ||
	    setsockopt(raw, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof(reserve)) ||
	    bind(raw, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(raw, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)))
		setup_fail("raw: %s", strerror(errno));
	record(&w[0], raw, "the raw packet socket on lo");
	record(&w[1], dg, "the unbound datagram packet socket");
	if (w[0].fanout != fanout)
		setup_fail("fanout reads %#x, set %#x", w[0].fanout, fanout);

	test_ready();
	test_wait();

	for (int i = 0; i < 2; i++)
		check(&w[i]);
	/* a datagram of ours over lo shows up on the raw socket */
	snprintf(payload, sizeof(payload), "sk-packet %d after restore", getpid());
	{
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), seen = 0;
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		static char buf[65536];

		if (u < 0 || sendto(u, payload, strlen(payload), 0, (struct sockaddr *)&to,
				    sizeof(to)) < 0)
			fail("sending over lo: %s", strerror(errno));
		for (int tries = 0; !seen && tries < 500; tries++) {
			struct pollfd pf = { raw, POLLIN, 0 };
			ssize_t n;

			if (poll(&pf, 1, 10) != 1)
				continue;
			while (!seen && (n = recv(raw, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				seen = memmem(buf, (size_t)n, payload, strlen(payload)) != NULL;
		}
		if (!seen)
			fail("the raw packet socket did not see our datagram over lo");
		if (u >= 0)
			close(u);
	}
	test_done();
}
