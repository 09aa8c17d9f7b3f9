/* Opening the SQLite database, migrations, transactions and the cache of
 * prepared statements. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "store/store_internal.h"
#include "store/store_sqlite.h"

void store_log_error(store_t *store, const char *what)
{
    LOG_ERROR("store", "%s failed on %s: %s", what, store->path,
              sqlite3_errmsg(store->db));
}

int store_exec(store_t *store, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        LOG_ERROR("store", "statement failed on %s: %s", store->path,
                  message ? message : "unknown error");
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

sqlite3_stmt *store_statement(store_t *store, const char *sql)
{
    for (size_t i = 0; i < store->cache_count; i++) {
        if (store->cache[i].sql == sql) {
            sqlite3_reset(store->cache[i].stmt);
            sqlite3_clear_bindings(store->cache[i].stmt);
            return store->cache[i].stmt;
        }
    }

    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           NULL) != SQLITE_OK) {
        store_log_error(store, "preparing a statement");
        return NULL;
    }
    if (store->cache_count == store->cache_capacity) {
        size_t capacity =
            store->cache_capacity ? store->cache_capacity * 2 : 32;
        struct store_cached_statement *bigger =
            realloc(store->cache, capacity * sizeof *bigger);
        if (!bigger) {
            sqlite3_finalize(stmt);
            LOG_ERROR("store", "out of memory caching a statement");
            return NULL;
        }
        store->cache = bigger;
        store->cache_capacity = capacity;
    }
    store->cache[store->cache_count].sql = sql;
    store->cache[store->cache_count].stmt = stmt;
    store->cache_count++;
    return stmt;
}

int store_step_done(store_t *store, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_log_error(store, what);
        return -1;
    }
    return 0;
}

/* Applies the migrations above the database's user_version. */
static int migrate(store_t *store, char *err, size_t size)
{
    sqlite3_stmt *stmt = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);

    for (size_t i = 0; i < store_migration_count; i++) {
        const store_migration_t *m = &store_migrations[i];
        if (m->version <= version)
            continue;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
        if (store_exec(store, "BEGIN IMMEDIATE") || store_exec(store, m->sql) ||
            store_exec(store, pragma) || store_exec(store, "COMMIT")) {
            snprintf(err, size,
                     "migration %d (%s) failed on %s: %s; the database "
                     "is left at version %d",
                     m->version, m->summary, store->path,
                     sqlite3_errmsg(store->db), version);
            sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        LOG_INFO("store", "applied migration %d (%s)", m->version, m->summary);
        version = m->version;
    }
    return 0;
}

store_t *store_open(const char *path, char *err, size_t size)
{
    if (sodium_init() < 0) {
        snprintf(err, size, "libsodium failed to initialise");
        return NULL;
    }
    store_t *store = calloc(1, sizeof *store);
    if (!store || !(store->path = strdup(path))) {
        snprintf(err, size, "out of memory opening %s", path);
        free(store);
        return NULL;
    }
    if (sqlite3_open_v2(path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, size, "cannot open database %s: %s", path,
                 store->db ? sqlite3_errmsg(store->db) : "out of memory");
        store_close(store);
        return NULL;
    }
    sqlite3_busy_timeout(store->db, 5000);

    /* WAL lets readers (export, the console) run beside the writer.
     * synchronous=FULL syncs the WAL at every commit, so an acknowledged
     * message survives a power cut as well as a crash of the process;
     * grouping the writes of one event-loop pass in one transaction keeps
     * that to one fsync per pass instead of one per message. */
    if (store_exec(store, "PRAGMA journal_mode = WAL") ||
        store_exec(store, "PRAGMA synchronous = FULL") ||
        store_exec(store, "PRAGMA foreign_keys = ON") ||
        migrate(store, err, size)) {
        if (!*err)
            snprintf(err, size, "cannot prepare database %s: %s", path,
                     sqlite3_errmsg(store->db));
        store_close(store);
        return NULL;
    }
    return store;
}

int store_set_synchronous(store_t *store, int full)
{
    return store_exec(store, full ? "PRAGMA synchronous = FULL"
                                  : "PRAGMA synchronous = NORMAL");
}

void store_close(store_t *store)
{
    if (!store)
        return;
    if (store->transaction_depth)
        store_rollback(store);
    for (size_t i = 0; i < store->cache_count; i++)
        sqlite3_finalize(store->cache[i].stmt);
    free(store->cache);
    sqlite3_close_v2(store->db);
    free(store->path);
    free(store);
}

int store_ping(store_t *store)
{
    static const char sql[] = "SELECT 1";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_begin(store_t *store)
{
    if (store->transaction_depth++ > 0)
        return 0;
    if (store_exec(store, "BEGIN IMMEDIATE")) {
        store->transaction_depth = 0;
        return -1;
    }
    return 0;
}

int store_commit(store_t *store)
{
    if (store->transaction_depth == 0)
        return 0;
    if (--store->transaction_depth > 0)
        return 0;
    if (store_exec(store, "COMMIT")) {
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

void store_rollback(store_t *store)
{
    if (store->transaction_depth == 0)
        return;
    store->transaction_depth = 0;
    sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_in_transaction(const store_t *store)
{
    return store->transaction_depth > 0;
}

sqlite3 *store_sqlite_handle(store_t *store)
{
    return store->db;
}
