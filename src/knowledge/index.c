/* The search index: the lexicon of the kb's words, an inverted index of
 * stems and compound parts with BM25 statistics over the columns title,
 * keywords (aliases and keywords), summary and body (the body and every
 * other Dutch text of the entry), and the facet bitmaps. */
#include "knowledge/kb_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* A growable text buffer. */
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} buffer_t;

/* Appends `s` after a newline; the first call on an empty buffer makes it
 * a valid empty string. Returns 0 or -1 (memory). */
static int append(buffer_t *b, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (b->length + n + 2 > b->capacity) {
        size_t capacity = (b->length + n + 2) * 2;
        char *data = realloc(b->data, capacity);
        if (!data)
            return -1;
        b->data = data;
        b->capacity = capacity;
    }
    if (b->length)
        b->data[b->length++] = '\n';
    memcpy(b->data + b->length, s, n + 1);
    b->length += n;
    return 0;
}

/* Appends a string member, or each string of an array member. */
static int append_member(buffer_t *b, const json_t *entry, const char *key)
{
    json_t *value = json_object_get(entry, key);
    if (json_is_string(value))
        return append(b, json_string_value(value));
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        const char *s = json_string_value(item);
        if (!s && json_is_object(item))
            s = json_string_value(json_object_get(item, "text"));
        if (append(b, s) != 0)
            return -1;
    }
    return 0;
}

int kb_columns_each(const json_t *entry, kb_column_fn fn, void *arg)
{
    static const char *const body_keys[] = {
        "body",      "guidance", "benefits", "how_to_join",
        "organiser", "dos",      "donts",    "items"};
    buffer_t col[4] = {{0}};
    int rc = 0;
    for (int i = 0; i < 4; i++)
        rc |= append(&col[i], "");
    rc |= append_member(&col[0], entry, "title");
    rc |= append_member(&col[1], entry, "aliases");
    rc |= append_member(&col[1], entry, "keywords");
    rc |= append_member(&col[2], entry, "summary");
    for (size_t k = 0; k < sizeof body_keys / sizeof *body_keys; k++)
        rc |= append_member(&col[3], entry, body_keys[k]);
    rc |= append_member(&col[3], json_object_get(entry, "effort"), "basis");
    rc = rc ? -1 : 0;
    for (int c = 0; c < 4 && rc == 0; c++)
        rc = fn(c, col[c].data, col[c].length, arg);
    for (int c = 0; c < 4; c++)
        free(col[c].data);
    return rc;
}

static int learn_column(int column, const char *text, size_t length, void *arg)
{
    (void)column;
    (void)length;
    return kb_text_learn(arg, text);
}

/* Feeds every text of every entry to the lexicon. */
static int learn(kb_t *kb)
{
    for (size_t i = 0; i < kb->count; i++)
        if (kb_columns_each(kb->items[i].json, learn_column, kb->text) != 0)
            return -1;
    return kb_text_build_lexicon(kb->text);
}

/* The state of building the inverted index. The terms of the current item
 * collect in `found`. They then move to the (term, posting) pairs of the
 * whole kb, which finish_index groups by term. */
typedef struct {
    kb_t *kb;
    float weight;   /* weight of the current column */
    uint32_t item;  /* current item */
    size_t length;  /* tokens of the current item, compound parts excluded */
    uint32_t *last; /* per term: item + 1 that last found it */
    uint32_t *slot; /* per term: its place in `found` */
    size_t per_term_capacity; /* of both `last` and `slot` */
    kb_posting_t *found;      /* term index in .item, frequency */
    size_t found_count;
    size_t found_capacity;
    uint32_t *pair_terms;
    kb_posting_t *pairs;
    size_t pair_count;
    size_t pair_capacity;
    size_t *lengths; /* per item */
    int failed;
} builder_t;

/* Grows an array of `size`-byte elements to hold `needed`. Returns 0 or
 * -1 (memory). */
static int reserve(void **array, size_t *capacity, size_t needed, size_t size)
{
    if (needed <= *capacity)
        return 0;
    size_t grown = *capacity ? *capacity : 256;
    while (grown < needed)
        grown *= 2;
    void *data = realloc(*array, grown * size);
    if (!data)
        return -1;
    *array = data;
    *capacity = grown;
    return 0;
}

