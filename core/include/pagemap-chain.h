/*
 * Chains of images: a dump (or pre-dump) whose pagemap entries point at the
 * pages of its parent images (the `parent' symlink in the images
 * directory, PE_PARENT entries), as upstream lays them out.  See
 * core/pagemap-chain.c.
 */
#ifndef CRIU_PAGEMAP_CHAIN_H
#define CRIU_PAGEMAP_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/pagemap.pb-c.h"

#define PCHAIN_LINK "parent"
#define PCHAIN_MAX_DEPTH 256

/* One directory's pagemap of one task: its runs, sorted, and where the
 * data of each present run is in its pages image. */
struct pchain_run {
	uint64_t start, end; /* addresses */
	uint64_t off;	     /* in the pages image, when present */
	bool present;	     /* its data is here (else: in the parent) */
};

struct pchain_level {
	int dirfd;    /* the images directory (owned) */
	int pages_fd; /* pages-N.img; -1 until needed */
	bool writable;
	pid_t pid;
	unsigned int pages_id;
	struct pchain_run *r;
	size_t n;
	struct pchain_level *parent; /* opened when needed */
	int depth;
};

/*
 * The pagemap of pid in dirfd (dup'ed) as a level; *out NULL (and 0) when
 * the directory has no pagemap for pid.  writable: pages opened for
 * punching (dedup).
 */
int pchain_load(int dirfd, pid_t pid, bool writable, struct pchain_level **out);
void pchain_free(struct pchain_level *l);

/* The parent level of l (loaded once); *out NULL when l has no parent
 * link.  A link that does not lead to a directory is an error. */
int pchain_parent(struct pchain_level *l, struct pchain_level **out);

/*
 * How much of [start, end) from start on is covered by l's runs (covered
 * true) or not: the end of that first piece.
 */
uint64_t pchain_piece(const struct pchain_level *l, uint64_t start, uint64_t end, bool *covered);

/* Writes the data of [start, end) as the chain from l holds it to out_fd
 * at its position; an address no level holds is an error. */
int pchain_copy(struct pchain_level *l, uint64_t start, uint64_t end, int out_fd);

/*
 * Restore: when entries of the top pagemap (pid's in dirfd) point into the
 * parents, builds a memfd with the data of every entry in order and makes
 * every entry present; *memfd -1 when nothing points at a parent.
 */
int pchain_flatten(int dirfd, pid_t pid, PagemapEntry **pm, size_t npm, int *memfd);

/* Punches from the parents of dirfd (every level) the pages pid's pagemap
 * in dirfd holds itself; *punched counts the pages. */
int pchain_dedup_task(int dirfd, pid_t pid, uint64_t *punched);

/* Punches every page of pid's pagemap in dirfd and in its parents. */
int pchain_punch_chain(int dirfd, pid_t pid, uint64_t *punched);

/* Punches [start, end) of l's present runs from its pages image. */
int pchain_punch(struct pchain_level *l, uint64_t start, uint64_t end, uint64_t *punched);

/* The run id (inventory.img's dump_criu_run_id) of the images in dirfd,
 * into buf; -ENOENT when there is none. */
int pchain_run_id(int dirfd, char *buf, size_t size);

/* Of a pagemap entry: pages and whether its data is in this image. */
uint64_t pchain_entry_pages(const PagemapEntry *pe);
bool pchain_entry_present(const PagemapEntry *pe);

#endif
