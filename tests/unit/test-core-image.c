/*
 * The registers of the core image (core/include/arch-image.h) through the
 * build's own arch/<arch>/core-image.c, with no architecture named here:
 * every architecture is tested by the same code.
 *
 * The round trips need registers read from a real thread (they give the
 * FPU area's layout) and so real ptrace: under qemu-user they say why they
 * skip; in the test VMs and on the host they run.  The refusals run
 * everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch-image.h"
#include "compel-arch.h"
#include "log.h"
#include "unit.h"

#include "proto/core.pb-c.h"

/* Patterns a register can hold on every architecture (aligned, user range). */
#define PAT_IP 0x0000123456789ab0UL
#define PAT_SP 0x00007654321fedc0UL
#define PAT_CLEAR_TID 0x00000deadbeef000ULL

/* The refusals below log an error each on stderr (LOG_NAME NULL): expected. */
#define LOG_NAME NULL
#include "tracee.h"

static void setup_log(void)
{
	log_to_file();
}

static void sleep_forever(void *arg)
{
	for (;;)
		pause();
}

/* A child stopped under PTRACE_SEIZE + PTRACE_INTERRUPT, or -1 (skip_why says why). */
static pid_t stopped_child(void)
{
	pid_t child = spawn(sleep_forever, NULL);
	int status;

	if (child < 0) {
		snprintf(skip_why, sizeof(skip_why), "fork: %s", strerror(errno));
		return -1;
	}
	if (ptrace(PTRACE_SEIZE, child, NULL, NULL)) {
		snprintf(skip_why, sizeof(skip_why),
			 "ptrace(PTRACE_SEIZE) fails: %s (qemu-user has no ptrace)", strerror(errno));
		reap(child);
		return -1;
	}
	if (ptrace(PTRACE_INTERRUPT, child, NULL, NULL)) {
		snprintf(skip_why, sizeof(skip_why), "PTRACE_INTERRUPT: %s", strerror(errno));
		reap(child);
		return -1;
	}
	for (int i = 0; i < 5000; i++) {
		pid_t r = waitpid(child, &status, __WALL | WNOHANG);

		if (r == child && WIFSTOPPED(status))
			return child;
		if (r < 0)
			break;
		usleep(1000);
	}
	snprintf(skip_why, sizeof(skip_why), "the child did not stop");
	reap(child);
	return -1;
}

/* The core packed as an image entry would be; *len its size. */
static uint8_t *pack(const CoreEntry *core, size_t *len)
{
	uint8_t *buf;

	*len = core_entry__get_packed_size(core);
	buf = malloc(*len ? *len : 1);
	if (buf)
		core_entry__pack(core, buf);
	return buf;
}

static bool same_packed(const CoreEntry *a, const CoreEntry *b)
{
	size_t la, lb;
	uint8_t *pa = pack(a, &la), *pb = pack(b, &lb);
	bool same = pa && pb && la == lb && !memcmp(pa, pb, la);

	free(pa);
	free(pb);
	return same;
}

/*
 * The register files of an image are its repeated integer fields (x86
 * st/xmm/ymm space, arm64 regs and vregs, ...): whatever the architecture,
 * each must come back word for word.  The walks below find them through
 * the protobuf-c descriptors, so that no field is named here.
 */
static size_t int_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	default:
		return 0;
	}
}

struct files {
	uint8_t *buf; /* per array: its count (size_t), then its elements */
	size_t len, cap;
	size_t arrays, words;
	uint64_t seed; /* non-zero: fill the arrays with a pattern instead */
};

static void files_add(struct files *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = (f->len + n) * 2 + 256;
		uint8_t *b = realloc(f->buf, cap);

		if (!b)
			abort();
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

static void walk_files(ProtobufCMessage *m, struct files *f)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *field = (char *)m + fd->offset;
		size_t n = fd->label == PROTOBUF_C_LABEL_REPEATED
				   ? *(size_t *)((char *)m + fd->quantifier_offset)
				   : 1;

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage **sub = fd->label == PROTOBUF_C_LABEL_REPEATED
							 ? *(ProtobufCMessage ***)field
							 : (ProtobufCMessage **)field;

			for (size_t k = 0; k < n; k++)
				if (sub[k])
					walk_files(sub[k], f);
			continue;
		}
		if (fd->label != PROTOBUF_C_LABEL_REPEATED || !int_size(fd->type))
			continue;
		f->arrays++;
		f->words += n;
		files_add(f, &n, sizeof(n));
		for (size_t k = 0; k < n; k++) {
			uint8_t *elem = *(uint8_t **)field + k * int_size(fd->type);

			if (f->seed) {
				uint64_t v = (f->seed += 0x9e3779b97f4a7c15ULL);

				memcpy(elem, &v, int_size(fd->type));
			}
			files_add(f, elem, int_size(fd->type));
		}
	}
}

