/*
 * test_text.c - the bounded edit distance and closest-word suggestions of
 * gm/text.h.
 *
 * Known values (kitten/sitting and the one-edit cases), the early stop that
 * returns max + 1, the GM_TEXT_WORD_MAX cut-off, and a property test that
 * compares gm_text_edit_distance() with a plain full-matrix computation of
 * the optimal-string-alignment distance on every string of up to 5 bytes
 * over a 3-letter alphabet. For gm_text_closest(): ties go to the earlier
 * word, NULL when nothing is close, the explicit and default bounds, and
 * the prefix rule ("memory" suggests "memory_mb").
 */
#include "harness.h"

#include "gm/alloc.h"
#include "gm/text.h"

static size_t dist(const char *a, const char *b, size_t max)
{
	return gm_text_edit_distance(a, strlen(a), b, strlen(b), max);
}

/* Full-matrix optimal string alignment distance, no bound, no early stop. */
static size_t osa_reference(const char *a, size_t n, const char *b, size_t m)
{
	size_t d[8][8], i, j;

	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			size_t best = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + (a[i - 1] != b[j - 1]) < best)
				best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

TEST(edit_distance_known_values)
{
	ASSERT_EQ(dist("kitten", "sitting", 10), 3);
	ASSERT_EQ(dist("sitting", "kitten", 10), 3);
	ASSERT_EQ(dist("", "abc", 10), 3);
	ASSERT_EQ(dist("abc", "", 10), 3);
	ASSERT_EQ(dist("flaw", "lawn", 10), 2);
	/* OSA, not full Damerau: "ca" -> "abc" costs 3, not 2. */
	ASSERT_EQ(dist("ca", "abc", 5), 3);
	ASSERT_EQ(dist("descripiton", "description", 5), 1);
	ASSERT_EQ(dist("descripton", "description", 5), 1);
	/* Bytes compared as they are: case matters. */
	ASSERT_EQ(dist("Version", "version", 5), 1);
	ASSERT_EQ(dist("ABC", "abc", 5), 3);
}

TEST(edit_distance_is_zero_for_equal_strings)
{
	char big[GM_TEXT_WORD_MAX * 2];

	ASSERT_EQ(dist("", "", 0), 0);
	ASSERT_EQ(dist("abc", "abc", 0), 0);
	ASSERT_EQ(dist("description", "description", 3), 0);
	/* Only the first alen / blen bytes count. */
	ASSERT_EQ(gm_text_edit_distance("abcX", 3, "abcY", 3, 0), 0);
	/* Equal words longer than the limit are still at distance 0. */
	memset(big, 'q', sizeof(big));
	ASSERT_EQ(gm_text_edit_distance(big, sizeof(big), big, sizeof(big), 0),
		  0);
}

TEST(edit_distance_single_edits_cost_one)
{
	/* insert */
	ASSERT_EQ(dist("name", "names", 5), 1);
	ASSERT_EQ(dist("ame", "name", 5), 1);
	ASSERT_EQ(dist("nme", "name", 5), 1);
	ASSERT_EQ(dist("", "a", 5), 1);
	/* delete */
	ASSERT_EQ(dist("names", "name", 5), 1);
	ASSERT_EQ(dist("nxame", "name", 5), 1);
	ASSERT_EQ(dist("a", "", 5), 1);
	/* substitute, at the start, middle and end */
	ASSERT_EQ(dist("xame", "name", 5), 1);
	ASSERT_EQ(dist("naxe", "name", 5), 1);
	ASSERT_EQ(dist("namx", "name", 5), 1);
	/* transpose two neighbours, at the start, middle and end */
	ASSERT_EQ(dist("anme", "name", 5), 1);
	ASSERT_EQ(dist("nmae", "name", 5), 1);
	ASSERT_EQ(dist("naem", "name", 5), 1);
	ASSERT_EQ(dist("ba", "ab", 5), 1);
	/* A swap of two bytes that are not neighbours is two edits. */
	ASSERT_EQ(dist("eamn", "name", 5), 2);
	/* Each of these is exactly within a bound of 1. */
	ASSERT_EQ(dist("nmae", "name", 1), 1);
	ASSERT_EQ(dist("name", "nam", 1), 1);
}

