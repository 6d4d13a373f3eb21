# The PIE blobs: the parasite and the restorer (issue 3), included by the
# Makefile.  Builds $(GEN)/parasite-blob.h and $(GEN)/restorer-blob.h:
#
#   core/pie/*.c + arch/$(ARCH)/pie-head.S + $(GEN)/syscalls.S
#     -> $(BUILD)/pie/<blob>.elf        ld -pie with arch/$(ARCH)/blob.lds
#     -> gen/gen-blob.py                bytes, entries, relocations (refuses
#                                       any relocation it cannot apply)
#     -> gen/verify-blob.py             capstone checks; a failure fails the build
#     -> $(GEN)/<blob>-blob.h
#
# core/pie/parasite*.c go into the parasite, core/pie/restorer*.c into the
# restorer, every other core/pie/*.c into both.
#
# Uses from the Makefile: ARCH, BUILD, GEN, CC, LD, PYTHON, WARN and the rule
# making $(GEN)/syscall-nr.h, $(GEN)/syscalls.S (and $(GEN)/syscalls.h).

PIE_BUILD := $(BUILD)/pie
# Where syscall-nr.h, syscalls.h and syscalls.S come from (overridable only
# to try the blobs against hand-written stubs).
PIE_SYSCALLS ?= $(GEN)

PIE_CFLAGS_x86_64 := -mgeneral-regs-only
PIE_CFLAGS_aarch64 := -mgeneral-regs-only -mno-outline-atomics
PIE_CFLAGS_ppc64le := -mcmodel=medium -mtraceback=no -msoft-float -mno-altivec -mno-vsx
PIE_CFLAGS_s390x := -msoft-float

# The blobs take none of the user's CFLAGS/CPPFLAGS/LDFLAGS: no stack
# protector and no _FORTIFY_SOURCE (both call into libc, which is not there),
# whatever the compiler's defaults or dpkg-buildflags say.
# No FP/vector registers anywhere in the blobs: the task's own values stay
# untouched while the parasite runs.  -fno-tree-loop-distribute-patterns keeps
# memset()/memcpy() loops from becoming calls to themselves.
PIE_CFLAGS := -std=gnu11 $(WARN) -O2 -fpie -nostdlib -ffreestanding -U_FORTIFY_SOURCE \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-builtin -fvisibility=hidden -fno-common -ffunction-sections \
	-fdata-sections -fno-tree-loop-distribute-patterns -Werror=stack-usage=1024 \
	$(PIE_CFLAGS_$(ARCH)) -Icore/pie -I$(PIE_SYSCALLS)
PIE_ASFLAGS := $(filter-out -std=gnu11 -Werror=stack-usage=1024,$(PIE_CFLAGS))
# The frames in <obj>.su: verify-blob.py adds them up along the call graph and
# checks the worst case against PIE_STACK_<blob>.
PIE_CFLAGS += -fstack-usage

# Text relocations are allowed here on purpose (-z notext): whether a
# relocation inside code is acceptable is decided by gen/verify-blob.py, which
# names the instruction; the relocations are applied to criu's copy before it
# reaches the task, so the code never needs to be writable there.
PIE_LDFLAGS := -pie --no-dynamic-linker -z notext -z norelro -z noexecstack \
	--gc-sections --orphan-handling=error --build-id=none --hash-style=gnu \
	--no-warn-rwx-segments -nostdlib -T arch/$(ARCH)/blob.lds

# The stacks compel gives the blobs (the header's stack_size).
PIE_STACK_parasite := 16384
PIE_STACK_restorer := 32768
PIE_EXPORT_parasite := parasite_service
PIE_EXPORT_restorer := restorer_main

