/*
 * The parasite in real infected tasks (compel/parasite.c): a child sets up
 * known signal actions, itimers, sigaltstack, umask, prctl values and
 * memory, then sleeps in read(); the test infects it, loads the parasite,
 * checks every value the parasite reports, dumps 1000 pages from several
 * ranges through the pipe, unloads, cures and wakes the child, which checks
 * that all of its state, memory and registers survived and exits 0.  Once as
 * root, once as an unprivileged user.  Then tasks that die under the
 * parasite.
 *
 * Needs real ptrace: under qemu-user those tests say why they skip.  The
 * GET_TASK_STATE command (with its per-arch thread pointer hook) is also
 * run in-process, which works everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>

#include "blob.h"
#include "compel.h"
#include "log.h"
#include "parasite-blob.h"
#include "compel-arch.h"
#include "parasite-ctl.h"
#include "unit.h"

#define LOG_NAME "parasite-test.log"
#define NOBODY 65534

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

/* ---- helpers (as in test-compel.c) -------------------------------------- */

#include "tracee.h"

/* The TracerPid of pid's main thread (0: none). */
static int tracer_of(pid_t pid)
{
	char path[64], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer;
}

static bool wait_sleeping(pid_t pid)
{
	usleep(20000);
	for (int i = 0; i < 2000; i++) {
		if (proc_state(pid) == 'S')
			return true;
		usleep(1000);
	}
	return false;
}

/* The exit status of pid, waiting at most timeout_ms; -1 on timeout. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int status;

	for (int i = 0; i < timeout_ms; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(1000);
	}
	return -1;
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n - (pid == getpid()); /* the DIR's own descriptor */
}

static bool maps_contain(pid_t pid, unsigned long addr)
{
	char path[64], line[512], want[32];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	snprintf(want, sizeof(want), "%lx-", addr);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, want, strlen(want));
	fclose(f);
	return found;
}

static void *shared_mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- known state ---------------------------------------------------------- */

static uint64_t pattern(int range, size_t page, size_t word)
{
	uint64_t x = ((uint64_t)range << 48) ^ ((uint64_t)page << 20) ^ word;

	x = (x + 1) * 0x9e3779b97f4a7c15ULL;
	return x ^ (x >> 29);
}

/* The bytes [off, off + len) of range r as the child fills it. */
static void expected_bytes(int r, size_t off, size_t len, unsigned char *out)
{
	size_t words = page_size() / 8;

	for (size_t at = off; at < off + len;) {
		size_t page = at / page_size(), in = at % page_size();
		size_t n = page_size() - in < off + len - at ? page_size() - in : off + len - at;
		uint64_t buf[words];

		for (size_t w = 0; w < words; w++)
			buf[w] = pattern(r, page, w);
		memcpy(out + (at - off), (unsigned char *)buf + in, n);
		at += n;
	}
}

static void handler_a(int sig)
{
	(void)sig;
}

static void handler_b(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

struct sig_setup {
	int sig;
	void *handler; /* or SIG_IGN */
	int flags;
	int masked[2]; /* 0: none */
};

static const struct sig_setup sig_setups[] = {
	{ SIGUSR1, (void *)handler_b, SA_SIGINFO | SA_RESTART, { SIGUSR2, 40 } },
	{ SIGUSR2, (void *)handler_a, SA_ONSTACK | SA_NODEFER, { SIGINT, 0 } },
	{ SIGHUP, (void *)handler_a, SA_RESETHAND, { 0, 0 } },
	{ SIGINT, (void *)SIG_IGN, 0, { 0, 0 } },
	{ 64, (void *)handler_b, SA_SIGINFO | SA_ONSTACK, { SIGQUIT, 63 } },
};
#define NR_SIG_SETUPS (int)(sizeof(sig_setups) / sizeof(sig_setups[0]))

/* Flag bits the test sets: the kernel and libc may add others (SA_RESTORER). */
#define KNOWN_SA_FLAGS (SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER | SA_RESETHAND)

static const struct itimerval itimer_setups[3] = {
	[ITIMER_REAL] = { { 7, 250000 }, { 1000, 500000 } },
	[ITIMER_VIRTUAL] = { { 3, 0 }, { 600, 0 } },
	[ITIMER_PROF] = { { 0, 125000 }, { 300, 0 } },
};

/* Lowered only: allowed to any user. */
static const struct {
	int res;
	struct rlimit rl;
} rlimit_setups[] = {
	{ RLIMIT_NOFILE, { 200, 300 } },
	{ RLIMIT_MSGQUEUE, { 4096, 8192 } },
	{ RLIMIT_CORE, { 0, 1 << 20 } },
};
#define NR_RLIMIT_SETUPS (int)(sizeof(rlimit_setups) / sizeof(rlimit_setups[0]))

#define NR_RANGES 4
/* 1000 pages; range 0 is bigger than the pipe on every page size */
static const size_t range_pages[NR_RANGES] = { 600, 300, 99, 1 };
#define ALTSTACK_SIZE (64 * 1024)

enum variant { AS_ROOT, AS_NOBODY };

/* What the child reports through shared memory. */
struct target_report {
	int ready;  /* set up and about to sleep in read() */
	int failed; /* a setup step or a check after the cure: its line */
	char why[120];
	uint64_t range_addr[NR_RANGES];
	uint64_t altstack;
	uint64_t none_page; /* PROT_NONE: unreadable for vmsplice too */
	uint64_t tls[2];
	uint64_t tid_address;
	int32_t dumpable, securebits, no_new_privs;
	uint32_t umask;
	int64_t personality, brk;
	struct parasite_rlimit rlim[PARASITE_NR_RLIMITS];
	struct parasite_ksigaction sa[PARASITE_NSIG]; /* its own rt_sigaction reading */
};

struct target_args {
	enum variant variant;
	struct target_report *rep;
	int poke[2];
};

static uint64_t thread_pointer(void)
{
#if defined(__powerpc64__)
	uint64_t r13;

	__asm__("mr %0, 13" : "=r"(r13));
	return r13;
#else
	return (uint64_t)(uintptr_t)__builtin_thread_pointer();
#endif
}

/* The second word of the parasite's tls[]: x86_64's gs base. */
static uint64_t second_tls_word(void)
{
#if defined(__x86_64__)
	unsigned long gs = 0;

	syscall(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &gs);
	return gs;
#else
	return 0;
#endif
}

static int raw_sigaction(int sig, struct parasite_ksigaction *k)
{
	return (int)syscall(SYS_rt_sigaction, sig, NULL, k, 8);
}

#define CHILD_FAIL(rep, ...)                                                  \
	do {                                                                  \
		(rep)->failed = __LINE__;                                     \
		snprintf((rep)->why, sizeof((rep)->why), __VA_ARGS__);        \
		_exit(2);                                                     \
	} while (0)

static void child_set_identity(struct target_args *t)
{
	struct target_report *rep = t->rep;

	if (t->variant == AS_NOBODY) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			CHILD_FAIL(rep, "can't become %d: %s", NOBODY, strerror(errno));
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			CHILD_FAIL(rep, "no_new_privs: %s", strerror(errno));
	} else if (prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS)) {
		CHILD_FAIL(rep, "securebits: %s", strerror(errno));
	}
	/* after the credentials: changing them clears the pdeath signal */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || prctl(PR_SET_CHILD_SUBREAPER, 1))
		CHILD_FAIL(rep, "prctl: %s", strerror(errno));
	if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0)
		CHILD_FAIL(rep, "personality: %s", strerror(errno));
	for (int i = 0; i < NR_RLIMIT_SETUPS; i++)
		if (setrlimit(rlimit_setups[i].res, &rlimit_setups[i].rl))
			CHILD_FAIL(rep, "setrlimit(%d): %s", rlimit_setups[i].res, strerror(errno));
	umask(t->variant == AS_ROOT ? 027 : 062);
}

