/* Feature extraction for the intent classifier. Every feature is a named
 * string hashed to 64 bits (FNV-1a), so the model stores no strings:
 *
 *   w:WORD    the folded word                         weight 1.0
 *   s:STEM    its Snowball stem, after typo correction 1.0
 *   s:PART    stems of compound parts (unknown words)   0.6 each
 *   b:S1|S2   stem bigrams, "^" before the first word  0.6
 *   g:NGRAM   character 3- to 5-grams of "<word>"      0.25 each
 *   n:DIGITS  a number, by its count of digits         1.0
 *   e:KIND    an entity kind found in the text         1.0
 *   l:BUCKET  the number of words: 1, 2, 3, 4-6, 7+    0.5
 *
 * The list is then scaled to unit length, so long texts do not get larger
 * scores than short ones.
 *
 * The same code feeds two sinks. While the model loads, features are
 * appended to a list for training. When parsing, each feature is multiplied
 * with its weight row at once, and a word of the lexicon needs no feature
 * at all. nlu_analyzer_compile() stores, per word, the sum of the weight
 * rows of its w:, s: and g: features and the sum of their squared values,
 * so the word costs one table lookup plus one for its bigram. */
#include "nlu/classifier.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/word_memo.h"

#define MAX_PARTS 4
#define MAX_STACK_CLASSES 64
/* Stemmers kept for reuse between calls, so that a parse that meets an
 * unknown word does not allocate one. More threads than this at once
 * create and free their own. */
#define STEMMER_POOL 8
/* Words the analyzer does not have whose sums are kept for reuse. */
#define UNKNOWN_MEMO_SLOTS 4096

#define WEIGHT_WORD 1.0f
#define WEIGHT_STEM 1.0f
#define WEIGHT_PART 0.6f
#define WEIGHT_BIGRAM 0.6f
#define WEIGHT_NGRAM 0.25f
#define WEIGHT_NUMBER 1.0f
#define WEIGHT_ENTITY 1.0f
#define WEIGHT_LENGTH 0.5f

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* The analysis of one folded word: its stem and the stems of its compound
 * parts. Entries start at a cache line, and what a parse reads of a
 * stored word (the fields up to the stem) lies in the first two lines for
 * words and stems of up to 39 bytes. */
typedef struct {
    /* hash of "b:STEM|", continued by the next stem */
    _Alignas(64) uint64_t bigram_prefix;
    float norm2; /* squared values of its w:, s: and g: features (compiled) */
    float analysis_norm2; /* squared values of its s: features (compiled) */
    uint32_t part_count;
    uint32_t stem_len;       /* bytes of stem */
    char word[NLU_PART_MAX]; /* key; empty marks a free slot */
    char stem[NLU_PART_MAX];
    char parts[MAX_PARTS][NLU_PART_MAX];
} word_entry_t;

/* Buckets of the l: feature, by the number of words. */
#define LENGTH_BUCKETS 6
/* Values of the n: feature: numbers of up to five digits and longer. */
#define NUMBER_BUCKETS 6

/* A feature that does not depend on the words of a text: its hash, and
 * its weight row once nlu_analyzer_compile() has run (NULL when the
 * classifier has none). */
typedef struct {
    uint64_t hash;
    const float *row;
} fixed_feature_t;

struct nlu_analyzer {
    const nlu_lexicon_t *lexicon;
    /* Corrects against `lexicon` when set: it is lexicon `corrector_index`
     * of the corrector. */
    const nlu_corrector_t *corrector;
    size_t corrector_index;
    word_entry_t *entries; /* open addressing, capacity a power of two */
    size_t capacity;
    size_t count;
    /* Set by nlu_analyzer_compile(): capacity x class_count summed weight
     * rows, one per slot of `entries`, of all the word's own features in
     * `vectors` and of its stem and part stems alone in `analyses`. */
    const nlu_classifier_t *classifier;
    float *vectors;
    float *analyses;
    size_t class_count;
    /* Sums of words the analyzer does not have (unknown_word_t), made
     * with the compiled sums. */
    nlu_word_memo_t *unknown;
    _Atomic(nlu_stemmer_t *) stemmers[STEMMER_POOL];
    /* The l:, e: and n: features and the bigram prefixes of "^" and "#",
     * made by nlu_analyzer_new(). nlu_analyzer_compile() sets the rows. */
    fixed_feature_t length_features[LENGTH_BUCKETS];
    fixed_feature_t entity_features[NLU_ENT_KIND_COUNT];
    fixed_feature_t number_features[NUMBER_BUCKETS];
    uint64_t start_prefix;
    uint64_t number_prefix;
};

