/* Internals of the knowledge module shared by its source files: the facet
 * vocabulary of lang/facets.json, the loaded entries with their facets as
 * bit sets, the Dutch text analysis, the inverted index that searches use,
 * the facet bitmaps, and the SQLite FTS5 table built on demand. Not for use
 * outside src/knowledge/, bench/knowledge/ and tests/knowledge/. */
#ifndef STEMDESK_KB_PRIVATE_H
#define STEMDESK_KB_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/content.h"
#include "knowledge/kb.h"
#include "nlu/lexicon.h"
#include "nlu/text.h"

/* The facets of lang/facets.json, in the order of its keys. */
typedef enum {
    KB_FACET_LEVEL,
    KB_FACET_REGION,
    KB_FACET_SECTOR,
    KB_FACET_SIZE,
    KB_FACET_GOAL,
    KB_FACET_COUNT
} kb_facet_kind_t;

/* At most this many values per facet, so that a set of values fits in a
 * uint64_t. */
#define KB_FACET_VALUES_MAX 64

typedef struct {
    char *value;   /* canonical id, e.g. "limburg" */
    char *label;   /* Dutch label */
    char *reason;  /* Dutch reason, e.g. "in Limburg" */
    uint64_t also; /* values whose entries a filter on this one matches too */
} kb_facet_value_t;

typedef struct {
    kb_facet_value_t values[KB_FACET_VALUES_MAX];
    size_t count;
} kb_facet_t;

/* The facet vocabulary and the indices of the ids that have a meaning of
 * their own in matching (-1 when lang/facets.json lacks them). */
typedef struct {
    kb_facet_t facets[KB_FACET_COUNT];
    int region_flanders; /* "vlaanderen" */
    int region_belgium;  /* "belgie" */
    int region_brussels; /* "brussel" */
    int sector_all;      /* "alle" */
    int size_large;      /* "groot"; every other size is a small fit */
} kb_facets_t;

/* Facet names as lang/facets.json spells them ("level", "region", ...). */
extern const char *const kb_facet_names[KB_FACET_COUNT];

/* Entry types of the kb file format, in a fixed order. */
extern const char *const kb_type_names[];
#define KB_TYPE_COUNT 7

/* Loads lang_dir/facets.json into `facets`. Returns 0, or -1 after adding
 * errors. The caller frees with kb_facets_free() in both cases. */
int kb_facets_load(kb_facets_t *facets, const char *lang_dir,
                   content_errors_t *errs);
void kb_facets_free(kb_facets_t *facets);

/* Returns the index of `value` in a facet, or -1. */
int kb_facet_find(const kb_facets_t *facets, kb_facet_kind_t kind,
                  const char *value);

/* Returns the index of an entry type name, or -1. */
int kb_type_find(const char *name);

/* Writes "a, b, c" with every id of a facet into `out`. */
void kb_facet_list(const kb_facets_t *facets, kb_facet_kind_t kind, char *out,
                   size_t size);

/* A folded name of an entry (title or alias) for kb_find_named. */
typedef struct {
    char *compact;  /* folded letters without spaces, owned */
    size_t letters; /* characters in `compact` */
    size_t words;   /* tokens in the name */
} kb_name_t;

/* One loaded entry. Strings are borrowed from `json`, which the entry
 * holds one reference to. */
typedef struct {
    json_t *json;
    const char *id;
    const char *title;
    const char *summary;
    const char *url; /* NULL when the entry has none */
    int type;        /* index into kb_type_names */

    uint64_t sets[KB_FACET_COUNT]; /* facet values listed, by index */
    unsigned declared;             /* bit per facet the entry lists */
    size_t set_sizes[KB_FACET_COUNT];

    int has_fit;
    int fit_small;
    int fit_large;
    int has_effort;
    int hours_known;
    double hours_per_year;
    int facts_thin;
    uint64_t direct_goals; /* goals it serves directly, by index */
    long order;            /* route steps; LONG_MAX when absent */

    kb_name_t *names;
    size_t name_count;
} kb_item_t;

/* Folded text analysis shared by indexing and querying: a lexicon of the
 * kb's simple words for compound splitting and typo correction, a Dutch
 * stemmer, and a cache of each indexed word's stem and compound parts. */
typedef struct kb_text kb_text_t;

#define KB_PARTS_MAX 4

