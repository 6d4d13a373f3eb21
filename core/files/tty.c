/*
 * Terminals: pseudo-terminal pairs inside the tree, /dev/tty, /dev/console,
 * and with --shell-job the job's own terminal.
 *
 * Images, as upstream writes them: each fd's description is a FileEntry
 * of type TTY whose tty_file_entry points (tty_info_id) at one entry of
 * tty-info.img per terminal.  A pty has two terminals, its master and its
 * slave, numbered index * 2 + 1 and index * 2: the master's entry keeps
 * the packet mode and the lock (TIOCGPKT, TIOCGPTLCK are the master's), each
 * keeps its own exclusive mode, both the slave's termios and window size
 * (the master's ioctls reach the slave's) and its session and foreground
 * process group.
 *
 * Dump reads all of it from our duplicate of the task's fd (pidfd_getfd):
 * the master's ioctls tell the slave's session and group without being in
 * the session.  What sits in a pty's queues can't be read without taking
 * it, so a pty with bytes waiting in either direction is refused, naming
 * them.  A slave needs its master in the tree (the tree is what this criu
 * traces), except the job's terminal with --shell-job.
 *
 * Restore makes a new pair in the lowest common ancestor of the tasks that
 * hold either end and of the slave's session leader, before it forks them:
 * /dev/ptmx is opened until it gives the dumped index (opening takes the
 * lowest free one, so the lower ones are held meanwhile), or another one
 * when that one is taken; every slave description is opened from the
 * master (TIOCGPTPEER), so that the path the task sees through the fd
 * (/proc/self/fd, ttyname) is the new pair's.  Termios, window size,
 * packet mode, exclusive mode are set, the lock put back last.  The
 * session leader takes the slave as its controlling terminal (TIOCSCTTY)
 * before it forks its children, who inherit it; once its fds are in place
 * (its children forked and in their groups) it gives the terminal its
 * foreground group (TIOCSPGRP).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "fdkind.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "proc.h"
#include "tty.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define TTY_CONSOLE_ID (1002u << 1)
#define TTY_CTTY_ID (1006u << 1)
/* /dev/ptmx opens held while looking for the dumped index */
#define PTMX_TRIES 64

/* ---- the devices ------------------------------------------------------------ */

enum tty_class tty_class_of(unsigned int maj, unsigned int min)
{
	switch (maj) {
	case 5:
		return min == 0 ? TTY_CLASS_CTTY
		       : min == 1 ? TTY_CLASS_CONSOLE
		       : min == 2 ? TTY_CLASS_PTMX
				  : TTY_CLASS_NONE;
	case 4:
		return min < 64 ? TTY_CLASS_VT : TTY_CLASS_SERIAL;
	case 2: /* BSD pty masters and slaves */
	case 3:
		return TTY_CLASS_OTHER;
	case 188: /* USB serial */
	case 204: /* low-density serial */
		return TTY_CLASS_SERIAL;
	}
	if (maj >= 128 && maj <= 135)
		return TTY_CLASS_PTMX;
	if (maj >= 136 && maj <= 143)
		return TTY_CLASS_PTS;
	return TTY_CLASS_NONE;
}

const char *tty_class_name(enum tty_class c)
{
	switch (c) {
	case TTY_CLASS_PTMX:
		return "a pty master";
	case TTY_CLASS_PTS:
		return "a pty slave";
	case TTY_CLASS_CTTY:
		return "/dev/tty";
	case TTY_CLASS_CONSOLE:
		return "the console";
	case TTY_CLASS_VT:
		return "a virtual console";
	case TTY_CLASS_SERIAL:
		return "a serial line";
	case TTY_CLASS_OTHER:
		return "a BSD pty";
	case TTY_CLASS_NONE:
		break;
	}
	return "not a terminal";
}

unsigned int tty_pts_index(unsigned int maj, unsigned int min)
{
	return (maj - 136u) * 256u + min;
}

uint32_t tty_info_id(enum tty_class c, unsigned int index)
{
	switch (c) {
	case TTY_CLASS_PTMX:
		return (index << 1) + 1;
	case TTY_CLASS_PTS:
		return index << 1;
	case TTY_CLASS_CONSOLE:
		return TTY_CONSOLE_ID;
	case TTY_CLASS_CTTY:
		return TTY_CTTY_ID;
	default:
		return 0;
	}
}

static bool termios_entry_zero(const TermiosEntry *t)
{
	if (t->c_iflag || t->c_oflag || t->c_cflag || t->c_lflag || t->c_line || t->c_ispeed ||
	    t->c_ospeed)
		return false;
	for (size_t i = 0; i < t->n_c_cc; i++)
		if (t->c_cc[i])
			return false;
	return true;
}

