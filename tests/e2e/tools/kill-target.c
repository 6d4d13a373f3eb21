/*
 * The tree kill-dump.py (make fuzz-kill) dumps and kills criu in the middle of:
 *
 *   kill-target --out FILE [--mem MIB] [--threads N] [--children N]
 *               [--child-threads N]
 *
 * The root and each child hold memory filled with a pattern, a pipe with
 * bytes in flight, an open file, a signal mask (SIGUSR1 and SIGRTMIN+2
 * blocked) and threads that count in a loop; the main thread sleeps in
 * read() on an empty pipe (an interrupted syscall that must restart).
 * SIGTERM is blocked in the counting threads, so that it always wakes the
 * main thread.  When all is set up the root appends "READY pid pid ..." (every process)
 * to FILE.  On SIGTERM the root passes it on to the children, and every
 * process checks that nothing changed: memory, pipe data, its descriptors
 * (the same list as at setup), its mask in every thread, every thread
 * still counting, no tracer; and it counts the writable+executable
 * mappings that were not there at setup.  Each appends one line to FILE:
 * "PASS pid rwx=N" or "FAIL pid: what".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 1024
#define MAX_CHILDREN 16
#define PIPE_BYTES 3000

static const char *out_path;
static volatile sig_atomic_t stop, term;
static unsigned char *mem;
static size_t mem_len;
static int data_pipe[2], wait_pipe[2], file_fd;
static sigset_t want_mask;
static char fds_at_setup[8192];
static int rwx_at_setup;
static char why[512];

struct worker {
	pthread_t t;
	volatile unsigned long count;
	volatile int bad_mask;
} workers[MAX_THREADS];
static int nr_workers;

static void note(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static void append_line(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0)
			perror("write");
		close(fd);
	}
}

static uint8_t pattern(size_t i, pid_t seed)
{
	return (uint8_t)((i * 2654435761u) >> 13) ^ (uint8_t)seed;
}

static void on_term(int sig)
{
	term = 1;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		sigset_t now;
		struct timespec ts = { 0, 20 * 1000000 };

		pthread_sigmask(SIG_BLOCK, NULL, &now);
		if (sigismember(&now, SIGUSR1) != 1 || sigismember(&now, SIGRTMIN + 2) != 1 ||
		    sigismember(&now, SIGUSR2) != 0)
			w->bad_mask = 1;
		w->count++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* "N:target" for every descriptor, sorted by number (readdir order). */
static void list_fds(char *out, size_t size)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t used = 0;

	out[0] = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], target[256];
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s:%s ",
					 de->d_name, target);
	}
	closedir(d);
}

static int count_rwx(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8] = "";

		if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w' && perms[2] == 'x')
			n++;
	}
	fclose(f);
	return n;
}

static void status_value(const char *path, const char *key, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[256];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			size_t n = strcspn(line + strlen(key), "\n");

			if (n >= size)
				n = size - 1;
			memcpy(out, line + strlen(key), n);
			out[n] = 0;
			break;
		}
	fclose(f);
}

