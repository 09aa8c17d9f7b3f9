/* The inverted index against SQLite FTS5 and the facet bitmaps against a
 * test of every entry: text scores must equal FTS5's bm25() with the same
 * column weights, and a filtered search must return exactly the entries
 * that kb_facet_fit passes. Runs on the real kb/ (skipped when it is empty)
 * and on the fixture kb. */
#include "kb_test.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "knowledge/kb_private.h"

#define REAL_KB "kb"

/* Query words: the folded title words that the lexicon contains whole.
 * The search adds no compound parts or corrections for them, so it runs
 * the same phrases as a plain FTS5 MATCH. */
typedef struct {
    kb_t *kb;
    char words[512][64];
    size_t count;
} words_t;

static int keep_word(const nlu_token_t *token, void *arg)
{
    words_t *w = arg;
    if (w->count == 512 || strlen(token->folded) >= 64 ||
        kb_text_is_stopword(token->folded) ||
        !nlu_lexicon_has(kb_text_lexicon(w->kb->text), token->folded))
        return 0;
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->words[i], token->folded) == 0)
            return 0;
    snprintf(w->words[w->count++], 64, "%s", token->folded);
    return 0;
}

/* Checks one query: the hits of kb_search without a filter against the
 * rows and bm25() of FTS5. */
static void check_query(kb_t *kb, sqlite3_stmt *stmt, const char *text,
                        const char *match, kb_hit_t *hits)
{
    size_t count = 0;
    assert_int_equal(kb_search(kb, text, NULL, hits, kb->count, &count), 0);

    sqlite3_bind_text(stmt, 1, match, -1, SQLITE_STATIC);
    size_t rows = 0;
    double best = 0;
    double scores[1024] = {0};
    const char *ids[1024];
    while (sqlite3_step(stmt) == SQLITE_ROW && rows < 1024) {
        sqlite3_int64 rowid = sqlite3_column_int64(stmt, 0);
        ids[rows] = kb->items[rowid - 1].id;
        scores[rows] = sqlite3_column_double(stmt, 1);
        if (scores[rows] > best)
            best = scores[rows];
        rows++;
    }
    sqlite3_reset(stmt);
    if (rows != count)
        fprintf(stderr, "query \"%s\": %zu hits, FTS5 %zu rows\n", text, count,
                rows);
    assert_int_equal(rows, count);

    for (size_t r = 0; r < rows; r++) {
        int rank = rank_of(hits, count, ids[r]);
        assert_true(rank >= 0);
        const kb_hit_t *hit = &hits[rank];
        const json_t *entry = kb_entry(kb, hit->id);
        double thin =
            json_is_true(json_object_get(entry, "facts_thin")) ? -0.3 : 0;
        double expected = 10.0 * scores[r] / best;
        double got = hit->score - thin;
        if (fabs(got - expected) > 1e-9 * (1.0 + fabs(expected)))
            fprintf(stderr, "query \"%s\", %s: score %.12f, FTS5 %.12f\n", text,
                    hit->id, got, expected);
        assert_true(fabs(got - expected) <= 1e-9 * (1.0 + fabs(expected)));
    }
}

