#!/bin/bash
# Every fault point of `criu restore -d` of fault-tree's tree, with criu
# killed there (kill -9): before the tasks are released the tree must be
# entirely gone (every pid free) and the next restore must succeed; after,
# the tree must be whole; the log shows the point as the last step criu
# reached.
bash "$TOP/tests/e2e/fault-walk.sh" restore-kill
