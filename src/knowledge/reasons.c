/* The Dutch reasons of a hit. Every facet reason comes from
 * lang/facets.json; the only Dutch in this file is the templates below,
 * which wrap those strings, the words a visitor searched on, and hours. */
#include "knowledge/kb_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Templates of the reasons that do not come from a facet. */
#define TEMPLATE_WORDS "u zocht op: %s"
#define TEMPLATE_HOURS_FIT "vraagt %s; u hebt %s"
#define TEMPLATE_HOURS_ABOUT "ongeveer %s uur per maand"
#define TEMPLATE_HOURS_YEAR "ongeveer %s uur per jaar"
#define TEMPLATE_BUDGET "%s uur"
#define TEMPLATE_MORE_TIME "vraagt meer tijd: %s"
#define TEMPLATE_OTHER_LEVEL "andere doelgroep: %s"
#define TEMPLATE_OTHER_LEVELS "andere doelgroep: %s tot %s"
#define TEXT_HOURS_UNDER_ONE "minder dan een uur per maand"
#define TEXT_HOURS_UNKNOWN "de benodigde tijd is niet bekend"

/* Specificity of each kind of reason; reasons are listed most specific
 * first. That an entry is for another level comes before all, then that
 * it needs more time than the budget. */
#define RANK_OTHER_LEVEL 110
#define RANK_MORE_TIME 100
#define RANK_SECTOR 90
#define RANK_REGION 85
#define RANK_LEVEL 80
#define RANK_GOAL 70
#define RANK_WORDS 65
#define RANK_SIZE 60
#define RANK_HOURS 50
#define RANK_SECTOR_ALL 30
#define RANK_REGION_WIDE 25
#define RANK_HOURS_UNKNOWN 10

typedef struct {
    char text[KB_REASON_MAX];
    int rank;
} reason_t;

typedef struct {
    reason_t items[KB_MAX_REASONS];
    size_t count;
} reasons_t;

static void add(reasons_t *r, int rank, const char *text)
{
    if (r->count == KB_MAX_REASONS || !text || !text[0])
        return;
    kb_copy_utf8(r->items[r->count].text, KB_REASON_MAX, text);
    r->items[r->count].rank = rank;
    r->count++;
}

static const char *reason_of(const kb_facets_t *f, kb_facet_kind_t kind,
                             int index)
{
    if (index < 0 || (size_t)index >= f->facets[kind].count)
        return NULL;
    return f->facets[kind].values[index].reason;
}

/* Returns the index of the first value in a set, or -1. */
static int first_of(uint64_t set)
{
    for (int i = 0; i < 64; i++)
        if (set & (1ull << i))
            return i;
    return -1;
}

/* Writes an amount of hours the Dutch way: "4", "2,5". */
static void format_number(double hours, char *out, size_t size)
{
    double halves = floor(hours * 2.0 + 0.5);
    long whole = (long)(halves / 2.0);
    if ((long)halves % 2)
        snprintf(out, size, "%ld,5", whole);
    else
        snprintf(out, size, "%ld", whole);
}

/* Adds "vraagt meer tijd: ongeveer 2 uur per maand" for an entry that
 * needs more than the budget, which only a recommendation returns. Under an
 * hour a month the hours are per year and whole, up to 10 hours a month in
 * halves, above that whole. */
static void add_more_time(reasons_t *r, double per_month)
{
    char number[32], about[96], text[KB_REASON_MAX];
    if (per_month < 1.0) {
        double per_year = floor(per_month * 12.0 + 0.5);
        format_number(per_year < 1.0 ? 1.0 : per_year, number, sizeof number);
        snprintf(about, sizeof about, TEMPLATE_HOURS_YEAR, number);
    } else {
        format_number(per_month < 10.0 ? per_month : floor(per_month + 0.5),
                      number, sizeof number);
        snprintf(about, sizeof about, TEMPLATE_HOURS_ABOUT, number);
    }
    snprintf(text, sizeof text, TEMPLATE_MORE_TIME, about);
    add(r, RANK_MORE_TIME, text);
}

