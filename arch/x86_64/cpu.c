/*
 * x86_64 CPU features for cpuinfo.img and --cpu-cap: the CPUID words and
 * XCR0 state components that matter to a task, where each bit lives, and
 * what it matters for.
 */
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

#include "arch-cpu.h"
#include "log.h"

/* Upstream's index of each CPUID word in capability[] (its version 2). */
enum {
	CAP_1_EDX = 0,
	CAP_80000001_EDX = 1,
	CAP_1_ECX = 4,
	CAP_80000001_ECX = 6,
	CAP_7_0_EBX = 9,
	CAP_D_1_EAX = 10,
	CAP_7_0_ECX = 11,
	CAP_80000008_EBX = 13,
	CAP_80000007_EBX = 17,
	CAP_7_0_EDX = 18,
	NR_CAPS = 19,
	CAPABILITY_VER = 2,
};

/* Our index of each word in x86_words[]. */
enum {
	W_1_EDX,
	W_1_ECX,
	W_81_EDX,
	W_81_ECX,
	W_7_0_EBX,
	W_7_0_ECX,
	W_7_0_EDX,
	W_7_1_EAX,
	W_7_1_EDX,
	W_7_2_EDX,
	W_D_1_EAX,
	W_87_EBX,
	W_87_EDX,
	W_88_EBX,
	W_XCR0,
};

#define CAP_WORD(cap, name) { "capability", cap, name, "bit", 0, 32, false, CPU_CLASS_OTHER }
#define OWN_WORD(field, name) { field, 0, name, "bit", 0, 32, false, CPU_CLASS_OTHER }

static const struct cpu_word x86_words[] = {
	[W_1_EDX] = CAP_WORD(CAP_1_EDX, "CPUID.1:EDX"),
	[W_1_ECX] = CAP_WORD(CAP_1_ECX, "CPUID.1:ECX"),
	[W_81_EDX] = CAP_WORD(CAP_80000001_EDX, "CPUID.0x80000001:EDX"),
	[W_81_ECX] = CAP_WORD(CAP_80000001_ECX, "CPUID.0x80000001:ECX"),
	[W_7_0_EBX] = CAP_WORD(CAP_7_0_EBX, "CPUID.7.0:EBX"),
	[W_7_0_ECX] = CAP_WORD(CAP_7_0_ECX, "CPUID.7.0:ECX"),
	[W_7_0_EDX] = CAP_WORD(CAP_7_0_EDX, "CPUID.7.0:EDX"),
	[W_7_1_EAX] = OWN_WORD("cpuid_7_1_eax", "CPUID.7.1:EAX"),
	[W_7_1_EDX] = OWN_WORD("cpuid_7_1_edx", "CPUID.7.1:EDX"),
	[W_7_2_EDX] = OWN_WORD("cpuid_7_2_edx", "CPUID.7.2:EDX"),
	[W_D_1_EAX] = CAP_WORD(CAP_D_1_EAX, "CPUID.0xD.1:EAX"),
	[W_87_EBX] = CAP_WORD(CAP_80000007_EBX, "CPUID.0x80000007:EBX"),
	[W_87_EDX] = OWN_WORD("cpuid_80000007_edx", "CPUID.0x80000007:EDX"),
	[W_88_EBX] = CAP_WORD(CAP_80000008_EBX, "CPUID.0x80000008:EBX"),
	/* Every state component is state a task carries, named or not. */
	[W_XCR0] = { "xfeatures_mask", 0, "XCR0", "bit", 0, 64, false, CPU_CLASS_FPU },
};

#define I CPU_CLASS_INS
#define F CPU_CLASS_FPU
#define O CPU_CLASS_OTHER
#define FEAT(w, b, n, c) { n, w, b, c, NULL }

