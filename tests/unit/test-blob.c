/*
 * The PIE blobs and their loader (compel/blob.c): relocation of the real
 * parasite and restorer for a made-up address, then the relocated blobs run
 * in this process (their code only makes syscalls, so it can be called like a
 * function): one-shot and daemon parasite commands, and the restorer in a
 * child.  Runs on every architecture (under qemu-user for the other three).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "parasite-blob.h"
#include "restorer-blob.h"
#include "unit.h"

#include "../../core/pie/parasite.h"
#include "../../core/pie/restorer.h"

#define FAKE_BASE 0x7f1234560000ul

typedef long (*blob_fn)(void *);

static uint64_t word_at(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

TEST(relocate_patches_exactly_the_listed_words)
{
	const struct blob_desc *d = &parasite_blob;
	unsigned char *copy = malloc(d->size);
	size_t patched = 0;

	CHECK(d->nr_relocs >= 4); /* the command table */
	memcpy(copy, d->bytes, d->size);
	CHECK_EQ(blob_relocate(copy, FAKE_BASE, d), 0);
	for (size_t i = 0; i < d->nr_relocs; i++) {
		const struct blob_reloc *r = &d->relocs[i];

		CHECK_EQ(r->kind, BLOB_RELOC_REL64);
		CHECK(r->addend >= 0 && (size_t)r->addend < d->size);
		/* generated with the addend already in place: base 0 */
		CHECK_EQ(word_at(d->bytes + r->offset), r->addend);
		CHECK_EQ(word_at(copy + r->offset), FAKE_BASE + r->addend);
		memcpy(copy + r->offset, d->bytes + r->offset, 8);
		patched++;
	}
	CHECK_EQ(patched, d->nr_relocs);
	CHECK(!memcmp(copy, d->bytes, d->size)); /* nothing else changed */
	free(copy);
}

TEST(relocate_refuses_bad_input)
{
	struct blob_desc d = parasite_blob;
	struct blob_reloc bad = { .offset = (uint32_t)d.size - 4, .kind = BLOB_RELOC_REL64 };
	unsigned char *copy = malloc(d.size);

	memcpy(copy, d.bytes, d.size);
	CHECK_EQ(blob_relocate(copy, FAKE_BASE + 8, &d), -EINVAL); /* misaligned */
	d.relocs = &bad;
	d.nr_relocs = 1;
	CHECK_EQ(blob_relocate(copy, FAKE_BASE, &d), -EINVAL); /* past the end */
	bad.offset = 0;
	bad.kind = 7;
	CHECK_EQ(blob_relocate(copy, FAKE_BASE, &d), -EINVAL); /* unknown kind */
	CHECK(!memcmp(copy, d.bytes, d.size));
	CHECK_EQ(blob_install(copy, 16, FAKE_BASE, &parasite_blob), -EINVAL); /* too small */
	free(copy);
}

TEST(entries_and_sizes)
{
	CHECK_EQ(blob_entry_offset(&parasite_blob, "head"), PARASITE_BLOB_ENTRY_HEAD);
	CHECK_EQ(blob_entry_offset(&parasite_blob, "service"), PARASITE_BLOB_ENTRY_SERVICE);
	CHECK_EQ(blob_entry_offset(&restorer_blob, "head"), RESTORER_BLOB_ENTRY_HEAD);
	CHECK_EQ(blob_entry_offset(&restorer_blob, "main"), RESTORER_BLOB_ENTRY_MAIN);
	CHECK_EQ(blob_entry_offset(&parasite_blob, "nope"), -ENOENT);
	CHECK_STR(parasite_blob.arch, CRIU_ARCH);
	CHECK_EQ(parasite_blob.size, PARASITE_BLOB_SIZE);
	CHECK(parasite_blob.stack_size >= 4096);
	CHECK_EQ(blob_mem_size(&parasite_blob) % 16, 0);
	CHECK(blob_mem_size(&parasite_blob) >=
	      parasite_blob.size + parasite_blob.bss_size + parasite_blob.stack_size);
}

/* The blob mapped at a fresh address, relocated, then made read-only+exec:
 * it must not need to write to itself. */
static void *load_blob(const struct blob_desc *d, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = blob_mem_size(d);
	size_t code = (d->size + d->bss_size + page - 1) & ~(size_t)(page - 1);
	void *area;

	size = (size + page - 1) & ~(size_t)(page - 1);
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED);
	if (area == MAP_FAILED)
		return NULL;
	CHECK_EQ((unsigned long)area % d->align, 0);
	CHECK_EQ(blob_install(area, size, (unsigned long)area, d), 0);
	__builtin___clear_cache((char *)area, (char *)area + d->size);
	CHECK_EQ(mprotect(area, code, PROT_READ | PROT_EXEC), 0);
	*len = size;
	return area;
}

