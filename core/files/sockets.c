/*
 * What every socket family shares: a sock_diag dump of criu's network
 * namespace, and the options of sk_opts_entry read from and written to a
 * socket.  The families (sk-unix.c, ...) are kinds of the fd table.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "netlink.h"
#include "sockets.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C
#endif

int sk_netns_other(int sk)
{
	struct stat mine, its;
	int ns = ioctl(sk, SIOCGSKNS);

	if (ns < 0)
		return errno == EINVAL || errno == ENOTTY ? 0 : -errno; /* a kernel without it */
	if (fstat(ns, &its) || stat("/proc/self/ns/net", &mine)) {
		close(ns);
		return -errno;
	}
	close(ns);
	return its.st_ino == mine.st_ino && its.st_dev == mine.st_dev ? 0 : 1;
}

int sk_diag_dump(const void *req, size_t len, int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	struct nl_req r;

	if (len > sizeof(r.buf))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(len);
	r.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.h.nlmsg_flags = NLM_F_DUMP;
	memcpy(r.buf, req, len);
	return nl_talk(NETLINK_SOCK_DIAG, &r, fn, arg);
}

static int get_int(int sk, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return getsockopt(sk, level, name, v, &len) ? -errno : 0;
}

static int get_tv(int sk, int name, uint64_t *sec, uint64_t *usec)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (getsockopt(sk, SOL_SOCKET, name, &tv, &len))
		return -errno;
	*sec = (uint64_t)tv.tv_sec;
	*usec = (uint64_t)tv.tv_usec;
	return 0;
}

/* An option that is on or set away from its default gets its field. */
#define OPT_BOOL(field, name)                                             \
	do {                                                              \
		int v_;                                                   \
		if (!get_int(sk, SOL_SOCKET, name, &v_) && v_) {         \
			o->has_##field = true;                            \
			o->field = true;                                  \
		}                                                         \
	} while (0)
#define OPT_U32(field, name, dflt)                                         \
	do {                                                               \
		int v_;                                                    \
		if (!get_int(sk, SOL_SOCKET, name, &v_) && v_ != (dflt)) { \
			o->has_##field = true;                             \
			o->field = (uint32_t)v_;                           \
		}                                                          \
	} while (0)

