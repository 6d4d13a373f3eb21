/*
 * A vDSO from another kernel: the dumped task's code calls functions at the
 * addresses of the vDSO it was started with.  When this kernel's vDSO has
 * another layout, the restore maps the dumped vDSO's code back where it was
 * and turns each exported function into a jump to the function of the same
 * name in this kernel's vDSO (wherever that one is mapped).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "vdso.h"

/* The function symbols of the vDSO image (an ELF as mapped). */
int vdso_symbols(const uint8_t *img, size_t len, struct vdso_sym *out, int max)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh;
	int n = 0;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || !eh->e_shoff ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len ||
	    eh->e_shnum > (len - eh->e_shoff) / sizeof(Elf64_Shdr)) {
		pr_err("the vDSO is not a 64-bit ELF with section headers\n");
		return -EINVAL;
	}
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sym = &sh[i], *str;

		if (sym->sh_type != SHT_DYNSYM || sym->sh_link >= eh->e_shnum ||
		    sym->sh_entsize != sizeof(Elf64_Sym) || sym->sh_offset > len ||
		    sym->sh_size > len - sym->sh_offset)
			continue;
		str = &sh[sym->sh_link];
		if (str->sh_offset > len || str->sh_size > len - str->sh_offset)
			continue;
		for (size_t k = 0; k < sym->sh_size / sizeof(Elf64_Sym) && n < max; k++) {
			const Elf64_Sym *s = (const Elf64_Sym *)(img + sym->sh_offset) + k;
			const char *name;

			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
			    s->st_name >= str->sh_size)
				continue;
			name = (const char *)img + str->sh_offset + s->st_name;
			if (strnlen(name, str->sh_size - s->st_name) >= sizeof(out[n].name))
				continue;
			strcpy(out[n].name, name);
			out[n].value = s->st_value;
			out[n].size = s->st_size;
			n++;
		}
	}
	return n;
}
