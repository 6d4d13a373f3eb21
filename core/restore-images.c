/*
 * criu restore, first step: every image of the tree is read and checked
 * before anything is created (pstree, core, mm, pagemap, fdinfo, fs,
 * files, seccomp), and what tasks share is planned: which task creates each
 * pipe, shared memory object and shared open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "image-desc.h"
#include "file-locks.h"
#include "image.h"
#include "kobj-ids.h"
#include "log.h"
#include "pagemap-chain.h"
#include "options.h"
#include "proto/inventory.pb-c.h"
#include "restore-priv.h"

#define MAX_TASKS 4096

struct rtask *tasks;
int nr_tasks;
int nr_status;
SeccompEntry *seccomp;

static InventoryEntry *inventory;
static FileEntry **files;
static size_t nr_files;
struct restore_ctx rctx;

static void missing(enum img_type type, unsigned long id)
{
	char name[256];

	img_file_name(name, sizeof(name), type, id);
	pr_err("image %s is missing from %s\n", name, opts.images_dir);
}

static int read_all(int dirfd, enum img_type type, unsigned long id, ProtobufCMessage ***out,
		    size_t *n, bool must_exist)
{
	struct cr_img *img = img_open(dirfd, type, O_RDONLY | (must_exist ? 0 : O_CREAT), id);
	ProtobufCMessage *m, **arr = NULL;
	size_t cap = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if (!img) {
		if (must_exist && errno == ENOENT)
			missing(type, id);
		return must_exist ? -ENOENT : 0;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		if (*n == cap) {
			ProtobufCMessage **na = realloc(arr, (cap = cap ? cap * 2 : 16) * sizeof(*na));

			if (!na) {
				protobuf_c_message_free_unpacked(m, NULL);
				ret = -ENOMEM;
				break;
			}
			arr = na;
		}
		arr[(*n)++] = m;
	}
	img_close(img);
	*out = arr;
	return ret < 0 ? ret : 0;
}

static int read_one(int dirfd, enum img_type type, unsigned long id, ProtobufCMessage **out)
{
	struct cr_img *img = img_open(dirfd, type, O_RDONLY, id);
	int ret;

	*out = NULL;
	if (!img) {
		if (errno == ENOENT)
			missing(type, id);
		return -ENOENT;
	}
	ret = img_read_single(img, NULL, out);
	img_close(img);
	return ret < 0 ? ret : 0;
}

/* whether task pid has fd number fd in the images (a lock's holder) */
static bool task_has_fd(uint32_t pid, uint32_t fd)
{
	int i = find_task_index(pid);

	for (size_t j = 0; i >= 0 && j < tasks[i].nfds; j++)
		if (tasks[i].fds[j]->fd == fd)
			return true;
	return false;
}

int find_task_index(uint32_t pid)
{
	for (int i = 0; i < nr_tasks; i++)
		if (tasks[i].pe->pid == pid)
			return i;
	return -1;
}

/*
 * The pages image holds the pages of every pagemap entry, in order: one
 * that ends early is refused here, naming where, not half way through the
 * restore.
 */
static int check_pages_size(int dirfd, const struct rtask *t)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE), need = 0;
	char name[64];
	struct stat st;

	img_file_name(name, sizeof(name), IMG_PAGES, t->pages_id);
	if (t->pages_memfd > 0 ? fstat(t->pages_memfd, &st) : fstatat(dirfd, name, &st, 0)) {
		if (errno == ENOENT) {
			if (!t->npm)
				return 0;
			missing(IMG_PAGES, t->pages_id);
			return -ENOENT;
		}
		pr_perror("can't stat %s", name);
		return -errno;
	}
	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;

		if (nr > (UINT64_MAX - need) / psz) {
			pr_err("pagemap-%u.img: entry %zu: %llu pages is too many\n", t->pe->pid,
			       i + 1, (unsigned long long)nr);
			return -EINVAL;
		}
		if (need + nr * psz > (uint64_t)st.st_size) {
			pr_err("%s is truncated: it ends at offset %llu, but the pages at %#llx "
			       "(pagemap-%u.img entry %zu) are at offset %llu-%llu\n",
			       name, (unsigned long long)st.st_size, (unsigned long long)pe->vaddr,
			       t->pe->pid, i + 1, (unsigned long long)need,
			       (unsigned long long)(need + nr * psz));
			return -EINVAL;
		}
		need += nr * psz;
	}
	return 0;
}

