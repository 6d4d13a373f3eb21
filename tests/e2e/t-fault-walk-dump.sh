#!/bin/bash
# Every fault point of `criu dump -R` of fault-tree's tree, failing there:
# after each the tree must run as before (its own check: memory, mappings,
# fds, signal masks, not stopped, not traced) and criu must have made no
# file outside the images dir.  The same with criu killed at each point is
# t-fault-walk-dump-kill.sh.
bash "$TOP/tests/e2e/fault-walk.sh" dump-fail
