/*
 * text.h - small text helpers shared by the layers.
 *
 * Edit distance (Damerau-Levenshtein, "optimal string alignment" variant:
 * insertions, deletions, substitutions and swaps of two neighbouring bytes
 * each cost 1) bounded by a maximum, and the choice of the closest word of a
 * list, for "did you mean ...?" suggestions (unknown manifest keys, search).
 *
 * Bytes are compared as they are (case sensitive, no Unicode folding). No
 * function allocates: words longer than GM_TEXT_WORD_MAX bytes are never
 * considered close to anything.
 */
#ifndef GM_TEXT_H
#define GM_TEXT_H

#include "gm/gm.h"

#define GM_TEXT_WORD_MAX 256

/*
 * Edit distance between a (alen bytes) and b (blen bytes), or max + 1 when
 * it is larger than max (the computation stops early then). Either length
 * above GM_TEXT_WORD_MAX also gives max + 1, unless a and b are identical.
 */
GM_EXTERN size_t gm_text_edit_distance(const char *a, size_t alen,
				       const char *b, size_t blen, size_t max);

/*
 * The default largest distance at which a word of len bytes is still worth
 * suggesting: 1 up to 3 bytes, 2 up to 6 bytes, 3 beyond.
 */
GM_EXTERN size_t gm_text_suggest_max(size_t len);

/*
 * The word of list (n NUL-terminated words) closest to word (len bytes), at
 * a distance of at most max (0 means gm_text_suggest_max(len)); ties go to
 * the earlier word of the list. When none is that close and word has at
 * least 3 bytes, the first word of the list that word is a prefix of is
 * chosen ("memory" suggests "memory_mb"). Returns a pointer into list, or
 * NULL when no word is close enough. A word equal to the input is returned
 * as well.
 */
GM_EXTERN const char *gm_text_closest(const char *word, size_t len,
				      const char *const *list, size_t n,
				      size_t max);

#endif
