/*
 * Entry points of the PIE blobs and the calls whose sequence is
 * per-architecture (see core/pie/pie.h, and core/pie/parasite.c for
 * pie_get_tls()).  compel starts an entry with
 * %r2 = the argument area and %r15 inside the blob's stack region; the
 * result is left in %r2 and the 0x0001 halfword (the breakpoint the kernel
 * reports as SIGTRAP to a tracer) stops the task.  Each function has its own
 * section so --gc-sections keeps only what a blob uses.
 */
#define ENTER_FRAME						\
	nill	%r15, 0xfff8;	/* 8-byte aligned stack */	\
	aghi	%r15, -160;	/* the callee's register save area */ \
	xc	0(8, %r15), 0(%r15)	/* null back chain */

#define ENTER_C(func)						\
	ENTER_FRAME;						\
	brasl	%r14, func;					\
	.word	0x0001

	.section .head.text.parasite, "ax", @progbits
	.globl	__export_parasite_head
	.type	__export_parasite_head, @function
	.p2align 2
__export_parasite_head:
	ENTER_C(parasite_service)
	.size	__export_parasite_head, . - __export_parasite_head

	.section .head.text.restorer, "ax", @progbits
	.globl	__export_restorer_head
	.type	__export_restorer_head, @function
	.p2align 2
__export_restorer_head:
	ENTER_C(restorer_main)
	.size	__export_restorer_head, . - __export_restorer_head

/*
 * long pie_mmap(addr, len, prot, flags, fd, off): s390x's mmap takes one
 * pointer to the six values (old_mmap).  %r2-%r6 hold the first five, the
 * sixth is at 160(%r15) in the caller's frame.
 */
	.section .text.pie_mmap, "ax", @progbits
	.globl	pie_mmap
	.hidden	pie_mmap
	.type	pie_mmap, @function
	.p2align 2
pie_mmap:
	stmg	%r14, %r15, 112(%r15)
	lgr	%r1, %r15
	aghi	%r15, -208		/* 160 save area + 6 * 8 values */
	stg	%r1, 0(%r15)		/* back chain */
	stmg	%r2, %r6, 160(%r15)
	mvc	200(8, %r15), 160(%r1)
	la	%r2, 160(%r15)
	brasl	%r14, sys_mmap
	lmg	%r14, %r15, 208 + 112(%r15)
	br	%r14
	.size	pie_mmap, . - pie_mmap

/* long pie_get_tls(uint64_t tls[2]): a0:a1 (a0 the high half), 0. */
	.section .text.pie_get_tls, "ax", @progbits
	.globl	pie_get_tls
	.hidden	pie_get_tls
	.type	pie_get_tls, @function
	.p2align 2
pie_get_tls:
	ear	%r1, %a0
	sllg	%r1, %r1, 32
	ear	%r1, %a1
	stg	%r1, 0(%r2)
	lghi	%r1, 0
	stg	%r1, 8(%r2)
	lghi	%r2, 0
	br	%r14
	.size	pie_get_tls, . - pie_get_tls

/*
 * long pie_clone_thread(args, size, fn): fn and args wait in call-saved
 * registers.  In the child sys_clone3 returns (br %r14, as the parent's) with
 * %r2 = 0, %r15 = stack + stack_size and a copy of the parent's other
 * registers: it makes a frame there and calls fn(args), and exits the
 * thread should fn return.  The parent gets the TID or -errno.
 */
	.section .text.pie_clone_thread, "ax", @progbits
	.globl	pie_clone_thread
	.hidden	pie_clone_thread
	.type	pie_clone_thread, @function
	.p2align 2
pie_clone_thread:
	stmg	%r6, %r15, 48(%r15)
	lgr	%r1, %r15
	aghi	%r15, -160
	stg	%r1, 0(%r15)		/* back chain */
	lgr	%r12, %r4		/* fn */
	lgr	%r13, %r2		/* args */
	brasl	%r14, sys_clone3
	ltgr	%r2, %r2
	jz	1f
	lmg	%r6, %r15, 160 + 48(%r15)
	br	%r14
1:	ENTER_FRAME
	lgr	%r2, %r13
	basr	%r14, %r12
	lghi	%r2, 0
	brasl	%r14, sys_exit
	.word	0x0001
	.size	pie_clone_thread, . - pie_clone_thread

	.section .note.GNU-stack, "", @progbits

/*
 * void pie_sync_icache(start, len): z/Architecture sees stores to the
 * instruction stream after a serializing instruction; bcr 15,0 is one.
 */
	.section .text.pie_sync_icache, "ax", @progbits
	.globl	pie_sync_icache
	.hidden	pie_sync_icache
	.type	pie_sync_icache, @function
	.p2align 2
pie_sync_icache:
	bcr	15, %r0
	br	%r14
	.size	pie_sync_icache, . - pie_sync_icache

/*
 * void pie_sigreturn(sp): rt_sigreturn with the stack pointer at sp, the
 * parasite's self-cure (the frame, save area first, is read at %r15).
 * Through the stub: only the stubs hold syscall instructions.  No return.
 */
	.section .text.pie_sigreturn, "ax", @progbits
	.globl	pie_sigreturn
	.hidden	pie_sigreturn
	.type	pie_sigreturn, @function
	.p2align 2
pie_sigreturn:
	lgr	%r15, %r2
	jg	sys_rt_sigreturn
	.size	pie_sigreturn, . - pie_sigreturn


/* A visit (core/pie/parasite.h): the area in r2, r15 in the visit stack. */
	.section .head.text.parasite_visit, "ax", @progbits
	.globl	__export_parasite_visit
	.type	__export_parasite_visit, @function
	.p2align 2
__export_parasite_visit:
	ENTER_C(parasite_visit)
	.size	__export_parasite_visit, . - __export_parasite_visit

/*
 * void pie_chain_call(const struct pie_chain *c): the exit chain
 * (core/pie/parasite.c): syscall c->nr with c->a[] from the task's own code
 * at g1 (svc 0 with the number in r1, work on r2, br %r14), which goes to
 * g2 (svc 173), which rt_sigreturns with r15 = sp as pie_sigreturn does.
 */
	.section .text.pie_chain_call, "ax", @progbits
	.globl	pie_chain_call
	.hidden	pie_chain_call
	.type	pie_chain_call, @function
	.p2align 2
pie_chain_call:
	lg	%r14, 16(%r2)
	lg	%r13, 8(%r2)
	lg	%r15, 0(%r2)
	lg	%r1, 32(%r2)
	lg	%r3, 48(%r2)
	lg	%r4, 56(%r2)
	lg	%r5, 64(%r2)
	lg	%r6, 72(%r2)
	lg	%r7, 80(%r2)
	lg	%r2, 40(%r2)
	br	%r13
	.size	pie_chain_call, . - pie_chain_call
