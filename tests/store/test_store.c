/* The SQLite store on real database files: migrations, message order and
 * idempotent client ids, tokens, effects, purge, erase, export, and
 * reopening after the process died mid-transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

#define NOW 1800000000LL
#define DAY 86400LL

typedef struct {
    char dir[64];
    char path[96];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/stemdesk-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    char err[256] = "";
    f->store = store_open(f->path, err, sizeof err);
    if (!f->store)
        fail_msg("store_open: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    long long value = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

static json_t *visitor_text(const char *text)
{
    return json_pack("{s:s,s:s}", "from", "visitor", "text", text);
}

/* Creates a conversation in its own transaction. */
static void create(store_t *store, store_conversation_t *c, char *token)
{
    assert_int_equal(store_begin(store), 0);
    assert_int_equal(
        store_conversation_create(store, NOW, NOW + 180 * DAY, c, token), 0);
    assert_int_equal(store_commit(store), 0);
}

static int collect(const json_t *message, void *arg)
{
    return json_array_append(arg, (json_t *)message);
}

static void test_migrations_applied_once(void **state)
{
    fixture_t *f = *state;
    long long version = query_int(f->path, "PRAGMA user_version");
    assert_true(version >= 1);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master "
                                        "WHERE name IN ('conversations', "
                                        "'messages', 'tokens', 'effects', "
                                        "'unanswered')"),
                     5);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
                                        "pragma_journal_mode "
                                        "WHERE journal_mode = 'wal'"),
                     1);

    store_close(f->store);
    char err[256] = "";
    f->store = store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(query_int(f->path, "PRAGMA user_version"), version);
}

static void test_seq_order_and_client_id(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c;
    char token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);
    assert_int_equal(c.last_seq, 0);

    long long seq[4];
    int duplicate;
    assert_int_equal(store_begin(f->store), 0);
    json_t *bot = json_pack("{s:s,s:s}", "from", "bot", "text", "Welkom");
    assert_int_equal(
        store_message_append(f->store, c.row, NULL, bot, NOW, &seq[0], NULL),
        0);
    json_t *hello = visitor_text("Hallo");
    assert_int_equal(store_message_append(f->store, c.row, "m-1", hello, NOW,
                                          &seq[1], &duplicate),
                     0);
    assert_int_equal(duplicate, 0);
    assert_int_equal(store_message_append(f->store, c.row, "m-1", hello, NOW,
                                          &seq[2], &duplicate),
                     0);
    assert_int_equal(duplicate, 1);
    assert_int_equal(seq[2], seq[1]);
    json_t *again = visitor_text("Nog iets");
    assert_int_equal(store_message_append(f->store, c.row, "m-2", again, NOW,
                                          &seq[3], &duplicate),
                     0);
    assert_int_equal(store_commit(f->store), 0);
    assert_int_equal(seq[0], 1);
    assert_int_equal(seq[1], 2);
    assert_int_equal(seq[3], 3);

    json_t *all = json_array();
    assert_int_equal(store_messages_after(f->store, c.row, 1, collect, all), 0);
    assert_int_equal(json_array_size(all), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(all, 0), "seq")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(all, 1), "text")),
        "Nog iets");
    json_decref(all);
    json_decref(bot);
    json_decref(hello);
    json_decref(again);
}

static void test_token_lookup_and_expiry(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c, found;
    char token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);
    assert_int_equal(strlen(token), 43);

    assert_int_equal(store_conversation_by_token(f->store, token, NOW, &found),
                     0);
    assert_string_equal(found.id, c.id);
    store_conversation_clear(&found);
    assert_int_equal(
        store_conversation_by_token(f->store, "not-a-token", NOW, &found), 1);
    assert_int_equal(
        store_conversation_by_token(f->store, token, NOW + 181 * DAY, &found),
        1);

    /* Only the hash is stored. */
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM tokens WHERE CAST(hash AS TEXT) = '%s'",
             token);
    assert_int_equal(query_int(f->path, sql), 0);
}

static void test_state_and_effects(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c, found;
    char token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);

    json_t *engine_state = json_pack("{s:s,s:i}", "node", "ask_region", "n", 3);
    json_t *effect = json_pack("{s:s,s:s}", "type", "escalate", "reason",
                               "asked_for_person");
    assert_int_equal(store_begin(f->store), 0);
    assert_int_equal(
        store_state_save(f->store, c.row, engine_state, "bot", NOW), 0);
    assert_int_equal(store_effect_add(f->store, c.row, effect, NOW), 0);
    assert_int_equal(
        store_conversation_escalate(f->store, c.row, "asked_for_person", NOW),
        0);
    assert_int_equal(store_unanswered_add(f->store, c.row, "Waar?", NOW), 0);
    assert_int_equal(store_commit(f->store), 0);

    assert_int_equal(store_conversation_by_id(f->store, c.id, &found), 0);
    assert_string_equal(found.mode, "waiting");
    assert_true(json_equal(found.state, engine_state));
    store_conversation_clear(&found);
    json_decref(engine_state);
    json_decref(effect);
}

