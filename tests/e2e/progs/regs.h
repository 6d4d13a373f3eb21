/*
 * Loops that keep known values in registers and compare them with memory
 * over and over until test_stop is set.  A dump can stop them at any
 * instruction; after restore every register must hold the same value.
 * On a difference the loop stores the registers it saw into ctx->seen and
 * returns 1; when test_stop is set it returns 0.
 */
#ifndef E2E_REGS_H
#define E2E_REGS_H

#include "lib.h"

#include <sys/auxv.h>

/* general registers: want[] holds one value per checked register */
#define NR_GP 32
struct gp_ctx {
	uint64_t want[NR_GP];
	uint64_t seen[NR_GP];
	volatile int *stop;
};

/* vector registers, 64 bytes per register whatever the width */
#define NR_VEC 64
struct vec_ctx {
	uint8_t want[NR_VEC][64];
	uint8_t seen[NR_VEC][64];
	uint16_t kwant[8], kseen[8]; /* x86 AVX-512 opmask registers */
	volatile int *stop;
} __attribute__((aligned(64)));

#if defined(__x86_64__)
/* the checked registers, in want[] order */
#define GP_NAMES "rbx,rcx,rdx,rsi,rdi,r8,r9,r10,r11,r12,r13,r14,r15"
#define GP_MASK 0x1fffull /* want[] indexes in use */

static __attribute__((noinline, unused)) long gp_loop(struct gp_ctx *c)
{
	long r = (long)c;

	asm volatile(".set gpi, 0\n .irp r," GP_NAMES "\n mov gpi*8(%%rax), %%\\r\n .set gpi, gpi+1\n .endr\n"
		     "1: cmpl $0, %[stop]\n jne 2f\n"
		     ".set gpi, 0\n .irp r," GP_NAMES "\n cmp gpi*8(%%rax), %%\\r\n jne 3f\n .set gpi, gpi+1\n .endr\n"
		     "jmp 1b\n"
		     "3: .set gpi, 0\n .irp r," GP_NAMES "\n mov %%\\r, 256+gpi*8(%%rax)\n .set gpi, gpi+1\n .endr\n"
		     "mov $1, %%eax\n jmp 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".set gpi, 0\n .irp r," GP_NAMES "\n cmp gpi*8(%%rax), %%\\r\n jne 3b\n .set gpi, gpi+1\n .endr\n"
		     "xor %%eax, %%eax\n"
		     "4:\n"
		     : "+a"(r)
		     : [stop] "m"(test_stop)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		       "r14", "r15", "cc", "memory");
	return r;
}

/* SSE: xmm0..xmm14 checked, xmm15 scratch */
#define NR_VEC_CHECKED 15
#define VEC_BYTES 16
#define VEC_NAME "xmm"
static inline const char *vec_skip(void)
{
	return NULL;
}

static __attribute__((noinline, unused)) long vec_loop(struct vec_ctx *c)
{
	long r = (long)c;

	asm volatile(".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n movdqa 64*\\n(%%rax), %%xmm\\n\n .endr\n"
		     "1: cmpl $0, %[stop]\n jne 2f\n"
		     ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
		     " movdqa %%xmm\\n, %%xmm15\n pcmpeqb 64*\\n(%%rax), %%xmm15\n"
		     " pmovmskb %%xmm15, %%edx\n cmp $0xffff, %%edx\n jne 3f\n .endr\n"
		     "jmp 1b\n"
		     "3: .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n movdqa %%xmm\\n, 4096+64*\\n(%%rax)\n .endr\n"
		     "mov $1, %%eax\n jmp 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
		     " movdqa %%xmm\\n, %%xmm15\n pcmpeqb 64*\\n(%%rax), %%xmm15\n"
		     " pmovmskb %%xmm15, %%edx\n cmp $0xffff, %%edx\n jne 3b\n .endr\n"
		     "xor %%eax, %%eax\n"
		     "4:\n"
		     : "+a"(r)
		     : [stop] "m"(test_stop)
		     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "rdx", "cc",
		       "memory");
	return r;
}

#elif defined(__aarch64__)
/* x1..x15, x19..x28 and x30 checked (want[] indexed by register number) */
#define GP_LIST "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,19,20,21,22,23,24,25,26,27,28,30"
#define GP_MASK 0x5ff8fffeull /* want[] indexed by register number */

