/* Search on the fixture kb: stemming, compound parts, facet rules, reasons
 * and the ranking of entries with unknown hours. */
#include "kb_test.h"

static int setup(void **state)
{
    content_errors_t errs = {0};
    *state = kb_load(FIXTURE_KB, LANG_DIR, &errs);
    content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    kb_free(*state);
    return 0;
}

/* Searches and returns the hit count; fails on an error. */
static size_t search(kb_t *kb, const char *text, const kb_filter_t *filter,
                     kb_hit_t *hits, size_t max)
{
    size_t count = 99;
    assert_int_equal(kb_search(kb, text, filter, hits, max, &count), 0);
    assert_true(count <= max);
    return count;
}

static void test_plural_finds_singular(void **state)
{
    kb_hit_t hits[8];
    size_t n = search(*state, "gastlessen", NULL, hits, 8);
    assert_true(n >= 1);
    assert_string_equal(hits[0].id, "stem-ambassadeurs");
}

static void test_compound_finds_whole_word(void **state)
{
    /* "bedrijfsbezoek" is in the summary; the query is its plural. */
    kb_hit_t hits[8];
    kb_filter_t filter = {.type = "initiative"};
    size_t n = search(*state, "bedrijfsbezoeken", &filter, hits, 8);
    assert_true(n >= 1);
    assert_string_equal(hits[0].id, "open-bedrijvendag-limburg");
    assert_true(has_reason(&hits[0], "u zocht op: bedrijfsbezoeken"));
}

static void test_compound_part_finds_compound(void **state)
{
    /* "klasbezoek" is only a keyword of stem-ambassadeurs; "bezoek" alone
     * must reach it through the compound part. */
    kb_hit_t hits[8];
    size_t n = search(*state, "bezoek", NULL, hits, 8);
    assert_true(rank_of(hits, n, "stem-ambassadeurs") >= 0);
    assert_true(rank_of(hits, n, "open-bedrijvendag-limburg") >= 0);
    assert_true(rank_of(hits, n, "checklist-bezoek") >= 0);
}

static void test_unknown_compound_splits_in_query(void **state)
{
    /* "schoolbezoek" is in no entry; its part "bezoek" is. */
    kb_hit_t hits[8];
    size_t n = search(*state, "schoolbezoek", NULL, hits, 8);
    assert_true(n >= 1);
    assert_true(rank_of(hits, n, "checklist-bezoek") >= 0);
}

static void test_typo_is_corrected(void **state)
{
    kb_hit_t hits[8];
    size_t n = search(*state, "robotca", NULL, hits, 8);
    assert_true(n >= 1);
    assert_string_equal(hits[0].id, "brusselse-technieklab");
}

static void test_accents_and_case_fold(void **state)
{
    kb_hit_t hits[8];
    size_t n = search(*state, "ENERGIEHACKATHON", NULL, hits, 8);
    assert_true(n >= 1);
    assert_string_equal(hits[0].id, "hackathon-energie");
    n = search(*state, "énergiehackathon", NULL, hits, 8);
    assert_true(n >= 1);
    assert_string_equal(hits[0].id, "hackathon-energie");
}

static void test_title_outranks_body(void **state)
{
    /* "sectorfonds" is in the title of sectorfonds-voeding and in the
     * guidance of voedingsacademie. */
    kb_hit_t hits[8];
    size_t n = search(*state, "sectorfonds", NULL, hits, 8);
    assert_true(n >= 2);
    assert_string_equal(hits[0].id, "sectorfonds-voeding");
    assert_true(rank_of(hits, n, "voedingsacademie") > 0);
}

static void test_no_text_match_gives_no_hits(void **state)
{
    kb_hit_t hits[8];
    assert_int_equal(search(*state, "ruimtevaartxyz", NULL, hits, 8), 0);
}

static void test_stopwords_only_ranks_by_facets(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.type = "initiative"};
    assert_int_equal(search(*state, "ik zoek iets voor de", &filter, hits, 16),
                     5);
    assert_int_equal(search(*state, "", &filter, hits, 16), 5);
    assert_int_equal(search(*state, NULL, &filter, hits, 16), 5);
}

