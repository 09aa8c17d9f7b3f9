/* Relaxed recommendations, entries with unknown facets (thin facts) and
 * levels that match through "also_matches" of lang/facets.json, on the
 * fixture kb in tests/knowledge/fixtures/recommend/. */
#include "kb_test.h"

#include <stdlib.h>
#include <unistd.h>

#define RECOMMEND_KB "tests/knowledge/fixtures/recommend"

static int setup(void **state)
{
    content_errors_t errs = {0};
    *state = kb_load(RECOMMEND_KB, LANG_DIR, &errs);
    content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    kb_free(*state);
    return 0;
}

static size_t search(kb_t *kb, const kb_filter_t *filter, kb_hit_t *hits,
                     size_t max)
{
    size_t count = 99;
    assert_int_equal(kb_search(kb, "", filter, hits, max, &count), 0);
    assert_true(count <= max);
    return count;
}

static size_t recommend(kb_t *kb, const char *text, const kb_filter_t *filter,
                        kb_hit_t *hits, size_t max)
{
    size_t count = 99;
    assert_int_equal(kb_recommend(kb, text, filter, hits, max, &count), 0);
    assert_true(count <= max);
    return count;
}

/* A metal company in Limburg that wants talent from the 2nd grade. */
static const kb_filter_t limburg_metal = {
    .level = "so2", .region = "limburg", .sector = "metaal", .goal = "talent"};

static void test_search_needs_every_facet(void **state)
{
    kb_hit_t hits[16];
    size_t n = search(*state, &limburg_metal, hits, 16);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].id, "robotica-limburg");
    assert_string_equal(hits[1].id, "partner-limburg");
}

static void test_recommend_fills_up_by_failed_facets(void **state)
{
    kb_hit_t hits[16];
    size_t n = recommend(*state, "", &limburg_metal, hits, 16);
    /* Every facet, then one failed (sector or level), then three; the
     * entry of unknown level would be the third for another level. */
    assert_int_equal(n, 4);
    assert_string_equal(hits[0].id, "robotica-limburg");
    int stage = rank_of(hits, n, "stage-vlaanderen");
    int dual = rank_of(hits, n, "duaal-traject");
    assert_true(stage == 1 || stage == 2);
    assert_true(dual == 1 || dual == 2);
    assert_string_equal(hits[3].id, "kleuterproject");
    assert_int_equal(rank_of(hits, n, "onbekend-initiatief"), -1);

    /* Without a level, it fills up last: every facet but size unknown. */
    kb_filter_t any_level = limburg_metal;
    any_level.level = NULL;
    n = recommend(*state, "", &any_level, hits, 16);
    assert_string_equal(hits[n - 1].id, "onbekend-initiatief");
}

/* However many entries are for another level, at most two are shown. */
static void test_recommend_limits_other_level(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.level = "werkzoekenden", .region = "limburg"};
    size_t n = recommend(*state, "", &filter, hits, 16);
    assert_int_equal(n, KB_OTHER_LEVEL_MAX);
    for (size_t i = 0; i < n; i++)
        assert_true(hits[i].other_level);
}

static void test_recommend_never_relaxes_region(void **state)
{
    kb_hit_t hits[16];
    size_t n = recommend(*state, "", &limburg_metal, hits, 16);
    assert_int_equal(rank_of(hits, n, "techniek-west"), -1);
    kb_filter_t west = {.region = "west-vlaanderen", .sector = "metaal"};
    n = recommend(*state, "", &west, hits, 16);
    assert_string_equal(hits[0].id, "techniek-west");
    assert_int_equal(rank_of(hits, n, "robotica-limburg"), -1);
    assert_int_equal(rank_of(hits, n, "kleuterproject"), -1);
    /* Flanders-wide and unknown regions may fill up. */
    assert_true(rank_of(hits, n, "stage-vlaanderen") > 0);
    assert_true(rank_of(hits, n, "onbekend-initiatief") > 0);
}

static void test_recommend_never_relaxes_type(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t partner = limburg_metal;
    partner.type = "partner";
    size_t n = recommend(*state, "", &partner, hits, 16);
    assert_int_equal(rank_of(hits, n, "partner-limburg"), -1);
    assert_string_equal(hits[0].id, "robotica-limburg");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(hits[i].type, "initiative");
}

static void test_recommend_full_matches_only_when_enough(void **state)
{
    kb_hit_t hits[1];
    size_t n = recommend(*state, "", &limburg_metal, hits, 1);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].id, "robotica-limburg");
}

