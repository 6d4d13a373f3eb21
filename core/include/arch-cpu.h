/*
 * The arch side of cpuinfo.img and --cpu-cap.
 *
 * Each arch/<arch>/cpu.c reads this CPU's features into a cpuinfo_entry
 * (arch_cpu_collect) and describes, as plain data, where each feature
 * lives in that entry, what it is called and what it matters for
 * (arch_cpu_desc).  Comparing an image with this CPU under the --cpu-cap
 * modes, wording the differences and printing an entry by name are
 * portable code in cpuinfo/, which reads entries through these tables
 * only: a new feature is one line in a table, a new arch one file.
 */
#ifndef CRIU_ARCH_CPU_H
#define CRIU_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/cpuinfo.pb-c.h"

/*
 * What a feature matters for, as a mask: the --cpu-cap modes that look at
 * it.  `cpu` looks at everything, whatever its class.
 */
#define CPU_CLASS_OTHER 0u	  /* only `cpu` compares it */
#define CPU_CLASS_INS (1u << 0) /* instructions user code may run: `ins` */
#define CPU_CLASS_FPU (1u << 1) /* FPU, vector or other register state: `fpu` */

/*
 * A word of feature bits: one element of a field of the arch's entry
 * message.  Bits are numbered as the manuals number them, so that
 * messages can say "CPUID.7.0:EBX bit 16" or "STFLE facility 129".
 */
struct cpu_word {
	const char *field;	/* field of the arch entry: "capability" */
	unsigned index;		/* element of a repeated field; 0 otherwise */
	const char *where;	/* "CPUID.7.0:EBX", "AT_HWCAP", "STFLE" */
	const char *unit;	/* what a bit is called: "bit", "facility" */
	unsigned first;		/* number of the word's first bit (s390: 64 * doubleword) */
	unsigned width;		/* 32 or 64 */
	bool msb0;		/* the first bit is the most significant (s390 facilities) */
	unsigned unnamed_class; /* class of the bits the feature table does not name */
};

struct cpu_feature {
	const char *name;	 /* as /proc/cpuinfo spells it where it has it: "avx512f" */
	unsigned short word;	 /* index in the arch's word table */
	unsigned short bit;	 /* number as the manuals give it (see struct cpu_word) */
	unsigned cls;		 /* CPU_CLASS_* */
	const char *where;	 /* NULL: "<word> <unit> <bit>"; else these words */
};

/* How a value of this CPU must relate to the image's under the modes of its class. */
enum cpu_value_rule {
	CPU_RULE_SHOW,	      /* nothing: shown (and compared by `cpu` if cpu_equal) */
	CPU_RULE_NOT_LARGER,  /* this CPU's must not exceed the image's */
	CPU_RULE_NOT_SMALLER, /* this CPU's must be at least the image's */
	CPU_RULE_EQUAL,
};

/* A number, enum or string field of the arch entry that is not a word of bits. */
struct cpu_value {
	const char *field;	/* field of the arch entry: "xsave_size" */
	const char *name;	/* "xsave frame size" */
	const char *where;	/* "CPUID.0xD.0:EBX", or NULL */
	const char *unit;	/* "bytes"; NULL: a 64-bit number is shown in hex */
	unsigned cls;		/* the modes (besides cpu) that apply rule */
	enum cpu_value_rule rule;
	bool cpu_equal;		/* `cpu` wants the same value */
};

struct cpu_arch_desc {
	const char *arch;	 /* "x86_64": as uname -m and CRIU_ARCH say it */
	const char *entry_field; /* the field of cpuinfo_entry with this arch's entry */
	const struct cpu_word *words;
	unsigned nr_words;
	const struct cpu_feature *features;
	unsigned nr_features;
	const struct cpu_value *values;
	unsigned nr_values;
};

/* This build's architecture. */
extern const struct cpu_arch_desc arch_cpu_desc;

/*
 * Describes this CPU: a new entry holding one entry of this arch, where
 * every part is malloc()ed so that protobuf_c_message_free_unpacked(&e->base,
 * NULL) frees it like an entry read from an image.  NULL (logged) on failure.
 */
CpuinfoEntry *arch_cpu_collect(void);

/*
 * For arch_cpu_collect(), from cpuinfo/: a new entry (*e) holding one
 * initialized message of type sub in the field desc->entry_field, which is
 * returned; NULL when out of memory or sub is not that field's type.
 */
ProtobufCMessage *cpuinfo_entry_new(const struct cpu_arch_desc *desc, const ProtobufCMessageDescriptor *sub,
				    CpuinfoEntry **e);

#endif
