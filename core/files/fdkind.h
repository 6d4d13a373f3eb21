/*
 * One kind of open file (regular file, pipe, eventfd, tty, ...): the
 * descriptor each core/files/<kind>.c fills and registers in the one table,
 * core/files/table.c.  The common machinery (reading /proc/PID/fd and
 * fdinfo, taking the task's file with pidfd_getfd, finding descriptions
 * shared between fds and tasks with kcmp, fown, who opens a shared
 * description and how the others get it, moving fds to their numbers,
 * close-on-exec, O_ASYNC) lives once, in core/files/fdcommon.c, and calls
 * the hooks below.  Adding a kind touches its own file and its table line.
 *
 * Dump, for every fd of every task (the task is seized, its fds fixed):
 *   fdcommon builds a struct fd_parms; if the description was seen before
 *   (kcmp), the fd gets that file's id; else the first kind whose match()
 *   says yes gets dump(), which fills the kind's sub-message of the
 *   FileEntry (fe->reg, fe->efd, ...: the kind allocates it and frees it in
 *   dump_fini).  After every task, write() writes the kind's own images
 *   (pipes-data.img, tty-info.img, ...) and may add files of no fd
 *   (dump_file_new); files.img is written by fdcommon after that.
 *   check() runs earlier, in dump-check, while nothing is frozen for long:
 *   it refuses what the kind can't restore, with one message naming the
 *   task, the fd and why.
 *
 * Restore, with one struct restore_ctx passed down (no globals shared
 * between files; a kind keeps its state behind rc_kind_state()):
 *   collect(rc, fe) for every FileEntry of its type after the images are
 *   read (check it, read the kind's own images once, index what it needs);
 *   fdcommon then plans every description: held by one task, that task
 *   opens it; held by several, their lowest common ancestor opens it
 *   before it forks them and they inherit it.  create(rc, idx) runs in
 *   task idx before it forks, for objects that span several descriptions
 *   (the two ends of a pipe, a pty pair); open(rc, fe, idx) returns a new
 *   fd (any number, O_CLOEXEC) for the description in task idx; fdcommon
 *   moves it to its numbers.  post_open(rc, idx) runs in task idx once all
 *   its fds are at their numbers (epoll targets, inotify watches that need
 *   other fds); fini(rc) frees the kind's state.
 */
#ifndef CRIU_FILES_FDKIND_H
#define CRIU_FILES_FDKIND_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "proto/fdinfo.pb-c.h"
#include "proto/fown.pb-c.h"

struct restore_ctx;

/* What fdcommon knows of one fd of a seized task while it is dumped. */
struct fd_parms {
	pid_t pid;
	int fd;			/* its number in the task */
	int tfd;		/* our duplicate of its description (pidfd_getfd), or -1 */
	struct stat st;		/* fstat of it */
	char link[PATH_MAX];	/* readlink of /proc/PID/fd/N: "/path", "pipe:[ino]", "anon_inode:[eventfd]" */
	const char *fdinfo;	/* the text of /proc/PID/fdinfo/N */
	uint64_t pos;		/* fdinfo pos: */
	uint32_t flags;		/* fdinfo flags: (O_*), O_CLOEXEC taken out */
	bool cloexec;
	FownEntry *fown;	/* filled by fdcommon (F_GETOWN_EX, F_GETSIG); the kind links it */
	/* for check() only (dump-check fills them): the task's controlling
	 * terminal (0: none) and --shell-job */
	dev_t ctty;
	bool shell_job;
};

/* A file of files.img while it is dumped: fdcommon owns it, the kind fills fe. */
struct dump_file {
	uint32_t id;
	FileEntry fe;		/* type and id set by fdcommon; the kind sets its sub-message */
	void *priv;		/* the kind's own */
};

struct fd_kind {
	const char *name;	/* "eventfd", as messages and docs/dump-restore.md name it */
	FdTypes type;

	/* dump */
	bool (*match)(const struct fd_parms *p);
	int (*check)(const struct fd_parms *p, const char *who);	/* 0 or logged -errno */
	/* after check() of every fd of every task: what only the whole tree
	 * tells (a socket's peer outside it); 0 or logged -errno */
	int (*check_end)(void);
	int (*dump)(struct dump_file *f, const struct fd_parms *p);
	int (*write)(int dirfd);
	void (*dump_fini)(void);
	/* right before a tree that goes on is released (killed false: TCP
	 * connections leave repair mode), or right after a killed tree's kill */
	void (*dump_release)(bool killed);

