/* Internal to the entity extractor: the loaded language data. Every phrase
 * of every lang/ file is stored once in one phrase table, keyed by its
 * folded tokens joined with single spaces, and tagged with its role. */
#ifndef STEMDESK_NLU_ENT_LANG_H
#define STEMDESK_NLU_ENT_LANG_H

#include <stddef.h>
#include <stdint.h>

#include "nlu/entities.h"
#include "nlu/text.h"
#include "nlu/word_memo.h"

#define ENT_PHRASE_TOKENS 6 /* longest phrase, in tokens */
#define ENT_KEY_MAX 256

/* What a phrase means to the extractor. */
typedef enum {
    ENT_ROLE_SYNONYM,        /* kind and value of an entity */
    ENT_ROLE_PLACE,          /* value: region id; flags: ENT_PLACE_* */
    ENT_ROLE_VAGUE_TIME,     /* number: hours per month */
    ENT_ROLE_NUMBER_PHRASE,  /* number: the amount ("een paar" is 3) */
    ENT_ROLE_ARTICLE,        /* "een", "nen": 1 only before a unit */
    ENT_ROLE_TIME_UNIT,      /* number: hours per unit */
    ENT_ROLE_PERIOD,         /* number: periods per month */
    ENT_ROLE_PERIOD_WORD,    /* "per", "elke" */
    ENT_ROLE_PERIOD_ADVERB,  /* number: periods per month ("wekelijks") */
    ENT_ROLE_TIMES,          /* "keer", "maal" */
    ENT_ROLE_EMPLOYEE,       /* "werknemers" */
    ENT_ROLE_EMPLOYEE_INTRO, /* "we zijn met" */
    ENT_ROLE_AGE_NOUN,       /* "kinderen" */
    ENT_ROLE_AGE_BEFORE,     /* "van", "tussen" */
    ENT_ROLE_AGE_AFTER,      /* "jarigen"; flags: ENT_AGE_* */
    ENT_ROLE_RANGE,          /* "tot" in "12 tot 14" */
    ENT_ROLE_PLACE_CONTEXT,  /* "in", "regio" */
    ENT_ROLE_NUMBER_SUFFIX,  /* "tal" in "een twintigtal" */
    ENT_ROLE_CUE,            /* kind and value, given with a cue word */
    ENT_ROLE_CUE_WORD,       /* kind and value of the cue it completes */
    ENT_ROLE_COUNT
} ent_role_t;

/* Place flags. */
#define ENT_PLACE_MUNICIPALITY 1 /* a current municipality, not a former */
#define ENT_PLACE_NEEDS_CONTEXT 2
#define ENT_PLACE_NEEDS_CAPITAL 4
/* Age suffix flags. */
#define ENT_AGE_STRONG 1   /* marks an age without an age noun */
#define ENT_AGE_OPEN_END 2 /* "18-plussers", "18 jaar of ouder" */

typedef struct {
    ent_role_t role;
    nlu_entity_kind_t kind; /* for ENT_ROLE_SYNONYM and the cues */
    char value[NLU_VALUE_MAX];
    double number;
    int flags;
} ent_entry_t;

typedef struct {
    char *key;
    ent_entry_t entry;
    size_t next; /* next item in the same bucket, or SIZE_MAX */
} ent_item_t;

#define ENT_NO_ID UINT32_MAX

/* Word flags. */
#define ENT_WORD_KNOWN 1  /* in lang->words */
#define ENT_WORD_PLACE 2  /* in lang->places */
#define ENT_WORD_NUMBER 4 /* a number word, see ent_word_t.number */
#define ENT_WORD_STARTS 8 /* the first word of a phrase of the trie */

/* One folded word of the language data: a token of a phrase, a number
 * word or a word of common.json. Its index in lang->vocab is its id. */
typedef struct {
    char *text;
    uint64_t hash;
    double number; /* value of a number word */
    int flags;     /* ENT_WORD_* */
    uint32_t len;  /* bytes of text */
} ent_word_t;

/* A node of the phrase trie: a sequence of word ids from the root. Its
 * items are the phrases with exactly this key, newest first. */
typedef struct {
    uint32_t first_item; /* index into lang->node_items */
    uint32_t item_count;
} ent_node_t;

