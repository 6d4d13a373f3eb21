/* The protocol and helpers shared by the e2e test programs (see lib.h). */
#include "lib.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

const char *test_name = "test";
volatile int test_stop;

static const char *pidfile, *outfile;
static int self_test_break;
static pid_t recorded_pid, recorded_tid;
static int in_child;
/* the write end of the pipe test_fork() waits on, in a child; else -1 */
static int ready_wfd = -1;
/* futex word the threads sleep on in thread_wait() */
static int threads_stop;

static char failures[1536];
static int nr_failures;
static int failures_lock;

pid_t test_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

unsigned long test_thread_pointer(void)
{
	unsigned long tp;
#if defined(__x86_64__)
	asm volatile("mov %%fs:0, %0" : "=r"(tp)); /* the TCB points to itself */
#elif defined(__aarch64__)
	asm volatile("mrs %0, tpidr_el0" : "=r"(tp));
#elif defined(__powerpc64__)
	asm volatile("mr %0, 13" : "=r"(tp));
#elif defined(__s390x__)
	unsigned int hi, lo;
	asm volatile("ear %0, %%a0" : "=d"(hi));
	asm volatile("ear %0, %%a1" : "=d"(lo));
	tp = (unsigned long)hi << 32 | lo;
#else
#error "no thread pointer for this architecture"
#endif
	return tp;
}

/* One line to stderr (the runner's log), without stdio buffers. */
static void say(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "%s[%d]: ", test_name, (int)getpid());

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0) {
		/* nowhere left to say it */
	}
}

int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = buf;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= n;
	}
	return close(fd);
}

/* Writes path.tmp and renames it, so readers never see half a file. */
static int write_atomically(const char *path, const char *text)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (write_file(tmp, text, strlen(text)) < 0)
		return -1;
	return rename(tmp, path);
}

static void write_verdict(const char *verdict)
{
	say("%s", verdict);
	if (!outfile)
		return;
	char text[2048];
	snprintf(text, sizeof(text), "%s\n", verdict);
	if (write_atomically(outfile, text) < 0)
		say("cannot write %s: %s", outfile, strerror(errno));
}

void fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("differs: %s", msg);

	while (__atomic_exchange_n(&failures_lock, 1, __ATOMIC_ACQUIRE))
		;
	size_t len = strlen(failures);
	if (nr_failures < 8 && len + 3 < sizeof(failures))
		snprintf(failures + len, sizeof(failures) - len, "%s%s", nr_failures ? "; " : "", msg);
	nr_failures++;
	__atomic_store_n(&failures_lock, 0, __ATOMIC_RELEASE);
}

int test_failed(void)
{
	return nr_failures != 0;
}

