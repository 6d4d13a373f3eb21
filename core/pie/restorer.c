/*
 * The restorer: runs inside a task being restored, after criu's code is no
 * longer needed, and turns the task into the dumped one (see restorer.h).
 * Entered from arch/<arch>/pie-head.S (__export_restorer_head).
 */
#include "pie.h"

#include "restorer.h"

static long restorer_fail(struct restorer_args *args, long ret, uint32_t step, uint32_t index)
{
	args->ret = ret;
	args->failed_step = step;
	args->failed_index = index;
	return ret;
}

static long restorer_map_vma(const struct restorer_vma *vma)
{
	long addr = pie_mmap(vma->addr, vma->len, vma->prot, vma->flags | PIE_MAP_FIXED, vma->fd,
			     vma->pgoff);

	if (addr < 0 && addr > -4096)
		return addr;
	if ((uint64_t)addr != vma->addr)
		return -PIE_EFAULT;
	return 0;
}

static long restorer_map_vmas(struct restorer_args *args)
{
	const struct restorer_vma *vmas = (const struct restorer_vma *)(uintptr_t)args->vmas;
	long ret;

	for (uint32_t i = 0; i < args->nr_vmas; i++) {
		ret = restorer_map_vma(&vmas[i]);
		if (ret)
			return restorer_fail(args, ret, RESTORER_STEP_MMAP, i);
		if (vmas[i].copy_len > vmas[i].len)
			return restorer_fail(args, -PIE_EINVAL, RESTORER_STEP_COPY, i);
		if (vmas[i].copy_from)
			memcpy((void *)(uintptr_t)vmas[i].addr, (const void *)(uintptr_t)vmas[i].copy_from,
			       vmas[i].copy_len);
	}
	return 0;
}


/* ---- RESTORER_F_TASK ------------------------------------------------------ */

#define R_PROT_READ 0x1
#define R_PROT_WRITE 0x2
#define R_MAP_SHARED 0x01
#define R_MAP_PRIVATE 0x02
#define R_MAP_ANONYMOUS 0x20
#define R_MAP_GROWSDOWN 0x0100
#define R_MREMAP_MAYMOVE 1
#define R_MREMAP_FIXED 2
#define R_SIGCHLD 17
#define R_SIG_IGN 1
#define R_SA_RESTORER 0x04000000

#define R_PR_SET_PDEATHSIG 1
#define R_PR_SET_DUMPABLE 4
#define R_PR_SET_KEEPCAPS 8
#define R_PR_SET_NAME 15
#define R_PR_CAPBSET_DROP 24
#define R_PR_SET_SECUREBITS 28
#define R_PR_SET_MM 35
#define R_PR_SET_CHILD_SUBREAPER 36
#define R_PR_SET_THP_DISABLE 41
#define R_PR_SET_NO_NEW_PRIVS 38
#define R_PR_CAP_AMBIENT 47
#define R_PR_CAP_AMBIENT_RAISE 2
#define R_PR_SET_MM_MAP 14
#define R_CAP_V3 0x20080522

static long step_fail(struct restorer_args *args, struct restorer_status *st, long ret,
		      uint32_t step, uint32_t index)
{
	if (st) {
		st->ret = ret;
		st->step = step;
		st->index = index;
		pie_store_release(&st->done, 1u);
	}
	return restorer_fail(args, ret, step, index);
}

static long do_moves(const struct restorer_task *t)
{
	const struct restorer_move *m = (const struct restorer_move *)(uintptr_t)t->moves;

	for (uint32_t i = 0; i < t->nr_moves; i++) {
		long r;

		if (m[i].from == m[i].to)
			continue;
		r = sys_mremap(m[i].from, m[i].len, m[i].len, R_MREMAP_MAYMOVE | R_MREMAP_FIXED,
			       m[i].to);
		if (r < 0 && r > -4096)
			return r;
	}
	return 0;
}

static long read_pages(const struct restorer_task *t, uint32_t *bad)
{
	const struct restorer_pages *p = (const struct restorer_pages *)(uintptr_t)t->pages;

	for (uint32_t i = 0; i < t->nr_pages; i++) {
		uint64_t done = 0;

		while (done < p[i].len) {
			long r = sys_pread64(t->pages_fd, (long)(p[i].addr + done),
					     (long)(p[i].len - done), (long)(p[i].off + done));

			if (r <= 0) {
				*bad = i;
				return r < 0 ? r : -PIE_EIO;
			}
			done += (uint64_t)r;
		}
	}
	return 0;
}

