/*
 * The portable half of cpuinfo: the --cpu-cap policy, the comparison of an
 * image's CPU with this one, and how both are put into words.  The arch
 * half (collection and feature tables) is core/include/arch-cpu.h.
 *
 * THE MODES (criu(8) --cpu-cap; a comma list, '^' takes one away)
 *
 *   fpu   default when --cpu-cap is not given.  Every feature of class FPU
 *         that the image has must be here, and the values of class FPU
 *         must keep their rule (below).
 *   ins   every feature of class INS that the image has must be here; this
 *         CPU may have more.
 *   cpu   this CPU must have exactly the image's features: every bit of
 *         every word the arch describes, named or not, whatever its class,
 *         in both directions ("image needs X; this CPU lacks it" and "this
 *         CPU has Y that the image lacks"), and the values marked cpu_equal
 *         must be equal.
 *   all   cpu,fpu,ins: default when --cpu-cap is given without a value.
 *   none  nothing is compared.
 *
 * `criu cpuinfo check` takes the same defaults as restore (upstream's
 * check compares all when --cpu-cap is not given), so that it predicts
 * what restore will say.
 *
 * Whatever the modes, an image of another architecture is refused (its
 * tasks cannot run here), and words or values absent from the image (an
 * older or upstream image) are not compared.
 *
 * WHAT EACH MODE COMPARES, BY ARCHITECTURE (the classes come from the
 * tables in arch/<arch>/cpu.c; this is their gist)
 *
 * x86_64
 *   ins  instruction sets named in CPUID leaves 1, 7.0, 7.1, 0xD.1,
 *        0x80000001 and 0x80000008: pni (sse3), ssse3, sse4_1/2, avx,
 *        avx2, avx512*, avx_vnni, amx_*, apx_f, bmi1/2, adx, abm (lzcnt),
 *        fma, f16c, aes, sha_ni, vaes, gfni, cx16, movbe, popcnt,
 *        rdrand/rdseed, xsave/xsaveopt/xsavec, fsgsbase, rdpid, serialize,
 *        ...  Bits the table does not name are not compared.
 *   fpu  fpu, fxsr, sse (the XMM state), xsave, osxsave, xsaveopt, xsavec,
 *        shstk, apx_f, and every XCR0 state component the image's OS had
 *        enabled, named (xsave.x87, xsave.sse, xsave.avx, xsave.opmask,
 *        xsave.zmm_hi256, xsave.hi16_zmm, xsave.pkru, xsave.tilecfg, ...)
 *        or not; and the xsave frame size (CPUID.0xD.0:EBX) here must not
 *        be larger than the image's: glibc and the task sized their
 *        buffers for the source's frame, and a larger one overruns them.
 *        An image without xsave (fxsr) has no frame size to keep.
 *   cpu  every bit of CPUID.1:ECX/EDX, 7.0:EBX/ECX/EDX, 7.1:EAX/EDX,
 *        7.2:EDX, 0xD.1:EAX, 0x80000001:ECX/EDX, 0x80000007:EBX/EDX,
 *        0x80000008:EBX and XCR0, system features (vme, pae, apic, vmx,
 *        hypervisor, smep, speculation controls, ...) included; the xsave
 *        frame sizes (current and largest) and the FPU mode must be equal.
 *        Vendor, family, model and model name are only shown.
 * aarch64
 *   ins  every AT_HWCAP, AT_HWCAP2 and AT_HWCAP3 bit, named or not, but
 *        evtstrm, cpuid, mtefar and mtestoreonly.
 *   fpu  fp, asimd, sve, sme, sme2, afp, fpmr and the other state-carrying
 *        ones (paca, pacg, mte, mte3, mtestoreonly, gcs, poe), and every
 *        SVE and SME vector length the image's CPU supports
 *        (sve-vl128..sve-vl2048, sme-vl128..sme-vl2048): a task may run
 *        with any of them.
 *   cpu  all of the above words, exactly; the vector lengths new tasks
 *        get and MIDR are only shown.
 * ppc64le
 *   ins  the instruction sets of AT_HWCAP and AT_HWCAP2 (ppc64, altivec,
 *        vsx, fpu, dfp, arch_2_05 .. arch_3_1, isel, vcrypto, ieee128,
 *        darn, scv, mma, htm, tar, ebb, dscr, ...) and every bit of
 *        AT_HWCAP3 and AT_HWCAP4.
 *   fpu  fpu, altivec, vsx, spe, htm, dscr, ebb, tar, mma (registers a
 *        task owns), and the VMX and VSX state sizes here must be at least
 *        the image's.
 *   cpu  every bit of the four words (mmu, smt, true_le, ... included),
 *        the state sizes equal; AT_PLATFORM is only shown.
 * s390x
 *   ins  every AT_HWCAP and AT_HWCAP2 bit but edat, highgprs and sie, and
 *        the instruction facilities of STFLE (stfle45/49/53, minste2/3,
 *        msa*, dfp, vx, vxeh, vxeh2, vxpd, vxpdeh, nnpa, deflate, ...).
 *   fpu  the vector facility (AT_HWCAP vx, facility 129) and the other
 *        state-carrying ones: guarded storage (gs, 133), runtime
 *        instrumentation (64), transactional execution (te, 50, 73).
 *   cpu  every bit of AT_HWCAP, AT_HWCAP2 and facilities 0-255.
 *
 * EXIT CODES of `criu cpuinfo check`: 0 compatible, 1 not compatible (one
 * line per difference, then a verdict; also for an image of another
 * architecture), 2 could not check (no or unreadable cpuinfo.img, a bad
 * --cpu-cap value, no images directory).  `criu cpuinfo dump`: 0 written,
 * 1 failed.
 */
