/*
 * Netlink sockets: FileEntry.nlsk (NetlinkSkEntry) in files.img, as
 * upstream writes it, and ours in field 100: the NETLINK_* flags that
 * upstream's entry has no room for.
 *
 * Kept: the protocol, the bound port id and every group the socket is a
 * member of (beyond the first 32 too), the peer it is connected to (port
 * id and group), the sk_opts options, O_NONBLOCK and fown, and the flags
 * NETLINK_PKTINFO, BROADCAST_ERROR, NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK,
 * EXT_ACK and GET_STRICT_CHK.  A NETLINK_DIAG dump of criu's network
 * namespace says what can't be kept: refused, naming the socket, are
 * messages queued and not read yet, a dump the kernel is in the middle of
 * answering, mmapped rings (old kernels), a socket of another namespace.
 *
 * Restore binds a new socket of the protocol to the port id with the first
 * 32 groups, joins the others, connects it, and sets the options.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "proto/sk-netlink.pb-c.h"
#include "sockets.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_LIST_MEMBERSHIPS
#define NETLINK_LIST_MEMBERSHIPS 9
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

#define NL_CONNECTED 1 /* upstream's state of a connected socket */
#define MAX_GROUP_WORDS 32 /* 1024 groups */

extern const struct fd_kind netlink_sk_kind;

/* the flags kept, each as 1 << its option number */
static const int nl_flags[] = {
	NETLINK_PKTINFO,  NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS, NETLINK_LISTEN_ALL_NSID,
	NETLINK_CAP_ACK,  NETLINK_EXT_ACK,	   NETLINK_GET_STRICT_CHK,
};

static bool is_netlink(int sk)
{
	int d = 0;
	socklen_t len = sizeof(d);

	return !getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &d, &len) && d == AF_NETLINK;
}

static bool nlsk_match(const struct fd_parms *p)
{
	int sk;
	bool yes;

	if (!S_ISSOCK(p->st.st_mode))
		return false;
	if (p->tfd >= 0)
		return is_netlink(p->tfd);
	sk = task_fd(p->pid, p->fd);
	if (sk < 0)
		return false;
	yes = is_netlink(sk);
	close(sk);
	return yes;
}

/* what NETLINK_DIAG says of one socket */
struct nl_diag {
	uint32_t ino;
	bool found;
	uint32_t flags; /* NDIAG_FLAG_* */
	uint32_t rmem;	/* bytes queued to be read */
	bool rings;
};

static int nl_diag_one(struct nlmsghdr *h, void *arg)
{
	struct netlink_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	struct nl_diag *d = arg;
	struct rtattr *a;

	if (len < 0)
		return -EIO;
	if (m->ndiag_ino != d->ino)
		return 0;
	d->found = true;
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NETLINK_DIAG_FLAGS && RTA_PAYLOAD(a) >= 4)
			memcpy(&d->flags, RTA_DATA(a), 4);
		else if (a->rta_type == NETLINK_DIAG_MEMINFO &&
			 RTA_PAYLOAD(a) >= (SK_MEMINFO_RMEM_ALLOC + 1) * 4)
			d->rmem = ((uint32_t *)RTA_DATA(a))[SK_MEMINFO_RMEM_ALLOC];
		else if (a->rta_type == NETLINK_DIAG_RX_RING || a->rta_type == NETLINK_DIAG_TX_RING)
			d->rings = true;
	}
	return 0;
}

