/* The lexicon: a hash set of folded words, a compound splitter over it, and
 * a deletion-neighbourhood index for typo correction. The index uses the
 * symmetric delete method: a word and a typo of it within k edits share a
 * string made by deleting at most k characters from each. */
#include "nlu/lexicon.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/word_memo.h"

/* Words shorter than this are never corrected; words of up to
 * LONG_WORD_MIN - 1 letters get one edit, longer words two. */
#define CORRECT_MIN 5
#define LONG_WORD_MIN 8
/* Words longer than this many bytes are neither corrected nor offered as
 * a correction. */
#define DELETE_WORD_MAX 32
/* Shortest part a compound is split into ("ict", "bouw"). */
#define PART_MIN 3

#define NO_WORD UINT32_MAX
/* With the table at most half full, 4 bits a slot keep at least 8 bits a
 * variant. Each hash sets two bits of one 64-bit word, so about one
 * lookup in 20 of an absent variant passes, and a lookup reads one cache
 * line. */
#define FILTER_BITS_PER_SLOT 4

typedef struct {
    uint64_t hash;
    uint32_t word; /* index into words, NO_WORD when the slot is free */
} word_slot_t;

typedef struct {
    uint64_t hash; /* hash of a delete variant */
    uint32_t head; /* first posting, NO_WORD when the slot is free */
} delete_slot_t;

typedef struct {
    uint32_t word;
    uint32_t next;
} posting_t;

struct nlu_lexicon {
    char **words;           /* owned copies, in the order they were added */
    unsigned char *lengths; /* bytes of each word, at most UCHAR_MAX */
    uint32_t word_count;
    uint32_t word_cap;

    word_slot_t *set; /* open addressing, power-of-two size */
    uint32_t set_cap;
    /* FILTER_BITS_PER_SLOT bits per slot of `set`, set for the hash of
     * every word, so that most substrings that the compound splitter
     * tries end here. */
    uint64_t *set_filter;
    size_t max_word_len; /* bytes of the longest word */

    delete_slot_t *deletes; /* open addressing, power-of-two size */
    uint32_t delete_used;
    uint32_t delete_cap;
    /* One bit per hash of the delete variants, FILTER_BITS_PER_SLOT bits
     * per slot of `deletes`, set for every variant in the index. A clear
     * bit spares a correction the probe into the much larger table. */
    uint64_t *filter;
    posting_t *postings;
    uint32_t posting_count;
    uint32_t posting_cap;
};

/* FNV-1a, 64 bits, where 0 becomes 1. */
#define FNV_OFFSET 1469598103934665603ULL

static uint64_t fnv_step(uint64_t h, char c)
{
    return (h ^ (unsigned char)c) * 1099511628211ULL;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = fnv_step(h, s[i]);
    return h ? h : 1;
}

/* The hash of delete variants: a polynomial over the bytes, mod 2^64, so
 * that the hash of a string with one or two bytes deleted follows from
 * its prefix hashes in constant time, then mixed (the finalizer of
 * MurmurHash3) because the table index takes the low bits. */
#define VARIANT_BASE 0x100000001B3ULL

static uint64_t variant_mix(uint64_t h, size_t len)
{
    h += len * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static uint64_t variant_hash(const char *s, size_t len)
{
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++)
        h = h * VARIANT_BASE + (unsigned char)s[i];
    return variant_mix(h, len);
}

/* Returns the number of 64-bit words of a filter for a table of `slots`
 * slots. */
static size_t filter_words(uint32_t slots)
{
    return (size_t)slots * FILTER_BITS_PER_SLOT / 64;
}

/* Returns the filter word of a hash. The slot index takes the low bits of
 * the hash, so the filter takes the high ones: bits 38 and up pick the
 * word, and bits 26 to 37 the two bits in it (see filter_bits()). */
static size_t filter_word(uint32_t slots, uint64_t h)
{
    return (size_t)(h >> 38) & (filter_words(slots) - 1);
}

static uint64_t filter_bits(uint64_t h)
{
    return 1ULL << ((h >> 32) & 63) | 1ULL << ((h >> 26) & 63);
}