static blob_fn entry(void *area, long offset)
{
	return (blob_fn)(void *)((char *)area + offset);
}

#define AREA_SIZE (1 << 16)

static struct parasite_area *new_area(uint32_t flags, uint32_t cmd)
{
	struct parasite_area *a = aligned_alloc(64, AREA_SIZE);

	memset(a, 0, AREA_SIZE);
	a->magic = PARASITE_MAGIC;
	a->version = PARASITE_VERSION;
	a->flags = flags;
	a->cmd = cmd;
	a->args_size = AREA_SIZE - sizeof(*a);
	return a;
}

static long oneshot(void *blob, struct parasite_area *a)
{
	return entry(blob, PARASITE_BLOB_ENTRY_SERVICE)(a);
}

TEST(parasite_echo_goes_through_the_relocated_table)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_ECHO);
	struct parasite_echo_args *e = (void *)a->args;

	if (!blob)
		return;
	e->in = 41;
	CHECK_EQ(oneshot(blob, a), getpid());
	CHECK_EQ(a->ret, getpid());
	CHECK_EQ(e->out, 42);
	CHECK_EQ(e->pid, getpid());
	CHECK_EQ(e->tid, syscall(SYS_gettid));

	a->cmd = 99;
	CHECK_EQ(oneshot(blob, a), -EINVAL);
	a->cmd = PARASITE_CMD_ECHO;
	a->args_size = 4;
	CHECK_EQ(oneshot(blob, a), -E2BIG);
	a->magic = 0;
	CHECK_EQ(oneshot(blob, a), -EINVAL);
	free(a);
	munmap(blob, len);
}

static void usr1_handler(int sig)
{
	(void)sig;
}

TEST(parasite_get_sigactions)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_GET_SIGACTIONS);
	struct parasite_sigactions_args *s = (void *)a->args;
	struct sigaction sa = { .sa_handler = usr1_handler, .sa_flags = SA_RESTART }, old1, old2;

	if (!blob)
		return;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK_EQ(sigaction(SIGUSR1, &sa, &old1), 0);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	CHECK_EQ(sigaction(SIGUSR2, &sa, &old2), 0);

	CHECK_EQ(oneshot(blob, a), 0);
	CHECK_EQ(s->failed_sig, 0);
	CHECK_EQ(s->sa[SIGUSR1 - 1].handler, (uintptr_t)usr1_handler);
	CHECK(s->sa[SIGUSR1 - 1].flags & SA_RESTART);
	CHECK(s->sa[SIGUSR1 - 1].mask & (1ull << (SIGUSR2 - 1)));
	CHECK_EQ(s->sa[SIGUSR2 - 1].handler, (uintptr_t)SIG_IGN);
	CHECK_EQ(s->sa[SIGCHLD - 1].handler, (uintptr_t)SIG_DFL);

	sigaction(SIGUSR1, &old1, NULL);
	sigaction(SIGUSR2, &old2, NULL);
	free(a);
	munmap(blob, len);
}

TEST(parasite_get_itimers)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_GET_ITIMERS);
	struct parasite_itimers_args *t = (void *)a->args;
	struct itimerval it = { .it_interval = { 5, 0 }, .it_value = { 1000, 0 } }, off = { 0 };

	if (!blob)
		return;
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	CHECK_EQ(oneshot(blob, a), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	CHECK_EQ(t->it[ITIMER_REAL].interval.sec, 5);
	CHECK(t->it[ITIMER_REAL].value.sec >= 990 && t->it[ITIMER_REAL].value.sec <= 1000);
	CHECK_EQ(t->it[ITIMER_VIRTUAL].value.sec, 0);
	CHECK_EQ(t->it[ITIMER_PROF].interval.usec, 0);
	free(a);
	munmap(blob, len);
}

