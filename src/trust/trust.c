/* trust.c: not written yet */
