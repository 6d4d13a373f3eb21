/*
 * ppc64le CPU features for cpuinfo.img and --cpu-cap: the hwcap words the
 * kernel gives every task, the platform, and the size of the vector state
 * a task carries.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "arch-cpu.h"
#include "log.h"

#ifndef AT_HWCAP3
#define AT_HWCAP3 29
#endif
#ifndef AT_HWCAP4
#define AT_HWCAP4 30
#endif

#define HWCAP_BIT_ALTIVEC 28
#define HWCAP_BIT_VSX 7
/* NT_PPC_VMX: 32 VRs, VSCR and VRSAVE, a quadword each; NT_PPC_VSX: VSR0-31's upper doublewords. */
#define VMX_STATE_SIZE (34 * 16)
#define VSX_STATE_SIZE (32 * 8)

enum { W_HWCAP, W_HWCAP2, W_HWCAP3, W_HWCAP4 };

#define I CPU_CLASS_INS
#define F CPU_CLASS_FPU
#define O CPU_CLASS_OTHER

/* Upstream keeps AT_HWCAP and AT_HWCAP2 as hwcap[0] and hwcap[1]. */
static const struct cpu_word ppc_words[] = {
	[W_HWCAP] = { "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, O },
	[W_HWCAP2] = { "hwcap", 1, "AT_HWCAP2", "bit", 0, 64, false, O },
	/* Nothing is defined there yet: whatever comes will be instructions. */
	[W_HWCAP3] = { "hwcap3", 0, "AT_HWCAP3", "bit", 0, 64, false, I },
	[W_HWCAP4] = { "hwcap4", 0, "AT_HWCAP4", "bit", 0, 64, false, I },
};

#define FEAT(w, b, n, c) { n, w, b, c, NULL }

static const struct cpu_feature ppc_features[] = {
	FEAT(W_HWCAP, 0, "ppcle", O),
	FEAT(W_HWCAP, 1, "true_le", O),
	FEAT(W_HWCAP, 6, "archpmu", O),
	FEAT(W_HWCAP, 7, "vsx", I | F),
	FEAT(W_HWCAP, 8, "arch_2_06", I),
	FEAT(W_HWCAP, 9, "power6x", I),
	FEAT(W_HWCAP, 10, "dfp", I),
	FEAT(W_HWCAP, 11, "pa6t", I),
	FEAT(W_HWCAP, 12, "arch_2_05", I),
	FEAT(W_HWCAP, 13, "ic_snoop", O),
	FEAT(W_HWCAP, 14, "smt", O),
	FEAT(W_HWCAP, 15, "booke", O),
	FEAT(W_HWCAP, 16, "cellbe", I),
	FEAT(W_HWCAP, 17, "power5+", I),
	FEAT(W_HWCAP, 18, "power5", I),
	FEAT(W_HWCAP, 19, "power4", I),
	FEAT(W_HWCAP, 20, "notb", O),
	FEAT(W_HWCAP, 21, "efpdouble", I),
	FEAT(W_HWCAP, 22, "efpsingle", I),
	FEAT(W_HWCAP, 23, "spe", I | F),
	FEAT(W_HWCAP, 24, "ucache", O),
	FEAT(W_HWCAP, 25, "4xxmac", I),
	FEAT(W_HWCAP, 26, "mmu", O),
	FEAT(W_HWCAP, 27, "fpu", I | F),
	FEAT(W_HWCAP, 28, "altivec", I | F),
	FEAT(W_HWCAP, 29, "ppc601", I),
	FEAT(W_HWCAP, 30, "ppc64", I),
	FEAT(W_HWCAP, 31, "ppc32", O),

	FEAT(W_HWCAP2, 17, "mma", I | F),
	FEAT(W_HWCAP2, 18, "arch_3_1", I),
	FEAT(W_HWCAP2, 19, "htm-no-suspend", O),
	FEAT(W_HWCAP2, 20, "scv", I),
	FEAT(W_HWCAP2, 21, "darn", I),
	FEAT(W_HWCAP2, 22, "ieee128", I),
	FEAT(W_HWCAP2, 23, "arch_3_00", I),
	FEAT(W_HWCAP2, 24, "htm-nosc", O),
	FEAT(W_HWCAP2, 25, "vcrypto", I),
	/* TAR, EBB, DSCR and transactional state are registers a task owns. */
	FEAT(W_HWCAP2, 26, "tar", I | F),
	FEAT(W_HWCAP2, 27, "isel", I),
	FEAT(W_HWCAP2, 28, "ebb", I | F),
	FEAT(W_HWCAP2, 29, "dscr", I | F),
	FEAT(W_HWCAP2, 30, "htm", I | F),
	FEAT(W_HWCAP2, 31, "arch_2_07", I),
};

static const struct cpu_value ppc_values[] = {
	{ "platform", "platform", "AT_PLATFORM", NULL, O, CPU_RULE_SHOW, false },
	/* The image's vector registers must have somewhere to go. */
	{ "vmx_state_size", "VMX state size", "NT_PPC_VMX", "bytes", F, CPU_RULE_NOT_SMALLER, true },
	{ "vsx_state_size", "VSX state size", "NT_PPC_VSX", "bytes", F, CPU_RULE_NOT_SMALLER, true },
};

#undef I
#undef F
#undef O

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const struct cpu_arch_desc arch_cpu_desc = {
	.arch = "ppc64le",
	.entry_field = "ppc64_entry",
	.words = ppc_words,
	.nr_words = NR(ppc_words),
	.features = ppc_features,
	.nr_features = NR(ppc_features),
	.values = ppc_values,
	.nr_values = NR(ppc_values),
};

static int collect_ppc64(CpuinfoPpc64Entry *p)
{
	const char *platform = (const char *)getauxval(AT_PLATFORM);

	p->endian = CPUINFO_PPC64_ENTRY__ENDIANNESS__LITTLEENDIAN;
	p->hwcap = calloc(2, sizeof(*p->hwcap));
	if (!p->hwcap)
		return -1;
	p->n_hwcap = 2;
	p->hwcap[0] = getauxval(AT_HWCAP);
	p->hwcap[1] = getauxval(AT_HWCAP2);
	/* 0 where the kernel has none: it then supports none of their features. */
	p->has_hwcap3 = p->has_hwcap4 = 1;
	p->hwcap3 = getauxval(AT_HWCAP3);
	p->hwcap4 = getauxval(AT_HWCAP4);
	p->has_vmx_state_size = p->has_vsx_state_size = 1;
	p->vmx_state_size = p->hwcap[0] & (1ull << HWCAP_BIT_ALTIVEC) ? VMX_STATE_SIZE : 0;
	p->vsx_state_size = p->hwcap[0] & (1ull << HWCAP_BIT_VSX) ? VSX_STATE_SIZE : 0;
	if (platform) {
		p->platform = strdup(platform);
		if (!p->platform)
			return -1;
	}
	return 0;
}

CpuinfoEntry *arch_cpu_collect(void)
{
	CpuinfoPpc64Entry *p;
	CpuinfoEntry *e;

	p = (CpuinfoPpc64Entry *)cpuinfo_entry_new(&arch_cpu_desc, &cpuinfo_ppc64_entry__descriptor, &e);
	if (!p || collect_ppc64(p)) {
		pr_err("cpuinfo: out of memory describing the CPU\n");
		if (p)
			protobuf_c_message_free_unpacked(&e->base, NULL);
		return NULL;
	}
	return e;
}
