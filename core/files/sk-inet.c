/*
 * IPv4 and IPv6 sockets: FileEntry.isk (InetSkEntry) in files.img, as
 * upstream writes it.
 *
 * What is kept: TCP sockets not connected (made, bound, listening with its
 * backlog), UDP and UDP-lite sockets (bound, connected), ICMP ping sockets
 * and raw sockets; with their addresses and ports, the socket options of
 * sk_opts_entry, the IP ones (freebind, TOS, TTL, pktinfo, hdrincl), TCP's
 * (nodelay, cork, keepalive counts and times), IPV6_V6ONLY, the interface
 * of a link-local IPv6 address, flags and owner.
 *
 * Refused at dump, naming the socket: TCP connections (established, or in
 * any state between SYN and TIME_WAIT; --tcp-established is not
 * available yet), a listener with connections not yet accepted, corked
 * UDP data (sent and not out yet), other protocols (SCTP, MPTCP, ...), a
 * socket of another network namespace.  Datagrams received and not read
 * yet can't be read without taking them: dump warns that they are lost,
 * as a network may lose them.
 *
 * Restore: each socket is made again in the task that holds it (or the
 * lowest common ancestor of its holders), its options set, bound with
 * SO_REUSEADDR on for the time of the bind (then as it was), and made to
 * listen or connect as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "options.h"
#include "proto/sk-inet.pb-c.h"
#include "sk-tcp.h"
#include "sockets.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

extern const struct fd_kind inet_sk_kind;

/* the TCP states of the kernel's include/net/tcp_states.h */
enum {
	ST_ESTABLISHED = 1,
	ST_CLOSE = 7,
	ST_LISTEN = 10,
};

static const char *const tcp_state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

/* What one socket is, read from our duplicate of it. */
struct isk {
	int family, type, proto;
	unsigned int state;
	struct sockaddr_storage src, dst;
	bool connected;
	unsigned int backlog, pending;
	char text[200]; /* "TCP socket 127.0.0.1:80 -> ...", for messages */
};

static int get_int(int sk, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return getsockopt(sk, level, name, v, &len) ? -errno : 0;
}

static bool is_inet(int sk)
{
	int d;

	return !get_int(sk, SOL_SOCKET, SO_DOMAIN, &d) && (d == AF_INET || d == AF_INET6);
}

static bool isk_match(const struct fd_parms *p)
{
	int sk;
	bool yes;

	if (!S_ISSOCK(p->st.st_mode))
		return false;
	if (p->tfd >= 0)
		return is_inet(p->tfd);
	sk = task_fd(p->pid, p->fd);
	if (sk < 0)
		return false;
	yes = is_inet(sk);
	close(sk);
	return yes;
}

static const char *proto_name(int type, int proto)
{
	if (type == SOCK_RAW)
		return "raw";
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_UDPLITE:
		return "UDP-lite";
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return "ICMP ping";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_MPTCP:
		return "MPTCP";
	default:
		return "IP";
	}
}

static void addr_text(const struct sockaddr_storage *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		const struct sockaddr_in *s = (const void *)a;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s->sin_port));
	}
}

static unsigned int port_of(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
					      : ((const struct sockaddr_in *)a)->sin_port);
}

/* The socket's family, protocol, state and addresses. */
static int isk_read(int sk, struct isk *s)
{
	socklen_t len = sizeof(s->src);
	char a[80], b[80];

	memset(s, 0, sizeof(*s));
	if (get_int(sk, SOL_SOCKET, SO_DOMAIN, &s->family) ||
	    get_int(sk, SOL_SOCKET, SO_TYPE, &s->type) ||
	    get_int(sk, SOL_SOCKET, SO_PROTOCOL, &s->proto) ||
	    getsockname(sk, (struct sockaddr *)&s->src, &len))
		return -errno;
	len = sizeof(s->dst);
	s->connected = !getpeername(sk, (struct sockaddr *)&s->dst, &len);
	s->state = s->connected ? ST_ESTABLISHED : ST_CLOSE;
	if (s->type == SOCK_STREAM && s->proto == IPPROTO_TCP) {
		struct tcp_info ti;

		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -errno;
		s->state = ti.tcpi_state;
		if (s->state == ST_LISTEN) {
			/* a listener's accept queue, and its backlog */
			s->pending = ti.tcpi_unacked;
			s->backlog = ti.tcpi_sacked;
		}
	}
	addr_text(&s->src, a, sizeof(a));
	if (s->connected)
		addr_text(&s->dst, b, sizeof(b));
	snprintf(s->text, sizeof(s->text), "%s%s socket %s%s%s", proto_name(s->type, s->proto),
		 s->family == AF_INET6 ? " IPv6" : "", a, s->connected ? " -> " : "",
		 s->connected ? b : "");
	return 0;
}

