/* ping.c: not written yet */
