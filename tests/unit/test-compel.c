/*
 * compel: seizing tasks in every state, injected syscalls, the shared area
 * and code run in it, and 1000 infect/cure cycles of a program that checks
 * its own registers (general, SSE, AVX, AVX-512 when present) and memory.
 *
 * Every target is a child of this test, killed at the end of its test;
 * every wait is bounded.  Needs real ptrace: under qemu-user the tests say
 * why they skip.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel-arch.h"
#include "compel.h"
#include "log.h"
#include "unit.h"

#define LOG_NAME "compel-test.log"

/* ---- machine code run inside the targets ------------------------------ */

#if defined(__x86_64__)
#define HAVE_SNIPPETS 1
/*
 * rdi is the first argument compel passes.  The futex loop is the command
 * channel in miniature: it waits while the word is not CMD (2) or QUIT (4),
 * answers a CMD with DONE (3) and a wake, and returns its count on QUIT.
 */
__asm__(".pushsection .rodata.compel_snippets, \"a\"\n"
	".globl snip_getpid, snip_getpid_end\n"
	"snip_getpid: movl $39, %eax; syscall; int3\n"
	"snip_getpid_end:\n"
	".globl snip_crash, snip_crash_end\n"
	"snip_crash: movq 0, %rax; int3\n"
	"snip_crash_end:\n"
	".globl snip_spin, snip_spin_end\n"
	"snip_spin: 1: subq $1, %rdi; jnz 1b; movl $42, %eax; int3\n"
	"snip_spin_end:\n"
	".globl snip_forever, snip_forever_end\n"
	"snip_forever: 1: pause; jmp 1b\n"
	"snip_forever_end:\n"
	".globl snip_futex, snip_futex_end\n"
	"snip_futex:\n"
	"1:	movl (%rdi), %edx\n"
	"	cmpl $2, %edx\n"
	"	je 2f\n"
	"	cmpl $4, %edx\n"
	"	je 3f\n"
	"	xorl %esi, %esi\n"
	"	xorl %r10d, %r10d\n"
	"	movl $202, %eax\n"
	"	syscall\n"
	"	jmp 1b\n"
	"2:	incl 4(%rdi)\n"
	"	movl $3, (%rdi)\n"
	"	movl $1, %esi\n"
	"	movl $1, %edx\n"
	"	movl $202, %eax\n"
	"	syscall\n"
	"	jmp 1b\n"
	"3:	movl 4(%rdi), %eax\n"
	"	int3\n"
	"snip_futex_end:\n"
	".popsection\n");
extern const unsigned char snip_getpid[], snip_getpid_end[], snip_crash[], snip_crash_end[],
	snip_spin[], snip_spin_end[], snip_forever[], snip_forever_end[], snip_futex[],
	snip_futex_end[];
#define SNIP(name) snip_##name, (size_t)(snip_##name##_end - snip_##name)
#else
#define HAVE_SNIPPETS 0
/* getpid + trap, hand-assembled: just enough to prove "start code". */
#if defined(__aarch64__)
/* movz x8, #172; svc #0; brk #0 */
static const unsigned char snip_getpid[] = { 0x88, 0x15, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
					     0x00, 0x00, 0x20, 0xd4 };
#elif defined(__powerpc64__)
/* li r0, 20; sc; trap */
static const unsigned char snip_getpid[] = { 0x14, 0x00, 0x00, 0x38, 0x02, 0x00, 0x00, 0x44,
					     0x08, 0x00, 0xe0, 0x7f };
#elif defined(__s390x__)
/* lghi %r1, 20; svc 0; .word 0x0001 */
static const unsigned char snip_getpid[] = { 0xa7, 0x19, 0x00, 0x14, 0x0a, 0x00, 0x00, 0x01 };
#endif
#define SNIP(name) snip_##name, sizeof(snip_##name)
#endif

/* ---- helpers ------------------------------------------------------------ */

#include "tracee.h"

/* Waits (bounded) until /proc/PID/status shows one of the letters. */
static bool wait_state(pid_t pid, const char *letters, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		char s = proc_state(pid);

		if (s && strchr(letters, s))
			return true;
		usleep(1000);
	}
	return false;
}

/* The kernel's wchan says where a sleeping task sleeps. */
static bool wait_sleeping(pid_t pid)
{
	usleep(20000);
	return wait_state(pid, "S", 2000);
}

