/*
 * killpoint.c - a preload library for crash tests: SIGKILL at the N-th write.
 *
 * Loaded with LD_PRELOAD into a `ggen` process, it counts every call that
 * changes the disk and, when GM_KILL_AT=N is set, kills the process with
 * SIGKILL just before the N-th such call, exactly as a power cut or `kill -9`
 * would leave things (the call never happens). With GM_KILL_COUNT=PATH it
 * instead writes the total number of calls to PATH at exit, so a test
 * knows how many kill points a command has.
 *
 * The counted calls (every write-like import of ggen and of libsqlite3, as
 * `nm -D` and `strace -f -c` of a publish and an install show them):
 *
 *   | call                                | why                               |
 *   |-------------------------------------|-----------------------------------|
 *   | write, writev (fd > 2)              | file contents (not stdout/stderr) |
 *   | pwrite, pwrite64, pwritev, pwritev2 | SQLite's WAL and database pages   |
 *   | fsync, fdatasync                    | durability points                 |
 *   | ftruncate, ftruncate64              | SQLite truncates the WAL/journal  |
 *   | rename, renameat, renameat2         | atomic replaces, the install swap |
 *   | unlink, unlinkat, rmdir             | removals                          |
 *   | mkdir, mkdirat, link, linkat        | new names                         |
 *   | open, open64, openat, openat64,     | only when they create a file or   |
 *   | creat                               | truncate one (O_TRUNC)            |
 *
 * Not counted: fchown/fchmod (SQLite sets the owner and mode of a file it
 * just made: no content changes), writes through mmap (SQLite's -shm
 * index, rebuilt on open). Writes to stdout and stderr (fd 1 and 2) are not
 * counted.
 *
 * The project builds with -fvisibility=hidden; every wrapper is exported
 * explicitly (KP_EXPORT), or the dynamic linker would never see it. Under
 * ASan the executable's interceptors (write, pwrite64, ...) come first and
 * reach these wrappers through dlsym(RTLD_NEXT), so the counts hold there
 * too.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define KP_EXPORT __attribute__((visibility("default")))
#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

static unsigned long kill_at;
static unsigned long count;
static const char *count_path;

__attribute__((constructor)) static void killpoint_init(void)
{
	const char *at = getenv("GM_KILL_AT");

	if (at)
		kill_at = strtoul(at, NULL, 10);
	count_path = getenv("GM_KILL_COUNT");
}

__attribute__((destructor)) static void killpoint_fini(void)
{
	if (count_path) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%lu\n", count);
		int fd = NEXT("open", int (*)(const char *, int, ...))(
			count_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			ssize_t w = NEXT("write",
					 ssize_t(*)(int, const void *, size_t))(
				fd, buf, (size_t)n);
			(void)w;
			close(fd);
		}
	}
}

static void point(void)
{
	count++;
	if (kill_at && count == kill_at)
		raise(SIGKILL);
}

KP_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd > 2)
		point();
	return NEXT("write", ssize_t(*)(int, const void *, size_t))(fd, buf,
								     n);
}

KP_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	point();
	return NEXT("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(
		fd, buf, n, off);
}

KP_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	point();
	return NEXT("pwrite64",
		    ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n,
								  off);
}

KP_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (fd > 2)
		point();
	return NEXT("writev", ssize_t(*)(int, const struct iovec *, int))(
		fd, iov, cnt);
}

KP_EXPORT int fsync(int fd)
{
	point();
	return NEXT("fsync", int (*)(int))(fd);
}

KP_EXPORT int fdatasync(int fd)
{
	point();
	return NEXT("fdatasync", int (*)(int))(fd);
}

KP_EXPORT int rename(const char *a, const char *b)
{
	point();
	return NEXT("rename", int (*)(const char *, const char *))(a, b);
}

KP_EXPORT int renameat(int da, const char *a, int db, const char *b)
{
	point();
	return NEXT("renameat", int (*)(int, const char *, int, const char *))(
		da, a, db, b);
}

KP_EXPORT int renameat2(int da, const char *a, int db, const char *b,
			unsigned fl)
{
	point();
	return NEXT("renameat2",
		    int (*)(int, const char *, int, const char *, unsigned))(
		da, a, db, b, fl);
}

KP_EXPORT int unlink(const char *p)
{
	point();
	return NEXT("unlink", int (*)(const char *))(p);
}

KP_EXPORT int unlinkat(int d, const char *p, int fl)
{
	point();
	return NEXT("unlinkat", int (*)(int, const char *, int))(d, p, fl);
}

KP_EXPORT int mkdir(const char *p, mode_t m)
{
	point();
	return NEXT("mkdir", int (*)(const char *, mode_t))(p, m);
}

KP_EXPORT int mkdirat(int d, const char *p, mode_t m)
{
	point();
	return NEXT("mkdirat", int (*)(int, const char *, mode_t))(d, p, m);
}

KP_EXPORT int rmdir(const char *p)
{
	point();
	return NEXT("rmdir", int (*)(const char *))(p);
}

KP_EXPORT int ftruncate(int fd, off_t len)
{
	point();
	return NEXT("ftruncate", int (*)(int, off_t))(fd, len);
}

KP_EXPORT int link(const char *a, const char *b)
{
	point();
	return NEXT("link", int (*)(const char *, const char *))(a, b);
}

KP_EXPORT int linkat(int da, const char *a, int db, const char *b, int fl)
{
	point();
	return NEXT("linkat",
		    int (*)(int, const char *, int, const char *, int))(
		da, a, db, b, fl);
}

KP_EXPORT int ftruncate64(int fd, off64_t len)
{
	point();
	return NEXT("ftruncate64", int (*)(int, off64_t))(fd, len);
}

KP_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	point();
	return NEXT("pwritev",
		    ssize_t(*)(int, const struct iovec *, int, off_t))(
		fd, iov, cnt, off);
}

KP_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt,
			   off_t off, int fl)
{
	point();
	return NEXT("pwritev2",
		    ssize_t(*)(int, const struct iovec *, int, off_t, int))(
		fd, iov, cnt, off, fl);
}

/*
 * An open changes the disk when it truncates or creates: O_TRUNC, O_EXCL,
 * or O_CREAT on a name that does not exist yet (SQLite opens its database
 * with O_CREAT every time: that is no change).
 */
