/*
 * s390x CPU features for cpuinfo.img and --cpu-cap: the hwcap words the
 * kernel gives every task and the facility list STFLE stores, with the
 * vector facility among them.
 */
#include <stdlib.h>
#include <sys/auxv.h>

#include "arch-cpu.h"
#include "log.h"

#define HWCAP_BIT_STFLE 2
/* Facilities 0-255: every facility defined so far fits. */
#define NR_FACILITY_WORDS 4

enum { W_HWCAP, W_HWCAP2, W_FAC0, W_FAC1, W_FAC2, W_FAC3 };

#define I CPU_CLASS_INS
#define F CPU_CLASS_FPU
#define O CPU_CLASS_OTHER

/* STFLE numbers facilities from the leftmost bit of each doubleword. */
#define FACILITY_WORD(i) { "facilities", i, "STFLE", "facility", 64 * (i), 64, true, O }

/* Upstream keeps AT_HWCAP and AT_HWCAP2 as hwcap[0] and hwcap[1]. */
static const struct cpu_word s390_words[] = {
	[W_HWCAP] = { "hwcap", 0, "AT_HWCAP", "bit", 0, 64, false, I },
	[W_HWCAP2] = { "hwcap", 1, "AT_HWCAP2", "bit", 0, 64, false, I },
	[W_FAC0] = FACILITY_WORD(0),
	[W_FAC1] = FACILITY_WORD(1),
	[W_FAC2] = FACILITY_WORD(2),
	[W_FAC3] = FACILITY_WORD(3),
};

#define HWCAP(b, n, c) { n, W_HWCAP, b, c, NULL }
/* Facility n lives in doubleword n / 64. */
#define FAC(n, name, c) { name, W_FAC0 + (n) / 64, n, c, NULL }

static const struct cpu_feature s390_features[] = {
	HWCAP(0, "esan3", I),
	HWCAP(1, "zarch", I),
	HWCAP(2, "stfle", I),
	HWCAP(3, "msa", I),
	HWCAP(4, "ldisp", I),
	HWCAP(5, "eimm", I),
	HWCAP(6, "dfp", I),
	HWCAP(7, "edat", O),
	HWCAP(8, "etf3eh", I),
	HWCAP(9, "highgprs", O),
	/* Transaction diagnostic blocks, vector registers, the guarded-storage control block: state. */
	HWCAP(10, "te", I | F),
	HWCAP(11, "vx", I | F),
	HWCAP(12, "vxd", I),
	HWCAP(13, "vxe", I),
	HWCAP(14, "gs", I | F),
	HWCAP(15, "vxe2", I),
	HWCAP(16, "vxp", I),
	HWCAP(17, "sort", I),
	HWCAP(18, "dflt", I),
	HWCAP(19, "vxp2", I),
	HWCAP(20, "nnpa", I),
	HWCAP(21, "pcimio", I),
	HWCAP(22, "sie", O),

	FAC(0, "esan3", I),
	FAC(1, "zarch", I),
	FAC(2, "zarch-active", O),
	FAC(3, "dateh", O),
	FAC(4, "idtes", O),
	FAC(5, "idter", O),
	FAC(6, "asnlxr", O),
	FAC(7, "stfle", I),
	FAC(8, "edat", O),
	FAC(9, "srs", O),
	FAC(10, "csske", O),
	FAC(11, "ctop", O),
	FAC(12, "apqci", O),
	FAC(13, "ipter", O),
	FAC(14, "nonqks", O),
	FAC(15, "apft", O),
	FAC(16, "etf2", I),
	FAC(17, "msa", I),
	FAC(18, "ldisp", I),
	FAC(19, "ldisphp", O),
	FAC(20, "hfpm", I),
	FAC(21, "eimm", I),
	FAC(22, "etf3", I),
	FAC(23, "hfpue", I),
	FAC(24, "etf2eh", I),
	FAC(25, "stckf", I),
	FAC(26, "parseh", I),
	FAC(27, "mvcos", I),
	FAC(28, "tods", O),
	FAC(30, "etf3eh", I),
	FAC(31, "ectg", I),
	FAC(32, "csst", I),
	FAC(33, "csst2", I),
	FAC(34, "ginste", I),
	FAC(35, "exrl", I),
	FAC(36, "emon", I),
	FAC(37, "fpe", I),
	FAC(38, "opc", I),
	FAC(40, "sprogp", O),
	FAC(41, "fpseh", I),
	FAC(42, "dfp", I),
	FAC(43, "dfphp", O),
	FAC(44, "pfpo", I),
	FAC(45, "stfle45", I),
	FAC(47, "cmpsceh", I),
	FAC(48, "dfpzc", I),
	FAC(49, "stfle49", I),
	FAC(50, "cte", I | F),
	FAC(51, "ltlbc", O),
	FAC(52, "iacc2", I),
	FAC(53, "stfle53", I),
	FAC(54, "eec", I),
	FAC(57, "msa5", I),
	FAC(58, "minste2", I),
	FAC(59, "sema", O),
	FAC(60, "tsi", O),
	FAC(61, "minste3", I),
	FAC(64, "ri", I | F),
	FAC(65, "apqi", O),
	FAC(69, "zpci", O),
	FAC(71, "aen", O),
	FAC(72, "ais", O),
	FAC(73, "te", I | F),
	FAC(74, "sthyi", I),
	FAC(75, "aefsi", O),
	FAC(76, "msa3", I),
	FAC(77, "msa4", I),
	FAC(78, "edat2", O),
	FAC(80, "dfppc", I),
	FAC(81, "ppa15", O),
	FAC(82, "bpb", O),
	FAC(129, "vx", I | F),
	FAC(130, "iep", O),
	FAC(131, "sea_esop2", O),
	FAC(133, "gs", I | F),
	FAC(134, "vxpd", I),
	FAC(135, "vxeh", I),
	FAC(138, "czam", O),
	FAC(139, "mepoch", O),
	FAC(140, "els", O),
	FAC(144, "tpei", O),
	FAC(145, "irbm", O),
	FAC(146, "msa8", I),
	FAC(147, "cmmnt", O),
	FAC(148, "vxeh2", I),
	FAC(150, "esort", I),
	FAC(151, "deflate", I),
	FAC(152, "vxpdeh", I),
	FAC(155, "msa9", I),
	FAC(156, "etoken", O),
	FAC(161, "unpack", O),
	FAC(165, "nnpa", I),
	FAC(192, "vxpdeh2", I),
	FAC(193, "beareh", O),
	FAC(194, "rdp", O),
	FAC(196, "pai", O),
	FAC(197, "paie", O),
};