static void test_export_and_erase(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c, other;
    char token[STORE_TOKEN_SIZE], other_token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);
    create(f->store, &other, other_token);

    long long seq;
    json_t *hello = visitor_text("Hallo");
    json_t *effect =
        json_pack("{s:s,s:s}", "type", "partner", "partner", "sectorfonds");
    assert_int_equal(store_begin(f->store), 0);
    assert_int_equal(
        store_message_append(f->store, c.row, "e-1", hello, NOW, &seq, NULL),
        0);
    assert_int_equal(store_effect_add(f->store, c.row, effect, NOW), 0);
    assert_int_equal(store_commit(f->store), 0);

    json_t *export = NULL;
    assert_int_equal(store_export(f->store, c.id, &export), 0);
    assert_string_equal(
        json_string_value(json_object_get(export, "conversation")), c.id);
    assert_int_equal(json_array_size(json_object_get(export, "messages")), 1);
    assert_int_equal(json_array_size(json_object_get(export, "effects")), 1);
    json_decref(export);
    assert_int_equal(store_export(f->store, "0123", &export), 1);
    assert_null(export);

    assert_int_equal(store_erase(f->store, c.id), 0);
    assert_int_equal(store_erase(f->store, c.id), 1);
    assert_int_equal(store_export(f->store, c.id, &export), 1);
    store_conversation_t found;
    assert_int_equal(store_conversation_by_token(f->store, token, NOW, &found),
                     1);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM messages"), 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM effects"), 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM tokens"), 1);
    assert_int_equal(store_conversation_by_id(f->store, other.id, &found), 0);
    store_conversation_clear(&found);
    json_decref(hello);
    json_decref(effect);
}

static void test_purge_by_age(void **state)
{
    fixture_t *f = *state;
    store_conversation_t old, recent;
    char token[STORE_TOKEN_SIZE];
    long long seq;

    assert_int_equal(store_begin(f->store), 0);
    assert_int_equal(store_conversation_create(f->store, NOW - 200 * DAY,
                                               NOW - 20 * DAY, &old, token),
                     0);
    json_t *hello = visitor_text("Hallo");
    assert_int_equal(store_message_append(f->store, old.row, "p-1", hello,
                                          NOW - 200 * DAY, &seq, NULL),
                     0);
    assert_int_equal(store_conversation_create(f->store, NOW - 10 * DAY,
                                               NOW + 170 * DAY, &recent, token),
                     0);
    assert_int_equal(store_commit(f->store), 0);

    long long count = -1;
    assert_int_equal(store_purge(f->store, NOW - 180 * DAY, &count), 0);
    assert_int_equal(count, 1);
    store_conversation_t found;
    assert_int_equal(store_conversation_by_id(f->store, old.id, &found), 1);
    assert_int_equal(store_conversation_by_id(f->store, recent.id, &found), 0);
    store_conversation_clear(&found);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM messages"), 0);
    json_decref(hello);
}

/* A child process commits one message, writes a second without commit and
 * dies without closing; the parent must find the first only. */
static void test_reopen_after_abrupt_exit(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c;
    char token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);
    store_close(f->store);
    f->store = NULL;

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char err[256];
        store_t *store = store_open(f->path, err, sizeof err);
        long long seq;
        json_t *kept = visitor_text("bewaard");
        json_t *lost = visitor_text("verloren");
        if (!store || store_begin(store) ||
            store_message_append(store, c.row, "a-1", kept, NOW, &seq, NULL) ||
            store_commit(store) || store_begin(store) ||
            store_message_append(store, c.row, "a-2", lost, NOW, &seq, NULL))
            _exit(3);
        _exit(0); /* no commit, no close */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    char err[256] = "";
    f->store = store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    json_t *all = json_array();
    assert_int_equal(store_messages_after(f->store, c.row, 0, collect, all), 0);
    assert_int_equal(json_array_size(all), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(all, 0), "text")),
        "bewaard");
    json_decref(all);

    /* The seq counter was rolled back with the lost message. */
    long long seq;
    json_t *next = visitor_text("volgende");
    assert_int_equal(store_begin(f->store), 0);
    assert_int_equal(
        store_message_append(f->store, c.row, "a-3", next, NOW, &seq, NULL), 0);
    assert_int_equal(store_commit(f->store), 0);
    assert_int_equal(seq, 2);
    json_decref(next);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
                                        "pragma_integrity_check "
                                        "WHERE integrity_check = 'ok'"),
                     1);
}

static void test_rollback_discards_writes(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c;
    char token[STORE_TOKEN_SIZE];
    create(f->store, &c, token);
    long long seq;
    json_t *text = visitor_text("weg");
    assert_int_equal(store_begin(f->store), 0);
    assert_int_equal(store_in_transaction(f->store), 1);
    assert_int_equal(
        store_message_append(f->store, c.row, "x-1", text, NOW, &seq, NULL), 0);
    store_rollback(f->store);
    assert_int_equal(store_in_transaction(f->store), 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM messages"), 0);
    json_decref(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_applied_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seq_order_and_client_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_lookup_and_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_and_effects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_and_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_abrupt_exit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_discards_writes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
