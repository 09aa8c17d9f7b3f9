/* Console accounts, login sessions and the audit log of advisor actions.
 *
 * Passwords are stored as Argon2id hashes (libsodium crypto_pwhash_str).
 * A login session is a random token that only the browser keeps: the
 * database stores its BLAKE2b hash, so a copy of the database cannot be
 * used to log in. The tables are created by the console migration,
 * store_console_schema_sql; migration 3 adds accounts.display_name. */
#ifndef STEMDESK_STORE_ACCOUNTS_H
#define STEMDESK_STORE_ACCOUNTS_H

#include <stddef.h>

#include <jansson.h>
#include "store/store.h"

/* SQL of the migration that creates accounts, sessions, audit log,
 * advisor queue, notes, callback requests and the partner outbox. */
extern const char store_console_schema_sql[];

typedef enum {
    STORE_ROLE_ADVISOR,
    STORE_ROLE_EDITOR,
    STORE_ROLE_ADMIN
} store_role_t;

/* What a console request needs; see store_role_allows(). */
typedef enum {
    STORE_ACCESS_QUEUE, /* queue, takeover, callbacks, outbox: advisor, admin */
    STORE_ACCESS_EDITOR, /* editor pages: editor, admin */
    STORE_ACCESS_ADMIN   /* accounts and audit log: admin */
} store_access_t;

#define STORE_ACCOUNT_NAME_MAX 64
/* A display name is what visitors and advisors see, such as "Anja
 * Peeters". The maximum is in characters (Unicode code points). It matches
 * the widget, whose status line cuts an advisor's name after 60 UTF-16
 * code units, so a name of letters from the Basic Multilingual Plane is
 * shown whole. */
#define STORE_DISPLAY_NAME_MAX 60
/* Bytes of the longest display name in UTF-8, without the NUL. */
#define STORE_DISPLAY_NAME_BYTES (STORE_DISPLAY_NAME_MAX * 4)
#define STORE_PASSWORD_MIN 10
#define STORE_PASSWORD_MAX 1024
/* A session token: 32 random bytes as lowercase hex. */
#define STORE_TOKEN_CHARS 64

typedef struct {
    long long id;
    char name[STORE_ACCOUNT_NAME_MAX + 1];
    /* The display name, or the login name when none is set. */
    char display_name[STORE_DISPLAY_NAME_BYTES + 1];
    store_role_t role;
} store_account_t;

/* Parses "advisor", "editor" or "admin". Returns 0, or -1 otherwise. */
int store_role_parse(const char *name, store_role_t *out);
const char *store_role_name(store_role_t role);
/* Returns 1 when `role` may perform requests that need `access`. */
int store_role_allows(store_role_t role, store_access_t access);

/* Returns 1 when `name` is 1 to 64 characters of a-z, 0-9, '.', '_', '-'. */
int store_account_name_valid(const char *name);

/* Checks a display name: valid UTF-8, 1 to STORE_DISPLAY_NAME_MAX
 * characters, no control or bidirectional formatting characters, no space
 * at the start or end.
 * Returns 0, or -1 with `err` filled with what is wrong and what to do. */
int store_display_name_check(const char *display_name, char *err, size_t size);

/* Creates an account with an Argon2id hash of `password` and an optional
 * `display_name` (NULL: visitors see the login name), and notes it in the
 * audit log. Returns 0, 1 when
 * the name is taken, or -1 with `err` filled (invalid name or display
 * name, password too short or too long, hashing or SQLite failure). */
int store_account_add(store_t *store, const char *name, const char *password,
                      const char *display_name, store_role_t role,
                      long long now, char *err, size_t size);

/* Sets the display name of account `name` and appends a "display_name"
 * audit entry under that account's id, in one transaction. Returns 0, 1
 * when no account has that name, or -1 with `err` filled (invalid display
 * name or SQLite failure). */
int store_account_set_display_name(store_t *store, const char *name,
                                   const char *display_name, long long now,
                                   char *err, size_t size);

/* Removes an account with its sessions and notes it in the audit log.
 * Returns 0, 1 when no account has that name, or -1 on a SQLite
 * failure. */
int store_account_remove(store_t *store, const char *name, long long now);

/* Fills `out` with a new array of {id, name, display_name, role, created}
 * objects ordered by name, display_name null when none is set; the caller
 * releases it. Returns 0 or -1. */
int store_account_list(store_t *store, json_t **out);

/* Checks a name and password. Returns 0 and fills `out` when they match,
 * 1 when the name is unknown or the password wrong (both take about the same
 * time), or -1 on a failure. */
int store_account_verify(store_t *store, const char *name, const char *password,
                         store_account_t *out);

/* Creates a login session valid for `hours` and writes its token (64 hex
 * characters and a NUL) to `token`. Returns 0 or -1. */
int store_session_create(store_t *store, long long account_id, long long now,
                         int hours, char token[STORE_TOKEN_CHARS + 1]);

/* Finds the account of an unexpired session token. Returns 0 and fills
 * `out`, 1 when the token is unknown, malformed or expired, or -1. */
int store_session_lookup(store_t *store, const char *token, long long now,
                         store_account_t *out);

/* Ends a session. Returns 0 (also when the token is unknown) or -1. */
int store_session_delete(store_t *store, const char *token);

/* Deletes every expired session. Returns the number deleted or -1. */
int store_session_purge(store_t *store, long long now);

/* Appends an audit entry: who (account id, 0 for none), what (an action
 * such as "login", "take", "reply") and which conversation (NULL for
 * none). Never pass message text. Returns 0 or -1. */
int store_audit_add(store_t *store, long long account_id, const char *action,
                    const char *conversation, long long now);

/* Fills `out` with a new array of the latest `limit` audit entries, newest
 * first: {at, account, name, removed, action, conversation}. `name` is
 * the account's name, or for a removed account the name it had at the
 * entry (null in entries made before schema migration 4). `removed` is
 * true once the account is gone. Returns 0 or -1. */
int store_audit_list(store_t *store, int limit, json_t **out);

#endif
