/* Task memory in images: see core/mem.c. */
#ifndef CRIU_MEM_H
#define CRIU_MEM_H

#include <stdint.h>
#include <sys/types.h>

#include "proto/mm.pb-c.h"

struct mem_dump_stats {
	uint64_t pages_scanned; /* pages of the VMAs whose pages are dumped */
	uint64_t pages_written;
	uint64_t memdump_us;	/* time spent moving pages into the images */
	uint64_t page_pipes;	/* pipes the pages went through */
	uint64_t page_pipe_bufs; /* batches of pages moved through them */
	uint64_t shpages_scanned; /* pages of shared memory objects */
	uint64_t shpages_written;
	uint64_t pages_skipped_parent; /* unchanged since the parent's dump */
};

/*
 * Incremental dumps (pre-dump, --prev-images-dir, --track-mem).  A page the
 * tracker says was not written since the parent's dump, and that the
 * parent's pagemap holds, gets a PE_PARENT entry and no data.
 */
struct pchain_level;
struct mem_deferred;
struct mem_dump_opts {
	struct pchain_level *parent; /* this task's pagemap in the parent images */
	bool track_valid;	     /* the tracker ran since the parent's dump */
	int tracker;		     /* enum mem_tracker */
	bool rearm;		     /* protect again: the next dump's tracker */
	bool defer;		     /* pre-dump read mode: contents later */
	struct mem_deferred **deferred; /* where deferred reads are queued */
};

/* The queued contents, read from the running tasks; frees the list. */
int mem_read_deferred(struct mem_deferred **list, struct mem_dump_stats *stats);
void mem_free_deferred(struct mem_deferred **list);

/*
 * Writes pagemap-<pid>.img and pages-<pages_id>.img for the VMAs of mm
 * (classified already): every present, non-zero page that the restorer
 * cannot get back from a file.  The task must be stopped.  0 or -errno.
 */
struct parasite_ctl;
/* ctl: the task's loaded parasite, which vmsplices the pages (NULL: all
 * through /proc/PID/mem). */
int mem_dump_pages(pid_t pid, int dirfd, MmEntry *mm, unsigned int pages_id,
		   struct parasite_ctl *ctl, struct mem_dump_stats *stats,
		   const struct mem_dump_opts *o);

/* The first guard region (MADV_GUARD_INSTALL) of [start, end) through
 * pm_fd (/proc/PID/pagemap): 1 and its bounds, 0 (none, or a kernel that
 * can't tell), or -errno. */
int mem_find_guard(int pm_fd, unsigned long start, unsigned long end, unsigned long *gstart,
		   unsigned long *gend);

/*
 * pagemap-shmem-<shmid>.img and a pages image of its own (its id from
 * next_pages_id) for the shared anonymous memory object e maps, unless
 * already dumped: every data page of the whole object, read through
 * /proc/PID/map_files.  Nothing for other mappings.
 */
int mem_dump_shmem(pid_t pid, int dirfd, const VmaEntry *e, unsigned int (*next_pages_id)(void),
		   struct mem_dump_stats *stats);
void mem_dump_fini(void);

#endif
