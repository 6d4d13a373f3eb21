/*
 * Kernel feature probes about networking: socket options and ioctls, diag
 * families, netns ids, veth links across namespaces, nftables, legacy
 * iptables, tun.  What needs a network namespace runs in a child that makes
 * its own (empty, gone when the child exits): nothing of the host's network
 * is read or changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/net_namespace.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kerndat-probes.h"
#include "files/sockets.h"
#include "netlink.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef SIOCUNIXFILE
#define SIOCUNIXFILE (SIOCPROTOPRIVATE + 0)
#endif
#ifndef TCP_REPAIR
#define TCP_REPAIR 19
#endif
#define KD_NFNL_SUBSYS_NFTABLES 10
#define KD_NFT_MSG_GETTABLE 1
#define KD_IPT_SO_GET_INFO 64

/* One SOCK_DIAG_BY_FAMILY dump: 0 when the kernel answers the family. */
int kd_sock_diag_dump(const void *req, size_t len)
{
	return sk_diag_dump(req, len, NULL, NULL);
}

/* The attribute type of an RTM_NEWLINK answer, or NULL. */
static struct rtattr *link_attr(struct nlmsghdr *h, unsigned short type)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == type)
			return a;
	return NULL;
}

static int found_attr(struct nlmsghdr *h, void *arg)
{
	if (h->nlmsg_type == RTM_NEWLINK && link_attr(h, *(unsigned short *)arg))
		return 1;
	return 0;
}

static int found_link(struct nlmsghdr *h, void *arg)
{
	return h->nlmsg_type == RTM_NEWLINK ? 1 : 0;
}

static void link_req(struct nl_req *r, int type, int flags, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };

	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(ifi));
	r->h.nlmsg_type = (unsigned short)type;
	r->h.nlmsg_flags = (unsigned short)flags;
	memcpy(NLMSG_DATA(&r->h), &ifi, sizeof(ifi));
}

/* ---- namespaces of the probes' own --------------------------------------------------- */

static bool own_netns(char *why, size_t len)
{
	if (unshare(CLONE_NEWNET)) {
		snprintf(why, len, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return false;
	}
	return true;
}

static bool lo_up(char *why, size_t len)
{
	struct ifreq ifr;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(sk, SIOCSIFFLAGS, &ifr))) {
		snprintf(why, len, "can't bring lo up: %s", strerror(errno));
		if (sk >= 0)
			close(sk);
		return false;
	}
	close(sk);
	return true;
}

/* A TCP socket that sent its FIN can be put in repair mode. */
static bool tcp_half_closed_child(char *why, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l, c, s, one = 1;

	if (!own_netns(why, len) || !lo_up(why, len))
		return false;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen) ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) || (s = accept(l, NULL, NULL)) < 0 ||
	    shutdown(c, SHUT_WR)) {
		snprintf(why, len, "loopback connection: %s", strerror(errno));
		return false;
	}
	usleep(10000); /* the FIN's ack */
	if (setsockopt(c, SOL_TCP, TCP_REPAIR, &one, sizeof(one))) {
		snprintf(why, len, "TCP_REPAIR on a half-closed socket: %s", strerror(errno));
		return false;
	}
	return true;
}

/*
 * A veth pair across two namespaces of the child's own: the peer's link
 * shows IFLA_LINK_NETNSID (link_nsid); moving a link to another namespace
 * with IFLA_NEW_IFINDEX gives it that index there (newifindex).
 */
static bool veth_pair(int peer_ns, char *why, size_t len)
{
	struct nl_req r;
	struct rtattr *info, *data, *peer;
	struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
	int ret;

	link_req(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
	nl_add(&r, IFLA_IFNAME, "kd0", 4);
	info = nl_add(&r, IFLA_LINKINFO, NULL, 0);
	nl_add(&r, IFLA_INFO_KIND, "veth", 5);
	data = nl_add(&r, IFLA_INFO_DATA, NULL, 0);
	peer = nl_add(&r, VETH_INFO_PEER, &pifi, sizeof(pifi));
	nl_add(&r, IFLA_IFNAME, "kd1", 4);
	nl_add(&r, IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns));
	nl_end(&r, peer);
	nl_end(&r, data);
	nl_end(&r, info);
	ret = nl_talk(NETLINK_ROUTE, &r, NULL, NULL);
	if (ret)
		snprintf(why, len, "can't create a veth pair: %s", strerror(-ret));
	return ret == 0;
}

