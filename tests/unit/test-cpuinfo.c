/*
 * cpuinfo: the --cpu-cap policy, the comparison engine on entries shaped
 * like each architecture's (with tables written here, so that every arch
 * runs every case), this build's own tables, collection on the running
 * CPU, and the image round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cpuinfo/cpuinfo.h"
#include "commands.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "unit.h"

#define NR(a) (sizeof(a) / sizeof((a)[0]))
#define I CPU_CLASS_INS
#define F CPU_CLASS_FPU
#define O CPU_CLASS_OTHER

/* ---- helpers -------------------------------------------------------------- */

static int quiet_fd = -1;

/* The verdict prints on stdout; the tests only want its return value. */
static void quiet(bool on)
{
	fflush(stdout);
	if (on) {
		int null = open("/dev/null", O_WRONLY);

		quiet_fd = dup(STDOUT_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	} else if (quiet_fd >= 0) {
		dup2(quiet_fd, STDOUT_FILENO);
		close(quiet_fd);
		quiet_fd = -1;
	}
}

static unsigned parse(const char *arg, bool given)
{
	unsigned modes = 0xdead;

	CHECK_EQ(cpu_cap_parse(arg, given, &modes), 0);
	return modes;
}

static bool parse_fails(const char *arg)
{
	unsigned modes;
	int level = log_get_level(), ret;

	log_set_level(-1); /* the error message is expected */
	ret = cpu_cap_parse(arg, true, &modes);
	log_set_level(level);
	return ret == -EINVAL;
}

/* Compares and returns the report; checks that it compared. */
static struct cpu_mismatch_report compare(const struct cpu_arch_desc *d, const CpuinfoEntry *img,
					  const CpuinfoEntry *here, unsigned modes)
{
	struct cpu_mismatch_report r;

	CHECK_EQ(cpuinfo_compare(d, img, here, modes, &r), 0);
	return r;
}

/* The i-th difference in words. */
static const char *line(const struct cpu_mismatch_report *r, size_t i)
{
	static char buf[512];

	if (i >= r->n)
		return "(no such difference)";
	cpu_mismatch_format(r, &r->items[i], buf, sizeof(buf));
	return buf;
}

/* Whether some difference reads exactly so. */
static bool has_line(const struct cpu_mismatch_report *r, const char *text)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(line(r, i), text))
			return true;
	return false;
}

static size_t count_kind(const struct cpu_mismatch_report *r, enum cpu_mismatch_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->items[i].kind == kind;
	return n;
}

static char scratch_name[32];

static int scratch_dir(void)
{
	strcpy(scratch_name, "cpuinfo-XXXXXX"); /* in the runner's scratch dir */
	return mkdtemp(scratch_name) ? open(scratch_name, O_RDONLY | O_DIRECTORY) : -1;
}

static void scratch_done(int dir)
{
	unlinkat(dir, "cpuinfo.img", 0);
	close(dir);
	rmdir(scratch_name);
}

/* ---- --cpu-cap ------------------------------------------------------------- */

TEST(cap_defaults)
{
	CHECK_EQ(parse(NULL, false), CPU_CAP_FPU);
	CHECK_EQ(parse(NULL, true), CPU_CAP_ALL);
}

TEST(cap_each_mode)
{
	CHECK_EQ(parse("all", true), CPU_CAP_CPU | CPU_CAP_FPU | CPU_CAP_INS);
	CHECK_EQ(parse("cpu", true), CPU_CAP_CPU);
	CHECK_EQ(parse("fpu", true), CPU_CAP_FPU);
	CHECK_EQ(parse("ins", true), CPU_CAP_INS);
	CHECK_EQ(parse("none", true), CPU_CAP_NONE);
	/* A value given without the option being "given" still counts as given. */
	CHECK_EQ(parse("ins", false), CPU_CAP_INS);
}

TEST(cap_lists)
{
	CHECK_EQ(parse("cpu,ins", true), CPU_CAP_CPU | CPU_CAP_INS);
	CHECK_EQ(parse("fpu,ins,cpu", true), CPU_CAP_ALL);
	CHECK_EQ(parse("fpu,fpu", true), CPU_CAP_FPU);
	CHECK_EQ(parse("none,ins", true), CPU_CAP_INS);
	CHECK_EQ(parse("ins,none", true), CPU_CAP_NONE);
	CHECK_EQ(parse("ins,all", true), CPU_CAP_ALL);
}

TEST(cap_inversions)
{
	CHECK_EQ(parse("all,^fpu", true), CPU_CAP_CPU | CPU_CAP_INS);
	CHECK_EQ(parse("all,^cpu,^ins", true), CPU_CAP_FPU);
	CHECK_EQ(parse("^fpu", true), CPU_CAP_CPU | CPU_CAP_INS);
	CHECK_EQ(parse("^cpu,^ins", true), CPU_CAP_FPU);
	CHECK_EQ(parse("^none", true), CPU_CAP_ALL);
	CHECK_EQ(parse("all,^all", true), CPU_CAP_NONE);
	CHECK_EQ(parse("^all", true), CPU_CAP_NONE);
	CHECK_EQ(parse("all,^fpu,fpu", true), CPU_CAP_ALL);
	CHECK_EQ(parse("ins,^ins", true), CPU_CAP_NONE);
	CHECK_EQ(parse("cpu,^none", true), CPU_CAP_ALL);
}

