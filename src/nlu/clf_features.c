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
 * scores than short ones. */
#include "nlu/classifier.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 4

#define WEIGHT_WORD 1.0f
#define WEIGHT_STEM 1.0f
#define WEIGHT_PART 0.6f
#define WEIGHT_BIGRAM 0.6f
#define WEIGHT_NGRAM 0.25f
#define WEIGHT_NUMBER 1.0f
#define WEIGHT_ENTITY 1.0f
#define WEIGHT_LENGTH 0.5f

/* The analysis of one folded word: its stem and the stems of its compound
 * parts. */
typedef struct {
    char word[NLU_PART_MAX]; /* key; empty marks a free slot */
    char stem[NLU_PART_MAX];
    char parts[MAX_PARTS][NLU_PART_MAX];
    size_t part_count;
} word_entry_t;

struct nlu_analyzer {
    const nlu_lexicon_t *lexicon;
    word_entry_t *entries; /* open addressing, capacity a power of two */
    size_t capacity;
    size_t count;
};

/* Per-call state: a stemmer created only when a word has no stored
 * analysis, because the Snowball stemmer is not thread-safe. */
typedef struct {
    nlu_analyzer_t *analyzer;
    int learn;
    nlu_stemmer_t *stemmer;
    nlu_features_t *out;
    char previous_stem[NLU_PART_MAX];
    size_t word_count;
    int failed;
} extract_state_t;

static uint64_t hash_feature(char kind, const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ (unsigned char)kind) * 1099511628211ULL;
    h = (h ^ ':') * 1099511628211ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    return h;
}

