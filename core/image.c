/*
 * Reading and writing image files.  Readers trust nothing: every length is
 * checked against the bytes left in the file before anything is allocated,
 * and every failure names the file, the entry and its offset.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsafe.h"
#include "image.h"
#include "image-desc.h"
#include "fault.h"
#include "log.h"

#define IMG_WBUF_SIZE (256u << 10)

static int full_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* Returns bytes read (short only at end of file) or a negative errno. */
static ssize_t full_read(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

static int img_flush(struct cr_img *img)
{
	int ret;

	if (!img->buf_len)
		return 0;
	ret = full_write(img->fd, img->buf, img->buf_len);
	img->buf_len = 0;
	if (ret)
		pr_err("image %s: write failed at offset %llu: %s\n", img->name,
		       (unsigned long long)img->off, strerror(-ret));
	return ret;
}

static int img_put(struct cr_img *img, const void *data, size_t len)
{
	if (img->buf_len + len > IMG_WBUF_SIZE) {
		int ret = img_flush(img);

		if (ret)
			return ret;
	}
	if (len >= IMG_WBUF_SIZE) {
		int ret = full_write(img->fd, data, len);

		if (ret) {
			pr_err("image %s: write failed at offset %llu: %s\n", img->name,
			       (unsigned long long)img->off, strerror(-ret));
			return ret;
		}
	} else {
		memcpy(img->buf + img->buf_len, data, len);
		img->buf_len += len;
	}
	img->off += len;
	return 0;
}

static int img_get(struct cr_img *img, void *buf, size_t len, const char *what)
{
	ssize_t n;

	if (len > img->size - img->off) {
		pr_err("image %s: entry %u at offset %llu: truncated %s (need %zu bytes, %llu left)\n",
		       img->name, img->entry, (unsigned long long)img->off, what, len,
		       (unsigned long long)(img->size - img->off));
		return -EINVAL;
	}
	n = full_read(img->fd, buf, len);
	if (n < 0) {
		pr_err("image %s: read failed at offset %llu: %s\n", img->name,
		       (unsigned long long)img->off, strerror((int)-n));
		return (int)n;
	}
	if ((size_t)n != len) {
		pr_err("image %s: entry %u at offset %llu: file shrank while reading %s\n",
		       img->name, img->entry, (unsigned long long)img->off, what);
		return -EIO;
	}
	img->off += len;
	return 0;
}

static struct cr_img *img_alloc(int fd, const char *name, enum img_type type, bool writing)
{
	struct cr_img *img = calloc(1, sizeof(*img));

	if (!img) {
		pr_err("image %s: out of memory\n", name);
		return NULL;
	}
	img->fd = fd;
	img->type = type;
	img->writing = writing;
	snprintf(img->name, sizeof(img->name), "%s", name);
	if (writing) {
		img->buf = malloc(IMG_WBUF_SIZE);
		if (!img->buf) {
			pr_err("image %s: out of memory\n", name);
			free(img);
			return NULL;
		}
	}
	return img;
}

static void img_free(struct cr_img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->buf);
	free(img);
}

static int img_write_magic(struct cr_img *img)
{
	const struct img_desc *d = &img_descs[img->type];
	uint32_t words[2];
	int n = 0;

	if (d->set == IMG_SET_COMMON)
		words[n++] = htole32(IMG_COMMON_MAGIC);
	else if (d->set == IMG_SET_SERVICE)
		words[n++] = htole32(IMG_SERVICE_MAGIC);
	if (d->set != IMG_SET_RAW)
		words[n++] = htole32(d->magic);
	return n ? img_put(img, words, n * sizeof(words[0])) : 0;
}

