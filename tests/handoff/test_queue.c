/* Rows of the advisor queue, internal notes and callback requests on a
 * real SQLite file, and their erasure with the conversation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "store/accounts.h"
#include "store/handoff.h"

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
    char conversation[STORE_CONVERSATION_ID_SIZE];
    long long an;
    long long bert;
} fixture_t;

static long long add_advisor(fixture_t *f, const char *name)
{
    char err[256] = "";
    store_account_t account;

    assert_int_equal(store_account_add(f->store, name, "correct horse battery",
                                       NULL, STORE_ROLE_ADVISOR, 1, err,
                                       sizeof err),
                     0);
    assert_int_equal(
        store_account_verify(f->store, name, "correct horse battery", &account),
        0);
    return account.id;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    store_conversation_t conv;
    char token[STORE_TOKEN_SIZE];
    char err[256] = "";

    snprintf(f->dir, sizeof f->dir, "/tmp/stemdesk-queue-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/desk.db", f->dir);
    f->store = store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(
        store_conversation_create(f->store, 1000, 999999, &conv, token), 0);
    snprintf(f->conversation, sizeof f->conversation, "%s", conv.id);
    store_conversation_clear(&conv);
    f->an = add_advisor(f, "an");
    f->bert = add_advisor(f, "bert");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char path[160];

    store_close(f->store);
    unlink(f->path);
    snprintf(path, sizeof path, "%s-wal", f->path);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", f->path);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void escalate(fixture_t *f)
{
    json_t *slots =
        json_pack("{s:s,s:s}", "goal", "host_pupils", "region", "gent");
    assert_int_equal(store_queue_add(f->store, f->conversation,
                                     "visitor_request", NULL, slots, 1000),
                     0);
    json_decref(slots);
}

static void queue_lists_waiting(void **state)
{
    fixture_t *f = *state;
    json_t *list = NULL;
    json_t *row;

    escalate(f);
    /* A second escalation while it waits changes nothing. */
    assert_int_equal(store_queue_add(f->store, f->conversation, "frustration",
                                     NULL, NULL, 1010),
                     1);
    assert_int_equal(store_queue_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    row = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "conversation")),
                        f->conversation);
    assert_string_equal(json_string_value(json_object_get(row, "reason")),
                        "visitor_request");
    assert_string_equal(json_string_value(json_object_get(row, "state")),
                        "waiting");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(row, "slots"), "region")),
                        "gent");
    assert_int_equal(json_integer_value(json_object_get(row, "queued_at")),
                     1000);
    json_decref(list);
}

static void take_first_wins(void **state)
{
    fixture_t *f = *state;
    store_queue_row_t row;
    json_t *list = NULL;

    escalate(f);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 0);
    assert_string_equal(row.advisor_name, "");
    assert_int_equal(store_queue_take(f->store, f->conversation, f->an, 1005),
                     0);
    assert_int_equal(store_queue_take(f->store, f->conversation, f->bert, 1006),
                     1);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 0);
    assert_string_equal(row.state, "taken");
    assert_int_equal(row.advisor_id, f->an);
    assert_int_equal(row.taken_at, 1005);
    /* An account without a display name is named by its login name. */
    assert_string_equal(row.advisor_name, "an");

    assert_int_equal(store_queue_list(f->store, &list), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_name")),
                        "an");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_display_name")),
                        "an");
    json_decref(list);
}

static void queue_shows_display_name(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    json_t *list = NULL;

    escalate(f);
    assert_int_equal(store_account_set_display_name(
                         f->store, "an", "Anja Peeters", 1004, err, sizeof err),
                     0);
    assert_int_equal(store_queue_take(f->store, f->conversation, f->an, 1005),
                     0);
    assert_int_equal(store_note_add(f->store, f->conversation, f->an,
                                    "Klant vraagt naar subsidies.", 1006),
                     0);

    assert_int_equal(store_queue_list(f->store, &list), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_name")),
                        "an");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_display_name")),
                        "Anja Peeters");
    json_decref(list);

    assert_int_equal(store_note_list(f->store, f->conversation, &list), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "advisor")),
        "an");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_display_name")),
                        "Anja Peeters");
    json_decref(list);
}

static void requeue_and_answer(void **state)
{
    fixture_t *f = *state;
    store_queue_row_t row;

    escalate(f);
    assert_int_equal(store_queue_requeue(f->store, f->conversation), 1);
    store_queue_take(f->store, f->conversation, f->an, 1005);
    assert_int_equal(store_queue_requeue(f->store, f->conversation), 0);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 0);
    assert_string_equal(row.state, "waiting");
    assert_int_equal(row.advisor_id, 0);

    assert_int_equal(store_queue_take(f->store, f->conversation, f->bert, 1010),
                     0);
    assert_int_equal(store_queue_answered(f->store, f->conversation, 1020), 0);
    assert_int_equal(store_queue_answered(f->store, f->conversation, 1030), 0);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 0);
    assert_int_equal(row.answered_at, 1020);
}

