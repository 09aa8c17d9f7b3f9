/* A bounded memo of results computed for words that the model does not
 * know (typo corrections, stems, compound parts and their feature sums),
 * so that such a word costs one lookup from its second occurrence on.
 * Each slot stores one word; a new word takes the slot of its hash and
 * drops the one before. Results come out the same with or without the
 * memo. Safe to share between threads: a call that finds the memo busy
 * reports a miss instead of waiting. Private to src/nlu/. */
#ifndef STEMDESK_NLU_WORD_MEMO_H
#define STEMDESK_NLU_WORD_MEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct nlu_word_memo nlu_word_memo_t;

/* Creates a memo of `slots` slots (rounded up to a power of two) with
 * `value_size` bytes of result each. Returns NULL when out of memory. The
 * caller frees it with nlu_word_memo_free(), which accepts NULL. */
nlu_word_memo_t *nlu_word_memo_new(size_t slots, size_t value_size);
void nlu_word_memo_free(nlu_word_memo_t *memo);

/* Copies the stored result of word[0, len) with hash `hash` into `value`
 * and returns 1, or returns 0 when it is not stored. Words of
 * NLU_WORD_MEMO_KEY_MAX bytes or more are never stored. */
#define NLU_WORD_MEMO_KEY_MAX 64
int nlu_word_memo_get(nlu_word_memo_t *memo, const char *word, size_t len,
                      uint64_t hash, void *value);

/* Stores a copy of `value` for word[0, len). */
void nlu_word_memo_put(nlu_word_memo_t *memo, const char *word, size_t len,
                       uint64_t hash, const void *value);

#endif
