/* Ranked, faceted search: the facet filter as an AND of bitmaps, text
 * relevance as BM25 computed term at a time over the inverted index, and
 * the two combined into one score. */
#include "knowledge/kb_private.h"

#include <math.h>
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

typedef struct {
    long term; /* index term, -1 when no entry contains it */
    int word;  /* the query word the phrase comes from */
} phrase_t;

typedef struct {
    char words[QUERY_WORDS_MAX][64]; /* folded query words */
    size_t word_count;
    phrase_t phrases[PHRASES_MAX];
    size_t phrase_count;
    kb_t *kb;
} query_t;

/* Adds a phrase for one folded word: its stem, as the index stores it. The
 * analysis is not cached, so visitor text cannot grow memory. */
static void add_phrase(query_t *q, const char *word, int word_index)
{
    if (q->phrase_count == PHRASES_MAX)
        return;
    kb_word_t scratch;
    const kb_word_t *analysed = kb_text_word(q->kb->text, word, 0, &scratch);
    phrase_t *p = &q->phrases[q->phrase_count++];
    p->term = kb_index_find(&q->kb->index, analysed->stem);
    p->word = word_index;
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

/* Builds the phrases: every word, plus the parts of a compound that the
 * lexicon does not hold whole and the nearest known word for an unknown
 * word. */
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

static void and_bits(kb_bits_t *out, const kb_bits_t *bits, size_t words)
{
    for (size_t w = 0; w < words; w++)
        out[w] &= bits[w];
}

/* Fills scratch.allowed with the items a search may return: those that
 * pass every facet of the filter, hours aside. With `relaxed` only the
 * type and the region hold, and an entry with an unknown region passes. */
static void allow(kb_t *kb, const kb_query_filter_t *q, int relaxed)
{
    const kb_bitmaps_t *m = &kb->bitmaps;
    kb_bits_t *allowed = kb->scratch.allowed;
    const int values[KB_FACET_COUNT] = {q->level, q->region, q->sector, q->size,
                                        q->goal};
    for (size_t w = 0; w < kb->words; w++)
        allowed[w] = ~0ull;
    if (kb->count % 64)
        allowed[kb->words - 1] = (1ull << (kb->count % 64)) - 1;
    if (q->type >= 0)
        and_bits(allowed, m->types[q->type], kb->words);
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        if (values[kind] < 0)
            continue;
        const kb_bits_t *pass = m->values[kind][values[kind]];
        if (!relaxed) {
            and_bits(allowed, pass, kb->words);
        } else if (kind == KB_FACET_REGION) {
            const kb_bits_t *unknown = m->unknown[kind];
            for (size_t w = 0; w < kb->words; w++)
                allowed[w] &= pass[w] | unknown[w];
        }
    }
}

static int is_allowed(const kb_bits_t *allowed, uint32_t item)
{
    return (int)((allowed[item / 64] >> (item % 64)) & 1);
}

/* Adds the BM25 relevance of every phrase to the allowed items that hold
 * it, term at a time, as FTS5's bm25() computes it: the same IDF, column
 * weights and length norm, summed in the same order. Returns the number
 * of items touched, listed in scratch.touched. */
static size_t score_text(kb_t *kb, const query_t *q)
{
    kb_scratch_t *s = &kb->scratch;
    const kb_index_t *index = &kb->index;
    if (++s->query == 0) { /* the counter wrapped: no stamp is current */
        memset(s->stamp, 0, kb->count * sizeof *s->stamp);
        s->query = 1;
    }
    size_t touched = 0;
    double rows = (double)kb->count;
    for (size_t p = 0; p < q->phrase_count; p++) {
        if (q->phrases[p].term < 0)
            continue;
        const kb_term_t *term = &index->terms[q->phrases[p].term];
        double idf = log((rows - term->count + 0.5) / (term->count + 0.5));
        if (idf <= 0.0)
            idf = 1e-6;
        const kb_posting_t *posting = &index->postings[term->first];
        for (uint32_t i = 0; i < term->count; i++, posting++) {
            uint32_t item = posting->item;
            if (!is_allowed(s->allowed, item))
                continue;
            if (s->stamp[item] != s->query) {
                s->stamp[item] = s->query;
                s->text[item] = 0;
                s->matched[item] = 0;
                s->touched[touched++] = item;
            }
            double f = posting->frequency;
            s->text[item] +=
                idf * (f * (KB_BM25_K1 + 1.0)) / (f + index->norms[item]);
            s->matched[item] |= 1ull << p;
        }
    }
    return touched;
}