/* An edge of the phrase trie in an open-addressing table. */
typedef struct {
    uint32_t parent;
    uint32_t word;
    uint32_t child; /* ENT_NO_ID when the slot is free */
} ent_edge_t;

/* The results of the steps of extraction that depend on a token's text
 * alone, stored for the words a model expects in messages. */
typedef struct {
    const char *text; /* into lang->memo_text; NULL marks a free slot */
    uint64_t hash;
    uint32_t len;
    uint32_t word;  /* correction into lang->words, or ENT_NO_ID */
    uint32_t place; /* correction into lang->places, or ENT_NO_ID */
    const ent_entry_t *compound; /* synonym among its compound parts */
    int is_num;                  /* a number word, see ent_number_word() */
    double num;
} ent_memo_t;

/* A range of numbers mapped to a facet id: postcodes, ages, staff. */
typedef struct {
    double from;
    double to;
    char value[NLU_VALUE_MAX];
} ent_range_t;

typedef struct {
    ent_range_t *items;
    size_t count;
} ent_ranges_t;

struct nlu_lang {
    ent_item_t *items;
    size_t item_count;
    size_t item_cap;
    size_t *buckets; /* heads, SIZE_MAX when empty */
    size_t bucket_count;
    size_t role_tokens[ENT_ROLE_COUNT]; /* longest phrase per role */

    /* Number words for single tokens: "vijfentwintig", "tweehonderd". */
    ent_item_t *numbers;
    size_t number_count;
    char (*suffixes)[16]; /* allowed after a number word: "tal" */
    size_t suffix_count;

    /* Alternative spellings of one token in place names ("st"). */
    char (*token_alias)[2][32];
    size_t token_alias_count;

    ent_ranges_t postcodes; /* value "" marks a range outside Flanders */
    ent_ranges_t ages;      /* level per age */
    ent_ranges_t sizes;     /* size per employee count */

    nlu_lexicon_t *words;  /* every known word except place names */
    nlu_lexicon_t *places; /* tokens of place names */

    /* The words of both lexicons with ids, and the phrase table as a trie
     * over those ids, built by ent_lang_index() once loading is done. */
    ent_word_t *vocab;
    uint32_t vocab_count;
    uint32_t vocab_cap;
    uint32_t *vocab_slots; /* open addressing of ids, power-of-two size */
    uint32_t vocab_slot_cap;
    ent_node_t *nodes; /* node 0 is the root */
    uint32_t node_count;
    ent_edge_t *edges; /* power-of-two size */
    uint32_t edge_cap;
    uint32_t *node_items; /* indices into items */
    /* First two bytes of every number word, to skip parsing a token that
     * cannot be one: number_first[c] for a one-letter word, and bit c2 of
     * number_pairs[c1] otherwise. */
    unsigned char number_first[256];
    uint64_t number_pairs[256][4];

    /* Set by ent_lang_memoize(): open addressing, power-of-two size. */
    ent_memo_t *memo;
    uint32_t memo_cap;
    char *memo_text;
    /* Set by ent_lang_memoize() too: the same results for words outside
     * `memo` met in messages (ent_memo_t, text NULL), for
     * ent_extract_tokens(). */
    nlu_word_memo_t *unknown;
    /* When set, corrections against `words` and `places` go through this
     * corrector (not owned), whose lexicons corrector_words and
     * corrector_places they are; see ent_lang_use_corrector(). */
    const nlu_corrector_t *corrector;
    size_t corrector_words;
    size_t corrector_places;
};

/* Makes corrections against lang->words and lang->places go through
 * `corrector`, whose lexicons `words` and `places` they are; the results
 * are the same. The corrector must outlive the language data. */
void ent_lang_use_corrector(nlu_lang_t *lang, const nlu_corrector_t *corrector,
                            size_t words, size_t places);

/* Adds a folded word to the word lexicon (or to the place lexicon when
 * `flag` is ENT_WORD_PLACE) and to the vocabulary. Returns 0, or -1 when
 * out of memory. */
int ent_lang_add_word(nlu_lang_t *lang, const char *folded, int flag);

/* Builds the vocabulary ids, number values and the phrase trie once every
 * file is loaded. Allocates into `lang`; nlu_lang_free() frees it. Returns
 * 0, or -1 when out of memory. */
