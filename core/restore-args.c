/*
 * criu restore: the restorer's arguments, laid out in each new task next to
 * the restorer blob (VMAs, pages, what to unmap and move, fds to keep,
 * auxv, threads, signals, timers, seccomp filters, credentials, vDSO
 * patches), then its fds put in place and the jump into the restorer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch-image.h"
#include "blob.h"
#include "log.h"
#include "proc.h"
#include "files/regfile.h"
#include "restore-priv.h"
#include "restorer-blob.h"
#include "show.h"
#include "vma.h"
#include "pie/restorer.h"

#define MAX_MOVES 8

static bool is_kernel_map(const char *name)
{
	return !strcmp(name, "[vdso]") || !strcmp(name, "[vvar]") ||
	       !strcmp(name, "[vvar_vclock]") || !strcmp(name, "[vsyscall]");
}

static size_t seccomp_bytes(void)
{
	size_t n = 0;

	for (size_t i = 0; seccomp && i < seccomp->n_seccomp_filters; i++)
		n += seccomp->seccomp_filters[i]->filter.len + sizeof(struct restorer_seccomp) * 4 + 16;
	return n;
}

/*
 * The filters of a thread, oldest first, into *area (the insns copied once
 * per task into insns_copy).  Returns 0 or -EINVAL for a broken chain.
 */
static int fill_seccomp(const ThreadCoreEntry *th, struct restorer_creds *rc, uint8_t **area,
			uint64_t *insns_at)
{
	uint32_t chain[512];
	int n = 0;

	if (!th || !th->has_seccomp_mode || th->seccomp_mode == SECCOMP_MODE__disabled)
		return 0;
	if (th->seccomp_mode == SECCOMP_MODE__strict) {
		rc->seccomp_strict = 1;
		return 0;
	}
	if (!seccomp || !th->has_seccomp_filter) {
		pr_err("a thread uses seccomp filters and seccomp.img has none\n");
		return -EINVAL;
	}
	for (uint32_t at = th->seccomp_filter;; n++) {
		const SeccompFilter *f;

		if (at >= seccomp->n_seccomp_filters || n == 512) {
			pr_err("seccomp.img: broken filter chain at %u\n", at);
			return -EINVAL;
		}
		chain[n] = at;
		f = seccomp->seccomp_filters[at];
		if (!f->filter.len || f->filter.len % 8 || f->filter.len / 8 > 4096) {
			pr_err("seccomp.img: filter %u has %zu bytes\n", at, f->filter.len);
			return -EINVAL;
		}
		if (!f->has_prev)
			break;
		at = f->prev;
	}
	n++;
	{
		struct restorer_seccomp *rs = (struct restorer_seccomp *)(((uintptr_t)*area + 7) & ~(uintptr_t)7);

		rc->seccomp_filters = (uintptr_t)rs;
		rc->nr_seccomp = (uint32_t)n;
		for (int i = 0; i < n; i++) {
			const SeccompFilter *f = seccomp->seccomp_filters[chain[n - 1 - i]];

			rs[i].insns = insns_at[chain[n - 1 - i]];
			rs[i].len = (uint32_t)(f->filter.len / 8);
			rs[i].flags = f->has_flags ? f->flags : 0;
		}
		*area = (uint8_t *)(rs + n);
	}
	return 0;
}

static size_t queue_len(const SignalQueueEntry *q)
{
	return q ? q->n_signals : 0;
}

static size_t count_siginfos(const struct rtask *t)
{
	size_t n = queue_len(t->core->tc->signals_s);

	for (size_t i = 0; i < t->pe->n_threads; i++) {
		const CoreEntry *c = i ? t->thread_cores[i] : t->core;

		if (c->thread_core)
			n += queue_len(c->thread_core->signals_p);
	}
	return n;
}

/* Copies a queue's siginfos to *at; the count. */
static uint32_t put_siginfos(const SignalQueueEntry *q, uint8_t **at)
{
	uint32_t n = 0;

	for (size_t i = 0; q && i < q->n_signals; i++) {
		const SiginfoEntry *e = q->signals[i];

		if (e->siginfo.len != RESTORER_SIGINFO_SIZE)
			continue;
		memcpy(*at, e->siginfo.data, RESTORER_SIGINFO_SIZE);
		*at += RESTORER_SIGINFO_SIZE;
		n++;
	}
	return n;
}

