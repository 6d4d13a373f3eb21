/*
 * The answers of the parasite's GET_MISC, GET_THREAD_MISC and
 * GET_POSIX_TIMERS commands (core/pie/parasite.c), made of injected
 * syscalls, for a task the parasite cannot be loaded into (see
 * parasite-ctl.h).  Each query is one compel_syscall() whose answer lands in
 * a scratch page of the task and is read back with compel_read_mem(); the
 * rules are the parasite's: every query runs, a value read through a
 * pointer is 0 when its syscall failed, raw results are kept as they came.
 * test-parasite.c checks that both give the same struct for the same task.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "parasite-ctl.h"
#include "syscall-nr.h"

/* prctl options (linux/prctl.h), as the parasite names them */
#define INJ_PR_GET_PDEATHSIG 2
#define INJ_PR_GET_DUMPABLE 3
#define INJ_PR_GET_SECUREBITS 27
#define INJ_PR_GET_CHILD_SUBREAPER 37
#define INJ_PR_GET_TID_ADDRESS 40
#define INJ_PR_GET_THP_DISABLE 42

struct scratch {
	struct infect_ctx *ctx;
	unsigned long addr; /* in the task */
	size_t len;
};

/* One syscall with up to five arguments; *res is its raw result. */
static int inj(struct scratch *s, long nr, unsigned long a0, unsigned long a1, unsigned long a2,
	       unsigned long a3, unsigned long a4, long *res)
{
	unsigned long args[5] = { a0, a1, a2, a3, a4 };

	return compel_syscall(s->ctx, nr, args, 5, res);
}

/*
 * The syscall has stored its answer at s->addr: copies it to out, or
 * zeroes out when the syscall failed.  *ret_out is its result.
 */
static int inj_read(struct scratch *s, long res, void *out, size_t size, int32_t *ret_out)
{
	*ret_out = (int32_t)res;
	if (res) {
		memset(out, 0, size);
		return 0;
	}
	return compel_read_mem(s->ctx, s->addr, out, size);
}

/* prctl(option, &value): the value lands in the scratch page. */
static int inj_prctl_store(struct scratch *s, long option, void *out, size_t size,
			   int32_t *ret_out)
{
	long res = 0;
	int ret = inj(s, SYS_prctl, (unsigned long)option, s->addr, 0, 0, 0, &res);

	return ret ? ret : inj_read(s, res, out, size, ret_out);
}

/* A raw result: prctl(option), personality(0xffffffff), brk(0). */
static int inj_raw(struct scratch *s, long nr, unsigned long a0, int64_t *out)
{
	long res = 0;
	int ret = inj(s, nr, a0, 0, 0, 0, 0, &res);

	if (!ret)
		*out = res;
	return ret;
}

static int scratch_map(struct infect_ctx *ctx, struct scratch *s)
{
	int ret;

	s->ctx = ctx;
	s->len = (size_t)sysconf(_SC_PAGESIZE);
	ret = compel_remote_mmap(ctx, 0, s->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &s->addr);
	if (ret)
		pr_err("can't map scratch memory in pid %d: %s\n", ctx->pid, strerror(-ret));
	return ret;
}

/* Unmaps it; the first error of the two. */
static int scratch_unmap(struct scratch *s, int ret)
{
	int r = compel_remote_munmap(s->ctx, s->addr, s->len);

	return ret ? ret : r;
}

static int thread_misc(struct scratch *s, struct parasite_thread_misc *t)
{
	long res = 0;
	int ret = inj(s, SYS_sigaltstack, 0, s->addr, 0, 0, 0, &res);

	memset(t, 0, sizeof(*t));
	if (!ret)
		ret = inj_read(s, res, &t->altstack, sizeof(t->altstack), &t->altstack_ret);
	if (!ret)
		ret = inj_prctl_store(s, INJ_PR_GET_TID_ADDRESS, &t->tid_address,
				      sizeof(t->tid_address), &t->tid_address_ret);
	if (!ret)
		ret = inj_prctl_store(s, INJ_PR_GET_PDEATHSIG, &t->pdeath_sig, sizeof(t->pdeath_sig),
				      &t->pdeath_sig_ret);
	return ret;
}

