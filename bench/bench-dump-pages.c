/*
 * Throughput of parasite_dump_pages() (vmsplice in the task, splice in
 * criu) against the obvious alternative, process_vm_readv() into a buffer
 * and write(), for the pages of a stopped task.  See bench/README.md.
 *
 *   bench-dump-pages [-m MiB] [-r runs] [-d dir]
 *
 * A child touches MiB of anonymous memory and sleeps; it is infected once
 * and stays infected for every run.  Each run writes all of it to a file in
 * dir (default /dev/shm: tmpfs, so that the disk is not what is measured),
 * truncated before each run, and to /dev/null.  Prints MB/s (10^6 bytes per
 * second), the median of the runs, with the min and max.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compel.h"
#include "log.h"
#include "parasite-ctl.h"

#define MAX_RUNS 99

struct bench {
	pid_t pid;
	struct infect_ctx *ictx;
	struct parasite_ctl *ctl;
	struct iovec range; /* in the child */
	int runs;
};

typedef int (*dump_fn)(struct bench *b, int out_fd, size_t param);

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The child: len bytes of pages with something in them, then sleep. */
static pid_t spawn_child(size_t len, int report_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *m;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < len; i += 64)
			m[i] = (char)(i >> 6);
		if (write(report_fd, &m, sizeof(m)) != sizeof(m))
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

static int dump_parasite(struct bench *b, int out_fd, size_t pipe_size)
{
	parasite_set_pipe_size(b->ctl, pipe_size);
	return parasite_dump_pages(b->ctl, &b->range, 1, out_fd);
}

static int dump_vm_readv(struct bench *b, int out_fd, size_t chunk)
{
	static char *buf;
	static size_t buf_len;
	char *at = b->range.iov_base;
	size_t left = b->range.iov_len;

	if (buf_len < chunk) {
		free(buf);
		buf = malloc(chunk);
		buf_len = buf ? chunk : 0;
		if (!buf)
			return -ENOMEM;
	}
	while (left) {
		size_t n = left < chunk ? left : chunk;
		struct iovec l = { buf, n }, r = { at, n };
		ssize_t got = process_vm_readv(b->pid, &l, 1, &r, 1, 0);

		if (got <= 0)
			return -errno;
		for (ssize_t done = 0; done < got;) {
			ssize_t w = write(out_fd, buf + done, (size_t)(got - done));

			if (w <= 0)
				return -errno;
			done += w;
		}
		at += got;
		left -= (size_t)got;
	}
	return 0;
}

/* MB/s of each run into rates[]; 0 or -errno. */
static int measure(struct bench *b, dump_fn fn, size_t param, const char *out_path,
		   double *rates)
{
	/* one run more, first, untimed: page cache and pipe warm for all */
	for (int i = -1; i < b->runs; i++) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		double t0, t1;
		int ret;

		if (fd < 0)
			return -errno;
		t0 = now_s();
		ret = fn(b, fd, param);
		t1 = now_s();
		close(fd);
		if (ret)
			return ret;
		if (i >= 0)
			rates[i] = b->range.iov_len / (t1 - t0) / 1e6;
	}
	return 0;
}

static void row(struct bench *b, const char *method, dump_fn fn, size_t param,
		const char *file_path)
{
	const char *outs[2] = { file_path, "/dev/null" };
	double rates[2][MAX_RUNS];

	printf("%-38s", method);
	for (int o = 0; o < 2; o++) {
		int ret = measure(b, fn, param, outs[o], rates[o]);

		if (ret) {
			printf("  failed: %s\n", strerror(-ret));
			return;
		}
		qsort(rates[o], b->runs, sizeof(double), cmp_double);
		printf("  %8.0f %6.0f-%-6.0f", rates[o][b->runs / 2], rates[o][0],
		       rates[o][b->runs - 1]);
	}
	printf("\n");
	fflush(stdout);
}