/* Adds an item to the candidates unless it fails a facet that the search
 * does not relax. */
static void add_candidate(kb_t *kb, const kb_query_filter_t *filter,
                          uint32_t item, double text, uint64_t matched,
                          int relaxed, size_t *count)
{
    double facets;
    unsigned failed = kb_facet_fit(kb, &kb->items[item], filter, &facets);
    if (failed && !relaxed)
        return;
    kb_candidate_t *c = &kb->scratch.candidates[(*count)++];
    c->item = item;
    c->failed = failed;
    c->matched = matched;
    c->text = text;
    c->facets = facets;
    const kb_item_t *it = &kb->items[item];
    c->direct =
        filter->goal >= 0 && (it->direct_goals & (1ull << filter->goal)) != 0;
    c->thin = it->facts_thin && failed != 0;
}

/* Collects the candidates of a query into scratch.candidates. */
static size_t collect(kb_t *kb, const query_t *q,
                      const kb_query_filter_t *filter, int relaxed)
{
    kb_scratch_t *s = &kb->scratch;
    size_t count = 0;
    if (q->phrase_count) {
        size_t touched = score_text(kb, q);
        for (size_t i = 0; i < touched; i++) {
            uint32_t item = s->touched[i];
            add_candidate(kb, filter, item, s->text[item], s->matched[item],
                          relaxed, &count);
        }
        return count;
    }
    for (size_t w = 0; w < kb->words; w++) {
        for (kb_bits_t bits = s->allowed[w]; bits; bits &= bits - 1) {
            uint32_t item = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            add_candidate(kb, filter, item, 0, 0, relaxed, &count);
        }
    }
    return count;
}

/* The tier of a recommendation candidate: an entry for another target
 * group than the visitor's ranks below every entry for it, and one for
 * another goal below every entry for the goal. */
static int tier(unsigned failed)
{
    if (failed & (1u << KB_FACET_LEVEL))
        return 2;
    return failed & (1u << KB_FACET_GOAL) ? 1 : 0;
}

/* The tier of a candidate. An entry that serves the goal directly comes
 * first within its tier. An entry with thin facts that fails a facet comes
 * after every other entry for the level, because what it takes from a
 * company is unknown. */
static int rank_tier(const kb_candidate_t *c)
{
    int t = tier(c->failed);
    if (t == 2)
        return 5 + !c->direct;
    return c->thin ? 4 : 2 * t + !c->direct;
}

/* Orders candidates: the lower tier first, then fewer failed facets, then
 * the higher score, then the earlier entry. */
