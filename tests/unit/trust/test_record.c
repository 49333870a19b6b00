/* test_record: tests not written yet */
#include "harness.h"
