/*
 * harness.c - main() of every unit test binary (see harness.h).
 */
#include "harness.h"

#include <sys/wait.h>

#include "gm/fs.h"

#define MAX_TESTS 1024

static struct {
	const char *name;
	gm_test_fn fn;
} tests[MAX_TESTS];
static size_t n_tests;
static char tmpdir[4096];

void gm_test_register(const char *name, gm_test_fn fn)
{
	if (n_tests == MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		exit(2);
	}
	tests[n_tests].name = name;
	tests[n_tests].fn = fn;
	n_tests++;
}

void gm_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	exit(1);
}

const char *gm_test_shared_dir(void)
{
	static char path[4096];
	const char *env = getenv("GGEN_SHARED");
	struct stat st;

	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/../shared", GM_SOURCE_ROOT);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return path;
}

static void remove_tmpdir(void)
{
	if (tmpdir[0])
		gm_fs_remove_tree(tmpdir, NULL);
}

const char *gm_test_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/gmtest-XXXXXX",
			 base && *base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

static bool selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	size_t i;

	for (i = 0; i < n_tests; i++) {
		int status = 0;
		pid_t pid;

		if (!selected(tests[i].name, argc, argv))
			continue;
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			tests[i].fn();
			exit(0);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %s\n", tests[i].name);
			passed++;
		} else {
			if (WIFSIGNALED(status))
				printf("FAIL %s (signal %d)\n", tests[i].name,
				       WTERMSIG(status));
			else
				printf("FAIL %s\n", tests[i].name);
			failed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
