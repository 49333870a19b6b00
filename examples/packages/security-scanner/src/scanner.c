/*
 * scanner.c - the example validator: reads a file on standard input and
 * fails when it holds something that looks like a private key or an AWS
 * access key id. Freestanding WebAssembly (no libc): it imports only
 * WASI's fd_read, fd_write and proc_exit. Built by build.sh.
 */
typedef unsigned int u32;
typedef unsigned long size_t;

struct iovec {
	const void *buf;
	size_t len;
};

#define WASI(name)                                                            \
	__attribute__((import_module("wasi_snapshot_preview1"),               \
		       import_name(name)))

WASI("fd_read") int fd_read(int fd, struct iovec *iov, int n, size_t *nread);
WASI("fd_write") int fd_write(int fd, const struct iovec *iov, int n,
			      size_t *nwritten);
WASI("proc_exit") __attribute__((noreturn)) void proc_exit(int code);

static unsigned char buf[65536];

static size_t len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	struct iovec v = {s, len(s)};
	size_t w;

	fd_write(1, &v, 1, &w);
}

static int find(const unsigned char *h, size_t hn, const char *needle)
{
	size_t nn = len(needle), i, j;

	for (i = 0; i + nn <= hn; i++) {
		for (j = 0; j < nn && h[i + j] == (unsigned char)needle[j]; j++)
			;
		if (j == nn)
			return 1;
	}
	return 0;
}

static int aws_key_id(const unsigned char *h, size_t hn)
{
	size_t i, j;

	for (i = 0; i + 20 <= hn; i++) {
		if (h[i] != 'A' || h[i + 1] != 'K' || h[i + 2] != 'I' ||
		    h[i + 3] != 'A')
			continue;
		for (j = 4; j < 20; j++)
			if (!((h[i + j] >= 'A' && h[i + j] <= 'Z') ||
			      (h[i + j] >= '2' && h[i + j] <= '7')))
				break;
		if (j == 20)
			return 1;
	}
	return 0;
}

void _start(void)
{
	size_t total = 0, n = 0;
	struct iovec v;

	do {
		v.buf = buf + total;
		v.len = sizeof(buf) - total;
		if (fd_read(0, &v, 1, &n) != 0)
			break;
		total += n;
	} while (n && total < sizeof(buf));
	if (find(buf, total, "PRIVATE KEY-----")) {
		say("security-scanner: FAIL: a private key is committed\n");
		proc_exit(1);
	}
	if (aws_key_id(buf, total)) {
		say("security-scanner: FAIL: an AWS access key id is "
		    "committed\n");
		proc_exit(1);
	}
	say("security-scanner: ok\n");
	proc_exit(0);
}
