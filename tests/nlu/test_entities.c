/* Entity extraction, driven by tests/nlu/entities/cases.tsv, plus loading
 * errors of the language data.
 *
 * Each case line is: input text, a tab, and the expected entities in text
 * order, separated by " | ", each written as
 *     kind value number {span text}
 * where value and number are "-" when empty or zero, and the span is the
 * first occurrence of that text in the input. A lone "-" expects no
 * entity. Lines starting with '#' are comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "nlu/entities.h"

#define CASES_PATH "tests/nlu/entities/cases.tsv"
#define MIN_CASES 80

static nlu_lang_t *lang;

static int load_lang(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    lang = nlu_lang_load("lang", &errs);
    if (!lang)
        content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    return lang ? 0 : -1;
}

static int free_lang(void **state)
{
    (void)state;
    nlu_lang_free(lang);
    lang = NULL;
    return 0;
}

static const char *kind_name(nlu_entity_kind_t kind)
{
    static const char *const names[] = {"region", "level", "time",  "size",
                                        "sector", "goal",  "number"};
    return kind < NLU_ENT_KIND_COUNT ? names[kind] : "?";
}

/* Writes entities in the case file's notation. */
static void describe(const char *text, const nlu_entity_t *e, size_t n,
                     char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    if (n == 0)
        snprintf(out, size, "-");
    for (size_t i = 0; i < n && used < size; i++) {
        char number[32] = "-";
        if (e[i].number != 0)
            snprintf(number, sizeof number, "%g", e[i].number);
        used += (size_t)snprintf(
            out + used, size - used, "%s%s %s %s {%.*s}", i ? " | " : "",
            kind_name(e[i].kind), e[i].value[0] ? e[i].value : "-", number,
            (int)(e[i].end - e[i].start), text + e[i].start);
    }
}

/* Returns 0 when every span text of the expected column occurs in the
 * input, so that a typo in the case file is reported as such. */
static int check_spans(const char *text, const char *expected)
{
    const char *p = expected;
    while ((p = strchr(p, '{')) != NULL) {
        const char *close = strchr(p, '}');
        if (!close)
            return -1;
        char span[256];
        snprintf(span, sizeof span, "%.*s", (int)(close - p - 1), p + 1);
        if (!strstr(text, span))
            return -1;
        p = close;
    }
    return 0;
}

static void test_entity_cases(void **state)
{
    (void)state;
    FILE *f = fopen(CASES_PATH, "r");
    assert_non_null(f);
    char line[1024];
    int cases = 0, failures = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            print_error("%s:%d: missing tab\n", CASES_PATH, lineno);
            failures++;
            continue;
        }
        *tab = '\0';
        const char *text = line, *expected = tab + 1;
        cases++;
        if (check_spans(text, expected) != 0) {
            print_error("%s:%d: a span is not in the input\n", CASES_PATH,
                        lineno);
            failures++;
            continue;
        }
        nlu_entity_t got[NLU_MAX_ENTITIES];
        size_t n = nlu_extract_entities(lang, text, got, NLU_MAX_ENTITIES);
        char description[1024];
        describe(text, got, n, description, sizeof description);
        if (strcmp(description, expected) != 0) {
            print_error("%s:%d: \"%s\"\n    expected: %s\n    got:      %s\n",
                        CASES_PATH, lineno, text, expected, description);
            failures++;
        }
    }
    fclose(f);
    print_message("%d entity cases, %d failed\n", cases, failures);
    assert_true(cases >= MIN_CASES);
    assert_int_equal(failures, 0);
}

static void test_spans_are_bytes(void **state)
{
    (void)state;
    const char *text = "Één bedrijf in Sint-Niklaas";
    nlu_entity_t e[4];
    size_t n = nlu_extract_entities(lang, text, e, 4);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].kind, NLU_ENT_REGION);
    assert_string_equal(e[0].value, "oost-vlaanderen");
    assert_int_equal(e[0].start, strlen("Één bedrijf in "));
    assert_int_equal(e[0].end, strlen(text));
}