static const struct cpu_feature x86_features[] = {
	FEAT(W_1_EDX, 0, "fpu", I | F),
	FEAT(W_1_EDX, 1, "vme", O),
	FEAT(W_1_EDX, 2, "de", O),
	FEAT(W_1_EDX, 3, "pse", O),
	FEAT(W_1_EDX, 4, "tsc", I),
	FEAT(W_1_EDX, 5, "msr", O),
	FEAT(W_1_EDX, 6, "pae", O),
	FEAT(W_1_EDX, 7, "mce", O),
	FEAT(W_1_EDX, 8, "cx8", I),
	FEAT(W_1_EDX, 9, "apic", O),
	FEAT(W_1_EDX, 11, "sep", I),
	FEAT(W_1_EDX, 12, "mtrr", O),
	FEAT(W_1_EDX, 13, "pge", O),
	FEAT(W_1_EDX, 14, "mca", O),
	FEAT(W_1_EDX, 15, "cmov", I),
	FEAT(W_1_EDX, 16, "pat", O),
	FEAT(W_1_EDX, 17, "pse36", O),
	FEAT(W_1_EDX, 18, "pn", O),
	FEAT(W_1_EDX, 19, "clflush", I),
	FEAT(W_1_EDX, 21, "dts", O),
	FEAT(W_1_EDX, 22, "acpi", O),
	FEAT(W_1_EDX, 23, "mmx", I),
	FEAT(W_1_EDX, 24, "fxsr", I | F),
	/* The XMM registers are state that fxsave carries without xsave. */
	FEAT(W_1_EDX, 25, "sse", I | F),
	FEAT(W_1_EDX, 26, "sse2", I),
	FEAT(W_1_EDX, 27, "ss", O),
	FEAT(W_1_EDX, 28, "ht", O),
	FEAT(W_1_EDX, 29, "tm", O),
	FEAT(W_1_EDX, 30, "ia64", O),
	FEAT(W_1_EDX, 31, "pbe", O),

	FEAT(W_1_ECX, 0, "pni", I),
	FEAT(W_1_ECX, 1, "pclmulqdq", I),
	FEAT(W_1_ECX, 2, "dtes64", O),
	FEAT(W_1_ECX, 3, "monitor", O),
	FEAT(W_1_ECX, 4, "ds_cpl", O),
	FEAT(W_1_ECX, 5, "vmx", O),
	FEAT(W_1_ECX, 6, "smx", O),
	FEAT(W_1_ECX, 7, "est", O),
	FEAT(W_1_ECX, 8, "tm2", O),
	FEAT(W_1_ECX, 9, "ssse3", I),
	FEAT(W_1_ECX, 10, "cid", O),
	FEAT(W_1_ECX, 11, "sdbg", O),
	FEAT(W_1_ECX, 12, "fma", I),
	FEAT(W_1_ECX, 13, "cx16", I),
	FEAT(W_1_ECX, 14, "xtpr", O),
	FEAT(W_1_ECX, 15, "pdcm", O),
	FEAT(W_1_ECX, 17, "pcid", O),
	FEAT(W_1_ECX, 18, "dca", O),
	FEAT(W_1_ECX, 19, "sse4_1", I),
	FEAT(W_1_ECX, 20, "sse4_2", I),
	FEAT(W_1_ECX, 21, "x2apic", O),
	FEAT(W_1_ECX, 22, "movbe", I),
	FEAT(W_1_ECX, 23, "popcnt", I),
	FEAT(W_1_ECX, 24, "tsc_deadline_timer", O),
	FEAT(W_1_ECX, 25, "aes", I),
	FEAT(W_1_ECX, 26, "xsave", I | F),
	/* The OS saves xsave state: without it the image's state has nowhere to go. */
	FEAT(W_1_ECX, 27, "osxsave", F),
	FEAT(W_1_ECX, 28, "avx", I),
	FEAT(W_1_ECX, 29, "f16c", I),
	FEAT(W_1_ECX, 30, "rdrand", I),
	FEAT(W_1_ECX, 31, "hypervisor", O),

	/*
	 * AMD repeats most of CPUID.1:EDX here; Intel does not, so only cpu
	 * compares these copies.
	 */
	FEAT(W_81_EDX, 0, "ext.fpu", O),
	FEAT(W_81_EDX, 1, "ext.vme", O),
	FEAT(W_81_EDX, 2, "ext.de", O),
	FEAT(W_81_EDX, 3, "ext.pse", O),
	FEAT(W_81_EDX, 4, "ext.tsc", O),
	FEAT(W_81_EDX, 5, "ext.msr", O),
	FEAT(W_81_EDX, 6, "ext.pae", O),
	FEAT(W_81_EDX, 7, "ext.mce", O),
	FEAT(W_81_EDX, 8, "ext.cx8", O),
	FEAT(W_81_EDX, 9, "ext.apic", O),
	FEAT(W_81_EDX, 11, "syscall", I),
	FEAT(W_81_EDX, 12, "ext.mtrr", O),
	FEAT(W_81_EDX, 13, "ext.pge", O),
	FEAT(W_81_EDX, 14, "ext.mca", O),
	FEAT(W_81_EDX, 15, "ext.cmov", O),
	FEAT(W_81_EDX, 16, "ext.pat", O),
	FEAT(W_81_EDX, 17, "ext.pse36", O),
	FEAT(W_81_EDX, 19, "mp", O),
	FEAT(W_81_EDX, 20, "nx", O),
	FEAT(W_81_EDX, 22, "mmxext", I),
	FEAT(W_81_EDX, 23, "ext.mmx", O),
	FEAT(W_81_EDX, 24, "ext.fxsr", O),
	FEAT(W_81_EDX, 25, "fxsr_opt", O),
	FEAT(W_81_EDX, 26, "pdpe1gb", O),
	FEAT(W_81_EDX, 27, "rdtscp", I),
	FEAT(W_81_EDX, 29, "lm", I),
	FEAT(W_81_EDX, 30, "3dnowext", I),
	FEAT(W_81_EDX, 31, "3dnow", I),

	FEAT(W_81_ECX, 0, "lahf_lm", I),
	FEAT(W_81_ECX, 1, "cmp_legacy", O),
	FEAT(W_81_ECX, 2, "svm", O),
	FEAT(W_81_ECX, 3, "extapic", O),
	FEAT(W_81_ECX, 4, "cr8_legacy", O),
	FEAT(W_81_ECX, 5, "abm", I),
	FEAT(W_81_ECX, 6, "sse4a", I),
	FEAT(W_81_ECX, 7, "misalignsse", I),
	FEAT(W_81_ECX, 8, "3dnowprefetch", I),
	FEAT(W_81_ECX, 9, "osvw", O),
	FEAT(W_81_ECX, 10, "ibs", O),
	FEAT(W_81_ECX, 11, "xop", I),
	FEAT(W_81_ECX, 12, "skinit", O),
	FEAT(W_81_ECX, 13, "wdt", O),
	FEAT(W_81_ECX, 15, "lwp", I),
	FEAT(W_81_ECX, 16, "fma4", I),
	FEAT(W_81_ECX, 17, "tce", O),
	FEAT(W_81_ECX, 19, "nodeid_msr", O),
	FEAT(W_81_ECX, 21, "tbm", I),
	FEAT(W_81_ECX, 22, "topoext", O),
	FEAT(W_81_ECX, 23, "perfctr_core", O),
	FEAT(W_81_ECX, 24, "perfctr_nb", O),
	FEAT(W_81_ECX, 26, "bpext", O),
	FEAT(W_81_ECX, 27, "ptsc", O),
	FEAT(W_81_ECX, 28, "perfctr_llc", O),
	FEAT(W_81_ECX, 29, "mwaitx", I),

	FEAT(W_7_0_EBX, 0, "fsgsbase", I),
	FEAT(W_7_0_EBX, 1, "tsc_adjust", O),
	FEAT(W_7_0_EBX, 2, "sgx", O),
	FEAT(W_7_0_EBX, 3, "bmi1", I),
	FEAT(W_7_0_EBX, 4, "hle", I),
	FEAT(W_7_0_EBX, 5, "avx2", I),
	FEAT(W_7_0_EBX, 6, "fdp_excptn_only", O),
	FEAT(W_7_0_EBX, 7, "smep", O),
	FEAT(W_7_0_EBX, 8, "bmi2", I),
	FEAT(W_7_0_EBX, 9, "erms", I),
	FEAT(W_7_0_EBX, 10, "invpcid", O),
	FEAT(W_7_0_EBX, 11, "rtm", I),
	FEAT(W_7_0_EBX, 12, "cqm", O),
	FEAT(W_7_0_EBX, 13, "zero_fcs_fds", O),
	FEAT(W_7_0_EBX, 14, "mpx", I),
	FEAT(W_7_0_EBX, 15, "rdt_a", O),
	FEAT(W_7_0_EBX, 16, "avx512f", I),
	FEAT(W_7_0_EBX, 17, "avx512dq", I),
	FEAT(W_7_0_EBX, 18, "rdseed", I),
	FEAT(W_7_0_EBX, 19, "adx", I),
	FEAT(W_7_0_EBX, 20, "smap", O),
	FEAT(W_7_0_EBX, 21, "avx512ifma", I),
	FEAT(W_7_0_EBX, 22, "pcommit", I),
	FEAT(W_7_0_EBX, 23, "clflushopt", I),
	FEAT(W_7_0_EBX, 24, "clwb", I),
	FEAT(W_7_0_EBX, 25, "intel_pt", O),
	FEAT(W_7_0_EBX, 26, "avx512pf", I),
	FEAT(W_7_0_EBX, 27, "avx512er", I),
	FEAT(W_7_0_EBX, 28, "avx512cd", I),
	FEAT(W_7_0_EBX, 29, "sha_ni", I),
	FEAT(W_7_0_EBX, 30, "avx512bw", I),
	FEAT(W_7_0_EBX, 31, "avx512vl", I),

	FEAT(W_7_0_ECX, 0, "prefetchwt1", I),
	FEAT(W_7_0_ECX, 1, "avx512vbmi", I),
	FEAT(W_7_0_ECX, 2, "umip", O),
	FEAT(W_7_0_ECX, 3, "pku", I),
	FEAT(W_7_0_ECX, 4, "ospke", I),
	FEAT(W_7_0_ECX, 5, "waitpkg", I),
	FEAT(W_7_0_ECX, 6, "avx512_vbmi2", I),
	/* A task's shadow stack pointer is state it carries. */
	FEAT(W_7_0_ECX, 7, "shstk", F),
	FEAT(W_7_0_ECX, 8, "gfni", I),
	FEAT(W_7_0_ECX, 9, "vaes", I),
	FEAT(W_7_0_ECX, 10, "vpclmulqdq", I),
	FEAT(W_7_0_ECX, 11, "avx512_vnni", I),
	FEAT(W_7_0_ECX, 12, "avx512_bitalg", I),
	FEAT(W_7_0_ECX, 13, "tme", O),
	FEAT(W_7_0_ECX, 14, "avx512_vpopcntdq", I),
	FEAT(W_7_0_ECX, 16, "la57", O),
	FEAT(W_7_0_ECX, 22, "rdpid", I),
	FEAT(W_7_0_ECX, 23, "keylocker", I),
	FEAT(W_7_0_ECX, 24, "bus_lock_detect", O),
	FEAT(W_7_0_ECX, 25, "cldemote", I),
	FEAT(W_7_0_ECX, 27, "movdiri", I),
	FEAT(W_7_0_ECX, 28, "movdir64b", I),
	FEAT(W_7_0_ECX, 29, "enqcmd", I),
	FEAT(W_7_0_ECX, 30, "sgx_lc", O),
	FEAT(W_7_0_ECX, 31, "pks", O),

	FEAT(W_7_0_EDX, 2, "avx512_4vnniw", I),
	FEAT(W_7_0_EDX, 3, "avx512_4fmaps", I),
	FEAT(W_7_0_EDX, 4, "fsrm", O),
	FEAT(W_7_0_EDX, 8, "avx512_vp2intersect", I),
	FEAT(W_7_0_EDX, 10, "md_clear", O),
	FEAT(W_7_0_EDX, 14, "serialize", I),
	FEAT(W_7_0_EDX, 15, "hybrid_cpu", O),
	FEAT(W_7_0_EDX, 16, "tsxldtrk", I),
	FEAT(W_7_0_EDX, 18, "pconfig", O),
	FEAT(W_7_0_EDX, 19, "arch_lbr", O),
	FEAT(W_7_0_EDX, 20, "ibt", O),
	FEAT(W_7_0_EDX, 22, "amx_bf16", I),
	FEAT(W_7_0_EDX, 23, "avx512_fp16", I),
	FEAT(W_7_0_EDX, 24, "amx_tile", I),
	FEAT(W_7_0_EDX, 25, "amx_int8", I),
	FEAT(W_7_0_EDX, 26, "spec_ctrl", O),
	FEAT(W_7_0_EDX, 27, "intel_stibp", O),
	FEAT(W_7_0_EDX, 28, "flush_l1d", O),
	FEAT(W_7_0_EDX, 29, "arch_capabilities", O),
	FEAT(W_7_0_EDX, 30, "core_capabilities", O),
	FEAT(W_7_0_EDX, 31, "spec_ctrl_ssbd", O),

	FEAT(W_7_1_EAX, 0, "sha512", I),
	FEAT(W_7_1_EAX, 1, "sm3", I),
	FEAT(W_7_1_EAX, 2, "sm4", I),
	FEAT(W_7_1_EAX, 4, "avx_vnni", I),
	FEAT(W_7_1_EAX, 5, "avx512_bf16", I),
	FEAT(W_7_1_EAX, 7, "cmpccxadd", I),
	FEAT(W_7_1_EAX, 10, "fzrm", O),
	FEAT(W_7_1_EAX, 11, "fsrs", O),
	FEAT(W_7_1_EAX, 12, "fsrc", O),
	FEAT(W_7_1_EAX, 17, "fred", O),
	FEAT(W_7_1_EAX, 18, "lkgs", O),
	FEAT(W_7_1_EAX, 19, "wrmsrns", O),
	FEAT(W_7_1_EAX, 21, "amx_fp16", I),
	FEAT(W_7_1_EAX, 22, "hreset", O),
	FEAT(W_7_1_EAX, 23, "avx_ifma", I),
	FEAT(W_7_1_EAX, 26, "lam", O),

	FEAT(W_7_1_EDX, 4, "avx_vnni_int8", I),
	FEAT(W_7_1_EDX, 5, "avx_ne_convert", I),
	FEAT(W_7_1_EDX, 8, "amx_complex", I),
	FEAT(W_7_1_EDX, 10, "avx_vnni_int16", I),
	FEAT(W_7_1_EDX, 14, "prefetchiti", I),
	FEAT(W_7_1_EDX, 19, "avx10", I),
	/* Sixteen more general registers: instructions and state. */
	FEAT(W_7_1_EDX, 21, "apx_f", I | F),

	FEAT(W_7_2_EDX, 0, "psfd", O),
	FEAT(W_7_2_EDX, 1, "ipred_ctrl", O),
	FEAT(W_7_2_EDX, 2, "rrsba_ctrl", O),
	FEAT(W_7_2_EDX, 3, "ddpd_u", O),
	FEAT(W_7_2_EDX, 4, "bhi_ctrl", O),
	FEAT(W_7_2_EDX, 5, "mcdt_no", O),

	/* glibc runs these in its lazy-binding trampolines: both ins and fpu. */
	FEAT(W_D_1_EAX, 0, "xsaveopt", I | F),
	FEAT(W_D_1_EAX, 1, "xsavec", I | F),
	FEAT(W_D_1_EAX, 2, "xgetbv1", I),
	FEAT(W_D_1_EAX, 3, "xsaves", O),
	FEAT(W_D_1_EAX, 4, "xfd", O),

	FEAT(W_87_EBX, 0, "overflow_recov", O),
	FEAT(W_87_EBX, 1, "succor", O),
	FEAT(W_87_EBX, 3, "smca", O),

	FEAT(W_87_EDX, 8, "invtsc", O),
	FEAT(W_87_EDX, 9, "cpb", O),

	FEAT(W_88_EBX, 0, "clzero", I),
	FEAT(W_88_EBX, 1, "irperf", O),
	FEAT(W_88_EBX, 2, "xsaveerptr", O),
	FEAT(W_88_EBX, 3, "invlpgb", O),
	FEAT(W_88_EBX, 4, "rdpru", I),
	FEAT(W_88_EBX, 8, "mcommit", I),
	FEAT(W_88_EBX, 9, "wbnoinvd", O),
	FEAT(W_88_EBX, 12, "amd_ibpb", O),
	FEAT(W_88_EBX, 13, "int_wbinvd", O),
	FEAT(W_88_EBX, 14, "amd_ibrs", O),
	FEAT(W_88_EBX, 15, "amd_stibp", O),
	FEAT(W_88_EBX, 16, "ibrs_always_on", O),
	FEAT(W_88_EBX, 17, "stibp_always_on", O),
	FEAT(W_88_EBX, 18, "ibrs_preferred", O),
	FEAT(W_88_EBX, 19, "ibrs_same_mode", O),
	FEAT(W_88_EBX, 23, "amd_ppin", O),
	FEAT(W_88_EBX, 24, "amd_ssbd", O),
	FEAT(W_88_EBX, 25, "virt_ssbd", O),
	FEAT(W_88_EBX, 26, "amd_ssb_no", O),
	FEAT(W_88_EBX, 27, "cppc", O),
	FEAT(W_88_EBX, 28, "amd_psfd", O),
	FEAT(W_88_EBX, 29, "btc_no", O),
	FEAT(W_88_EBX, 30, "ibpb_ret", O),

	FEAT(W_XCR0, 0, "xsave.x87", F),
	FEAT(W_XCR0, 1, "xsave.sse", F),
	FEAT(W_XCR0, 2, "xsave.avx", F),
	FEAT(W_XCR0, 3, "xsave.bndregs", F),
	FEAT(W_XCR0, 4, "xsave.bndcsr", F),
	FEAT(W_XCR0, 5, "xsave.opmask", F),
	FEAT(W_XCR0, 6, "xsave.zmm_hi256", F),
	FEAT(W_XCR0, 7, "xsave.hi16_zmm", F),
	FEAT(W_XCR0, 9, "xsave.pkru", F),
	FEAT(W_XCR0, 17, "xsave.tilecfg", F),
	FEAT(W_XCR0, 18, "xsave.tiledata", F),
	FEAT(W_XCR0, 19, "xsave.apx", F),
};

