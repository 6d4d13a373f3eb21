/*
 * The parasite: runs inside a task being dumped, on a stack and with
 * arguments set up by compel (see parasite.h for the protocol).  Entered
 * from arch/<arch>/pie-head.S (__export_parasite_head).
 */
#include <stdbool.h>

#include "pie.h"

#include "parasite.h"

typedef long (*parasite_handler_t)(void *args, uint64_t size);

/*
 * The thread pointer(s) of the calling thread into tls[0..1] (see
 * struct parasite_task_state); 0 or -errno.  Per architecture, in
 * arch/<arch>/pie-head.S: reading it takes a special register or a syscall.
 */
long pie_get_tls(uint64_t tls[2]);

/*
 * rt_sigreturn with the stack pointer at sp (arch/<arch>/pie-head.S): the
 * thread takes the registers and mask of the frame there.  No return.
 */
void pie_sigreturn(uint64_t sp) __attribute__((noreturn));

/* prctl options (linux/prctl.h; no libc headers here) */
#define PIE_PR_GET_PDEATHSIG 2
#define PIE_PR_GET_DUMPABLE 3
#define PIE_PR_GET_SECUREBITS 27
#define PIE_PR_GET_CHILD_SUBREAPER 37
#define PIE_PR_GET_NO_NEW_PRIVS 39
#define PIE_PR_GET_TID_ADDRESS 40
#define PIE_PR_GET_THP_DISABLE 42

static long parasite_echo(void *args, uint64_t size)
{
	struct parasite_echo_args *a = args;

	if (size < sizeof(*a))
		return -PIE_E2BIG;
	a->out = a->in + 1;
	a->pid = (int32_t)sys_getpid();
	a->tid = (int32_t)sys_gettid();
	return a->pid;
}

static long parasite_get_sigactions(void *args, uint64_t size)
{
	struct parasite_sigactions_args *a = args;
	long ret;

	if (size < sizeof(*a))
		return -PIE_E2BIG;
	a->failed_sig = 0;
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		ret = sys_rt_sigaction(sig, 0, (long)&a->sa[sig - 1], sizeof(a->sa[0].mask));
		if (ret < 0) {
			a->failed_sig = sig;
			return ret;
		}
	}
	return 0;
}

static long parasite_get_itimers(void *args, uint64_t size)
{
	struct parasite_itimers_args *a = args;
	long ret;

	if (size < sizeof(*a))
		return -PIE_E2BIG;
	for (int which = 0; which < 3; which++) {
		ret = sys_getitimer(which, (long)&a->it[which]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* prctl(option) returning its value, or storing it at a pointer. */
static long prctl_value(long option, int32_t *out)
{
	long ret = sys_prctl(option, 0, 0, 0, 0);

	if (ret >= 0)
		*out = (int32_t)ret;
	return ret;
}

static long prctl_store(long option, void *out)
{
	return sys_prctl(option, (long)out, 0, 0, 0);
}

static long task_state_fail(struct parasite_task_state *st, uint32_t step, long ret)
{
	st->failed_step = step;
	return ret;
}

/*
 * The thread pointer first and PR_GET_CHILD_SUBREAPER last: qemu-user (the
 * cross unit tests run this command in-process) answers EINVAL to the
 * latter, and the rest is still worth checking there.
 */
static long parasite_get_task_state(void *args, uint64_t size)
{
	struct parasite_task_state *st = args;
	long ret, mask;

	if (size < sizeof(*st))
		return -PIE_E2BIG;
	memset(st, 0, sizeof(*st));
	ret = pie_get_tls(st->tls);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_TLS, ret);
	ret = sys_sigaltstack(0, (long)&st->altstack);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_SIGALTSTACK, ret);
	/* No way to read the umask but setting it: put it back at once. */
	mask = sys_umask(0);
	sys_umask(mask);
	st->umask = (uint32_t)mask;
	ret = prctl_store(PIE_PR_GET_PDEATHSIG, &st->pdeath_sig);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_PDEATHSIG, ret);
	ret = prctl_value(PIE_PR_GET_SECUREBITS, &st->securebits);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_SECUREBITS, ret);
	ret = prctl_value(PIE_PR_GET_NO_NEW_PRIVS, &st->no_new_privs);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_NO_NEW_PRIVS, ret);
	ret = prctl_value(PIE_PR_GET_DUMPABLE, &st->dumpable);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_DUMPABLE, ret);
	/* Only with CONFIG_CHECKPOINT_RESTORE; EINVAL otherwise. */
	ret = prctl_store(PIE_PR_GET_TID_ADDRESS, &st->tid_address);
	if (ret < 0 && ret != -PIE_EINVAL)
		return task_state_fail(st, PARASITE_TS_TID_ADDRESS, ret);
	if (ret < 0)
		st->tid_address = 0;
	ret = prctl_store(PIE_PR_GET_CHILD_SUBREAPER, &st->child_subreaper);
	if (ret < 0)
		return task_state_fail(st, PARASITE_TS_SUBREAPER, ret);
	return 0;
}

