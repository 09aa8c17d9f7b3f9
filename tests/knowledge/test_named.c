/* Finding an entry that the text names by title or alias. */
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

typedef struct {
    const char *text;
    const char *expect; /* NULL: nothing is named */
} named_t;

static const named_t cases[] = {
    {"Wat is de Voedingsacademie?", "voedingsacademie"},
    {"wat is de voedingsacademie", "voedingsacademie"},
    {"VOEDINGSACADEMIE", "voedingsacademie"},
    {"de voedingsacadmie", "voedingsacademie"},  /* one letter missing */
    {"de voedingsacademei", "voedingsacademie"}, /* two letters swapped */
    {"de voedingsakkademie", NULL},              /* two edits */
    {"Vertel me over STEM-ambassadeurs", "stem-ambassadeurs"},
    {"stem ambassadeurs", "stem-ambassadeurs"},
    {"stemambassadeurs", "stem-ambassadeurs"},
    {"het ambassadeursprogramma", "stem-ambassadeurs"},
    {"de Open Bedrijvendag Limburg", "open-bedrijvendag-limburg"},
    {"bedrijvendag limburg", "open-bedrijvendag-limburg"},
    {"Technieklab Brussel", "brusselse-technieklab"},
    {"technieklab brusel", "brusselse-technieklab"},
    {"het RTC Vlaams-Brabant", "rtc-vlaams-brabant"},
    {"rtc vlaams brabant", "rtc-vlaams-brabant"},
    {"énergiehackathon", "hackathon-energie"},
    {"ik zoek een stage", NULL},
    {"limburg", NULL},
    {"", NULL},
};

static void test_named_table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[KB_ID_MAX] = "";
        int found = kb_find_named(*state, cases[i].text, id, sizeof id);
        if (!cases[i].expect) {
            if (found)
                fail_msg("case %zu (\"%s\") named %s", i, cases[i].text, id);
            continue;
        }
        if (!found)
            fail_msg("case %zu (\"%s\") named nothing", i, cases[i].text);
        if (strcmp(id, cases[i].expect) != 0)
            fail_msg("case %zu (\"%s\") named %s, expected %s", i,
                     cases[i].text, id, cases[i].expect);
    }
}

static void test_short_name_needs_exact(void **state)
{
    /* "RTC" alone is not a name; a typo in a name under six letters is
     * never accepted. */
    char id[KB_ID_MAX];
    assert_int_equal(kb_find_named(*state, "rtc", id, sizeof id), 0);
}

static void test_id_is_truncated_safely(void **state)
{
    char id[5];
    assert_int_equal(kb_find_named(*state, "voedingsacademie", id, sizeof id),
                     1);
    assert_string_equal(id, "voed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_table),
        cmocka_unit_test(test_short_name_needs_exact),
        cmocka_unit_test(test_id_is_truncated_safely),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