static int nl_refusals(uint32_t ino, int sk, const char *who, int fd)
{
	struct netlink_diag_req req = {
		.sdiag_family = AF_NETLINK,
		.sdiag_protocol = NDIAG_PROTO_ALL,
		.ndiag_show = NDIAG_SHOW_MEMINFO | NDIAG_SHOW_FLAGS | NDIAG_SHOW_RING_CFG,
	};
	struct nl_diag d = { .ino = ino };
	int ret = sk_diag_dump(&req, sizeof(req), nl_diag_one, &d), proto = 0;
	socklen_t len = sizeof(proto);

	getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	if (ret) {
		pr_err("%s: fd %d (netlink socket:[%u]): can't list the netlink sockets "
		       "(netlink_diag): %s\n",
		       who, fd, ino, strerror(-ret));
		return ret;
	}
	/* the dump lists bound sockets: one it does not know is unbound
	 * (nothing can be queued on it) or of another namespace */
	ret = sk_netns_other(sk);
	if (ret) {
		if (ret > 0)
			pr_err("%s: fd %d (netlink socket:[%u], protocol %d) belongs to another "
			       "network namespace: sockets of other namespaces are not dumped yet\n",
			       who, fd, ino, proto);
		else
			pr_err("%s: fd %d (netlink socket:[%u]): can't find its network namespace: "
			       "%s\n",
			       who, fd, ino, strerror(-ret));
		return -EOPNOTSUPP;
	}
	if (!d.found)
		return 0;
	if (d.flags & NDIAG_FLAG_CB_RUNNING) {
		pr_err("%s: fd %d (netlink socket:[%u], protocol %d) is in the middle of reading a "
		       "dump the kernel answers in parts: that answer can't be made again\n",
		       who, fd, ino, proto);
		return -EOPNOTSUPP;
	}
	if (d.rmem) {
		pr_err("%s: fd %d (netlink socket:[%u], protocol %d) has messages queued and not "
		       "read yet (%u bytes): they are not dumped yet\n",
		       who, fd, ino, proto, d.rmem);
		return -EOPNOTSUPP;
	}
	if (d.rings) {
		pr_err("%s: fd %d (netlink socket:[%u], protocol %d) has mmapped rings: not dumped\n",
		       who, fd, ino, proto);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int nlsk_check(const struct fd_parms *p, const char *who)
{
	int sk = p->tfd >= 0 ? p->tfd : task_fd(p->pid, p->fd), ret;

	if (sk < 0) {
		pr_err("%s: fd %d: can't take its socket: %s\n", who, p->fd, strerror(-sk));
		return sk;
	}
	ret = nl_refusals((uint32_t)p->st.st_ino, sk, who, p->fd);
	if (sk != p->tfd)
		close(sk);
	return ret;
}

/* ---- dump ------------------------------------------------------------------------- */

struct nlsk_dump {
	NetlinkSkEntry e;
	SkOptsEntry opts;
	uint32_t groups[MAX_GROUP_WORDS];
	char dev[32];
	struct nlsk_dump *next;
};

static struct nlsk_dump *ndumps;

static int nlsk_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct sockaddr_nl me = { 0 }, peer = { 0 };
	socklen_t len = sizeof(me);
	char who[64];
	struct nlsk_dump *d;
	int proto = 0, ret;

	snprintf(who, sizeof(who), "pid %d", p->pid);
	ret = nl_refusals((uint32_t)p->st.st_ino, p->tfd, who, p->fd);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->next = ndumps;
	ndumps = d;
	netlink_sk_entry__init(&d->e);
	if (getsockname(p->tfd, (struct sockaddr *)&me, &len) ||
	    getsockopt(p->tfd, SOL_SOCKET, SO_PROTOCOL, &proto, &(socklen_t){ sizeof(proto) })) {
		pr_perror("fd %d of pid %d: can't read its netlink socket", p->fd, p->pid);
		return -errno;
	}
	len = sizeof(peer);
	if (!getpeername(p->tfd, (struct sockaddr *)&peer, &len) && (peer.nl_pid || peer.nl_groups)) {
		d->e.state = NL_CONNECTED;
		d->e.dst_portid = peer.nl_pid;
		d->e.dst_group = peer.nl_groups ? (uint32_t)__builtin_ctz(peer.nl_groups) + 1 : 0;
	}
	{
		/* every group, beyond the 32 of the address too */
		socklen_t glen = sizeof(d->groups);

		if (getsockopt(p->tfd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, d->groups, &glen)) {
			d->groups[0] = me.nl_groups;
			glen = 4;
		}
		if (glen > sizeof(d->groups)) {
			pr_err("fd %d of pid %d: netlink socket:[%lu] is a member of groups above %zu: "
			       "not dumped\n",
			       p->fd, p->pid, (unsigned long)p->st.st_ino, sizeof(d->groups) * 8);
			return -EOPNOTSUPP;
		}
		d->e.n_groups = glen / 4;
		while (d->e.n_groups && !d->groups[d->e.n_groups - 1])
			d->e.n_groups--;
		d->e.groups = d->groups;
	}
	d->e.id = f->id;
	d->e.ino = (uint32_t)p->st.st_ino;
	d->e.protocol = (uint32_t)proto;
	d->e.flags = p->flags;
	d->e.portid = me.nl_pid;
	d->e.fown = p->fown;
	snprintf(who, sizeof(who), "fd %d of pid %d", p->fd, p->pid);
	ret = sk_opts_dump(p->tfd, &d->opts, d->dev, sizeof(d->dev), who);
	if (ret)
		return ret;
	d->e.opts = &d->opts;
	for (size_t i = 0; i < sizeof(nl_flags) / sizeof(nl_flags[0]); i++) {
		int v = 0;

		if (!getsockopt(p->tfd, SOL_NETLINK, nl_flags[i], &v, &(socklen_t){ sizeof(v) }) && v)
			d->e.nl_flags |= 1u << nl_flags[i];
	}
	d->e.has_nl_flags = d->e.nl_flags != 0;
	f->fe.type = FD_TYPES__NETLINKSK;
	f->fe.nlsk = &d->e;
	f->priv = d;
	return 0;
}

static void nlsk_dump_fini(void)
{
	while (ndumps) {
		struct nlsk_dump *d = ndumps;

		ndumps = d->next;
		free(d);
	}
}

/* ---- restore ---------------------------------------------------------------------- */

static int nlsk_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const NetlinkSkEntry *e = fe->nlsk;

	if (!e || !e->opts || !e->fown) {
		pr_err("file %u: no netlink socket entry in files.img\n", fe->id);
		return -EINVAL;
	}
	if (e->n_groups > MAX_GROUP_WORDS) {
		pr_err("netlink socket %u: %zu words of groups, more than %d\n", e->ino, e->n_groups,
		       MAX_GROUP_WORDS);
		return -EINVAL;
	}
	return 0;
}

