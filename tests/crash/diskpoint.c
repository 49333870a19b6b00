/*
 * diskpoint.c - a preload library for crash and disk-full tests: at the
 * N-th call that changes the disk, SIGKILL or a failure.
 *
 * Loaded with LD_PRELOAD into a `ggen` process, it counts every call that
 * changes the disk (the table below). With GM_KILL_AT=N it kills the
 * process with SIGKILL just before the N-th such call, as a power cut or
 * `kill -9` would leave things (the call never happens;
 * tests/integration/test_crash.sh). With GM_FAULT_AT=N it makes the N-th
 * call fail instead of running it: it returns -1 with errno set, as a full
 * or broken disk would (tests/integration/test_diskfull.sh). Settings:
 *
 *   | variable          | meaning                                          |
 *   |-------------------|--------------------------------------------------|
 *   | GM_KILL_AT=N      | SIGKILL just before the N-th counted call        |
 *   | GM_FAULT_AT=N     | the N-th counted call fails (1 is the first)     |
 *   | GM_FAULT_ERRNO=E  | ENOSPC (default), EIO or EDQUOT                  |
 *   | GM_FAULT_SHORT=1  | if call N is a write of 2 bytes or more, it      |
 *   |                   | writes half and returns that short count; the    |
 *   |                   | next counted call then fails (what a disk that   |
 *   |                   | fills up mid-write really does)                  |
 *   | GM_FAULT_STICKY=1 | every counted call from N on fails (a disk that  |
 *   |                   | stays full or stays broken)                      |
 *   | GM_FAULT_STICKY=  | from N on, only the calls that need space fail:  |
 *   |   space           | writes, creating opens, mkdir, link, rename;     |
 *   |                   | unlink, rmdir, fsync and ftruncate still work,   |
 *   |                   | as on a real full disk                           |
 *   | GM_FAULT_COUNT=P  | at exit, write the number of counted calls to P  |
 *   | (or GM_KILL_COUNT)|                                                  |
 *   | GM_FAULT_LOG=P    | at exit, append "N call errno" for every call    |
 *   |                   | that was made to fail (which call failed)        |
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
 * so GM_FAULT_AT=N and GM_KILL_AT=N name the same call of a deterministic
 * command. Not counted: fchown/fchmod (no content changes), writes through
 * mmap (SQLite's -shm index, rebuilt on open). A mkdir or O_EXCL open of a name that already exists is counted
 * but runs for real (EEXIST comes before ENOSPC on a real disk); when call
 * N is one of those, nothing fails (GM_FAULT_LOG says so by staying empty)
 * unless GM_FAULT_STICKY fails the calls after it.
 *
 * The project builds with -fvisibility=hidden; every wrapper is exported
 * explicitly (DP_EXPORT). Under ASan the executable's interceptors
 * come first and reach these wrappers through dlsym(RTLD_NEXT).
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define DP_EXPORT __attribute__((visibility("default")))
#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

enum sticky { STICKY_NO, STICKY_ALL, STICKY_SPACE };

/*
 * What a counted call is, for GM_FAULT_STICKY=space and the short write.
 * K_EXISTS is a mkdir or an O_EXCL open of a name that exists: a real disk,
 * full or not, answers EEXIST before it looks for space, so such a call is
 * counted but never made to fail (the real call runs and says EEXIST).
 */
enum kind { K_WRITE, K_SPACE, K_FREE, K_EXISTS };

static unsigned long kill_at;
static unsigned long fault_at;
static int fault_errno = ENOSPC;
static bool fault_short;
static enum sticky sticky;
static unsigned long count;
static const char *count_path;
static const char *log_path;
static bool fail_next; /* a short write happened: the next call fails */
static char log_buf[4096];
static size_t log_len;