static long map_task_vmas(struct restorer_args *args)
{
	const struct restorer_vma *v = (const struct restorer_vma *)(uintptr_t)args->vmas;

	for (uint32_t i = 0; i < args->nr_vmas; i++) {
		struct restorer_vma m = v[i];
		long r;

		if (m.premap) {
			r = sys_mremap(m.premap, m.len, m.len, R_MREMAP_MAYMOVE | R_MREMAP_FIXED,
				       m.addr);
			if (r != (long)m.addr) {
				args->failed_index = i;
				return r < 0 ? r : -PIE_EFAULT;
			}
			continue;
		}
		m.flags &= ~(uint32_t)R_MAP_GROWSDOWN;
		/* private memory is filled first, then protected */
		if (m.fill)
			m.prot |= R_PROT_READ | R_PROT_WRITE;
		r = restorer_map_vma(&m);
		if (r) {
			args->failed_index = i;
			return r;
		}
	}
	return 0;
}

static long protect_task_vmas(struct restorer_args *args, uint32_t *bad)
{
	const struct restorer_vma *v = (const struct restorer_vma *)(uintptr_t)args->vmas;

	for (uint32_t i = 0; i < args->nr_vmas; i++) {
		long r = sys_mprotect(v[i].addr, v[i].len, v[i].final_prot);

		if (r) {
			*bad = i;
			return r;
		}
		for (int adv = 0; adv < 64; adv++)
			if ((v[i].madv >> adv) & 1) {
				r = sys_madvise(v[i].addr, v[i].len, adv);
				/* advice the kernel lacks (THP off) is not fatal */
				if (r && r != -PIE_EINVAL) {
					*bad = i;
					return r;
				}
			}
	}
	return 0;
}

static long restore_signals(const struct restorer_task *t)
{
	struct restorer_ksigaction ign = { R_SIG_IGN, 0, 0, 0 };
	const uint8_t *si = (const uint8_t *)(uintptr_t)t->siginfo;
	long r;

	/* SIGCHLDs of children made during restore: drop them */
	r = sys_rt_sigaction(R_SIGCHLD, (long)&ign, 0, 8);
	if (r)
		return r;
	for (int sig = 1; sig <= 64; sig++) {
		if (!((t->sa_valid >> (sig - 1)) & 1) || sig == 9 || sig == 19)
			continue;
		r = sys_rt_sigaction(sig, (long)&t->sa[sig - 1], 0, 8);
		if (r)
			return r;
	}
	if (t->has_sas) {
		struct {
			uint64_t sp;
			int32_t flags;
			uint32_t pad;
			uint64_t size;
		} ss = { t->ss_sp, t->ss_flags, 0, t->ss_size };

		r = sys_sigaltstack((long)&ss, 0);
		if (r)
			return r;
	}
	for (uint32_t i = 0; i < t->nr_siginfo_shared + t->nr_siginfo_thread; i++) {
		const uint8_t *info = si + (uint64_t)i * RESTORER_SIGINFO_SIZE;
		int32_t signo = *(const int32_t *)info;
		long pid = sys_getpid();

		if (i < t->nr_siginfo_shared)
			r = sys_rt_sigqueueinfo(pid, signo, (long)info);
		else
			r = sys_rt_tgsigqueueinfo(pid, sys_gettid(), signo, (long)info);
		if (r)
			return r;
	}
	return 0;
}

static long restore_timers(const struct restorer_task *t)
{
	for (int which = 0; which < 3; which++) {
		const struct restorer_itimer *it = &t->itimers[which];
		int64_t v[4] = { it->isec, it->iusec, it->vsec, it->vusec };
		long r;

		if (!it->vsec && !it->vusec)
			continue; /* disarmed: nothing to do in a fresh task */
		r = sys_setitimer(which, (long)v, 0);
		if (r)
			return r;
	}
	return 0;
}

