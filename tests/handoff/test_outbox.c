/* The partner outbox against real SQLite files and a real HTTP receiver on
 * loopback: retries with backoff, failure after the last attempt, and a
 * request that arrives exactly once after the receiver comes up, across a
 * restart of the process that delivers it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "handoff/assign.h"
#include "handoff/outbox.h"
#include "store/handoff.h"
#include "store/store_sqlite.h"
#include "receiver.h"

typedef struct {
    char dir[64];
    char db_path[128];
    store_t *store;
    char conversation[STORE_CONVERSATION_ID_SIZE];
    int port;
    json_t *partners;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    store_conversation_t conv;
    char token[STORE_TOKEN_SIZE];
    char err[256] = "";
    char url[96];

    snprintf(f->dir, sizeof f->dir, "/tmp/stemdesk-outbox-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db_path, sizeof f->db_path, "%s/desk.db", f->dir);
    f->store = store_open(f->db_path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(
        store_conversation_create(f->store, 1000, 999999, &conv, token), 0);
    snprintf(f->conversation, sizeof f->conversation, "%s", conv.id);
    store_conversation_clear(&conv);

    f->port = receiver_free_port();
    assert_true(f->port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", f->port);
    f->partners = json_pack("{s:{s:s}}", "vlaio", "url", url);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char path[160];

    store_close(f->store);
    json_decref(f->partners);
    snprintf(path, sizeof path, "%s/desk.db", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/desk.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/desk.db-shm", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static long long enqueue(fixture_t *f)
{
    json_t *effect =
        json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "type", "partner", "partner",
                  "vlaio", "reason", "out_of_scope", "slots", "region",
                  "antwerpen", "sector", "chemie");
    long long id = handoff_outbox_enqueue(f->store, f->conversation, effect,
                                          receiver_now_ms());
    json_decref(effect);
    assert_true(id > 0);
    return id;
}

/* Reads state and attempts of an outbox row. */
static void row_status(fixture_t *f, long long id, char *state, size_t size,
                       int *attempts)
{
    sqlite3_stmt *stmt = NULL;

    assert_int_equal(sqlite3_prepare_v2(store_sqlite_handle(f->store),
                                        "SELECT state, attempts FROM "
                                        "partner_outbox WHERE id = ?",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, id);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(state, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    *attempts = sqlite3_column_int(stmt, 1);
    sqlite3_finalize(stmt);
}

/* Waits up to `timeout_ms` for the row to reach `want`. */
static int wait_for_state(fixture_t *f, long long id, const char *want,
                          int min_attempts, int timeout_ms)
{
    long long until = receiver_now_ms() + timeout_ms;
    char state[16];
    int attempts;

    do {
        row_status(f, id, state, sizeof state, &attempts);
        if (strcmp(state, want) == 0 && attempts >= min_attempts)
            return 0;
        usleep(20000);
    } while (receiver_now_ms() < until);
    return -1;
}

static handoff_outbox_options_t options(fixture_t *f, int max_attempts,
                                        long long backoff_ms)
{
    handoff_outbox_options_t o = {.db_path = f->db_path,
                                  .partners = f->partners,
                                  .max_attempts = max_attempts,
                                  .backoff_ms = backoff_ms,
                                  .timeout_ms = 2000};
    return o;
}

static void backoff_schedule_doubles(void **state)
{
    (void)state;
    assert_int_equal(handoff_backoff_ms(1, 5000), 5000);
    assert_int_equal(handoff_backoff_ms(2, 5000), 10000);
    assert_int_equal(handoff_backoff_ms(3, 5000), 20000);
    assert_int_equal(handoff_backoff_ms(8, 5000), 640000);
    assert_int_equal(handoff_backoff_ms(40, 5000), 86400000);
    assert_int_equal(handoff_backoff_ms(1, 0), 1);
}

static void body_carries_no_contact_without_consent(void **state)
{
    json_t *effect = json_pack("{s:s,s:s,s:s,s:s}", "type", "partner",
                               "partner", "vlaio", "email", "an@example.be",
                               "question", "Kunnen jullie helpen?");
    char *text = handoff_partner_body("abc", effect, 1000);
    json_t *body = json_loads(text, 0, NULL);

    (void)state;
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "partner")),
                        "vlaio");
    assert_string_equal(
        json_string_value(json_object_get(body, "conversation")), "abc");
    assert_true(json_is_true(json_object_get(body, "consent")));
    assert_null(json_object_get(body, "email"));
    assert_null(json_object_get(body, "question"));
    json_decref(body);
    free(text);

    json_object_set_new(effect, "contact_consent", json_true());
    text = handoff_partner_body("abc", effect, 1000);
    body = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "email")),
                        "an@example.be");
    assert_non_null(json_object_get(body, "question"));
    json_decref(body);
    free(text);

    json_object_del(effect, "partner");
    assert_null(handoff_partner_body("abc", effect, 1000));
    json_decref(effect);
}

static void retries_until_delivered(void **state)
{
    fixture_t *f = *state;
    receiver_t receiver = {.statuses = {500, 503, 200}};
    handoff_outbox_options_t o = options(f, 5, 100);
    char err[256] = "";
    handoff_outbox_t *outbox;
    long long id;

    assert_int_equal(receiver_start(&receiver, f->port), 0);
    id = enqueue(f);
    outbox = handoff_outbox_start(&o, err, sizeof err);
    assert_non_null(outbox);
    assert_int_equal(wait_for_state(f, id, "delivered", 3, 10000), 0);
    handoff_outbox_stop(outbox);
    receiver_stop(&receiver);

    assert_int_equal(receiver.count, 3);
    /* The waits after the first and second failure are 100 and 200 ms. */
    assert_true(receiver.arrived_ms[1] - receiver.arrived_ms[0] >= 100);
    assert_true(receiver.arrived_ms[2] - receiver.arrived_ms[1] >= 200);
    /* Every attempt carries the same idempotency key. */
    assert_int_equal(strlen(receiver.keys[0]), 32);
    assert_string_equal(receiver.keys[0], receiver.keys[2]);
}