/*
 * A value the kernel stores through a pointer: 0 unless the query worked
 * (the kernel writes nothing on failure, but the area may hold anything).
 */
static int32_t query_into(long ret, void *out, uint64_t size)
{
	if (ret)
		memset(out, 0, size);
	return (int32_t)ret;
}

static void read_thread_misc(struct parasite_thread_misc *t)
{
	t->altstack_ret = query_into(sys_sigaltstack(0, (long)&t->altstack), &t->altstack,
				     sizeof(t->altstack));
	t->tid_address_ret = query_into(prctl_store(PIE_PR_GET_TID_ADDRESS, &t->tid_address),
					&t->tid_address, sizeof(t->tid_address));
	t->pdeath_sig_ret = query_into(prctl_store(PIE_PR_GET_PDEATHSIG, &t->pdeath_sig),
				       &t->pdeath_sig, sizeof(t->pdeath_sig));
}

static long parasite_get_thread_misc(void *args, uint64_t size)
{
	if (size < sizeof(struct parasite_thread_misc))
		return -PIE_E2BIG;
	read_thread_misc(args);
	return 0;
}

static long membarrier_cmd(int cmd)
{
	return sys_membarrier(cmd, 0, 0);
}

static long parasite_get_misc(void *args, uint64_t size)
{
	struct parasite_misc *m = args;

	if (size < sizeof(*m))
		return -PIE_E2BIG;
	for (int sig = 1; sig <= PARASITE_NSIG; sig++)
		m->sa_ret[sig - 1] = query_into(sys_rt_sigaction(sig, 0, (long)&m->sa[sig - 1],
								 sizeof(m->sa[0].mask)),
						&m->sa[sig - 1], sizeof(m->sa[0]));
	/* prlimit64 on itself: no CAP_SYS_RESOURCE needed, any user's task */
	for (int i = 0; i < PARASITE_NR_RLIMITS; i++)
		m->rlim_ret[i] = query_into(sys_prlimit64(0, i, 0, (long)&m->rlim[i]), &m->rlim[i],
					    sizeof(m->rlim[i]));
	for (int which = 0; which < 3; which++)
		m->it_ret[which] = query_into(sys_getitimer(which, (long)&m->it[which]),
					      &m->it[which], sizeof(m->it[which]));
	m->child_subreaper_ret =
		query_into(prctl_store(PIE_PR_GET_CHILD_SUBREAPER, &m->child_subreaper),
			   &m->child_subreaper, sizeof(m->child_subreaper));
	m->pad = 0;
	m->securebits = sys_prctl(PIE_PR_GET_SECUREBITS, 0, 0, 0, 0);
	m->dumpable = sys_prctl(PIE_PR_GET_DUMPABLE, 0, 0, 0, 0);
	m->personality = sys_personality(0xffffffffL);
	m->brk = sys_brk(0);
	m->thp_disable = sys_prctl(PIE_PR_GET_THP_DISABLE, 0, 0, 0, 0);
	m->membarrier_regs = sys_membarrier(PARASITE_MEMBARRIER_GET_REGISTRATIONS, 0, 0);
	if (m->membarrier_regs == -PIE_EINVAL)
		m->membarrier_regs = PARASITE_MEMBARRIER_PROBE(membarrier_cmd);
	read_thread_misc(&m->thread);
	return 0;
}