static uint32_t fill_creds(const CredsEntry *c, struct restorer_creds *rc)
{
	char *last = proc_read_file("/proc/sys/kernel/cap_last_cap", NULL);

	rc->uid = c->uid, rc->euid = c->euid, rc->suid = c->suid, rc->fsuid = c->fsuid;
	rc->gid = c->gid, rc->egid = c->egid, rc->sgid = c->sgid, rc->fsgid = c->fsgid;
#define CAP64(f) (c->n_##f >= 2 ? ((uint64_t)c->f[1] << 32) | c->f[0] : c->n_##f ? c->f[0] : 0)
	rc->cap_inh = CAP64(cap_inh);
	rc->cap_prm = CAP64(cap_prm);
	rc->cap_eff = CAP64(cap_eff);
	rc->cap_bnd = CAP64(cap_bnd);
	rc->cap_amb = CAP64(cap_amb);
#undef CAP64
	rc->secbits = c->secbits;
	rc->no_new_privs = c->has_no_new_privs && c->no_new_privs;
	rc->ngroups = c->n_groups < 64 ? (uint32_t)c->n_groups : 64;
	memcpy(rc->groups, c->groups, rc->ngroups * sizeof(uint32_t));
	rc->last_cap = last ? (uint32_t)atoi(last) : 40;
	free(last);
	return 1;
}

static void fill_thread(struct rtask *t, size_t i, struct restorer_thread *rt, unsigned long stack,
			int st_idx)
{
	const CoreEntry *core = t->thread_cores[i];
	const ThreadCoreEntry *th = core->thread_core;

	memset(rt, 0, sizeof(*rt));
	rt->set_tid = t->pe->threads[i];
	rt->ca.stack = stack;
	rt->ca.stack_size = RESTORER_THREAD_STACK;
	rt->clear_tid_addr = arch_core_clear_tid(core);
	rt->status = (uintptr_t)&status[st_idx];
	if (!th)
		return;
	if (th->rseq_entry && th->rseq_entry->rseq_abi_size) {
		rt->rseq_ptr = th->rseq_entry->rseq_abi_pointer;
		rt->rseq_len = th->rseq_entry->rseq_abi_size;
		rt->rseq_sig = th->rseq_entry->signature;
	}
	if (th->sas && th->sas->ss_size) {
		rt->has_sas = 1;
		rt->ss_sp = th->sas->ss_sp;
		rt->ss_size = th->sas->ss_size;
		rt->ss_flags = (int32_t)th->sas->ss_flags & ~1;
	}
	rt->pdeath_sig = th->has_pdeath_sig ? th->pdeath_sig : 0;
	rt->robust_list = th->futex_rla;
	rt->robust_len = th->futex_rla_len;
	if (th->comm)
		snprintf(rt->comm, sizeof(rt->comm), "%s", th->comm);
	if (th->creds)
		rt->has_creds = fill_creds(th->creds, &rt->creds);
}