static void child_set_signals(struct target_report *rep)
{
	for (int i = 0; i < NR_SIG_SETUPS; i++) {
		const struct sig_setup *s = &sig_setups[i];
		struct sigaction sa = { .sa_flags = s->flags };

		sa.sa_handler = (void (*)(int))s->handler;
		sigemptyset(&sa.sa_mask);
		for (int j = 0; j < 2; j++)
			if (s->masked[j])
				sigaddset(&sa.sa_mask, s->masked[j]);
		if (sigaction(s->sig, &sa, NULL))
			CHILD_FAIL(rep, "sigaction(%d): %s", s->sig, strerror(errno));
	}
	for (int i = 0; i < 3; i++)
		if (setitimer(i, &itimer_setups[i], NULL))
			CHILD_FAIL(rep, "setitimer(%d): %s", i, strerror(errno));
}

static void child_set_memory(struct target_report *rep)
{
	size_t words = page_size() / 8;
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	void *m;

	for (int r = 0; r < NR_RANGES; r++) {
		size_t len = range_pages[r] * page_size();
		uint64_t *words_at;

		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			CHILD_FAIL(rep, "mmap: %s", strerror(errno));
		words_at = m;
		for (size_t p = 0; p < range_pages[r]; p++)
			for (size_t w = 0; w < words; w++)
				words_at[p * words + w] = pattern(r, p, w);
		if (r == 1 && mprotect(m, len, PROT_READ)) /* vmsplice only reads */
			CHILD_FAIL(rep, "mprotect: %s", strerror(errno));
		rep->range_addr[r] = (uintptr_t)m;
	}
	m = mmap(NULL, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		CHILD_FAIL(rep, "mmap: %s", strerror(errno));
	rep->none_page = (uintptr_t)m;
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		CHILD_FAIL(rep, "sigaltstack: %s", strerror(errno));
	rep->altstack = (uintptr_t)ss.ss_sp;
#if defined(__x86_64__)
	/* a gs base of its own, so that both words of tls[] say something */
	if (syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, 0x5a5a0000UL))
		CHILD_FAIL(rep, "arch_prctl: %s", strerror(errno));
#endif
}

/* What the child reads about itself, before and after. */
static void child_read_self(struct target_report *rep)
{
	unsigned long tid_addr = 0;

	rep->tls[0] = thread_pointer();
	rep->tls[1] = second_tls_word();
	if (prctl(PR_GET_TID_ADDRESS, &tid_addr, 0, 0, 0))
		tid_addr = 0;
	rep->tid_address = tid_addr;
	rep->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	rep->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	rep->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	rep->umask = umask(0);
	umask(rep->umask);
	rep->personality = syscall(SYS_personality, 0xffffffffUL);
	rep->brk = syscall(SYS_brk, 0);
	for (int i = 0; i < PARASITE_NR_RLIMITS; i++)
		syscall(SYS_prlimit64, 0, i, NULL, &rep->rlim[i]);
	for (int sig = 1; sig <= PARASITE_NSIG; sig++)
		raw_sigaction(sig, &rep->sa[sig - 1]);
}

/*
 * Sleeps in read() with values held in registers across it; returns
 * whether they came back intact.
 */
static __attribute__((noinline)) bool sleep_in_read(int fd, char *c)
{
	uint64_t r0 = 0x0123456789abcdefULL, r1 = 0xfedcba9876543210ULL,
		 r2 = 0x5555aaaa5555aaaaULL, r3 = 0x1111222233334444ULL,
		 r4 = 0x7777888899990000ULL, r5 = 0xdeadbeefcafef00dULL;
	ssize_t n;

	__asm__ volatile("" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5));
	n = read(fd, c, 1);
	__asm__ volatile("" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5));
	return n == 1 && r0 == 0x0123456789abcdefULL && r1 == 0xfedcba9876543210ULL &&
	       r2 == 0x5555aaaa5555aaaaULL && r3 == 0x1111222233334444ULL &&
	       r4 == 0x7777888899990000ULL && r5 == 0xdeadbeefcafef00dULL;
}

static void child_check_after(struct target_args *t, const sigset_t *mask)
{
	struct target_report *rep = t->rep, now;
	size_t words = page_size() / 8;
	struct itimerval it;
	stack_t ss;
	sigset_t cur;
	int v;

	for (int r = 0; r < NR_RANGES; r++) {
		const uint64_t *m = (const uint64_t *)(uintptr_t)rep->range_addr[r];

		for (size_t p = 0; p < range_pages[r]; p++)
			for (size_t w = 0; w < words; w++)
				if (m[p * words + w] != pattern(r, p, w))
					CHILD_FAIL(rep, "range %d page %zu changed", r, p);
	}
	memset(&now, 0, sizeof(now));
	child_read_self(&now);
	if (memcmp(now.sa, rep->sa, sizeof(now.sa)))
		CHILD_FAIL(rep, "signal actions changed");
	if (now.tls[0] != rep->tls[0] || now.tls[1] != rep->tls[1])
		CHILD_FAIL(rep, "thread pointer changed");
	if (now.umask != rep->umask || now.dumpable != rep->dumpable ||
	    now.securebits != rep->securebits || now.no_new_privs != rep->no_new_privs ||
	    now.tid_address != rep->tid_address)
		CHILD_FAIL(rep, "umask or prctl values changed");
	if (prctl(PR_GET_PDEATHSIG, &v) || v != SIGTERM ||
	    prctl(PR_GET_CHILD_SUBREAPER, &v) || v != 1)
		CHILD_FAIL(rep, "pdeath signal or subreaper changed");
	if (sigaltstack(NULL, &ss) || (uintptr_t)ss.ss_sp != rep->altstack ||
	    ss.ss_size != ALTSTACK_SIZE || ss.ss_flags)
		CHILD_FAIL(rep, "sigaltstack changed");
	for (int i = 0; i < 3; i++)
		if (getitimer(i, &it) ||
		    it.it_interval.tv_sec != itimer_setups[i].it_interval.tv_sec ||
		    it.it_interval.tv_usec != itimer_setups[i].it_interval.tv_usec ||
		    it.it_value.tv_sec == 0)
			CHILD_FAIL(rep, "itimer %d changed", i);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	for (int sig = 1; sig < 65; sig++)
		if (sigismember(&cur, sig) != sigismember(mask, sig))
			CHILD_FAIL(rep, "signal mask changed (signal %d)", sig);
}

static void target_child(void *arg)
{
	struct target_args *t = arg;
	struct target_report *rep = t->rep;
	sigset_t mask;
	char c = 0;

	close(t->poke[1]);
	child_set_identity(t);
	child_set_signals(rep);
	child_set_memory(rep);
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, 50);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	child_read_self(rep);
	__atomic_store_n(&rep->ready, 1, __ATOMIC_RELEASE);
	if (!sleep_in_read(t->poke[0], &c))
		CHILD_FAIL(rep, "read() or the registers held across it went wrong");
	if (c != 'x')
		CHILD_FAIL(rep, "read %d, not 'x'", c);
	child_check_after(t, &mask);
	_exit(0);
}

/* ---- checks of what the parasite reports ---------------------------------- */

static void check_sigactions(struct parasite_ctl *ctl, const struct target_report *rep)
{
	struct parasite_ksigaction sa[PARASITE_NSIG];

	memset(sa, 0xa5, sizeof(sa));
	CHECK_EQ(parasite_get_sigactions(ctl, sa), 0);
	for (int i = 0; i < NR_SIG_SETUPS; i++) {
		const struct sig_setup *s = &sig_setups[i];
		const struct parasite_ksigaction *k = &sa[s->sig - 1];
		uint64_t mask = 0;

		for (int j = 0; j < 2; j++)
			if (s->masked[j])
				mask |= 1ULL << (s->masked[j] - 1);
		CHECK_EQ(k->handler, (uintptr_t)s->handler);
		CHECK_EQ(k->flags & (uint32_t)KNOWN_SA_FLAGS, (uint32_t)s->flags);
		CHECK_EQ(k->mask, mask);
	}
	CHECK_EQ(sa[SIGCHLD - 1].handler, (uintptr_t)SIG_DFL);
	/* and all 64 exactly as the task itself reads them */
	CHECK(!memcmp(sa, rep->sa, sizeof(sa)));
}

