/* test_pb.c: tests not written yet */
#include "harness.h"