static void close_and_reopen(void **state)
{
    fixture_t *f = *state;
    store_queue_row_t row;
    store_queue_row_t *rows = NULL;
    size_t count = 99;

    escalate(f);
    store_queue_take(f->store, f->conversation, f->an, 1005);
    assert_int_equal(
        store_queue_finish(f->store, f->conversation, "beantwoord", 1100), 0);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 0);
    assert_string_equal(row.state, "closed");
    assert_int_equal(store_queue_rows(f->store, &rows, &count), 0);
    assert_int_equal(count, 0);
    free(rows);

    /* A later escalation of the same conversation queues it again. */
    escalate(f);
    assert_int_equal(store_queue_rows(f->store, &rows, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].state, "waiting");
    free(rows);

    /* Handing back to the bot removes the entry. */
    assert_int_equal(store_queue_finish(f->store, f->conversation, NULL, 1200),
                     0);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 1);
}

static void unknown_conversation_not_queued(void **state)
{
    fixture_t *f = *state;
    json_t *list = NULL;

    assert_int_equal(
        store_queue_add(f->store, "0000", "unsure", NULL, NULL, 1000), 1);
    assert_int_equal(store_queue_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

static void callback_needs_consent(void **state)
{
    fixture_t *f = *state;
    json_t *effect =
        json_pack("{s:s,s:s,s:s,s:s}", "type", "callback", "name", "Els",
                  "email", "els@example.be", "phone", "0470 12 34 56");
    json_t *list = NULL;

    assert_int_equal(
        store_callback_add(f->store, f->conversation, effect, 1000), -1);
    json_object_set_new(effect, "consent", json_true());
    json_object_set_new(effect, "slots", json_pack("{s:s}", "size", "kmo"));
    assert_true(store_callback_add(f->store, f->conversation, effect, 1000) >
                0);
    json_decref(effect);

    assert_int_equal(store_callback_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "email")),
        "els@example.be");
    assert_int_equal(store_callback_done(f->store,
                                         json_integer_value(json_object_get(
                                             json_array_get(list, 0), "id")),
                                         f->an, 1100),
                     0);
    json_decref(list);
    assert_int_equal(store_callback_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

static void callback_detail_completes_open_request(void **state)
{
    fixture_t *f = *state;
    json_t *first = json_pack("{s:s,s:s,s:s,s:b}", "type", "callback", "name",
                              "Jan", "email", "jan@example.be", "consent", 1);
    json_t *later = json_pack("{s:s,s:n,s:s,s:b}", "type", "callback", "name",
                              "phone", "0477 12 34 56", "consent", 1);
    json_t *list = NULL;

    long long id = store_callback_add(f->store, f->conversation, first, 1000);
    assert_true(id > 0);
    assert_int_equal(store_callback_add(f->store, f->conversation, later, 1010),
                     id);
    assert_int_equal(store_callback_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_t *row = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "name")), "Jan");
    assert_string_equal(json_string_value(json_object_get(row, "email")),
                        "jan@example.be");
    assert_string_equal(json_string_value(json_object_get(row, "phone")),
                        "0477 12 34 56");
    json_decref(list);

    /* A request after the first was handled is a new one. */
    assert_int_equal(store_callback_done(f->store, id, f->an, 1100), 0);
    long long again =
        store_callback_add(f->store, f->conversation, later, 1200);
    assert_true(again > id);
    json_decref(first);
    json_decref(later);
}

static void erase_removes_contact_and_notes(void **state)
{
    fixture_t *f = *state;
    json_t *effect = json_pack("{s:s,s:s,s:b}", "type", "callback", "email",
                               "els@example.be", "consent", 1);
    json_t *list = NULL;
    store_queue_row_t row;

    escalate(f);
    assert_int_equal(store_note_add(f->store, f->conversation, f->an,
                                    "Klant vraagt naar subsidies.", 1001),
                     0);
    assert_int_equal(store_note_list(f->store, f->conversation, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "advisor")),
        "an");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "advisor_display_name")),
                        "an");
    json_decref(list);
    assert_true(store_callback_add(f->store, f->conversation, effect, 1000) >
                0);
    json_decref(effect);

    assert_int_equal(store_erase(f->store, f->conversation), 0);
    assert_int_equal(store_callback_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(store_note_list(f->store, f->conversation, &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_int_equal(store_queue_get(f->store, f->conversation, &row), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(queue_lists_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(take_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_shows_display_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(requeue_and_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_conversation_not_queued, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(callback_needs_consent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(callback_detail_completes_open_request,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(erase_removes_contact_and_notes, setup,
                                        teardown),
    };
    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