TEST(cap_bad_values)
{
	static const char *const bad[] = {
		"",	 ",",	  "fpu,",  ",fpu",  "fpu,,ins", "^",     "^^fpu", "fpux", "fp",
		"FPU",	 "all ",  " all",  "cpu;ins", "cpu ins", "^,fpu", "none^", "1",	  "all,^",
	};

	for (size_t i = 0; i < NR(bad); i++)
		if (!parse_fails(bad[i])) {
			printf("  --cpu-cap=\"%s\" was accepted\n", bad[i]);
			CHECK(0);
		}
}

TEST(cap_names)
{
	char buf[32];

	CHECK_STR(cpu_cap_name(CPU_CAP_NONE, buf, sizeof(buf)), "none");
	CHECK_STR(cpu_cap_name(CPU_CAP_ALL, buf, sizeof(buf)), "all");
	CHECK_STR(cpu_cap_name(CPU_CAP_FPU, buf, sizeof(buf)), "fpu");
	CHECK_STR(cpu_cap_name(CPU_CAP_CPU | CPU_CAP_INS, buf, sizeof(buf)), "cpu,ins");
	CHECK_STR(cpu_cap_name(CPU_CAP_FPU | CPU_CAP_INS, buf, sizeof(buf)), "fpu,ins");
	for (unsigned m = 0; m <= CPU_CAP_ALL; m++)
		CHECK_EQ(parse(cpu_cap_name(m, buf, sizeof(buf)), true), m);
}

/* ---- x86_64-shaped entries ----------------------------------------------- */

enum { XW_7_0_EBX, XW_1_ECX, XW_7_0_EDX, XW_XCR0 };

static const struct cpu_word t_x86_words[] = {
	[XW_7_0_EBX] = { "capability", 9, "CPUID.7.0:EBX", "bit", 0, 32, false, O },
	[XW_1_ECX] = { "capability", 4, "CPUID.1:ECX", "bit", 0, 32, false, O },
	[XW_7_0_EDX] = { "capability", 18, "CPUID.7.0:EDX", "bit", 0, 32, false, O },
	[XW_XCR0] = { "xfeatures_mask", 0, "XCR0", "bit", 0, 64, false, F },
};

static const struct cpu_feature t_x86_features[] = {
	{ "avx2", XW_7_0_EBX, 5, I, NULL },
	{ "avx512f", XW_7_0_EBX, 16, I, NULL },
	{ "xsave", XW_1_ECX, 26, I | F, NULL },
	{ "osxsave", XW_1_ECX, 27, F, NULL },
	{ "hypervisor", XW_1_ECX, 31, O, NULL },
	{ "amx_tile", XW_7_0_EDX, 24, I, NULL },
	{ "xsave.avx", XW_XCR0, 2, F, NULL },
};

static const struct cpu_value t_x86_values[] = {
	{ "model_id", "model name", NULL, NULL, O, CPU_RULE_SHOW, false },
	{ "fpu", "FPU mode", NULL, NULL, O, CPU_RULE_SHOW, true },
	{ "xsave_size", "xsave frame size", "CPUID.0xD.0:EBX", "bytes", F, CPU_RULE_NOT_LARGER, true },
};

static const struct cpu_arch_desc t_x86 = {
	"x86_64",	  "x86_entry", t_x86_words,  NR(t_x86_words),
	t_x86_features, NR(t_x86_features), t_x86_values, NR(t_x86_values),
};

struct x86_cpu {
	CpuinfoEntry e;
	CpuinfoX86Entry x, *xp;
	uint32_t caps[19];
};

static void x86_cpu(struct x86_cpu *c, uint32_t ebx7, uint32_t ecx1, uint64_t xcr0, uint32_t xsave_size)
{
	memset(c, 0, sizeof(*c));
	cpuinfo_entry__init(&c->e);
	cpuinfo_x86_entry__init(&c->x);
	c->xp = &c->x;
	c->e.n_x86_entry = 1;
	c->e.x86_entry = &c->xp;
	c->x.capability_ver = 2;
	c->x.n_capability = 19;
	c->x.capability = c->caps;
	c->caps[9] = ebx7;
	c->caps[4] = ecx1;
	c->x.has_xfeatures_mask = 1;
	c->x.xfeatures_mask = xcr0;
	c->x.has_xsave_size = xsave_size != 0;
	c->x.xsave_size = xsave_size;
	c->x.has_fpu = 1;
	c->x.fpu = xsave_size ? CPUINFO_X86_ENTRY__FPU_MODE__XSAVE : CPUINFO_X86_ENTRY__FPU_MODE__FXSR;
}

#define AVX2 (1u << 5)
#define AVX512F (1u << 16)
#define XSAVE_BITS ((1u << 26) | (1u << 27))

