# The one entry point of the project.  See README.md and docs/.
#
#   make                  build criu for this machine into build/<arch>/, link ./criu
#   make ARCH=aarch64     cross-build (also ppc64le, s390x); builds coexist
#   make test             unit tests, e2e tests and the cross tests
#   make cross-test       the other architectures: build, unit tests under qemu-user
#   make fuzz             run the image reader fuzzer for FUZZ_SECONDS
#   make fuzz-restore     restore RESTORE_MUTATE_CASES dumps with one image value changed
#   make fuzz-kill N=200  kill criu at N random moments of dumps; the tree must run on
#   make install          PREFIX=/usr/local DESTDIR=
#   make deps             install the Debian packages the build and tests need

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

CC := $(CROSS_COMPILE)gcc
LD := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
HOSTCC ?= gcc
# Debian's python3: the generators use its python3-capstone package.
PYTHON ?= /usr/bin/python3
PROTOC_C ?= protoc-c

BUILD := build/$(ARCH)
GEN := $(BUILD)/gen
# the version is set once, in core/include/version.h
VERSION := $(shell sed -n 's/^\#define CRIU_VERSION "\(.*\)"/\1/p' core/include/version.h)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE \
	-DCRIU_ARCH='"$(ARCH)"' -Icore/include -Icompel/include -Iarch/$(ARCH) -I$(GEN) -I$(BUILD)
LDLIBS := -lprotobuf-c -lcap

# ---- sources --------------------------------------------------------------