void setup_fail(const char *fmt, ...)
{
	char msg[512], verdict[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (in_child) {
		say("setup failed: %s", msg);
		_exit(2);
	}
	snprintf(verdict, sizeof(verdict), "FAIL: setup: %s", msg);
	write_verdict(verdict);
	exit(1);
}

static void on_sigterm(int sig)
{
	test_stop = 1;
}

static void describe(void)
{
	const char *why = test_desc.skip ? test_desc.skip() : NULL;

	printf("doc: %s\n", test_desc.doc);
	printf("needs-root: %s\n", (test_desc.flags & TEST_NEEDS_ROOT) ? "yes" : "no");
	if (why)
		printf("skip: %s\n", why);
	if (test_desc.criu_opts)
		printf("criu-opts: %s\n", test_desc.criu_opts);
	exit(0);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: %s --pidfile FILE --outfile FILE | --describe\n", test_name);
	exit(2);
}

void test_init(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	struct sigaction sa = { .sa_handler = on_sigterm };
	sigset_t term;

	test_name = slash ? slash + 1 : argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--describe"))
			describe();
		else if (!strcmp(argv[i], "--self-test-break"))
			self_test_break = 1;
		else if (!strcmp(argv[i], "--pidfile") && i + 1 < argc)
			pidfile = argv[++i];
		else if (!strcmp(argv[i], "--outfile") && i + 1 < argc)
			outfile = argv[++i];
		else
			usage();
	}
	if (!pidfile || !outfile)
		usage();
	/* Absolute paths: some programs change their cwd or root. */
	if (pidfile[0] != '/' || outfile[0] != '/') {
		static char abs_pid[4096], abs_out[4096];
		char cwd[2048];
		if (!getcwd(cwd, sizeof(cwd)))
			usage();
		if (pidfile[0] != '/')
			snprintf(abs_pid, sizeof(abs_pid), "%s/%s", cwd, pidfile), pidfile = abs_pid;
		if (outfile[0] != '/')
			snprintf(abs_out, sizeof(abs_out), "%s/%s", cwd, outfile), outfile = abs_out;
	}

	/* SIGTERM only ever arrives inside test_wait()'s sigsuspend. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	sigaction(SIGTERM, &sa, NULL);
	recorded_pid = getpid();
	recorded_tid = test_gettid();
}

void test_ready(void)
{
	char text[32];

	if (self_test_break)
		recorded_pid ^= 1;
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (write_atomically(pidfile, text) < 0)
		setup_fail("cannot write pidfile %s: %s", pidfile, strerror(errno));
}

void test_unblock_stop(void)
{
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
}

void wake_threads(void)
{
	__atomic_store_n(&threads_stop, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &threads_stop, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

void test_wait(void)
{
	sigset_t mask;

	sigprocmask(SIG_BLOCK, NULL, &mask);
	sigdelset(&mask, SIGTERM);
	while (!test_stop)
		sigsuspend(&mask);
}

void thread_wait(void)
{
	pid_t tid = test_gettid();

	while (!__atomic_load_n(&threads_stop, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &threads_stop, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (test_gettid() != tid)
		fail("a thread's gettid() is %d, recorded %d", (int)test_gettid(), (int)tid);
}

void test_done(void)
{
	if (getpid() != recorded_pid)
		fail("getpid() is %d, recorded %d", (int)getpid(), (int)recorded_pid);
	if (test_gettid() != recorded_tid)
		fail("gettid() is %d, recorded %d", (int)test_gettid(), (int)recorded_tid);
	if (!nr_failures) {
		write_verdict("PASS");
		exit(0);
	}
	char verdict[sizeof(failures) + 64];
	snprintf(verdict, sizeof(verdict), "FAIL: %s%s", failures,
		 nr_failures > 8 ? "; ..." : "");
	write_verdict(verdict);
	exit(1);
}

/* ---- children ---------------------------------------------------------- */

void child_ready(void)
{
	if (ready_wfd < 0)
		return;
	if (write(ready_wfd, "r", 1) != 1)
		say("cannot tell the parent I am ready: %s", strerror(errno));
	close(ready_wfd);
	ready_wfd = -1;
}

pid_t test_fork(int (*fn)(void *arg), void *arg)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		setup_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		setup_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		if (ready_wfd >= 0)
			close(ready_wfd); /* our parent's: only it reports to its parent */
		ready_wfd = p[1];
		in_child = 1;
		nr_failures = 0;
		failures[0] = 0;
		recorded_pid = getpid();
		recorded_tid = recorded_pid;
		int rc = fn(arg);
		child_ready(); /* a child that ends at once is ready too */
		if (getpid() != recorded_pid)
			fail("getpid() is %d, recorded %d", (int)getpid(), (int)recorded_pid);
		_exit(rc || nr_failures ? 1 : 0);
	}
	close(p[1]);
	/* the child is set up when it writes, or when it ends (EOF) */
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	char c;
	if (poll(&pfd, 1, 10000) != 1)
		setup_fail("child %d did not get ready within 10 s", (int)pid);
	if (read(p[0], &c, 1) < 0)
		setup_fail("child %d: %s", (int)pid, strerror(errno));
	close(p[0]);
	return pid;
}

void child_wait(void)
{
	child_ready();
	test_wait();
}

int wait_child(pid_t pid, int *status, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, status, WNOHANG | __WALL);
		if (r == pid)
			return 0;
		if (r < 0 || waited >= timeout_ms)
			return -1;
		sleep_ms(5);
	}
}

void check_child(pid_t pid, const char *what)
{
	int status;

	if (kill(pid, SIGTERM) < 0) {
		fail("%s %d: kill: %s", what, (int)pid, strerror(errno));
		return;
	}
	if (wait_child(pid, &status, 10000) < 0) {
		fail("%s %d did not end within 10 s (%s)", what, (int)pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
		return;
	}
	if (WIFSIGNALED(status))
		fail("%s %d was killed by signal %d", what, (int)pid, WTERMSIG(status));
	else if (WEXITSTATUS(status))
		fail("%s %d found a difference (exit %d, see its log)", what, (int)pid,
		     WEXITSTATUS(status));
}

int proc_children(pid_t pid, pid_t *out, int max)
{
	char path[320], buf[4096];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0)
			continue;
		for (char *p = buf, *end; *p; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (n < max)
				out[n] = (pid_t)v;
			n++;
		}
	}
	closedir(d);
	return n;
}

void check_children(const pid_t *want, int n)
{
	pid_t have[64];
	int got = proc_children(getpid(), have, 64);

	if (got < 0) {
		fail("cannot read my children from /proc");
		return;
	}
	if (got != n)
		fail("%d children, want %d", got, n);
	for (int i = 0; i < n; i++) {
		int found = 0;
		for (int j = 0; j < got && j < 64; j++)
			found |= have[j] == want[i];
		if (!found)
			fail("pid %d is not my child any more", (int)want[i]);
	}
}

/* ---- /proc readers ------------------------------------------------------- */

int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	close(fd);
	return (int)len;
}

int status_field(pid_t tid, const char *key, char *out, size_t size)
{
	char path[64], buf[8192];
	size_t klen = strlen(key);

	if (tid)
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		char *v = line + klen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		size_t n = strcspn(v, "\n");
		if (n >= size)
			n = size - 1;
		memcpy(out, v, n);
		out[n] = 0;
		return 0;
	}
	return -1;
}

