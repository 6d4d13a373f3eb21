#!/bin/bash
# Every fault point of `criu restore -d` of fault-tree's tree, failing
# there: before the tasks are released the tree must be entirely gone (every
# pid free, no file outside the images dir) and the next restore must
# succeed; after, the tree must be whole.
bash "$TOP/tests/e2e/fault-walk.sh" restore-fail
