#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

static char temp_path[64];

static const char *write_temp(const char *text)
{
    snprintf(temp_path, sizeof temp_path, "/tmp/stemdesk-cfg-XXXXXX");
    int fd = mkstemp(temp_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return temp_path;
}

static void defaults_are_set(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    assert_string_equal(cfg.listen, "127.0.0.1");
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.db_path, "./var/stemdesk.db");
    assert_int_equal(cfg.max_frame_bytes, 16384);
    assert_int_equal(cfg.retention_days, 180);
    assert_true(json_is_object(cfg.office_hours));
    cfg_free(&cfg);
}

static void file_overrides_defaults(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    char err[256] = "";
    const char *path = write_temp("{\"port\": 9090, \"kb_dir\": \"/srv/kb\","
                                  " \"allowed_origins\": [\"https://a.be\"]}");
    assert_int_equal(cfg_load_file(&cfg, path, err, sizeof err), 0);
    assert_int_equal(cfg.port, 9090);
    assert_string_equal(cfg.kb_dir, "/srv/kb");
    assert_int_equal(json_array_size(cfg.allowed_origins), 1);
    unlink(path);
    cfg_free(&cfg);
}

static void file_errors_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        {"{\"portt\": 1}", "unknown setting \"portt\""},
        {"{\"port\": \"80\"}", "port has the wrong type; expected a whole"},
        {"{\"port\": 0}", "port is 0; expected a whole number from 1"},
        {"{\"allowed_origins\": [1]}", "allowed_origins[0] is not a string"},
        {"[1, 2]", "expected a JSON object of settings"},
        {"{\"port\": ", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg_t cfg;
        cfg_defaults(&cfg);
        char err[256] = "";
        const char *path = write_temp(cases[i].text);
        assert_int_equal(cfg_load_file(&cfg, path, err, sizeof err), -1);
        if (!strstr(err, cases[i].expected))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
                     cases[i].expected);
        unlink(path);
        cfg_free(&cfg);
    }
}

static void missing_file_is_an_error(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    char err[256] = "";
    assert_int_equal(
        cfg_load_file(&cfg, "/nonexistent/stemdesk.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read config file"));
    cfg_free(&cfg);
}

static void flags_set_values(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    char err[256] = "";
    assert_int_equal(cfg_set(&cfg, "max-frame-bytes", "32768", err, sizeof err),
                     0);
    assert_int_equal(cfg.max_frame_bytes, 32768);
    assert_int_equal(cfg_set(&cfg, "max-frame-bytes", "4096", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "--max-frame-bytes is 4096; expected a whole "
                                "number from 16384"));
    assert_int_equal(cfg_set(&cfg, "allowed-origins", "https://a.be,http://b",
                             err, sizeof err),
                     0);
    assert_int_equal(json_array_size(cfg.allowed_origins), 2);
    assert_int_equal(cfg_set(&cfg, "no-such-flag", "1", err, sizeof err), 1);
    assert_int_equal(cfg_set(&cfg, "port", "12ab", err, sizeof err), -1);
    assert_non_null(strstr(err, "\"12ab\" is not a whole number"));
    assert_int_equal(cfg_set(&cfg, "partners", "[]", err, sizeof err), -1);
    cfg_free(&cfg);
}

static void cli_parse_orders_config_before_flags(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *path = write_temp("{\"port\": 9090}");
    const char *debug = NULL;
    cli_flag_t flags[] = {{"debug", NULL, "show details", &debug}};
    char *argv[] = {"--port",     "7000",    "--config",
                    (char *)path, "--debug", "hello"};
    const char *positional[2];
    size_t count = 0;
    assert_int_equal(cli_parse(&cfg, "test", "usage", 6, argv, flags, 1,
                               positional, 2, &count),
                     0);
    assert_int_equal(cfg.port, 7000);
    assert_non_null(debug);
    assert_int_equal(count, 1);
    assert_string_equal(positional[0], "hello");
    unlink(path);
    cfg_free(&cfg);
}

