/* test_blockstore: tests not written yet */
#include "harness.h"
