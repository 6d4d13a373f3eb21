/*
 * Memory of a dumped task: which VMAs we can take, which of their pages are
 * worth storing, and the pagemap-PID.img / pages-N.img pair.
 *
 * Present pages are found with PAGEMAP_SCAN where the kernel has it (one
 * ioctl returns whole runs), /proc/PID/pagemap otherwise.  The zero page is
 * never stored: the restorer's fresh anonymous memory is zero already.
 * Contents are read through /proc/PID/mem, which also reads PROT_NONE and
 * write-only areas (FOLL_FORCE), in large chunks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-desc.h"
#include "image.h"
#include "kerndat.h"
#include "log.h"
#include "mem.h"
#include "mem-track.h"
#include "pagemap-chain.h"
#include "parasite-ctl.h"
#include "pagemap-scan.h"
#include "proto/pagemap.pb-c.h"
#include "show.h"
#include "vma.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define CHUNK (4u << 20)

int vma_classify(pid_t pid, const struct proc_vma *pv, VmaEntry *e)
{
	const char *p = pv->path;

	e->start = pv->start;
	e->end = pv->end;
	e->pgoff = pv->pgoff;
	e->prot = pv->prot;
	e->fd = -1;
	e->shmid = 0;
	e->flags = pv->shared ? MAP_SHARED : MAP_PRIVATE;
	e->status = VMA_AREA_REGULAR;
	e->has_madv = true;
	e->madv = 0;
	if (pv->vmflags & PROC_VMF_DONTFORK)
		e->madv |= VMA_MADV_BIT(MADV_DONTFORK);
	if (pv->vmflags & PROC_VMF_WIPEONFORK)
		e->madv |= VMA_MADV_BIT(MADV_WIPEONFORK);
	if (pv->vmflags & PROC_VMF_HUGEPAGE)
		e->madv |= VMA_MADV_BIT(MADV_HUGEPAGE);
	if (pv->vmflags & PROC_VMF_NOHUGEPAGE)
		e->madv |= VMA_MADV_BIT(MADV_NOHUGEPAGE);
	if (pv->vmflags & PROC_VMF_DONTDUMP)
		e->madv |= VMA_MADV_BIT(MADV_DONTDUMP);
	if (pv->vmflags & PROC_VMF_SEQ_READ)
		e->madv |= VMA_MADV_BIT(MADV_SEQUENTIAL);
	if (pv->vmflags & PROC_VMF_RAND_READ)
		e->madv |= VMA_MADV_BIT(MADV_RANDOM);
	if (pv->vmflags & PROC_VMF_GROWSDOWN)
		e->flags |= MAP_GROWSDOWN;
	if (pv->vmflags & PROC_VMF_NORESERVE)
		e->flags |= MAP_NORESERVE;

	if (!strcmp(p, "[vdso]")) {
		e->status |= VMA_AREA_VDSO;
		e->flags = MAP_PRIVATE;
	} else if (!strcmp(p, "[vvar]") || !strcmp(p, "[vvar_vclock]")) {
		e->status |= VMA_AREA_VVAR;
		e->flags = MAP_PRIVATE;
	} else if (!strcmp(p, "[vsyscall]")) {
		e->status |= VMA_AREA_VSYSCALL;
	} else if (!strcmp(p, "[heap]")) {
		e->status |= VMA_AREA_HEAP | VMA_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
	} else if (!strcmp(p, "[stack]")) {
		e->status |= VMA_AREA_STACK | VMA_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
	} else if (!p[0] || !strncmp(p, "[anon:", 6) || !strncmp(p, "[stack:", 7)) {
		e->status |= pv->shared ? VMA_ANON_SHARED : VMA_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
		if (pv->shared) {
			/* the shmem inode number identifies the object */
			e->shmid = pv->ino;
		}
	} else if (!strncmp(p, "/SYSV", 5)) {
		pr_err("pid %d: SysV shared memory at %lx-%lx is not supported yet\n", pid,
		       pv->start, pv->end);
		return -EOPNOTSUPP;
	} else if (!strncmp(p, "/memfd:", 7) || !strncmp(p, "/dev/zero", 9) ||
		   (pv->shared && pv->dev_major == 0 && pv->dev_minor == 1)) {
		/* shmem-backed: shared anonymous memory or a memfd */
		e->status |= pv->shared ? VMA_ANON_SHARED : VMA_ANON_PRIVATE;
		e->flags |= MAP_ANONYMOUS;
		e->shmid = pv->ino;
		if (!pv->shared)
			e->status &= ~VMA_ANON_SHARED;
	} else if (p[0] == '/') {
		e->status |= pv->shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE;
	} else {
		pr_err("pid %d: mapping %lx-%lx of '%s' is not supported\n", pid, pv->start,
		       pv->end, p);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Pages worth storing for this VMA: a private file mapping keeps its
 * file pages in the file; everything else anonymous is stored. */
static bool vma_wants_pages(const VmaEntry *e)
{
	/* the vDSO's code is kept: a restore on a kernel whose vDSO differs
	 * needs the old symbol table (core/vdso.c); [vvar] is kernel data */
	if (e->status & VMA_AREA_VDSO)
		return true;
	if (e->status & VMA_KERNEL_AREA)
		return false;
	/* shared memory objects go to pagemap-shmem-SHMID.img, once each */
	if (e->status & (VMA_FILE_SHARED | VMA_ANON_SHARED))
		return false;
	return true;
}

struct page_run {
	unsigned long start, end;
};

struct run_list {
	struct page_run *r;
	size_t n, cap;
};

static int add_run(struct run_list *l, unsigned long s, unsigned long e)
{
	if (l->n && l->r[l->n - 1].end == s) {
		l->r[l->n - 1].end = e;
		return 0;
	}
	if (l->n == l->cap) {
		struct page_run *nr = realloc(l->r, (l->cap = l->cap ? l->cap * 2 : 256) * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		l->r = nr;
	}
	l->r[l->n++] = (struct page_run){ s, e };
	return 0;
}

static int scan_pagemap_scan(int pm_fd, const VmaEntry *e, struct run_list *l, uint64_t also)
{
	struct cr_page_region regs[512];
	struct cr_pm_scan_arg arg;
	unsigned long at = e->start;
	bool file = e->status & VMA_FILE_PRIVATE;

	while (at < e->end) {
		long n;

		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = at;
		arg.end = e->end;
		arg.vec = (uintptr_t)regs;
		arg.vec_len = 512;
		/* present or swapped, not the zero page; in a private file
		 * mapping only the pages it wrote (no longer file pages) */
		arg.category_anyof_mask = CR_PAGE_IS_PRESENT | CR_PAGE_IS_SWAPPED;
		arg.category_inverted = CR_PAGE_IS_PFNZERO | (file ? CR_PAGE_IS_FILE : 0);
		arg.category_mask = CR_PAGE_IS_PFNZERO | (file ? CR_PAGE_IS_FILE : 0) | also;
		arg.return_mask = CR_PAGE_IS_PRESENT | CR_PAGE_IS_SWAPPED;
		n = ioctl(pm_fd, CR_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++)
			if (add_run(l, regs[i].start, regs[i].end))
				return -ENOMEM;
		if (arg.walk_end <= at)
			break;
		at = arg.walk_end;
	}
	return 0;
}

/*
 * Guard regions (MADV_GUARD_INSTALL) of [start, end): PAGEMAP_SCAN reports
 * them from Linux 6.14; a kernel without PAGEMAP_SCAN has none (they came
 * in 6.13), one that rejects the category can't show them.
 */
int mem_find_guard(int pm_fd, unsigned long start, unsigned long end, unsigned long *gstart,
		   unsigned long *gend)
{
	static bool unknown_category;
	struct cr_page_region reg;
	struct cr_pm_scan_arg arg;
	long n;

	if (!kdat.has[KD_PAGEMAP_SCAN] || unknown_category)
		return 0;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = start;
	arg.end = end;
	arg.vec = (uintptr_t)&reg;
	arg.vec_len = 1;
	arg.category_anyof_mask = CR_PAGE_IS_GUARD;
	arg.return_mask = CR_PAGE_IS_GUARD;
	n = ioctl(pm_fd, CR_PAGEMAP_SCAN, &arg);
	if (n < 0 && errno == EINVAL) {
		unknown_category = true;
		return 0;
	}
	if (n <= 0)
		return n < 0 ? -errno : 0;
	*gstart = (unsigned long)reg.start;
	*gend = (unsigned long)reg.end;
	return 1;
}

static int scan_pagemap_read(int pm_fd, const VmaEntry *e, struct run_list *l, size_t psz,
			     uint64_t also)
{
	uint64_t buf[4096];
	unsigned long at = e->start;
	bool file = e->status & VMA_FILE_PRIVATE;

	while (at < e->end) {
		size_t n = (e->end - at) / psz;
		ssize_t r;

		if (n > 4096)
			n = 4096;
		r = pread(pm_fd, buf, n * 8, (off_t)(at / psz * 8));
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		n = (size_t)r / 8;
		for (size_t i = 0; i < n; i++) {
			uint64_t pme = buf[i];
			unsigned long a = at + i * psz;

			if (!(pme & (PM_PRESENT | PM_SWAP)))
				continue;
			if (file && (pme & PM_FILE))
				continue;
			if ((also & CR_PAGE_IS_SOFT_DIRTY) && !(pme & PM_SOFT_DIRTY))
				continue;
			if (add_run(l, a, a + psz))
				return -ENOMEM;
		}
		at += n * psz;
	}
	return 0;
}

/* Copies [start, end) of the task into the pages image; skips zero pages
 * the pagemap fallback could not tell apart. */
static int copy_run(int mem_fd, struct cr_img *pages, unsigned long start, unsigned long end,
		    char *buf)
{
	while (start < end) {
		size_t n = end - start > CHUNK ? CHUNK : end - start;
		ssize_t r = pread(mem_fd, buf, n, (off_t)start);

		if (r != (ssize_t)n) {
			pr_perror("can't read task memory at %lx (%zd of %zu bytes)", start, r, n);
			return r < 0 ? -errno : -EIO;
		}
		if (img_write_raw(pages, buf, n))
			return -EIO;
		start += n;
	}
	return 0;
}

/*
 * copy_run for a task that runs meanwhile (pre-dump's read mode): what it
 * unmapped since the scan reads as zeroes.  Safe: its next dump sees the
 * range unmapped, or mapped anew, which the tracker reports as written.
 */
static int copy_run_live(int mem_fd, struct cr_img *pages, unsigned long start, unsigned long end,
			 char *buf)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);

	while (start < end) {
		size_t n = end - start > CHUNK ? CHUNK : end - start;
		ssize_t r = pread(mem_fd, buf, n, (off_t)start);

		if (r < (ssize_t)n) {
			if (r < 0 && errno == ESRCH)
				return -ESRCH;
			if (r < 0)
				r = 0;
			/* a page at a time past the first failure */
			if ((size_t)r < psz) {
				if (pread(mem_fd, buf, psz, (off_t)start) != (ssize_t)psz)
					memset(buf, 0, psz);
				r = (ssize_t)psz;
			}
			n = (size_t)r & ~(psz - 1);
		}
		if (img_write_raw(pages, buf, n))
			return -EIO;
		start += n;
	}
	return 0;
}

