/*
 * Unix sockets (stream, datagram, seqpacket): FileEntry.usk in files.img,
 * the data queued on them in sk-queues.img.
 *
 * Dump: one UNIX_DIAG dump of criu's network namespace gives every unix
 * socket's type, state, name, peer, queue lengths and shutdown state; the
 * options come from our duplicate of the task's socket, the queued data by
 * peeking at it (SO_PEEK_OFF, so nothing is taken from the task).  Refused,
 * naming the socket: a peer outside the dumped tree (datagram sockets to a
 * named peer may leave it with --ext-unix-sk), connections queued on a
 * listener and not yet accepted, descriptors in flight (SCM_RIGHTS), names
 * relative to a directory.
 *
 * Restore: the root task creates every unix socket of the tree before it
 * forks anyone, so that no order between tasks matters (the others inherit
 * them and keep what they hold): named sockets are bound (a stale socket
 * file of the dumped one is removed first, once a connect() shows no one
 * listens on it) and listeners listen; each connected stream or seqpacket
 * pair is made by connecting to the listener's name and accepting, so both
 * ends keep the names the kernel showed, or by socketpair() when neither
 * end had a name; datagram sockets connect to their peer's name; then the
 * options are set, the queues refilled by the peer (or, for a named
 * datagram socket, by a socket of criu's sending to its name), the ends
 * closed whose task had closed them, and the shutdown states applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdkind.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proto/sk-packet.pb-c.h"
#include "proto/sk-unix.pb-c.h"
#include "sockets.h"

#define USK_HASH 1024

extern const struct fd_kind unix_sk_kind;
#define TCP_ESTABLISHED_ 1
#define TCP_CLOSE_ 7
#define TCP_LISTEN_ 10

/* ---- dump ------------------------------------------------------------------------- */

struct uskb {
	struct uskb *next;
	uint32_t len;
	bool has_ucred;
	SkUcredEntry ucred;
	uint8_t data[];
};

struct usk {
	struct usk *hnext;
	uint32_t ino, peer, vfs_ino, vfs_dev;
	uint8_t type, state, shutdown;
	bool has_vfs;
	uint32_t rqlen, wqlen, nicons;
	uint8_t name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	size_t namelen;
	/* once an fd of the tree holds it: seen by dump-check, dumped */
	bool in_tree, dumped;
	bool read; /* options and queue (usk_read) */
	char who[96];
	UnixSkEntry e;
	SkOptsEntry opts;
	FilePermsEntry perms;
	char dev[IFNAMSIZ + 1];
	struct uskb *q, **qtail;
};

static struct usk *usk_hash[USK_HASH];
static bool diag_done;

static struct usk *usk_find(uint32_t ino)
{
	for (struct usk *u = usk_hash[ino % USK_HASH]; u; u = u->hnext)
		if (u->ino == ino)
			return u;
	return NULL;
}

static int usk_diag_one(struct nlmsghdr *h, void *arg)
{
	struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	struct rtattr *a;
	struct usk *u;

	(void)arg;
	if (len < 0)
		return -EIO;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->ino = m->udiag_ino;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			u->namelen = n < sizeof(u->name) - 1 ? n : sizeof(u->name) - 1;
			memcpy(u->name, RTA_DATA(a), u->namelen);
			break;
		case UNIX_DIAG_VFS:
			if (n >= sizeof(struct unix_diag_vfs)) {
				struct unix_diag_vfs *v = RTA_DATA(a);

				u->has_vfs = true;
				u->vfs_ino = v->udiag_vfs_ino;
				u->vfs_dev = v->udiag_vfs_dev;
			}
			break;
		case UNIX_DIAG_PEER:
			if (n >= 4)
				memcpy(&u->peer, RTA_DATA(a), 4);
			break;
		case UNIX_DIAG_ICONS:
			u->nicons = (uint32_t)(n / 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (n >= sizeof(struct unix_diag_rqlen)) {
				struct unix_diag_rqlen *r = RTA_DATA(a);

				u->rqlen = r->udiag_rqueue;
				u->wqlen = r->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (n >= 1)
				u->shutdown = *(uint8_t *)RTA_DATA(a);
			break;
		}
	}
	u->hnext = usk_hash[u->ino % USK_HASH];
	usk_hash[u->ino % USK_HASH] = u;
	return 0;
}

static int usk_collect_diag(void)
{
	/* the shutdown state comes with every answer */
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = 0xffffffff,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			      UDIAG_SHOW_RQLEN,
	};
	int ret;

	if (diag_done)
		return 0;
	ret = sk_diag_dump(&req, sizeof(req), usk_diag_one, NULL);
	if (ret) {
		pr_err("can't list the unix sockets (unix_diag): %s\n", strerror(-ret));
		return ret;
	}
	diag_done = true;
	return 0;
}

