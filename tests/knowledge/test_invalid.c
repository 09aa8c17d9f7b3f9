/* Validation errors as data: each folder under tests/knowledge/invalid/
 * holds a kb/ folder with a mistake and an expected.txt whose lines read
 * "file:line:column: message part". The load must fail with exactly those
 * errors, in any order. */
#include "kb_test.h"

#include <dirent.h>
#include <stdlib.h>

#define INVALID_DIR "tests/knowledge/invalid"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Returns 1 when an error matches "file:line:column: message part". */
static int matches(const content_error_t *e, const char *expected)
{
    char file[256];
    int line, column, used = 0;
    if (sscanf(expected, "%255[^:]:%d:%d: %n", file, &line, &column, &used) !=
            3 ||
        used == 0)
        return 0;
    return strcmp(base_name(e->file), file) == 0 && e->line == line &&
           e->column == column && strstr(e->message, expected + used);
}

/* Checks one case folder; returns the number of failed checks. */
static int run_case(const char *name)
{
    char kb_dir[512], path[512], line[512];
    snprintf(kb_dir, sizeof kb_dir, "%s/%s/kb", INVALID_DIR, name);
    snprintf(path, sizeof path, "%s/%s/expected.txt", INVALID_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open expected.txt\n", name);
        return 1;
    }

    content_errors_t errs = {0};
    kb_t *kb = kb_load(kb_dir, LANG_DIR, &errs);
    int failed = 0;
    size_t expected = 0;
    if (kb) {
        fprintf(stderr, "%s: the kb loaded without errors\n", name);
        failed++;
        kb_free(kb);
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        expected++;
        int found = 0;
        for (size_t i = 0; i < errs.count && !found; i++)
            found = matches(&errs.items[i], line);
        if (!found) {
            fprintf(stderr, "%s: no error matches \"%s\"\n", name, line);
            failed++;
        }
    }
    fclose(f);
    if (errs.count != expected) {
        fprintf(stderr, "%s: %zu errors, expected %zu\n", name, errs.count,
                expected);
        failed++;
    }
    if (failed)
        content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    return failed;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_invalid_cases(void **state)
{
    (void)state;
    DIR *d = opendir(INVALID_DIR);
    assert_non_null(d);
    char *names[128];
    size_t count = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL && count < 128)
        if (ent->d_name[0] != '.')
            names[count++] = strdup(ent->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, compare_names);

    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        failed += run_case(names[i]);
        free(names[i]);
    }
    assert_true(count >= 10);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