static void add_hours(reasons_t *r, const kb_item_t *item, double max)
{
    if (max <= 0 || !item->has_effort)
        return;
    if (!item->hours_known) {
        add(r, RANK_HOURS_UNKNOWN, TEXT_HOURS_UNKNOWN);
        return;
    }
    if (item->hours_per_year / 12.0 > max + KB_HOURS_SLACK) {
        add_more_time(r, item->hours_per_year / 12.0);
        return;
    }
    /* "vraagt ongeveer 2 uur per maand; u hebt 4 uur"; a budget under an
     * hour a month is compared per year: "vraagt ongeveer 4 uur per jaar;
     * u hebt ongeveer 6 uur per jaar". */
    char limit[64], number[32], about[96], text[KB_REASON_MAX];
    double per_month = item->hours_per_year / 12.0;
    if (max < 1.0) {
        /* Whole hours a year, as the summary of the desk shows them. */
        double per_year = floor(max * 12.0 + 0.5);
        format_number(per_year < 1.0 ? 1.0 : per_year, number, sizeof number);
        snprintf(limit, sizeof limit, TEMPLATE_HOURS_YEAR, number);
        format_number(item->hours_per_year, number, sizeof number);
        snprintf(about, sizeof about, TEMPLATE_HOURS_YEAR, number);
    } else if (per_month < 0.75) {
        format_number(max, number, sizeof number);
        snprintf(limit, sizeof limit, TEMPLATE_BUDGET, number);
        snprintf(about, sizeof about, "%s", TEXT_HOURS_UNDER_ONE);
    } else {
        format_number(max, number, sizeof number);
        snprintf(limit, sizeof limit, TEMPLATE_BUDGET, number);
        format_number(per_month, number, sizeof number);
        snprintf(about, sizeof about, TEMPLATE_HOURS_ABOUT, number);
    }
    snprintf(text, sizeof text, TEMPLATE_HOURS_FIT, about, limit);
    add(r, RANK_HOURS, text);
}

/* The region reason: the filter's own region when the entry lists it, else
 * the wider area ("in heel Vlaanderen") through which it matched. */
static void add_region(reasons_t *r, const kb_facets_t *f,
                       const kb_item_t *item, int region)
{
    uint64_t set = item->sets[KB_FACET_REGION];
    int wide = region == f->region_flanders || region == f->region_belgium;
    if (set & (1ull << region)) {
        add(r, wide ? RANK_REGION_WIDE : RANK_REGION,
            reason_of(f, KB_FACET_REGION, region));
    } else if (f->region_flanders >= 0 && region != f->region_brussels &&
               (set & (1ull << f->region_flanders))) {
        add(r, RANK_REGION_WIDE,
            reason_of(f, KB_FACET_REGION, f->region_flanders));
    } else if (f->region_belgium >= 0 && (set & (1ull << f->region_belgium))) {
        add(r, RANK_REGION_WIDE,
            reason_of(f, KB_FACET_REGION, f->region_belgium));
    } else {
        add(r, RANK_REGION, reason_of(f, KB_FACET_REGION, first_of(set)));
    }
}

/* Returns the value through which an entry matches a filter value: the
 * value itself, else the first listed value that it also matches
 * ("also_matches" in lang/facets.json), or -1. */
static int matched_value(const kb_facets_t *f, kb_facet_kind_t kind,
                         const kb_item_t *item, int value)
{
    uint64_t set = item->sets[kind];
    if (set & (1ull << value))
        return value;
    return first_of(set & f->facets[kind].values[value].also);
}

static void add_sector(reasons_t *r, const kb_facets_t *f,
                       const kb_item_t *item, int sector)
{
    int matched = matched_value(f, KB_FACET_SECTOR, item, sector);
    if (matched >= 0)
        add(r, RANK_SECTOR, reason_of(f, KB_FACET_SECTOR, matched));
    else
        add(r, RANK_SECTOR_ALL, reason_of(f, KB_FACET_SECTOR, f->sector_all));
}

