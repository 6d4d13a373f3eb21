/*
 * The parasite: runs inside a task being dumped, on a stack and with
 * arguments set up by compel (see parasite.h for the protocol).  Entered
 * from arch/<arch>/pie-head.S (__export_parasite_head).
 */
#include "pie.h"

#include "parasite.h"

typedef long (*parasite_handler_t)(void *args, uint64_t size);

/*
 * The thread pointer(s) of the calling thread into tls[0..1] (see
 * struct parasite_task_state); 0 or -errno.  Per architecture, in
 * arch/<arch>/pie-head.S: reading it takes a special register or a syscall.
 */
long pie_get_tls(uint64_t tls[2]);

/* prctl options (linux/prctl.h; no libc headers here) */
#define PIE_PR_GET_PDEATHSIG 2
#define PIE_PR_GET_DUMPABLE 3
#define PIE_PR_GET_SECUREBITS 27
#define PIE_PR_GET_CHILD_SUBREAPER 37
#define PIE_PR_GET_NO_NEW_PRIVS 39
#define PIE_PR_GET_TID_ADDRESS 40

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
};

static long parasite_dispatch(struct parasite_area *area)
{
	uint32_t cmd = area->cmd;

	if (cmd >= PARASITE_NR_CMDS || !parasite_handlers[cmd])
		return -PIE_EINVAL;
	return parasite_handlers[cmd](area->args, area->args_size);
}

static void parasite_set_state(struct parasite_area *area, uint32_t state)
{
	pie_store_release(&area->state, state);
	sys_futex((long)&area->state, PIE_FUTEX_WAKE, 1, 0, 0, 0);
}

/* Sleeps until criu posts a command. */
static void parasite_wait_cmd(struct parasite_area *area)
{
	uint32_t state;

	while ((state = pie_load_acquire(&area->state)) != PARASITE_ST_CMD)
		sys_futex((long)&area->state, PIE_FUTEX_WAIT, state, 0, 0, 0);
}

static long parasite_daemon(struct parasite_area *area)
{
	parasite_set_state(area, PARASITE_ST_READY);
	for (;;) {
		parasite_wait_cmd(area);
		if (area->cmd == PARASITE_CMD_FINI) {
			area->ret = 0;
			parasite_set_state(area, PARASITE_ST_DONE);
			return 0;
		}
		area->ret = parasite_dispatch(area);
		area->nr_cmds++;
		parasite_set_state(area, PARASITE_ST_DONE);
	}
}

/* Called by the head with the area compel prepared; the result ends in the
 * first return register when the head traps. */
long parasite_service(struct parasite_area *area)
{
	if (area->magic != PARASITE_MAGIC || area->version != PARASITE_VERSION)
		return -PIE_EINVAL;
	if (area->flags & PARASITE_F_ONESHOT) {
		area->ret = parasite_dispatch(area);
		return area->ret;
	}
	return parasite_daemon(area);
}
