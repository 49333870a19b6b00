/* unixfs_export.c: not written yet */
