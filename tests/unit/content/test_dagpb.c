/* test_dagpb: tests not written yet */
#include "harness.h"
