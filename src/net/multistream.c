/* multistream.c: not written yet */
