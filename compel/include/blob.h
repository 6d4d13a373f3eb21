/*
 * PIE blobs (the parasite, the restorer) as compel loads them into a task.
 *
 * A blob is made by gen/gen-blob.py into $(GEN)/<name>-blob.h, which defines
 * `static const struct blob_desc <name>_blob' and <NAME>_BLOB_ENTRY_* offsets.
 * Include each such header in one .c file only: it carries the bytes.
 *
 * Memory layout of a loaded blob, from its load address (a multiple of
 * desc->align):
 *
 *   [0, size)                      the bytes, relocated for that address
 *   [size, size + bss_size)        zeroes
 *   [.., blob_mem_size(desc))      the stack, stack_size bytes; its top
 *                                  (blob_mem_size()) is 16-byte aligned
 *
 * The arguments area goes after that, wherever the caller wants.
 *
 * Every relocation is one kind on every architecture: the 64-bit word at
 * `offset' (native byte order: criu and the task share the architecture)
 * becomes load address + `addend'.  Anything an architecture would need
 * beyond that is refused or resolved by the generator, so this stays
 * portable.
 */
#ifndef CRIU_BLOB_H
#define CRIU_BLOB_H

#include <stddef.h>
#include <stdint.h>

enum blob_reloc_kind {
	BLOB_RELOC_NONE = 0,  /* placeholder in an empty table */
	BLOB_RELOC_REL64 = 1, /* *(u64 *)(image + offset) = base + addend */
};

struct blob_reloc {
	uint32_t offset;
	uint32_t kind; /* enum blob_reloc_kind */
	int64_t addend;
};

struct blob_entry {
	const char *name; /* "head", "service", ... */
	uint32_t offset;
};

struct blob_desc {
	const char *name; /* "parasite", "restorer" */
	const char *arch;
	const unsigned char *bytes;
	size_t size;	   /* bytes to copy */
	size_t bss_size;   /* zero-filled after them */
	size_t stack_size; /* the stack the blob needs */
	size_t align;	   /* the load address must be a multiple of this */
	const struct blob_reloc *relocs;
	size_t nr_relocs;
	const struct blob_entry *entries;
	size_t nr_entries;
};

/*
 * Patches local_copy (the blob's bytes, desc->size of them, as they will be
 * seen by the task) for running at remote_base in the task.  Returns 0, or
 * -EINVAL for a misaligned base or a relocation outside the bytes (a corrupt
 * descriptor); local_copy is not modified then.
 */
int blob_relocate(void *local_copy, unsigned long remote_base, const struct blob_desc *desc);

/* Bytes from the load address to the top of the blob's stack. */
size_t blob_mem_size(const struct blob_desc *desc);

/*
 * Copies the blob into area (criu's view of the memory the task will see at
 * remote_base), zeroes its bss and relocates it.  area_size must be at least
 * blob_mem_size().  Returns 0 or -EINVAL.
 */
int blob_install(void *area, size_t area_size, unsigned long remote_base,
		 const struct blob_desc *desc);

/* The offset of the named entry point, or -ENOENT. */
long blob_entry_offset(const struct blob_desc *desc, const char *name);

#endif
