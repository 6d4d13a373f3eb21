/*
 * Netlink sockets: a NETLINK_ROUTE socket bound to its own port id and
 * groups (one of them above 32), with NETLINK_EXT_ACK and NO_ENOBUFS; one
 * the kernel bound when it first sent (a request answered and read); a
 * NETLINK_GENERIC one never bound.  After restore each has its protocol,
 * port id, groups and flags, and a route dump (RTM_GETLINK) answers on
 * each ROUTE socket with the loopback link in it.
 */
#include "lib.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

TEST("netlink sockets: bound with groups (above 32 too) and flags, bound by the kernel, unbound");

struct nl_want {
	int fd;
	const char *what;
	int proto;
	struct sockaddr_nl name;
	uint32_t groups[4];
	int ext_ack, no_enobufs, flags;
};

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

static void record(struct nl_want *w, int fd, const char *what)
{
	socklen_t len = sizeof(w->name);

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->what = what;
	w->proto = get_int(fd, SOL_SOCKET, SO_PROTOCOL);
	getsockname(fd, (struct sockaddr *)&w->name, &len);
	len = sizeof(w->groups);
	getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, w->groups, &len);
	w->ext_ack = get_int(fd, SOL_NETLINK, NETLINK_EXT_ACK);
	w->no_enobufs = get_int(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS);
	w->flags = fcntl(fd, F_GETFL);
}

static void check(const struct nl_want *w)
{
	struct nl_want now;

	record(&now, w->fd, w->what);
	if (now.proto != w->proto)
		fail("%s: protocol %d, want %d", w->what, now.proto, w->proto);
	if (now.name.nl_pid != w->name.nl_pid || now.name.nl_groups != w->name.nl_groups)
		fail("%s: port id %u groups %#x, want %u and %#x", w->what, now.name.nl_pid,
		     now.name.nl_groups, w->name.nl_pid, w->name.nl_groups);
	if (memcmp(now.groups, w->groups, sizeof(w->groups)))
		fail("%s: its group memberships are %#x %#x, want %#x %#x", w->what, now.groups[0],
		     now.groups[1], w->groups[0], w->groups[1]);
	if (now.ext_ack != w->ext_ack || now.no_enobufs != w->no_enobufs)
		fail("%s: EXT_ACK %d NO_ENOBUFS %d, want %d and %d", w->what, now.ext_ack,
		     now.no_enobufs, w->ext_ack, w->no_enobufs);
	if (now.flags != w->flags)
		fail("%s: flags %#x, want %#x", w->what, now.flags, w->flags);
}

/* An RTM_GETLINK dump on fd: whether its answer (to our port id) names lo. */
static int dump_links(int fd, const char *what)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, 0 }, { 0 } };
	static char buf[1 << 16];
	int found = 0, done = 0;

	req.i.ifi_family = AF_UNSPEC;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return fail("%s: can't send RTM_GETLINK: %s", what, strerror(errno)), 0;
	while (!done) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pf, 1, 5000) != 1)
			return fail("%s: no answer to RTM_GETLINK", what), 0;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return fail("%s: recv: %s", what, strerror(errno)), 0;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == 7) {
				struct ifinfomsg *i = NLMSG_DATA(h);
				int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*i));

				for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len))
					if (a->rta_type == IFLA_IFNAME && !strcmp(RTA_DATA(a), "lo"))
						found = 1;
			}
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	struct nl_want w[3];
	int r1, r2, g, on = 1, group = 33;

	test_init(argc, argv);
	r1 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	r2 = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK, NETLINK_ROUTE);
	g = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (r1 < 0 || r2 < 0 || g < 0)
		setup_fail("socket: %s", strerror(errno));
	/* a port id of its own choosing, and groups */
	a.nl_pid = (uint32_t)getpid() | 0x40000000u;
	a.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;
	if (bind(r1, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on)) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on)))
		setup_fail("bind r1: %s", strerror(errno));
	/* bound by the kernel on its first send; its answer read whole */
	if (!dump_links(r2, "before the dump"))
		setup_fail("RTM_GETLINK does not show lo");
	record(&w[0], r1, "the bound ROUTE socket");
	record(&w[1], r2, "the ROUTE socket the kernel bound");
	record(&w[2], g, "the unbound GENERIC socket");
	if (!w[1].name.nl_pid || !(w[0].groups[1] & 1))
		setup_fail("no port id after a send, or group 33 not joined");

	test_ready();
	test_wait();

	for (int i = 0; i < 3; i++)
		check(&w[i]);
	if (!dump_links(r1, "the bound ROUTE socket"))
		fail("the bound ROUTE socket's link dump has no lo");
	if (!dump_links(r2, "the ROUTE socket the kernel bound"))
		fail("the kernel-bound ROUTE socket's link dump has no lo");
	test_done();
}