/* What a word that the analyzer does not have adds to the sums, apart
 * from its bigrams. Its own features are the word, the stem and parts of
 * it or of its typo correction, and its n-grams. */
typedef struct {
    uint64_t bigram_prefix;
    double norm2;
    char stem[NLU_PART_MAX];
    float sums[]; /* class_count values */
} unknown_word_t;

/* Where features go: appended to `list`, or, when `list` is NULL,
 * multiplied with their weight rows into `sums`. */
typedef struct {
    nlu_features_t *list;
    const nlu_classifier_t *classifier;
    size_t class_count;
    float *sums;  /* class_count weighted sums before scaling */
    double norm2; /* sum of the squared values of every feature */
} sink_t;

/* Per-call state: a stemmer taken from the analyzer's pool only when a
 * word has no stored analysis, because the Snowball stemmer is not
 * thread-safe. */
typedef struct {
    nlu_analyzer_t *analyzer;
    int learn;
    nlu_stemmer_t *stemmer;
    sink_t sink;
    uint64_t bigram_prefix; /* of the previous stem, "^" at the start */
    size_t word_count;
    int failed;
} extract_state_t;

static uint64_t hash_continue(uint64_t h, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * FNV_PRIME;
    return h;
}

static uint64_t hash_feature(char kind, const char *text, size_t len)
{
    uint64_t h = FNV_OFFSET;
    h = (h ^ (unsigned char)kind) * FNV_PRIME;
    h = (h ^ ':') * FNV_PRIME;
    return hash_continue(h, text, len);
}

/* The hash of a word in the analyzer's table and memo, the same as a
 * token's (nlu_token_t.hash). */
static uint64_t hash_word(const char *word)
{
    return nlu_word_hash(word, strlen(word));
}

/* Returns the hash of "b:STEM|", which the stem of the next word
 * completes into a bigram feature. */
static uint64_t bigram_prefix(const char *stem)
{
    return (hash_feature('b', stem, strlen(stem)) ^ '|') * FNV_PRIME;
}

void nlu_features_free(nlu_features_t *features)
{
    if (!features)
        return;
    free(features->items);
    memset(features, 0, sizeof *features);
}

