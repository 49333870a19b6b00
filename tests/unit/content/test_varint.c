/* test_varint: tests not written yet */
#include "harness.h"
