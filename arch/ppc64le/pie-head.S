/*
 * Entry points of the PIE blobs and the calls whose sequence is
 * per-architecture (see core/pie/pie.h, and core/pie/parasite.c for
 * pie_get_tls()).  compel starts an entry with
 * r3 = the argument area and r1 inside the blob's stack region; the result
 * is left in r3 and the trap stops the task for the tracer.  Each function
 * has its own section so --gc-sections keeps only what a blob uses.
 *
 * The TOC: the C code is ELFv2 -mcmodel=medium, so each C function with a
 * global entry point computes r2 (.TOC.) from r12, its own address, with
 * "addis r2,r12,(.TOC.-func)@ha; addi r2,r2,(.TOC.-func)@l", resolved at
 * link time; data is then reached TOC-relatively.  The heads enter the C
 * code through its global entry point, with r12 = its run-time address
 * computed PC-relatively (bcl/mflr), so no TOC value is ever stored and the
 * blob needs no relocation for it.
 */
	.abiversion 2

#define ENTER_C(func)						\
	clrrdi	1, 1, 4;	/* 16-byte aligned stack */	\
	li	0, 0;						\
	stdu	0, -112(1);	/* frame with a null back chain */ \
	bcl	20, 31, 1f;					\
1:	mflr	12;						\
	addis	12, 12, (func - 1b)@ha;				\
	addi	12, 12, (func - 1b)@l;				\
	mtctr	12;						\
	bctrl;							\
	trap

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

/* long pie_mmap(addr, len, prot, flags, fd, off): same as the syscall here. */
	.section .text.pie_mmap, "ax", @progbits
	.globl	pie_mmap
	.hidden	pie_mmap
	.type	pie_mmap, @function
	.p2align 2
pie_mmap:
	b	sys_mmap
	.size	pie_mmap, . - pie_mmap

/* long pie_get_tls(uint64_t tls[2]): r13 (never touched by compiled code), 0. */
	.section .text.pie_get_tls, "ax", @progbits
	.globl	pie_get_tls
	.hidden	pie_get_tls
	.type	pie_get_tls, @function
	.p2align 2
pie_get_tls:
	std	13, 0(3)
	li	0, 0
	std	0, 8(3)
	li	3, 0
	blr
	.size	pie_get_tls, . - pie_get_tls

/*
 * long pie_clone_thread(args, size, fn): clone3 with the child in fn(args)
 * on the stack args describes.  The sys_clone3 stub returns to LR in both
 * tasks (bnslr on success), and the kernel gives the child every register
 * of the parent except r3 (0) and r1 (stack + stack_size).  So fn and args
 * wait in the non-volatile r30 and r31, LR is the return point below, and
 * the parent's own LR, r30 and r31 are kept in its frame.  The child makes
 * a frame with a null back chain on its new stack and enters fn's global
 * entry point (r12 = fn); fn does not return, but if it did the thread
 * would exit.
 */
	.section .text.pie_clone_thread, "ax", @progbits
	.globl	pie_clone_thread
	.hidden	pie_clone_thread
	.type	pie_clone_thread, @function
	.p2align 2
pie_clone_thread:
	mflr	0
	std	0, 16(1)	/* the caller's LR save slot */
	std	30, -16(1)	/* general register save area */
	std	31, -8(1)
	stdu	1, -48(1)
	mr	30, 5
	mr	31, 3
	bl	sys_clone3
	cmpdi	3, 0
	beq	1f
	addi	1, 1, 48	/* the parent: the TID or -errno */
	ld	0, 16(1)
	ld	30, -16(1)
	ld	31, -8(1)
	mtlr	0
	blr
1:	clrrdi	1, 1, 4		/* the child */
	li	0, 0
	stdu	0, -112(1)
	mr	3, 31
	mr	12, 30
	mtctr	12
	bctrl
	li	3, 0
	b	sys_exit
	.size	pie_clone_thread, . - pie_clone_thread

	.section .note.GNU-stack, "", @progbits

/*
 * void pie_sync_icache(start, len): code written with plain stores becomes
 * visible to instruction fetch: dcbst then icbi on every 32 bytes (no POWER
 * cache line is smaller; larger lines only repeat the work).
 */
	.section .text.pie_sync_icache, "ax", @progbits
	.globl	pie_sync_icache
	.hidden	pie_sync_icache
	.type	pie_sync_icache, @function
	.p2align 2
pie_sync_icache:
	add	4, 3, 4
	clrrdi	5, 3, 5
1:	dcbst	0, 5
	addi	5, 5, 32
	cmpld	5, 4
	blt	1b
	sync
	clrrdi	5, 3, 5
2:	icbi	0, 5
	addi	5, 5, 32
	cmpld	5, 4
	blt	2b
	sync
	isync
	blr
	.size	pie_sync_icache, . - pie_sync_icache

/*
 * void pie_sigreturn(sp): rt_sigreturn with the stack pointer at sp, the
 * parasite's self-cure (the kernel reads the ucontext at r1 itself: a
 * handler's trampoline pops its 128-byte dummy frame before the sc).
 * Through the stub: only the stubs hold syscall instructions.  No return.
 */
	.section .text.pie_sigreturn, "ax", @progbits
	.globl	pie_sigreturn
	.hidden	pie_sigreturn
	.type	pie_sigreturn, @function
	.p2align 2
pie_sigreturn:
	mr	1, 3
	b	sys_rt_sigreturn
	.size	pie_sigreturn, . - pie_sigreturn


/* A visit (core/pie/parasite.h): the area in r3, r1 in the visit stack. */
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
 * at g1 (sc, work on r3, blr), whose blr goes to g2 (li r0, 172; sc), which
 * rt_sigreturns with r1 = sp as pie_sigreturn does.
 */
	.section .text.pie_chain_call, "ax", @progbits
	.globl	pie_chain_call
	.hidden	pie_chain_call
	.type	pie_chain_call, @function
	.p2align 2
pie_chain_call:
	ld	9, 16(3)
	mtlr	9
	ld	9, 8(3)
	mtctr	9
	ld	1, 0(3)
	ld	0, 32(3)
	ld	4, 48(3)
	ld	5, 56(3)
	ld	6, 64(3)
	ld	7, 72(3)
	ld	8, 80(3)
	ld	3, 40(3)
	bctr
	.size	pie_chain_call, . - pie_chain_call
