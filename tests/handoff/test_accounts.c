/* Accounts, display names, login sessions, role checks, the audit log and
 * the display name migration on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/log.h"
#include "store/accounts.h"
#include "store/store_internal.h"
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
    assert_int_equal(store_account_add(f->store, name, password, NULL, role,
                                       100, err, sizeof err),
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

    assert_int_equal(store_account_add(f->store, "An", "long enough pass", NULL,
                                       STORE_ROLE_ADMIN, 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid account name"));
    assert_int_equal(store_account_add(f->store, "an", "short", NULL,
                                       STORE_ROLE_ADMIN, 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid password"));
    assert_int_equal(store_account_add(f->store, "an", "long enough pass", "",
                                       STORE_ROLE_ADMIN, 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid display name"));
    add(f, "an", "long enough pass", STORE_ROLE_ADMIN);
    assert_int_equal(store_account_add(f->store, "an", "another long one", NULL,
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
    assert_int_equal(store_account_remove(f->store, "an", 300), 0);
    assert_int_equal(store_account_remove(f->store, "an", 300), 1);
    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 1);

    assert_int_equal(store_account_list(f->store, &list), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "role")),
        "editor");
    json_decref(list);

    /* Adding and removing are audited, and the entries of a removed
     * account keep its name. */
    assert_int_equal(store_audit_list(f->store, 10, &list), 0);
    assert_int_equal(json_array_size(list), 3);
    static const char *const actions[] = {"account_remove", "account_add",
                                          "account_add"};
    static const char *const names[] = {"an", "bert", "an"};
    static const int removed[] = {1, 0, 1};
    for (size_t i = 0; i < 3; i++) {
        json_t *entry = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(entry, "action")),
                            actions[i]);
        assert_string_equal(json_string_value(json_object_get(entry, "name")),
                            names[i]);
        assert_int_equal(json_is_true(json_object_get(entry, "removed")),
                         removed[i]);
    }
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
    assert_int_equal(json_array_size(list), 3);
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

/* Returns the display_name field of the account `name` in the list. */
static const char *listed_display_name(json_t *list, const char *name)
{
    size_t i;
    json_t *row;

    json_array_foreach(list, i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "name")), name) == 0)
            return json_string_value(json_object_get(row, "display_name"));
    }
    fail_msg("account %s not listed", name);
    return NULL;
}

static void display_name_falls_back_to_login(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    char token[STORE_TOKEN_CHARS + 1];
    json_t *list = NULL;

    add(f, "anja", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(store_account_verify(f->store, "anja",
                                          "correct horse battery", &account),
                     0);
    assert_string_equal(account.display_name, "anja");
    assert_int_equal(
        store_session_create(f->store, account.id, 1000, 12, token), 0);
    assert_int_equal(store_session_lookup(f->store, token, 1001, &account), 0);
    assert_string_equal(account.display_name, "anja");

    assert_int_equal(store_account_list(f->store, &list), 0);
    assert_true(
        json_is_null(json_object_get(json_array_get(list, 0), "display_name")));
    json_decref(list);
}

static void display_name_added_and_set(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    char token[STORE_TOKEN_CHARS + 1];
    char err[256] = "";
    json_t *list = NULL;
    json_t *entry;

    assert_int_equal(store_account_add(f->store, "anja",
                                       "correct horse battery", "Anja Peeters",
                                       STORE_ROLE_ADVISOR, 100, err,
                                       sizeof err),
                     0);
    add(f, "bert", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(store_account_verify(f->store, "anja",
                                          "correct horse battery", &account),
                     0);
    assert_string_equal(account.name, "anja");
    assert_string_equal(account.display_name, "Anja Peeters");
    assert_int_equal(
        store_session_create(f->store, account.id, 1000, 12, token), 0);

    assert_int_equal(store_account_set_display_name(f->store, "anja",
                                                    "Anja Peeters-Dûchateau",
                                                    2000, err, sizeof err),
                     0);
    assert_int_equal(store_session_lookup(f->store, token, 2001, &account), 0);
    assert_string_equal(account.name, "anja");
    assert_string_equal(account.display_name, "Anja Peeters-Dûchateau");

    assert_int_equal(store_account_list(f->store, &list), 0);
    assert_string_equal(listed_display_name(list, "anja"),
                        "Anja Peeters-Dûchateau");
    assert_null(listed_display_name(list, "bert"));
    json_decref(list);

    /* The change is audited under the changed account. */
    assert_int_equal(store_audit_list(f->store, 10, &list), 0);
    assert_int_equal(json_array_size(list), 3); /* two adds, one change */
    entry = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(entry, "action")),
                        "display_name");
    assert_string_equal(json_string_value(json_object_get(entry, "name")),
                        "anja");
    assert_int_equal(json_integer_value(json_object_get(entry, "at")), 2000);
    json_decref(list);

    assert_int_equal(store_account_set_display_name(
                         f->store, "nobody", "Niemand", 2002, err, sizeof err),
                     1);
    assert_int_equal(store_audit_list(f->store, 10, &list), 0);
    assert_int_equal(json_array_size(list), 3); /* two adds, one change */
    json_decref(list);
}