static const struct cpu_value x86_values[] = {
	{ "vendor_name", "vendor", "CPUID.0", NULL, O, CPU_RULE_SHOW, false },
	{ "vendor_id", "vendor class", NULL, NULL, O, CPU_RULE_SHOW, false },
	{ "cpu_family", "family", NULL, NULL, O, CPU_RULE_SHOW, false },
	{ "model", "model", NULL, NULL, O, CPU_RULE_SHOW, false },
	{ "stepping", "stepping", NULL, NULL, O, CPU_RULE_SHOW, false },
	{ "model_id", "model name", "CPUID.0x80000002-4", NULL, O, CPU_RULE_SHOW, false },
	{ "fpu", "FPU mode", NULL, NULL, O, CPU_RULE_SHOW, true },
	/*
	 * glibc sizes the buffers of its lazy-binding trampolines, and tasks
	 * their signal stacks, for the frame of the CPU they started on: a
	 * larger frame here overruns them, a smaller one is harmless.
	 */
	{ "xsave_size", "xsave frame size", "CPUID.0xD.0:EBX", "bytes", F, CPU_RULE_NOT_LARGER, true },
	{ "xsave_size_max", "largest xsave frame size", "CPUID.0xD.0:ECX", "bytes", O, CPU_RULE_SHOW, true },
};