/* Doubles the term hash table when it is half full. Returns 0 or -1. */
static int grow_slots(kb_index_t *index)
{
    if ((index->term_count + 1) * 2 <= index->slot_capacity)
        return 0;
    size_t capacity = index->slot_capacity ? index->slot_capacity * 2 : 1024;
    uint32_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t t = 0; t < index->term_count; t++) {
        size_t i = (size_t)index->terms[t].hash & (capacity - 1);
        while (slots[i])
            i = (i + 1) & (capacity - 1);
        slots[i] = (uint32_t)t + 1;
    }
    free(index->slots);
    index->slots = slots;
    index->slot_capacity = capacity;
    return 0;
}

long kb_index_find(const kb_index_t *index, const char *term)
{
    if (!index->slot_capacity)
        return -1;
    uint64_t hash = kb_term_hash(term);
    size_t mask = index->slot_capacity - 1;
    for (size_t i = (size_t)hash & mask; index->slots[i]; i = (i + 1) & mask) {
        const kb_term_t *t = &index->terms[index->slots[i] - 1];
        if (t->hash == hash && strcmp(t->text, term) == 0)
            return (long)index->slots[i] - 1;
    }
    return -1;
}

/* Returns the index of a term, adding it when absent; -1 when out of
 * memory. */
static long intern_term(builder_t *b, const char *term)
{
    kb_index_t *index = &b->kb->index;
    long found = kb_index_find(index, term);
    if (found >= 0)
        return found;
    size_t n = index->term_count;
    size_t per_term = b->per_term_capacity;
    if (grow_slots(index) != 0 ||
        reserve((void **)&index->terms, &index->term_capacity, n + 1,
                sizeof *index->terms) != 0 ||
        reserve((void **)&b->last, &per_term, n + 1, sizeof *b->last) != 0 ||
        reserve((void **)&b->slot, &b->per_term_capacity, n + 1,
                sizeof *b->slot) != 0)
        return -1;
    kb_term_t *t = &index->terms[n];
    t->text = strdup(term);
    if (!t->text)
        return -1;
    t->hash = kb_term_hash(term);
    t->first = 0;
    t->count = 0;
    b->last[n] = 0;
    size_t mask = index->slot_capacity - 1;
    size_t i = (size_t)t->hash & mask;
    while (index->slots[i])
        i = (i + 1) & mask;
    index->slots[i] = (uint32_t)n + 1;
    index->term_count++;
    return (long)n;
}

/* Counts one occurrence of a term in the current item and column. */
static int count_term(builder_t *b, const char *term)
{
    long t = intern_term(b, term);
    if (t < 0)
        return -1;
    if (b->last[t] != b->item + 1) {
        if (reserve((void **)&b->found, &b->found_capacity, b->found_count + 1,
                    sizeof *b->found) != 0)
            return -1;
        b->last[t] = b->item + 1;
        b->slot[t] = (uint32_t)b->found_count;
        b->found[b->found_count++] = (kb_posting_t){(uint32_t)t, 0};
    }
    b->found[b->slot[t]].frequency += b->weight;
    return 0;
}

/* Counts the stem of a word and the stems of its compound parts, which
 * stand at the same position and so do not add to the length. */
static int index_token(const nlu_token_t *token, void *arg)
{
    builder_t *b = arg;
    kb_word_t scratch;
    const kb_word_t *word =
        kb_text_word(b->kb->text, token->folded, 1, &scratch);
    b->length++;
    int rc = count_term(b, word->stem);
    for (size_t i = 0; rc == 0 && i < word->part_count; i++)
        rc = count_term(b, word->parts[i]);
    b->failed |= rc != 0;
    return rc != 0;
}

static int index_column(int column, const char *text, size_t length, void *arg)
{
    static const float weights[4] = {KB_WEIGHT_TITLE, KB_WEIGHT_KEYWORDS,
                                     KB_WEIGHT_SUMMARY, KB_WEIGHT_BODY};
    builder_t *b = arg;
    b->weight = weights[column];
    nlu_tokenize(text, length, index_token, b);
    return b->failed ? -1 : 0;
}

/* Tokenizes one item and moves its terms to the pairs. */
static int index_item(builder_t *b, uint32_t item)
{
    b->item = item;
    b->length = 0;
    b->found_count = 0;
    if (kb_columns_each(b->kb->items[item].json, index_column, b) != 0)
        return -1;
    b->lengths[item] = b->length;
    /* Both arrays grow together; pair_capacity is that of both. */
    size_t needed = b->pair_count + b->found_count;
    size_t capacity = b->pair_capacity;
    if (reserve((void **)&b->pair_terms, &capacity, needed,
                sizeof *b->pair_terms) != 0 ||
        reserve((void **)&b->pairs, &b->pair_capacity, needed,
                sizeof *b->pairs) != 0)
        return -1;
    for (size_t i = 0; i < b->found_count; i++) {
        uint32_t term = b->found[i].item;
        b->pair_terms[b->pair_count] = term;
        b->pairs[b->pair_count++] = (kb_posting_t){item, b->found[i].frequency};
        b->kb->index.terms[term].count++;
    }
    return 0;
}

