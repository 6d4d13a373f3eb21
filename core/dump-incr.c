/*
 * Incremental dumps: what pre-dump, --prev-images-dir, --track-mem and
 * --auto-dedup add to criu dump (core/dump.c calls in at its steps).
 *
 *   pre-dump    memory only: the tree is frozen to read its mappings, find
 *               the written pages and re-arm the tracker, then runs on while
 *               the pages are read (--pre-dump-mode read, the default here)
 *               or is held until they are copied through the parasite
 *               (splice);
 *   --prev-images-dir DIR   the `parent' link to DIR (relative to -D, as
 *               upstream), and PE_PARENT entries for unchanged pages;
 *   --track-mem the tracker is (re)armed and kept for the next dump; a dump
 *               without it stops the tracker;
 *   --auto-dedup  the parents' copies of the pages this dump holds are
 *               punched once the dump is written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump-incr.h"
#include "log.h"
#include "mem-track.h"
#include "mem.h"
#include "options.h"
#include "pagemap-chain.h"

static struct {
	bool on;	  /* incr_begin() ran */
	bool pre;	  /* pre-dump */
	bool rearm;	  /* pre-dump or --track-mem */
	int parent_dirfd; /* the parent images, -1: none */
	char parent_run[64];
	bool has_parent_run;
	int dirfd;
	struct mem_track *mt;
	struct mem_deferred *deferred;
	pid_t *pids;
	int npids;
} incr = { .parent_dirfd = -1, .dirfd = -1 };

bool incr_pre_dump(void)
{
	return incr.pre;
}