/* A socket the unix diag dump of criu's network namespace knows. */
static bool usk_match(const struct fd_parms *p)
{
	return S_ISSOCK(p->st.st_mode) && !usk_collect_diag() &&
	       usk_find((uint32_t)p->st.st_ino);
}

static bool abstract(const struct usk *u)
{
	return u->namelen && u->name[0] == '\0';
}

/*
 * dump-check: every unix socket an fd of the tree holds, with who holds it
 * (its first holder names it in messages); check_end() then refuses the
 * peers outside the tree before anything is frozen for long.
 */
static int usk_refusals(const struct usk *u);
static int usk_read(struct usk *u, int sk);

static int usk_check(const struct fd_parms *p, const char *who)
{
	struct usk *u;
	int ret = usk_collect_diag();

	if (ret)
		return ret;
	u = usk_find((uint32_t)p->st.st_ino);
	if (!u)
		return 0;
	if (!u->in_tree) {
		int sk;

		u->in_tree = true;
		snprintf(u->who, sizeof(u->who), "%s: fd %d (unix socket:[%u])", who, p->fd, u->ino);
		ret = usk_refusals(u);
		if (ret)
			return ret;
		/* options and queue now: what they refuse (a socket filter,
		 * descriptors in flight) is refused before any image is written */
		sk = task_fd(p->pid, p->fd);
		if (sk < 0) {
			pr_err("%s: can't take it: %s\n", u->who, strerror(-sk));
			return sk;
		}
		ret = usk_read(u, sk);
		close(sk);
		return ret;
	}
	return 0;
}

/* What a socket of the tree may not be. */
static int usk_refusals(const struct usk *u)
{
	/* a stream end whose peer closed has both shutdown bits; one with no
	 * peer and not shut down waits in a listener's queue, unseen */
	if (u->type != SOCK_DGRAM && u->state == TCP_ESTABLISHED_ && !u->peer &&
	    (u->shutdown & 3) != 3) {
		pr_err("%s is connected to a socket a listener has not yet accepted, outside the "
		       "dumped tree: its peer can't be made again\n",
		       u->who);
		return -EOPNOTSUPP;
	}
	if (u->namelen && u->name[0] != '\0' && u->name[0] != '/') {
		pr_err("%s is bound to a name relative to a directory: not dumped yet\n", u->who);
		return -EOPNOTSUPP;
	}
	if (u->state == TCP_LISTEN_ && u->nicons) {
		pr_err("%s is listening with %u connections not yet accepted: they are not dumped "
		       "yet\n",
		       u->who, u->nicons);
		return -EOPNOTSUPP;
	}
	return 0;
}

static bool ext_allowed(const struct usk *u, const struct usk *peer);

/* -x lets a datagram socket keep a peer outside the tree that has a path name. */
static bool ext_peer(const struct usk *u, const struct usk *peer)
{
	return u->type == SOCK_DGRAM && peer && ext_allowed(u, peer) && peer->namelen &&
	       peer->name[0] != '\0';
}

static int refuse_peer(const struct usk *u, const struct usk *peer)
{
	pr_err("%s is connected to unix socket:[%u]%s outside the dumped tree: %s\n", u->who,
	       u->peer, peer && peer->namelen ? " (named)" : "",
	       u->type == SOCK_DGRAM ? "dump with --ext-unix-sk to connect again to its name at "
				       "restore"
				     : "its peer can't be made again");
	return -EOPNOTSUPP;
}

static int usk_check_end(void)
{
	for (int i = 0; i < USK_HASH; i++)
		for (struct usk *u = usk_hash[i]; u; u = u->hnext) {
			struct usk *peer;

			if (!u->in_tree || !u->peer)
				continue;
			peer = usk_find(u->peer);
			if (peer && peer->in_tree)
				continue;
			if (!ext_peer(u, peer))
				return refuse_peer(u, peer);
		}
	return 0;
}

/* "socket:[123] (@name)" for messages */
static void describe(struct usk *u, const struct fd_parms *p)
{
	char name[64] = "";

	if (u->namelen) {
		size_t n = u->namelen < 40 ? u->namelen : 40;

		snprintf(name, sizeof(name), " %s%.*s", abstract(u) ? "@" : "", (int)n - !!abstract(u),
			 (const char *)u->name + abstract(u));
	}
	snprintf(u->who, sizeof(u->who), "fd %d of pid %d (unix socket:[%u]%s)", p->fd, p->pid,
		 u->ino, name);
}