static void check_itimers(struct parasite_ctl *ctl)
{
	struct parasite_itimerval it[3];

	memset(it, 0xa5, sizeof(it));
	CHECK_EQ(parasite_get_itimers(ctl, it), 0);
	for (int i = 0; i < 3; i++) {
		const struct itimerval *want = &itimer_setups[i];

		CHECK_EQ(it[i].interval.sec, want->it_interval.tv_sec);
		CHECK_EQ(it[i].interval.usec, want->it_interval.tv_usec);
		/* counting down since the child set it: by seconds at most */
		CHECK(it[i].value.sec <= want->it_value.tv_sec &&
		      it[i].value.sec >= want->it_value.tv_sec - 60);
		CHECK(it[i].value.usec >= 0 && it[i].value.usec < 1000000);
	}
}

static void check_task_state(struct parasite_ctl *ctl, const struct target_report *rep,
			     enum variant v)
{
	struct parasite_task_state st;

	memset(&st, 0xa5, sizeof(st));
	CHECK_EQ(parasite_get_task_state(ctl, &st), 0);
	CHECK_EQ(st.failed_step, PARASITE_TS_OK);
	CHECK_EQ(st.altstack.sp, rep->altstack);
	CHECK_EQ(st.altstack.size, ALTSTACK_SIZE);
	CHECK_EQ(st.altstack.flags, 0);
	CHECK_EQ(st.umask, v == AS_ROOT ? 027 : 062);
	CHECK_EQ(st.umask, rep->umask);
	CHECK_EQ(st.pdeath_sig, SIGTERM);
	CHECK_EQ(st.child_subreaper, 1);
	CHECK_EQ(st.securebits, v == AS_ROOT ? SECBIT_KEEP_CAPS : 0);
	CHECK_EQ(st.securebits, rep->securebits);
	CHECK_EQ(st.no_new_privs, v == AS_NOBODY);
	CHECK_EQ(st.dumpable, rep->dumpable);
	if (v == AS_ROOT)
		CHECK_EQ(st.dumpable, 1);
	CHECK_EQ(st.tid_address, rep->tid_address);
	CHECK(st.tls[0] != 0);
	CHECK_EQ(st.tls[0], rep->tls[0]);
	CHECK_EQ(st.tls[1], rep->tls[1]);
#if defined(__x86_64__)
	CHECK_EQ(st.tls[1], 0x5a5a0000UL);
#endif
}

static void check_misc_itimers(const struct parasite_misc *m)
{
	for (int i = 0; i < 3; i++) {
		const struct itimerval *want = &itimer_setups[i];

		CHECK_EQ(m->it_ret[i], 0);
		CHECK_EQ(m->it[i].interval.sec, want->it_interval.tv_sec);
		CHECK_EQ(m->it[i].interval.usec, want->it_interval.tv_usec);
		CHECK(m->it[i].value.sec <= want->it_value.tv_sec &&
		      m->it[i].value.sec >= want->it_value.tv_sec - 60);
	}
}

/*
 * GET_MISC: every value as the task reads it itself; then the injected
 * syscalls' answer (the fallback without a parasite) is the same struct,
 * byte for byte, but for the itimers, which count down meanwhile.
 */
static void check_misc(struct infect_ctx *ictx, struct parasite_ctl *ctl,
		       const struct target_report *rep, enum variant v)
{
	struct parasite_misc m, inj;

	memset(&m, 0xa5, sizeof(m));
	CHECK_EQ(parasite_get_misc(ctl, &m), 0);
	CHECK(!memcmp(m.sa, rep->sa, sizeof(m.sa)));
	for (int sig = 1; sig <= PARASITE_NSIG; sig++)
		CHECK_EQ(m.sa_ret[sig - 1], 0);
	CHECK_EQ(m.sa[SIGUSR1 - 1].handler, (uintptr_t)handler_b);
	for (int i = 0; i < PARASITE_NR_RLIMITS; i++) {
		CHECK_EQ(m.rlim_ret[i], 0);
		CHECK_EQ(m.rlim[i].cur, rep->rlim[i].cur);
		CHECK_EQ(m.rlim[i].max, rep->rlim[i].max);
	}
	for (int i = 0; i < NR_RLIMIT_SETUPS; i++) {
		CHECK_EQ(m.rlim[rlimit_setups[i].res].cur, rlimit_setups[i].rl.rlim_cur);
		CHECK_EQ(m.rlim[rlimit_setups[i].res].max, rlimit_setups[i].rl.rlim_max);
	}
	check_misc_itimers(&m);
	CHECK_EQ(m.child_subreaper, 1);
	CHECK_EQ(m.child_subreaper_ret, 0);
	CHECK_EQ(m.securebits, v == AS_ROOT ? SECBIT_KEEP_CAPS : 0);
	CHECK_EQ(m.securebits, rep->securebits);
	CHECK_EQ(m.dumpable, rep->dumpable);
	CHECK_EQ(m.personality, PER_LINUX | ADDR_NO_RANDOMIZE);
	CHECK_EQ(m.personality, rep->personality);
	CHECK(m.brk > 0);
	CHECK_EQ(m.brk, rep->brk);
	CHECK_EQ(m.thread.altstack_ret, 0);
	CHECK_EQ(m.thread.altstack.sp, rep->altstack);
	CHECK_EQ(m.thread.altstack.size, ALTSTACK_SIZE);
	CHECK_EQ(m.thread.altstack.flags, 0);
	CHECK_EQ(m.thread.pdeath_sig, SIGTERM);
	CHECK_EQ(m.thread.pdeath_sig_ret, 0);
	CHECK_EQ(m.thread.tid_address, rep->tid_address);

	memset(&inj, 0x5a, sizeof(inj));
	CHECK_EQ(inject_get_misc(ictx, &inj), 0);
	check_misc_itimers(&inj);
	for (int i = 0; i < 3; i++)
		inj.it[i].value = m.it[i].value = (struct parasite_timeval){ 0, 0 };
	CHECK(!memcmp(&inj, &m, sizeof(m)));
}

/* A piece of a range: what to dump and what to expect for it. */
struct piece {
	int range;
	size_t off, len;
};

static bool file_matches(int fd, const struct piece *pieces, int n)
{
	size_t total = 0, at = 0;
	unsigned char *want, *got;
	bool same;

	for (int i = 0; i < n; i++)
		total += pieces[i].len;
	want = malloc(total + 1);
	got = malloc(total + 1);
	for (int i = 0; i < n; i++) {
		expected_bytes(pieces[i].range, pieces[i].off, pieces[i].len, want + at);
		at += pieces[i].len;
	}
	/* one byte more than expected must not be there */
	same = pread(fd, got, total + 1, 0) == (ssize_t)total && !memcmp(want, got, total);
	free(want);
	free(got);
	return same;
}

static int temp_file(void)
{
	char name[] = "pages.XXXXXX";
	int fd = mkstemp(name);

	if (fd >= 0)
		unlink(name);
	return fd;
}

static void check_dump(struct parasite_ctl *ctl, const struct target_report *rep,
		       const struct piece *pieces, int n)
{
	struct iovec iov[16];
	int fd = temp_file();

	CHECK(fd >= 0 && n <= 16);
	for (int i = 0; i < n; i++) {
		uint64_t at = rep->range_addr[pieces[i].range] + pieces[i].off;

		iov[i].iov_base = (void *)(uintptr_t)at;
		iov[i].iov_len = pieces[i].len;
	}
	CHECK_EQ(parasite_dump_pages(ctl, iov, n, fd), 0);
	CHECK(file_matches(fd, pieces, n));
	close(fd);
}

