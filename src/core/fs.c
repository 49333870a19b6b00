/*
 * fs.c - file system helpers (see gm/fs.h).
 *
 * The durable write protocol used by the block store and every other file
 * that must survive a crash:
 *
 *   1. open "<dir>/.tmp-<name>-<pid>-<n>" with O_CREAT|O_EXCL
 *   2. write all bytes, fsync the file
 *   3. rename over the target
 *   4. fsync the folder, so the rename itself is durable
 *
 * A crash before step 3 leaves at most a temporary file, which the owner of
 * the folder may delete; never a torn target.
 */
#include "internal.h"

#include <dirent.h>

#include "gm/fs.h"

char *gm_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool slash = la && a[la - 1] != '/';
	char *p = gm_malloc(la + slash + lb + 1);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (slash)
		p[la] = '/';
	memcpy(p + la + slash, b, lb + 1);
	return p;
}

gm_err gm_fs_mkdir_p(const char *path, unsigned mode, struct gm_diag *d)
{
	char *p = gm_strdup(path);
	gm_err e = GM_OK;
	size_t i, n;

	if (!p)
		return GM_ENOMEM;
	n = strlen(p);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot create folder '%s': %s", p,
					strerror(errno));
			break;
		}
		if (i < n)
			p[i] = '/';
	}
	gm_free(p);
	return e;
}

gm_err gm_fs_read_file(const char *path, struct gm_buf *out,
		       struct gm_diag *d)
{
	struct stat st;
	uint8_t chunk[65536];
	gm_err e = GM_OK;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open '%s': %s", path,
				   strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gm_diag_set(d, GM_EINVAL, "'%s' is not a regular file",
				   path);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = gm_diag_set(d, gm_err_from_errno(errno),
					"cannot read '%s': %s", path,
					strerror(errno));
			break;
		}
		if (n == 0)
			break;
		e = gm_buf_append(out, chunk, (size_t)n);
		if (e == GM_ELIMIT) {
			gm_diag_set(d, e, "'%s' is larger than %zu bytes", path,
				    out->limit);
			break;
		}
		if (e)
			break;
	}
	close(fd);
	return e;
}

gm_err gm_fs_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gm_err_from_errno(errno);
		p += n;
		len -= (size_t)n;
	}
	return GM_OK;
}

gm_err gm_fs_fsync_dir(const char *path, struct gm_diag *d)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gm_err e = GM_OK;

	if (fd < 0)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open folder '%s': %s", path,
				   strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot sync folder '%s': %s", path,
				strerror(errno));
	close(fd);
	return e;
}

static void tmp_free(struct gm_fs_tmp *t)
{
	gm_free(t->tmp);
	gm_free(t->path);
	gm_free(t->dir);
	t->tmp = NULL;
	t->path = NULL;
	t->dir = NULL;
	t->fd = -1;
}

gm_err gm_fs_tmp_open(struct gm_fs_tmp *t, const char *path, unsigned mode,
		      struct gm_diag *d)
{
	static unsigned long seq;
	const char *slash = strrchr(path, '/');
	size_t tlen = strlen(path) + 64;
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	t->fd = -1;
	t->path = gm_strdup(path);
	t->tmp = gm_malloc(tlen);
	t->dir = slash ? gm_strndup(path, dlen ? dlen : 1) : gm_strdup(".");
	if (!t->path || !t->tmp || !t->dir) {
		tmp_free(t);
		return GM_ENOMEM;
	}
	if (slash)
		snprintf(t->tmp, tlen, "%.*s/.tmp-%ld-%lu", (int)(dlen ? dlen : 1),
			 path, (long)getpid(), ++seq);
	else
		snprintf(t->tmp, tlen, ".tmp-%ld-%lu", (long)getpid(), ++seq);
	t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     (mode_t)mode);
	if (t->fd < 0) {
		gm_err e = gm_diag_set(d, gm_err_from_errno(errno),
				       "cannot create '%s': %s", t->tmp,
				       strerror(errno));

		tmp_free(t);
		return e;
	}
	return GM_OK;
}

void gm_fs_tmp_abort(struct gm_fs_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->tmp)
		unlink(t->tmp);
	tmp_free(t);
}

gm_err gm_fs_tmp_commit(struct gm_fs_tmp *t, struct gm_diag *d)
{
	gm_err e = GM_OK;

	if (!t->tmp)
		return GM_EINVAL;
	if (fsync(t->fd) != 0)
		e = gm_err_from_errno(errno);
	if (close(t->fd) != 0 && !e)
		e = gm_err_from_errno(errno);
	t->fd = -1;
	if (e) {
		gm_diag_set(d, e, "cannot write '%s': %s", t->path,
			    gm_strerror(e));
		gm_fs_tmp_abort(t);
		return e;
	}
	if (rename(t->tmp, t->path) != 0) {
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot rename into '%s': %s", t->path,
				strerror(errno));
		gm_fs_tmp_abort(t);
		return e;
	}
	e = gm_fs_fsync_dir(t->dir, d);
	tmp_free(t);
	return e;
}

gm_err gm_fs_write_atomic(const char *path, const void *data, size_t len,
			  unsigned mode, struct gm_diag *d)
{
	struct gm_fs_tmp t;
	gm_err e = gm_fs_tmp_open(&t, path, mode, d);

	if (e)
		return e;
	e = gm_fs_write_all(t.fd, data, len);
	if (e) {
		gm_diag_set(d, e, "cannot write '%s': %s", path,
			    gm_strerror(e));
		gm_fs_tmp_abort(&t);
		return e;
	}
	return gm_fs_tmp_commit(&t, d);
}

gm_err gm_fs_remove_tree(const char *path, struct gm_diag *d)
{
	struct stat st;
	DIR *dir;
	struct dirent *ent;
	gm_err e = GM_OK;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? GM_OK
				       : gm_diag_set(d, gm_err_from_errno(errno),
						     "cannot stat '%s': %s",
						     path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0)
			return gm_diag_set(d, gm_err_from_errno(errno),
					   "cannot remove '%s': %s", path,
					   strerror(errno));
		return GM_OK;
	}
	dir = opendir(path);
	if (!dir)
		return gm_diag_set(d, gm_err_from_errno(errno),
				   "cannot open folder '%s': %s", path,
				   strerror(errno));
	while (!e && (ent = readdir(dir)) != NULL) {
		char *child;

		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		child = gm_path_join(path, ent->d_name);
		if (!child) {
			e = GM_ENOMEM;
			break;
		}
		e = gm_fs_remove_tree(child, d);
		gm_free(child);
	}
	closedir(dir);
	if (!e && rmdir(path) != 0)
		e = gm_diag_set(d, gm_err_from_errno(errno),
				"cannot remove folder '%s': %s", path,
				strerror(errno));
	return e;
}