struct dump_run {
	unsigned long start, end;
	bool readable; /* PROT_READ: the parasite can vmsplice it */
};

/*
 * Writes the parasite-readable runs [from, to) through the parasite: the
 * task vmsplices its pages into a pipe and criu splices them into the
 * image, one copy in all.
 */
static int dump_batch(struct parasite_ctl *ctl, struct cr_img *pages, const struct dump_run *r,
		      size_t from, size_t to)
{
	struct iovec *iov = calloc(to - from, sizeof(*iov));
	uint64_t bytes = 0;
	int fd, ret;

	if (!iov)
		return -ENOMEM;
	for (size_t i = from; i < to; i++) {
		iov[i - from].iov_base = (void *)r[i].start;
		iov[i - from].iov_len = r[i].end - r[i].start;
		bytes += r[i].end - r[i].start;
	}
	fd = img_raw_fd(pages);
	ret = fd < 0 ? -EIO : parasite_dump_pages(ctl, iov, (int)(to - from), fd);
	if (!ret)
		img_advance(pages, bytes);
	free(iov);
	return ret;
}

/* ---- shared memory objects -------------------------------------------------- */

static uint64_t *shmem_dumped;
static size_t nr_shmem_dumped;

static bool shmem_seen(uint64_t shmid)
{
	for (size_t i = 0; i < nr_shmem_dumped; i++)
		if (shmem_dumped[i] == shmid)
			return true;
	return false;
}

