/*
 * Image files, wire-compatible with upstream CRIU's format version 2:
 * a 32-bit image-set magic (absent in inventory.img), the image's own 32-bit
 * magic, then entries, each a 32-bit little-endian length followed by a
 * packed protobuf message and, for some types, raw payload bytes.
 * pages-N.img files are raw: no magic, page data only.
 */
#ifndef CRIU_IMAGE_H
#define CRIU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "image-desc.h"

#define IMG_COMMON_MAGIC 0x54564319u
#define IMG_SERVICE_MAGIC 0x55105940u
#define RAW_IMAGE_MAGIC 0x0u

/* Refuse entries bigger than this, whatever the length field says. */
#define IMG_MAX_ENTRY_SIZE (64u << 20)

/* What sits in front of the per-image magic. */
enum img_set {
	IMG_SET_NONE,	 /* inventory.img: its own magic only */
	IMG_SET_COMMON,	 /* most images */
	IMG_SET_SERVICE, /* stats, irmap cache */
	IMG_SET_RAW,	 /* no magic at all (pages-N.img and other raw data) */
};

struct img_desc {
	const char *name;    /* short name used by show and in messages: "core" */
	const char *fmt;     /* file name, printf format taking at most one id */
	uint32_t magic;	     /* per-image magic */
	enum img_set set;
	/* The message of every entry, or of every entry after the head. */
	const ProtobufCMessageDescriptor *pb;
	/* Optional different message for the first entry (pagemap's head). */
	const ProtobufCMessageDescriptor *head_pb;
	/* Raw bytes that follow an entry (pipe data, socket queues), or NULL. */
	uint64_t (*payload_size)(const ProtobufCMessage *entry);
};

extern const struct img_desc img_descs[IMG_TYPE_MAX];

struct cr_img {
	int fd;
	enum img_type type;
	bool writing;
	bool head_done;	 /* the head entry (if any) was read or written */
	char name[256];	 /* file name, for messages */
	uint64_t off;	 /* offset of the next byte to read or write */
	uint64_t size;	 /* file size when reading */
	unsigned entry;	 /* index of the next entry, for messages */
	/* write buffer */
	unsigned char *buf;
	size_t buf_len;
};

/*
 * Opens an image relative to the images directory dirfd.  For writing the
 * file is created (truncated if present) and its magic written; for reading
 * the magic is checked.  The variadic argument is the id for formats that
 * take one (core-%u.img).  Returns NULL with a logged error; for reading,
 * errno is ENOENT when the image is simply absent.
 */
struct cr_img *img_open(int dirfd, enum img_type type, int flags, ...);

/* Opens a file by name and works out its type from its magic (or name). */
struct cr_img *img_open_any(int dirfd, const char *path);

/* Same from an already open fd (taken over by the image). */
struct cr_img *img_from_fd(int fd, const char *name, enum img_type type, bool writing);

/* Closes; for writers flushes and returns a negative errno if that failed. */
int img_close(struct cr_img *img);

/* Writes one entry: length, packed message. */
int img_write_pb(struct cr_img *img, const ProtobufCMessage *msg);

/*
 * Reads the next entry.  Returns 1 with *msg set (free it with
 * protobuf_c_message_free_unpacked), 0 at a clean end of file, a negative
 * errno on a truncated or corrupt entry (logged with file and offset).
 * desc NULL means the image's own entry type (its head type first).
 */
int img_read_pb(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg);

/* Reads exactly one entry and fails if there is none (single-entry images). */
int img_read_one(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg);

/* The only entry of a single-entry image (core, mm, fs, ...): as img_read_one,
 * and bytes after the entry are refused as trailing data. */
int img_read_single(struct cr_img *img, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **msg);

/* Raw data: exactly len bytes or an error naming the file and offset. */
int img_read_raw(struct cr_img *img, void *buf, size_t len);
int img_write_raw(struct cr_img *img, const void *buf, size_t len);
/* Skips len bytes of payload, checking they are there. */
int img_skip_raw(struct cr_img *img, uint64_t len);

/* Bytes not yet read (readers only). */
uint64_t img_bytes_left(const struct cr_img *img);

/* Flushes buffered writes and returns the fd for splice/vmsplice users. */
int img_raw_fd(struct cr_img *img);
/* Tells the image that n bytes were moved on its fd directly. */
void img_advance(struct cr_img *img, uint64_t n);

/* Formats the file name of an image type and id; returns the length. */
int img_file_name(char *buf, size_t size, enum img_type type, unsigned long id);

/* Looks an image type up by its short name ("core"), or -1. */
int img_type_by_name(const char *name);

/* Looks an image type up by set and magic; -1 if unknown. */
int img_type_by_magic(enum img_set set, uint32_t magic);

#endif
