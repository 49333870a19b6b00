/* test_peerid.c: tests not written yet */
#include "harness.h"
