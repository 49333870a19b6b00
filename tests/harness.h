/*
 * harness.h - the unit test harness.
 *
 * A test file defines tests with TEST(name) { ... } and links harness.c,
 * which provides main(). Each test runs in its own process (fork), so a crash
 * or a sanitizer report fails that test only. The binary prints one line per
 * test ("ok name" / "FAIL name") and ends with "N passed, N failed"; it exits
 * non-zero when any test failed. Arguments, if any, select tests whose name
 * contains one of them.
 *
 * ASSERT* macros print the file, line and the values, then end the test
 * process with status 1.
 */
#ifndef GM_TEST_HARNESS_H
#define GM_TEST_HARNESS_H

#include "internal.h"

typedef void (*gm_test_fn)(void);
void gm_test_register(const char *name, gm_test_fn fn);
void gm_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* Path of the shared data folder (GGEN_SHARED or ../shared), or NULL. */
const char *gm_test_shared_dir(void);
/* Makes a fresh temporary folder for this test; removed at exit. */
const char *gm_test_tmpdir(void);

#define TEST(name)                                                            \
	static void test_##name(void);                                        \
	__attribute__((constructor)) static void register_##name(void)        \
	{                                                                     \
		gm_test_register(#name, test_##name);                         \
	}                                                                     \
	static void test_##name(void)

#define ASSERT(c)                                                             \
	do {                                                                  \
		if (!(c))                                                     \
			gm_test_fail(__FILE__, __LINE__, "ASSERT(%s)", #c);   \
	} while (0)

#define ASSERT_EQ(a, b)                                                       \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_)                                                 \
			gm_test_fail(__FILE__, __LINE__,                      \
				     "ASSERT_EQ(%s, %s): %lld != %lld", #a,   \
				     #b, a_, b_);                             \
	} while (0)

#define ASSERT_OK(e)                                                          \
	do {                                                                  \
		gm_err e_ = (e);                                              \
		if (e_ != GM_OK)                                              \
			gm_test_fail(__FILE__, __LINE__, "%s returned %s",    \
				     #e, gm_errname(e_));                     \
	} while (0)

#define ASSERT_ERR(e, want)                                                   \
	do {                                                                  \
		gm_err e_ = (e);                                              \
		if (e_ != (want))                                             \
			gm_test_fail(__FILE__, __LINE__,                      \
				     "%s returned %s, expected %s", #e,       \
				     gm_errname(e_), gm_errname(want));       \
	} while (0)

#define ASSERT_STREQ(a, b)                                                    \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                        \
			gm_test_fail(__FILE__, __LINE__,                      \
				     "ASSERT_STREQ(%s, %s): \"%s\" != \"%s\"", \
				     #a, #b, a_ ? a_ : "(null)",              \
				     b_ ? b_ : "(null)");                     \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                 \
	do {                                                                  \
		if (memcmp((a), (b), (n)) != 0)                               \
			gm_test_fail(__FILE__, __LINE__,                      \
				     "ASSERT_MEMEQ(%s, %s, %s) differ", #a,   \
				     #b, #n);                                 \
	} while (0)

#endif