static void test_respects_max(void **state)
{
    (void)state;
    nlu_entity_t e[2];
    size_t n = nlu_extract_entities(
        lang, "3 4 5 6 7 in Gent en Brugge met 20 werknemers", e, 2);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].kind, NLU_ENT_NUMBER);
    assert_int_equal(e[1].kind, NLU_ENT_NUMBER);
    assert_int_equal(nlu_extract_entities(lang, "", e, 2), 0);
    assert_int_equal(nlu_extract_entities(lang, "Gent", e, 0), 0);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    const char text[] = "in \xff\xfe Gent \xc3 en \xe2\x82 Brugge \x80";
    nlu_entity_t e[8];
    size_t n = nlu_extract_entities(lang, text, e, 8);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].value, "oost-vlaanderen");
    assert_string_equal(e[1].value, "west-vlaanderen");
}

static void test_long_text(void **state)
{
    (void)state;
    size_t size = 200000;
    char *text = malloc(size);
    assert_non_null(text);
    size_t used = 0;
    while (used + 32 < size)
        used += (size_t)snprintf(text + used, size - used, "Gent 12 uur ");
    nlu_entity_t e[NLU_MAX_ENTITIES];
    size_t n = nlu_extract_entities(lang, text, e, NLU_MAX_ENTITIES);
    assert_int_equal(n, NLU_MAX_ENTITIES);
    for (size_t i = 1; i < n; i++)
        assert_true(e[i].start >= e[i - 1].end);
    free(text);
}

/* The classifier runs extraction on every message, so it must handle
 * thousands of messages per second; the bound is loose for sanitizers. */
static void test_extraction_speed(void **state)
{
    (void)state;
    const char *lines[] = {
        "Wij zijn een kmo uit Roeselare met 35 werknemers in de metaal",
        "We willen jongeren van 15 warm maken voor techniek, 2 uur per week",
        "Ik zoek stagiairs voor ons bedrijf in 9000 Gent",
        "da's een bakkerij in West-Vlaanderen, ge kunt ons bellen",
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nlu_entity_t e[NLU_MAX_ENTITIES];
    size_t total = 0;
    for (int i = 0; i < 2000; i++)
        total += nlu_extract_entities(lang, lines[i % 4], e, NLU_MAX_ENTITIES);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("2000 messages in %.3f s (%.0f per second)\n", seconds,
                  2000 / seconds);
    assert_true(total > 2000);
    assert_true(seconds < 10.0);
}

/* A message longer than the token arrays kept on the stack. */
static void test_long_message(void **state)
{
    (void)state;
    char text[1024] = "";
    for (int i = 0; i < 60; i++)
        strcat(text, "bla ");
    strcat(text, "wij zitten in Roeselare met 35 werknemers");
    nlu_entity_t e[NLU_MAX_ENTITIES];
    size_t n = nlu_extract_entities(lang, text, e, NLU_MAX_ENTITIES);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].kind, NLU_ENT_REGION);
    assert_string_equal(e[0].value, "west-vlaanderen");
    assert_int_equal(e[0].start, strstr(text, "Roeselare") - text);
    assert_int_equal(e[1].kind, NLU_ENT_SIZE);
    assert_true(e[1].number == 35);
    assert_int_equal(e[1].end, strlen(text));
}

/* ASCII text takes a shortcut through tokenising; accented text must give
 * the same entities. */
static void test_accents_same_entities(void **state)
{
    (void)state;
    const char *plain = "Wij zitten in Roeselare, 2 uur per week, lager "
                        "onderwijs";
    const char *accented = "Wij zitten in Roeselare, 2 uur per w\xc3\xa9\xc3"
                           "\xa9k, l\xc3\xa0ger onderwijs";
    nlu_entity_t a[NLU_MAX_ENTITIES], b[NLU_MAX_ENTITIES];
    size_t na = nlu_extract_entities(lang, plain, a, NLU_MAX_ENTITIES);
    size_t nb = nlu_extract_entities(lang, accented, b, NLU_MAX_ENTITIES);
    assert_int_equal(na, 3);
    assert_int_equal(nb, na);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(b[i].kind, a[i].kind);
        assert_string_equal(b[i].value, a[i].value);
        assert_true(b[i].number == a[i].number);
    }
}

