/* blockstore.c: not written yet */
