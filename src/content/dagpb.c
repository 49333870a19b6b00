/* dagpb.c: not written yet */
