/*
 * Refusals before dump writes anything: see core/include/dump-check.h.
 *
 * The tree is seized (frozen) when these run, so what they see stays true
 * until the dump is done.  Each check says what dump saves and refuses the
 * rest, so that a kind of state nobody thought of is refused rather than
 * silently dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dump-check.h"
#include "file-locks.h"
#include "files.h"
#include "files/fdkind.h"
#include "files/regfile.h"
#include "files/tty.h"
#include "log.h"
#include "mem.h"
#include "proc.h"
#include "vma.h"

#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4

/* "pid 12 (sleep)" or "pid 12 (sleep) thread 13": who a message is about */
static const char *who(const struct dump_check_task *t, pid_t tid)
{
	static char buf[128];

	if (tid && tid != t->pid)
		snprintf(buf, sizeof(buf), "pid %d (%s) thread %d", t->pid, t->stat->comm, tid);
	else
		snprintf(buf, sizeof(buf), "pid %d (%s)", t->pid, t->stat->comm);
	return buf;
}

static void read_link(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
}

/* ---- namespaces ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every entry of the thread's ns directory (whatever kinds the kernel has)
 * must be criu's own: restore creates nothing but tasks in criu's
 * namespaces.  pid_for_children and time_for_children count too: a task
 * that unshared them would have its next children elsewhere.
 */
