/* yamux.c: not written yet */
