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

/* Decodes the UTF-8 sequence at `s` (`len` bytes left) into `*cp`.
 * Returns its length, or 0 when it is invalid: a stray continuation byte,
 * a truncated or overlong sequence, a surrogate or a value past U+10FFFF. */
static size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t need;
    unsigned min;
    unsigned value;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        min = 0x80;
        value = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        min = 0x800;
        value = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        min = 0x10000;
        value = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (s[i] & 0x3f);
    }
    if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return 0;
    *cp = value;
    return need;
}

/* Returns 1 for characters that do not belong in a name on one line. These
 * are the C0 and C1 controls, DEL, the line and paragraph separators, the
 * byte order mark and the bidirectional embeddings, overrides and
 * isolates, which could reorder the text around the name. */
static int is_control_or_format(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
           cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

int store_display_name_check(const char *display_name, char *err, size_t size)
{
    const unsigned char *s = (const unsigned char *)display_name;
    size_t len = display_name ? strlen(display_name) : 0;
    size_t chars = 0;

    if (len == 0) {
        snprintf(err, size,
                 "invalid display name: it is empty; give the name that "
                 "visitors see, such as \"Anja Peeters\"");
        return -1;
    }
    for (size_t at = 0; at < len;) {
        unsigned cp = 0;
        size_t step = utf8_decode(s + at, len - at, &cp);

        if (step == 0) {
            snprintf(err, size,
                     "invalid display name: byte %zu is not valid UTF-8; "
                     "save the text as UTF-8",
                     at + 1);
            return -1;
        }
        chars++;
        if (is_control_or_format(cp)) {
            snprintf(err, size,
                     "invalid display name: character %zu is the control "
                     "or formatting character U+%04X; remove it",
                     chars, cp);
            return -1;
        }
        at += step;
    }
    if (chars > STORE_DISPLAY_NAME_MAX) {
        snprintf(err, size,
                 "invalid display name: %zu characters, the maximum is %d; "
                 "shorten it",
                 chars, STORE_DISPLAY_NAME_MAX);
        return -1;
    }
    if (s[0] == ' ' || s[len - 1] == ' ') {
        snprintf(err, size,
                 "invalid display name \"%s\": it starts or ends with a "
                 "space; remove the space",
                 display_name);
        return -1;
    }
    return 0;
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
                      const char *display_name, store_role_t role,
                      long long now, char *err, size_t size)
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
    if (display_name && store_display_name_check(display_name, err, size))
        return -1;
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

    if (store_begin(store) != 0 ||
        prepare(db,
                "INSERT INTO accounts (name, role, password_hash, created_at,"
                " display_name) VALUES (?, ?, ?, ?, ?)",
                &stmt) != 0) {
        snprintf(err, size, "adding account \"%s\" failed: %s", name,
                 sqlite3_errmsg(db));
        sodium_memzero(hash, sizeof hash);
        store_rollback(store);
        return -1;
    }
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, store_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    if (display_name)
        sqlite3_bind_text(stmt, 5, display_name, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    sodium_memzero(hash, sizeof hash);
    if (rc == SQLITE_CONSTRAINT) {
        store_rollback(store);
        return 1;
    }
    if (rc == SQLITE_DONE &&
        store_audit_add(store, sqlite3_last_insert_rowid(db), "account_add",
                        NULL, now) == 0 &&
        store_commit(store) == 0)
        return 0;
    snprintf(err, size, "adding account \"%s\" failed: %s", name,
             sqlite3_errmsg(db));
    store_rollback(store);
    return -1;
}

int store_account_set_display_name(store_t *store, const char *name,
                                   const char *display_name, long long now,
                                   char *err, size_t size)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    long long id = 0;
    int rc;

    if (store_display_name_check(display_name, err, size))
        return -1;
    if (store_begin(store)) {
        snprintf(err, size, "changing account \"%s\" failed: %s", name,
                 sqlite3_errmsg(db));
        return -1;
    }
    if (prepare(db,
                "UPDATE accounts SET display_name = ?1 WHERE name = ?2"
                " RETURNING id",
                &stmt) != 0)
        goto failed;
    sqlite3_bind_text(stmt, 1, display_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(stmt, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        goto failed;
    if (id == 0) {
        store_rollback(store);
        return 1;
    }
    if (store_audit_add(store, id, "display_name", NULL, now) != 0 ||
        store_commit(store) != 0)
        goto failed;
    return 0;

failed:
    snprintf(err, size, "changing account \"%s\" failed: %s", name,
             sqlite3_errmsg(db));
    store_rollback(store);
    return -1;
}

int store_account_remove(store_t *store, const char *name, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    long long id = 0;
    int rc;

    if (store_begin(store) != 0)
        return -1;
    if (prepare(db, "SELECT id FROM accounts WHERE name = ?", &stmt) != 0)
        goto failed;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE) {
        store_rollback(store);
        return 1;
    }
    if (rc != SQLITE_ROW ||
        store_audit_add(store, id, "account_remove", NULL, now) != 0)
        goto failed;

    /* The audit entry above keeps the name; the sessions go first. */
    if (prepare(db, "DELETE FROM console_sessions WHERE account_id = ?1;",
                &stmt) != 0)
        goto failed;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        goto failed;
    if (prepare(db, "DELETE FROM accounts WHERE id = ?", &stmt) != 0)
        goto failed;
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE || store_commit(store) != 0)
        goto failed;
    return 0;

failed:
    store_rollback(store);
    return -1;
}

