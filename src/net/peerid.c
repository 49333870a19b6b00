/* peerid.c: not written yet */
