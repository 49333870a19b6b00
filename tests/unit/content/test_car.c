/* test_car: tests not written yet */
#include "harness.h"
