/*
 * Established TCP connections (--tcp-established), through TCP_REPAIR:
 * tcp-stream-<ino>.img as upstream writes it (TcpStreamEntry, then the
 * receive queue's bytes, then the send queue's).  sk-inet.c calls these
 * for its sockets in state ESTABLISHED.
 *
 * Dump puts criu's duplicate of the socket in repair mode (the kernel then
 * sends nothing on it), reads both queues' sequence numbers and bytes
 * (MSG_PEEK: nothing is taken), the sizes of what is sent and what is not
 * sent yet, the negotiated options (MSS, window scales, SACK, timestamps)
 * and the window.  A tree that is killed dies with its sockets in repair
 * mode, so no FIN or reset goes to the peer; one left running (or a
 * failed dump) gets them back out of repair before it runs.
 *
 * A criu that dies (SIGKILL) with sockets in repair would leave a tree
 * whose connections fail every send and receive.  So before the first one
 * goes into repair, criu starts a guard: a process of its own (forked
 * twice, so that it is no child of criu's) that gets a duplicate of every
 * socket before that socket goes into repair mode.  criu's end of their
 * channel is its only link to the guard: when criu ends normally it tells
 * the guard first ("they are live again", or "the tree was killed"), and
 * the guard exits without touching them; when criu's end closes without
 * that word, criu died, and the guard takes every socket out of repair
 * (with its SO_REUSEADDR) before it exits.  The channel closes when the
 * kernel releases a dead criu's files, before it lets the tracees go, so
 * the guard is normally first; a thread that runs before the guard is done
 * can still see one EPERM or EINVAL from the socket.
 *
 * Restore makes the socket in repair mode in the task, binds it (repair
 * lets it share its port with a listener, as the accepted socket did),
 * sets both queues' sequence numbers, connects without a handshake, sets
 * the options, refills the receive queue and the part of the send queue
 * that was sent, and sets the window.  Once every task holds its files,
 * criu takes each such socket from its task (pidfd_getfd) and lets it go
 * live: repair off (a window probe tells the peer), the TCP options, then
 * the part of the send queue that was never sent, sent now.  Leaving
 * repair mode clears SO_REUSEADDR, so it is set again as it was (after a
 * dump -R too: a connection of a listener that has it would otherwise
 * leave a TIME_WAIT that keeps the listener's port from being bound).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fdkind.h"
#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "sk-tcp.h"

#ifndef TCPOPT_MAXSEG
#define TCPOPT_MAXSEG 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERMITTED 4
#define TCPOPT_TIMESTAMP 8
#endif
#define TCPI_OPT_TIMESTAMPS_ 1
#define TCPI_OPT_SACK_ 2
#define TCPI_OPT_WSCALE_ 4

/* ---- dump ------------------------------------------------------------------------- */

struct tcp_dumped {
	uint32_t ino;
	int sk; /* our duplicate, in repair mode */
	int reuse; /* SO_REUSEADDR, which leaving repair mode clears */
	TcpStreamEntry e;
	char *inq, *outq;
	struct tcp_dumped *next;
};

static struct tcp_dumped *tcps;

static int set_int(int sk, int name, int v)
{
	return setsockopt(sk, IPPROTO_TCP, name, &v, sizeof(v)) ? -errno : 0;
}

/* ---- the guard (see the top of the file) ---- */

enum { G_READY = 'R', G_SOCK = 'S', G_LIVE = 'L', G_KILLED = 'K' };

struct guard_msg {
	char op;
	int reuse;
	uint32_t ino;
};

static int guard = -1; /* criu's end of the channel */

static int guard_send(const struct guard_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	if (fd >= 0) {
		struct cmsghdr *c;

		h.msg_control = cbuf;
		h.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		w = sendmsg(guard, &h, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)sizeof(*m) ? 0 : (w < 0 ? -errno : -EIO);
}

/* every fd but the channel and the log: the guard must hold nothing else
 * of criu's (a parasite's control channel above all, whose close is what
 * tells a parasite that criu died) */
static void guard_close_others(int ch, int logfd)
{
	int keep[2] = { ch < logfd ? ch : logfd, ch < logfd ? logfd : ch };
	unsigned int from = 0;

	for (int i = 0; i < 2; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned int)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static void guard_revive(int sk, int reuse, uint32_t ino)
{
	if (set_int(sk, TCP_REPAIR, TCP_REPAIR_OFF) ||
	    setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)))
		pr_perror("tcp guard: can't take TCP socket:[%u] out of repair mode", ino);
	else
		pr_warn("tcp guard: criu is gone; TCP socket:[%u] is out of repair mode\n", ino);
}

