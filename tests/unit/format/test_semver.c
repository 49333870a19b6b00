/* test_semver: tests not written yet */
#include "harness.h"