/* The data ranges of the object behind fd (its holes are zeroes) as pagemap entries. */
static int dump_shmem_ranges(int fd, uint64_t size, struct cr_img *pm, struct cr_img *pages,
			     struct mem_dump_stats *stats)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	char *buf = malloc(CHUNK);
	off_t at = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while ((uint64_t)at < size && !ret) {
		off_t data = lseek(fd, at, SEEK_DATA), hole;
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		if (data < 0) {
			ret = errno == ENXIO ? 0 : -errno;
			break;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		data &= ~(off_t)(psz - 1);
		hole = (hole + (off_t)psz - 1) & ~(off_t)(psz - 1);
		pe.vaddr = (uint64_t)data;
		pe.has_nr_pages = true;
		pe.nr_pages = (uint64_t)(hole - data) / psz;
		pe.has_flags = true;
		pe.flags = PAGEMAP_PE_PRESENT;
		ret = img_write_pb(pm, &pe.base);
		for (off_t o = data; !ret && o < hole;) {
			size_t n = (size_t)(hole - o) > CHUNK ? CHUNK : (size_t)(hole - o);
			ssize_t r = pread(fd, buf, n, o);

			if (r != (ssize_t)n) {
				pr_perror("can't read shared memory at %llx", (unsigned long long)o);
				ret = r < 0 ? -errno : -EIO;
				break;
			}
			ret = img_write_raw(pages, buf, n) ? -EIO : 0;
			o += (off_t)n;
		}
		if (stats)
			stats->shpages_written += pe.nr_pages;
		at = hole;
	}
	free(buf);
	return ret;
}