static int features_add_hash(nlu_features_t *features, uint64_t hash,
                             float value)
{
    if (features->count == features->capacity) {
        size_t cap = features->capacity ? features->capacity * 2 : 64;
        nlu_feature_t *grown = realloc(features->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        features->items = grown;
        features->capacity = cap;
    }
    features->items[features->count].hash = hash;
    features->items[features->count].value = value;
    features->count++;
    return 0;
}

/* sums[c] += value * row[c] for every class, four classes a step so that
 * the compiler can use vector instructions at -O2. The order of the
 * additions per class is the same as in a plain loop. */
static void add_scaled(float *restrict sums, const float *restrict row,
                       float value, size_t count)
{
    size_t c = 0;
    for (; c + 4 <= count; c += 4) {
        sums[c] += value * row[c];
        sums[c + 1] += value * row[c + 1];
        sums[c + 2] += value * row[c + 2];
        sums[c + 3] += value * row[c + 3];
    }
    for (; c < count; c++)
        sums[c] += value * row[c];
}

/* sums[c] += row[c] for every class, as add_scaled() does. */
static void add_row(float *restrict sums, const float *restrict row,
                    size_t count)
{
    size_t c = 0;
    for (; c + 4 <= count; c += 4) {
        sums[c] += row[c];
        sums[c + 1] += row[c + 1];
        sums[c + 2] += row[c + 2];
        sums[c + 3] += row[c + 3];
    }
    for (; c < count; c++)
        sums[c] += row[c];
}

/* Sends one feature to the sink. Returns 0, or -1 when out of memory. */
static int sink_add(sink_t *sink, uint64_t hash, float value)
{
    if (sink->list)
        return features_add_hash(sink->list, hash, value);
    sink->norm2 += (double)value * value;
    const float *row = nlu_classifier_row(sink->classifier, hash);
    if (row)
        add_scaled(sink->sums, row, value, sink->class_count);
    return 0;
}

static void emit_hash(extract_state_t *state, uint64_t hash, float value)
{
    if (sink_add(&state->sink, hash, value))
        state->failed = 1;
}

static void emit_text(extract_state_t *state, char kind, const char *text,
                      size_t len, float value)
{
    emit_hash(state, hash_feature(kind, text, len), value);
}

/* Scales the features to unit length. Repeated features (the same n-gram
 * twice) stay separate entries: a linear model gives them the same score
 * as one merged entry, and skipping the merge keeps parsing fast. */
static void features_finish(nlu_features_t *features)
{
    double norm = 0;
    for (size_t i = 0; i < features->count; i++)
        norm += (double)features->items[i].value * features->items[i].value;
    if (norm <= 0)
        return;
    float scale = (float)(1.0 / sqrt(norm));
    for (size_t i = 0; i < features->count; i++)
        features->items[i].value *= scale;
}

/* Returns `count` free entries at the alignment of their type, or NULL
 * when out of memory. */
static word_entry_t *entries_new(size_t count)
{
    if (count > SIZE_MAX / sizeof(word_entry_t))
        return NULL;
    word_entry_t *entries =
        aligned_alloc(_Alignof(word_entry_t), count * sizeof *entries);
    if (entries)
        memset(entries, 0, count * sizeof *entries);
    return entries;
}

static const char *const length_names[LENGTH_BUCKETS] = {"0", "1",   "2",
                                                         "3", "4-6", "7+"};
static const char *const number_names[NUMBER_BUCKETS] = {"0", "1", "2",
                                                         "3", "4", "5"};

/* Returns the l: bucket of a text of `words` words. */
static size_t length_bucket(size_t words)
{
    if (words <= 3)
        return words;
    return words <= 6 ? 4 : 5;
}

/* Fills the hashes of the analyzer's fixed features. */
static void fixed_features_init(nlu_analyzer_t *analyzer)
{
    for (size_t i = 0; i < LENGTH_BUCKETS; i++)
        analyzer->length_features[i].hash =
            hash_feature('l', length_names[i], strlen(length_names[i]));
    for (size_t i = 0; i < NLU_ENT_KIND_COUNT; i++) {
        const char *kind = nlu_entity_kind_name((nlu_entity_kind_t)i);
        analyzer->entity_features[i].hash =
            hash_feature('e', kind, strlen(kind));
    }
    for (size_t i = 0; i < NUMBER_BUCKETS; i++)
        analyzer->number_features[i].hash =
            hash_feature('n', number_names[i], 1);
    analyzer->start_prefix = bigram_prefix("^");
    analyzer->number_prefix = bigram_prefix("#");
}

/* Looks up the rows of the fixed features in `classifier`. */
static void fixed_features_compile(nlu_analyzer_t *analyzer,
                                   const nlu_classifier_t *classifier)
{
    fixed_feature_t *groups[] = {analyzer->length_features,
                                 analyzer->entity_features,
                                 analyzer->number_features};
    size_t sizes[] = {LENGTH_BUCKETS, NLU_ENT_KIND_COUNT, NUMBER_BUCKETS};
    for (size_t g = 0; g < 3; g++)
        for (size_t i = 0; i < sizes[g]; i++)
            groups[g][i].row =
                nlu_classifier_row(classifier, groups[g][i].hash);
}

/* Sends a fixed feature to the state's sink, as emit_hash() would, with
 * its row looked up beforehand when the sink adds to the sums of the
 * compiled classifier. */
static void emit_fixed(extract_state_t *state, const fixed_feature_t *feature,
                       float value)
{
    sink_t *sink = &state->sink;
    if (sink->list || sink->classifier != state->analyzer->classifier) {
        emit_hash(state, feature->hash, value);
        return;
    }
    sink->norm2 += (double)value * value;
    if (feature->row)
        add_scaled(sink->sums, feature->row, value, sink->class_count);
}

nlu_analyzer_t *nlu_analyzer_new(const nlu_lexicon_t *lexicon)
{
    nlu_analyzer_t *analyzer = calloc(1, sizeof *analyzer);
    if (!analyzer)
        return NULL;
    fixed_features_init(analyzer);
    analyzer->lexicon = lexicon;
    analyzer->capacity = 1024;
    analyzer->entries = entries_new(analyzer->capacity);
    if (!analyzer->entries) {
        free(analyzer);
        return NULL;
    }
    return analyzer;
}

void nlu_analyzer_use_corrector(nlu_analyzer_t *analyzer,
                                const nlu_corrector_t *corrector, size_t index)
{
    analyzer->corrector = corrector;
    analyzer->corrector_index = index;
}

/* Does what nlu_lexicon_correct() does against the analyzer's lexicon,
 * through the corrector when there is one. */
static int correct_word(const nlu_analyzer_t *analyzer, const char *folded,
                        char *out, size_t size)
{
    if (!analyzer->corrector)
        return nlu_lexicon_correct(analyzer->lexicon, folded, out, size);
    uint32_t found[NLU_CORRECT_MAX];
    nlu_corrector_correct(analyzer->corrector, folded, found);
    uint32_t word = found[analyzer->corrector_index];
    if (word == NLU_NO_CORRECTION)
        return 0;
    const char *corrected = nlu_lexicon_word(analyzer->lexicon, word);
    nlu_copy_text(out, size, corrected, strnlen(corrected, size));
    return 1;
}

/* Takes a stemmer from the pool, or creates one when the pool is empty.
 * Returns NULL when out of memory. */
static nlu_stemmer_t *stemmer_acquire(nlu_analyzer_t *analyzer)
{
    for (size_t i = 0; i < STEMMER_POOL; i++) {
        nlu_stemmer_t *stemmer = atomic_exchange(&analyzer->stemmers[i], NULL);
        if (stemmer)
            return stemmer;
    }
    return nlu_stemmer_new();
}

/* Puts a stemmer back into the pool, or frees it when the pool is full;
 * accepts NULL. */
static void stemmer_release(nlu_analyzer_t *analyzer, nlu_stemmer_t *stemmer)
{
    if (!stemmer)
        return;
    for (size_t i = 0; i < STEMMER_POOL; i++) {
        nlu_stemmer_t *expected = NULL;
        if (atomic_compare_exchange_strong(&analyzer->stemmers[i], &expected,
                                           stemmer))
            return;
    }
    nlu_stemmer_free(stemmer);
}

void nlu_analyzer_free(nlu_analyzer_t *analyzer)
{
    if (!analyzer)
        return;
    for (size_t i = 0; i < STEMMER_POOL; i++)
        nlu_stemmer_free(atomic_exchange(&analyzer->stemmers[i], NULL));
    free(analyzer->analyses);
    free(analyzer->vectors);
    nlu_word_memo_free(analyzer->unknown);
    free(analyzer->entries);
    free(analyzer);
}

/* Returns the slot of `word`: its entry, or the free slot where it
 * belongs. */
static word_entry_t *analyzer_slot_hashed(const nlu_analyzer_t *analyzer,
                                          const char *word, uint64_t hash)
{
    size_t mask = analyzer->capacity - 1;
    size_t i = (size_t)hash & mask;
    while (analyzer->entries[i].word[0] &&
           strcmp(analyzer->entries[i].word, word) != 0)
        i = (i + 1) & mask;
    return &analyzer->entries[i];
}

/* Returns the slot of `word` as analyzer_slot_hashed() does. */
static word_entry_t *analyzer_slot(const nlu_analyzer_t *analyzer,
                                   const char *word)
{
    return analyzer_slot_hashed(analyzer, word, hash_word(word));
}

/* Drops the sums of nlu_analyzer_compile(), which no longer match the
 * table once a word is added. */
static void analyzer_drop_compiled(nlu_analyzer_t *analyzer)
{
    free(analyzer->vectors);
    free(analyzer->analyses);
    nlu_word_memo_free(analyzer->unknown);
    analyzer->vectors = NULL;
    analyzer->analyses = NULL;
    analyzer->unknown = NULL;
    analyzer->classifier = NULL;
}

/* Doubles the table. */
static int analyzer_grow(nlu_analyzer_t *analyzer)
{
    size_t old_capacity = analyzer->capacity;
    word_entry_t *old = analyzer->entries;
    analyzer->capacity *= 2;
    analyzer->entries = entries_new(analyzer->capacity);
    if (!analyzer->entries) {
        analyzer->entries = old;
        analyzer->capacity = old_capacity;
        return -1;
    }
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].word[0])
            *analyzer_slot(analyzer, old[i].word) = old[i];
    free(old);
    return 0;
}