static void test_failed_facet_has_no_reason(void **state)
{
    kb_hit_t hits[16];
    size_t n = recommend(*state, "", &limburg_metal, hits, 16);
    const kb_hit_t *stage = &hits[rank_of(hits, n, "stage-vlaanderen")];
    assert_true(has_reason(stage, "in heel Vlaanderen"));
    /* The entry lists tso: a level matched through also_matches gets the
     * reason of the filter's value. */
    assert_true(has_reason(stage, "voor de 2e graad secundair"));
    assert_true(has_reason(stage, "helpt u technisch talent te vinden"));
    assert_false(has_reason(stage, "metaal"));
    assert_false(has_reason(stage, "bouw"));

    /* The entry of unknown level fills up only without a level. */
    kb_filter_t any_level = limburg_metal;
    any_level.level = NULL;
    n = recommend(*state, "", &any_level, hits, 16);
    const kb_hit_t *unknown = &hits[rank_of(hits, n, "onbekend-initiatief")];
    assert_false(has_reason(unknown, "Limburg"));
    assert_false(has_reason(unknown, "talent"));
    assert_false(has_reason(unknown, "secundair"));
}

static void test_recommend_relaxes_hours(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.region = "limburg", .max_hours_per_month = 1.5};
    size_t n = search(*state, &filter, hits, 16);
    /* 12 and 6 h a year fit; 40 h does not. */
    assert_int_equal(rank_of(hits, n, "duaal-traject"), -1);
    n = recommend(*state, "", &filter, hits, 16);
    int dual = rank_of(hits, n, "duaal-traject");
    assert_true(dual > rank_of(hits, n, "robotica-limburg"));
    assert_true(dual > rank_of(hits, n, "kleuterproject"));
    assert_string_equal(hits[dual].reasons[0],
                        "vraagt meer tijd: ongeveer 3,5 uur per maand");
    assert_false(has_reason(&hits[dual], "u hebt"));
}

/* With a time budget, entries within it come first, then those that
 * need more time, least time first, each saying so in its first reason,
 * then those whose time is unknown; all of that within the tiers: an
 * entry for another level ranks below every entry for the level, even
 * when it fits the budget, and says so first. */
static void test_recommend_orders_by_time(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = limburg_metal;
    filter.max_hours_per_month = 1.5;
    size_t n = recommend(*state, "", &filter, hits, 16);
    assert_int_equal(n, 4);
    assert_string_equal(hits[0].id, "robotica-limburg");
    assert_string_equal(hits[1].id, "stage-vlaanderen");
    assert_string_equal(hits[2].id, "kleuterproject");
    assert_string_equal(hits[3].id, "duaal-traject");
    assert_string_equal(hits[4].id, "onbekend-initiatief");
    assert_true(has_reason(&hits[0], "vraagt ongeveer 1 uur per maand"));
    assert_false(hits[0].other_level || hits[1].other_level);
    assert_string_equal(hits[1].reasons[0],
                        "vraagt meer tijd: ongeveer 2 uur per maand");
    assert_true(hits[2].other_level);
    assert_string_equal(hits[2].reasons[0],
                        "andere doelgroep: kleuteronderwijs");
    assert_false(has_reason(&hits[2], "meer tijd"));
    assert_string_equal(hits[3].reasons[0], "andere doelgroep: duaal leren");
    assert_string_equal(hits[3].reasons[1],
                        "vraagt meer tijd: ongeveer 3,5 uur per maand");
    filter.level = NULL;
    n = recommend(*state, "", &filter, hits, 16);
    int unknown = rank_of(hits, n, "onbekend-initiatief");
    assert_true(unknown >= 0);
    assert_true(has_reason(&hits[unknown], "de benodigde tijd is niet bekend"));
    filter.level = limburg_metal.level;

    /* Two cards: the entry for the kleuter level does not pass the one
     * for the level that needs more time. */
    n = recommend(*state, "", &filter, hits, 2);
    assert_int_equal(n, 2);
    assert_string_equal(hits[0].id, "robotica-limburg");
    assert_string_equal(hits[1].id, "stage-vlaanderen");

    /* Under an hour a month the time asked is given per year. */
    filter.max_hours_per_month = 0.25;
    n = recommend(*state, "", &filter, hits, 16);
    int kleuter = rank_of(hits, n, "kleuterproject");
    assert_true(kleuter >= 0);
    assert_string_equal(hits[kleuter].reasons[1],
                        "vraagt meer tijd: ongeveer 6 uur per jaar");
}

