/*
 * core/pagemap-chain.c: a chain of three images directories built here
 * (each page holds one byte naming the level and the page), read through
 * by pchain_flatten(), split by pchain_piece(), deduplicated; and the bad
 * chains: a broken parent link, a parent without the task's pagemap, a
 * link to itself.
 *
 *   L0  0x10000: 8 pages present                    (bytes 0x00..0x07)
 *   L1  0x10000: 2 parent, 0x12000: 2 present (0x12, 0x13), 0x14000: 4 parent
 *       (in upstream's older spelling: compat_nr_pages and in_parent)
 *   L2  0x10000: 1 present (0x20), 0x11000: 7 parent
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "pagemap-chain.h"
#include "show.h"
#include "unit.h"

#define PID 4242
#define BASE 0x10000ULL

static char root[64];
static long psz;

struct run {
	uint64_t page; /* from BASE */
	uint64_t nr;
	bool present;
};

static int mkdir_at(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	mkdir(path, 0755);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* level lv's pagemap and pages image: present pages hold 0x10 * lv + page;
 * old: upstream's older spelling (compat_nr_pages, in_parent, no flags) */
static void write_level(int dirfd, int lv, const struct run *r, size_t n, bool old)
{
	struct cr_img *pm = img_open(dirfd, IMG_PAGEMAP, O_WRONLY, (unsigned long)PID);
	PagemapHead head = PAGEMAP_HEAD__INIT;
	char *page = malloc((size_t)psz);
	int pages = openat(dirfd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	head.pages_id = 1;
	img_write_pb(pm, &head.base);
	for (size_t i = 0; i < n; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = BASE + r[i].page * (uint64_t)psz;
		if (old) {
			pe.compat_nr_pages = (uint32_t)r[i].nr;
			pe.has_in_parent = !r[i].present;
			pe.in_parent = !r[i].present;
		} else {
			pe.has_nr_pages = true;
			pe.nr_pages = r[i].nr;
			pe.has_flags = true;
			pe.flags = r[i].present ? PAGEMAP_PE_PRESENT : PAGEMAP_PE_PARENT;
		}
		img_write_pb(pm, &pe.base);
		for (uint64_t k = 0; r[i].present && k < r[i].nr; k++) {
			memset(page, 0x10 * lv + (int)(r[i].page + k), (size_t)psz);
			if (write(pages, page, (size_t)psz) != psz)
				abort();
		}
	}
	img_close(pm);
	close(pages);
	free(page);
}

static int l0, l1, l2;

static void build_chain(void)
{
	static const struct run r0[] = { { 0, 8, true } };
	static const struct run r1[] = { { 0, 2, false }, { 2, 2, true }, { 4, 4, false } };
	static const struct run r2[] = { { 0, 1, true }, { 1, 7, false } };
	char path[128];

	psz = sysconf(_SC_PAGESIZE);
	snprintf(root, sizeof(root), "/tmp/criu-unit-chain.XXXXXX");
	if (!mkdtemp(root))
		abort();
	l0 = mkdir_at("L0");
	l1 = mkdir_at("L1");
	l2 = mkdir_at("L2");
	write_level(l0, 0, r0, 1, false);
	write_level(l1, 1, r1, 3, true); /* as older upstream images have it */
	write_level(l2, 2, r2, 2, false);
	snprintf(path, sizeof(path), "%s/L1/parent", root);
	if (symlink("../L0", path))
		abort();
	snprintf(path, sizeof(path), "%s/L2/parent", root);
	if (symlink("../L1", path))
		abort();
}

static void remove_chain(void)
{
	char cmd[160];

	close(l0);
	close(l1);
	close(l2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		abort();
}

/* The top pagemap's entries, as restore reads them. */
static size_t top_entries(PagemapEntry ***out, int dirfd)
{
	struct cr_img *img = img_open(dirfd, IMG_PAGEMAP, O_RDONLY, (unsigned long)PID);
	ProtobufCMessage *m;
	PagemapEntry **pm = calloc(16, sizeof(*pm));
	size_t n = 0;

	img_read_pb(img, NULL, &m);
	protobuf_c_message_free_unpacked(m, NULL);
	while (n < 16 && img_read_pb(img, &pagemap_entry__descriptor, &m) > 0)
		pm[n++] = (PagemapEntry *)m;
	img_close(img);
	*out = pm;
	return n;
}

static void free_entries(PagemapEntry **pm, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&pm[i]->base, NULL);
	free(pm);
}

/* the byte every page of the flattened chain holds, -1 for a mixed page */
static int page_byte(int fd, uint64_t page)
{
	unsigned char *buf = malloc((size_t)psz);
	int b;

	if (pread(fd, buf, (size_t)psz, (off_t)(page * (uint64_t)psz)) != psz) {
		free(buf);
		return -2;
	}
	b = buf[0];
	for (long i = 1; i < psz; i++)
		if (buf[i] != b)
			b = -1;
	free(buf);
	return b;
}

TEST(flatten_reads_every_page_from_the_level_that_holds_it)
{
	static const int want[8] = { 0x20, 0x01, 0x12, 0x13, 0x04, 0x05, 0x06, 0x07 };
	PagemapEntry **pm;
	size_t n;
	int fd = -1;

	build_chain();
	n = top_entries(&pm, l2);
	CHECK_EQ(n, (size_t)2);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), 0);
	CHECK(fd >= 0);
	for (uint64_t p = 0; p < 8; p++)
		CHECK_EQ(page_byte(fd, p), want[p]);
	/* and every entry is now plain */
	for (size_t i = 0; i < n; i++)
		CHECK(pchain_entry_present(pm[i]));
	close(fd);
	free_entries(pm, n);
	/* a pagemap without parent entries is left as it is */
	n = top_entries(&pm, l0);
	CHECK_EQ(pchain_flatten(l0, PID, pm, n, &fd), 0);
	CHECK_EQ(fd, -1);
	free_entries(pm, n);
	remove_chain();
}