static _Noreturn void guard_main(int ch)
{
	struct held {
		int sk, reuse;
		uint32_t ino;
	} *held = NULL;
	size_t n = 0;
	struct guard_msg m = { .op = G_READY };

	/* a terminal's ^C or a supervisor's SIGTERM reaches criu, which takes
	 * the sockets out of repair itself */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "criu-tcp-guard", 0, 0, 0);
	guard_close_others(ch, log_get_fd());
	guard = ch;
	if (guard_send(&m, -1))
		_exit(1);
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		struct msghdr h = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int fd = -1;
		ssize_t r = recvmsg(ch, &h, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		c = r > 0 ? CMSG_FIRSTHDR(&h) : NULL;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		if (r == (ssize_t)sizeof(m) && m.op == G_SOCK && fd >= 0) {
			struct held *more = realloc(held, (n + 1) * sizeof(*held));

			if (!more) {
				/* can't keep it: criu's next send fails the dump */
				pr_err("tcp guard: out of memory\n");
				break;
			}
			held = more;
			held[n++] = (struct held){ fd, m.reuse, m.ino };
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (r == (ssize_t)sizeof(m) && (m.op == G_LIVE || m.op == G_KILLED))
			_exit(0); /* criu saw to them */
		break; /* criu is gone (or speaks nonsense) */
	}
	for (size_t i = 0; i < n; i++)
		guard_revive(held[i].sk, held[i].reuse, held[i].ino);
	_exit(0);
}

static int guard_start(void)
{
	struct guard_msg m = { 0 };
	int sv[2], st = 0;
	pid_t p, w;
	ssize_t r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	p = fork();
	if (p < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!p) {
		pid_t g;

		close(sv[0]);
		g = fork();
		if (g)
			_exit(g < 0);
		guard_main(sv[1]);
	}
	close(sv[1]);
	do
		w = waitpid(p, &st, 0);
	while (w < 0 && errno == EINTR);
	do
		r = recv(sv[0], &m, sizeof(m), 0);
	while (r < 0 && errno == EINTR);
	if (w != p || !WIFEXITED(st) || WEXITSTATUS(st) || r != (ssize_t)sizeof(m) ||
	    m.op != G_READY) {
		close(sv[0]);
		return -ECHILD;
	}
	guard = sv[0];
	return 0;
}

/* the guard's word, and the end of the channel */
static void guard_end(bool killed)
{
	struct guard_msg m = { .op = killed ? G_KILLED : G_LIVE };

	if (guard < 0)
		return;
	if (guard_send(&m, -1))
		pr_warn("the tcp guard is gone before criu said it was done\n");
	close(guard);
	guard = -1;
}

