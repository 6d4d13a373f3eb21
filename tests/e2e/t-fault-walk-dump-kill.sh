#!/bin/bash
# Every fault point of `criu dump -R` of fault-tree's tree, with criu killed
# there (SIGKILL): the parasite cures itself, and after each kill the tree
# must run as before (fault-tree's own check) with nothing of criu's left in
# it but the parasite's area (docs/faults.md), and no file outside the
# images dir.
bash "$TOP/tests/e2e/fault-walk.sh" dump-kill