static void marks_failed_after_last_attempt(void **state)
{
    fixture_t *f = *state;
    receiver_t receiver = {.statuses = {500, 500, 500, 500, 500}};
    handoff_outbox_options_t o = options(f, 3, 50);
    char err[256] = "";
    json_t *failed = NULL;
    handoff_outbox_t *outbox;
    long long id;

    assert_int_equal(receiver_start(&receiver, f->port), 0);
    id = enqueue(f);
    outbox = handoff_outbox_start(&o, err, sizeof err);
    assert_non_null(outbox);
    assert_int_equal(wait_for_state(f, id, "failed", 3, 10000), 0);
    usleep(300000);
    handoff_outbox_stop(outbox);
    receiver_stop(&receiver);
    assert_int_equal(receiver.count, 3);

    assert_int_equal(store_outbox_list(f->store, "failed", &failed), 0);
    assert_int_equal(json_array_size(failed), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(failed, 0), "last_error")),
                        "HTTP status 500");
    json_decref(failed);

    /* A retry from the console puts it back to pending, counted anew. */
    assert_int_equal(store_outbox_retry(f->store, id, receiver_now_ms()), 0);
    assert_int_equal(store_outbox_retry(f->store, id, receiver_now_ms()), 1);
}

/* Runs the outbox in a child process until the parent kills it, as the
 * server does between two starts. */
static pid_t spawn_worker(fixture_t *f, long long backoff_ms)
{
    pid_t pid = fork();

    if (pid == 0) {
        handoff_outbox_options_t o = options(f, 50, backoff_ms);
        char err[256] = "";
        log_set_level(LOG_LEVEL_ERROR);
        if (!handoff_outbox_start(&o, err, sizeof err))
            _exit(3);
        for (;;)
            pause();
    }
    return pid;
}

static void stop_worker(pid_t pid)
{
    int status = 0;

    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void delivers_once_across_restart(void **state)
{
    fixture_t *f = *state;
    receiver_t receiver = {0};
    char status[16];
    int attempts;
    long long id = enqueue(f);
    pid_t worker;

    /* First run: the receiver is down, so every attempt fails. */
    worker = spawn_worker(f, 100);
    assert_true(worker > 0);
    assert_int_equal(wait_for_state(f, id, "pending", 2, 10000), 0);
    stop_worker(worker);
    row_status(f, id, status, sizeof status, &attempts);
    assert_string_equal(status, "pending");

    /* The receiver comes up while no worker runs. */
    assert_int_equal(receiver_start(&receiver, f->port), 0);
    usleep(300000);
    assert_int_equal(receiver_count(&receiver), 0);

    /* Second run picks the pending row up and delivers it once. */
    worker = spawn_worker(f, 100);
    assert_true(worker > 0);
    assert_int_equal(wait_for_state(f, id, "delivered", attempts + 1, 15000),
                     0);
    usleep(500000);
    stop_worker(worker);
    receiver_stop(&receiver);

    assert_int_equal(receiver.count, 1);
    {
        json_t *body = json_loads(receiver.bodies[0], 0, NULL);
        assert_non_null(body);
        assert_string_equal(
            json_string_value(json_object_get(body, "conversation")),
            f->conversation);
        assert_string_equal(
            json_string_value(json_object_get(body, "request_id")),
            receiver.keys[0]);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(body, "slots"), "region")),
                            "antwerpen");
        json_decref(body);
    }
}

static void unknown_partner_fails(void **state)
{
    fixture_t *f = *state;
    json_t *effect =
        json_pack("{s:s,s:s}", "type", "partner", "partner", "no-such-partner");
    handoff_outbox_options_t o = options(f, 2, 20);
    char err[256] = "";
    handoff_outbox_t *outbox;
    long long id = handoff_outbox_enqueue(f->store, f->conversation, effect,
                                          receiver_now_ms());

    json_decref(effect);
    assert_true(id > 0);
    outbox = handoff_outbox_start(&o, err, sizeof err);
    assert_non_null(outbox);
    assert_int_equal(wait_for_state(f, id, "failed", 2, 5000), 0);
    handoff_outbox_stop(outbox);
}

static void erased_conversation_drops_request(void **state)
{
    fixture_t *f = *state;
    json_t *pending = NULL;

    enqueue(f);
    assert_int_equal(store_outbox_list(f->store, "pending", &pending), 0);
    assert_int_equal(json_array_size(pending), 1);
    json_decref(pending);
    assert_int_equal(store_erase(f->store, f->conversation), 0);
    assert_int_equal(store_outbox_list(f->store, "pending", &pending), 0);
    assert_int_equal(json_array_size(pending), 0);
    json_decref(pending);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_schedule_doubles),
        cmocka_unit_test(body_carries_no_contact_without_consent),
        cmocka_unit_test_setup_teardown(retries_until_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(marks_failed_after_last_attempt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(delivers_once_across_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_partner_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(erased_conversation_drops_request,
                                        setup, teardown),
    };
    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