static void open_point(int dirfd, const char *p, int fl)
{
	if ((fl & O_TRUNC) && (fl & O_ACCMODE) != O_RDONLY)
		point();
	else if ((fl & O_CREAT) &&
		 ((fl & O_EXCL) || faccessat(dirfd, p, F_OK, 0) != 0))
		point();
}

static mode_t open_mode(int fl, va_list ap)
{
	return (fl & O_CREAT) || (fl & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

#define OPEN_WRAPPER(name)                                                  \
	KP_EXPORT int name(const char *p, int fl, ...)                      \
	{                                                                   \
		va_list ap;                                                 \
		mode_t m;                                                   \
                                                                            \
		va_start(ap, fl);                                           \
		m = open_mode(fl, ap);                                      \
		va_end(ap);                                                 \
		open_point(AT_FDCWD, p, fl);                                \
		return NEXT(#name, int (*)(const char *, int, ...))(p, fl,  \
								      m);   \
	}
#define OPENAT_WRAPPER(name)                                                \
	KP_EXPORT int name(int d, const char *p, int fl, ...)               \
	{                                                                   \
		va_list ap;                                                 \
		mode_t m;                                                   \
                                                                            \
		va_start(ap, fl);                                           \
		m = open_mode(fl, ap);                                      \
		va_end(ap);                                                 \
		open_point(d, p, fl);                                       \
		return NEXT(#name, int (*)(int, const char *, int, ...))(   \
			d, p, fl, m);                                       \
	}

OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

KP_EXPORT int creat(const char *p, mode_t m)
{
	point();
	return NEXT("creat", int (*)(const char *, mode_t))(p, m);
}