/* Doubles the array (NULL, with arr freed, when out of memory). */
static PagemapEntry **realloc_array(PagemapEntry **arr, size_t *cap)
{
	PagemapEntry **n = realloc(arr, (*cap = *cap ? *cap * 2 : 16) * sizeof(*n));

	if (!n)
		free(arr);
	return n;
}

/* The mapping of mm that holds addr, or NULL. */
static const VmaEntry *vma_at(const MmEntry *mm, uint64_t addr)
{
	for (size_t i = 0; i < mm->n_vmas; i++)
		if (mm->vmas[i]->start <= addr && addr < mm->vmas[i]->end)
			return mm->vmas[i];
	return NULL;
}

/*
 * Upstream's pagemap entries may run across the end of a mapping into the
 * next one (both private, contiguous): each is cut here at mapping ends, so
 * that every entry lies in one mapping (what the restore of pages needs).
 * What lies in no mapping is left whole, to be refused later.
 */
static int split_pagemap(struct rtask *t)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), n = 0, cap = t->npm;
	PagemapEntry **out = calloc(cap ? cap : 1, sizeof(*out));

	if (!out)
		return -ENOMEM;
	if (!cap)
		cap = 1;
	for (size_t i = 0; i < t->npm; i++) {
		PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t end = pe->vaddr + nr * psz;
		const VmaEntry *v = vma_at(t->mm, pe->vaddr);

		while (v && v->end < end && nr && end > pe->vaddr) {
			PagemapEntry *head = malloc(sizeof(*head));
			uint64_t first = (v->end - pe->vaddr) / psz;

			if (!head || (n == cap && !(out = realloc_array(out, &cap)))) {
				free(head);
				return -ENOMEM;
			}
			*head = *pe;
			head->has_nr_pages = true;
			head->nr_pages = first;
			head->compat_nr_pages = 0;
			out[n++] = head;
			pe->vaddr = v->end;
			nr -= first;
			pe->has_nr_pages = true;
			pe->nr_pages = nr;
			pe->compat_nr_pages = 0;
			v = vma_at(t->mm, pe->vaddr);
		}
		if (n == cap && !(out = realloc_array(out, &cap)))
			return -ENOMEM;
		out[n++] = pe;
	}
	free(t->pm);
	t->pm = out;
	t->npm = n;
	return 0;
}

int open_task_pages(int dirfd, const struct rtask *t)
{
	char name[64];

	if (t->pages_memfd > 0)
		return fcntl(t->pages_memfd, F_DUPFD_CLOEXEC, 0);
	snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
	return openat(dirfd, name, O_RDONLY | O_CLOEXEC);
}

static int read_pagemap(int dirfd, struct rtask *t)
{
	struct cr_img *img = img_open(dirfd, IMG_PAGEMAP, O_RDONLY, (unsigned long)t->pe->pid);
	ProtobufCMessage *m;
	size_t cap = 0;
	int ret;

	if (!img) {
		if (errno == ENOENT)
			missing(IMG_PAGEMAP, t->pe->pid);
		return -ENOENT;
	}
	ret = img_read_pb(img, NULL, &m); /* the head */
	if (ret <= 0) {
		img_close(img);
		pr_err("pagemap-%u.img has no head\n", t->pe->pid);
		return -EINVAL;
	}
	t->pages_id = ((PagemapHead *)m)->pages_id;
	protobuf_c_message_free_unpacked(m, NULL);
	while ((ret = img_read_pb(img, &pagemap_entry__descriptor, &m)) > 0) {
		if (t->npm == cap) {
			PagemapEntry **n = realloc(t->pm, (cap = cap ? cap * 2 : 64) * sizeof(*n));

			if (!n) {
				protobuf_c_message_free_unpacked(m, NULL);
				ret = -ENOMEM;
				break;
			}
			t->pm = n;
		}
		t->pm[t->npm++] = (PagemapEntry *)m;
	}
	img_close(img);
	if (ret < 0)
		return ret;
	/* a pagemap whose pages are (partly) in parent images */
	ret = pchain_flatten(dirfd, (pid_t)t->pe->pid, t->pm, t->npm, &t->pages_memfd);
	if (ret) {
		t->pages_memfd = 0;
		return ret;
	}
	if (t->pages_memfd < 0)
		t->pages_memfd = 0;
	ret = split_pagemap(t);
	if (!ret)
		ret = check_pages_size(dirfd, t);
	return ret;
}

