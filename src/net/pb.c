/* pb.c: not written yet */
