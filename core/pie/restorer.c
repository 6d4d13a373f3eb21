/*
 * The restorer: runs inside a task being restored, after criu's code is no
 * longer needed, and turns the task into the dumped one (see restorer.h).
 * Entered from arch/<arch>/pie-head.S (__export_restorer_head).
 */
#include "pie.h"

#include "restorer.h"

static long restorer_fail(struct restorer_args *args, long ret, uint32_t step, uint32_t index)
{
	args->ret = ret;
	args->failed_step = step;
	args->failed_index = index;
	return ret;
}

static long restorer_map_vma(const struct restorer_vma *vma)
{
	long addr = pie_mmap(vma->addr, vma->len, vma->prot, vma->flags | PIE_MAP_FIXED, vma->fd,
			     vma->pgoff);

	if (addr < 0 && addr > -4096)
		return addr;
	if ((uint64_t)addr != vma->addr)
		return -PIE_EFAULT;
	return 0;
}

static long restorer_map_vmas(struct restorer_args *args)
{
	const struct restorer_vma *vmas = (const struct restorer_vma *)(uintptr_t)args->vmas;
	long ret;

	for (uint32_t i = 0; i < args->nr_vmas; i++) {
		ret = restorer_map_vma(&vmas[i]);
		if (ret)
			return restorer_fail(args, ret, RESTORER_STEP_MMAP, i);
		if (vmas[i].copy_len > vmas[i].len)
			return restorer_fail(args, -PIE_EINVAL, RESTORER_STEP_COPY, i);
		if (vmas[i].copy_from)
			memcpy((void *)(uintptr_t)vmas[i].addr, (const void *)(uintptr_t)vmas[i].copy_from,
			       vmas[i].copy_len);
	}
	return 0;
}

long restorer_main(struct restorer_args *args)
{
	long ret;

	if (args->magic != RESTORER_MAGIC || args->version != RESTORER_VERSION)
		return -PIE_EINVAL;
	args->ret = 0;
	args->failed_step = RESTORER_STEP_NONE;
	args->failed_index = 0;

	if (args->flags & RESTORER_F_UNMAP) {
		ret = sys_munmap(args->unmap_addr, args->unmap_len);
		if (ret)
			return restorer_fail(args, ret, RESTORER_STEP_UNMAP, 0);
	}
	if (args->flags & RESTORER_F_MMAP) {
		ret = restorer_map_vmas(args);
		if (ret)
			return ret;
	}
	if (args->flags & RESTORER_F_SIGRETURN)
		pie_sigreturn(args->sigframe_sp);
	if (args->flags & RESTORER_F_EXIT)
		sys_exit_group(args->exit_code);
	return 0;
}
