/* img_read_single: the only entry of a single-entry image, nothing after it. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "image.h"
#include "unit.h"

#include "proto/fs.pb-c.h"

static int scratch_dir(void)
{
	char tmpl[] = "img-XXXXXX"; /* in the runner's scratch dir */
	char *d = mkdtemp(tmpl);

	return d ? open(d, O_RDONLY | O_DIRECTORY) : -1;
}

/* fs-7.img with one entry, then extra bytes after it */
static void write_fs(int dir, const char *extra, size_t n)
{
	FsEntry fs = FS_ENTRY__INIT;
	struct cr_img *img = img_open(dir, IMG_FS, O_WRONLY, 7ul);

	fs.cwd_id = 1;
	fs.root_id = 2;
	CHECK(img != NULL);
	CHECK_EQ(img_write_pb(img, &fs.base), 0);
	if (n)
		CHECK_EQ(img_write_raw(img, extra, n), 0);
	CHECK_EQ(img_close(img), 0);
}

static int read_single(int dir, int *one)
{
	ProtobufCMessage *m = NULL;
	struct cr_img *img = img_open(dir, IMG_FS, O_RDONLY, 7ul);
	int ret;

	CHECK(img != NULL);
	ret = img_read_single(img, NULL, &m);
	CHECK(ret ? m == NULL : m != NULL);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	img_close(img);
	/* img_read_one reads the first entry whatever follows */
	img = img_open(dir, IMG_FS, O_RDONLY, 7ul);
	*one = img_read_one(img, NULL, &m);
	if (!*one)
		protobuf_c_message_free_unpacked(m, NULL);
	img_close(img);
	return ret;
}

TEST(single_entry_alone)
{
	int dir = scratch_dir(), one;

	write_fs(dir, NULL, 0);
	CHECK_EQ(read_single(dir, &one), 0);
	CHECK_EQ(one, 0);
	unlinkat(dir, "fs-7.img", 0);
	close(dir);
}

TEST(single_entry_trailing_data)
{
	int dir = scratch_dir(), one;

	write_fs(dir, "\x01\x02\x03", 3);
	CHECK(read_single(dir, &one) < 0);
	CHECK_EQ(one, 0);
	/* a second whole entry is trailing data too */
	write_fs(dir, "\x04\x00\x00\x00\x08\x01\x10\x02", 8);
	CHECK(read_single(dir, &one) < 0);
	unlinkat(dir, "fs-7.img", 0);
	close(dir);
}

UNIT_MAIN()