	/* restore */
	int (*collect)(struct restore_ctx *rc, const FileEntry *fe);
	int (*create)(struct restore_ctx *rc, int idx);
	int (*open)(struct restore_ctx *rc, const FileEntry *fe, int idx);
	int (*post_open)(struct restore_ctx *rc, int idx);
	/* run by criu for task idx (seized, its files all open in every task)
	 * before any task is let go: what needs every peer made (a TCP
	 * connection out of repair mode); 0 or logged -errno */
	int (*live)(struct restore_ctx *rc, int idx);
	void (*fini)(struct restore_ctx *rc);
	/* the O_* status flags of the description (O_ASYNC is set by fdcommon at
	 * the fd's number); NULL: none */
	uint32_t (*status_flags)(struct restore_ctx *rc, const FileEntry *fe);
	/* several kinds of one FdTypes (chrdev and regfile are both REG): the
	 * entries this one restores; NULL: every entry of its type */
	bool (*owns)(const FileEntry *fe);
	/* a description of file fe with flags (O_ACCMODE) for the restorer to
	 * map or to be the exe (any number, O_CLOEXEC); NULL: not mappable */
	int (*open_id)(struct restore_ctx *rc, const FileEntry *fe, int flags);
	/* its create() makes the objects the holders inherit (a pipe's ends), so
	 * fdcommon does not open its descriptions held by several tasks in
	 * their lowest common ancestor */
	bool own_sharing;
};

/* table.c */
extern const struct fd_kind *const fd_kinds[];
extern const unsigned int nr_fd_kinds;
const struct fd_kind *fd_kind_of_type(FdTypes type);
const struct fd_kind *fd_kind_match(const struct fd_parms *p);
/* the kind restoring file fe (its type, then owns()), or NULL */
const struct fd_kind *fd_kind_of_file(const FileEntry *fe);
/* refused.c: for an fd no kind matches (io_uring, bpf, ..., or unknown),
 * its one message naming who, the fd, the kind and its /proc path */
int fd_refuse(const struct fd_parms *p, const char *who);

/* fdcommon.c, for the kinds */

/* the text after "key:" on its fdinfo line (NULL: none); fdinfo_u64 0 when missing */
const char *fdinfo_field(const char *fdinfo, const char *key);
uint64_t fdinfo_u64(const char *fdinfo, const char *key, int base);
/* the task's description of its fd number fd, as a new fd of ours (-errno) */
int task_fd(pid_t pid, int fd);
/* a new file of files.img of kind k, not of any fd (cwd, root, exe,
 * mappings): its id is set, its pid/fd for kcmp unset; NULL: no memory */
struct dump_file *dump_file_new(const struct fd_kind *k);

/* restore: the images and the tree, through the context */
const FileEntry *rc_file(struct restore_ctx *rc, uint32_t id);
int rc_nr_tasks(struct restore_ctx *rc);
uint32_t rc_task_pid(struct restore_ctx *rc, int idx);
int rc_task_parent(struct restore_ctx *rc, int idx);
int rc_lca(struct restore_ctx *rc, int a, int b);
size_t rc_task_nfds(struct restore_ctx *rc, int idx);
const FdinfoEntry *rc_task_fd(struct restore_ctx *rc, int idx, size_t i);
int rc_images_dirfd(struct restore_ctx *rc);
/* the fd number open() is called for (0 when the lowest common ancestor
 * opens a description held by several tasks), for messages */
uint32_t rc_opening_fd(struct restore_ctx *rc);
/* the kind's own state: a slot per kind, NULL until it sets it */
void **rc_kind_state(struct restore_ctx *rc, const struct fd_kind *k);
/* F_SETOWN_EX / F_SETSIG, and the status flags F_SETFL takes (O_ASYNC is
 * set later by fdcommon, at the fd's own number) */
/* the flags to open a dumped description again with: without the ones of
 * its making (O_CREAT, O_EXCL, O_TRUNC), O_CLOEXEC (the fd's own), and
 * O_ASYNC: set at the fd's number (fdcommon), as an open() with it marks
 * the file async without joining its notification list, so no SIGIO ever
 * comes */
int rc_open_flags(uint32_t dumped);
int rc_restore_fown_and_flags(int fd, uint32_t flags, const FownEntry *fown, uint32_t fdnum,
			      uint32_t pid);

#endif