/* Describes an entry by its own facets when the query gave nothing to
 * match on, so that every hit carries at least one reason. */
static void add_fallback(reasons_t *r, const kb_facets_t *f,
                         const kb_item_t *item)
{
    static const kb_facet_kind_t order[] = {KB_FACET_REGION, KB_FACET_GOAL,
                                            KB_FACET_SECTOR, KB_FACET_LEVEL};
    for (size_t i = 0; i < 4 && r->count == 0; i++)
        add(r, 0, reason_of(f, order[i], first_of(item->sets[order[i]])));
}

/* Names the levels of an entry for another level: "andere doelgroep: lager
 * onderwijs", or for three or more levels without a gap in the order of
 * lang/facets.json "andere doelgroep: kleuteronderwijs tot secundair
 * onderwijs, 3e graad". Other sets name their first level. */
static void add_other_level(reasons_t *r, const kb_facets_t *f, uint64_t set)
{
    int first = first_of(set);
    if (first < 0)
        return;
    int last = 63 - __builtin_clzll(set);
    uint64_t run = (last - first == 63 ? ~0ull : (2ull << (last - first)) - 1)
                   << first;
    const char *first_label = f->facets[KB_FACET_LEVEL].values[first].label;
    const char *last_label = f->facets[KB_FACET_LEVEL].values[last].label;
    char text[KB_REASON_MAX];
    if (set == run && last - first >= 2)
        snprintf(text, sizeof text, TEMPLATE_OTHER_LEVELS, first_label,
                 last_label);
    else
        snprintf(text, sizeof text, TEMPLATE_OTHER_LEVEL, first_label);
    add(r, RANK_OTHER_LEVEL, text);
}

void kb_reasons_fill(const kb_t *kb, const kb_item_t *item,
                     const kb_query_filter_t *q, const char *words,
                     kb_hit_t *hit)
{
    const kb_facets_t *f = &kb->facets;
    reasons_t r = {.count = 0};
    unsigned declared = item->declared;

    if (q->sector >= 0 && (declared & (1u << KB_FACET_SECTOR)))
        add_sector(&r, f, item, q->sector);
    if (q->region >= 0 && (declared & (1u << KB_FACET_REGION)))
        add_region(&r, f, item, q->region);
    /* A level matched through "also_matches" gets the reason of the
     * visitor's value: "aso" matches an entry for the 2e graad, but the
     * visitor named no grade. */
    if (q->level >= 0 && (declared & (1u << KB_FACET_LEVEL)) &&
        matched_value(f, KB_FACET_LEVEL, item, q->level) >= 0)
        add(&r, RANK_LEVEL, reason_of(f, KB_FACET_LEVEL, q->level));
    if (hit->other_level)
        add_other_level(&r, f, item->sets[KB_FACET_LEVEL]);
    if (q->goal >= 0 && (declared & (1u << KB_FACET_GOAL)))
        add(&r, RANK_GOAL,
            reason_of(f, KB_FACET_GOAL,
                      matched_value(f, KB_FACET_GOAL, item, q->goal)));
    if (words && words[0]) {
        char text[KB_REASON_MAX];
        snprintf(text, sizeof text, TEMPLATE_WORDS, words);
        add(&r, RANK_WORDS, text);
    }
    if (q->size >= 0 && item->has_fit)
        add(&r, RANK_SIZE, reason_of(f, KB_FACET_SIZE, q->size));
    add_hours(&r, item, q->max_hours_per_month);
    if (r.count == 0)
        add_fallback(&r, f, item);

    /* A stable insertion sort keeps equal ranks in the order added. */
    for (size_t i = 1; i < r.count; i++) {
        reason_t moving = r.items[i];
        size_t j = i;
        while (j > 0 && r.items[j - 1].rank < moving.rank) {
            r.items[j] = r.items[j - 1];
            j--;
        }
        r.items[j] = moving;
    }
    for (size_t i = 0; i < r.count; i++)
        memcpy(hit->reasons[i], r.items[i].text, KB_REASON_MAX);
    hit->reason_count = r.count;
}