/* queue q's sequence number and, when len, its bytes (peeked) */
static int read_queue(int sk, int q, uint32_t *seq, char **buf, uint32_t len)
{
	socklen_t sl = sizeof(*seq);
	ssize_t n;

	if (set_int(sk, TCP_REPAIR_QUEUE, q) || getsockopt(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &sl))
		return -errno;
	if (!len)
		return 0;
	*buf = malloc(len);
	if (!*buf)
		return -ENOMEM;
	n = recv(sk, *buf, len, MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	return 0;
}

int tcp_dump_conn(int tfd, uint32_t ino, const char *who)
{
	struct tcp_dumped *t = calloc(1, sizeof(*t));
	struct tcp_repair_window w;
	struct tcp_info ti;
	socklen_t len;
	int inq = 0, outq = 0, unsq = 0, v, ret;

	if (!t)
		return -ENOMEM;
	t->ino = ino;
	t->sk = fcntl(tfd, F_DUPFD_CLOEXEC, 0);
	if (t->sk < 0) {
		free(t);
		return -errno;
	}
	len = sizeof(t->reuse);
	getsockopt(t->sk, SOL_SOCKET, SO_REUSEADDR, &t->reuse, &len);
	ret = guard < 0 ? guard_start() : 0;
	if (!ret) {
		struct guard_msg m = { .op = G_SOCK, .reuse = t->reuse, .ino = ino };

		ret = guard_send(&m, t->sk);
	}
	if (ret) {
		pr_err("%s: can't hand the connection to the tcp guard, which takes it out of "
		       "repair mode should criu die: %s\n",
		       who, strerror(-ret));
		close(t->sk);
		free(t);
		return ret;
	}
	if (set_int(t->sk, TCP_REPAIR, 1)) {
		ret = -errno;
		pr_err("%s: can't put the connection in repair mode (TCP_REPAIR, which needs "
		       "CAP_NET_ADMIN): %s\n",
		       who, strerror(-ret));
		close(t->sk);
		free(t);
		return ret;
	}
	/* from here on tcp_dump_release() takes it out of repair again */
	t->next = tcps;
	tcps = t;
	ret = fault_point("dump: tcp repair");
	if (ret)
		return ret;
	tcp_stream_entry__init(&t->e);
	len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(t->sk, IPPROTO_TCP, TCP_INFO, &ti, &len) || ti.tcpi_state != TCP_ESTABLISHED) {
		pr_err("%s: the connection is no longer established\n", who);
		return -EAGAIN;
	}
	if (ioctl(t->sk, SIOCINQ, &inq) || ioctl(t->sk, SIOCOUTQ, &outq) ||
	    ioctl(t->sk, SIOCOUTQNSD, &unsq) || inq < 0 || outq < 0 || unsq < 0 || unsq > outq) {
		pr_perror("%s: can't read the lengths of its queues", who);
		return -errno ? -errno : -EIO;
	}
	t->e.inq_len = (uint32_t)inq;
	t->e.outq_len = (uint32_t)outq;
	t->e.has_unsq_len = true;
	t->e.unsq_len = (uint32_t)unsq;
	ret = read_queue(t->sk, TCP_RECV_QUEUE, &t->e.inq_seq, &t->inq, t->e.inq_len);
	ret = ret ?: read_queue(t->sk, TCP_SEND_QUEUE, &t->e.outq_seq, &t->outq, t->e.outq_len);
	set_int(t->sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	if (ret) {
		pr_err("%s: can't read its queues (%u bytes to read, %u to send): %s\n", who,
		       t->e.inq_len, t->e.outq_len, strerror(-ret));
		return ret;
	}
	t->e.opt_mask = ti.tcpi_options;
	t->e.snd_wscale = ti.tcpi_snd_wscale;
	t->e.has_rcv_wscale = true;
	t->e.rcv_wscale = ti.tcpi_rcv_wscale;
	len = sizeof(v);
	if (getsockopt(t->sk, IPPROTO_TCP, TCP_MAXSEG, &v, &len)) {
		pr_perror("%s: can't read its MSS", who);
		return -errno;
	}
	t->e.mss_clamp = (uint32_t)v;
	if (ti.tcpi_options & TCPI_OPT_TIMESTAMPS_) {
		len = sizeof(v);
		if (!getsockopt(t->sk, IPPROTO_TCP, TCP_TIMESTAMP, &v, &len)) {
			t->e.has_timestamp = true;
			t->e.timestamp = (uint32_t)v;
		}
	}
	len = sizeof(w);
	if (!getsockopt(t->sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len)) {
		t->e.has_snd_wl1 = t->e.has_snd_wnd = t->e.has_max_window = true;
		t->e.has_rcv_wnd = t->e.has_rcv_wup = true;
		t->e.snd_wl1 = w.snd_wl1;
		t->e.snd_wnd = w.snd_wnd;
		t->e.max_window = w.max_window;
		t->e.rcv_wnd = w.rcv_wnd;
		t->e.rcv_wup = w.rcv_wup;
	}
	pr_info("%s: TCP connection in repair mode: %u bytes to read (seq %u), %u to send (seq "
		"%u, %u not sent yet)\n",
		who, t->e.inq_len, t->e.inq_seq, t->e.outq_len, t->e.outq_seq, t->e.unsq_len);
	return 0;
}

int tcp_dump_write(int dirfd)
{
	for (struct tcp_dumped *t = tcps; t; t = t->next) {
		struct cr_img *img = img_open(dirfd, IMG_TCP_STREAM, O_WRONLY, (unsigned long)t->ino);
		int ret;

		if (!img)
			return -EIO;
		ret = img_write_pb(img, &t->e.base);
		if (!ret && t->e.inq_len)
			ret = img_write_raw(img, t->inq, t->e.inq_len);
		if (!ret && t->e.outq_len)
			ret = img_write_raw(img, t->outq, t->e.outq_len);
		if (img_close(img) && !ret)
			ret = -EIO;
		if (ret)
			return ret;
	}
	return 0;
}

void tcp_dump_release(bool killed)
{
	while (tcps) {
		struct tcp_dumped *t = tcps;

		tcps = t->next;
		/* a tree that goes on needs its connections live again; a killed
		 * one closes them in repair mode, silently */
		if (!killed && (set_int(t->sk, TCP_REPAIR, TCP_REPAIR_OFF) ||
				setsockopt(t->sk, SOL_SOCKET, SO_REUSEADDR, &t->reuse,
					   sizeof(t->reuse))))
			pr_perror("can't take TCP socket:[%u] out of repair mode", t->ino);
		close(t->sk);
		free(t->inq);
		free(t->outq);
		free(t);
	}
	guard_end(killed);
}

/* ---- restore ---------------------------------------------------------------------- */

/* tcp-stream-<ino>.img: its entry, and both queues' bytes in *data */
static int read_stream(struct restore_ctx *rc, uint32_t ino, TcpStreamEntry **e, char **data)
{
	struct cr_img *img = img_open(rc_images_dirfd(rc), IMG_TCP_STREAM, O_RDONLY,
				      (unsigned long)ino);
	uint64_t len;
	int ret;

	*e = NULL;
	*data = NULL;
	if (!img) {
		pr_err("TCP connection %u: no tcp-stream-%x.img\n", ino, ino);
		return -ENOENT;
	}
	ret = img_read_pb(img, &tcp_stream_entry__descriptor, (ProtobufCMessage **)e);
	if (ret <= 0) {
		img_close(img);
		pr_err("TCP connection %u: tcp-stream-%x.img has no entry\n", ino, ino);
		return -EINVAL;
	}
	len = (uint64_t)(*e)->inq_len + (*e)->outq_len;
	if (len > img_bytes_left(img) || ((*e)->has_unsq_len && (*e)->unsq_len > (*e)->outq_len)) {
		pr_err("TCP connection %u: tcp-stream-%x.img holds %llu bytes, its entry says %llu\n",
		       ino, ino, (unsigned long long)img_bytes_left(img), (unsigned long long)len);
		ret = -EINVAL;
	} else {
		*data = malloc(len + 1);
		ret = *data ? img_read_raw(img, *data, (size_t)len) : -ENOMEM;
	}
	img_close(img);
	if (ret) {
		protobuf_c_message_free_unpacked(&(*e)->base, NULL);
		*e = NULL;
		free(*data);
		*data = NULL;
	}
	return ret;
}

/* len bytes into queue q of a socket in repair mode (or out of it: q 0) */
static int fill(int sk, int q, const char *buf, uint32_t len, const char *who, const char *what)
{
	if (q && set_int(sk, TCP_REPAIR_QUEUE, q)) {
		pr_perror("%s: can't select its %s", who, what);
		return -errno;
	}
	while (len) {
		ssize_t n = send(sk, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0) {
			pr_perror("%s: can't refill its %s (%u bytes left)", who, what, len);
			return n < 0 ? -errno : -EIO;
		}
		buf += n;
		len -= (uint32_t)n;
	}
	return 0;
}

/* a buffer big enough for len bytes of a queue (the kernel doubles it) */
static int bufs(int sk, int name, uint32_t len)
{
	int v = (int)(len < (1u << 28) ? len : 1u << 28) + (64 << 10);

	return setsockopt(sk, SOL_SOCKET, name, &v, sizeof(v));
}

int tcp_restore_conn(struct restore_ctx *rc, int sk, uint32_t ino, const struct sockaddr *src,
		     const struct sockaddr *dst, socklen_t alen, const char *who)
{
	struct tcp_repair_opt o[4];
	TcpStreamEntry *e;
	char *data;
	int n = 0, ret, tries = 0;

	ret = read_stream(rc, ino, &e, &data);
	if (ret)
		return ret;
	if (set_int(sk, TCP_REPAIR, 1)) {
		ret = -errno;
		pr_err("%s: can't put the new socket in repair mode (TCP_REPAIR, which needs "
		       "CAP_NET_ADMIN): %s\n",
		       who, strerror(-ret));
		goto out;
	}
	if (bind(sk, src, alen)) {
		ret = -errno;
		pr_perror("%s: can't bind it", who);
		goto out;
	}
	if (set_int(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) ||
	    set_int(sk, TCP_QUEUE_SEQ, (int)(e->inq_seq - e->inq_len)) ||
	    set_int(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ||
	    set_int(sk, TCP_QUEUE_SEQ, (int)(e->outq_seq - e->outq_len))) {
		ret = -errno;
		pr_perror("%s: can't set its sequence numbers", who);
		goto out;
	}
	/* no handshake in repair mode; the dumped connection's TIME_WAIT (it
	 * closed after a dump -R) takes a second to be reusable on loopback */
	while (connect(sk, dst, alen)) {
		if (errno != EADDRNOTAVAIL || ++tries > 60) {
			ret = -errno;
			pr_perror("%s: can't connect it again%s", who,
				  errno == EADDRNOTAVAIL ? " (a TIME_WAIT of the same connection?)" : "");
			goto out;
		}
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	o[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, e->mss_clamp };
	if (e->opt_mask & TCPI_OPT_WSCALE_)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
						  e->snd_wscale | ((e->has_rcv_wscale ? e->rcv_wscale : 0)
								   << 16) };
	if (e->opt_mask & TCPI_OPT_SACK_)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (e->opt_mask & TCPI_OPT_TIMESTAMPS_)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, (socklen_t)(n * sizeof(o[0])))) {
		ret = -errno;
		pr_perror("%s: can't set its TCP options", who);
		goto out;
	}
	if (e->has_timestamp && set_int(sk, TCP_TIMESTAMP, (int)e->timestamp)) {
		ret = -errno;
		pr_perror("%s: can't set its timestamp", who);
		goto out;
	}
	/* room for both queues however the kernel cuts them into buffers; the
	 * dumped sizes come back once the connection is live */
	if (bufs(sk, SO_RCVBUFFORCE, e->inq_len) || bufs(sk, SO_SNDBUFFORCE, e->outq_len)) {
		ret = -errno;
		pr_perror("%s: can't make room for its queues", who);
		goto out;
	}
	ret = fill(sk, TCP_RECV_QUEUE, data, e->inq_len, who, "receive queue");
	ret = ret ?: fill(sk, TCP_SEND_QUEUE, data + e->inq_len,
			  e->outq_len - (e->has_unsq_len ? e->unsq_len : 0), who, "send queue");
	if (ret)
		goto out;
	if (e->has_snd_wl1 && e->has_snd_wnd && e->has_max_window && e->has_rcv_wnd &&
	    e->has_rcv_wup) {
		struct tcp_repair_window w = { e->snd_wl1, e->snd_wnd, e->max_window, e->rcv_wnd,
					       e->rcv_wup };

		if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
			ret = -errno;
			pr_perror("%s: can't set its window", who);
			goto out;
		}
	}
	set_int(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
out:
	protobuf_c_message_free_unpacked(&e->base, NULL);
	free(data);
	return ret;
}