/* Returns the stored entry of `word`, or NULL. */
static const word_entry_t *analyzer_find(const nlu_analyzer_t *analyzer,
                                         const char *word)
{
    const word_entry_t *slot = analyzer_slot(analyzer, word);
    return slot->word[0] ? slot : NULL;
}

/* Stems a folded word into `out` (NLU_PART_MAX bytes): the stored stem
 * when the analyzer has the word, else with the state's stemmer. */
static void stem_word(extract_state_t *state, const char *word, char *out)
{
    const word_entry_t *known = analyzer_find(state->analyzer, word);
    if (known)
        memcpy(out, known->stem, NLU_PART_MAX);
    else
        nlu_stem(state->stemmer, word, out, NLU_PART_MAX);
}

/* Computes the analysis of `word` into `entry`; the stemmer is taken from
 * the pool on first use. Returns 0, or -1 when out of memory. */
static int analyze(extract_state_t *state, const char *word,
                   word_entry_t *entry)
{
    if (!state->stemmer) {
        state->stemmer = stemmer_acquire(state->analyzer);
        if (!state->stemmer)
            return -1;
    }
    memset(entry, 0, sizeof *entry);
    nlu_copy_text(entry->word, sizeof entry->word, word,
                  strnlen(word, sizeof entry->word));
    nlu_stem(state->stemmer, word, entry->stem, sizeof entry->stem);
    entry->stem_len = (uint32_t)strlen(entry->stem);
    entry->bigram_prefix = bigram_prefix(entry->stem);

    char parts[MAX_PARTS][NLU_PART_MAX];
    size_t count = state->analyzer->lexicon
                       ? nlu_split_compound(state->analyzer->lexicon, word,
                                            parts, MAX_PARTS)
                       : 0;
    for (size_t i = 0; i < count && i < MAX_PARTS; i++)
        stem_word(state, parts[i], entry->parts[i]);
    entry->part_count = (uint32_t)(count < MAX_PARTS ? count : MAX_PARTS);
    return 0;
}

