/*
 * `criu show` decodes a sample of every image type we define.  For each
 * type in img_descs[] with entries, an image is written whose entries have
 * every field set, generically from the protobuf-c descriptor (numbers,
 * strings, bytes, enums, nested messages, repeated fields with one element),
 * followed by whatever payload the type's payload_size asks for; show must
 * decode it as text, as text with -c and as JSON that parses, and must refuse
 * copies cut inside the magic, inside the first entry and one byte short.
 * Raw types are shown as raw data; pages also through a pagemap with -c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "pb-print.h"
#include "log.h"
#include "options.h"
#include "show.h"
#include "unit.h"

#include "proto/ipc-msg.pb-c.h"
#include "proto/pagemap.pb-c.h"

/* Below this depth only required fields: cgroup dirs nest themselves. */
#define FILL_DEPTH 3
#define PAGE 4096

static int scratch_dir(void)
{
	char tmpl[] = "show-types-XXXXXX"; /* in the runner's scratch dir */

	return mkdtemp(tmpl) ? open(tmpl, O_RDONLY | O_DIRECTORY) : -1;
}

/* ---- messages filled from their descriptors ------------------------------ */

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc, int depth);

/* Stores one value of field f at p, as f's C type. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = 1;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)p = 1;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)p = 1;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)p = 1;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;

		*(int *)p = e->n_values ? e->values[0].value : 0;
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = strdup(f->name);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;

		b->len = 4;
		b->data = malloc(4);
		memcpy(b->data, "\x01\x02\xfe\xff", 4);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = fill_message(f->descriptor, depth + 1);
		break;
	}
}

/* Every field set (only the required ones deep down); free_unpacked frees it. */
static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc, int depth)
{
	ProtobufCMessage *m = calloc(1, desc->sizeof_message);
	char *base = (char *)m;

	desc->message_init(m);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->label != PROTOBUF_C_LABEL_REQUIRED && depth >= FILL_DEPTH)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			void *arr = calloc(1, pb_value_size(f->type));

			fill_value(f, arr, depth);
			*(size_t *)(base + f->quantifier_offset) = 1;
			*(void **)(base + f->offset) = arr;
			continue;
		}
		fill_value(f, base + f->offset, depth);
		/* optional scalars and bytes say they are set; strings and messages by pointer */
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	}
	return m;
}

#include "../json-check.h"