/* How one folded word is indexed. */
typedef struct {
    char stem[NLU_PART_MAX];
    char parts[KB_PARTS_MAX][NLU_PART_MAX]; /* stems of compound parts */
    size_t part_count;
} kb_word_t;

/* Creates the analysis; NULL when out of memory. Free with kb_text_free. */
kb_text_t *kb_text_new(void);
void kb_text_free(kb_text_t *text);

/* Records the words of `s` for the lexicon. Returns 0 or -1 (memory). */
int kb_text_learn(kb_text_t *text, const char *s);

/* Builds the lexicon from the learned words: shortest first, each word is
 * added unless it splits into known words, so compounds stay splittable.
 * Returns 0 or -1 (memory). */
int kb_text_build_lexicon(kb_text_t *text);

/* Analyses one folded word. With `remember` the result is cached (used
 * while indexing, whose vocabulary is bounded); queries pass 0 so that
 * visitor text cannot grow memory. Returns a pointer to the cache or to
 * `scratch`, valid until the next call. */
const kb_word_t *kb_text_word(kb_text_t *text, const char *folded, int remember,
                              kb_word_t *scratch);

/* Returns 1 when a folded word is a Dutch function word that a query
 * ignores ("de", "een", "voor"). */
int kb_text_is_stopword(const char *folded);

/* Returns the 64-bit FNV-1a hash of an index term. */
uint64_t kb_term_hash(const char *term);

/* Returns the lexicon (valid until kb_text_free). */
const nlu_lexicon_t *kb_text_lexicon(const kb_text_t *text);

/* Registers the FTS5 tokenizer "stemdesk_nl" on `db`. The db keeps a
 * pointer to `text`, which must outlive it. Returns SQLITE_OK or an SQLite
 * error code. */
int kb_text_register(kb_text_t *text, sqlite3 *db);

/* Column weights of BM25, as bm25(kb_fts, 10, 6, 3, 1) would give them:
 * a word in the title counts most, then the aliases and keywords, the
 * summary, and last the body. */
#define KB_WEIGHT_TITLE 10.0f
#define KB_WEIGHT_KEYWORDS 6.0f
#define KB_WEIGHT_SUMMARY 3.0f
#define KB_WEIGHT_BODY 1.0f

/* BM25 parameters, the ones FTS5's bm25() uses. */
#define KB_BM25_K1 1.2
#define KB_BM25_B 0.75

/* One entry that contains a term. */
typedef struct {
    uint32_t item;
    float frequency; /* occurrences weighted by column, summed over columns */
} kb_posting_t;

/* One index term: the stem of a word or of a compound part. */
typedef struct {
    char *text; /* owned */
    uint64_t hash;
    size_t first;   /* its first posting in kb_index_t.postings */
    uint32_t count; /* entries that hold it */
} kb_term_t;

/* The inverted index over the four columns of every entry (title,
 * keywords, summary, body): postings in item order per term, and the BM25
 * length normalisation of each item. */
typedef struct {
    kb_term_t *terms;
    size_t term_count;
    size_t term_capacity;
    uint32_t *slots; /* open addressing: term index + 1, 0 when free */
    size_t slot_capacity;
    kb_posting_t *postings;
    size_t posting_count;
    double *norms; /* K1 * (1 - B + B * length / average length), per item */
    double average_length;
} kb_index_t;

/* A set of items, one bit each. */
typedef uint64_t kb_bits_t;

/* The items that pass a filter on each facet value, on each entry type,
 * and that declare a facet without a value (unknown). Each set is
 * kb_t.words words long. */
typedef struct {
    kb_bits_t *values[KB_FACET_COUNT][KB_FACET_VALUES_MAX];
    kb_bits_t *types[KB_TYPE_COUNT];
    kb_bits_t *unknown[KB_FACET_COUNT];
    kb_bits_t *block; /* owns every set above */
} kb_bitmaps_t;

/* A candidate during ranking. */
typedef struct {
    uint32_t item;
    unsigned failed;  /* bit per facet the entry fails (kb_recommend) */
    uint64_t matched; /* bit per query phrase found in the entry */
    double text;      /* BM25 relevance, higher is better; 0 without text */
    double facets;
    double score;
    int group;    /* time-budget group of a recommendation (search.c) */
    double hours; /* hours per month it needs, -1 when unknown */
    size_t rank;  /* position before the time-budget ordering */
    int direct;   /* the entry serves the filter's goal directly */
    int thin;     /* facts_thin and fails a facet: ranked last */
} kb_candidate_t;