/* Finds or computes the analysis of a folded word and returns it: a stored
 * entry, or `scratch` filled in. In learn mode a new analysis is stored;
 * otherwise an unknown word is first corrected against the lexicon.
 * Returns NULL when out of memory. */
static const word_entry_t *lookup_word(extract_state_t *state, const char *word,
                                       word_entry_t *scratch)
{
    nlu_analyzer_t *analyzer = state->analyzer;
    word_entry_t *slot = analyzer_slot(analyzer, word);
    if (slot->word[0])
        return slot;
    if (state->learn) {
        if (analyze(state, word, scratch))
            return NULL;
        if ((analyzer->count + 1) * 2 > analyzer->capacity &&
            analyzer_grow(analyzer))
            return NULL;
        analyzer_drop_compiled(analyzer);
        slot = analyzer_slot(analyzer, word);
        *slot = *scratch;
        analyzer->count++;
        return slot;
    }

    char corrected[NLU_PART_MAX];
    if (analyzer->lexicon && !nlu_lexicon_has(analyzer->lexicon, word) &&
        nlu_lexicon_correct(analyzer->lexicon, word, corrected,
                            sizeof corrected)) {
        slot = analyzer_slot(analyzer, corrected);
        if (slot->word[0])
            return slot;
        return analyze(state, corrected, scratch) ? NULL : scratch;
    }
    return analyze(state, word, scratch) ? NULL : scratch;
}

static void emit_ngrams(extract_state_t *state, const char *folded)
{
    char marked[NLU_PART_MAX + 2];
    size_t word_len = strlen(folded);
    if (word_len > NLU_PART_MAX - 1)
        word_len = NLU_PART_MAX - 1;
    marked[0] = '<';
    memcpy(marked + 1, folded, word_len);
    marked[word_len + 1] = '>';
    int len = (int)word_len + 2;
    for (int n = 3; n <= 5; n++)
        for (int i = 0; i + n <= len; i++)
            emit_text(state, 'g', marked + i, (size_t)n, WEIGHT_NGRAM);
}

/* N-grams of one word at most: three per start of "<word>". */
#define NGRAMS_MAX (3 * (NLU_PART_MAX + 1))

/* Adds the n-grams of emit_ngrams() to the sums, in the same order,
 * position by position, extending one hash from each start instead of
 * hashing every n-gram from its first byte. The rows of all of them are
 * looked up together. */
static void score_ngrams(extract_state_t *state, const char *folded)
{
    char marked[NLU_PART_MAX + 2];
    size_t word_len = strlen(folded);
    if (word_len > NLU_PART_MAX - 1)
        word_len = NLU_PART_MAX - 1;
    marked[0] = '<';
    memcpy(marked + 1, folded, word_len);
    marked[word_len + 1] = '>';
    size_t len = word_len + 2;
    uint64_t start = hash_feature('g', "", 0);
    uint64_t hashes[NGRAMS_MAX];
    size_t count = 0;
    for (size_t i = 0; i + 3 <= len; i++) {
        uint64_t h = hash_continue(start, marked + i, 2);
        for (size_t n = 3; n <= 5 && i + n <= len; n++) {
            h = hash_continue(h, marked + i + n - 1, 1);
            hashes[count++] = h;
        }
    }

    sink_t *sink = &state->sink;
    if (count == 0)
        return;
    if (sink->list) {
        for (size_t i = 0; i < count; i++)
            emit_hash(state, hashes[i], WEIGHT_NGRAM);
        return;
    }
    const float *rows[NGRAMS_MAX];
    nlu_classifier_rows(sink->classifier, hashes, count, rows);
    for (size_t i = 0; i < count; i++) {
        sink->norm2 += (double)WEIGHT_NGRAM * WEIGHT_NGRAM;
        if (rows[i])
            add_scaled(sink->sums, rows[i], WEIGHT_NGRAM, sink->class_count);
    }
}

/* Emits the features of one word that do not depend on its neighbours:
 * the folded word as written, the stem and parts of its analysis (which
 * may be of its typo correction) and its n-grams. */