#undef I
#undef F
#undef O

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const struct cpu_arch_desc arch_cpu_desc = {
	.arch = "s390x",
	.entry_field = "s390_entry",
	.words = s390_words,
	.nr_words = NR(s390_words),
	.features = s390_features,
	.nr_features = NR(s390_features),
	.values = NULL,
	.nr_values = 0,
};

/* Stores the facility list, zeroes past what the CPU has. */
static void stfle(uint64_t fac[NR_FACILITY_WORDS])
{
	register unsigned long r0 asm("0") = NR_FACILITY_WORDS - 1;

	asm volatile(".insn s,0xb2b00000,%0"
		     : "=Q"(*(uint64_t(*)[NR_FACILITY_WORDS])fac), "+d"(r0)
		     :
		     : "cc");
}

static int collect_s390(CpuinfoS390Entry *s)
{
	s->hwcap = calloc(2, sizeof(*s->hwcap));
	s->facilities = calloc(NR_FACILITY_WORDS, sizeof(*s->facilities));
	if (!s->hwcap || !s->facilities)
		return -1;
	s->n_hwcap = 2;
	s->hwcap[0] = getauxval(AT_HWCAP);
	s->hwcap[1] = getauxval(AT_HWCAP2);
	/*
	 * Facilities past the CPU's list are not installed: all the words are
	 * stored.  A CPU without STFLE (before z9) is taken to have none,
	 * which makes it refuse what needs one rather than let it through.
	 */
	if (s->hwcap[0] & (1ull << HWCAP_BIT_STFLE))
		stfle(s->facilities);
	s->n_facilities = NR_FACILITY_WORDS;
	return 0;
}

CpuinfoEntry *arch_cpu_collect(void)
{
	CpuinfoS390Entry *s;
	CpuinfoEntry *e;

	s = (CpuinfoS390Entry *)cpuinfo_entry_new(&arch_cpu_desc, &cpuinfo_s390_entry__descriptor, &e);
	if (!s || collect_s390(s)) {
		pr_err("cpuinfo: out of memory describing the CPU\n");
		if (s)
			protobuf_c_message_free_unpacked(&e->base, NULL);
		return NULL;
	}
	return e;
}
