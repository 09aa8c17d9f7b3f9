/* Accounts, login sessions and audit log: see accounts.h. */
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "store/accounts.h"
#include "store/store_internal.h"

static const char *const role_names[] = {"advisor", "editor", "admin"};

int store_role_parse(const char *name, store_role_t *out)
{
    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, role_names[i]) == 0) {
            *out = (store_role_t)i;
            return 0;
        }
    }
    return -1;
}

const char *store_role_name(store_role_t role)
{
    if ((int)role < 0 || (int)role > 2)
        return "unknown";
    return role_names[role];
}

int store_role_allows(store_role_t role, store_access_t access)
{
    if (role == STORE_ROLE_ADMIN)
        return 1;
    switch (access) {
    case STORE_ACCESS_QUEUE:
        return role == STORE_ROLE_ADVISOR;
    case STORE_ACCESS_EDITOR:
        return role == STORE_ROLE_EDITOR;
    case STORE_ACCESS_ADMIN:
        return 0;
    }
    return 0;
}

int store_account_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > STORE_ACCOUNT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK)
        return 0;
    LOG_ERROR("store", "preparing an accounts statement failed: %s",
              sqlite3_errmsg(db));
    return -1;
}

int store_account_add(store_t *store, const char *name, const char *password,
                      store_role_t role, long long now, char *err, size_t size)
{
    sqlite3 *db = store->db;
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *stmt = NULL;
    size_t len = password ? strlen(password) : 0;
    int rc;

    if (!store_account_name_valid(name)) {
        snprintf(err, size,
                 "invalid account name \"%s\": use 1 to %d characters of "
                 "a-z, 0-9, '.', '_' and '-'",
                 name ? name : "", STORE_ACCOUNT_NAME_MAX);
        return -1;
    }
    if (len < STORE_PASSWORD_MIN || len > STORE_PASSWORD_MAX) {
        snprintf(err, size,
                 "invalid password: use %d to %d characters (got %zu)",
                 STORE_PASSWORD_MIN, STORE_PASSWORD_MAX, len);
        return -1;
    }
    if (sodium_init() < 0 ||
        crypto_pwhash_str(hash, password, len,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf(err, size, "hashing the password failed: out of memory");
        return -1;
    }

    if (prepare(db,
                "INSERT INTO accounts (name, role, password_hash, created_at)"
                " VALUES (?, ?, ?, ?)",
                &stmt) != 0) {
        snprintf(err, size, "adding account \"%s\" failed: %s", name,
                 sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, store_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    sodium_memzero(hash, sizeof hash);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT)
        return 1;
    snprintf(err, size, "adding account \"%s\" failed: %s", name,
             sqlite3_errmsg(db));
    return -1;
}

int store_account_remove(store_t *store, const char *name)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    long long id = 0;
    int rc;

    if (prepare(db, "SELECT id FROM accounts WHERE name = ?", &stmt) != 0)
        return -1;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE)
        return 1;
    if (rc != SQLITE_ROW)
        return -1;

    if (prepare(db, "DELETE FROM console_sessions WHERE account_id = ?1;",
                &stmt) != 0)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return -1;

    if (prepare(db, "DELETE FROM accounts WHERE id = ?", &stmt) != 0)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_account_list(store_t *store, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    json_t *list;
    int rc;

    *out = NULL;
    if (prepare(db,
                "SELECT id, name, role, created_at FROM accounts"
                " ORDER BY name",
                &stmt) != 0)
        return -1;
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_array_append_new(
            list,
            json_pack("{s:I,s:s,s:s,s:I}", "id",
                      (json_int_t)sqlite3_column_int64(stmt, 0), "name",
                      (const char *)sqlite3_column_text(stmt, 1), "role",
                      (const char *)sqlite3_column_text(stmt, 2), "created",
                      (json_int_t)sqlite3_column_int64(stmt, 3)));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

/* A valid Argon2id hash of a random password, verified when the name is
 * unknown so that an unknown name costs as much time as a wrong password. */
static const char *dummy_hash(void)
{
    static char hash[crypto_pwhash_STRBYTES];
    static int ready;

    if (!ready) {
        unsigned char secret[16];
        randombytes_buf(secret, sizeof secret);
        if (crypto_pwhash_str(hash, (const char *)secret, sizeof secret,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return NULL;
        ready = 1;
    }
    return hash;
}

int store_account_verify(store_t *store, const char *name, const char *password,
                         store_account_t *out)
{
    sqlite3 *db = store->db;
    char hash[crypto_pwhash_STRBYTES] = "";
    sqlite3_stmt *stmt = NULL;
    size_t len = password ? strlen(password) : 0;
    int found = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (sodium_init() < 0)
        return -1;
    if (store_account_name_valid(name)) {
        if (prepare(db,
                    "SELECT id, role, password_hash FROM accounts"
                    " WHERE name = ?",
                    &stmt) != 0)
            return -1;
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(stmt, 2);
            out->id = sqlite3_column_int64(stmt, 0);
            found = store_role_parse((const char *)sqlite3_column_text(stmt, 1),
                                     &out->role) == 0 &&
                    text && strlen(text) < sizeof hash;
            if (found)
                memcpy(hash, text, strlen(text) + 1);
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
    }

    if (!found) {
        const char *dummy = dummy_hash();
        if (dummy)
            (void)!crypto_pwhash_str_verify(dummy, password ? password : "",
                                            len);
        memset(out, 0, sizeof *out);
        return 1;
    }
    if (len > STORE_PASSWORD_MAX ||
        crypto_pwhash_str_verify(hash, password, len) != 0) {
        memset(out, 0, sizeof *out);
        return 1;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    return 0;
}

/* Writes the hex BLAKE2b-256 of a token into `hex` (65 bytes). */
static void token_hash(const char *token, char hex[65])
{
    unsigned char digest[32];

    crypto_generichash(digest, sizeof digest, (const unsigned char *)token,
                       strlen(token), NULL, 0);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
}

static int token_well_formed(const char *token)
{
    if (!token || strlen(token) != STORE_TOKEN_CHARS)
        return 0;
    for (size_t i = 0; i < STORE_TOKEN_CHARS; i++) {
        char c = token[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

int store_session_create(store_t *store, long long account_id, long long now,
                         int hours, char token[STORE_TOKEN_CHARS + 1])
{
    sqlite3 *db = store->db;
    unsigned char secret[STORE_TOKEN_CHARS / 2];
    char hash[65];
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sodium_init() < 0)
        return -1;
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(token, STORE_TOKEN_CHARS + 1, secret, sizeof secret);
    token_hash(token, hash);

    if (prepare(db,
                "INSERT INTO console_sessions (token_hash, account_id,"
                " created_at, expires_at) VALUES (?, ?, ?, ?)",
                &stmt) != 0)
        return -1;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, account_id);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, now + (long long)hours * 3600);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_session_lookup(store_t *store, const char *token, long long now,
                         store_account_t *out)
{
    sqlite3 *db = store->db;
    char hash[65];
    sqlite3_stmt *stmt = NULL;
    int rc;
    int result = 1;

    memset(out, 0, sizeof *out);
    if (!token_well_formed(token))
        return 1;
    token_hash(token, hash);
    if (prepare(db,
                "SELECT a.id, a.name, a.role FROM console_sessions s"
                " JOIN accounts a ON a.id = s.account_id"
                " WHERE s.token_hash = ? AND s.expires_at > ?",
                &stmt) != 0)
        return -1;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(stmt, 0);
        snprintf(out->name, sizeof out->name, "%s",
                 (const char *)sqlite3_column_text(stmt, 1));
        result = store_role_parse((const char *)sqlite3_column_text(stmt, 2),
                                  &out->role) == 0
                     ? 0
                     : 1;
    } else if (rc != SQLITE_DONE) {
        result = -1;
    }
    sqlite3_finalize(stmt);
    if (result != 0)
        memset(out, 0, sizeof *out);
    return result;
}

int store_session_delete(store_t *store, const char *token)
{
    sqlite3 *db = store->db;
    char hash[65];
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (!token_well_formed(token))
        return 0;
    token_hash(token, hash);
    if (prepare(db, "DELETE FROM console_sessions WHERE token_hash = ?",
                &stmt) != 0)
        return -1;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_session_purge(store_t *store, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (prepare(db, "DELETE FROM console_sessions WHERE expires_at <= ?",
                &stmt) != 0)
        return -1;
    sqlite3_bind_int64(stmt, 1, now);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? sqlite3_changes(db) : -1;
}

int store_audit_add(store_t *store, long long account_id, const char *action,
                    const char *conversation, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (prepare(db,
                "INSERT INTO audit_log (at, account_id, action, conversation)"
                " VALUES (?, ?, ?, ?)",
                &stmt) != 0)
        return -1;
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, account_id);
    sqlite3_bind_text(stmt, 3, action, -1, SQLITE_STATIC);
    if (conversation)
        sqlite3_bind_text(stmt, 4, conversation, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_audit_list(store_t *store, int limit, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    json_t *list;
    int rc;

    *out = NULL;
    if (prepare(db,
                "SELECT l.at, l.account_id, a.name, l.action, l.conversation"
                " FROM audit_log l LEFT JOIN accounts a ON a.id = l.account_id"
                " ORDER BY l.id DESC LIMIT ?",
                &stmt) != 0)
        return -1;
    sqlite3_bind_int(stmt, 1, limit);
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 2);
        const char *conv = (const char *)sqlite3_column_text(stmt, 4);
        json_array_append_new(
            list,
            json_pack("{s:I,s:I,s:o,s:s,s:o}", "at",
                      (json_int_t)sqlite3_column_int64(stmt, 0), "account",
                      (json_int_t)sqlite3_column_int64(stmt, 1), "name",
                      name ? json_string(name) : json_null(), "action",
                      (const char *)sqlite3_column_text(stmt, 3),
                      "conversation", conv ? json_string(conv) : json_null()));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}
