/* The Dutch text layer shared by the classifier and the knowledge base's
 * FTS5 tokenizer: folding, tokenising and stemming. Stateless apart from a
 * stemmer handle, which is not thread-safe: use one per thread. */
#ifndef STEMDESK_NLU_TEXT_H
#define STEMDESK_NLU_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Folds UTF-8 text for matching: lower case, accents removed
 * (e, e-acute, e-diaeresis all become "e"), "ij" kept as two letters.
 * Writes at most `size` bytes including the terminating NUL and returns
 * the folded length. Invalid UTF-8 bytes are read as Latin-1. */
size_t nlu_fold(const char *text, size_t len, char *out, size_t size);

/* One token of folded text. */
typedef struct {
    size_t start; /* byte span in the original text */
    size_t end;
    char folded[64]; /* folded form, truncated to 63 bytes */
    int is_number;   /* all digits */
    uint32_t len;    /* bytes of folded */
    uint64_t hash;   /* nlu_word_hash() of folded */
} nlu_token_t;

#define NLU_HASH_OFFSET 1469598103934665603ULL
#define NLU_HASH_PRIME 1099511628211ULL

/* FNV-1a, 64 bits, of s[0, len): the hash under which the word tables of
 * the intent model and the language data look up a folded word, so that
 * a token is hashed once. */
static inline uint64_t nlu_word_hash(const char *s, size_t len)
{
    uint64_t h = NLU_HASH_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * NLU_HASH_PRIME;
    return h;
}

/* Splits text into word and number tokens; punctuation separates tokens.
 * Calls `emit` for each token in order and stops when it returns non-zero,
 * which is then returned. */
typedef int (*nlu_token_fn)(const nlu_token_t *token, void *arg);
int nlu_tokenize(const char *text, size_t len, nlu_token_fn emit, void *arg);

/* Splits text as nlu_tokenize() does into tokens[0, max). Returns the
 * number of tokens, or max + 1 when the text holds more than max. */
size_t nlu_tokenize_array(const char *text, size_t len, nlu_token_t *tokens,
                          size_t max);

typedef struct nlu_stemmer nlu_stemmer_t;

/* Creates a Snowball Dutch stemmer; NULL when out of memory. */
nlu_stemmer_t *nlu_stemmer_new(void);
void nlu_stemmer_free(nlu_stemmer_t *stemmer);

/* Copies s[0, len) into `out` (`size` bytes, at least 1), truncated to
 * size - 1 bytes and NUL-terminated, as snprintf(out, size, "%.*s")
 * does, without its cost. */
void nlu_copy_text(char *out, size_t size, const char *s, size_t len);

/* Stems one folded word into `out` (NUL-terminated, truncated to size). */
void nlu_stem(nlu_stemmer_t *stemmer, const char *folded, char *out,
              size_t size);

#endif
