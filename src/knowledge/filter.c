/* Facet matching: the fit of one entry under a filter, and the bitmaps of
 * the entries that pass each facet value, so that a search starts from the
 * AND of a few bitmaps instead of testing every entry. */
#include "knowledge/kb_private.h"

#include <stdlib.h>
#include <string.h>

/* Fits of a listed value: the filter's own value, a value that it also
 * matches (lang/facets.json "also_matches"), or the value "alle" of the
 * sector facet. */
#define FIT_EXACT 1.0
#define FIT_ALSO 0.6
#define FIT_SECTOR_ALL 0.4

/* Returns the region fit of an entry, or 0 when it does not match. An
 * entry for all of Flanders or Belgium matches every Flemish region.
 * Brussels matches entries that list it or Belgium. A company for all of
 * Flanders matches every Flemish entry. An entry with no region (unknown)
 * matches none. */
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

/* Returns the fit of a level or goal value: more for an entry that lists
 * few values, less when it matches through "also_matches"; 0 when it does
 * not match. */
static double listed_fit(const kb_facets_t *f, kb_facet_kind_t kind,
                         const kb_item_t *item, int value)
{
    uint64_t set = item->sets[kind];
    double spread =
        item->set_sizes[kind] ? 0.5 / (double)item->set_sizes[kind] : 0;
    if (set & (1ull << value))
        return FIT_EXACT + spread;
    if (set & f->facets[kind].values[value].also)
        return FIT_ALSO + spread;
    return 0;
}

static double sector_fit(const kb_facets_t *f, const kb_item_t *item,
                         int sector)
{
    uint64_t set = item->sets[KB_FACET_SECTOR];
    if (set & (1ull << sector))
        return FIT_EXACT;
    if (set & f->facets[KB_FACET_SECTOR].values[sector].also)
        return FIT_ALSO;
    if (f->sector_all >= 0 && (set & (1ull << f->sector_all)))
        return FIT_SECTOR_ALL;
    return 0;
}

/* An entry that lacks a facet (an organisation has no levels) passes that
 * facet's filter but earns nothing for it. */
unsigned kb_facet_fit(const kb_t *kb, const kb_item_t *item,
                      const kb_query_filter_t *q, double *score)
{
    const kb_facets_t *f = &kb->facets;
    unsigned failed = 0;
    double s = item->facts_thin ? -0.3 : 0;
    const int values[KB_FACET_COUNT] = {q->level, q->region, q->sector, q->size,
                                        q->goal};

    if (q->type >= 0 && item->type != q->type)
        failed |= KB_FAILED_TYPE;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        if (values[kind] < 0 || kind == KB_FACET_SIZE ||
            !(item->declared & (1u << kind)))
            continue;
        double fit;
        if (kind == KB_FACET_REGION)
            fit = region_fit(f, item, values[kind]);
        else if (kind == KB_FACET_SECTOR)
            fit = sector_fit(f, item, values[kind]);
        else
            fit = listed_fit(f, (kb_facet_kind_t)kind, item, values[kind]);
        if (fit > 0)
            s += fit;
        else
            failed |= 1u << kind;
    }
    if (q->size >= 0 && item->has_fit) {
        int fits = q->size == f->size_large ? item->fit_large : item->fit_small;
        if (fits)
            s += 0.5;
        else
            failed |= 1u << KB_FACET_SIZE;
    }
    if (q->max_hours_per_month > 0 && item->has_effort) {
        double per_month = item->hours_per_year / 12.0;
        if (!item->hours_known)
            s -= 1.0; /* unknown time: kept, but ranked lower */
        else if (per_month > q->max_hours_per_month + KB_HOURS_SLACK)
            failed |= KB_FAILED_HOURS;
        else
            s += 0.5 + 0.5 * (per_month < q->max_hours_per_month
                                  ? 1.0 - per_month / q->max_hours_per_month
                                  : 0);
    }
    *score = s;
    return failed;
}

/* Sets the bit of every item that a filter on one facet value passes. */
static void fill_value(const kb_t *kb, kb_facet_kind_t kind, int value,
                       kb_bits_t *bits)
{
    kb_query_filter_t q = {-1, -1, -1, -1, -1, -1, 0};
    int *slots[KB_FACET_COUNT] = {&q.level, &q.region, &q.sector, &q.size,
                                  &q.goal};
    *slots[kind] = value;
    for (size_t i = 0; i < kb->count; i++) {
        double score;
        if (!kb_facet_fit(kb, &kb->items[i], &q, &score))
            bits[i / 64] |= 1ull << (i % 64);
    }
}

int kb_bitmaps_build(kb_t *kb)
{
    kb_bitmaps_t *m = &kb->bitmaps;
    size_t sets = KB_TYPE_COUNT + KB_FACET_COUNT;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++)
        sets += kb->facets.facets[kind].count;
    m->block = calloc(sets * kb->words + 1, sizeof *m->block);
    if (!m->block)
        return -1;

    kb_bits_t *next = m->block;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        for (size_t v = 0; v < kb->facets.facets[kind].count; v++) {
            m->values[kind][v] = next;
            fill_value(kb, (kb_facet_kind_t)kind, (int)v, next);
            next += kb->words;
        }
        m->unknown[kind] = next;
        for (size_t i = 0; i < kb->count; i++)
            if ((kb->items[i].declared & (1u << kind)) &&
                !kb->items[i].sets[kind])
                next[i / 64] |= 1ull << (i % 64);
        next += kb->words;
    }
    for (int type = 0; type < KB_TYPE_COUNT; type++) {
        m->types[type] = next;
        for (size_t i = 0; i < kb->count; i++)
            if (kb->items[i].type == type)
                next[i / 64] |= 1ull << (i % 64);
        next += kb->words;
    }
    return 0;
}
