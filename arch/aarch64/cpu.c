/*
 * aarch64 CPU features for cpuinfo.img and --cpu-cap: the hwcap words the
 * kernel gives every task, and the SVE and SME vector lengths this CPU can
 * run a task with.
 */
#include <sys/auxv.h>
#include <sys/prctl.h>

#include "arch-cpu.h"
#include "log.h"

#ifndef AT_HWCAP3
#define AT_HWCAP3 29
#endif
#ifndef PR_SVE_SET_VL
#define PR_SVE_SET_VL 50
#define PR_SVE_GET_VL 51
#endif
#ifndef PR_SME_SET_VL
#define PR_SME_SET_VL 63
#define PR_SME_GET_VL 64
#endif
/* The same for SVE and SME. */
#define VL_LEN_MASK 0xffff
#define VL_INHERIT (1 << 17)

/* Bits collection itself looks at. */
#define HWCAP_BIT_CPUID 11
#define HWCAP_BIT_SVE 22
#define HWCAP2_BIT_SME 23

/* Vector lengths are multiples of a quadword, up to 16 of them. */
#define VQ_BYTES 16
#define VQ_MAX 16

enum { W_HWCAP, W_HWCAP2, W_HWCAP3, W_SVE_VLS, W_SME_VLS };

#define I CPU_CLASS_INS
#define F CPU_CLASS_FPU
#define O CPU_CLASS_OTHER