TEST(edit_distance_stops_early_with_max_plus_one)
{
	/* Above the bound: max + 1, whatever the true distance. */
	ASSERT_EQ(dist("kitten", "sitting", 2), 3);
	ASSERT_EQ(dist("kitten", "sitting", 0), 1);
	ASSERT_EQ(dist("abcdef", "ghijkl", 1), 2);
	ASSERT_EQ(dist("abcdef", "ghijkl", 3), 4);
	/* Lengths alone already too far apart. */
	ASSERT_EQ(dist("a", "abcdef", 2), 3);
	ASSERT_EQ(dist("abcdef", "", 4), 5);
	/* At exactly the bound the true distance comes back. */
	ASSERT_EQ(dist("kitten", "sitting", 3), 3);
	ASSERT_EQ(dist("abcdef", "ghijkl", 6), 6);
	/* A row of all-too-large values stops the loop. */
	ASSERT_EQ(dist("zzzzzzzzzzab", "yyyyyyyyyyab", 2), 3);
}

TEST(edit_distance_words_longer_than_the_limit_are_never_close)
{
	char a[GM_TEXT_WORD_MAX + 2], b[GM_TEXT_WORD_MAX + 2];

	memset(a, 'a', sizeof(a));
	memset(b, 'a', sizeof(b));
	b[0] = 'b';
	/* At the limit the distance is computed. */
	ASSERT_EQ(
	    gm_text_edit_distance(a, GM_TEXT_WORD_MAX, b, GM_TEXT_WORD_MAX, 3),
	    1);
	ASSERT_EQ(gm_text_edit_distance(a, GM_TEXT_WORD_MAX - 1, a,
					GM_TEXT_WORD_MAX, 3),
		  1);
	/* One byte over: max + 1, even for a single edit or a huge max. */
	ASSERT_EQ(gm_text_edit_distance(a, GM_TEXT_WORD_MAX + 1, b,
					GM_TEXT_WORD_MAX + 1, 3),
		  4);
	ASSERT_EQ(gm_text_edit_distance(a, GM_TEXT_WORD_MAX + 1, b,
					GM_TEXT_WORD_MAX + 1, 1000),
		  1001);
	ASSERT_EQ(gm_text_edit_distance(a, GM_TEXT_WORD_MAX, a,
					GM_TEXT_WORD_MAX + 1, 3),
		  4);
	ASSERT_EQ(gm_text_edit_distance("a", 1, a, GM_TEXT_WORD_MAX + 1,
					GM_TEXT_WORD_MAX * 2),
		  GM_TEXT_WORD_MAX * 2 + 1);
	/* Identical long words are the exception. */
	ASSERT_EQ(gm_text_edit_distance(a, GM_TEXT_WORD_MAX + 1, a,
					GM_TEXT_WORD_MAX + 1, 3),
		  0);
}

TEST(property_edit_distance_agrees_with_the_full_matrix)
{
	/* Every string of 0..5 bytes over {a, b, c} against every other. */
	static char words[364][6];
	size_t lens[364], nw = 0, len, i, j, k, max;

	for (len = 0; len <= 5; len++) {
		size_t count = 1, x;

		for (k = 0; k < len; k++)
			count *= 3;
		for (x = 0; x < count; x++) {
			size_t v = x;

			for (k = 0; k < len; k++) {
				words[nw][k] = (char)('a' + v % 3);
				v /= 3;
			}
			lens[nw++] = len;
		}
	}
	ASSERT_EQ(nw, 364);
	for (i = 0; i < nw; i++)
		for (j = 0; j < nw; j += 3) {
			size_t want =
			    osa_reference(words[i], lens[i], words[j], lens[j]);

			for (max = 0; max <= 6; max++) {
				size_t got = gm_text_edit_distance(
				    words[i], lens[i], words[j], lens[j], max);
				size_t exp = want <= max ? want : max + 1;

				if (got != exp)
					gm_test_fail(__FILE__, __LINE__,
						     "'%.*s' / '%.*s' max %zu: "
						     "%zu, expected %zu",
						     (int)lens[i], words[i],
						     (int)lens[j], words[j],
						     max, got, exp);
			}
		}
}

TEST(suggest_max_grows_with_the_word)
{
	ASSERT_EQ(gm_text_suggest_max(0), 1);
	ASSERT_EQ(gm_text_suggest_max(1), 1);
	ASSERT_EQ(gm_text_suggest_max(3), 1);
	ASSERT_EQ(gm_text_suggest_max(4), 2);
	ASSERT_EQ(gm_text_suggest_max(6), 2);
	ASSERT_EQ(gm_text_suggest_max(7), 3);
	ASSERT_EQ(gm_text_suggest_max(20), 3);
	ASSERT_EQ(gm_text_suggest_max(GM_TEXT_WORD_MAX * 4), 3);
}

static const char *closest(const char *word, const char *const *list, size_t n,
			   size_t max)
{
	return gm_text_closest(word, strlen(word), list, n, max);
}