int store_account_list(store_t *store, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = NULL;
    json_t *list;
    int rc;

    *out = NULL;
    if (prepare(db,
                "SELECT id, name, role, created_at, display_name"
                " FROM accounts ORDER BY name",
                &stmt) != 0)
        return -1;
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *display = (const char *)sqlite3_column_text(stmt, 4);
        json_array_append_new(
            list,
            json_pack("{s:I,s:s,s:o,s:s,s:I}", "id",
                      (json_int_t)sqlite3_column_int64(stmt, 0), "name",
                      (const char *)sqlite3_column_text(stmt, 1),
                      "display_name",
                      display ? json_string(display) : json_null(), "role",
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

/* Copies column `column` into out->display_name. A value too long for the
 * buffer, which only a hand-edited database can hold, is left out, so that
 * the caller falls back to the login name instead of a cut name. */
static void copy_display_name(store_account_t *out, sqlite3_stmt *stmt,
                              int column)
{
    const char *text = (const char *)sqlite3_column_text(stmt, column);

    out->display_name[0] = '\0';
    if (text && strlen(text) < sizeof out->display_name)
        memcpy(out->display_name, text, strlen(text) + 1);
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
                    "SELECT id, role, password_hash,"
                    " coalesce(display_name, name) FROM accounts"
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
            copy_display_name(out, stmt, 3);
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
    if (!out->display_name[0])
        snprintf(out->display_name, sizeof out->display_name, "%s", name);
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
                "SELECT a.id, a.name, a.role,"
                " coalesce(a.display_name, a.name) FROM console_sessions s"
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
        copy_display_name(out, stmt, 3);
        if (!out->display_name[0])
            snprintf(out->display_name, sizeof out->display_name, "%s",
                     out->name);
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
                "INSERT INTO audit_log (at, account_id, action, conversation,"
                " name) VALUES (?1, ?2, ?3, ?4,"
                " (SELECT name FROM accounts WHERE id = ?2))",
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
                "SELECT l.at, l.account_id, COALESCE(a.name, l.name),"
                " l.action, l.conversation, a.id IS NULL"
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
            json_pack("{s:I,s:I,s:o,s:b,s:s,s:o}", "at",
                      (json_int_t)sqlite3_column_int64(stmt, 0), "account",
                      (json_int_t)sqlite3_column_int64(stmt, 1), "name",
                      name ? json_string(name) : json_null(), "removed",
                      sqlite3_column_int(stmt, 5), "action",
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
