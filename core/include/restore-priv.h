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

/* restore-files.c: pipes and shared open files, made by the lowest common
 * ancestor of their holders; each task's fds */
int plan_pipes(void);
int read_pipes_data(int dirfd);
int plan_shared_files(void);
int create_pipes(int idx);
int create_shared_files(int idx);
int place_fds(int idx, int *keep, int nkeep);
int open_file_id(uint32_t id, int flags);

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
