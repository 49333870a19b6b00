/* identify.c: not written yet */
