/*
 * A process that keeps rewriting part of a big buffer, for the pre-dump
 * tests (t-predump.sh) and bench/migration.
 *
 *   mem-writer DIR MIB PCT [manual | hot=H]
 *
 * Maps MIB MiB of private anonymous memory, writes every page (page i
 * holds a pattern of (i, gen[i]) with gen[i] = 1), writes DIR/ready with
 * its pid, then rewrites PCT percent of the pages in a sweep (a page at a
 * time: gen[i]++ and the page anew) every 100 ms, round after round, until
 * a signal:
 *   SIGUSR1  writes DIR/track: "uffd N uw N maps SAME|CHANGED": its
 *            userfaultfd descriptors, its mappings whose VmFlags have "uw"
 *            (userfaultfd write-protect), and whether /proc/self/maps is
 *            what it was at the start;
 *   SIGUSR2  pauses the writing (DIR/paused is written when it stops);
 *            SIGCONT-free: a second SIGUSR2 resumes;
 * With hot=H the sweeps stay in the first H percent of the pages (what
 * changes between two dumps is bounded, however slow they are).
 *   SIGHUP   with "manual": one sweep now, then DIR/swept holds the count
 *            of sweeps (no sweeps otherwise: bench/migration's rounds);
 *   SIGTERM  checks every byte of every page against gen[] and writes
 *            DIR/verdict: "PASS rounds N" or "FAIL ...", then exits.
 * Only the page being written when a signal comes is finished first: the
 * check sees every page whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term, got_usr1, paused, got_hup;
static const char *dir;

static void on_sig(int sig)
{
	if (sig == SIGTERM)
		got_term = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		paused = !paused;
	else if (sig == SIGHUP)
		got_hup = 1;
}

static void put(const char *name, const char *text)
{
	char path[4096], tmp[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static void fill(uint64_t *p, size_t words, uint64_t idx, uint64_t gen)
{
	uint64_t x = idx * 0x9e3779b97f4a7c15ULL ^ gen * 0xc2b2ae3d27d4eb4fULL;

	for (size_t i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static long first_bad(const uint64_t *p, size_t words, uint64_t idx, uint64_t gen)
{
	uint64_t x = idx * 0x9e3779b97f4a7c15ULL ^ gen * 0xc2b2ae3d27d4eb4fULL;

	for (size_t i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (p[i] != x)
			return (long)i;
	}
	return -1;
}

static char *read_all(const char *path)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void report_track(const char *maps0)
{
	char line[256], link[256], path[300];
	int uffd = 0, uw = 0;
	char *maps = read_all("/proc/self/maps");
	char *smaps = read_all("/proc/self/smaps");
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			uffd += strstr(link, "userfaultfd") != NULL;
		}
	}
	if (d)
		closedir(d);
	for (char *l = smaps; l && (l = strstr(l, "VmFlags:")); l++) {
		char *end = strchr(l, '\n');
		char *uwp = strstr(l, " uw");

		if (uwp && (!end || uwp < end))
			uw++;
	}
	snprintf(line, sizeof(line), "uffd %d uw %d maps %s\n", uffd, uw,
		 maps && maps0 && !strcmp(maps, maps0) ? "SAME" : "CHANGED");
	put("track", line);
	free(maps);
	free(smaps);
}

int main(int argc, char **argv)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), npages, step, at = 0;
	uint64_t *gen, rounds = 0;
	char *buf, line[256], *maps0;
	struct sigaction sa;
	sigset_t all;

	bool manual = argc == 5 && !strcmp(argv[4], "manual");
	double hot = argc == 5 && !strncmp(argv[4], "hot=", 4) ? atof(argv[4] + 4) : 100;
	size_t span;

	if (argc != 4 && !manual && hot >= 100) {
		fprintf(stderr, "usage: mem-writer DIR MIB PCT [manual | hot=H]\n");
		return 2;
	}
	dir = argv[1];
	npages = (size_t)atol(argv[2]) * (1u << 20) / psz;
	step = (size_t)((double)npages * atof(argv[3]) / 100);
	span = (size_t)((double)npages * hot / 100);
	if (!npages || !step || !span || span > npages)
		return 2;
	buf = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	if (buf == MAP_FAILED || !gen)
		return 2;
	for (size_t i = 0; i < npages; i++) {
		gen[i] = 1;
		fill((uint64_t *)(buf + i * psz), psz / 8, i, 1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigfillset(&all);
	maps0 = read_all("/proc/self/maps");
	snprintf(line, sizeof(line), "%d\n", getpid());
	put("ready", line);
	while (!got_term) {
		if (got_usr1) {
			got_usr1 = 0;
			report_track(maps0);
		}
		if (manual) {
			struct timespec ts = { 0, 1000000 };

			if (got_hup) {
				got_hup = 0;
				for (size_t k = 0; k < step; k++) {
					gen[at]++;
					fill((uint64_t *)(buf + at * psz), psz / 8, at, gen[at]);
					at = (at + 1) % npages;
				}
				rounds++;
				snprintf(line, sizeof(line), "%llu\n", (unsigned long long)rounds);
				put("swept", line);
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (paused) {
			put("paused", "1\n");
			while (paused && !got_term && !got_usr1) {
				struct timespec ts = { 0, 2000000 };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		/* a sweep of step pages from where the last one stopped */
		for (size_t k = 0; k < step && !got_term && !paused && !got_usr1; k++) {
			gen[at]++;
			fill((uint64_t *)(buf + at * psz), psz / 8, at, gen[at]);
			at = (at + 1) % span;
		}
		rounds++;
		for (int t = 0; t < 50 && !got_term && !got_usr1; t++) {
			struct timespec ts = { 0, 2000000 }; /* 100 ms between sweeps */

			nanosleep(&ts, NULL);
		}
	}
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (size_t i = 0; i < npages; i++) {
		long bad = first_bad((uint64_t *)(buf + i * psz), psz / 8, i, gen[i]);

		if (bad >= 0) {
			snprintf(line, sizeof(line), "FAIL page %zu (gen %llu) differs at word %ld\n",
				 i, (unsigned long long)gen[i], bad);
			put("verdict", line);
			return 1;
		}
	}
	snprintf(line, sizeof(line), "PASS rounds %llu\n", (unsigned long long)rounds);
	put("verdict", line);
	return 0;
}
