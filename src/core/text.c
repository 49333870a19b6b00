/*
 * text.c - bounded edit distance and closest-word suggestions (see
 * gm/text.h).
 *
 * The distance is the optimal-string-alignment form of Damerau-Levenshtein,
 * computed with three rows of GM_TEXT_WORD_MAX + 1 counters on the stack:
 *
 *   row  | holds
 *   -----+--------------------------------------------
 *   prev2| distances for a[0..i-2] against b[0..j]
 *   prev | distances for a[0..i-1] against b[0..j]
 *   cur  | distances for a[0..i]   against b[0..j]
 *
 * Once every entry of a row is above max the answer is known to be above
 * max, and the loop stops.
 */
#include "internal.h"

#include "gm/text.h"

static size_t min3(size_t x, size_t y, size_t z)
{
	size_t m = x < y ? x : y;

	return m < z ? m : z;
}

size_t gm_text_edit_distance(const char *a, size_t alen, const char *b,
			     size_t blen, size_t max)
{
	size_t rows[3][GM_TEXT_WORD_MAX + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;
	size_t i, j, diff, best;

	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
		return 0;
	if (alen > GM_TEXT_WORD_MAX || blen > GM_TEXT_WORD_MAX)
		return max + 1;
	diff = alen > blen ? alen - blen : blen - alen;
	if (diff > max)
		return max + 1;
	for (j = 0; j <= blen; j++)
		prev[j] = j;
	for (i = 1; i <= alen; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= blen; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
			if (cur[j] < best)
				best = cur[j];
		}
		if (best > max)
			return max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen] > max ? max + 1 : prev[blen];
}

size_t gm_text_suggest_max(size_t len)
{
	if (len <= 3)
		return 1;
	if (len <= 6)
		return 2;
	return 3;
}

const char *gm_text_closest(const char *word, size_t len,
			    const char *const *list, size_t n, size_t max)
{
	const char *best = NULL;
	size_t best_dist, i;

	if (max == 0)
		max = gm_text_suggest_max(len);
	best_dist = max + 1;
	for (i = 0; i < n; i++) {
		size_t dist = gm_text_edit_distance(word, len, list[i],
						    strlen(list[i]), max);

		if (dist < best_dist) {
			best_dist = dist;
			best = list[i];
		}
	}
	if (best || len < 3)
		return best;
	/* A word cut short ("memory" for "memory_mb"). */
	for (i = 0; i < n; i++)
		if (strlen(list[i]) > len && memcmp(list[i], word, len) == 0)
			return list[i];
	return NULL;
}
