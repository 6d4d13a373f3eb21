/*
 * criu restore: memory that criu's code prepares in the new tasks before
 * the restorer runs.  Shared anonymous memory is a memfd made by the
 * lowest common ancestor of its users; private anonymous memory is
 * premapped and filled, and children inherit it copy-on-write.  Also the
 * holes in address spaces where criu puts what must not collide with the
 * dumped mappings (the status area, the premap area, the restorer).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image-desc.h"
#include "image.h"
#include "log.h"
#include "pagemap-chain.h"
#include "proc.h"
#include "restore-priv.h"
#include "vma.h"
#include "pie/restorer.h"

/* ---- shared anonymous memory ---------------------------------------------------- */

static struct rshmem *shmems;
static size_t nr_shmems;
static MemfdInodeEntry **memfd_inodes;
static size_t nr_memfd_inodes;

int read_memfd_inodes(int dirfd)
{
	struct cr_img *img = img_open(dirfd, IMG_MEMFD_INODE, O_RDONLY);
	ProtobufCMessage *m;
	int ret;

	if (!img)
		return errno == ENOENT ? 0 : -EIO;
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		MemfdInodeEntry **n =
			realloc(memfd_inodes, (nr_memfd_inodes + 1) * sizeof(*n));

		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		memfd_inodes = n;
		memfd_inodes[nr_memfd_inodes++] = (MemfdInodeEntry *)m;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

static const MemfdInodeEntry *memfd_inode(uint64_t inode_id)
{
	for (size_t i = 0; i < nr_memfd_inodes; i++)
		if (memfd_inodes[i]->inode_id == inode_id)
			return memfd_inodes[i];
	return NULL;
}

static struct rshmem *find_shmem(uint64_t key, bool memfd)
{
	for (size_t i = 0; i < nr_shmems; i++)
		if (shmems[i].shmid == key && (shmems[i].inode != NULL) == memfd)
			return &shmems[i];
	return NULL;
}

/* Task i uses the object: it is made by the lowest common ancestor of its users. */
static int use_shmem(uint64_t key, const MemfdInodeEntry *inode, int i, uint64_t end)
{
	struct rshmem *m = find_shmem(key, inode != NULL);

	if (!m) {
		struct rshmem *n = realloc(shmems, (nr_shmems + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		shmems = n;
		m = &shmems[nr_shmems++];
		*m = (struct rshmem){ key, i, inode ? inode->size : 0, -1, inode };
	} else
		m->lca = lca(m->lca, i);
	if (!inode && end > m->size)
		m->size = end;
	return 0;
}

/* The inode of MEMFD file file_id of files.img; NULL (logged) if none. */
static const MemfdInodeEntry *memfd_file_inode(uint32_t file_id, uint32_t pid)
{
	const FileEntry *fe = file_by_id(file_id);
	const MemfdInodeEntry *inode;

	if (!fe || fe->type != FD_TYPES__MEMFD || !fe->memfd) {
		pr_err("pid %u: file %u is not a memfd of files.img\n", pid, file_id);
		return NULL;
	}
	inode = memfd_inode(fe->memfd->inode_id);
	if (!inode)
		pr_err("pid %u: memfd inode %u is not in memfd.img\n", pid, fe->memfd->inode_id);
	return inode;
}

int plan_shmem(void)
{
	for (int i = 0; i < nr_tasks; i++) {
		const MmEntry *mm = tasks[i].mm;
		int ret = 0;

		for (size_t j = 0; mm && j < mm->n_vmas && !ret; j++) {
			const VmaEntry *e = mm->vmas[j];
			const MemfdInodeEntry *inode;

			if (e->status & VMA_AREA_MEMFD) {
				inode = memfd_file_inode((uint32_t)e->shmid, tasks[i].pe->pid);
				ret = inode ? use_shmem(inode->inode_id, inode, i, 0) : -EINVAL;
			} else if ((e->status & VMA_ANON_SHARED) && e->shmid)
				ret = use_shmem(e->shmid, NULL, i, e->pgoff + (e->end - e->start));
		}
		for (size_t j = 0; j < tasks[i].nfds && !ret; j++) {
			const MemfdInodeEntry *inode;

			if (tasks[i].fds[j]->type != FD_TYPES__MEMFD)
				continue;
			inode = memfd_file_inode(tasks[i].fds[j]->id, tasks[i].pe->pid);
			ret = inode ? use_shmem(inode->inode_id, inode, i, 0) : -EINVAL;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The contents of a shared memory object: pagemap-shmem-SHMID.img, whose
 * entries give offsets in the object, and the pages image it names.  No
 * pagemap: nothing but zeroes.
 */
static int fill_shmem(int fd, uint64_t shmid, uint64_t size)
{
	struct cr_img *pm = img_open(images_dirfd, IMG_SHMEM_PAGEMAP, O_RDONLY, (unsigned long)shmid);
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	ProtobufCMessage *m;
	char name[64];
	char *buf = NULL;
	int pages = -1, ret;
	uint64_t at = 0;

	if (!pm)
		return errno == ENOENT ? 0 : -EIO;
	ret = img_read_pb(pm, &pagemap_head__descriptor, &m);
	if (ret <= 0) {
		img_close(pm);
		pr_err("pagemap-shmem-%llu.img has no head\n", (unsigned long long)shmid);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "pages-%u.img", ((PagemapHead *)m)->pages_id);
	protobuf_c_message_free_unpacked(m, NULL);
	pages = openat(images_dirfd, name, O_RDONLY | O_CLOEXEC);
	buf = malloc(psz);
	if (pages < 0 || !buf) {
		pr_perror("can't open %s", name);
		ret = -EIO;
		goto out;
	}
	while ((ret = img_read_pb(pm, &pagemap_entry__descriptor, &m)) > 0) {
		PagemapEntry *pe = (PagemapEntry *)m;
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t off = pe->vaddr;

		protobuf_c_message_free_unpacked(m, NULL);
		if (off % psz || nr > size / psz || off > size - nr * psz) {
			pr_err("pagemap-shmem-%llu.img: pages at %llx (%llu) are outside the object "
			       "of %llu bytes\n",
			       (unsigned long long)shmid, (unsigned long long)off,
			       (unsigned long long)nr, (unsigned long long)size);
			ret = -EINVAL;
			break;
		}
		for (uint64_t k = 0; k < nr; k++, at += psz) {
			ssize_t r = pread(pages, buf, psz, (off_t)at);

			if (r != (ssize_t)psz) {
				pr_err("%s: short read at %llu\n", name, (unsigned long long)at);
				ret = -EIO;
				goto out;
			}
			if (pwrite(fd, buf, psz, (off_t)(off + k * psz)) != (ssize_t)psz) {
				pr_perror("can't fill shared memory %llu", (unsigned long long)shmid);
				ret = -errno;
				goto out;
			}
		}
	}
out:
	free(buf);
	if (pages >= 0)
		close(pages);
	img_close(pm);
	return ret < 0 ? ret : 0;
}

/* A memfd as memfd.img describes it: name, size, contents, mode, owner, seals. */
static int create_memfd(struct rshmem *m)
{
	const MemfdInodeEntry *in = m->inode;
	const char *name = strncmp(in->name, "memfd:", 6) ? in->name : in->name + 6;
	int ret;

	m->fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m->fd < 0 || ftruncate(m->fd, (off_t)in->size)) {
		pr_perror("can't create memfd %s of %llu bytes", in->name,
			  (unsigned long long)in->size);
		return -errno;
	}
	ret = fill_shmem(m->fd, in->shmid, in->size);
	if (ret)
		return ret;
	if ((in->has_mode && fchmod(m->fd, in->mode & 07777)) || fchown(m->fd, in->uid, in->gid)) {
		pr_perror("can't give memfd %s its mode and owner", in->name);
		return -errno;
	}
	if (in->seals && fcntl(m->fd, F_ADD_SEALS, (int)in->seals)) {
		pr_perror("can't seal memfd %s with %#x", in->name, in->seals);
		return -errno;
	}
	return 0;
}

int create_shmem(int idx)
{
	for (size_t i = 0; i < nr_shmems; i++) {
		struct rshmem *m = &shmems[i];
		int ret;

		if (m->lca != idx)
			continue;
		if (m->inode) {
			ret = create_memfd(m);
			if (ret)
				return ret;
			continue;
		}
		m->fd = (int)syscall(SYS_memfd_create, "criu-shmem", MFD_CLOEXEC);
		if (m->fd < 0 || ftruncate(m->fd, (off_t)m->size)) {
			pr_perror("can't create shared memory of %llu bytes",
				  (unsigned long long)m->size);
			return -errno;
		}
		ret = fill_shmem(m->fd, m->shmid, m->size);
		if (ret)
			return ret;
	}
	return 0;
}

struct rshmem *memfd_of_file(uint32_t file_id)
{
	const FileEntry *fe = file_by_id(file_id);
	struct rshmem *m;

	if (!fe || fe->type != FD_TYPES__MEMFD || !fe->memfd)
		return NULL;
	m = find_shmem(fe->memfd->inode_id, true);
	if (!m || m->fd < 0) {
		pr_err("memfd of file %u was not created\n", file_id);
		return NULL;
	}
	return m;
}

struct rshmem *shmem_of(uint64_t shmid)
{
	return find_shmem(shmid, false);
}

/* ---- --auto-dedup -------------------------------------------------------------- */

void punch_restored_pages(void)
{
	uint64_t punched = 0;

	for (int i = 0; i < nr_tasks; i++)
		if (!tasks[i].zombie && tasks[i].mm &&
		    pchain_punch_chain(images_dirfd, (pid_t)tasks[i].pe->pid, &punched))
			pr_warn("auto-dedup: the pages of pid %u stay in the images\n",
				tasks[i].pe->pid);
	pr_info("auto-dedup: %llu restored pages punched from the images\n",
		(unsigned long long)punched);
}

/* ---- holes in address spaces ----------------------------------------------------- */

int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int read_self_maps(struct self_map **out, int *n)
{
	struct proc_vma *pv;
	int nv, ret = proc_read_vmas(getpid(), &pv, &nv);

	if (ret)
		return ret;
	*out = calloc(nv ? nv : 1, sizeof(**out));
	if (!*out) {
		proc_free_vmas(pv, nv);
		return -ENOMEM;
	}
	for (int i = 0; i < nv; i++) {
		(*out)[i].start = pv[i].start;
		(*out)[i].end = pv[i].end;
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", pv[i].path);
	}
	*n = nv;
	proc_free_vmas(pv, nv);
	return 0;
}

/* The highest gap of size bytes that neither we nor the dumped task use. */
unsigned long find_hole(const MmEntry *mm, const struct self_map *self, int nself,
			size_t size, const struct interval *extra, size_t nextra)
{
	size_t n = mm->n_vmas + (size_t)nself + nextra;
	struct interval *iv = calloc(n + 1, sizeof(*iv));
	unsigned long hole = 0, low = 1UL << 20, psz = (unsigned long)sysconf(_SC_PAGESIZE);

	if (!iv)
		return 0;
	n = 0;
	/* [vsyscall] sits far above user space: not a ceiling to go under */
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (!(mm->vmas[i]->status & VMA_AREA_VSYSCALL))
			iv[n++] = (struct interval){ mm->vmas[i]->start, mm->vmas[i]->end };
	for (int i = 0; i < nself; i++)
		if (strcmp(self[i].name, "[vsyscall]"))
			iv[n++] = (struct interval){ self[i].start, self[i].end };
	for (size_t i = 0; i < nextra; i++)
		iv[n++] = extra[i];
	qsort(iv, n, sizeof(*iv), cmp_interval);
	/* walk down from the top; never above the highest area in use */
	for (size_t i = n; i-- > 1;) {
		unsigned long top = iv[i].start, bottom = iv[i - 1].end;

		for (size_t j = 0; j < i; j++)
			if (iv[j].end > bottom)
				bottom = iv[j].end;
		if (top > bottom && top - bottom >= size + 2 * psz && top - size - psz >= low) {
			hole = (top - size - psz) & ~(psz - 1);
			break;
		}
	}
	free(iv);
	return hole;
}

/*
 * The status area stays mapped in every task while its restorer maps the
 * dumped memory: it goes where no dumped VMA of any task is, or a restorer
 * would map over it and its reports would never reach criu (likely where
 * mmap randomization is small, e.g. 11 bits on s390x).
 */
struct restorer_status *map_status(size_t size)
{
	MmEntry none = MM_ENTRY__INIT;
	struct interval *all;
	struct self_map *self;
	size_t n = 0;
	unsigned long hole;
	int nself;
	void *p;

	for (int i = 0; i < nr_tasks; i++)
		n += tasks[i].mm ? tasks[i].mm->n_vmas : 0;
	all = calloc(n + 1, sizeof(*all));
	if (!all || read_self_maps(&self, &nself)) {
		free(all);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	n = 0;
	for (int i = 0; i < nr_tasks; i++)
		for (size_t j = 0; tasks[i].mm && j < tasks[i].mm->n_vmas; j++)
			if (!(tasks[i].mm->vmas[j]->status & VMA_AREA_VSYSCALL))
				all[n++] = (struct interval){ tasks[i].mm->vmas[j]->start,
							      tasks[i].mm->vmas[j]->end };
	hole = find_hole(&none, self, nself, size, all, n);
	free(self);
	free(all);
	if (!hole) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = mmap((void *)hole, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != (void *)hole) {
		munmap(p, size); /* a kernel without MAP_FIXED_NOREPLACE */
		errno = EEXIST;
		return MAP_FAILED;
	}
	return p;
}

/* ---- premapping: copy-on-write sharing with the parent ------------------------ */

/*
 * Private anonymous memory is mapped and filled by criu's code in each task
 * before it forks its children, in a "premap" area, and moved to its place
 * by the restorer (mremap keeps the pages).  A child whose mapping is the
 * same as its parent's starts from the inherited copy and only writes the
 * pages that differ: what was shared copy-on-write after fork stays shared.
 */
static bool premappable(const VmaEntry *e)
{
	return (e->status & VMA_ANON_PRIVATE) && !(e->status & (VMA_ANON_SHARED | VMA_KERNEL_AREA)) &&
	       (e->flags & MAP_ANONYMOUS);
}

/* The parent's premapped copy of this very mapping, or 0. */
static unsigned long inherited_premap(int idx, const VmaEntry *e)
{
	int p = tasks[idx].parent;

	if (p < 0 || !tasks[p].mm || !tasks[p].premap)
		return 0;
	for (size_t j = 0; j < tasks[p].mm->n_vmas; j++) {
		const VmaEntry *pe = tasks[p].mm->vmas[j];

		if (pe->start == e->start && pe->end == e->end && tasks[p].premap[j])
			return tasks[p].premap[j];
	}
	return 0;
}

/* The final mappings of idx and of every task below it. */
static int subtree_intervals(int idx, struct interval **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (int i = idx; i < nr_tasks; i++) {
		bool below = false;

		for (int x = i; x >= 0 && !below; x = tasks[x].parent)
			below = x == idx;
		if (!below || !tasks[i].mm)
			continue;
		for (size_t j = 0; j < tasks[i].mm->n_vmas; j++) {
			if (tasks[i].mm->vmas[j]->status & VMA_AREA_VSYSCALL)
				continue;
			if (*n == cap) {
				struct interval *na = realloc(*out, (cap = cap ? cap * 2 : 256) * sizeof(*na));

				if (!na)
					return -ENOMEM;
				*out = na;
			}
			(*out)[(*n)++] = (struct interval){ tasks[i].mm->vmas[j]->start,
							   tasks[i].mm->vmas[j]->end };
		}
	}
	return 0;
}

/*
 * Fresh memory filled from the image: allocated in one go, not page by page
 * in the copy (MADV_POPULATE_WRITE, Linux 5.14+), then read straight into
 * place.  Large runs are split with a second thread: allocation (zeroing)
 * and the copy are CPU-bound, and a restore has the machine to itself.
 */
struct fill_job {
	int fd;
	char *dst;
	uint64_t len, off;
	int err;
};

static void *fill_fresh(void *arg)
{
	struct fill_job *j = arg;

	madvise(j->dst, j->len, 23 /* MADV_POPULATE_WRITE */);
	for (uint64_t done = 0; done < j->len;) {
		size_t n = j->len - done > (64u << 20) ? (64u << 20) : (size_t)(j->len - done);
		ssize_t r = pread(j->fd, j->dst + done, n, (off_t)(j->off + done));

		if (r <= 0) {
			j->err = r < 0 ? errno : EIO;
			return NULL;
		}
		done += (uint64_t)r;
	}
	return NULL;
}

#define FILL_SPLIT (32ull << 20)

static int fill_run(int fd, char *dst, uint64_t len, uint64_t off, size_t psz)
{
	struct fill_job a = { fd, dst, len, off, 0 }, b;
	pthread_t th;
	bool two = false;

	if (len >= FILL_SPLIT) {
		uint64_t half = (len / 2) & ~((uint64_t)psz - 1);

		b = (struct fill_job){ fd, dst + half, len - half, off + half, 0 };
		a.len = half;
		two = !pthread_create(&th, NULL, fill_fresh, &b);
		if (!two)
			a.len = len;
	}
	fill_fresh(&a);
	if (two) {
		pthread_join(th, NULL);
		if (!a.err)
			a.err = b.err;
	}
	return -a.err;
}

/* Pages of pagemap entries inside [start, end) of the task: read, and
 * written where they differ from what is there (the inherited copy). */
static int fill_premapped(struct rtask *t, int pages_fd, const VmaEntry *e, unsigned long at,
			  bool inherited, char *buf, size_t bufsz, struct restorer_status *st)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t off = 0, covered = e->start;

	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz;

		if (pe->vaddr >= e->start && pe->vaddr + len <= e->end && !inherited) {
			int err = fill_run(pages_fd, (char *)(at + (pe->vaddr - e->start)), len, off,
					   psz);

			if (err) {
				pr_err("pages-%u.img: can't read %llu bytes at %llu: %s\n", t->pages_id,
				       (unsigned long long)len, (unsigned long long)off,
				       strerror(-err));
				return -EIO;
			}
			st->pages_restored += nr;
		} else if (pe->vaddr >= e->start && pe->vaddr + len <= e->end) {
			/* pages the task did not have read as zero */
			if (inherited && pe->vaddr > covered)
				madvise((void *)(at + (covered - e->start)), pe->vaddr - covered,
					MADV_DONTNEED);
			for (uint64_t done = 0; done < len;) {
				size_t n = len - done > bufsz ? bufsz : (size_t)(len - done);
				char *dst = (char *)(at + (pe->vaddr - e->start) + done);
				ssize_t r = pread(pages_fd, buf, n, (off_t)(off + done));

				if (r != (ssize_t)n) {
					pr_perror("pages-%u.img: short read at %llu", t->pages_id,
						  (unsigned long long)(off + done));
					return -EIO;
				}
				for (size_t k = 0; k < n; k += psz) {
					st->pages_compared++;
					if (memcmp(dst + k, buf + k, psz))
						memcpy(dst + k, buf + k, psz);
					else
						st->pages_skipped_cow++;
				}
				st->pages_restored += n / psz;
				done += n;
			}
			covered = pe->vaddr + len;
		}
		off += len;
	}
	if (inherited && covered < e->end)
		madvise((void *)(at + (covered - e->start)), e->end - covered, MADV_DONTNEED);
	return 0;
}

#define PREMAP_ALIGN (2UL << 20)

int premap_memory(int idx)
{
	struct rtask *t = &tasks[idx];
	const MmEntry *mm = t->mm;
	struct self_map *self = NULL;
	struct interval *sub = NULL;
	size_t nsub = 0, own = 0, bufsz = 4 << 20;
	unsigned long area = 0, at;
	char name[64], *buf = NULL;
	int nself = 0, fd = -1, ret;

	t->premap = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(*t->premap));
	if (!t->premap)
		return -ENOMEM;
	/* each mapping at the same offset in a 2 MiB frame as its final place,
	 * so that huge pages move whole */
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (premappable(mm->vmas[i]) && !inherited_premap(idx, mm->vmas[i]))
			own += mm->vmas[i]->end - mm->vmas[i]->start + PREMAP_ALIGN;
	ret = subtree_intervals(idx, &sub, &nsub);
	if (!ret)
		ret = read_self_maps(&self, &nself);
	if (ret)
		goto out;
	if (own) {
		/* clear of this subtree's final mappings: moves never hit it.
		 * Reserved here, mapped below one mapping at a time. */
		area = find_hole(mm, self, nself, own + PREMAP_ALIGN, sub, nsub);
		if (area)
			area = (area + PREMAP_ALIGN - 1) & ~(PREMAP_ALIGN - 1);
		if (!area || mmap((void *)area, own, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1,
				  0) != (void *)area) {
			pr_perror("pid %u: no room to premap %zu bytes of memory", t->pe->pid, own);
			ret = -ENOMEM;
			goto out;
		}
	}
	snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
	fd = open_task_pages(images_dirfd, t);
	buf = malloc(bufsz);
	if (fd < 0 || !buf) {
		pr_perror("can't open %s", name);
		ret = -EIO;
		goto out;
	}
	at = area;
	for (size_t i = 0; i < mm->n_vmas && !ret; i++) {
		const VmaEntry *e = mm->vmas[i];
		unsigned long inh;

		if (!premappable(e))
			continue;
		inh = inherited_premap(idx, e);
		if (inh) {
			t->premap[i] = inh;
		} else {
			unsigned long len = e->end - e->start;
			int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				    (e->flags & MAP_NORESERVE ? MAP_NORESERVE : 0);

			/* the first address from here with the final one's offset in
			 * its 2 MiB frame: at most PREMAP_ALIGN further */
			at += (e->start - at) & (PREMAP_ALIGN - 1);
			if (mmap((void *)at, len, PROT_READ | PROT_WRITE, flags, -1, 0) != (void *)at) {
				pr_perror("pid %u: can't premap %lu bytes", t->pe->pid, len);
				ret = -ENOMEM;
				break;
			}
			/* the task's huge page advice before its pages arrive:
			 * with THP "always", a sparse area filled without its
			 * no-hugepage advice would become huge pages */
			if (e->has_madv && (e->madv & VMA_MADV_BIT(MADV_NOHUGEPAGE)))
				madvise((void *)at, len, MADV_NOHUGEPAGE);
			else if (e->has_madv && (e->madv & VMA_MADV_BIT(MADV_HUGEPAGE)))
				madvise((void *)at, len, MADV_HUGEPAGE);
			t->premap[i] = at;
			at += len;
		}
		pr_debug("pid %u: %llx-%llx premapped at %lx%s\n", t->pe->pid,
			 (unsigned long long)e->start, (unsigned long long)e->end, t->premap[i],
			 inh ? " (the parent's copy)" : "");
		ret = fill_premapped(t, fd, e, t->premap[i], inh != 0, buf, bufsz, &status[idx]);
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	free(self);
	free(sub);
	return ret;
}
