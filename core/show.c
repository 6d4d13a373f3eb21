/*
 * `criu show -f FILE`: decodes any image into text, or JSON with --json
 * (the shape crit uses: {"magic": ..., "entries": [...]}).  -c adds the
 * contents of raw payloads and, for a pagemap, of the pages it describes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "pb-print.h"
#include "show.h"
#include "image-desc.h"
#include "proto/ipc-msg.pb-c.h"

/* Images do not record the page size: pagemap counts are in pages of the
 * machine that wrote them, taken to be this one's (64 KiB on ppc64le). */
#define HEX_CHUNK 4096u
#define HEX_LINE 16u

struct hexdump_state {
	unsigned char prev[HEX_LINE];
	bool have_prev, starred;
};

static void hexdump_line(FILE *out, uint64_t addr, const unsigned char *b, size_t n,
			 struct hexdump_state *st)
{
	if (n == HEX_LINE && st->have_prev && !memcmp(b, st->prev, HEX_LINE)) {
		if (!st->starred)
			fputs("*\n", out);
		st->starred = true;
		return;
	}
	st->starred = false;
	st->have_prev = n == HEX_LINE;
	memcpy(st->prev, b, n);
	fprintf(out, "%016llx: ", (unsigned long long)addr);
	for (size_t i = 0; i < HEX_LINE; i++) {
		if (i < n)
			fprintf(out, "%02x ", b[i]);
		else
			fputs("   ", out);
	}
	fputs(" |", out);
	for (size_t i = 0; i < n; i++)
		fputc(isprint(b[i]) ? b[i] : '.', out);
	fputs("|\n", out);
}

/* Hex-dumps len bytes of the image's data, as if they sat at address addr. */
static int show_hexdump(FILE *out, struct cr_img *img, uint64_t addr, uint64_t len)
{
	struct hexdump_state st = { 0 };
	unsigned char buf[HEX_CHUNK];

	while (len) {
		size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
		int ret = img_read_raw(img, buf, chunk);

		if (ret)
			return ret;
		for (size_t off = 0; off < chunk; off += HEX_LINE) {
			size_t n = chunk - off < HEX_LINE ? chunk - off : HEX_LINE;

			hexdump_line(out, addr + off, buf + off, n, &st);
		}
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

static int show_payload(FILE *out, struct cr_img *img, uint64_t len, bool json)
{
	if (len == IMG_PAYLOAD_TO_EOF)
		len = img_bytes_left(img);
	if (!len)
		return 0;
	if (!opts.show_pages_content || json)
		return img_skip_raw(img, len);
	fprintf(out, "  payload: %llu bytes\n", (unsigned long long)len);
	return show_hexdump(out, img, 0, len);
}

static int show_raw(FILE *out, struct cr_img *img, bool json)
{
	uint64_t len = img_bytes_left(img);

	if (json) {
		fprintf(out, "{\"magic\": \"RAW\", \"size\": %llu}\n", (unsigned long long)len);
		return img_skip_raw(img, len);
	}
	fprintf(out, "%s: raw %s data, %llu bytes (%llu pages)\n", img->name,
		img_descs[img->type].name, (unsigned long long)len,
		(unsigned long long)(len / (uint64_t)sysconf(_SC_PAGESIZE)));
	return opts.show_pages_content ? show_hexdump(out, img, 0, len) : 0;
}

/*
 * The pages image that a pagemap's head points at, next to the pagemap
 * (whose path is relative to dirfd, like the one show_image was given).
 */
static struct cr_img *open_pages_of(int dirfd, struct cr_img *pagemap,
				     const ProtobufCMessage *head)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(head->descriptor, "pages_id");
	char *copy = strdup(pagemap->name), name[128];
	struct cr_img *pages;
	unsigned long id;
	int pages_dirfd;

	if (!f || !copy)
		return free(copy), NULL;
	id = *(const uint32_t *)((const char *)head + f->offset);
	img_file_name(name, sizeof(name), IMG_PAGES, id);
	pages_dirfd = openat(dirfd, dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pages_dirfd < 0) {
		pr_perror("image %s: can't open its directory", pagemap->name);
		free(copy);
		return NULL;
	}
	free(copy);
	pages = img_open(pages_dirfd, IMG_PAGES, O_RDONLY, id);
	if (!pages && errno == ENOENT)
		pr_err("image %s: its pages image %s is missing\n", pagemap->name, name);
	close(pages_dirfd);
	return pages;
}

static uint64_t field_u64(const ProtobufCMessage *m, const char *name, uint64_t dflt)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	const char *base = (const char *)m;

	if (!f)
		return dflt;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return dflt;
	if (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64)
		return *(const uint64_t *)(base + f->offset);
	return *(const uint32_t *)(base + f->offset);
}