#undef I
#undef F
#undef O

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const struct cpu_arch_desc arch_cpu_desc = {
	.arch = "x86_64",
	.entry_field = "x86_entry",
	.words = x86_words,
	.nr_words = NR(x86_words),
	.features = x86_features,
	.nr_features = NR(x86_features),
	.values = x86_values,
	.nr_values = NR(x86_values),
};

struct cpuid_regs {
	unsigned eax, ebx, ecx, edx;
};

/* Leaves above the maximum read as zero: CPUs answer them with another leaf's data. */
static struct cpuid_regs cpuid(unsigned leaf, unsigned sub, unsigned max)
{
	struct cpuid_regs r = { 0 };

	if (leaf <= max)
		__cpuid_count(leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
	return r;
}

static uint64_t read_xcr0(void)
{
	unsigned lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static const struct {
	const char *name;
	CpuinfoX86Entry__Vendor id;
} x86_vendors[] = {
	{ "GenuineIntel", CPUINFO_X86_ENTRY__VENDOR__INTEL },
	{ "AuthenticAMD", CPUINFO_X86_ENTRY__VENDOR__AMD },
};

static int collect_vendor(CpuinfoX86Entry *x, unsigned *max)
{
	struct cpuid_regs r = cpuid(0, 0, 0);
	char name[13];

	*max = r.eax;
	memcpy(name, &r.ebx, 4);
	memcpy(name + 4, &r.edx, 4);
	memcpy(name + 8, &r.ecx, 4);
	name[12] = 0;
	x->vendor_name = strdup(name);
	for (size_t i = 0; i < NR(x86_vendors); i++)
		if (!strcmp(name, x86_vendors[i].name))
			x->vendor_id = x86_vendors[i].id;
	return x->vendor_name ? 0 : -1;
}

/* Family, model and stepping from CPUID.1:EAX, with the extended fields where they count. */
static void collect_signature(CpuinfoX86Entry *x, unsigned eax)
{
	unsigned family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;

	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	if (family >= 6)
		model |= ((eax >> 16) & 0xf) << 4;
	x->cpu_family = family;
	x->model = model;
	x->stepping = eax & 0xf;
}

static int collect_model_id(CpuinfoX86Entry *x, unsigned ext_max)
{
	char id[49] = { 0 };
	char *start = id;

	if (ext_max < 0x80000004)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002 + i, 0, ext_max);

		memcpy(id + 16 * i, &r, 16);
	}
	while (*start == ' ')
		start++;
	x->model_id = strdup(start);
	return x->model_id ? 0 : -1;
}