/* The task's queue, peeked at from the front with SO_PEEK_OFF and put back as it was. */
static int usk_peek_queue(struct usk *u, int sk)
{
	int old = -1, zero = 0, ret = 0;
	socklen_t olen = sizeof(old);
	/* a stream's queue is rqlen bytes, read in pieces if need be; a
	 * datagram's messages each fit its receive buffer */
	size_t cap = u->type == SOCK_STREAM ? u->rqlen + 1
			: u->opts.so_rcvbuf + 4096 > 65536 ? u->opts.so_rcvbuf + 4096 : 65536;
	uint8_t *buf = malloc(cap);
	union {
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 253)];
		struct cmsghdr align;
	} ctl;

	if (!buf)
		return -ENOMEM;
	getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, &olen);
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		ret = -errno;
		pr_perror("%s: can't peek at its queue (SO_PEEK_OFF)", u->who);
		goto out;
	}
	u->qtail = &u->q;
	for (;;) {
		struct iovec iov = { buf, cap };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *c;
		struct uskb *b;
		ssize_t n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ret = -errno;
				pr_perror("%s: can't peek at its queue", u->who);
			}
			break;
		}
		if (n == 0 && u->type == SOCK_STREAM)
			break;
		b = calloc(1, sizeof(*b) + (size_t)n);
		if (!b) {
			ret = -ENOMEM;
			break;
		}
		b->len = (uint32_t)n;
		memcpy(b->data, buf, (size_t)n);
		*u->qtail = b;
		u->qtail = &b->next;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_RIGHTS) {
				int *fds = (int *)CMSG_DATA(c);
				size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < nfds; i++)
					close(fds[i]);
				pr_err("%s has descriptors in flight in its queue (SCM_RIGHTS): "
				       "they are not dumped yet\n",
				       u->who);
				ret = -EOPNOTSUPP;
			} else if (c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cr;

				memcpy(&cr, CMSG_DATA(c), sizeof(cr));
				sk_ucred_entry__init(&b->ucred);
				b->has_ucred = true;
				b->ucred.pid = (uint32_t)cr.pid;
				b->ucred.uid = cr.uid;
				b->ucred.gid = cr.gid;
			}
		}
		if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
			pr_err("%s: a message in its queue does not fit %zu bytes\n", u->who, cap);
			ret = ret ?: -EMSGSIZE;
		}
		if (ret)
			break;
	}
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old));
out:
	free(buf);
	return ret;
}

static void usk_fill_perms(struct usk *u)
{
	struct stat st;

	if (!u->namelen || abstract(u))
		return;
	if (stat((const char *)u->name, &st) || !S_ISSOCK(st.st_mode) ||
	    (u->has_vfs && st.st_ino != u->vfs_ino)) {
		u->e.has_deleted = true;
		u->e.deleted = true;
		return;
	}
	file_perms_entry__init(&u->perms);
	u->perms.mode = st.st_mode;
	u->perms.uid = st.st_uid;
	u->perms.gid = st.st_gid;
	u->e.file_perms = &u->perms;
}

/* Its options and queue, read once from our duplicate sk of the task's socket. */
static int usk_read(struct usk *u, int sk)
{
	int ret;

	if (u->read)
		return 0;
	ret = sk_opts_dump(sk, &u->opts, u->dev, sizeof(u->dev), u->who);
	/* the diag was taken on the frozen tree, just before */
	if (!ret && u->state != TCP_LISTEN_ && u->rqlen)
		ret = usk_peek_queue(u, sk);
	u->read = !ret;
	return ret;
}

static int usk_dump(struct dump_file *f, const struct fd_parms *p)
{
	struct usk *u;
	int ret = usk_collect_diag();

	if (ret)
		return ret;
	u = usk_find((uint32_t)p->st.st_ino);
	if (!u) {
		pr_err("fd %d of pid %d: unix socket:[%lu] is not in criu's network namespace\n", p->fd,
		       p->pid, (unsigned long)p->st.st_ino);
		return -EOPNOTSUPP;
	}
	if (!u->in_tree)
		describe(u, p);
	ret = usk_refusals(u);
	if (ret)
		return ret;
	ret = usk_read(u, p->tfd);
	if (ret)
		return ret;
	unix_sk_entry__init(&u->e);
	u->e.id = f->id;
	u->e.ino = u->ino;
	u->e.type = u->type;
	u->e.state = u->state;
	u->e.flags = p->flags;
	u->e.backlog = u->state == TCP_LISTEN_ ? u->wqlen : 0;
	u->e.peer = u->peer;
	u->e.fown = p->fown;
	u->e.opts = &u->opts;
	u->e.name.len = u->namelen;
	u->e.name.data = u->name;
	if (u->shutdown) {
		u->e.has_shutdown = true;
		u->e.shutdown = (SkShutdown)(u->shutdown & 3);
	}
	usk_fill_perms(u);
	u->dumped = true;
	f->fe.usk = &u->e;
	return 0;
}