static void emit_word(extract_state_t *state, const char *folded,
                      const word_entry_t *entry)
{
    emit_text(state, 'w', folded, strlen(folded), WEIGHT_WORD);
    emit_text(state, 's', entry->stem, strlen(entry->stem), WEIGHT_STEM);
    for (size_t i = 0; i < entry->part_count; i++)
        emit_text(state, 's', entry->parts[i], strlen(entry->parts[i]),
                  WEIGHT_PART);
    emit_ngrams(state, folded);
}

/* Emits the bigram "b:PREVIOUS|STEM" of stem[0, len) and makes
 * `next_prefix` (the prefix of the stem) the previous one. */
static void emit_bigram_len(extract_state_t *state, const char *stem,
                            size_t len, uint64_t next_prefix)
{
    emit_hash(state, hash_continue(state->bigram_prefix, stem, len),
              WEIGHT_BIGRAM);
    state->bigram_prefix = next_prefix;
}

/* Emits the bigram of a NUL-terminated stem as emit_bigram_len() does. */
static void emit_bigram(extract_state_t *state, const char *stem,
                        uint64_t next_prefix)
{
    emit_bigram_len(state, stem, strlen(stem), next_prefix);
}

/* Adds the compiled vector of the stored entry `entry` to the sums. */
static void add_compiled(extract_state_t *state, const word_entry_t *entry)
{
    const nlu_analyzer_t *analyzer = state->analyzer;
    const float *vector =
        analyzer->vectors +
        (size_t)(entry - analyzer->entries) * analyzer->class_count;
    add_row(state->sink.sums, vector, analyzer->class_count);
    state->sink.norm2 += entry->norm2;
}

/* Adds the compiled sums of the stem and part stems of `entry`. */
static void add_analysis(extract_state_t *state, const word_entry_t *entry)
{
    const nlu_analyzer_t *analyzer = state->analyzer;
    const float *vector =
        analyzer->analyses +
        (size_t)(entry - analyzer->entries) * analyzer->class_count;
    add_row(state->sink.sums, vector, analyzer->class_count);
    state->sink.norm2 += entry->analysis_norm2;
}

/* Adds the features of a word that the analyzer does not have to the
 * sums, apart from its bigrams, and writes its stem and bigram prefix. A
 * typo corrected into a stored word reuses that word's stem and part
 * sums. Any other word is stemmed and split. Returns 0, or -1 when out of
 * memory. */
static int score_unknown(extract_state_t *state, const char *folded, char *stem,
                         uint64_t *next_prefix)
{
    nlu_analyzer_t *analyzer = state->analyzer;
    const word_entry_t *entry = NULL;
    /* nlu_lexicon_correct() returns a known word itself, which then has
     * no entry either and is analysed as written, as lookup_word() does. */
    char corrected[NLU_PART_MAX];
    const char *analysed = folded;
    if (analyzer->lexicon &&
        correct_word(analyzer, folded, corrected, sizeof corrected)) {
        entry = analyzer_find(analyzer, corrected);
        analysed = corrected;
    }
    if (entry) {
        emit_text(state, 'w', folded, strlen(folded), WEIGHT_WORD);
        add_analysis(state, entry);
        score_ngrams(state, folded);
        memcpy(stem, entry->stem, NLU_PART_MAX);
        *next_prefix = entry->bigram_prefix;
        return 0;
    }
    word_entry_t scratch;
    if (analyze(state, analysed, &scratch))
        return -1;
    emit_text(state, 'w', folded, strlen(folded), WEIGHT_WORD);
    emit_text(state, 's', scratch.stem, strlen(scratch.stem), WEIGHT_STEM);
    for (size_t i = 0; i < scratch.part_count; i++)
        emit_text(state, 's', scratch.parts[i], strlen(scratch.parts[i]),
                  WEIGHT_PART);
    score_ngrams(state, folded);
    memcpy(stem, scratch.stem, NLU_PART_MAX);
    *next_prefix = scratch.bigram_prefix;
    return 0;
}

/* Scores one word token into the sums as emit_word() and emit_bigram()
 * would, with the compiled sums where they apply. A stored word costs one
 * lookup. So does a word that the analyzer does not have while it stays
 * in the memo. Returns 0, or -1 when out of memory. */
