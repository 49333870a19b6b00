/* test_host.c: tests not written yet */
#include "harness.h"
