/*
 * Entry points of the PIE blobs and the calls whose sequence is
 * per-architecture (see core/pie/pie.h, and core/pie/parasite.c for
 * pie_get_tls()).  compel starts an entry with
 * x0 = the argument area and sp inside the blob's stack region; the result
 * is left in x0 and the brk stops the task for the tracer.  Each function
 * has its own section so --gc-sections keeps only what a blob uses.
 */
	.section .head.text.parasite, "ax", %progbits
	.globl	__export_parasite_head
	.type	__export_parasite_head, %function
	.p2align 2
__export_parasite_head:
	mov	x9, sp
	and	x9, x9, #~15
	mov	sp, x9
	mov	x29, #0
	mov	x30, #0
	bl	parasite_service
	brk	#0
	.size	__export_parasite_head, . - __export_parasite_head

	.section .head.text.restorer, "ax", %progbits
	.globl	__export_restorer_head
	.type	__export_restorer_head, %function
	.p2align 2
__export_restorer_head:
	mov	x9, sp
	and	x9, x9, #~15
	mov	sp, x9
	mov	x29, #0
	mov	x30, #0
	bl	restorer_main
	brk	#0
	.size	__export_restorer_head, . - __export_restorer_head

/* long pie_mmap(addr, len, prot, flags, fd, off): same as the syscall here. */
	.section .text.pie_mmap, "ax", %progbits
	.globl	pie_mmap
	.hidden	pie_mmap
	.type	pie_mmap, %function
	.p2align 2
pie_mmap:
	b	sys_mmap
	.size	pie_mmap, . - pie_mmap

/* long pie_get_tls(uint64_t tls[2]): tpidr_el0, 0. */
	.section .text.pie_get_tls, "ax", %progbits
	.globl	pie_get_tls
	.hidden	pie_get_tls
	.type	pie_get_tls, %function
	.p2align 2
pie_get_tls:
	mrs	x1, tpidr_el0
	stp	x1, xzr, [x0]
	mov	x0, #0
	ret
	.size	pie_get_tls, . - pie_get_tls

/*
 * long pie_clone_thread(args, size, fn): both sides come back from the
 * sys_clone3 stub's `ret' to the instruction after the bl.  The parent
 * (x0 != 0) finds its frame on its own stack; the child (x0 = 0) runs on
 * the new stack (sp = stack + stack_size, aligned here) and finds args and
 * fn in x19 and x20, which clone copied.  fn does not return; should it,
 * the brk ends the task (restore then fails) rather than run on garbage.
 */
	.section .text.pie_clone_thread, "ax", %progbits
	.globl	pie_clone_thread
	.hidden	pie_clone_thread
	.type	pie_clone_thread, %function
	.p2align 2
pie_clone_thread:
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	mov	x19, x0
	mov	x20, x2
	bl	sys_clone3
	cbz	x0, 1f
	ldp	x19, x20, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
1:	mov	x9, sp
	and	x9, x9, #~15
	mov	sp, x9
	mov	x29, #0
	mov	x30, #0
	mov	x0, x19
	blr	x20
	brk	#0
	.size	pie_clone_thread, . - pie_clone_thread

	.section .note.GNU-stack, "", %progbits

/*
 * void pie_sync_icache(start, len): code written with plain stores becomes
 * visible to instruction fetch: clean the data cache to the point of
 * unification, then invalidate the instruction cache, line by line (line
 * sizes from CTR_EL0).
 */
	.section .text.pie_sync_icache, "ax", %progbits
	.globl	pie_sync_icache
	.hidden	pie_sync_icache
	.type	pie_sync_icache, %function
	.p2align 2
pie_sync_icache:
	add	x1, x0, x1
	mrs	x3, ctr_el0
	mov	x5, #4
	ubfx	x4, x3, #16, #4
	lsl	x4, x5, x4
	sub	x6, x4, #1
	bic	x2, x0, x6
1:	dc	cvau, x2
	add	x2, x2, x4
	cmp	x2, x1
	b.lo	1b
	dsb	ish
	and	x4, x3, #0xf
	lsl	x4, x5, x4
	sub	x6, x4, #1
	bic	x2, x0, x6
2:	ic	ivau, x2
	add	x2, x2, x4
	cmp	x2, x1
	b.lo	2b
	dsb	ish
	isb
	ret
	.size	pie_sync_icache, . - pie_sync_icache

/*
 * void pie_sigreturn(sp): rt_sigreturn with the stack pointer at sp, the
 * parasite's self-cure (the frame is read at sp, which must be 16-byte
 * aligned).  Through the stub: only the stubs hold syscall instructions.
 * No return.
 */
	.section .text.pie_sigreturn, "ax", %progbits
	.globl	pie_sigreturn
	.hidden	pie_sigreturn
	.type	pie_sigreturn, %function
	.p2align 2
pie_sigreturn:
	mov	sp, x0
	b	sys_rt_sigreturn
	.size	pie_sigreturn, . - pie_sigreturn


/* A visit (core/pie/parasite.h): the area in x0, sp in the visit stack. */
	.section .head.text.parasite_visit, "ax", %progbits
	.globl	__export_parasite_visit
	.type	__export_parasite_visit, %function
	.p2align 2
__export_parasite_visit:
	mov	x9, sp
	and	x9, x9, #~15
	mov	sp, x9
	mov	x29, #0
	mov	x30, #0
	bl	parasite_visit
	brk	#0
	.size	__export_parasite_visit, . - __export_parasite_visit

/*
 * void pie_chain_call(const struct pie_chain *c): the exit chain
 * (core/pie/parasite.c): syscall c->nr with c->a[] from the task's own code
 * at g1 (svc #0, [autiasp,] ret), whose ret goes to g2 (mov x8, #139;
 * svc #0), which rt_sigreturns with the frame at sp.  g1 is entered by
 * ret, not br: a BTI-guarded vDSO takes that without a landing pad.  With
 * autiasp in g1 (g1_arg 1), x30 is signed here with the same sp (a no-op
 * where pointer authentication is off, as autiasp is then).
 */
	.section .text.pie_chain_call, "ax", %progbits
	.globl	pie_chain_call
	.hidden	pie_chain_call
	.type	pie_chain_call, %function
	.p2align 2
pie_chain_call:
	ldr	x9, [x0, #0]
	mov	sp, x9
	ldr	x30, [x0, #16]
	ldr	x10, [x0, #24]
	cbz	x10, 1f
	hint	#25			/* paciasp */
1:	ldr	x17, [x0, #8]
	ldr	x8, [x0, #32]
	ldp	x2, x3, [x0, #56]
	ldp	x4, x5, [x0, #72]
	ldr	x1, [x0, #48]
	ldr	x0, [x0, #40]
	ret	x17
	.size	pie_chain_call, . - pie_chain_call