static void cli_parse_rejects_bad_arguments(void **state)
{
    (void)state;
    char *unknown[] = {"--nope", "1"};
    char *missing[] = {"--port"};
    char *level[] = {"--log-level", "loud"};
    char *extra[] = {"stray"};
    struct {
        char **argv;
        int argc;
    } cases[] = {{unknown, 2}, {missing, 1}, {level, 2}, {extra, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg_t cfg;
        cfg_defaults(&cfg);
        size_t count = 0;
        assert_int_equal(cli_parse(&cfg, "test", "usage", cases[i].argc,
                                   cases[i].argv, NULL, 0, NULL, 0, &count),
                         2);
        cfg_free(&cfg);
    }
}

static void validate_rejects_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *flag;
        const char *value;
        const char *expected;
    } cases[] = {
        {"office-hours", "{\"mon\": [\"9:00\", \"17:00\"]}",
         "office_hours.mon: expected"},
        {"office-hours", "{\"maandag\": [\"09:00\", \"17:00\"]}",
         "unknown day \"maandag\""},
        {"office-hours", "{\"fri\": [\"17:00\", \"09:00\"]}",
         "opening time is not before closing time"},
        {"office-hours", "{\"sat\": [\"09:00\", \"24:30\"]}",
         "office_hours.sat: expected"},
        {"timezone", "Europe/Brusel", "is not a known time zone"},
        {"timezone", "../etc/passwd", "is not a known time zone"},
        {"allowed-origins", "www.example.be", "is not an origin"},
        {"partners", "{\"rtc\": {\"url\": \"ftp://x\"}}",
         "partners.rtc: expected"},
        {"partners", "{\"rtc\": \"http://x\"}", "partners.rtc: expected"},
        {"db-synchronous", "maybe",
         "db_synchronous (--db-synchronous) is \"maybe\"; expected \"full\""},
        {"event-loop", "kqueue", "event_loop (--event-loop) is \"kqueue\""},
        {"listen", "nosuchhost", "neither an IP address nor a network"},
        {"listen", "127.0.0.1:80", "give the address alone"},
        {"listen", "localhost", "give its address, 127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cfg_t cfg;
        cfg_defaults(&cfg);
        char err[256] = "";
        assert_int_equal(cfg_validate(&cfg, err, sizeof err), 0);
        assert_int_equal(
            cfg_set(&cfg, cases[i].flag, cases[i].value, err, sizeof err), 0);
        assert_int_equal(cfg_validate(&cfg, err, sizeof err), -1);
        if (!strstr(err, cases[i].expected))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
                     cases[i].expected);
        cfg_free(&cfg);
    }
}

static void unknown_option_gets_nearest(void **state)
{
    (void)state;
    const char *debug = NULL;
    cli_flag_t flags[] = {{"debug", NULL, "show details", &debug}};
    char nearest[64];
    assert_int_equal(
        cli_nearest_option("prot", flags, 1, nearest, sizeof nearest), 1);
    assert_string_equal(nearest, "port");
    assert_int_equal(
        cli_nearest_option("dbpath", flags, 1, nearest, sizeof nearest), 1);
    assert_string_equal(nearest, "db-path");
    assert_int_equal(
        cli_nearest_option("debgu", flags, 1, nearest, sizeof nearest), 1);
    assert_string_equal(nearest, "debug");
    assert_int_equal(
        cli_nearest_option("conifg", flags, 1, nearest, sizeof nearest), 1);
    assert_string_equal(nearest, "config");
    assert_int_equal(
        cli_nearest_option("xyzzy", flags, 1, nearest, sizeof nearest), 0);
}

static void validate_accepts_addresses(void **state)
{
    (void)state;
    static const char *const good[] = {"127.0.0.1", "0.0.0.0", "::1", "lo"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cfg_t cfg;
        cfg_defaults(&cfg);
        char err[256] = "";
        assert_int_equal(cfg_set(&cfg, "listen", good[i], err, sizeof err), 0);
        if (cfg_validate(&cfg, err, sizeof err) != 0)
            fail_msg("listen %s: %s", good[i], err);
        cfg_free(&cfg);
    }
}

static void validate_accepts_whole_week(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    char err[256] = "";
    assert_int_equal(cfg_set(&cfg, "office-hours",
                             "{\"sun\": [\"00:00\", \"24:00\"]}", err,
                             sizeof err),
                     0);
    assert_int_equal(cfg_set(&cfg, "partners",
                             "{\"rtc\": {\"url\": \"http://127.0.0.1:9/\"}}",
                             err, sizeof err),
                     0);
    assert_int_equal(cfg_validate(&cfg, err, sizeof err), 0);
    cfg_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_set),
        cmocka_unit_test(file_overrides_defaults),
        cmocka_unit_test(file_errors_name_the_key),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(flags_set_values),
        cmocka_unit_test(cli_parse_orders_config_before_flags),
        cmocka_unit_test(cli_parse_rejects_bad_arguments),
        cmocka_unit_test(validate_rejects_bad_values),
        cmocka_unit_test(validate_accepts_whole_week),
        cmocka_unit_test(unknown_option_gets_nearest),
        cmocka_unit_test(validate_accepts_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
