/* search.c: not written yet */