static bool log_contains(const char *what)
{
	char buf[8192];
	int fd = open(LOG_NAME, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static bool maps_contain(pid_t pid, const char *what)
{
	static char all[1 << 17];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, all, sizeof(all) - 1);
	close(fd);
	all[n > 0 ? n : 0] = 0;
	return strstr(all, what) != NULL;
}

static void truncate_log(void)
{
	if (truncate(LOG_NAME, 0))
		return;
}

/* Reads exactly len bytes, waiting at most timeout_ms. */
static bool read_timed(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

static long inject(struct infect_ctx *ctx, long nr, unsigned long a0, unsigned long a1)
{
	unsigned long args[2] = { a0, a1 };
	long ret = -12345;

	CHECK_EQ(compel_syscall(ctx, nr, args, 2, &ret), 0);
	return ret;
}

static void *shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- targets ---------------------------------------------------------- */

static void busy_child(void *arg)
{
	volatile uint64_t *counter = arg;

	for (;;)
		__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static void pause_child(void *arg)
{
	for (;;)
		pause();
}

struct pipes {
	int in[2];  /* test -> child */
	int out[2]; /* child -> test */
};

static bool make_pipes(struct pipes *p)
{
	return !pipe(p->in) && !pipe(p->out);
}

static void close_pipes(struct pipes *p)
{
	close(p->in[0]);
	close(p->in[1]);
	close(p->out[0]);
	close(p->out[1]);
}

/* Blocks in read(); reports what read() returned and the bytes. */
static void reader_child(void *arg)
{
	struct pipes *p = arg;
	char buf[16] = { 0 };
	long n = read(p->in[0], buf, 5);

	if (write(p->out[1], &n, sizeof(n)) < 0 || write(p->out[1], buf, 5) < 0)
		_exit(1);
}

/* ---- seizing in every state --------------------------------------------- */

TEST(compel_running_task)
{
	volatile uint64_t *counter;
	struct infect_ctx *ctx = NULL;
	uint64_t before;
	pid_t pid;

	NEED_PTRACE();
	counter = shared_page();
	pid = spawn(busy_child, (void *)counter);
	for (int i = 0; i < 1000 && !*counter; i++)
		usleep(1000);
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (ctx) {
		CHECK_EQ(ctx->found, COMPEL_TASK_RUNNING);
		CHECK_EQ(proc_state(pid), 't');
		before = *counter;
		usleep(10000);
		CHECK_EQ(*counter, before); /* really stopped */
		CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
		CHECK_EQ(inject(ctx, SYS_close, 12345, 0), -EBADF);
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	}
	before = *counter;
	usleep(10000);
	CHECK(*counter != before);
	CHECK(proc_state(pid) != 't' && proc_state(pid) != 'T');
	reap(pid);
	munmap((void *)counter, 4096);
}

static void check_reader(unsigned int flags)
{
	struct infect_ctx *ctx;
	struct pipes p;
	char buf[8] = { 0 };
	long n = 0;
	pid_t pid;

	CHECK(make_pipes(&p));
	pid = spawn(reader_child, &p);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, flags, &ctx), 0);
	if (ctx) {
		CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	}
	CHECK(wait_sleeping(pid)); /* back in read(), not returned */
	CHECK_EQ(write(p.in[1], "hello", 5), 5);
	CHECK(read_timed(p.out[0], &n, sizeof(n), 5000));
	CHECK(read_timed(p.out[0], buf, 5, 5000));
	CHECK_EQ(n, 5);
	CHECK_STR(buf, "hello");
	reap(pid);
	close_pipes(&p);
}

TEST(compel_task_sleeping_in_read)
{
	NEED_PTRACE();
	check_reader(0);
}

/* The same through the arm64-style path: restart by the task itself. */
TEST(compel_task_sleeping_in_read_settled)
{
	NEED_PTRACE();
	check_reader(COMPEL_F_SETTLE_RESTART);
}

/* nanosleep is restarted through restart_syscall (-ERESTART_RESTARTBLOCK). */
static void sleeper_child(void *arg)
{
	struct pipes *p = arg;
	struct timespec t0, t1, req = { 0, 400 * 1000000L };
	long ret, ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = syscall(SYS_nanosleep, &req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (write(p->out[1], &ret, sizeof(ret)) < 0 || write(p->out[1], &ms, sizeof(ms)) < 0)
		_exit(1);
}

static void check_sleeper(unsigned int flags)
{
	struct infect_ctx *ctx = NULL;
	struct pipes p;
	long ret = -1, ms = 0;
	pid_t pid;

	CHECK(make_pipes(&p));
	pid = spawn(sleeper_child, &p);
	usleep(100000);
	CHECK_EQ(compel_infect(pid, flags, &ctx), 0);
	if (ctx) {
		CHECK_EQ(inject(ctx, SYS_getppid, 0, 0), getpid());
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	}
	CHECK(read_timed(p.out[0], &ret, sizeof(ret), 5000));
	CHECK(read_timed(p.out[0], &ms, sizeof(ms), 5000));
	CHECK_EQ(ret, 0);
	CHECK(ms >= 400 && ms < 2000);
	reap(pid);
	close_pipes(&p);
}

TEST(compel_task_in_nanosleep_restartblock)
{
	NEED_PTRACE();
	check_sleeper(0);
	check_sleeper(COMPEL_F_SETTLE_RESTART);
}

/*
 * ppoll() runs with a temporary signal mask; the task's own mask lives in
 * the kernel meanwhile.  After cure and ppoll's return the task must have
 * its own mask (SIGUSR2 blocked), not ppoll's (empty).
 */
static void ppoll_child(void *arg)
{
	struct pipes *p = arg;
	struct pollfd pfd = { .fd = p->in[0], .events = POLLIN };
	sigset_t own, empty, after;
	long ret;
	int blocked;

	sigemptyset(&own);
	sigaddset(&own, SIGUSR2);
	sigprocmask(SIG_SETMASK, &own, NULL);
	sigemptyset(&empty);
	ret = ppoll(&pfd, 1, NULL, &empty);
	sigprocmask(SIG_SETMASK, NULL, &after);
	blocked = sigismember(&after, SIGUSR2);
	if (write(p->out[1], &ret, sizeof(ret)) < 0 || write(p->out[1], &blocked, sizeof(blocked)) < 0)
		_exit(1);
}

TEST(compel_task_in_ppoll_keeps_its_sigmask)
{
	struct infect_ctx *ctx = NULL;
	struct pipes p;
	long ret = -1;
	int blocked = -1;
	pid_t pid;

	NEED_PTRACE();
	CHECK(make_pipes(&p));
	pid = spawn(ppoll_child, &p);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (ctx) {
		CHECK_EQ(ctx->orig_sigmask, 1ULL << (SIGUSR2 - 1));
		CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	}
	CHECK(wait_sleeping(pid));
	CHECK_EQ(write(p.in[1], "x", 1), 1);
	CHECK(read_timed(p.out[0], &ret, sizeof(ret), 5000));
	CHECK(read_timed(p.out[0], &blocked, sizeof(blocked), 5000));
	CHECK_EQ(ret, 1);
	CHECK_EQ(blocked, 1);
	reap(pid);
	close_pipes(&p);
}

TEST(compel_stopped_task_stays_stopped)
{
	struct infect_ctx *ctx = NULL;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	usleep(10000);
	kill(pid, SIGSTOP);
	CHECK(wait_state(pid, "T", 2000));
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (ctx) {
		CHECK_EQ(ctx->found, COMPEL_TASK_STOPPED);
		CHECK_EQ(ctx->stop_signo, SIGSTOP);
		CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
		CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	}
	usleep(50000);
	CHECK_EQ(proc_state(pid), 'T');
	kill(pid, SIGCONT);
	CHECK(wait_state(pid, "S", 2000));
	reap(pid);
}

TEST(compel_leave_stopped)
{
	struct infect_ctx *ctx = NULL;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (ctx)
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_STOPPED), 0);
	CHECK(wait_state(pid, "T", 2000));
	kill(pid, SIGCONT);
	CHECK(wait_state(pid, "S", 2000));
	reap(pid);
}

