#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* Redirects stderr to a temporary file, runs one log call, returns the text. */
static void capture(log_level_t level, const char *message, char *out,
                    size_t size)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(fileno(stderr));
    dup2(fileno(tmp), fileno(stderr));
    log_write(level, "test", "%s conversation=%d", message, 42);
    fflush(stderr);
    dup2(saved, fileno(stderr));
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

static void line_has_time_level_component(void **state)
{
    (void)state;
    char text[512];
    log_set_level(LOG_LEVEL_INFO);
    capture(LOG_LEVEL_WARN, "slow commit", text, sizeof text);
    assert_non_null(strstr(text, "warn "));
    assert_non_null(strstr(text, "[test] slow commit conversation=42\n"));
    assert_true(text[4] == '-' && text[10] == 'T');
    assert_non_null(strchr(text, 'Z'));
}

static void level_filters_lines(void **state)
{
    (void)state;
    char text[512];
    log_set_level(LOG_LEVEL_WARN);
    capture(LOG_LEVEL_INFO, "hidden", text, sizeof text);
    assert_string_equal(text, "");
    log_set_level(LOG_LEVEL_OFF);
    capture(LOG_LEVEL_ERROR, "hidden", text, sizeof text);
    assert_string_equal(text, "");
    log_set_level(LOG_LEVEL_INFO);
}

static void level_names_parse(void **state)
{
    (void)state;
    log_level_t level;
    assert_int_equal(log_level_parse("debug", &level), 0);
    assert_int_equal(level, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("error", &level), 0);
    assert_int_equal(level, LOG_LEVEL_ERROR);
    assert_int_equal(log_level_parse("verbose", &level), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_time_level_component),
        cmocka_unit_test(level_filters_lines),
        cmocka_unit_test(level_names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