/* Median wall time of calls of fn (0: a parasite command alone), in us. */
static double call_cost_us(struct bench *b, int out_fd, bool dump)
{
	enum { CALLS = 201 };
	struct iovec one = { b->range.iov_base, (size_t)sysconf(_SC_PAGESIZE) };
	struct parasite_itimerval it[3];
	double t[CALLS];

	for (int i = 0; i < CALLS; i++) {
		double t0 = now_s();
		int ret = dump ? parasite_dump_pages(b->ctl, &one, 1, out_fd)
			       : parasite_get_itimers(b->ctl, it);

		t[i] = (now_s() - t0) * 1e6;
		if (ret)
			return -1;
	}
	qsort(t, CALLS, sizeof(double), cmp_double);
	return t[CALLS / 2];
}

static int setup(struct bench *b, size_t len)
{
	int report[2];
	void *addr = NULL;

	if (pipe(report))
		return -errno;
	b->pid = spawn_child(len, report[1]);
	if (b->pid < 0 || read(report[0], &addr, sizeof(addr)) != sizeof(addr)) {
		fprintf(stderr, "the child did not start\n");
		return -ECHILD;
	}
	close(report[0]);
	close(report[1]);
	usleep(20000);
	b->range = (struct iovec){ addr, len };
	if (compel_infect(b->pid, 0, &b->ictx))
		return -EIO;
	compel_set_timeout(b->ictx, 60000);
	if (parasite_load(b->ictx, &b->ctl))
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = "/dev/shm";
	struct bench b = { .runs = 5 };
	size_t mib = 256, kib;
	char path[4096], file_col[64];
	int opt, ret, null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	while ((opt = getopt(argc, argv, "m:r:d:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'r')
			b.runs = atoi(optarg);
		else if (opt == 'd')
			dir = optarg;
		else {
			fprintf(stderr, "usage: %s [-m MiB] [-r runs] [-d dir]\n", argv[0]);
			return 2;
		}
	}
	if (b.runs < 1 || b.runs > MAX_RUNS || !mib)
		return 2;
	log_set_level(LOG_WARN);
	snprintf(path, sizeof(path), "%s/bench-dump-pages.%d", dir, getpid());
	snprintf(file_col, sizeof(file_col), "to a file in %s", dir);
	ret = setup(&b, mib << 20);
	if (ret)
		goto out;

	printf("dump of %zu MiB of a stopped task; MB/s, median of %d runs (min-max)\n", mib,
	       b.runs);
	printf("%-38s  %-22.22s  %-22s\n", "method", file_col, "to /dev/null");
	for (kib = 64; kib <= 1024; kib *= 4) {
		char name[64];

		snprintf(name, sizeof(name), "parasite vmsplice, pipe %zu KiB", kib);
		row(&b, name, dump_parasite, kib << 10, path);
	}
	row(&b, "process_vm_readv 1 MiB + write", dump_vm_readv, 1 << 20, path);
	row(&b, "process_vm_readv 16 MiB + write", dump_vm_readv, 16 << 20, path);
	printf("fixed costs, median of 201 calls: dump_pages of one page %.0f us "
	       "(pipe2, pidfd_getfd, 2 closes, daemon stop and start), one command "
	       "(GET_ITIMERS) %.1f us\n",
	       call_cost_us(&b, null_fd, true), call_cost_us(&b, null_fd, false));
	printf("(F_SETPIPE_SZ gave %zu KiB for 1024 KiB asked; %llu DUMP_PAGES rounds in all)\n",
	       b.ctl->pipe_size_got >> 10, (unsigned long long)b.ctl->nr_rounds);
out:
	unlink(path);
	if (b.ctl)
		parasite_unload(b.ctl);
	if (b.ictx)
		compel_cure(b.ictx, COMPEL_LEAVE_AS_FOUND);
	if (b.pid > 0) {
		kill(b.pid, SIGKILL);
		waitpid(b.pid, NULL, 0);
	}
	return ret ? 1 : 0;
}
