/* test_yamux.c: tests not written yet */
#include "harness.h"
