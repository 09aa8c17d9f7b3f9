#include "nlu/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

/* Decodes one UTF-8 code point at `s` (with `left` bytes available) and
 * returns its length. A byte that does not start a valid sequence is read as
 * a Latin-1 character of length 1. */
static size_t decode_utf8(const unsigned char *s, size_t left, unsigned *cp)
{
    unsigned c = s[0];
    size_t need = c < 0x80             ? 0
                  : (c & 0xE0) == 0xC0 ? 1
                  : (c & 0xF0) == 0xE0 ? 2
                  : (c & 0xF8) == 0xF0 ? 3
                                       : 9;
    if (need == 0 || need == 9 || need >= left) {
        *cp = c;
        return 1;
    }
    unsigned value = c & (0x3F >> need);
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        value = (value << 6) | (s[i] & 0x3F);
    }
    *cp = value;
    return need + 1;
}

/* Latin-1 supplement, U+00C0 to U+00FF, folded to ASCII; 0 keeps the code
 * point (multiplication and division signs). */
static const char latin1_fold[64] = {
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i',
    'i', 'i', 'i', 'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u',
    'u', 'u', 'u', 'y', 't', 's', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i', 'd', 'n', 'o', 'o',
    'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 't', 'y'};

/* Lower-cases an ASCII byte as tolower() does in the C locale, without
 * the function call. */
static int ascii_lower(unsigned c)
{
    return c >= 'A' && c <= 'Z' ? (int)(c + ('a' - 'A')) : (int)c;
}

/* Returns the ASCII letter a code point folds to, or 0 to keep it. */
static int fold_code_point(unsigned cp)
{
    if (cp < 0x80)
        return ascii_lower(cp);
    if (cp >= 0xC0 && cp <= 0xFF)
        return latin1_fold[cp - 0xC0];
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x00B4 || cp == 0x0060)
        return '\''; /* typographic apostrophes, as in "da's" */
    if (cp >= 0x0100 && cp <= 0x017F) {
        /* Latin Extended-A: pairs of upper and lower case letters. */
        static const char base[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhh"
                                   "iiiiiiiiiiiijjkkkllllllllllnnnnnnnnnoooo"
                                   "oooorrrrrrssssssssttttttuuuuuuuuuuuuwwyy"
                                   "yzzzzzzs";
        size_t i = cp - 0x0100;
        if (i < sizeof base - 1)
            return base[i];
    }
    return 0;
}

static size_t encode_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t nlu_fold(const char *text, size_t len, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0;
    if (size == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            /* ASCII folds to one byte: the shortcut of the steps below. */
            if (used + 1 >= size)
                break;
            out[used++] = (char)ascii_lower(s[i++]);
            continue;
        }
        unsigned cp;
        i += decode_utf8(s + i, len - i, &cp);
        char buf[4];
        int folded = fold_code_point(cp);
        size_t n = folded ? (buf[0] = (char)folded, 1) : encode_utf8(cp, buf);
        if (used + n >= size)
            break;
        memcpy(out + used, buf, n);
        used += n;
    }
    out[used] = '\0';
    return used;
}

/* Word characters: letters and digits after folding, and any code point
 * outside ASCII that does not fold (so words in other scripts survive). */
static int is_word_code_point(unsigned cp)
{
    int folded = fold_code_point(cp);
    if (folded)
        return isalnum(folded);
    return cp >= 0x80 && cp != 0xD7 && cp != 0xF7 &&
           !(cp >= 0x2000 && cp <= 0x206F) && cp != 0x00A0;
}

/* Returns 1 when byte c is a character of its own that is a word
 * character: an ASCII letter or digit. */
static int is_ascii_word(unsigned char c)
{
    unsigned lower = c | 0x20;
    return (lower >= 'a' && lower <= 'z') || (c >= '0' && c <= '9');
}

/* Decodes the code point at s[i] and returns 1 when it is a word
 * character; sets *n to its length. */
static int word_at(const unsigned char *s, size_t i, size_t len, size_t *n)
{
    if (s[i] < 0x80) {
        *n = 1;
        return is_ascii_word(s[i]);
    }
    unsigned cp;
    *n = decode_utf8(s + i, len - i, &cp);
    return is_word_code_point(cp);
}