const char *tty_info_invalid(const TtyInfoEntry *ie)
{
	enum tty_class c = tty_class_of(major(ie->rdev), minor(ie->rdev));

	if (ie->termios && (ie->termios->n_c_cc < TTY_TERMIOS_NCC || ie->termios->n_c_cc > 64))
		return "its termios has a wrong number of control characters";
	if (ie->termios_locked && !termios_entry_zero(ie->termios_locked))
		return "its termios are locked (TIOCSLCKTRMIOS), which restore does not do";
	switch (ie->type) {
	case TTY_TYPE__PTY:
		if (c != TTY_CLASS_PTMX && c != TTY_CLASS_PTS)
			return "it is a pty whose device is neither /dev/ptmx nor /dev/pts/N";
		if (!ie->pty)
			return "it is a pty without an index";
		if (ie->pty->index > TTY_MAX_PTY_INDEX)
			return "its pty index is too big";
		if (ie->id != tty_info_id(c, ie->pty->index))
			return "its id does not match its pty index";
		if (c == TTY_CLASS_PTS && (ie->locked || ie->packet_mode))
			return "a pty slave can't be locked or in packet mode";
		return NULL;
	case TTY_TYPE__CONSOLE:
	case TTY_TYPE__CTTY:
		if (ie->pty)
			return "it has a pty index but is no pty";
		if (c != (ie->type == TTY_TYPE__CONSOLE ? TTY_CLASS_CONSOLE : TTY_CLASS_CTTY))
			return "its device does not match its type";
		return NULL;
	case TTY_TYPE__VT:
	case TTY_TYPE__SERIAL:
	case TTY_TYPE__EXT_TTY:
		return "virtual consoles, serial lines and external terminals are not restored";
	default:
		return "its type is unknown";
	}
}

/* ---- the tree, as dump sees it: the tasks this criu traces --------------------- */

static bool traced_by_us(pid_t pid)
{
	struct proc_status st;

	return !proc_read_status(pid, 0, &st) && st.tracer == getpid();
}

/* The pty index of the master fd of pid, or -1. */
static int master_index(pid_t pid, int fd)
{
	char path[64], link[64];
	ssize_t n;
	int tfd, index = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	if (strcmp(link, "/dev/ptmx") && strcmp(link, "/dev/pts/ptmx"))
		return -1;
	tfd = task_fd(pid, fd);
	if (tfd < 0)
		return -1;
	if (ioctl(tfd, TIOCGPTN, &index))
		index = -1;
	close(tfd);
	return index;
}

/* Whether a task of the tree holds the master of pty index. */
static bool master_in_tree(unsigned int index)
{
	struct dirent *de, *fe;
	bool found = false;
	DIR *d = opendir("/proc");

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		pid_t pid = atoi(de->d_name);
		char fdir[64];
		DIR *fds;

		if (pid <= 0 || !traced_by_us(pid))
			continue;
		snprintf(fdir, sizeof(fdir), "/proc/%d/fd", pid);
		fds = opendir(fdir);
		if (!fds)
			continue;
		while (!found && (fe = readdir(fds)))
			if (fe->d_name[0] != '.' && master_index(pid, atoi(fe->d_name)) == (int)index)
				found = true;
		closedir(fds);
	}
	closedir(d);
	return found;
}

/* Whether a task of the tree is in process group pgrp. */
static bool pgrp_in_tree(pid_t pgrp)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc");

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		pid_t pid = atoi(de->d_name);
		struct proc_stat st;

		if (pid > 0 && !proc_read_stat(pid, 0, &st) && st.pgid == pgrp && traced_by_us(pid))
			found = true;
	}
	closedir(d);
	return found;
}

static int our_fd(const struct fd_parms *p)
{
	return p->tfd >= 0 ? dup(p->tfd) : task_fd(p->pid, p->fd);
}

/* bytes waiting to be read from the terminal of fd */
static int queued(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

int tty_check_ctty(pid_t pid, const char *who, unsigned int tty_nr, bool shell_job)
{
	unsigned int maj = major(tty_nr), min = minor(tty_nr);
	enum tty_class c = tty_class_of(maj, min);
	struct proc_stat st;

	if (!tty_nr || shell_job)
		return 0;
	if (c == TTY_CLASS_PTS && master_in_tree(tty_pts_index(maj, min))) {
		if (!proc_read_stat(pid, 0, &st) && traced_by_us(st.sid))
			return 0;
		pr_err("%s has a controlling terminal (/dev/pts/%u) whose session %d is led by a "
		       "task outside the tree\n",
		       who, tty_pts_index(maj, min), (int)st.sid);
		return -EOPNOTSUPP;
	}
	if (c == TTY_CLASS_PTS)
		pr_err("%s has a controlling terminal (/dev/pts/%u) whose master is not in the "
		       "tree (a shell job's is dumped, with --shell-job)\n",
		       who, tty_pts_index(maj, min));
	else
		pr_err("%s has a controlling terminal (%u:%u) that is not a pty of the tree: "
		       "terminals outside the tree are not dumped (a shell job's is, with "
		       "--shell-job)\n",
		       who, maj, min);
	return -EOPNOTSUPP;
}

/* ---- dump ------------------------------------------------------------------- */

static bool tty_match(const struct fd_parms *p)
{
	return S_ISCHR(p->st.st_mode) &&
	       tty_class_of(major(p->st.st_rdev), minor(p->st.st_rdev)) != TTY_CLASS_NONE;
}

static bool termios_locked_zero(int fd)
{
	unsigned char buf[256];

	/* the kernel's struct termios (its size differs between arches) */
	memset(buf, 0, sizeof(buf));
	if (ioctl(fd, TIOCGLCKTRMIOS, buf))
		return true;
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i])
			return false;
	return true;
}

