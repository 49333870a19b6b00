/*
 * test_ignore.c - .ggenignore rules.
 */
#include "harness.h"

#include "gm/fs.h"
#include "gm/ignore.h"

static struct gm_ignore *rules(const char *text)
{
	struct gm_ignore *ig;
	struct gm_diag d;

	ASSERT_OK(gm_ignore_parse(&ig, text, strlen(text), &d));
	return ig;
}

TEST(builtin_rules_skip_git_and_ggen)
{
	struct gm_ignore *ig = rules("");

	ASSERT(gm_ignore_match(ig, ".git", true));
	ASSERT(gm_ignore_match(ig, ".git/config", false));
	ASSERT(gm_ignore_match(ig, ".ggen/packages/a", true));
	ASSERT(!gm_ignore_match(ig, ".github/workflow.yml", false));
	ASSERT(!gm_ignore_match(ig, "src/.gitkeep", false));
	ASSERT(!gm_ignore_match(ig, "README.md", false));
	gm_ignore_close(ig);
}

TEST(unanchored_anchored_dir_only_and_negation)
{
	struct gm_ignore *ig = rules("# comment\n\n*.log\n!keep.log\n/build\n"
				     "out/\ndocs/*.tmp\n");

	ASSERT(gm_ignore_match(ig, "a.log", false));
	ASSERT(gm_ignore_match(ig, "deep/x/b.log", false));
	ASSERT(!gm_ignore_match(ig, "keep.log", false));
	ASSERT(!gm_ignore_match(ig, "deep/keep.log", false));
	ASSERT(gm_ignore_match(ig, "build", true));
	ASSERT(gm_ignore_match(ig, "build/x.o", false));
	ASSERT(!gm_ignore_match(ig, "src/build", true));
	ASSERT(gm_ignore_match(ig, "out", true));
	ASSERT(!gm_ignore_match(ig, "out", false));
	ASSERT(gm_ignore_match(ig, "src/out/f", false));
	ASSERT(gm_ignore_match(ig, "docs/a.tmp", false));
	ASSERT(!gm_ignore_match(ig, "docs/sub/a.tmp", false));
	ASSERT(!gm_ignore_match(ig, "a.tmp", false));
	gm_ignore_close(ig);
}

TEST(double_star)
{
	struct gm_ignore *ig = rules("**/cache\na/**/z.txt\nlogs/**\n");

	ASSERT(gm_ignore_match(ig, "cache", true));
	ASSERT(gm_ignore_match(ig, "x/y/cache", true));
	ASSERT(gm_ignore_match(ig, "a/z.txt", false));
	ASSERT(gm_ignore_match(ig, "a/b/c/z.txt", false));
	ASSERT(!gm_ignore_match(ig, "b/z.txt", false));
	ASSERT(gm_ignore_match(ig, "logs/1/2.txt", false));
	ASSERT(!gm_ignore_match(ig, "logsx/1", false));
	gm_ignore_close(ig);
}

TEST(double_star_runs_collapse_and_are_bounded)
{
	struct gm_ignore *ig;
	struct gm_diag d;
	const char *many = "a/**/b/**/c/**/d\n";

	ig = rules("**/**/**/x\n");
	ASSERT(gm_ignore_match(ig, "x", false));
	ASSERT(gm_ignore_match(ig, "a/b/c/d/e/f/g/h/x", false));
	ASSERT(!gm_ignore_match(ig, "a/b/c/d/e/f/g/h/y", false));
	gm_ignore_close(ig);
	gm_diag_clear(&d);
	ASSERT_ERR(gm_ignore_parse(&ig, many, strlen(many), &d), GM_EPARSE);
	ASSERT(strstr(d.msg, "more than two") != NULL);
}

TEST(last_match_wins)
{
	struct gm_ignore *ig = rules("*.txt\n!a.txt\na.txt\n");

	ASSERT(gm_ignore_match(ig, "a.txt", false));
	gm_ignore_close(ig);
	ig = rules("*.txt\n!*.txt\n");
	ASSERT(!gm_ignore_match(ig, "b.txt", false));
	gm_ignore_close(ig);
}

TEST(open_reads_the_file_or_none)
{
	const char *dir = gm_test_tmpdir();
	char *path = gm_path_join(dir, ".ggenignore");
	struct gm_ignore *ig;
	struct gm_diag d;

	ASSERT_OK(gm_ignore_open(&ig, dir, &d));
	ASSERT(!gm_ignore_match(ig, "x.bak", false));
	gm_ignore_close(ig);
	ASSERT_OK(gm_fs_write_atomic(path, "*.bak\r\n", 7, 0644, &d));
	ASSERT_OK(gm_ignore_open(&ig, dir, &d));
	ASSERT(gm_ignore_match(ig, "x.bak", false));
	gm_ignore_close(ig);
	gm_free(path);
}

TEST(bad_input)
{
	struct gm_ignore *ig;
	struct gm_diag d;
	char big[20000];
	size_t i, n = 0;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_ignore_parse(&ig, "a\n!\n", 4, &d), GM_EPARSE);
	ASSERT_EQ(d.line, 2);
	ASSERT_ERR(gm_ignore_parse(&ig, "a\0b", 3, &d), GM_EPARSE);
	for (i = 0; i < 1100; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "p%zu\n", i);
	ASSERT_ERR(gm_ignore_parse(&ig, big, n, &d), GM_ELIMIT);
}