/*
 * --ext-unix-sk: a datagram socket's peer outside the tree (a logging
 * daemon's /dev/log) is written as a file of its own with USK_EXTERN, its
 * name and type only: restore connects to that name again.
 */
#define USK_EXTERN 1u

static int usk_add_external(struct usk *peer)
{
	struct dump_file *df;

	if (peer->dumped)
		return 0;
	df = dump_file_new(&unix_sk_kind);
	if (!df)
		return -ENOMEM;
	unix_sk_entry__init(&peer->e);
	sk_opts_entry__init(&peer->opts);
	peer->e.id = df->id;
	peer->e.ino = peer->ino;
	peer->e.type = peer->type;
	peer->e.state = peer->state;
	peer->e.uflags = USK_EXTERN;
	peer->e.opts = &peer->opts;
	peer->e.name.len = peer->namelen;
	peer->e.name.data = peer->name;
	{
		static FownEntry none = FOWN_ENTRY__INIT;

		peer->e.fown = &none;
	}
	peer->dumped = true; /* written once; never peeked at */
	pr_info("unix socket:[%u] (%.*s) is outside the tree: restore connects to its name\n",
		peer->ino, (int)peer->namelen, (const char *)peer->name);
	df->fe.usk = &peer->e;
	return 0;
}

/* -x, or -x=INODE,... naming the socket or its peer */
static bool ext_allowed(const struct usk *u, const struct usk *peer)
{
	const char *s = opts.ext_unix_sk_ids;

	if (!opts.ext_unix_sk)
		return false;
	if (!s)
		return true;
	while (*s) {
		char *end;
		unsigned long ino = strtoul(s, &end, 10);

		if (ino == u->ino || ino == peer->ino)
			return true;
		s = *end ? end + 1 : end;
	}
	return false;
}

/* A peer outside the dumped tree can't be made again at restore. */
static int usk_check_peers(void)
{
	for (int i = 0; i < USK_HASH; i++)
		for (struct usk *u = usk_hash[i]; u; u = u->hnext) {
			struct usk *peer;
			int ret;

			if (!u->dumped || !u->peer || (u->e.uflags & USK_EXTERN))
				continue;
			peer = usk_find(u->peer);
			if (peer && peer->dumped)
				continue;
			if (!ext_peer(u, peer))
				return refuse_peer(u, peer); /* check_end said so already */
			ret = usk_add_external(peer);
			if (ret)
				return ret;
		}
	return 0;
}