int sk_opts_dump(int sk, SkOptsEntry *o, char *dev, size_t devlen, const char *who)
{
	int v, ret;

	sk_opts_entry__init(o);
	ret = get_int(sk, SOL_SOCKET, SO_SNDBUF, &v);
	o->so_sndbuf = (uint32_t)v;
	ret = ret ?: get_int(sk, SOL_SOCKET, SO_RCVBUF, &v);
	o->so_rcvbuf = (uint32_t)v;
	ret = ret ?: get_tv(sk, SO_SNDTIMEO, &o->so_snd_tmo_sec, &o->so_snd_tmo_usec);
	ret = ret ?: get_tv(sk, SO_RCVTIMEO, &o->so_rcv_tmo_sec, &o->so_rcv_tmo_usec);
	if (ret) {
		pr_err("%s: can't read its socket options: %s\n", who, strerror(-ret));
		return ret;
	}
	OPT_BOOL(reuseaddr, SO_REUSEADDR);
	OPT_BOOL(so_reuseport, SO_REUSEPORT);
	OPT_BOOL(so_passcred, SO_PASSCRED);
	OPT_BOOL(so_passsec, SO_PASSSEC);
	OPT_BOOL(so_dontroute, SO_DONTROUTE);
	OPT_BOOL(so_no_check, SO_NO_CHECK);
	OPT_BOOL(so_broadcast, SO_BROADCAST);
	OPT_BOOL(so_keepalive, SO_KEEPALIVE);
	OPT_U32(so_priority, SO_PRIORITY, 0);
	OPT_U32(so_rcvlowat, SO_RCVLOWAT, 1);
	OPT_U32(so_mark, SO_MARK, 0);
	OPT_U32(so_oobinline, SO_OOBINLINE, 0);
	OPT_U32(so_buf_lock, SO_BUF_LOCK, 0);
	{
		struct linger l = { 0, 0 };
		socklen_t len = sizeof(l);

		if (!getsockopt(sk, SOL_SOCKET, SO_LINGER, &l, &len) && l.l_onoff) {
			o->has_so_linger = true;
			o->so_linger = (uint32_t)l.l_linger;
		}
	}
	{
		socklen_t len = (socklen_t)devlen;

		dev[0] = '\0';
		if (!getsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) && len && dev[0]) {
			dev[devlen - 1] = '\0';
			o->so_bound_dev = dev;
		}
	}
	{
		/* a classic BPF filter: its length in instructions, 0 when none */
		socklen_t len = 0;

		if (!getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, NULL, &len) && len) {
			pr_err("%s has a socket filter (SO_ATTACH_FILTER) of %u instructions: "
			       "socket filters are not dumped yet\n",
			       who, (unsigned int)len);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int set_int(int sk, int level, int name, int v, const char *what, const char *who)
{
	if (setsockopt(sk, level, name, &v, sizeof(v))) {
		pr_perror("%s: can't set %s to %d", who, what, v);
		return -errno;
	}
	return 0;
}

static int set_tv(int sk, int name, uint64_t sec, uint64_t usec, const char *who)
{
	struct timeval tv = { (time_t)sec, (suseconds_t)usec };

	if (setsockopt(sk, SOL_SOCKET, name, &tv, sizeof(tv))) {
		pr_perror("%s: can't set its %s timeout", who, name == SO_SNDTIMEO ? "send" : "receive");
		return -errno;
	}
	return 0;
}

int sk_opts_restore(int sk, const SkOptsEntry *o, const char *who)
{
	int ret = 0;

	/* the kernel doubles what it is given and reports the doubled value */
	ret = ret ?: set_int(sk, SOL_SOCKET, SO_SNDBUFFORCE, (int)(o->so_sndbuf / 2), "SO_SNDBUF", who);
	ret = ret ?: set_int(sk, SOL_SOCKET, SO_RCVBUFFORCE, (int)(o->so_rcvbuf / 2), "SO_RCVBUF", who);
	ret = ret ?: set_tv(sk, SO_SNDTIMEO, o->so_snd_tmo_sec, o->so_snd_tmo_usec, who);
	ret = ret ?: set_tv(sk, SO_RCVTIMEO, o->so_rcv_tmo_sec, o->so_rcv_tmo_usec, who);
#define SET_BOOL(field, name)                                                   \
	if (!ret && o->has_##field && o->field)                                 \
		ret = set_int(sk, SOL_SOCKET, name, 1, #name, who);
#define SET_U32(field, name)                                                    \
	if (!ret && o->has_##field)                                             \
		ret = set_int(sk, SOL_SOCKET, name, (int)o->field, #name, who);
	SET_BOOL(reuseaddr, SO_REUSEADDR);
	SET_BOOL(so_reuseport, SO_REUSEPORT);
	SET_BOOL(so_passcred, SO_PASSCRED);
	SET_BOOL(so_passsec, SO_PASSSEC);
	SET_BOOL(so_dontroute, SO_DONTROUTE);
	SET_BOOL(so_no_check, SO_NO_CHECK);
	SET_BOOL(so_broadcast, SO_BROADCAST);
	SET_BOOL(so_keepalive, SO_KEEPALIVE);
	SET_U32(so_priority, SO_PRIORITY);
	SET_U32(so_rcvlowat, SO_RCVLOWAT);
	SET_U32(so_mark, SO_MARK);
	SET_U32(so_oobinline, SO_OOBINLINE);
	SET_U32(so_buf_lock, SO_BUF_LOCK);
#undef SET_BOOL
#undef SET_U32
	if (!ret && o->has_so_linger) {
		struct linger l = { 1, (int)o->so_linger };

		if (setsockopt(sk, SOL_SOCKET, SO_LINGER, &l, sizeof(l))) {
			pr_perror("%s: can't set SO_LINGER", who);
			ret = -errno;
		}
	}
	if (!ret && o->so_bound_dev && o->so_bound_dev[0] &&
	    setsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, o->so_bound_dev,
		       (socklen_t)strlen(o->so_bound_dev))) {
		pr_perror("%s: can't bind it to device %s", who, o->so_bound_dev);
		ret = -errno;
	}
	if (!ret && o->n_so_filter) {
		pr_err("%s: socket filters are not restored\n", who);
		ret = -EOPNOTSUPP;
	}
	return ret;
}