static void fill_state(struct rtask *t, struct restorer_task *rt)
{
	const TaskCoreEntry *tc = t->core->tc;
	const ThreadCoreEntry *th = t->core->thread_core;

	/* upstream's layout: signals 1..64 without SIGKILL and SIGSTOP */
	for (int sig = 1, i = 0; sig <= 64 && (size_t)i < tc->n_sigactions; sig++) {
		const SaEntry *sa;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa = tc->sigactions[i++];
		rt->sa[sig - 1] = (struct restorer_ksigaction){ sa->sigaction, sa->flags,
								sa->restorer, sa->mask };
		rt->sa_valid |= 1ULL << (sig - 1);
	}
	if (tc->timers) {
		const ItimerEntry *it[3] = { tc->timers->real, tc->timers->virt, tc->timers->prof };

		for (int k = 0; k < 3; k++)
			if (it[k])
				rt->itimers[k] = (struct restorer_itimer){
					(int64_t)it[k]->isec, (int64_t)it[k]->iusec,
					(int64_t)it[k]->vsec, (int64_t)it[k]->vusec
				};
	}
	if (tc->rlimits)
		for (size_t i = 0; i < tc->rlimits->n_rlimits && i < RESTORER_RLIMITS; i++) {
			rt->rlimits[i][0] = tc->rlimits->rlimits[i]->cur;
			rt->rlimits[i][1] = tc->rlimits->rlimits[i]->max;
			rt->nr_rlimits = (uint32_t)i + 1;
		}
	rt->personality = tc->personality;
	rt->subreaper = tc->has_child_subreaper && tc->child_subreaper;
	snprintf(rt->comm, sizeof(rt->comm), "%s", tc->comm);
	rt->umask = t->fs && t->fs->has_umask ? t->fs->umask : 022;
	rt->dumpable = t->mm->has_dumpable ? t->mm->dumpable : -1;
	rt->clear_tid_addr = arch_core_clear_tid(t->core);
	if (th && th->rseq_entry && th->rseq_entry->rseq_abi_size) {
		rt->rseq_ptr = th->rseq_entry->rseq_abi_pointer;
		rt->rseq_len = th->rseq_entry->rseq_abi_size;
		rt->rseq_sig = th->rseq_entry->signature;
	}
	rt->thp_disable = t->mm->has_thp_disabled && t->mm->thp_disabled;
	rt->membarrier_regs =
		tc->has_membarrier_registration_mask ? tc->membarrier_registration_mask : 0;
	if (th) {
		rt->robust_list = th->futex_rla;
		rt->robust_len = th->futex_rla_len;
		rt->pdeath_sig = th->has_pdeath_sig ? th->pdeath_sig : 0;
		if (th->sas && th->sas->ss_size) {
			rt->has_sas = 1;
			rt->ss_sp = th->sas->ss_sp;
			rt->ss_size = th->sas->ss_size;
			rt->ss_flags = (int32_t)th->sas->ss_flags & ~1; /* not SS_ONSTACK */
		}
		if (th->creds)
			rt->has_creds = fill_creds(th->creds, &rt->creds);
	}
}