static void filter_set(uint64_t *filter, uint32_t slots, uint64_t h)
{
    filter[filter_word(slots, h)] |= filter_bits(h);
}

static int filter_has(const uint64_t *filter, uint32_t slots, uint64_t h)
{
    uint64_t bits = filter_bits(h);
    return (filter[filter_word(slots, h)] & bits) == bits;
}

/* Counts the letters of a folded word: UTF-8 continuation bytes are not
 * letters of their own. */
static size_t letter_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

nlu_lexicon_t *nlu_lexicon_new(void)
{
    nlu_lexicon_t *lex = calloc(1, sizeof *lex);
    if (!lex)
        return NULL;
    lex->set_cap = 1024;
    lex->set = malloc(lex->set_cap * sizeof *lex->set);
    lex->set_filter =
        calloc(filter_words(lex->set_cap), sizeof *lex->set_filter);
    lex->delete_cap = 4096;
    lex->deletes = malloc(lex->delete_cap * sizeof *lex->deletes);
    lex->filter = calloc(filter_words(lex->delete_cap), sizeof *lex->filter);
    if (!lex->set || !lex->set_filter || !lex->deletes || !lex->filter) {
        nlu_lexicon_free(lex);
        return NULL;
    }
    for (uint32_t i = 0; i < lex->set_cap; i++)
        lex->set[i].word = NO_WORD;
    for (uint32_t i = 0; i < lex->delete_cap; i++)
        lex->deletes[i].head = NO_WORD;
    return lex;
}

/* Frees the lexicon and every word it owns; accepts NULL. */
void nlu_lexicon_free(nlu_lexicon_t *lexicon)
{
    if (!lexicon)
        return;
    for (uint32_t i = 0; i < lexicon->word_count; i++)
        free(lexicon->words[i]);
    free(lexicon->words);
    free(lexicon->lengths);
    free(lexicon->set);
    free(lexicon->set_filter);
    free(lexicon->deletes);
    free(lexicon->filter);
    free(lexicon->postings);
    free(lexicon);
}

/* Returns the word index of s[0, len) with hash h (see hash_bytes), or
 * NO_WORD. */
static uint32_t find_word_hashed(const nlu_lexicon_t *lex, const char *s,
                                 size_t len, uint64_t h)
{
    if (!filter_has(lex->set_filter, lex->set_cap, h))
        return NO_WORD;
    uint32_t mask = lex->set_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        const word_slot_t *slot = &lex->set[i];
        if (slot->word == NO_WORD)
            return NO_WORD;
        if (slot->hash == h) {
            const char *w = lex->words[slot->word];
            if (strncmp(w, s, len) == 0 && w[len] == '\0')
                return slot->word;
        }
    }
}

/* Returns the word index of s[0, len), or NO_WORD. */
static uint32_t find_word(const nlu_lexicon_t *lex, const char *s, size_t len)
{
    return find_word_hashed(lex, s, len, hash_bytes(s, len));
}

static void set_insert(word_slot_t *set, uint32_t cap, uint64_t h,
                       uint32_t word)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (set[i].word != NO_WORD)
        i = (i + 1) & mask;
    set[i].hash = h;
    set[i].word = word;
}

/* Doubles the word set when it is half full. Returns 0 or -1. */
static int set_reserve(nlu_lexicon_t *lex)
{
    if ((lex->word_count + 1) * 2 <= lex->set_cap)
        return 0;
    uint32_t cap = lex->set_cap * 2;
    word_slot_t *set = malloc(cap * sizeof *set);
    uint64_t *filter = calloc(filter_words(cap), sizeof *filter);
    if (!set || !filter) {
        free(set);
        free(filter);
        return -1;
    }
    for (uint32_t i = 0; i < cap; i++)
        set[i].word = NO_WORD;
    for (uint32_t i = 0; i < lex->set_cap; i++) {
        if (lex->set[i].word == NO_WORD)
            continue;
        set_insert(set, cap, lex->set[i].hash, lex->set[i].word);
        filter_set(filter, cap, lex->set[i].hash);
    }
    free(lex->set);
    free(lex->set_filter);
    lex->set = set;
    lex->set_filter = filter;
    lex->set_cap = cap;
    return 0;
}

