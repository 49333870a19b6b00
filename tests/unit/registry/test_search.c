/* test_search: tests not written yet */
#include "harness.h"
