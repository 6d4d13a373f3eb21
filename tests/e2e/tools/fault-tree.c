/*
 * fault-tree DIR [MEM_MB [THREADS]]: the target of the fault walk
 * (fault-walk.c).  A session of its own: a root with two children, the
 * first with a child of its own; every process has THREADS more threads
 * (default 2), MEM_MB of private anonymous memory (default 8) filled with
 * a pattern, the shared anonymous page of the root, the pipes that tie it
 * to its parent and children, and an open file in DIR.
 *
 * When everything is set up it records, in each process, its mappings, its
 * fds, the signal mask of each thread and its file offset, writes every pid
 * and tid to DIR/pids and the root's pid to DIR/ready.  Then:
 *   SIGUSR1 to the root: every process checks itself against what it
 *     recorded (memory intact, same mappings and fds, same masks, no thread
 *     stopped or traced, the file and its offset) and the root writes
 *     "SEQ OK" or "SEQ BAD: what" to DIR/verdict (SEQ counts the checks);
 *   SIGTERM: the same check, then everybody exits (0 when all was well).
 * A child whose parent is gone exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KIDS 2
#define MSG 512

static const char *dir;
static size_t mem_len;
static int nthreads = 2;
static uint8_t *mem;
static volatile uint8_t *shared;
static int file_fd;
static off_t file_off;
static int up_rd = -1, up_wr = -1;	     /* to and from the parent */
static int kid_rd[MAX_KIDS], kid_wr[MAX_KIDS]; /* to and from the children */
static pid_t kids[MAX_KIDS];
static int nkids;
static int first_kid; /* this process is its parent's first child */
static char *base_maps, *base_fds;
static char *slurp(const char *path, char *buf, size_t cap);
static int base_nthreads;
static char base_masks[4096];
static volatile sig_atomic_t got_usr1, got_term;
static volatile uint64_t thread_ticks[256];

static void fill_memory(void)
{
	for (size_t i = 0; i < mem_len; i += 2048)
		*(uint64_t *)(mem + i) = (uint64_t)i * 2654435761u ^ (uint64_t)getpid();
}

static int check_memory(void)
{
	for (size_t i = 0; i < mem_len; i += 2048)
		if (*(uint64_t *)(mem + i) != ((uint64_t)i * 2654435761u ^ (uint64_t)getpid()))
			return -1;
	return 0;
}

/*
 * No allocation after the state is recorded: the heap or a transient
 * mapping of malloc would show as a change of the mappings.  Static
 * buffers, one per use.
 */
static char *slurp(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return NULL;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - n - 1)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return buf;
}

#define MAPS_CAP (1 << 20)
static char maps_raw[MAPS_CAP], maps_now[MAPS_CAP], maps_base[MAPS_CAP];
static char fds_now[65536], fds_base[65536];

/* the mappings without the kernel's own (the vDSO may move on restore) */
static char *read_maps(char *out)
{
	char *m = slurp("/proc/self/maps", maps_raw, MAPS_CAP), *o = out, *line, *save;

	if (!m)
		return NULL;
	*o = '\0';
	for (line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char range[64], perms[8], name[4096] = "";
		unsigned long long off;

		if (strstr(line, "[vdso]") || strstr(line, "[vvar") || strstr(line, "[vsyscall]"))
			continue;
		/* range, protection, offset and file; not the device and inode,
		 * nor the name of shared anonymous memory (criu restores it as a
		 * memfd) */
		if (sscanf(line, "%63s %7s %llx %*s %*s %4095[^\n]", range, perms, &off, name) < 3)
			continue;
		if (strstr(name, "/dev/zero") || strstr(name, "memfd:criu-shmem"))
			strcpy(name, "shared anonymous");
		o += sprintf(o, "%s %s %llx %s\n", range, perms, off, name);
	}
	return out;
}

