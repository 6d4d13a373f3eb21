#!/bin/bash
# Every fault point of `criu dump -R` of fault-tree's tree (compel's steps
# inside the parasite's load, thread moves and unload included), with criu
# killed there (kill -9): the tree must run as before (its own check), with
# one thing allowed per kill: the parasite's area, one rwx shared anonymous
# mapping in the task it was loaded in (docs/faults.md says why); no
# descriptor, no other mapping, no stopped or traced thread.
bash "$TOP/tests/e2e/fault-walk.sh" dump-kill
