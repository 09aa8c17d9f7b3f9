/* A vocabulary of folded words for compound splitting ("bedrijfsbezoeken"
 * into "bedrijf" and "bezoeken") and typo correction. Built once when
 * content loads, read-only afterwards. */
#ifndef STEMDESK_NLU_LEXICON_H
#define STEMDESK_NLU_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#define NLU_PART_MAX 64

typedef struct nlu_lexicon nlu_lexicon_t;

/* Creates an empty lexicon; NULL when out of memory. */
nlu_lexicon_t *nlu_lexicon_new(void);
void nlu_lexicon_free(nlu_lexicon_t *lexicon);

/* Adds one folded word (see nlu_fold); duplicates are ignored. Returns 0,
 * or -1 when out of memory. */
int nlu_lexicon_add(nlu_lexicon_t *lexicon, const char *folded);

/* Returns 1 when the folded word is in the lexicon. */
int nlu_lexicon_has(const nlu_lexicon_t *lexicon, const char *folded);

/* Returns the number of words in the lexicon. */
size_t nlu_lexicon_word_count(const nlu_lexicon_t *lexicon);

/* Returns word `index` (below nlu_lexicon_word_count()) in the order the
 * words were added; the lexicon owns it. */
const char *nlu_lexicon_word(const nlu_lexicon_t *lexicon, size_t index);

/* Splits a folded compound into known parts, allowing the Dutch linking
 * letters "s" and "e(n)" between parts: the fewest parts, then the fewest
 * linking letters, then the longest first part. Writes up to max_parts parts
 * and returns their number, or 0 when the word is not a compound of known words
 * (a known word on its own is not split). */
size_t nlu_split_compound(const nlu_lexicon_t *lexicon, const char *folded,
                          char parts[][NLU_PART_MAX], size_t max_parts);

/* Finds the known word nearest to an unknown folded word: at most one edit
 * for words of 5 to 7 letters and two for longer words; shorter words are
 * never corrected. Writes it to `out` and returns 1, or returns 0. */
int nlu_lexicon_correct(const nlu_lexicon_t *lexicon, const char *folded,
                        char *out, size_t size);

/* A corrector does what nlu_lexicon_correct() does against several
 * lexicons at once, with one search of one index, and keeps the results
 * of the words it has corrected for reuse. Safe to share between
 * threads. */
#define NLU_CORRECT_MAX 4 /* lexicons of one corrector */
#define NLU_NO_CORRECTION UINT32_MAX

typedef struct nlu_corrector nlu_corrector_t;

/* Creates a corrector for `count` lexicons (1 to NLU_CORRECT_MAX), which
 * must not change afterwards. Returns NULL when out of memory. The caller
 * frees it with nlu_corrector_free(), which accepts NULL. */
nlu_corrector_t *nlu_corrector_new(const nlu_lexicon_t *const *lexicons,
                                   size_t count);
void nlu_corrector_free(nlu_corrector_t *corrector);

/* Writes to found[i], for every lexicon i, the index (see
 * nlu_lexicon_word()) of the word that nlu_lexicon_correct() returns for
 * `folded` against it, or NLU_NO_CORRECTION when it returns 0. */
void nlu_corrector_correct(const nlu_corrector_t *corrector, const char *folded,
                           uint32_t *found);

#endif