/* Page data for one pagemap entry: only entries whose pages are in this image. */
static int show_pagemap_pages(FILE *out, struct cr_img *pages, const ProtobufCMessage *pe)
{
	uint64_t psz = (uint64_t)sysconf(_SC_PAGESIZE), vaddr = field_u64(pe, "vaddr", 0);
	/* nr_pages in current images, compat_nr_pages in old ones */
	uint64_t nr = field_u64(pe, "nr_pages", 0);

	if (!nr)
		nr = field_u64(pe, "compat_nr_pages", 0);
	/* Images without flags mark parent pages with in_parent; the rest are here. */
	uint64_t old_flags = field_u64(pe, "in_parent", 0) ? PAGEMAP_PE_PARENT : PAGEMAP_PE_PRESENT;
	uint64_t flags = field_u64(pe, "flags", old_flags);

	if (!(flags & PAGEMAP_PE_PRESENT))
		return 0;
	if (nr > UINT64_MAX / psz) {
		pr_err("image %s: pagemap entry at 0x%llx has an absurd page count %llu\n",
		       pages->name, (unsigned long long)vaddr, (unsigned long long)nr);
		return -EINVAL;
	}
	return show_hexdump(out, pages, vaddr, nr * psz);
}

/* The messages after an ipc_msg_entry: qnum of (ipc_msg, text padded to 8). */
static int show_ipc_msgs(FILE *out, struct cr_img *img, const ProtobufCMessage *q, bool json)
{
	uint64_t qnum = field_u64(q, "qnum", 0);

	for (uint64_t i = 0; i < qnum; i++) {
		ProtobufCMessage *msg;
		uint64_t size;
		int ret = img_read_pb(img, &ipc_msg__descriptor, &msg);

		if (ret == 0) {
			pr_err("image %s: message %llu of %llu is missing\n", img->name,
			       (unsigned long long)i, (unsigned long long)qnum);
			return -EINVAL;
		}
		if (ret < 0)
			return ret;
		size = (field_u64(msg, "msize", 0) + 7) & ~7ULL;
		if (!json) {
			fputs("  msg ", out);
			pb_print(out, msg, false, 0);
			fputc('\n', out);
		}
		protobuf_c_message_free_unpacked(msg, NULL);
		ret = show_payload(out, img, size, json);
		if (ret)
			return ret;
	}
	return 0;
}

static void upper_name(char *buf, size_t size, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = name[i] == '-' ? '_' : toupper((unsigned char)name[i]);
	buf[i] = 0;
}

static int show_entries(FILE *out, int dirfd, struct cr_img *img, bool json)
{
	const struct img_desc *d = &img_descs[img->type];
	struct cr_img *pages = NULL;
	ProtobufCMessage *m;
	unsigned n = 0;
	int ret;

	while ((ret = img_read_pb(img, NULL, &m)) > 0) {
		if (json) {
			fputs(n ? ",\n    " : "\n    ", out);
			pb_print(out, m, true, 2);
		} else {
			fprintf(out, "[%u] %s ", n, m->descriptor->name);
			pb_print(out, m, false, 0);
			fputc('\n', out);
			show_entry_extras(out, img->type, m);
		}
		ret = d->payload_size ? show_payload(out, img, d->payload_size(m), json) : 0;
		if (!ret && img->type == IMG_IPCNS_MSG)
			ret = show_ipc_msgs(out, img, m, json);
		if (!ret && !json && opts.show_pages_content &&
		    (img->type == IMG_PAGEMAP || img->type == IMG_SHMEM_PAGEMAP)) {
			if (n == 0)
				pages = open_pages_of(dirfd, img, m);
			else if (pages)
				ret = show_pagemap_pages(out, pages, m);
		}
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
		if (ret)
			break;
	}
	img_close(pages);
	if (ret < 0)
		return ret;
	if (!json)
		fprintf(out, "(%u entries)\n", n);
	return 0;
}

int show_image(FILE *out, int dirfd, const char *path, bool json)
{
	struct cr_img *img = img_open_any(dirfd, path);
	const struct img_desc *d;
	char magic[64];
	int ret;

	if (!img)
		return -EINVAL;
	d = &img_descs[img->type];
	if (d->set == IMG_SET_RAW) {
		ret = show_raw(out, img, json);
		img_close(img);
		return ret;
	}
	upper_name(magic, sizeof(magic), d->name);
	if (json)
		fprintf(out, "{\n  \"magic\": \"%s\",\n  \"entries\": [", magic);
	else
		fprintf(out, "%s: %s image (magic 0x%08x)\n", img->name, d->name, d->magic);
	ret = show_entries(out, dirfd, img, json);
	if (json)
		fputs("\n  ]\n}\n", out); /* closed even after an error: stays JSON */
	img_close(img);
	return ret;
}

int cmd_show(void)
{
	int ret;

	ret = show_image(stdout, AT_FDCWD, opts.show_file, opts.show_json);
	fflush(stdout);
	return ret ? 1 : 0;
}

struct show_extra {
	enum img_type type;
	void (*print)(FILE *out, const ProtobufCMessage *entry);
};

static const struct show_extra show_extras[] = {
	{ IMG_CPUINFO, cpuinfo_print_features },
	{ IMG_TYPE_MAX, NULL },
};

void show_entry_extras(FILE *out, enum img_type type, const ProtobufCMessage *entry)
{
	for (size_t i = 0; i < sizeof(show_extras) / sizeof(show_extras[0]); i++)
		if (show_extras[i].type == type && show_extras[i].print)
			show_extras[i].print(out, entry);
}
