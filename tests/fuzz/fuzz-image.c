/*
 * libFuzzer target for the image reader and `criu show`.
 *
 * Input: one selector byte, then the bytes of an image file (magic included).
 *   0xff       the file is of unknown type, as `criu show -f` meets it: it is
 *              saved as "fuzz.img" and shown, so its magic decides the type.
 *   otherwise  the file is read as type selector % IMG_TYPE_MAX: through
 *              img_from_fd and img_read_pb (with payloads) the way dump and
 *              restore read it, then saved under that type's file name (the
 *              name is what makes a raw image raw) and shown.
 * Every show runs three times: text, text with -c, JSON.  The JSON must
 * parse (strictly, UTF-8 included) whether show succeeded or not: scripts
 * read whatever was printed.  A pages-1.img of two pages sits next to the
 * file, so that -c on a pagemap has pages to dump.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "options.h"
#include "show.h"

static int data_fd = -1;
static int dir_fd = -1;
static char dir_path[64];

#include "../json-check.h"

/* ---- the target ---------------------------------------------------------- */

/* UBSan reports are findings like any crash: stop at the first one. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static void cleanup(void)
{
	unlinkat(dir_fd, "pages-1.img", 0);
	rmdir(dir_path);
}

static int setup(void)
{
	static unsigned char page[8192];

	data_fd = memfd_create("fuzz-image", 0);
	snprintf(dir_path, sizeof(dir_path), "/tmp/fuzz-image.XXXXXX");
	if (data_fd < 0 || !mkdtemp(dir_path))
		return -1;
	dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY);
	if (dir_fd < 0)
		return -1;
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)(i * 7 + i / 4096);
	int fd = openat(dir_fd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		return -1;
	close(fd);
	/* Format every message the readers log, so that a bad format shows. */
	return log_init(AT_FDCWD, "/dev/null", LOG_DEBUG, 0);
}

static int load(const uint8_t *data, size_t size)
{
	if (ftruncate(data_fd, 0) || (size && pwrite(data_fd, data, size, 0) != (ssize_t)size))
		return -1;
	return lseek(data_fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

static void read_as(enum img_type type)
{
	struct cr_img *img = img_from_fd(dup(data_fd), "fuzz.img", type, false);
	ProtobufCMessage *m;

	if (!img)
		return;
	if (img_descs[type].set == IMG_SET_RAW) {
		char buf[4096];

		while (img_read_raw(img, buf, sizeof(buf)) == 0)
			;
	} else {
		while (img_read_pb(img, NULL, &m) > 0) {
			int ret = 0;

			if (img_descs[type].payload_size)
				ret = img_skip_raw(img, img_descs[type].payload_size(m));
			protobuf_c_message_free_unpacked(m, NULL);
			if (ret)
				break;
		}
	}
	img_close(img);
}

static void show_one(const char *name, bool json, bool content)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int ret;

	if (!out)
		abort();
	opts.show_pages_content = content;
	ret = show_image(out, dir_fd, name, json);
	fclose(out);
	if (json && len && !json_valid(text, len)) {
		fprintf(stderr, "show --json %s (ret %d) printed invalid JSON:\n%.*s\n", name, ret,
			(int)(len > 4096 ? 4096 : len), text);
		abort();
	}
	if (!ret && !len) {
		fprintf(stderr, "show %s succeeded and printed nothing\n", name);
		abort();
	}
	free(text);
}

static void show_as(const char *name, const uint8_t *data, size_t size)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	show_one(name, false, false);
	show_one(name, false, true);
	show_one(name, true, false);
	show_one(name, true, true);
	unlinkat(dir_fd, name, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[128];

	if (data_fd < 0 && setup())
		abort();
	if (size < 1)
		return 0;
	if (data[0] == 0xff) {
		show_as("fuzz.img", data + 1, size - 1);
		return 0;
	}
	enum img_type type = data[0] % IMG_TYPE_MAX;

	if (!load(data + 1, size - 1))
		read_as(type);
	/* id 2, so that the file never is the pages-1.img beside it */
	if (img_file_name(name, sizeof(name), type, 2) > 0)
		show_as(name, data + 1, size - 1);
	return 0;
}