static void collect_leaf7(CpuinfoX86Entry *x, unsigned max)
{
	struct cpuid_regs r = cpuid(7, 0, max);
	unsigned subleaves = r.eax;

	x->capability[CAP_7_0_EBX] = r.ebx;
	x->capability[CAP_7_0_ECX] = r.ecx;
	x->capability[CAP_7_0_EDX] = r.edx;
	r = subleaves >= 1 ? cpuid(7, 1, max) : (struct cpuid_regs){ 0 };
	x->cpuid_7_1_eax = r.eax;
	x->cpuid_7_1_edx = r.edx;
	r = subleaves >= 2 ? cpuid(7, 2, max) : (struct cpuid_regs){ 0 };
	x->cpuid_7_2_edx = r.edx;
	x->has_cpuid_7_1_eax = x->has_cpuid_7_1_edx = x->has_cpuid_7_2_edx = 1;
}

static CpuinfoX86Entry__FpuMode fpu_mode(const CpuinfoX86Entry *x)
{
	uint32_t d1 = x->capability[CAP_D_1_EAX];

	if (x->capability[CAP_1_ECX] & (1u << 27)) {
		if (d1 & (1u << 3))
			return CPUINFO_X86_ENTRY__FPU_MODE__XSAVES;
		if (d1 & (1u << 0))
			return CPUINFO_X86_ENTRY__FPU_MODE__XSAVEOPT;
		return CPUINFO_X86_ENTRY__FPU_MODE__XSAVE;
	}
	if (x->capability[CAP_1_EDX] & (1u << 24))
		return CPUINFO_X86_ENTRY__FPU_MODE__FXSR;
	return CPUINFO_X86_ENTRY__FPU_MODE__X87;
}

