#!/bin/bash
# The qemu-system tests of every architecture (cross-tests/vm/, issue 6):
# builds what the VMs need and boots them through `make vm-test`, which
# prints one line per architecture with its boot+tests time.  Run by
# `make cross-test` from the top of the tree (HOST_ARCH in the environment).
#
# VM_JOBS (default 2) VMs run at a time; the whole is bounded by
# VM_TEST_TIMEOUT seconds (default 1320: the fault walks of
# cross-tests/vm/fault.list made it grow from 1080).
set -u
cd "$(dirname "$0")/.." || exit 1

limit=${VM_TEST_TIMEOUT:-1320}
start=$(date +%s)
timeout -k 30 "$limit" make --no-print-directory \
	${VM_JOBS:+VM_JOBS=$VM_JOBS} vm-test
rc=$?
[ "$rc" = 124 ] && echo "vm: make vm-test did not finish within $limit s"
echo "vm: $(($(date +%s) - start)) s in all (builds included)"
exit "$rc"
