/* test_multistream.c: tests not written yet */
#include "harness.h"