/* Returns the slot of a delete variant's hash: the slot that contains it,
 * or the free slot where it belongs. */
static delete_slot_t *delete_slot(delete_slot_t *table, uint32_t cap,
                                  uint64_t h)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (table[i].head != NO_WORD && table[i].hash != h)
        i = (i + 1) & mask;
    return &table[i];
}

static int deletes_reserve(nlu_lexicon_t *lex)
{
    if ((lex->delete_used + 1) * 2 <= lex->delete_cap)
        return 0;
    uint32_t cap = lex->delete_cap * 2;
    delete_slot_t *table = malloc(cap * sizeof *table);
    uint64_t *filter = calloc(filter_words(cap), sizeof *filter);
    if (!table || !filter) {
        free(table);
        free(filter);
        return -1;
    }
    for (uint32_t i = 0; i < cap; i++)
        table[i].head = NO_WORD;
    for (uint32_t i = 0; i < lex->delete_cap; i++) {
        if (lex->deletes[i].head == NO_WORD)
            continue;
        *delete_slot(table, cap, lex->deletes[i].hash) = lex->deletes[i];
        filter_set(filter, cap, lex->deletes[i].hash);
    }
    free(lex->deletes);
    free(lex->filter);
    lex->deletes = table;
    lex->filter = filter;
    lex->delete_cap = cap;
    return 0;
}

/* Records that `word` has the delete variant s[0, len). Returns 0 or -1. */
static int add_delete(nlu_lexicon_t *lex, const char *s, size_t len,
                      uint32_t word)
{
    if (deletes_reserve(lex) != 0)
        return -1;
    uint64_t h = variant_hash(s, len);
    delete_slot_t *slot = delete_slot(lex->deletes, lex->delete_cap, h);
    if (slot->head != NO_WORD && lex->postings[slot->head].word == word)
        return 0; /* the same variant reached by deleting another letter */
    if (lex->posting_count == lex->posting_cap) {
        uint32_t cap = lex->posting_cap ? lex->posting_cap * 2 : 4096;
        posting_t *grown = realloc(lex->postings, cap * sizeof *grown);
        if (!grown)
            return -1;
        lex->postings = grown;
        lex->posting_cap = cap;
    }
    posting_t *p = &lex->postings[lex->posting_count];
    p->word = word;
    if (slot->head == NO_WORD) {
        slot->hash = h;
        p->next = NO_WORD;
        lex->delete_used++;
        filter_set(lex->filter, lex->delete_cap, h);
    } else {
        p->next = slot->head;
    }
    slot->head = lex->posting_count++;
    return 0;
}

/* Calls `visit` with every string made by deleting up to `depth` single
 * bytes from s[0, len), each once or more. Stops at the first non-zero
 * return. Deletes run from left to right, so a pair of deletions is
 * visited in one order only. */
typedef int (*variant_fn)(const char *s, size_t len, void *arg);