static bool log_contains(const char *what)
{
	char buf[16384];
	int fd = open(LOG_NAME, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

/* A PROT_NONE page: -EFAULT, what came before it in the file, the range
 * named in the log, and the parasite still usable. */
static void check_unreadable(struct parasite_ctl *ctl, const struct target_report *rep)
{
	struct piece before = { 3, 0, page_size() };
	struct iovec iov[2] = {
		{ (void *)(uintptr_t)rep->range_addr[3], page_size() },
		{ (void *)(uintptr_t)rep->none_page, page_size() },
	};
	int fd = temp_file();

	CHECK_EQ(parasite_dump_pages(ctl, iov, 2, fd), -EFAULT);
	CHECK(file_matches(fd, &before, 1));
	CHECK(log_contains("(range 1 of 2)"));
	CHECK(!ctl->broken);
	close(fd);
}

static void check_dumps(struct parasite_ctl *ctl, const struct target_report *rep)
{
	size_t pg = page_size();
	/* the 1000 pages, not in address order; range 0 is bigger than the pipe */
	struct piece all[NR_RANGES] = {
		{ 1, 0, range_pages[1] * pg },
		{ 0, 0, range_pages[0] * pg },
		{ 3, 0, range_pages[3] * pg },
		{ 2, 0, range_pages[2] * pg },
	};
	/* unaligned pieces, an empty one, a piece across many pages */
	struct piece odd[] = {
		{ 2, 100, 5000 }, { 0, 0, 0 }, { 3, pg - 1, 1 },
		{ 0, 3 * pg + 7, 40 * pg }, { 1, 9, 3 },
	};
	uint64_t rounds = ctl->nr_rounds;

	check_dump(ctl, rep, all, NR_RANGES);
	CHECK(ctl->pipe_size_got > 2 * pg);
	CHECK(range_pages[0] * pg > ctl->pipe_size_got);
	CHECK(ctl->nr_rounds - rounds > 1);
	/* a pipe of two pages: every round ends with a full pipe */
	parasite_set_pipe_size(ctl, 2 * pg);
	rounds = ctl->nr_rounds;
	check_dump(ctl, rep, all, NR_RANGES);
	CHECK_EQ(ctl->pipe_size_got, 2 * pg);
	CHECK(ctl->nr_rounds - rounds >= 500);
	check_dump(ctl, rep, odd, (int)(sizeof(odd) / sizeof(odd[0])));
	parasite_set_pipe_size(ctl, PARASITE_PIPE_SIZE);
	check_unreadable(ctl, rep);
}

static bool wait_ready(struct target_report *rep, pid_t pid)
{
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&rep->ready, __ATOMIC_ACQUIRE))
			return true;
		if (rep->failed || waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	printf("  the child did not get ready: line %d: %s\n", rep->failed, rep->why);
	return false;
}

static void run_target(enum variant v)
{
	struct target_args t = { .variant = v };
	struct infect_ctx *ictx = NULL;
	struct parasite_ctl *ctl = NULL;
	unsigned long area = 0;
	int fds_before, status;
	pid_t pid;

	t.rep = shared_mem(sizeof(*t.rep));
	CHECK(t.rep && !pipe(t.poke));
	pid = spawn(target_child, &t);
	close(t.poke[0]);
	if (!wait_ready(t.rep, pid) || !wait_sleeping(pid)) {
		CHECK(!"child ready");
		goto out;
	}
	fds_before = count_fds(pid);
	CHECK_EQ(compel_infect(pid, 0, &ictx), 0);
	if (!ictx)
		goto out;
	CHECK_EQ(parasite_load(ictx, &ctl), 0);
	if (ctl) {
		area = ctl->remote;
		CHECK_EQ(ctl->task_pid, pid);
		check_misc(ictx, ctl, t.rep, v);
		check_sigactions(ctl, t.rep);
		check_itimers(ctl);
		check_task_state(ctl, t.rep, v);
		check_dumps(ctl, t.rep);
		/* commands still work after the pipe came and went */
		check_task_state(ctl, t.rep, v);
		/* the parasite holds one: the read end of its control pipe */
		CHECK_EQ(count_fds(pid), fds_before + 1);
		CHECK_EQ(parasite_unload(ctl), 0);
	}
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(!maps_contain(pid, area));
	CHECK_EQ(count_fds(pid), fds_before);
	CHECK_EQ(write(t.poke[1], "x", 1), 1);
	status = wait_exit(pid, 10000);
	CHECK(status != -1 && WIFEXITED(status));
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status))
		printf("  the child noticed (line %d): %s\n", t.rep->failed, t.rep->why);
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (status != -1)
		pid = 0;
out:
	reap(pid);
	close(t.poke[1]);
	munmap(t.rep, sizeof(*t.rep));
}

TEST(parasite_in_a_root_task)
{
	NEED_PTRACE();
	run_target(AS_ROOT);
}

/* pidfd_getfd and the pipe work for a task of another user. */
TEST(parasite_in_an_unprivileged_task)
{
	NEED_PTRACE();
	run_target(AS_NOBODY);
}

/*
 * criu dies with the parasite loaded (parasite_orphan() closes criu's end
 * of the control pipe): the parasite cures itself.  The task then sleeps
 * in its read() again (the interrupted syscall restarted, the registers
 * held across it intact), with its own mask, sigaltstack and descriptors;
 * only the area stays mapped.  Each of the parasite's states: just loaded,
 * after pages went through its pipe (the daemon stopped, parked), and with
 * the daemon running.
 */
static void run_orphaned(int after)
{
	struct target_args t = { .variant = AS_ROOT };
	struct infect_ctx *ictx = NULL;
	struct parasite_ctl *ctl = NULL;
	struct parasite_misc m;
	struct sigaction old_pipe;
	unsigned long area = 0;
	int fds_before, status, i;
	pid_t pid;

	t.rep = shared_mem(sizeof(*t.rep));
	CHECK(t.rep && !pipe(t.poke));
	pid = spawn(target_child, &t);
	close(t.poke[0]);
	if (!wait_ready(t.rep, pid) || !wait_sleeping(pid)) {
		CHECK(!"child ready");
		goto out;
	}
	fds_before = count_fds(pid);
	CHECK_EQ(compel_infect(pid, 0, &ictx), 0);
	if (!ictx)
		goto out;
	/* every architecture has its frame builder (arch/<arch>/infect.c) */
	if (!compel_arch_sigframe_size(ictx->orig_regs)) {
		CHECK(!"a self-cure frame on this architecture");
		compel_cure(ictx, COMPEL_LEAVE_AS_FOUND);
		goto poke;
	}
	CHECK_EQ(parasite_load(ictx, &ctl), 0);
	if (!ctl) {
		compel_cure(ictx, COMPEL_LEAVE_AS_FOUND);
		goto poke;
	}
	area = ctl->remote;
	CHECK(ctl->area->frame_sp != 0); /* the frame was built */
	/* the exit chain: every arch's vDSO has its g1, and g2 there or in libc */
	CHECK(ctl->area->exit_g1 != 0 && ctl->area->exit_g2 != 0 && ctl->area->frame_dst != 0);
	if (after >= 1)
		CHECK_EQ(parasite_get_misc(ctl, &m), 0);
	if (after >= 2) {
		int out = temp_file();
		struct iovec iov = { (void *)(uintptr_t)t.rep->range_addr[0], page_size() };

		CHECK_EQ(parasite_dump_pages(ctl, &iov, 1, out), 0);
		close(out);
	}
	CHECK_EQ(parasite_orphan(ctl), 0);
	for (i = 0; i < 2000 && count_fds(pid) != fds_before; i++)
		usleep(1000);
	CHECK_EQ(count_fds(pid), fds_before);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(wait_sleeping(pid));
	CHECK_EQ(tracer_of(pid), 0);
	/* a killed criu leaves nothing: the cure unmapped the area too */
	for (i = 0; i < 2000 && maps_contain(pid, area); i++)
		usleep(1000);
	CHECK(!maps_contain(pid, area));
poke:
	/* a child that died (a bad frame) fails the checks, not the runner */
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &old_pipe);
	CHECK_EQ(write(t.poke[1], "x", 1), 1);
	sigaction(SIGPIPE, &old_pipe, NULL);
	status = wait_exit(pid, 10000);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status))
		printf("  the child noticed (line %d): %s\n", t.rep->failed, t.rep->why);
	if (status != -1 && WIFSIGNALED(status))
		printf("  the child died of signal %d\n", WTERMSIG(status));
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (status != -1)
		pid = 0;
