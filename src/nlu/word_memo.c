/* The word memo: a direct-mapped table behind one try-lock. */
#include "nlu/word_memo.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash; /* 0 marks a free slot */
    unsigned char len;
    char word[NLU_WORD_MEMO_KEY_MAX];
} memo_key_t;

struct nlu_word_memo {
    atomic_flag busy;
    size_t mask;
    size_t value_size;
    memo_key_t *keys;
    unsigned char *values; /* value_size bytes per slot */
};

nlu_word_memo_t *nlu_word_memo_new(size_t slots, size_t value_size)
{
    size_t count = 1;
    while (count < slots)
        count *= 2;
    nlu_word_memo_t *memo = calloc(1, sizeof *memo);
    if (!memo)
        return NULL;
    atomic_flag_clear(&memo->busy);
    memo->mask = count - 1;
    memo->value_size = value_size;
    memo->keys = calloc(count, sizeof *memo->keys);
    memo->values = malloc(count * (value_size ? value_size : 1));
    if (!memo->keys || !memo->values) {
        nlu_word_memo_free(memo);
        return NULL;
    }
    return memo;
}

void nlu_word_memo_free(nlu_word_memo_t *memo)
{
    if (!memo)
        return;
    free(memo->keys);
    free(memo->values);
    free(memo);
}

/* A zero hash is the free-slot mark, so it is stored as 1. */
static uint64_t memo_hash(uint64_t hash)
{
    return hash ? hash : 1;
}

int nlu_word_memo_get(nlu_word_memo_t *memo, const char *word, size_t len,
                      uint64_t hash, void *value)
{
    if (len >= NLU_WORD_MEMO_KEY_MAX ||
        atomic_flag_test_and_set_explicit(&memo->busy, memory_order_acquire))
        return 0;
    hash = memo_hash(hash);
    size_t slot = (size_t)hash & memo->mask;
    const memo_key_t *key = &memo->keys[slot];
    int found = key->hash == hash && key->len == len &&
                memcmp(key->word, word, len) == 0;
    if (found)
        memcpy(value, memo->values + slot * memo->value_size, memo->value_size);
    atomic_flag_clear_explicit(&memo->busy, memory_order_release);
    return found;
}

void nlu_word_memo_put(nlu_word_memo_t *memo, const char *word, size_t len,
                       uint64_t hash, const void *value)
{
    if (len >= NLU_WORD_MEMO_KEY_MAX ||
        atomic_flag_test_and_set_explicit(&memo->busy, memory_order_acquire))
        return;
    hash = memo_hash(hash);
    size_t slot = (size_t)hash & memo->mask;
    memo_key_t *key = &memo->keys[slot];
    key->hash = hash;
    key->len = (unsigned char)len;
    memcpy(key->word, word, len);
    memcpy(memo->values + slot * memo->value_size, value, memo->value_size);
    atomic_flag_clear_explicit(&memo->busy, memory_order_release);
}
