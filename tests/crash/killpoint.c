/*
 * killpoint.c - a preload library for crash tests: SIGKILL at the N-th write.
 *
 * Loaded with LD_PRELOAD into a `ggen` process, it counts every call that
 * changes the disk — write, pwrite, writev, fsync, fdatasync, rename,
 * renameat2, unlink, unlinkat, mkdir, mkdirat, rmdir, ftruncate, link,
 * linkat — and, when GM_KILL_AT=N is set, kills the process with SIGKILL
 * just before the N-th such call, exactly as a power cut or `kill -9`
 * would leave things (the call never happens). With GM_KILL_COUNT=PATH it
 * instead writes the total number of calls to PATH at exit, so a test
 * knows how many kill points a command has.
 *
 * Writes to stdout and stderr (fd 1 and 2) are not counted.
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
		int fd = open(count_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%lu\n", count);

		if (fd >= 0) {
			ssize_t w = ((ssize_t(*)(int, const void *, size_t))
					     dlsym(RTLD_NEXT, "write"))(fd, buf,
									(size_t)n);
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

#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd > 2)
		point();
	return NEXT("write", ssize_t(*)(int, const void *, size_t))(fd, buf,
								     n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	point();
	return NEXT("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(
		fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	point();
	return NEXT("pwrite64",
		    ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n,
								  off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (fd > 2)
		point();
	return NEXT("writev", ssize_t(*)(int, const struct iovec *, int))(
		fd, iov, cnt);
}

int fsync(int fd)
{
	point();
	return NEXT("fsync", int (*)(int))(fd);
}

int fdatasync(int fd)
{
	point();
	return NEXT("fdatasync", int (*)(int))(fd);
}

int rename(const char *a, const char *b)
{
	point();
	return NEXT("rename", int (*)(const char *, const char *))(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	point();
	return NEXT("renameat", int (*)(int, const char *, int, const char *))(
		da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned fl)
{
	point();
	return NEXT("renameat2",
		    int (*)(int, const char *, int, const char *, unsigned))(
		da, a, db, b, fl);
}

int unlink(const char *p)
{
	point();
	return NEXT("unlink", int (*)(const char *))(p);
}

int unlinkat(int d, const char *p, int fl)
{
	point();
	return NEXT("unlinkat", int (*)(int, const char *, int))(d, p, fl);
}

int mkdir(const char *p, mode_t m)
{
	point();
	return NEXT("mkdir", int (*)(const char *, mode_t))(p, m);
}

int mkdirat(int d, const char *p, mode_t m)
{
	point();
	return NEXT("mkdirat", int (*)(int, const char *, mode_t))(d, p, m);
}

int rmdir(const char *p)
{
	point();
	return NEXT("rmdir", int (*)(const char *))(p);
}

int ftruncate(int fd, off_t len)
{
	point();
	return NEXT("ftruncate", int (*)(int, off_t))(fd, len);
}

int link(const char *a, const char *b)
{
	point();
	return NEXT("link", int (*)(const char *, const char *))(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int fl)
{
	point();
	return NEXT("linkat",
		    int (*)(int, const char *, int, const char *, int))(
		da, a, db, b, fl);
}