static int better(const kb_candidate_t *a, const kb_candidate_t *b)
{
    int ta = rank_tier(a), tb = rank_tier(b);
    if (ta != tb)
        return ta < tb;
    int fa = __builtin_popcount(a->failed), fb = __builtin_popcount(b->failed);
    if (fa != fb)
        return fa < fb;
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

/* Groups of a recommendation with a time budget, in the order shown. */
enum {
    GROUP_WITHIN,    /* needs no more than the budget */
    GROUP_MORE_TIME, /* among the best `max`, but needs more time */
    GROUP_REST       /* time unknown, or needs more time and ranks lower */
};

/* The tier of rank_tier() without the direct fit. */
static int time_tier(const kb_candidate_t *c)
{
    int t = tier(c->failed);
    if (t == 2)
        return 3;
    if (c->thin)
        return 2;
    return t;
}

static int by_time_group(const void *a, const void *b)
{
    const kb_candidate_t *x = a, *y = b;
    /* The budget weighs more than a direct fit: rank keeps that order
     * within a group. */
    int tx = time_tier(x), ty = time_tier(y);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->group == GROUP_MORE_TIME && x->hours != y->hours)
        return x->hours < y->hours ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Sets each of the `top` candidates' rank to its place and its hours to
 * the hours per month it needs, or -1 when that is unknown. */
static void set_hours(const kb_t *kb, kb_candidate_t *c, size_t top)
{
    for (size_t i = 0; i < top; i++) {
        const kb_item_t *item = &kb->items[c[i].item];
        int known = item->has_effort && item->hours_known;
        c[i].rank = i;
        c[i].hours = known ? item->hours_per_year / 12.0 : -1;
    }
}

/* Reorders the best candidates of a recommendation by the time budget:
 * those within it first, in rank order, then those of the best `max` that
 * need more time, least time first, then the rest in rank order. `c` has
 * `top` candidates, best first, fetched as twice `max` so that entries
 * within the budget can move up past those that need more time. Returns
 * the number to keep, at most `max`. */
static size_t order_by_time(const kb_t *kb, kb_candidate_t *c, size_t top,
                            size_t max)
{
    set_hours(kb, c, top);
    for (size_t i = 0; i < top; i++) {
        if (c[i].hours < 0)
            c[i].group = GROUP_REST;
        else if (!(c[i].failed & KB_FAILED_HOURS))
            c[i].group = GROUP_WITHIN;
        else
            c[i].group = i < max ? GROUP_MORE_TIME : GROUP_REST;
    }
    qsort(c, top, sizeof *c, by_time_group);
    return top < max ? top : max;
}

static int by_least_time(const void *a, const void *b)
{
    const kb_candidate_t *x = a, *y = b;
    int lx = tier(x->failed) == 2 ? 2 : x->thin,
        ly = tier(y->failed) == 2 ? 2 : y->thin;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    /* The goal and the time are what the visitor gives up for less time;
     * a size or sector that does not fit still counts. */
    unsigned given_up = (1u << KB_FACET_GOAL) | KB_FAILED_HOURS;
    int fx = __builtin_popcount(x->failed & ~given_up),
        fy = __builtin_popcount(y->failed & ~given_up);
    if (fx != fy)
        return fx < fy ? -1 : 1;
    if ((x->hours < 0) != (y->hours < 0))
        return x->hours < 0 ? 1 : -1;
    if (x->hours != y->hours)
        return x->hours < y->hours ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Reorders every candidate by the time it needs, least first: the entries
 * for another target group last, then those that fail more facets other
 * than the goal and the time, and those whose time is unknown after the
 * known ones. Equal times keep the usual order. Returns the
 * number to keep, at most `max`. */
static size_t order_by_least_time(const kb_t *kb, kb_candidate_t *c, size_t top,
                                  size_t max)
{
    set_hours(kb, c, top);
    qsort(c, top, sizeof *c, by_least_time);
    return top < max ? top : max;
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

/* Fills a hit; a facet the entry fails gives no reason, except the time
 * budget, which gives the reason that the entry needs more time. */
static void fill_hit(const kb_t *kb, const kb_candidate_t *c,
                     const kb_query_filter_t *filter, const char *words,
                     kb_hit_t *hit)
{
    const kb_item_t *item = &kb->items[c->item];
    kb_query_filter_t passed = *filter;
    int *values[KB_FACET_COUNT] = {&passed.level, &passed.region,
                                   &passed.sector, &passed.size, &passed.goal};
    for (int kind = 0; kind < KB_FACET_COUNT; kind++)
        if (c->failed & (1u << kind))
            *values[kind] = -1;

    memset(hit, 0, sizeof *hit);
    kb_copy_utf8(hit->id, sizeof hit->id, item->id);
    kb_copy_utf8(hit->type, sizeof hit->type, kb_type_names[item->type]);
    kb_copy_utf8(hit->title, sizeof hit->title, item->title);
    kb_copy_utf8(hit->summary, sizeof hit->summary, item->summary);
    kb_copy_utf8(hit->url, sizeof hit->url, item->url);
    hit->score = c->score;
    hit->other_level = (c->failed & (1u << KB_FACET_LEVEL)) != 0;
    hit->thin_fit = c->thin;
    kb_reasons_fill(kb, item, &passed, words, hit);
}

/* Drops the entries for another level beyond KB_OTHER_LEVEL_MAX from the
 * `top` ordered candidates, keeping the order. Returns the number left. */
static size_t limit_other_level(kb_candidate_t *c, size_t top)
{
    size_t kept = 0, others = 0;
    for (size_t i = 0; i < top; i++) {
        if (c[i].failed & (1u << KB_FACET_LEVEL)) {
            if (others == KB_OTHER_LEVEL_MAX)
                continue;
            others++;
        }
        c[kept++] = c[i];
    }
    return kept;
}

/* Runs a search; `relaxed` keeps entries that fail facets other than the
 * type and the region, ranked after those that pass every facet, and
 * orders them by the time budget when the filter sets one, or by the time
 * they need with `least_time`. */
static int run(kb_t *kb, const char *text, const kb_query_filter_t *filter,
               int relaxed, int least_time, kb_hit_t *hits, size_t max,
               size_t *count)
{
    query_t q = {.word_count = 0};
    q.kb = kb;
    if (text)
        build_query(&q, text);
    allow(kb, filter, relaxed);
    size_t found = collect(kb, &q, filter, relaxed);

    /* Text relevance is scaled to the best match of this query, so the
     * weight of the facets does not depend on the size of the kb. */
    kb_candidate_t *c = kb->scratch.candidates;
    double best = 0;
    for (size_t i = 0; i < found; i++)
        if (c[i].text > best)
            best = c[i].text;
    for (size_t i = 0; i < found; i++)
        c[i].score =
            c[i].facets + (best > 0 ? TEXT_WEIGHT * c[i].text / best : 0);

    int by_time = relaxed && filter->max_hours_per_month > 0;
    size_t window = max;
    if (relaxed && least_time)
        window = found;
    else if (by_time)
        window = max <= found / 2 ? 2 * max : found;
    size_t top = select_top(c, found, window);
    if (relaxed && least_time)
        top = order_by_least_time(kb, c, top, max);
    else if (by_time)
        top = order_by_time(kb, c, top, max);
    if (relaxed)
        top = limit_other_level(c, top);
    for (size_t i = 0; i < top; i++) {
        char words[KB_REASON_MAX];
        /* Leaves room for the template around the words. */
        matched_words(&q, c[i].matched, words, sizeof words - 24);
        fill_hit(kb, &c[i], filter, words, &hits[i]);
    }
    *count = top;
    return 0;
}

int kb_search(kb_t *kb, const char *text, const kb_filter_t *filter,
              kb_hit_t *hits, size_t max, size_t *count)
{
    *count = 0;
    kb_query_filter_t resolved;
    if (!kb || resolve_filter(kb, filter, &resolved) != 0)
        return -1;
    return run(kb, text, &resolved, 0, 0, hits, max, count);
}

int kb_recommend(kb_t *kb, const char *text, const kb_filter_t *filter,
                 kb_hit_t *hits, size_t max, size_t *count)
{
    *count = 0;
    kb_query_filter_t resolved;
    if (!kb || resolve_filter(kb, filter, &resolved) != 0)
        return -1;
    /* NOTE: only initiatives are recommended; a partner that serves a
     * goal directly (the RTC of the province for talent) is not among the
     * cards. */
    resolved.type = kb_type_find("initiative");
    return run(kb, text, &resolved, 1, filter && filter->least_time, hits, max,
               count);
}

int kb_find_partners(kb_t *kb, const char *sector, const char *region,
                     kb_hit_t *hits, size_t max, size_t *count)
{
    kb_filter_t filter = {
        .type = "partner", .sector = sector, .region = region};
    return kb_search(kb, NULL, &filter, hits, max, count);
}
