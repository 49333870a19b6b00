/* test_keys: tests not written yet */
#include "harness.h"