static __attribute__((noinline, unused)) long gp_loop(struct gp_ctx *c)
{
	register unsigned long x0 asm("x0") = (unsigned long)c;

	asm volatile(".irp n," GP_LIST "\n ldr x\\n, [x0, #8*\\n]\n .endr\n"
		     "1: ldr x16, [x0, #512]\n ldr w16, [x16]\n cbnz w16, 2f\n"
		     ".irp n," GP_LIST "\n ldr x17, [x0, #8*\\n]\n cmp x\\n, x17\n b.ne 3f\n .endr\n"
		     "b 1b\n"
		     "3: .irp n," GP_LIST "\n str x\\n, [x0, #256+8*\\n]\n .endr\n"
		     "mov x0, #1\n b 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," GP_LIST "\n ldr x17, [x0, #8*\\n]\n cmp x\\n, x17\n b.ne 3b\n .endr\n"
		     "mov x0, #0\n"
		     "4:\n"
		     : "+r"(x0)
		     :
		     : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
		       "x13", "x14", "x15", "x16", "x17", "x19", "x20", "x21", "x22", "x23", "x24",
		       "x25", "x26", "x27", "x28", "x30", "cc", "memory");
	return x0;
}

/* NEON: v0..v30 checked, v31 scratch */
#define NR_VEC_CHECKED 31
#define VEC_BYTES 16
#define VEC_NAME "v"
#define VEC_LIST "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30"
static inline const char *vec_skip(void)
{
	return NULL;
}

static __attribute__((noinline, unused)) long vec_loop(struct vec_ctx *c)
{
	register unsigned long x0 asm("x0") = (unsigned long)c;

	asm volatile(".irp n," VEC_LIST "\n ldr q\\n, [x0, #64*\\n]\n .endr\n"
		     "1: ldr x16, [x0, #8224]\n ldr w16, [x16]\n cbnz w16, 2f\n"
		     ".irp n," VEC_LIST "\n ldr q31, [x0, #64*\\n]\n cmeq v31.16b, v31.16b, v\\n\\().16b\n"
		     " uminv b31, v31.16b\n umov w16, v31.b[0]\n cmp w16, #255\n b.ne 3f\n .endr\n"
		     "b 1b\n"
		     "3: add x16, x0, #4096\n"
		     ".irp n," VEC_LIST "\n str q\\n, [x16, #64*\\n]\n .endr\n"
		     "mov x0, #1\n b 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," VEC_LIST "\n ldr q31, [x0, #64*\\n]\n cmeq v31.16b, v31.16b, v\\n\\().16b\n"
		     " uminv b31, v31.16b\n umov w16, v31.b[0]\n cmp w16, #255\n b.ne 3b\n .endr\n"
		     "mov x0, #0\n"
		     "4:\n"
		     : "+r"(x0)
		     :
		     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
		       "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22",
		       "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "x16", "cc",
		       "memory");
	return x0;
}

#elif defined(__powerpc64__)
/* r4..r12 (except the scratch r12), r14..r31 checked */
#define GP_LIST "4,5,6,7,8,9,10,11,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"
#define GP_MASK 0xffffcff0ull

static __attribute__((noinline, unused)) long gp_loop(struct gp_ctx *c)
{
	register unsigned long r3 asm("r3") = (unsigned long)c;

	asm volatile(".irp n," GP_LIST "\n ld \\n, 8*\\n(3)\n .endr\n"
		     "1: ld 12, 512(3)\n lwz 12, 0(12)\n cmpwi 12, 0\n bne 2f\n"
		     ".irp n," GP_LIST "\n ld 0, 8*\\n(3)\n cmpd \\n, 0\n bne 3f\n .endr\n"
		     "b 1b\n"
		     "3: .irp n," GP_LIST "\n std \\n, 256+8*\\n(3)\n .endr\n"
		     "li 3, 1\n b 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," GP_LIST "\n ld 0, 8*\\n(3)\n cmpd \\n, 0\n bne 3b\n .endr\n"
		     "li 3, 0\n"
		     "4:\n"
		     : "+r"(r3)
		     :
		     : "r0", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r14", "r15",
		       "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26",
		       "r27", "r28", "r29", "r30", "r31", "cr0", "memory");
	return r3;
}