static int isk_refusals(int sk, const struct isk *s, const char *who, int fd)
{
	int n = 0, ret = sk_netns_other(sk);

	if (ret) {
		if (ret > 0)
			pr_err("%s: fd %d (%s) belongs to another network namespace: sockets of other "
			       "namespaces are not dumped yet\n",
			       who, fd, s->text);
		else
			pr_err("%s: fd %d (%s): can't find its network namespace: %s\n", who, fd,
			       s->text, strerror(-ret));
		return -EOPNOTSUPP;
	}
	if (s->type == SOCK_STREAM && s->proto == IPPROTO_TCP) {
		const char *st = s->state < sizeof(tcp_state_names) / sizeof(tcp_state_names[0]) &&
						 tcp_state_names[s->state]
					 ? tcp_state_names[s->state]
					 : "?";

		if (s->state == ST_ESTABLISHED && !opts.tcp_established) {
			pr_err("%s: fd %d (%s) is an established TCP connection: dump it with "
			       "--tcp-established\n",
			       who, fd, s->text);
			return -EOPNOTSUPP;
		}
		if (s->state != ST_CLOSE && s->state != ST_LISTEN && s->state != ST_ESTABLISHED) {
			pr_err("%s: fd %d (%s) is a TCP connection in state %s: only established "
			       "connections are dumped yet (with --tcp-established)\n",
			       who, fd, s->text, st);
			return -EOPNOTSUPP;
		}
		if (s->pending) {
			pr_err("%s: fd %d (%s) is listening with %u connections not yet accepted: they "
			       "are not dumped yet\n",
			       who, fd, s->text, s->pending);
			return -EOPNOTSUPP;
		}
		return 0;
	}
	if (s->type == SOCK_DGRAM &&
	    (s->proto == IPPROTO_UDP || s->proto == IPPROTO_UDPLITE || s->proto == IPPROTO_ICMP ||
	     s->proto == IPPROTO_ICMPV6)) {
		if (!ioctl(sk, SIOCOUTQ, &n) && n > 0) {
			pr_err("%s: fd %d (%s) holds %d bytes corked or not sent yet (UDP_CORK, "
			       "MSG_MORE): they would be lost\n",
			       who, fd, s->text, n);
			return -EOPNOTSUPP;
		}
		return 0;
	}
	if (s->type == SOCK_RAW)
		return 0;
	pr_err("%s: fd %d is a%s %s socket (type %d, protocol %d): not dumped yet\n", who, fd,
	       s->family == AF_INET6 ? "n IPv6" : "n IPv4", proto_name(s->type, s->proto), s->type,
	       s->proto);
	return -EOPNOTSUPP;
}

/* the TCP connections of the tree, for check_end to find their peers */
struct conn_seen {
	struct sockaddr_storage src, dst;
	char who[256];
	struct conn_seen *next;
};

static struct conn_seen *conns;

/* an address and port, IPv4-mapped IPv6 ones as IPv4 */
static void norm(const struct sockaddr_storage *a, uint8_t out[18])
{
	memset(out, 0, 18);
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)a;

		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
			memcpy(out + 12, &s->sin6_addr.s6_addr[12], 4);
		else
			memcpy(out, &s->sin6_addr, 16);
		memcpy(out + 16, &s->sin6_port, 2);
	} else {
		memcpy(out + 12, &((const struct sockaddr_in *)a)->sin_addr, 4);
		memcpy(out + 16, &((const struct sockaddr_in *)a)->sin_port, 2);
	}
}

static bool same_end(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t x[18], y[18];

	norm(a, x);
	norm(b, y);
	return !memcmp(x, y, sizeof(x));
}