out:
	reap(pid);
	close(t.poke[1]);
	munmap(t.rep, sizeof(*t.rep));
}

TEST(parasite_cures_itself_when_criu_dies)
{
	NEED_PTRACE();
	for (int after = 0; after < 3; after++)
		run_orphaned(after);
}

/*
 * The same in the other state a thread is seized in: running its own code,
 * not in a syscall, with every vector register live (x86_64 xmm0-15;
 * aarch64 v0-v31, or z0-z31 with SVE, also at a vector length whose record
 * does not fit in the frame's 4 KiB area; ppc64le vs0-vs63, i.e. the FPRs,
 * VMX and VSX; s390x v0-v31, or f0-f15 without the vector facility).  The
 * child loads known values into them, spins on a flag in memory, then
 * stores them back and compares: the frame must have brought back all of
 * them, not just the general registers.
 */
#define VEC_MAX_BYTES (64 * 256) /* up to 64 registers of up to 256 bytes */

enum vec_kind { VEC_BASE, VEC_SVE, VEC_SVE_BIG };

struct vec_child {
	int ready, go, kind;
	int vl;		/* aarch64 SVE: the vector length in use */
	int failed;	/* the first byte that differed, + 1 */
	unsigned char in[VEC_MAX_BYTES], out[VEC_MAX_BYTES];
};

/* The bytes vec_spin() loads and stores for kind: 0 when unsupported. */
static size_t vec_bytes(enum vec_kind kind, int vl)
{
#if defined(__x86_64__)
	return kind == VEC_BASE ? 16 * 16 : 0;
#elif defined(__aarch64__)
	return kind == VEC_BASE ? 32 * 16 : (size_t)32 * vl;
#elif defined(__powerpc64__)
	return kind == VEC_BASE ? 64 * 16 : 0;
#elif defined(__s390x__)
	if (kind != VEC_BASE)
		return 0;
	return getauxval(AT_HWCAP) & HWCAP_S390_VX ? 32 * 16 : 16 * 8;
#else
	return 0;
#endif
}

#define VEC_IRP16 "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"
#define VEC_IRP32 VEC_IRP16 ",16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"
#define VEC_IRP64                                                             \
	VEC_IRP32 ",32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51," \
		  "52,53,54,55,56,57,58,59,60,61,62,63"

/* Loads the registers from in, says ready, spins until go, stores them. */
static __attribute__((noinline)) void vec_spin(struct vec_child *c)
{
	unsigned char *in = c->in, *out = c->out;
	int *ready = &c->ready, *go = &c->go;
	long t;

#if defined(__x86_64__)
	__asm__ volatile(".irp n," VEC_IRP16 "\n movdqu (%[in]), %%xmm\\n\n add $16, %[in]\n .endr\n"
			 " movl $1, (%[ready])\n"
			 "1: pause\n movl (%[go]), %k[t]\n test %k[t], %k[t]\n jz 1b\n"
			 ".irp n," VEC_IRP16 "\n movdqu %%xmm\\n, (%[out])\n add $16, %[out]\n .endr\n"
			 : [in] "+r"(in), [out] "+r"(out), [t] "=&r"(t)
			 : [ready] "r"(ready), [go] "r"(go)
			 : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
			   "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
			   "xmm15");
#elif defined(__aarch64__)
#define VEC_A64_CLOBBERS                                                              \
	"memory", "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10",  \
		"v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", \
		"v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31"
	if (c->kind == VEC_BASE)
		__asm__ volatile(".irp n," VEC_IRP32 "\n ld1 {v\\n\\().16b}, [%[in]], #16\n .endr\n"
				 " mov %w[t], #1\n str %w[t], [%[ready]]\n"
				 "1: ldr %w[t], [%[go]]\n cbz %w[t], 1b\n"
				 ".irp n," VEC_IRP32 "\n st1 {v\\n\\().16b}, [%[out]], #16\n .endr\n"
				 : [in] "+r"(in), [out] "+r"(out), [t] "=&r"(t)
				 : [ready] "r"(ready), [go] "r"(go)
				 : VEC_A64_CLOBBERS);
	else
		__asm__ volatile(".arch_extension sve\n ptrue p0.b\n"
				 ".irp n," VEC_IRP32 "\n ld1b {z\\n\\().b}, p0/z, [%[in]]\n"
				 " addvl %[in], %[in], #1\n .endr\n"
				 " mov %w[t], #1\n str %w[t], [%[ready]]\n"
				 "1: ldr %w[t], [%[go]]\n cbz %w[t], 1b\n"
				 ".irp n," VEC_IRP32 "\n st1b {z\\n\\().b}, p0, [%[out]]\n"
				 " addvl %[out], %[out], #1\n .endr\n"
				 : [in] "+r"(in), [out] "+r"(out), [t] "=&r"(t)
				 : [ready] "r"(ready), [go] "r"(go)
				 : VEC_A64_CLOBBERS, "p0");
#elif defined(__powerpc64__)
	__asm__ volatile(".irp n," VEC_IRP64 "\n lxvd2x \\n, 0, %[in]\n addi %[in], %[in], 16\n .endr\n"
			 " li %[t], 1\n stw %[t], 0(%[ready])\n"
			 "1: lwz %[t], 0(%[go])\n cmpwi %[t], 0\n beq 1b\n"
			 ".irp n," VEC_IRP64 "\n stxvd2x \\n, 0, %[out]\n addi %[out], %[out], 16\n .endr\n"
			 : [in] "+b"(in), [out] "+b"(out), [t] "=&r"(t)
			 : [ready] "b"(ready), [go] "b"(go)
			 : "memory", "cr0", "vs0", "vs1", "vs2", "vs3", "vs4", "vs5", "vs6", "vs7",
			   "vs8", "vs9", "vs10", "vs11", "vs12", "vs13", "vs14", "vs15", "vs16",
			   "vs17", "vs18", "vs19", "vs20", "vs21", "vs22", "vs23", "vs24", "vs25",
			   "vs26", "vs27", "vs28", "vs29", "vs30", "vs31", "vs32", "vs33", "vs34",
			   "vs35", "vs36", "vs37", "vs38", "vs39", "vs40", "vs41", "vs42", "vs43",
			   "vs44", "vs45", "vs46", "vs47", "vs48", "vs49", "vs50", "vs51", "vs52",
			   "vs53", "vs54", "vs55", "vs56", "vs57", "vs58", "vs59", "vs60", "vs61",
			   "vs62", "vs63");
#elif defined(__s390x__)
#define VEC_S390_CLOBBERS                                                              \
	"memory", "cc", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", \
		"f11", "f12", "f13", "f14", "f15"
	if (getauxval(AT_HWCAP) & HWCAP_S390_VX)
		__asm__ volatile(".machine push\n .machine z13\n"
				 ".irp n," VEC_IRP32 "\n vl %%v\\n, 0(%[in])\n la %[in], 16(%[in])\n .endr\n"
				 " mvhi 0(%[ready]), 1\n"
				 "1: l %[t], 0(%[go])\n ltr %[t], %[t]\n je 1b\n"
				 ".irp n," VEC_IRP32 "\n vst %%v\\n, 0(%[out])\n la %[out], 16(%[out])\n .endr\n"
				 ".machine pop\n"
				 : [in] "+a"(in), [out] "+a"(out), [t] "=&d"(t)
				 : [ready] "a"(ready), [go] "a"(go)
				 : VEC_S390_CLOBBERS, "v16", "v17", "v18", "v19", "v20", "v21",
				   "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30",
				   "v31");
	else
		__asm__ volatile(".irp n," VEC_IRP16 "\n ld %%f\\n, 0(%[in])\n la %[in], 8(%[in])\n .endr\n"
				 " mvhi 0(%[ready]), 1\n"
				 "1: l %[t], 0(%[go])\n ltr %[t], %[t]\n je 1b\n"
				 ".irp n," VEC_IRP16 "\n std %%f\\n, 0(%[out])\n la %[out], 8(%[out])\n .endr\n"
				 : [in] "+a"(in), [out] "+a"(out), [t] "=&d"(t)
				 : [ready] "a"(ready), [go] "a"(go)
				 : VEC_S390_CLOBBERS);
#endif
}

