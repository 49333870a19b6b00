/* test_registry: tests not written yet */
#include "harness.h"