static int usk_write(int dirfd)
{
	struct cr_img *img = NULL;
	int ret = usk_check_peers();

	for (int i = 0; i < USK_HASH && !ret; i++)
		for (struct usk *u = usk_hash[i]; u && !ret; u = u->hnext)
			for (struct uskb *b = u->dumped ? u->q : NULL; b && !ret; b = b->next) {
				SkPacketEntry pe = SK_PACKET_ENTRY__INIT;

				if (!img && !(img = img_open(dirfd, IMG_SK_QUEUES, O_WRONLY)))
					return -EIO;
				pe.id_for = u->e.id;
				pe.length = b->len;
				if (b->has_ucred)
					pe.ucred = &b->ucred;
				ret = img_write_pb(img, &pe.base) ?: img_write_raw(img, b->data, b->len);
			}
	if (img && img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static void usk_dump_fini(void)
{
	for (int i = 0; i < USK_HASH; i++) {
		while (usk_hash[i]) {
			struct usk *u = usk_hash[i];

			usk_hash[i] = u->hnext;
			while (u->q) {
				struct uskb *b = u->q;

				u->q = b->next;
				free(b);
			}
			free(u);
		}
	}
	diag_done = false;
}

/* ---- restore ---------------------------------------------------------------------- */

struct rqpkt {
	struct rqpkt *next;
	const SkPacketEntry *pe;
	const uint8_t *data;
};

struct rusk {
	const FileEntry *fe;
	const UnixSkEntry *e;
	struct rusk *peer;
	int fd;		/* made by the root task; -1 until then */
	int other;	/* the far end made only to fill or to close: -1 */
	struct rqpkt *q, **qtail;
	char who[160];
};

struct usk_state {
	struct rusk *s;
	size_t n, cap;
	bool made;
	/* sk-queues.img, kept whole: the packets point into it */
	ProtobufCMessage **pkts;
	size_t npkts;
	uint8_t *data;
};

static struct usk_state *state_of(struct restore_ctx *rc, bool make);

static int usk_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	struct usk_state *st = state_of(rc, true);
	struct rusk *r;

	if (!st)
		return -ENOMEM;
	if (!fe->usk) {
		pr_err("file %u of files.img is a unix socket without its entry\n", fe->id);
		return -EINVAL;
	}
	if (fe->usk->name.len > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		pr_err("unix socket:[%u] of files.img has a name of %zu bytes\n", fe->usk->ino,
		       fe->usk->name.len);
		return -EINVAL;
	}
	if (fe->usk->type != SOCK_STREAM && fe->usk->type != SOCK_DGRAM &&
	    fe->usk->type != SOCK_SEQPACKET) {
		pr_err("unix socket:[%u] of files.img has type %u\n", fe->usk->ino, fe->usk->type);
		return -EINVAL;
	}
	if (st->n == st->cap) {
		struct rusk *n = realloc(st->s, (st->cap = st->cap ? st->cap * 2 : 16) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->s = n;
	}
	r = &st->s[st->n++];
	memset(r, 0, sizeof(*r));
	r->fe = fe;
	r->e = fe->usk;
	r->fd = r->other = -1; /* qtail is set by read_queues: st->s still moves */
	if (r->e->name.len > 1) {
		bool abs = r->e->name.data[0] == '\0';

		snprintf(r->who, sizeof(r->who), "unix socket:[%u] (%s%.*s)", r->e->ino,
			 abs ? "@" : "", (int)(r->e->name.len - abs),
			 (const char *)r->e->name.data + abs);
	} else
		snprintf(r->who, sizeof(r->who), "unix socket:[%u]", r->e->ino);
	return 0;
}

static struct usk_state *state_of(struct restore_ctx *rc, bool make)
{
	void **slot = rc_kind_state(rc, &unix_sk_kind);

	if (!*slot && make)
		*slot = calloc(1, sizeof(struct usk_state));
	return *slot;
}

static struct rusk *rusk_by_ino(struct usk_state *st, uint32_t ino)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].e->ino == ino)
			return &st->s[i];
	return NULL;
}

static struct rusk *rusk_by_id(struct usk_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].fe->id == id)
			return &st->s[i];
	return NULL;
}