static bool two_netns(int *first, char *why, size_t len)
{
	if (!own_netns(why, len))
		return false;
	*first = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*first < 0 || !own_netns(why, len)) {
		if (*first < 0)
			snprintf(why, len, "/proc/self/ns/net: %s", strerror(errno));
		return false;
	}
	return true;
}

static bool link_nsid_child(char *why, size_t len)
{
	unsigned short type = IFLA_LINK_NETNSID;
	struct nl_req r;
	int ns_a, ret;

	if (!two_netns(&ns_a, why, len) || !veth_pair(ns_a, why, len))
		return false;
	link_req(&r, RTM_GETLINK, 0, 0);
	nl_add(&r, IFLA_IFNAME, "kd0", 4);
	ret = nl_talk(NETLINK_ROUTE, &r, found_attr, &type);
	if (ret != 1)
		snprintf(why, len, "a veth whose peer is in another netns has no IFLA_LINK_NETNSID");
	return ret == 1;
}

static bool newifindex_child(char *why, size_t len)
{
	const int index = 4242;
	struct nl_req r;
	int ns_a, ret;

	if (!two_netns(&ns_a, why, len) || !veth_pair(ns_a, why, len))
		return false;
	link_req(&r, RTM_NEWLINK, NLM_F_ACK, 0);
	nl_add(&r, IFLA_IFNAME, "kd0", 4);
	nl_add(&r, IFLA_NET_NS_FD, &ns_a, sizeof(ns_a));
	nl_add(&r, IFLA_NEW_IFINDEX, &index, sizeof(index));
	ret = nl_talk(NETLINK_ROUTE, &r, NULL, NULL);
	if (ret) {
		snprintf(why, len, "moving a link with IFLA_NEW_IFINDEX: %s", strerror(-ret));
		return false;
	}
	if (setns(ns_a, CLONE_NEWNET)) {
		snprintf(why, len, "setns: %s", strerror(errno));
		return false;
	}
	link_req(&r, RTM_GETLINK, 0, index);
	ret = nl_talk(NETLINK_ROUTE, &r, found_link, NULL);
	if (ret != 1)
		snprintf(why, len, "the moved link did not get the index it asked for");
	return ret == 1;
}

static int got_nsid(struct nlmsghdr *h, void *arg)
{
	return h->nlmsg_type == RTM_NEWNSID ? 1 : 0;
}

static void probe_nsid(void)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nl_req r;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		kd_set(KD_NSID, false, "/proc/self/ns/net: %s", strerror(errno));
		return;
	}
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(g));
	r.h.nlmsg_type = RTM_GETNSID;
	memcpy(NLMSG_DATA(&r.h), &g, sizeof(g));
	nl_add(&r, NETNSA_FD, &fd, sizeof(fd));
	ret = nl_talk(NETLINK_ROUTE, &r, got_nsid, NULL);
	close(fd);
	kd_set(KD_NSID, ret == 1, "RTM_GETNSID: %s", ret < 0 ? strerror(-ret) : "no answer");
}

/* A netns can be left and entered again by its fd, as an external netns is. */
static bool external_net_ns_child(char *why, size_t len)
{
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (host < 0) {
		snprintf(why, len, "/proc/self/ns/net: %s", strerror(errno));
		return false;
	}
	if (!own_netns(why, len))
		return false;
	if (setns(host, CLONE_NEWNET)) {
		snprintf(why, len, "setns(CLONE_NEWNET): %s", strerror(errno));
		return false;
	}
	return true;
}

static bool nftables_child(char *why, size_t len)
{
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
	struct nl_req r;
	int ret;

	if (!own_netns(why, len))
		return false;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(g));
	r.h.nlmsg_type = (KD_NFNL_SUBSYS_NFTABLES << 8) | KD_NFT_MSG_GETTABLE;
	r.h.nlmsg_flags = NLM_F_DUMP;
	memcpy(NLMSG_DATA(&r.h), &g, sizeof(g));
	ret = nl_talk(NETLINK_NETFILTER, &r, NULL, NULL);
	if (ret)
		snprintf(why, len, "nf_tables: %s", strerror(-ret));
	return ret == 0;
}