static int isk_check(const struct fd_parms *p, const char *who)
{
	struct isk s;
	int sk = p->tfd >= 0 ? p->tfd : task_fd(p->pid, p->fd), ret;

	if (sk < 0) {
		pr_err("%s: fd %d: can't take its socket: %s\n", who, p->fd, strerror(-sk));
		return sk;
	}
	ret = isk_read(sk, &s);
	if (ret)
		pr_err("%s: fd %d: can't read its socket: %s\n", who, p->fd, strerror(-ret));
	else
		ret = isk_refusals(sk, &s, who, p->fd);
	if (!ret && s.proto == IPPROTO_TCP && s.state == ST_ESTABLISHED) {
		struct conn_seen *c = calloc(1, sizeof(*c));

		if (!c) {
			ret = -ENOMEM;
		} else {
			c->src = s.src;
			c->dst = s.dst;
			snprintf(c->who, sizeof(c->who), "%s: fd %d (%s)", who, p->fd, s.text);
			c->next = conns;
			conns = c;
		}
	}
	if (sk != p->tfd)
		close(sk);
	return ret;
}

/*
 * A connection whose peer is outside the tree: until restore, what the
 * peer sends reaches no socket, and the kernel answers it with a reset.
 * Locking the connections in the firewall is not done yet, so such a
 * connection needs --network-lock skip (the peer then must stay quiet).
 */
static int isk_check_end(void)
{
	int ret = 0;

	for (struct conn_seen *c = conns; c && !ret; c = c->next) {
		bool inside = false;

		for (struct conn_seen *o = conns; o && !inside; o = o->next)
			inside = same_end(&o->src, &c->dst) && same_end(&o->dst, &c->src);
		if (inside || (opts.network_lock && !strcmp(opts.network_lock, "skip")))
			continue;
		pr_err("%s has its peer outside the dumped tree: until restore, what the peer sends "
		       "would be answered with a reset; locking the network (--network-lock "
		       "iptables/nftables) is not available yet: dump with --network-lock skip if "
		       "the peer stays quiet meanwhile\n",
		       c->who);
		ret = -EOPNOTSUPP;
	}
	while (conns) {
		struct conn_seen *c = conns;

		conns = c->next;
		free(c);
	}
	return ret;
}

/* ---- dump ------------------------------------------------------------------------- */

struct isk_dump {
	InetSkEntry e;
	SkOptsEntry opts;
	IpOptsEntry ip;
	IpOptsRawEntry raw;
	TcpOptsEntry tcp;
	uint32_t src[4], dst[4];
	char dev[IFNAMSIZ + 1], ifname[IFNAMSIZ + 1];
	struct isk_dump *next;
};

static struct isk_dump *idumps;