static int img_check_magic(struct cr_img *img)
{
	const struct img_desc *d = &img_descs[img->type];
	uint32_t word;
	int ret;

	if (d->set == IMG_SET_RAW)
		return 0;
	if (d->set == IMG_SET_COMMON || d->set == IMG_SET_SERVICE) {
		uint32_t want = d->set == IMG_SET_COMMON ? IMG_COMMON_MAGIC : IMG_SERVICE_MAGIC;

		ret = img_get(img, &word, sizeof(word), "image-set magic");
		if (ret)
			return ret;
		if (le32toh(word) != want) {
			pr_err("image %s: bad image-set magic 0x%08x (want 0x%08x)\n", img->name,
			       le32toh(word), want);
			return -EINVAL;
		}
	}
	ret = img_get(img, &word, sizeof(word), "magic");
	if (ret)
		return ret;
	if (le32toh(word) != d->magic) {
		pr_err("image %s: bad magic 0x%08x: not a %s image (want 0x%08x)\n", img->name,
		       le32toh(word), d->name, d->magic);
		return -EINVAL;
	}
	return 0;
}

static int img_stat_size(struct cr_img *img)
{
	struct stat st;

	if (fstat(img->fd, &st)) {
		pr_perror("image %s: can't stat", img->name);
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("image %s: not a regular file\n", img->name);
		return -EINVAL;
	}
	img->size = st.st_size;
	return 0;
}

struct cr_img *img_from_fd(int fd, const char *name, enum img_type type, bool writing)
{
	struct cr_img *img;

	if ((unsigned)type >= IMG_TYPE_MAX) {
		pr_err("image %s: unknown image type %d\n", name, type);
		close(fd);
		return NULL;
	}
	img = img_alloc(fd, name, type, writing);
	if (!img) {
		close(fd);
		return NULL;
	}
	if (writing ? img_write_magic(img) : (img_stat_size(img) || img_check_magic(img))) {
		img_free(img);
		errno = EINVAL;
		return NULL;
	}
	return img;
}

struct cr_img *img_open(int dirfd, enum img_type type, int flags, ...)
{
	char name[256];
	unsigned long id = 0;
	bool writing = (flags & O_ACCMODE) != O_RDONLY;
	va_list args;
	int fd;

	if ((unsigned)type >= IMG_TYPE_MAX) {
		pr_err("unknown image type %d\n", type);
		errno = EINVAL;
		return NULL;
	}
	va_start(args, flags);
	if (strchr(img_descs[type].fmt, '%'))
		id = va_arg(args, unsigned long);
	va_end(args);
	img_file_name(name, sizeof(name), type, id);

	if (writing && fault_point(name))
		return NULL;
	if (writing)
		fd = fs_create(dirfd, name, O_WRONLY | O_TRUNC, 0600);
	else
		fd = fs_open_read(dirfd, name, 0);
	if (fd < 0) {
		int err = errno;

		if (!(err == ENOENT && !writing))
			pr_err("image %s: can't %s: %s\n", name, writing ? "create" : "open",
			       fs_strerror(err));
		errno = err;
		return NULL;
	}
	return img_from_fd(fd, name, type, writing);
}

/* A raw image is recognised by its file name, anything else by its magic. */
static int img_guess_type(int fd, const char *path)
{
	const char *base = strrchr(path, '/');
	uint32_t words[2] = { 0, 0 };
	ssize_t n;

	base = base ? base + 1 : path;
	for (int t = 0; t < IMG_TYPE_MAX; t++) {
		const char *fmt = img_descs[t].fmt;
		const char *pct = fmt ? strchr(fmt, '%') : NULL;

		if (!fmt || img_descs[t].set != IMG_SET_RAW)
			continue;
		if (pct ? !strncmp(base, fmt, pct - fmt) : !strcmp(base, fmt))
			return t;
	}
	n = pread(fd, words, sizeof(words), 0);
	if (n < (ssize_t)sizeof(uint32_t))
		return -1;
	words[0] = le32toh(words[0]);
	words[1] = le32toh(words[1]);
	if (words[0] == IMG_COMMON_MAGIC && n == sizeof(words))
		return img_type_by_magic(IMG_SET_COMMON, words[1]);
	if (words[0] == IMG_SERVICE_MAGIC && n == sizeof(words))
		return img_type_by_magic(IMG_SET_SERVICE, words[1]);
	return img_type_by_magic(IMG_SET_NONE, words[0]);
}

