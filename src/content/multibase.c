/* multibase.c: not written yet */
