/*
 * mutate-image IN OUT SEED: writes OUT, the image IN with one value changed,
 * for tests/e2e/restore-mutate.py, which restores dumps with such images
 * and checks that restore fails cleanly or restores, never crashes or
 * leaves a half-restored tree.
 *
 * Unlike the byte-level fuzzer (tests/fuzz), this one keeps the framing and
 * the protobuf encoding valid, so the value reaches restore's own checks:
 * it walks the entries' messages through their protobuf-c descriptors and,
 * chosen by SEED, changes one number (0, 1, all ones, +-1, a flipped bit,
 * a large value, a random one), drops a presence flag, shortens a repeated
 * field or a bytes field.  Strings (paths) are never touched, so a mutated
 * image names no file the dump did not.
 *
 * Prints what it changed.  Exit 0, 1 on error, 2 when IN has nothing to
 * change (a raw image, or no numbers at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "pb-print.h"

#define MAX_ENTRIES 100000

struct entry {
	ProtobufCMessage *msg;
	uint8_t *payload;
	uint64_t payload_len;
};

/* One place a mutation can go. */
struct site {
	ProtobufCMessage *msg;
	const ProtobufCFieldDescriptor *f;
	size_t index; /* element of a repeated field */
	int kind;     /* SITE_* */
};

enum { SITE_VALUE, SITE_PRESENCE, SITE_REPEATED_LEN, SITE_BYTES_LEN };

static struct site *sites;
static size_t nr_sites, cap_sites;

static void add_site(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, size_t index,
		     int kind)
{
	if (nr_sites == cap_sites) {
		cap_sites = cap_sites ? cap_sites * 2 : 256;
		sites = realloc(sites, cap_sites * sizeof(*sites));
		if (!sites) {
			fprintf(stderr, "mutate-image: out of memory\n");
			exit(1);
		}
	}
	sites[nr_sites++] = (struct site){ msg, f, index, kind };
}

static bool is_number(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
	       t != PROTOBUF_C_TYPE_MESSAGE;
}

static void walk(ProtobufCMessage *msg, int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	if (depth > 16)
		return;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)msg;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)(base + f->quantifier_offset);
			char *arr = *(char **)(base + f->offset);

			if (n)
				add_site(msg, f, 0, SITE_REPEATED_LEN);
			for (size_t k = 0; k < n; k++) {
				if (is_number(f->type))
					add_site(msg, f, k, SITE_VALUE);
				else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
					walk(((ProtobufCMessage **)arr)[k], depth + 1);
			}
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING &&
		    *(protobuf_c_boolean *)(base + f->quantifier_offset))
			add_site(msg, f, 0, SITE_PRESENCE);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sub = *(ProtobufCMessage **)(base + f->offset);

			if (sub)
				walk(sub, depth + 1);
		} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
			if (((ProtobufCBinaryData *)(base + f->offset))->len)
				add_site(msg, f, 0, SITE_BYTES_LEN);
		} else if (is_number(f->type)) {
			add_site(msg, f, 0, SITE_VALUE);
		}
	}
}

static int by_field(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->f != y->f)
		return x->f < y->f ? -1 : 1;
	return x->kind - y->kind;
}

/*
 * A field (and kind of change) first, all equally likely, then one of its
 * places: the 62 signal actions or an FPU area's registers would otherwise
 * take most of the draws.
 */
static const struct site *pick_site(void)
{
	size_t groups = 0, want, i;

	qsort(sites, nr_sites, sizeof(*sites), by_field);
	for (i = 0; i < nr_sites; i++)
		groups += !i || by_field(&sites[i - 1], &sites[i]);
	want = (size_t)lrand48() % groups;
	for (i = 0; i < nr_sites; i++)
		if ((!i || by_field(&sites[i - 1], &sites[i])) && !want--)
			break;
	{
		size_t first = i, n = 1;

		while (first + n < nr_sites && !by_field(&sites[first], &sites[first + n]))
			n++;
		return &sites[first + (size_t)lrand48() % n];
	}
}

static uint64_t pick_value(uint64_t old)
{
	switch (lrand48() % 9) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ~0ULL;
	case 3:
		return old + 1;
	case 4:
		return old - 1;
	case 5:
		return old ^ (1ULL << (lrand48() % 64));
	case 6:
		return 0x7fffffffULL;
	case 7:
		return 0x8000000000000000ULL;
	default:
		return ((uint64_t)lrand48() << 32) ^ (uint64_t)lrand48();
	}
}

