# The qemu-system tests (issue 6), included by the Makefile: every
# architecture's static criu and tests, booted on Debian 12's kernel for that
# architecture under qemu-system (TCG), verdicts read from the console.
#
#   make vm-test            all of VM_ARCHS, VM_JOBS VMs at a time
#   make vm-test-aarch64    one architecture (also ppc64le, s390x, x86_64)
#
# Per architecture: vm-build-<arch> builds the static criu, the files of
# vm_files, and in VM_DIR (build/vm) <arch>/init and <arch>/cr-run, and
# writes <arch>/tests.list from VM_LISTS (and <arch>/e2e.list, see below);
# vm-run-<arch> boots the VM with cross-tests/vm/run-vm.sh; <arch>.log is
# its console, <arch>.out its verdicts.
# The host architecture's criu is built a second time, statically, into
# build/<arch>-static; the cross builds are static already.
#
# The e2e suite: in the VMs of VM_E2E_ARCHS, every program of
# tests/e2e/progs goes through criu dump and restore in every variant of
# tests/e2e/cr-run.py (plain, leave-running, leave-stopped, user), run by
# cross-tests/vm/cr-run.c (its static C counterpart, at /cr-run in the
# guest, programs in /progs).  <arch>/e2e.list (written for every
# architecture, part of tests.list only in VM_E2E_ARCHS) has one test per
# program, named e2e-<program>, so the VM's verdicts name each program;
# a failure shows cr-run's reason and the tails of the program's and
# criu's logs.  criu saves registers on x86_64 only so far; as each
# architecture's arch/<arch>/core-image.c lands, turn its e2e suite on:
#
#   make vm-test VM_E2E_ARCHS="x86_64 aarch64"   some architectures
#   make vm-test VM_E2E_ARCHS=all                 every one of VM_ARCHS
#   make vm-test VM_E2E_ARCHS=                    none (criu check and compel only)
#
# and, once it passes, add it to the default below.
#
# To add tests: append to vm_files (a function of the architecture, $(1);
# each entry is FILE or SRC=/DEST, and must be a make target of the
# architecture's build, see vm_targets) and to VM_LISTS (lists in the
# format described at the top of cross-tests/vm/init.c).
#
# Uses from the Makefile: HOST_ARCH, HOSTCC, triplet_<arch>, MAKE; from
# tests/e2e/progs/progs.mk: E2E_PROGS_C.

VM_PKGS := qemu-system-arm qemu-system-ppc qemu-system-misc qemu-system-x86 \
	qemu-system-data cpio
# Longest first, so that VM_JOBS parallel VMs finish close together.
VM_ARCHS := x86_64 ppc64le aarch64 s390x
# Each VM runs its vCPUs on one host thread (see run-vm.sh): two at a time
# use both cores of a 2-core machine.
VM_JOBS ?= 2
# Seconds a VM may take from boot to power-off (run-vm.sh); VM_JOBS at a
# time, so the worst case stays within the 20 minutes of make cross-test.
VM_TIMEOUT ?= 420
# Where the lists, logs and results go (run-vm.sh's VM_DIR).
VM_DIR ?= build/vm
VM_LISTS := cross-tests/vm/base.list cross-tests/vm/fault.list

# ---- the e2e suite --------------------------------------------------------
VM_E2E_ARCHS ?= all
VM_E2E_VARIANTS ?= plain,leave-running,leave-stopped,user
# Seconds for one variant of one program (cr-run --timeout), and for one
# program's line of e2e.list (init's @timeout: all its variants, with room).
# Measured under TCG: a program's four variants take 0.5-4 s on x86_64 and
# aarch64 (natively well under 1 s), so a limit is only ever reached by a
# hang, and should cost little.
VM_E2E_VARIANT_TIMEOUT ?= 30
VM_E2E_TEST_TIMEOUT ?= 150
# Seconds from boot to power-off of a VM that runs the e2e suite, instead of
# VM_TIMEOUT (measured on x86_64: 85 s alone, 170 s beside three other
# VMs; the compel tests take 20-60 s of it, the e2e suite 35-90 s; the
# fault walks of cross-tests/vm/fault.list add about 120 s on s390x).
# Two rounds of VM_JOBS=2 VMs at this bound, plus the builds, stay within
# test-vm.sh's 1320 s even if all four time out.
VM_E2E_TIMEOUT ?= 540
E2E_NAMES := $(notdir $(basename $(E2E_PROGS_C)))
# The programs restored through the vDSO proxy (CRIU_TEST_VDSO_PROXY), as
# tests/e2e/t-vdso-proxy.sh does on the host.
VM_E2E_VDSO_PROGS ?= mem-vdso threads regs-gp tree-children posix-timers