TEST(x86_richer_image_on_poorer_cpu)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	x86_cpu(&img, AVX2 | AVX512F, XSAVE_BITS, 0x7, 2696);
	x86_cpu(&here, AVX2, 0, 0, 0);

	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_INS);
	CHECK_EQ(r.n, 2);
	CHECK_STR(line(&r, 0), "image needs avx512f (CPUID.7.0:EBX bit 16); this CPU lacks it");
	CHECK_STR(line(&r, 1), "image needs xsave (CPUID.1:ECX bit 26); this CPU lacks it");
	cpu_mismatch_report_free(&r);

	/* XCR0 bits are state, named or not. */
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 5);
	CHECK(has_line(&r, "image needs XCR0 bit 1; this CPU lacks it"));
	CHECK(has_line(&r, "image needs xsave (CPUID.1:ECX bit 26); this CPU lacks it"));
	CHECK(has_line(&r, "image needs osxsave (CPUID.1:ECX bit 27); this CPU lacks it"));
	CHECK(has_line(&r, "image needs xsave.avx (XCR0 bit 2); this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	/* cpu: every differing bit (the unnamed XCR0 bits 0 and 1 too), and the FPU mode. */
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_CPU);
	CHECK_EQ(count_kind(&r, CPU_MISSING), 6);
	CHECK_EQ(count_kind(&r, CPU_EXTRA), 0);
	CHECK(has_line(&r, "image needs XCR0 bit 0; this CPU lacks it"));
	CHECK(has_line(&r, "image has FPU mode xsave; this CPU's differs: fxsr"));
	cpu_mismatch_report_free(&r);

	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_NONE);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
}

TEST(x86_poorer_image_on_richer_cpu)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	x86_cpu(&img, AVX2, 0, 0, 0);
	x86_cpu(&here, AVX2 | AVX512F, XSAVE_BITS | (1u << 31), 0x7, 2696);

	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	/* No xsave in the image: no frame size to keep. */
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_FPU | CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);

	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_CPU);
	CHECK_EQ(count_kind(&r, CPU_MISSING), 0);
	CHECK(has_line(&r, "this CPU has avx512f (CPUID.7.0:EBX bit 16) that the image lacks"));
	CHECK(has_line(&r, "this CPU has hypervisor (CPUID.1:ECX bit 31) that the image lacks"));
	CHECK(has_line(&r, "this CPU has xsave.avx (XCR0 bit 2) that the image lacks"));
	cpu_mismatch_report_free(&r);
}

TEST(x86_xsave_frame_must_not_grow)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	/* Same components, but this CPU's frame is larger (say, AMX enabled). */
	x86_cpu(&img, AVX2, XSAVE_BITS, 0x7, 832);
	x86_cpu(&here, AVX2, XSAVE_BITS, 0x7, 2696);
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0),
		  "image has xsave frame size 832 bytes (CPUID.0xD.0:EBX); this CPU's is larger: 2696 bytes");
	CHECK_EQ(r.items[0].modes, CPU_CAP_FPU);
	cpu_mismatch_report_free(&r);

	/* ins does not look at state. */
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);

	/* A smaller frame here is fine for fpu, not for cpu. */
	r = compare(&t_x86, &here.e, &img.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_x86, &here.e, &img.e, CPU_CAP_CPU);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0),
		  "image has xsave frame size 2696 bytes (CPUID.0xD.0:EBX); this CPU's differs: 832 bytes");
	cpu_mismatch_report_free(&r);
}

TEST(x86_each_difference_once)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	x86_cpu(&img, AVX2 | AVX512F, 0, 0, 0);
	x86_cpu(&here, AVX2, 0, 0, 0);
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_ALL);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.items[0].modes, CPU_CAP_CPU | CPU_CAP_INS);
	cpu_mismatch_report_free(&r);
}

TEST(x86_unnamed_bits_only_for_cpu)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	x86_cpu(&img, 0, 1u << 30, 0, 0);
	x86_cpu(&here, 0, 0, 0, 0);
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_INS | CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_CPU);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0), "image needs CPUID.1:ECX bit 30; this CPU lacks it");
	cpu_mismatch_report_free(&r);
}

/* An upstream version-1 image has 12 words: the others are not compared. */
TEST(x86_words_absent_from_image_are_skipped)
{
	struct x86_cpu img, here;
	struct cpu_mismatch_report r;

	x86_cpu(&img, AVX2, 0, 0, 0);
	x86_cpu(&here, AVX2, 0, 0, 0);
	img.x.capability_ver = 1;
	img.x.n_capability = 12;
	img.x.has_xfeatures_mask = 0;
	here.caps[18] = 1u << 24; /* amx_tile */
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_ALL);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.words_skipped, 2);
	cpu_mismatch_report_free(&r);

	img.x.n_capability = 19;
	r = compare(&t_x86, &img.e, &here.e, CPU_CAP_ALL);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0), "this CPU has amx_tile (CPUID.7.0:EDX bit 24) that the image lacks");
	cpu_mismatch_report_free(&r);
}

/* ---- aarch64-shaped entries ---------------------------------------------- */

enum { AW_HWCAP, AW_HWCAP2, AW_SVE_VLS };

