/* test_manifest: tests not written yet */
#include "harness.h"
