/* Ranked, faceted search: facet filters in C over bit sets, text relevance
 * from FTS5 BM25, and the two combined into one score. */
#include "knowledge/kb_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* A visitor's text is cut to this many distinct words. Each word adds its
 * own phrase and maybe compound parts or a spelling correction, up to
 * PHRASES_MAX phrases, so that a uint64_t has one bit per phrase. */
#define QUERY_WORDS_MAX 16
#define PHRASES_MAX 64

/* Weight of the text relevance against the facet fit: the best text match
 * scores TEXT_WEIGHT, and the facets add at most about 5. */
#define TEXT_WEIGHT 10.0

/* A phrase is common when more entries than this hold it: more than
 * COMMON_SHARE of the kb and at least COMMON_MIN entries. Common phrases
 * rank only when the query has no rarer phrase, the way a common-terms
 * query does; BM25 gives them little weight anyway, and scoring every
 * entry that contains one would cost most of the time of a search. */
/* NOTE: a query whose words are all common still scores every entry that
 * contains one when the title and keywords give too few hits: 0.5 to 7 ms
 * on 10,000 generated entries (docs/benchmarks.md). */
#define COMMON_SHARE 0.10
#define COMMON_MIN 100

typedef struct {
    char quoted[140];
    uint64_t term; /* hash of the index term, see kb_term_hash */
    int word;      /* the query word the phrase comes from */
    int common;
} phrase_t;

typedef struct {
    char words[QUERY_WORDS_MAX][64]; /* folded query words */
    size_t word_count;
    phrase_t phrases[PHRASES_MAX];
    size_t phrase_count;
    char all[PHRASES_MAX * 146];         /* MATCH text of every phrase */
    char ranked[PHRASES_MAX * 146 + 32]; /* MATCH text that ranks */
    int title_first; /* only common phrases: try title and keywords first */
    kb_t *kb;
} query_t;

/* Appends one quoted phrase. Words come from nlu_tokenize and contain no
 * quote, but any '"' is doubled all the same, so no visitor text can reach
 * the FTS5 query syntax. */
static void add_phrase(query_t *q, const char *word, int word_index)
{
    if (q->phrase_count == PHRASES_MAX)
        return;
    phrase_t *p = &q->phrases[q->phrase_count++];
    size_t n = 0;
    p->quoted[n++] = '"';
    for (const char *c = word; *c && n < sizeof p->quoted - 3; c++) {
        if (*c == '"')
            p->quoted[n++] = '"';
        p->quoted[n++] = *c;
    }
    p->quoted[n++] = '"';
    p->quoted[n] = '\0';
    p->word = word_index;
    p->common = 0;
}

/* Finds the index term of each phrase, and marks the phrases that too
 * many entries contain (see COMMON_SHARE). */
static void analyse_phrases(query_t *q)
{
    kb_t *kb = q->kb;
    double limit = (double)kb->count * COMMON_SHARE;
    if (limit < COMMON_MIN)
        limit = COMMON_MIN;
    for (size_t i = 0; i < q->phrase_count; i++) {
        /* The phrase is a folded word between quotes; its index term is
         * the stem, as the tokenizer writes it. */
        char word[140];
        size_t len = strlen(q->phrases[i].quoted) - 2;
        memcpy(word, q->phrases[i].quoted + 1, len);
        word[len] = '\0';
        kb_word_t scratch;
        const kb_word_t *analysed = kb_text_word(kb->text, word, 0, &scratch);
        q->phrases[i].term = kb_term_hash(analysed->stem);
        if ((double)kb->count <= limit)
            continue;
        sqlite3_bind_text(kb->frequency, 1, analysed->stem, -1,
                          SQLITE_TRANSIENT);
        if (sqlite3_step(kb->frequency) == SQLITE_ROW)
            q->phrases[i].common =
                (double)sqlite3_column_int64(kb->frequency, 0) > limit;
        sqlite3_reset(kb->frequency);
    }
}

/* Joins the phrases with OR; `common` selects whether common phrases
 * are included. */
static void join_phrases(const query_t *q, int common, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q->phrase_count; i++) {
        if (q->phrases[i].common && !common)
            continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? " OR " : "",
                         q->phrases[i].quoted);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static int collect_word(const nlu_token_t *token, void *arg)
{
    query_t *q = arg;
    if (q->word_count == QUERY_WORDS_MAX)
        return 1;
    if (kb_text_is_stopword(token->folded))
        return 0;
    for (size_t i = 0; i < q->word_count; i++)
        if (strcmp(q->words[i], token->folded) == 0)
            return 0;
    snprintf(q->words[q->word_count++], sizeof q->words[0], "%s",
             token->folded);
    return 0;
}