static void display_name_invalid_rejected(void **state)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"", "it is empty"},
        {" Anja", "starts or ends with a space"},
        {"Anja ", "starts or ends with a space"},
        {"Anja\tPeeters", "control or formatting character U+0009"},
        {"Anja\nPeeters", "control or formatting character U+000A"},
        {"Anja\x7f", "control or formatting character U+007F"},
        {"Anja\xc2\x85", "control or formatting character U+0085"},
        {"\xe2\x80\xae"
         "sreeteP",
         "control or formatting character U+202E"},
        {"Anja\xff", "byte 5 is not valid UTF-8"},
        {"Anja\xc3", "byte 5 is not valid UTF-8"},
        {"\xc0\xaf", "byte 1 is not valid UTF-8"},
        {"\xed\xa0\x80", "byte 1 is not valid UTF-8"},
        {"\xf4\x90\x80\x80", "byte 1 is not valid UTF-8"},
        {"Anja\x80", "byte 5 is not valid UTF-8"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "61 characters, the maximum is 60"},
    };
    fixture_t *f = *state;
    store_account_t account;
    char err[256];

    add(f, "anja", "correct horse battery", STORE_ROLE_ADVISOR);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = '\0';
        assert_int_equal(
            store_display_name_check(cases[i].text, err, sizeof err), -1);
        if (!strstr(err, cases[i].error))
            fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].error,
                     err);
        assert_int_equal(store_account_set_display_name(f->store, "anja",
                                                        cases[i].text, 1, err,
                                                        sizeof err),
                         -1);
        assert_int_equal(store_account_add(f->store, "bert",
                                           "correct horse battery",
                                           cases[i].text, STORE_ROLE_ADVISOR, 1,
                                           err, sizeof err),
                         -1);
    }
    assert_int_equal(store_account_verify(f->store, "anja",
                                          "correct horse battery", &account),
                     0);
    assert_string_equal(account.display_name, "anja");
    assert_int_equal(store_account_verify(f->store, "bert",
                                          "correct horse battery", &account),
                     1);
}

static void display_name_max_length_kept(void **state)
{
    fixture_t *f = *state;
    store_account_t account;
    char err[256] = "";
    char ascii[STORE_DISPLAY_NAME_MAX + 1];
    char wide[STORE_DISPLAY_NAME_BYTES + 1];

    /* 60 ASCII letters, and 60 four-byte characters (U+1F600). */
    memset(ascii, 'a', STORE_DISPLAY_NAME_MAX);
    ascii[STORE_DISPLAY_NAME_MAX] = '\0';
    for (int i = 0; i < STORE_DISPLAY_NAME_MAX; i++)
        memcpy(wide + 4 * i, "\xf0\x9f\x98\x80", 4);
    wide[STORE_DISPLAY_NAME_BYTES] = '\0';

    add(f, "anja", "correct horse battery", STORE_ROLE_ADVISOR);
    assert_int_equal(store_display_name_check(ascii, err, sizeof err), 0);
    assert_int_equal(store_account_set_display_name(f->store, "anja", wide, 1,
                                                    err, sizeof err),
                     0);
    assert_int_equal(store_account_verify(f->store, "anja",
                                          "correct horse battery", &account),
                     0);
    assert_string_equal(account.display_name, wide);
}

/* Builds a database as the code before display names left it: migrations
 * 1 and 2, user_version 2 and one account. Released migrations never
 * change, so migration 2 must still create accounts without a
 * display_name column. */
static void create_version_2(const char *path)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    assert_true(store_migration_count >= 2);
    assert_int_equal(store_migrations[1].version, 2);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, store_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, store_migrations[1].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM"
                                        " pragma_table_info('accounts')"
                                        " WHERE name = 'display_name'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 0);
    sqlite3_finalize(stmt);
    assert_int_equal(crypto_pwhash_str(hash, "correct horse battery", 21,
                                       crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO accounts (name, role, password_hash,"
                           " created_at) VALUES ('anja', 'advisor', ?, 1)",
                           -1, &stmt, NULL),
        SQLITE_OK);
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int user_version(store_t *store)
{
    sqlite3_stmt *stmt = NULL;
    int version;

    assert_int_equal(sqlite3_prepare_v2(store_sqlite_handle(store),
                                        "PRAGMA user_version", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return version;
}

static void old_database_migrated(void **state)
{
    fixture_t *f = *state;
    char path[160];
    char err[256] = "";
    store_t *old;
    store_account_t account;
    json_t *list = NULL;

    snprintf(path, sizeof path, "%s/old.db", f->dir);
    create_version_2(path);
    old = store_open(path, err, sizeof err);
    if (!old)
        fail_msg("opening a version 2 database failed: %s", err);
    assert_int_equal(user_version(old),
                     store_migrations[store_migration_count - 1].version);

    /* The account made before the migration logs in and shows its login
     * name until it gets a display name. */
    assert_int_equal(
        store_account_verify(old, "anja", "correct horse battery", &account),
        0);
    assert_string_equal(account.display_name, "anja");
    assert_int_equal(store_account_list(old, &list), 0);
    assert_true(
        json_is_null(json_object_get(json_array_get(list, 0), "display_name")));
    json_decref(list);
    assert_int_equal(store_account_set_display_name(old, "anja", "Anja Peeters",
                                                    5, err, sizeof err),
                     0);
    assert_int_equal(
        store_account_verify(old, "anja", "correct horse battery", &account),
        0);
    assert_string_equal(account.display_name, "Anja Peeters");
    store_close(old);

    /* Opening it again applies nothing and keeps the name. */
    old = store_open(path, err, sizeof err);
    assert_non_null(old);
    assert_int_equal(
        store_account_verify(old, "anja", "correct horse battery", &account),
        0);
    assert_string_equal(account.display_name, "Anja Peeters");
    store_close(old);
    unlink(path);
    snprintf(path, sizeof path, "%s/old.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/old.db-shm", f->dir);
    unlink(path);
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
        cmocka_unit_test_setup_teardown(display_name_falls_back_to_login, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(display_name_added_and_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(display_name_invalid_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(display_name_max_length_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(old_database_migrated, setup, teardown),
    };
    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