#ifndef CRIU_CPUINFO_H
#define CRIU_CPUINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arch-cpu.h"

#define CPU_CAP_NONE 0u
#define CPU_CAP_FPU (1u << 0)
#define CPU_CAP_CPU (1u << 1)
#define CPU_CAP_INS (1u << 2)
#define CPU_CAP_ALL (CPU_CAP_FPU | CPU_CAP_CPU | CPU_CAP_INS)
#define CPU_CAP_DEFAULT CPU_CAP_FPU

#define CPUINFO_COMPATIBLE 0
#define CPUINFO_INCOMPATIBLE 1
#define CPUINFO_ERROR 2

/*
 * Turns --cpu-cap into a mask of CPU_CAP_*.  arg NULL means the value was
 * left out: all if the option was given, fpu if not.  A list is applied
 * left to right from nothing ("^..." first: from all), so "all,^fpu" is
 * cpu,ins and "ins,none" is none; "^none" is all.  Returns 0, or -EINVAL
 * after logging what is wrong with the value.
 */
int cpu_cap_parse(const char *arg, bool given, unsigned *modes);

/* "none", "all", or the list of modes in "cpu,fpu,ins" order. */
const char *cpu_cap_name(unsigned modes, char *buf, size_t size);

/* The architecture an entry was written on ("ppc64 (big-endian)"), NULL if none. */
const char *cpuinfo_entry_arch(const CpuinfoEntry *e);

/* The arch entry a description reads in e: NULL if e has none. */
const ProtobufCMessage *cpuinfo_arch_entry(const struct cpu_arch_desc *d, const CpuinfoEntry *e);

enum cpu_mismatch_kind {
	CPU_MISSING, /* the image has the feature, this CPU lacks it */
	CPU_EXTRA,   /* this CPU has the feature, the image lacks it (cpu) */
	CPU_VALUE,   /* a value breaks its rule */
};

struct cpu_mismatch {
	enum cpu_mismatch_kind kind;
	unsigned modes;			/* the modes that found it */
	unsigned word, bit;		/* of a feature bit */
	const struct cpu_feature *feat; /* NULL: a bit the table does not name */
	const struct cpu_value *value;	/* of CPU_VALUE */
};

struct cpu_mismatch_report {
	const struct cpu_arch_desc *desc;
	const ProtobufCMessage *image, *here; /* the two arch entries */
	struct cpu_mismatch *items;
	size_t n, alloc;
	unsigned words_skipped; /* words absent from an image: not compared */
};

/*
 * Compares an image's entry with this CPU's under modes, filling out (which
 * the caller frees with cpu_mismatch_report_free).  Returns 0 when it
 * compared (out->n differences), -EXDEV when img holds no entry for d's
 * architecture, -EINVAL when here holds none or d names a field the
 * message lacks, -ENOMEM.
 */
int cpuinfo_compare(const struct cpu_arch_desc *d, const CpuinfoEntry *img, const CpuinfoEntry *here,
		    unsigned modes, struct cpu_mismatch_report *out);
void cpu_mismatch_report_free(struct cpu_mismatch_report *r);

/*
 * One difference in words: "image needs avx512f (CPUID.7.0:EBX bit 16);
 * this CPU lacks it".  Returns what snprintf returns.
 */
int cpu_mismatch_format(const struct cpu_mismatch_report *r, const struct cpu_mismatch *m, char *buf,
			size_t size);

/*
 * Checks an image's entry against this CPU's and says so: one line per
 * difference and a verdict line, through pr_msg (a command's output) or
 * pr_err (restore refusing).  Returns CPUINFO_COMPATIBLE,
 * CPUINFO_INCOMPATIBLE (also for another architecture) or CPUINFO_ERROR.
 */
int cpuinfo_verdict(const struct cpu_arch_desc *d, const CpuinfoEntry *img, const CpuinfoEntry *here,
		    unsigned modes, bool as_errors);

/* Prints the features of an entry by name, grouped by class, for show. */
void cpuinfo_print_entry(FILE *out, const struct cpu_arch_desc *d, const CpuinfoEntry *e);

/* Reads a word of an arch entry; false when absent. */
bool cpu_word_get(const ProtobufCMessage *m, const struct cpu_word *w, uint64_t *v);
/* The mask of the bit the manuals number bit in w; false when w has no such bit. */
bool cpu_word_bit(const struct cpu_word *w, unsigned bit, uint64_t *mask);
/* The feature the table names at that bit of word, or NULL. */
const struct cpu_feature *cpu_feature_at(const struct cpu_arch_desc *d, unsigned word, unsigned bit);

#endif