static bool ipt_legacy_child(char *why, size_t len)
{
	struct {
		char name[32];
		unsigned int valid_hooks, hook_entry[5], underflow[5], num_entries, size;
	} info;
	socklen_t ilen = sizeof(info);
	int sk;

	if (!own_netns(why, len))
		return false;
	sk = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (sk < 0) {
		snprintf(why, len, "raw socket: %s", strerror(errno));
		return false;
	}
	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "filter");
	if (getsockopt(sk, SOL_IP, KD_IPT_SO_GET_INFO, &info, &ilen)) {
		snprintf(why, len, "legacy iptables (ip_tables, iptable_filter): %s",
			 strerror(errno));
		return false;
	}
	return true;
}

static void probe_sockopt(enum kd_feature f, int family, int level, int name, const char *what)
{
	int one = 1, sk = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;
	socklen_t len = sizeof(one);

	if (sk < 0) {
		kd_set(f, false, "socket: %s", strerror(errno));
		return;
	}
	r = f == KD_SOCKOPT_BUF_LOCK ? getsockopt(sk, level, name, &one, &len)
				     : setsockopt(sk, level, name, &one, sizeof(one));
	kd_set(f, r == 0, "%s: %s", what, strerror(errno));
	close(sk);
}

static void probe_sk_ioctl(enum kd_feature f)
{
	int family = f == KD_SK_NS ? AF_INET : AF_UNIX;
	int sk = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (sk < 0) {
		kd_set(f, false, "socket: %s", strerror(errno));
		return;
	}
	r = ioctl(sk, f == KD_SK_NS ? SIOCGSKNS : SIOCUNIXFILE);
	if (f == KD_SK_NS)
		kd_set(f, r >= 0, "SIOCGSKNS: %s", strerror(errno));
	else /* an unbound socket has no file: ENOENT says the ioctl is known */
		kd_set(f, r >= 0 || errno == ENOENT, "SIOCUNIXFILE: %s", strerror(errno));
	if (r >= 0)
		close(r);
	close(sk);
}

static void probe_tun(enum kd_feature f)
{
	unsigned int index = 0;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), r;

	if (fd < 0) {
		kd_set(f, false, "/dev/net/tun: %s", strerror(errno));
		return;
	}
	if (f == KD_TUN) {
		r = ioctl(fd, TUNSETIFINDEX, &index);
		kd_set(f, r == 0, "TUNSETIFINDEX: %s", strerror(errno));
	} else {
		/* on a tun fd not attached to a device: EBADFD means it is known */
		r = ioctl(fd, TUNGETDEVNETNS);
		kd_set(f, r >= 0 || errno == EBADFD, "TUNGETDEVNETNS: %s", strerror(errno));
		if (r >= 0)
			close(r);
	}
	close(fd);
}

static void probe_net_diag_raw(void)
{
	struct inet_diag_req_v2 r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_RAW,
				      .idiag_states = ~0U };
	int err = kd_sock_diag_dump(&r, sizeof(r));

	if (err == -ENOENT)
		kd_set(KD_NET_DIAG_RAW, false, "the kernel has no raw_diag");
	else
		kd_set(KD_NET_DIAG_RAW, err == 0, "sock_diag for raw sockets: %s", strerror(-err));
}

void kerndat_probe_net(enum kd_feature f)
{
	switch (f) {
	case KD_TCP_HALF_CLOSED:
		kd_probe_in_child(f, tcp_half_closed_child);
		break;
	case KD_SK_NS:
	case KD_SK_UNIX_FILE:
		probe_sk_ioctl(f);
		break;
	case KD_NET_DIAG_RAW:
		probe_net_diag_raw();
		break;
	case KD_NSID:
		probe_nsid();
		break;
	case KD_LINK_NSID:
		kd_probe_in_child(f, link_nsid_child);
		break;
	case KD_NEWIFINDEX:
		kd_probe_in_child(f, newifindex_child);
		break;
	case KD_EXTERNAL_NET_NS:
		kd_probe_in_child(f, external_net_ns_child);
		break;
	case KD_NFTABLES:
	case KD_NETWORK_LOCK_NFTABLES:
		kd_probe_in_child(f, nftables_child);
		break;
	case KD_IPT_LEGACY:
		kd_probe_in_child(f, ipt_legacy_child);
		break;
	case KD_SOCKOPT_BUF_LOCK:
		probe_sockopt(f, AF_INET, SOL_SOCKET, SO_BUF_LOCK, "SO_BUF_LOCK");
		break;
	case KD_IPV6_FREEBIND:
		probe_sockopt(f, AF_INET6, SOL_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND");
		break;
	case KD_TUN:
	case KD_TUN_NS:
		probe_tun(f);
		break;
	default:
		break;
	}
}