static long parasite_get_posix_timers(void *args, uint64_t size)
{
	struct parasite_posix_timers_args *a = args;

	if (size < sizeof(*a) || a->nr > (size - sizeof(*a)) / sizeof(a->t[0]))
		return -PIE_E2BIG;
	for (uint32_t i = 0; i < a->nr; i++) {
		struct parasite_posix_timer *t = &a->t[i];

		t->gettime_ret = query_into(sys_timer_gettime(t->id, (long)&t->spec), &t->spec,
					    sizeof(t->spec));
		t->overrun = t->gettime_ret ? 0 : sys_timer_getoverrun(t->id);
	}
	return 0;
}

/* Moves the cursor (*idx, *off) forward by `done' bytes of the iovec array. */
static void iov_advance(const struct parasite_iovec *iov, uint32_t nr, uint32_t *idx,
			uint64_t *off, uint64_t done)
{
	while (*idx < nr) {
		uint64_t left = iov[*idx].len - *off;

		if (done < left) {
			*off += done;
			return;
		}
		done -= left;
		(*idx)++;
		*off = 0;
	}
}

static long parasite_dump_pages(void *args, uint64_t size)
{
	struct parasite_dump_pages_args *a = args;
	uint32_t idx = 0, nr;
	uint64_t off = 0;
	long ret;

	if (size < sizeof(*a))
		return -PIE_E2BIG;
	nr = a->nr_iovs;
	if (nr > (size - sizeof(*a)) / sizeof(a->iov[0]))
		return -PIE_E2BIG;

	a->spliced = 0;
	while (idx < nr) {
		if (off) {
			/* A partly spliced iovec: the rest of it alone. */
			struct parasite_iovec rest = { a->iov[idx].base + off, a->iov[idx].len - off };

			ret = sys_vmsplice(a->pipe_fd, (long)&rest, 1, a->splice_flags);
		} else {
			uint32_t n = nr - idx;

			if (n > PARASITE_IOV_MAX)
				n = PARASITE_IOV_MAX;
			ret = sys_vmsplice(a->pipe_fd, (long)&a->iov[idx], n, a->splice_flags);
		}
		if (ret == -PIE_EINTR)
			continue;
		if (ret < 0)
			return ret;
		if (ret == 0 && a->iov[idx].len != off)
			return -PIE_EIO;
		a->spliced += ret;
		iov_advance(a->iov, nr, &idx, &off, ret);
	}
	return (long)a->spliced;
}

/* The kernel's struct uffdio_api and uffdio_register (linux/userfaultfd.h). */
struct pie_uffdio_api {
	uint64_t api, features, ioctls;
};

struct pie_uffdio_register {
	uint64_t start, len, mode, ioctls;
};

#define PIE_UFFD_API 0xAA
#define PIE_UFFDIO_REGISTER_MODE_WP 2

static long parasite_memtrack_arm(void *args, uint64_t size)
{
	struct parasite_memtrack_args *a = args;
	struct pie_uffdio_api api = { PIE_UFFD_API, 0, 0 };
	long fd, ret;

	if (size < sizeof(*a) || a->nr > (size - sizeof(*a)) / sizeof(a->range[0]))
		return -PIE_E2BIG;
	fd = sys_userfaultfd(a->flags);
	if (fd < 0)
		return fd;
	api.features = a->features;
	a->failed = a->nr;
	ret = sys_ioctl(fd, (long)a->api_ioctl, (long)&api);
	a->features = api.features;
	for (uint32_t i = 0; !ret && i < a->nr; i++) {
		struct pie_uffdio_register reg = { a->range[i].base, a->range[i].len,
						   PIE_UFFDIO_REGISTER_MODE_WP, 0 };

		ret = sys_ioctl(fd, (long)a->register_ioctl, (long)&reg);
		if (ret)
			a->failed = i;
	}
	if (ret) {
		sys_close(fd);
		return ret;
	}
	return fd;
}

static long parasite_close_fd(void *args, uint64_t size)
{
	struct parasite_close_fd_args *a = args;

	if (size < sizeof(*a))
		return -PIE_E2BIG;
	return sys_close(a->fd);
}

/*
 * Indexed by enum parasite_cmd.  A table of function pointers: these are the
 * blob's load-time relocations (R_*_RELATIVE words in .data.rel.ro).
 */
