/* noise.c: not written yet */