/* Groups the pairs by term with a counting sort, which keeps each
 * posting list in item order, and computes the length norms. */
static int finish_index(builder_t *b)
{
    kb_index_t *index = &b->kb->index;
    size_t count = b->kb->count;
    index->postings = malloc((b->pair_count + 1) * sizeof *index->postings);
    index->norms = malloc((count + 1) * sizeof *index->norms);
    if (!index->postings || !index->norms)
        return -1;
    size_t next = 0;
    for (size_t t = 0; t < index->term_count; t++) {
        index->terms[t].first = next;
        next += index->terms[t].count;
        b->last[t] = 0; /* now: postings placed so far */
    }
    for (size_t i = 0; i < b->pair_count; i++) {
        kb_term_t *term = &index->terms[b->pair_terms[i]];
        index->postings[term->first + b->last[b->pair_terms[i]]++] =
            b->pairs[i];
    }
    index->posting_count = b->pair_count;

    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += b->lengths[i];
    index->average_length = count && total ? (double)total / count : 1.0;
    for (size_t i = 0; i < count; i++)
        index->norms[i] = KB_BM25_K1 * (1.0 - KB_BM25_B +
                                        KB_BM25_B * (double)b->lengths[i] /
                                            index->average_length);
    return 0;
}

/* Builds the inverted index of every item. Returns 0 or -1 (memory). */
static int build_inverted(kb_t *kb)
{
    builder_t b = {.kb = kb};
    int rc = 0;
    b.lengths = calloc(kb->count + 1, sizeof *b.lengths);
    if (!b.lengths)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < kb->count; i++)
        rc = index_item(&b, (uint32_t)i);
    if (rc == 0)
        rc = finish_index(&b);
    free(b.last);
    free(b.slot);
    free(b.found);
    free(b.pair_terms);
    free(b.pairs);
    free(b.lengths);
    return rc;
}

/* Allocates the memory every search reuses. Returns 0 or -1. */
static int allocate_scratch(kb_t *kb)
{
    kb_scratch_t *s = &kb->scratch;
    size_t n = kb->count + 1;
    s->candidates = malloc(n * sizeof *s->candidates);
    s->text = malloc(n * sizeof *s->text);
    s->matched = malloc(n * sizeof *s->matched);
    s->stamp = calloc(n, sizeof *s->stamp);
    s->touched = malloc(n * sizeof *s->touched);
    s->allowed = malloc((kb->words + 1) * sizeof *s->allowed);
    return s->candidates && s->text && s->matched && s->stamp && s->touched &&
                   s->allowed
               ? 0
               : -1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kb_index_build(kb_t *kb)
{
    double start = now_seconds();
    kb->words = (kb->count + 63) / 64;
    kb->text = kb_text_new();
    int rc = kb->text ? 0 : -1;
    if (rc == 0)
        rc = learn(kb);
    if (rc == 0)
        rc = build_inverted(kb);
    if (rc == 0)
        rc = kb_bitmaps_build(kb);
    if (rc == 0)
        rc = allocate_scratch(kb);
    if (rc != 0)
        LOG_ERROR("kb", "building the search index failed: out of memory");
    kb->index_seconds = now_seconds() - start;
    return rc;
}

void kb_index_free(kb_t *kb)
{
    kb_index_t *index = &kb->index;
    for (size_t t = 0; t < index->term_count; t++)
        free(index->terms[t].text);
    free(index->terms);
    free(index->slots);
    free(index->postings);
    free(index->norms);
    memset(index, 0, sizeof *index);
    free(kb->bitmaps.block);
    memset(&kb->bitmaps, 0, sizeof kb->bitmaps);
    kb_scratch_t *s = &kb->scratch;
    free(s->candidates);
    free(s->text);
    free(s->matched);
    free(s->stamp);
    free(s->touched);
    free(s->allowed);
    memset(s, 0, sizeof *s);
    kb_text_free(kb->text);
    kb->text = NULL;
}