/* an address as upstream keeps it: its bytes in 1 or 4 words */
static size_t addr_words(const struct sockaddr_storage *a, uint32_t *w)
{
	if (a->ss_family == AF_INET6) {
		memcpy(w, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
		return 4;
	}
	memcpy(w, &((const struct sockaddr_in *)a)->sin_addr, 4);
	return 1;
}

/*
 * Options that read back a system default (a sysctl's) when never set: a
 * value is kept only when it differs from a new socket's, so that a socket
 * that never set it follows the restoring system's default.
 */
static bool differs(int sk, const struct isk *s, int level, int name, int *v)
{
	int fresh, dv;

	if (get_int(sk, level, name, v))
		return false;
	fresh = socket(s->family, s->type | SOCK_CLOEXEC, s->type == SOCK_RAW ? s->proto : 0);
	if (fresh < 0)
		return true;
	dv = *v;
	get_int(fresh, level, name, &dv);
	close(fresh);
	return dv != *v;
}

static void ip_opts_dump(int sk, const struct isk *s, struct isk_dump *d)
{
	int v;

	ip_opts_entry__init(&d->ip);
	if (s->family == AF_INET) {
		if (!get_int(sk, IPPROTO_IP, IP_FREEBIND, &v) && v)
			d->ip.has_freebind = d->ip.freebind = true;
		if (!get_int(sk, IPPROTO_IP, IP_PKTINFO, &v) && v)
			d->ip.has_pktinfo = d->ip.pktinfo = true;
		if (!get_int(sk, IPPROTO_IP, IP_TOS, &v) && v) {
			d->ip.has_tos = true;
			d->ip.tos = (uint32_t)v;
		}
		if (differs(sk, s, IPPROTO_IP, IP_TTL, &v)) {
			d->ip.has_ttl = true;
			d->ip.ttl = (uint32_t)v;
		}
	} else {
		if (!get_int(sk, IPPROTO_IPV6, IPV6_FREEBIND, &v) && v)
			d->ip.has_freebind = d->ip.freebind = true;
		if (!get_int(sk, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v) && v)
			d->ip.has_pktinfo = d->ip.pktinfo = true;
		if (!get_int(sk, IPPROTO_IPV6, IPV6_TCLASS, &v) && v) {
			d->ip.has_tos = true;
			d->ip.tos = (uint32_t)v;
		}
		if (differs(sk, s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v)) {
			d->ip.has_ttl = true;
			d->ip.ttl = (uint32_t)v;
		}
	}
	if (s->type == SOCK_RAW) {
		ip_opts_raw_entry__init(&d->raw);
		if (s->family == AF_INET && !get_int(sk, IPPROTO_IP, IP_HDRINCL, &v) && v)
			d->raw.has_hdrincl = d->raw.hdrincl = true;
		if (s->family == AF_INET && !get_int(sk, IPPROTO_IP, IP_NODEFRAG, &v) && v)
			d->raw.has_nodefrag = d->raw.nodefrag = true;
		d->ip.raw = &d->raw;
	}
	d->e.ip_opts = &d->ip;
}

static void tcp_opts_dump(int sk, const struct isk *s, struct isk_dump *d)
{
	int v;

	tcp_opts_entry__init(&d->tcp);
	if (!get_int(sk, IPPROTO_TCP, TCP_NODELAY, &v) && v)
		d->tcp.has_nodelay = d->tcp.nodelay = true;
	if (!get_int(sk, IPPROTO_TCP, TCP_CORK, &v) && v)
		d->tcp.has_cork = d->tcp.cork = true;
	if (differs(sk, s, IPPROTO_TCP, TCP_KEEPCNT, &v)) {
		d->tcp.has_keepcnt = true;
		d->tcp.keepcnt = (uint32_t)v;
	}
	if (differs(sk, s, IPPROTO_TCP, TCP_KEEPIDLE, &v)) {
		d->tcp.has_keepidle = true;
		d->tcp.keepidle = (uint32_t)v;
	}
	if (differs(sk, s, IPPROTO_TCP, TCP_KEEPINTVL, &v)) {
		d->tcp.has_keepintvl = true;
		d->tcp.keepintvl = (uint32_t)v;
	}
	d->e.tcp_opts = &d->tcp;
}

static int isk_dump(struct dump_file *f, const struct fd_parms *p)
{
	char who[256];
	struct isk_dump *d;
	struct isk s;
	int ret, n = 0, v;

	snprintf(who, sizeof(who), "pid %d", p->pid);
	ret = isk_read(p->tfd, &s);
	if (ret) {
		pr_err("fd %d of pid %d: can't read its socket: %s\n", p->fd, p->pid, strerror(-ret));
		return ret;
	}
	ret = isk_refusals(p->tfd, &s, who, p->fd);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->next = idumps;
	idumps = d;
	inet_sk_entry__init(&d->e);
	d->e.id = f->id;
	d->e.ino = (uint32_t)p->st.st_ino;
	d->e.family = (uint32_t)s.family;
	d->e.type = (uint32_t)s.type;
	d->e.proto = (uint32_t)s.proto;
	d->e.state = s.state;
	d->e.src_port = port_of(&s.src);
	d->e.dst_port = s.connected ? port_of(&s.dst) : 0;
	d->e.flags = p->flags;
	d->e.backlog = s.backlog;
	d->e.n_src_addr = addr_words(&s.src, d->src);
	d->e.src_addr = d->src;
	if (s.connected) {
		d->e.n_dst_addr = addr_words(&s.dst, d->dst);
		d->e.dst_addr = d->dst;
	}
	d->e.fown = p->fown;
	snprintf(who, sizeof(who), "fd %d of pid %d", p->fd, p->pid);
	ret = sk_opts_dump(p->tfd, &d->opts, d->dev, sizeof(d->dev), who);
	if (ret)
		return ret;
	d->e.opts = &d->opts;
	if (s.family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&s.src;

		d->e.has_v6only = true;
		d->e.v6only = !get_int(p->tfd, IPPROTO_IPV6, IPV6_V6ONLY, &v) && v;
		if (a->sin6_scope_id && if_indextoname(a->sin6_scope_id, d->ifname))
			d->e.ifname = d->ifname;
	}
	ip_opts_dump(p->tfd, &s, d);
	if (s.proto == IPPROTO_TCP)
		tcp_opts_dump(p->tfd, &s, d);
	if (s.proto == IPPROTO_TCP && s.state == ST_ESTABLISHED) {
		snprintf(who, sizeof(who), "fd %d of pid %d (%s)", p->fd, p->pid, s.text);
		ret = tcp_dump_conn(p->tfd, d->e.ino, who);
		if (ret)
			return ret;
	}
	if (s.type == SOCK_DGRAM && !ioctl(p->tfd, SIOCINQ, &n) && n > 0)
		pr_warn("fd %d of pid %d (%s): the datagrams it received and has not read (the "
			"first of %d bytes) are lost: a socket can't be read without taking them\n",
			p->fd, p->pid, s.text, n);
	f->fe.type = FD_TYPES__INETSK;
	f->fe.isk = &d->e;
	f->priv = d;
	return 0;
}

static int isk_write(int dirfd)
{
	return tcp_dump_write(dirfd);
}

static void isk_dump_fini(void)
{
	while (idumps) {
		struct isk_dump *d = idumps;

		idumps = d->next;
		free(d);
	}
}

/* ---- restore ---------------------------------------------------------------------- */

static int isk_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	const InetSkEntry *e = fe->isk;
	size_t words;

	if (!e) {
		pr_err("file %u: no inet socket entry in files.img\n", fe->id);
		return -EINVAL;
	}
	words = e->family == AF_INET6 ? 4 : 1;
	if ((e->family != AF_INET && e->family != AF_INET6) || e->n_src_addr < words ||
	    (e->n_dst_addr && e->n_dst_addr < words) || !e->opts || !e->fown) {
		pr_err("file %u: the inet socket entry of files.img is malformed (family %u, %zu "
		       "and %zu address words)\n",
		       fe->id, e->family, e->n_src_addr, e->n_dst_addr);
		return -EINVAL;
	}
	if (e->type == SOCK_STREAM && e->state == ST_ESTABLISHED && !opts.tcp_established) {
		pr_err("inet socket %u is an established TCP connection: restore it with "
		       "--tcp-established\n",
		       e->ino);
		return -EOPNOTSUPP;
	}
	if (e->type == SOCK_STREAM && e->state != ST_CLOSE && e->state != ST_LISTEN &&
	    e->state != ST_ESTABLISHED) {
		pr_err("inet socket %u: a TCP connection in state %u: only established connections "
		       "are restored yet\n",
		       e->ino, e->state);
		return -EOPNOTSUPP;
	}
	if (e->state == ST_ESTABLISHED && !e->n_dst_addr) {
		pr_err("inet socket %u: a connection with no peer address\n", e->ino);
		return -EINVAL;
	}
	return 0;
}

