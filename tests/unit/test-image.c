/* The image module: round trips, every corruption case, upstream fixtures. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "show.h"
#include "unit.h"

#include "proto/core.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pstree.pb-c.h"

static int scratch_dir(void)
{
	char tmpl[] = "img-XXXXXX"; /* in the runner's scratch dir */
	char *d = mkdtemp(tmpl);
	int fd;

	if (!d)
		return -1;
	fd = open(d, O_RDONLY | O_DIRECTORY);
	return fd;
}

static void write_file(int dirfd, const char *name, const void *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int fixtures_dir(void)
{
	const char *top = getenv("CRIU_TOP");
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/fixtures/upstream-images", top ? top : ".");
	return open(path, O_RDONLY | O_DIRECTORY);
}

TEST(inventory_round_trip)
{
	int dir = scratch_dir();
	InventoryEntry inv = INVENTORY_ENTRY__INIT, *back;
	struct cr_img *img;

	inv.img_version = 2;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	img = img_open(dir, IMG_INVENTORY, O_WRONLY);
	CHECK(img != NULL);
	CHECK_EQ(img_write_pb(img, &inv.base), 0);
	CHECK_EQ(img_close(img), 0);

	img = img_open(dir, IMG_INVENTORY, O_RDONLY);
	CHECK(img != NULL);
	CHECK_EQ(img_read_one(img, NULL, (ProtobufCMessage **)&back), 0);
	CHECK_EQ(back->img_version, 2);
	CHECK(back->has_fdinfo_per_id && back->fdinfo_per_id);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	img_close(img);
	unlinkat(dir, "inventory.img", 0);
	close(dir);
}

TEST(many_entries_and_ids)
{
	int dir = scratch_dir();
	struct cr_img *img = img_open(dir, IMG_PSTREE, O_WRONLY);
	PstreeEntry *back;
	int n = 0, ret;

	CHECK(img != NULL);
	for (int i = 1; i <= 5000; i++) {
		PstreeEntry e = PSTREE_ENTRY__INIT;

		e.pid = i;
		e.ppid = i - 1;
		CHECK_EQ(img_write_pb(img, &e.base), 0);
	}
	CHECK_EQ(img_close(img), 0);
	img = img_open(dir, IMG_PSTREE, O_RDONLY);
	while ((ret = img_read_pb(img, NULL, (ProtobufCMessage **)&back)) > 0) {
		n++;
		CHECK_EQ(back->pid, n);
		protobuf_c_message_free_unpacked(&back->base, NULL);
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(n, 5000);
	img_close(img);
	unlinkat(dir, "pstree.img", 0);

	img = img_open(dir, IMG_CORE, O_WRONLY, 4242UL);
	CHECK(img != NULL);
	img_close(img);
	CHECK_EQ(faccessat(dir, "core-4242.img", F_OK, 0), 0);
	unlinkat(dir, "core-4242.img", 0);
	close(dir);
}

TEST(missing_image_is_enoent)
{
	int dir = scratch_dir();

	errno = 0;
	CHECK(img_open(dir, IMG_CORE, O_RDONLY, 1UL) == NULL);
	CHECK_EQ(errno, ENOENT);
	close(dir);
}

/* Builds "common magic, pstree magic" + body in a file and tries to read it. */
static int read_pstree_file(int dir, const void *body, size_t len, bool with_magic)
{
	unsigned char buf[256];
	uint32_t magic[2] = { htole32(IMG_COMMON_MAGIC), htole32(img_descs[IMG_PSTREE].magic) };
	size_t n = 0;
	struct cr_img *img;
	ProtobufCMessage *m;
	int ret, entries = 0;

	if (with_magic) {
		memcpy(buf, magic, sizeof(magic));
		n = sizeof(magic);
	}
	memcpy(buf + n, body, len);
	write_file(dir, "pstree.img", buf, n + len);
	img = img_open(dir, IMG_PSTREE, O_RDONLY);
	unlinkat(dir, "pstree.img", 0);
	if (!img)
		return -1000;
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		entries++;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_close(img);
	return ret < 0 ? ret : entries;
}

TEST(corrupt_images_are_refused)
{
	int dir = scratch_dir();
	/* a valid entry: pid=1, ppid=0, pgid=1, sid=1 (all required) */
	unsigned char ok[] = { 8, 0, 0, 0, 0x08, 0x01, 0x10, 0x00, 0x18, 0x01, 0x20, 0x01 };
	unsigned char short_len[] = { 2, 0 };
	unsigned char short_body[] = { 9, 0, 0, 0, 0x08, 0x01 };
	unsigned char huge_len[] = { 0xff, 0xff, 0xff, 0xff, 0x08 };
	unsigned char garbage[] = { 3, 0, 0, 0, 0xff, 0xff, 0xff };
	/* field 1 with wire type 2 (length-delimited) where a varint is expected */
	unsigned char wrong_wire[] = { 3, 0, 0, 0, 0x0a, 0x05, 0x01 };
	uint32_t bad_magic[2] = { htole32(IMG_COMMON_MAGIC), htole32(0x12345678) };
	uint32_t bad_set[2] = { htole32(0x11111111), htole32(img_descs[IMG_PSTREE].magic) };

	CHECK_EQ(read_pstree_file(dir, ok, sizeof(ok), true), 1);
	CHECK_EQ(read_pstree_file(dir, "", 0, true), 0);
	CHECK(read_pstree_file(dir, short_len, sizeof(short_len), true) < 0);
	CHECK(read_pstree_file(dir, short_body, sizeof(short_body), true) < 0);
	CHECK(read_pstree_file(dir, huge_len, sizeof(huge_len), true) < 0);
	CHECK(read_pstree_file(dir, garbage, sizeof(garbage), true) < 0);
	CHECK(read_pstree_file(dir, wrong_wire, sizeof(wrong_wire), true) < 0);
	CHECK_EQ(read_pstree_file(dir, bad_magic, 2, false), -1000);
	CHECK_EQ(read_pstree_file(dir, bad_magic, sizeof(bad_magic), false), -1000);
	CHECK_EQ(read_pstree_file(dir, bad_set, sizeof(bad_set), false), -1000);
	close(dir);
}

TEST(single_entry_image_requires_an_entry)
{
	int dir = scratch_dir();
	struct cr_img *img = img_open(dir, IMG_INVENTORY, O_WRONLY);
	ProtobufCMessage *m;

	img_close(img);
	img = img_open(dir, IMG_INVENTORY, O_RDONLY);
	CHECK(img != NULL);
	CHECK(img_read_one(img, NULL, &m) < 0);
	img_close(img);
	unlinkat(dir, "inventory.img", 0);
	close(dir);
}

TEST(raw_data_and_payloads)
{
	int dir = scratch_dir();
	struct cr_img *img = img_open(dir, IMG_PIPES_DATA, O_WRONLY);
	PipeDataEntry pd = PIPE_DATA_ENTRY__INIT, *back;
	char buf[8];

	pd.pipe_id = 7;
	pd.bytes = 5;
	CHECK_EQ(img_write_pb(img, &pd.base), 0);
	CHECK_EQ(img_write_raw(img, "hello", 5), 0);
	CHECK_EQ(img_close(img), 0);

	img = img_open(dir, IMG_PIPES_DATA, O_RDONLY);
	CHECK_EQ(img_read_one(img, NULL, (ProtobufCMessage **)&back), 0);
	CHECK_EQ(back->pipe_id, 7);
	CHECK_EQ(img_descs[IMG_PIPES_DATA].payload_size(&back->base), 5);
	CHECK_EQ(img_read_raw(img, buf, 5), 0);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK(img_read_raw(img, buf, 1) < 0);
	CHECK(img_skip_raw(img, 1) < 0);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	img_close(img);
	unlinkat(dir, "pipes-data.img", 0);
	close(dir);
}

TEST(type_lookups)
{
	char name[64];

	CHECK_EQ(img_type_by_name("core"), IMG_CORE);
	CHECK_EQ(img_type_by_name("no-such-image"), -1);
	CHECK_EQ(img_type_by_magic(IMG_SET_COMMON, img_descs[IMG_CORE].magic), IMG_CORE);
	CHECK_EQ(img_type_by_magic(IMG_SET_NONE, img_descs[IMG_INVENTORY].magic), IMG_INVENTORY);
	CHECK_EQ(img_type_by_magic(IMG_SET_COMMON, 0xdeadbeef), -1);
	img_file_name(name, sizeof(name), IMG_PAGES, 3);
	CHECK_STR(name, "pages-3.img");
	/* every described type has a name, a file name and (but raw) a message */
	for (int t = 0; t < IMG_TYPE_MAX; t++) {
		CHECK(img_descs[t].name != NULL);
		CHECK(img_descs[t].fmt != NULL);
		CHECK(img_descs[t].set == IMG_SET_RAW || img_descs[t].pb != NULL);
	}
}

static int count_fixture_entries(int dir, const char *name, unsigned *unknown)
{
	struct cr_img *img = img_open_any(dir, name);
	ProtobufCMessage *m;
	int n = 0, ret;

	if (!img)
		return -1;
	if (img_descs[img->type].set == IMG_SET_RAW) {
		img_close(img);
		return 0;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		n++;
		*unknown += m->n_unknown_fields;
		if (img_descs[img->type].payload_size)
			ret = img_skip_raw(img, img_descs[img->type].payload_size(m));
		protobuf_c_message_free_unpacked(m, NULL);
		if (ret < 0)
			break;
	}
	img_close(img);
	return ret < 0 ? ret : n;
}

TEST(upstream_fixtures_decode)
{
	int dir = fixtures_dir();
	DIR *d;
	struct dirent *de;
	int images = 0;

	CHECK(dir >= 0);
	if (dir < 0)
		return;
	d = fdopendir(dup(dir));
	while ((de = readdir(d))) {
		unsigned unknown = 0;
		int n;

		if (!strstr(de->d_name, ".img") && strcmp(de->d_name, "stats-dump"))
			continue;
		n = count_fixture_entries(dir, de->d_name, &unknown);
		if (n < 0 || unknown)
			printf("  fixture %s: %d entries, %u unknown fields\n", de->d_name, n, unknown);
		CHECK(n >= 0);
		CHECK_EQ(unknown, 0);
		if (!strstr(de->d_name, "pages-"))
			CHECK(n > 0);
		images++;
	}
	closedir(d);
	CHECK(images >= 20);
	close(dir);
}

TEST(upstream_fixture_values)
{
	int dir = fixtures_dir();
	struct cr_img *img;
	PstreeEntry *pe;
	PipeDataEntry *pd;
	char data[5];
	bool saw_thread = false;

	CHECK(dir >= 0);
	if (dir < 0)
		return;
	img = img_open(dir, IMG_PSTREE, O_RDONLY);
	CHECK(img != NULL);
	CHECK_EQ(img_read_pb(img, NULL, (ProtobufCMessage **)&pe), 1);
	CHECK_EQ(pe->pid, 16517);
	for (size_t i = 0; i < pe->n_threads; i++)
		saw_thread |= pe->threads[i] == 16519;
	CHECK(saw_thread);
	protobuf_c_message_free_unpacked(&pe->base, NULL);
	CHECK_EQ(img_read_pb(img, NULL, (ProtobufCMessage **)&pe), 1);
	CHECK_EQ(pe->pid, 16520);
	CHECK_EQ(pe->ppid, 16517);
	protobuf_c_message_free_unpacked(&pe->base, NULL);
	img_close(img);

	img = img_open(dir, IMG_PIPES_DATA, O_RDONLY);
	CHECK_EQ(img_read_one(img, NULL, (ProtobufCMessage **)&pd), 0);
	CHECK_EQ(pd->bytes, 5);
	CHECK_EQ(img_read_raw(img, data, 5), 0);
	CHECK(!memcmp(data, "hello", 5));
	protobuf_c_message_free_unpacked(&pd->base, NULL);
	img_close(img);
	close(dir);
}

TEST(show_decodes_every_fixture)
{
	int dir = fixtures_dir();
	DIR *d;
	struct dirent *de;
	FILE *out = fopen("/dev/null", "w");

	CHECK(dir >= 0);
	if (dir < 0)
		return;
	d = fdopendir(dup(dir));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".md") || strstr(de->d_name, ".c"))
			continue;
		CHECK_EQ(show_image(out, dir, de->d_name, false), 0);
		CHECK_EQ(show_image(out, dir, de->d_name, true), 0);
	}
	closedir(d);
	fclose(out);
	close(dir);
}

UNIT_MAIN()
