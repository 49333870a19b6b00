/* test_unixfs: tests not written yet */
#include "harness.h"