int mem_dump_shmem(pid_t pid, int dirfd, const VmaEntry *e, unsigned int (*next_pages_id)(void),
		   struct mem_dump_stats *stats)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct cr_img *pm = NULL, *pages = NULL;
	char path[96];
	struct stat st;
	uint64_t *n;
	int fd, ret = -EIO;

	if (!(e->status & VMA_ANON_SHARED) || !e->shmid || shmem_seen(e->shmid))
		return 0;
	n = realloc(shmem_dumped, (nr_shmem_dumped + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	shmem_dumped = n;
	shmem_dumped[nr_shmem_dumped++] = e->shmid;
	/* the object itself, whatever part of it this task maps */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)e->start, (unsigned long long)e->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("pid %d: can't open the shared memory at %llx (%s)", pid,
			  (unsigned long long)e->start, path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	pm = img_open(dirfd, IMG_SHMEM_PAGEMAP, O_WRONLY, (unsigned long)e->shmid);
	head.pages_id = next_pages_id();
	pages = img_open(dirfd, IMG_PAGES, O_WRONLY, (unsigned long)head.pages_id);
	if (pm && pages && !img_write_pb(pm, &head.base)) {
		if (stats)
			stats->shpages_scanned += ((uint64_t)st.st_size + 4095) / 4096;
		ret = dump_shmem_ranges(fd, (uint64_t)st.st_size, pm, pages, stats);
	}
	if (pm && img_close(pm) && !ret)
		ret = -EIO;
	if (pages && img_close(pages) && !ret)
		ret = -EIO;
	close(fd);
	return ret;
}

void mem_dump_fini(void)
{
	free(shmem_dumped);
	shmem_dumped = NULL;
	nr_shmem_dumped = 0;
}

/* The runs of [start, end) that the tracker says were written, from l (sorted). */
static bool run_written(const struct run_list *w, size_t *at, unsigned long start,
			unsigned long *piece_end)
{
	while (*at < w->n && w->r[*at].end <= start)
		(*at)++;
	if (*at == w->n || w->r[*at].start >= *piece_end) {
		return false;
	}
	if (w->r[*at].start > start) {
		*piece_end = w->r[*at].start;
		return false;
	}
	if (w->r[*at].end < *piece_end)
		*piece_end = w->r[*at].end;
	return true;
}

static int add_dump_run(struct dump_run **all, size_t *nall, size_t *capall, unsigned long s,
			unsigned long e, bool readable)
{
	if (*nall == *capall) {
		struct dump_run *na = realloc(*all, (*capall = *capall ? *capall * 2 : 256) * sizeof(*na));

		if (!na)
			return -ENOMEM;
		*all = na;
	}
	(*all)[(*nall)++] = (struct dump_run){ s, e, readable };
	return 0;
}

static int write_pe(struct cr_img *pm_img, unsigned long s, unsigned long e, size_t psz,
		    uint32_t flags)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;

	pe.vaddr = s;
	pe.compat_nr_pages = 0;
	pe.has_nr_pages = true;
	pe.nr_pages = (e - s) / psz;
	pe.has_flags = true;
	pe.flags = flags;
	return img_write_pb(pm_img, &pe.base);
}