static const struct cpu_word t_arm_words[] = {
	[AW_HWCAP] = { "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, I },
	[AW_HWCAP2] = { "hwcap2", 0, "AT_HWCAP2", "bit", 0, 64, false, I },
	[AW_SVE_VLS] = { "sve_vl_mask", 0, "SVE vector lengths", "bit", 0, 16, false, F },
};

static const struct cpu_feature t_arm_features[] = {
	{ "fp", AW_HWCAP, 0, I | F, NULL },
	{ "asimd", AW_HWCAP, 1, I | F, NULL },
	{ "evtstrm", AW_HWCAP, 2, O, NULL },
	{ "sve", AW_HWCAP, 22, I | F, NULL },
	{ "sme", AW_HWCAP2, 23, I | F, NULL },
	{ "sve-vl512", AW_SVE_VLS, 3, F, "SVE vector length 512 bits" },
};

static const struct cpu_value t_arm_values[] = {
	{ "sve_vl", "SVE default vector length", "PR_SVE_GET_VL", "bytes", O, CPU_RULE_SHOW, false },
};

static const struct cpu_arch_desc t_arm = {
	"aarch64",	  "aarch64_entry", t_arm_words,	 NR(t_arm_words),
	t_arm_features, NR(t_arm_features), t_arm_values, NR(t_arm_values),
};

struct arm_cpu {
	CpuinfoEntry e;
	CpuinfoAarch64Entry a, *ap;
};

static void arm_cpu(struct arm_cpu *c, uint64_t hwcap, uint64_t hwcap2, uint32_t vls, uint32_t vl)
{
	cpuinfo_entry__init(&c->e);
	cpuinfo_aarch64_entry__init(&c->a);
	c->ap = &c->a;
	c->e.n_aarch64_entry = 1;
	c->e.aarch64_entry = &c->ap;
	c->a.has_hwcap = c->a.has_hwcap2 = c->a.has_sve_vl_mask = 1;
	c->a.hwcap = hwcap;
	c->a.hwcap2 = hwcap2;
	c->a.sve_vl_mask = vls;
	c->a.has_sve_vl = vl != 0;
	c->a.sve_vl = vl;
}

#define A53_HWCAP 0x8fbull
#define MAX_HWCAP (0xecfffffbull | (1ull << 40))

TEST(aarch64_richer_image_on_poorer_cpu)
{
	struct arm_cpu img, here;
	struct cpu_mismatch_report r;

	arm_cpu(&img, MAX_HWCAP, 1u << 23, 0xffff, 64);
	arm_cpu(&here, A53_HWCAP, 0, 0, 0);

	r = compare(&t_arm, &img.e, &here.e, CPU_CAP_FPU);
	/* sve, sme and sixteen vector lengths */
	CHECK_EQ(r.n, 18);
	CHECK(has_line(&r, "image needs sve (AT_HWCAP bit 22); this CPU lacks it"));
	CHECK(has_line(&r, "image needs sme (AT_HWCAP2 bit 23); this CPU lacks it"));
	CHECK(has_line(&r, "image needs sve-vl512 (SVE vector length 512 bits); this CPU lacks it"));
	CHECK(has_line(&r, "image needs SVE vector lengths bit 15; this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	/* Unnamed hwcap bits are instructions too. */
	r = compare(&t_arm, &img.e, &here.e, CPU_CAP_INS);
	CHECK(has_line(&r, "image needs sve (AT_HWCAP bit 22); this CPU lacks it"));
	CHECK(has_line(&r, "image needs AT_HWCAP bit 40; this CPU lacks it"));
	CHECK(!has_line(&r, "image needs sve-vl512 (SVE vector length 512 bits); this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	r = compare(&t_arm, &img.e, &here.e, CPU_CAP_NONE);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
}

TEST(aarch64_vector_lengths)
{
	struct arm_cpu a64fx, max;
	struct cpu_mismatch_report r;

	/* 128, 256 and 512 bits against every length up to 2048. */
	arm_cpu(&a64fx, 0x415ffbull, 0, 0xb, 64);
	arm_cpu(&max, MAX_HWCAP, 0, 0xffff, 64);
	r = compare(&t_arm, &a64fx.e, &max.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_arm, &max.e, &a64fx.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 13);
	CHECK(has_line(&r, "image needs SVE vector lengths bit 2; this CPU lacks it"));
	cpu_mismatch_report_free(&r);
	/* The default length is only shown. */
	max.a.sve_vl = 256;
	r = compare(&t_arm, &a64fx.e, &max.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
}

TEST(aarch64_poorer_image_on_richer_cpu)
{
	struct arm_cpu img, here;
	struct cpu_mismatch_report r;

	arm_cpu(&img, A53_HWCAP, 0, 0, 0);
	arm_cpu(&here, MAX_HWCAP, 1u << 23, 0xffff, 64);
	r = compare(&t_arm, &img.e, &here.e, CPU_CAP_FPU | CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_arm, &img.e, &here.e, CPU_CAP_CPU);
	CHECK(r.n > 0);
	CHECK_EQ(count_kind(&r, CPU_MISSING), 0);
	CHECK(has_line(&r, "this CPU has sve (AT_HWCAP bit 22) that the image lacks"));
	cpu_mismatch_report_free(&r);
}

/* ---- ppc64-shaped entries ------------------------------------------------ */

static const struct cpu_word t_ppc_words[] = {
	{ "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, I },
	{ "hwcap", 1, "AT_HWCAP2", "bit", 0, 64, false, I },
};

static const struct cpu_feature t_ppc_features[] = {
	{ "altivec", 0, 28, I | F, NULL },
	{ "vsx", 0, 7, I | F, NULL },
	{ "arch_3_1", 1, 18, I, NULL },
	{ "mma", 1, 17, I | F, NULL },
};

static const struct cpu_value t_ppc_values[] = {
	{ "platform", "platform", "AT_PLATFORM", NULL, O, CPU_RULE_SHOW, false },
	{ "vmx_state_size", "VMX state size", NULL, "bytes", F, CPU_RULE_NOT_SMALLER, true },
};

static const struct cpu_arch_desc t_ppc = {
	"ppc64le",	  "ppc64_entry", t_ppc_words,  NR(t_ppc_words),
	t_ppc_features, NR(t_ppc_features), t_ppc_values, NR(t_ppc_values),
};

struct ppc_cpu {
	CpuinfoEntry e;
	CpuinfoPpc64Entry p, *pp;
	uint64_t hwcap[2];
};

static void ppc_cpu(struct ppc_cpu *c, uint64_t hwcap, uint64_t hwcap2, uint32_t vmx, const char *platform)
{
	cpuinfo_entry__init(&c->e);
	cpuinfo_ppc64_entry__init(&c->p);
	c->pp = &c->p;
	c->e.n_ppc64_entry = 1;
	c->e.ppc64_entry = &c->pp;
	c->p.endian = CPUINFO_PPC64_ENTRY__ENDIANNESS__LITTLEENDIAN;
	c->hwcap[0] = hwcap;
	c->hwcap[1] = hwcap2;
	c->p.n_hwcap = 2;
	c->p.hwcap = c->hwcap;
	c->p.has_vmx_state_size = 1;
	c->p.vmx_state_size = vmx;
	c->p.platform = (char *)platform;
}

TEST(ppc64_power10_image_on_power8)
{
	struct ppc_cpu p10, p8;
	struct cpu_mismatch_report r;

	ppc_cpu(&p10, 0x58000580, 0x8ee60000, 544, "power10");
	ppc_cpu(&p8, 0x58000580, 0x8e000000, 544, "power8");

	r = compare(&t_ppc, &p10.e, &p8.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0), "image needs mma (AT_HWCAP2 bit 17); this CPU lacks it");
	cpu_mismatch_report_free(&r);

	r = compare(&t_ppc, &p10.e, &p8.e, CPU_CAP_INS);
	CHECK(has_line(&r, "image needs arch_3_1 (AT_HWCAP2 bit 18); this CPU lacks it"));
	CHECK(has_line(&r, "image needs mma (AT_HWCAP2 bit 17); this CPU lacks it"));
	CHECK(has_line(&r, "image needs AT_HWCAP2 bit 21; this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	r = compare(&t_ppc, &p8.e, &p10.e, CPU_CAP_FPU | CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
}

TEST(ppc64_state_size_must_fit)
{
	struct ppc_cpu img, here;
	struct cpu_mismatch_report r;

	ppc_cpu(&img, 0x58000580, 0, 544, NULL);
	ppc_cpu(&here, 0x58000580, 0, 0, NULL);
	r = compare(&t_ppc, &img.e, &here.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 1);
	CHECK_STR(line(&r, 0), "image has VMX state size 544 bytes; this CPU's is smaller: 0 bytes");
	cpu_mismatch_report_free(&r);
	r = compare(&t_ppc, &here.e, &img.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
}

/* Upstream wants exactly two words; a shorter list leaves AT_HWCAP2 unknown. */
TEST(ppc64_short_hwcap_list)
{
	struct ppc_cpu img, here;
	struct cpu_mismatch_report r;

	ppc_cpu(&img, 0x58000580, 0, 544, NULL);
	ppc_cpu(&here, 0x58000580, 0x8ee60000, 544, NULL);
	img.p.n_hwcap = 1;
	r = compare(&t_ppc, &img.e, &here.e, CPU_CAP_ALL);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.words_skipped, 1);
	cpu_mismatch_report_free(&r);
}

/* ---- s390x-shaped entries ------------------------------------------------ */

#define FACILITY_WORD(i) { "facilities", i, "STFLE", "facility", 64 * (i), 64, true, O }

static const struct cpu_word t_s390_words[] = {
	{ "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, I },
	FACILITY_WORD(0),
	FACILITY_WORD(1),
	FACILITY_WORD(2),
	FACILITY_WORD(3),
};

static const struct cpu_feature t_s390_features[] = {
	{ "vx", 0, 11, I | F, NULL },
	{ "zarch", 1, 1, I, NULL },
	{ "vx", 3, 129, I | F, NULL },
	{ "vxeh2", 3, 148, I, NULL },
};

static const struct cpu_arch_desc t_s390 = {
	"s390x", "s390_entry", t_s390_words, NR(t_s390_words), t_s390_features, NR(t_s390_features), NULL, 0,
};

struct s390_cpu {
	CpuinfoEntry e;
	CpuinfoS390Entry s, *sp;
	uint64_t hwcap[2], fac[4];
};

/* Facility n in STFLE's order: bit 0 is the leftmost. */
#define FAC(n) (1ull << (63 - (n) % 64))

static void s390_cpu(struct s390_cpu *c, uint64_t hwcap, uint64_t fac2)
{
	cpuinfo_entry__init(&c->e);
	cpuinfo_s390_entry__init(&c->s);
	c->sp = &c->s;
	c->e.n_s390_entry = 1;
	c->e.s390_entry = &c->sp;
	c->hwcap[0] = hwcap;
	c->hwcap[1] = 0;
	c->s.n_hwcap = 2;
	c->s.hwcap = c->hwcap;
	c->fac[0] = 0xf940f6d3f4c45c64ull;
	c->fac[1] = 0x059c000000000000ull;
	c->fac[2] = fac2;
	c->fac[3] = 0;
	c->s.n_facilities = 4;
	c->s.facilities = c->fac;
}

TEST(s390_facility_numbering)
{
	uint64_t mask;

	CHECK(cpu_word_bit(&t_s390_words[3], 129, &mask));
	CHECK_EQ(mask, 1ull << 62);
	CHECK(cpu_word_bit(&t_s390_words[1], 0, &mask));
	CHECK_EQ(mask, 1ull << 63);
	CHECK(cpu_word_bit(&t_s390_words[1], 63, &mask));
	CHECK_EQ(mask, 1ull);
	CHECK(!cpu_word_bit(&t_s390_words[3], 64, &mask));
	CHECK(!cpu_word_bit(&t_s390_words[3], 192, &mask));
}

TEST(s390_vector_facility)
{
	struct s390_cpu max, novx;
	struct cpu_mismatch_report r;

	s390_cpu(&max, 0x2b3f, 0x7120280000000000ull);
	s390_cpu(&novx, 0x33f, 0x3020200000000000ull);

	r = compare(&t_s390, &max.e, &novx.e, CPU_CAP_FPU);
	CHECK_EQ(r.n, 2);
	CHECK_STR(line(&r, 0), "image needs vx (AT_HWCAP bit 11); this CPU lacks it");
	CHECK_STR(line(&r, 1), "image needs vx (STFLE facility 129); this CPU lacks it");
	cpu_mismatch_report_free(&r);

	r = compare(&t_s390, &max.e, &novx.e, CPU_CAP_INS);
	CHECK(has_line(&r, "image needs vxeh2 (STFLE facility 148); this CPU lacks it"));
	CHECK(has_line(&r, "image needs AT_HWCAP bit 13; this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	r = compare(&t_s390, &max.e, &novx.e, CPU_CAP_CPU);
	CHECK(has_line(&r, "image needs STFLE facility 135; this CPU lacks it"));
	cpu_mismatch_report_free(&r);

	r = compare(&t_s390, &novx.e, &max.e, CPU_CAP_FPU | CPU_CAP_INS);
	CHECK_EQ(r.n, 0);
	cpu_mismatch_report_free(&r);
	r = compare(&t_s390, &novx.e, &max.e, CPU_CAP_CPU);
	CHECK(has_line(&r, "this CPU has vx (STFLE facility 129) that the image lacks"));
	cpu_mismatch_report_free(&r);
}

/* ---- architectures and verdicts ------------------------------------------ */

TEST(entry_architecture)
{
	struct x86_cpu x;
	struct arm_cpu a;
	struct ppc_cpu p;
	struct s390_cpu s;
	CpuinfoEntry empty = CPUINFO_ENTRY__INIT;

	x86_cpu(&x, 0, 0, 0, 0);
	arm_cpu(&a, 0, 0, 0, 0);
	ppc_cpu(&p, 0, 0, 0, NULL);
	s390_cpu(&s, 0, 0);
	CHECK_STR(cpuinfo_entry_arch(&x.e), "x86_64");
	CHECK_STR(cpuinfo_entry_arch(&a.e), "aarch64");
	CHECK_STR(cpuinfo_entry_arch(&p.e), "ppc64le");
	CHECK_STR(cpuinfo_entry_arch(&s.e), "s390x");
	p.p.endian = CPUINFO_PPC64_ENTRY__ENDIANNESS__BIGENDIAN;
	CHECK_STR(cpuinfo_entry_arch(&p.e), "ppc64 (big-endian)");
	CHECK(cpuinfo_entry_arch(&empty) == NULL);
}

TEST(other_architecture_is_refused)
{
	struct x86_cpu x;
	struct arm_cpu a;
	struct ppc_cpu be, le;
	struct cpu_mismatch_report r;

	x86_cpu(&x, 0, 0, 0, 0);
	arm_cpu(&a, 0, 0, 0, 0);
	CHECK_EQ(cpuinfo_compare(&t_arm, &x.e, &a.e, CPU_CAP_ALL, &r), -EXDEV);
	cpu_mismatch_report_free(&r);
	quiet(true);
	CHECK_EQ(cpuinfo_verdict(&t_arm, &x.e, &a.e, CPU_CAP_ALL, false), CPUINFO_INCOMPATIBLE);
	/* none compares no feature, but another architecture is still another. */
	CHECK_EQ(cpuinfo_verdict(&t_arm, &x.e, &a.e, CPU_CAP_NONE, false), CPUINFO_INCOMPATIBLE);
	ppc_cpu(&be, 0, 0, 0, NULL);
	ppc_cpu(&le, 0, 0, 0, NULL);
	be.p.endian = CPUINFO_PPC64_ENTRY__ENDIANNESS__BIGENDIAN;
	CHECK_EQ(cpuinfo_verdict(&t_ppc, &be.e, &le.e, CPU_CAP_FPU, false), CPUINFO_INCOMPATIBLE);
	quiet(false);
}

TEST(verdicts)
{
	struct x86_cpu rich, poor;
	CpuinfoEntry empty = CPUINFO_ENTRY__INIT;
	int level = log_get_level();

	x86_cpu(&rich, AVX2 | AVX512F, XSAVE_BITS, 0x7, 2696);
	x86_cpu(&poor, AVX2, 0, 0, 0);
	quiet(true);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &poor.e, &rich.e, CPU_CAP_FPU, false), CPUINFO_COMPATIBLE);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &poor.e, &rich.e, CPU_CAP_ALL, false), CPUINFO_INCOMPATIBLE);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &rich.e, &poor.e, CPU_CAP_INS, false), CPUINFO_INCOMPATIBLE);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &rich.e, &poor.e, CPU_CAP_NONE, false), CPUINFO_COMPATIBLE);
	log_set_level(-1);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &rich.e, &poor.e, CPU_CAP_ALL, true), CPUINFO_INCOMPATIBLE);
	CHECK_EQ(cpuinfo_verdict(&t_x86, &empty, &poor.e, CPU_CAP_ALL, false), CPUINFO_ERROR);
	log_set_level(level);
	quiet(false);
}

/* ---- this build's tables and CPU ----------------------------------------- */

static const ProtobufCMessageDescriptor *arch_entry_type(const struct cpu_arch_desc *d)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(&cpuinfo_entry__descriptor, d->entry_field);

	return f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
}