static const parasite_handler_t parasite_handlers[PARASITE_NR_CMDS] = {
	[PARASITE_CMD_ECHO] = parasite_echo,
	[PARASITE_CMD_GET_SIGACTIONS] = parasite_get_sigactions,
	[PARASITE_CMD_GET_ITIMERS] = parasite_get_itimers,
	[PARASITE_CMD_DUMP_PAGES] = parasite_dump_pages,
	[PARASITE_CMD_GET_TASK_STATE] = parasite_get_task_state,
	[PARASITE_CMD_GET_MISC] = parasite_get_misc,
	[PARASITE_CMD_GET_THREAD_MISC] = parasite_get_thread_misc,
	[PARASITE_CMD_GET_POSIX_TIMERS] = parasite_get_posix_timers,
	[PARASITE_CMD_MEMTRACK_ARM] = parasite_memtrack_arm,
	[PARASITE_CMD_CLOSE_FD] = parasite_close_fd,
};

static void close_fd(int32_t *fd)
{
	if (*fd >= 0)
		sys_close(*fd);
	*fd = -1;
}

/* DUMP_PAGES' pipe, made here: its ends are in the area for the cure. */
static long parasite_page_pipe(struct parasite_area *area)
{
	if (area->page_pipe[0] >= 0 || area->page_pipe[1] >= 0)
		return -PIE_EBUSY;
	return sys_pipe2((long)area->page_pipe, area->pipe_flags);
}

static long parasite_close(struct parasite_area *area)
{
	struct parasite_close_args *a = (void *)area->args;

	if (area->args_size < sizeof(*a))
		return -PIE_E2BIG;
	if (a->mask & PARASITE_CLOSE_PAGE_R)
		close_fd(&area->page_pipe[0]);
	if (a->mask & PARASITE_CLOSE_PAGE_W)
		close_fd(&area->page_pipe[1]);
	return 0;
}

static long parasite_dispatch(struct parasite_area *area)
{
	uint32_t cmd = area->cmd;
	long ret;

	if (cmd == PARASITE_CMD_PAGE_PIPE)
		return parasite_page_pipe(area);
	if (cmd == PARASITE_CMD_CLOSE)
		return parasite_close(area);
	if (cmd >= PARASITE_NR_CMDS || !parasite_handlers[cmd])
		return -PIE_EINVAL;
	ret = parasite_handlers[cmd](area->args, area->args_size);
	/* the tracker's userfaultfd stays in the area until criu has it
	 * closed: the cure closes it if criu dies before */
	if (cmd == PARASITE_CMD_MEMTRACK_ARM && ret >= 0)
		area->track_fd = (int32_t)ret;
	if (cmd == PARASITE_CMD_CLOSE_FD) {
		struct parasite_close_fd_args *c = (void *)area->args;

		if (c->fd == area->track_fd)
			area->track_fd = -1;
	}
	return ret;
}

static void parasite_set_state(struct parasite_area *area, uint32_t state)
{
	pie_store_release(&area->state, state);
	sys_futex((long)&area->state, PIE_FUTEX_WAKE, 1, 0, 0, 0);
}

#define PIE_SIGPIPE 13

/*
 * The exit chain (compel/exit-chain.c) taken from here: syscall nr with
 * args a[] run at g1 (the task's own code), whose return goes to g2, which
 * rt_sigreturns with the stack pointer at sp (arch/<arch>/pie-head.S).
 * The struct is read whole before the jump.  No return.
 */
struct pie_chain {
	uint64_t sp, g1, g2, g1_arg, nr;
	uint64_t a[6];
};
void pie_chain_call(const struct pie_chain *c) __attribute__((noreturn));

static bool chain_ok(const struct parasite_area *area)
{
	return area->exit_g1 && area->exit_g2;
}

static void chain_from(struct pie_chain *c, const struct parasite_area *area, uint64_t sp)
{
	memset(c, 0, sizeof(*c));
	c->sp = sp;
	c->g1 = area->exit_g1;
	c->g2 = area->exit_g2;
	c->g1_arg = area->exit_arg;
}

/* Visitors gone, or 2 s of waiting for one: its criu died before it started. */
static bool visitors_gone(struct parasite_area *area)
{
	struct {
		int64_t sec, nsec;
	} step = { 0, 100000000 };
	uint32_t v;

	for (int i = 0; i < 20; i++) {
		v = pie_load_acquire(&area->visitors);
		if (!v)
			return true;
		sys_futex((long)&area->visitors, PIE_FUTEX_WAIT, v, (long)&step, 0, 0);
	}
	return !pie_load_acquire(&area->visitors);
}