/*
 * One present run: pieces the tracker says are unchanged since the parent's
 * dump and that the parent holds become PE_PARENT entries; the rest are
 * stored here (and their contents queued in all).
 */
static int dump_run_pieces(struct cr_img *pm_img, const struct page_run *run, const VmaEntry *e,
			   const struct run_list *written, size_t *wat,
			   const struct mem_dump_opts *o, size_t psz, struct dump_run **all,
			   size_t *nall, size_t *capall, struct mem_dump_stats *stats)
{
	bool readable = (e->prot & PROT_READ) && !(e->status & VMA_KERNEL_AREA);
	bool incr = o && o->parent && o->track_valid && !(e->status & VMA_AREA_VDSO);
	unsigned long at = run->start;

	while (at < run->end) {
		unsigned long stop = run->end;
		bool in_parent = false;
		int ret;

		if (incr) {
			bool covered, w = run_written(written, wat, at, &stop);

			stop = (unsigned long)pchain_piece(o->parent, at, stop, &covered);
			in_parent = !w && covered;
		}
		if (in_parent) {
			ret = write_pe(pm_img, at, stop, psz, PAGEMAP_PE_PARENT);
			if (stats)
				stats->pages_skipped_parent += (stop - at) / psz;
		} else {
			ret = write_pe(pm_img, at, stop, psz, PAGEMAP_PE_PRESENT);
			if (!ret)
				ret = add_dump_run(all, nall, capall, at, stop, readable);
			if (stats)
				stats->pages_written += (stop - at) / psz;
		}
		if (ret)
			return ret;
		at = stop;
	}
	return 0;
}

/* Protects the pages of e again: the next dump sees what is written from now on. */
static int rearm_vma(int pm_fd, const VmaEntry *e)
{
	struct cr_pm_scan_arg arg;
	unsigned long at = e->start;

	while (at < e->end) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.flags = CR_PM_SCAN_WP_MATCHING;
		arg.start = at;
		arg.end = e->end;
		arg.category_mask = CR_PAGE_IS_WRITTEN;
		if (ioctl(pm_fd, CR_PAGEMAP_SCAN, &arg) < 0)
			return -errno;
		if (arg.walk_end <= at)
			break;
		at = arg.walk_end;
	}
	return 0;
}

static int copy_contents(struct parasite_ctl *ctl, int mem_fd, struct cr_img *pages,
			 const struct dump_run *all, size_t nall, struct mem_dump_stats *stats,
			 bool tolerate_gone)
{
	char *buf = NULL;
	int ret = 0;

	/* readable runs in batches through the parasite, the others (PROT_NONE,
	 * write-only) through /proc/PID/mem, which reads them anyway */
	if (stats && ctl && nall)
		stats->page_pipes++; /* the parasite's one pipe */
	for (size_t i = 0; i < nall && !ret;) {
		size_t j = i;

		if (ctl && all[i].readable) {
			while (j < nall && all[j].readable && j - i < 4096)
				j++;
			ret = dump_batch(ctl, pages, all, i, j);
			if (stats)
				stats->page_pipe_bufs++;
		} else {
			if (!buf && !(buf = malloc(CHUNK))) {
				ret = -ENOMEM;
				break;
			}
			ret = tolerate_gone ? copy_run_live(mem_fd, pages, all[i].start, all[i].end, buf)
					    : copy_run(mem_fd, pages, all[i].start, all[i].end, buf);
			j = i + 1;
		}
		i = j;
	}
	free(buf);
	return ret;
}

struct mem_deferred {
	pid_t pid;
	struct cr_img *pages;
	struct dump_run *all;
	size_t nall;
	struct mem_deferred *next;
};

