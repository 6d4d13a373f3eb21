/*
 * Chains of images.  A pre-dump, or a dump with --prev-images-dir, writes
 * in its directory a `parent' symlink to the previous images, and for each
 * page that did not change since, a pagemap entry flagged PE_PARENT with no
 * data in its pages image: the data is in the parent's, or further up.
 *
 * Restore reads through the chain: the pages of every entry are gathered,
 * level by level, into one memfd laid out as a plain dump's pages image
 * would be, so that the rest of restore sees a plain dump.
 *
 * Dedup (criu dedup, --auto-dedup) punches from the parents the pages that
 * a newer image holds itself: the file keeps its size and offsets, its
 * blocks are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "pagemap-chain.h"
#include "proto/inventory.pb-c.h"
#include "show.h"

#define COPY_CHUNK (4u << 20)

uint64_t pchain_entry_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

bool pchain_entry_present(const PagemapEntry *pe)
{
	if (pe->has_flags)
		return pe->flags & PAGEMAP_PE_PRESENT;
	return !(pe->has_in_parent && pe->in_parent);
}

static int cmp_run(const void *a, const void *b)
{
	const struct pchain_run *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int add_entry(struct pchain_level *l, const PagemapEntry *pe, size_t *cap, uint64_t *off,
		     uint64_t psz)
{
	uint64_t nr = pchain_entry_pages(pe);
	bool present = pchain_entry_present(pe);

	if (nr > (UINT64_MAX - pe->vaddr) / psz || pe->vaddr % psz) {
		pr_err("pagemap-%d.img: entry at %llx of %llu pages is out of range\n", l->pid,
		       (unsigned long long)pe->vaddr, (unsigned long long)nr);
		return -EINVAL;
	}
	if (!nr)
		return 0;
	if (l->n == *cap) {
		struct pchain_run *n = realloc(l->r, (*cap = *cap ? *cap * 2 : 64) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->r = n;
	}
	l->r[l->n++] = (struct pchain_run){ pe->vaddr, pe->vaddr + nr * psz, *off, present };
	if (present)
		*off += nr * psz;
	return 0;
}

int pchain_load(int dirfd, pid_t pid, bool writable, struct pchain_level **out)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE), off = 0;
	struct pchain_level *l;
	struct cr_img *img;
	ProtobufCMessage *m;
	size_t cap = 0;
	int ret;

	*out = NULL;
	img = img_open(dirfd, IMG_PAGEMAP, O_RDONLY, (unsigned long)pid);
	if (!img)
		return errno == ENOENT ? 0 : -EIO;
	l = calloc(1, sizeof(*l));
	if (!l) {
		img_close(img);
		return -ENOMEM;
	}
	l->pid = pid;
	l->pages_fd = -1;
	l->writable = writable;
	l->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	ret = img_read_pb(img, &pagemap_head__descriptor, &m);
	if (ret <= 0 || l->dirfd < 0) {
		pr_err("pagemap-%d.img has no head\n", pid);
		ret = -EINVAL;
		goto out;
	}
	l->pages_id = ((PagemapHead *)m)->pages_id;
	protobuf_c_message_free_unpacked(m, NULL);
	while ((ret = img_read_pb(img, &pagemap_entry__descriptor, &m)) > 0) {
		ret = add_entry(l, (PagemapEntry *)m, &cap, &off, psz);
		protobuf_c_message_free_unpacked(m, NULL);
		if (ret)
			break;
	}
	if (ret)
		goto out;
	qsort(l->r, l->n, sizeof(*l->r), cmp_run);
	for (size_t i = 1; i < l->n; i++)
		if (l->r[i].start < l->r[i - 1].end) {
			pr_err("pagemap-%d.img: entries at %llx and %llx overlap\n", pid,
			       (unsigned long long)l->r[i - 1].start,
			       (unsigned long long)l->r[i].start);
			ret = -EINVAL;
			goto out;
		}
out:
	img_close(img);
	if (ret) {
		pchain_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void pchain_free(struct pchain_level *l)
{
	while (l) {
		struct pchain_level *p = l->parent;

		if (l->dirfd >= 0)
			close(l->dirfd);
		if (l->pages_fd >= 0)
			close(l->pages_fd);
		free(l->r);
		free(l);
		l = p;
	}
}

int pchain_parent(struct pchain_level *l, struct pchain_level **out)
{
	struct stat st;
	int pdir, ret;

	*out = l->parent;
	if (l->parent)
		return 0;
	if (fstatat(l->dirfd, PCHAIN_LINK, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (l->depth + 1 >= PCHAIN_MAX_DEPTH) {
		pr_err("the chain of parent images is longer than %d (a loop of links?)\n",
		       PCHAIN_MAX_DEPTH);
		return -ELOOP;
	}
	pdir = openat(l->dirfd, PCHAIN_LINK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0) {
		char target[4096];
		ssize_t n = readlinkat(l->dirfd, PCHAIN_LINK, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
		pr_err("the parent images link (%s -> %s) is broken: %s\n", PCHAIN_LINK, target,
		       strerror(errno));
		return -ENOENT;
	}
	ret = pchain_load(pdir, l->pid, l->writable, &l->parent);
	close(pdir);
	if (!ret && l->parent)
		l->parent->depth = l->depth + 1;
	*out = l->parent;
	return ret;
}

/* The first run of l that ends after addr (l->n if none). */
static size_t first_after(const struct pchain_level *l, uint64_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t pchain_piece(const struct pchain_level *l, uint64_t start, uint64_t end, bool *covered)
{
	size_t i = l ? first_after(l, start) : 0;

	if (!l || i == l->n || l->r[i].start >= end) {
		*covered = false;
		return end;
	}
	if (l->r[i].start > start) {
		*covered = false;
		return l->r[i].start;
	}
	*covered = true;
	/* runs that touch extend the piece */
	while (i + 1 < l->n && l->r[i + 1].start == l->r[i].end && l->r[i].end < end)
		i++;
	return l->r[i].end < end ? l->r[i].end : end;
}

static int open_pages(struct pchain_level *l)
{
	char name[64];

	if (l->pages_fd >= 0)
		return 0;
	snprintf(name, sizeof(name), "pages-%u.img", l->pages_id);
	l->pages_fd = openat(l->dirfd, name, (l->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (l->pages_fd < 0) {
		pr_perror("can't open %s of the parent images", name);
		return -errno;
	}
	return 0;
}

static int copy_bytes(int from, uint64_t off, uint64_t len, int to, const char *what)
{
	static char *buf;

	if (!buf && !(buf = malloc(COPY_CHUNK)))
		return -ENOMEM;
	while (len) {
		size_t n = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
		ssize_t r = pread(from, buf, n, (off_t)off);

		if (r != (ssize_t)n) {
			pr_err("%s: short read at offset %llu\n", what, (unsigned long long)off);
			return -EIO;
		}
		if (write(to, buf, n) != (ssize_t)n) {
			pr_perror("can't write the pages of the chain");
			return -EIO;
		}
		off += n;
		len -= n;
	}
	return 0;
}

int pchain_copy(struct pchain_level *l, uint64_t start, uint64_t end, int out_fd)
{
	while (start < end) {
		size_t i = first_after(l, start);
		const struct pchain_run *r = i < l->n ? &l->r[i] : NULL;
		uint64_t stop;
		int ret;

		if (!r || r->start > start) {
			pr_err("pagemap-%d.img (parent level %d): the page at %llx is in no image of "
			       "the chain\n",
			       l->pid, l->depth, (unsigned long long)start);
			return -EINVAL;
		}
		stop = r->end < end ? r->end : end;
		if (r->present) {
			char what[64];

			snprintf(what, sizeof(what), "pages-%u.img (level %d)", l->pages_id,
				 l->depth);
			ret = open_pages(l);
			if (!ret)
				ret = copy_bytes(l->pages_fd, r->off + (start - r->start), stop - start,
						 out_fd, what);
		} else {
			struct pchain_level *p = NULL;

			ret = pchain_parent(l, &p);
			if (!ret && !p) {
				pr_err("pagemap-%d.img (level %d): pages at %llx are in the parent "
				       "images, but there is no '%s' link or no pagemap-%d.img "
				       "behind it\n",
				       l->pid, l->depth, (unsigned long long)start, PCHAIN_LINK,
				       l->pid);
				ret = -ENOENT;
			}
			if (!ret)
				ret = pchain_copy(p, start, stop, out_fd);
		}
		if (ret)
			return ret;
		start = stop;
	}
	return 0;
}

int pchain_flatten(int dirfd, pid_t pid, PagemapEntry **pm, size_t npm, int *memfd)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE);
	struct pchain_level *top = NULL;
	bool any = false;
	int fd, ret;

	*memfd = -1;
	for (size_t i = 0; i < npm; i++)
		any |= !pchain_entry_present(pm[i]) && pchain_entry_pages(pm[i]);
	if (!any)
		return 0;
	ret = pchain_load(dirfd, pid, false, &top);
	if (ret || !top)
		return ret ? ret : -ENOENT;
	fd = memfd_create("criu-chain-pages", MFD_CLOEXEC);
	if (fd >= 0 && fd < 3) {
		int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		close(fd);
		fd = n;
	}
	if (fd < 0) {
		pr_perror("can't make the memfd of the chain's pages");
		pchain_free(top);
		return -errno;
	}
	/* in the pagemap's own order: the offsets of a plain pages image */
	for (size_t i = 0; i < npm && !ret; i++) {
		PagemapEntry *pe = pm[i];
		uint64_t len = pchain_entry_pages(pe) * psz;

		ret = pchain_copy(top, pe->vaddr, pe->vaddr + len, fd);
		pe->has_flags = true;
		pe->flags = PAGEMAP_PE_PRESENT;
		pe->has_in_parent = false;
	}
	pchain_free(top);
	if (ret) {
		close(fd);
		return ret;
	}
	*memfd = fd;
	return 0;
}

int pchain_punch(struct pchain_level *l, uint64_t start, uint64_t end, uint64_t *punched)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE);

	for (size_t i = first_after(l, start); i < l->n && l->r[i].start < end; i++) {
		const struct pchain_run *r = &l->r[i];
		uint64_t s = r->start > start ? r->start : start;
		uint64_t e = r->end < end ? r->end : end;
		int ret;

		if (!r->present)
			continue;
		ret = open_pages(l);
		if (ret)
			return ret;
		if (fallocate(l->pages_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(r->off + (s - r->start)), (off_t)(e - s))) {
			pr_perror("can't punch pages-%u.img", l->pages_id);
			return -errno;
		}
		*punched += (e - s) / psz;
	}
	return 0;
}