#define PIE_SA_RESTART 0x10000000ULL
#define PIE_SIG_DFL 0
#define PIE_SIG_IGN 1

/* A signal whose default action is to do nothing, or to stop (SIGCONT goes on). */
static bool default_goes_on(int sig)
{
	return sig == 17 /* SIGCHLD */ || sig == 18 /* SIGCONT */ || sig == 19 /* SIGSTOP */ ||
	       sig == 20 /* SIGTSTP */ || sig == 21 /* SIGTTIN */ || sig == 22 /* SIGTTOU */ ||
	       sig == 23 /* SIGURG */ || sig == 28 /* SIGWINCH */;
}

/*
 * What the kernel does with a syscall interrupted with code when the
 * thread goes back with these signals waiting (those its mask lets
 * through): the first one that is not ignored decides, -EINTR for a
 * handler (ERESTARTSYS: one without SA_RESTART), the call made again for
 * none.  One whose default kills the process ends everything anyway.
 */
static bool parasite_ends_eintr(uint32_t code, uint64_t waiting)
{
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		struct parasite_ksigaction sa;

		if (!(waiting & (1ULL << (sig - 1))))
			continue;
		if (sys_rt_sigaction(sig, 0, (long)&sa, sizeof(sa.mask)))
			continue;
		if (sa.handler == PIE_SIG_IGN || (sa.handler == PIE_SIG_DFL && default_goes_on(sig)))
			continue;
		if (sa.handler == PIE_SIG_DFL)
			return false;
		return code != 512 || !(sa.flags & PIE_SA_RESTART);
	}
	return false;
}

/*
 * The frame of the -EINTR outcome over the one at dst, when the signals
 * waiting now (and those criu holds) say so: see struct parasite_area.
 */
static void pick_frame(uint32_t code, uint64_t eintr_src, uint64_t dst, uint64_t len,
		       uint64_t mask, uint64_t held)
{
	uint64_t pending = 0;

	if (!code || !eintr_src || !len)
		return;
	sys_rt_sigpending((long)&pending, sizeof(pending));
	if (parasite_ends_eintr(code, (pending | held) & ~mask))
		memcpy((void *)dst, (const void *)eintr_src, len);
}

/*
 * Back to the thread's own state.  A SIGPIPE that vmsplice raised once
 * criu's read end was gone is ours: dropped, unless it was pending already
 * when the daemon started.  Three syscalls when criu asks for it, which it
 * follows stop by stop: close, close, rt_sigreturn (criu unmaps the area
 * after), or close, close, munmap, rt_sigreturn when it asks for the exit
 * chain too (PARASITE_F_EXIT, the last cure of a dump).  Without criu, the
 * exit chain unmaps the area on the way out when compel found one;
 * otherwise the area stays (code cannot unmap the memory it runs from).
 */
static void __attribute__((noreturn)) parasite_cure(struct parasite_area *area)
{
	uint64_t pending = 0, sigpipe = 1ULL << (PIE_SIGPIPE - 1);
	struct {
		int64_t sec, nsec;
	} zero = { 0, 0 };

	close_fd(&area->page_pipe[0]);
	close_fd(&area->page_pipe[1]);
	close_fd(&area->ctl_fds[1]);
	close_fd(&area->ctl_fds[0]);
	close_fd(&area->track_fd);
	/* asked by a live criu (PARASITE_F_CURE), no SIGPIPE can be ours */
	if (!(area->flags & PARASITE_F_CURE) && !sys_rt_sigpending((long)&pending, sizeof(pending)) && (pending & sigpipe) &&
	    !(area->pending_at_start & sigpipe))
		sys_rt_sigtimedwait((long)&sigpipe, 0, (long)&zero, sizeof(sigpipe));
	if (area->frame_sp && area->frame_dst)
		memcpy((void *)area->frame_dst, (const void *)area->frame_src, area->frame_len);
	if (area->frame_sp)
		pick_frame(area->restart_code, area->frame_eintr_src,
			   area->frame_dst ? area->frame_dst : area->frame_src, area->frame_len,
			   area->frame_mask, area->held);
	if (area->frame_sp && area->frame_dst && chain_ok(area) &&
	    (!(area->flags & PARASITE_F_CURE) || (area->flags & PARASITE_F_EXIT)) &&
	    visitors_gone(area)) {
		struct pie_chain c;

		chain_from(&c, area, area->frame_sp);
		c.nr = __NR_munmap;
		c.a[0] = area->self_start;
		c.a[1] = area->self_len;
		pie_chain_call(&c);
	}
	if (area->frame_sp)
		pie_sigreturn(area->frame_sp);
	for (;;) /* no frame: nothing better than waiting, signals blocked */
		sys_ppoll(0, 0, 0, 0, 0);
}

