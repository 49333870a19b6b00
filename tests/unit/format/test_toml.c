/* test_toml: tests not written yet */
#include "harness.h"
