/*
 * The freestanding environment of the PIE blobs (parasite and restorer).
 *
 * Code here runs inside another process, at an address only known at load
 * time, with no libc, no TLS and a small stack set up by compel.  Everything
 * is hidden so that the compiler addresses it PC-relatively (or TOC-relatively
 * on ppc64le) and the linker never needs a GOT or PLT entry; the only load-time
 * fixups left are 64-bit pointers stored in data, which gen/gen-blob.py lists
 * and gen/verify-blob.py checks.
 */
#ifndef CRIU_PIE_H
#define CRIU_PIE_H

#pragma GCC visibility push(hidden)

#include <stddef.h>
#include <stdint.h>

#include "syscall-nr.h"
#include "syscalls.h"

/* Kernel ABI values the blobs need (no libc headers in here). */
#define PIE_EINVAL 22
#define PIE_EEXIST 17
#define PIE_EFAULT 14
#define PIE_EIO 5
#define PIE_E2BIG 7
#define PIE_EAGAIN 11
#define PIE_EINTR 4
#define PIE_EBUSY 16

#define PIE_FUTEX_WAIT 0
#define PIE_FUTEX_WAKE 1

#define PIE_MAP_FIXED 0x10

/* Not worth a libc: the compiler may still emit calls to these four. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/*
 * Implemented per architecture in arch/<arch>/pie-head.S, because their
 * calling sequence differs: mmap takes its six arguments in a memory block on
 * s390x.
 */
long pie_mmap(unsigned long addr, unsigned long len, long prot, long flags, long fd,
	      unsigned long pgoff_bytes);
/* Makes code just written at [start, start + len) visible to instruction fetch. */
void pie_sync_icache(unsigned long start, unsigned long len);
/*
 * clone3(args, size) where the child starts in fn(args) on the stack that
 * args describes (the stack must have 16 spare bytes at its top).  Returns
 * in the parent only: the child's TID or -errno.
 */
long pie_clone_thread(void *clone_args, unsigned long size, void (*fn)(void *));

#define pie_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define pie_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define PIE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
