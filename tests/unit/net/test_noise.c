/* test_noise.c: tests not written yet */
#include "harness.h"