int tcp_restore_live(struct restore_ctx *rc, pid_t pid, int fd, uint32_t ino,
		     const TcpOptsEntry *t, const SkOptsEntry *o)
{
	TcpStreamEntry *e;
	char who[96], *data;
	int sk, ret;

	snprintf(who, sizeof(who), "fd %d of pid %d (TCP connection %u)", fd, (int)pid, ino);
	sk = task_fd(pid, fd);
	if (sk < 0) {
		pr_err("%s: can't take it from the task: %s\n", who, strerror(-sk));
		return sk;
	}
	ret = read_stream(rc, ino, &e, &data);
	if (ret) {
		close(sk);
		return ret;
	}
	if (set_int(sk, TCP_REPAIR, TCP_REPAIR_OFF)) {
		ret = -errno;
		pr_perror("%s: can't take it out of repair mode", who);
	}
	/* leaving repair mode clears SO_REUSEADDR: as it was */
	if (!ret && o) {
		int reuse = o->has_reuseaddr && o->reuseaddr;

		if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse))) {
			ret = -errno;
			pr_perror("%s: can't set SO_REUSEADDR", who);
		}
	}
	if (!ret && t) {
		if ((t->has_nodelay && t->nodelay && set_int(sk, TCP_NODELAY, 1)) ||
		    (t->has_cork && t->cork && set_int(sk, TCP_CORK, 1)) ||
		    (t->has_keepcnt && set_int(sk, TCP_KEEPCNT, (int)t->keepcnt)) ||
		    (t->has_keepidle && set_int(sk, TCP_KEEPIDLE, (int)t->keepidle)) ||
		    (t->has_keepintvl && set_int(sk, TCP_KEEPINTVL, (int)t->keepintvl))) {
			ret = -errno;
			pr_perror("%s: can't set its TCP options", who);
		}
	}
	/* what was never sent goes now, as the task would have sent it */
	if (!ret && e->has_unsq_len && e->unsq_len)
		ret = fill(sk, 0, data + e->inq_len + (e->outq_len - e->unsq_len), e->unsq_len, who,
			   "unsent data");
	/* the buffer sizes it had (the kernel doubles what it is given) */
	if (!ret && o) {
		int snd = (int)(o->so_sndbuf / 2), rcv = (int)(o->so_rcvbuf / 2);

		if (setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) ||
		    setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv))) {
			ret = -errno;
			pr_perror("%s: can't give it its buffer sizes back", who);
		}
	}
	protobuf_c_message_free_unpacked(&e->base, NULL);
	free(data);
	close(sk);
	return ret;
}
