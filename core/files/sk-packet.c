/*
 * Packet sockets (AF_PACKET): FileEntry.psk (PacketSockEntry) in
 * files.img, as upstream writes it.
 *
 * A PACKET_DIAG dump of criu's network namespace gives each socket's type,
 * protocol, bound interface, the packet options (version, reserve, copy
 * threshold, timestamp source, auxdata, origdev, vnet header, loss), its
 * multicast memberships, fanout group and rings.  Kept: all of it but the
 * rings, with the sk_opts options, O_NONBLOCK and fown.  Refused, naming
 * the socket: mmapped rings (PACKET_RX_RING/TX_RING: the frames in them
 * and the task's mapping of them can't be made again yet), a socket of
 * another network namespace.  Packets received and not read yet are lost,
 * as a network may lose them (dump warns).
 *
 * Restore makes the socket, sets its options, binds it to its interface
 * and protocol, joins each membership (as many times as it was joined),
 * then its fanout group.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "proto/packet-sock.pb-c.h"
#include "sockets.h"

#define NO_FANOUT 0xffffffffu /* the entry's default: in no group */
#define MAX_MCLIST 64

extern const struct fd_kind packet_sk_kind;

static bool is_packet(int sk)
{
	int d = 0;
	socklen_t len = sizeof(d);

	return !getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &d, &len) && d == AF_PACKET;
}

static bool psk_match(const struct fd_parms *p)
{
	int sk;
	bool yes;

	if (!S_ISSOCK(p->st.st_mode))
		return false;
	if (p->tfd >= 0)
		return is_packet(p->tfd);
	sk = task_fd(p->pid, p->fd);
	if (sk < 0)
		return false;
	yes = is_packet(sk);
	close(sk);
	return yes;
}

/* what PACKET_DIAG says of one socket */
struct pk_diag {
	uint32_t ino;
	bool found, has_info, rx_ring, tx_ring;
	unsigned int type, num;
	struct packet_diag_info info;
	struct packet_diag_mclist mc[MAX_MCLIST];
	size_t nmc;
	bool mc_over;
	uint32_t fanout;
	bool has_fanout;
	uint32_t rmem;
};

static int pk_diag_one(struct nlmsghdr *h, void *arg)
{
	struct packet_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	struct pk_diag *d = arg;
	struct rtattr *a;

	if (len < 0)
		return -EIO;
	if (m->pdiag_ino != d->ino)
		return 0;
	d->found = true;
	d->type = m->pdiag_type;
	d->num = m->pdiag_num;
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case PACKET_DIAG_INFO:
			if (n >= sizeof(d->info)) {
				memcpy(&d->info, RTA_DATA(a), sizeof(d->info));
				d->has_info = true;
			}
			break;
		case PACKET_DIAG_MCLIST:
			d->nmc = n / sizeof(d->mc[0]);
			if (d->nmc > MAX_MCLIST) {
				d->mc_over = true;
				d->nmc = MAX_MCLIST;
			}
			memcpy(d->mc, RTA_DATA(a), d->nmc * sizeof(d->mc[0]));
			break;
		case PACKET_DIAG_RX_RING:
			d->rx_ring = true;
			break;
		case PACKET_DIAG_TX_RING:
			d->tx_ring = true;
			break;
		case PACKET_DIAG_FANOUT:
			if (n >= 4) {
				memcpy(&d->fanout, RTA_DATA(a), 4);
				d->has_fanout = true;
			}
			break;
		case PACKET_DIAG_MEMINFO:
			if (n >= (SK_MEMINFO_RMEM_ALLOC + 1) * 4)
				d->rmem = ((uint32_t *)RTA_DATA(a))[SK_MEMINFO_RMEM_ALLOC];
			break;
		}
	}
	return 0;
}