__attribute__((constructor)) static void diskpoint_init(void)
{
	const char *kill = getenv("GM_KILL_AT");
	const char *at = getenv("GM_FAULT_AT");
	const char *e = getenv("GM_FAULT_ERRNO");
	const char *s = getenv("GM_FAULT_STICKY");
	const char *sh = getenv("GM_FAULT_SHORT");

	if (kill)
		kill_at = strtoul(kill, NULL, 10);
	if (at)
		fault_at = strtoul(at, NULL, 10);
	if (e && !strcmp(e, "EIO"))
		fault_errno = EIO;
	else if (e && !strcmp(e, "EDQUOT"))
		fault_errno = EDQUOT;
	else if (e && strcmp(e, "ENOSPC") != 0)
		fault_errno = (int)strtol(e, NULL, 10) > 0
				      ? (int)strtol(e, NULL, 10)
				      : ENOSPC;
	if (s && !strcmp(s, "space"))
		sticky = STICKY_SPACE;
	else if (s && s[0] && strcmp(s, "0") != 0)
		sticky = STICKY_ALL;
	fault_short = sh && sh[0] && strcmp(sh, "0") != 0;
	count_path = getenv("GM_FAULT_COUNT");
	if (!count_path)
		count_path = getenv("GM_KILL_COUNT");
	log_path = getenv("GM_FAULT_LOG");
}

static void put_file(const char *path, int flags, const char *buf, size_t n)
{
	int fd = NEXT("open", int (*)(const char *, int, ...))(path, flags,
								0644);

	if (fd >= 0) {
		ssize_t w = NEXT("write", ssize_t(*)(int, const void *,
						     size_t))(fd, buf, n);
		(void)w;
		close(fd);
	}
}

__attribute__((destructor)) static void diskpoint_fini(void)
{
	if (count_path) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%lu\n", count);

		put_file(count_path, O_WRONLY | O_CREAT | O_TRUNC, buf,
			 (size_t)n);
	}
	if (log_path && log_len)
		put_file(log_path, O_WRONLY | O_CREAT | O_APPEND, log_buf,
			 log_len);
}

static void log_fault(const char *call)
{
	int n;

	if (!log_path || log_len >= sizeof(log_buf) - 64)
		return;
	n = snprintf(log_buf + log_len, sizeof(log_buf) - log_len,
		     "%lu %s %s\n", count, call,
		     fault_errno == EIO ? "EIO"
		     : fault_errno == EDQUOT ? "EDQUOT"
					     : "ENOSPC");
	if (n > 0)
		log_len += (size_t)n;
}

/*
 * Counts one call; returns what to do with it: 0 run it, -1 fail it (errno
 * is set), 1 (only for a write that may be short) write half of it.
 */
static int point(const char *call, enum kind k)
{
	count++;
	if (kill_at && count == kill_at)
		raise(SIGKILL);
	if (!fault_at || count < fault_at)
		return 0;
	if (k == K_EXISTS)
		return 0;
	if (count == fault_at) {
		if (fault_short && k == K_WRITE) {
			fail_next = true;
			return 1;
		}
	} else if (fail_next) {
		fail_next = false;
	} else if (sticky == STICKY_NO ||
		   (sticky == STICKY_SPACE && k == K_FREE)) {
		return 0;
	}
	log_fault(call);
	errno = fault_errno;
	return -1;
}

/* The length of a short write: half of n, or 0 to fail it outright. */
static size_t short_len(size_t n)
{
	return n >= 2 ? n / 2 : 0;
}

/* A write of n bytes at call N when GM_FAULT_SHORT is set. */
static int write_point(const char *call, size_t n, size_t *half)
{
	int r = point(call, K_WRITE);

	*half = n;
	if (r == 1) {
		*half = short_len(n);
		if (!*half) {
			/* one byte cannot be short: fail it */
			fail_next = false;
			log_fault(call);
			errno = fault_errno;
			return -1;
		}
	}
	return r;
}

DP_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	size_t m = n;

	if (fd > 2 && write_point("write", n, &m) < 0)
		return -1;
	return NEXT("write", ssize_t(*)(int, const void *, size_t))(fd, buf,
								     m);
}

DP_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	size_t m;

	if (write_point("pwrite", n, &m) < 0)
		return -1;
	return NEXT("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(
		fd, buf, m, off);
}