/*
 * ids-PID.img: a namespace other than the dumping criu's was the task's
 * own, which restore can't make yet.
 */
static int read_task_ids(int dirfd, struct rtask *t)
{
	char diff[128];
	int ret = read_one(dirfd, IMG_IDS, t->pe->pid, (ProtobufCMessage **)&t->ids);

	if (ret)
		return ret;
	if (inventory->root_ids) {
		kobj_ids_ns_diff(t->ids, inventory->root_ids, diff, sizeof(diff));
		if (diff[0]) {
			pr_err("pid %u was dumped in namespaces of its own (%s): restoring "
			       "namespaces is not supported yet\n",
			       t->pe->pid, diff);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int read_task(int dirfd, struct rtask *t)
{
	uint32_t pid = t->pe->pid;
	int ret;

	ret = read_one(dirfd, IMG_CORE, pid, (ProtobufCMessage **)&t->core);
	if (ret) {
		pr_err("can't read core-%u.img\n", pid);
		return ret;
	}
	if (!t->core->tc) {
		pr_err("core-%u.img has no task state\n", pid);
		return -EINVAL;
	}
	if (t->core->tc->n_sigactions && t->core->tc->n_sigactions != 62) {
		pr_err("core-%u.img has %zu signal actions, want 62 (1..64 without SIGKILL and "
		       "SIGSTOP)\n",
		       pid, t->core->tc->n_sigactions);
		return -EINVAL;
	}
	t->zombie = t->core->tc->task_state == TASK_STATE_DEAD;
	t->stopped = t->core->tc->task_state == TASK_STATE_STOPPED;
	if (t->zombie)
		return 0;
	if (t->core->tc->task_state != TASK_STATE_ALIVE && !t->stopped) {
		pr_err("core-%u.img: unknown task state %u\n", pid, t->core->tc->task_state);
		return -EINVAL;
	}
	if (!t->pe->n_threads || t->pe->threads[0] != pid) {
		pr_err("pstree.img: the first thread of pid %u is not the process itself\n", pid);
		return -EINVAL;
	}
	t->thread_cores = calloc(t->pe->n_threads, sizeof(CoreEntry *));
	if (!t->thread_cores)
		return -ENOMEM;
	t->th_status = nr_status;
	for (size_t i = 1; i < t->pe->n_threads; i++) {
		ret = read_one(dirfd, IMG_CORE, t->pe->threads[i],
			       (ProtobufCMessage **)&t->thread_cores[i]);
		if (ret) {
			pr_err("can't read core-%u.img (thread of %u)\n", t->pe->threads[i], pid);
			return ret;
		}
		nr_status++;
	}
	ret = read_task_ids(dirfd, t);
	if (!ret)
		ret = read_one(dirfd, IMG_MM, pid, (ProtobufCMessage **)&t->mm);
	if (!ret)
		ret = read_pagemap(dirfd, t);
	/* named by the fd table's id: processes sharing the table share it */
	if (!ret)
		ret = read_all(dirfd, IMG_FDINFO, t->ids->files_id, (ProtobufCMessage ***)&t->fds,
			       &t->nfds, true);
	if (!ret)
		ret = read_one(dirfd, IMG_FS, pid, (ProtobufCMessage **)&t->fs);
	if (ret)
		pr_err("can't read the images of pid %u: %s\n", pid, strerror(-ret));
	return ret;
}

const FileEntry *file_by_id(uint32_t id)
{
	for (size_t i = 0; i < nr_files; i++)
		if (files[i]->id == id)
			return files[i];
	return NULL;
}

/* The lowest common ancestor of a and b in the tree. */
int lca(int a, int b)
{
	for (int x = a; x >= 0; x = tasks[x].parent)
		for (int y = b; y >= 0; y = tasks[y].parent)
			if (x == y)
				return x;
	return 0;
}

int read_images(int dirfd)
{
	PstreeEntry **pe;
	size_t n;
	int ret;

	ret = read_all(dirfd, IMG_PSTREE, 0, (ProtobufCMessage ***)&pe, &n, true);
	if (ret) {
		pr_err("can't read pstree.img from %s\n", opts.images_dir);
		return ret;
	}
	ret = read_one(dirfd, IMG_INVENTORY, 0, (ProtobufCMessage **)&inventory);
	if (ret)
		return ret;
	if (inventory->img_version != 2) {
		pr_err("inventory.img: image version %u, this criu reads version 2\n",
		       inventory->img_version);
		return -EINVAL;
	}
	if (!n || n > MAX_TASKS) {
		pr_err("pstree.img lists %zu processes\n", n);
		return -EINVAL;
	}
	tasks = calloc(n, sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	nr_tasks = (int)n;
	for (int i = 0; i < nr_tasks; i++) {
		tasks[i].pe = pe[i];
		if (!pe[i]->pid || find_task_index(pe[i]->pid) != i) {
			pr_err("pstree.img: bad or repeated pid %u\n", pe[i]->pid);
			return -EINVAL;
		}
	}
	free(pe);
	for (int i = 0; i < nr_tasks; i++) {
		if (i == 0) {
			tasks[i].parent = -1;
			continue;
		}
		tasks[i].parent = find_task_index(tasks[i].pe->ppid);
		/* parents come first: the dump writes the tree top-down */
		if (tasks[i].parent < 0 || tasks[i].parent >= i) {
			pr_err("pstree.img: the parent %u of pid %u is not listed before it\n",
			       tasks[i].pe->ppid, tasks[i].pe->pid);
			return -EINVAL;
		}
	}
	nr_status = nr_tasks;
	for (int i = 0; i < nr_tasks; i++) {
		ret = read_task(dirfd, &tasks[i]);
		if (ret)
			return ret;
	}
	if (tasks[0].zombie) {
		pr_err("the root of the tree (%u) is a zombie\n", tasks[0].pe->pid);
		return -EINVAL;
	}
	ret = read_all(dirfd, IMG_FILES, 0, (ProtobufCMessage ***)&files, &nr_files, true);
	if (ret) {
		pr_err("can't read files.img\n");
		return ret;
	}
	{
		struct cr_img *img = img_open(dirfd, IMG_SECCOMP, O_RDONLY | O_CREAT);

		if (img) {
			ret = img_read_single(img, NULL, (ProtobufCMessage **)&seccomp);
			img_close(img);
			if (ret < 0) {
				pr_err("can't read seccomp.img\n");
				return ret;
			}
		}
	}
	ret = read_memfd_inodes(dirfd);
	if (ret) {
		pr_err("can't read memfd.img\n");
		return ret;
	}
	rctx.tasks = tasks;
	rctx.nr_tasks = nr_tasks;
	rctx.images_dirfd = dirfd;
	rctx.files = files;
	rctx.nr_files = nr_files;
	ret = locks_read(dirfd, &rctx.locks);
	if (!ret)
		ret = locks_validate(&rctx.locks, task_has_fd);
	if (!ret)
		ret = plan_shmem();
	if (!ret)
		ret = files_plan(&rctx);
	return ret;
}