static uint64_t hash_word(const char *word)
{
    return hash_feature('#', word, strlen(word));
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

static int features_add(nlu_features_t *features, char kind, const char *text,
                        size_t len, float value)
{
    return features_add_hash(features, hash_feature(kind, text, len), value);
}

static int add_text(extract_state_t *state, char kind, const char *text,
                    float value)
{
    if (features_add(state->out, kind, text, strlen(text), value)) {
        state->failed = 1;
        return -1;
    }
    return 0;
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

nlu_analyzer_t *nlu_analyzer_new(const nlu_lexicon_t *lexicon)
{
    nlu_analyzer_t *analyzer = calloc(1, sizeof *analyzer);
    if (!analyzer)
        return NULL;
    analyzer->lexicon = lexicon;
    analyzer->capacity = 1024;
    analyzer->entries = calloc(analyzer->capacity, sizeof *analyzer->entries);
    if (!analyzer->entries) {
        free(analyzer);
        return NULL;
    }
    return analyzer;
}

void nlu_analyzer_free(nlu_analyzer_t *analyzer)
{
    if (!analyzer)
        return;
    free(analyzer->entries);
    free(analyzer);
}

/* Returns the slot of `word`: its entry, or the free slot where it
 * belongs. */
static word_entry_t *analyzer_slot(const nlu_analyzer_t *analyzer,
                                   const char *word)
{
    size_t mask = analyzer->capacity - 1;
    size_t i = (size_t)hash_word(word) & mask;
    while (analyzer->entries[i].word[0] &&
           strcmp(analyzer->entries[i].word, word) != 0)
        i = (i + 1) & mask;
    return &analyzer->entries[i];
}

static int analyzer_grow(nlu_analyzer_t *analyzer)
{
    size_t old_capacity = analyzer->capacity;
    word_entry_t *old = analyzer->entries;
    analyzer->capacity *= 2;
    analyzer->entries = calloc(analyzer->capacity, sizeof *old);
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

/* Computes the analysis of `word` into `entry`; the stemmer is created on
 * first use. Returns 0, or -1 when out of memory. */
static int analyze(extract_state_t *state, const char *word,
                   word_entry_t *entry)
{
    if (!state->stemmer) {
        state->stemmer = nlu_stemmer_new();
        if (!state->stemmer)
            return -1;
    }
    memset(entry, 0, sizeof *entry);
    snprintf(entry->word, sizeof entry->word, "%s", word);
    nlu_stem(state->stemmer, word, entry->stem, sizeof entry->stem);

    char parts[MAX_PARTS][NLU_PART_MAX];
    size_t count = state->analyzer->lexicon
                       ? nlu_split_compound(state->analyzer->lexicon, word,
                                            parts, MAX_PARTS)
                       : 0;
    for (size_t i = 0; i < count && i < MAX_PARTS; i++)
        nlu_stem(state->stemmer, parts[i], entry->parts[i],
                 sizeof entry->parts[i]);
    entry->part_count = count < MAX_PARTS ? count : MAX_PARTS;
    return 0;
}

/* Finds or computes the analysis of a folded word. In learn mode the
 * result is stored; otherwise an unknown word is first corrected against
 * the lexicon. Returns 0, or -1 when out of memory. */
static int lookup_word(extract_state_t *state, const char *word,
                       word_entry_t *result)
{
    nlu_analyzer_t *analyzer = state->analyzer;
    word_entry_t *slot = analyzer_slot(analyzer, word);
    if (slot->word[0]) {
        *result = *slot;
        return 0;
    }
    if (state->learn) {
        if (analyze(state, word, result))
            return -1;
        if ((analyzer->count + 1) * 2 > analyzer->capacity &&
            analyzer_grow(analyzer))
            return -1;
        *analyzer_slot(analyzer, word) = *result;
        analyzer->count++;
        return 0;
    }

    char corrected[NLU_PART_MAX];
    if (analyzer->lexicon && !nlu_lexicon_has(analyzer->lexicon, word) &&
        nlu_lexicon_correct(analyzer->lexicon, word, corrected,
                            sizeof corrected)) {
        slot = analyzer_slot(analyzer, corrected);
        if (slot->word[0]) {
            *result = *slot;
            return 0;
        }
        return analyze(state, corrected, result);
    }
    return analyze(state, word, result);
}

static void add_ngrams(extract_state_t *state, const char *folded)
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
            if (features_add(state->out, 'g', marked + i, (size_t)n,
                             WEIGHT_NGRAM))
                state->failed = 1;
}

/* Adds the bigram "b:PREVIOUS|STEM", hashed without building the string,
 * and makes `stem` the previous stem. */
static void add_bigram(extract_state_t *state, const char *stem)
{
    const char *previous = state->word_count == 0 ? "^" : state->previous_stem;
    uint64_t h = hash_feature('b', previous, strlen(previous));
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *c = stem; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    if (features_add_hash(state->out, h, WEIGHT_BIGRAM))
        state->failed = 1;
    size_t len = strlen(stem);
    if (len >= sizeof state->previous_stem)
        len = sizeof state->previous_stem - 1;
    memcpy(state->previous_stem, stem, len);
    state->previous_stem[len] = '\0';
}

static int on_token(const nlu_token_t *token, void *arg)
{
    extract_state_t *state = arg;
    if (token->is_number) {
        static const char *const digits[] = {"0", "1", "2", "3", "4", "5"};
        size_t n = strlen(token->folded);
        add_text(state, 'n', digits[n < 5 ? n : 5], WEIGHT_NUMBER);
        add_bigram(state, "#");
        state->word_count++;
        return state->failed;
    }

    word_entry_t entry;
    if (lookup_word(state, token->folded, &entry)) {
        state->failed = 1;
        return 1;
    }
    add_text(state, 'w', token->folded, WEIGHT_WORD);
    add_text(state, 's', entry.stem, WEIGHT_STEM);
    for (size_t i = 0; i < entry.part_count; i++)
        add_text(state, 's', entry.parts[i], WEIGHT_PART);
    add_ngrams(state, token->folded);
    add_bigram(state, entry.stem);
    state->word_count++;
    return state->failed;
}

static const char *length_bucket(size_t words)
{
    if (words <= 3)
        return words == 0 ? "0" : words == 1 ? "1" : words == 2 ? "2" : "3";
    return words <= 6 ? "4-6" : "7+";
}

int nlu_features_extract(nlu_analyzer_t *analyzer, const char *text, size_t len,
                         const nlu_entity_t *entities, size_t entity_count,
                         int learn, nlu_features_t *out)
{
    out->count = 0;
    extract_state_t state = {.analyzer = analyzer, .learn = learn, .out = out};
    nlu_tokenize(text, len, on_token, &state);

    if (!state.failed)
        add_text(&state, 'l', length_bucket(state.word_count), WEIGHT_LENGTH);
    for (size_t i = 0; i < entity_count && !state.failed; i++)
        add_text(&state, 'e', nlu_entity_kind_name(entities[i].kind),
                 WEIGHT_ENTITY);
    nlu_stemmer_free(state.stemmer);
    if (state.failed)
        return -1;
    features_finish(out);
    return (int)(state.word_count < INT_MAX ? state.word_count : INT_MAX);
}
