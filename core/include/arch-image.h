/*
 * Registers between compel's view (struct compel_regs) and the core image:
 * implemented by arch/<arch>/core-image.c.
 */
#ifndef CRIU_ARCH_IMAGE_H
#define CRIU_ARCH_IMAGE_H

#include "proto/core.pb-c.h"

struct compel_regs;

/* The CoreEntry.mtype of this architecture. */
int arch_core_mtype(void);

/*
 * Fills core's thread_info for this architecture (general and FPU/vector
 * registers, TLS) from r.  Allocates; arch_core_free_regs() releases.
 * 0 or -errno.
 */
int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core);
void arch_core_free_regs(CoreEntry *core);

/*
 * The inverse.  r must hold registers read from a thread of this machine
 * (it gives the FPU area's layout); its contents are replaced by the
 * image's.  -EINVAL for an image of another architecture or with state
 * this CPU cannot take (named in the log).
 */
int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r);

/*
 * At dump: a thread interrupted in a syscall that the kernel would restart
 * through its per-thread restart block (lost across restore) gets -EINTR
 * instead, as upstream does.
 */
void arch_regs_dump_fixup(struct compel_regs *r);

/* The thread's clear_child_tid address (set_tid_address) in its thread_info. */
void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr);
uint64_t arch_core_clear_tid(const CoreEntry *core);

/*
 * Code that jumps from `from' to `to' (anywhere in the address space),
 * written into buf (at most size bytes): its length, or -errno.  Used to
 * turn the dumped vDSO's function `name' into a jump to this kernel's.
 * 0 means the function keeps its dumped code: a signal trampoline that
 * only makes a syscall works from anywhere, and the kernel returns into
 * the middle of it (a thread dumped inside a signal handler).
 */
int arch_vdso_jump(const char *name, uint8_t *buf, size_t size, uint64_t from, uint64_t to);

/* This thread's thread pointer (what glibc's TLS offsets are from). */
void *arch_thread_pointer(void);

/*
 * Switches to the stack sp and jumps to ip with arg as the first argument
 * (the restorer blob's entry).  Never returns.
 */
void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
	__attribute__((noreturn));

#endif