PIE_SRCS := $(sort $(wildcard core/pie/*.c))
PIE_COMMON_SRCS := $(filter-out core/pie/parasite% core/pie/restorer%,$(PIE_SRCS))
PIE_HDRS := $(wildcard core/pie/*.h) $(PIE_SYSCALLS)/syscall-nr.h
PIE_BASE_OBJS := $(PIE_BUILD)/pie-head.o $(PIE_BUILD)/syscalls.o \
	$(patsubst core/pie/%.c,$(PIE_BUILD)/%.o,$(PIE_COMMON_SRCS))
PIE_OBJS_parasite := $(PIE_BASE_OBJS) $(patsubst core/pie/%.c,$(PIE_BUILD)/%.o,\
	$(filter core/pie/parasite%,$(PIE_SRCS)))
PIE_OBJS_restorer := $(PIE_BASE_OBJS) $(patsubst core/pie/%.c,$(PIE_BUILD)/%.o,\
	$(filter core/pie/restorer%,$(PIE_SRCS)))
PIE_SU_parasite := $(patsubst core/pie/%.c,$(PIE_BUILD)/%.su,\
	$(PIE_COMMON_SRCS) $(filter core/pie/parasite%,$(PIE_SRCS)))
PIE_SU_restorer := $(patsubst core/pie/%.c,$(PIE_BUILD)/%.su,\
	$(PIE_COMMON_SRCS) $(filter core/pie/restorer%,$(PIE_SRCS)))

BLOB_HDRS := $(GEN)/parasite-blob.h $(GEN)/restorer-blob.h

.PHONY: blobs blob-test blob-fixtures
blobs: $(BLOB_HDRS)

$(PIE_BUILD)/%.o: core/pie/%.c $(PIE_HDRS) $(PIE_SYSCALLS)/syscalls.S pie.mk
	$(Q)mkdir -p $(dir $@)
	$(call say,PIECC,$@)$(CC) $(PIE_CFLAGS) -c -o $@ $<

$(PIE_BUILD)/pie-head.o: arch/$(ARCH)/pie-head.S pie.mk
	$(Q)mkdir -p $(dir $@)
	$(call say,PIEAS,$@)$(CC) $(PIE_ASFLAGS) -c -o $@ $<

$(PIE_BUILD)/syscalls.o: $(PIE_SYSCALLS)/syscalls.S pie.mk
	$(Q)mkdir -p $(dir $@)
	$(call say,PIEAS,$@)$(CC) $(PIE_ASFLAGS) -c -o $@ $<

$(PIE_BUILD)/parasite.elf: $(PIE_OBJS_parasite) arch/$(ARCH)/blob.lds
	$(call say,PIELD,$@)$(LD) $(PIE_LDFLAGS) -e __export_parasite_head -u __export_parasite_visit -o $@ $(PIE_OBJS_parasite)

$(PIE_BUILD)/restorer.elf: $(PIE_OBJS_restorer) arch/$(ARCH)/blob.lds
	$(call say,PIELD,$@)$(LD) $(PIE_LDFLAGS) -e __export_restorer_head -o $@ $(PIE_OBJS_restorer)

# The header appears only once both the generator and the verifier agree.
$(GEN)/%-blob.h: $(PIE_BUILD)/%.elf gen/gen-blob.py gen/verify-blob.py
	$(Q)mkdir -p $(dir $@)
	$(call say,BLOB,$@)$(PYTHON) gen/gen-blob.py --arch $(ARCH) --name $* --stack-size $(PIE_STACK_$*) \
		$(addprefix --export ,$(PIE_EXPORT_$*)) -o $@.tmp $<
	$(Q)$(PYTHON) gen/verify-blob.py --arch $(ARCH) --name $* \
		--stubs $(PIE_SYSCALLS)/syscalls.S --stack-size $(PIE_STACK_$*) \
		$(addprefix --stack-usage ,$(PIE_SU_$*)) $< || { rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

# Deliberately broken blobs for gen/test_blob.py: built like the real ones,
# then expected to be refused by gen-blob.py or verify-blob.py.
PIE_FIXTURES := tests/fixtures/blobs
$(PIE_BUILD)/fixtures/%.o: $(PIE_FIXTURES)/$(ARCH)/%.S
	$(Q)mkdir -p $(dir $@)
	$(call say,PIEAS,$@)$(CC) $(PIE_ASFLAGS) -c -o $@ $<

$(PIE_BUILD)/fixtures/%.elf: $(PIE_BUILD)/fixtures/%.o $(PIE_BUILD)/syscalls.o arch/$(ARCH)/blob.lds
	$(call say,PIELD,$@)$(LD) $(PIE_LDFLAGS) -e __export_fixture_head -o $@ $< $(PIE_BUILD)/syscalls.o

blob-fixtures: $(patsubst $(PIE_FIXTURES)/$(ARCH)/%.S,$(PIE_BUILD)/fixtures/%.elf,\
	$(wildcard $(PIE_FIXTURES)/$(ARCH)/*.S))

# Every architecture: good blobs accepted, broken fixtures refused.
blob-test:
	@$(PYTHON) gen/test_blob.py
