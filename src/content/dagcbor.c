/* dagcbor.c: not written yet */
