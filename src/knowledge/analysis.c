/* Dutch text analysis for the index: the lexicon of the kb's simple words,
 * the stem and compound parts of each indexed word, and the FTS5 tokenizer
 * "stemdesk_nl". */
#include "knowledge/kb_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Dutch function words that carry no topic: a query ignores them, and the
 * lexicon leaves them out so that compounds never split into them. */
static const char *const stopwords[] = {
    "aan",    "al",   "alle",  "als",    "bij",   "dan",  "dat",    "de",
    "den",    "der",  "des",   "deze",   "die",   "dit",  "door",   "dus",
    "een",    "en",   "er",    "hebben", "heeft", "het",  "hier",   "hij",
    "hoe",    "hun",  "ik",    "in",     "is",    "je",   "jij",    "kan",
    "kunnen", "maar", "me",    "met",    "mij",   "mijn", "na",     "naar",
    "niet",   "nog",  "of",    "om",     "ons",   "onze", "ook",    "op",
    "over",   "te",   "tot",   "u",      "uit",   "uw",   "van",    "veel",
    "voor",   "wat",  "we",    "welke",  "wij",   "wil",  "willen", "wordt",
    "worden", "zal",  "ze",    "zij",    "zijn",  "zo",   "zoek",   "zoeken",
    "graag",  "iets", "waar",  "wie",    "bent",  "ben",  "hebt",   "heb",
    "mag",    "moet", "moeten"};

int kb_text_is_stopword(const char *folded)
{
    for (size_t i = 0; i < sizeof stopwords / sizeof *stopwords; i++)
        if (strcmp(stopwords[i], folded) == 0)
            return 1;
    return 0;
}

/* One word in the open-addressing table: its analysis once indexed. */
typedef struct {
    char *word; /* owned; NULL when the slot is free */
    uint64_t hash;
    kb_word_t *analysis; /* owned; NULL until the word is indexed */
} slot_t;

struct kb_text {
    nlu_stemmer_t *stemmer;
    nlu_lexicon_t *lexicon;
    slot_t *slots;
    size_t capacity; /* power of two */
    size_t used;
};

uint64_t kb_term_hash(const char *term)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = term; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_word(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

kb_text_t *kb_text_new(void)
{
    kb_text_t *text = calloc(1, sizeof *text);
    if (!text)
        return NULL;
    text->stemmer = nlu_stemmer_new();
    text->lexicon = nlu_lexicon_new();
    text->capacity = 1024;
    text->slots = calloc(text->capacity, sizeof *text->slots);
    if (!text->stemmer || !text->lexicon || !text->slots) {
        kb_text_free(text);
        return NULL;
    }
    return text;
}

/* Frees the table, the lexicon and the stemmer; accepts NULL. */
void kb_text_free(kb_text_t *text)
{
    if (!text)
        return;
    for (size_t i = 0; i < text->capacity && text->slots; i++) {
        free(text->slots[i].word);
        free(text->slots[i].analysis);
    }
    free(text->slots);
    nlu_lexicon_free(text->lexicon);
    nlu_stemmer_free(text->stemmer);
    free(text);
}

const nlu_lexicon_t *kb_text_lexicon(const kb_text_t *text)
{
    return text->lexicon;
}

static slot_t *find_slot(slot_t *slots, size_t capacity, const char *word,
                         uint64_t hash)
{
    size_t mask = capacity - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        slot_t *slot = &slots[i];
        if (!slot->word ||
            (slot->hash == hash && strcmp(slot->word, word) == 0))
            return slot;
    }
}

/* Doubles the table when it is half full. Returns 0 or -1. */
static int reserve(kb_text_t *text)
{
    if ((text->used + 1) * 2 <= text->capacity)
        return 0;
    size_t capacity = text->capacity * 2;
    slot_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < text->capacity; i++)
        if (text->slots[i].word)
            *find_slot(slots, capacity, text->slots[i].word,
                       text->slots[i].hash) = text->slots[i];
    free(text->slots);
    text->slots = slots;
    text->capacity = capacity;
    return 0;
}

/* Returns the slot of `word`, adding it when absent; NULL when out of
 * memory. */
static slot_t *intern(kb_text_t *text, const char *word)
{
    if (reserve(text) != 0)
        return NULL;
    uint64_t hash = hash_word(word);
    slot_t *slot = find_slot(text->slots, text->capacity, word, hash);
    if (slot->word)
        return slot;
    slot->word = strdup(word);
    if (!slot->word)
        return NULL;
    slot->hash = hash;
    text->used++;
    return slot;
}

static int learn_token(const nlu_token_t *token, void *arg)
{
    return intern(arg, token->folded) ? 0 : -1;
}

int kb_text_learn(kb_text_t *text, const char *s)
{
    if (!s)
        return 0;
    return nlu_tokenize(s, strlen(s), learn_token, text) ? -1 : 0;
}

