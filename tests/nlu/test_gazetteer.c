/* Gazetteer coverage: every Flemish and Brussels locality of the public
 * Belgian postcode list (name, postcode, NIS code, province) must be found
 * by the entity extractor with its province. The list is not part of the
 * repository; the test is skipped when it is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nlu/entities.h"

#define POSTCODES_PATH "../shared/data/belgium-postcodes.csv"
#define MAX_ROWS 4096

/* Province names of the list and the region ids of lang/facets.json. */
static const char *const provinces[][2] = {
    {"Antwerpen", "antwerpen"},
    {"Limburg", "limburg"},
    {"Oost-Vlaanderen", "oost-vlaanderen"},
    {"Vlaams-Brabant", "vlaams-brabant"},
    {"West-Vlaanderen", "west-vlaanderen"},
    {"Brussel", "brussel"},
};

/* Localities that changed province since the list was made: Zwijndrecht
 * (with Burcht) merged into Beveren-Kruibeke-Zwijndrecht, Oost-Vlaanderen,
 * on 1 January 2025. */
static const char *const moved[][2] = {
    {"Zwijndrecht", "oost-vlaanderen"},
    {"Burcht", "oost-vlaanderen"},
};

/* Names of two localities in different provinces where the list spells
 * one of them differently: "Beveren" in Oost-Vlaanderen is listed as
 * Beveren-Waas, so the bare name is right for either province. */
static const char *const also[][2] = {
    {"Beveren", "oost-vlaanderen"},
};

typedef struct {
    char name[128];
    char region[32];
} row_t;

static const char *region_of(const char *province)
{
    for (size_t i = 0; i < sizeof provinces / sizeof *provinces; i++)
        if (strcmp(provinces[i][0], province) == 0)
            return provinces[i][1];
    return NULL;
}

/* Reads the Flemish rows of the list; returns their number. */
static size_t read_rows(FILE *f, row_t *rows, size_t max)
{
    char line[512];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) /* header */
        return 0;
    while (n < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fields[5] = {0};
        char *p = line;
        for (int i = 0; i < 5 && p; i++) {
            fields[i] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        const char *region = fields[3] ? region_of(fields[3]) : NULL;
        if (!region)
            continue;
        snprintf(rows[n].name, sizeof rows[n].name, "%s", fields[0]);
        snprintf(rows[n].region, sizeof rows[n].region, "%s", region);
        for (size_t m = 0; m < sizeof moved / sizeof *moved; m++)
            if (strcmp(rows[n].name, moved[m][0]) == 0)
                snprintf(rows[n].region, sizeof rows[n].region, "%s",
                         moved[m][1]);
        n++;
    }
    return n;
}

/* Returns 1 when another row has the same name in `region`: a name such
 * as "Ruisbroek" is a locality in two provinces, and either is right. */
static int name_in_region(const row_t *rows, size_t n, const char *name,
                          const char *region)
{
    for (size_t i = 0; i < sizeof also / sizeof *also; i++)
        if (strcmp(also[i][0], name) == 0 && strcmp(also[i][1], region) == 0)
            return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0 &&
            strcmp(rows[i].region, region) == 0)
            return 1;
    return 0;
}

static void test_gazetteer_coverage(void **state)
{
    (void)state;
    FILE *f = fopen(POSTCODES_PATH, "r");
    if (!f) {
        print_message("skipped: %s not found\n", POSTCODES_PATH);
        skip();
    }
    row_t *rows = calloc(MAX_ROWS, sizeof *rows);
    assert_non_null(rows);
    size_t n = read_rows(f, rows, MAX_ROWS);
    fclose(f);
    assert_true(n > 0);

    content_errors_t errs = {0};
    nlu_lang_t *lang = nlu_lang_load("lang", &errs);
    content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    assert_non_null(lang);

    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        char text[256];
        snprintf(text, sizeof text, "We zijn gevestigd in %s.", rows[i].name);
        nlu_entity_t e[NLU_MAX_ENTITIES];
        size_t count = nlu_extract_entities(lang, text, e, NLU_MAX_ENTITIES);
        int ok = count == 1 && e[0].kind == NLU_ENT_REGION &&
                 name_in_region(rows, n, rows[i].name, e[0].value);
        if (ok) {
            found++;
            continue;
        }
        print_error("not found: %s (%s), got %zu entities%s%s\n", rows[i].name,
                    rows[i].region, count, count ? ", first " : "",
                    count ? e[0].value : "");
    }
    print_message("gazetteer coverage: %zu of %zu Flemish and Brussels "
                  "localities (%.1f %%)\n",
                  found, n, 100.0 * (double)found / (double)n);
    nlu_lang_free(lang);
    free(rows);
    assert_int_equal(found, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gazetteer_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
