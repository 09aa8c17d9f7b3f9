/* The knowledge base: the JSON files of kb/ loaded into an in-memory index
 * with Dutch stemming and compound parts, searched with BM25 and facet
 * filters. Every hit carries the reasons it matched, in Dutch. Knows nothing
 * of sockets, sessions or conversation storage.
 *
 * A kb_t reuses its own scratch memory in every search, so it is not
 * thread-safe: use one per thread, or serialise calls. */
#ifndef STEMDESK_KB_H
#define STEMDESK_KB_H

#include <stddef.h>

#include <jansson.h>

#include "common/content.h"

#define KB_ID_MAX 64
#define KB_MAX_REASONS 8
#define KB_REASON_MAX 160

typedef struct kb kb_t;

/* Facets to filter on; NULL or 0 means "any". Entries marked for all of
 * Flanders (or Belgium) match every Flemish region, and entries for all
 * sectors match every sector. */
typedef struct {
    const char *type; /* "initiative", "organisation", "practice", ... */
    /* NOTE: one level only, so a visitor who names two groups ("3de graad
     * en hogeschool") gets the first one of the message. */
    const char *level;          /* education level id from lang/facets.json */
    const char *region;         /* region id */
    const char *sector;         /* sector id */
    const char *size;           /* size id */
    const char *goal;           /* goal id */
    double max_hours_per_month; /* <= 0: no limit */
    int least_time;             /* kb_recommend: the least time first */
} kb_filter_t;

/* kb_recommend keeps at most this many entries for another level. */
#define KB_OTHER_LEVEL_MAX 2

typedef struct {
    char id[KB_ID_MAX];
    char type[24];
    char title[160];
    char summary[600];
    char url[256];
    char reasons[KB_MAX_REASONS]
                [KB_REASON_MAX]; /* Dutch, most specific first */
    size_t reason_count;
    double score;    /* higher is better */
    int other_level; /* kb_recommend: for another level than the filter's */
    int thin_fit;    /* kb_recommend: facts_thin and fails a facet */
} kb_hit_t;

/* Loads every JSON file in kb/, validates it (missing fields, unknown facet
 * values, duplicate ids, broken references) and builds the index. Returns
 * NULL and fills `errs` with file, line, column and a hint on any error.
 * lang_dir supplies lang/facets.json. The caller frees with kb_free(). */
kb_t *kb_load(const char *kb_dir, const char *lang_dir, content_errors_t *errs);
void kb_free(kb_t *kb);

/* Ranks entries for free text (anything a visitor types is a valid query;
 * empty text ranks by facets alone) under the filter. Writes at most `max`
 * hits, best first, and sets *count. Returns 0, or -1 on an internal SQLite
 * error or a filter value that lang/facets.json does not list (both logged;
 * kb_facet_values() lists the valid ones). */
int kb_search(kb_t *kb, const char *text, const kb_filter_t *filter,
              kb_hit_t *hits, size_t max, size_t *count);

/* Ranks initiatives for a recommendation: like kb_search with the type
 * "initiative" (filter->type is ignored), but when fewer than `max`
 * entries match every facet, the list is filled up with entries that match
 * most facets. An entry for another level than the filter's ranks below
 * every entry for that level, and sets other_level and a first reason that
 * names its own level; at most KB_OTHER_LEVEL_MAX such entries are kept,
 * so the list may be shorter than `max`. An entry for another goal ranks
 * below every entry for the goal, and within the goal's tier an entry
 * that lists the goal in "direct_goals" ranks above the others. An entry
 * with "facts_thin" that fails a facet ranks below every other entry for
 * the level and sets thin_fit. Within those tiers, entries that match
 * every facet rank first, then those that fail one facet, and so on; a
 * facet an entry fails gives no reason. The region is never relaxed for an
 * entry that lists regions: an entry for West-Vlaanderen alone is never
 * recommended to a company in Limburg. An entry whose region is unknown (an
 * empty "regions" list) may fill up. With filter->least_time the entries for
 * the level are ordered by the time they need, least first, unknown time
 * last. Returns as kb_search. */
int kb_recommend(kb_t *kb, const char *text, const kb_filter_t *filter,
                 kb_hit_t *hits, size_t max, size_t *count);

/* The full JSON entry with this id (borrowed, valid until kb_free), or
 * NULL. */
const json_t *kb_entry(const kb_t *kb, const char *id);

/* Finds an entry named in `text` by its title or one of its aliases, with
 * tolerance for case, accents and one typo. Writes its id and returns 1,
 * or returns 0 when none is named. */
int kb_find_named(const kb_t *kb, const char *text, char *id, size_t size);

/* Number of loaded entries. */
size_t kb_entry_count(const kb_t *kb);

/* Writes at most `max` entries of one type ("route-step", "checklist", ...)
 * to `out`, ordered by their "order" field and then by id; entries without
 * "order" come last. The pointers are borrowed, valid until kb_free().
 * Returns the number written. */
size_t kb_list_type(const kb_t *kb, const char *type, const json_t **out,
                    size_t max);

/* Ranks the partner entries for a sector and a region (either may be NULL
 * for any), with the same matching rules and reasons as kb_search: partners
 * for every sector ("alle") or all of Flanders match too, but rank below a
 * partner of that very sector or province. Returns as kb_search. */
int kb_find_partners(kb_t *kb, const char *sector, const char *region,
                     kb_hit_t *hits, size_t max, size_t *count);

/* Writes at most `max` valid ids of a facet ("level", "region", "sector",
 * "size", "goal" from lang/facets.json, or "type" for the entry types) to
 * `values`, borrowed until kb_free(). Returns the number written, or 0 for
 * an unknown facet name. */
size_t kb_facet_values(const kb_t *kb, const char *facet, const char **values,
                       size_t max);

/* Returns the Dutch label of a facet value ("limburg" of "region" gives
 * "Limburg"), borrowed until kb_free(), or NULL for an unknown facet or
 * value. These labels exist only in lang/facets.json. */
const char *kb_facet_label(const kb_t *kb, const char *facet,
                           const char *value);

/* Returns 1 when `value` is broader than `other` in a facet: a filter on
 * `value` also matches entries of `other` ("also_matches" in
 * lang/facets.json), but not the other way round ("so" is broader than
 * "so3"). When each matches the other ("bso" and "so3"), the value that
 * fewer entries list is the broader one, so that the value the entries
 * are indexed by wins. Returns 0 otherwise, also for unknown names. */
int kb_facet_broader(const kb_t *kb, const char *facet, const char *value,
                     const char *other);

#endif
