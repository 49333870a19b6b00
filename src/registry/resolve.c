/* resolve.c: not written yet */