/* Builds the MATCH expressions: every word as a quoted phrase, OR-joined,
 * plus the parts of a compound that the index does not hold whole and the
 * nearest known word for an unknown word. */
static void build_query(query_t *q, const char *text)
{
    nlu_tokenize(text, strlen(text), collect_word, q);
    const nlu_lexicon_t *lexicon = kb_text_lexicon(q->kb->text);
    for (size_t i = 0; i < q->word_count; i++) {
        const char *word = q->words[i];
        add_phrase(q, word, (int)i);
        if (nlu_lexicon_has(lexicon, word))
            continue;
        char parts[KB_PARTS_MAX][NLU_PART_MAX];
        size_t n = nlu_split_compound(lexicon, word, parts, KB_PARTS_MAX);
        for (size_t p = 0; p < n; p++)
            add_phrase(q, parts[p], (int)i);
        char corrected[64];
        if (n == 0 &&
            nlu_lexicon_correct(lexicon, word, corrected, sizeof corrected))
            add_phrase(q, corrected, (int)i);
    }
    if (q->phrase_count == 0)
        return;

    analyse_phrases(q);
    join_phrases(q, 1, q->all, sizeof q->all);
    join_phrases(q, 0, q->ranked, sizeof q->ranked);
    if (!q->ranked[0]) {
        /* Only common phrases: the entries that hold them in the title or
         * the keywords rank highest, so those are looked at first. */
        snprintf(q->ranked, sizeof q->ranked, "{title keywords} : (%s)",
                 q->all);
        q->title_first = 1;
    }
}

/* Resolves the filter's ids. Returns 0, or -1 after logging an id that
 * lang/facets.json does not list. */
static int resolve_filter(const kb_t *kb, const kb_filter_t *filter,
                          kb_query_filter_t *out)
{
    const char *values[KB_FACET_COUNT] = {NULL};
    int *indices[KB_FACET_COUNT] = {&out->level, &out->region, &out->sector,
                                    &out->size, &out->goal};
    out->type = -1;
    out->max_hours_per_month = 0;
    if (filter) {
        values[KB_FACET_LEVEL] = filter->level;
        values[KB_FACET_REGION] = filter->region;
        values[KB_FACET_SECTOR] = filter->sector;
        values[KB_FACET_SIZE] = filter->size;
        values[KB_FACET_GOAL] = filter->goal;
        out->max_hours_per_month = filter->max_hours_per_month;
    }
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        *indices[kind] = -1;
        if (!values[kind] || !values[kind][0])
            continue;
        *indices[kind] = kb_facet_find(&kb->facets, kind, values[kind]);
        if (*indices[kind] < 0) {
            LOG_WARN("kb", "search rejected: unknown %s id in filter",
                     kb_facet_names[kind]);
            return -1;
        }
    }
    if (filter && filter->type && filter->type[0]) {
        out->type = kb_type_find(filter->type);
        if (out->type < 0) {
            LOG_WARN("kb", "search rejected: unknown entry type in filter");
            return -1;
        }
    }
    return 0;
}

/* Returns the region fit of an entry, or 0 when it does not match. An
 * entry for all of Flanders or Belgium matches every Flemish region.
 * Brussels matches entries that list it or Belgium. A company for all of
 * Flanders matches every Flemish entry. */
static double region_fit(const kb_facets_t *f, const kb_item_t *item,
                         int region)
{
    uint64_t set = item->sets[KB_FACET_REGION];
    uint64_t flanders =
        f->region_flanders >= 0 ? 1ull << f->region_flanders : 0;
    uint64_t belgium = f->region_belgium >= 0 ? 1ull << f->region_belgium : 0;
    if (set & (1ull << region))
        return region == f->region_flanders || region == f->region_belgium
                   ? 0.6
                   : 1.0;
    if (region == f->region_belgium)
        return set ? 0.5 : 0;
    if (region == f->region_brussels)
        return set & belgium ? 0.5 : 0;
    if (region == f->region_flanders) {
        uint64_t brussels =
            f->region_brussels >= 0 ? 1ull << f->region_brussels : 0;
        return set & ~brussels ? 0.5 : 0;
    }
    if (set & flanders)
        return 0.6;
    return set & belgium ? 0.5 : 0;
}