/* Memory that every search reuses, one slot per item. */
typedef struct {
    kb_candidate_t *candidates;
    double *text;       /* BM25 sums of the current query */
    uint64_t *matched;  /* phrases of the current query per item */
    uint32_t *stamp;    /* query number that last touched the item */
    uint32_t *touched;  /* items touched by the current query */
    kb_bits_t *allowed; /* items the filter lets through */
    uint32_t query;     /* number of the current query */
} kb_scratch_t;

struct kb {
    kb_facets_t facets;
    kb_item_t *items;
    size_t count;
    size_t words; /* uint64_t words in an item set */
    kb_text_t *text;
    kb_index_t index;
    kb_bitmaps_t bitmaps;
    kb_scratch_t scratch;
    const kb_item_t **by_id;    /* items sorted by id */
    const kb_item_t **by_order; /* items sorted by type, order, id */
    double index_seconds;       /* time spent building the index */
    sqlite3 *db; /* FTS5 table, built by the first kb_database() call */
};

/* Validates one entry of `file` at `pointer` ("/entries/3") and fills
 * `item` from it. Returns the number of errors added. */
int kb_validate_entry(const kb_facets_t *facets, const content_file_t *file,
                      const char *pointer, json_t *entry, kb_item_t *item,
                      content_errors_t *errs);

/* Builds the lexicon, the inverted index and the facet bitmaps, and
 * allocates the search scratch. Returns 0, or -1 when out of memory. */
int kb_index_build(kb_t *kb);

/* Frees what kb_index_build allocated; accepts a partly built index. */
void kb_index_free(kb_t *kb);

/* Returns the index of a term (a stem), or -1. */
long kb_index_find(const kb_index_t *index, const char *term);

/* Calls `fn` with the text of each of the four columns of an entry, in
 * the order title, keywords, summary, body. Returns 0, the first non-zero
 * value of `fn`, or -1 when out of memory. */
typedef int (*kb_column_fn)(int column, const char *text, size_t length,
                            void *arg);
int kb_columns_each(const json_t *entry, kb_column_fn fn, void *arg);

/* Fills the reasons of `hit` for an item under a filter. `words` lists the
 * query words and `phrase_word` maps each matched phrase to its word. */
typedef struct {
    int level, region, sector, size, goal; /* facet index or -1 */
    int type;                              /* type index or -1 */
    double max_hours_per_month;            /* <= 0: no limit */
} kb_query_filter_t;

/* A time budget is known to a tenth of an hour a month ("een uurtje per
 * kwartaal" is 0.3), so an entry may need this much more and still fit. */
#define KB_HOURS_SLACK 0.05

/* Bits of kb_candidate_t.failed beyond the facet kinds. */
#define KB_FAILED_HOURS (1u << KB_FACET_COUNT)
#define KB_FAILED_TYPE (1u << (KB_FACET_COUNT + 1))

/* Returns the facet fit of an item under a filter in *score, and the facets
 * it fails as bits (1 << kind, KB_FAILED_HOURS, KB_FAILED_TYPE); 0 means
 * it passes. A failed facet adds nothing to the score. */
unsigned kb_facet_fit(const kb_t *kb, const kb_item_t *item,
                      const kb_query_filter_t *filter, double *score);

/* Builds kb->bitmaps from the items. Returns 0, or -1 when out of
 * memory. */
int kb_bitmaps_build(kb_t *kb);

void kb_reasons_fill(const kb_t *kb, const kb_item_t *item,
                     const kb_query_filter_t *filter, const char *words,
                     kb_hit_t *hit);

/* Optimal string alignment distance between a and b, or limit + 1 once it
 * exceeds `limit`. */
int kb_edit_distance(const char *a, const char *b, int limit);

/* Copies UTF-8 text into out[size], cutting at a character boundary. */
void kb_copy_utf8(char *out, size_t size, const char *s);

/* Returns an in-memory SQLite database with the FTS5 table
 * kb_fts(title, keywords, summary, body), rowid = item + 1, tokenized by
 * "stemdesk_nl", for benchmarks and tests; searches do not use it. The
 * first call builds it; the kb keeps it until kb_free(). Returns NULL
 * after logging an SQLite error. */
sqlite3 *kb_database(kb_t *kb);

#endif