static int nlsk_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const NetlinkSkEntry *e = fe->nlsk;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	char who[96];
	int sk, ret;

	snprintf(who, sizeof(who), "fd %u of pid %u (netlink socket:[%u], protocol %u)",
		 rc_opening_fd(rc), rc_task_pid(rc, idx), e->ino, e->protocol);
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)e->protocol);
	if (sk < 0) {
		pr_perror("%s: can't make it", who);
		return -errno;
	}
	ret = sk_opts_restore(sk, e->opts, who);
	/* bound: to its port id (0 lets the kernel pick one on first use, as
	 * it did) and the first 32 groups; then the others */
	a.nl_pid = e->portid;
	a.nl_groups = e->n_groups ? e->groups[0] : 0;
	if (!ret && (a.nl_pid || a.nl_groups) && bind(sk, (struct sockaddr *)&a, sizeof(a))) {
		pr_perror("%s: can't bind it to port id %u, groups %#x", who, a.nl_pid, a.nl_groups);
		ret = -errno;
	}
	for (size_t w = 1; !ret && w < e->n_groups; w++)
		for (unsigned int b = 0; !ret && b < 32; b++) {
			int g = (int)(w * 32 + b + 1);

			if (!(e->groups[w] & (1u << b)))
				continue;
			if (setsockopt(sk, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g))) {
				pr_perror("%s: can't join group %d", who, g);
				ret = -errno;
			}
		}
	if (!ret && e->state == NL_CONNECTED) {
		struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = e->dst_portid };

		if (e->dst_group)
			to.nl_groups = 1u << (e->dst_group - 1);
		if (connect(sk, (struct sockaddr *)&to, sizeof(to))) {
			pr_perror("%s: can't connect it to port id %u, group %u", who, e->dst_portid,
				  e->dst_group);
			ret = -errno;
		}
	}
	for (size_t i = 0; !ret && i < sizeof(nl_flags) / sizeof(nl_flags[0]); i++) {
		int on = 1;

		if (!(e->nl_flags & (1u << nl_flags[i])))
			continue;
		if (setsockopt(sk, SOL_NETLINK, nl_flags[i], &on, sizeof(on))) {
			pr_perror("%s: can't set its netlink option %d", who, nl_flags[i]);
			ret = -errno;
		}
	}
	ret = ret ?: rc_restore_fown_and_flags(sk, e->flags, e->fown, rc_opening_fd(rc),
					       rc_task_pid(rc, idx));
	if (ret) {
		close(sk);
		return ret;
	}
	return sk;
}

static uint32_t nlsk_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->nlsk ? fe->nlsk->flags : 0;
}

const struct fd_kind netlink_sk_kind = {
	.name = "netlink socket",
	.type = FD_TYPES__NETLINKSK,
	.match = nlsk_match,
	.check = nlsk_check,
	.dump = nlsk_dump,
	.dump_fini = nlsk_dump_fini,
	.collect = nlsk_collect,
	.open = nlsk_open,
	.status_flags = nlsk_status_flags,
};
