/*
 * ppc64le registers in the core image.  Not written yet: issue 6 (real dump and
 * restore on ppc64le) brings it; until then dump and restore refuse with this
 * message instead of writing an image nobody could restore.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch-image.h"
#include "log.h"

int arch_core_mtype(void)
{
	return CORE_ENTRY__MARCH__PPC64;
}

int arch_regs_to_core(const struct compel_regs *r, CoreEntry *core)
{
	pr_err("saving registers in an image is not supported on ppc64le yet\n");
	return -EOPNOTSUPP;
}

void arch_core_free_regs(CoreEntry *core)
{
}

int arch_core_to_regs(const CoreEntry *core, struct compel_regs *r)
{
	pr_err("restoring registers from an image is not supported on ppc64le yet\n");
	return -EOPNOTSUPP;
}

void arch_regs_dump_fixup(struct compel_regs *r)
{
}

void arch_core_set_clear_tid(CoreEntry *core, uint64_t addr)
{
}

uint64_t arch_core_clear_tid(const CoreEntry *core)
{
	return 0;
}

void arch_restorer_jump(unsigned long ip, unsigned long sp, unsigned long arg)
{
	abort(); /* unreachable: restore refuses earlier on this architecture */
}

void *arch_thread_pointer(void)
{
	void *tp;

	/* r13 holds the thread pointer (GCC 12 has no builtin for it here) */
	asm("mr %0, 13" : "=r"(tp));
	return tp;
}
