/* test_identify.c: tests not written yet */
#include "harness.h"
