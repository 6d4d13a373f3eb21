# The e2e test programs: one self-checking program per behaviour, each built
# from tests/e2e/progs/<name>.c and lib.c into $(BUILD)/tests/e2e/progs/<name>.
# Included by the top Makefile; `make e2e-progs` (any ARCH) builds them all.

E2E_PROGS_SRC := tests/e2e/progs
E2E_PROGS_OUT := $(BUILD)/tests/e2e/progs
E2E_PROGS_C := $(filter-out $(E2E_PROGS_SRC)/lib.c,$(sort $(wildcard $(E2E_PROGS_SRC)/*.c)))
E2E_PROGS := $(patsubst $(E2E_PROGS_SRC)/%.c,$(E2E_PROGS_OUT)/%,$(E2E_PROGS_C))
E2E_PROGS_H := $(wildcard $(E2E_PROGS_SRC)/*.h)
E2E_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Werror -D_GNU_SOURCE -pthread

.PHONY: e2e-progs
e2e-progs: $(E2E_PROGS)

# An explicit rule, so the tree's $(BUILD)/%.o rule (and its flags) stays out.
$(E2E_PROGS_OUT)/lib.o: $(E2E_PROGS_SRC)/lib.c $(E2E_PROGS_H)
	@mkdir -p $(dir $@)
	$(CC) $(E2E_CFLAGS) -c -o $@ $<

$(E2E_PROGS_OUT)/%: $(E2E_PROGS_SRC)/%.c $(E2E_PROGS_OUT)/lib.o $(E2E_PROGS_H)
	@mkdir -p $(dir $@)
	$(CC) $(STATIC) $(E2E_CFLAGS) -o $@ $< $(E2E_PROGS_OUT)/lib.o -lrt -lm