/* The single integer fields present in a message tree, by their path. */
struct leaf {
	char path[160];
	void *p;
	size_t size;
};

static int collect_leaves(ProtobufCMessage *m, const char *prefix, struct leaf *out, int n,
			  int max)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *field = (char *)m + fd->offset;
		char path[160];

		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		snprintf(path, sizeof(path), "%s.%s", prefix, fd->name);
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (*(ProtobufCMessage **)field)
				n = collect_leaves(*(ProtobufCMessage **)field, path, out, n, max);
			continue;
		}
		if (!int_size(fd->type) || n == max)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
		    !*(protobuf_c_boolean *)((char *)m + fd->quantifier_offset))
			continue;
		snprintf(out[n].path, sizeof(out[n].path), "%s", path);
		out[n].p = field;
		out[n].size = int_size(fd->type);
		n++;
	}
	return n;
}

static uint64_t leaf_get(const struct leaf *l)
{
	return l->size == 4 ? *(uint32_t *)l->p : *(uint64_t *)l->p;
}

static void leaf_set(const struct leaf *l, uint64_t v)
{
	if (l->size == 4)
		*(uint32_t *)l->p = (uint32_t)v;
	else
		*(uint64_t *)l->p = v;
}

/* Registers of the stopped child, with a recognisable ip and sp. */
static struct compel_regs *child_regs(pid_t child, bool patterns)
{
	struct compel_regs *r = compel_arch_regs_new();

	if (!r)
		return NULL;
	if (compel_arch_get_regs(child, r)) {
		compel_arch_regs_free(r);
		return NULL;
	}
	if (patterns)
		compel_arch_prep_call(r, PAT_IP, PAT_SP, (const unsigned long[]){ 1, 2, 3 }, 3);
	return r;
}

/*
 * regs -> core -> image bytes -> core -> regs -> core: the image parses
 * (every required field set); ip, sp, clear_tid and every register file
 * (filled with a pattern on the way) survive; a second pass changes
 * nothing (the first may normalise flags the kernel or the CPU decides).
 */
TEST(round_trip_through_the_image)
{
	CoreEntry a = CORE_ENTRY__INIT, b = CORE_ENTRY__INIT, c = CORE_ENTRY__INIT;
	CoreEntry *parsed = NULL;
	struct compel_regs *r1 = NULL, *r2 = NULL, *r3 = NULL;
	struct files want = { .seed = 0x5eed }, got = { 0 };
	uint8_t *bytes = NULL;
	size_t len = 0;
	pid_t child;

	NEED_PTRACE();
	child = stopped_child();
	CHECK(child > 0);
	if (child <= 0)
		return;
	r1 = child_regs(child, true);
	r2 = child_regs(child, false);
	r3 = child_regs(child, false);
	CHECK(r1 && r2 && r3);
	if (!r1 || !r2 || !r3)
		goto out;

	CHECK_EQ(arch_regs_to_core(r1, &a), 0);
	CHECK_EQ(a.mtype, arch_core_mtype());
	arch_core_set_clear_tid(&a, PAT_CLEAR_TID);
	CHECK_EQ(arch_core_clear_tid(&a), PAT_CLEAR_TID);

	bytes = pack(&a, &len);
	CHECK(bytes != NULL);
	if (bytes)
		parsed = core_entry__unpack(NULL, len, bytes);
	CHECK(parsed != NULL); /* NULL: a required field is missing */
	if (!parsed)
		goto out;
	CHECK_EQ(arch_core_clear_tid(parsed), PAT_CLEAR_TID);
	/* before the patterns: sp is one of the general registers on s390x
	 * and ppc64, which the patterns overwrite */
	CHECK_EQ(arch_core_to_regs(parsed, r2), 0);
	CHECK_EQ(compel_arch_get_ip(r2), PAT_IP);
	CHECK_EQ(compel_arch_get_sp(r2), PAT_SP);
	walk_files(&parsed->base, &want);
	CHECK(want.arrays > 0 && want.words > 0);

	CHECK_EQ(arch_core_to_regs(parsed, r2), 0);
	CHECK_EQ(arch_regs_to_core(r2, &b), 0);
	CHECK_EQ(arch_core_clear_tid(&b), 0); /* not a register: set apart */
	arch_core_set_clear_tid(&b, PAT_CLEAR_TID);
	walk_files(&b.base, &got);
	CHECK_EQ(got.arrays, want.arrays);
	CHECK_EQ(got.words, want.words);
	CHECK(got.len == want.len && !memcmp(got.buf, want.buf, want.len));

	CHECK_EQ(arch_core_to_regs(&b, r3), 0);
	CHECK_EQ(arch_regs_to_core(r3, &c), 0);
	arch_core_set_clear_tid(&c, PAT_CLEAR_TID);
	CHECK(same_packed(&b, &c));
out:
	if (parsed)
		core_entry__free_unpacked(parsed, NULL);
	free(bytes);
	free(want.buf);
	free(got.buf);
	arch_core_free_regs(&a);
	arch_core_free_regs(&b);
	arch_core_free_regs(&c);
	compel_arch_regs_free(r1);
	compel_arch_regs_free(r2);
	compel_arch_regs_free(r3);
	reap(child);
}