TEST(piece_splits_a_run_by_what_the_parent_covers)
{
	struct pchain_level *l = NULL;
	bool covered;

	build_chain();
	CHECK_EQ(pchain_load(l1, PID, false, &l), 0);
	CHECK(l != NULL);
	/* L1 covers all 8 pages (present or parent: either way in the chain) */
	CHECK_EQ(pchain_piece(l, BASE - 2 * psz, BASE + 8 * psz, &covered), BASE);
	CHECK(!covered);
	CHECK_EQ(pchain_piece(l, BASE, BASE + 16 * psz, &covered), BASE + 8 * psz);
	CHECK(covered);
	CHECK_EQ(pchain_piece(l, BASE + 3 * psz, BASE + 5 * psz, &covered), BASE + 5 * psz);
	CHECK(covered);
	CHECK_EQ(pchain_piece(l, BASE + 8 * psz, BASE + 9 * psz, &covered), BASE + 9 * psz);
	CHECK(!covered);
	CHECK_EQ(pchain_piece(NULL, BASE, BASE + psz, &covered), BASE + psz);
	CHECK(!covered);
	pchain_free(l);
	remove_chain();
}

TEST(dedup_punches_what_the_child_holds_and_the_chain_still_reads)
{
	static const int want[8] = { 0x20, 0x01, 0x12, 0x13, 0x04, 0x05, 0x06, 0x07 };
	uint64_t punched = 0;
	PagemapEntry **pm;
	size_t n;
	int fd = -1, pages;

	build_chain();
	/* L2 holds page 0: L0's copy goes (L1 had it in its parent) */
	CHECK_EQ(pchain_dedup_task(l2, PID, &punched), 0);
	CHECK_EQ(punched, (uint64_t)1);
	pages = openat(l0, "pages-1.img", O_RDONLY);
	CHECK_EQ(page_byte(pages, 0), 0);
	CHECK_EQ(page_byte(pages, 1), 0x01);
	close(pages);
	/* L1 holds pages 2 and 3: L0's copies go */
	punched = 0;
	CHECK_EQ(pchain_dedup_task(l1, PID, &punched), 0);
	CHECK_EQ(punched, (uint64_t)2);
	n = top_entries(&pm, l2);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), 0);
	for (uint64_t p = 0; p < 8; p++)
		CHECK_EQ(page_byte(fd, p), want[p]);
	close(fd);
	free_entries(pm, n);
	remove_chain();
}

TEST(bad_chains_are_refused)
{
	char path[160];
	PagemapEntry **pm;
	size_t n;
	int fd = -1;

	build_chain();
	n = top_entries(&pm, l2);
	/* a link to nowhere */
	snprintf(path, sizeof(path), "%s/L2/parent", root);
	unlink(path);
	CHECK_EQ(symlink("../nowhere", path), 0);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), -ENOENT);
	CHECK_EQ(fd, -1);
	free_entries(pm, n);
	/* no link at all */
	unlink(path);
	n = top_entries(&pm, l2);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), -ENOENT);
	free_entries(pm, n);
	/* a parent without this task's pagemap */
	mkdir_at("empty");
	CHECK_EQ(symlink("../empty", path), 0);
	n = top_entries(&pm, l2);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), -ENOENT);
	free_entries(pm, n);
	/* a link to itself */
	unlink(path);
	CHECK_EQ(symlink(".", path), 0);
	n = top_entries(&pm, l2);
	CHECK_EQ(pchain_flatten(l2, PID, pm, n, &fd), -ELOOP);
	free_entries(pm, n);
	remove_chain();
}

UNIT_MAIN()