static int process_misc(struct scratch *s, struct parasite_misc *m)
{
	long res = 0;
	int ret = 0;

	for (int sig = 1; sig <= PARASITE_NSIG && !ret; sig++) {
		ret = inj(s, SYS_rt_sigaction, (unsigned long)sig, 0, s->addr,
			  sizeof(m->sa[0].mask), 0, &res);
		if (!ret)
			ret = inj_read(s, res, &m->sa[sig - 1], sizeof(m->sa[0]), &m->sa_ret[sig - 1]);
	}
	for (int i = 0; i < PARASITE_NR_RLIMITS && !ret; i++) {
		ret = inj(s, SYS_prlimit64, 0, (unsigned long)i, 0, s->addr, 0, &res);
		if (!ret)
			ret = inj_read(s, res, &m->rlim[i], sizeof(m->rlim[i]), &m->rlim_ret[i]);
	}
	for (int which = 0; which < 3 && !ret; which++) {
		ret = inj(s, SYS_getitimer, (unsigned long)which, s->addr, 0, 0, 0, &res);
		if (!ret)
			ret = inj_read(s, res, &m->it[which], sizeof(m->it[which]), &m->it_ret[which]);
	}
	if (!ret)
		ret = inj_prctl_store(s, INJ_PR_GET_CHILD_SUBREAPER, &m->child_subreaper,
				      sizeof(m->child_subreaper), &m->child_subreaper_ret);
	if (!ret)
		ret = inj_raw(s, SYS_prctl, INJ_PR_GET_SECUREBITS, &m->securebits);
	if (!ret)
		ret = inj_raw(s, SYS_prctl, INJ_PR_GET_DUMPABLE, &m->dumpable);
	if (!ret)
		ret = inj_raw(s, SYS_personality, 0xffffffffUL, &m->personality);
	if (!ret)
		ret = inj_raw(s, SYS_brk, 0, &m->brk);
	if (!ret)
		ret = inj_raw(s, SYS_prctl, INJ_PR_GET_THP_DISABLE, &m->thp_disable);
	if (!ret)
		ret = inj_raw(s, SYS_membarrier, PARASITE_MEMBARRIER_GET_REGISTRATIONS,
			      &m->membarrier_regs);
	if (!ret && m->membarrier_regs == -EINVAL) {
		int64_t r[3] = { -1, -1, -1 };

		for (int i = 0; i < 3 && !ret; i++)
			ret = inj_raw(s, SYS_membarrier, 1UL << (3 + 2 * i), &r[i]);
#define INJ_MB(cmd) r[((cmd) >> 3 == 1) ? 0 : ((cmd) >> 5 == 1) ? 1 : 2]
		m->membarrier_regs = PARASITE_MEMBARRIER_PROBE(INJ_MB);
#undef INJ_MB
	}
	if (!ret)
		ret = thread_misc(s, &m->thread);
	return ret;
}

int inject_get_misc(struct infect_ctx *ictx, struct parasite_misc *m)
{
	struct scratch s;
	int ret = scratch_map(ictx, &s);

	if (ret)
		return ret;
	memset(m, 0, sizeof(*m));
	return scratch_unmap(&s, process_misc(&s, m));
}

int inject_get_thread_misc(struct infect_ctx *ictx, struct parasite_thread_misc *t)
{
	struct scratch s;
	int ret = scratch_map(ictx, &s);

	return ret ? ret : scratch_unmap(&s, thread_misc(&s, t));
}

int inject_get_posix_timers(struct infect_ctx *ictx, struct parasite_posix_timer *timers,
			    uint32_t n)
{
	struct scratch s;
	int ret = n ? scratch_map(ictx, &s) : 0;

	if (ret || !n)
		return ret;
	for (uint32_t i = 0; i < n && !ret; i++) {
		struct parasite_posix_timer *t = &timers[i];
		long res = 0;

		t->overrun = 0;
		ret = inj(&s, SYS_timer_gettime, (unsigned long)(long)t->id, s.addr, 0, 0, 0, &res);
		if (!ret)
			ret = inj_read(&s, res, &t->spec, sizeof(t->spec), &t->gettime_ret);
		if (!ret && !t->gettime_ret)
			ret = inj_raw(&s, SYS_timer_getoverrun, (unsigned long)(long)t->id,
				      &t->overrun);
	}
	return scratch_unmap(&s, ret);
}