/* The xsave state components the OS enabled, and the frame sizes. */
static void collect_xsave(CpuinfoX86Entry *x, unsigned max)
{
	struct cpuid_regs r = cpuid(0xd, 0, max);
	bool osxsave = x->capability[CAP_1_ECX] & (1u << 27);

	x->capability[CAP_D_1_EAX] = cpuid(0xd, 1, max).eax;
	x->has_xfeatures_mask = 1;
	x->xfeatures_mask = osxsave ? read_xcr0() & (((uint64_t)r.edx << 32) | r.eax) : 0;
	x->has_xsave_size = x->has_xsave_size_max = osxsave;
	x->xsave_size = osxsave ? r.ebx : 0;
	x->xsave_size_max = osxsave ? r.ecx : 0;
	x->has_fpu = 1;
	x->fpu = fpu_mode(x);
}

static void collect_extended(CpuinfoX86Entry *x, unsigned ext_max)
{
	struct cpuid_regs r = cpuid(0x80000001, 0, ext_max);

	x->capability[CAP_80000001_ECX] = r.ecx;
	x->capability[CAP_80000001_EDX] = r.edx;
	r = cpuid(0x80000007, 0, ext_max);
	x->capability[CAP_80000007_EBX] = r.ebx;
	x->cpuid_80000007_edx = r.edx;
	x->has_cpuid_80000007_edx = 1;
	x->capability[CAP_80000008_EBX] = cpuid(0x80000008, 0, ext_max).ebx;
}