/*
 * POSIX timers keep their ids: PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15+)
 * makes timer_create take the id we pass; on older kernels ids come in
 * order, and the gaps are filled with timers deleted afterwards.
 */
#define R_PR_TIMER_CREATE_RESTORE_IDS 77

static long restore_posix_timers(const struct restorer_task *t, uint32_t *bad)
{
	const struct restorer_posix_timer *pt =
		(const struct restorer_posix_timer *)(uintptr_t)t->posix_timers;
	int by_id = t->nr_posix_timers &&
		    !sys_prctl(R_PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0);
	int32_t gaps[64];
	uint32_t nr_gaps = 0;
	long r = 0;

	for (uint32_t i = 0; i < t->nr_posix_timers && !r; i++) {
		struct {
			uint64_t sival;
			int32_t signo;
			int32_t notify;
			int32_t tid;
			int32_t pad[11];
		} sev = { pt[i].sival, pt[i].signo, pt[i].notify, pt[i].tid, { 0 } };
		int32_t id;

		*bad = i;
		for (;;) {
			id = by_id ? pt[i].id : -1;
			r = sys_timer_create(pt[i].clock, (long)&sev, (long)&id);
			if (r || by_id || id >= pt[i].id)
				break;
			if (nr_gaps == 64) {
				r = -PIE_E2BIG;
				break;
			}
			gaps[nr_gaps++] = id;
		}
		if (!r && id != pt[i].id)
			r = -PIE_EINVAL;
		if (!r && (pt[i].vsec || pt[i].vnsec)) {
			int64_t its[4] = { pt[i].isec, pt[i].insec, pt[i].vsec, pt[i].vnsec };

			r = sys_timer_settime(id, 0, (long)its, 0);
		}
	}
	for (uint32_t i = 0; i < nr_gaps; i++)
		sys_timer_delete(gaps[i]);
	if (by_id)
		sys_prctl(R_PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
	return r;
}

/* Each REGISTER_* command bit of regs, issued again (bits 2, 4, 6, 8). */
static long restore_membarrier(uint32_t regs)
{
	for (int bit = 0; bit < 32; bit++) {
		long r;

		if (!(regs & (1u << bit)))
			continue;
		r = sys_membarrier(1L << bit, 0, 0);
		if (r)
			return r;
	}
	return 0;
}

static long restore_misc(const struct restorer_task *t)
{
	long r;

	r = sys_personality(t->personality);
	if (r < 0 && r > -4096)
		return r;
	sys_umask(t->umask);
	r = sys_prctl(R_PR_SET_NAME, (long)t->comm, 0, 0, 0);
	if (!r && t->subreaper)
		r = sys_prctl(R_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (!r && t->clear_tid_addr)
		sys_set_tid_address((long)t->clear_tid_addr);
	if (!r && t->rseq_ptr)
		r = sys_rseq((long)t->rseq_ptr, t->rseq_len, 0, t->rseq_sig);
	if (!r && t->robust_len) /* 0: an image without it */
		r = sys_set_robust_list((long)t->robust_list, (long)t->robust_len);
	if (!r && t->thp_disable)
		r = sys_prctl(R_PR_SET_THP_DISABLE, 1, 0, 0, 0);
	if (!r)
		r = restore_membarrier(t->membarrier_regs);
	return r;
}

static long restore_rlimits(const struct restorer_task *t, uint32_t *bad)
{
	for (uint32_t i = 0; i < t->nr_rlimits && i < RESTORER_RLIMITS; i++) {
		long r = sys_prlimit64(0, i, (long)t->rlimits[i], 0);

		if (r) {
			*bad = i;
			return r;
		}
	}
	return 0;
}

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static long capset64(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct cap_header h = { R_CAP_V3, 0 };
	struct cap_data d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return sys_capset((long)&h, (long)d);
}

/*
 * Credentials last: after them the task may no longer be allowed to do
 * what came before.  Bounding set while we still have CAP_SETPCAP; ids
 * with KEEPCAPS so that the permitted set survives; then every capability
 * we kept lets us set the securebits; then the task's own sets.
 */
/*
 * The end: tell criu, which then seizes the thread and writes its
 * registers, and wait for it.  The wait is a read of criu's lifeline pipe:
 * criu holds its only write end and never writes, so the read returns only
 * when criu is gone (EOF), and then the half-restored task must not run
 * on: exit_group (which a thread in strict seccomp mode may not call: the
 * kernel kills the process for it, the same end).  A strict-mode thread
 * enters the mode before it reports (a plain store: criu polls), or criu
 * could take it over before the mode is set, and it would run on without
 * it; read is one of the calls that mode allows.
 */
static void report_done_and_wait(struct restorer_status *st, int strict, int lifeline)
	__attribute__((noreturn));
static void report_done_and_wait(struct restorer_status *st, int strict, int lifeline)
{
	uint32_t c = 0;

	if (strict)
		sys_prctl(22 /* PR_SET_SECCOMP */, 1 /* SECCOMP_MODE_STRICT */, 0, 0, 0);
	if (st) {
		st->step = RESTORER_STEP_DONE;
		pie_store_release(&st->done, 1u);
		if (!strict)
			sys_futex((long)&st->done, PIE_FUTEX_WAKE, 1, 0, 0, 0);
	}
	for (;;) {
		long r = sys_read(lifeline, (long)&c, 1);

		if (r == 0)
			sys_exit_group(1);
		if (r < 0 && r != -PIE_EINTR && r != -PIE_EAGAIN)
			break; /* a seccomp filter said no: wait as criu's tracee only */
	}
	for (;;)
		sys_futex((long)&c, PIE_FUTEX_WAIT, c, 0, 0, 0);
}

static long restore_creds(const struct restorer_creds *c, uint32_t *bad)
{
	long r;

	*bad = 0;
	for (uint32_t cap = 0; cap <= c->last_cap && cap < 64; cap++)
		if (!((c->cap_bnd >> cap) & 1)) {
			r = sys_prctl(R_PR_CAPBSET_DROP, cap, 0, 0, 0);
			if (r)
				return *bad = 1, r;
		}
	r = sys_prctl(R_PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (!r)
		r = sys_setgroups(c->ngroups, (long)c->groups);
	if (r)
		return *bad = 2, r;
	r = sys_setresgid(c->gid, c->egid, c->sgid);
	if (!r)
		r = sys_setresuid(c->uid, c->euid, c->suid);
	if (r)
		return *bad = 3, r;
	sys_setfsgid(c->fsgid);
	sys_setfsuid(c->fsuid);
	/* everything still permitted, effective: for the securebits */
	{
		struct cap_header h = { R_CAP_V3, 0 };
		struct cap_data d[2];

		r = sys_capget((long)&h, (long)d);
		if (!r)
			r = capset64(((uint64_t)d[1].permitted << 32) | d[0].permitted,
				     ((uint64_t)d[1].permitted << 32) | d[0].permitted, c->cap_inh);
		if (r)
			return *bad = 4, r;
	}
	r = sys_prctl(R_PR_SET_SECUREBITS, c->secbits, 0, 0, 0);
	if (r)
		return *bad = 5, r;
	/* filters while CAP_SYS_ADMIN is still effective: the task may not
	 * have had no_new_privs; what follows must pass them */
	for (uint32_t i = 0; i < c->nr_seccomp; i++) {
		const struct restorer_seccomp *f =
			(const struct restorer_seccomp *)(uintptr_t)c->seccomp_filters + i;
		struct {
			uint16_t len;
			uint16_t pad[3];
			uint64_t filter;
		} prog = { (uint16_t)f->len, { 0, 0, 0 }, f->insns };

		r = sys_seccomp(1 /* SECCOMP_SET_MODE_FILTER */, f->flags, (long)&prog);
		if (r)
			return *bad = 9, r;
	}
	r = capset64(c->cap_eff, c->cap_prm, c->cap_inh);
	if (r)
		return *bad = 6, r;
	for (uint32_t cap = 0; cap <= c->last_cap && cap < 64; cap++)
		if ((c->cap_amb >> cap) & 1) {
			r = sys_prctl(R_PR_CAP_AMBIENT, R_PR_CAP_AMBIENT_RAISE, cap, 0, 0);
			if (r)
				return *bad = 7, r;
		}
	if (c->no_new_privs) {
		r = sys_prctl(R_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (r)
			return *bad = 8, r;
	}
	return 0;
}

#define R_CLONE_VM 0x00000100
#define R_CLONE_FS 0x00000200
#define R_CLONE_FILES 0x00000400
#define R_CLONE_SIGHAND 0x00000800
#define R_CLONE_THREAD 0x00010000
#define R_CLONE_SYSVSEM 0x00040000

static void report_fail(struct restorer_status *st, long ret, uint32_t step, uint32_t index)
{
	st->ret = ret;
	st->step = step;
	st->index = index;
	pie_store_release(&st->done, 1u);
}

/* A new thread: its own state, then wait for criu (it sets the registers). */
static void thread_main(void *arg)
{
	struct restorer_thread *th = arg;
	struct restorer_status *st = (struct restorer_status *)(uintptr_t)th->status;
	uint32_t bad = 0;
	long r = 0;

	if (th->clear_tid_addr)
		sys_set_tid_address((long)th->clear_tid_addr);
	if (th->comm[0])
		sys_prctl(R_PR_SET_NAME, (long)th->comm, 0, 0, 0);
	if (th->has_sas) {
		struct {
			uint64_t sp;
			int32_t flags;
			uint32_t pad;
			uint64_t size;
		} ss = { th->ss_sp, th->ss_flags, 0, th->ss_size };

		r = sys_sigaltstack((long)&ss, 0);
	}
	if (r) {
		report_fail(st, r, RESTORER_STEP_SIGNALS, 0);
		sys_exit(1);
	}
	if (th->rseq_ptr) {
		r = sys_rseq((long)th->rseq_ptr, th->rseq_len, 0, th->rseq_sig);
		if (r) {
			report_fail(st, r, RESTORER_STEP_MISC, 0);
			sys_exit(1);
		}
	}
	r = th->robust_len ? sys_set_robust_list((long)th->robust_list, (long)th->robust_len) : 0;
	if (r) {
		report_fail(st, r, RESTORER_STEP_MISC, 0);
		sys_exit(1);
	}
	for (uint32_t i = 0; i < th->nr_siginfo; i++) {
		const uint8_t *info = (const uint8_t *)(uintptr_t)th->siginfo +
				      (uint64_t)i * RESTORER_SIGINFO_SIZE;

		r = sys_rt_tgsigqueueinfo(sys_getpid(), sys_gettid(), *(const int32_t *)info,
					  (long)info);
		if (r) {
			report_fail(st, r, RESTORER_STEP_SIGNALS, i);
			sys_exit(1);
		}
	}
	if (th->has_creds) {
		r = restore_creds(&th->creds, &bad);
		if (r) {
			report_fail(st, r, RESTORER_STEP_CREDS, bad);
			sys_exit(1);
		}
	}
	if (th->pdeath_sig)
		sys_prctl(R_PR_SET_PDEATHSIG, th->pdeath_sig, 0, 0, 0);
	report_done_and_wait(st, th->has_creds && th->creds.seccomp_strict, th->lifeline_fd);
}

static long create_threads(struct restorer_task *t, uint32_t *bad)
{
	struct restorer_thread *th = (struct restorer_thread *)(uintptr_t)t->threads;

	for (uint32_t i = 0; i < t->nr_threads; i++) {
		long r;

		th[i].ca.flags = R_CLONE_VM | R_CLONE_FS | R_CLONE_FILES | R_CLONE_SIGHAND |
				 R_CLONE_THREAD | R_CLONE_SYSVSEM;
		th[i].ca.exit_signal = 0;
		th[i].ca.set_tid = (uint64_t)(uintptr_t)&th[i].set_tid;
		th[i].ca.set_tid_size = 1;
		r = pie_clone_thread(&th[i].ca, sizeof(th[i].ca), thread_main);
		/*
		 * A killed thread of the dumped process that is still leaving
		 * (slow at SCHED_IDLE on a busy machine) holds its tid a
		 * while after it is gone from /proc: wait for it, bounded.
		 */
		for (int tries = 0; r == -PIE_EEXIST && tries < 400; tries++) {
			struct {
				long sec, nsec;
			} ts = { 0, 5 * 1000 * 1000 };

			sys_nanosleep((long)&ts, 0);
			r = pie_clone_thread(&th[i].ca, sizeof(th[i].ca), thread_main);
		}
		if (r < 0) {
			*bad = i;
			return r;
		}
		if (r != th[i].set_tid) {
			*bad = i;
			return -PIE_EINVAL;
		}
	}
	return 0;
}

static long restore_task(struct restorer_args *args)
{
	struct restorer_task *t = &args->task;
	struct restorer_status *st = (struct restorer_status *)(uintptr_t)t->status;
	const struct restorer_range *u = (const struct restorer_range *)(uintptr_t)t->unmaps;
	uint32_t bad = 0;
	long r;

	for (uint32_t i = 0; i < t->nr_unmaps; i++) {
		r = sys_munmap(u[i].addr, u[i].len);
		if (r)
			return step_fail(args, st, r, RESTORER_STEP_UNMAP, i);
	}
	r = do_moves(t);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_MOVE, 0);
	r = map_task_vmas(args);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_MMAP, args->failed_index);
	r = read_pages(t, &bad);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_PAGES, bad);
	{
		const struct restorer_patch *pt = (const struct restorer_patch *)(uintptr_t)t->patches;

		for (uint32_t i = 0; i < t->nr_patches; i++) {
			memcpy((void *)(uintptr_t)pt[i].addr, pt[i].bytes, pt[i].len);
			pie_sync_icache(pt[i].addr, pt[i].len);
		}
	}
	r = protect_task_vmas(args, &bad);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_PROTECT, bad);
	if (t->has_mm_map) {
		r = sys_prctl(R_PR_SET_MM, R_PR_SET_MM_MAP, (long)&t->mm_map, sizeof(t->mm_map), 0);
		if (r)
			return step_fail(args, st, r, RESTORER_STEP_MM, 0);
	}
	r = restore_signals(t);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_SIGNALS, 0);
	r = restore_timers(t);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_TIMERS, 0);
	r = restore_rlimits(t, &bad);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_RLIMITS, bad);
	r = restore_misc(t);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_MISC, 0);
	r = create_threads(t, &bad);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_THREADS, bad);
	/* after the threads: a timer may signal one of them */
	r = restore_posix_timers(t, &bad);
	if (r)
		return step_fail(args, st, r, RESTORER_STEP_POSIX_TIMERS, bad);
	{
		const int32_t *fds = (const int32_t *)(uintptr_t)t->close_fds;

		for (uint32_t i = 0; i < t->nr_close_fds; i++)
			sys_close(fds[i]);
	}
	if (t->has_creds) {
		r = restore_creds(&t->creds, &bad);
		if (r)
			return step_fail(args, st, r, RESTORER_STEP_CREDS, bad);
	}
	/*
	 * A change of credentials resets the parent-death signal (SIGKILL,
	 * set by criu's code at fork): from here the lifeline alone ties the
	 * task to criu, and criu sets the dumped signal when it takes over.
	 * Nothing more than needed after the credentials: their seccomp
	 * filters judge every call.
	 */
	if (t->dumpable >= 0) {
		r = sys_prctl(R_PR_SET_DUMPABLE, t->dumpable, 0, 0, 0);
		if (r)
			return step_fail(args, st, r, RESTORER_STEP_MISC, 2);
	}
	/* Done: tell criu, then sleep until it takes the task over. */
	report_done_and_wait(st, t->has_creds && t->creds.seccomp_strict, t->lifeline_fd);
	return 0;
}

long restorer_main(struct restorer_args *args)
{
	long ret;

	if (args->magic != RESTORER_MAGIC || args->version != RESTORER_VERSION)
		return -PIE_EINVAL;
	args->ret = 0;
	args->failed_step = RESTORER_STEP_NONE;
	args->failed_index = 0;

	if (args->flags & RESTORER_F_UNMAP) {
		ret = sys_munmap(args->unmap_addr, args->unmap_len);
		if (ret)
			return restorer_fail(args, ret, RESTORER_STEP_UNMAP, 0);
	}
	if (args->flags & RESTORER_F_MMAP) {
		ret = restorer_map_vmas(args);
		if (ret)
			return ret;
	}
	if (args->flags & RESTORER_F_TASK)
		return restore_task(args);
	if (args->flags & RESTORER_F_EXIT)
		sys_exit_group(args->exit_code);
	return 0;
}
