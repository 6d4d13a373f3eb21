/* The data in flight of pipes and FIFOs: see pipe-data.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdkind.h"
#include "log.h"
#include "pipe-data.h"
#include "proto/pipe-data.pb-c.h"

int pipe_queue_peek(int fd, struct pipe_queue *q)
{
	int tp[2] = { -1, -1 }, size, ret = 0;
	ssize_t n;

	size = fcntl(fd, F_GETPIPE_SZ);
	q->size = size > 0 ? (unsigned int)size : 0;
	/* a pipe of ours as big as the task's, so tee takes all in one go */
	if (pipe2(tp, O_CLOEXEC | O_NONBLOCK) || (size > 0 && fcntl(tp[1], F_SETPIPE_SZ, size) < 0)) {
		ret = -errno;
		goto out;
	}
	n = tee(fd, tp[1], (size_t)(size > 0 ? size : 65536), SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		ret = -errno;
		goto out;
	}
	if (n > 0) {
		q->data = malloc((size_t)n);
		if (!q->data) {
			ret = -ENOMEM;
			goto out;
		}
		if (read(tp[0], q->data, (size_t)n) != n) {
			ret = -EIO;
			goto out;
		}
		q->bytes = (size_t)n;
	}
out:
	if (tp[0] >= 0)
		close(tp[0]);
	if (tp[1] >= 0)
		close(tp[1]);
	return ret;
}

int pipe_queue_write(struct cr_img *img, uint32_t pipe_id, const struct pipe_queue *q)
{
	PipeDataEntry e = PIPE_DATA_ENTRY__INIT;
	int ret;

	e.pipe_id = pipe_id;
	e.bytes = (uint32_t)q->bytes;
	e.has_size = q->size != 0;
	e.size = q->size;
	ret = img_write_pb(img, &e.base);
	if (!ret && q->bytes)
		ret = img_write_raw(img, q->data, q->bytes);
	return ret;
}

int pipe_data_read(struct restore_ctx *rc, enum img_type type, struct pipe_data *pd)
{
	struct cr_img *img = img_open(rc_images_dirfd(rc), type, O_RDONLY);
	ProtobufCMessage *m;
	size_t used = 0;
	int ret;

	if (!img)
		return errno == ENOENT ? 0 : -EIO;
	/* the raw bytes are fewer than the image's */
	pd->data = malloc((size_t)img_bytes_left(img) + 1);
	if (!pd->data) {
		img_close(img);
		return -ENOMEM;
	}
	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		PipeDataEntry *e = (PipeDataEntry *)m;
		struct pipe_data_entry *n = realloc(pd->e, (pd->nr + 1) * sizeof(*n));

		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		pd->e = n;
		pd->e[pd->nr++] = (struct pipe_data_entry){ e->pipe_id, used, e->bytes,
							    e->has_size ? e->size : 0 };
		ret = img_read_raw(img, pd->data + used, e->bytes);
		used += e->bytes;
		protobuf_c_message_free_unpacked(m, NULL);
		if (ret)
			break;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

const struct pipe_data_entry *pipe_data_find(const struct pipe_data *pd, uint32_t pipe_id)
{
	for (size_t i = 0; i < pd->nr; i++)
		if (pd->e[i].pipe_id == pipe_id)
			return &pd->e[i];
	return NULL;
}

int pipe_data_refill(int wfd, const struct pipe_data *pd, const struct pipe_data_entry *e,
		     const char *what)
{
	ssize_t n;

	if (!e)
		return 0;
	if (e->size && fcntl(wfd, F_SETPIPE_SZ, (int)e->size) < (int)e->size) {
		pr_perror("can't give %s its size of %u bytes", what, e->size);
		return -errno ? -errno : -EINVAL;
	}
	if (!e->bytes)
		return 0;
	/* wfd is non-blocking: bytes that do not fit (an image's size too
	 * small) fail the restore instead of hanging it */
	n = write(wfd, pd->data + e->off, e->bytes);
	if (n != (ssize_t)e->bytes) {
		pr_err("can't refill %s with %u bytes: %s\n", what, e->bytes,
		       n < 0 ? strerror(errno) : "they do not fit in it");
		return -EIO;
	}
	return 0;
}

void pipe_data_free(struct pipe_data *pd)
{
	free(pd->data);
	free(pd->e);
	*pd = (struct pipe_data){ 0 };
}
