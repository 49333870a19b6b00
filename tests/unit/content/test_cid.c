/* test_cid: tests not written yet */
#include "harness.h"