/* Every level above l gives up the pages of [start, end). */
static int punch_above(struct pchain_level *l, uint64_t start, uint64_t end, uint64_t *punched)
{
	struct pchain_level *p = l;
	int ret = 0;

	for (;;) {
		ret = pchain_parent(p, &p);
		if (ret || !p)
			return ret;
		ret = pchain_punch(p, start, end, punched);
		if (ret)
			return ret;
	}
}

int pchain_dedup_task(int dirfd, pid_t pid, uint64_t *punched)
{
	struct pchain_level *top = NULL;
	int ret = pchain_load(dirfd, pid, true, &top);

	if (ret || !top)
		return ret;
	for (size_t i = 0; i < top->n && !ret; i++)
		if (top->r[i].present)
			ret = punch_above(top, top->r[i].start, top->r[i].end, punched);
	pchain_free(top);
	return ret;
}

int pchain_punch_chain(int dirfd, pid_t pid, uint64_t *punched)
{
	struct pchain_level *top = NULL, *l;
	int ret = pchain_load(dirfd, pid, true, &top);

	for (l = top; l && !ret;) {
		if (l->n)
			ret = pchain_punch(l, l->r[0].start, l->r[l->n - 1].end, punched);
		if (!ret)
			ret = pchain_parent(l, &l);
	}
	pchain_free(top);
	return ret;
}

int pchain_run_id(int dirfd, char *buf, size_t size)
{
	struct cr_img *img = img_open(dirfd, IMG_INVENTORY, O_RDONLY);
	ProtobufCMessage *m;
	int ret;

	if (!img)
		return errno == ENOENT ? -ENOENT : -EIO;
	ret = img_read_pb(img, &inventory_entry__descriptor, &m);
	img_close(img);
	if (ret <= 0)
		return -EINVAL;
	if (!((InventoryEntry *)m)->dump_criu_run_id) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -ENOENT;
	}
	snprintf(buf, size, "%s", ((InventoryEntry *)m)->dump_criu_run_id);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