static bool good_name(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_.-+", *p))
			return false;
	return true;
}

static void check_desc_words(const struct cpu_arch_desc *d, const ProtobufCMessageDescriptor *type)
{
	for (unsigned i = 0; i < d->nr_words; i++) {
		const struct cpu_word *w = &d->words[i];

		CHECK(protobuf_c_message_descriptor_get_field_by_name(type, w->field) != NULL);
		CHECK(w->width == 32 || w->width == 64 || w->width == 16);
		CHECK(w->where && w->unit);
		CHECK((w->unnamed_class & ~(I | F)) == 0);
	}
}

static void check_desc_features(const struct cpu_arch_desc *d)
{
	for (unsigned i = 0; i < d->nr_features; i++) {
		const struct cpu_feature *f = &d->features[i];
		uint64_t mask;

		if (!good_name(f->name) || f->word >= d->nr_words ||
		    !cpu_word_bit(&d->words[f->word], f->bit, &mask) || (f->cls & ~(I | F))) {
			printf("  bad feature %u: %s\n", i, f->name ? f->name : "(null)");
			CHECK(0);
			continue;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct cpu_feature *g = &d->features[j];

			if (g->word == f->word && (g->bit == f->bit || !strcmp(g->name, f->name))) {
				printf("  features %s and %s clash\n", g->name, f->name);
				CHECK(0);
			}
		}
	}
}