struct cr_img *img_open_any(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	int type;

	if (fd < 0) {
		pr_perror("image %s: can't open", path);
		return NULL;
	}
	type = img_guess_type(fd, path);
	if (type < 0) {
		pr_err("image %s: unknown magic: not an image file\n", path);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return img_from_fd(fd, path, type, false);
}

int img_close(struct cr_img *img)
{
	int ret = 0;

	if (!img)
		return 0;
	if (img->writing) {
		ret = img_flush(img);
		if (!ret && close(img->fd)) {
			ret = -errno;
			pr_perror("image %s: close failed", img->name);
		}
		img->fd = -1;
	}
	img_free(img);
	return ret;
}

int img_write_pb(struct cr_img *img, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	unsigned char stack[1024], *p = stack;
	uint32_t le;
	int ret;

	if (len > IMG_MAX_ENTRY_SIZE) {
		pr_err("image %s: entry %u is too big (%zu bytes)\n", img->name, img->entry, len);
		return -E2BIG;
	}
	if (len > sizeof(stack)) {
		p = malloc(len);
		if (!p) {
			pr_err("image %s: out of memory for entry %u\n", img->name, img->entry);
			return -ENOMEM;
		}
	}
	protobuf_c_message_pack(msg, p);
	le = htole32((uint32_t)len);
	ret = img_put(img, &le, sizeof(le));
	if (!ret)
		ret = img_put(img, p, len);
	if (p != stack)
		free(p);
	img->entry++;
	img->head_done = true;
	return ret;
}

/* Reads a varint at *off; false if it runs past len or over 10 bytes. */
static bool wire_varint(const unsigned char *buf, size_t len, size_t *off, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 70 && *off < len; shift += 7) {
		unsigned char b = buf[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * Whether the messages packed in buf nest no deeper than PB_MAX_DEPTH.
 * protobuf-c unpacks (and frees) nested messages recursively with no limit,
 * so a self-nesting message (cgroup_dir_entry.children) a few megabytes
 * deep would overflow the stack.  Only the nesting is judged here:
 * anything malformed is left for protobuf_c_message_unpack to refuse.
 */
#define PB_MAX_DEPTH 100 /* protobuf's own default recursion limit */

static bool pb_depth_ok(const ProtobufCMessageDescriptor *desc, const unsigned char *buf,
			size_t len, unsigned depth)
{
	size_t off = 0;

	while (off < len) {
		const ProtobufCFieldDescriptor *f;
		uint64_t tag, n;

		if (!wire_varint(buf, len, &off, &tag))
			return true;
		switch (tag & 7) {
		case 0:
			if (!wire_varint(buf, len, &off, &n))
				return true;
			break;
		case 1:
		case 5:
			n = (tag & 7) == 1 ? 8 : 4;
			if (n > len - off)
				return true;
			off += n;
			break;
		case 2:
			if (!wire_varint(buf, len, &off, &n) || n > len - off)
				return true;
			f = tag >> 3 <= UINT32_MAX ?
				    protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3)) :
				    NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    (depth >= PB_MAX_DEPTH || !pb_depth_ok(f->descriptor, buf + off, n, depth + 1)))
				return false;
			off += n;
			break;
		default:
			return true;
		}
	}
	return true;
}

