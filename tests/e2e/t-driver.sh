# criu driven as upstream's zdtm and the container tools drive it: option
# spellings, config files ($HOME/.criu/default.conf, CRIU_CONFIG_FILE,
# --config, --no-default-config), refusals by name, feature checks and the
# stats fields, on the e2e programs (tests/e2e/driver.py); and every option
# of upstream's criu(8) accepted or refused by name (every-option.py).
. "$TOP/tests/e2e/lib.sh"
make -C "$TOP" --no-print-directory e2e-progs >make.log 2>&1 || { cat make.log; fail "make e2e-progs"; }
progs="$TOP/${BUILD:-build/$(uname -m)}/tests/e2e/progs"
python3 "$TOP/tests/e2e/driver.py" "$CRIU" "$progs" "$PWD/driver" || fail "driver"
python3 "$TOP/tests/e2e/every-option.py" "$CRIU" "$TOP/tests/fixtures/upstream-options.txt" \
	"$TOP/docs/options.md" "$PWD/every" || fail "every option"
echo PASS