/*
 * The registers of an image go into a real thread and come back: the
 * kernel takes what arch_core_to_regs() made (ip, sp, and the rest as read).
 */
TEST(round_trip_through_a_thread)
{
	CoreEntry a = CORE_ENTRY__INIT, b = CORE_ENTRY__INIT;
	struct compel_regs *r1 = NULL, *r2 = NULL, *r3 = NULL;
	pid_t child;

	NEED_PTRACE();
	child = stopped_child();
	CHECK(child > 0);
	if (child <= 0)
		return;
	r1 = child_regs(child, true);
	r2 = child_regs(child, false);
	r3 = compel_arch_regs_new();
	CHECK(r1 && r2 && r3);
	if (!r1 || !r2 || !r3)
		goto out;
	CHECK_EQ(arch_regs_to_core(r1, &a), 0);
	CHECK_EQ(arch_core_to_regs(&a, r2), 0);
	CHECK_EQ(compel_arch_set_regs(child, r2), 0);
	CHECK_EQ(compel_arch_get_regs(child, r3), 0);
	CHECK_EQ(compel_arch_get_ip(r3), PAT_IP);
	CHECK_EQ(compel_arch_get_sp(r3), PAT_SP);
	CHECK_EQ(arch_regs_to_core(r3, &b), 0);
out:
	arch_core_free_regs(&a);
	arch_core_free_regs(&b);
	compel_arch_regs_free(r1);
	compel_arch_regs_free(r2);
	compel_arch_regs_free(r3);
	reap(child);
}

/*
 * Every single integer field of the registers (flags, keys, control
 * registers: what the register-file walk above does not see) is carried
 * by core -> regs -> core: a changed bit comes back.  Some bits may be
 * refused or normalised (a mode bit, a reserved bit), so a few are tried
 * per field; one that comes back is enough.  clear_tid is not a register.
 */
TEST(every_field_is_carried)
{
	CoreEntry a = CORE_ENTRY__INIT;
	struct compel_regs *r1 = NULL, *r2 = NULL;
	static struct leaf la[512], lx[512];
	static const int bits[] = { 0, 1, 2, 3, 5, 8, 13, 21, 30 };
	int na, checked = 0;
	pid_t child;

	NEED_PTRACE();
	child = stopped_child();
	CHECK(child > 0);
	if (child <= 0)
		return;
	r1 = child_regs(child, true);
	r2 = compel_arch_regs_new();
	CHECK(r1 && r2);
	if (!r1 || !r2)
		goto out;
	CHECK_EQ(arch_regs_to_core(r1, &a), 0);
	arch_core_set_clear_tid(&a, PAT_CLEAR_TID);
	na = collect_leaves(&a.base, "core", la, 0, 512);
	for (int i = 0; i < na; i++) {
		uint64_t orig = leaf_get(&la[i]);
		bool carried = false;

		if (orig == PAT_CLEAR_TID)
			continue;
		uint64_t last_want = 0, last_got = 0;
		int step = 0;

		for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]) && !carried; b++) {
			CoreEntry x = CORE_ENTRY__INIT;
			uint64_t want = orig ^ (1ULL << bits[b]);
			int nx;

			leaf_set(&la[i], want);
			last_want = want;
			step = 1;
			if (!compel_arch_get_regs(child, r2) && (step = 2, !arch_core_to_regs(&a, r2)) &&
			    (step = 3, !arch_regs_to_core(r2, &x))) {
				step = 4;
				nx = collect_leaves(&x.base, "core", lx, 0, 512);
				for (int k = 0; k < nx; k++)
					if (!strcmp(lx[k].path, la[i].path)) {
						step = 5;
						last_got = leaf_get(&lx[k]);
						carried = last_got == want;
					}
			}
			arch_core_free_regs(&x);
		}
		leaf_set(&la[i], orig);
		if (!carried)
			printf("  %s: no changed bit came back (was %#llx, last sent %#llx, got "
			       "%#llx, step %d)\n",
			       la[i].path, (unsigned long long)orig, (unsigned long long)last_want,
			       (unsigned long long)last_got, step);
		CHECK(carried);
		checked++;
	}
	CHECK(checked > 2); /* at least ip, sp and something else */
	if (getenv("VERBOSE"))
		printf("  %d single fields carried\n", checked);