/* Every hwcap bit is something user code can use, named here or not yet. */
static const struct cpu_word arm_words[] = {
	[W_HWCAP] = { "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, I },
	[W_HWCAP2] = { "hwcap2", 0, "AT_HWCAP2", "bit", 0, 64, false, I },
	[W_HWCAP3] = { "hwcap3", 0, "AT_HWCAP3", "bit", 0, 64, false, I },
	/* Bit N: N + 1 quadwords.  A task may run with any of them. */
	[W_SVE_VLS] = { "sve_vl_mask", 0, "SVE vector lengths", "bit", 0, VQ_MAX, false, F },
	[W_SME_VLS] = { "sme_vl_mask", 0, "SME vector lengths", "bit", 0, VQ_MAX, false, F },
};

#define FEAT(w, b, n, c) { n, w, b, c, NULL }
#define SVE_VL(bits) { "sve-vl" #bits, W_SVE_VLS, (bits) / 128 - 1, F, "SVE vector length " #bits " bits" }
#define SME_VL(bits) { "sme-vl" #bits, W_SME_VLS, (bits) / 128 - 1, F, "SME vector length " #bits " bits" }

static const struct cpu_feature arm_features[] = {
	/* The FP/SIMD registers are state as much as instructions. */
	FEAT(W_HWCAP, 0, "fp", I | F),
	FEAT(W_HWCAP, 1, "asimd", I | F),
	FEAT(W_HWCAP, 2, "evtstrm", O),
	FEAT(W_HWCAP, 3, "aes", I),
	FEAT(W_HWCAP, 4, "pmull", I),
	FEAT(W_HWCAP, 5, "sha1", I),
	FEAT(W_HWCAP, 6, "sha2", I),
	FEAT(W_HWCAP, 7, "crc32", I),
	FEAT(W_HWCAP, 8, "atomics", I),
	FEAT(W_HWCAP, 9, "fphp", I),
	FEAT(W_HWCAP, 10, "asimdhp", I),
	FEAT(W_HWCAP, 11, "cpuid", O),
	FEAT(W_HWCAP, 12, "asimdrdm", I),
	FEAT(W_HWCAP, 13, "jscvt", I),
	FEAT(W_HWCAP, 14, "fcma", I),
	FEAT(W_HWCAP, 15, "lrcpc", I),
	FEAT(W_HWCAP, 16, "dcpop", I),
	FEAT(W_HWCAP, 17, "sha3", I),
	FEAT(W_HWCAP, 18, "sm3", I),
	FEAT(W_HWCAP, 19, "sm4", I),
	FEAT(W_HWCAP, 20, "asimddp", I),
	FEAT(W_HWCAP, 21, "sha512", I),
	FEAT(W_HWCAP, 22, "sve", I | F),
	FEAT(W_HWCAP, 23, "asimdfhm", I),
	FEAT(W_HWCAP, 24, "dit", I),
	FEAT(W_HWCAP, 25, "uscat", I),
	FEAT(W_HWCAP, 26, "ilrcpc", I),
	FEAT(W_HWCAP, 27, "flagm", I),
	FEAT(W_HWCAP, 28, "ssbs", I),
	FEAT(W_HWCAP, 29, "sb", I),
	/* Pointer authentication keys are per-task state. */
	FEAT(W_HWCAP, 30, "paca", I | F),
	FEAT(W_HWCAP, 31, "pacg", I | F),
	FEAT(W_HWCAP, 32, "gcs", I | F),
	FEAT(W_HWCAP, 33, "cmpbr", I),
	FEAT(W_HWCAP, 34, "fprcvt", I),
	FEAT(W_HWCAP, 35, "f8mm8", I),
	FEAT(W_HWCAP, 36, "f8mm4", I),
	FEAT(W_HWCAP, 37, "svef16mm", I),
	FEAT(W_HWCAP, 38, "sveeltperm", I),
	FEAT(W_HWCAP, 39, "sveaes2", I),
	FEAT(W_HWCAP, 40, "svebfscale", I),
	FEAT(W_HWCAP, 41, "sve2p2", I),
	FEAT(W_HWCAP, 42, "sme2p2", I),
	FEAT(W_HWCAP, 43, "smesbitperm", I),
	FEAT(W_HWCAP, 44, "smeaes", I),
	FEAT(W_HWCAP, 45, "smesfexpa", I),
	FEAT(W_HWCAP, 46, "smestmop", I),
	FEAT(W_HWCAP, 47, "smesmop4", I),

	FEAT(W_HWCAP2, 0, "dcpodp", I),
	FEAT(W_HWCAP2, 1, "sve2", I),
	FEAT(W_HWCAP2, 2, "sveaes", I),
	FEAT(W_HWCAP2, 3, "svepmull", I),
	FEAT(W_HWCAP2, 4, "svebitperm", I),
	FEAT(W_HWCAP2, 5, "svesha3", I),
	FEAT(W_HWCAP2, 6, "svesm4", I),
	FEAT(W_HWCAP2, 7, "flagm2", I),
	FEAT(W_HWCAP2, 8, "frint", I),
	FEAT(W_HWCAP2, 9, "svei8mm", I),
	FEAT(W_HWCAP2, 10, "svef32mm", I),
	FEAT(W_HWCAP2, 11, "svef64mm", I),
	FEAT(W_HWCAP2, 12, "svebf16", I),
	FEAT(W_HWCAP2, 13, "i8mm", I),
	FEAT(W_HWCAP2, 14, "bf16", I),
	FEAT(W_HWCAP2, 15, "dgh", I),
	FEAT(W_HWCAP2, 16, "rng", I),
	FEAT(W_HWCAP2, 17, "bti", I),
	/* Memory tags and the tag-check mode travel with the task. */
	FEAT(W_HWCAP2, 18, "mte", I | F),
	FEAT(W_HWCAP2, 19, "ecv", I),
	/* Alternate FP behaviour lives in FPCR bits a task sets. */
	FEAT(W_HWCAP2, 20, "afp", I | F),
	FEAT(W_HWCAP2, 21, "rpres", I),
	FEAT(W_HWCAP2, 22, "mte3", I | F),
	FEAT(W_HWCAP2, 23, "sme", I | F),
	FEAT(W_HWCAP2, 24, "smei16i64", I),
	FEAT(W_HWCAP2, 25, "smef64f64", I),
	FEAT(W_HWCAP2, 26, "smei8i32", I),
	FEAT(W_HWCAP2, 27, "smef16f32", I),
	FEAT(W_HWCAP2, 28, "smeb16f32", I),
	FEAT(W_HWCAP2, 29, "smef32f32", I),
	FEAT(W_HWCAP2, 30, "smefa64", I),
	FEAT(W_HWCAP2, 31, "wfxt", I),
	FEAT(W_HWCAP2, 32, "ebf16", I),
	FEAT(W_HWCAP2, 33, "sveebf16", I),
	FEAT(W_HWCAP2, 34, "cssc", I),
	FEAT(W_HWCAP2, 35, "rprfm", I),
	FEAT(W_HWCAP2, 36, "sve2p1", I),
	/* SME2 adds the ZT0 register. */
	FEAT(W_HWCAP2, 37, "sme2", I | F),
	FEAT(W_HWCAP2, 38, "sme2p1", I),
	FEAT(W_HWCAP2, 39, "smei16i32", I),
	FEAT(W_HWCAP2, 40, "smebi32i32", I),
	FEAT(W_HWCAP2, 41, "smeb16b16", I),
	FEAT(W_HWCAP2, 42, "smef16f16", I),
	FEAT(W_HWCAP2, 43, "mops", I),
	FEAT(W_HWCAP2, 44, "hbc", I),
	FEAT(W_HWCAP2, 45, "sveb16b16", I),
	FEAT(W_HWCAP2, 46, "lrcpc3", I),
	FEAT(W_HWCAP2, 47, "lse128", I),
	FEAT(W_HWCAP2, 48, "fpmr", I | F),
	FEAT(W_HWCAP2, 49, "lut", I),
	FEAT(W_HWCAP2, 50, "faminmax", I),
	FEAT(W_HWCAP2, 51, "f8cvt", I),
	FEAT(W_HWCAP2, 52, "f8fma", I),
	FEAT(W_HWCAP2, 53, "f8dp4", I),
	FEAT(W_HWCAP2, 54, "f8dp2", I),
	FEAT(W_HWCAP2, 55, "f8e4m3", I),
	FEAT(W_HWCAP2, 56, "f8e5m2", I),
	FEAT(W_HWCAP2, 57, "smelutv2", I),
	FEAT(W_HWCAP2, 58, "smef8f16", I),
	FEAT(W_HWCAP2, 59, "smef8f32", I),
	FEAT(W_HWCAP2, 60, "smesf8fma", I),
	FEAT(W_HWCAP2, 61, "smesf8dp4", I),
	FEAT(W_HWCAP2, 62, "smesf8dp2", I),
	/* POR_EL0, the permission overlay, is per-task state. */
	FEAT(W_HWCAP2, 63, "poe", I | F),

	FEAT(W_HWCAP3, 0, "mtefar", O),
	FEAT(W_HWCAP3, 1, "mtestoreonly", F),

	SVE_VL(128), SVE_VL(256), SVE_VL(384), SVE_VL(512), SVE_VL(640), SVE_VL(768),
	SVE_VL(896), SVE_VL(1024), SVE_VL(1152), SVE_VL(1280), SVE_VL(1408), SVE_VL(1536),
	SVE_VL(1664), SVE_VL(1792), SVE_VL(1920), SVE_VL(2048),
	/* Streaming vector lengths are powers of two. */
	SME_VL(128), SME_VL(256), SME_VL(512), SME_VL(1024), SME_VL(2048),
};

static const struct cpu_value arm_values[] = {
	{ "sve_vl", "SVE vector length of new tasks", "PR_SVE_GET_VL", "bytes", O, CPU_RULE_SHOW, false },
	{ "sme_vl", "SME vector length of new tasks", "PR_SME_GET_VL", "bytes", O, CPU_RULE_SHOW, false },
	{ "midr", "MIDR", "MIDR_EL1", NULL, O, CPU_RULE_SHOW, false },
};

#undef I
#undef F
#undef O

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const struct cpu_arch_desc arch_cpu_desc = {
	.arch = "aarch64",
	.entry_field = "aarch64_entry",
	.words = arm_words,
	.nr_words = NR(arm_words),
	.features = arm_features,
	.nr_features = NR(arm_features),
	.values = arm_values,
	.nr_values = NR(arm_values),
};

/*
 * Which vector lengths the CPU supports: the kernel rounds a requested
 * length down to a supported one, so each that comes back as asked is
 * one.  Only this thread's length changes, and it is put back.
 */
static void probe_vls(int get, int set, bool pow2_only, uint32_t *mask, uint32_t *vl)
{
	int cur = prctl(get, 0, 0, 0, 0);

	*mask = 0;
	*vl = 0;
	if (cur < 0)
		return;
	*vl = cur & VL_LEN_MASK;
	for (unsigned vq = 1; vq <= VQ_MAX; vq++) {
		int got;

		if (pow2_only && (vq & (vq - 1)))
			continue;
		got = prctl(set, vq * VQ_BYTES, 0, 0, 0);
		if (got >= 0 && (unsigned)(got & VL_LEN_MASK) == vq * VQ_BYTES)
			*mask |= 1u << (vq - 1);
	}
	if (prctl(set, cur & (VL_LEN_MASK | VL_INHERIT), 0, 0, 0) < 0)
		pr_warn("cpuinfo: could not restore this thread's vector length %d\n", cur & VL_LEN_MASK);
}

/* The kernel emulates reading ID registers from user space where HWCAP_CPUID says so. */
static bool read_midr(uint64_t hwcap, uint64_t *midr)
{
	if (!(hwcap & (1ull << HWCAP_BIT_CPUID)))
		return false;
	asm volatile("mrs %0, midr_el1" : "=r"(*midr));
	return true;
}

CpuinfoEntry *arch_cpu_collect(void)
{
	CpuinfoAarch64Entry *a;
	CpuinfoEntry *e;

	a = (CpuinfoAarch64Entry *)cpuinfo_entry_new(&arch_cpu_desc, &cpuinfo_aarch64_entry__descriptor, &e);
	if (!a) {
		pr_err("cpuinfo: out of memory describing the CPU\n");
		return NULL;
	}
	a->has_hwcap = a->has_hwcap2 = a->has_hwcap3 = 1;
	a->hwcap = getauxval(AT_HWCAP);
	a->hwcap2 = getauxval(AT_HWCAP2);
	a->hwcap3 = getauxval(AT_HWCAP3); /* 0 where the kernel has none */
	a->has_sve_vl_mask = a->has_sme_vl_mask = 1;
	if (a->hwcap & (1ull << HWCAP_BIT_SVE))
		probe_vls(PR_SVE_GET_VL, PR_SVE_SET_VL, false, &a->sve_vl_mask, &a->sve_vl);
	if (a->hwcap2 & (1ull << HWCAP2_BIT_SME))
		probe_vls(PR_SME_GET_VL, PR_SME_SET_VL, true, &a->sme_vl_mask, &a->sme_vl);
	a->has_sve_vl = a->sve_vl != 0;
	a->has_sme_vl = a->sme_vl != 0;
	a->has_midr = read_midr(a->hwcap, &a->midr);
	return e;
}