/* VSX: vs0..vs61 checked, vs62 (zero) and vs63 scratch */
#define NR_VEC_CHECKED 62
#define VEC_BYTES 16
#define VEC_NAME "vs"
#define VEC_LIST                                                                          \
	"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30," \
	"31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,"   \
	"58,59,60,61"
static inline const char *vec_skip(void)
{
	return (getauxval(AT_HWCAP) & 0x00000080) ? NULL : "the CPU has no VSX";
}

static __attribute__((noinline, unused)) long vec_loop(struct vec_ctx *c)
{
	register unsigned long r3 asm("r3") = (unsigned long)c;

	asm volatile(".irp n," VEC_LIST "\n addi 9, 3, 64*\\n\n lxvd2x \\n, 0, 9\n .endr\n"
		     "1: addi 9, 3, 8224\n ld 12, 0(9)\n lwz 12, 0(12)\n cmpwi 12, 0\n bne 2f\n"
		     "xxlxor 62, 62, 62\n"
		     ".irp n," VEC_LIST "\n addi 9, 3, 64*\\n\n lxvd2x 63, 0, 9\n xxlxor 63, 63, \\n\n"
		     " vcmpequb. 31, 31, 30\n bc 4, 24, 3f\n .endr\n"
		     "b 1b\n"
		     "3: addi 12, 3, 4096\n"
		     ".irp n," VEC_LIST "\n addi 9, 12, 64*\\n\n stxvd2x \\n, 0, 9\n .endr\n"
		     "li 3, 1\n b 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     "xxlxor 62, 62, 62\n"
		     ".irp n," VEC_LIST "\n addi 9, 3, 64*\\n\n lxvd2x 63, 0, 9\n xxlxor 63, 63, \\n\n"
		     " vcmpequb. 31, 31, 30\n bc 4, 24, 3b\n .endr\n"
		     "li 3, 0\n"
		     "4:\n"
		     : "+r"(r3)
		     :
		     : "vs0", "vs1", "vs2", "vs3", "vs4", "vs5", "vs6", "vs7", "vs8", "vs9", "vs10",
		       "vs11", "vs12", "vs13", "vs14", "vs15", "vs16", "vs17", "vs18", "vs19", "vs20",
		       "vs21", "vs22", "vs23", "vs24", "vs25", "vs26", "vs27", "vs28", "vs29", "vs30",
		       "vs31", "vs32", "vs33", "vs34", "vs35", "vs36", "vs37", "vs38", "vs39", "vs40",
		       "vs41", "vs42", "vs43", "vs44", "vs45", "vs46", "vs47", "vs48", "vs49", "vs50",
		       "vs51", "vs52", "vs53", "vs54", "vs55", "vs56", "vs57", "vs58", "vs59", "vs60",
		       "vs61", "vs62", "vs63", "r9", "r12", "cr0", "cr6", "memory");
	return r3;
}

#elif defined(__s390x__)
/* r0, r3..r10 and r13 checked; r1 scratch, r2 the context */
#define GP_LIST "0,3,4,5,6,7,8,9,10,13"
#define GP_MASK 0x27f9ull

static __attribute__((noinline, unused)) long gp_loop(struct gp_ctx *c)
{
	register unsigned long r2 asm("r2") = (unsigned long)c;

	asm volatile(".irp n," GP_LIST "\n lg %%r\\n, 8*\\n(%%r2)\n .endr\n"
		     "1: lg %%r1, 512(%%r2)\n lt %%r1, 0(%%r1)\n jnz 2f\n"
		     ".irp n," GP_LIST "\n cg %%r\\n, 8*\\n(%%r2)\n jne 3f\n .endr\n"
		     "j 1b\n"
		     "3: .irp n," GP_LIST "\n stg %%r\\n, 256+8*\\n(%%r2)\n .endr\n"
		     "lghi %%r2, 1\n j 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," GP_LIST "\n cg %%r\\n, 8*\\n(%%r2)\n jne 3b\n .endr\n"
		     "lghi %%r2, 0\n"
		     "4:\n"
		     : "+r"(r2)
		     :
		     : "r0", "r1", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r13", "cc",
		       "memory");
	return r2;
}