static void vec_child_main(void *arg)
{
	struct vec_child *c = arg;
	size_t n;

#if defined(__aarch64__)
	if (c->kind == VEC_SVE_BIG)
		prctl(50 /* PR_SVE_SET_VL */, 256, 0, 0, 0); /* the longest this CPU has */
	if (c->kind != VEC_BASE)
		c->vl = prctl(51 /* PR_SVE_GET_VL */, 0, 0, 0, 0) & 0xffff;
#endif
	n = vec_bytes(c->kind, c->vl);
	for (size_t i = 0; i < n; i++)
		c->in[i] = (unsigned char)(i * 7 + 1 + (i >> 8) * 13);
	vec_spin(c);
	for (size_t i = 0; i < n; i++)
		if (c->out[i] != c->in[i]) {
			c->failed = (int)i + 1;
			_exit(3);
		}
	_exit(0);
}

static void run_orphaned_vectors(enum vec_kind kind)
{
	struct vec_child *c = shared_mem(sizeof(*c));
	struct infect_ctx *ictx = NULL;
	struct parasite_ctl *ctl = NULL;
	unsigned long area = 0;
	int fds_before, status, i;
	pid_t pid;

	CHECK(c != NULL);
	if (!c)
		return;
	c->kind = kind;
	pid = spawn(vec_child_main, c);
	for (i = 0; i < 5000 && !__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	CHECK(c->ready);
	if (!c->ready)
		goto out;
	if (kind != VEC_BASE)
		printf("  note: SVE vector length %d bytes: its record %s the frame's area\n", c->vl,
		       c->vl * 34 + 16 <= 4096 - 528 - 16 ? "fits" : "does not fit");
	fds_before = count_fds(pid);
	CHECK_EQ(compel_infect(pid, 0, &ictx), 0);
	if (!ictx)
		goto out;
	CHECK_EQ(parasite_load(ictx, &ctl), 0);
	if (!ctl) {
		compel_cure(ictx, COMPEL_LEAVE_AS_FOUND);
		goto out;
	}
	CHECK(ctl->area->frame_sp != 0);
	CHECK(ctl->area->exit_g1 != 0 && ctl->area->frame_dst != 0);
	area = ctl->remote;
	CHECK_EQ(parasite_orphan(ctl), 0);
	for (i = 0; i < 2000 && count_fds(pid) != fds_before; i++)
		usleep(1000);
	CHECK_EQ(count_fds(pid), fds_before);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK_EQ(tracer_of(pid), 0);
	for (i = 0; i < 2000 && maps_contain(pid, area); i++)
		usleep(1000);
	CHECK(!maps_contain(pid, area)); /* unmapped by the exit chain */
	__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
	status = wait_exit(pid, 10000);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 3)
		printf("  a vector register came back changed (byte %d of %zu)\n", c->failed - 1,
		       vec_bytes(kind, c->vl));
	if (status != -1 && WIFSIGNALED(status))
		printf("  the child died of signal %d\n", WTERMSIG(status));
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (status != -1)
		pid = 0;
out:
	reap(pid);
	munmap(c, sizeof(*c));
}

TEST(parasite_cures_itself_in_user_code)
{
	NEED_PTRACE();
	run_orphaned_vectors(VEC_BASE);
#if defined(__aarch64__)
	if (!(getauxval(AT_HWCAP) & HWCAP_SVE)) {
		printf("  note: no SVE on this CPU: only v0-v31 are checked\n");
		return;
	}
	run_orphaned_vectors(VEC_SVE);
	run_orphaned_vectors(VEC_SVE_BIG);
#endif
}

/* ---- tasks that die under the parasite ------------------------------------ */

/* Touches len bytes of heap, says where, and sleeps. */
struct heap_child {
	size_t len;
	uint64_t addr;
};