static void test_region_flanders_matches_province(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.type = "initiative", .region = "limburg"};
    size_t n = search(*state, NULL, &filter, hits, 16);
    assert_int_equal(n, 3); /* limburg, vlaanderen, belgie */
    assert_string_equal(hits[0].id, "open-bedrijvendag-limburg");
    assert_string_equal(hits[0].reasons[0], "in Limburg");
    int flanders = rank_of(hits, n, "stem-ambassadeurs");
    assert_true(flanders > 0);
    assert_true(has_reason(&hits[flanders], "in heel Vlaanderen"));
    int belgium = rank_of(hits, n, "voedingsacademie");
    assert_true(belgium > 0);
    assert_true(has_reason(&hits[belgium], "in heel België"));
    assert_int_equal(rank_of(hits, n, "brusselse-technieklab"), -1);
}

static void test_region_brussels(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.type = "initiative", .region = "brussel"};
    size_t n = search(*state, NULL, &filter, hits, 16);
    assert_int_equal(n, 2); /* brussel, belgie; not vlaanderen */
    assert_string_equal(hits[0].id, "brusselse-technieklab");
    assert_true(rank_of(hits, n, "voedingsacademie") > 0);
    assert_int_equal(rank_of(hits, n, "stem-ambassadeurs"), -1);
}

static void test_sector_all_matches_but_ranks_lower(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.type = "initiative", .sector = "voeding"};
    size_t n = search(*state, NULL, &filter, hits, 16);
    assert_int_equal(n, 3);
    int all = rank_of(hits, n, "stem-ambassadeurs");
    assert_true(all >= 0);
    assert_true(has_reason(&hits[all], "voor elke sector"));
    assert_true(rank_of(hits, n, "open-bedrijvendag-limburg") < all);
    assert_true(has_reason(&hits[0], "voor de voedingssector"));
}

static void test_size_uses_fit(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t small = {.type = "initiative", .size = "klein"};
    size_t n = search(*state, NULL, &small, hits, 16);
    assert_int_equal(n, 3);
    assert_int_equal(rank_of(hits, n, "voedingsacademie"), -1);
    assert_true(has_reason(&hits[0], "haalbaar voor een kleine onderneming"));
    kb_filter_t large = {.type = "initiative", .size = "groot"};
    n = search(*state, NULL, &large, hits, 16);
    assert_int_equal(n, 4);
    assert_int_equal(rank_of(hits, n, "brusselse-technieklab"), -1);
    kb_filter_t medium = {.type = "initiative", .size = "middelgroot"};
    n = search(*state, NULL, &medium, hits, 16);
    assert_int_equal(n, 3);
}

static void test_level_and_goal_filter(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.level = "so1", .goal = "enthousiasme"};
    size_t n = search(*state, "", &filter, hits, 16);
    assert_true(rank_of(hits, n, "stem-ambassadeurs") >= 0);
    assert_true(rank_of(hits, n, "brusselse-technieklab") >= 0);
    assert_int_equal(rank_of(hits, n, "open-bedrijvendag-limburg"), -1);
    /* The entry with one level is more specific than one with three. */
    assert_string_equal(hits[0].id, "brusselse-technieklab");
    assert_true(has_reason(&hits[0], "voor de 1e graad secundair"));
    assert_true(has_reason(&hits[0], "maakt jongeren warm voor techniek"));
}

static void test_max_hours(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.type = "initiative", .max_hours_per_month = 1.5};
    size_t n = search(*state, NULL, &filter, hits, 16);
    /* 6 h and 12 h a year fit, 24 h and 60 h do not, unknown is kept. */
    assert_int_equal(n, 3);
    assert_int_equal(rank_of(hits, n, "open-bedrijvendag-limburg"), -1);
    assert_int_equal(rank_of(hits, n, "hackathon-energie"), -1);
    int unknown = rank_of(hits, n, "voedingsacademie");
    assert_int_equal(unknown, 2);
    assert_true(has_reason(&hits[unknown], "de benodigde tijd is niet bekend"));
    int lab = rank_of(hits, n, "brusselse-technieklab");
    assert_true(has_reason(
        &hits[lab], "vraagt minder dan een uur per maand; u hebt 1,5 uur"));
    int ambassadors = rank_of(hits, n, "stem-ambassadeurs");
    assert_true(has_reason(&hits[ambassadors],
                           "vraagt ongeveer 1 uur per maand; u hebt 1,5 uur"));
}

