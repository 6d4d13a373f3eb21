/* Symbols of vDSO images (core/vdso.c). */
#ifndef CRIU_VDSO_H
#define CRIU_VDSO_H

#include <stddef.h>
#include <stdint.h>

struct vdso_sym {
	char name[64];
	uint64_t value; /* offset from the image's start (vDSOs are linked at 0) */
	uint64_t size;
};

/* Up to max function symbols of the vDSO ELF image img: their count, or
 * -EINVAL (logged) for an image that is not one. */
int vdso_symbols(const uint8_t *img, size_t len, struct vdso_sym *out, int max);

#endif