/* GET_MISC in this process: each value as the process reads it itself. */
TEST(parasite_get_misc)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_GET_MISC);
	struct parasite_misc *m = (void *)a->args;
	struct sigaction sa = { .sa_handler = usr1_handler, .sa_flags = SA_RESTART }, old;
	struct itimerval it = { .it_interval = { 7, 0 }, .it_value = { 1000, 0 } }, off = { 0 };
	struct parasite_ksigaction own[PARASITE_NSIG];
	struct parasite_thread_misc thread;
	stack_t ss = { .ss_size = 1 << 16 }, old_ss;
	unsigned long tid_addr = 0;
	int pdeath = -1, subreaper = -1;
	long r;

	if (!blob)
		return;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	ss.ss_sp = malloc(ss.ss_size);
	CHECK_EQ(sigaltstack(&ss, &old_ss), 0);
	memset(m, 0xa5, sizeof(*m));

	CHECK_EQ(oneshot(blob, a), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		CHECK_EQ(syscall(SYS_rt_sigaction, sig, NULL, &own[sig - 1], 8), 0);
		CHECK_EQ(m->sa_ret[sig - 1], 0);
	}
	CHECK(!memcmp(m->sa, own, sizeof(own)));
	CHECK_EQ(m->sa[SIGUSR1 - 1].handler, (uintptr_t)usr1_handler);
	for (int i = 0; i < PARASITE_NR_RLIMITS; i++) {
		struct parasite_rlimit rl;

		CHECK_EQ(syscall(SYS_prlimit64, 0, i, NULL, &rl), 0);
		CHECK_EQ(m->rlim_ret[i], 0);
		CHECK_EQ(m->rlim[i].cur, rl.cur);
		CHECK_EQ(m->rlim[i].max, rl.max);
	}
	CHECK_EQ(m->it_ret[ITIMER_REAL], 0);
	CHECK_EQ(m->it[ITIMER_REAL].interval.sec, 7);
	CHECK(m->it[ITIMER_REAL].value.sec > 990 && m->it[ITIMER_REAL].value.sec <= 1000);
	CHECK_EQ(m->it_ret[ITIMER_VIRTUAL], 0);
	CHECK_EQ(m->it_ret[ITIMER_PROF], 0);
	/* qemu-user answers EINVAL to PR_GET_CHILD_SUBREAPER: then 0 and the error */
	r = syscall(SYS_prctl, PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0);
	CHECK_EQ(m->child_subreaper_ret, r ? -errno : 0);
	CHECK_EQ(m->child_subreaper, r ? 0 : subreaper);
	CHECK_EQ(m->securebits, syscall(SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, 0));
	CHECK_EQ(m->dumpable, syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0));
	CHECK_EQ(m->personality, syscall(SYS_personality, 0xffffffffUL));
	CHECK_EQ(m->brk, syscall(SYS_brk, 0));
	CHECK_EQ(m->thread.altstack_ret, 0);
	CHECK_EQ(m->thread.altstack.sp, (uintptr_t)ss.ss_sp);
	CHECK_EQ(m->thread.altstack.size, ss.ss_size);
	CHECK_EQ(m->thread.altstack.flags, 0);
	r = syscall(SYS_prctl, PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	CHECK_EQ(m->thread.pdeath_sig_ret, r ? -errno : 0);
	CHECK_EQ(m->thread.pdeath_sig, r ? 0 : pdeath);
	r = syscall(SYS_prctl, 40 /* PR_GET_TID_ADDRESS */, &tid_addr, 0, 0, 0);
	CHECK_EQ(m->thread.tid_address_ret, r ? -errno : 0);
	CHECK_EQ(m->thread.tid_address, r ? 0 : tid_addr);

	/* the thread's part alone, the same, and nothing written past it */
	thread = m->thread;
	a->cmd = PARASITE_CMD_GET_THREAD_MISC;
	memset(m, 0xa5, sizeof(*m));
	CHECK_EQ(oneshot(blob, a), 0);
	CHECK(!memcmp(a->args, &thread, sizeof(thread)));
	CHECK_EQ(((unsigned char *)a->args)[sizeof(thread)], 0xa5);
	a->cmd = PARASITE_CMD_GET_MISC;
	a->args_size = sizeof(*m) - 1;
	CHECK_EQ(oneshot(blob, a), -E2BIG);
	a->cmd = PARASITE_CMD_GET_THREAD_MISC;
	a->args_size = sizeof(struct parasite_thread_misc) - 1;
	CHECK_EQ(oneshot(blob, a), -E2BIG);

	sigaltstack(&old_ss, NULL);
	sigaction(SIGUSR1, &old, NULL);
	free(ss.ss_sp);
	free(a);
	munmap(blob, len);
}

