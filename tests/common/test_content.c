#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "common/content.h"

static void locate(const content_file_t *file, const char *pointer, int line,
                   int column)
{
    int got_line = 0, got_column = 0;
    content_locate(file, pointer, &got_line, &got_column);
    if (got_line != line || got_column != column)
        fail_msg("%s: expected %d:%d, got %d:%d", pointer, line, column,
                 got_line, got_column);
}

static void locate_finds_values(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    content_file_t file;
    assert_int_equal(content_file_load("fixtures/nodes.json", &file, &errs), 0);
    assert_int_equal(errs.count, 0);
    locate(&file, "", 1, 1);
    locate(&file, "/name", 2, 11);
    locate(&file, "/nodes", 3, 12);
    locate(&file, "/nodes/0", 4, 5);
    locate(&file, "/nodes/0/prompt", 4, 31);
    locate(&file, "/nodes/1/quick_replies/0/value", 8, 54);
    content_file_free(&file);
}

static void locate_falls_back_to_deepest(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    content_file_t file;
    assert_int_equal(content_file_load("fixtures/nodes.json", &file, &errs), 0);
    locate(&file, "/nodes/1/missing", 5, 5);
    locate(&file, "/nodes/9", 3, 12);
    locate(&file, "/name/deeper", 2, 11);
    content_file_free(&file);
}

static void syntax_error_has_position(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    content_file_t file;
    assert_int_equal(content_file_load("fixtures/broken.json", &file, &errs),
                     -1);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 3);
    assert_non_null(strstr(errs.items[0].message, "invalid JSON"));
    assert_null(file.root);
    content_errors_free(&errs);
}

static void missing_file_is_reported(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    content_file_t file;
    assert_int_equal(content_file_load("fixtures/none.json", &file, &errs), -1);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "cannot open file"));
    content_errors_free(&errs);
}

static void error_at_records_location(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    content_file_t file;
    assert_int_equal(content_file_load("fixtures/nodes.json", &file, &errs), 0);
    content_error_at(&errs, &file, "/nodes/1/prompt", "write a question",
                     "prompt %s is too long", "\"vraag\"");
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].file, "fixtures/nodes.json");
    assert_int_equal(errs.items[0].line, 7);
    assert_int_equal(errs.items[0].column, 17);
    assert_string_equal(errs.items[0].hint, "write a question");
    assert_string_equal(errs.items[0].message, "prompt \"vraag\" is too long");
    content_errors_free(&errs);
    content_file_free(&file);
}

static void list_json_is_sorted(void **state)
{
    (void)state;
    content_errors_t errs = {0};
    char **paths;
    size_t count;
    assert_int_equal(content_list_json("fixtures", &paths, &count, &errs), 0);
    assert_int_equal(count, 2);
    assert_string_equal(paths[0], "fixtures/broken.json");
    assert_string_equal(paths[1], "fixtures/nodes.json");
    content_list_free(paths, count);
    assert_int_equal(
        content_list_json("fixtures/absent", &paths, &count, &errs), -1);
    assert_int_equal(errs.count, 1);
    content_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(locate_finds_values),
        cmocka_unit_test(locate_falls_back_to_deepest),
        cmocka_unit_test(syntax_error_has_position),
        cmocka_unit_test(missing_file_is_reported),
        cmocka_unit_test(error_at_records_location),
        cmocka_unit_test(list_json_is_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