struct line_reader {
	int fd;
	size_t len, pos;
	char buf[8192];
};

/* the next line without its newline; 0 at the end */
static int next_line(struct line_reader *r, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		if (r->pos == r->len) {
			ssize_t got = read(r->fd, r->buf, sizeof(r->buf));
			if (got <= 0) {
				line[n] = 0;
				return n > 0;
			}
			r->len = got;
			r->pos = 0;
		}
		char c = r->buf[r->pos++];
		if (c == '\n') {
			line[n] = 0;
			return 1;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
}

/* a /proc/PID/maps or smaps header line: start-end perms ... */
static int vma_header(const char *line, unsigned long *start, unsigned long *end)
{
	char *dash, *sp;

	*start = strtoul(line, &dash, 16);
	if (*dash != '-')
		return 0;
	*end = strtoul(dash + 1, &sp, 16);
	return *sp == ' ';
}

/* Calls fn on every line of the mapping holding addr in path (maps or smaps). */
static int for_vma_lines(const char *path, const void *addr,
			 int (*fn)(const char *line, int header, void *arg), void *arg)
{
	static struct line_reader r; /* big; the programs are single-threaded here */
	char line[1024];
	unsigned long a = (unsigned long)addr, start, end;
	int inside = 0, found = 0;

	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	r.len = r.pos = 0;
	if (r.fd < 0)
		return -1;
	while (next_line(&r, line, sizeof(line))) {
		if (vma_header(line, &start, &end)) {
			if (inside)
				break;
			inside = a >= start && a < end;
			if (!inside)
				continue;
			found = 1;
			if (fn(line, 1, arg))
				break;
		} else if (inside && fn(line, 0, arg)) {
			break;
		}
	}
	close(r.fd);
	return found ? 0 : -1;
}

struct copy_arg {
	const char *key;
	char *out;
	size_t size;
};

static int copy_match(const char *line, int header, void *arg)
{
	struct copy_arg *c = arg;
	size_t klen = c->key ? strlen(c->key) : 0;

	if (c->key ? header || strncmp(line, c->key, klen) : !header)
		return 0;
	line += klen;
	while (*line == ' ' || *line == '\t')
		line++;
	snprintf(c->out, c->size, "%s", line);
	return 1;
}

int maps_line(const void *addr, char *line, size_t size)
{
	struct copy_arg c = { NULL, line, size };

	line[0] = 0;
	return for_vma_lines("/proc/self/maps", addr, copy_match, &c);
}

int maps_perms(const void *addr, char perms[5])
{
	char line[1024];

	if (maps_line(addr, line, sizeof(line)) < 0)
		return -1;
	char *sp = strchr(line, ' ');
	if (!sp)
		return -1;
	memcpy(perms, sp + 1, 4);
	perms[4] = 0;
	return 0;
}

int vma_flags(const void *addr, char *flags, size_t size)
{
	struct copy_arg c = { "VmFlags:", flags, size };

	flags[0] = 0;
	if (for_vma_lines("/proc/self/smaps", addr, copy_match, &c) < 0 || !flags[0])
		return -1;
	return 0;
}

int has_vma_flag(const void *addr, const char *flag)
{
	char flags[256];

	if (vma_flags(addr, flags, sizeof(flags)) < 0)
		return -1;
	char *save;
	for (char *tok = strtok_r(flags, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, flag))
			return 1;
	return 0;
}

long smaps_kb(const void *addr, const char *field)
{
	char key[64], value[128];
	struct copy_arg c = { key, value, sizeof(value) };

	snprintf(key, sizeof(key), "%s:", field);
	value[0] = 0;
	if (for_vma_lines("/proc/self/smaps", addr, copy_match, &c) < 0 || !value[0])
		return -1;
	return strtol(value, NULL, 10);
}

/* ---- patterns and time ------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void fill_pattern(void *p, size_t len, uint64_t seed)
{
	unsigned char *b = p;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t w = mix(seed ^ (off / 8));
		memcpy(b + off, &w, len - off < 8 ? len - off : 8);
	}
}

long check_pattern(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t w = mix(seed ^ (off / 8));
		size_t n = len - off < 8 ? len - off : 8;
		if (memcmp(b + off, &w, n)) {
			for (size_t i = 0; i < n; i++)
				if (b[off + i] != ((unsigned char *)&w)[i])
					return (long)(off + i);
		}
	}
	return -1;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int epoll_targets(int ep, char *out, size_t size)
{
	char path[64], text[8192], *lines[128];
	size_t used = 0, n = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	if (read_text(path, text, sizeof(text)) < 0)
		return -1;
	for (char *l = strtok(text, "\n"); l && n < ARRAY_SIZE(lines); l = strtok(NULL, "\n")) {
		char *pos = strstr(l, " pos:");

		if (strncmp(l, "tfd:", 4))
			continue;
		if (pos)
			*pos = '\0';
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	for (size_t i = 0; i < n && used < size; i++)
		used += snprintf(out + used, size - used, "%s\n", lines[i]);
	return (int)n;
}