/* GET_POSIX_TIMERS: an armed timer, a disarmed one, and an id that is none. */
TEST(parasite_get_posix_timers)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_GET_POSIX_TIMERS);
	struct parasite_posix_timers_args *t = (void *)a->args;
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec armed = { .it_interval = { 5, 250 }, .it_value = { 100, 0 } };
	timer_t armed_id, idle_id;

	if (!blob)
		return;
	CHECK_EQ(timer_create(CLOCK_MONOTONIC, &sev, &armed_id), 0);
	CHECK_EQ(timer_create(CLOCK_MONOTONIC, &sev, &idle_id), 0);
	CHECK_EQ(timer_settime(armed_id, 0, &armed, NULL), 0);
	t->nr = 3;
	t->t[0].id = (int32_t)(intptr_t)armed_id;
	t->t[1].id = (int32_t)(intptr_t)idle_id;
	t->t[2].id = 0x7ffffff0;
	CHECK_EQ(oneshot(blob, a), 0);
	CHECK_EQ(t->t[0].gettime_ret, 0);
	CHECK_EQ(t->t[0].spec.interval_sec, 5);
	CHECK_EQ(t->t[0].spec.interval_nsec, 250);
	CHECK(t->t[0].spec.value_sec >= 90 && t->t[0].spec.value_sec < 100);
	CHECK_EQ(t->t[0].overrun, 0);
	CHECK_EQ(t->t[1].gettime_ret, 0);
	CHECK_EQ(t->t[1].spec.value_sec | t->t[1].spec.value_nsec | t->t[1].spec.interval_sec, 0);
	CHECK_EQ(t->t[2].gettime_ret, -EINVAL);
	CHECK_EQ(t->t[2].spec.value_sec | t->t[2].overrun, 0);

	t->nr = (uint32_t)((a->args_size - sizeof(*t)) / sizeof(t->t[0])) + 1;
	CHECK_EQ(oneshot(blob, a), -E2BIG);
	timer_delete(armed_id);
	timer_delete(idle_id);
	free(a);
	munmap(blob, len);
}

TEST(parasite_dump_pages_vmsplices_every_iovec)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = new_area(PARASITE_F_ONESHOT, PARASITE_CMD_DUMP_PAGES);
	struct parasite_dump_pages_args *d = (void *)a->args;
	static unsigned char src[3][5000], back[16000];
	size_t lens[4] = { 1000, 0, 5000, 300 }, total = 0;
	int p[2];

	if (!blob)
		return;
	CHECK_EQ(pipe(p), 0);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 5000; j++)
			src[i][j] = (unsigned char)(i * 7 + j * 13);
	d->pipe_fd = p[1];
	d->nr_iovs = 4;
	for (int i = 0; i < 4; i++) {
		d->iov[i].base = (uintptr_t)src[i < 3 ? i : 2] + (i == 3 ? 100 : 0);
		d->iov[i].len = lens[i];
		total += lens[i];
	}
	CHECK_EQ(oneshot(blob, a), (long)total);
	CHECK_EQ(d->spliced, total);
	CHECK_EQ(read(p[0], back, sizeof(back)), (ssize_t)total);
	CHECK(!memcmp(back, src[0], 1000));
	CHECK(!memcmp(back + 1000, src[2], 5000));
	CHECK(!memcmp(back + 6000, src[2] + 100, 300));

	d->pipe_fd = -1;
	CHECK_EQ(oneshot(blob, a), -EBADF);
	d->nr_iovs = AREA_SIZE; /* more than the area holds */
	CHECK_EQ(oneshot(blob, a), -E2BIG);
	close(p[0]);
	close(p[1]);
	free(a);
	munmap(blob, len);
}

/* Waits (bounded) for the parasite to set `want'. */
static int wait_state(struct parasite_area *a, uint32_t want)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {
		uint32_t s = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);

		if (s == want)
			return 0;
		syscall(SYS_futex, &a->state, FUTEX_WAIT, s, &ts, NULL, 0);
	}
	return -1;
}

static void post(struct parasite_area *a, int ctl_w, uint32_t cmd)
{
	a->cmd = cmd;
	__atomic_store_n(&a->state, PARASITE_ST_CMD, __ATOMIC_RELEASE);
	CHECK_EQ(write(ctl_w, "c", 1), 1);
}

static bool fd_open_in(pid_t pid, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return access(path, F_OK) == 0;
}