static void mutate(const struct site *s)
{
	char *base = (char *)s->msg;
	const ProtobufCFieldDescriptor *f = s->f;

	switch (s->kind) {
	case SITE_PRESENCE:
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
		printf("%s.%s: dropped\n", s->msg->descriptor->name, f->name);
		return;
	case SITE_REPEATED_LEN: {
		size_t *n = (size_t *)(base + f->quantifier_offset);
		size_t old = *n;

		/* shorter only: the elements past it stay owned by the array */
		*n = lrand48() % 2 ? 0 : old - 1;
		printf("%s.%s: %zu elements, was %zu\n", s->msg->descriptor->name, f->name, *n,
		       old);
		return;
	}
	case SITE_BYTES_LEN: {
		ProtobufCBinaryData *b = (ProtobufCBinaryData *)(base + f->offset);
		size_t old = b->len;

		b->len = lrand48() % 2 ? 0 : old / 2;
		printf("%s.%s: %zu bytes, was %zu\n", s->msg->descriptor->name, f->name, b->len,
		       old);
		return;
	}
	}
	{
		char *p = f->label == PROTOBUF_C_LABEL_REPEATED
				  ? *(char **)(base + f->offset) + s->index * pb_value_size(f->type)
				  : base + f->offset;
		size_t sz = pb_value_size(f->type);
		uint64_t old = 0, v;

		if (sz == 4) {
			uint32_t o32;

			memcpy(&o32, p, 4);
			old = o32;
		} else {
			memcpy(&old, p, 8);
		}
		v = f->type == PROTOBUF_C_TYPE_BOOL ? !old : pick_value(old);
		if (f->type == PROTOBUF_C_TYPE_ENUM)
			v = lrand48() % 2 ? (uint64_t)lrand48() % 64 : v;
		if (sz == 4) {
			uint32_t v32 = (uint32_t)v;

			memcpy(p, &v32, 4); /* protobuf_c_boolean is an int too */
		} else {
			memcpy(p, &v, 8);
		}
		printf("%s.%s[%zu]: %#llx, was %#llx\n", s->msg->descriptor->name, f->name, s->index,
		       (unsigned long long)(sz == 4 ? (uint32_t)v : v), (unsigned long long)old);
	}
}

int main(int argc, char **argv)
{
	static struct entry entries[1024];
	struct entry *e = entries;
	struct cr_img *in, *out;
	const struct img_desc *d;
	enum img_type type;
	size_t n = 0;
	int ret, fd;

	if (argc != 4) {
		fprintf(stderr, "usage: mutate-image IN OUT SEED\n");
		return 1;
	}
	log_init(AT_FDCWD, NULL, LOG_ERROR, 0);
	srand48(strtol(argv[3], NULL, 0));
	in = img_open_any(AT_FDCWD, argv[1]);
	if (!in)
		return 1;
	type = in->type;
	d = &img_descs[type];
	if (d->set == IMG_SET_RAW) {
		img_close(in);
		return 2;
	}
	while (n < sizeof(entries) / sizeof(entries[0]) &&
	       (ret = img_read_pb(in, NULL, &e[n].msg)) > 0) {
		e[n].payload_len = d->payload_size ? d->payload_size(e[n].msg) : 0;
		/* the rest of the file (a small ghost file's contents) */
		if (e[n].payload_len == IMG_PAYLOAD_TO_EOF)
			e[n].payload_len = img_bytes_left(in);
		if (e[n].payload_len) {
			e[n].payload = malloc(e[n].payload_len);
			if (!e[n].payload || img_read_raw(in, e[n].payload, e[n].payload_len))
				return 1;
		}
		n++;
	}
	img_close(in);
	for (size_t i = 0; i < n; i++)
		walk(e[i].msg, 0);
	if (!nr_sites)
		return 2;
	mutate(pick_site());

	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	out = img_from_fd(fd, argv[2], type, true);
	if (!out)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (img_write_pb(out, e[i].msg) ||
		    (e[i].payload_len && img_write_raw(out, e[i].payload, e[i].payload_len)))
			return 1;
	return img_close(out) ? 1 : 0;
}
