# The qemu-system tests (issue 6), included by the Makefile: every
# architecture's static criu and tests, booted on Debian 12's kernel for that
# architecture under qemu-system (TCG), verdicts read from the console.
#
#   make vm-test            all of VM_ARCHS, VM_JOBS VMs at a time
#   make vm-test-aarch64    one architecture (also ppc64le, s390x, x86_64)
#
# Per architecture: vm-build-<arch> builds the static criu, the files of
# vm_files and build/vm/<arch>/init, and writes build/vm/<arch>/tests.list
# from VM_LISTS; vm-run-<arch> boots the VM with cross-tests/vm/run-vm.sh.
# The host architecture's criu is built a second time, statically, into
# build/<arch>-static; the cross builds are static already.
#
# To add tests: append to vm_files (a function of the architecture, $(1);
# each entry is FILE or SRC=/DEST, and must be a make target of the
# architecture's build, see vm_targets) and to VM_LISTS (lists in the
# format described at the top of cross-tests/vm/init.c).
#
# Uses from the Makefile: HOST_ARCH, HOSTCC, triplet_<arch>, MAKE.

VM_PKGS := qemu-system-arm qemu-system-ppc qemu-system-misc qemu-system-x86 \
	qemu-system-data cpio
# Longest first, so that VM_JOBS parallel VMs finish close together.
VM_ARCHS := x86_64 ppc64le aarch64 s390x
# Each VM runs its vCPUs on one host thread (see run-vm.sh): two at a time
# use both cores of a 2-core machine.
VM_JOBS ?= 2
# Seconds a VM may take from boot to power-off (run-vm.sh); VM_JOBS at a
# time, so the worst case stays within the 20 minutes of make cross-test.
VM_TIMEOUT ?= 300
VM_DIR := build/vm
VM_LISTS := cross-tests/vm/base.list

# The build directory of an architecture's static binaries, and what its
# make needs on the command line for them.
vm_build = $(if $(filter $(1),$(HOST_ARCH)),build/$(1)-static,build/$(1))
vm_make_args = ARCH=$(1) BUILD=$(call vm_build,$(1)) \
	$(if $(filter $(1),$(HOST_ARCH)),STATIC=-static)
vm_cc = $(if $(filter $(1),$(HOST_ARCH)),$(HOSTCC),$(triplet_$(1))-gcc)

# What goes into the guest (run-vm.sh FILE arguments) ...
vm_files = $(call vm_build,$(1))/criu=/criu \
	$(call vm_build,$(1))/tests/unit/test-compel=/test-compel
# ... and the make targets of the architecture's build that produce it.
vm_targets = $(foreach f,$(call vm_files,$(1)),$(firstword $(subst =, ,$(f))))

VM_INIT_CFLAGS := -static -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE

.PHONY: vm-test $(foreach a,$(VM_ARCHS),vm-test-$(a) vm-build-$(a) vm-run-$(a))

$(VM_DIR)/%/init: cross-tests/vm/init.c
	@mkdir -p $(dir $@)
	$(call vm_cc,$*) $(VM_INIT_CFLAGS) -o $@ $<

$(VM_DIR)/%/tests.list: $(VM_LISTS)
	@mkdir -p $(dir $@)
	cat $(VM_LISTS) >$@

# vm-build-<arch>: a failed build is reported as that architecture's
# failure in $(VM_DIR)/<arch>.out (what vm-test sums up), not a stop.
define VM_ARCH_RULES
vm-build-$(1):
	@mkdir -p $(VM_DIR); rm -f $(VM_DIR)/$(1).out; \
	start=$$$$(date +%s); \
	if $(MAKE) --no-print-directory $(call vm_make_args,$(1)) $(call vm_targets,$(1)) \
		>$(VM_DIR)/$(1)-build.log 2>&1 && \
	   $(MAKE) --no-print-directory $(VM_DIR)/$(1)/init $(VM_DIR)/$(1)/tests.list \
		>>$(VM_DIR)/$(1)-build.log 2>&1; then \
		echo "vm[$(1)]: built in $$$$(($$$$(date +%s) - start)) s"; \
	else \
		tail -n 30 $(VM_DIR)/$(1)-build.log; \
		echo "vm[$(1)]: FAIL the build (log: $(VM_DIR)/$(1)-build.log)" | tee $(VM_DIR)/$(1).out; \
		echo "vm[$(1)]: 0 passed, 1 failed (not built)" | tee -a $(VM_DIR)/$(1).out; \
		exit 1; \
	fi

vm-run-$(1):
	@if [ -f $(VM_DIR)/$(1).out ]; then exit 1; fi; \
	VM_INIT=$(VM_DIR)/$(1)/init VM_TIMEOUT=$(VM_TIMEOUT) cross-tests/vm/run-vm.sh $(1) $(VM_DIR)/$(1)/tests.list \
		$(call vm_files,$(1)) >$(VM_DIR)/$(1).run 2>&1; rc=$$$$?; \
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
