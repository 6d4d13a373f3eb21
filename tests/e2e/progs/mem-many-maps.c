/*
 * Thousands of mappings, as a JVM or a browser has: 2000 anonymous ones
 * that cannot merge (protections alternate) and 1100 private mappings of
 * 1100 different files (more than criu's default 1024 open files), each
 * with its own contents, all still there and intact after restore.
 */
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>

TEST("thousands of mappings, anonymous and of >1024 distinct files, survive");

#define NR_ANON 2000
#define NR_FILES 1100

static long pg;

/* Every line of /proc/self/maps, in address order. */
struct map {
	unsigned long start, end;
	char perms[5];
	char path[80];
};
static struct map *maps;
static int nr_maps;

static int read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int cap = 8192;

	maps = calloc(cap, sizeof(*maps));
	if (!f || !maps)
		return -1;
	while (nr_maps < cap && fgets(line, sizeof(line), f)) {
		struct map *m = &maps[nr_maps];

		m->path[0] = 0;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %79s", &m->start, &m->end, m->perms,
			   m->path) >= 3)
			nr_maps++;
	}
	fclose(f);
	return 0;
}

static const struct map *find_map(const void *p)
{
	unsigned long a = (unsigned long)p;
	int lo = 0, hi = nr_maps;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (a < maps[mid].start)
			hi = mid;
		else if (a >= maps[mid].end)
			lo = mid + 1;
		else
			return &maps[mid];
	}
	return NULL;
}
static unsigned char *anon;
static unsigned char *files[NR_FILES];

int main(int argc, char **argv)
{
	char name[64];

	test_init(argc, argv);
	pg = sysconf(_SC_PAGESIZE);
	/* one reservation, then every other page made read-only: 3000 vmas */
	anon = mmap(NULL, NR_ANON * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (anon == MAP_FAILED)
		setup_fail("mmap: %s", strerror(errno));
	for (int i = 0; i < NR_ANON; i++)
		fill_pattern(anon + i * pg, pg, 0xa0000 + i);
	for (int i = 1; i < NR_ANON; i += 2)
		if (mprotect(anon + i * pg, pg, PROT_READ))
			setup_fail("mprotect: %s", strerror(errno));
	for (int i = 0; i < NR_FILES; i++) {
		unsigned char *buf = malloc(pg);
		int fd;

		fill_pattern(buf, pg, 0xf0000 + i);
		snprintf(name, sizeof(name), "map-%04d.dat", i);
		if (write_file(name, buf, pg) < 0)
			setup_fail("write %s: %s", name, strerror(errno));
		free(buf);
		fd = open(name, O_RDONLY);
		files[i] = fd < 0 ? MAP_FAILED : mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
		if (files[i] == MAP_FAILED)
			setup_fail("map %s: %s", name, strerror(errno));
		close(fd);
	}
	test_ready();
	test_wait();

	/* /proc/self/maps read once: a lookup per page would read it 3000 times */
	if (read_maps() < 0)
		fail("cannot read /proc/self/maps");
	for (int i = 0; i < NR_ANON && !test_failed(); i++) {
		const struct map *m = find_map(anon + i * pg);
		long at = check_pattern(anon + i * pg, pg, 0xa0000 + i);

		if (at >= 0)
			fail("anonymous page %d differs at byte %ld", i, at);
		else if (!m || strcmp(m->perms, i % 2 ? "r--p" : "rw-p"))
			fail("anonymous page %d is mapped '%s'", i, m ? m->perms : "(nothing)");
	}
	for (int i = 0; i < NR_FILES && !test_failed(); i++) {
		const struct map *m = find_map(files[i]);

		snprintf(name, sizeof(name), "/map-%04d.dat", i);
		if (check_pattern(files[i], pg, 0xf0000 + i) >= 0 || !m || !strstr(m->path, name))
			fail("file mapping %d is not map-%04d.dat as it was", i, i);
	}
	test_done();
}