static void test_reasons_most_specific_first(void **state)
{
    kb_hit_t hits[4];
    kb_filter_t filter = {.region = "limburg",
                          .sector = "voeding",
                          .level = "so2",
                          .size = "klein",
                          .goal = "branding",
                          .max_hours_per_month = 4};
    size_t n = search(*state, "bedrijfsbezoek", &filter, hits, 4);
    assert_true(n >= 1);
    const kb_hit_t *hit = &hits[0];
    assert_string_equal(hit->id, "open-bedrijvendag-limburg");
    assert_int_equal(hit->reason_count, 7);
    assert_string_equal(hit->reasons[0], "voor de voedingssector");
    assert_string_equal(hit->reasons[1], "in Limburg");
    assert_string_equal(hit->reasons[2], "voor de 2e graad secundair");
    assert_string_equal(hit->reasons[3], "versterkt uw naam als werkgever");
    assert_string_equal(hit->reasons[4], "u zocht op: bedrijfsbezoek");
    assert_string_equal(hit->reasons[5],
                        "haalbaar voor een kleine onderneming");
    assert_string_equal(hit->reasons[6],
                        "vraagt ongeveer 2 uur per maand; u hebt 4 uur");
}

static void test_every_hit_has_a_reason(void **state)
{
    kb_hit_t hits[16];
    size_t n = search(*state, NULL, NULL, hits, 16);
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hits[i].type, "route-step") == 0 ||
            strcmp(hits[i].type, "checklist") == 0)
            continue; /* no facets to describe them by */
        assert_true(hits[i].reason_count >= 1);
    }
}

static void test_hit_fields(void **state)
{
    kb_hit_t hits[2];
    size_t n = search(*state, "voedingsacademie", NULL, hits, 2);
    assert_true(n >= 1);
    assert_string_equal(hits[0].type, "initiative");
    assert_string_equal(hits[0].title, "Voedingsacademie");
    assert_string_equal(hits[0].url, "https://example.org/voedingsacademie");
    assert_true(hits[0].score > 0);
    n = search(*state, "ambassadeur", NULL, hits, 2);
    assert_true(n >= 1);
    assert_string_equal(hits[0].url, "");
}

static void test_unknown_filter_value_is_rejected(void **state)
{
    kb_hit_t hits[2];
    size_t count = 7;
    kb_filter_t filter = {.region = "Limburgg"};
    assert_int_equal(kb_search(*state, "stage", &filter, hits, 2, &count), -1);
    assert_int_equal(count, 0);
    kb_filter_t type = {.type = "initiatief"};
    assert_int_equal(kb_search(*state, NULL, &type, hits, 2, &count), -1);
}

static void test_zero_max_gives_no_hits(void **state)
{
    size_t count = 7;
    assert_int_equal(kb_search(*state, "stage", NULL, NULL, 0, &count), 0);
    assert_int_equal(count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plural_finds_singular),
        cmocka_unit_test(test_compound_finds_whole_word),
        cmocka_unit_test(test_compound_part_finds_compound),
        cmocka_unit_test(test_unknown_compound_splits_in_query),
        cmocka_unit_test(test_typo_is_corrected),
        cmocka_unit_test(test_accents_and_case_fold),
        cmocka_unit_test(test_title_outranks_body),
        cmocka_unit_test(test_no_text_match_gives_no_hits),
        cmocka_unit_test(test_stopwords_only_ranks_by_facets),
        cmocka_unit_test(test_region_flanders_matches_province),
        cmocka_unit_test(test_region_brussels),
        cmocka_unit_test(test_sector_all_matches_but_ranks_lower),
        cmocka_unit_test(test_size_uses_fit),
        cmocka_unit_test(test_level_and_goal_filter),
        cmocka_unit_test(test_max_hours),
        cmocka_unit_test(test_reasons_most_specific_first),
        cmocka_unit_test(test_every_hit_has_a_reason),
        cmocka_unit_test(test_hit_fields),
        cmocka_unit_test(test_unknown_filter_value_is_rejected),
        cmocka_unit_test(test_zero_max_gives_no_hits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
