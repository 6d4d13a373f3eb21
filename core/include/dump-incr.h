/* Incremental dumps: pre-dump, parent images, the tracker (core/dump-incr.c). */
#ifndef CRIU_DUMP_INCR_H
#define CRIU_DUMP_INCR_H

#include <stdbool.h>
#include <sys/types.h>

#include "mem.h"
#include "proto/mm.pb-c.h"

struct parasite_ctl;

/* Before the tree is seized: the parent link and the tracker.  0 or -errno (logged). */
int incr_begin(int dirfd, bool pre);
bool incr_pre_dump(void);

/* For one task, frozen, its parasite loaded: arms the tracker and fills o. */
int incr_task_opts(pid_t pid, struct parasite_ctl *ctl, MmEntry *mm, struct mem_dump_opts *o);
void incr_task_done(struct mem_dump_opts *o);

/* Pre-dump's read mode, once the tree runs again: the pages' contents. */
int incr_after_release(struct mem_dump_stats *stats);

/* The tracker kept (run_id names this dump's images) or stopped, and
 * --auto-dedup.  ok: the dump succeeded. */
int incr_end(bool ok, const char *run_id);

#endif