/* The parent link: made from --prev-images-dir, then opened. */
static int open_parent(int dirfd)
{
	struct stat st;

	if (opts.prev_images_dir) {
		if (!fstatat(dirfd, PCHAIN_LINK, &st, AT_SYMLINK_NOFOLLOW)) {
			if (!S_ISLNK(st.st_mode)) {
				pr_err("%s/%s exists and is not a link: can't link the parent images\n",
				       opts.images_dir, PCHAIN_LINK);
				return -EEXIST;
			}
			unlinkat(dirfd, PCHAIN_LINK, 0);
		}
		if (symlinkat(opts.prev_images_dir, dirfd, PCHAIN_LINK)) {
			pr_perror("can't link %s/%s to %s", opts.images_dir, PCHAIN_LINK,
				  opts.prev_images_dir);
			return -errno;
		}
	} else {
		return 0;
	}
	incr.parent_dirfd = openat(dirfd, PCHAIN_LINK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (incr.parent_dirfd < 0) {
		pr_perror("--prev-images-dir %s: no such images directory (relative to %s)",
			  opts.prev_images_dir, opts.images_dir);
		unlinkat(dirfd, PCHAIN_LINK, 0);
		return -ENOENT;
	}
	incr.has_parent_run =
		!pchain_run_id(incr.parent_dirfd, incr.parent_run, sizeof(incr.parent_run));
	if (!incr.has_parent_run)
		pr_warn("the parent images in %s have no run id: every page is dumped again\n",
			opts.prev_images_dir);
	return 0;
}

int incr_begin(int dirfd, bool pre)
{
	const char *why = NULL;
	enum mem_tracker kind;
	int ret;

	incr.on = true;
	incr.pre = pre;
	incr.rearm = pre || opts.track_mem;
	incr.dirfd = dirfd;
	if (pre && opts.leave_stopped) {
		pr_err("pre-dump leaves the tree running: --leave-stopped does not apply\n");
		return -EINVAL;
	}
	ret = open_parent(dirfd);
	if (ret)
		return ret;
	kind = mem_track_kind(&why);
	if (incr.rearm && kind == MT_NONE) {
		pr_err("%s needs a memory change tracker, and this kernel has none: %s\n",
		       pre ? "pre-dump" : "--track-mem", why);
		return -EOPNOTSUPP;
	}
	if (incr.rearm || incr.parent_dirfd >= 0 || kind == MT_UFFD_WP) {
		ret = mem_track_begin(opts.pid, &incr.mt);
		if (ret) {
			pr_err("can't reach the memory tracker of the tree of %d\n", opts.pid);
			return ret;
		}
	}
	if (incr.rearm)
		pr_info("memory tracker: %s\n", mem_track_name(kind));
	return 0;
}

int incr_task_opts(pid_t pid, struct parasite_ctl *ctl, MmEntry *mm, struct mem_dump_opts *o)
{
	int ret;

	memset(o, 0, sizeof(*o));
	if (!incr.on)
		return 0;
	o->tracker = mem_track_kind(NULL);
	if (incr.parent_dirfd >= 0) {
		ret = pchain_load(incr.parent_dirfd, pid, false, &o->parent);
		if (ret) {
			pr_err("can't read pagemap-%d.img of the parent images\n", pid);
			return ret;
		}
		o->track_valid = o->parent && incr.has_parent_run &&
				 mem_track_valid(incr.mt, pid, incr.parent_run);
		if (o->parent && !o->track_valid)
			pr_info("pid %d: the tracker did not run since the parent's dump: all its "
				"pages are dumped\n",
				pid);
	}
	if (incr.rearm) {
		ret = mem_track_arm(incr.mt, ctl, pid, mm);
		if (ret)
			return ret;
		o->rearm = mem_track_armed(incr.mt, pid);
	}
	o->defer = incr.pre && !(opts.pre_dump_mode && !strcmp(opts.pre_dump_mode, "splice"));
	o->deferred = &incr.deferred;
	if (!(incr.npids & 63)) {
		pid_t *n = realloc(incr.pids, (size_t)(incr.npids + 64) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		incr.pids = n;
	}
	incr.pids[incr.npids++] = pid;
	return 0;
}

void incr_task_done(struct mem_dump_opts *o)
{
	pchain_free(o->parent);
	o->parent = NULL;
}

int incr_after_release(struct mem_dump_stats *stats)
{
	if (!incr.on || !incr.deferred)
		return 0;
	return mem_read_deferred(&incr.deferred, stats);
}

int incr_end(bool ok, const char *run_id)
{
	int ret = 0;

	if (!incr.on)
		return 0;
	if (!ok) {
		/* what was re-armed no longer matches any images: start over */
		mem_free_deferred(&incr.deferred);
		mem_track_end(incr.mt, false, NULL);
	} else {
		ret = mem_track_end(incr.mt, incr.rearm, run_id);
		if (ret)
			pr_err("the memory tracker could not be kept for the next dump\n");
	}
	incr.mt = NULL;
	if (ok && !ret && opts.auto_dedup && incr.parent_dirfd >= 0) {
		uint64_t punched = 0;

		for (int i = 0; i < incr.npids && !ret; i++)
			ret = pchain_dedup_task(incr.dirfd, incr.pids[i], &punched);
		pr_info("auto-dedup: %llu pages punched from the parent images\n",
			(unsigned long long)punched);
	}
	if (incr.parent_dirfd >= 0)
		close(incr.parent_dirfd);
	free(incr.pids);
	incr.pids = NULL;
	incr.npids = 0;
	incr.parent_dirfd = -1;
	incr.on = false;
	return ret;
}

/* criu dedup -D DIR: the parents give up what DIR's pagemaps hold. */
int cmd_dedup(void)
{
	int dirfd = open(opts.images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0, n = 0;
	uint64_t punched = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (dirfd < 0) {
		pr_perror("can't open the images directory %s", opts.images_dir);
		return 1;
	}
	if (fstatat(dirfd, PCHAIN_LINK, &st, 0)) {
		pr_err("%s has no parent images ('%s' link: %s): nothing to dedup\n",
		       opts.images_dir, PCHAIN_LINK, strerror(errno));
		close(dirfd);
		return 1;
	}
	d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
	while (d && (e = readdir(d)) && !ret) {
		unsigned int pid;
		char tail[8];

		if (sscanf(e->d_name, "pagemap-%u.im%1s", &pid, tail) != 2 || strcmp(tail, "g"))
			continue;
		ret = pchain_dedup_task(dirfd, (pid_t)pid, &punched);
		n++;
	}
	if (d)
		closedir(d);
	close(dirfd);
	if (ret) {
		pr_err("dedup of %s failed\n", opts.images_dir);
		return 1;
	}
	pr_msg("dedup: %llu pages punched from the parents of %d pagemaps\n",
	       (unsigned long long)punched, n);
	return 0;
}
