/*
 * cpuinfo-forge DIR: rewrites DIR/cpuinfo.img as if dumped on a CPU that
 * has every feature bit this architecture's table knows (all ones), so
 * that no real CPU can take it.  For the restore-time check tests.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch-cpu.h"
#include "image-desc.h"
#include "image.h"

static void set_word(ProtobufCMessage *m, const struct cpu_word *w)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, w->field);
	uint64_t ones = w->width == 64 ? ~0ULL : 0xffffffffULL;
	char *base = (char *)m;

	if (!f)
		return;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(size_t *)(base + f->quantifier_offset);
		void *arr = *(void **)(base + f->offset);

		if (w->index >= n)
			return;
		if (f->type == PROTOBUF_C_TYPE_UINT64)
			((uint64_t *)arr)[w->index] = ones;
		else
			((uint32_t *)arr)[w->index] = (uint32_t)ones;
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	if (f->type == PROTOBUF_C_TYPE_UINT64)
		*(uint64_t *)(base + f->offset) = ones;
	else
		*(uint32_t *)(base + f->offset) = (uint32_t)ones;
}

int main(int argc, char **argv)
{
	const struct cpu_arch_desc *d = &arch_cpu_desc;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m, *sub;
	struct cr_img *img;
	int dirfd;

	if (argc != 2) {
		fprintf(stderr, "usage: cpuinfo-forge DIR\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	img = dirfd < 0 ? NULL : img_open(dirfd, IMG_CPUINFO, O_RDONLY);
	if (!img || img_read_one(img, NULL, &m) < 0) {
		fprintf(stderr, "cpuinfo-forge: can't read %s/cpuinfo.img\n", argv[1]);
		return 1;
	}
	img_close(img);
	f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, d->entry_field);
	if (!f || !*(size_t *)((char *)m + f->quantifier_offset)) {
		fprintf(stderr, "cpuinfo-forge: no %s entry\n", d->entry_field);
		return 1;
	}
	sub = (*(ProtobufCMessage ***)((char *)m + f->offset))[0];
	for (unsigned i = 0; i < d->nr_words; i++)
		set_word(sub, &d->words[i]);
	img = img_open(dirfd, IMG_CPUINFO, O_WRONLY);
	if (!img || img_write_pb(img, m) || img_close(img)) {
		fprintf(stderr, "cpuinfo-forge: can't write %s/cpuinfo.img\n", argv[1]);
		return 1;
	}
	return 0;
}