PROTOS := $(sort $(wildcard proto/*.proto))
PROTO_C := $(patsubst proto/%.proto,$(GEN)/proto/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)

CORE_SRCS := $(sort $(wildcard core/*.c cpuinfo/*.c compel/*.c arch/$(ARCH)/*.c))
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

.PHONY: all criu deps test unit-test gen-test cross-test cross-build fuzz fuzz-restore fuzz-kill \
	install clean demo check-tree
.DEFAULT_GOAL := all
# Generated headers are kept, not treated as intermediate files.
.SECONDARY:

all: criu libcriu
ifeq ($(ARCH),$(HOST_ARCH))
	@ln -sf $(BUILD)/criu criu
endif

criu: $(BUILD)/criu

$(BUILD)/criu: $(CORE_OBJS)
	$(CC) $(STATIC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# libcriu, the RPC client (lib/c): position-independent objects of its own,
# with the generated rpc.pb-c.c, as a shared and a static library.
LIBCRIU_SOVER := 2
LIBCRIU_OBJS := $(BUILD)/lib/c/criu.pic.o $(BUILD)/lib/c/rpc.pb-c.pic.o
LIBCRIU_SO := $(BUILD)/libcriu.so.$(LIBCRIU_SOVER)
LIBCRIU_A := $(BUILD)/libcriu.a

.PHONY: libcriu
libcriu: $(LIBCRIU_SO) $(BUILD)/libcriu.so $(LIBCRIU_A)

# criu.h includes "version.h" and "rpc.pb-c.h", as upstream's does: installed
# next to it (LIBCRIU_HDRS)
LIBCRIU_HDRS := lib/c/criu.h core/include/version.h $(GEN)/proto/rpc.pb-c.h
LIBCRIU_CFLAGS := -Ilib/c -Icore/include -I$(GEN)/proto

$(BUILD)/lib/c/criu.pic.o: lib/c/criu.c $(LIBCRIU_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(LIBCRIU_CFLAGS) -c -o $@ $<

$(BUILD)/lib/c/rpc.pb-c.pic.o: $(GEN)/proto/rpc.pb-c.c $(GEN)/proto/rpc.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-error -fPIC -c -o $@ $<

$(LIBCRIU_SO): $(LIBCRIU_OBJS) lib/c/libcriu.map
	$(CC) -shared $(CFLAGS) -Wl,-soname,libcriu.so.$(LIBCRIU_SOVER) \
		-Wl,--version-script=lib/c/libcriu.map -o $@ $(LIBCRIU_OBJS) -lprotobuf-c

$(BUILD)/libcriu.so: $(LIBCRIU_SO)
	@ln -sf libcriu.so.$(LIBCRIU_SOVER) $@

$(LIBCRIU_A): $(LIBCRIU_OBJS)
	@rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

# regenerated each time: PREFIX and LIBDIR may differ from the last install
.PHONY: $(BUILD)/criu.pc
$(BUILD)/criu.pc:
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: criu' 'Description: RPC client library of criu (checkpoint/restore)' \
		'Version: $(VERSION)' 'Requires.private: libprotobuf-c' \
		'Libs: -L$${libdir} -lcriu' 'Cflags: -I$${includedir}/criu' >$@

$(BUILD)/libcriu-core.a: $(LIB_OBJS)
	@rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

# Every object waits for the generated headers: dependency files cover the rest.
$(BUILD)/%.o: %.c $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(GEN)/proto/%.pb-c.c $(GEN)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)/proto
	$(PROTOC_C) --proto_path=proto --c_out=$(GEN)/proto $<

$(GEN)/proto/%.pb-c.o: $(GEN)/proto/%.pb-c.c $(PROTO_H)
	$(CC) $(CFLAGS) -Wno-error -c -o $@ $<

# Syscall numbers, stubs and the name table, checked against the toolchain.
$(GEN)/syscall-nr.h $(GEN)/syscalls.h $(GEN)/syscall-table.c $(GEN)/syscall-table.h $(GEN)/syscalls.S &: \
		arch/$(ARCH)/syscall.tbl gen/gen-syscalls.py
	@mkdir -p $(GEN)
	$(PYTHON) gen/gen-syscalls.py --arch $(ARCH) --cc "$(CC)" \
		--tbl arch/$(ARCH)/syscall.tbl --out $(GEN)

$(GEN)/syscall-table.o: $(GEN)/syscall-table.c $(GEN)/syscall-table.h
	$(CC) $(CFLAGS) -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- tests ----------------------------------------------------------------

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h tests/*.h) $(BUILD)/libcriu-core.a
	@mkdir -p $(dir $@)
	$(CC) $(STATIC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libcriu-core.a $(LDLIBS)

unit-build: $(UNIT_BINS) $(BUILD)/criu

# Helpers of the e2e tests that need criu's own code.
E2E_TOOLS := $(patsubst tests/e2e/tools/%.c,$(BUILD)/tests/e2e/tools/%,$(wildcard tests/e2e/tools/*.c))
$(BUILD)/tests/e2e/tools/%: tests/e2e/tools/%.c $(BUILD)/libcriu-core.a
	@mkdir -p $(dir $@)
	$(CC) $(STATIC) $(CFLAGS) -Icpuinfo -o $@ $< $(BUILD)/libcriu-core.a $(LDLIBS)

# The libcriu client test (tests/e2e/t-rpc.sh runs it), linked with libcriu.a.
LIBCRIU_TEST := $(BUILD)/tests/e2e/rpc/libcriu-test
$(LIBCRIU_TEST): tests/e2e/rpc/libcriu-test.c $(LIBCRIU_HDRS) $(LIBCRIU_A)
	@mkdir -p $(dir $@)
	$(CC) $(STATIC) $(CFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< $(LIBCRIU_A) -lprotobuf-c
# Every function of criu.h, built as a program written for upstream's libcriu
# would be, against the shared library (tests/e2e/t-rpc.sh).
LIBCRIU_EVERY := $(BUILD)/tests/e2e/rpc/libcriu-every
$(LIBCRIU_EVERY): tests/e2e/rpc/libcriu-every.c $(LIBCRIU_HDRS) $(LIBCRIU_SO) $(BUILD)/libcriu.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN/../../..' \
		-lcriu -lprotobuf-c
# go-criu against our swrk (tests/e2e/t-go-criu.sh), built offline with
# Debian's golang and go-criu in GOPATH mode: a GOPATH of our own links
# .../go-criu/v5 to Debian's copy, so that the module's /v5 import paths
# resolve; the rest (protobuf) comes from /usr/share/gocode.
GO_CRIU_TEST := $(BUILD)/tests/e2e/go/go-criu-test
GO_CRIU_SRC := /usr/share/gocode/src/github.com/checkpoint-restore/go-criu
$(GO_CRIU_TEST): tests/e2e/go/main.go
	@mkdir -p $(dir $@) $(BUILD)/go-path/src/github.com/checkpoint-restore/go-criu
	@ln -sfn $(GO_CRIU_SRC) $(BUILD)/go-path/src/github.com/checkpoint-restore/go-criu/v5
	cd tests/e2e/go && GO111MODULE=off GOFLAGS= GOPROXY=off \
		GOPATH=$(abspath $(BUILD))/go-path:/usr/share/gocode GOCACHE=$(abspath $(BUILD))/go-cache \
		go build -o $(abspath $@) .
# An unprivileged service client (tests/e2e/t-fsafe.sh).
FSAFE_CLIENT := $(BUILD)/tests/e2e/rpc/fsafe-client
$(FSAFE_CLIENT): tests/e2e/rpc/fsafe-client.c $(LIBCRIU_HDRS) $(LIBCRIU_A)
	@mkdir -p $(dir $@)
	$(CC) $(STATIC) $(CFLAGS) $(LIBCRIU_CFLAGS) -o $@ $< $(LIBCRIU_A) -lprotobuf-c

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
	@echo "make test: all parts passed"

e2e-test: all e2e-progs $(E2E_TOOLS) $(LIBCRIU_TEST) $(LIBCRIU_EVERY) $(GO_CRIU_TEST) \
	$(FSAFE_CLIENT)
	@BUILD=$(BUILD) tests/e2e/run.sh

# The main job, end to end: dump a running counter, show, restore.
demo: deps all
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
FUZZ_SRCS := $(filter-out core/main.c,$(sort $(wildcard core/*.c cpuinfo/*.c compel/*.c arch/$(HOST_ARCH)/*.c)))

$(FUZZ_DIR)/fuzz-image: tests/fuzz/fuzz-image.c $(FUZZ_SRCS) $(PROTO_C) $(GEN)/syscall-table.c
	@mkdir -p $(FUZZ_DIR)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
		-DCRIU_ARCH='"$(ARCH)"' -Icore/include -Icompel/include \
		-Iarch/$(HOST_ARCH) -I$(GEN) -I$(BUILD) -o $@ $^ $(LDLIBS)

fuzz: deps all $(FUZZ_DIR)/fuzz-image
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz-image -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
		-rss_limit_mb=2048 -max_len=65536 $(FUZZ_DIR)/corpus tests/fuzz/corpus

# Restores of dumps whose images have one value changed (a longer run of
# tests/e2e/t-restore-mutate.sh).
RESTORE_MUTATE_CASES ?= 3000
fuzz-restore: deps all e2e-progs $(E2E_TOOLS)
	@d=$$(mktemp -d /tmp/criu-mutate.XXXXXX); \
	python3 tests/e2e/restore-mutate.py ./criu $(BUILD)/tests/e2e/tools/mutate-image \
		$(BUILD)/tests/e2e/progs $$d --cases $(RESTORE_MUTATE_CASES) \
		--seed $${RESTORE_MUTATE_SEED:-$$(date +%s)} && rm -rf $$d

# Timed kills of criu during dumps (tests/e2e/t-kill-dump.sh runs a few dozen).
N ?= 200
fuzz-kill: deps all $(E2E_TOOLS)
	@d=$$(mktemp -d /tmp/criu-kill.XXXXXX); \
	python3 tests/e2e/kill-dump.py ./criu $(BUILD)/tests/e2e/tools/kill-target $$d \
		--cases $(N) --seed $${KILL_DUMP_SEED:-$$(date +%s)} && rm -rf $$d

# ---- install ----------------------------------------------------------------

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

install: all $(BUILD)/criu.pc
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/criu
	install -m 0755 $(BUILD)/criu $(DESTDIR)$(SBINDIR)/criu
	install -m 0755 $(LIBCRIU_SO) $(DESTDIR)$(LIBDIR)/libcriu.so.$(LIBCRIU_SOVER)
	ln -sf libcriu.so.$(LIBCRIU_SOVER) $(DESTDIR)$(LIBDIR)/libcriu.so
	install -m 0644 $(LIBCRIU_A) $(DESTDIR)$(LIBDIR)/libcriu.a
	install -m 0644 $(LIBCRIU_HDRS) proto/rpc.proto $(DESTDIR)$(INCLUDEDIR)/criu/
	install -m 0644 $(BUILD)/criu.pc $(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	install -m 0644 docs/criu.8 $(DESTDIR)$(MANDIR)/man8/criu.8

clean:
	rm -rf build criu

# ---- Debian packages ----------------------------------------------------------
# Installs only what is missing; does nothing when everything is there.

HOST_PKGS := build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev \
	libcap-dev libnl-3-dev libnl-route-3-dev libcapstone-dev python3 \
	python3-capstone clang libclang-rt-14-dev llvm qemu-user-static \
	golang-go golang-github-checkpoint-restore-go-criu-dev runc
CROSS_PKGS := $(foreach a,$(CROSS_ARCHS),gcc-$(triplet_$(a)) \
	libc6-dev-$(debarch_$(a))-cross libprotobuf-c-dev:$(debarch_$(a)) \
	libcap-dev:$(debarch_$(a)) libnl-3-dev:$(debarch_$(a)) \
	libnl-route-3-dev:$(debarch_$(a)))

deps:
	@HOST_PKGS="$(HOST_PKGS) $(VM_PKGS)" CROSS_PKGS="$(CROSS_PKGS)" \
		FOREIGN="$(foreach a,$(CROSS_ARCHS),$(debarch_$(a)))" gen/install-deps.sh
