# The one entry point of the project.  See README.md and docs/.
#
#   make                  build criu for this machine into build/<arch>/, link ./criu
#   make ARCH=aarch64     cross-build (also ppc64le, s390x); builds coexist
#   make test             unit, e2e and cross tests, then build-test and deb
#   make cross-test       the other architectures: build, unit tests under qemu-user
#   make fuzz             run the image reader fuzzer for FUZZ_SECONDS
#   make fuzz-restore     restore RESTORE_MUTATE_CASES dumps with one image value changed
#   make fuzz-kill        kill -9 criu at N (FUZZ_KILL_CASES, 200) random moments of dumps and of restores
#   make install          PREFIX=/usr/local DESTDIR= (also SBINDIR LIBDIR INCLUDEDIR MANDIR)
#   make uninstall        remove what make install put there
#   make deps             install the Debian packages the build and tests need
#   make build-test       packaging conventions: deps check, reproducible build, install
#   make deb              Debian packages of the four architectures into build/deb/
#
# Only deps, test, demo, fuzz and fuzz-restore install packages; every other
# target only checks, and stops naming what is missing.  CC, CFLAGS, CPPFLAGS
# and LDFLAGS from the environment or the command line are appended to the
# project's own flags (the PIE blobs keep theirs); V=1 prints every command.

HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
ALL_ARCHS := x86_64 aarch64 ppc64le s390x
CROSS_ARCHS := $(filter-out $(HOST_ARCH),$(ALL_ARCHS))

ifeq ($(filter $(ARCH),$(ALL_ARCHS)),)
$(error unknown ARCH '$(ARCH)': choose one of $(ALL_ARCHS))
endif

triplet_x86_64  := x86_64-linux-gnu
triplet_aarch64 := aarch64-linux-gnu
triplet_ppc64le := powerpc64le-linux-gnu
triplet_s390x   := s390x-linux-gnu
debarch_x86_64  := amd64
debarch_aarch64 := arm64
debarch_ppc64le := ppc64el
debarch_s390x   := s390x
qemu_x86_64     := qemu-x86_64-static
qemu_aarch64    := qemu-aarch64-static
qemu_ppc64le    := qemu-ppc64le-static
qemu_s390x      := qemu-s390x-static

TRIPLET := $(triplet_$(ARCH))
ifeq ($(ARCH),$(HOST_ARCH))
CROSS_COMPILE ?=
STATIC ?=
RUNNER ?=
else
CROSS_COMPILE ?= $(TRIPLET)-
# Cross builds are static: they run under qemu-user and inside test VMs.
STATIC ?= -static
RUNNER ?= $(qemu_$(ARCH))
endif

# The user's CC is honoured for this machine's architecture; a cross ARCH
# takes CROSS_COMPILE (our own cross sub-makes would otherwise inherit it).
ifeq ($(ARCH),$(HOST_ARCH))
ifeq ($(origin CC),default)
CC := gcc
endif
else
override CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin LD),default)
LD := $(CROSS_COMPILE)ld
endif
OBJCOPY := $(CROSS_COMPILE)objcopy
AR := $(CROSS_COMPILE)ar
HOSTCC ?= gcc
# Debian's python3: the generators use its python3-capstone package.
PYTHON ?= /usr/bin/python3
PROTOC_C ?= protoc-c

BUILD := build/$(ARCH)
GEN := $(BUILD)/gen
# the version is set once, in core/include/version.h
VERSION := $(shell sed -n 's/^\#define CRIU_VERSION "\(.*\)"/\1/p' core/include/version.h)

# V=1 prints every command; otherwise one short line per step.
ifeq ($(V),1)
Q :=
say =
else
Q := @
say = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
# The user's CFLAGS (default -O2 -g), CPPFLAGS and LDFLAGS come after the
# project's.  Paths of this tree are written relative to it, so a build does
# not depend on where the tree is (reproducible builds): that map comes last,
# as gcc takes the last matching one and a user's map (dpkg-buildflags' of
# the parent folder) would leave the folder's name in.
CFLAGS ?= -O2 -g
CRIU_CPPFLAGS := -D_GNU_SOURCE -DCRIU_ARCH='"$(ARCH)"' \
	-Icore/include -Icompel/include -Iarch/$(ARCH) -I$(GEN) -I$(BUILD)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CRIU_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) \
	-ffile-prefix-map=$(CURDIR)=.