static int by_length(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

int kb_text_build_lexicon(kb_text_t *text)
{
    const char **words = malloc((text->used + 1) * sizeof *words);
    if (!words)
        return -1;
    size_t count = 0;
    for (size_t i = 0; i < text->capacity; i++)
        if (text->slots[i].word)
            words[count++] = text->slots[i].word;
    qsort(words, count, sizeof *words, by_length);

    /* Shorter words go in first, so a compound finds its parts already
     * known and stays out; the lexicon never splits a word it contains. */
    int rc = 0;
    char parts[KB_PARTS_MAX][NLU_PART_MAX];
    for (size_t i = 0; i < count && rc == 0; i++) {
        const char *w = words[i];
        if (strlen(w) < 3 || kb_text_is_stopword(w) ||
            (w[0] >= '0' && w[0] <= '9'))
            continue;
        if (nlu_split_compound(text->lexicon, w, parts, KB_PARTS_MAX) > 0)
            continue;
        rc = nlu_lexicon_add(text->lexicon, w);
    }
    free(words);
    return rc;
}

/* Fills `out` with the stem and the stems of the compound parts. */
static void analyse(kb_text_t *text, const char *folded, kb_word_t *out)
{
    char parts[KB_PARTS_MAX][NLU_PART_MAX];
    memset(out, 0, sizeof *out);
    nlu_stem(text->stemmer, folded, out->stem, sizeof out->stem);
    size_t n = nlu_split_compound(text->lexicon, folded, parts, KB_PARTS_MAX);
    for (size_t i = 0; i < n; i++) {
        char stem[NLU_PART_MAX];
        nlu_stem(text->stemmer, parts[i], stem, sizeof stem);
        int seen = strcmp(stem, out->stem) == 0;
        for (size_t j = 0; j < out->part_count; j++)
            seen |= strcmp(out->parts[j], stem) == 0;
        if (!seen)
            memcpy(out->parts[out->part_count++], stem, sizeof stem);
    }
}

const kb_word_t *kb_text_word(kb_text_t *text, const char *folded, int remember,
                              kb_word_t *scratch)
{
    slot_t *slot = remember ? intern(text, folded)
                            : find_slot(text->slots, text->capacity, folded,
                                        hash_word(folded));
    if (slot && slot->analysis)
        return slot->analysis;
    if (!remember || !slot) {
        analyse(text, folded, scratch);
        return scratch;
    }
    slot->analysis = malloc(sizeof *slot->analysis);
    if (!slot->analysis) {
        analyse(text, folded, scratch);
        return scratch;
    }
    analyse(text, folded, slot->analysis);
    return slot->analysis;
}

/* The FTS5 tokenizer. Every instance shares the kb's analysis. */
typedef struct {
    kb_text_t *text;
} tokenizer_t;

typedef struct {
    kb_text_t *text;
    int document; /* 1 while indexing, 0 for queries */
    void *context;
    int (*emit)(void *context, int flags, const char *token, int length,
                int start, int end);
} tokenize_run_t;

static int tokenizer_create(void *user, const char **args, int arg_count,
                            Fts5Tokenizer **out)
{
    (void)args;
    (void)arg_count;
    tokenizer_t *tokenizer = malloc(sizeof *tokenizer);
    if (!tokenizer)
        return SQLITE_NOMEM;
    tokenizer->text = user;
    *out = (Fts5Tokenizer *)tokenizer;
    return SQLITE_OK;
}

static void tokenizer_delete(Fts5Tokenizer *tokenizer)
{
    free(tokenizer);
}

/* Emits the stem of a word; while indexing, also the stems of its compound
 * parts at the same position, so "bezoek" finds "bedrijfsbezoeken". */
static int emit_token(const nlu_token_t *token, void *arg)
{
    tokenize_run_t *run = arg;
    kb_word_t scratch;
    const kb_word_t *word =
        kb_text_word(run->text, token->folded, run->document, &scratch);
    int start = (int)token->start, end = (int)token->end;
    int rc = run->emit(run->context, 0, word->stem, (int)strlen(word->stem),
                       start, end);
    for (size_t i = 0; run->document && rc == SQLITE_OK && i < word->part_count;
         i++)
        rc = run->emit(run->context, FTS5_TOKEN_COLOCATED, word->parts[i],
                       (int)strlen(word->parts[i]), start, end);
    return rc;
}

static int tokenizer_tokenize(Fts5Tokenizer *tokenizer, void *context,
                              int flags, const char *s, int length,
                              int (*emit)(void *, int, const char *, int, int,
                                          int))
{
    tokenize_run_t run = {((tokenizer_t *)tokenizer)->text,
                          (flags & FTS5_TOKENIZE_DOCUMENT) != 0, context, emit};
    if (length <= 0)
        return SQLITE_OK;
    return nlu_tokenize(s, (size_t)length, emit_token, &run);
}

/* Returns the FTS5 API of a connection, or NULL when FTS5 is missing. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return api;
}

int kb_text_register(kb_text_t *text, sqlite3 *db)
{
    fts5_api *api = fts5_api_of(db);
    if (!api)
        return SQLITE_ERROR;
    fts5_tokenizer tokenizer = {tokenizer_create, tokenizer_delete,
                                tokenizer_tokenize};
    return api->xCreateTokenizer(api, "stemdesk_nl", text, &tokenizer, NULL);
}
