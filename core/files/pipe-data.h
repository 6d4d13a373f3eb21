/*
 * What is in flight in a pipe or a FIFO (pipe.c, fifo.c): copied at dump
 * without taking it, written as PipeDataEntry + raw bytes (pipes-data.img,
 * fifo-data.img: one format), and put back on restore.
 */
#ifndef CRIU_FILES_PIPE_DATA_H
#define CRIU_FILES_PIPE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image-desc.h"
#include "image.h"

struct restore_ctx;

/* dump: one pipe's size and the bytes queued in it */
struct pipe_queue {
	unsigned int size; /* F_GETPIPE_SZ, 0 when unknown */
	char *data;
	size_t bytes;
};

/* copies what fd's pipe holds with tee() from fd, which must read it */
int pipe_queue_peek(int fd, struct pipe_queue *q);
/* one PipeDataEntry of pipe_id, then the bytes */
int pipe_queue_write(struct cr_img *img, uint32_t pipe_id, const struct pipe_queue *q);

/* restore: an image of these entries, read once */
struct pipe_data_entry {
	uint32_t pipe_id;
	size_t off; /* in data */
	uint32_t bytes, size;
};

struct pipe_data {
	uint8_t *data;
	struct pipe_data_entry *e;
	size_t nr;
};

/* reads image type (an absent image holds nothing) */
int pipe_data_read(struct restore_ctx *rc, enum img_type type, struct pipe_data *pd);
/* pipe_id's entry (the first of it), or NULL */
const struct pipe_data_entry *pipe_data_find(const struct pipe_data *pd, uint32_t pipe_id);
/* gives wfd's pipe e's size and writes e's bytes in; what names it in errors */
int pipe_data_refill(int wfd, const struct pipe_data *pd, const struct pipe_data_entry *e,
		     const char *what);
void pipe_data_free(struct pipe_data *pd);

#endif