int img_read_pb(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
	const struct img_desc *d = &img_descs[img->type];
	uint64_t start = img->off;
	unsigned char *buf;
	uint32_t len;
	int ret;

	*msg = NULL;
	if (!desc)
		desc = (!img->head_done && d->head_pb) ? d->head_pb : d->pb;
	if (!desc) {
		pr_err("image %s: holds no protobuf entries\n", img->name);
		return -EINVAL;
	}
	if (img->off == img->size)
		return 0;
	ret = img_get(img, &len, sizeof(len), "entry length");
	if (ret)
		return ret;
	len = le32toh(len);
	if (len > IMG_MAX_ENTRY_SIZE) {
		pr_err("image %s: entry %u at offset %llu: length %u is over the %u limit\n",
		       img->name, img->entry, (unsigned long long)start, len, IMG_MAX_ENTRY_SIZE);
		return -EINVAL;
	}
	/* Before allocating: a length field alone must not cost 64 MiB. */
	if (len > img->size - img->off) {
		pr_err("image %s: entry %u at offset %llu: truncated entry (need %u bytes, %llu left)\n",
		       img->name, img->entry, (unsigned long long)start, len,
		       (unsigned long long)(img->size - img->off));
		return -EINVAL;
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		pr_err("image %s: out of memory for entry %u\n", img->name, img->entry);
		return -ENOMEM;
	}
	ret = img_get(img, buf, len, "entry");
	if (!ret && !pb_depth_ok(desc, buf, len, 0)) {
		pr_err("image %s: entry %u at offset %llu: %s message nested deeper than %u levels\n",
		       img->name, img->entry, (unsigned long long)start, desc->name, PB_MAX_DEPTH);
		ret = -EINVAL;
	} else if (!ret) {
		*msg = protobuf_c_message_unpack(desc, NULL, len, buf);
		if (!*msg) {
			pr_err("image %s: entry %u at offset %llu: corrupt %s message (%u bytes)\n",
			       img->name, img->entry, (unsigned long long)start, desc->name, len);
			ret = -EINVAL;
		}
	}
	free(buf);
	if (ret)
		return ret;
	img->entry++;
	img->head_done = true;
	return 1;
}

int img_read_one(struct cr_img *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg)
{
	int ret = img_read_pb(img, desc, msg);

	if (ret == 0) {
		pr_err("image %s: no entry where one is required\n", img->name);
		return -ENODATA;
	}
	return ret < 0 ? ret : 0;
}

int img_read_single(struct cr_img *img, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **msg)
{
	int ret = img_read_one(img, desc, msg);

	if (ret || !img_bytes_left(img))
		return ret;
	pr_err("image %s: %llu bytes of trailing data at offset %llu, after its only entry\n",
	       img->name, (unsigned long long)img_bytes_left(img), (unsigned long long)img->off);
	protobuf_c_message_free_unpacked(*msg, NULL);
	*msg = NULL;
	return -EINVAL;
}

int img_read_raw(struct cr_img *img, void *buf, size_t len)
{
	return img_get(img, buf, len, "data");
}

int img_write_raw(struct cr_img *img, const void *buf, size_t len)
{
	return img_put(img, buf, len);
}

int img_skip_raw(struct cr_img *img, uint64_t len)
{
	if (len == IMG_PAYLOAD_TO_EOF)
		len = img->size - img->off;
	if (len > img->size - img->off) {
		pr_err("image %s: entry %u at offset %llu: truncated data (need %llu bytes, %llu left)\n",
		       img->name, img->entry, (unsigned long long)img->off, (unsigned long long)len,
		       (unsigned long long)(img->size - img->off));
		return -EINVAL;
	}
	img->off += len;
	if (lseek(img->fd, img->off, SEEK_SET) < 0) {
		pr_perror("image %s: can't seek to %llu", img->name, (unsigned long long)img->off);
		return -EIO;
	}
	return 0;
}

int img_raw_fd(struct cr_img *img)
{
	if (img->writing && img_flush(img))
		return -1;
	return img->fd;
}

void img_advance(struct cr_img *img, uint64_t n)
{
	img->off += n;
}

uint64_t img_bytes_left(const struct cr_img *img)
{
	return img->writing ? 0 : img->size - img->off;
}