# $(1) if it runs the e2e suite, else nothing.
vm_e2e = $(filter $(1),$(if $(filter all,$(VM_E2E_ARCHS)),$(VM_ARCHS),$(VM_E2E_ARCHS)))
vm_timeout = $(if $(call vm_e2e,$(1)),$(VM_E2E_TIMEOUT),$(VM_TIMEOUT))
vm_e2e_note = $(if $(call vm_e2e,$(1)), (with the e2e suite))

# The build directory of an architecture's static binaries, and what its
# make needs on the command line for them.
vm_build = $(if $(filter $(1),$(HOST_ARCH)),build/$(1)-static,build/$(1))
vm_make_args = ARCH=$(1) BUILD=$(call vm_build,$(1)) \
	$(if $(filter $(1),$(HOST_ARCH)),STATIC=-static)
vm_cc = $(if $(filter $(1),$(HOST_ARCH)),$(HOSTCC),$(triplet_$(1))-gcc)

# What goes into the guest from the architecture's build (run-vm.sh FILE
# arguments) ...
vm_files = $(call vm_build,$(1))/criu=/criu \
	$(call vm_build,$(1))/tests/unit/test-compel=/test-compel \
	$(call vm_build,$(1))/tests/unit/test-parasite=/test-parasite \
	$(call vm_build,$(1))/tests/unit/test-core-image=/test-core-image \
	$(call vm_build,$(1))/tests/e2e/tools/fault-walk=/fault-walk \
	$(call vm_build,$(1))/tests/e2e/tools/fault-tree=/fault-tree \
	$(if $(call vm_e2e,$(1)),$(foreach p,$(E2E_NAMES),\
		$(call vm_build,$(1))/tests/e2e/progs/$(p)=/progs/$(p)))
# ... and the make targets of the architecture's build that produce it.
vm_targets = $(foreach f,$(call vm_files,$(1)),$(firstword $(subst =, ,$(f))))
# What vm.mk builds itself for the guest (besides /init and /tests.list).
vm_own_files = $(VM_DIR)/$(1)/cr-run=/cr-run

VM_INIT_CFLAGS := -static -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE

.PHONY: vm-test $(foreach a,$(VM_ARCHS),vm-test-$(a) vm-build-$(a) vm-run-$(a))

$(VM_DIR)/%/init: cross-tests/vm/init.c
	@mkdir -p $(dir $@)
	$(call vm_cc,$*) $(VM_INIT_CFLAGS) -o $@ $<

$(VM_DIR)/%/cr-run: cross-tests/vm/cr-run.c
	@mkdir -p $(dir $@)
	$(call vm_cc,$*) $(VM_INIT_CFLAGS) -o $@ $<

# Known problems, each named: NAME:VARIANT left out on one architecture
# (VM_E2E_KNOWN_<arch> := prog:variant ...).  None at present.

# The lists depend on make variables (VM_E2E_*): written on every build.
.PHONY: vm-lists-always
$(VM_DIR)/%/e2e.list: vm-lists-always
	@mkdir -p $(dir $@)
	@{ echo "# Written by cross-tests/vm/vm.mk: every e2e program through criu"; \
	   echo "# dump and restore ($(VM_E2E_VARIANTS)), by cr-run.c."; \
	   echo "@timeout $(VM_E2E_TEST_TIMEOUT)"; \
	   for p in $(E2E_NAMES); do \
		v=",$(VM_E2E_VARIANTS),"; \
		for k in $(VM_E2E_KNOWN_$*); do \
			case $$k in $$p:*) v=$$(echo "$$v" | sed "s/,$${k#*:},/,/");; esac; \
		done; \
		v=$${v#,}; v=$${v%,}; \
		echo "e2e-$$p: /cr-run --criu /criu --progs /progs" \
			"--variants $$v --timeout $(VM_E2E_VARIANT_TIMEOUT) $$p"; \
	   done; \
	   echo "# restore as on a kernel whose vDSO differs: the dumped vDSO's"; \
	   echo "# functions jump to this kernel's (last: the variable stays set)"; \
	   echo "@env CRIU_TEST_VDSO_PROXY=1"; \
	   echo "e2e-vdso-proxy: /cr-run --criu /criu --progs /progs" \
		"--variants plain,user --timeout $(VM_E2E_VARIANT_TIMEOUT)" \
		"--restore-log-has 'jumps to this kernel' $(VM_E2E_VDSO_PROGS)"; \
	   } >$@