static void test_recommend_with_text(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t filter = {.region = "limburg", .sector = "voeding"};
    size_t n = recommend(*state, "robot", &filter, hits, 16);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].id, "robotica-limburg");
    assert_true(has_reason(&hits[0], "u zocht op: robot"));
    assert_false(has_reason(&hits[0], "voedingssector"));
}

static void test_recommend_rejects_unknown_id(void **state)
{
    kb_hit_t hits[4];
    size_t count = 99;
    kb_filter_t filter = {.region = "gent"};
    assert_int_equal(kb_recommend(*state, "", &filter, hits, 4, &count), -1);
    assert_int_equal(count, 0);
}

static void test_unknown_facet_matches_no_filter(void **state)
{
    kb_hit_t hits[16];
    static const kb_filter_t filters[] = {
        {.level = "publiek"},     {.level = "so2"},
        {.region = "limburg"},    {.region = "belgie"},
        {.region = "vlaanderen"}, {.sector = "alle"},
        {.sector = "bouw"},       {.goal = "talent"},
        {.goal = "enthousiasme"},
    };
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        size_t n = search(*state, &filters[i], hits, 16);
        assert_int_equal(rank_of(hits, n, "onbekend-initiatief"), -1);
    }
    kb_filter_t initiatives = {.type = "initiative"};
    size_t n = search(*state, &initiatives, hits, 16);
    int unknown = rank_of(hits, n, "onbekend-initiatief");
    assert_true(unknown >= 0);
    /* No facet gives a reason, not even the fallback one. */
    assert_int_equal(hits[unknown].reason_count, 0);
}

static void test_level_matches_grade(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t tso = {.level = "tso"};
    size_t n = search(*state, &tso, hits, 16);
    /* tso exactly, so2 entries and the dual track. */
    assert_string_equal(hits[0].id, "stage-vlaanderen");
    assert_true(has_reason(&hits[0], "voor leerlingen in het TSO"));
    int robot = rank_of(hits, n, "robotica-limburg");
    assert_true(robot > 0);
    /* The reason names the track the filter gives, not the grade or the
     * dual track that the entries list. */
    assert_true(has_reason(&hits[robot], "voor leerlingen in het TSO"));
    assert_false(has_reason(&hits[robot], "voor de 2e graad secundair"));
    int dual = rank_of(hits, n, "duaal-traject");
    assert_true(dual > 0);
    assert_true(has_reason(&hits[dual], "voor leerlingen in het TSO"));
    assert_int_equal(rank_of(hits, n, "kleuterproject"), -1);
}

static void test_grade_matches_level(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t so2 = {.level = "so2"};
    size_t n = search(*state, &so2, hits, 16);
    assert_true(rank_of(hits, n, "stage-vlaanderen") > 0);
    assert_true(rank_of(hits, n, "robotica-limburg") >= 0);
    assert_int_equal(rank_of(hits, n, "duaal-traject"), -1);
}

/* "tso" and "so2" match each other; the grade, which more entries list,
 * is the more precise value, so a message naming both keeps the grade. */
static void test_broader_prefers_the_indexed_value(void **state)
{
    assert_true(kb_facet_broader(*state, "level", "tso", "so2"));
    assert_false(kb_facet_broader(*state, "level", "so2", "tso"));
    assert_true(kb_facet_broader(*state, "level", "so", "so2"));
    assert_false(kb_facet_broader(*state, "level", "so2", "so"));
    assert_false(kb_facet_broader(*state, "level", "so2", "kleuter"));
}

static void test_dual_matches_bso_not_aso(void **state)
{
    kb_hit_t hits[16];
    kb_filter_t bso = {.level = "bso"};
    size_t n = search(*state, &bso, hits, 16);
    assert_true(rank_of(hits, n, "duaal-traject") >= 0);
    kb_filter_t aso = {.level = "aso"};
    n = search(*state, &aso, hits, 16);
    assert_int_equal(rank_of(hits, n, "duaal-traject"), -1);
    assert_true(rank_of(hits, n, "robotica-limburg") >= 0);
}

/* Writes lang/facets.json with one value of `facet` given an
 * "also_matches" list into a new folder; returns its path in `dir`. */
static void write_lang(char *dir, const char *facet, size_t value, json_t *also)
{
    json_error_t error;
    json_t *root = json_load_file(LANG_DIR "/facets.json", 0, &error);
    assert_non_null(root);
    json_object_set_new(json_array_get(json_object_get(root, facet), value),
                        "also_matches", also);
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/facets.json", dir);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(2)), 0);
    json_decref(root);
}