static void check_desc(const struct cpu_arch_desc *d)
{
	const ProtobufCMessageDescriptor *type = arch_entry_type(d);

	CHECK(type != NULL);
	if (!type)
		return;
	check_desc_words(d, type);
	check_desc_features(d);
	for (unsigned i = 0; i < d->nr_values; i++)
		CHECK(protobuf_c_message_descriptor_get_field_by_name(type, d->values[i].field) != NULL);
}

TEST(tables_of_this_build)
{
	CHECK_STR(arch_cpu_desc.arch, CRIU_ARCH);
	check_desc(&arch_cpu_desc);
	CHECK(arch_cpu_desc.nr_features > 20);
}

TEST(test_tables_are_sound)
{
	check_desc(&t_x86);
	check_desc(&t_arm);
	check_desc(&t_ppc);
	check_desc(&t_s390);
}

static bool some_named_feature_set(const CpuinfoEntry *e)
{
	const ProtobufCMessage *m = cpuinfo_arch_entry(&arch_cpu_desc, e);

	for (unsigned i = 0; m && i < arch_cpu_desc.nr_features; i++) {
		const struct cpu_feature *f = &arch_cpu_desc.features[i];
		uint64_t v, mask;

		if (cpu_word_get(m, &arch_cpu_desc.words[f->word], &v) &&
		    cpu_word_bit(&arch_cpu_desc.words[f->word], f->bit, &mask) && (v & mask))
			return true;
	}
	return false;
}

