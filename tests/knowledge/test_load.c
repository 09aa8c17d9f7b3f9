/* Loading the kb: entries, lookups, ordered listings and facet ids. */
#include "kb_test.h"

#include "knowledge/kb_private.h"

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

static void test_entry_count(void **state)
{
    assert_int_equal(kb_entry_count(*state), 11);
    assert_int_equal(kb_entry_count(NULL), 0);
}

static void test_entry_lookup(void **state)
{
    const json_t *entry = kb_entry(*state, "voedingsacademie");
    assert_non_null(entry);
    assert_string_equal(json_string_value(json_object_get(entry, "title")),
                        "Voedingsacademie");
    assert_null(kb_entry(*state, "bestaat-niet"));
    assert_null(kb_entry(*state, ""));
    assert_null(kb_entry(*state, NULL));
}

static void test_list_route_steps_by_order(void **state)
{
    const json_t *steps[8];
    size_t n = kb_list_type(*state, "route-step", steps, 8);
    assert_int_equal(n, 2);
    assert_string_equal(json_string_value(json_object_get(steps[0], "id")),
                        "stap-doel");
    assert_string_equal(json_string_value(json_object_get(steps[1], "id")),
                        "stap-partner");
}

static void test_list_respects_max(void **state)
{
    const json_t *out[2];
    assert_int_equal(kb_list_type(*state, "initiative", out, 2), 2);
    assert_int_equal(kb_list_type(*state, "checklist", out, 2), 1);
    assert_int_equal(kb_list_type(*state, "onbekend", out, 2), 0);
}

static void test_facet_values(void **state)
{
    const char *values[64];
    size_t n = kb_facet_values(*state, "region", values, 64);
    assert_int_equal(n, 8);
    assert_string_equal(values[1], "limburg");
    assert_int_equal(kb_facet_values(*state, "type", values, 64), 7);
    assert_int_equal(kb_facet_values(*state, "kleur", values, 64), 0);
}

static void test_partners_by_sector(void **state)
{
    kb_hit_t hits[4];
    size_t count;
    assert_int_equal(
        kb_find_partners(*state, "voeding", "limburg", hits, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(hits[0].id, "sectorfonds-voeding");
    assert_true(has_reason(&hits[0], "voor de voedingssector"));
}

static void test_partners_rtc_covers_brussels(void **state)
{
    kb_hit_t hits[4];
    size_t count;
    assert_int_equal(
        kb_find_partners(*state, "bouw", "brussel", hits, 4, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(hits[0].id, "rtc-vlaams-brabant");
    assert_true(has_reason(&hits[0], "in Brussel"));
}

static void test_missing_folder_is_an_error(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    kb_t *kb = kb_load("tests/knowledge/no-such-folder", LANG_DIR, &errs);
    assert_null(kb);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "cannot open folder"));
    content_errors_free(&errs);
}

static void test_missing_lang_is_an_error(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    kb_t *kb = kb_load(FIXTURE_KB, "tests/knowledge/no-such-lang", &errs);
    assert_null(kb);
    assert_true(errs.count >= 1);
    assert_non_null(strstr(errs.items[0].file, "facets.json"));
    content_errors_free(&errs);
}

static void test_utf8_copy_cuts_at_boundary(void **state)
{
    (void)state;
    char out[5];
    kb_copy_utf8(out, sizeof out, "abc\xc3\xa9z"); /* "abcéz" */
    assert_string_equal(out, "abc");
    kb_copy_utf8(out, sizeof out, "ab");
    assert_string_equal(out, "ab");
    kb_copy_utf8(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(kb_edit_distance("limburg", "limburg", 2), 0);
    assert_int_equal(kb_edit_distance("limburgg", "limburg", 2), 1);
    assert_int_equal(kb_edit_distance("lmiburg", "limburg", 2), 1);
    assert_int_equal(kb_edit_distance("antwerpen", "limburg", 2), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_count),
        cmocka_unit_test(test_entry_lookup),
        cmocka_unit_test(test_list_route_steps_by_order),
        cmocka_unit_test(test_list_respects_max),
        cmocka_unit_test(test_facet_values),
        cmocka_unit_test(test_partners_by_sector),
        cmocka_unit_test(test_partners_rtc_covers_brussels),
        cmocka_unit_test(test_missing_folder_is_an_error),
        cmocka_unit_test(test_missing_lang_is_an_error),
        cmocka_unit_test(test_utf8_copy_cuts_at_boundary),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