static int collect_x86(CpuinfoX86Entry *x)
{
	unsigned max, ext_max;
	struct cpuid_regs r;

	x->capability_ver = CAPABILITY_VER;
	x->capability = calloc(NR_CAPS, sizeof(*x->capability));
	if (!x->capability || collect_vendor(x, &max))
		return -1;
	x->n_capability = NR_CAPS;
	r = cpuid(1, 0, max);
	collect_signature(x, r.eax);
	x->capability[CAP_1_ECX] = r.ecx;
	x->capability[CAP_1_EDX] = r.edx;
	collect_leaf7(x, max);
	/* Extended leaves answer only when 0x80000000 says they exist. */
	ext_max = cpuid(0x80000000, 0, 0x80000000).eax;
	if (ext_max < 0x80000000 || ext_max > 0x8000ffff)
		ext_max = 0;
	collect_extended(x, ext_max);
	collect_xsave(x, max);
	return collect_model_id(x, ext_max);
}

CpuinfoEntry *arch_cpu_collect(void)
{
	CpuinfoEntry *e;
	CpuinfoX86Entry *x;

	x = (CpuinfoX86Entry *)cpuinfo_entry_new(&arch_cpu_desc, &cpuinfo_x86_entry__descriptor, &e);
	if (!x) {
		pr_err("cpuinfo: out of memory describing the CPU\n");
		return NULL;
	}
	if (collect_x86(x)) {
		pr_err("cpuinfo: out of memory describing the CPU\n");
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return NULL;
	}
	return e;
}
