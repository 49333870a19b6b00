/* test_resolve: tests not written yet */
#include "harness.h"
