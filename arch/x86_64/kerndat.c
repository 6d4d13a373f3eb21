/*
 * x86_64 kernel probes: arch_prctl(ARCH_MAP_VDSO_64/32), which restore uses
 * to map a vDSO where the image wants it, and whose 32-bit form says the
 * kernel runs ia32 tasks.  Called in a child (kd_in_child): a vDSO mapped
 * by the probe dies with it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kerndat-probes.h"

#define ARCH_MAP_VDSO_32 0x2002
#define ARCH_MAP_VDSO_64 0x2003

/* EEXIST: the call is known, and this process has its vDSO already. */
static bool map_vdso(int code, const char *name, char *why, size_t len)
{
	long r = syscall(SYS_arch_prctl, code, 0x10000000UL);

	if (r >= 0 || errno == EEXIST)
		return true;
	snprintf(why, len, "arch_prctl(%s): %s", name, strerror(errno));
	return false;
}

bool arch_kerndat_can_map_vdso(char *why, size_t len)
{
	return map_vdso(ARCH_MAP_VDSO_64, "ARCH_MAP_VDSO_64", why, len);
}

bool arch_kerndat_compat_cr(char *why, size_t len)
{
	return map_vdso(ARCH_MAP_VDSO_32, "ARCH_MAP_VDSO_32 (CONFIG_IA32_EMULATION)", why, len);
}