static int score_word(extract_state_t *state, const nlu_token_t *token)
{
    nlu_analyzer_t *analyzer = state->analyzer;
    const char *folded = token->folded;
    const word_entry_t *entry =
        analyzer_slot_hashed(analyzer, folded, token->hash);
    if (!entry->word[0])
        entry = NULL;
    if (entry) {
        add_compiled(state, entry);
        emit_bigram_len(state, entry->stem, entry->stem_len,
                        entry->bigram_prefix);
        return 0;
    }
    if (!analyzer->unknown) {
        char stem[NLU_PART_MAX];
        uint64_t next_prefix;
        if (score_unknown(state, folded, stem, &next_prefix))
            return -1;
        emit_bigram(state, stem, next_prefix);
        return 0;
    }

    /* The word's own sums start from zero, so that they are the same
     * whether they come from the memo or are computed here. */
    _Alignas(unknown_word_t) unsigned char
        buffer[sizeof(unknown_word_t) + MAX_STACK_CLASSES * sizeof(float)];
    unknown_word_t *unknown = (unknown_word_t *)buffer;
    size_t len = token->len, k = analyzer->class_count;
    uint64_t hash = token->hash;
    if (!nlu_word_memo_get(analyzer->unknown, folded, len, hash, unknown)) {
        sink_t sink = state->sink;
        memset(unknown->sums, 0, k * sizeof *unknown->sums);
        state->sink.sums = unknown->sums;
        state->sink.norm2 = 0;
        int rc = score_unknown(state, folded, unknown->stem,
                               &unknown->bigram_prefix);
        unknown->norm2 = state->sink.norm2;
        state->sink = sink;
        if (rc)
            return -1;
        nlu_word_memo_put(analyzer->unknown, folded, len, hash, unknown);
    }
    add_row(state->sink.sums, unknown->sums, k);
    state->sink.norm2 += unknown->norm2;
    emit_bigram(state, unknown->stem, unknown->bigram_prefix);
    return 0;
}

static int on_token(const nlu_token_t *token, void *arg)
{
    extract_state_t *state = arg;
    if (token->is_number) {
        const nlu_analyzer_t *analyzer = state->analyzer;
        size_t n = strlen(token->folded);
        emit_fixed(state, &analyzer->number_features[n < 5 ? n : 5],
                   WEIGHT_NUMBER);
        emit_bigram_len(state, "#", 1, analyzer->number_prefix);
        state->word_count++;
        return state->failed;
    }
    if (!state->sink.list && state->analyzer->vectors) {
        if (score_word(state, token))
            state->failed = 1;
        state->word_count++;
        return state->failed;
    }

    word_entry_t scratch;
    const word_entry_t *entry = lookup_word(state, token->folded, &scratch);
    if (!entry) {
        state->failed = 1;
        return 1;
    }
    int compiled = !state->sink.list && state->analyzer->vectors &&
                   entry != &scratch && strcmp(entry->word, token->folded) == 0;
    if (compiled)
        add_compiled(state, entry);
    else
        emit_word(state, token->folded, entry);
    emit_bigram(state, entry->stem, entry->bigram_prefix);
    state->word_count++;
    return state->failed;
}

/* Emits the features that follow the words and returns the stemmer to
 * the pool. */
static void extract_finish(extract_state_t *state, const nlu_entity_t *entities,
                           size_t entity_count)
{
    const nlu_analyzer_t *analyzer = state->analyzer;
    if (!state->failed)
        emit_fixed(state,
                   &analyzer->length_features[length_bucket(state->word_count)],
                   WEIGHT_LENGTH);
    for (size_t i = 0; i < entity_count && !state->failed; i++) {
        nlu_entity_kind_t kind = entities[i].kind;
        if ((unsigned)kind < NLU_ENT_KIND_COUNT) {
            emit_fixed(state, &analyzer->entity_features[kind], WEIGHT_ENTITY);
            continue;
        }
        const char *name = nlu_entity_kind_name(kind);
        emit_text(state, 'e', name, strlen(name), WEIGHT_ENTITY);
    }
    stemmer_release(state->analyzer, state->stemmer);
    state->stemmer = NULL;
}

/* Runs the extraction of one utterance into the state's sink. */
static void extract(extract_state_t *state, const char *text, size_t len,
                    const nlu_entity_t *entities, size_t entity_count)
{
    state->bigram_prefix = state->analyzer->start_prefix;
    nlu_tokenize(text, len, on_token, state);
    extract_finish(state, entities, entity_count);
}

int nlu_features_extract(nlu_analyzer_t *analyzer, const char *text, size_t len,
                         const nlu_entity_t *entities, size_t entity_count,
                         int learn, nlu_features_t *out)
{
    out->count = 0;
    extract_state_t state = {
        .analyzer = analyzer, .learn = learn, .sink = {.list = out}};
    extract(&state, text, len, entities, entity_count);
    if (state.failed)
        return -1;
    features_finish(out);
    return (int)(state.word_count < INT_MAX ? state.word_count : INT_MAX);
}