static void heap_child(void *arg)
{
	struct heap_child *h = arg;
	char *m = malloc(h->len);

	for (size_t i = 0; m && i < h->len; i += 512)
		m[i] = (char)i;
	__atomic_store_n(&h->addr, (uintptr_t)m, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static void sleep_child(void *arg)
{
	for (;;)
		pause();
}

/* Infects pid and loads the parasite; NULL (and a failed check) if not. */
static struct parasite_ctl *load_into(pid_t pid, struct infect_ctx **ictx)
{
	struct parasite_ctl *ctl = NULL;

	*ictx = NULL;
	CHECK_EQ(compel_infect(pid, 0, ictx), 0);
	if (*ictx)
		CHECK_EQ(parasite_load(*ictx, &ctl), 0);
	if (*ictx && !ctl) {
		compel_cure(*ictx, COMPEL_LEAVE_AS_FOUND);
		*ictx = NULL;
	}
	return ctl;
}

static bool local_mapped(void *addr)
{
	return maps_contain(getpid(), (unsigned long)addr);
}

TEST(parasite_command_on_a_dead_task)
{
	struct parasite_itimerval it[3];
	struct parasite_ksigaction sa[PARASITE_NSIG];
	struct parasite_ctl *ctl;
	struct infect_ctx *ictx;
	struct iovec iov;
	int fds, out;
	void *local;
	pid_t pid;

	NEED_PTRACE();
	out = temp_file();
	fds = count_fds(getpid());
	pid = spawn(sleep_child, NULL);
	CHECK(wait_sleeping(pid));
	ctl = load_into(pid, &ictx);
	if (!ctl)
		goto out;
	local = ctl->local;
	CHECK(local_mapped(local));
	CHECK_EQ(parasite_get_sigactions(ctl, sa), 0);
	kill(pid, SIGKILL);
	CHECK_EQ(parasite_get_itimers(ctl, it), -ESRCH);
	CHECK(ictx->dead);
	/* and every later call fails at once */
	iov = (struct iovec){ ctl->local, 4096 };
	CHECK_EQ(parasite_dump_pages(ctl, &iov, 1, out), -ESRCH);
	CHECK(parasite_unload(ctl) != 0);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
	CHECK(!local_mapped(local));
	CHECK_EQ(count_fds(getpid()), fds);
	CHECK_EQ(lseek(out, 0, SEEK_END), 0);
out:
	reap(pid);
	close(out);
}

struct killer {
	pid_t pid;
	int after_us;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep(k->after_us);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* The task is killed while pages flow: an error, and nothing stays open. */
TEST(parasite_task_dies_during_dump_pages)
{
	struct heap_child *h;
	struct parasite_ctl *ctl;
	struct infect_ctx *ictx;
	struct killer k;
	struct iovec iov;
	pthread_t t;
	void *local;
	int fds, out, ret = 0, calls = 0;
	pid_t pid;

	NEED_PTRACE();
	out = temp_file();
	fds = count_fds(getpid());
	h = shared_mem(sizeof(*h));
	h->len = 64 << 20;
	pid = spawn(heap_child, h);
	for (int i = 0; i < 5000 && !__atomic_load_n(&h->addr, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	CHECK(h->addr != 0);
	CHECK(wait_sleeping(pid));
	ctl = load_into(pid, &ictx);
	if (!ctl)
		goto out;
	local = ctl->local;
	/* 64 MiB through a two-page pipe: thousands of rounds, killed inside */
	parasite_set_pipe_size(ctl, 2 * page_size());
	iov = (struct iovec){ (void *)(uintptr_t)h->addr, h->len };
	k = (struct killer){ pid, 10000 };
	CHECK_EQ(pthread_create(&t, NULL, kill_later, &k), 0);
	for (; calls < 1000 && !ret; calls++)
		ret = parasite_dump_pages(ctl, &iov, 1, out);
	pthread_join(t, NULL);
	CHECK(calls < 1000); /* killed inside one of them */
	CHECK(ret == -ESRCH || ret == -EFAULT || ret == -EIO);
	/*
	 * The death is seen by the command that failed (ESRCH, dead) or, when
	 * the parasite's vmsplice failed first (EFAULT, EIO: the dying task's
	 * memory going away), by the cure a moment later (ESRCH).
	 */
	CHECK(parasite_unload(ctl) != 0);
	ret = compel_cure(ictx, COMPEL_LEAVE_AS_FOUND);
	CHECK(ret == 0 || ret == -ESRCH);
	CHECK(!local_mapped(local));
	CHECK_EQ(count_fds(getpid()), fds);
out:
	reap(pid);
	close(out);
	munmap(h, sizeof(*h));
}

/* ---- per-thread state, POSIX timers, the fallback without a parasite ------ */

#define NR_THREADS 4

/* What each thread of threads_child says of itself. */
struct thread_self {
	int32_t tid;
	int32_t pdeath_sig;
	uint64_t altstack, altstack_size, tid_address;
};

struct threads_report {
	int ready; /* threads that filled their entry */
	struct thread_self t[NR_THREADS];
};

struct thread_arg {
	struct threads_report *rep;
	int i;
};

static void thread_set_up(struct threads_report *rep, int i)
{
	struct thread_self *me = &rep->t[i];
	stack_t ss = { .ss_size = 32768 + (size_t)i * 4096 };
	unsigned long tid_addr = 0;

	ss.ss_sp = malloc(ss.ss_size);
	sigaltstack(&ss, NULL);
	prctl(PR_SET_PDEATHSIG, SIGRTMIN + i);
	if (prctl(PR_GET_TID_ADDRESS, &tid_addr, 0, 0, 0))
		tid_addr = 0;
	me->tid = (int32_t)syscall(SYS_gettid);
	me->pdeath_sig = SIGRTMIN + i;
	me->altstack = (uintptr_t)ss.ss_sp;
	me->altstack_size = ss.ss_size;
	me->tid_address = tid_addr;
	__atomic_add_fetch(&rep->ready, 1, __ATOMIC_RELEASE);
}

static void *thread_main(void *arg)
{
	struct thread_arg *a = arg;

	thread_set_up(a->rep, a->i);
	for (;;)
		pause();
	return NULL;
}

static void threads_child(void *arg)
{
	static struct thread_arg args[NR_THREADS];
	struct threads_report *rep = arg;

	for (int i = 1; i < NR_THREADS; i++) {
		pthread_t t;

		args[i] = (struct thread_arg){ rep, i };
		if (pthread_create(&t, NULL, thread_main, &args[i]))
			_exit(2);
	}
	thread_set_up(rep, 0);
	for (;;)
		pause();
}

static void check_thread_misc(const struct parasite_thread_misc *tm, const struct thread_self *t)
{
	CHECK_EQ(tm->altstack_ret, 0);
	CHECK_EQ(tm->altstack.sp, t->altstack);
	CHECK_EQ(tm->altstack.size, t->altstack_size);
	CHECK_EQ(tm->pdeath_sig_ret, 0);
	CHECK_EQ(tm->pdeath_sig, t->pdeath_sig);
	CHECK_EQ(tm->tid_address, t->tid_address);
}

/*
 * GET_THREAD_MISC moves the parasite from thread to thread, each answering
 * for itself; the daemon then works in the last one, and the injected
 * syscalls work in any thread while the parasite stays mapped.
 */
TEST(parasite_thread_misc_in_every_thread)
{
	struct threads_report *rep = shared_mem(sizeof(*rep));
	struct parasite_thread_misc tm;
	struct parasite_itimerval it[3];
	struct parasite_misc m;
	struct parasite_ctl *ctl;
	struct infect_ctx *ictx;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(threads_child, rep);
	for (int i = 0; i < 5000 && __atomic_load_n(&rep->ready, __ATOMIC_ACQUIRE) < NR_THREADS;
	     i++)
		usleep(1000);
	CHECK_EQ(rep->ready, NR_THREADS);
	CHECK(wait_sleeping(pid));
	ctl = load_into(pid, &ictx);
	if (!ctl)
		goto out;
	CHECK_EQ(rep->t[0].tid, pid);
	CHECK_EQ(parasite_get_misc(ctl, &m), 0);
	check_thread_misc(&m.thread, &rep->t[0]);
	for (int i = 1; i < NR_THREADS; i++) {
		memset(&tm, 0xa5, sizeof(tm));
		CHECK_EQ(parasite_get_thread_misc(ctl, rep->t[i].tid, &tm), 0);
		/* a visit: the daemon stays in the leader, the area unchanged */
		CHECK_EQ(ictx->victim->tid, pid);
		CHECK_EQ(ctl->area->visitors, 0);
		check_thread_misc(&tm, &rep->t[i]);
	}
	CHECK_EQ(parasite_get_itimers(ctl, it), 0); /* the daemon, in the leader */
	CHECK_EQ(parasite_get_thread_misc(ctl, pid, &tm), 0);
	check_thread_misc(&tm, &rep->t[0]);
	/* not a thread of the task: an error, and the parasite goes on */
	CHECK_EQ(parasite_get_thread_misc(ctl, getpid(), &tm), -ESRCH);
	CHECK(!ctl->broken);
	CHECK_EQ(compel_unpark(ictx), 0); /* the daemon, stopped, let go */
	CHECK_EQ(compel_switch_victim(ictx, rep->t[2].tid), 0); /* with the area mapped */
	memset(&tm, 0xa5, sizeof(tm));
	CHECK_EQ(inject_get_thread_misc(ictx, &tm), 0);
	check_thread_misc(&tm, &rep->t[2]);
	CHECK_EQ(parasite_unload(ctl), 0);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
	/* back in pause(), untraced: a moment after the detach, not at once */
	CHECK(wait_sleeping(pid));
	CHECK(!tracer_of(pid));
out:
	reap(pid);
	munmap(rep, sizeof(*rep));
}

#define NR_TIMER_IDS 1000

struct timers_child {
	int ready;
	int32_t armed, idle;
};

static void timers_child(void *arg)
{
	struct timers_child *c = arg;
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec armed = { .it_interval = { 3, 500 }, .it_value = { 200, 0 } };
	timer_t a, b;

	if (timer_create(CLOCK_MONOTONIC, &sev, &a) || timer_create(CLOCK_REALTIME, &sev, &b) ||
	    timer_settime(a, 0, &armed, NULL))
		_exit(2);
	c->armed = (int32_t)(intptr_t)a;
	c->idle = (int32_t)(intptr_t)b;
	__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static void check_timers(const struct parasite_posix_timer *pt, int32_t idle)
{
	for (int i = 0; i < NR_TIMER_IDS; i++) {
		const struct parasite_posix_timer *t = &pt[i];

		if (i == 0 || i == NR_TIMER_IDS - 1) { /* the armed one */
			CHECK_EQ(t->gettime_ret, 0);
			CHECK_EQ(t->spec.interval_sec, 3);
			CHECK_EQ(t->spec.interval_nsec, 500);
			CHECK(t->spec.value_sec > 150 && t->spec.value_sec < 200);
			CHECK_EQ(t->overrun, 0);
		} else if (t->id == idle) {
			CHECK_EQ(t->gettime_ret, 0);
			CHECK_EQ(t->spec.interval_sec | t->spec.value_sec | t->spec.value_nsec, 0);
		} else { /* no such timer: the error, and nothing else */
			CHECK_EQ(t->gettime_ret, -EINVAL);
			CHECK_EQ(t->spec.value_sec | t->overrun, 0);
		}
	}
}

/* More timers than one command holds, some of them no timer at all. */
TEST(parasite_posix_timers_of_a_task)
{
	struct timers_child *c = shared_mem(sizeof(*c));
	struct parasite_posix_timer *pt = calloc(NR_TIMER_IDS, sizeof(*pt));
	struct parasite_ctl *ctl;
	struct infect_ctx *ictx;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(timers_child, c);
	for (int i = 0; i < 5000 && !__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	CHECK(c->ready && wait_sleeping(pid));
	ctl = load_into(pid, &ictx);
	if (!ctl)
		goto out;
	for (int i = 0; i < NR_TIMER_IDS; i++)
		pt[i].id = i == 0 || i == NR_TIMER_IDS - 1 ? c->armed : i == 1 ? c->idle : 1000 + i;
	CHECK(NR_TIMER_IDS * sizeof(*pt) > ctl->area->args_size); /* several commands */
	CHECK_EQ(parasite_get_posix_timers(ctl, pt, NR_TIMER_IDS), 0);
	check_timers(pt, c->idle);
	memset(pt, 0xa5, NR_TIMER_IDS * sizeof(*pt));
	for (int i = 0; i < NR_TIMER_IDS; i++)
		pt[i].id = i == 0 || i == NR_TIMER_IDS - 1 ? c->armed : i == 1 ? c->idle : 1000 + i;
	CHECK_EQ(inject_get_posix_timers(ictx, pt, NR_TIMER_IDS), 0);
	check_timers(pt, c->idle);
	CHECK_EQ(parasite_unload(ctl), 0);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
out:
	reap(pid);
	free(pt);
	munmap(c, sizeof(*c));
}

#define MDWE_SET 65	      /* PR_SET_MDWE, Linux 6.3 */
#define MDWE_REFUSE_EXEC_GAIN 1 /* PR_MDWE_REFUSE_EXEC_GAIN */

struct mdwe_child {
	int state; /* 1: set up; -1: no PR_SET_MDWE here */
};

static void mdwe_child(void *arg)
{
	struct mdwe_child *c = arg;
	struct sigaction sa = { .sa_handler = handler_a, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (prctl(MDWE_SET, MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)) {
		__atomic_store_n(&c->state, -1, __ATOMIC_RELEASE);
		_exit(0);
	}
	sigaction(SIGUSR2, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	__atomic_store_n(&c->state, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/*
 * A task that refuses writable and executable mappings takes no parasite:
 * what criu dump needs then comes from injected syscalls.
 */
TEST(no_parasite_in_a_task_that_refuses_wx)
{
	struct mdwe_child *c = shared_mem(sizeof(*c));
	struct parasite_ctl *ctl = NULL;
	struct infect_ctx *ictx = NULL;
	struct parasite_misc m;
	pid_t pid;

	NEED_PTRACE();
	pid = spawn(mdwe_child, c);
	for (int i = 0; i < 5000 && !__atomic_load_n(&c->state, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (c->state < 0) { /* not a skip: ptrace works, the kernel is older than 6.3 */
		printf("  note: no PR_SET_MDWE on this kernel: a task that takes no parasite "
		       "is not checked\n");
		goto out;
	}
	CHECK(c->state == 1 && wait_sleeping(pid));
	CHECK_EQ(compel_infect(pid, 0, &ictx), 0);
	if (!ictx)
		goto out;
	CHECK(parasite_load(ictx, &ctl) != 0);
	CHECK(ctl == NULL);
	CHECK_EQ(inject_get_misc(ictx, &m), 0);
	CHECK_EQ(m.sa[SIGUSR2 - 1].handler, (uintptr_t)handler_a);
	CHECK_EQ(m.sa_ret[SIGUSR2 - 1], 0);
	CHECK_EQ(m.thread.pdeath_sig, SIGTERM);
	CHECK_EQ(m.rlim_ret[RLIMIT_NOFILE], 0);
	CHECK(m.rlim[RLIMIT_NOFILE].cur > 0);
	CHECK(m.brk > 0);
	CHECK_EQ(compel_cure(ictx, COMPEL_LEAVE_AS_FOUND), 0);
out:
	reap(pid);
	munmap(c, sizeof(*c));
}

/* ---- GET_TASK_STATE in this very process: every architecture ------------- */

static void *load_blob_here(size_t *len)
{
	const struct blob_desc *d = &parasite_blob;
	size_t size = (blob_mem_size(d) + page_size() - 1) & ~(page_size() - 1);
	size_t code = (d->size + d->bss_size + page_size() - 1) & ~(page_size() - 1);
	void *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (area == MAP_FAILED)
		return NULL;
	if (blob_install(area, size, (unsigned long)area, d)) {
		munmap(area, size);
		return NULL;
	}
	__builtin___clear_cache((char *)area, (char *)area + d->size);
	mprotect(area, code, PROT_READ | PROT_EXEC);
	*len = size;
	return area;
}

TEST(parasite_task_state_in_process)
{
	enum { AREA = 1 << 14 };
	size_t len = 0;
	void *blob = load_blob_here(&len);
	struct parasite_area *a = aligned_alloc(64, AREA);
	struct parasite_task_state *st = (void *)a->args;
	long (*service)(struct parasite_area *);
	stack_t ss = { .ss_size = ALTSTACK_SIZE }, old_ss;
	unsigned long tid_addr = 0;
	int pdeath = 0, subreaper = 0;
	mode_t old_umask = umask(0234);

	CHECK(blob != NULL);
	if (!blob)
		return;
	memset(a, 0, AREA);
	a->magic = PARASITE_MAGIC;
	a->version = PARASITE_VERSION;
	a->flags = PARASITE_F_ONESHOT;
	a->cmd = PARASITE_CMD_GET_TASK_STATE;
	a->args_size = AREA - sizeof(*a);
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	CHECK_EQ(sigaltstack(&ss, &old_ss), 0);
	service = (void *)((char *)blob + PARASITE_BLOB_ENTRY_SERVICE);

	/* qemu-user answers EINVAL to PR_GET_CHILD_SUBREAPER, the last step */
	if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) && errno == EINVAL) {
		printf("  note: no PR_GET_CHILD_SUBREAPER (qemu-user?): the rest is checked\n");
		CHECK_EQ(service(a), -EINVAL);
		CHECK_EQ(st->failed_step, PARASITE_TS_SUBREAPER);
	} else {
		CHECK_EQ(service(a), 0);
		CHECK_EQ(st->failed_step, PARASITE_TS_OK);
		CHECK_EQ(st->child_subreaper, subreaper);
	}
	CHECK_EQ(st->altstack.sp, (uintptr_t)ss.ss_sp);
	CHECK_EQ(st->altstack.size, ALTSTACK_SIZE);
	CHECK_EQ(st->umask, 0234);
	CHECK_EQ(umask(0234), 0234); /* put back */
	prctl(PR_GET_PDEATHSIG, &pdeath);
	CHECK_EQ(st->pdeath_sig, pdeath);
	CHECK_EQ(st->securebits, prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	CHECK_EQ(st->no_new_privs, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	CHECK_EQ(st->dumpable, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	if (prctl(PR_GET_TID_ADDRESS, &tid_addr, 0, 0, 0))
		tid_addr = 0;
	CHECK_EQ(st->tid_address, tid_addr);
	CHECK(st->tls[0] != 0);
	CHECK_EQ(st->tls[0], thread_pointer());
	CHECK_EQ(st->tls[1], second_tls_word());

	a->args_size = sizeof(*st) - 1;
	CHECK_EQ(service(a), -E2BIG);
	sigaltstack(&old_ss, NULL);
	umask(old_umask);
	free(ss.ss_sp);
	free(a);
	munmap(blob, len);
}

UNIT_MAIN()
