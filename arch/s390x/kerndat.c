/*
 * s390x kernel probes.  The kernel has no arch_prctl(ARCH_MAP_VDSO) here (the
 * vDSO is moved with mremap instead) and criu restores no 32-bit tasks on
 * s390x: both answer no.
 */
#include <stdbool.h>
#include <stdio.h>

#include "kerndat-probes.h"

bool arch_kerndat_can_map_vdso(char *why, size_t len)
{
	snprintf(why, len, "the s390x kernel has no ARCH_MAP_VDSO");
	return false;
}

bool arch_kerndat_compat_cr(char *why, size_t len)
{
	snprintf(why, len, "no 32-bit task C/R on s390x");
	return false;
}