/* Copies lang/ into a temporary folder with one file replaced. */
static char *lang_copy_with(const char *name, const char *content)
{
    static const char *const files[] = {
        "facets.json",     "synonyms.json", "cues.json",  "numbers.json",
        "quantities.json", "places.json",   "common.json"};
    char templ[] = "/tmp/stemdesk-lang-XXXXXX";
    char *dir = mkdtemp(templ);
    assert_non_null(dir);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char from[256], to[256];
        snprintf(from, sizeof from, "lang/%s", files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        FILE *out = fopen(to, "w");
        assert_non_null(out);
        if (strcmp(files[i], name) == 0) {
            fputs(content, out);
        } else {
            FILE *in = fopen(from, "r");
            assert_non_null(in);
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                fwrite(buf, 1, n, out);
            fclose(in);
        }
        fclose(out);
    }
    return strdup(dir);
}

static void remove_copy(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void test_unknown_facet_id(void **state)
{
    (void)state;
    char *dir = lang_copy_with(
        "synonyms.json", "{\n  \"sector\": {\n    \"voeding\": [\"brood\"],"
                         "\n    \"ruimtevaart\": [\"raketten\"]\n  }\n}\n");
    content_errors_t errs = {0};
    nlu_lang_t *bad = nlu_lang_load(dir, &errs);
    assert_null(bad);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].file, "synonyms.json"));
    assert_int_equal(errs.items[0].line, 4);
    assert_int_equal(errs.items[0].column, 20);
    assert_non_null(strstr(errs.items[0].message, "ruimtevaart"));
    assert_non_null(strstr(errs.items[0].hint, "voeding"));
    content_errors_free(&errs);
    remove_copy(dir);
}

static void test_invalid_json_position(void **state)
{
    (void)state;
    char *dir =
        lang_copy_with("numbers.json", "{\n  \"words\": {\"twee\" 2}\n}\n");
    content_errors_t errs = {0};
    assert_null(nlu_lang_load(dir, &errs));
    assert_true(errs.count >= 1);
    assert_int_equal(errs.items[0].line, 2);
    content_errors_free(&errs);
    remove_copy(dir);
}

static void test_invalid_phrase_type(void **state)
{
    (void)state;
    char *dir =
        lang_copy_with("places.json", "{\"municipalities\": {\"limburg\": "
                                      "{\"Genk\": [12]}},\n\"postcodes\": "
                                      "[{\"from\": 3500, \"to\": 3999, "
                                      "\"region\": \"limburg\"}]}\n");
    content_errors_t errs = {0};
    assert_null(nlu_lang_load(dir, &errs));
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "expected a string"));
    assert_int_equal(errs.items[0].line, 1);
    content_errors_free(&errs);
    remove_copy(dir);
}

static void test_missing_folder(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    assert_null(nlu_lang_load("/nonexistent/lang", &errs));
    assert_true(errs.count >= 1);
    content_errors_free(&errs);
}

static void test_fill_lexicon(void **state)
{
    (void)state;
    nlu_lexicon_t *lex = nlu_lexicon_new();
    assert_non_null(lex);
    assert_int_equal(nlu_lang_fill_lexicon(lang, lex), 0);
    assert_true(nlu_lexicon_has(lex, "hogeschool"));
    assert_true(nlu_lexicon_has(lex, "roeselare"));
    assert_true(nlu_lexicon_has(lex, "twintig"));
    assert_true(nlu_lexicon_has(lex, "uurtje"));
    char out[64];
    assert_int_equal(nlu_lexicon_correct(lex, "hogeschol", out, sizeof out), 1);
    assert_string_equal(out, "hogeschool");
    nlu_lexicon_free(lex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entity_cases),
        cmocka_unit_test(test_spans_are_bytes),
        cmocka_unit_test(test_respects_max),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_extraction_speed),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_accents_same_entities),
        cmocka_unit_test(test_unknown_facet_id),
        cmocka_unit_test(test_invalid_json_position),
        cmocka_unit_test(test_invalid_phrase_type),
        cmocka_unit_test(test_missing_folder),
        cmocka_unit_test(test_fill_lexicon),
    };
    return cmocka_run_group_tests(tests, load_lang, free_lang);
}
