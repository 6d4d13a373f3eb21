/* VMA classification as stored in vma_entry.status (upstream's bits). */
#ifndef CRIU_VMA_H
#define CRIU_VMA_H

#include <stdint.h>

#include "proc.h"
#include "proto/mm.pb-c.h"

#define VMA_AREA_REGULAR (1u << 0)
#define VMA_AREA_STACK (1u << 1)
#define VMA_AREA_VSYSCALL (1u << 2)
#define VMA_AREA_VDSO (1u << 3)
#define VMA_AREA_HEAP (1u << 5)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_FILE_SHARED (1u << 7)
#define VMA_ANON_SHARED (1u << 8)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_AREA_SYSVIPC (1u << 10)
#define VMA_AREA_SOCKET (1u << 11)
#define VMA_AREA_VVAR (1u << 12)
#define VMA_AREA_AIORING (1u << 13)
#define VMA_AREA_MEMFD (1u << 14)
#define VMA_UNSUPP (1u << 31)

/* The kernel's own areas: not mapped by the restorer, moved there. */
#define VMA_KERNEL_AREA (VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL)

/* madv: bit (1 << MADV_x) for each advice in effect */
#define VMA_MADV_BIT(advice) (1ULL << (advice))

/* Fills status, flags and madv of e from one /proc VMA; 0 or -EOPNOTSUPP
 * (logged, naming the area) for a kind dump cannot take yet. */
int vma_classify(pid_t pid, const struct proc_vma *pv, VmaEntry *e);

#endif