static void check_bm25(const char *dir)
{
    kb_t *kb = load_valid(dir);
    sqlite3 *db = kb_database(kb);
    assert_non_null(db);
    assert_ptr_equal(kb_database(kb), db); /* built once */
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rowid, -bm25(kb_fts, 10.0, "
                                        "6.0, 3.0, 1.0) FROM kb_fts WHERE "
                                        "kb_fts MATCH ?1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);

    words_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->kb = kb;
    for (size_t i = 0; i < kb->count; i++)
        nlu_tokenize(kb->items[i].title, strlen(kb->items[i].title), keep_word,
                     w);
    assert_true(w->count > 3);

    kb_hit_t *hits = calloc(kb->count + 1, sizeof *hits);
    assert_non_null(hits);
    for (size_t i = 0; i < w->count; i++) {
        char match[160];
        snprintf(match, sizeof match, "\"%s\"", w->words[i]);
        check_query(kb, stmt, w->words[i], match, hits);
        /* And a pair of words, ORed. */
        const char *other = w->words[(i * 7 + 3) % w->count];
        if (strcmp(other, w->words[i]) == 0)
            continue;
        char text[160];
        snprintf(text, sizeof text, "%s %s", w->words[i], other);
        snprintf(match, sizeof match, "\"%s\" OR \"%s\"", w->words[i], other);
        check_query(kb, stmt, text, match, hits);
    }
    free(hits);
    free(w);
    sqlite3_finalize(stmt);
    kb_free(kb);
}

static int has_files(const char *dir)
{
    char **paths = NULL;
    size_t count = 0;
    content_errors_t errs = {0};
    int found = content_list_json(dir, &paths, &count, &errs) == 0 && count;
    content_list_free(paths, count);
    content_errors_free(&errs);
    return found;
}

static void test_bm25_equals_fts5_fixture(void **state)
{
    (void)state;
    check_bm25(FIXTURE_KB);
}

static void test_bm25_equals_fts5_real_kb(void **state)
{
    (void)state;
    if (!has_files(REAL_KB))
        skip();
    check_bm25(REAL_KB);
}

/* Returns the number of entries that pass a filter, tested one by one. */
static size_t count_passing(const kb_t *kb, const kb_filter_t *filter)
{
    kb_query_filter_t q = {-1, -1, -1, -1, -1, -1, filter->max_hours_per_month};
    const char *values[KB_FACET_COUNT] = {filter->level, filter->region,
                                          filter->sector, filter->size,
                                          filter->goal};
    int *slots[KB_FACET_COUNT] = {&q.level, &q.region, &q.sector, &q.size,
                                  &q.goal};
    for (int kind = 0; kind < KB_FACET_COUNT; kind++)
        if (values[kind])
            *slots[kind] = kb_facet_find(&kb->facets, kind, values[kind]);
    if (filter->type)
        q.type = kb_type_find(filter->type);
    size_t passing = 0;
    for (size_t i = 0; i < kb->count; i++) {
        double score;
        passing += kb_facet_fit(kb, &kb->items[i], &q, &score) == 0;
    }
    return passing;
}

static void check_filters(const char *dir)
{
    kb_t *kb = load_valid(dir);
    kb_hit_t *hits = calloc(kb->count + 1, sizeof *hits);
    assert_non_null(hits);
    const kb_facets_t *f = &kb->facets;
    unsigned long long random = 88172645463325252ULL;
    for (int round = 0; round < 400; round++) {
        kb_filter_t filter = {0};
        const char **slots[KB_FACET_COUNT] = {&filter.level, &filter.region,
                                              &filter.sector, &filter.size,
                                              &filter.goal};
        /* One to three facets, sometimes a type and hours. */
        for (int k = 0; k < 1 + round % 3; k++) {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            int kind = (int)(random % KB_FACET_COUNT);
            *slots[kind] = f->facets[kind]
                               .values[(random >> 8) % f->facets[kind].count]
                               .value;
        }
        if (round % 4 == 1)
            filter.type = kb_type_names[(random >> 20) % KB_TYPE_COUNT];
        if (round % 5 == 2)
            filter.max_hours_per_month = (double)((random >> 24) % 4);
        size_t count = 0;
        assert_int_equal(kb_search(kb, NULL, &filter, hits, kb->count, &count),
                         0);
        assert_int_equal(count, count_passing(kb, &filter));
    }
    free(hits);
    kb_free(kb);
}

static void test_bitmaps_match_fixture(void **state)
{
    (void)state;
    check_filters(FIXTURE_KB);
    check_filters("tests/knowledge/fixtures/recommend");
}

static void test_bitmaps_match_real_kb(void **state)
{
    (void)state;
    if (!has_files(REAL_KB))
        skip();
    check_filters(REAL_KB);
}

static void test_empty_kb_searches(void **state)
{
    (void)state;
    char dir[] = "/tmp/stemdesk-kb-empty-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/leeg.json", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("{\"entries\": []}\n", file);
    fclose(file);
    kb_t *kb = load_valid(dir);
    remove(path);
    rmdir(dir);
    kb_hit_t hits[4];
    size_t count = 99;
    assert_int_equal(kb_search(kb, "robot", NULL, hits, 4, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(kb_recommend(kb, "", NULL, hits, 4, &count), 0);
    assert_int_equal(count, 0);
    kb_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bm25_equals_fts5_fixture),
        cmocka_unit_test(test_bm25_equals_fts5_real_kb),
        cmocka_unit_test(test_bitmaps_match_fixture),
        cmocka_unit_test(test_bitmaps_match_real_kb),
        cmocka_unit_test(test_empty_kb_searches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
