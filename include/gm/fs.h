/*
 * fs.h - file system helpers at the system boundary.
 *
 * errno becomes gm_err here, and the diagnostic names the path. Writes that
 * must survive a crash go through gm_fs_write_atomic(): temporary file in the
 * same folder, write, fsync, rename over the target, fsync of the folder.
 */
#ifndef GM_FS_H
#define GM_FS_H

#include "gm/buf.h"
#include "gm/gm.h"

/* Creates path and missing parents with the given mode; existing is fine. */
GM_EXTERN gm_err gm_fs_mkdir_p(const char *path, unsigned mode,
			       struct gm_diag *d);
/* Reads a whole regular file into out (appends); GM_ELIMIT past out->limit. */
GM_EXTERN gm_err gm_fs_read_file(const char *path, struct gm_buf *out,
				 struct gm_diag *d);
/*
 * Writes data to path atomically and durably (see above). mode is the file
 * mode of the new file (e.g. 0644).
 */
GM_EXTERN gm_err gm_fs_write_atomic(const char *path, const void *data,
				    size_t len, unsigned mode,
				    struct gm_diag *d);
/*
 * A file being written for an atomic replace: gm_fs_tmp_open() creates a
 * temporary sibling of path (mode as given) and gives its descriptor in
 * t->fd; the caller writes; gm_fs_tmp_commit() syncs, closes and renames it
 * over path and syncs the folder; gm_fs_tmp_abort() closes and removes it.
 * Exactly one of commit or abort must follow a successful open; both free
 * t and are safe to call after the other has run.
 */
struct gm_fs_tmp {
	int fd;
	char *tmp;
	char *path;
	char *dir; /* allocated at open, so commit never allocates */
};
GM_EXTERN gm_err gm_fs_tmp_open(struct gm_fs_tmp *t, const char *path,
				unsigned mode, struct gm_diag *d);
GM_EXTERN gm_err gm_fs_tmp_commit(struct gm_fs_tmp *t, struct gm_diag *d);
GM_EXTERN void gm_fs_tmp_abort(struct gm_fs_tmp *t);

/* fsync of a folder, so a rename or unlink in it is durable. */
GM_EXTERN gm_err gm_fs_fsync_dir(const char *path, struct gm_diag *d);
/* Writes all of len bytes to fd, retrying on EINTR and short writes. */
GM_EXTERN gm_err gm_fs_write_all(int fd, const void *data, size_t len);
/* Removes a file tree (like rm -rf); a missing path is fine. */
GM_EXTERN gm_err gm_fs_remove_tree(const char *path, struct gm_diag *d);
/* Joins a and b with one '/' into a new string (gm_free it); NULL on ENOMEM. */
GM_EXTERN char *gm_path_join(const char *a, const char *b);

#endif
