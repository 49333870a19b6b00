/* test_multibase: tests not written yet */
#include "harness.h"
