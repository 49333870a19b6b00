/* test_dagcbor: tests not written yet */
#include "harness.h"