DP_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	size_t m;

	if (write_point("pwrite64", n, &m) < 0)
		return -1;
	return NEXT("pwrite64",
		    ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, m,
								  off);
}

/*
 * A vector write made short: the iovecs cut to half the total. The cut
 * list lives on the caller's stack (cnt is at most IOV_MAX, 1024; a larger
 * count fails the call outright).
 */
static int cut_iov(const struct iovec *iov, int cnt, struct iovec *out)
{
	size_t total = 0, want;
	int i;

	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	want = short_len(total);
	for (i = 0; i < cnt && want; i++) {
		out[i] = iov[i];
		if (out[i].iov_len > want)
			out[i].iov_len = want;
		want -= out[i].iov_len;
	}
	return i;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;
	int i;

	for (i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

DP_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct iovec cut[1024];
	size_t m;
	int r = 0;

	if (fd > 2)
		r = write_point("writev", cnt > 0 && cnt <= 1024
						 ? iov_total(iov, cnt)
						 : 0,
				&m);
	if (r < 0)
		return -1;
	if (r == 1) {
		cnt = cut_iov(iov, cnt, cut);
		iov = cut;
	}
	return NEXT("writev", ssize_t(*)(int, const struct iovec *, int))(
		fd, iov, cnt);
}

DP_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct iovec cut[1024];
	size_t m;
	int r = write_point("pwritev",
			    cnt > 0 && cnt <= 1024 ? iov_total(iov, cnt) : 0,
			    &m);

	if (r < 0)
		return -1;
	if (r == 1) {
		cnt = cut_iov(iov, cnt, cut);
		iov = cut;
	}
	return NEXT("pwritev",
		    ssize_t(*)(int, const struct iovec *, int, off_t))(
		fd, iov, cnt, off);
}

DP_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt,
			   off_t off, int fl)
{
	struct iovec cut[1024];
	size_t m;
	int r = write_point("pwritev2",
			    cnt > 0 && cnt <= 1024 ? iov_total(iov, cnt) : 0,
			    &m);

	if (r < 0)
		return -1;
	if (r == 1) {
		cnt = cut_iov(iov, cnt, cut);
		iov = cut;
	}
	return NEXT("pwritev2",
		    ssize_t(*)(int, const struct iovec *, int, off_t, int))(
		fd, iov, cnt, off, fl);
}

DP_EXPORT int fsync(int fd)
{
	if (point("fsync", K_FREE) < 0)
		return -1;
	return NEXT("fsync", int (*)(int))(fd);
}

DP_EXPORT int fdatasync(int fd)
{
	if (point("fdatasync", K_FREE) < 0)
		return -1;
	return NEXT("fdatasync", int (*)(int))(fd);
}

DP_EXPORT int rename(const char *a, const char *b)
{
	if (point("rename", K_SPACE) < 0)
		return -1;
	return NEXT("rename", int (*)(const char *, const char *))(a, b);
}

DP_EXPORT int renameat(int da, const char *a, int db, const char *b)
{
	if (point("renameat", K_SPACE) < 0)
		return -1;
	return NEXT("renameat", int (*)(int, const char *, int, const char *))(
		da, a, db, b);
}

DP_EXPORT int renameat2(int da, const char *a, int db, const char *b,
			unsigned fl)
{
	if (point("renameat2", K_SPACE) < 0)
		return -1;
	return NEXT("renameat2",
		    int (*)(int, const char *, int, const char *, unsigned))(
		da, a, db, b, fl);
}

DP_EXPORT int unlink(const char *p)
{
	if (point("unlink", K_FREE) < 0)
		return -1;
	return NEXT("unlink", int (*)(const char *))(p);
}

DP_EXPORT int unlinkat(int d, const char *p, int fl)
{
	if (point("unlinkat", K_FREE) < 0)
		return -1;
	return NEXT("unlinkat", int (*)(int, const char *, int))(d, p, fl);
}