static int check_thread_ns(const struct dump_check_task *t, pid_t tid)
{
	char dir[64], kinds[256] = "", example[160] = "";
	char *names[64];
	struct dirent *de;
	int nn = 0, ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task/%d/ns", t->pid, tid);
	d = opendir(dir);
	if (!d) {
		ret = -errno;
		pr_err("%s: can't list %s: %s\n", who(t, tid), dir, strerror(-ret));
		return ret;
	}
	while ((de = readdir(d)) && nn < 64)
		if (de->d_name[0] != '.' && (names[nn] = strdup(de->d_name)))
			nn++;
	closedir(d);
	qsort(names, (size_t)nn, sizeof(names[0]), cmp_str);
	for (int i = 0; i < nn; i++) {
		char theirs[128], ours[128], tl[64], ol[64];
		struct stat a, b;
		size_t len = strlen(kinds);

		snprintf(theirs, sizeof(theirs), "%s/%s", dir, names[i]);
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", names[i]);
		if (stat(theirs, &a))
			continue; /* a kind this task has no entry of: nothing to keep */
		if (!stat(ours, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			continue;
		snprintf(kinds + len, sizeof(kinds) - len, "%s%s", len ? ", " : "", names[i]);
		if (!example[0]) {
			read_link(theirs, tl, sizeof(tl));
			read_link(ours, ol, sizeof(ol));
			snprintf(example, sizeof(example), "%s, criu's %s", tl, ol[0] ? ol : "none");
		}
	}
	for (int i = 0; i < nn; i++)
		free(names[i]);
	if (!kinds[0])
		return 0;
	pr_err("%s is in namespaces other than criu's: %s (%s): namespaces are not dumped "
	       "yet, and restore would put it in criu's\n",
	       who(t, tid), kinds, example);
	return -EOPNOTSUPP;
}

/* ---- what tasks share -------------------------------------------------------- */

static const struct {
	int type;
	const char *what;
} shared_kinds[] = {
	{ KCMP_VM, "its memory (CLONE_VM)" },
	{ KCMP_FILES, "its fd table (CLONE_FILES)" },
	{ KCMP_FS, "its root, cwd and umask (CLONE_FS)" },
	{ KCMP_SIGHAND, "its signal handlers (CLONE_SIGHAND)" },
};

static int sort_type;

static long kcmp(pid_t a, pid_t b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0);
}

/* kcmp orders kernel objects: 1 when a's is less than b's, 2 when greater */
static int cmp_kcmp(const void *pa, const void *pb)
{
	const struct dump_check_task *a = *(const struct dump_check_task *const *)pa;
	const struct dump_check_task *b = *(const struct dump_check_task *const *)pb;
	long r = kcmp(a->pid, b->pid, sort_type);

	if (r == 1)
		return -1;
	if (r == 2)
		return 1;
	return r == 0 ? 0 : a->pid - b->pid;
}

/*
 * Restore gives each process its own memory, fd table, fs info and signal
 * handlers: two processes of the tree sharing one (clone without
 * CLONE_THREAD, a vfork child) would come back apart.  Sorting by kcmp's
 * order puts sharers side by side.
 */
static int check_process_sharing(const struct dump_check_task *tasks, int n)
{
	const struct dump_check_task **live;
	int nl = 0, ret = 0;

	if (n < 2)
		return 0;
	live = calloc((size_t)n, sizeof(*live));
	if (!live)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (!tasks[i].zombie)
			live[nl++] = &tasks[i];
	if (nl > 1 && kcmp(live[0]->pid, live[0]->pid, KCMP_VM) < 0) {
		pr_warn("no kcmp: sharing between the processes of the tree is not checked\n");
		nl = 0;
	}
	for (size_t k = 0; k < sizeof(shared_kinds) / sizeof(shared_kinds[0]) && nl > 1 && !ret;
	     k++) {
		sort_type = shared_kinds[k].type;
		qsort(live, (size_t)nl, sizeof(live[0]), cmp_kcmp);
		for (int i = 0; i + 1 < nl && !ret; i++) {
			if (kcmp(live[i]->pid, live[i + 1]->pid, sort_type) != 0)
				continue;
			pr_err("%s shares %s with pid %d (%s): sharing between processes is not "
			       "dumped yet\n",
			       who(live[i], 0), shared_kinds[k].what, live[i + 1]->pid,
			       live[i + 1]->stat->comm);
			ret = -EOPNOTSUPP;
		}
	}
	free(live);
	return ret;
}

/* A thread that unshared its fd table or fs info: dump saves the process's. */
static int check_thread_split(const struct dump_check_task *t, pid_t tid)
{
	if (kcmp(t->pid, tid, KCMP_FILES) > 0) {
		pr_err("%s has an fd table of its own (unshare(CLONE_FILES)): dump saves only "
		       "the process's\n",
		       who(t, tid));
		return -EOPNOTSUPP;
	}
	if (kcmp(t->pid, tid, KCMP_FS) > 0) {
		pr_err("%s has a root, cwd and umask of its own (unshare(CLONE_FS)): dump saves "
		       "only the process's\n",
		       who(t, tid));
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_threads(const struct dump_check_task *t)
{
	pid_t *tids = NULL;
	int nt = 0, ret = proc_list_threads(t->pid, &tids, &nt);

	if (ret) {
		pr_err("%s: can't list its threads: %s\n", who(t, 0), strerror(-ret));
		return ret;
	}
	for (int i = 0; i < nt && !ret; i++) {
		ret = check_thread_ns(t, tids[i]);
		if (!ret && tids[i] != t->pid)
			ret = check_thread_split(t, tids[i]);
	}
	free(tids);
	return ret;
}

/* ---- file locks ------------------------------------------------------------- */

static bool file_locks; /* -l: dump_check_tree's */

/* "FLOCK  ADVISORY  WRITE" out of a /proc/locks or fdinfo lock line */
static void lock_kind(const char *line, char *buf, size_t size)
{
	char a[16] = "", b[16] = "", c[16] = "";

	sscanf(line, "%*d: %15s %15s %15s", a, b, c);
	snprintf(buf, size, "%s %s %s", a, b, c);
}

/*
 * The locks an open file holds, from its fdinfo "lock:" lines: refused
 * without -l; with it, only those restore can't set (leases).
 */
static int check_fd_locks(const struct dump_check_task *t, int fd, const char *link)
{
	char path[64], kind[64], *buf, *p;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", t->pid, fd);
	buf = proc_read_file(path, NULL);
	if (!buf)
		return 0; /* the fd check reads fdinfo too and reports */
	for (p = strstr(buf, "\nlock:"); p && !ret; p = strstr(p + 1, "\nlock:")) {
		const char *line = p + 6 + strspn(p + 6, " \t");
		struct lock_line l;

		lock_kind(line, kind, sizeof(kind));
		if (!file_locks) {
			pr_err("%s holds a file lock (%s) through fd %d (%s): file locks are not "
			       "dumped without --file-locks\n",
			       who(t, 0), kind, fd, link);
			ret = -EOPNOTSUPP;
		} else if (lock_parse_line(line, &l) || !l.flag) {
			pr_err("%s holds a %s (%s) through fd %d (%s): only flock, POSIX and OFD "
			       "locks are dumped\n",
			       who(t, 0), strstr(kind, "LEASE") ? "lease" : "file lock", kind, fd, link);
			ret = -EOPNOTSUPP;
		} else if (l.flag == FL_POSIX && !l.waiter && locks_file_mapped(t->pid, fd)) {
			pr_err("%s holds a POSIX lock through fd %d on %s, which it also maps: restore "
			       "maps files through descriptors it closes, which would drop the lock; "
			       "not dumped yet\n",
			       who(t, 0), fd, link);
			ret = -EOPNOTSUPP;
		}
	}
	free(buf);
	return ret;
}

/* POSIX locks belong to a process: /proc/locks names it. */
static int check_posix_locks(const struct dump_check_task *tasks, int n)
{
	char *buf = proc_read_file("/proc/locks", NULL), *line, *save = NULL;
	int ret = 0;

	if (!buf)
		return 0; /* no /proc/locks: no CONFIG_FILE_LOCKING, no locks */
	for (line = strtok_r(buf, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char type[16] = "", kind[64], inode[64] = "";
		int pid = 0;

		if (strstr(line, "->")) /* a waiter, not a holder */
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %d %63s", type, &pid, inode) != 3 ||
		    strcmp(type, "POSIX"))
			continue;
		for (int i = 0; i < n; i++) {
			if (tasks[i].zombie || tasks[i].pid != pid)
				continue;
			lock_kind(line, kind, sizeof(kind));
			pr_err("%s holds a file lock (%s on inode %s): file locks are not dumped "
			       "without --file-locks\n",
			       who(&tasks[i], 0), kind, inode);
			ret = -EOPNOTSUPP;
			break;
		}
	}
	free(buf);
	return ret;
}

/* ---- fds ------------------------------------------------------------------------ */

/* Whether fd is of a kind that dump saves whole (the kind's check() says
 * what it can't restore); what no kind of core/files/table.c matches is
 * refused, naming its kind. */
static int check_one_fd(const struct dump_check_task *t, int fd, bool shell_job)
{
	const struct fd_kind *k;
	struct fd_parms p;
	char *fdinfo;
	int ret;

	ret = fd_parms_read(t->pid, fd, &p, &fdinfo);
	if (ret) {
		free(fdinfo);
		pr_err("%s: can't see fd %d: %s\n", who(t, 0), fd, strerror(-ret));
		return ret;
	}
	p.shell_job = shell_job;
	p.ctty = t->stat->tty_nr ? makedev(major(t->stat->tty_nr), minor(t->stat->tty_nr)) : 0;
	k = fd_kind_match(&p);
	if (!k && !strncmp(p.link, "socket:", 7)) {
		pr_err("%s: fd %d is a socket (%s): sockets are not dumped yet\n", who(t, 0), fd,
		       p.link);
		ret = -EOPNOTSUPP;
	} else if (!k) {
		ret = fd_refuse(&p, who(t, 0));
	} else if (k->check) {
		/* the kinds' checks read fdinfo (an eventfd's counter, an epoll's targets) */
		ret = k->check(&p, who(t, 0));
	}
	free(fdinfo);
	return ret ? ret : check_fd_locks(t, fd, p.link);
}

static int check_fds(const struct dump_check_task *t, bool shell_job)
{
	char dpath[64];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "/proc/%d/fd", t->pid);
	d = opendir(dpath);
	if (!d) {
		ret = -errno;
		pr_err("%s: can't list %s: %s\n", who(t, 0), dpath, strerror(-ret));
		return ret;
	}
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = check_one_fd(t, atoi(de->d_name), shell_job);
	closedir(d);
	return ret;
}

/* ---- the task's files outside its fd table ----------------------------------------- */

/* cwd, root and exe are opened again by path on restore; a deleted cwd
 * or exe is kept as a ghost (a directory, or the binary within
 * --ghost-limit), a deleted root is not (restore chroots by path). */
static int check_task_paths(const struct dump_check_task *t, bool shell_job)
{
	static const char *const names[] = { "cwd", "root", "exe" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64], link[PATH_MAX];
		const char *why;
		struct stat st;

		snprintf(path, sizeof(path), "/proc/%d/%s", t->pid, names[i]);
		read_link(path, link, sizeof(link));
		if (stat(path, &st)) {
			if (i == 2)
				continue; /* no exe (it was closed with PR_SET_MM): nothing to keep */
			why = "it can't be seen";
		} else if (i != 1 && link[0] == '/' && regfile_is_deleted(link)) {
			char what[16];
			int ret;

			snprintf(what, sizeof(what), "its %s", names[i]);
			ret = regfile_check_deleted(&st, who(t, 0), what, link);
			if (ret)
				return ret;
			continue;
		} else
			why = regfile_why_not_reopenable(link, &st);
		if (why) {
			pr_err("%s: its %s (%s) is a file restore could not open again: %s\n",
			       who(t, 0), names[i], link, why);
			return -EOPNOTSUPP;
		}
	}
	/* a pty of the tree, or with --shell-job the job's */
	return tty_check_ctty(t->pid, who(t, 0), t->stat->tty_nr, shell_job);
}

/* ---- mappings ------------------------------------------------------------------ */

/*
 * A file mapping is mapped again from its path: the path must name the
 * mapped inode (maps' device and inode) and that must be a regular file.
 */
static int check_file_mapping(const struct dump_check_task *t, const struct proc_vma *pv)
{
	const char *kind = pv->shared ? "shared" : "private";
	struct stat now;

	if (regfile_is_deleted(pv->path)) {
		/* kept as a ghost or a link remap, as an fd of it would be */
		char mf[64], what[96];

		snprintf(mf, sizeof(mf), "/proc/%d/map_files/%lx-%lx", t->pid, pv->start, pv->end);
		snprintf(what, sizeof(what), "its %s mapping %lx-%lx", kind, pv->start, pv->end);
		if (stat(mf, &now)) {
			pr_err("%s: its %s mapping %lx-%lx is of a deleted file (%s) that can't be "
			       "read: restore could not map it again\n",
			       who(t, 0), kind, pv->start, pv->end, pv->path);
			return -EOPNOTSUPP;
		}
		return regfile_check_deleted(&now, who(t, 0), what, pv->path);
	}
	if (stat(pv->path, &now) || now.st_ino != pv->ino ||
	    now.st_dev != makedev(pv->dev_major, pv->dev_minor)) {
		pr_err("%s: its %s mapping %lx-%lx is of %s, which that path no longer names: "
		       "restore could not map it again\n",
		       who(t, 0), kind, pv->start, pv->end, pv->path);
		return -EOPNOTSUPP;
	}
	if (!S_ISREG(now.st_mode)) {
		pr_err("%s: its %s mapping %lx-%lx is of the device %s: device mappings are not "
		       "dumped yet\n",
		       who(t, 0), kind, pv->start, pv->end, pv->path);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* VmFlags whose state the mm image has no place for; restore would drop it. */
static int check_vm_flags(const struct dump_check_task *t, const struct proc_vma *pv,
			  const VmaEntry *e)
{
	static const struct {
		uint64_t flag;
		const char *what;
	} unsaved[] = {
		{ PROC_VMF_LOCKED, "locked (mlock)" },
		{ PROC_VMF_SHADOW_STACK, "a shadow stack" },
		{ PROC_VMF_MTE, "tagged (PROT_MTE)" },
		{ PROC_VMF_SEALED, "sealed (mseal)" },
	};

	for (size_t k = 0; k < sizeof(unsaved) / sizeof(unsaved[0]); k++) {
		if (!(pv->vmflags & unsaved[k].flag))
			continue;
		/* the kernel may seal its own areas, which restore moves, not maps */
		if (unsaved[k].flag == PROC_VMF_SEALED && (e->status & VMA_KERNEL_AREA))
			continue;
		pr_err("%s: its memory at %lx-%lx is %s: such memory is not dumped yet\n", who(t, 0),
		       pv->start, pv->end, unsaved[k].what);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Guard regions (MADV_GUARD_INSTALL) are no mapping of their own and no
 * image field says where they are: restored, they would be plain memory.
 */
static int check_guards(const struct dump_check_task *t, int pm_fd, const struct proc_vma *pv)
{
	unsigned long gs, ge;
	int ret;

	/* no mapping of the task's: the page tables of the walk don't cover it */
	if (!strcmp(pv->path, "[vsyscall]"))
		return 0;
	ret = mem_find_guard(pm_fd, pv->start, pv->end, &gs, &ge);

	if (ret < 0) {
		pr_err("%s: can't scan its mapping %lx-%lx for guard pages: %s\n", who(t, 0),
		       pv->start, pv->end, strerror(-ret));
		return ret;
	}
	if (ret) {
		pr_err("%s: its mapping %lx-%lx has guard pages (MADV_GUARD_INSTALL) at %lx-%lx: "
		       "guard pages are not dumped yet\n",
		       who(t, 0), pv->start, pv->end, gs, ge);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_mappings(struct dump_check_task *t)
{
	struct proc_vma *pv = NULL;
	char path[64];
	int nv = 0, pm_fd, ret = proc_read_vmas(t->pid, &pv, &nv);

	if (ret) {
		pr_err("%s: can't read its mappings: %s\n", who(t, 0), strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		ret = -errno;
		pr_err("%s: can't open %s: %s\n", who(t, 0), path, strerror(-ret));
		proc_free_vmas(pv, nv);
		return ret;
	}
	for (int i = 0; i < nv && !ret; i++) {
		VmaEntry e;

		vma_entry__init(&e);
		/* the kinds of area dump takes; it names any other */
		ret = vma_classify(t->pid, &pv[i], &e);
		if (!ret)
			ret = check_vm_flags(t, &pv[i], &e);
		if (!ret && (e.status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
			ret = check_file_mapping(t, &pv[i]);
		if (!ret)
			ret = check_guards(t, pm_fd, &pv[i]);
	}
	close(pm_fd);
	t->vmas = pv;
	t->nr_vmas = nv;
	return ret;
}

/* ---- the tree ---------------------------------------------------------------------- */

int dump_check_tree(struct dump_check_task *tasks, int n, bool shell_job, bool with_locks)
{
	int ret = 0;

	file_locks = with_locks;

	for (int i = 0; i < n && !ret; i++) {
		struct dump_check_task *t = &tasks[i];

		if (t->zombie)
			continue;
		/* restore makes children with SIGCHLD (the root's parent is not ours) */
		if (i > 0 && t->stat->exit_signal != SIGCHLD) {
			pr_err("%s: its parent is told of its death by signal %u, not SIGCHLD: such "
			       "children are not dumped yet\n",
			       who(t, 0), t->stat->exit_signal);
			return -EOPNOTSUPP;
		}
		ret = check_threads(t);
		if (!ret)
			ret = check_task_paths(t, shell_job);
		if (!ret)
			ret = check_fds(t, shell_job);
		if (!ret)
			ret = check_mappings(t);
	}
	for (unsigned int k = 0; k < nr_fd_kinds && !ret; k++)
		if (fd_kinds[k]->check_end)
			ret = fd_kinds[k]->check_end();
	if (!ret)
		ret = check_process_sharing(tasks, n);
	/* with -l each POSIX lock is found with its owner in the fdinfo of the
	 * fd it was set through (closing any fd of the file drops it) */
	if (!ret && !file_locks)
		ret = check_posix_locks(tasks, n);
	return ret;
}