ALL_LDFLAGS := $(LDFLAGS)
LDLIBS := -lprotobuf-c -lcap

# ---- sources --------------------------------------------------------------

PROTOS := $(sort $(wildcard proto/*.proto))
PROTO_C := $(patsubst proto/%.proto,$(GEN)/proto/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)

CORE_SRCS := $(sort $(wildcard core/*.c core/files/*.c cpuinfo/*.c compel/*.c arch/$(ARCH)/*.c))
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS)) $(PROTO_C:.c=.o) \
	$(GEN)/syscall-table.o
MAIN_OBJ := $(BUILD)/core/main.o
LIB_OBJS := $(filter-out $(MAIN_OBJ),$(CORE_OBJS))

GEN_HDRS := $(PROTO_H) $(GEN)/syscall-nr.h $(GEN)/syscall-table.h

include pie.mk
# e2e test programs (tests/e2e/progs/progs.mk) and the qemu-system VM tests
# (cross-tests/vm/vm.mk), when present.
-include tests/e2e/progs/progs.mk
-include cross-tests/vm/vm.mk
GEN_HDRS += $(BLOB_HDRS)

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

.PHONY: all criu deps test unit-test gen-test cross-test cross-build fuzz fuzz-restore fuzz-kill fault-walk-dump-kill \
	install clean demo check-tree
.DEFAULT_GOAL := all
# Generated headers are kept, not treated as intermediate files.
.SECONDARY:

all: criu libcriu
ifeq ($(ARCH),$(HOST_ARCH))
	$(Q)ln -sf $(BUILD)/criu criu
endif

criu: $(BUILD)/criu

$(BUILD)/criu: $(CORE_OBJS)
	$(call say,LINK,$@)$(CC) $(STATIC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# libcriu, the RPC client (lib/c): position-independent objects of its own,
# with the generated rpc.pb-c.c, as a shared and a static library.
# The file is libcriu.so.2.0, its soname libcriu.so.2, the link for -lcriu
# libcriu.so; the installed headers are LIBCRIU_HDRS (below).
LIBCRIU_SOVER := 2
LIBCRIU_SOMINOR := 0
LIBCRIU_SONAME := libcriu.so.$(LIBCRIU_SOVER)
LIBCRIU_REAL := $(LIBCRIU_SONAME).$(LIBCRIU_SOMINOR)
LIBCRIU_OBJS := $(BUILD)/lib/c/criu.pic.o $(BUILD)/lib/c/rpc.pb-c.pic.o
LIBCRIU_SO := $(BUILD)/$(LIBCRIU_REAL)
LIBCRIU_A := $(BUILD)/libcriu.a

.PHONY: libcriu
libcriu: $(LIBCRIU_SO) $(BUILD)/$(LIBCRIU_SONAME) $(BUILD)/libcriu.so $(LIBCRIU_A)

# criu.h includes "version.h" and "rpc.pb-c.h", as upstream's does: installed
# next to it (LIBCRIU_HDRS)
LIBCRIU_HDRS := lib/c/criu.h core/include/version.h $(GEN)/proto/rpc.pb-c.h
LIBCRIU_CFLAGS := -Ilib/c -Icore/include -I$(GEN)/proto

$(BUILD)/lib/c/criu.pic.o: lib/c/criu.c $(LIBCRIU_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -fPIC $(LIBCRIU_CFLAGS) -c -o $@ $<

$(BUILD)/lib/c/rpc.pb-c.pic.o: $(GEN)/proto/rpc.pb-c.c $(GEN)/proto/rpc.pb-c.h
	$(Q)mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Wno-error -fPIC -c -o $@ $<

$(LIBCRIU_SO): $(LIBCRIU_OBJS) lib/c/libcriu.map
	$(call say,LINK,$@)$(CC) -shared $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,-soname,$(LIBCRIU_SONAME) \
		-Wl,--version-script=lib/c/libcriu.map -o $@ $(LIBCRIU_OBJS) -lprotobuf-c

$(BUILD)/$(LIBCRIU_SONAME) $(BUILD)/libcriu.so: $(LIBCRIU_SO)
	$(Q)ln -sf $(LIBCRIU_REAL) $@

$(LIBCRIU_A): $(LIBCRIU_OBJS)
	$(Q)rm -f $@
	$(call say,AR,$@)$(AR) rcsD $@ $^

$(BUILD)/libcriu-core.a: $(LIB_OBJS)
	$(Q)rm -f $@
	$(call say,AR,$@)$(AR) rcsD $@ $^

# Every object waits for the generated headers: dependency files cover the rest.
$(BUILD)/%.o: %.c $(GEN_HDRS)
	$(Q)mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(GEN)/proto/%.pb-c.c $(GEN)/proto/%.pb-c.h: proto/%.proto
	$(Q)mkdir -p $(GEN)/proto
	$(call say,PROTOC,$<)$(PROTOC_C) --proto_path=proto --c_out=$(GEN)/proto $<

$(GEN)/proto/%.pb-c.o: $(GEN)/proto/%.pb-c.c $(PROTO_H)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -Wno-error -c -o $@ $<

# Syscall numbers, stubs and the name table, checked against the toolchain.
$(GEN)/syscall-nr.h $(GEN)/syscalls.h $(GEN)/syscall-table.c $(GEN)/syscall-table.h $(GEN)/syscalls.S &: \
		arch/$(ARCH)/syscall.tbl gen/gen-syscalls.py
	$(Q)mkdir -p $(GEN)
	$(call say,GEN,$(GEN)/syscalls)$(PYTHON) gen/gen-syscalls.py --arch $(ARCH) --cc "$(CC)" \
		--tbl arch/$(ARCH)/syscall.tbl --out $(GEN)

$(GEN)/syscall-table.o: $(GEN)/syscall-table.c $(GEN)/syscall-table.h
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- tests ----------------------------------------------------------------

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h tests/*.h) $(BUILD)/libcriu-core.a
	$(Q)mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(STATIC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< \
		$(BUILD)/libcriu-core.a $(LDLIBS)

unit-build: $(UNIT_BINS) $(BUILD)/criu

# Helpers of the e2e tests that need criu's own code.
E2E_TOOLS := $(patsubst tests/e2e/tools/%.c,$(BUILD)/tests/e2e/tools/%,$(wildcard tests/e2e/tools/*.c))
$(BUILD)/tests/e2e/tools/%: tests/e2e/tools/%.c $(BUILD)/libcriu-core.a
	$(Q)mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(STATIC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Icpuinfo -o $@ $< \
		$(BUILD)/libcriu-core.a $(LDLIBS)

# The libcriu client test (tests/e2e/t-rpc.sh runs it), linked with libcriu.a.
LIBCRIU_TEST := $(BUILD)/tests/e2e/rpc/libcriu-test
$(LIBCRIU_TEST): tests/e2e/rpc/libcriu-test.c $(LIBCRIU_HDRS) $(LIBCRIU_A)
	$(Q)mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(STATIC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< \
		$(LIBCRIU_A) -lprotobuf-c
# Every function of criu.h, built as a program written for upstream's libcriu
# would be, against the shared library (tests/e2e/t-rpc.sh).
LIBCRIU_EVERY := $(BUILD)/tests/e2e/rpc/libcriu-every
$(LIBCRIU_EVERY): tests/e2e/rpc/libcriu-every.c $(LIBCRIU_HDRS) $(LIBCRIU_SO) $(BUILD)/libcriu.so
	$(Q)mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< -L$(BUILD) \
		-Wl,-rpath,'$$ORIGIN/../../..' -lcriu -lprotobuf-c
# go-criu against our swrk (tests/e2e/t-go-criu.sh), built offline with
# Debian's golang and go-criu in GOPATH mode: a GOPATH of our own links
# .../go-criu/v5 to Debian's copy, so that the module's /v5 import paths
# resolve; the rest (protobuf) comes from /usr/share/gocode.
GO_CRIU_TEST := $(BUILD)/tests/e2e/go/go-criu-test
GO_CRIU_SRC := /usr/share/gocode/src/github.com/checkpoint-restore/go-criu
$(GO_CRIU_TEST): tests/e2e/go/main.go
	$(Q)mkdir -p $(dir $@) $(BUILD)/go-path/src/github.com/checkpoint-restore/go-criu
	$(Q)ln -sfn $(GO_CRIU_SRC) $(BUILD)/go-path/src/github.com/checkpoint-restore/go-criu/v5
	$(call say,GO,$@)cd tests/e2e/go && GO111MODULE=off GOFLAGS= GOPROXY=off \
		GOPATH=$(abspath $(BUILD))/go-path:/usr/share/gocode GOCACHE=$(abspath $(BUILD))/go-cache \
		go build -o $(abspath $@) .
# An unprivileged service client (tests/e2e/t-fsafe.sh).
FSAFE_CLIENT := $(BUILD)/tests/e2e/rpc/fsafe-client
$(FSAFE_CLIENT): tests/e2e/rpc/fsafe-client.c $(LIBCRIU_HDRS) $(LIBCRIU_A)
	$(Q)mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(STATIC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< \
		$(LIBCRIU_A) -lprotobuf-c

# Runs every unit test binary; prints one summary line.
unit-test: unit-build
	@ARCH=$(ARCH) RUNNER="$(RUNNER)" BUILD=$(BUILD) \
		tests/unit/run.sh $(UNIT_BINS)

gen-test:
	@$(PYTHON) gen/test_gen.py

test: deps
	$(MAKE) all
	$(MAKE) gen-test
	$(MAKE) unit-test
	$(MAKE) e2e-test
	$(MAKE) cross-test
	$(MAKE) build-test
	@if tests/deb/build-debs.sh --have-tools; then DEB_BUILD_OPTIONS=nocheck $(MAKE) deb; \
	else echo "make test: no packaging tools (make deps installs them), make deb skipped"; fi
	@echo "make test: all parts passed"

# (make test has run the unit tests already: its make deb skips them in
# dh_auto_test; a plain make deb runs them.)
# Packagers' conventions: the build-dependency check, a reproducible build
# (two folders, same bytes), install/uninstall into a DESTDIR, the completion.
build-test:
	@tests/packaging/run.sh

e2e-test: all e2e-progs $(E2E_TOOLS) $(LIBCRIU_TEST) $(LIBCRIU_EVERY) $(GO_CRIU_TEST) \
	$(FSAFE_CLIENT)
	@BUILD=$(BUILD) tests/e2e/run.sh

# The main job, end to end: dump a running counter, show, restore.
demo: deps
	@$(MAKE) --no-print-directory all
	@demo/demo.sh

cross-build:
	@set -e; for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory ARCH=$$a unit-build; done

# Unit tests of every other architecture under qemu-user, then every
# cross-tests/test-*.sh (each builds what it needs through make).
cross-test: cross-build
	@$(MAKE) --no-print-directory blob-test
	@set -e; for a in $(CROSS_ARCHS); do \
		echo "== $$a (qemu-user) =="; \
		$(MAKE) --no-print-directory ARCH=$$a unit-test; \
	done
	@set -e; for t in $(sort $(wildcard cross-tests/test-*.sh)); do \
		echo "== $$t =="; HOST_ARCH=$(HOST_ARCH) $$t; \
	done

# ---- fuzzing --------------------------------------------------------------

FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz
FUZZ_SRCS := $(filter-out core/main.c,$(sort $(wildcard core/*.c core/files/*.c cpuinfo/*.c compel/*.c arch/$(HOST_ARCH)/*.c)))

$(FUZZ_DIR)/fuzz-image: tests/fuzz/fuzz-image.c $(FUZZ_SRCS) $(PROTO_C) $(GEN)/syscall-table.c
	@mkdir -p $(FUZZ_DIR)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
		-DCRIU_ARCH='"$(ARCH)"' -Icore/include -Icompel/include \
		-Iarch/$(HOST_ARCH) -I$(GEN) -I$(BUILD) -o $@ $^ $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory all $(FUZZ_DIR)/fuzz-image
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz-image -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
		-rss_limit_mb=2048 -max_len=65536 $(FUZZ_DIR)/corpus tests/fuzz/corpus

# Restores of dumps whose images have one value changed (a longer run of
# tests/e2e/t-restore-mutate.sh).
RESTORE_MUTATE_CASES ?= 3000
# kill -9 of criu at random moments: FUZZ_KILL_CASES restores (and dumps,
# with tests/e2e/kill-dump.sh) of fault-tree's tree; the fault walk with
# every point of a dump killed (not in make test yet: docs/faults.md)
N ?= 200
FUZZ_KILL_CASES ?= $(N)
fuzz-kill: deps all $(E2E_TOOLS)
	@d=$$(mktemp -d /tmp/criu-fuzz-kill.XXXXXX); \
	KILL_CASES=$(FUZZ_KILL_CASES) bash tests/e2e/fuzz-kill.sh $(CURDIR)/criu \
		$(CURDIR)/$(BUILD)/tests/e2e/tools $$d && rm -rf $$d

fault-walk-dump-kill: deps all $(E2E_TOOLS)
	@d=$$(mktemp -d /tmp/criu-fault-walk.XXXXXX); \
	$(BUILD)/tests/e2e/tools/fault-walk $(CURDIR)/criu $(BUILD)/tests/e2e/tools/fault-tree \
		$$d dump-kill | grep -v '^ok ' && rm -rf $$d

fuzz-restore: deps
	@$(MAKE) --no-print-directory all e2e-progs $(E2E_TOOLS)
	@d=$$(mktemp -d /tmp/criu-mutate.XXXXXX); \
	python3 tests/e2e/restore-mutate.py ./criu $(BUILD)/tests/e2e/tools/mutate-image \
		$(BUILD)/tests/e2e/progs $$d --cases $(RESTORE_MUTATE_CASES) \
		--seed $${RESTORE_MUTATE_SEED:-$$(date +%s)} && rm -rf $$d

# ---- install ----------------------------------------------------------------
# Every variable may come from the command line or the environment; LIBDIR
# may be a multiarch one (PREFIX/lib/$(TRIPLET)).  criu.pc is regenerated
# each time: PREFIX and LIBDIR may differ from the last install.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

.PHONY: $(BUILD)/criu.pc
$(BUILD)/criu.pc:
	$(Q)mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: criu' 'Description: RPC client library of criu (checkpoint/restore)' \
		'Version: $(VERSION)' 'Requires.private: libprotobuf-c' \
		'Libs: -L$${libdir} -lcriu' 'Cflags: -I$${includedir}/criu' >$@

# What install puts where (DESTDIR aside): uninstall removes exactly these.
INSTALLED := $(SBINDIR)/criu $(MANDIR)/man8/criu.8 $(BASHCOMPDIR)/criu \
	$(LIBDIR)/$(LIBCRIU_REAL) $(LIBDIR)/$(LIBCRIU_SONAME) $(LIBDIR)/libcriu.so \
	$(LIBDIR)/libcriu.a $(LIBDIR)/pkgconfig/criu.pc \
	$(addprefix $(INCLUDEDIR)/criu/,$(notdir $(LIBCRIU_HDRS)) rpc.proto)

install: all $(BUILD)/criu.pc
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/criu
	$(call say,INSTALL,$(DESTDIR)$(SBINDIR)/criu)install -m 0755 $(BUILD)/criu $(DESTDIR)$(SBINDIR)/criu
	$(call say,INSTALL,$(DESTDIR)$(LIBDIR)/$(LIBCRIU_REAL))install -m 0644 $(LIBCRIU_SO) \
		$(DESTDIR)$(LIBDIR)/$(LIBCRIU_REAL)
	$(Q)ln -sf $(LIBCRIU_REAL) $(DESTDIR)$(LIBDIR)/$(LIBCRIU_SONAME)
	$(Q)ln -sf $(LIBCRIU_SONAME) $(DESTDIR)$(LIBDIR)/libcriu.so
	$(Q)install -m 0644 $(LIBCRIU_A) $(DESTDIR)$(LIBDIR)/libcriu.a
	$(Q)install -m 0644 $(LIBCRIU_HDRS) proto/rpc.proto $(DESTDIR)$(INCLUDEDIR)/criu/
	$(Q)install -m 0644 $(BUILD)/criu.pc $(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	$(Q)install -m 0644 docs/criu.8 $(DESTDIR)$(MANDIR)/man8/criu.8
	$(Q)install -m 0644 contrib/bash-completion/criu $(DESTDIR)$(BASHCOMPDIR)/criu

# Only the folder that is criu's own goes with the files.
uninstall:
	$(call say,RM,$(addprefix $(DESTDIR),$(INSTALLED)))rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)if [ -d $(DESTDIR)$(INCLUDEDIR)/criu ]; then rmdir $(DESTDIR)$(INCLUDEDIR)/criu; fi

clean:
	rm -rf build criu

# ---- Debian packages ----------------------------------------------------------
# Installs only what is missing; does nothing when everything is there.

# make deb: dpkg-buildpackage, debhelper, lintian and each cross architecture's
# crossbuild-essential (what dpkg-buildpackage -a checks for).  Defined
# before HOST_PKGS, which takes it in at once (:=).
PACKAGING_PKGS := dpkg-dev debhelper fakeroot lintian \
	$(foreach a,$(CROSS_ARCHS),crossbuild-essential-$(debarch_$(a)))
HOST_PKGS := build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev \
	libcap-dev libnl-3-dev libnl-route-3-dev libcapstone-dev python3 \
	python3-capstone clang libclang-rt-14-dev llvm qemu-user-static \
	golang-go golang-github-checkpoint-restore-go-criu-dev runc \
	$(PACKAGING_PKGS)
CROSS_PKGS := $(foreach a,$(CROSS_ARCHS),gcc-$(triplet_$(a)) \
	libc6-dev-$(debarch_$(a))-cross libprotobuf-c-dev:$(debarch_$(a)) \
	libcap-dev:$(debarch_$(a)) libnl-3-dev:$(debarch_$(a)) \
	libnl-route-3-dev:$(debarch_$(a)))

# ---- what plain make checks (it never installs) ----------------------------
# Goals that install what is missing first (deps, test, demo, fuzz*) or
# build nothing themselves are not checked here; the sub-makes they run are.
NO_DEPS_CHECK := deps test demo fuzz fuzz-restore clean uninstall deb build-test \
	gen-test blob-test cross-test cross-build print-version
ifneq ($(filter-out $(NO_DEPS_CHECK),$(or $(MAKECMDGOALS),all)),)
BUILD_DEPS_MISSING := $(shell CC="$(CC)" LD="$(LD)" OBJCOPY="$(OBJCOPY)" PYTHON="$(PYTHON)" \
	PROTOC_C="$(PROTOC_C)" STATIC="$(STATIC)" TRIPLET=$(TRIPLET) DEBARCH=$(debarch_$(ARCH)) \
	CROSS=$(if $(filter $(ARCH),$(HOST_ARCH)),0,1) gen/check-build-deps.sh)
ifneq ($(BUILD_DEPS_MISSING),)
$(error missing build dependencies (Debian packages): $(BUILD_DEPS_MISSING); run `make deps` as root to install them)
endif
endif

.PHONY: uninstall build-test deb print-version
print-version:
	@echo $(VERSION)

deb:
	@tests/deb/build-debs.sh

deps:
	@HOST_PKGS="$(HOST_PKGS) $(VM_PKGS)" CROSS_PKGS="$(CROSS_PKGS)" \
		FOREIGN="$(foreach a,$(CROSS_ARCHS),$(debarch_$(a)))" gen/install-deps.sh
