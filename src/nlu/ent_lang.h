/* Internal to the entity extractor: the loaded language data. Every phrase
 * of every lang/ file is stored once in one phrase table, keyed by its
 * folded tokens joined with single spaces, and tagged with its role. */
#ifndef STEMDESK_NLU_ENT_LANG_H
#define STEMDESK_NLU_ENT_LANG_H

#include <stddef.h>

#include "nlu/entities.h"

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
    nlu_entity_kind_t kind; /* for ENT_ROLE_SYNONYM */
    char value[NLU_VALUE_MAX];
    double number;
    int flags;
} ent_entry_t;

typedef struct {
    char *key;
    ent_entry_t entry;
    size_t next; /* next item in the same bucket, or SIZE_MAX */
} ent_item_t;

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
};

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

/* Parses one folded token as a Dutch number word ("vijfentwintig",
 * "tweehonderd", "twintigtal"). Returns 1 and sets *value, or 0. */
int ent_number_word(const nlu_lang_t *lang, const char *folded, double *value);

/* Returns the value of the range that contains `number`, or NULL. */
const char *ent_range_value(const ent_ranges_t *ranges, double number);

#endif
