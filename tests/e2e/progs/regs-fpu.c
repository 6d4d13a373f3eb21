/*
 * Floating-point control and status: the rounding mode, sticky exception
 * flags, and on x86 the whole MXCSR and x87 control word, on aarch64 FPCR.
 */
#include "lib.h"

#include <fenv.h>

TEST("FPU rounding mode, sticky exception flags and control registers");

static volatile double one = 1.0, ten = 10.0;
static double tenth_rz, tenth_rn;

static void arch_record(unsigned long *v)
{
#if defined(__x86_64__)
	unsigned int mxcsr;
	unsigned short cw;
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	mxcsr |= 1 << 15 | 1 << 6; /* flush-to-zero, denormals-are-zero */
	asm volatile("ldmxcsr %0" : : "m"(mxcsr));
	asm volatile("fnstcw %0" : "=m"(cw));
	cw = (cw & ~0x300) | 0x200; /* x87 precision: 53 bits */
	asm volatile("fldcw %0" : : "m"(cw));
	v[0] = mxcsr;
	v[1] = cw;
#elif defined(__aarch64__)
	unsigned long fpcr;
	asm volatile("mrs %0, fpcr" : "=r"(fpcr));
	fpcr |= 1ul << 24; /* flush-to-zero */
	asm volatile("msr fpcr, %0" : : "r"(fpcr));
	asm volatile("mrs %0, fpcr" : "=r"(v[0]));
#else
	(void)v;
#endif
}

static void arch_check(const unsigned long *v)
{
#if defined(__x86_64__)
	unsigned int mxcsr;
	unsigned short cw;
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	asm volatile("fnstcw %0" : "=m"(cw));
	if ((mxcsr & ~0x3fu) != (v[0] & ~0x3fu)) /* the low bits are the flags */
		fail("MXCSR is %#x, want %#lx", mxcsr, v[0]);
	if (cw != v[1])
		fail("x87 control word is %#x, want %#lx", cw, v[1]);
#elif defined(__aarch64__)
	unsigned long fpcr;
	asm volatile("mrs %0, fpcr" : "=r"(fpcr));
	if (fpcr != v[0])
		fail("FPCR is %#lx, want %#lx", fpcr, v[0]);
#else
	(void)v;
#endif
}

int main(int argc, char **argv)
{
	unsigned long arch[2] = { 0 };

	test_init(argc, argv);
	tenth_rn = one / ten;
	if (fesetround(FE_TOWARDZERO))
		setup_fail("fesetround");
	tenth_rz = one / ten;
	if (tenth_rz == tenth_rn)
		setup_fail("rounding toward zero made no difference");
	feclearexcept(FE_ALL_EXCEPT);
	feraiseexcept(FE_DIVBYZERO | FE_OVERFLOW);
	arch_record(arch);
	test_ready();
	test_wait();

	if (fegetround() != FE_TOWARDZERO)
		fail("rounding mode is %#x, want FE_TOWARDZERO", fegetround());
	if (fetestexcept(FE_DIVBYZERO | FE_OVERFLOW) != (FE_DIVBYZERO | FE_OVERFLOW))
		fail("sticky exception flags lost (%#x)", fetestexcept(FE_ALL_EXCEPT));
	double now = one / ten;
	if (now != tenth_rz)
		fail("1/10 now rounds to %a, want %a", now, tenth_rz);
	arch_check(arch);
	test_done();
}