static socklen_t make_addr(const InetSkEntry *e, const uint32_t *w, uint32_t port,
			   struct sockaddr_storage *a)
{
	memset(a, 0, sizeof(*a));
	if (e->family == AF_INET6) {
		struct sockaddr_in6 *s = (void *)a;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		memcpy(&s->sin6_addr, w, 16);
		if (e->ifname)
			s->sin6_scope_id = if_nametoindex(e->ifname);
		return sizeof(*s);
	}
	((struct sockaddr_in *)a)->sin_family = AF_INET;
	((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
	memcpy(&((struct sockaddr_in *)a)->sin_addr, w, 4);
	return sizeof(struct sockaddr_in);
}

static bool any_addr(const InetSkEntry *e)
{
	size_t n = e->family == AF_INET6 ? 4 : 1;

	for (size_t i = 0; i < n; i++)
		if (e->src_addr[i])
			return false;
	return true;
}

static int set_opt(int sk, int level, int name, int v, const char *what, const char *who)
{
	if (setsockopt(sk, level, name, &v, sizeof(v))) {
		pr_perror("%s: can't set %s to %d", who, what, v);
		return -errno;
	}
	return 0;
}

/* the IP and TCP options; those bind needs come before it */
static int isk_opts_restore(int sk, const InetSkEntry *e, const char *who)
{
	const IpOptsEntry *ip = e->ip_opts;
	const TcpOptsEntry *t = e->tcp_opts;
	bool v6 = e->family == AF_INET6;
	int ret = 0;

	if (v6 && e->has_v6only)
		ret = set_opt(sk, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only, "IPV6_V6ONLY", who);
	if (ip) {
		if (!ret && ip->has_freebind && ip->freebind)
			ret = v6 ? set_opt(sk, IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND", who)
				 : set_opt(sk, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND", who);
		if (!ret && ip->has_pktinfo && ip->pktinfo)
			ret = v6 ? set_opt(sk, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO",
					   who)
				 : set_opt(sk, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO", who);
		if (!ret && ip->has_tos)
			ret = v6 ? set_opt(sk, IPPROTO_IPV6, IPV6_TCLASS, (int)ip->tos, "IPV6_TCLASS",
					   who)
				 : set_opt(sk, IPPROTO_IP, IP_TOS, (int)ip->tos, "IP_TOS", who);
		if (!ret && ip->has_ttl)
			ret = v6 ? set_opt(sk, IPPROTO_IPV6, IPV6_UNICAST_HOPS, (int)ip->ttl,
					   "IPV6_UNICAST_HOPS", who)
				 : set_opt(sk, IPPROTO_IP, IP_TTL, (int)ip->ttl, "IP_TTL", who);
		if (!ret && ip->raw && ip->raw->has_hdrincl && ip->raw->hdrincl)
			ret = set_opt(sk, IPPROTO_IP, IP_HDRINCL, 1, "IP_HDRINCL", who);
		if (!ret && ip->raw && ip->raw->has_nodefrag && ip->raw->nodefrag)
			ret = set_opt(sk, IPPROTO_IP, IP_NODEFRAG, 1, "IP_NODEFRAG", who);
	}
	if (t && e->proto == IPPROTO_TCP && e->state != ST_ESTABLISHED) {
		if (!ret && t->has_nodelay && t->nodelay)
			ret = set_opt(sk, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", who);
		if (!ret && t->has_cork && t->cork)
			ret = set_opt(sk, IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK", who);
		if (!ret && t->has_keepcnt)
			ret = set_opt(sk, IPPROTO_TCP, TCP_KEEPCNT, (int)t->keepcnt, "TCP_KEEPCNT", who);
		if (!ret && t->has_keepidle)
			ret = set_opt(sk, IPPROTO_TCP, TCP_KEEPIDLE, (int)t->keepidle, "TCP_KEEPIDLE",
				      who);
		if (!ret && t->has_keepintvl)
			ret = set_opt(sk, IPPROTO_TCP, TCP_KEEPINTVL, (int)t->keepintvl,
				      "TCP_KEEPINTVL", who);
	}
	return ret;
}

static int isk_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	const InetSkEntry *e = fe->isk;
	struct sockaddr_storage a;
	char who[96], at[80];
	socklen_t alen;
	int sk, ret;

	snprintf(who, sizeof(who), "fd %u of pid %u (inet socket:[%u])", rc_opening_fd(rc),
		 rc_task_pid(rc, idx), e->ino);
	sk = socket((int)e->family, (int)e->type | SOCK_CLOEXEC, (int)e->proto);
	if (sk < 0) {
		pr_perror("%s: can't make a socket of family %u, type %u, protocol %u", who,
			  e->family, e->type, e->proto);
		return -errno;
	}
	ret = sk_opts_restore(sk, e->opts, who);
	ret = ret ?: isk_opts_restore(sk, e, who);
	if (!ret && e->type == SOCK_STREAM && e->state == ST_ESTABLISHED) {
		struct sockaddr_storage d;

		alen = make_addr(e, e->src_addr, e->src_port, &a);
		make_addr(e, e->dst_addr, e->dst_port, &d);
		ret = tcp_restore_conn(rc, sk, e->ino, (struct sockaddr *)&a, (struct sockaddr *)&d,
				       alen, who);
		goto flags;
	}
	/* a raw socket's port is its protocol, which bind does not take */
	if (!ret && ((e->src_port && e->type != SOCK_RAW) || !any_addr(e))) {
		alen = make_addr(e, e->src_addr, e->type == SOCK_RAW ? 0 : e->src_port, &a);
		addr_text(&a, at, sizeof(at));
		/* the old socket's port may linger (TIME_WAIT) for a moment */
		ret = set_opt(sk, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", who);
		if (!ret && bind(sk, (struct sockaddr *)&a, alen)) {
			ret = -errno;
			pr_err("%s: can't bind it to %s: %s%s\n", who, at, strerror(-ret),
			       ret == -EADDRINUSE && e->type == SOCK_STREAM &&
					       !(e->opts->has_reuseaddr && e->opts->reuseaddr)
				       ? " (without SO_REUSEADDR, connections it closed may hold the "
					 "port in TIME_WAIT for a minute)"
				       : "");
		}
		if (!ret)
			ret = set_opt(sk, SOL_SOCKET, SO_REUSEADDR,
				      e->opts->has_reuseaddr && e->opts->reuseaddr, "SO_REUSEADDR", who);
	}
	if (!ret && e->state == ST_LISTEN && listen(sk, (int)e->backlog)) {
		pr_perror("%s: can't listen with a backlog of %u", who, e->backlog);
		ret = -errno;
	}
	if (!ret && e->type != SOCK_STREAM && e->state == ST_ESTABLISHED && e->n_dst_addr) {
		alen = make_addr(e, e->dst_addr, e->dst_port, &a);
		addr_text(&a, at, sizeof(at));
		if (connect(sk, (struct sockaddr *)&a, alen)) {
			pr_perror("%s: can't connect it to %s", who, at);
			ret = -errno;
		}
	}
flags:
	ret = ret ?: rc_restore_fown_and_flags(sk, e->flags, e->fown, rc_opening_fd(rc),
					       rc_task_pid(rc, idx));
	if (ret) {
		close(sk);
		return ret;
	}
	return sk;
}

/* Task idx's connections out of repair mode, each once (a description
 * several tasks hold, in the first of them). */
static int isk_live(struct restore_ctx *rc, int idx)
{
	for (size_t j = 0; j < rc_task_nfds(rc, idx); j++) {
		const FdinfoEntry *fd = rc_task_fd(rc, idx, j);
		const FileEntry *fe = rc_file(rc, fd->id);
		bool earlier = false;
		int ret;

		if (!fe || fe->type != FD_TYPES__INETSK || !fe->isk ||
		    fe->isk->type != SOCK_STREAM || fe->isk->state != ST_ESTABLISHED)
			continue;
		for (int i = 0; i < idx && !earlier; i++)
			for (size_t k = 0; k < rc_task_nfds(rc, i) && !earlier; k++)
				earlier = rc_task_fd(rc, i, k)->id == fd->id;
		for (size_t k = 0; k < j && !earlier; k++)
			earlier = rc_task_fd(rc, idx, k)->id == fd->id;
		if (earlier)
			continue;
		ret = tcp_restore_live(rc, (pid_t)rc_task_pid(rc, idx), (int)fd->fd, fe->isk->ino,
				       fe->isk->tcp_opts, fe->isk->opts);
		if (ret)
			return ret;
	}
	return 0;
}

static uint32_t isk_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->isk ? fe->isk->flags : 0;
}

const struct fd_kind inet_sk_kind = {
	.name = "inet socket",
	.type = FD_TYPES__INETSK,
	.match = isk_match,
	.check = isk_check,
	.check_end = isk_check_end,
	.dump = isk_dump,
	.write = isk_write,
	.dump_fini = isk_dump_fini,
	.dump_release = tcp_dump_release,
	.collect = isk_collect,
	.open = isk_open,
	.live = isk_live,
	.status_flags = isk_status_flags,
};