/* what of a pty's end restore can't rebuild: NULL or why */
static const char *pty_unsaved(int fd, enum tty_class c, unsigned int index, pid_t *sid,
			       pid_t *pgrp, char *why, size_t size)
{
	int n = queued(fd);

	if (n > 0) {
		snprintf(why, size,
			 "%d bytes that its %s wrote wait to be read from it: data queued in a "
			 "terminal is not dumped",
			 n, c == TTY_CLASS_PTMX ? "slave" : "master");
		return why;
	}
	if (!termios_locked_zero(fd))
		return "its termios are locked (TIOCSLCKTRMIOS): such terminals are not dumped";
	if (c == TTY_CLASS_PTMX) {
		if (index > TTY_MAX_PTY_INDEX) {
			snprintf(why, size, "its pty index %u is above %u, the images' limit", index,
				 TTY_MAX_PTY_INDEX);
			return why;
		}
		if (ioctl(fd, TIOCGSID, sid))
			*sid = 0;
		if (ioctl(fd, TIOCGPGRP, pgrp))
			*pgrp = 0;
	}
	return NULL;
}

static int tty_check(const struct fd_parms *p, const char *who)
{
	unsigned int maj = major(p->st.st_rdev), min = minor(p->st.st_rdev);
	enum tty_class c = tty_class_of(maj, min);
	const char *why = NULL;
	char buf[160];
	pid_t sid = 0, pgrp = 0;
	int fd, index = -1;

	switch (c) {
	case TTY_CLASS_CONSOLE:
		return 0;
	case TTY_CLASS_CTTY:
		if (p->ctty)
			return 0;
		pr_err("%s: fd %d is /dev/tty (%s), but it has no controlling terminal now: "
		       "restore could not open it again\n",
		       who, p->fd, p->link);
		return -EOPNOTSUPP;
	case TTY_CLASS_PTMX:
	case TTY_CLASS_PTS:
		break;
	default:
		pr_err("%s: fd %d is %s (%s): virtual consoles, serial lines and BSD ptys are not "
		       "dumped\n",
		       who, p->fd, tty_class_name(c), p->link);
		return -EOPNOTSUPP;
	}
	if (c == TTY_CLASS_PTS && !master_in_tree(tty_pts_index(maj, min))) {
		if (p->shell_job && p->ctty == p->st.st_rdev)
			return 0; /* the job's terminal: restore gives it criu's */
		pr_err("%s: fd %d is a pty slave (%s) whose master is not in the tree: terminals "
		       "outside the tree are not dumped (a shell job's own terminal is, with "
		       "--shell-job)\n",
		       who, p->fd, p->link);
		return -EOPNOTSUPP;
	}
	fd = our_fd(p);
	if (fd < 0) {
		pr_err("%s: can't take fd %d (%s): %s\n", who, p->fd, p->link, strerror(-fd));
		return fd;
	}
	if (c == TTY_CLASS_PTMX && ioctl(fd, TIOCGPTN, &index)) {
		why = "its pty index can't be read (TIOCGPTN)";
		index = -1;
	}
	if (!why)
		why = pty_unsaved(fd, c, (unsigned int)index, &sid, &pgrp, buf, sizeof(buf));
	close(fd);
	if (!why && sid && !p->shell_job && !traced_by_us(sid)) {
		snprintf(buf, sizeof(buf),
			 "its session %d is led by a task outside the tree (a shell job's terminal "
			 "is dumped with --shell-job)",
			 (int)sid);
		why = buf;
	}
	if (!why && sid && pgrp && pgrp != sid && traced_by_us(sid) && !pgrp_in_tree(pgrp)) {
		snprintf(buf, sizeof(buf),
			 "its foreground process group %d has no task in the tree", (int)pgrp);
		why = buf;
	}
	if (why) {
		pr_err("%s: fd %d is %s (%s): %s\n", who, p->fd, tty_class_name(c), p->link, why);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* One terminal of tty-info.img while it is dumped. */
struct tty_dump {
	TtyInfoEntry ie;
	TermiosEntry termios, termios_locked;
	WinsizeEntry winsize;
	TtyPtyEntry pty;
	uint32_t cc[TTY_TERMIOS_NCC], cc_locked[TTY_TERMIOS_NCC];
};

struct tty_dump_state {
	struct tty_dump **ttys;
	size_t n;
	TtyFileEntry **files; /* the sub-messages of the FileEntries, ours to free */
	size_t nfiles;
};

static struct tty_dump_state dumped;

static struct tty_dump *dumped_info(uint32_t id)
{
	for (size_t i = 0; i < dumped.n; i++)
		if (dumped.ttys[i]->ie.id == id)
			return dumped.ttys[i];
	return NULL;
}

static void termios_to_entry(const struct termios *t, TermiosEntry *e, uint32_t *cc)
{
	e->c_iflag = t->c_iflag;
	e->c_oflag = t->c_oflag;
	e->c_cflag = t->c_cflag;
	e->c_lflag = t->c_lflag;
	e->c_line = t->c_line;
	e->c_ispeed = (uint32_t)cfgetispeed(t);
	e->c_ospeed = (uint32_t)cfgetospeed(t);
	for (size_t i = 0; i < TTY_TERMIOS_NCC; i++)
		cc[i] = i < NCCS ? t->c_cc[i] : 0;
	e->n_c_cc = TTY_TERMIOS_NCC;
	e->c_cc = cc;
}

/* The entry of the terminal of fd (our duplicate of the task's). */
static int dump_info(struct tty_dump *d, int fd, const struct fd_parms *p, enum tty_class c,
		     unsigned int index, uint32_t id)
{
	struct termios t;
	struct winsize ws;
	int v;

	tty_info_entry__init(&d->ie);
	termios_entry__init(&d->termios);
	termios_entry__init(&d->termios_locked);
	winsize_entry__init(&d->winsize);
	tty_pty_entry__init(&d->pty);
	d->ie.id = id;
	d->ie.type = c == TTY_CLASS_CONSOLE ? TTY_TYPE__CONSOLE
		     : c == TTY_CLASS_CTTY  ? TTY_TYPE__CTTY
					    : TTY_TYPE__PTY;
	d->ie.rdev = (uint32_t)p->st.st_rdev;
	d->ie.has_dev = true;
	d->ie.dev = (uint32_t)p->st.st_dev;
	if (d->ie.type == TTY_TYPE__PTY) {
		d->pty.index = index;
		d->ie.pty = &d->pty;
	}
	if (!ioctl(fd, TIOCGEXCL, &v))
		d->ie.exclusive = v != 0;
	if (c == TTY_CLASS_PTMX) {
		pid_t sid = 0, pgrp = 0;

		if (!ioctl(fd, TIOCGPKT, &v))
			d->ie.packet_mode = v != 0;
		if (!ioctl(fd, TIOCGPTLCK, &v))
			d->ie.locked = v != 0;
		if (ioctl(fd, TIOCGSID, &sid))
			sid = 0;
		if (ioctl(fd, TIOCGPGRP, &pgrp))
			pgrp = 0;
		d->ie.sid = (uint32_t)sid;
		d->ie.pgrp = (uint32_t)pgrp;
	}
	if (d->ie.type == TTY_TYPE__PTY) {
		/* the slave's owner, which restore gives the new slave */
		char path[32];
		struct stat st;

		snprintf(path, sizeof(path), "/dev/pts/%u", index);
		if (c == TTY_CLASS_PTS ? !fstat(fd, &st) : !stat(path, &st)) {
			d->ie.has_uid = d->ie.has_gid = true;
			d->ie.uid = st.st_uid;
			d->ie.gid = st.st_gid;
		}
	}
	if (tcgetattr(fd, &t)) {
		pr_perror("fd %d of pid %d: can't read the termios of %s", p->fd, p->pid, p->link);
		return -errno;
	}
	termios_to_entry(&t, &d->termios, d->cc);
	d->ie.termios = &d->termios;
	/* checked to be all zero: only what restore puts back */
	memset(&t, 0, sizeof(t));
	termios_to_entry(&t, &d->termios_locked, d->cc_locked);
	d->termios_locked.c_ispeed = d->termios_locked.c_ospeed = 0;
	d->ie.termios_locked = &d->termios_locked;
	if (ioctl(fd, TIOCGWINSZ, &ws)) {
		pr_perror("fd %d of pid %d: can't read the window size of %s", p->fd, p->pid,
			  p->link);
		return -errno;
	}
	d->winsize.ws_row = ws.ws_row;
	d->winsize.ws_col = ws.ws_col;
	d->winsize.ws_xpixel = ws.ws_xpixel;
	d->winsize.ws_ypixel = ws.ws_ypixel;
	d->ie.winsize = &d->winsize;
	return 0;
}

static int tty_dump(struct dump_file *f, const struct fd_parms *p)
{
	unsigned int maj = major(p->st.st_rdev), min = minor(p->st.st_rdev), index = 0;
	enum tty_class c = tty_class_of(maj, min);
	TtyFileEntry *tfe;
	struct tty_dump *d;
	int fd, ret = 0, n;
	uint32_t id;

	fd = our_fd(p);
	if (fd < 0) {
		pr_err("can't take fd %d of pid %d (%s): %s\n", p->fd, p->pid, p->link,
		       strerror(-fd));
		return fd;
	}
	if (c == TTY_CLASS_PTMX) {
		if (ioctl(fd, TIOCGPTN, &n)) {
			ret = -errno;
			pr_perror("fd %d of pid %d: can't read its pty index", p->fd, p->pid);
			goto out;
		}
		index = (unsigned int)n;
	} else if (c == TTY_CLASS_PTS)
		index = tty_pts_index(maj, min);
	id = tty_info_id(c, index);
	tfe = calloc(1, sizeof(*tfe));
	{
		TtyFileEntry **nf = realloc(dumped.files, (dumped.nfiles + 1) * sizeof(*nf));

		if (nf)
			dumped.files = nf;
		if (!tfe || !nf) {
			free(tfe);
			ret = -ENOMEM;
			goto out;
		}
		dumped.files[dumped.nfiles++] = tfe;
	}
	tty_file_entry__init(tfe);
	tfe->id = f->id;
	tfe->tty_info_id = id;
	tfe->flags = p->flags;
	tfe->fown = p->fown;
	f->fe.tty = tfe;
	f->fe.type = FD_TYPES__TTY;
	if (dumped_info(id))
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		ret = -ENOMEM;
		goto out;
	}
	{
		struct tty_dump **nt = realloc(dumped.ttys, (dumped.n + 1) * sizeof(*nt));

		if (!nt) {
			free(d);
			ret = -ENOMEM;
			goto out;
		}
		dumped.ttys = nt;
	}
	dumped.ttys[dumped.n++] = d;
	ret = dump_info(d, fd, p, c, index, id);
out:
	close(fd);
	return ret;
}

/* After every task: the slaves' session and group, known from their masters. */
static int tty_write(int dirfd)
{
	struct cr_img *img;
	int ret = 0;

	if (!dumped.n)
		return 0;
	for (size_t i = 0; i < dumped.n; i++) {
		TtyInfoEntry *ie = &dumped.ttys[i]->ie;
		struct tty_dump *m;

		if (ie->type != TTY_TYPE__PTY || (ie->id & 1))
			continue;
		m = dumped_info(ie->id | 1);
		if (m) {
			ie->sid = m->ie.sid;
			ie->pgrp = m->ie.pgrp;
		}
	}
	img = img_open(dirfd, IMG_TTY_INFO, O_WRONLY);
	if (!img)
		return -EIO;
	for (size_t i = 0; i < dumped.n && !ret; i++)
		ret = img_write_pb(img, &dumped.ttys[i]->ie.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static void tty_dump_fini(void)
{
	for (size_t i = 0; i < dumped.n; i++)
		free(dumped.ttys[i]);
	for (size_t i = 0; i < dumped.nfiles; i++)
		free(dumped.files[i]);
	free(dumped.ttys);
	free(dumped.files);
	memset(&dumped, 0, sizeof(dumped));
}

/* ---- restore ---------------------------------------------------------------- */

/* One slave description of a pty: opened from the master by its creator. */
struct rslave {
	const FileEntry *fe;
	int fd;
};

struct rpty {
	unsigned int index;	    /* dumped */
	const TtyInfoEntry *master, *slave; /* their entries, the slave's may be missing */
	const FileEntry *master_fe; /* the master's one description, or NULL */
	struct rslave *slaves;
	size_t nslaves;
	int lca;		/* the task that makes the pair */
	int leader;		/* the session leader whose terminal the slave is, or -1 */
	int master_fd, ctty_fd; /* in lca and, inherited, its descendants */
};

struct tty_rstate {
	TtyInfoEntry **infos;
	size_t ninfos;
	struct rpty *ptys;
	size_t nptys;
	bool planned;
};

extern const struct fd_kind tty_kind;

static struct tty_rstate *rstate(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &tty_kind);

	if (!*slot)
		*slot = calloc(1, sizeof(struct tty_rstate));
	return *slot;
}

static const TtyInfoEntry *info_of(struct tty_rstate *s, uint32_t id)
{
	for (size_t i = 0; i < s->ninfos; i++)
		if (s->infos[i]->id == id)
			return s->infos[i];
	return NULL;
}

static int read_infos(struct restore_ctx *rc, struct tty_rstate *s)
{
	struct cr_img *img = img_open(rc_images_dirfd(rc), IMG_TTY_INFO, O_RDONLY);
	ProtobufCMessage *m;
	int ret;

	if (!img) {
		pr_err("tty-info.img can't be read, but files.img has terminals\n");
		return -EINVAL;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		TtyInfoEntry *ie = (TtyInfoEntry *)m, **n;
		const char *why = tty_info_invalid(ie);

		if (!why && info_of(s, ie->id))
			why = "its id is there twice";
		if (why) {
			pr_err("tty-info.img: entry %zu (terminal %#x): %s\n", s->ninfos, ie->id,
			       why);
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -EINVAL;
			break;
		}
		n = realloc(s->infos, (s->ninfos + 1) * sizeof(*n));
		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		s->infos = n;
		s->infos[s->ninfos++] = ie;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

static int check_no_data(struct restore_ctx *rc)
{
	struct cr_img *img = img_open(rc_images_dirfd(rc), IMG_TTY_DATA, O_RDONLY);
	ProtobufCMessage *m;
	int ret;

	if (!img)
		return errno == ENOENT ? 0 : -EIO; /* absent: nothing was queued */
	ret = img_read_pb(img, NULL, &m);
	img_close(img);
	if (ret > 0) {
		pr_err("tty-data.img holds %zu bytes queued in terminal %#x: data queued in a "
		       "terminal is not restored\n",
		       ((TtyDataEntry *)m)->data.len, ((TtyDataEntry *)m)->tty_id);
		protobuf_c_message_free_unpacked(m, NULL);
		return -EOPNOTSUPP;
	}
	return ret;
}

static int tty_collect(struct restore_ctx *rc, const FileEntry *fe)
{
	struct tty_rstate *s = rstate(rc);
	const TtyInfoEntry *ie;
	int ret;

	if (!s)
		return -ENOMEM;
	if (!fe->tty) {
		pr_err("files.img: file %u is a terminal without its tty entry\n", fe->id);
		return -EINVAL;
	}
	if (!s->infos) {
		ret = read_infos(rc, s);
		if (!ret)
			ret = check_no_data(rc);
		if (ret)
			return ret;
	}
	ie = info_of(s, fe->tty->tty_info_id);
	if (!ie) {
		pr_err("files.img: terminal file %u: no terminal %#x in tty-info.img\n", fe->id,
		       fe->tty->tty_info_id);
		return -EINVAL;
	}
	if (ie->type == TTY_TYPE__PTY && !(ie->id & 1) && !info_of(s, ie->id | 1) &&
	    !opts.shell_job) {
		pr_err("files.img: file %u is the pty slave /dev/pts/%u, whose master is not in the "
		       "images: restore it with --shell-job to give it criu's terminal\n",
		       fe->id, ie->pty->index);
		return -EINVAL;
	}
	return 0;
}

static struct rpty *pty_of(struct tty_rstate *s, unsigned int index)
{
	for (size_t i = 0; i < s->nptys; i++)
		if (s->ptys[i].index == index)
			return &s->ptys[i];
	return NULL;
}

static struct rpty *add_pty(struct tty_rstate *s, unsigned int index)
{
	struct rpty *p = pty_of(s, index), *n;

	if (p)
		return p;
	n = realloc(s->ptys, (s->nptys + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->ptys = n;
	p = &s->ptys[s->nptys++];
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->lca = p->leader = -1;
	p->master_fd = p->ctty_fd = -1;
	return p;
}

static void add_holder(struct restore_ctx *rc, struct rpty *p, int idx)
{
	p->lca = p->lca < 0 ? idx : rc_lca(rc, p->lca, idx);
}

static int task_of_pid(struct restore_ctx *rc, uint32_t pid)
{
	for (int i = 0; i < rc_nr_tasks(rc); i++)
		if (rc_task_pid(rc, i) == pid)
			return i;
	return -1;
}

/* One fd of task idx on a pty: where it goes in the plan. */
static int plan_fd(struct restore_ctx *rc, struct tty_rstate *s, int idx, const FileEntry *fe)
{
	const TtyInfoEntry *ie = info_of(s, fe->tty->tty_info_id);
	struct rpty *p;

	if (!ie || ie->type != TTY_TYPE__PTY)
		return 0;
	if (!(ie->id & 1) && !info_of(s, ie->id | 1))
		return 0; /* the shell job's terminal: criu's */
	p = add_pty(s, ie->pty->index);
	if (!p)
		return -ENOMEM;
	add_holder(rc, p, idx);
	if (ie->id & 1) {
		if (p->master_fe && p->master_fe->id != fe->id) {
			pr_err("files.img: pty %u has two master descriptions (%u, %u)\n", p->index,
			       p->master_fe->id, fe->id);
			return -EINVAL;
		}
		p->master_fe = fe;
		return 0;
	}
	for (size_t i = 0; i < p->nslaves; i++)
		if (p->slaves[i].fe->id == fe->id)
			return 0;
	{
		struct rslave *n = realloc(p->slaves, (p->nslaves + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->slaves = n;
		p->slaves[p->nslaves++] = (struct rslave){ fe, -1 };
	}
	return 0;
}

/* Who makes each pair, who takes it as controlling terminal: once, in the root. */
static int plan(struct restore_ctx *rc, struct tty_rstate *s)
{
	int ret = 0;

	if (s->planned)
		return 0;
	s->planned = true;
	for (int i = 0; i < rc_nr_tasks(rc) && !ret; i++)
		for (size_t j = 0; j < rc_task_nfds(rc, i) && !ret; j++) {
			const FdinfoEntry *fd = rc_task_fd(rc, i, j);
			const FileEntry *fe;

			if (fd->type != FD_TYPES__TTY)
				continue;
			fe = rc_file(rc, fd->id);
			if (!fe || !fe->tty) {
				pr_err("fd %u of pid %u: no terminal %u in files.img\n", fd->fd,
				       rc_task_pid(rc, i), fd->id);
				return -EINVAL;
			}
			ret = plan_fd(rc, s, i, fe);
		}
	for (size_t i = 0; i < s->nptys && !ret; i++) {
		struct rpty *p = &s->ptys[i];
		const TtyInfoEntry *e;

		p->master = info_of(s, tty_info_id(TTY_CLASS_PTMX, p->index));
		p->slave = info_of(s, tty_info_id(TTY_CLASS_PTS, p->index));
		if (!p->master_fe) {
			pr_err("pty %u: no task holds its master\n", p->index);
			return -EINVAL;
		}
		e = p->slave ? p->slave : p->master;
		if (!e->sid)
			continue;
		p->leader = task_of_pid(rc, e->sid);
		if (p->leader < 0) {
			if (opts.shell_job)
				continue; /* its session is criu's */
			pr_err("pty %u: its session %u is not in the images\n", p->index, e->sid);
			return -EINVAL;
		}
		add_holder(rc, p, p->leader);
	}
	return ret;
}

static int open_ptmx(unsigned int want, unsigned int *got)
{
	int held[PTMX_TRIES], nheld = 0, fd = -1, index = -1;

	for (;;) {
		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			pr_perror("can't open /dev/ptmx");
			break;
		}
		if (ioctl(fd, TIOCGPTN, &index)) {
			pr_perror("can't read the index of a new pty");
			close(fd);
			fd = -EIO;
			break;
		}
		/* the lowest free index comes first: hold it, try for the next */
		if ((unsigned int)index >= want || nheld == PTMX_TRIES)
			break;
		held[nheld++] = fd;
	}
	while (nheld)
		close(held[--nheld]);
	if (fd >= 0) {
		*got = (unsigned int)index;
		if ((unsigned int)index != want)
			pr_info("pty %u is taken: restored as pty %d\n", want, index);
	}
	return fd;
}

static void entry_to_termios(const TermiosEntry *e, struct termios *t)
{
	struct termios base = *t;

	t->c_iflag = e->c_iflag;
	t->c_oflag = e->c_oflag;
	t->c_cflag = e->c_cflag;
	t->c_lflag = e->c_lflag;
	t->c_line = (cc_t)e->c_line;
	for (size_t i = 0; i < NCCS; i++)
		t->c_cc[i] = i < e->n_c_cc ? (cc_t)e->c_cc[i] : 0;
	/* the speed a pty has no use for; upstream's images leave it 0 */
	cfsetispeed(t, e->c_ispeed ? (speed_t)e->c_ispeed : cfgetispeed(&base));
	cfsetospeed(t, e->c_ospeed ? (speed_t)e->c_ospeed : cfgetospeed(&base));
}

/* The slave's termios and window size, through the master. */
static int set_params(int master, const TtyInfoEntry *e, unsigned int index)
{
	struct termios t;

	if (e->termios) {
		if (tcgetattr(master, &t)) {
			pr_perror("pty %u: can't read its termios", index);
			return -errno;
		}
		entry_to_termios(e->termios, &t);
		if (tcsetattr(master, TCSANOW, &t)) {
			pr_perror("pty %u: can't set its termios", index);
			return -errno;
		}
	}
	if (e->winsize) {
		struct winsize ws = { (unsigned short)e->winsize->ws_row,
				      (unsigned short)e->winsize->ws_col,
				      (unsigned short)e->winsize->ws_xpixel,
				      (unsigned short)e->winsize->ws_ypixel };

		if (ioctl(master, TIOCSWINSZ, &ws)) {
			pr_perror("pty %u: can't set its window size", index);
			return -errno;
		}
	}
	return 0;
}

static int set_flag(int fd, unsigned long req, int on, const char *what, unsigned int index)
{
	if (ioctl(fd, req, &on)) {
		pr_perror("pty %u: can't set its %s", index, what);
		return -errno;
	}
	return 0;
}

/* A new description of the slave, opened from the master. */
static int open_slave(int master, unsigned int index, int flags)
{
	char path[32];
	int fd;

	flags = rc_open_flags((uint32_t)flags) | O_NOCTTY | O_CLOEXEC;
	fd = ioctl(master, TIOCGPTPEER, flags);
	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != ENOTTY) {
		pr_perror("pty %u: can't open its slave", index);
		return -errno;
	}
	/* kernels before 4.13: by path */
	snprintf(path, sizeof(path), "/dev/pts/%u", index);
	fd = open(path, flags);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	return fd;
}

static int make_pair(struct rpty *p, uint32_t pid)
{
	const TtyFileEntry *mt = p->master_fe->tty;
	const TtyInfoEntry *e = p->slave ? p->slave : p->master;
	unsigned int got = 0;
	int ret;

	p->master_fd = open_ptmx(p->index, &got);
	if (p->master_fd < 0)
		return p->master_fd;
	ret = rc_restore_fown_and_flags(p->master_fd, mt->flags, mt->fown, 0, pid);
	if (!ret)
		ret = set_params(p->master_fd, e, p->index);
	if (!ret && p->master->packet_mode)
		ret = set_flag(p->master_fd, TIOCPKT, 1, "packet mode", p->index);
	if (ret)
		return ret;
	if (e->has_uid || e->has_gid) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/pts/%u", got);
		if (chown(path, e->has_uid ? e->uid : (uid_t)-1, e->has_gid ? e->gid : (gid_t)-1)) {
			pr_perror("pty %u: can't give %s its owner %u:%u", p->index, path, e->uid,
				  e->gid);
			return -errno;
		}
	}
	if (p->nslaves || p->leader >= 0 || (p->slave && p->slave->exclusive) ||
	    !p->master->locked) {
		ret = set_flag(p->master_fd, TIOCSPTLCK, 0, "lock", p->index);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < p->nslaves; i++) {
		const TtyFileEntry *st = p->slaves[i].fe->tty;
		int fd = open_slave(p->master_fd, got, (int)st->flags);

		if (fd < 0)
			return fd;
		p->slaves[i].fd = fd;
		ret = rc_restore_fown_and_flags(fd, st->flags, st->fown, 0, pid);
		if (ret)
			return ret;
	}
	if (p->leader >= 0 || (p->slave && p->slave->exclusive)) {
		p->ctty_fd = open_slave(p->master_fd, got, O_RDWR);
		if (p->ctty_fd < 0)
			return p->ctty_fd;
	}
	if (p->slave && p->slave->exclusive && ioctl(p->ctty_fd, TIOCEXCL)) {
		pr_perror("pty %u: can't make its slave exclusive", p->index);
		return -errno;
	}
	if (p->master->exclusive && ioctl(p->master_fd, TIOCEXCL)) {
		pr_perror("pty %u: can't make its master exclusive", p->index);
		return -errno;
	}
	if (p->master->locked)
		ret = set_flag(p->master_fd, TIOCSPTLCK, 1, "lock", p->index);
	return ret;
}

static int tty_create(struct restore_ctx *rc, int idx)
{
	struct tty_rstate *s = rstate(rc);
	uint32_t pid = rc_task_pid(rc, idx);
	int ret;

	if (!s)
		return -ENOMEM;
	if (!s->infos)
		return 0; /* no terminals */
	ret = plan(rc, s);
	for (size_t i = 0; i < s->nptys && !ret; i++)
		if (s->ptys[i].lca == idx)
			ret = make_pair(&s->ptys[i], pid);
	for (size_t i = 0; i < s->nptys && !ret; i++) {
		struct rpty *p = &s->ptys[i];

		if (p->leader != idx)
			continue;
		if (ioctl(p->ctty_fd, TIOCSCTTY, 0)) {
			ret = -errno;
			pr_perror("pid %u: can't take pty %u as its controlling terminal", pid,
				  p->index);
		}
	}
	return ret;
}

static int dup_fd(int fd, const char *what, uint32_t id)
{
	int n;

	if (fd < 0) {
		pr_err("terminal file %u: its %s was not created\n", id, what);
		return -EINVAL;
	}
	n = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return n < 0 ? -errno : n;
}

/* A description of its own of a terminal opened by path. */
static int open_by_path(const char *path, const TtyFileEntry *t, uint32_t pid)
{
	int flags = rc_open_flags(t->flags);
	int fd = open(path, flags | O_NOCTTY | O_CLOEXEC), ret;

	if (fd < 0) {
		pr_perror("pid %u: can't open %s", pid, path);
		return -errno;
	}
	ret = rc_restore_fown_and_flags(fd, t->flags, t->fown, 0, pid);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int tty_open(struct restore_ctx *rc, const FileEntry *fe, int idx)
{
	struct tty_rstate *s = rstate(rc);
	uint32_t pid = rc_task_pid(rc, idx);
	const TtyInfoEntry *ie;
	struct rpty *p;
	int ret;

	if (!s)
		return -ENOMEM;
	ret = plan(rc, s);
	if (ret)
		return ret;
	ie = info_of(s, fe->tty->tty_info_id);
	if (!ie)
		return -EINVAL;
	if (ie->type == TTY_TYPE__CTTY)
		return open_by_path("/dev/tty", fe->tty, pid);
	if (ie->type == TTY_TYPE__CONSOLE)
		return open_by_path("/dev/console", fe->tty, pid);
	p = pty_of(s, ie->pty->index);
	if (!p) {
		/* the shell job's terminal becomes the one criu runs on */
		if (!isatty(STDIN_FILENO)) {
			pr_err("pid %u: its terminal /dev/pts/%u was the shell job's, and criu "
			       "has no terminal to give it\n",
			       pid, ie->pty->index);
			return -ENOTTY;
		}
		return open_by_path(ttyname(STDIN_FILENO), fe->tty, pid);
	}
	if (ie->id & 1)
		return dup_fd(p->master_fd, "pty master", fe->id);
	for (size_t i = 0; i < p->nslaves; i++)
		if (p->slaves[i].fe->id == fe->id)
			return dup_fd(p->slaves[i].fd, "pty slave", fe->id);
	return -EINVAL;
}

/* An fd of task idx on pty p (its own numbers are in place now), or -1. */
static int fd_on_pty(struct restore_ctx *rc, struct tty_rstate *s, int idx, struct rpty *p)
{
	for (size_t i = 0; i < rc_task_nfds(rc, idx); i++) {
		const FdinfoEntry *fd = rc_task_fd(rc, idx, i);
		const FileEntry *fe = fd->type == FD_TYPES__TTY ? rc_file(rc, fd->id) : NULL;
		const TtyInfoEntry *ie = fe && fe->tty ? info_of(s, fe->tty->tty_info_id) : NULL;

		if (ie && ie->type == TTY_TYPE__PTY && ie->pty->index == p->index)
			return (int)fd->fd;
	}
	return -1;
}

/*
 * The foreground group, by the session leader once its children are
 * forked and in their groups; a group led further down the tree may
 * appear a moment later.
 */
static int set_foreground(struct restore_ctx *rc, struct tty_rstate *s, int idx, struct rpty *p)
{
	const TtyInfoEntry *e = p->slave ? p->slave : p->master;
	pid_t pgrp = (pid_t)e->pgrp;
	int fd = fd_on_pty(rc, s, idx, p), own = -1, r, tries = 0, err;
	sigset_t ttou, old;

	if (!pgrp || pgrp == (pid_t)e->sid)
		return 0;
	if (fd < 0) {
		own = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (own < 0) {
			pr_perror("pid %u: can't open its controlling terminal", rc_task_pid(rc, idx));
			return -errno;
		}
		fd = own;
	}
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	while ((r = ioctl(fd, TIOCSPGRP, &pgrp)) < 0 && errno == ESRCH && tries++ < 2000)
		usleep(1000);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (own >= 0)
		close(own);
	if (r < 0) {
		errno = err;
		pr_perror("pty %u: can't make process group %d its foreground", p->index, pgrp);
		return -err;
	}
	return 0;
}

static int tty_post_open(struct restore_ctx *rc, int idx)
{
	struct tty_rstate *s = rstate(rc);
	int ret = 0;

	if (!s || !s->infos)
		return 0;
	for (size_t i = 0; i < s->nptys && !ret; i++)
		if (s->ptys[i].leader == idx)
			ret = set_foreground(rc, s, idx, &s->ptys[i]);
	return ret;
}

static void tty_fini(struct restore_ctx *rc)
{
	void **slot = rc_kind_state(rc, &tty_kind);
	struct tty_rstate *s = *slot;

	if (!s)
		return;
	for (size_t i = 0; i < s->nptys; i++) {
		free(s->ptys[i].slaves);
	}
	for (size_t i = 0; i < s->ninfos; i++)
		protobuf_c_message_free_unpacked(&s->infos[i]->base, NULL);
	free(s->infos);
	free(s->ptys);
	free(s);
	*slot = NULL;
}

static uint32_t tty_status_flags(struct restore_ctx *rc, const FileEntry *fe)
{
	return fe->tty ? fe->tty->flags : 0;
}

const struct fd_kind tty_kind = {
	.name = "tty",
	.type = FD_TYPES__TTY,
	.match = tty_match,
	.check = tty_check,
	.dump = tty_dump,
	.write = tty_write,
	.dump_fini = tty_dump_fini,
	.collect = tty_collect,
	.create = tty_create,
	.open = tty_open,
	.post_open = tty_post_open,
	.fini = tty_fini,
	.status_flags = tty_status_flags,
};