/* vector facility: v0..v30 checked, v31 scratch */
#define NR_VEC_CHECKED 31
#define VEC_BYTES 16
#define VEC_NAME "v"
#define VEC_LIST "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30"
static inline const char *vec_skip(void)
{
	return (getauxval(AT_HWCAP) & 2048) ? NULL : "the CPU has no vector facility";
}

static __attribute__((noinline, unused, target("arch=z13"))) long vec_loop(struct vec_ctx *c)
{
	register unsigned long r2 asm("r2") = (unsigned long)c;

	asm volatile(".irp n," VEC_LIST "\n vl %%v\\n, 64*\\n(%%r2)\n .endr\n"
		     "1: lg %%r1, 8224(%%r2)\n lt %%r1, 0(%%r1)\n jnz 2f\n"
		     ".irp n," VEC_LIST "\n vl %%v31, 64*\\n(%%r2)\n vceqbs %%v31, %%v31, %%v\\n\n jnz 3f\n .endr\n"
		     "j 1b\n"
		     "3: lay %%r1, 4096(%%r2)\n"
		     ".irp n," VEC_LIST "\n vst %%v\\n, 64*\\n(%%r1)\n .endr\n"
		     "lghi %%r2, 1\n j 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," VEC_LIST "\n vl %%v31, 64*\\n(%%r2)\n vceqbs %%v31, %%v31, %%v\\n\n jnz 3b\n .endr\n"
		     "lghi %%r2, 0\n"
		     "4:\n"
		     : "+r"(r2)
		     :
		     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
		       "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22",
		       "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "r1", "cc",
		       "memory");
	return r2;
}

#else
#error "no register loops for this architecture"
#endif

/* The context layout the loops rely on. */
_Static_assert(offsetof(struct gp_ctx, seen) == 256, "gp seen");
_Static_assert(offsetof(struct gp_ctx, stop) == 512, "gp stop");
_Static_assert(offsetof(struct vec_ctx, seen) == 4096, "vec seen");
_Static_assert(offsetof(struct vec_ctx, kwant) == 8192, "vec kwant");
_Static_assert(offsetof(struct vec_ctx, stop) == 8224, "vec stop");

static inline void gp_prepare(struct gp_ctx *c, uint64_t seed)
{
	fill_pattern(c->want, sizeof(c->want), seed);
	for (int i = 0; i < NR_GP; i++)
		if (!(GP_MASK & (1ull << i)))
			c->want[i] = 0;
	c->stop = &test_stop;
}

static inline void gp_name(int i, char *buf, size_t size)
{
#if defined(__x86_64__)
	const char *names = GP_NAMES;
	for (int k = 0; k < i && names; k++)
		names = strchr(names, ',') + 1;
	snprintf(buf, size, "%%%.*s", (int)strcspn(names, ","), names);
#elif defined(__aarch64__)
	snprintf(buf, size, "x%d", i);
#else
	snprintf(buf, size, "r%d", i);
#endif
}

/* names the registers that differ; returns how many */
static inline int gp_report(const struct gp_ctx *c, const char *who)
{
	int n = 0;

	for (int i = 0; i < NR_GP; i++)
		if ((GP_MASK & (1ull << i)) && c->seen[i] != c->want[i]) {
			char name[16];
			gp_name(i, name, sizeof(name));
			fail("%s: %s is %#llx, want %#llx", who, name, (unsigned long long)c->seen[i],
			     (unsigned long long)c->want[i]);
			n++;
		}
	if (!n)
		fail("%s: a general register changed", who);
	return n;
}

static inline void vec_prepare(struct vec_ctx *c, uint64_t seed)
{
	fill_pattern(c->want, sizeof(c->want), seed);
	fill_pattern(c->kwant, sizeof(c->kwant), seed + 1);
	c->stop = &test_stop;
}

static inline void vec_report(const struct vec_ctx *c, int nr, int bytes, const char *name)
{
	int n = 0;

	for (int i = 0; i < nr; i++)
		if (memcmp(c->seen[i], c->want[i], bytes)) {
			fail("%s%d differs", name, i);
			n++;
		}
	if (!n)
		fail("a %s register changed", name);
}

#endif