static int pk_read(uint32_t ino, int sk, struct pk_diag *d, const char *who, int fd)
{
	struct packet_diag_req req = {
		.sdiag_family = AF_PACKET,
		.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG |
			      PACKET_SHOW_FANOUT | PACKET_SHOW_MEMINFO,
	};
	int ret;

	memset(d, 0, sizeof(*d));
	d->ino = ino;
	ret = sk_netns_other(sk);
	if (ret) {
		if (ret > 0)
			pr_err("%s: fd %d (packet socket:[%u]) belongs to another network namespace: "
			       "sockets of other namespaces are not dumped yet\n",
			       who, fd, ino);
		else
			pr_err("%s: fd %d (packet socket:[%u]): can't find its network namespace: %s\n",
			       who, fd, ino, strerror(-ret));
		return -EOPNOTSUPP;
	}
	ret = sk_diag_dump(&req, sizeof(req), pk_diag_one, d);
	if (ret) {
		pr_err("%s: fd %d (packet socket:[%u]): can't list the packet sockets "
		       "(packet_diag): %s\n",
		       who, fd, ino, strerror(-ret));
		return ret;
	}
	if (!d->found || !d->has_info) {
		pr_err("%s: fd %d (packet socket:[%u]) is not in the packet_diag dump of criu's "
		       "network namespace\n",
		       who, fd, ino);
		return -EOPNOTSUPP;
	}
	if (d->rx_ring || d->tx_ring) {
		pr_err("%s: fd %d (packet socket:[%u], protocol %#x) has a mmapped %s ring "
		       "(PACKET_%s_RING): packet rings are not dumped yet\n",
		       who, fd, ino, d->num, d->rx_ring ? "receive" : "transmit",
		       d->rx_ring ? "RX" : "TX");
		return -EOPNOTSUPP;
	}
	if (d->mc_over) {
		pr_err("%s: fd %d (packet socket:[%u]) has more than %d multicast memberships: not "
		       "dumped\n",
		       who, fd, ino, MAX_MCLIST);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int psk_check(const struct fd_parms *p, const char *who)
{
	int sk = p->tfd >= 0 ? p->tfd : task_fd(p->pid, p->fd), ret;
	struct pk_diag *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	if (sk < 0) {
		pr_err("%s: fd %d: can't take its socket: %s\n", who, p->fd, strerror(-sk));
		free(d);
		return sk;
	}
	ret = pk_read((uint32_t)p->st.st_ino, sk, d, who, p->fd);
	if (sk != p->tfd)
		close(sk);
	free(d);
	return ret;
}

/* ---- dump ------------------------------------------------------------------------- */

struct psk_dump {
	PacketSockEntry e;
	SkOptsEntry opts;
	PacketMclist mc[MAX_MCLIST];
	PacketMclist *mcp[MAX_MCLIST];
	uint8_t addr[MAX_MCLIST][32];
	char dev[IFNAMSIZ + 1];
	struct psk_dump *next;
};

static struct psk_dump *pdumps;

static int psk_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct pk_diag *g = malloc(sizeof(*g));
	struct psk_dump *d;
	char who[64];
	int ret;

	if (!g)
		return -ENOMEM;
	snprintf(who, sizeof(who), "pid %d", p->pid);
	ret = pk_read((uint32_t)p->st.st_ino, p->tfd, g, who, p->fd);
	d = ret ? NULL : calloc(1, sizeof(*d));
	if (!d) {
		free(g);
		return ret ? ret : -ENOMEM;
	}
	d->next = pdumps;
	pdumps = d;
	packet_sock_entry__init(&d->e);
	d->e.id = f->id;
	d->e.type = g->type;
	d->e.protocol = htons((uint16_t)g->num); /* as socket() takes it, as upstream */
	d->e.flags = p->flags;
	d->e.ifindex = g->info.pdi_index;
	d->e.fown = p->fown;
	d->e.version = g->info.pdi_version;
	d->e.reserve = g->info.pdi_reserve;
	d->e.aux_data = g->info.pdi_flags & PDI_AUXDATA;
	d->e.orig_dev = g->info.pdi_flags & PDI_ORIGDEV;
	d->e.vnet_hdr = g->info.pdi_flags & PDI_VNETHDR;
	d->e.loss = g->info.pdi_flags & PDI_LOSS;
	d->e.timestamp = g->info.pdi_tstamp;
	d->e.copy_thresh = g->info.pdi_copy_thresh;
	/* each membership as many times as it was joined */
	for (size_t i = 0; i < g->nmc; i++) {
		const struct packet_diag_mclist *m = &g->mc[i];
		size_t alen = m->pdmc_alen < 32 ? m->pdmc_alen : 32;

		for (uint32_t k = 0; k < (m->pdmc_count ? m->pdmc_count : 1); k++) {
			PacketMclist *e = &d->mc[d->e.n_mclist];

			if (d->e.n_mclist == MAX_MCLIST) {
				pr_err("fd %d of pid %d: packet socket:[%lu] has more than %d multicast "
				       "memberships: not dumped\n",
				       p->fd, p->pid, (unsigned long)p->st.st_ino, MAX_MCLIST);
				free(g);
				return -EOPNOTSUPP;
			}
			packet_mclist__init(e);
			e->index = m->pdmc_index;
			e->type = m->pdmc_type;
			memcpy(d->addr[d->e.n_mclist], m->pdmc_addr, alen);
			e->addr.data = d->addr[d->e.n_mclist];
			e->addr.len = alen;
			d->mcp[d->e.n_mclist++] = e;
		}
	}
	d->e.mclist = d->mcp;
	if (g->has_fanout) {
		d->e.has_fanout = true;
		d->e.fanout = g->fanout;
	}
	if (g->rmem)
		pr_warn("fd %d of pid %d (packet socket:[%lu]): the packets it received and has not "
			"read (%u bytes) are lost: a socket can't be read without taking them\n",
			p->fd, p->pid, (unsigned long)p->st.st_ino, g->rmem);
	free(g);
	snprintf(who, sizeof(who), "fd %d of pid %d", p->fd, p->pid);
	ret = sk_opts_dump(p->tfd, &d->opts, d->dev, sizeof(d->dev), who);
	if (ret)
		return ret;
	d->e.opts = &d->opts;
	f->fe.type = FD_TYPES__PACKETSK;
	f->fe.psk = &d->e;
	f->priv = d;
	return 0;
}

static void psk_dump_fini(void)
{
	while (pdumps) {
		struct psk_dump *d = pdumps;

		pdumps = d->next;
		free(d);
	}
}

/* ---- restore ---------------------------------------------------------------------- */

static int psk_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const PacketSockEntry *e = fe->psk;

	if (!e || !e->opts || !e->fown) {
		pr_err("file %u: no packet socket entry in files.img\n", fe->id);
		return -EINVAL;
	}
	if (e->rx_ring || e->tx_ring) {
		pr_err("packet socket %u: its image has a mmapped ring: packet rings are not restored "
		       "yet\n",
		       e->id);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int set_opt(int sk, int name, int v, const char *what, const char *who)
{
	if (setsockopt(sk, SOL_PACKET, name, &v, sizeof(v))) {
		pr_perror("%s: can't set %s to %d", who, what, v);
		return -errno;
	}
	return 0;
}

static int psk_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const PacketSockEntry *e = fe->psk;
	char who[96];
	int sk, ret;

	snprintf(who, sizeof(who), "fd %u of pid %u (packet socket, protocol %#x)",
		 rc_opening_fd(rc), rc_task_pid(rc, idx), ntohs((uint16_t)e->protocol));
	sk = socket(AF_PACKET, (int)e->type | SOCK_CLOEXEC, (int)e->protocol);
	if (sk < 0) {
		pr_perror("%s: can't make it (type %u)", who, e->type);
		return -errno;
	}
	ret = sk_opts_restore(sk, e->opts, who);
	if (!ret && e->version)
		ret = set_opt(sk, PACKET_VERSION, (int)e->version, "PACKET_VERSION", who);
	if (!ret && e->reserve)
		ret = set_opt(sk, PACKET_RESERVE, (int)e->reserve, "PACKET_RESERVE", who);
	if (!ret && e->aux_data)
		ret = set_opt(sk, PACKET_AUXDATA, 1, "PACKET_AUXDATA", who);
	if (!ret && e->orig_dev)
		ret = set_opt(sk, PACKET_ORIGDEV, 1, "PACKET_ORIGDEV", who);
	if (!ret && e->vnet_hdr)
		ret = set_opt(sk, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR", who);
	if (!ret && e->loss)
		ret = set_opt(sk, PACKET_LOSS, 1, "PACKET_LOSS", who);
	if (!ret && e->timestamp)
		ret = set_opt(sk, PACKET_TIMESTAMP, (int)e->timestamp, "PACKET_TIMESTAMP", who);
	if (!ret && e->copy_thresh)
		ret = set_opt(sk, PACKET_COPY_THRESH, (int)e->copy_thresh, "PACKET_COPY_THRESH", who);
	if (!ret && e->ifindex) {
		struct sockaddr_ll a = { .sll_family = AF_PACKET,
					 .sll_protocol = (uint16_t)e->protocol,
					 .sll_ifindex = (int)e->ifindex };

		if (bind(sk, (struct sockaddr *)&a, sizeof(a))) {
			pr_perror("%s: can't bind it to interface %u", who, e->ifindex);
			ret = -errno;
		}
	}
	for (size_t i = 0; !ret && i < e->n_mclist; i++) {
		const PacketMclist *m = e->mclist[i];
		struct packet_mreq mr = { .mr_ifindex = (int)m->index,
					  .mr_type = (unsigned short)m->type };

		mr.mr_alen = (unsigned short)(m->addr.len < sizeof(mr.mr_address) ? m->addr.len
										   : sizeof(mr.mr_address));
		memcpy(mr.mr_address, m->addr.data, mr.mr_alen);
		if (setsockopt(sk, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
			pr_perror("%s: can't join membership %u of interface %u", who, m->type,
				  m->index);
			ret = -errno;
		}
	}
	if (!ret && e->has_fanout && e->fanout != NO_FANOUT)
		ret = set_opt(sk, PACKET_FANOUT, (int)e->fanout, "PACKET_FANOUT", who);
	ret = ret ?: rc_restore_fown_and_flags(sk, e->flags, e->fown, rc_opening_fd(rc),
					       rc_task_pid(rc, idx));
	if (ret) {
		close(sk);
		return ret;
	}
	return sk;
}

static uint32_t psk_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->psk ? fe->psk->flags : 0;
}

const struct fd_kind packet_sk_kind = {
	.name = "packet socket",
	.type = FD_TYPES__PACKETSK,
	.match = psk_match,
	.check = psk_check,
	.dump = psk_dump,
	.dump_fini = psk_dump_fini,
	.collect = psk_collect,
	.open = psk_open,
	.status_flags = psk_status_flags,
};
