/*
 * The ids of what tasks share, as upstream CRIU numbers them in
 * ids-PID.img and inventory.img's root_ids: one counter per kind of
 * kernel object (mm, fd table, fs struct, signal handlers), starting at 1
 * with criu's own, and one counter for namespaces of every type together,
 * given out first to criu's own namespaces in the order pid, net, ipc,
 * uts, time, mnt, user, cgroup.  Objects are told apart with kcmp(2),
 * namespaces by their /proc/PID/ns inode.  See core/kobj-ids.c.
 */
#ifndef CRIU_KOBJ_IDS_H
#define CRIU_KOBJ_IDS_H

#include <sys/types.h>

#include "proto/core.pb-c.h"

/* criu's own ids: the first of each counter.  0 or -errno. */
int kobj_ids_init(void);
/* criu's ids (the inventory's root_ids). */
void kobj_ids_root(TaskKobjIdsEntry *e);
/* The ids of process pid, numbering what was not seen yet.  0 or -errno. */
int kobj_ids_of(pid_t pid, TaskKobjIdsEntry *e);
/* The cgroup set of pid (criu's is 1, the inventory's root_cg_set). */
int kobj_cg_set_of(pid_t pid, uint32_t *id);
/* The next id of a pages-N.img (one counter for the whole dump). */
unsigned int kobj_next_pages_id(void);
void kobj_ids_fini(void);

/* The namespaces of e that are not those of root, as "pid, net"; "" if none. */
void kobj_ids_ns_diff(const TaskKobjIdsEntry *e, const TaskKobjIdsEntry *root, char *buf,
		      size_t size);

#endif