TEST(json_checker_itself)
{
	const char *good[] = { "{}", "[]", "{\"a\": [1, -2, \"x\\u00e9\", true, null, {}]}",
			       "\"caf\xc3\xa9\"" };
	const char *bad[] = { "", "{", "{\"a\" 1}", "[1,]", "\"\x01\"", "\"\xe9\"", "[01]",
			      "{} x", "\"\\q\"", "{1: 2}" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(json_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!json_valid(bad[i], strlen(bad[i])));
}

/* ---- showing ---------------------------------------------------------------- */

struct shown {
	int ret;
	char *text;
	size_t len;
};

static struct shown show(int dir, const char *name, bool json, bool content)
{
	struct shown s = { 0 };
	FILE *out = open_memstream(&s.text, &s.len);

	opts.show_pages_content = content;
	s.ret = show_image(out, dir, name, json);
	fclose(out);
	opts.show_pages_content = false;
	return s;
}

/* show must fail; its error lines are expected, so they are not printed. */
static int show_quietly(int dir, const char *name, bool json)
{
	int level = log_get_level();
	struct shown s;

	log_set_level(LOG_MSG);
	s = show(dir, name, json, true);
	log_set_level(level);
	free(s.text);
	return s.ret;
}

static off_t file_size(int dir, const char *name)
{
	struct stat st;

	return fstatat(dir, name, &st, 0) ? -1 : st.st_size;
}

/* Copies name's first len bytes over itself (the original is kept in buf). */
static void cut_to(int dir, const char *name, const char *buf, size_t len)
{
	int fd = openat(dir, name, O_WRONLY | O_TRUNC);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static char *read_whole(int dir, const char *name, size_t *len)
{
	off_t size = file_size(dir, name);
	int fd = openat(dir, name, O_RDONLY);
	char *buf = malloc(size > 0 ? size : 1);

	CHECK(fd >= 0 && size >= 0);
	CHECK_EQ(read(fd, buf, size), size);
	close(fd);
	*len = size;
	return buf;
}

static size_t magic_bytes(enum img_type t)
{
	switch (img_descs[t].set) {
	case IMG_SET_NONE:
		return 4;
	case IMG_SET_RAW:
		return 0;
	default:
		return 8;
	}
}

/* ---- writing a sample of each type ---------------------------------------- */

/* One entry and its payload; adds the payload's size to *payload_total. */
static int write_entry(struct cr_img *img, enum img_type t, const ProtobufCMessageDescriptor *desc,
		       uint64_t *payload_total)
{
	ProtobufCMessage *m = fill_message(desc, 0);
	uint64_t payload = img_descs[t].payload_size ? img_descs[t].payload_size(m) : 0;
	int ret = img_write_pb(img, m);

	if (payload == IMG_PAYLOAD_TO_EOF)
		payload = 100;
	for (uint64_t i = 0; !ret && i < payload; i++) {
		unsigned char c = (unsigned char)(i * 13);

		ret = img_write_raw(img, &c, 1);
	}
	*payload_total += payload;
	/* each message queue is followed by its qnum messages and their text */
	if (!ret && t == IMG_IPCNS_MSG) {
		ProtobufCMessage *msg = fill_message(&ipc_msg__descriptor, 0);
		static const char text[8] = "message";

		CHECK_EQ(((IpcMsg *)msg)->msize, 1);
		ret = img_write_pb(img, msg) ?: img_write_raw(img, text, 8);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}

/* Writes the sample of type t; returns its number of entries. */
static unsigned write_sample(int dir, enum img_type t, uint64_t *payload)
{
	const struct img_desc *d = &img_descs[t];
	struct cr_img *img = img_open(dir, t, O_WRONLY, 1UL);
	unsigned n = 0;

	CHECK(img != NULL);
	if (!img)
		return 0;
	if (d->head_pb) {
		CHECK_EQ(write_entry(img, t, d->head_pb, payload), 0);
		n++;
	}
	CHECK_EQ(write_entry(img, t, d->pb, payload), 0);
	n++;
	CHECK_EQ(img_close(img), 0);
	return n;
}

/* Every field of a sample entry (all are set) must be named in the output. */
static void check_fields_named(const char *text, const ProtobufCMessageDescriptor *desc,
			       bool json, const char *type)
{
	for (unsigned i = 0; i < desc->n_fields; i++) {
		char want[128];

		snprintf(want, sizeof(want), json ? "\"%s\": " : "%s: ", desc->fields[i].name);
		if (!strstr(text, want)) {
			printf("  %s: field %s.%s not shown%s\n", type, desc->name,
			       desc->fields[i].name, json ? " in JSON" : "");
			unit_failed_checks++;
		}
	}
}

static void check_type(int dir, enum img_type t)
{
	const struct img_desc *d = &img_descs[t];
	char name[128], want[160], magic[64];
	uint64_t payload = 0;
	unsigned n = write_sample(dir, t, &payload);
	/* types sharing a magic (psignal, shmem-pagemap) show as the first of them */
	int shown_as = img_type_by_magic(d->set, d->magic);
	struct shown s;
	size_t len, cut[3];
	char *orig;

	img_file_name(name, sizeof(name), t, 1);

	s = show(dir, name, false, false);
	CHECK_EQ(s.ret, 0);
	snprintf(want, sizeof(want), "(%u entries)", n);
	if (s.ret || !strstr(s.text, want)) {
		printf("  %s: text show gave %d, no \"%s\":\n%s\n", d->name, s.ret, want, s.text);
		unit_failed_checks++;
	}
	check_fields_named(s.text, d->pb, false, d->name);
	free(s.text);

	s = show(dir, name, false, true);
	CHECK_EQ(s.ret, 0);
	if (payload && !strstr(s.text, "payload: ")) {
		printf("  %s: -c shows no payload\n", d->name);
		unit_failed_checks++;
	}
	free(s.text);

	s = show(dir, name, true, false);
	CHECK_EQ(s.ret, 0);
	if (!json_valid(s.text, s.len)) {
		printf("  %s: show --json is not JSON:\n%s\n", d->name, s.text);
		unit_failed_checks++;
	}
	/* crit's magic names: the short name in capitals, '-' as '_' */
	CHECK(shown_as >= 0);
	snprintf(magic, sizeof(magic), "%s", img_descs[shown_as < 0 ? (int)t : shown_as].name);
	for (char *c = magic; *c; c++)
		*c = *c == '-' ? '_' : toupper((unsigned char)*c);
	snprintf(want, sizeof(want), "\"magic\": \"%s\"", magic);
	if (!strstr(s.text, want)) {
		printf("  %s: JSON has no %s\n", d->name, want);
		unit_failed_checks++;
	}
	check_fields_named(s.text, d->pb, true, d->name);
	free(s.text);

	/* cut inside the magic, inside the first entry's length, one byte short */
	orig = read_whole(dir, name, &len);
	cut[0] = magic_bytes(t) - 1;
	cut[1] = magic_bytes(t) + 2;
	cut[2] = len - 1;
	for (int i = 0; i < 3; i++) {
		cut_to(dir, name, orig, cut[i]);
		for (int json = 0; json < 2; json++) {
			if (show_quietly(dir, name, json) < 0)
				continue;
			printf("  %s: show%s accepts the image cut to %zu of %zu bytes\n", d->name,
			       json ? " --json" : "", cut[i], len);
			unit_failed_checks++;
		}
	}
	free(orig);
	unlinkat(dir, name, 0);
}

TEST(show_every_entry_type)
{
	int dir = scratch_dir(), checked = 0;

	CHECK(dir >= 0);
	/* the pages the sample pagemaps' heads name (pages_id 1), for -c */
	struct cr_img *pages = img_open(dir, IMG_PAGES, O_WRONLY, 1UL);
	static const char page[PAGE];

	CHECK(pages != NULL);
	CHECK_EQ(img_write_raw(pages, page, sizeof(page)), 0);
	CHECK_EQ(img_close(pages), 0);
	for (int t = 0; t < IMG_TYPE_MAX; t++) {
		if (img_descs[t].set == IMG_SET_RAW)
			continue;
		CHECK(img_descs[t].pb != NULL);
		if (!img_descs[t].pb)
			continue;
		check_type(dir, t);
		checked++;
	}
	/* all but the raw types, and they are few */
	CHECK(checked > 60);
	unlinkat(dir, "pages-1.img", 0);
	close(dir);
}

/* Raw images have no framing: shown as their size, and with -c in hex. */
TEST(show_every_raw_type)
{
	int dir = scratch_dir(), checked = 0;
	static unsigned char data[2 * PAGE];

	CHECK(dir >= 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + i / PAGE);
	for (int t = 0; t < IMG_TYPE_MAX; t++) {
		char name[128], want[64];
		struct cr_img *img;
		struct shown s;

		if (img_descs[t].set != IMG_SET_RAW)
			continue;
		img = img_open(dir, t, O_WRONLY, 1UL);
		CHECK(img != NULL);
		CHECK_EQ(img_write_raw(img, data, sizeof(data)), 0);
		CHECK_EQ(img_close(img), 0);
		img_file_name(name, sizeof(name), t, 1);

		s = show(dir, name, false, true);
		CHECK_EQ(s.ret, 0);
		CHECK(strstr(s.text, "8192 bytes") != NULL);
		CHECK(strstr(s.text, "0000000000001ff0: ") != NULL);
		free(s.text);

		s = show(dir, name, true, false);
		CHECK_EQ(s.ret, 0);
		CHECK(json_valid(s.text, s.len));
		snprintf(want, sizeof(want), "\"size\": %zu", sizeof(data));
		CHECK(strstr(s.text, want) != NULL);
		free(s.text);
		unlinkat(dir, name, 0);
		checked++;
	}
	CHECK(checked >= 2);
	close(dir);
}

/* Pages through their pagemap: shown with -c, refused when cut short. */
TEST(show_pages_through_pagemap)
{
	int dir = scratch_dir();
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT, lazy = PAGEMAP_ENTRY__INIT;
	static unsigned char data[3 * PAGE];
	struct cr_img *img;
	struct shown s;

	CHECK(dir >= 0);
	memset(data, 'A', PAGE);
	memset(data + PAGE, 'B', PAGE);
	memset(data + 2 * PAGE, 'C', PAGE);
	head.pages_id = 7;
	pe.vaddr = 0x10000;
	pe.has_nr_pages = pe.has_flags = true;
	pe.nr_pages = 3;
	pe.flags = PAGEMAP_PE_PRESENT;
	lazy.vaddr = 0x20000;
	lazy.has_nr_pages = lazy.has_flags = true;
	lazy.nr_pages = 100;
	lazy.flags = PAGEMAP_PE_LAZY;
	img = img_open(dir, IMG_PAGEMAP, O_WRONLY, 5UL);
	CHECK(img != NULL);
	CHECK_EQ(img_write_pb(img, &head.base), 0);
	CHECK_EQ(img_write_pb(img, &pe.base), 0);
	CHECK_EQ(img_write_pb(img, &lazy.base), 0);
	CHECK_EQ(img_close(img), 0);
	img = img_open(dir, IMG_PAGES, O_WRONLY, 7UL);
	CHECK(img != NULL);
	CHECK_EQ(img_write_raw(img, data, sizeof(data)), 0);
	CHECK_EQ(img_close(img), 0);

	s = show(dir, "pagemap-5.img", false, true);
	CHECK_EQ(s.ret, 0);
	CHECK(strstr(s.text, "0000000000010000: 41 41") != NULL);
	CHECK(strstr(s.text, "0000000000011000: 42 42") != NULL);
	CHECK(strstr(s.text, "0000000000012000: 43 43") != NULL);
	CHECK(strstr(s.text, "(3 entries)") != NULL);
	free(s.text);

	/* the pages image one byte short of what the pagemap says is there */
	cut_to(dir, "pages-7.img", (const char *)data, sizeof(data) - 1);
	CHECK(show_quietly(dir, "pagemap-5.img", false) < 0);
	unlinkat(dir, "pages-7.img", 0);
	unlinkat(dir, "pagemap-5.img", 0);
	close(dir);
}

UNIT_MAIN()
