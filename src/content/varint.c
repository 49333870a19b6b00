/* varint.c: not written yet */
