/* test_trust: tests not written yet */
#include "harness.h"
