/* x86 AVX-512: zmm0-30 and the opmask registers k1-k7 hold their values in a running loop. */
#include "regs.h"

static const char *skip(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") ? NULL : "the CPU has no AVX-512";
#else
	return "x86_64 only (regs-vec covers this architecture's vectors)";
#endif
}

TEST("x86 AVX-512 zmm0-30 and k1-k7, compared in a running loop", .skip = skip);

#if defined(__x86_64__)
static struct vec_ctx ctx;

#define ZMM "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30"
#define KREGS "1,2,3,4,5,6,7"

static __attribute__((noinline, target("avx512f"))) long avx512_loop(struct vec_ctx *c)
{
	long r = (long)c;

	asm volatile(".irp n," ZMM "\n vmovdqu64 64*\\n(%%rax), %%zmm\\n\n .endr\n"
		     ".irp n," KREGS "\n kmovw 8192+2*\\n(%%rax), %%k\\n\n .endr\n"
		     "1: cmpl $0, %[stop]\n jne 2f\n"
		     ".irp n," ZMM "\n vpxorq 64*\\n(%%rax), %%zmm\\n, %%zmm31\n"
		     " vptestmq %%zmm31, %%zmm31, %%k0\n kortestw %%k0, %%k0\n jnz 3f\n .endr\n"
		     ".irp n," KREGS "\n kmovw %%k\\n, %%edx\n cmpw 8192+2*\\n(%%rax), %%dx\n jne 3f\n .endr\n"
		     "jmp 1b\n"
		     "3: .irp n," ZMM "\n vmovdqu64 %%zmm\\n, 4096+64*\\n(%%rax)\n .endr\n"
		     ".irp n," KREGS "\n kmovw %%k\\n, 8208+2*\\n(%%rax)\n .endr\n"
		     "mov $1, %%eax\n jmp 4f\n"
		     /* stopped: one more full pass, so every register is compared after restore */
		     "2:\n"
		     ".irp n," ZMM "\n vpxorq 64*\\n(%%rax), %%zmm\\n, %%zmm31\n"
		     " vptestmq %%zmm31, %%zmm31, %%k0\n kortestw %%k0, %%k0\n jnz 3b\n .endr\n"
		     ".irp n," KREGS "\n kmovw %%k\\n, %%edx\n cmpw 8192+2*\\n(%%rax), %%dx\n jne 3b\n .endr\n"
		     "xor %%eax, %%eax\n"
		     "4: vzeroupper\n"
		     : "+a"(r)
		     : [stop] "m"(test_stop)
		     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",
		       "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
		       "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1",
		       "k2", "k3", "k4", "k5", "k6", "k7", "rdx", "cc", "memory");
	return r;
}
#endif

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (skip())
		setup_fail("%s", skip());
#if defined(__x86_64__)
	_Static_assert(offsetof(struct vec_ctx, kseen) == 8208, "kseen");
	vec_prepare(&ctx, 0x5125);
	test_ready();
	test_unblock_stop();
	if (avx512_loop(&ctx)) {
		vec_report(&ctx, 31, 64, "zmm");
		for (int i = 1; i < 8; i++)
			if (ctx.kseen[i] != ctx.kwant[i])
				fail("k%d is %#x, want %#x", i, ctx.kseen[i], ctx.kwant[i]);
	}
	test_wait();
#endif
	test_done();
}