static int visit_deletes(char *s, size_t len, size_t from, int depth,
                         variant_fn visit, void *arg)
{
    if (depth == 0)
        return 0;
    char buf[DELETE_WORD_MAX];
    for (size_t i = from; i < len; i++) {
        memcpy(buf, s, i);
        memcpy(buf + i, s + i + 1, len - i - 1);
        int rc = visit(buf, len - 1, arg);
        if (rc == 0)
            rc = visit_deletes(buf, len - 1, i, depth - 1, visit, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Maximum edits allowed for a word of `letters` letters. */
static int max_edits(size_t letters)
{
    if (letters < CORRECT_MIN)
        return 0;
    return letters < LONG_WORD_MIN ? 1 : 2;
}

typedef struct {
    nlu_lexicon_t *lex;
    uint32_t word;
} index_ctx_t;

static int index_variant(const char *s, size_t len, void *arg)
{
    index_ctx_t *ctx = arg;
    return add_delete(ctx->lex, s, len, ctx->word);
}

/* Indexes the delete variants of one word. A word of n letters can be the
 * correction of a typo of n - 2 to n + 2 letters, so it needs as many
 * deletes as the longest typo it may correct is allowed. */
static int index_word(nlu_lexicon_t *lex, uint32_t word)
{
    const char *w = lex->words[word];
    size_t len = strlen(w);
    if (len > DELETE_WORD_MAX)
        return 0;
    int depth = max_edits(letter_count(w, len) + 2);
    if (depth == 0)
        return 0;
    char buf[DELETE_WORD_MAX];
    memcpy(buf, w, len);
    index_ctx_t ctx = {lex, word};
    if (add_delete(lex, buf, len, word) != 0)
        return -1;
    return visit_deletes(buf, len, 0, depth, index_variant, &ctx);
}

/* Adds a copy of `folded`; the lexicon owns the copy. */
int nlu_lexicon_add(nlu_lexicon_t *lexicon, const char *folded)
{
    size_t len = strlen(folded);
    if (len == 0 || find_word(lexicon, folded, len) != NO_WORD)
        return 0;
    if (set_reserve(lexicon) != 0)
        return -1;
    if (lexicon->word_count == lexicon->word_cap) {
        uint32_t cap = lexicon->word_cap ? lexicon->word_cap * 2 : 256;
        char **grown = realloc(lexicon->words, cap * sizeof *grown);
        if (!grown)
            return -1;
        lexicon->words = grown;
        unsigned char *lengths = realloc(lexicon->lengths, cap);
        if (!lengths)
            return -1;
        lexicon->lengths = lengths;
        lexicon->word_cap = cap;
    }
    char *copy = strdup(folded);
    if (!copy)
        return -1;
    uint32_t word = lexicon->word_count++;
    lexicon->words[word] = copy;
    lexicon->lengths[word] = (unsigned char)(len < UCHAR_MAX ? len : UCHAR_MAX);
    uint64_t h = hash_bytes(folded, len);
    set_insert(lexicon->set, lexicon->set_cap, h, word);
    filter_set(lexicon->set_filter, lexicon->set_cap, h);
    if (len > lexicon->max_word_len)
        lexicon->max_word_len = len;
    return index_word(lexicon, word);
}

int nlu_lexicon_has(const nlu_lexicon_t *lexicon, const char *folded)
{
    return find_word(lexicon, folded, strlen(folded)) != NO_WORD;
}

size_t nlu_lexicon_word_count(const nlu_lexicon_t *lexicon)
{
    return lexicon->word_count;
}

const char *nlu_lexicon_word(const nlu_lexicon_t *lexicon, size_t index)
{
    return index < lexicon->word_count ? lexicon->words[index] : NULL;
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions) between a and b, or limit + 1 once it must exceed
 * `limit`. Both strings are at most DELETE_WORD_MAX bytes. Only the band
 * of cells with |i - j| <= limit is computed: a cell outside it is at
 * least |i - j| away, so it never leads to a distance within the limit. */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb,
                         int limit)
{
    enum { W = DELETE_WORD_MAX + 3 };
    int rows[3][W];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    int over = limit + 1;
    size_t band = (size_t)limit;
    if ((la > lb ? la - lb : lb - la) > band)
        return over;
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = j <= band ? (int)j : over;
        prev2[j] = over;
        cur[j] = over;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t from = i > band ? i - band : 1;
        size_t to = i + band < lb ? i + band : lb;
        cur[0] = i <= band ? (int)i : over;
        int row_min = cur[0];
        if (from > 1)
            cur[from - 1] = over;
        for (size_t j = from; j <= to; j++) {
            int cost = a[i - 1] != b[j - 1];
            int d = prev[j - 1] + cost;
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            if (d > over)
                d = over;
            cur[j] = d;
            if (d < row_min)
                row_min = d;
        }
        if (to < lb)
            cur[to + 1] = over;
        if (row_min > limit)
            return over;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > limit ? over : prev[lb];
}

/* Words a search remembers having checked. */
#define CHECKED_MAX 32

/* The nearest words of one correction, for up to NLU_CORRECT_MAX
 * lexicons at once. The index searched belongs to `lex`. `ranks` gives,
 * per word of `lex`, its index in each lexicon (NO_WORD when it is not
 * in that one). It is NULL when `lex` is the only lexicon, and a word's
 * rank is then its index. */
typedef struct {
    const nlu_lexicon_t *lex;
    const uint32_t *ranks;
    size_t lexicon_count;
    const char *query;
    size_t query_len;
    int limit;
    uint32_t best[NLU_CORRECT_MAX];
    int best_distance[NLU_CORRECT_MAX];
    int best_first_letter[NLU_CORRECT_MAX]; /* 1: best keeps the first letter */
    uint32_t checked[CHECKED_MAX];          /* words whose distance is known */
    size_t checked_count;
} correct_ctx_t;

/* Keeps `rank` as the nearest word of lexicon `i` when it is nearer than
 * the one kept. Ties go to a word with the query's first letter, then to
 * the word added first, so the order of the checks does not matter. */
static void keep_nearest(correct_ctx_t *ctx, size_t i, uint32_t rank, int d,
                         int first)
{
    int better =
        d < ctx->best_distance[i] ||
        (d == ctx->best_distance[i] &&
         (first > ctx->best_first_letter[i] ||
          (first == ctx->best_first_letter[i] && rank < ctx->best[i])));
    if (ctx->best[i] == NO_WORD || better) {
        ctx->best[i] = rank;
        ctx->best_distance[i] = d;
        ctx->best_first_letter[i] = first;
    }
}

/* Returns 1 when `word` was checked before in this search, and records it
 * otherwise, while there is room. A word shares several variants with a
 * query it is near to. */
static int checked_before(correct_ctx_t *ctx, uint32_t word)
{
    for (size_t i = 0; i < ctx->checked_count; i++)
        if (ctx->checked[i] == word)
            return 1;
    if (ctx->checked_count < CHECKED_MAX)
        ctx->checked[ctx->checked_count++] = word;
    return 0;
}

/* Checks every word listed at a delete slot and keeps, per lexicon, the
 * nearest one. Indexed words have at most DELETE_WORD_MAX bytes, so their
 * stored length is exact. */
static void check_slot(correct_ctx_t *ctx, const delete_slot_t *slot)
{
    const nlu_lexicon_t *lex = ctx->lex;
    size_t band = (size_t)ctx->limit;
    for (uint32_t p = slot->head; p != NO_WORD; p = lex->postings[p].next) {
        uint32_t word = lex->postings[p].word;
        size_t wl = lex->lengths[word];
        if (wl + band < ctx->query_len || wl > ctx->query_len + band ||
            checked_before(ctx, word))
            continue;
        const char *w = lex->words[word];
        int d = edit_distance(ctx->query, ctx->query_len, w, wl, ctx->limit);
        if (d > ctx->limit)
            continue;
        int first = w[0] == ctx->query[0];
        if (!ctx->ranks) {
            keep_nearest(ctx, 0, word, d, first);
            continue;
        }
        const uint32_t *ranks = ctx->ranks + (size_t)word * ctx->lexicon_count;
        for (size_t i = 0; i < ctx->lexicon_count; i++)
            if (ranks[i] != NO_WORD)
                keep_nearest(ctx, i, ranks[i], d, first);
    }
}

/* The maximum number of variants of a query: itself, the strings with one
 * byte deleted and those with two deleted. */
#define VARIANTS_MAX                                                           \
    (1 + DELETE_WORD_MAX + DELETE_WORD_MAX * (DELETE_WORD_MAX - 1) / 2)

/* Writes the hashes of the query and of every string made by deleting up
 * to ctx->limit (at most 2) of its bytes into `out` and returns their
 * number. The hash of a variant is put together from prefix hashes, so no
 * variant is built: with H(a) the polynomial of a and B the base,
 * H(a b) = H(a) B^|b| + H(b). */
static size_t variant_hashes(const correct_ctx_t *ctx, uint64_t *out)
{
    const unsigned char *q = (const unsigned char *)ctx->query;
    size_t n = ctx->query_len, count = 0;
    uint64_t prefix[DELETE_WORD_MAX + 1], power[DELETE_WORD_MAX + 1];
    prefix[0] = 0;
    power[0] = 1;
    for (size_t i = 0; i < n; i++) {
        prefix[i + 1] = prefix[i] * VARIANT_BASE + q[i];
        power[i + 1] = power[i] * VARIANT_BASE;
    }
#define SPAN(from, to) (prefix[to] - prefix[from] * power[(to) - (from)])

    out[count++] = variant_mix(prefix[n], n);
    for (size_t i = 0; i < n; i++) {
        /* s[0, i) s[i + 1, n) */
        uint64_t h = prefix[i] * power[n - 1 - i] + SPAN(i + 1, n);
        out[count++] = variant_mix(h, n - 1);
        if (ctx->limit < 2)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            /* s[0, i) s[i + 1, j) s[j + 1, n) */
            uint64_t h2 = prefix[i] * power[n - 2 - i] +
                          SPAN(i + 1, j) * power[n - 1 - j] + SPAN(j + 1, n);
            out[count++] = variant_mix(h2, n - 2);
        }
    }
#undef SPAN
    return count;
}

/* Checks the words that share a delete variant with the query. The
 * variants are hashed first and then looked up in two sweeps, filter
 * bits and then table slots, each fetched ahead of its use. The filter
 * and the table are far larger than a cache, and a sweep lets the
 * processor wait for many of them at once. */
static void check_variants(correct_ctx_t *ctx)
{
    const nlu_lexicon_t *lex = ctx->lex;
    uint64_t hashes[VARIANTS_MAX];
    size_t count = variant_hashes(ctx, hashes);
    for (size_t i = 0; i < count; i++)
        __builtin_prefetch(
            &lex->filter[filter_word(lex->delete_cap, hashes[i])]);
    size_t passed = 0;
    uint32_t mask = lex->delete_cap - 1;
    for (size_t i = 0; i < count; i++) {
        if (!filter_has(lex->filter, lex->delete_cap, hashes[i]))
            continue;
        __builtin_prefetch(&lex->deletes[(uint32_t)hashes[i] & mask]);
        hashes[passed++] = hashes[i];
    }
    for (size_t i = 0; i < passed; i++) {
        const delete_slot_t *slot =
            delete_slot(lex->deletes, lex->delete_cap, hashes[i]);
        if (slot->head != NO_WORD)
            check_slot(ctx, slot);
    }
}

/* Sets ctx up for a query of `len` bytes and searches when the query may
 * be corrected. Returns 0 when it may not. */
static int search(correct_ctx_t *ctx, const char *folded, size_t len)
{
    int limit = max_edits(letter_count(folded, len));
    if (limit == 0 || len > DELETE_WORD_MAX)
        return 0;
    ctx->query = folded;
    ctx->query_len = len;
    ctx->limit = limit;
    ctx->checked_count = 0;
    for (size_t i = 0; i < NLU_CORRECT_MAX; i++) {
        ctx->best[i] = NO_WORD;
        ctx->best_distance[i] = limit + 1;
        ctx->best_first_letter[i] = 0;
    }
    check_variants(ctx);
    return 1;
}

/* Returns 1 and copies the word itself when it is known. */
int nlu_lexicon_correct(const nlu_lexicon_t *lexicon, const char *folded,
                        char *out, size_t size)
{
    size_t len = strlen(folded);
    uint32_t known = find_word(lexicon, folded, len);
    if (known == NO_WORD) {
        correct_ctx_t ctx = {.lex = lexicon, .lexicon_count = 1};
        if (!search(&ctx, folded, len) || ctx.best[0] == NO_WORD)
            return 0;
        known = ctx.best[0];
    }
    const char *word = lexicon->words[known];
    size_t word_len = lexicon->lengths[known];
    if (word_len == UCHAR_MAX)
        word_len = strlen(word);
    if (size > 0) {
        if (word_len > size - 1)
            word_len = size - 1;
        memcpy(out, word, word_len);
        out[word_len] = '\0';
    }
    return 1;
}

/* ---- one correction against several lexicons ----------------------------- */

/* Corrections kept for reuse. */
#define CORRECTOR_MEMO_SLOTS 4096

struct nlu_corrector {
    size_t lexicon_count;
    nlu_lexicon_t *all;    /* every word of the lexicons once, with the index */
    uint32_t *ranks;       /* all->word_count x lexicon_count */
    nlu_word_memo_t *memo; /* corrections of words met, lexicon_count each */
};

/* Grows c->ranks to `words` rows, new rows empty. Returns 0 or -1. */
static int ranks_reserve(nlu_corrector_t *c, size_t *cap, size_t words)
{
    if (words <= *cap)
        return 0;
    size_t grown_cap = *cap ? *cap * 2 : 1024;
    while (grown_cap < words)
        grown_cap *= 2;
    uint32_t *grown =
        realloc(c->ranks, grown_cap * c->lexicon_count * sizeof *grown);
    if (!grown)
        return -1;
    for (size_t i = *cap * c->lexicon_count; i < grown_cap * c->lexicon_count;
         i++)
        grown[i] = NO_WORD;
    c->ranks = grown;
    *cap = grown_cap;
    return 0;
}

nlu_corrector_t *nlu_corrector_new(const nlu_lexicon_t *const *lexicons,
                                   size_t count)
{
    if (count == 0 || count > NLU_CORRECT_MAX)
        return NULL;
    nlu_corrector_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->lexicon_count = count;
    c->all = nlu_lexicon_new();
    c->memo = nlu_word_memo_new(CORRECTOR_MEMO_SLOTS, count * sizeof(uint32_t));
    size_t cap = 0;
    int rc = c->all && c->memo ? 0 : -1;
    for (size_t l = 0; l < count && rc == 0; l++) {
        const nlu_lexicon_t *lex = lexicons[l];
        for (uint32_t w = 0; w < lex->word_count && rc == 0; w++) {
            const char *word = lex->words[w];
            rc = nlu_lexicon_add(c->all, word);
            if (rc == 0)
                rc = ranks_reserve(c, &cap, c->all->word_count);
            if (rc == 0)
                c->ranks[(size_t)find_word(c->all, word, strlen(word)) * count +
                         l] = w;
        }
    }
    if (rc != 0) {
        nlu_corrector_free(c);
        return NULL;
    }
    return c;
}

void nlu_corrector_free(nlu_corrector_t *corrector)
{
    if (!corrector)
        return;
    nlu_lexicon_free(corrector->all);
    free(corrector->ranks);
    nlu_word_memo_free(corrector->memo);
    free(corrector);
}

void nlu_corrector_correct(const nlu_corrector_t *corrector, const char *folded,
                           uint32_t *found)
{
    size_t len = strlen(folded), count = corrector->lexicon_count;
    uint64_t hash = hash_bytes(folded, len);
    if (nlu_word_memo_get(corrector->memo, folded, len, hash, found))
        return;

    /* A word of a lexicon is its own correction there. */
    uint32_t known = find_word_hashed(corrector->all, folded, len, hash);
    const uint32_t *ranks =
        known != NO_WORD ? corrector->ranks + (size_t)known * count : NULL;
    size_t known_in = 0;
    for (size_t i = 0; i < count; i++)
        known_in += ranks && ranks[i] != NO_WORD;

    correct_ctx_t ctx = {.lex = corrector->all,
                         .ranks = corrector->ranks,
                         .lexicon_count = count};
    int searched = known_in < count && search(&ctx, folded, len);
    for (size_t i = 0; i < count; i++) {
        if (ranks && ranks[i] != NO_WORD)
            found[i] = ranks[i];
        else
            found[i] = searched ? ctx.best[i] : NLU_NO_CORRECTION;
    }
    nlu_word_memo_put(corrector->memo, folded, len, hash, found);
}

/* Dutch linking elements between the parts of a compound, tried in this
 * order; the empty link comes first. */
static const char *const links[] = {"", "s", "e", "en"};
static const size_t link_lengths[] = {0, 1, 1, 2};

/* The best split of a suffix of the word: the number of parts and the
 * letters spent on links (fewer parts win, then fewer link letters), and
 * where its first part and link end. */
typedef struct {
    int parts; /* 0 when the suffix cannot be split */
    int link_letters;
    size_t part_end;
    size_t next;
} split_t;

/* Returns 1 when a part ending at `end` could start a split: it ends the
 * word, or one of the links follows it and the rest after the link can be
 * split. Only then is the part worth looking up. */
static int split_goes_on(const split_t *best, const char *folded, size_t end,
                         size_t n)
{
    if (end == n)
        return 1;
    for (size_t k = 0; k < sizeof links / sizeof *links; k++) {
        size_t link_len = link_lengths[k];
        if (end + link_len < n && best[end + link_len].parts != 0 &&
            memcmp(folded + end, links[k], link_len) == 0)
            return 1;
    }
    return 0;
}

/* Splits a folded compound by dynamic programming from the end of the
 * word. Returns 0 when the best split needs more than max_parts parts. */
size_t nlu_split_compound(const nlu_lexicon_t *lexicon, const char *folded,
                          char parts[][NLU_PART_MAX], size_t max_parts)
{
    size_t n = strlen(folded);
    if (n < 2 * PART_MIN || n >= 256 || max_parts < 2 ||
        find_word(lexicon, folded, n) != NO_WORD)
        return 0;

    split_t best[256];
    memset(best, 0, (n + 1) * sizeof *best);
    /* goes_on[j]: split_goes_on() for a part ending at j, known once
     * best[j] is. */
    unsigned char goes_on[256];
    memset(goes_on, 0, n);
    goes_on[n] = 1;
    for (size_t i = n - PART_MIN + 1; i-- > 0;) {
        /* The FNV-1a hash of folded[i, j) grows one byte at a time. */
        uint64_t h = FNV_OFFSET;
        for (size_t k = i; k < i + PART_MIN - 1; k++)
            h = fnv_step(h, folded[k]);
        for (size_t j = i + PART_MIN; j <= n; j++) {
            h = fnv_step(h, folded[j - 1]);
            if (j - i >= NLU_PART_MAX || j - i > lexicon->max_word_len)
                break;
            if (!goes_on[j] || find_word_hashed(lexicon, folded + i, j - i,
                                                h ? h : 1) == NO_WORD)
                continue;
            for (size_t k = 0; k < sizeof links / sizeof *links; k++) {
                size_t ll = link_lengths[k];
                size_t next = j + ll;
                int parts, letters;
                if (next > n || memcmp(folded + j, links[k], ll) != 0)
                    continue;
                if (next == n) {
                    if (ll != 0)
                        continue; /* a link is only allowed between parts */
                    parts = 1;
                    letters = 0;
                } else {
                    if (best[next].parts == 0)
                        continue;
                    parts = best[next].parts + 1;
                    letters = best[next].link_letters + (int)ll;
                }
                /* j grows, so on a tie the longer first part wins:
                 * "tuinbouw|bedrijf", not "tuin|bouwbedrijf". */
                split_t *b = &best[i];
                if (b->parts == 0 || parts < b->parts ||
                    (parts == b->parts && letters <= b->link_letters)) {
                    b->parts = parts;
                    b->link_letters = letters;
                    b->part_end = j;
                    b->next = next;
                }
            }
        }
        goes_on[i] = (unsigned char)split_goes_on(best, folded, i, n);
    }

    if (best[0].parts < 2 || (size_t)best[0].parts > max_parts)
        return 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i = best[i].next) {
        size_t len = best[i].part_end - i;
        memcpy(parts[count], folded + i, len);
        parts[count][len] = '\0';
        count++;
    }
    return count;
}