#define PIE_SIG_SETMASK 2
#define PIE_FUTEX_WAKE_OP 5
/* FUTEX_OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_EQ, 1): *uaddr2 -= 1 */
#define PIE_FUTEX_OP_DEC ((1u << 28) | (0u << 24) | (0xfffu << 12) | 1u)

/* A visit (see struct parasite_visit); entered from the head on the visit stack. */
void __attribute__((noreturn)) parasite_visit(struct parasite_area *area)
{
	struct parasite_visit *v = (struct parasite_visit *)area->visit_at;
	uint64_t all = ~0ULL;
	struct pie_chain c;

	sys_rt_sigprocmask(PIE_SIG_SETMASK, (long)&all, 0, sizeof(all));
	read_thread_misc(&v->misc);
	sys_sigaltstack(0, (long)v->frame_altstack);
	if (v->frame_eintr_src)
		sys_sigaltstack(0, (long)(v->frame_altstack - v->frame_src + v->frame_eintr_src));
	memcpy((void *)v->frame_dst, (const void *)v->frame_src, v->frame_len);
	pick_frame(v->restart_code, v->frame_eintr_src, v->frame_dst, v->frame_len, v->frame_mask,
		   v->held);
	chain_from(&c, area, v->frame_sp);
	c.nr = __NR_futex;
	c.a[0] = (uint64_t)&area->visitors;
	c.a[1] = PIE_FUTEX_WAKE_OP;
	c.a[2] = 1; /* wake the daemon, if it waits */
	c.a[3] = 1; /* nr_wake2, in the timeout's place */
	c.a[4] = (uint64_t)&area->visitors;
	c.a[5] = PIE_FUTEX_OP_DEC;
	pie_chain_call(&c);
}

/* One byte from criu per command; anything else is its end. */
static int parasite_wait_cmd(struct parasite_area *area)
{
	char byte;
	long n;

	do
		n = sys_read(area->ctl_fds[0], (long)&byte, 1);
	while (n == -PIE_EINTR);
	return n == 1 && pie_load_acquire(&area->state) == PARASITE_ST_CMD;
}

static void __attribute__((noreturn)) parasite_daemon(struct parasite_area *area)
{
	if (area->flags & PARASITE_F_CURE)
		parasite_cure(area);
	/*
	 * The first start in a thread makes the control pipe; criu takes its
	 * write end at this pipe2's exit stop, before the task's copy goes.
	 */
	if (area->ctl_fds[0] < 0 && sys_pipe2((long)area->ctl_fds, area->pipe_flags) < 0) {
		area->ctl_fds[0] = area->ctl_fds[1] = -1;
		parasite_cure(area);
	}
	close_fd(&area->ctl_fds[1]);
	if (area->frame_altstack)
		sys_sigaltstack(0, (long)area->frame_altstack);
	if (area->frame_altstack && area->frame_eintr_src)
		sys_sigaltstack(0, (long)(area->frame_altstack - area->frame_src +
					  area->frame_eintr_src));
	area->pending_at_start = 0;
	sys_rt_sigpending((long)&area->pending_at_start, sizeof(area->pending_at_start));
	parasite_set_state(area, PARASITE_ST_READY);
	for (;;) {
		if (!parasite_wait_cmd(area) || area->cmd == PARASITE_CMD_FINI)
			parasite_cure(area);
		area->ret = parasite_dispatch(area);
		area->nr_cmds++;
		parasite_set_state(area, PARASITE_ST_DONE);
	}
}

/* Called by the head with the area compel prepared; the result ends in the
 * first return register when the head traps (one-shot only). */
long parasite_service(struct parasite_area *area)
{
	if (area->magic != PARASITE_MAGIC || area->version != PARASITE_VERSION)
		return -PIE_EINVAL;
	if (area->flags & PARASITE_F_ONESHOT) {
		area->ret = parasite_dispatch(area);
		return area->ret;
	}
	parasite_daemon(area);
}