int nlu_tokenize(const char *text, size_t len, nlu_token_fn emit, void *arg)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t n;
        if (!word_at(s, i, len, &n)) {
            i += n;
            continue;
        }
        size_t start = i;
        while (i < len) {
            if (!word_at(s, i, len, &n))
                break;
            i += n;
        }
        nlu_token_t token = {.start = start, .end = i};
        token.len = (uint32_t)nlu_fold(text + start, i - start, token.folded,
                                       sizeof token.folded);
        token.hash = nlu_word_hash(token.folded, token.len);
        token.is_number = 1;
        for (const char *c = token.folded; *c; c++)
            if (!isdigit((unsigned char)*c))
                token.is_number = 0;
        int rc = emit(&token, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Collects tokens for nlu_tokenize_array(). */
typedef struct {
    nlu_token_t *tokens;
    size_t max;
    size_t count;
} token_array_t;

static int collect_token(const nlu_token_t *token, void *arg)
{
    token_array_t *array = arg;
    if (array->count == array->max) {
        array->count++;
        return 1;
    }
    array->tokens[array->count++] = *token;
    return 0;
}

/* Does what nlu_tokenize_array() does on ASCII text, where a word is a
 * run of letters and digits and folding lower-cases it. Returns the
 * number of tokens, or max + 1. */
/* Per ASCII byte: its lower case when it is a letter or a digit, else 0. */
#define WORD_LOWER(c)                                                          \
    ((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A')                              \
     : ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ? (c)          \
                                                                : 0)
#define WORD_LOWER4(c)                                                         \
    WORD_LOWER(c), WORD_LOWER(c + 1), WORD_LOWER(c + 2), WORD_LOWER(c + 3)
#define WORD_LOWER16(c)                                                        \
    WORD_LOWER4(c), WORD_LOWER4(c + 4), WORD_LOWER4(c + 8), WORD_LOWER4(c + 12)
#define WORD_LOWER64(c)                                                        \
    WORD_LOWER16(c), WORD_LOWER16(c + 16), WORD_LOWER16(c + 32),               \
        WORD_LOWER16(c + 48)
static const unsigned char ascii_word_lower[128] = {WORD_LOWER64(0),
                                                    WORD_LOWER64(64)};

static size_t tokenize_ascii(const unsigned char *s, size_t len,
                             nlu_token_t *tokens, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        if (!ascii_word_lower[s[i] & 0x7F]) {
            i++;
            continue;
        }
        if (count == max)
            return max + 1;
        nlu_token_t *token = &tokens[count++];
        size_t used = 0;
        int number = 1;
        uint64_t hash = NLU_HASH_OFFSET;
        token->start = i;
        for (unsigned char lower;
             i < len && (lower = ascii_word_lower[s[i] & 0x7F]) != 0; i++) {
            if (used + 1 == sizeof token->folded)
                continue; /* folded to 63 bytes, as nlu_fold() does */
            number &= lower <= '9';
            token->folded[used++] = (char)lower;
            hash = (hash ^ lower) * NLU_HASH_PRIME;
        }
        token->folded[used] = '\0';
        token->end = i;
        token->is_number = number;
        token->len = (uint32_t)used;
        token->hash = hash;
    }
    return count;
}

size_t nlu_tokenize_array(const char *text, size_t len, nlu_token_t *tokens,
                          size_t max)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t ascii = 0;
    /* Eight bytes a step while none has its high bit set. */
    for (uint64_t word; ascii + 8 <= len; ascii += 8) {
        memcpy(&word, s + ascii, 8);
        if (word & 0x8080808080808080ULL)
            break;
    }
    while (ascii < len && s[ascii] < 0x80)
        ascii++;
    if (ascii == len)
        return tokenize_ascii(s, len, tokens, max);
    token_array_t array = {tokens, max, 0};
    nlu_tokenize(text, len, collect_token, &array);
    return array.count;
}

struct nlu_stemmer {
    struct sb_stemmer *sb;
};

nlu_stemmer_t *nlu_stemmer_new(void)
{
    nlu_stemmer_t *stemmer = calloc(1, sizeof *stemmer);
    if (!stemmer)
        return NULL;
    stemmer->sb = sb_stemmer_new("dutch", "UTF_8");
    if (!stemmer->sb) {
        free(stemmer);
        return NULL;
    }
    return stemmer;
}

void nlu_stemmer_free(nlu_stemmer_t *stemmer)
{
    if (!stemmer)
        return;
    sb_stemmer_delete(stemmer->sb);
    free(stemmer);
}

void nlu_copy_text(char *out, size_t size, const char *s, size_t len)
{
    if (len > size - 1)
        len = size - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

void nlu_stem(nlu_stemmer_t *stemmer, const char *folded, char *out,
              size_t size)
{
    size_t len = strlen(folded);
    const sb_symbol *stem =
        sb_stemmer_stem(stemmer->sb, (const sb_symbol *)folded, (int)len);
    if (!stem) {
        nlu_copy_text(out, size, folded, len);
        return;
    }
    nlu_copy_text(
        out, size, (const char *)stem,
        strnlen((const char *)stem, (size_t)sb_stemmer_length(stemmer->sb)));
}