TEST(compel_zombie_refused)
{
	struct compel_task_info info;
	struct infect_ctx *ctx = NULL;
	pid_t pid;

	NEED_PTRACE();
	pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK(wait_state(pid, "Z", 2000));
	truncate_log();
	CHECK_EQ(compel_infect(pid, 0, &ctx), -ESRCH);
	CHECK(ctx == NULL);
	CHECK(log_contains("is a zombie"));
	CHECK_EQ(compel_probe_task(pid, &info), 0);
	CHECK_EQ(info.state, COMPEL_TASK_ZOMBIE);
	reap(pid);
}

TEST(compel_missing_and_thread_refused)
{
	struct infect_ctx *ctx = NULL;

	NEED_PTRACE();
	CHECK_EQ(compel_infect(0x3ffffff0, 0, &ctx), -ESRCH);
	CHECK_EQ(compel_infect(getpid(), 0, &ctx), -EINVAL);
	CHECK(ctx == NULL);
}

/* A helper process traces the target; compel must name it and step back. */
TEST(compel_traced_task_refused)
{
	struct infect_ctx *ctx = NULL;
	int ready[2];
	pid_t target, tracer;
	char c = 0, expect[64];

	NEED_PTRACE();
	CHECK(!pipe(ready));
	target = spawn(pause_child, NULL);
	tracer = fork();
	if (tracer == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = ptrace(PTRACE_SEIZE, target, NULL, NULL) ? 'n' : 'y';
		if (write(ready[1], &c, 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	CHECK(read_timed(ready[0], &c, 1, 5000));
	CHECK_EQ(c, 'y');
	truncate_log();
	CHECK_EQ(compel_infect(target, 0, &ctx), -EBUSY);
	snprintf(expect, sizeof(expect), "is traced by pid %d", tracer);
	CHECK(log_contains(expect));
	reap(tracer);
	CHECK(wait_sleeping(target));
	reap(target);
	close(ready[0]);
	close(ready[1]);
}

/* ---- injected syscalls and memory -------------------------------------- */

TEST(compel_remote_memory)
{
	struct infect_ctx *ctx = NULL;
	char maps[64], buf[64] = { 0 };
	unsigned long addr = 0, psz = (unsigned long)sysconf(_SC_PAGESIZE);
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (!ctx)
		goto out;
	/* two pages, whatever their size (64 KiB on ppc64le kernels) */
	CHECK_EQ(compel_remote_mmap(ctx, 0, 2 * psz, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &addr),
		 0);
	CHECK(addr && !(addr & (psz - 1)));
	CHECK_EQ(compel_write_mem(ctx, addr + psz - 6, "across pages", 13), 0);
	CHECK_EQ(compel_read_mem(ctx, addr + psz - 6, buf, 13), 0);
	CHECK_STR(buf, "across pages");
	snprintf(maps, sizeof(maps), "%lx-%lx", addr, addr + 2 * psz);
	CHECK(maps_contain(pid, maps));
	/* an injected syscall that fails reports -errno */
	CHECK_EQ(inject(ctx, SYS_munmap, addr + 1, psz), -EINVAL);
	CHECK_EQ(compel_remote_munmap(ctx, addr, 2 * psz), 0);
	CHECK(compel_read_mem(ctx, addr, buf, 8) < 0);
	/* a mapping left behind is unmapped by cure */
	CHECK_EQ(compel_remote_mmap(ctx, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
				    &addr),
		 0);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	snprintf(maps, sizeof(maps), "%lx-", addr);
	CHECK(!maps_contain(pid, maps));
out:
	reap(pid);
}

/* ---- threads ------------------------------------------------------------- */

static void *spin_thread(void *arg)
{
	for (;;)
		__atomic_add_fetch((uint64_t *)arg, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *short_thread(void *arg)
{
	return arg;
}

/* Three long-lived threads and a stream of short ones. */
static void threads_child(void *arg)
{
	static uint64_t counters[3];
	pthread_t t;

	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, spin_thread, &counters[i]);
	for (;;) {
		if (!pthread_create(&t, NULL, short_thread, NULL))
			pthread_join(t, NULL);
	}
}

static bool all_threads_seized(struct infect_ctx *ctx, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;
	bool ok = true;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);
		bool found = false;

		if (tid <= 0)
			continue;
		{
			/* a thread on its way out cannot be seized: not counted */
			char sp[96], st[256] = "";
			FILE *f;

			snprintf(sp, sizeof(sp), "/proc/%d/task/%d/stat", pid, tid);
			f = fopen(sp, "r");
			if (f) {
				if (!fgets(st, sizeof(st), f))
					st[0] = 0;
				fclose(f);
			}
			if (!f || strstr(st, ") Z ") || strstr(st, ") X "))
				continue;
		}
		n++;
		for (int i = 0; i < ctx->nr_threads; i++)
			if (ctx->threads[i].tid == tid && ctx->threads[i].seized)
				found = true;
		if (!found)
			ok = false;
	}
	closedir(d);
	return ok && n >= 4;
}

TEST(compel_threads_all_seized)
{
	struct infect_ctx *ctx;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(threads_child, NULL);
	usleep(50000);
	for (int round = 0; round < 30; round++) {
		ctx = NULL;
		CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
		if (!ctx)
			break;
		CHECK(all_threads_seized(ctx, pid));
		CHECK_EQ(ctx->victim->tid, pid);
		CHECK_EQ(inject(ctx, SYS_gettid, 0, 0), pid);
		CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
		usleep(2000);
	}
	CHECK(wait_state(pid, "RS", 1000));
	reap(pid);
}

/* ---- the shared area and code run in it ------------------------------- */

TEST(compel_shared_area_and_code)
{
	struct infect_ctx *ctx = NULL;
	unsigned long remote = 0;
	void *local = NULL;
	char buf[16] = { 0 };
	long ret = 0;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (!ctx)
		goto out;
	CHECK_EQ(compel_map_shared(ctx, 10000, &local, &remote), 0);
	if (!local)
		goto cure;
	/* both sides see one memory */
	memcpy((char *)local + 8192, "from criu", 10);
	CHECK_EQ(compel_read_mem(ctx, remote + 8192, buf, 10), 0);
	CHECK_STR(buf, "from criu");
	CHECK_EQ(compel_write_mem(ctx, remote + 9000, "from task", 10), 0);
	CHECK_STR((char *)local + 9000, "from task");

	memcpy(local, SNIP(getpid));
	CHECK_EQ(compel_run_code(ctx, remote, remote + 12288 - 64, NULL, 0, &ret), 0);
	CHECK_EQ(ret, pid);
	/* and again: the trap leaves everything ready for more */
	CHECK_EQ(compel_run_code(ctx, remote, remote + 12288 - 64, NULL, 0, &ret), 0);
	CHECK_EQ(ret, pid);
	CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
cure:
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	snprintf(buf, sizeof(buf), "%lx-", remote);
	CHECK(!maps_contain(pid, buf));
	CHECK(wait_sleeping(pid));
out:
	reap(pid);
}

#if HAVE_SNIPPETS
static struct infect_ctx *infect_with_area(pid_t pid, void **local, unsigned long *remote)
{
	struct infect_ctx *ctx = NULL;

	CHECK_EQ(compel_infect(pid, 0, &ctx), 0);
	if (!ctx)
		return NULL;
	CHECK_EQ(compel_map_shared(ctx, 8192, local, remote), 0);
	return ctx;
}

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e6 + (b->tv_nsec - a->tv_nsec) / 1e3;
}

/* A plain socketpair ping-pong between two processes, to compare with. */
static double socket_round_trip_us(int rounds)
{
	struct timespec t0, t1;
	int sv[2];
	char c = 0;
	pid_t echo;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	echo = fork();
	if (echo == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		while (read(sv[1], &c, 1) == 1)
			if (write(sv[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(sv[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < rounds; i++)
		if (write(sv[0], &c, 1) != 1 || !read_timed(sv[0], &c, 1, 5000))
			break;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(sv[0]);
	reap(echo);
	return elapsed_us(&t0, &t1) / rounds;
}

TEST(compel_futex_command_channel)
{
	enum { ROUNDS = 20000 };
	struct infect_ctx *ctx;
	struct timespec t0, t1;
	unsigned long remote = 0;
	void *local = NULL;
	uint32_t *word;
	long ret = 0;
	int done = 0;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	ctx = infect_with_area(pid, &local, &remote);
	if (!ctx || !local)
		goto out;
	word = (uint32_t *)((char *)local + 4096);
	memcpy(local, SNIP(futex));
	CHECK_EQ(compel_start_code(ctx, remote, remote + 8192 - 64,
				   (unsigned long[]){ remote + 4096 }, 1),
		 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; done < ROUNDS; done++) {
		__atomic_store_n(word, 2, __ATOMIC_RELEASE);
		compel_futex_wake(word);
		if (compel_futex_wait(ctx, word, 2, 5000))
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(done, ROUNDS);
	CHECK_EQ(word[1], ROUNDS);
	__atomic_store_n(word, 4, __ATOMIC_RELEASE);
	compel_futex_wake(word);
	CHECK_EQ(compel_wait_code(ctx, &ret), 0);
	CHECK_EQ(ret, ROUNDS);
	printf("  command round trip: futex %.1f us, socketpair %.1f us (%d rounds)\n",
	       elapsed_us(&t0, &t1) / ROUNDS, socket_round_trip_us(ROUNDS), ROUNDS);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(wait_sleeping(pid));
out:
	reap(pid);
}

/* The code crashes: reported, and the task is intact after cure. */
TEST(compel_code_crash_cured)
{
	struct infect_ctx *ctx;
	unsigned long remote = 0;
	void *local = NULL;
	long ret = 0;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	ctx = infect_with_area(pid, &local, &remote);
	if (!ctx || !local)
		goto out;
	memcpy(local, SNIP(crash));
	CHECK_EQ(compel_run_code(ctx, remote, remote + 8192 - 64, NULL, 0, &ret), -EFAULT);
	/* still usable after the crash */
	CHECK_EQ(inject(ctx, SYS_getpid, 0, 0), pid);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(kill(pid, 0), 0);
out:
	reap(pid);
}

/* The task dies under our feet: -ESRCH, and cure still cleans up. */
TEST(compel_task_dies_midway)
{
	struct infect_ctx *ctx;
	unsigned long remote = 0;
	void *local = NULL;
	long ret = 0;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	ctx = infect_with_area(pid, &local, &remote);
	if (!ctx || !local)
		goto out;
	memcpy(local, SNIP(forever));
	compel_set_timeout(ctx, 2000);
	CHECK_EQ(compel_start_code(ctx, remote, remote + 8192 - 64, NULL, 0), 0);
	usleep(20000);
	kill(pid, SIGKILL);
	CHECK_EQ(compel_wait_code(ctx, &ret), -ESRCH);
	CHECK(ctx->dead);
	CHECK_EQ(compel_syscall(ctx, SYS_getpid, NULL, 0, &ret), -ESRCH);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
out:
	reap(pid);
}

/* Code that runs too long is stopped at the timeout; cure is clean. */
TEST(compel_code_timeout)
{
	struct infect_ctx *ctx;
	unsigned long remote = 0;
	void *local = NULL;
	long ret = 0;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(pause_child, NULL);
	CHECK(wait_sleeping(pid));
	ctx = infect_with_area(pid, &local, &remote);
	if (!ctx || !local)
		goto out;
	memcpy(local, SNIP(forever));
	compel_set_timeout(ctx, 300);
	CHECK_EQ(compel_run_code(ctx, remote, remote + 8192 - 64, NULL, 0, &ret), -ETIMEDOUT);
	CHECK(!ctx->code_running);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(wait_sleeping(pid));
out:
	reap(pid);
}

static volatile uint64_t *usr1_count;

static void on_usr1(int sig)
{
	__atomic_add_fetch(usr1_count, 1, __ATOMIC_RELAXED);
}

static void usr1_child(void *arg)
{
	signal(SIGUSR1, on_usr1);
	for (;;)
		pause();
}

/* Signals sent while our code runs wait, and are delivered after cure. */
TEST(compel_signals_during_code)
{
	struct infect_ctx *ctx;
	unsigned long remote = 0;
	void *local = NULL;
	long ret = 0;
	pid_t pid;

	NEED_PTRACE();
	usr1_count = shared_page();
	pid = spawn(usr1_child, NULL);
	CHECK(wait_sleeping(pid));
	ctx = infect_with_area(pid, &local, &remote);
	if (!ctx || !local)
		goto out;
	memcpy(local, SNIP(spin));
	CHECK_EQ(compel_start_code(ctx, remote, remote + 8192 - 64,
				   (unsigned long[]){ 300000000UL }, 1),
		 0);
	usleep(10000);
	kill(pid, SIGUSR1);
	kill(pid, SIGSTOP);
	CHECK_EQ(compel_wait_code(ctx, &ret), 0);
	CHECK_EQ(ret, 42);
	CHECK_EQ(*usr1_count, 0);
	CHECK_EQ(compel_cure(ctx, COMPEL_LEAVE_AS_FOUND), 0);
	/* SIGSTOP was held and sent again; SIGUSR1 stays pending meanwhile
	 * or is handled first: both are what the task would have seen */
	CHECK(wait_state(pid, "T", 2000));
	kill(pid, SIGCONT);
	for (int i = 0; i < 2000 && *usr1_count == 0; i++)
		usleep(1000);
	CHECK_EQ(*usr1_count, 1);
	CHECK(wait_sleeping(pid));
out:
	reap(pid);
	munmap((void *)usr1_count, 4096);
}
#endif /* HAVE_SNIPPETS */

/* ---- 1000 infections of a program that checks its own registers ---------- */

#if defined(__x86_64__)
#include <cpuid.h>

/*
 * regcheck_<level>(table, iterations): loads rbx, rsi, rdi, r8-r15,
 * MXCSR, the x87 control word and the vector registers from the table,
 * then checks them all `iterations` times; returns 0, or the number of the
 * first check that failed.  Table: 11 GPR values, MXCSR at 88, FCW at 96,
 * vector register i at 128 + 64 * i, k registers at 2176.
 * SSE: xmm0-14 (xmm15 scratch); AVX2: ymm0-14; AVX-512: zmm0-30, k0-6.
 */
__asm__(".text\n"
	".macro RC_ENTER\n"
	"	push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
	"	sub $24, %rsp\n"
	"	stmxcsr 0(%rsp)\n"
	"	fnstcw 8(%rsp)\n"
	"	mov %rdi, %rbp\n"
	"	mov %rsi, %rcx\n"
	"	mov 0(%rbp), %rbx; mov 8(%rbp), %rsi; mov 16(%rbp), %rdi\n"
	"	mov 24(%rbp), %r8; mov 32(%rbp), %r9; mov 40(%rbp), %r10\n"
	"	mov 48(%rbp), %r11; mov 56(%rbp), %r12; mov 64(%rbp), %r13\n"
	"	mov 72(%rbp), %r14; mov 80(%rbp), %r15\n"
	"	ldmxcsr 88(%rbp)\n"
	"	fldcw 96(%rbp)\n"
	".endm\n"
	".macro RC_CHECK_GP\n"
	"	mov $1, %edx; cmp 0(%rbp), %rbx; jne 9f\n"
	"	mov $2, %edx; cmp 8(%rbp), %rsi; jne 9f\n"
	"	mov $3, %edx; cmp 16(%rbp), %rdi; jne 9f\n"
	"	mov $4, %edx; cmp 24(%rbp), %r8; jne 9f\n"
	"	mov $5, %edx; cmp 32(%rbp), %r9; jne 9f\n"
	"	mov $6, %edx; cmp 40(%rbp), %r10; jne 9f\n"
	"	mov $7, %edx; cmp 48(%rbp), %r11; jne 9f\n"
	"	mov $8, %edx; cmp 56(%rbp), %r12; jne 9f\n"
	"	mov $9, %edx; cmp 64(%rbp), %r13; jne 9f\n"
	"	mov $10, %edx; cmp 72(%rbp), %r14; jne 9f\n"
	"	mov $11, %edx; cmp 80(%rbp), %r15; jne 9f\n"
	"	stmxcsr 16(%rsp); mov 16(%rsp), %eax\n"
	"	mov $12, %edx; cmp 88(%rbp), %eax; jne 9f\n"
	"	fnstcw 16(%rsp); movzwl 16(%rsp), %eax\n"
	"	mov $13, %edx; cmpw 96(%rbp), %ax; jne 9f\n"
	".endm\n"
	".macro RC_LEAVE\n"
	"	xor %edx, %edx\n"
	"9:	mov %edx, %eax\n"
	"	ldmxcsr 0(%rsp)\n"
	"	fldcw 8(%rsp)\n"
	"	add $24, %rsp\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
	".endm\n"

	".globl regcheck_sse\n"
	"regcheck_sse:\n"
	"	RC_ENTER\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
	"	movdqu 128+64*\\i(%rbp), %xmm\\i\n"
	"	.endr\n"
	"1:	RC_CHECK_GP\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
	"	mov $(100+\\i), %edx\n"
	"	movdqa %xmm\\i, %xmm15\n"
	"	pcmpeqb 128+64*\\i(%rbp), %xmm15\n"
	"	pmovmskb %xmm15, %eax\n"
	"	cmp $0xffff, %eax; jne 9f\n"
	"	.endr\n"
	"	dec %rcx; jnz 1b\n"
	"	RC_LEAVE\n"
	"	ret\n"

	".globl regcheck_avx2\n"
	"regcheck_avx2:\n"
	"	RC_ENTER\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
	"	vmovdqu 128+64*\\i(%rbp), %ymm\\i\n"
	"	.endr\n"
	"1:	RC_CHECK_GP\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
	"	mov $(100+\\i), %edx\n"
	"	vpcmpeqb 128+64*\\i(%rbp), %ymm\\i, %ymm15\n"
	"	vpmovmskb %ymm15, %eax\n"
	"	cmp $-1, %eax; jne 9f\n"
	"	.endr\n"
	"	dec %rcx; jnz 1b\n"
	"	RC_LEAVE\n"
	"	vzeroupper\n"
	"	ret\n"

	".globl regcheck_avx512\n"
	"regcheck_avx512:\n"
	"	RC_ENTER\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
	"	vmovdqu64 128+64*\\i(%rbp), %zmm\\i\n"
	"	.endr\n"
	"	.irp i,0,1,2,3,4,5,6\n"
	"	kmovq 2176+8*\\i(%rbp), %k\\i\n"
	"	.endr\n"
	"1:	RC_CHECK_GP\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
	"	mov $(100+\\i), %edx\n"
	"	vpcmpeqq 128+64*\\i(%rbp), %zmm\\i, %k7\n"
	"	kmovw %k7, %eax\n"
	"	cmp $0xff, %eax; jne 9f\n"
	"	.endr\n"
	"	.irp i,0,1,2,3,4,5,6\n"
	"	mov $(200+\\i), %edx\n"
	"	kmovq %k\\i, %rax\n"
	"	cmp 2176+8*\\i(%rbp), %rax; jne 9f\n"
	"	.endr\n"
	"	dec %rcx; jnz 1b\n"
	"	RC_LEAVE\n"
	"	vzeroupper\n"
	"	ret\n");

int regcheck_sse(const void *table, long iterations);
int regcheck_avx2(const void *table, long iterations);
int regcheck_avx512(const void *table, long iterations);

/* Whether the CPU has the feature and the OS saves the state (XCR0). */
static uint64_t xcr0(void)
{
	unsigned int eax, ebx, ecx, edx, lo, hi;

	__cpuid(1, eax, ebx, ecx, edx);
	if (!(ecx & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

typedef int (*regcheck_fn)(const void *, long);

static regcheck_fn pick_regcheck(const char **name)
{
	uint64_t x = xcr0();

	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    (x & 0xe6) == 0xe6) {
		*name = "gpr+sse+avx+avx512 (zmm0-30, k0-6)";
		return regcheck_avx512;
	}
	if (__builtin_cpu_supports("avx2") && (x & 6) == 6) {
		*name = "gpr+sse+avx2 (ymm0-14)";
		return regcheck_avx2;
	}
	*name = "gpr+sse (xmm0-14)";
	return regcheck_sse;
}

#define HAVE_REGCHECK 1
#else
#define HAVE_REGCHECK 0
#endif

#if HAVE_REGCHECK
#define CHECKED_MEM (1 << 20)

struct regcheck_shared {
	uint64_t progress; /* blocks of checks done by the main thread */
	uint64_t thread_progress;
	int report_fd;
};

static void fill_table(uint64_t *table, uint64_t seed)
{
	for (int i = 0; i < 2240 / 8; i++) {
		seed += 0x9e3779b97f4a7c15ULL;
		table[i] = seed ^ (seed >> 29);
	}
	table[11] = 0x7fc0 | 0x3f; /* MXCSR: round toward zero, all masked */
	table[12] = 0x0c7f;	   /* FCW: round toward zero, extended precision */
}

static void report_failure(struct regcheck_shared *sh, const char *what, long code)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "%s check %ld failed", what, code);

	if (write(sh->report_fd, msg, n) < 0)
		_exit(3);
	_exit(2);
}

static struct regcheck_shared *rc_shared;
static regcheck_fn rc_fn;

static void *regcheck_thread(void *arg)
{
	uint64_t *table = aligned_alloc(64, 2240);

	fill_table(table, 0xabcdef);
	for (;;) {
		int r = rc_fn(table, 20000);

		if (r)
			report_failure(rc_shared, "thread register", r);
		__atomic_add_fetch(&rc_shared->thread_progress, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Checks registers in two threads and a megabyte of memory, forever. */
static void regcheck_child(void *arg)
{
	uint64_t *table = aligned_alloc(64, 2240), *mem = malloc(CHECKED_MEM);
	size_t words = CHECKED_MEM / 8, at = 0;
	pthread_t t;

	rc_shared = arg;
	fill_table(table, 0x12345);
	for (size_t i = 0; i < words; i++)
		mem[i] = i * 0x0101010101010101ULL;
	pthread_create(&t, NULL, regcheck_thread, NULL);
	for (;;) {
		int r = rc_fn(table, 20000);

		if (r)
			report_failure(rc_shared, "register", r);
		for (size_t i = 0; i < 4096; i++, at = (at + 1) % words)
			if (mem[at] != at * 0x0101010101010101ULL)
				report_failure(rc_shared, "memory", (long)at);
		__atomic_add_fetch(&rc_shared->progress, 1, __ATOMIC_RELAXED);
	}
}

static bool wait_progress(volatile uint64_t *p, uint64_t from)
{
	for (int i = 0; i < 20000 && *p == from; i++)
		usleep(100);
	return *p != from;
}

/* One cycle: infect, run one or more syscalls (and sometimes code), cure. */
static bool regcheck_cycle(pid_t pid, int i)
{
	struct infect_ctx *ctx = NULL;
	unsigned long remote = 0;
	void *local = NULL;
	long ret = 0;
	bool ok = true;

	if (compel_infect(pid, 0, &ctx))
		return false;
	ok &= inject(ctx, SYS_getpid, 0, 0) == pid;
	if (i % 10 == 0)
		ok &= !compel_remote_mmap(ctx, 0, 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &remote);
	if (i % 50 == 0 && !compel_map_shared(ctx, 4096, &local, &remote)) {
		memcpy(local, SNIP(getpid));
		ok &= !compel_run_code(ctx, remote, remote + 4096 - 64, NULL, 0, &ret) &&
		      ret == pid;
	}
	ok &= !compel_cure(ctx, COMPEL_LEAVE_AS_FOUND);
	return ok;
}

TEST(compel_1000_cycles_invisible_to_the_task)
{
	struct regcheck_shared *sh;
	const char *what = "";
	struct timespec t0, t1;
	int report[2], status, cycles = 0;
	char msg[128] = { 0 };
	pid_t pid;

	NEED_PTRACE();
	rc_fn = pick_regcheck(&what);
	sh = (struct regcheck_shared *)shared_page();
	CHECK(!pipe2(report, O_NONBLOCK));
	sh->report_fd = report[1];
	pid = spawn(regcheck_child, sh);
	CHECK(wait_progress(&sh->progress, 0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	srand(1);
	for (; cycles < 1000; cycles++) {
		uint64_t seen = sh->progress;

		if (!regcheck_cycle(pid, cycles))
			break;
		/* the task runs between cycles, and is caught at random points */
		if (!wait_progress(&sh->progress, seen))
			break;
		usleep(rand() % 1500);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(cycles, 1000);
	usleep(50000);
	CHECK(read(report[0], msg, sizeof(msg) - 1) < 0);
	if (msg[0])
		printf("  the task noticed: %s\n", msg);
	CHECK(sh->thread_progress > 0);
	CHECK_EQ(kill(pid, 0), 0);
	printf("  %d infect/cure cycles in %.1f s, checking %s and 1 MiB of memory\n", cycles,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, what);
	reap(pid);
	close(report[0]);
	close(report[1]);
	munmap(sh, 4096);
}
#endif /* HAVE_REGCHECK */

UNIT_MAIN()