/* fd numbers and what they are (pipe and socket inodes change on restore) */
static char *read_fds(char *out)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char ents[8192], *o = out;
	long n;

	if (dfd < 0)
		return NULL;
	*o = '\0';
	while ((n = syscall(SYS_getdents64, dfd, ents, sizeof(ents))) > 0)
		for (long off = 0; off < n;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(ents + off);
			char path[300], target[256];
			ssize_t k;

			off += de->reclen;
			if (de->name[0] == '.' || atoi(de->name) == dfd)
				continue;
			snprintf(path, sizeof(path), "/proc/self/fd/%s", de->name);
			k = readlink(path, target, sizeof(target) - 1);
			if (k < 0)
				continue;
			target[k] = '\0';
			if (!strncmp(target, "pipe:", 5) || !strncmp(target, "socket:", 7))
				*strchr(target, ':') = '\0';
			if (o - out < 65000)
				o += sprintf(o, "%s %s\n", de->name, target);
		}
	close(dfd);
	return out;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* per thread, by tid order: "SigBlk" and whether stopped or traced */
static int read_threads(char *masks, size_t len, char *why, size_t wlen)
{
	static char st_buf[8192];
	int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int tids[300], n = 0, ok = 0;
	char ents[8192];
	long k;

	if (dfd < 0)
		return -1;
	while ((k = syscall(SYS_getdents64, dfd, ents, sizeof(ents))) > 0)
		for (long off = 0; off < k;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(ents + off);

			off += de->reclen;
			if (de->name[0] != '.' && n < 300)
				tids[n++] = atoi(de->name);
		}
	close(dfd);
	qsort(tids, (size_t)n, sizeof(tids[0]), cmp_int);
	masks[0] = '\0';
	for (int i = 0; i < n; i++) {
		char path[64], *st, *p;

		snprintf(path, sizeof(path), "/proc/self/task/%d/status", tids[i]);
		st = slurp(path, st_buf, sizeof(st_buf));
		if (!st)
			continue;
		p = strstr(st, "\nState:\t");
		if (p && (p[8] == 'T' || p[8] == 't') && ok == 0) {
			snprintf(why, wlen, "thread %d is stopped (%.20s)", tids[i], p + 8);
			ok = -1;
		}
		p = strstr(st, "\nTracerPid:\t");
		if (p && atoi(p + 12) != 0 && ok == 0) {
			snprintf(why, wlen, "thread %d is traced by %d", tids[i], atoi(p + 12));
			ok = -1;
		}
		p = strstr(st, "\nSigBlk:\t");
		if (p && strlen(masks) + 20 < len)
			strncat(masks, p + 9, 17);
	}
	return ok < 0 ? -1 : n;
}

static void record(void)
{
	char why[128];

	file_off = lseek(file_fd, 0, SEEK_CUR);
	base_maps = read_maps(maps_base);
	base_fds = read_fds(fds_base);
	base_nthreads = read_threads(base_masks, sizeof(base_masks), why, sizeof(why));
}

/* the first line of a that differs from b */
static void first_diff_line(const char *a, const char *b, char *out, size_t len)
{
	const char *start = a;

	while (*a && *a == *b)
		a++, b++;
	while (a > start && a[-1] != '\n')
		a--;
	snprintf(out, len, "%.*s", (int)strcspn(a, "\n"), a);
}

/*
 * DIR/allow-area (the walk of a dump whose criu is killed at every point,
 * docs/faults.md): the one thing a criu killed while the parasite was
 * loaded leaves is its area.  Accepted, once per check: now is was plus
 * exactly one line, a shared anonymous rwx mapping of at most 1 MiB at
 * offset 0.  Anything else, or more, is still a change.
 */
static bool area_left(const char *now, const char *was)
{
	char p[4096], line[256], perms[8], name[64] = "";
	const char *a = now, *b = was;
	unsigned long start, end;
	unsigned long long off;
	size_t n;

	snprintf(p, sizeof(p), "%s/allow-area", dir);
	if (access(p, F_OK))
		return false;
	while (*a && *a == *b) /* the common prefix, line by line */ {
		n = strcspn(a, "\n") + 1;
		if (strncmp(a, b, n))
			break;
		a += n;
		b += n;
	}
	n = strcspn(a, "\n");
	if (!a[n] || n >= sizeof(line) || strcmp(a + n + 1, b))
		return false; /* not exactly one extra line */
	memcpy(line, a, n);
	line[n] = 0;
	if (sscanf(line, "%lx-%lx %7s %llx %63[^\n]", &start, &end, perms, &off, name) != 5)
		return false;
	return !strcmp(perms, "rwxs") && !off && !strcmp(name, "shared anonymous") &&
	       end > start && end - start <= (1ul << 20);
}

