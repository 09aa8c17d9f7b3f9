/* Hostile queries: any text a visitor types is a valid query. None may
 * give an error, and words around the syntax still find their entry. */
#include "kb_test.h"

#include <stdlib.h>

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

typedef struct {
    const char *text;
    const char *expect; /* id in the hits, or NULL for any result */
} hostile_t;

static const hostile_t cases[] = {
    {"\"", NULL},
    {"\"\"\"", NULL},
    {"\"gastles", "stem-ambassadeurs"},
    {"gastles\"", "stem-ambassadeurs"},
    {"*", NULL},
    {"gast*", NULL},
    {"gastles*", "stem-ambassadeurs"},
    {"^gastles", "stem-ambassadeurs"},
    {"(", NULL},
    {"(gastles", "stem-ambassadeurs"},
    {"gastles)", "stem-ambassadeurs"},
    {"((()))", NULL},
    {"NEAR", NULL},
    {"NEAR(gastles stage, 2)", "stem-ambassadeurs"},
    {"gastles AND", "stem-ambassadeurs"},
    {"OR gastles", "stem-ambassadeurs"},
    {"NOT", NULL},
    {"gastles NOT stage", "stem-ambassadeurs"},
    {"AND OR NOT NEAR", NULL},
    {"title:gastles", "stem-ambassadeurs"},
    {"{title keywords}: gastles", "stem-ambassadeurs"},
    {"- gastles", "stem-ambassadeurs"},
    {"+ stage", "voedingsacademie"},
    {":", NULL},
    {"'; DROP TABLE kb_fts; --", NULL},
    {"gastles'", "stem-ambassadeurs"},
    {"\\\"gastles\\\"", "stem-ambassadeurs"},
    {"   ", NULL},
    {"", NULL},
    {"\t\n\r", NULL},
    {"robotica \xff\xfe", "brusselse-technieklab"},
    {"\xc3", NULL},
    {"\xe2\x82", NULL},
    {"\x80\x80 robotica \x80", "brusselse-technieklab"},
    {"\xf0\x9f\x98\x80 robotica", "brusselse-technieklab"},
    {"ｒｏｂｏｔｉｃａ", NULL},
    {"stage stage stage stage stage", "voedingsacademie"},
    {"0 1 2 3 4 5 6 7 8 9", NULL},
};

static void test_hostile_table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kb_hit_t hits[8];
        size_t count = 99;
        int rc = kb_search(*state, cases[i].text, NULL, hits, 8, &count);
        if (rc != 0)
            fail_msg("case %zu returned %d", i, rc);
        assert_true(count <= 8);
        if (cases[i].expect && rank_of(hits, count, cases[i].expect) < 0)
            fail_msg("case %zu did not find %s", i, cases[i].expect);
    }
}

static void test_hostile_with_filters(void **state)
{
    kb_filter_t filter = {
        .type = "initiative", .region = "limburg", .max_hours_per_month = 3};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kb_hit_t hits[8];
        size_t count = 99;
        assert_int_equal(
            kb_search(*state, cases[i].text, &filter, hits, 8, &count), 0);
    }
}

static void test_four_kilobytes(void **state)
{
    char *text = malloc(4097);
    assert_non_null(text);
    for (size_t i = 0; i < 4096; i++)
        text[i] = "gastles \"*(:)^"[i % 14];
    text[4096] = '\0';
    kb_hit_t hits[8];
    size_t count = 99;
    assert_int_equal(kb_search(*state, text, NULL, hits, 8, &count), 0);
    assert_true(rank_of(hits, count, "stem-ambassadeurs") >= 0);

    /* Many distinct words: only the first ones are used, never an error. */
    size_t used = 0;
    for (int w = 0; used + 16 < 4096; w++)
        used += (size_t)snprintf(text + used, 4097 - used, "woord%d ", w);
    assert_int_equal(kb_search(*state, text, NULL, hits, 8, &count), 0);
    free(text);
}

static void test_random_bytes(void **state)
{
    unsigned seed = 12345;
    char text[256];
    for (int round = 0; round < 500; round++) {
        size_t len = (size_t)(round % 255);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = (char)((seed >> 16) % 255 + 1);
        }
        text[len] = '\0';
        kb_hit_t hits[4];
        size_t count;
        assert_int_equal(kb_search(*state, text, NULL, hits, 4, &count), 0);
        for (size_t h = 0; h < count; h++)
            for (size_t r = 0; r < hits[h].reason_count; r++)
                assert_true(strlen(hits[h].reasons[r]) < KB_REASON_MAX);
    }
}

static void test_named_with_hostile_text(void **state)
{
    char id[KB_ID_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        kb_find_named(*state, cases[i].text, id, sizeof id);
    assert_int_equal(kb_find_named(*state, "", id, sizeof id), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_table),
        cmocka_unit_test(test_hostile_with_filters),
        cmocka_unit_test(test_four_kilobytes),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_named_with_hostile_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