TEST(collect_this_cpu)
{
	CpuinfoEntry *e = arch_cpu_collect(), *back;
	struct cpu_mismatch_report r;
	uint8_t *buf;
	size_t len;

	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_STR(cpuinfo_entry_arch(e), arch_cpu_desc.arch);
	CHECK(some_named_feature_set(e));
	/* The collector fills every word its table describes. */
	r = compare(&arch_cpu_desc, e, e, CPU_CAP_ALL);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.words_skipped, 0);
	cpu_mismatch_report_free(&r);

	len = protobuf_c_message_get_packed_size(&e->base);
	buf = malloc(len);
	protobuf_c_message_pack(&e->base, buf);
	back = cpuinfo_entry__unpack(NULL, len, buf);
	CHECK(back != NULL);
	if (back) {
		r = compare(&arch_cpu_desc, back, e, CPU_CAP_ALL);
		CHECK_EQ(r.n, 0);
		cpu_mismatch_report_free(&r);
		cpuinfo_entry__free_unpacked(back, NULL);
	}
	free(buf);
	cpuinfo_entry__free_unpacked(e, NULL);
}

TEST(print_features_by_name)
{
	CpuinfoEntry *e = arch_cpu_collect();
	struct x86_cpu x;
	struct arm_cpu a;
	const CpuinfoEntry *other;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(e != NULL);
	if (!e)
		return;
	f = open_memstream(&text, &len);
	cpuinfo_print_features(f, &e->base);
	fclose(f);
	CHECK(strstr(text, arch_cpu_desc.arch) != NULL);
	CHECK(strstr(text, "  ins:") != NULL);
	free(text);

	x86_cpu(&x, AVX2, 0, 0, 0);
	arm_cpu(&a, A53_HWCAP, 0, 0, 0);
	other = strcmp(arch_cpu_desc.arch, "x86_64") ? &x.e : &a.e;
	f = open_memstream(&text, &len);
	cpuinfo_print_features(f, &other->base);
	fclose(f);
	CHECK(strstr(text, "prints its features by name") != NULL);
	free(text);

	f = open_memstream(&text, &len);
	cpuinfo_print_entry(f, &t_x86, &x.e);
	fclose(f);
	CHECK(strstr(text, "  ins: avx2\n") != NULL);
	CHECK(strstr(text, "  FPU mode: fxsr\n") != NULL);
	free(text);
	cpuinfo_entry__free_unpacked(e, NULL);
}