/* Waits (bounded) until fd is closed in pid. */
static bool wait_fd_closed(pid_t pid, int fd)
{
	for (int i = 0; i < 500; i++) {
		if (!fd_open_in(pid, fd))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The daemon in a child process, as in a task: commands come as bytes on
 * the control pipe; end of file (criu gone) makes it cure itself: its
 * pipe descriptors closed.  No frame here (frame_sp 0): it then waits.
 */
TEST(parasite_daemon_loop)
{
	size_t len;
	void *blob = load_blob(&parasite_blob, &len);
	struct parasite_area *a = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct parasite_echo_args *e = (void *)a->args;
	int ctl[2], pp[2];
	pid_t pid;

	if (!blob)
		return;
	memset(a, 0, AREA_SIZE);
	a->magic = PARASITE_MAGIC;
	a->version = PARASITE_VERSION;
	a->args_size = AREA_SIZE - sizeof(*a);
	CHECK_EQ(pipe(ctl), 0);
	CHECK_EQ(pipe(pp), 0);
	a->ctl_fds[0] = ctl[0];
	a->ctl_fds[1] = ctl[1];
	a->page_pipe[0] = pp[0];
	a->page_pipe[1] = pp[1];
	pid = fork();
	if (pid == 0) {
		entry(blob, PARASITE_BLOB_ENTRY_SERVICE)(a);
		_exit(99);
	}
	close(ctl[0]);
	close(pp[0]);
	close(pp[1]);
	CHECK_EQ(wait_state(a, PARASITE_ST_READY), 0);
	CHECK(wait_fd_closed(pid, ctl[1])); /* the task's copy of the write end */
	CHECK_EQ(a->ctl_fds[1], -1);
	for (int i = 0; i < 3; i++) {
		e->in = 100 + i;
		post(a, ctl[1], PARASITE_CMD_ECHO);
		CHECK_EQ(wait_state(a, PARASITE_ST_DONE), 0);
		CHECK_EQ(a->ret, pid);
		CHECK_EQ(e->out, 101 + i);
	}
	post(a, ctl[1], PARASITE_CMD_GET_ITIMERS);
	CHECK_EQ(wait_state(a, PARASITE_ST_DONE), 0);
	CHECK_EQ(a->ret, 0);
	CHECK_EQ(a->nr_cmds, 4);
	CHECK(fd_open_in(pid, ctl[0]) && fd_open_in(pid, pp[0]) && fd_open_in(pid, pp[1]));
	close(ctl[1]); /* criu dies */
	CHECK(wait_fd_closed(pid, ctl[0]));
	CHECK(wait_fd_closed(pid, pp[0]));
	CHECK(wait_fd_closed(pid, pp[1]));
	CHECK(a->ctl_fds[0] == -1 && a->page_pipe[0] == -1 && a->page_pipe[1] == -1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(a, AREA_SIZE);
	munmap(blob, len);
}

/* In a child: unmap one page, map another over a reserved range filled from
 * a source buffer, check, then exit_group(42) through the restorer. */
static int restorer_child(void)
{
	size_t len;
	long page = sysconf(_SC_PAGESIZE);
	void *blob = load_blob(&restorer_blob, &len);
	static struct restorer_args args;
	static struct restorer_vma vma;
	char *victim, *target, src[64];
	unsigned char vec;
	blob_fn main_fn;

	if (!blob)
		return 1;
	main_fn = entry(blob, RESTORER_BLOB_ENTRY_MAIN);
	victim = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	target = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (victim == MAP_FAILED || target == MAP_FAILED)
		return 2;
	memset(src, 0x5a, sizeof(src));
	vma = (struct restorer_vma){ .addr = (uintptr_t)target, .len = 2 * page,
				     .prot = PROT_READ | PROT_WRITE,
				     .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1,
				     .copy_from = (uintptr_t)src, .copy_len = sizeof(src) };
	args = (struct restorer_args){ .magic = RESTORER_MAGIC, .version = RESTORER_VERSION,
				       .flags = RESTORER_F_UNMAP | RESTORER_F_MMAP,
				       .unmap_addr = (uintptr_t)victim, .unmap_len = page,
				       .vmas = (uintptr_t)&vma, .nr_vmas = 1 };
	if (main_fn(&args) != 0 || args.ret != 0)
		return 3;
	if (mincore(victim, page, &vec) != -1 || errno != ENOMEM)
		return 4; /* still mapped */
	if (memcmp(target, src, sizeof(src)) || target[sizeof(src)] || target[page])
		return 5;
	target[page + 1] = 1; /* writable now */

	vma.fd = 12345; /* a file mapping with a bad descriptor */
	vma.flags = MAP_PRIVATE;
	args.flags = RESTORER_F_MMAP;
	if (main_fn(&args) != -EBADF || args.failed_step != RESTORER_STEP_MMAP ||
	    args.failed_index != 0)
		return 6;

	args.flags = RESTORER_F_EXIT;
	args.exit_code = 42;
	main_fn(&args);
	return 7; /* exit_group returned */
}

TEST(restorer_unmaps_maps_and_exits)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(restorer_child());
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 42);
}

UNIT_MAIN()