int ent_lang_index(nlu_lang_t *lang);

/* Frees what ent_lang_index() and ent_lang_add_word() allocated. */
void ent_lang_index_free(nlu_lang_t *lang);

/* Returns the id of the word s[0, len), or ENT_NO_ID. */
uint32_t ent_word_find(const nlu_lang_t *lang, const char *s, size_t len);

/* Does what ent_word_find() does, given h = nlu_word_hash(s, len). */
uint32_t ent_word_find_hashed(const nlu_lang_t *lang, const char *s, size_t len,
                              uint64_t h);

/* Returns the child of trie node `node` along word id `word`, or
 * ENT_NO_ID. */
uint32_t ent_node_child(const nlu_lang_t *lang, uint32_t node, uint32_t word);

/* Returns 1 when a folded token may be a number word: it starts as one of
 * the number words of numbers.json does. */
int ent_maybe_number_word(const nlu_lang_t *lang, const char *folded);

/* Stores a copy of `key` with its entry. Returns 0, or -1 when out of
 * memory. */
int ent_lang_add(nlu_lang_t *lang, const char *key, const ent_entry_t *entry);

/* Returns the first item for `key` (see ent_item_t.next for the chain,
 * compare keys while walking it), or NULL. */
const ent_item_t *ent_lang_find(const nlu_lang_t *lang, const char *key,
                                size_t len);

/* A token of text after folding, with a leading number split from a
 * letter suffix ("4u" gives "4" and "u", "2de" gives "2" and "de"). */
typedef struct {
    size_t start; /* byte span in the original text */
    size_t end;
    char folded[64];
    int is_digits;
} ent_token_t;

/* Tokenizes text into at most `max` tokens and returns their number. */
size_t ent_tokens(const char *text, size_t len, ent_token_t *out, size_t max);

/* Folds and tokenizes a phrase the way the extractor tokenizes text and
 * joins the tokens with single spaces into `key`. Returns the token
 * count (0 when the phrase has no word or is too long). */
size_t ent_phrase_key(const char *phrase, char *key, size_t size);

/* Stores, for every word of `words`, its typo corrections into known
 * words and place names and the synonym found by splitting it, which
 * extraction would otherwise compute for each message that contains the
 * word. Results are the same with or without. Allocates into `lang`;
 * nlu_lang_free() frees it. Returns 0, or -1 when out of memory. */
int ent_lang_memoize(nlu_lang_t *lang, const nlu_lexicon_t *words);

/* Sizes the memo table for `words` words of `bytes` bytes with their
 * NULs. Returns 0, or -1 when out of memory. */
int ent_memo_reserve(nlu_lang_t *lang, size_t words, size_t bytes);

/* Adds `word`, copied to `copy` (strlen(word) + 1 bytes of
 * lang->memo_text), and returns its slot to fill in, or NULL when the
 * word is already stored. */
ent_memo_t *ent_memo_add(nlu_lang_t *lang, const char *word, char *copy);

/* Returns the stored results of the word s[0, len), or NULL. */
const ent_memo_t *ent_memo_find(const nlu_lang_t *lang, const char *s,
                                size_t len);

/* Does what ent_memo_find() does, given h = nlu_word_hash(s, len). */
const ent_memo_t *ent_memo_find_hashed(const nlu_lang_t *lang, const char *s,
                                       size_t len, uint64_t h);

/* Does what nlu_extract_entities() does on text[0, len), given the
 * tokens nlu_tokenize() returns for it, so that a caller that needs the
 * tokens anyway tokenises once. */
size_t ent_extract_tokens(const nlu_lang_t *lang, const char *text, size_t len,
                          const nlu_token_t *tokens, size_t token_count,
                          nlu_entity_t *out, size_t max);

/* Parses one folded token as a Dutch number word ("vijfentwintig",
 * "tweehonderd", "twintigtal"). Returns 1 and sets *value, or 0. */
int ent_number_word(const nlu_lang_t *lang, const char *folded, double *value);

/* Returns the value of the range that contains `number`, or NULL. */
const char *ent_range_value(const ent_ranges_t *ranges, double number);

#endif