/* 0, or -1 with what is wrong in why */
static int check_self(char *why, size_t len)
{
	char masks[4096], buf[64], *s;
	int n;

	if (check_memory())
		return snprintf(why, len, "pid %d: memory changed", getpid()), -1;
	if (shared[0] != 0x5a || shared[4095] != 0xa5)
		return snprintf(why, len, "pid %d: shared memory changed", getpid()), -1;
	s = read_maps(maps_now);
	if (s && base_maps && strcmp(s, base_maps) && area_left(s, base_maps)) {
		/* adopted: the next check compares with it */
		strcpy(maps_base, s);
		base_maps = maps_base;
	}
	if (!s || !base_maps || strcmp(s, base_maps)) {
		char d[130] = "";

		if (s && base_maps)
			first_diff_line(s, base_maps, d, sizeof(d));
		return snprintf(why, len, "pid %d: mappings changed: %s", getpid(), d), -1;
	}
	s = read_fds(fds_now);
	if (!s || !base_fds || strcmp(s, base_fds)) {
		char d[130] = "";

		if (s && base_fds)
			first_diff_line(s, base_fds, d, sizeof(d));
		return snprintf(why, len, "pid %d: fds changed: %s", getpid(), d), -1;
	}
	n = read_threads(masks, sizeof(masks), why, len);
	if (n < 0)
		return -1;
	if (n != base_nthreads)
		return snprintf(why, len, "pid %d: %d threads, was %d", getpid(), n, base_nthreads),
		       -1;
	if (strcmp(masks, base_masks))
		return snprintf(why, len, "pid %d: signal masks changed", getpid()), -1;
	if (lseek(file_fd, 0, SEEK_CUR) != file_off)
		return snprintf(why, len, "pid %d: file offset changed", getpid()), -1;
	if (pread(file_fd, buf, 6, 0) != 6 || memcmp(buf, "fault\n", 6))
		return snprintf(why, len, "pid %d: file content changed", getpid()), -1;
	for (int i = 0; i < nthreads; i++) {
		uint64_t t0 = thread_ticks[i];
		int waited = 0;

		while (thread_ticks[i] == t0 && waited++ < 300)
			usleep(10000);
		if (thread_ticks[i] == t0)
			return snprintf(why, len, "pid %d: thread %d does not run", getpid(), i), -1;
	}
	return 0;
}

static int read_full(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;

	while (n < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		r = read(fd, buf + n, len - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	return 0;
}

/* own check, then each child's, which checks its own children */
static int check_tree(char *why, size_t len)
{
	if (check_self(why, len))
		return -1;
	for (int i = 0; i < nkids; i++) {
		char msg[MSG];

		if (write(kid_wr[i], "C", 1) != 1 || read_full(kid_rd[i], msg, MSG, 60000)) {
			snprintf(why, len, "pid %d: child %d does not answer", getpid(), kids[i]);
			return -1;
		}
		if (strcmp(msg, "OK")) {
			snprintf(why, len, "%s", msg);
			return -1;
		}
	}
	return 0;
}

static void end_kids(void)
{
	for (int i = 0; i < nkids; i++) {
		if (write(kid_wr[i], "X", 1) != 1)
			continue;
		waitpid(kids[i], NULL, 0);
	}
}

static void *thread_main(void *arg)
{
	int idx = (int)(long)arg;
	sigset_t set;

	/* each thread its own mask, so that a mask mixed up shows */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGRTMIN + 2 + idx % 20);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		thread_ticks[idx]++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void start_threads(void)
{
	for (int i = 0; i < nthreads; i++) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 65536);
		if (pthread_create(&t, &a, thread_main, (void *)(long)i)) {
			perror("pthread_create");
			exit(1);
		}
		pthread_attr_destroy(&a);
	}
	/* each has its own mask before the state is recorded (at most 10 s) */
	for (int i = 0, waited = 0; i < nthreads && waited < 10000; i++)
		while (!thread_ticks[i] && waited++ < 10000)
			usleep(1000);
}

static void setup_process(void)
{
	char path[4096];

	mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	fill_memory();
	snprintf(path, sizeof(path), "%s/file-%d", dir, getpid());
	file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file_fd < 0 || write(file_fd, "fault\nfile\n", 11) != 11) {
		perror(path);
		exit(1);
	}
	lseek(file_fd, 6, SEEK_SET);
}

