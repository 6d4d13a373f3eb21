/*
 * Entry points of the PIE blobs and the calls whose sequence is
 * per-architecture (see core/pie/pie.h, and core/pie/parasite.c for
 * pie_get_tls()).  compel starts an entry with
 * %rdi = the argument area and %rsp inside the blob's stack region; the
 * result is left in %rax and the int3 stops the task for the tracer.
 * Each function has its own section so --gc-sections keeps only what a blob
 * uses.
 */
	.section .head.text.parasite, "ax", @progbits
	.globl	__export_parasite_head
	.type	__export_parasite_head, @function
__export_parasite_head:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	parasite_service
	int3
	.size	__export_parasite_head, . - __export_parasite_head

	.section .head.text.restorer, "ax", @progbits
	.globl	__export_restorer_head
	.type	__export_restorer_head, @function
__export_restorer_head:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	restorer_main
	int3
	.size	__export_restorer_head, . - __export_restorer_head

/* long pie_mmap(addr, len, prot, flags, fd, off): same as the syscall here. */
	.section .text.pie_mmap, "ax", @progbits
	.globl	pie_mmap
	.hidden	pie_mmap
	.type	pie_mmap, @function
pie_mmap:
	jmp	sys_mmap
	.size	pie_mmap, . - pie_mmap

/*
 * long pie_get_tls(uint64_t tls[2]): the fs and gs bases.  arch_prctl, not
 * rdfsbase: FSGSBASE may be off.  Through the stubs (only they may hold a
 * syscall instruction).
 */
	.section .text.pie_get_tls, "ax", @progbits
	.globl	pie_get_tls
	.hidden	pie_get_tls
	.type	pie_get_tls, @function
pie_get_tls:
	pushq	%rbx			/* also realigns the stack for the calls */
	movq	%rdi, %rbx
	movl	$0x1003, %edi		/* ARCH_GET_FS */
	movq	%rbx, %rsi
	call	sys_arch_prctl
	testq	%rax, %rax
	js	1f
	movl	$0x1004, %edi		/* ARCH_GET_GS */
	leaq	8(%rbx), %rsi
	call	sys_arch_prctl
1:	popq	%rbx
	ret
	.size	pie_get_tls, . - pie_get_tls

/* long pie_clone_thread(args, size, fn): the child's sys_clone3 returns
 * with %rsp = stack + stack_size, so its `ret' pops fn from there; %rdi
 * (args) is its argument.  fn is entered with %rsp = 8 mod 16, as after a
 * call. */
	.section .text.pie_clone_thread, "ax", @progbits
	.globl	pie_clone_thread
	.hidden	pie_clone_thread
	.type	pie_clone_thread, @function
pie_clone_thread:
	movq	0x28(%rdi), %rax
	addq	0x30(%rdi), %rax
	andq	$-16, %rax
	movq	%rdx, -16(%rax)
	subq	0x28(%rdi), %rax
	subq	$16, %rax
	movq	%rax, 0x30(%rdi)
	jmp	sys_clone3
	.size	pie_clone_thread, . - pie_clone_thread

	.section .note.GNU-stack, "", @progbits

/* void pie_sync_icache(start, len): x86 keeps instruction fetch coherent. */
	.section .text.pie_sync_icache, "ax", @progbits
	.globl	pie_sync_icache
	.hidden	pie_sync_icache
	.type	pie_sync_icache, @function
pie_sync_icache:
	ret
	.size	pie_sync_icache, . - pie_sync_icache

/*
 * void pie_sigreturn(sp): rt_sigreturn with the stack pointer at sp, the
 * parasite's self-cure (the frame is read at %rsp - 8 (the popped pretcode)).  Through the stub: only the stubs hold
 * syscall instructions.  No return.
 */
	.section .text.pie_sigreturn, "ax", @progbits
	.globl	pie_sigreturn
	.hidden	pie_sigreturn
	.type	pie_sigreturn, @function
pie_sigreturn:
	movq	%rdi, %rsp
	jmp	sys_rt_sigreturn
	.size	pie_sigreturn, . - pie_sigreturn


/* A visit (core/pie/parasite.h): the area in %rdi, %rsp in the visit stack. */
	.section .head.text.parasite_visit, "ax", @progbits
	.globl	__export_parasite_visit
	.type	__export_parasite_visit, @function
__export_parasite_visit:
	andq	$-16, %rsp
	xorl	%ebp, %ebp
	call	parasite_visit
	int3
	.size	__export_parasite_visit, . - __export_parasite_visit

/*
 * void pie_chain_call(const struct pie_chain *c): the exit chain
 * (core/pie/parasite.c): syscall c->nr with c->a[] from the task's own code
 * at g1 (syscall, register-only work, pops c->g1_arg stack words, ret),
 * whose ret takes g2 (the task's restorer: mov $15, %rax; syscall) from the
 * frame's pretcode, and rt_sigreturn reads the frame at %rsp - 8 as it
 * always does.  The words g1 pops lie below the frame: only read.
 */
	.section .text.pie_chain_call, "ax", @progbits
	.globl	pie_chain_call
	.hidden	pie_chain_call
	.type	pie_chain_call, @function
pie_chain_call:
	movq	16(%rdi), %rax		/* g2 */
	movq	0(%rdi), %rcx		/* sp */
	movq	%rax, -8(%rcx)		/* the pretcode: where g1's ret goes */
	leaq	-8(%rcx), %rsp
	movq	24(%rdi), %rax
	shlq	$3, %rax
	subq	%rax, %rsp
	movq	8(%rdi), %r11		/* g1 (the syscall clobbers %r11 anyway) */
	movq	48(%rdi), %rsi
	movq	56(%rdi), %rdx
	movq	64(%rdi), %r10
	movq	72(%rdi), %r8
	movq	80(%rdi), %r9
	movq	32(%rdi), %rax		/* nr */
	movq	40(%rdi), %rdi
	jmp	*%r11
	.size	pie_chain_call, . - pie_chain_call
