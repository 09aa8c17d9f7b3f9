/* Private to src/store: the SQLite handle behind store_t, shared by the
 * files of this folder (conversations, privacy, and the account, queue and
 * outbox tables). */
#ifndef STEMDESK_STORE_INTERNAL_H
#define STEMDESK_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

struct store {
    sqlite3 *db;
    char *path;
    int transaction_depth;
    /* Prepared statements keyed by the address of their SQL text, which
     * must therefore be a string literal or another static string. */
    struct store_cached_statement {
        const char *sql;
        sqlite3_stmt *stmt;
    } * cache;
    size_t cache_count;
    size_t cache_capacity;
};

/* One schema migration: applied in order of `version`, each in its own
 * transaction, recorded in PRAGMA user_version. */
typedef struct {
    int version;
    const char *summary;
    const char *sql;
} store_migration_t;

extern const store_migration_t store_migrations[];
extern const size_t store_migration_count;

/* Returns a reset prepared statement for `sql` (a static string), or NULL
 * with the error logged. The store keeps and finalises it. */
sqlite3_stmt *store_statement(store_t *store, const char *sql);

/* Logs the last SQLite error with what was being done. */
void store_log_error(store_t *store, const char *what);

/* Runs SQL without results; logs and returns -1 on error. */
int store_exec(store_t *store, const char *sql);

/* Steps a statement expected to finish without rows; resets it. */
int store_step_done(store_t *store, sqlite3_stmt *stmt, const char *what);

#endif
