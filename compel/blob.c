/* Loading PIE blobs: see blob.h. */
#include <errno.h>
#include <string.h>

#include "blob.h"

/* A descriptor comes from a generated header, but a bad one must not make
 * us write outside the copy. */
static int blob_check(const struct blob_desc *desc, unsigned long remote_base)
{
	if (!desc->align || remote_base % desc->align)
		return -EINVAL;
	for (size_t i = 0; i < desc->nr_relocs; i++) {
		const struct blob_reloc *r = &desc->relocs[i];

		if (r->kind != BLOB_RELOC_REL64)
			return -EINVAL;
		if (desc->size < sizeof(uint64_t) || r->offset > desc->size - sizeof(uint64_t))
			return -EINVAL;
	}
	return 0;
}

static void blob_apply(unsigned char *image, unsigned long remote_base,
		       const struct blob_desc *desc)
{
	for (size_t i = 0; i < desc->nr_relocs; i++) {
		const struct blob_reloc *r = &desc->relocs[i];
		uint64_t value = (uint64_t)remote_base + (uint64_t)r->addend;

		/* memcpy: a relocated word need not be aligned. */
		memcpy(image + r->offset, &value, sizeof(value));
	}
}

int blob_relocate(void *local_copy, unsigned long remote_base, const struct blob_desc *desc)
{
	int ret = blob_check(desc, remote_base);

	if (ret)
		return ret;
	blob_apply(local_copy, remote_base, desc);
	return 0;
}

size_t blob_mem_size(const struct blob_desc *desc)
{
	size_t end = (desc->size + desc->bss_size + 15) & ~(size_t)15;

	return end + ((desc->stack_size + 15) & ~(size_t)15);
}

int blob_install(void *area, size_t area_size, unsigned long remote_base,
		 const struct blob_desc *desc)
{
	int ret = blob_check(desc, remote_base);

	if (ret)
		return ret;
	if (area_size < blob_mem_size(desc))
		return -EINVAL;
	memcpy(area, desc->bytes, desc->size);
	memset((unsigned char *)area + desc->size, 0, desc->bss_size);
	blob_apply(area, remote_base, desc);
	return 0;
}

long blob_entry_offset(const struct blob_desc *desc, const char *name)
{
	for (size_t i = 0; i < desc->nr_entries; i++)
		if (!strcmp(desc->entries[i].name, name))
			return desc->entries[i].offset;
	return -ENOENT;
}
