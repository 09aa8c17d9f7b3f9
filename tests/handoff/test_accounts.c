/* Accounts, login sessions, role checks and the audit log on a real
 * SQLite file. */
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
#include "store/store_sqlite.h"

typedef struct {
    char dir[64];
    char path[128];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256] = "";

    snprintf(f->dir, sizeof f->dir, "/tmp/stemdesk-accounts-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/desk.db", f->dir);
    f->store = store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
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

static void add(fixture_t *f, const char *name, const char *password,
                store_role_t role)
{
    char err[256] = "";
    assert_int_equal(
        store_account_add(f->store, name, password, role, 100, err, sizeof err),
        0);
}

static void password_verifies(void **state)
{
    fixture_t *f = *state;
    store_account_t account;

    add(f, "an.peeters", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(store_account_verify(f->store, "an.peeters",
                                          "correct horse battery", &account),
                     0);
    assert_true(account.id > 0);
    assert_string_equal(account.name, "an.peeters");
    assert_int_equal(account.role, STORE_ROLE_ADVISOR);
}

static void hash_is_argon2id(void **state)
{
    fixture_t *f = *state;
    sqlite3_stmt *stmt = NULL;
    const char *hash;

    add(f, "bert", "correct horse battery", STORE_ROLE_EDITOR);
    assert_int_equal(sqlite3_prepare_v2(store_sqlite_handle(f->store),
                                        "SELECT password_hash FROM accounts",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    hash = (const char *)sqlite3_column_text(stmt, 0);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_null(strstr(hash, "correct horse"));
    sqlite3_finalize(stmt);
}

static void wrong_password_rejected(void **state)
{
    fixture_t *f = *state;
    store_account_t account;

    add(f, "an", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(
        store_account_verify(f->store, "an", "correct horse batterY", &account),
        1);
    assert_int_equal(account.id, 0);
    assert_int_equal(store_account_verify(f->store, "an", "", &account), 1);
    assert_int_equal(store_account_verify(f->store, "nobody",
                                          "correct horse battery", &account),
                     1);
    assert_int_equal(store_account_verify(f->store, "Robert'); DROP",
                                          "correct horse battery", &account),
                     1);
}

static void invalid_input_rejected(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";

    assert_int_equal(store_account_add(f->store, "An", "long enough pass",
                                       STORE_ROLE_ADMIN, 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid account name"));
    assert_int_equal(store_account_add(f->store, "an", "short",
                                       STORE_ROLE_ADMIN, 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid password"));
    add(f, "an", "long enough pass", STORE_ROLE_ADMIN);
    assert_int_equal(store_account_add(f->store, "an", "another long one",
                                       STORE_ROLE_ADVISOR, 1, err, sizeof err),
                     1);
}

static void roles_checked(void **state)
{
    store_role_t role;

    (void)state;
    assert_true(store_role_allows(STORE_ROLE_ADVISOR, STORE_ACCESS_QUEUE));
    assert_false(store_role_allows(STORE_ROLE_ADVISOR, STORE_ACCESS_EDITOR));
    assert_false(store_role_allows(STORE_ROLE_ADVISOR, STORE_ACCESS_ADMIN));
    assert_false(store_role_allows(STORE_ROLE_EDITOR, STORE_ACCESS_QUEUE));
    assert_true(store_role_allows(STORE_ROLE_EDITOR, STORE_ACCESS_EDITOR));
    assert_false(store_role_allows(STORE_ROLE_EDITOR, STORE_ACCESS_ADMIN));
    assert_true(store_role_allows(STORE_ROLE_ADMIN, STORE_ACCESS_QUEUE));
    assert_true(store_role_allows(STORE_ROLE_ADMIN, STORE_ACCESS_EDITOR));
    assert_true(store_role_allows(STORE_ROLE_ADMIN, STORE_ACCESS_ADMIN));
    assert_int_equal(store_role_parse("editor", &role), 0);
    assert_int_equal(role, STORE_ROLE_EDITOR);
    assert_int_equal(store_role_parse("root", &role), -1);
    assert_string_equal(store_role_name(STORE_ROLE_ADMIN), "admin");
}

static void session_lifecycle(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    char token[STORE_TOKEN_CHARS + 1];
    sqlite3_stmt *stmt = NULL;

    add(f, "an", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(
        store_account_verify(f->store, "an", "correct horse battery", &account),
        0);
    assert_int_equal(
        store_session_create(f->store, account.id, 1000, 12, token), 0);
    assert_int_equal(strlen(token), STORE_TOKEN_CHARS);

    /* Only the hash is stored. */
    assert_int_equal(sqlite3_prepare_v2(store_sqlite_handle(f->store),
                                        "SELECT count(*) FROM console_sessions"
                                        " WHERE token_hash = ?",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, token, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 0);
    sqlite3_finalize(stmt);

    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 0);
    assert_string_equal(account.name, "an");
    assert_int_equal(
        store_session_lookup(f->store, token, 1000 + 12 * 3600, &account), 1);
    assert_int_equal(store_session_lookup(f->store, "nonsense", 1001, &account),
                     1);
    token[0] = token[0] == 'a' ? 'b' : 'a';
    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 1);
    token[0] = token[0] == 'a' ? 'b' : 'a';

    assert_int_equal(store_session_delete(f->store, token), 0);
    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 1);
}

static void removed_account_loses_sessions(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    char token[STORE_TOKEN_CHARS + 1];
    json_t *list = NULL;

    add(f, "an", "correct horse battery", STORE_ROLE_ADVISOR);
    add(f, "bert", "correct horse battery", STORE_ROLE_EDITOR);
    assert_int_equal(
        store_account_verify(f->store, "an", "correct horse battery", &account),
        0);
    assert_int_equal(
        store_session_create(f->store, account.id, 1000, 12, token), 0);
    assert_int_equal(store_account_remove(f->store, "an"), 0);
    assert_int_equal(store_account_remove(f->store, "an"), 1);
    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 1);

    assert_int_equal(store_account_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "role")),
        "editor");
    json_decref(list);
}

static void audit_lists_newest_first(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    json_t *list = NULL;

    add(f, "an", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(
        store_account_verify(f->store, "an", "correct horse battery", &account),
        0);
    assert_int_equal(store_audit_add(f->store, account.id, "login", NULL, 10),
                     0);
    assert_int_equal(
        store_audit_add(f->store, account.id, "take", "c0ffee", 11), 0);
    assert_int_equal(store_audit_list(f->store, 10, &list), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "action")),
        "take");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "conversation")),
                        "c0ffee");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 1), "name")),
        "an");
    assert_true(
        json_is_null(json_object_get(json_array_get(list, 1), "conversation")));
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(password_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(hash_is_argon2id, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_password_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_input_rejected, setup,
                                        teardown),
        cmocka_unit_test(roles_checked),
        cmocka_unit_test_setup_teardown(session_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(removed_account_loses_sessions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(audit_lists_newest_first, setup,
                                        teardown),
    };
    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