/* ---- cpuinfo.img ------------------------------------------------------------ */

static void write_entry(int dir, const CpuinfoEntry *e)
{
	struct cr_img *img = img_open(dir, IMG_CPUINFO, O_WRONLY | O_CREAT);

	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_EQ(img_write_pb(img, &e->base), 0);
	CHECK_EQ(img_close(img), 0);
}

TEST(image_round_trip)
{
	int dir = scratch_dir(), level = log_get_level();

	CHECK(dir >= 0);
	CHECK_EQ(cpuinfo_dump_image(dir), 0);
	quiet(true);
	CHECK_EQ(cpuinfo_check_images(dir, NULL, true), 0);
	CHECK_EQ(cpuinfo_check_images(dir, "cpu", true), 0);
	CHECK_EQ(cpuinfo_check_images(dir, NULL, false), 0);
	log_set_level(-1);
	CHECK_EQ(cpuinfo_check_images(dir, "cpu,bogus", true), -EINVAL);
	log_set_level(level);
	quiet(false);
	scratch_done(dir);
}

TEST(image_missing_or_corrupt)
{
	int dir = scratch_dir(), level = log_get_level(), fd;

	log_set_level(-1);
	/* Missing: let through unless --cpu-cap asked for a check. */
	CHECK_EQ(cpuinfo_check_images(dir, NULL, false), 0);
	CHECK_EQ(cpuinfo_check_images(dir, "none", true), 0);
	CHECK(cpuinfo_check_images(dir, "fpu", true) < 0);
	CHECK(cpuinfo_check_images(dir, NULL, true) < 0);

	fd = openat(dir, "cpuinfo.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_EQ(write(fd, "garbage!garbage!", 16), 16);
	close(fd);
	CHECK(cpuinfo_check_images(dir, NULL, false) < 0);
	log_set_level(level);
	scratch_done(dir);
}

TEST(image_of_another_architecture)
{
	int dir = scratch_dir(), level = log_get_level();
	struct x86_cpu x;
	struct arm_cpu a;

	x86_cpu(&x, AVX2, 0, 0, 0);
	arm_cpu(&a, A53_HWCAP, 0, 0, 0);
	write_entry(dir, strcmp(arch_cpu_desc.arch, "x86_64") ? &x.e : &a.e);
	log_set_level(-1);
	CHECK_EQ(cpuinfo_check_images(dir, NULL, false), 1);
	CHECK_EQ(cpuinfo_check_images(dir, "none", true), 1);
	log_set_level(level);
	scratch_done(dir);
}

TEST(commands_exit_codes)
{
	int dir = scratch_dir(), level = log_get_level();
	char path[64];

	CHECK(dir >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir);
	opts.images_dir = path;
	opts.cpu_cap = NULL;
	opts.cpu_cap_given = false;
	quiet(true);
	log_set_level(-1);
	CHECK_EQ(cmd_cpuinfo_check(), CPUINFO_ERROR); /* no image yet */
	CHECK_EQ(cmd_cpuinfo_dump(), 0);
	CHECK_EQ(cmd_cpuinfo_check(), CPUINFO_COMPATIBLE);
	opts.cpu_cap_given = true;
	CHECK_EQ(cmd_cpuinfo_check(), CPUINFO_COMPATIBLE);
	opts.cpu_cap = "fpu,what";
	CHECK_EQ(cmd_cpuinfo_check(), CPUINFO_ERROR);
	opts.images_dir = "/nonexistent/cpuinfo/dir";
	opts.cpu_cap = NULL;
	CHECK_EQ(cmd_cpuinfo_check(), CPUINFO_ERROR);
	CHECK_EQ(cmd_cpuinfo_dump(), 1);
	log_set_level(level);
	quiet(false);
	scratch_done(dir);
}

UNIT_MAIN()