int mem_dump_pages(pid_t pid, int dirfd, MmEntry *mm, unsigned int pages_id,
		   struct parasite_ctl *ctl, struct mem_dump_stats *stats,
		   const struct mem_dump_opts *o)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	struct cr_img *pm_img = NULL, *pages = NULL;
	PagemapHead head = PAGEMAP_HEAD__INIT;
	int pm_fd = -1, mem_fd = -1, ret = -EIO;
	struct run_list runs = { 0 }, written = { 0 };
	struct dump_run *all = NULL;
	size_t nall = 0, capall = 0;
	char path[64];
	bool incr = o && o->parent && o->track_valid;
	uint64_t wcat = o ? mem_track_written_category(o->tracker) : 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0 || mem_fd < 0) {
		pr_perror("can't open /proc/%d/pagemap or mem", pid);
		goto out;
	}
	pm_img = img_open(dirfd, IMG_PAGEMAP, O_WRONLY, (unsigned long)pid);
	pages = img_open(dirfd, IMG_PAGES, O_WRONLY, (unsigned long)pages_id);
	if (!pm_img || !pages)
		goto out;
	head.pages_id = pages_id;
	if (img_write_pb(pm_img, &head.base))
		goto out;

	/* 1. which pages: the whole pagemap first */
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		size_t wat = 0;

		if (!vma_wants_pages(e))
			continue;
		if (stats)
			stats->pages_scanned += (e->end - e->start) / psz;
		runs.n = 0;
		written.n = 0;
		if (e->status & VMA_AREA_VDSO)
			/* whole: its symbol table may sit in a page never touched */
			ret = add_run(&runs, e->start, e->end);
		else if (kdat.has[KD_PAGEMAP_SCAN])
			ret = scan_pagemap_scan(pm_fd, e, &runs, 0);
		else
			ret = scan_pagemap_read(pm_fd, e, &runs, psz, 0);
		if (!ret && incr && !(e->status & VMA_AREA_VDSO)) {
			if (kdat.has[KD_PAGEMAP_SCAN])
				ret = scan_pagemap_scan(pm_fd, e, &written, wcat);
			else if (o->tracker == MT_SOFT_DIRTY)
				ret = scan_pagemap_read(pm_fd, e, &written, psz, wcat);
			else
				ret = -EOPNOTSUPP;
		}
		if (ret) {
			pr_err("can't find the pages of pid %d at %lx: %s\n", pid,
			       (unsigned long)e->start, strerror(-ret));
			goto out;
		}
		for (size_t j = 0; j < runs.n && !ret; j++)
			ret = dump_run_pieces(pm_img, &runs.r[j], e, &written, &wat, o, psz, &all,
					      &nall, &capall, stats);
		if (ret)
			goto out;
		if (o && o->rearm && o->tracker == MT_UFFD_WP && !(e->status & VMA_KERNEL_AREA)) {
			ret = rearm_vma(pm_fd, e);
			if (ret) {
				pr_err("pid %d: can't re-arm the memory tracker at %lx: %s\n", pid,
				       (unsigned long)e->start, strerror(-ret));
				goto out;
			}
		}
	}
	if (o && o->rearm && o->tracker == MT_SOFT_DIRTY) {
		ret = mem_track_clear_soft_dirty(pid);
		if (ret)
			goto out;
	}
	ret = img_close(pm_img) ? -EIO : 0;
	pm_img = NULL;
	if (ret)
		goto out;
	if (o && o->defer) {
		struct mem_deferred *d = calloc(1, sizeof(*d));

		if (!d) {
			ret = -ENOMEM;
			goto out;
		}
		*d = (struct mem_deferred){ pid, pages, all, nall, *o->deferred };
		*o->deferred = d;
		pages = NULL;
		all = NULL;
		goto out;
	}
	/* 2. their contents, in the same order */
	ret = copy_contents(ctl, mem_fd, pages, all, nall, stats, false);
out:
	if (pm_img && img_close(pm_img) && !ret)
		ret = -EIO;
	if (pages && img_close(pages) && !ret)
		ret = -EIO;
	if (pm_fd >= 0)
		close(pm_fd);
	if (mem_fd >= 0)
		close(mem_fd);
	free(runs.r);
	free(written.r);
	free(all);
	return ret;
}

int mem_read_deferred(struct mem_deferred **list, struct mem_dump_stats *stats)
{
	int ret = 0;

	while (*list) {
		struct mem_deferred *d = *list;
		char path[64];
		int mem_fd;

		*list = d->next;
		snprintf(path, sizeof(path), "/proc/%d/mem", d->pid);
		mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (mem_fd < 0 && !ret) {
			pr_perror("pid %d is gone before its pages were read", d->pid);
			ret = -ESRCH;
		}
		if (!ret)
			ret = copy_contents(NULL, mem_fd, d->pages, d->all, d->nall, stats, true);
		if (mem_fd >= 0)
			close(mem_fd);
		if (img_close(d->pages) && !ret)
			ret = -EIO;
		free(d->all);
		free(d);
	}
	return ret;
}

void mem_free_deferred(struct mem_deferred **list)
{
	while (*list) {
		struct mem_deferred *d = *list;

		*list = d->next;
		img_close(d->pages);
		free(d->all);
		free(d);
	}
}
