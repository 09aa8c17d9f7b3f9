/* Parts of the server that need no socket: office hours and the metrics
 * text, on a real store file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/server_internal.h"

/* 2026-03-02 is a Monday; times are UTC with TZ set to UTC below. */
#define MONDAY_0859 1772441940LL
#define MONDAY_0900 1772442000LL
#define MONDAY_1659 1772470740LL
#define MONDAY_1700 1772470800LL
#define SATURDAY_1000 1772877600LL

static void test_office_hours(void **state)
{
    (void)state;
    cfg_t cfg;
    cfg_defaults(&cfg);
    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(srv_office_open(&cfg, MONDAY_0859), 0);
    assert_int_equal(srv_office_open(&cfg, MONDAY_0900), 1);
    assert_int_equal(srv_office_open(&cfg, MONDAY_1659), 1);
    assert_int_equal(srv_office_open(&cfg, MONDAY_1700), 0);
    assert_int_equal(srv_office_open(&cfg, SATURDAY_1000), 0);

    json_decref(cfg.office_hours);
    cfg.office_hours = json_pack("{s:[ss]}", "sat", "09:30", "12:00");
    assert_int_equal(srv_office_open(&cfg, SATURDAY_1000), 1);
    assert_int_equal(srv_office_open(&cfg, MONDAY_0900), 0);
    json_decref(cfg.office_hours);
    cfg.office_hours = json_pack("{s:[ss]}", "sat", "nine", "12:00");
    assert_int_equal(srv_office_open(&cfg, SATURDAY_1000), 0);
    cfg_free(&cfg);
}

static void test_metrics_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/stemdesk-server-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], err[256] = "";
    snprintf(path, sizeof path, "%s/m.db", dir);

    srv_t *srv = calloc(1, sizeof *srv);
    srv->store = store_open(path, err, sizeof err);
    assert_non_null(srv->store);
    srv->metrics.turns = 7;
    srv_metrics_error(srv, "invalid_json");
    srv_metrics_error(srv, "invalid_json");
    srv_metrics_error(srv, "no_such_code");
    srv_metrics_latency(srv, 0.0004);
    srv_metrics_latency(srv, 0.003);
    srv_metrics_latency(srv, 2.0);

    char *text = srv_metrics_render(srv);
    assert_non_null(text);
    assert_non_null(strstr(text, "stemdesk_turns_total 7\n"));
    assert_non_null(
        strstr(text, "stemdesk_errors_total{code=\"invalid_json\"} 2\n"));
    assert_non_null(strstr(text, "stemdesk_errors_total{code=\"other\"} 1\n"));
    assert_non_null(strstr(
        text, "stemdesk_turn_latency_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(
        strstr(text, "stemdesk_turn_latency_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(
        strstr(text, "stemdesk_turn_latency_seconds_bucket{le=\"1\"} 2\n"));
    assert_non_null(
        strstr(text, "stemdesk_turn_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "stemdesk_turn_latency_seconds_count 3\n"));
    assert_non_null(strstr(text, "# TYPE stemdesk_turn_latency_seconds "
                                 "histogram\n"));
    free(text);

    store_close(srv->store);
    free(srv);
    char command[96];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_office_hours),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
