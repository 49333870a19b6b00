/* unixfs_import.c: not written yet */
