/*
 * test_core.c - errors, allocation hook, bounded buffers, atomic writes.
 */
#include "harness.h"

#include <dirent.h>

#include "gm/buf.h"
#include "gm/fs.h"
#include "gm/log.h"

TEST(err_table_names_and_exit_classes)
{
	ASSERT_STREQ(gm_errname(GM_OK), "OK");
	ASSERT_STREQ(gm_errname(GM_EINTEGRITY), "EINTEGRITY");
	ASSERT_EQ(gm_err_exit_code(GM_OK), 0);
	ASSERT_EQ(gm_err_exit_code(GM_ENOENT), 1);
	ASSERT_EQ(gm_err_exit_code(GM_EUSAGE), 2);
	ASSERT_EQ(gm_err_exit_code(GM_EINTEGRITY), 3);
	ASSERT_EQ(gm_err_exit_code(GM_ETRUST), 3);
	ASSERT_STREQ(gm_strerror((gm_err)9999), "unknown error");
	ASSERT_EQ(gm_err_from_errno(ENOENT), GM_ENOENT);
	ASSERT_EQ(gm_err_from_errno(ENOSPC), GM_ENOSPC);
}

TEST(diag_records_message_and_position)
{
	struct gm_diag d;

	gm_diag_clear(&d);
	ASSERT_ERR(gm_diag_set_at(&d, GM_EPARSE, 3, 7, "bad %s", "key"),
		   GM_EPARSE);
	ASSERT_STREQ(d.msg, "bad key");
	ASSERT_EQ(d.line, 3);
	ASSERT_EQ(d.column, 7);
	ASSERT_ERR(gm_diag_set(NULL, GM_EIO, "ignored"), GM_EIO);
}

TEST(alloc_fail_after_fails_exactly_the_nth)
{
	void *a, *b, *c;

	gm_alloc_fail_after(2);
	a = gm_malloc(8);
	b = gm_malloc(8);
	c = gm_malloc(8);
	ASSERT(a != NULL);
	ASSERT(b == NULL);
	ASSERT(c != NULL);
	gm_free(a);
	gm_free(c);
	ASSERT(gm_reallocarray(NULL, SIZE_MAX / 2, 4) == NULL);
}

TEST(buf_grows_and_stops_at_its_limit)
{
	struct gm_buf b;
	int i;

	gm_buf_init(&b, 10);
	ASSERT_OK(gm_buf_append_str(&b, "hello"));
	ASSERT_OK(gm_buf_printf(&b, "%d", 1234));
	ASSERT_EQ(b.len, 9);
	ASSERT_STREQ((char *)b.data, "hello1234");
	ASSERT_ERR(gm_buf_append(&b, "xy", 2), GM_ELIMIT);
	ASSERT_EQ(b.len, 9);
	ASSERT_OK(gm_buf_append_byte(&b, 'z'));
	ASSERT_ERR(gm_buf_append_byte(&b, 'z'), GM_ELIMIT);
	gm_buf_release(&b);

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	for (i = 0; i < 10000; i++)
		ASSERT_OK(gm_buf_append(&b, "abcdefgh", 8));
	ASSERT_EQ(b.len, 80000);
	gm_buf_release(&b);
}

TEST(buf_reports_enomem_and_keeps_contents)
{
	struct gm_buf b;

	gm_buf_init(&b, GM_BUF_UNLIMITED);
	ASSERT_OK(gm_buf_append_str(&b, "abc"));
	gm_alloc_fail_after(1);
	ASSERT_ERR(gm_buf_reserve(&b, 4096), GM_ENOMEM);
	ASSERT_EQ(b.len, 3);
	ASSERT_STREQ((char *)b.data, "abc");
	gm_buf_release(&b);
}

TEST(fs_atomic_write_then_read_back)
{
	const char *dir = gm_test_tmpdir();
	char *sub = gm_path_join(dir, "a/b/c");
	char *file = gm_path_join(sub, "f.txt");
	struct gm_buf b;
	struct gm_diag d;

	ASSERT_OK(gm_fs_mkdir_p(sub, 0755, &d));
	ASSERT_OK(gm_fs_write_atomic(file, "one", 3, 0644, &d));
	ASSERT_OK(gm_fs_write_atomic(file, "two!", 4, 0644, &d));
	gm_buf_init(&b, 100);
	ASSERT_OK(gm_fs_read_file(file, &b, &d));
	ASSERT_EQ(b.len, 4);
	ASSERT_MEMEQ(b.data, "two!", 4);
	gm_buf_release(&b);

	gm_buf_init(&b, 2);
	ASSERT_ERR(gm_fs_read_file(file, &b, &d), GM_ELIMIT);
	ASSERT(strstr(d.msg, "larger than") != NULL);
	gm_buf_release(&b);

	gm_buf_init(&b, 100);
	ASSERT_ERR(gm_fs_read_file("/nonexistent/x", &b, &d), GM_ENOENT);
	ASSERT(strstr(d.msg, "/nonexistent/x") != NULL);
	gm_buf_release(&b);

	ASSERT_OK(gm_fs_remove_tree(sub, &d));
	ASSERT(access(sub, F_OK) != 0);
	gm_free(file);
	gm_free(sub);
}

TEST(log_level_filters)
{
	gm_log_set_level(GM_LOG_WARN);
	ASSERT(gm_log_enabled(GM_LOG_ERROR));
	ASSERT(!gm_log_enabled(GM_LOG_DEBUG));
	gm_log_set_level(GM_LOG_DEBUG);
	ASSERT(gm_log_enabled(GM_LOG_DEBUG));
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

TEST(fs_tmp_commit_replaces_and_abort_leaves_nothing)
{
	const char *dir = gm_test_tmpdir();
	char *path = gm_path_join(dir, "out.car");
	struct gm_fs_tmp t;
	struct gm_buf b;

	ASSERT_OK(gm_fs_write_atomic(path, "old", 3, 0644, NULL));
	ASSERT_OK(gm_fs_tmp_open(&t, path, 0644, NULL));
	ASSERT_OK(gm_fs_write_all(t.fd, "partial", 7));
	ASSERT_EQ(count_entries(dir), 2);
	gm_fs_tmp_abort(&t);
	gm_fs_tmp_abort(&t); /* a second abort is harmless */
	ASSERT_EQ(count_entries(dir), 1);
	gm_buf_init(&b, 100);
	ASSERT_OK(gm_fs_read_file(path, &b, NULL));
	ASSERT_EQ(b.len, 3);
	gm_buf_reset(&b);
	ASSERT_OK(gm_fs_tmp_open(&t, path, 0644, NULL));
	ASSERT_OK(gm_fs_write_all(t.fd, "new!", 4));
	ASSERT_OK(gm_fs_tmp_commit(&t, NULL));
	gm_fs_tmp_abort(&t); /* after commit: nothing to undo */
	ASSERT_EQ(count_entries(dir), 1);
	ASSERT_OK(gm_fs_read_file(path, &b, NULL));
	ASSERT_MEMEQ(b.data, "new!", 4);
	gm_buf_release(&b);
	gm_free(path);
}