/* K_SPACE, or K_EXISTS when the name is already there. */
static enum kind new_name(int dirfd, const char *p)
{
	return faccessat(dirfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? K_EXISTS
								   : K_SPACE;
}

DP_EXPORT int mkdir(const char *p, mode_t m)
{
	if (point("mkdir", new_name(AT_FDCWD, p)) < 0)
		return -1;
	return NEXT("mkdir", int (*)(const char *, mode_t))(p, m);
}

DP_EXPORT int mkdirat(int d, const char *p, mode_t m)
{
	if (point("mkdirat", new_name(d, p)) < 0)
		return -1;
	return NEXT("mkdirat", int (*)(int, const char *, mode_t))(d, p, m);
}

DP_EXPORT int rmdir(const char *p)
{
	if (point("rmdir", K_FREE) < 0)
		return -1;
	return NEXT("rmdir", int (*)(const char *))(p);
}

DP_EXPORT int ftruncate(int fd, off_t len)
{
	if (point("ftruncate", K_FREE) < 0)
		return -1;
	return NEXT("ftruncate", int (*)(int, off_t))(fd, len);
}

DP_EXPORT int ftruncate64(int fd, off64_t len)
{
	if (point("ftruncate64", K_FREE) < 0)
		return -1;
	return NEXT("ftruncate64", int (*)(int, off64_t))(fd, len);
}

DP_EXPORT int link(const char *a, const char *b)
{
	if (point("link", K_SPACE) < 0)
		return -1;
	return NEXT("link", int (*)(const char *, const char *))(a, b);
}

DP_EXPORT int linkat(int da, const char *a, int db, const char *b, int fl)
{
	if (point("linkat", K_SPACE) < 0)
		return -1;
	return NEXT("linkat",
		    int (*)(int, const char *, int, const char *, int))(
		da, a, db, b, fl);
}

/*
 * An open changes the disk when it truncates or creates: O_TRUNC, O_EXCL,
 * or O_CREAT on a name that does not exist yet (SQLite opens its database
 * with O_CREAT every time: that is no change). Returns -1 when it must fail.
 */
static int open_point(const char *call, int dirfd, const char *p, int fl)
{
	if ((fl & O_TRUNC) && (fl & O_ACCMODE) != O_RDONLY)
		return point(call, K_SPACE);
	if ((fl & O_CREAT) && (fl & O_EXCL))
		return point(call, new_name(dirfd, p));
	if ((fl & O_CREAT) && faccessat(dirfd, p, F_OK, 0) != 0)
		return point(call, K_SPACE);
	return 0;
}

static mode_t open_mode(int fl, va_list ap)
{
	return (fl & O_CREAT) || (fl & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

#define OPEN_WRAPPER(name)                                                  \
	DP_EXPORT int name(const char *p, int fl, ...)                      \
	{                                                                   \
		va_list ap;                                                 \
		mode_t m;                                                   \
                                                                            \
		va_start(ap, fl);                                           \
		m = open_mode(fl, ap);                                      \
		va_end(ap);                                                 \
		if (open_point(#name, AT_FDCWD, p, fl) < 0)                 \
			return -1;                                          \
		return NEXT(#name, int (*)(const char *, int, ...))(p, fl,  \
								      m);   \
	}
#define OPENAT_WRAPPER(name)                                                \
	DP_EXPORT int name(int d, const char *p, int fl, ...)               \
	{                                                                   \
		va_list ap;                                                 \
		mode_t m;                                                   \
                                                                            \
		va_start(ap, fl);                                           \
		m = open_mode(fl, ap);                                      \
		va_end(ap);                                                 \
		if (open_point(#name, d, p, fl) < 0)                        \
			return -1;                                          \
		return NEXT(#name, int (*)(int, const char *, int, ...))(   \
			d, p, fl, m);                                       \
	}

OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

DP_EXPORT int creat(const char *p, mode_t m)
{
	if (point("creat", K_SPACE) < 0)
		return -1;
	return NEXT("creat", int (*)(const char *, mode_t))(p, m);
}
