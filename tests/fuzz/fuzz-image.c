/*
 * libFuzzer target for the image reader and `criu show`.  The first byte
 * picks how the rest is read: as a given image type through img_from_fd and
 * img_read_pb (with payloads), or, for 0xff, through show_image in text and
 * JSON the way `criu show -f` reads a file of unknown type.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "show.h"

static int data_fd = -1;
static FILE *devnull;

static int load(const uint8_t *data, size_t size)
{
	if (data_fd < 0) {
		data_fd = memfd_create("fuzz-image", 0);
		devnull = fopen("/dev/null", "w");
		log_set_level(LOG_MSG);
	}
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];

	if (size < 1 || load(data + 1, size - 1))
		return 0;
	if (data[0] == 0xff) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", data_fd);
		show_image(devnull, AT_FDCWD, path, false);
		show_image(devnull, AT_FDCWD, path, true);
	} else {
		read_as(data[0] % IMG_TYPE_MAX);
	}
	return 0;
}