# base.list, and e2e.list where the e2e suite runs.
$(VM_DIR)/%/tests.list: $(VM_LISTS) $(VM_DIR)/%/e2e.list vm-lists-always
	@mkdir -p $(dir $@)
	cat $(VM_LISTS) $(if $(call vm_e2e,$*),$(VM_DIR)/$*/e2e.list) >$@

# vm-build-<arch>: a failed build is reported as that architecture's
# failure in $(VM_DIR)/<arch>.out (what vm-test sums up), not a stop.
define VM_ARCH_RULES
vm-build-$(1):
	@mkdir -p $(VM_DIR); rm -f $(VM_DIR)/$(1).out; \
	start=$$$$(date +%s); \
	if $(MAKE) --no-print-directory $(call vm_make_args,$(1)) $(call vm_targets,$(1)) \
		>$(VM_DIR)/$(1)-build.log 2>&1 && \
	   $(MAKE) --no-print-directory $(VM_DIR)/$(1)/init $(VM_DIR)/$(1)/cr-run \
		$(VM_DIR)/$(1)/tests.list \
		>>$(VM_DIR)/$(1)-build.log 2>&1; then \
		echo "vm[$(1)]: built in $$$$(($$$$(date +%s) - start)) s$(call vm_e2e_note,$(1))"; \
	else \
		tail -n 30 $(VM_DIR)/$(1)-build.log; \
		echo "vm[$(1)]: FAIL the build (log: $(VM_DIR)/$(1)-build.log)" | tee $(VM_DIR)/$(1).out; \
		echo "vm[$(1)]: 0 passed, 1 failed (not built)" | tee -a $(VM_DIR)/$(1).out; \
		exit 1; \
	fi

vm-run-$(1):
	@if [ -f $(VM_DIR)/$(1).out ]; then exit 1; fi; \
	VM_DIR=$(VM_DIR) VM_INIT=$(VM_DIR)/$(1)/init VM_TIMEOUT=$(call vm_timeout,$(1)) \
		cross-tests/vm/run-vm.sh $(1) $(VM_DIR)/$(1)/tests.list \
		$(call vm_files,$(1)) $(call vm_own_files,$(1)) >$(VM_DIR)/$(1).run 2>&1; rc=$$$$?; \
	cat $(VM_DIR)/$(1).run; mv $(VM_DIR)/$(1).run $(VM_DIR)/$(1).out; exit $$$$rc

vm-test-$(1):
	@$(MAKE) --no-print-directory vm-build-$(1) && $(MAKE) --no-print-directory vm-run-$(1)
endef
$(foreach a,$(VM_ARCHS),$(eval $(call VM_ARCH_RULES,$(a))))

# Builds one architecture after the other (each make uses the jobserver it
# is given), then boots VM_JOBS VMs at a time, then sums up.
vm-test:
	@rm -f $(foreach a,$(VM_ARCHS),$(VM_DIR)/$(a).out)
	@for a in $(VM_ARCHS); do $(MAKE) --no-print-directory vm-build-$$a; done; true
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -k -j$(VM_JOBS) --output-sync=target \
		$(foreach a,$(VM_ARCHS),vm-run-$(a)); \
	echo "vm: $(VM_ARCHS) booted and tested in $$(($$(date +%s) - start)) s, $(VM_JOBS) at a time"
	@failed=0; for a in $(VM_ARCHS); do \
		line=$$(tail -n 1 $(VM_DIR)/$$a.out 2>/dev/null); \
		echo "  $${line:-vm[$$a]: no result}"; \
		case "$$line" in *" 0 failed"*) ;; *) failed=1 ;; esac; \
	done; [ $$failed = 0 ]