/* Sets *score to the facet fit of an item and returns 1, or returns 0 when
 * the filter excludes it. An entry that lacks a facet (an organisation has
 * no levels) passes that facet's filter but earns nothing for it. */
static int facet_fit(const kb_t *kb, const kb_item_t *item,
                     const kb_query_filter_t *q, double *score)
{
    const kb_facets_t *f = &kb->facets;
    *score = item->facts_thin ? -0.3 : 0;
    if (q->type >= 0 && item->type != q->type)
        return 0;
    if (q->level >= 0 && (item->declared & (1u << KB_FACET_LEVEL))) {
        if (!(item->sets[KB_FACET_LEVEL] & (1ull << q->level)))
            return 0;
        *score += 1.0 + 0.5 / (double)item->set_sizes[KB_FACET_LEVEL];
    }
    if (q->region >= 0 && (item->declared & (1u << KB_FACET_REGION))) {
        double fit = region_fit(f, item, q->region);
        if (fit <= 0)
            return 0;
        *score += fit;
    }
    if (q->sector >= 0 && (item->declared & (1u << KB_FACET_SECTOR))) {
        uint64_t set = item->sets[KB_FACET_SECTOR];
        if (set & (1ull << q->sector))
            *score += 1.0;
        else if (f->sector_all >= 0 && (set & (1ull << f->sector_all)))
            *score += 0.4;
        else
            return 0;
    }
    if (q->goal >= 0 && (item->declared & (1u << KB_FACET_GOAL))) {
        if (!(item->sets[KB_FACET_GOAL] & (1ull << q->goal)))
            return 0;
        *score += 1.0 + 0.5 / (double)item->set_sizes[KB_FACET_GOAL];
    }
    if (q->size >= 0 && item->has_fit) {
        int fits = q->size == f->size_large ? item->fit_large : item->fit_small;
        if (!fits)
            return 0;
        *score += 0.5;
    }
    if (q->max_hours_per_month > 0 && item->has_effort) {
        if (!item->hours_known) {
            *score -= 1.0; /* unknown time: kept, but ranked lower */
            return 1;
        }
        double per_month = item->hours_per_year / 12.0;
        if (per_month > q->max_hours_per_month)
            return 0;
        *score += 0.5 + 0.5 * (1.0 - per_month / q->max_hours_per_month);
    }
    return 1;
}

/* Collects the items matching the text into kb->scratch. Returns the count,
 * or -1 on an SQLite error. */
static long text_candidates(kb_t *kb, const char *expression,
                            const kb_query_filter_t *filter)
{
    sqlite3_stmt *stmt = kb->match;
    long count = 0;
    sqlite3_bind_text(stmt, 1, expression, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sqlite3_int64 rowid = sqlite3_column_int64(stmt, 0);
        if (rowid < 1 || (size_t)rowid > kb->count)
            continue;
        size_t index = (size_t)rowid - 1;
        double facets;
        if (!facet_fit(kb, &kb->items[index], filter, &facets))
            continue;
        kb_candidate_t *c = &kb->scratch[count++];
        c->item = (uint32_t)index;
        c->text = sqlite3_column_double(stmt, 1);
        c->matched = 0;
        c->facets = facets;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) {
        LOG_ERROR("kb", "search failed: %s", sqlite3_errmsg(kb->db));
        return -1;
    }
    return count;
}

/* Returns the bit set of the query phrases that an entry contains, common
 * phrases included. */
static uint64_t matched_phrases(const kb_t *kb, const query_t *q, uint32_t item)
{
    const kb_item_t *it = &kb->items[item];
    uint64_t bits = 0;
    for (size_t p = 0; p < q->phrase_count; p++) {
        uint64_t term = q->phrases[p].term;
        size_t lo = 0, hi = it->term_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (it->terms[mid] < term)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < it->term_count && it->terms[lo] == term)
            bits |= 1ull << p;
    }
    return bits;
}

static long facet_candidates(kb_t *kb, const kb_query_filter_t *filter)
{
    long count = 0;
    for (size_t i = 0; i < kb->count; i++) {
        double facets;
        if (!facet_fit(kb, &kb->items[i], filter, &facets))
            continue;
        kb_candidate_t *c = &kb->scratch[count++];
        c->item = (uint32_t)i;
        c->text = 0;
        c->matched = 0;
        c->facets = facets;
    }
    return count;
}