TEST(closest_word_suggestions)
{
	static const char *const keys[] = {"name",    "namespace",
					   "version", "description",
					   "license", "keywords"};

	ASSERT_STREQ(closest("descripton", keys, 6, 0), "description");
	ASSERT_STREQ(closest("nmae", keys, 6, 0), "name");
	ASSERT_STREQ(closest("licence", keys, 6, 0), "license");
	ASSERT_STREQ(closest("keyword", keys, 6, 0), "keywords");
	ASSERT_STREQ(closest("Version", keys, 6, 0), "version");
	/* The result points into the list. */
	ASSERT(closest("nmae", keys, 6, 0) == keys[0]);
	/* A word equal to an entry is returned as well. */
	ASSERT(closest("license", keys, 6, 0) == keys[4]);
	/* An explicit bound replaces the default one. */
	ASSERT(closest("vrsn", keys, 6, 2) == NULL);
	ASSERT_STREQ(closest("vrsn", keys, 6, 3), "version");
	ASSERT(closest("nm", keys, 6, 0) == NULL);
	ASSERT_STREQ(closest("nm", keys, 6, 2), "name");
}

TEST(closest_ties_go_to_the_earlier_word)
{
	static const char *const ab[] = {"abd", "abe", "abf"};
	static const char *const ba[] = {"abf", "abe", "abd"};
	static const char *const far_first[] = {"axyz", "abd", "abe"};

	ASSERT(closest("abc", ab, 3, 0) == ab[0]);
	ASSERT(closest("abc", ba, 3, 0) == ba[0]);
	/* Strictly closer wins over earlier. */
	ASSERT(closest("abc", far_first, 3, 3) == far_first[1]);
	/* An exact match later in the list beats a distance-1 one earlier. */
	ASSERT(closest("abe", ab, 3, 0) == ab[1]);
}

TEST(closest_returns_null_when_nothing_is_close)
{
	static const char *const keys[] = {"name", "version", "description"};

	ASSERT(closest("zzzzzz", keys, 3, 0) == NULL);
	ASSERT(closest("x", keys, 3, 0) == NULL);
	ASSERT(closest("", keys, 3, 0) == NULL);
	ASSERT(closest("name", keys, 0, 0) == NULL);
	ASSERT(gm_text_closest("name", 4, NULL, 0, 0) == NULL);
	/* Long words are never close, and never a prefix of a short one. */
	{
		char big[GM_TEXT_WORD_MAX + 10];

		memset(big, 'n', sizeof(big));
		ASSERT(gm_text_closest(big, sizeof(big), keys, 3, 0) == NULL);
	}
}

TEST(closest_prefix_rule)
{
	static const char *const limits[] = {"fuel", "memory_mb", "memory_max",
					     "timeout_ms"};
	static const char *const rev[] = {"memory_max", "memory_mb"};
	static const char *const near_wins[] = {"memory_mb", "men"};

	/* Too far for an edit (6 > 2) but a prefix: the first such word. */
	ASSERT(closest("memory", limits, 4, 0) == limits[1]);
	ASSERT(closest("memor", limits, 4, 0) == limits[1]);
	ASSERT(closest("memory", rev, 2, 0) == rev[0]);
	/* 3 bytes is the shortest word the rule applies to. */
	ASSERT(closest("tim", limits, 4, 0) == limits[3]);
	ASSERT(closest("ti", limits, 4, 0) == NULL);
	/* A close word comes before any prefix match. */
	ASSERT(closest("mem", near_wins, 2, 0) == near_wins[1]);
	/* Case sensitive, and the word must be a true prefix. */
	ASSERT(closest("Memory", limits, 4, 0) == NULL);
	ASSERT(closest("memorq", limits, 4, 0) == NULL);
	/* The explicit bound does not switch the rule off. */
	ASSERT(closest("timeout", limits, 4, 1) == limits[3]);
}

TEST(text_functions_never_allocate)
{
	static const char *const keys[] = {"memory_mb", "fuel"};
	unsigned long before = gm_alloc_count();

	ASSERT_EQ(dist("kitten", "sitting", 10), 3);
	ASSERT(closest("memory", keys, 2, 0) == keys[0]);
	ASSERT(closest("fule", keys, 2, 0) == keys[1]);
	ASSERT_EQ(gm_alloc_count(), before);
	/* Even with every allocation failing the answers are the same. */
	gm_alloc_fail_after(1);
	ASSERT_EQ(dist("kitten", "sitting", 10), 3);
	ASSERT(closest("memory", keys, 2, 0) == keys[0]);
	gm_alloc_fail_after(0);
}