static pid_t spawn(int depth);

/* records this process, then its children, each once all exist */
static void record_tree(void)
{
	record();
	for (int i = 0; i < nkids; i++) {
		char msg[MSG];

		/* a child with much memory may take a while to fill it */
		if (write(kid_wr[i], "R", 1) != 1 || read_full(kid_rd[i], msg, MSG, 300000))
			_exit(1);
	}
}

/* a child: answers its parent's checks until told to end */
static void child_loop(void)
{
	for (;;) {
		char c, msg[MSG] = "OK", why[MSG - 1];
		ssize_t r = read(up_rd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(2); /* the parent is gone */
		if (c == 'X') {
			end_kids();
			_exit(0);
		}
		if (c == 'R') {
			record_tree();
			if (write(up_wr, msg, MSG) != MSG)
				_exit(2);
			continue;
		}
		if (check_tree(why, sizeof(why)))
			snprintf(msg, sizeof(msg), "%s", why);
		if (write(up_wr, msg, MSG) != MSG)
			_exit(2);
	}
}

static void add_kid(int depth)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe(down) || pipe(up)) {
		perror("pipe");
		exit(1);
	}
	first_kid = nkids == 0;
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		for (int i = 0; i < nkids; i++) {
			close(kid_rd[i]);
			close(kid_wr[i]);
		}
		close(file_fd);
		nkids = 0;
		if (up_rd >= 0) {
			close(up_rd);
			close(up_wr);
		}
		up_rd = down[0];
		up_wr = up[1];
		munmap(mem, mem_len);
		spawn(depth + 1);
		child_loop();
	}
	close(down[0]);
	close(up[1]);
	kid_wr[nkids] = down[1];
	kid_rd[nkids] = up[0];
	kids[nkids++] = pid;
}

static pid_t spawn(int depth)
{
	setup_process();
	if (depth == 0) {
		add_kid(depth);
		add_kid(depth);
	} else if (depth == 1 && first_kid) {
		add_kid(depth);
	}
	start_threads();
	return getpid();
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void write_file(const char *name, const char *fmt, ...)
{
	char path[4096], tmp[4096 + 8], buf[1024];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		perror(tmp);
		exit(1);
	}
	close(fd);
	rename(tmp, path);
}

/* every pid and tid of the tree, from the root (children are below it) */
static void list_tree(pid_t pid, char **o, char *end)
{
	char path[64], *kidlist, kidbuf[1024];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && *o + 16 < end)
				*o += sprintf(*o, "%s\n", de->d_name);
		closedir(d);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	kidlist = slurp(path, kidbuf, sizeof(kidbuf));
	if (!kidlist)
		return;
	for (char *save, *t = strtok_r(kidlist, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		list_tree(atoi(t), o, end);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t set;
	unsigned seq = 0;
	static char pids_buf[1 << 16];
	char *pids = pids_buf, *o;

	if (argc < 2) {
		fprintf(stderr, "usage: fault-tree DIR [MEM_MB [THREADS]]\n");
		return 2;
	}
	dir = argv[1];
	mem_len = (size_t)(argc > 2 ? atol(argv[2]) : 8) << 20;
	if (argc > 3)
		nthreads = atoi(argv[3]);
	if (nthreads < 0 || nthreads > 256)
		nthreads = 2;
	setsid();
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	shared[0] = 0x5a;
	shared[4095] = 0xa5;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	spawn(0);
	/* every child records itself when asked first: once everything exists */
	usleep(100000);
	record_tree();
	/* all exist now (each answered); what listing them allocated is
	 * part of the state recorded again after it */
	o = pids;
	list_tree(getpid(), &o, pids + sizeof(pids_buf));
	write_file("pids", "%s", pids);
	record_tree();
	write_file("ready", "%d\n", getpid());
	for (;;) {
		char why[MSG];

		if (got_term || got_usr1) {
			int term = got_term, bad;

			got_usr1 = 0;
			seq++;
			bad = check_tree(why, sizeof(why));
			if (bad)
				write_file("verdict", "%u BAD: %s\n", seq, why);
			else
				write_file("verdict", "%u OK\n", seq);
			if (term) {
				end_kids();
				return bad ? 1 : 0;
			}
		}
		usleep(10000);
	}
}