static void remove_lang(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/facets.json", dir);
    unlink(path);
    rmdir(dir);
}

static void expect_lang_error(const char *facet, json_t *also,
                              const char *message)
{
    char dir[] = "/tmp/stemdesk-kb-lang-XXXXXX";
    write_lang(dir, facet, 0, also);
    content_errors_t errs = {0};
    kb_t *kb = kb_load(RECOMMEND_KB, dir, &errs);
    remove_lang(dir);
    assert_null(kb);
    assert_int_equal(errs.count, 1);
    if (!strstr(errs.items[0].message, message))
        content_errors_print(&errs, stderr);
    assert_non_null(strstr(errs.items[0].message, message));
    assert_non_null(strstr(errs.items[0].file, "facets.json"));
    content_errors_free(&errs);
}

static void test_also_matches_is_checked(void **state)
{
    (void)state;
    expect_lang_error("level", json_pack("[s]", "so9"),
                      "invalid level id \"so9\" in \"also_matches\"");
    expect_lang_error("level", json_pack("[s]", "kleuter"),
                      "invalid level id \"kleuter\"");
    expect_lang_error("level", json_string("so2"),
                      "\"also_matches\" must be an array of level ids");
    expect_lang_error("region", json_pack("[s]", "limburg"),
                      "supported for level, sector and goal values only");
}

/* lang/facets.json is the only source of the Dutch label of a facet value
 * (the dialogs show it in the summary), so a missing label is an error at
 * its line. */
static void test_facet_value_needs_label(void **state)
{
    (void)state;
    char dir[] = "/tmp/stemdesk-kb-lang-XXXXXX";
    write_lang(dir, "region", 1, json_array());
    char path[256];
    snprintf(path, sizeof path, "%s/facets.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *limburg = json_array_get(json_object_get(root, "region"), 1);
    json_object_del(limburg, "also_matches");
    json_object_del(limburg, "label");
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(2)), 0);
    json_decref(root);

    content_errors_t errs = {0};
    kb_t *kb = kb_load(RECOMMEND_KB, dir, &errs);
    remove_lang(dir);
    assert_null(kb);
    assert_int_equal(errs.count, 1);
    assert_non_null(
        strstr(errs.items[0].message, "facet value is missing \"label\""));
    assert_non_null(strstr(errs.items[0].file, "facets.json"));
    assert_true(errs.items[0].line > 1);
    content_errors_free(&errs);
}

static void test_also_matches_on_goal(void **state)
{
    (void)state;
    /* talent (value 0) also matches entries for enthousiasme. */
    char dir[] = "/tmp/stemdesk-kb-lang-XXXXXX";
    write_lang(dir, "goal", 0, json_pack("[s]", "enthousiasme"));
    content_errors_t errs = {0};
    kb_t *kb = kb_load(RECOMMEND_KB, dir, &errs);
    remove_lang(dir);
    content_errors_print(&errs, stderr);
    assert_non_null(kb);
    kb_hit_t hits[16];
    kb_filter_t talent = {.goal = "talent"};
    size_t n = search(kb, &talent, hits, 16);
    int kleuter = rank_of(hits, n, "kleuterproject");
    assert_true(kleuter > 0);
    assert_true(has_reason(&hits[kleuter], "maakt jongeren warm"));
    content_errors_free(&errs);
    kb_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_needs_every_facet),
        cmocka_unit_test(test_recommend_fills_up_by_failed_facets),
        cmocka_unit_test(test_recommend_limits_other_level),
        cmocka_unit_test(test_recommend_never_relaxes_region),
        cmocka_unit_test(test_recommend_never_relaxes_type),
        cmocka_unit_test(test_recommend_full_matches_only_when_enough),
        cmocka_unit_test(test_failed_facet_has_no_reason),
        cmocka_unit_test(test_recommend_relaxes_hours),
        cmocka_unit_test(test_recommend_orders_by_time),
        cmocka_unit_test(test_facet_value_needs_label),
        cmocka_unit_test(test_recommend_with_text),
        cmocka_unit_test(test_recommend_rejects_unknown_id),
        cmocka_unit_test(test_unknown_facet_matches_no_filter),
        cmocka_unit_test(test_level_matches_grade),
        cmocka_unit_test(test_grade_matches_level),
        cmocka_unit_test(test_broader_prefers_the_indexed_value),
        cmocka_unit_test(test_dual_matches_bso_not_aso),
        cmocka_unit_test(test_also_matches_is_checked),
        cmocka_unit_test(test_also_matches_on_goal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
