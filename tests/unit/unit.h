/*
 * A tiny unit test harness.  Each test-*.c file defines tests with TEST()
 * and ends with UNIT_MAIN().  The binary prints one line per failed check
 * and "unit: <file>: N passed, N failed" at the end; exit 1 on any failure.
 */
#ifndef CRIU_UNIT_H
#define CRIU_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_MAX_TESTS 512
extern struct unit_test unit_tests[UNIT_MAX_TESTS];
extern int unit_ntests, unit_failed_checks;

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void register_##name(void)          \
	{                                                                       \
		if (unit_ntests < UNIT_MAX_TESTS)                               \
			unit_tests[unit_ntests++] = (struct unit_test){ #name, test_##name }; \
	}                                                                       \
	static void test_##name(void)

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			unit_failed_checks++;                                    \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                       \
		if (_a != _b) {                                                           \
			printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
			       #a, #b, _a, _b);                                            \
			unit_failed_checks++;                                             \
		}                                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                 \
	do {                                                                            \
		const char *_a = (a), *_b = (b);                                        \
		if (!_a || !_b || strcmp(_a, _b)) {                                      \
			printf("  FAIL %s:%d: %s == \"%s\" (got \"%s\")\n", __FILE__, __LINE__, \
			       #a, _b ? _b : "(null)", _a ? _a : "(null)");             \
			unit_failed_checks++;                                           \
		}                                                                       \
	} while (0)

#define UNIT_MAIN()                                                                   \
	struct unit_test unit_tests[UNIT_MAX_TESTS];                                  \
	int unit_ntests, unit_failed_checks;                                          \
	int main(int argc, char **argv)                                               \
	{                                                                             \
		int passed = 0, failed = 0;                                           \
		for (int i = 0; i < unit_ntests; i++) {                               \
			int before = unit_failed_checks;                              \
			if (argc > 1 && strcmp(argv[1], unit_tests[i].name))          \
				continue;                                             \
			unit_tests[i].fn();                                           \
			if (unit_failed_checks != before) {                           \
				printf("FAIL %s\n", unit_tests[i].name);              \
				failed++;                                             \
			} else {                                                      \
				passed++;                                             \
			}                                                             \
		}                                                                     \
		printf("unit: %s: %d passed, %d failed\n", __FILE__, passed, failed); \
		return failed ? 1 : 0;                                                \
	}

#endif
