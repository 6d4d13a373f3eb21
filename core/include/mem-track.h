/*
 * The memory change tracker (core/mem-track.c): which pages a task wrote
 * since the last dump of its tree, for pre-dump and --track-mem.
 */
#ifndef CRIU_MEM_TRACK_H
#define CRIU_MEM_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/mm.pb-c.h"

enum mem_tracker {
	MT_NONE = 0,
	MT_SOFT_DIRTY, /* the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY) */
	MT_UFFD_WP,    /* userfaultfd async write-protect, read by PAGEMAP_SCAN */
};

/* What this kernel gives (probed once, in criu's own memory); *why says
 * why none when MT_NONE. */
enum mem_tracker mem_track_kind(const char **why);
const char *mem_track_name(enum mem_tracker t);

/*
 * One dump's view of the tracker of the tree rooted at root: the keeper
 * process that holds the tasks' userfaultfds between runs of criu, if
 * there is one.  mem_track_begin() connects to it (none: a first dump).
 */
struct mem_track;
int mem_track_begin(pid_t root, struct mem_track **out);

/*
 * true when the pages pid wrote since the dump whose run id is parent_run
 * can be told: the tracker was armed for pid by that very dump and has
 * run without a break since.  Otherwise every page counts as written.
 */
bool mem_track_valid(struct mem_track *mt, pid_t pid, const char *parent_run);

/* Called with the task frozen and its parasite loaded (ctl): registers the
 * task's writable private memory with a new tracker unless it has one. */
struct parasite_ctl;
int mem_track_arm(struct mem_track *mt, struct parasite_ctl *ctl, pid_t pid, const MmEntry *mm);
bool mem_track_armed(struct mem_track *mt, pid_t pid);

/*
 * After the dump: keep (the tracker goes on for the next dump, which must
 * name run_id's images as its parent) or stop it (nothing of it is left
 * in the tasks).  Frees mt.  0 or -errno.
 */
int mem_track_end(struct mem_track *mt, bool keep, const char *run_id);

/* The written-page categories for PAGEMAP_SCAN with tracker t. */
uint64_t mem_track_written_category(enum mem_tracker t);

/* Soft-dirty: clears the bits of pid (/proc/PID/clear_refs). */
int mem_track_clear_soft_dirty(pid_t pid);

#endif