/* sk-queues.img: every packet to the socket it is queued on */
static int read_queues(struct restore_ctx *rc, struct usk_state *st)
{
	struct cr_img *img = img_open(rc_images_dirfd(rc), IMG_SK_QUEUES, O_RDONLY | O_CREAT);
	ProtobufCMessage *m;
	size_t left, used = 0;
	int ret = 0;

	for (size_t i = 0; i < st->n; i++)
		st->s[i].qtail = &st->s[i].q;
	if (!img)
		return 0; /* no queued data */
	left = (size_t)img_bytes_left(img);
	st->data = malloc(left + 1);
	if (!st->data) {
		img_close(img);
		return -ENOMEM;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		SkPacketEntry *pe = (SkPacketEntry *)m;
		struct rusk *r = rusk_by_id(st, pe->id_for);
		ProtobufCMessage **n = realloc(st->pkts, (st->npkts + 1) * sizeof(*n));
		struct rqpkt *q;

		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		st->pkts = n;
		st->pkts[st->npkts++] = m;
		if (pe->length > left - used) {
			pr_err("sk-queues.img: a packet of %u bytes for socket %u runs past the end\n",
			       pe->length, pe->id_for);
			ret = -EINVAL;
			break;
		}
		ret = img_read_raw(img, st->data + used, pe->length);
		if (ret)
			break;
		if (!r) {
			pr_err("sk-queues.img: a packet for file %u, which is no unix socket of "
			       "files.img\n",
			       pe->id_for);
			ret = -EINVAL;
			break;
		}
		q = calloc(1, sizeof(*q));
		if (!q) {
			ret = -ENOMEM;
			break;
		}
		q->pe = pe;
		q->data = st->data + used;
		used += pe->length;
		*r->qtail = q;
		r->qtail = &q->next;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

static socklen_t addr_of(const UnixSkEntry *e, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, e->name.data, e->name.len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + e->name.len);
}

static bool named(const UnixSkEntry *e)
{
	return e->name.len > 0;
}

static bool is_path(const UnixSkEntry *e)
{
	return named(e) && e->name.data[0] != '\0';
}

/*
 * A socket file left at the name by the dumped socket (dump killed it)
 * would make bind() fail: it goes when nobody answers on it.
 */
static void remove_stale(const struct rusk *r, const struct sockaddr_un *sa, socklen_t len)
{
	struct stat st;
	int probe;

	if (!is_path(r->e) || lstat(sa->sun_path, &st) || !S_ISSOCK(st.st_mode))
		return;
	probe = socket(AF_UNIX, (int)r->e->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return;
	if (connect(probe, (const struct sockaddr *)sa, len) && errno == ECONNREFUSED)
		unlink(sa->sun_path);
	close(probe);
}

static int bind_named(struct rusk *r, int fd)
{
	struct sockaddr_un sa;
	socklen_t len = addr_of(r->e, &sa);

	remove_stale(r, &sa, len);
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		pr_perror("%s: can't bind it to its name %s%s", r->who, is_path(r->e) ? "" : "@",
			  sa.sun_path + !is_path(r->e));
		return -errno;
	}
	if (is_path(r->e) && r->e->file_perms) {
		const FilePermsEntry *p = r->e->file_perms;

		if (chmod(sa.sun_path, p->mode & 07777) || lchown(sa.sun_path, p->uid, p->gid)) {
			pr_perror("%s: can't give %s its owner and mode", r->who, sa.sun_path);
			return -errno;
		}
	}
	return 0;
}

static int new_socket(const struct rusk *r)
{
	int fd = socket(AF_UNIX, (int)r->e->type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		pr_perror("%s: can't create a socket", r->who);
	return fd < 0 ? -errno : fd;
}

/* A listener bound to its name; the real backlog is set at the end. */
static int make_listener(struct rusk *r)
{
	int fd = new_socket(r), ret;

	if (fd < 0)
		return fd;
	ret = bind_named(r, fd);
	if (!ret && listen(fd, 4096)) {
		ret = -errno;
		pr_perror("%s: can't listen", r->who);
	}
	if (ret) {
		close(fd);
		return ret;
	}
	r->fd = fd;
	return 0;
}

static struct rusk *listener_named(struct usk_state *st, const UnixSkEntry *e)
{
	for (size_t i = 0; i < st->n; i++) {
		const UnixSkEntry *l = st->s[i].e;

		if (l->state == TCP_LISTEN_ && l->type == e->type && l->name.len == e->name.len &&
		    !memcmp(l->name.data, e->name.data, e->name.len) && st->s[i].fd >= 0)
			return &st->s[i];
	}
	return NULL;
}

/*
 * A connected stream or seqpacket pair: acc was accepted on a listener
 * named as it is, cli connected to it (cli may be NULL: the task had closed
 * it, it is made and closed later).  Connecting through a listener of that
 * name (the real one when it is restored, else one of our own) gives both
 * ends the names they had.
 */
static int connect_pair(struct usk_state *st, struct rusk *acc, struct rusk *cli)
{
	struct rusk *l = listener_named(st, acc->e);
	struct sockaddr_un sa;
	socklen_t len = addr_of(acc->e, &sa);
	int lfd = l ? l->fd : -1, c, a, ret = 0;

	if (lfd < 0) {
		struct rusk tmp = *acc;

		lfd = new_socket(acc);
		if (lfd < 0)
			return lfd;
		ret = bind_named(&tmp, lfd);
		if (!ret && listen(lfd, 1))
			ret = -errno;
		if (ret) {
			close(lfd);
			return ret;
		}
	}
	c = new_socket(cli ? cli : acc);
	if (c < 0) {
		ret = c;
		goto out;
	}
	if (cli && named(cli->e) && (ret = bind_named(cli, c)))
		goto out_c;
	if (connect(c, (struct sockaddr *)&sa, len)) {
		ret = -errno;
		pr_perror("%s: can't connect to %s", cli ? cli->who : acc->who, acc->who);
		goto out_c;
	}
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0) {
		ret = -errno;
		pr_perror("%s: can't accept its connection", acc->who);
		goto out_c;
	}
	acc->fd = a;
	if (cli)
		cli->fd = c;
	else
		acc->other = c;
	goto out;
out_c:
	close(c);
out:
	if (!l) {
		close(lfd);
		if (is_path(acc->e))
			unlink(sa.sun_path);
	}
	return ret;
}

static int make_pair(struct usk_state *st, struct rusk *r)
{
	struct rusk *p = r->e->peer ? rusk_by_ino(st, r->e->peer) : NULL;
	int sv[2];

	if (p && p->e->peer != r->e->ino)
		p = NULL; /* a datagram socket connected to r, not r's other end */
	if (p && p->fd >= 0)
		return 0;
	if (r->e->type != SOCK_DGRAM && (named(r->e) || (p && named(p->e)))) {
		/* the accepted end has the listener's name; a client may have one of
		 * its own: with both named, the one a listener of the images shares */
		bool r_accepted = named(r->e) && (!p || !named(p->e) || listener_named(st, r->e) ||
						  !listener_named(st, p->e));

		return r_accepted ? connect_pair(st, r, p) : connect_pair(st, p, r);
	}
	if (socketpair(AF_UNIX, (int)r->e->type | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("%s: can't create a socket pair", r->who);
		return -errno;
	}
	r->fd = sv[0];
	if (p)
		p->fd = sv[1];
	else
		r->other = sv[1];
	return 0;
}

static int make_one(struct usk_state *st, struct rusk *r)
{
	const UnixSkEntry *e = r->e;
	int fd;

	if (r->fd >= 0 || (e->uflags & USK_EXTERN))
		return 0;
	if (e->state == TCP_LISTEN_)
		return make_listener(r);
	if (e->type == SOCK_DGRAM) {
		struct rusk *p = e->peer ? rusk_by_ino(st, e->peer) : NULL;

		/* a pair of unnamed datagram sockets connected to each other */
		if (p && !named(e) && !named(p->e) && p->e->peer == e->ino)
			return make_pair(st, r);
		if (p && !named(p->e)) {
			pr_err("%s: its peer %s has no name to connect to\n", r->who, p->who);
			return -EINVAL;
		}
		fd = new_socket(r);
		if (fd < 0)
			return fd;
		if (named(e) && bind_named(r, fd)) {
			close(fd);
			return -EADDRINUSE;
		}
		r->fd = fd;
		return 0;
	}
	if (e->state == TCP_ESTABLISHED_)
		return make_pair(st, r);
	/* neither listening nor connected */
	fd = new_socket(r);
	if (fd < 0)
		return fd;
	if (named(e) && bind_named(r, fd)) {
		close(fd);
		return -EADDRINUSE;
	}
	r->fd = fd;
	return 0;
}

static int connect_dgram(struct usk_state *st, struct rusk *r)
{
	const UnixSkEntry *e = r->e, *to;
	struct rusk *p;
	struct sockaddr_un sa;
	socklen_t len;

	if (e->type != SOCK_DGRAM || !e->peer)
		return 0;
	p = rusk_by_ino(st, e->peer);
	if (p && p->e->peer == e->ino && !named(e) && !named(p->e))
		return 0; /* made by socketpair */
	if (!p) {
		pr_err("%s: its peer socket:[%u] is outside the images (dumped with "
		       "--ext-unix-sk), and its name was not kept\n",
		       r->who, e->peer);
		return -EINVAL;
	}
	to = p->e;
	len = addr_of(to, &sa);
	if (connect(r->fd, (struct sockaddr *)&sa, len)) {
		pr_perror("%s: can't connect to %s", r->who, p->who);
		return -errno;
	}
	return 0;
}

/*
 * Who writes r's queue: the far end made for it, its peer (addressing r by
 * name when the peer is not connected back to r), or for a named datagram
 * socket connected to no one, a socket of ours sending to its name.  The
 * senders' credentials go with each message when r had SO_PASSCRED.
 */
static int fill_queue(struct usk_state *st, struct rusk *r)
{
	struct rusk *p = r->e->peer ? rusk_by_ino(st, r->e->peer) : NULL;
	int from = r->other, own = -1, ret = 0;
	struct sockaddr_un sa;
	socklen_t salen = 0;

	if (!r->q)
		return 0;
	if (from < 0 && p && p->fd >= 0) {
		from = p->fd;
		if (p->e->peer != r->e->ino) {
			if (!named(r->e)) {
				pr_err("%s: no socket can refill its queue\n", r->who);
				return -EINVAL;
			}
			salen = addr_of(r->e, &sa);
		}
	}
	if (from < 0 && r->e->type == SOCK_DGRAM && named(r->e)) {
		own = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		from = own;
		salen = addr_of(r->e, &sa);
	}
	if (from < 0) {
		pr_err("%s: no socket can refill its queue\n", r->who);
		return -EINVAL;
	}
	for (struct rqpkt *q = r->q; q && !ret; q = q->next) {
		struct iovec iov = { (void *)q->data, q->pe->length };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		union {
			char b[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} ctl;
		ssize_t n;

		if (salen) {
			mh.msg_name = &sa;
			mh.msg_namelen = salen;
		}
		if (q->pe->ucred) {
			struct ucred cr = { (pid_t)q->pe->ucred->pid, q->pe->ucred->uid,
					    q->pe->ucred->gid };
			struct cmsghdr *c;

			mh.msg_control = ctl.b;
			mh.msg_controllen = sizeof(ctl.b);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof(cr));
			memcpy(CMSG_DATA(c), &cr, sizeof(cr));
		}
		n = sendmsg(from, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && q->pe->ucred && (errno == ESRCH || errno == EPERM || errno == EINVAL)) {
			/* the sender's pid is not there (yet): the message keeps criu's */
			pr_warn("%s: a queued message's sender pid %u is not running; it now "
				"carries criu's credentials\n",
				r->who, q->pe->ucred->pid);
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
			n = sendmsg(from, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		if (n != (ssize_t)q->pe->length) {
			ret = errno ? -errno : -EIO;
			pr_perror("%s: can't put back %u bytes of its queue", r->who, q->pe->length);
		}
	}
	if (own >= 0)
		close(own);
	return ret;
}

static int finish_one(struct rusk *r)
{
	static const int how[] = { -1, SHUT_RD, SHUT_WR, SHUT_RDWR };
	int ret;

	if (r->other >= 0) {
		close(r->other);
		r->other = -1;
	}
	if (r->e->has_shutdown && r->e->shutdown && shutdown(r->fd, how[r->e->shutdown & 3]) &&
	    errno != ENOTCONN) {
		pr_perror("%s: can't shut it down (%u)", r->who, r->e->shutdown);
		return -errno;
	}
	if (r->e->state == TCP_LISTEN_ && listen(r->fd, (int)r->e->backlog)) {
		pr_perror("%s: can't set its backlog to %u", r->who, r->e->backlog);
		return -errno;
	}
	if (is_path(r->e) && r->e->has_deleted && r->e->deleted) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1] = "";

		memcpy(path, r->e->name.data, r->e->name.len);
		unlink(path);
	}
	ret = 0;
	return ret;
}

/* Every unix socket of the tree, made by the root before it forks anyone. */
static int usk_create(struct restore_ctx *rc, int idx)
{
	struct usk_state *st = state_of(rc, false);
	int ret = 0;

	if (idx != 0 || !st || st->made)
		return 0;
	st->made = true;
	ret = read_queues(rc, st);
	for (size_t i = 0; i < st->n && !ret; i++) /* listeners first: the others connect to them */
		if (st->s[i].e->state == TCP_LISTEN_)
			ret = make_one(st, &st->s[i]);
	for (size_t i = 0; i < st->n && !ret; i++)
		if (st->s[i].e->type == SOCK_DGRAM && named(st->s[i].e))
			ret = make_one(st, &st->s[i]);
	for (size_t i = 0; i < st->n && !ret; i++)
		ret = make_one(st, &st->s[i]);
	for (size_t i = 0; i < st->n && !ret; i++)
		ret = connect_dgram(st, &st->s[i]);
	for (size_t i = 0; i < st->n && !ret; i++)
		if (st->s[i].fd >= 0)
			ret = sk_opts_restore(st->s[i].fd, st->s[i].e->opts, st->s[i].who);
	for (size_t i = 0; i < st->n && !ret; i++)
		ret = fill_queue(st, &st->s[i]);
	for (size_t i = 0; i < st->n && !ret; i++)
		if (st->s[i].fd >= 0)
			ret = finish_one(&st->s[i]);
	return ret;
}

static int usk_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	struct usk_state *st = state_of(rc, false);
	struct rusk *r = st ? rusk_by_id(st, fe->id) : NULL;
	int fd, ret;

	if (!r || r->fd < 0) {
		pr_err("unix socket %u was not made\n", fe->id);
		return -EINVAL;
	}
	fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = rc_restore_fown_and_flags(fd, r->e->flags, r->e->fown, 0, rc_task_pid(rc, idx));
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void usk_fini(struct restore_ctx *rc)
{
	struct usk_state *st = state_of(rc, false);

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		struct rusk *r = &st->s[i];

		if (r->fd >= 0)
			close(r->fd);
		if (r->other >= 0)
			close(r->other);
		while (r->q) {
			struct rqpkt *q = r->q;

			r->q = q->next;
			free(q);
		}
	}
	for (size_t i = 0; i < st->npkts; i++)
		protobuf_c_message_free_unpacked(st->pkts[i], NULL);
	free(st->pkts);
	free(st->data);
	free(st->s);
	free(st);
	*rc_kind_state(rc, &unix_sk_kind) = NULL;
}

static uint32_t usk_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->usk ? fe->usk->flags : 0;
}

const struct fd_kind unix_sk_kind = {
	.name = "unix socket",
	.type = FD_TYPES__UNIXSK,
	.match = usk_match,
	.check = usk_check,
	.check_end = usk_check_end,
	.dump = usk_dump,
	.write = usk_write,
	.dump_fini = usk_dump_fini,
	.collect = usk_collect,
	.create = usk_create,
	.open = usk_open,
	.fini = usk_fini,
	.status_flags = usk_status_flags,
	/* the root makes every unix socket; each holder dups what it inherited */
	.own_sharing = true,
};