/* The mapping (index in mm) that holds addr, or -1: mm's are in order. */
static long vma_index(const MmEntry *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n_vmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < mm->vmas[mid]->start)
			hi = mid;
		else if (addr >= mm->vmas[mid]->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Mappings in address order, none overlapping (what vma_index needs). */
static int check_vma_order(const struct rtask *t)
{
	const MmEntry *mm = t->mm;

	for (size_t i = 1; i < mm->n_vmas; i++)
		if (mm->vmas[i]->start < mm->vmas[i - 1]->end) {
			pr_err("mm-%u.img: mapping %llx-%llx overlaps or precedes %llx-%llx\n",
			       t->pe->pid, (unsigned long long)mm->vmas[i]->start,
			       (unsigned long long)mm->vmas[i]->end,
			       (unsigned long long)mm->vmas[i - 1]->start,
			       (unsigned long long)mm->vmas[i - 1]->end);
			return -EINVAL;
		}
	return 0;
}

/* Pieces of [s, e) outside every keep interval (sorted), appended to unmaps. */
static int subtract(unsigned long s, unsigned long e, const struct interval *keep, size_t nkeep,
		    struct restorer_range *unmaps, uint32_t *n, uint32_t max)
{
	unsigned long cur = s;

	for (size_t k = 0; k < nkeep && cur < e; k++) {
		if (keep[k].end <= cur || keep[k].start >= e)
			continue;
		if (keep[k].start > cur) {
			if (*n >= max - 8)
				return -E2BIG;
			unmaps[(*n)++] = (struct restorer_range){ cur, keep[k].start - cur };
		}
		if (keep[k].end > cur)
			cur = keep[k].end;
	}
	if (cur < e) {
		if (*n >= max - 8)
			return -E2BIG;
		unmaps[(*n)++] = (struct restorer_range){ cur, e - cur };
	}
	return 0;
}

/* Whether the restorer maps e: kernel areas only as the vDSO proxy's. */
static bool vma_restored(const VmaEntry *e, bool proxy)
{
	return !(e->status & VMA_KERNEL_AREA) ||
	       (proxy && (e->status & (VMA_AREA_VDSO | VMA_AREA_VVAR)));
}

/*
 * What a mapping's fd is keyed by: the same file (or shared memory object)
 * opened the same way is opened once for all its mappings.
 */
struct fd_key {
	uint64_t shmid;
	uint32_t fdflags;
	bool anon;
};

static struct fd_key fd_key_of(const VmaEntry *e)
{
	bool anon = (e->status & VMA_ANON_SHARED) != 0;

	return (struct fd_key){ e->shmid, anon ? 0 : e->fdflags, anon };
}

/* The slot of key in an open-addressing table of vma indexes (-1: free). */
static size_t fd_slot(const MmEntry *mm, const long *table, size_t cap, struct fd_key key)
{
	size_t h = (size_t)((key.shmid * 0x9e3779b97f4a7c15ULL) ^ key.fdflags ^ key.anon) & (cap - 1);

	while (table[h] >= 0) {
		struct fd_key k = fd_key_of(mm->vmas[table[h]]);

		if (k.shmid == key.shmid && k.fdflags == key.fdflags && k.anon == key.anon)
			break;
		h = (h + 1) & (cap - 1);
	}
	return h;
}

int restore_prepare_and_jump(int idx)
{
	struct rtask *t = &tasks[idx];
	const MmEntry *mm = t->mm;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), blob_size, args_size, total;
	struct restorer_args *args;
	struct restorer_vma *vmas;
	struct restorer_pages *pages;
	struct restorer_range *unmaps;
	struct restorer_move *moves;
	int32_t *close_fds;
	uint64_t *auxv;
	struct self_map *self = NULL;
	int nself = 0, *keep, nkeep = 0, *vma_keep, exe_keep = -1, pages_keep, lifeline_keep;
	size_t keep_cap = mm->n_vmas + 4, table_cap = 16;
	long *table;
	uint32_t max_unmaps;
	unsigned long base, scratch, threads_area = 0;
	struct vdso_proxy vp = { 0 };
	uint8_t *siginfo_area = NULL;
	uint64_t off = 0;
	char name[64];
	int ret;

	ret = check_vma_order(t);
	if (ret)
		return ret;
	/* the restorer's fds: the pages image, mapped files (each file opened
	 * once per way of opening it), shared memory, the exe; on failure the
	 * task ends, and these with it */
	while (table_cap < 2 * mm->n_vmas + 2)
		table_cap *= 2;
	keep = calloc(keep_cap, sizeof(*keep));
	vma_keep = calloc(mm->n_vmas + 1, sizeof(*vma_keep));
	table = malloc(table_cap * sizeof(*table));
	if (!keep || !vma_keep || !table)
		return -ENOMEM;
	memset(table, 0xff, table_cap * sizeof(*table));
	snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
	keep[nkeep] = open_task_pages(images_dirfd, t);
	if (keep[nkeep] < 0) {
		pr_perror("can't open %s", name);
		return -errno;
	}
	pages_keep = nkeep++;
	/* criu's lifeline: moved out of the way of the task's fds like the
	 * rest, but kept open for the restorer's final wait */
	keep[nkeep] = fcntl(lifeline_rd, F_DUPFD_CLOEXEC, 0);
	if (keep[nkeep] < 0)
		return -errno;
	lifeline_keep = nkeep++;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		size_t h;

		vma_keep[i] = -1;
		if (!(e->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
			continue;
		h = fd_slot(mm, table, table_cap, fd_key_of(e));
		if (table[h] >= 0) {
			vma_keep[i] = vma_keep[table[h]];
			continue;
		}
		table[h] = (long)i;
		keep[nkeep] = open_file_id(&rctx, (uint32_t)e->shmid, e->has_fdflags ? (int)e->fdflags : O_RDONLY);
		if (keep[nkeep] < 0)
			return keep[nkeep];
		vma_keep[i] = nkeep++;
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		struct rshmem *m;
		size_t h;

		if (!(e->status & VMA_ANON_SHARED) || !e->shmid)
			continue;
		h = fd_slot(mm, table, table_cap, fd_key_of(e));
		if (table[h] >= 0) {
			vma_keep[i] = vma_keep[table[h]];
			continue;
		}
		table[h] = (long)i;
		m = shmem_of(e->shmid);
		if (!m || m->fd < 0) {
			pr_err("shared memory %llu of pid %u was not created\n",
			       (unsigned long long)e->shmid, t->pe->pid);
			return -EINVAL;
		}
		keep[nkeep] = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
		if (keep[nkeep] < 0)
			return -errno;
		vma_keep[i] = nkeep++;
	}
	if (mm->exe_file_id) {
		keep[nkeep] = open_file_id(&rctx, mm->exe_file_id, O_RDONLY);
		if (keep[nkeep] < 0)
			return keep[nkeep];
		exe_keep = nkeep++;
	}

	free(table);

	/* sizes: criu's mappings to unmap are pieces of its own mappings
	 * around the ones to keep (the premapped ones among them) */
	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	max_unmaps = (uint32_t)(nself + mm->n_vmas + 64);
	blob_size = (blob_mem_size(&restorer_blob) + psz - 1) & ~(psz - 1);
	args_size = sizeof(*args) + mm->n_vmas * sizeof(*vmas) + t->npm * sizeof(*pages) +
		    max_unmaps * sizeof(*unmaps) + MAX_MOVES * sizeof(*moves) +
		    keep_cap * sizeof(*close_fds) + (mm->n_mm_saved_auxv + 2) * sizeof(*auxv) + 64 +
		    t->pe->n_threads * (sizeof(struct restorer_thread) + RESTORER_THREAD_STACK + 16) +
		    count_siginfos(t) * RESTORER_SIGINFO_SIZE + 64 +
		    seccomp_bytes() * (t->pe->n_threads + 1) + 4096 +
		    (t->core->tc->timers ? t->core->tc->timers->n_posix : 0) *
			    sizeof(struct restorer_posix_timer) +
		    MAX_PATCHES * sizeof(struct restorer_patch) + 16;
	args_size = (args_size + psz - 1) & ~(psz - 1);
	/* plus room to park the vDSO block when it must move over itself */
	total = blob_size + args_size + 64 * psz;

	base = find_hole(mm, self, nself, total, NULL, 0);
	free(self);
	self = NULL;
	if (!base) {
		pr_err("no room for the restorer in the address space of pid %u\n", t->pe->pid);
		return -ENOMEM;
	}
	if (mmap((void *)base, total, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)base) {
		pr_perror("can't map the restorer at %lx", base);
		return -errno;
	}
	ret = blob_install((void *)base, blob_size, base, &restorer_blob);
	if (ret)
		return ret;
	scratch = base + blob_size + args_size;

	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	if (!vdso_same_layout(mm, self, nself, &vp)) {
		/* this kernel's block stays where it is unless the task needs
		 * the place; then it goes to a hole clear of everything */
		vp.on = true;
		vp.dest = vp.lo;
		for (size_t i = 0; i < mm->n_vmas; i++)
			if (mm->vmas[i]->start < vp.hi && vp.lo < mm->vmas[i]->end)
				vp.dest = 0;
		if (!vp.dest) {
			struct interval blob = { base, base + total };

			vp.dest = find_hole(mm, self, nself, vp.hi - vp.lo, &blob, 1);
		}
		if (!vp.dest) {
			free(self);
			pr_err("no room for this kernel's vDSO in pid %u\n", t->pe->pid);
			return -ENOMEM;
		}
	}
	free(self);
	self = NULL;

	args = (struct restorer_args *)(base + blob_size);
	vmas = (struct restorer_vma *)(args + 1);
	pages = (struct restorer_pages *)(vmas + mm->n_vmas);
	unmaps = (struct restorer_range *)(pages + t->npm);
	moves = (struct restorer_move *)(unmaps + max_unmaps);
	close_fds = (int32_t *)(moves + MAX_MOVES);
	auxv = (uint64_t *)(((uintptr_t)(close_fds + keep_cap) + 7) & ~(uintptr_t)7);
	{
		struct restorer_thread *ths =
			(struct restorer_thread *)(((uintptr_t)(auxv + mm->n_mm_saved_auxv + 2) + 15) &
						   ~(uintptr_t)15);
		unsigned long stacks = ((uintptr_t)(ths + t->pe->n_threads) + 15) & ~15UL;

		uint8_t *si = (uint8_t *)(stacks + t->pe->n_threads * (RESTORER_THREAD_STACK + 16));

		for (size_t i = 1; i < t->pe->n_threads; i++) {
			const ThreadCoreEntry *tcore = t->thread_cores[i]->thread_core;

			fill_thread(t, i, &ths[i - 1],
				    stacks + (i - 1) * (RESTORER_THREAD_STACK + 16),
				    t->th_status + (int)i - 1);
			ths[i - 1].siginfo = (uintptr_t)si;
			ths[i - 1].nr_siginfo = put_siginfos(tcore ? tcore->signals_p : NULL, &si);
		}
		threads_area = (uintptr_t)ths;
		siginfo_area = si;
	}

	memset(args, 0, sizeof(*args));
	args->magic = RESTORER_MAGIC;
	args->version = RESTORER_VERSION;
	args->flags = RESTORER_F_TASK;
	args->vmas = (uintptr_t)vmas;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];
		struct restorer_vma *v;

		if (!vma_restored(e, vp.on))
			continue;
		if (e->end <= e->start || (e->start | e->end) & (psz - 1)) {
			pr_err("mm-%u.img: bad mapping %llx-%llx\n", t->pe->pid,
			       (unsigned long long)e->start, (unsigned long long)e->end);
			return -EINVAL;
		}
		v = &vmas[args->nr_vmas++];
		memset(v, 0, sizeof(*v));
		v->addr = e->start;
		v->len = e->end - e->start;
		v->final_prot = e->prot;
		v->prot = e->prot;
		v->flags = e->flags & ~(uint32_t)MAP_GROWSDOWN;
		v->fd = -1;
		v->madv = e->has_madv ? e->madv : 0;
		v->fill = !(e->status & VMA_FILE_SHARED);
		v->premap = t->premap ? t->premap[i] : 0;
		if (e->status & (VMA_AREA_VDSO | VMA_AREA_VVAR)) {
			/* the dumped vDSO's code comes back as plain memory; its
			 * data pages become zeroes nobody reads */
			v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
			v->fill = (e->status & VMA_AREA_VDSO) != 0;
			if (e->status & VMA_AREA_VVAR)
				v->final_prot = v->prot = PROT_READ;
			v->madv = 0;
		}
		if ((e->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) ||
		    ((e->status & VMA_ANON_SHARED) && e->shmid)) {
			v->flags &= ~(uint32_t)MAP_ANONYMOUS;
			v->pgoff = e->pgoff;
			v->fd = vma_keep[i]; /* an index for now: renumbered below */
		} else
			v->flags |= MAP_ANONYMOUS;
	}
	args->task.pages = (uintptr_t)pages;
	for (size_t i = 0; i < t->npm; i++) {
		const PagemapEntry *pe = t->pm[i];
		uint64_t nr = pe->has_nr_pages && pe->nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t len = nr * psz, end = pe->vaddr + len;
		long vi = vma_index(mm, pe->vaddr);

		if (!vp.on && vi >= 0 && (mm->vmas[vi]->status & VMA_AREA_VDSO)) {
			off += len; /* the kernel's own vDSO is used as is */
			continue;
		}
		if ((pe->has_in_parent && pe->in_parent) ||
		    (pe->has_flags && !(pe->flags & PAGEMAP_PE_PRESENT))) {
			pr_err("pagemap-%u.img: pages in a parent image or lazy pages are not "
			       "supported yet\n",
			       t->pe->pid);
			return -EOPNOTSUPP;
		}
		if (vi < 0 || end > mm->vmas[vi]->end || end <= pe->vaddr ||
		    !vma_restored(mm->vmas[vi], vp.on)) {
			pr_err("pagemap-%u.img: pages at %llx (%llu) are outside every mapping\n",
			       t->pe->pid, (unsigned long long)pe->vaddr, (unsigned long long)nr);
			return -EINVAL;
		}
		if (!(t->premap && t->premap[vi])) {
			pages[args->task.nr_pages++] = (struct restorer_pages){ pe->vaddr, len, off };
			status[idx].pages_restored += nr;
		}
		off += len;
	}
	{
		struct stat st;

		if (fstat(keep[pages_keep], &st) || (uint64_t)st.st_size < off) {
			pr_err("pages-%u.img holds %lld bytes, its pagemap needs %llu\n", t->pages_id,
			       (long long)st.st_size, (unsigned long long)off);
			return -EINVAL;
		}
	}
	if (mm->n_mm_saved_auxv) {
		memcpy(auxv, mm->mm_saved_auxv, mm->n_mm_saved_auxv * sizeof(*auxv));
		args->task.mm_map.auxv = (uintptr_t)auxv;
		args->task.mm_map.auxv_size = (uint32_t)(mm->n_mm_saved_auxv * sizeof(*auxv));
	}
	args->task.has_mm_map = 1;
	args->task.mm_map.start_code = mm->mm_start_code;
	args->task.mm_map.end_code = mm->mm_end_code;
	args->task.mm_map.start_data = mm->mm_start_data;
	args->task.mm_map.end_data = mm->mm_end_data;
	args->task.mm_map.start_brk = mm->mm_start_brk;
	args->task.mm_map.brk = mm->mm_brk;
	args->task.mm_map.start_stack = mm->mm_start_stack;
	args->task.mm_map.arg_start = mm->mm_arg_start;
	args->task.mm_map.arg_end = mm->mm_arg_end;
	args->task.mm_map.env_start = mm->mm_env_start;
	args->task.mm_map.env_end = mm->mm_env_end;
	args->task.mm_map.exe_fd = -1;
	fill_state(t, &args->task);
	args->task.status = (uintptr_t)&status[idx];
	args->task.threads = threads_area;
	args->task.siginfo = (uintptr_t)siginfo_area;
	args->task.nr_siginfo_shared = put_siginfos(t->core->tc->signals_s, &siginfo_area);
	args->task.nr_siginfo_thread =
		put_siginfos(t->core->thread_core ? t->core->thread_core->signals_p : NULL,
			     &siginfo_area);
	if (t->core->tc->timers && t->core->tc->timers->n_posix) {
		const TaskTimersEntry *tt = t->core->tc->timers;
		struct restorer_posix_timer *pt =
			(struct restorer_posix_timer *)(((uintptr_t)siginfo_area + 7) & ~(uintptr_t)7);

		for (size_t i = 0; i < tt->n_posix; i++) {
			const PosixTimerEntry *e = tt->posix[i];

			pt[i] = (struct restorer_posix_timer){
				(int32_t)e->it_id, (int32_t)e->clock_id, (int32_t)e->si_signo,
				(int32_t)e->it_sigev_notify,
				e->has_notify_thread_id ? e->notify_thread_id : 0, 0, e->sival_ptr,
				(int64_t)e->isec, (int64_t)e->insec, (int64_t)e->vsec, (int64_t)e->vnsec
			};
			if (i && pt[i].id <= pt[i - 1].id) {
				pr_err("core-%u.img: POSIX timers are not in id order\n", t->pe->pid);
				return -EINVAL;
			}
		}
		args->task.posix_timers = (uintptr_t)pt;
		args->task.nr_posix_timers = (uint32_t)tt->n_posix;
		siginfo_area = (uint8_t *)(pt + tt->n_posix);
	}
	if (seccomp && seccomp->n_seccomp_filters) {
		uint64_t *insns_at = calloc(seccomp->n_seccomp_filters, sizeof(*insns_at));
		uint8_t *area = (uint8_t *)(((uintptr_t)siginfo_area + 7) & ~(uintptr_t)7);

		if (!insns_at)
			return -ENOMEM;
		for (size_t i = 0; i < seccomp->n_seccomp_filters; i++) {
			memcpy(area, seccomp->seccomp_filters[i]->filter.data,
			       seccomp->seccomp_filters[i]->filter.len);
			insns_at[i] = (uintptr_t)area;
			area += (seccomp->seccomp_filters[i]->filter.len + 7) & ~(size_t)7;
		}
		ret = fill_seccomp(t->core->thread_core, &args->task.creds, &area, insns_at);
		for (size_t k = 1; !ret && k < t->pe->n_threads; k++) {
			struct restorer_thread *rth = (struct restorer_thread *)threads_area + (k - 1);

			ret = fill_seccomp(t->thread_cores[k]->thread_core, &rth->creds, &area, insns_at);
		}
		free(insns_at);
		if (ret)
			return ret;
	} else {
		ret = fill_seccomp(t->core->thread_core, &args->task.creds, NULL, NULL);
		for (size_t k = 1; !ret && k < t->pe->n_threads; k++) {
			struct restorer_thread *rth = (struct restorer_thread *)threads_area + (k - 1);

			ret = fill_seccomp(t->thread_cores[k]->thread_core, &rth->creds, NULL, NULL);
		}
		if (ret)
			return ret;
	}
	args->task.nr_threads = (uint32_t)t->pe->n_threads - 1;
	args->task.moves = (uintptr_t)moves;
	args->task.unmaps = (uintptr_t)unmaps;
	args->task.close_fds = (uintptr_t)close_fds;

	if (t->fs) {
		const FileEntry *cwd = file_by_id(t->fs->cwd_id);
		/* a deleted cwd is a ghost directory made for the restore */
		const char *dir = cwd ? regfile_restore_path(&rctx, cwd) : NULL;

		if (dir && chdir(dir)) {
			pr_perror("pid %u: can't change to its directory %s", t->pe->pid, dir);
			return -errno;
		}
	}

	if (vp.on) {
		struct restorer_patch *patches =
			(struct restorer_patch *)(((uintptr_t)siginfo_area + 15) & ~(uintptr_t)15);

		ret = vdso_patches(t, &vp, keep[pages_keep], patches, &args->task.nr_patches);
		if (ret)
			return ret;
		args->task.patches = (uintptr_t)patches;
		siginfo_area = (uint8_t *)(patches + args->task.nr_patches);
	}

	/* From here on no logging: the task's fds take their numbers. */
	ret = place_fds(&rctx, idx, keep, nkeep);
	if (ret)
		return ret;
	args->task.pages_fd = keep[pages_keep];
	for (uint32_t i = 0; i < args->nr_vmas; i++)
		if (vmas[i].fd >= 0)
			vmas[i].fd = keep[vmas[i].fd];
	if (exe_keep >= 0)
		args->task.mm_map.exe_fd = keep[exe_keep];
	for (int k = 0; k < nkeep; k++)
		if (k != lifeline_keep)
			close_fds[args->task.nr_close_fds++] = keep[k];
	args->task.lifeline_fd = keep[lifeline_keep];
	status[idx].lifeline_fd = keep[lifeline_keep];
	for (uint32_t k = 0; k < args->task.nr_threads; k++)
		((struct restorer_thread *)threads_area)[k].lifeline_fd = keep[lifeline_keep];

	ret = read_self_maps(&self, &nself);
	if (ret)
		return ret;
	{
		struct interval *keep = calloc(mm->n_vmas + 8, sizeof(*keep));
		size_t nk = 0;

		if (!keep) {
			free(self);
			return -ENOMEM;
		}
		keep[nk++] = (struct interval){ base, base + total };
		keep[nk++] = (struct interval){ (unsigned long)status,
						(unsigned long)status + status_size };
		for (size_t i = 0; i < mm->n_vmas; i++)
			if (t->premap && t->premap[i])
				keep[nk++] = (struct interval){
					t->premap[i], t->premap[i] + (mm->vmas[i]->end - mm->vmas[i]->start)
				};
		ret = 0;
		qsort(keep, nk, sizeof(*keep), cmp_interval);
		for (int i = 0; i < nself && !ret; i++)
			if (!is_kernel_map(self[i].name))
				ret = subtract(self[i].start, self[i].end, keep, nk, unmaps,
					       &args->task.nr_unmaps, max_unmaps);
		free(keep);
		if (ret) {
			free(self);
			return ret;
		}
	}
	if (vp.on) {
		/* this kernel's block moves as a whole if it must; nothing else */
		for (int i = 0; i < nself && vp.dest != vp.lo; i++)
			if (is_kernel_map(self[i].name) && strcmp(self[i].name, "[vsyscall]"))
				moves[args->task.nr_moves++] = (struct restorer_move){
					self[i].start, self[i].end - self[i].start,
					vp.dest + (self[i].start - vp.lo)
				};
		ret = 0;
	} else
		/* the parking space is unmapped first: mremap may move into it */
		ret = plan_vdso(mm, self, nself, moves, &args->task.nr_moves, unmaps,
				&args->task.nr_unmaps, scratch);
	free(self);
	if (ret)
		return ret;

	/* glibc registered rseq for criu's thread: its area goes away with
	 * criu's memory, and the kernel would fault on it at the next switch */
	if (__rseq_size > 0) {
		void *area = (char *)arch_thread_pointer() + __rseq_offset;

		if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) &&
		    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			return -errno;
	}
	if (t->fs) {
		const FileEntry *root = file_by_id(t->fs->root_id);

		/* last: nothing is opened by path after this */
		if (root && root->reg && strcmp(root->reg->name, "/") && chroot(root->reg->name))
			return -errno;
	}
	status[idx].blob_addr = base;
	status[idx].blob_len = total;
	{
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
	}
	arch_restorer_jump(base + RESTORER_BLOB_ENTRY_HEAD, base + blob_mem_size(&restorer_blob),
			   (unsigned long)args);
}