static int better(const kb_candidate_t *a, const kb_candidate_t *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    return a->item < b->item;
}

/* Moves the best `max` candidates, best first, to the front. */
static size_t select_top(kb_candidate_t *c, size_t count, size_t max)
{
    size_t top = 0;
    for (size_t i = 0; max > 0 && i < count; i++) {
        if (top == max && !better(&c[i], &c[top - 1]))
            continue;
        kb_candidate_t moving = c[i];
        size_t j = top < max ? top++ : top - 1;
        while (j > 0 && better(&moving, &c[j - 1])) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = moving;
    }
    return top;
}

/* Writes the query words found in a candidate as "a, b" into `out`. */
static void matched_words(const query_t *q, uint64_t matched, char *out,
                          size_t size)
{
    size_t used = 0;
    int listed[QUERY_WORDS_MAX] = {0};
    out[0] = '\0';
    for (size_t p = 0; p < q->phrase_count; p++) {
        int w = q->phrases[p].word;
        if (!(matched & (1ull << p)) || listed[w])
            continue;
        listed[w] = 1;
        size_t n = strlen(q->words[w]);
        if (used + n + 3 >= size)
            break;
        used += (size_t)snprintf(out + used, size - used, "%s%s",
                                 used ? ", " : "", q->words[w]);
    }
}

static void fill_hit(const kb_t *kb, const kb_candidate_t *c,
                     const kb_query_filter_t *filter, const char *words,
                     kb_hit_t *hit)
{
    const kb_item_t *item = &kb->items[c->item];
    memset(hit, 0, sizeof *hit);
    kb_copy_utf8(hit->id, sizeof hit->id, item->id);
    kb_copy_utf8(hit->type, sizeof hit->type, kb_type_names[item->type]);
    kb_copy_utf8(hit->title, sizeof hit->title, item->title);
    kb_copy_utf8(hit->summary, sizeof hit->summary, item->summary);
    kb_copy_utf8(hit->url, sizeof hit->url, item->url);
    hit->score = c->score;
    kb_reasons_fill(kb, item, filter, words, hit);
}

int kb_search(kb_t *kb, const char *text, const kb_filter_t *filter,
              kb_hit_t *hits, size_t max, size_t *count)
{
    *count = 0;
    kb_query_filter_t resolved;
    if (!kb || resolve_filter(kb, filter, &resolved) != 0)
        return -1;

    static const query_t empty;
    query_t *q = malloc(sizeof *q);
    if (!q)
        return -1;
    *q = empty;
    q->kb = kb;
    if (text)
        build_query(q, text);

    long found;
    if (!q->phrase_count) {
        found = facet_candidates(kb, &resolved);
    } else {
        found = text_candidates(kb, q->ranked, &resolved);
        if (q->title_first && found >= 0 && (size_t)found < max)
            found = text_candidates(kb, q->all, &resolved);
    }
    if (found < 0) {
        free(q);
        return -1;
    }

    /* Text relevance is scaled to the best match of this query, so the
     * weight of the facets does not depend on the size of the kb. */
    double best = 0;
    for (long i = 0; i < found; i++)
        if (kb->scratch[i].text > best)
            best = kb->scratch[i].text;
    for (long i = 0; i < found; i++) {
        kb_candidate_t *c = &kb->scratch[i];
        c->score = c->facets + (best > 0 ? TEXT_WEIGHT * c->text / best : 0);
    }

    size_t top = select_top(kb->scratch, (size_t)found, max);
    for (size_t i = 0; i < top; i++) {
        char words[KB_REASON_MAX];
        /* Leaves room for the template around the words. */
        if (q->phrase_count)
            kb->scratch[i].matched =
                matched_phrases(kb, q, kb->scratch[i].item);
        matched_words(q, kb->scratch[i].matched, words, sizeof words - 24);
        fill_hit(kb, &kb->scratch[i], &resolved, words, &hits[i]);
    }
    *count = top;
    free(q);
    return 0;
}

int kb_find_partners(kb_t *kb, const char *sector, const char *region,
                     kb_hit_t *hits, size_t max, size_t *count)
{
    kb_filter_t filter = {
        .type = "partner", .sector = sector, .region = region};
    return kb_search(kb, NULL, &filter, hits, max, count);
}