static void setup(int threads)
{
	char buf[PIPE_BYTES];
	pid_t me = getpid();
	struct sigaction sa = { .sa_handler = on_term }; /* no SA_RESTART */

	sigaction(SIGTERM, &sa, NULL);
	mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	for (size_t i = 0; i < mem_len; i++)
		mem[i] = pattern(i, me);
	if (pipe(data_pipe) || pipe(wait_pipe)) {
		perror("pipe");
		exit(2);
	}
	for (int i = 0; i < PIPE_BYTES; i++)
		buf[i] = (char)pattern((size_t)i, me + 1);
	if (write(data_pipe[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		exit(2);
	fcntl(data_pipe[0], F_SETFL, O_NONBLOCK);
	file_fd = open("/proc/self/exe", O_RDONLY);
	sigemptyset(&want_mask);
	sigaddset(&want_mask, SIGUSR1);
	sigaddset(&want_mask, SIGRTMIN + 2);
	/* the workers (created with it blocked) leave SIGTERM to the main thread */
	sigaddset(&want_mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &want_mask, NULL);
	for (nr_workers = 0; nr_workers < threads; nr_workers++)
		if (pthread_create(&workers[nr_workers].t, NULL, work, &workers[nr_workers])) {
			perror("pthread_create");
			exit(2);
		}
	sigdelset(&want_mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &want_mask, NULL);
}

static void snapshot(void)
{
	list_fds(fds_at_setup, sizeof(fds_at_setup));
	rwx_at_setup = count_rwx();
}

/* Sleeps in read() (restarted after ptrace's interrupts) until SIGTERM. */
static void wait_term(void)
{
	char c;

	while (!term)
		if (read(wait_pipe[0], &c, 1) < 0 && errno != EINTR)
			note("read of the wait pipe: %s", strerror(errno));
}

static void check(void)
{
	char buf[PIPE_BYTES + 1], now_fds[8192], val[64], path[64];
	unsigned long before[MAX_THREADS];
	pid_t me = getpid();
	sigset_t mask;
	ssize_t n;

	for (size_t i = 0; i < mem_len; i++)
		if (mem[i] != pattern(i, me)) {
			note("memory differs at offset %zu", i);
			break;
		}
	n = read(data_pipe[0], buf, sizeof(buf));
	if (n != PIPE_BYTES)
		note("the pipe holds %zd bytes, not %d", n, PIPE_BYTES);
	for (int i = 0; i < n && i < PIPE_BYTES; i++)
		if (buf[i] != (char)pattern((size_t)i, me + 1)) {
			note("pipe byte %d differs", i);
			break;
		}
	sigprocmask(SIG_BLOCK, NULL, &mask);
	if (sigismember(&mask, SIGUSR1) != 1 || sigismember(&mask, SIGRTMIN + 2) != 1 ||
	    sigismember(&mask, SIGUSR2) != 0 || sigismember(&mask, SIGHUP) != 0)
		note("the main thread's signal mask changed");
	for (int i = 0; i < nr_workers; i++)
		before[i] = workers[i].count;
	usleep(300 * 1000);
	for (int i = 0; i < nr_workers; i++) {
		if (workers[i].bad_mask)
			note("thread %d saw its signal mask change", i);
		if (workers[i].count == before[i] && !stop)
			note("thread %d stopped counting", i);
	}
	list_fds(now_fds, sizeof(now_fds));
	if (strcmp(now_fds, fds_at_setup))
		note("descriptors changed: [%s] -> [%s]", fds_at_setup, now_fds);
	snprintf(path, sizeof(path), "/proc/%d/status", me);
	status_value(path, "TracerPid:\t", val, sizeof(val));
	if (strcmp(val, "0"))
		note("traced by %s", val);
}

static void verdict(void)
{
	if (why[0])
		append_line("FAIL %d: %s\n", getpid(), why);
	else
		append_line("PASS %d rwx=%d\n", getpid(), count_rwx() - rwx_at_setup);
}

static void workers_end(void)
{
	for (int i = 0; i < nr_workers; i++)
		pthread_join(workers[i].t, NULL);
}

int main(int argc, char **argv)
{
	int mib = 64, threads = 4, children = 2, child_threads = 200;
	pid_t kids[MAX_CHILDREN];
	int ready[2];
	char line[512];
	size_t used;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--out"))
			out_path = argv[i + 1];
		else if (!strcmp(argv[i], "--mem"))
			mib = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--children"))
			children = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--child-threads"))
			child_threads = atoi(argv[i + 1]);
	}
	if (!out_path || threads > MAX_THREADS || child_threads > MAX_THREADS ||
	    children > MAX_CHILDREN || mib < 1) {
		fprintf(stderr, "usage: kill-target --out FILE [--mem MIB] [--threads N] "
				"[--children N] [--child-threads N]\n");
		return 2;
	}
	if (pipe(ready))
		return 2;
	for (int c = 0; c < children; c++) {
		kids[c] = fork();
		if (kids[c] == 0) {
			close(ready[0]);
			mem_len = (size_t)(c == 0 ? 16 : 4) << 20;
			setup(c == 0 ? child_threads : 2);
			close(ready[1]);
			snapshot();
			wait_term();
			check();
			stop = 1;
			workers_end();
			verdict();
			_exit(why[0] ? 1 : 0);
		}
	}
	close(ready[1]);
	/* every child closed its copy of the write end: all set up */
	while (read(ready[0], line, 1) > 0)
		;
	close(ready[0]);
	mem_len = (size_t)mib << 20;
	setup(threads);
	snapshot();
	used = (size_t)snprintf(line, sizeof(line), "READY %d", getpid());
	for (int c = 0; c < children; c++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %d", kids[c]);
	append_line("%s\n", line);
	wait_term();
	for (int c = 0; c < children; c++)
		kill(kids[c], SIGTERM);
	check();
	stop = 1;
	workers_end();
	for (int c = 0; c < children; c++) {
		int status = 0;

		if (waitpid(kids[c], &status, 0) != kids[c] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			note("child %d ended with status %#x", kids[c], status);
	}
	verdict();
	return why[0] ? 1 : 0;
}