int nlu_analyzer_learn_lexicon(nlu_analyzer_t *analyzer)
{
    const nlu_lexicon_t *lexicon = analyzer->lexicon;
    size_t count = lexicon ? nlu_lexicon_word_count(lexicon) : 0;
    extract_state_t state = {.analyzer = analyzer, .learn = 1};
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        const char *word = nlu_lexicon_word(lexicon, i);
        /* A token keeps at most NLU_PART_MAX - 1 bytes, so a longer word
         * can never be looked up as written. */
        if (strlen(word) >= NLU_PART_MAX)
            continue;
        word_entry_t scratch;
        if (!lookup_word(&state, word, &scratch))
            rc = -1;
    }
    stemmer_release(analyzer, state.stemmer);
    return rc;
}

int nlu_analyzer_compile(nlu_analyzer_t *analyzer,
                         const nlu_classifier_t *classifier)
{
    size_t k = nlu_classifier_class_count(classifier);
    analyzer_drop_compiled(analyzer);
    analyzer->vectors = calloc(analyzer->capacity * k, sizeof(float));
    analyzer->analyses = calloc(analyzer->capacity * k, sizeof(float));
    if (!analyzer->vectors || !analyzer->analyses) {
        analyzer_drop_compiled(analyzer);
        return -1;
    }
    analyzer->class_count = k;
    if (k <= MAX_STACK_CLASSES) {
        analyzer->unknown = nlu_word_memo_new(
            UNKNOWN_MEMO_SLOTS, sizeof(unknown_word_t) + k * sizeof(float));
        if (!analyzer->unknown) {
            analyzer_drop_compiled(analyzer);
            return -1;
        }
    }

    extract_state_t state = {
        .analyzer = analyzer,
        .sink = {.classifier = classifier, .class_count = k}};
    for (size_t i = 0; i < analyzer->capacity; i++) {
        word_entry_t *entry = &analyzer->entries[i];
        if (!entry->word[0])
            continue;
        state.sink.sums = analyzer->vectors + i * k;
        state.sink.norm2 = 0;
        emit_word(&state, entry->word, entry);
        entry->norm2 = (float)state.sink.norm2;

        state.sink.sums = analyzer->analyses + i * k;
        state.sink.norm2 = 0;
        emit_text(&state, 's', entry->stem, strlen(entry->stem), WEIGHT_STEM);
        for (size_t p = 0; p < entry->part_count; p++)
            emit_text(&state, 's', entry->parts[p], strlen(entry->parts[p]),
                      WEIGHT_PART);
        entry->analysis_norm2 = (float)state.sink.norm2;
    }
    fixed_features_compile(analyzer, classifier);
    analyzer->classifier = classifier;
    return 0;
}

/* Scores the tokens of one utterance, from `tokens` when it is not NULL
 * and else from text[0, len). */
static int score(nlu_analyzer_t *analyzer, const char *text, size_t len,
                 const nlu_token_t *tokens, size_t token_count,
                 const nlu_entity_t *entities, size_t entity_count,
                 double *probs)
{
    const nlu_classifier_t *classifier = analyzer->classifier;
    if (!classifier)
        return -1;
    size_t k = analyzer->class_count;
    float stack_sums[MAX_STACK_CLASSES];
    float *sums =
        k <= MAX_STACK_CLASSES ? stack_sums : malloc(k * sizeof *sums);
    if (!sums)
        return -1;
    memset(sums, 0, k * sizeof *sums);

    extract_state_t state = {
        .analyzer = analyzer,
        .sink = {.classifier = classifier, .class_count = k, .sums = sums}};
    if (tokens) {
        state.bigram_prefix = analyzer->start_prefix;
        for (size_t i = 0; i < token_count && !state.failed; i++)
            on_token(&tokens[i], &state);
        extract_finish(&state, entities, entity_count);
    } else {
        extract(&state, text, len, entities, entity_count);
    }
    if (!state.failed)
        nlu_classifier_probabilities(
            classifier, sums,
            state.sink.norm2 > 0 ? 1.0 / sqrt(state.sink.norm2) : 0.0, probs);
    if (sums != stack_sums)
        free(sums);
    if (state.failed)
        return -1;
    return (int)(state.word_count < INT_MAX ? state.word_count : INT_MAX);
}

int nlu_analyzer_score(nlu_analyzer_t *analyzer, const char *text, size_t len,
                       const nlu_entity_t *entities, size_t entity_count,
                       double *probs)
{
    return score(analyzer, text, len, NULL, 0, entities, entity_count, probs);
}

int nlu_analyzer_score_tokens(nlu_analyzer_t *analyzer,
                              const nlu_token_t *tokens, size_t token_count,
                              const nlu_entity_t *entities, size_t entity_count,
                              double *probs)
{
    return score(analyzer, NULL, 0, tokens, token_count, entities, entity_count,
                 probs);
}
