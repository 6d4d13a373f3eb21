/* Shared by the core/restore*.c files only; the command is cmd_restore (commands.h). */
#ifndef CRIU_RESTORE_PRIV_H
#define CRIU_RESTORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/core.pb-c.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/memfd.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "file-locks.h"

/* core/pie/restorer.h, which the .c files include */
struct restorer_move;
struct restorer_patch;
struct restorer_range;
struct restorer_status;

struct rtask {
	PstreeEntry *pe;
	CoreEntry *core;
	MmEntry *mm;
	PagemapEntry **pm;
	size_t npm;
	unsigned int pages_id;
	int pages_memfd; /* > 0: the pages gathered from a chain of images */
	TaskKobjIdsEntry *ids; /* ids-PID.img */
	FdinfoEntry **fds;
	size_t nfds;
	FsEntry *fs;
	int parent;
	bool zombie;
	bool stopped;
	CoreEntry **thread_cores; /* threads[1..]: core-TID.img of each */
	unsigned long *premap;	  /* per VMA: where criu premapped it (0: not) */
	int th_status;		  /* status[] index of threads[1] */
};

/* restore.c: criu's shared memory with every task it creates (one entry
 * per task, then one per further thread), and the images directory */
extern struct restorer_status *status;
extern size_t status_size;
extern int images_dirfd;
/* the read end of criu's lifeline pipe (criu alone holds the write end):
 * every task it creates watches it until criu has taken the task over */
extern int lifeline_rd;

/* restore-images.c: the tree (parents before children) and seccomp.img */
extern struct rtask *tasks;
extern int nr_tasks;
extern int nr_status;
extern SeccompEntry *seccomp;

int read_images(int dirfd);
/* restore-mem.c: --auto-dedup, once the tree runs: the pages images (and
 * their parents') give up what the tasks now hold */
void punch_restored_pages(void);
/* The task's pages image (or the memfd its chain was gathered into), opened anew. */
int open_task_pages(int dirfd, const struct rtask *t);
int find_task_index(uint32_t pid);
int lca(int a, int b);
const FileEntry *file_by_id(uint32_t id);

/*
 * The restore context, passed down to the file code (core/files/): the
 * tree, the images, and each kind's state behind rc_kind_state()
 * (core/files/fdkind.h has the accessors the kinds use).
 */
#define RC_MAX_KINDS 48

struct rshared_file;

struct restore_ctx {
	struct rtask *tasks;
	int nr_tasks;
	int images_dirfd;
	FileEntry **files; /* files.img */
	size_t nr_files;
	void *kind_state[RC_MAX_KINDS];
	/* fdcommon: descriptions held by several tasks */
	struct rshared_file *shared;
	size_t nr_shared;
	uint32_t opening_fd;
	bool restored; /* every task is ready: what the kinds' fini may now remove */
	/* filelocks.img: each task sets its own once its fds are at their numbers */
	struct lock_set locks;
	/* --inherit-fd (core/files/inherit.c) */
	struct inherit_set *inherit;
};

/* restore-images.c fills it in read_images */
extern struct restore_ctx rctx;

/* core/files/fdcommon.c: every kind collects its files and the sharing is
 * planned (after read_images and plan_shmem); in task idx before it forks:
 * each kind's create() (files_create), then, after its shared memory, the
 * descriptions it opens for its descendants (files_open_shared); each task's fds at their numbers; the files the restorer
 * maps (and the exe) by their ids in files.img */
int files_plan(struct restore_ctx *rc);
int files_create(struct restore_ctx *rc, int idx);
int files_open_shared(struct restore_ctx *rc, int idx);
int place_fds(struct restore_ctx *rc, int idx, int *keep, int nkeep);
int open_file_id(struct restore_ctx *rc, uint32_t id, int flags);
/* every kind's fini (once; again is a no-op): after every task is ready
 * (restored true) or on failure */
void files_restore_fini(struct restore_ctx *rc, bool restored);
/* task idx's files made live once every task holds its own (fdkind.h's live) */
int files_restore_live(struct restore_ctx *rc, int idx);

/* restore-mem.c: shared anonymous memory, holes in address spaces, the
 * premapped private memory */

/* shared anonymous memory: one memfd per object, made by the lowest
 * common ancestor of its users before it forks them */
struct rshmem {
	uint64_t shmid;
	int lca;
	uint64_t size;
	int fd;
	/* a memfd (memfd.img), keyed by its inode_id instead of a shmid */
	const MemfdInodeEntry *inode;
};

/* memfd.img, when there is one */
int read_memfd_inodes(int dirfd);
int plan_shmem(void);
int create_shmem(int idx);
struct rshmem *shmem_of(uint64_t shmid);
/* the memfd of a MEMFD file of files.img, or NULL (logged) */
struct rshmem *memfd_of_file(uint32_t file_id);

struct interval {
	unsigned long start, end;
};

int cmp_interval(const void *a, const void *b);

/* Our own mappings, named: the vDSO block is told apart. */
struct self_map {
	unsigned long start, end;
	char name[32];
};

int read_self_maps(struct self_map **out, int *n);
unsigned long find_hole(const MmEntry *mm, const struct self_map *self, int nself,
			size_t size, const struct interval *extra, size_t nextra);
struct restorer_status *map_status(size_t size);
int premap_memory(int idx);

/* restore-vdso.c: this kernel's vDSO block where the dumped one was, or,
 * when its layout differs, the dumped vDSO patched to jump into it */

#define MAX_PATCHES 64

struct vdso_proxy {
	bool on;		   /* the dumped vDSO is mapped back and patched */
	unsigned long lo, hi;	   /* this kernel's [vvar]..[vdso] block now */
	unsigned long vdso;	   /* this kernel's [vdso] now */
	unsigned long dest;	   /* where the block goes (lo: it stays) */
};

int plan_vdso(const MmEntry *mm, const struct self_map *self, int nself,
	      struct restorer_move *moves, uint32_t *nr_moves, struct restorer_range *unmaps,
	      uint32_t *nr_unmaps, unsigned long scratch);
bool vdso_same_layout(const MmEntry *mm, const struct self_map *self, int nself,
		      struct vdso_proxy *vp);
int vdso_patches(struct rtask *t, const struct vdso_proxy *vp, int pages_fd,
		 struct restorer_patch *patches, uint32_t *n);

/* restore-args.c: fills the restorer's arguments in task idx and jumps
 * into the restorer; returns only on failure (-errno) */
int restore_prepare_and_jump(int idx);

#endif
