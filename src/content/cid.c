/* cid.c: not written yet */
