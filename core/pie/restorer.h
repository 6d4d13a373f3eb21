/*
 * The arguments of the restorer blob, shared by the blob
 * (core/pie/restorer.c) and criu, which fills them.  The restorer runs in
 * the task being restored, entered at RESTORER_BLOB_ENTRY_HEAD with the first
 * argument register pointing at a struct restorer_args (its address in the
 * task).  It does, in order, what `flags' asks:
 *
 *   RESTORER_F_UNMAP      munmap(unmap_addr, unmap_len): criu's own mappings
 *   RESTORER_F_MMAP       map each struct restorer_vma at its fixed address,
 *                         copying copy_len bytes from copy_from into it
 *   RESTORER_F_SIGRETURN  rt_sigreturn through the frame at sigframe_sp
 *                         (the stack pointer value arch/<arch>/sigframe.c
 *                         computes for the frame it built)
 *   RESTORER_F_EXIT       exit_group(exit_code)
 *
 * On failure it stores -errno in ret, the step and VMA index in failed_step
 * and failed_index, and returns (the head traps) without doing the rest.
 * Every address here is an address in the task.
 */
#ifndef CRIU_PIE_RESTORER_H
#define CRIU_PIE_RESTORER_H

#include <stdint.h>

#define RESTORER_MAGIC 0x52535452u /* "RSTR" */
#define RESTORER_VERSION 1

#define RESTORER_F_UNMAP 0x1u
#define RESTORER_F_MMAP 0x2u
#define RESTORER_F_SIGRETURN 0x4u
#define RESTORER_F_EXIT 0x8u

enum restorer_step {
	RESTORER_STEP_NONE = 0,
	RESTORER_STEP_ARGS,
	RESTORER_STEP_UNMAP,
	RESTORER_STEP_MMAP,
	RESTORER_STEP_COPY,
};

struct restorer_vma {
	uint64_t addr;
	uint64_t len;
	uint64_t pgoff; /* file offset in bytes */
	uint32_t prot;
	uint32_t flags; /* MAP_FIXED is added */
	int32_t fd;	/* -1 for anonymous */
	uint32_t pad;
	uint64_t copy_from; /* 0: nothing to copy */
	uint64_t copy_len;
};

struct restorer_args {
	uint32_t magic;
	uint32_t version;
	uint32_t flags; /* RESTORER_F_* */
	int32_t exit_code;
	uint64_t unmap_addr;
	uint64_t unmap_len;
	uint64_t vmas; /* struct restorer_vma[nr_vmas] */
	uint32_t nr_vmas;
	uint32_t pad;
	uint64_t sigframe_sp;
	/* results */
	int64_t ret;
	uint32_t failed_step; /* enum restorer_step */
	uint32_t failed_index;
};

#endif