out:
	arch_core_free_regs(&a);
	compel_arch_regs_free(r1);
	compel_arch_regs_free(r2);
	reap(child);
}

/* Freeing leaves a core without registers, and can be repeated. */
TEST(free_clears)
{
	CoreEntry a = CORE_ENTRY__INIT, bare = CORE_ENTRY__INIT;
	struct compel_regs *r;
	pid_t child;

	NEED_PTRACE();
	child = stopped_child();
	CHECK(child > 0);
	if (child <= 0)
		return;
	r = child_regs(child, false);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ(arch_regs_to_core(r, &a), 0);
		arch_core_free_regs(&a);
		arch_core_free_regs(&a);
		bare.mtype = a.mtype;
		CHECK(same_packed(&a, &bare));
		CHECK_EQ(arch_core_clear_tid(&a), 0);
	}
	compel_arch_regs_free(r);
	reap(child);
}

/* An image of another machine, or without registers, is refused. */
TEST(refuses_other_images)
{
	CoreEntry other = CORE_ENTRY__INIT, empty = CORE_ENTRY__INIT;
	struct compel_regs *r = compel_arch_regs_new();

	setup_log();
	CHECK(r != NULL);
	if (!r)
		return;
	/* some machine type that is not ours */
	other.mtype = arch_core_mtype() == CORE_ENTRY__MARCH__X86_64 ? CORE_ENTRY__MARCH__S390
								     : CORE_ENTRY__MARCH__X86_64;
	CHECK_EQ(arch_core_to_regs(&other, r), -EINVAL);
	empty.mtype = arch_core_mtype();
	CHECK_EQ(arch_core_to_regs(&empty, r), -EINVAL);
	CHECK_EQ(arch_core_clear_tid(&empty), 0);
	arch_core_set_clear_tid(&empty, PAT_CLEAR_TID); /* no thread_info: nothing to set */
	CHECK_EQ(arch_core_clear_tid(&empty), 0);
	compel_arch_regs_free(r);
}

/* ---- the vDSO jumps ---------------------------------------------------------- */

static volatile int jump_calls;

/* What the jumps go to: it touches a global (on ppc64 through its TOC,
 * which it derives from the entry address the jump must pass in r12). */
__attribute__((noinline)) static long jump_target(long a, long b)
{
	jump_calls++;
	return a * 3 + b;
}

/*
 * Writes arch_vdso_jump's code at a page mapped at one of hints (offsets
 * from jump_target), runs it as a function and checks that it arrived.
 * Returns false when no hint could be mapped.
 */
static bool run_jump(const char *what, const long long *hints, int nhints)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t to = (uint64_t)(uintptr_t)&jump_target;
	uint8_t code[64];
	void *page = MAP_FAILED;

	for (int i = 0; i < nhints && page == MAP_FAILED; i++) {
		uint64_t at = (to + (uint64_t)hints[i]) & ~(uint64_t)(psz - 1);

		page = mmap((void *)(uintptr_t)at, (size_t)psz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (page != MAP_FAILED && page != (void *)(uintptr_t)at) {
			munmap(page, (size_t)psz); /* an old kernel took it as a hint */
			page = MAP_FAILED;
		}
	}
	if (page == MAP_FAILED) {
		printf("  (no page could be mapped for the %s jump)\n", what);
		return false;
	}
	uint8_t *from = (uint8_t *)page + 0x100;
	int len = arch_vdso_jump("__kernel_clock_gettime", code, sizeof(code),
				 (uint64_t)(uintptr_t)from, to);

	CHECK(len > 0 && len <= 32); /* struct restorer_patch holds 32 bytes */
	if (len > 0 && len <= 32) {
		long (*fn)(long, long) = (long (*)(long, long))(void *)from;
		int before = jump_calls;

		memcpy(from, code, (size_t)len);
		__builtin___clear_cache((char *)from, (char *)from + len);
		CHECK(mprotect(page, (size_t)psz, PROT_READ | PROT_EXEC) == 0);
		CHECK_EQ(fn(5, 7), 22);
		CHECK_EQ(jump_calls, before + 1);
	}
	munmap(page, (size_t)psz);
	return true;
}

/* A jump from the dumped vDSO reaches its target, near or far away. */
TEST(vdso_jump_runs)
{
	static const long long near[] = { 8LL << 20, 12LL << 20, -(8LL << 20), 20LL << 20 };
	static const long long far[] = { 16LL << 30, 40LL << 30, -(16LL << 30), 200LL << 30 };
	uint8_t small[2];

	setup_log();
	CHECK(run_jump("near", near, 4));
	CHECK(run_jump("far", far, 4));
	/* too little room is refused, never written past */
	CHECK(arch_vdso_jump("__kernel_clock_gettime", small, sizeof(small), 0x10000,
			     (uint64_t)(uintptr_t)&jump_target) < 0);
}

UNIT_MAIN()
